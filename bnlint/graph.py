"""The layer graph every reader produces and every rule reads.

A :class:`ModelGraph` is a directed graph whose nodes are *layer calls*: a
layer called twice is two nodes that share a ``layer_id``. Each node
carries a :class:`Layer` record; edges run producer -> consumer and carry
the consumer's input ``index`` (0 for single-input layers, the position in
the list for merges). ``graph.nx`` gives the same graph as a
:class:`networkx.DiGraph` for any networkx algorithm.

Where a layer came from is its origin: a :class:`Site` (a constructor call in
Python source) or a :class:`SavedLayer` (a layer in a saved model file).
Findings are grouped by origin, so a helper called sixteen times yields one
finding with sixteen instances.

Configuration values a reader could not determine statically are
:data:`UNKNOWN`; rules treat ``UNKNOWN`` as "do not report".
"""

from __future__ import annotations

from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

__all__ = ["UNKNOWN", "Site", "SavedLayer", "Origin", "Layer", "ModelGraph", "is_known"]


class _Unknown:
    """The value of anything a reader could not determine statically."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # Truth-testing an unknown value is always a bug in the caller: it
        # would silently pick one branch. Rules must use is_known().
        raise TypeError("the truth value of UNKNOWN is undefined; use bnlint.graph.is_known()")


UNKNOWN: Any = _Unknown()


def is_known(value: object) -> bool:
    """True when *value* (or, for containers, every item in it) is known."""
    if value is UNKNOWN:
        return False
    if isinstance(value, (list, tuple)):
        return all(is_known(item) for item in value)
    if isinstance(value, dict):
        return all(is_known(item) for item in value.values())
    return True


@dataclass(frozen=True, order=True)
class Site:
    """One constructor call in a source file (1-based lines and columns, in characters).

    In a Jupyter notebook, lines count in its code cells read as one source;
    a site *shown* to the user has ``cell`` set and lines counted in that cell.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    cell: int | None = None

    def text_in(self, lines: list[str]) -> str:
        """The source text of this span, from the file's *lines* kept with their line ends."""
        if self.line == self.end_line:
            return lines[self.line - 1][self.column - 1:self.end_column - 1]
        return "".join([lines[self.line - 1][self.column - 1:], *lines[self.line:self.end_line - 1],
                        lines[self.end_line - 1][:self.end_column - 1]])

    def in_cell(self, number: int, first_line: int) -> Site:
        """This site as shown in notebook cell *number*, whose first line is *first_line*."""
        return Site(self.path, self.line - first_line + 1, self.column, self.end_line - first_line + 1,
                    self.end_column, number)

    def __str__(self) -> str:
        if self.cell is not None:
            return f"{self.path}:cell {self.cell}:{self.line}:{self.column}"
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class SavedLayer:
    """A layer of a saved model file, named as Keras names it."""

    path: str
    layer_name: str

    def __str__(self) -> str:
        return f"{self.path}::{self.layer_name}"


Origin = Site | SavedLayer


@dataclass
class Layer:
    """The record of one layer call (one node of a :class:`ModelGraph`).

    ``class_name`` is spelled as Keras spells it (``Conv2D``), or, for a raw
    tensor function, as its qualified name (``tensorflow.nn.relu``).
    ``config`` holds the known constructor arguments plus the Keras defaults
    rules rely on; undetermined values are :data:`UNKNOWN`.
    """

    name: str
    class_name: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    origin: Origin | None = None
    #: Which Keras layer object the call is of: the calls of a shared layer have one id.
    #: Left ``None``, :meth:`ModelGraph.add_layer` gives the record an id of its own.
    layer_id: int | None = None
    #: For a nested model node, the graph of the model it calls.
    submodel: ModelGraph | None = None
    #: The layer as Keras serialises it (``{"class_name", "config", "module", ...}``), for
    #: graphs read from saved files or live models; ``None`` for graphs read from source.
    #: :meth:`ModelGraph.to_keras` builds the layer from it.
    keras: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    #: This call's serialised arguments (one Keras ``inbound_nodes`` entry), when known.
    call: Any = field(default=None, repr=False, compare=False)
    #: Constructor arguments that may be KerasTuner hyperparameters: in a search space
    #: (``build(hp)``), those the source computes rather than writes as literals. A fix
    #: must not replace them with one value (source graphs only).
    tuned: frozenset = field(default=frozenset(), repr=False, compare=False)
    #: For a subclass of a Keras layer class defined in the source (``class BatchNorm(
    #: BatchNormalization)``): that Keras class, whose kind it has (source graphs only).
    base: str | None = field(default=None, repr=False, compare=False)
    #: Whether the subclass keeps its base's ``__init__``, so that its arguments are the base's.
    base_init: bool = field(default=False, repr=False, compare=False)
    #: For the op that ends a call of a function of the code's own applying a hidden nonlinearity to
    #: one tensor (``x = mish(x)``): that activation, ``"<function mish>"`` (source graphs only).
    applies: str | None = field(default=None, repr=False, compare=False)

    @property
    def constructor(self) -> str:
        """The class whose signature the constructor call has: *class_name*, or a subclass's base (see :attr:`base`).

        A fix that sets an argument names it, so that a positional argument is found where it is.
        """
        return self.base if self.base_init else self.class_name

    def get(self, key: str, default: Any = UNKNOWN) -> Any:
        """The config value for *key*, or *default* when it was never recorded."""
        return self.config.get(key, default)


class ModelGraph:
    """A Keras model as a directed graph of layer calls.

    Nodes are integers in creation order. ``graph.nx`` is the same graph as
    a :class:`networkx.DiGraph` (node attribute ``layer``, edge attribute
    ``index``), on which any networkx algorithm may run; it is built on
    first use, so that reading and the built-in rules do not pay for
    importing networkx.

    Examples
    --------
    >>> g = ModelGraph("tiny")
    >>> a = g.add_layer(Layer("input_layer", "InputLayer", "input"))
    >>> b = g.add_layer(Layer("dense", "Dense", "dense", {"units": 4}))
    >>> g.add_edge(a, b)
    >>> [g.layer(n).name for n in g.successors(a)]
    ['dense']
    >>> sorted(g.nx.edges)
    [(0, 1)]
    """

    def __init__(self, name: str, origin: Origin | None = None) -> None:
        self.name = name
        self.origin = origin
        self.inputs: list[int] = []
        self.outputs: list[int] = []
        #: For each of :attr:`outputs` (when known: read from a saved model), which tensor of its
        #: layer's outputs it is (an LSTM with ``return_state=True`` returns three); None: its only one.
        #: Read it through :meth:`output_tensors`, which pads it to the outputs.
        self.output_indices: list[int | None] = []
        #: The dict keys of :attr:`inputs` / :attr:`outputs`, in their order, for a Keras 3 model called
        #: with or returning a dict (``keras.Model({"a": a}, {"o": y})``); None: a tensor or a list.
        self.input_keys: list[str] | None = None
        self.output_keys: list[str] | None = None
        #: The uncalled function analysed (with its default arguments) to build
        #: this model, or None when the file's own code builds it.
        self.entry: str | None = None
        #: ``model.fit(...)`` calls on this model: records with ``batch_size`` and ``site``.
        self.fits: list[Any] = []
        #: The ``(graph, node)`` pairs that call this model as a layer, among the graphs linted with
        #: it (set by :func:`bnlint.engine.lint`; empty for a model nothing nests).
        self.callers: list[tuple[ModelGraph, int]] = []
        self._layers: dict[int, Layer] = {}
        self._succ: dict[int, dict[int, int]] = {}  # producer -> {consumer: input index}
        self._pred: dict[int, dict[int, int]] = {}  # consumer -> {producer: input index}
        self._next = 0
        self._last_layer_id = -1  # (the largest layer id added so far)
        self._nx: Any = None
        #: Where :meth:`to_keras` finds the original weights: a callable returning the
        #: Keras model this graph was read from (set by :func:`bnlint.load`), or None.
        self.weights: Callable[[], Any] | None = None
        #: What rewriting did to each layer, by layer id: ``"new"`` (inserted or a
        #: replacement: no original weights) or ``"config"`` (changed by
        #: :meth:`set_config`: weights carry over where a variable keeps its name and shape).
        self.edits: dict[int, str] = {}
        #: Live Keras layers given as layer specs, by layer id (used as they are).
        self.live_layers: dict[int, Any] = {}
        #: Live layers whose config :meth:`set_config` then changed, by layer id: the
        #: layer is rebuilt from its new config and takes their weights where a
        #: variable keeps its name and shape.
        self.donors: dict[int, Any] = {}

    def __repr__(self) -> str:
        return f"ModelGraph({self.name!r}, {len(self)} layers)"

    def __len__(self) -> int:
        return len(self._layers)

    def __contains__(self, node: object) -> bool:
        return node in self._layers

    @property
    def nx(self) -> Any:
        """The graph as a :class:`networkx.DiGraph` (built on first use, after each change)."""
        if self._nx is None:
            import networkx

            graph = networkx.DiGraph()
            for node, layer in self._layers.items():
                graph.add_node(node, layer=layer)
            for producer, consumers in self._succ.items():
                for consumer, index in consumers.items():
                    graph.add_edge(producer, consumer, index=index)
            self._nx = graph
        return self._nx

    @property
    def next_node(self) -> int:
        """The id :meth:`add_layer` gives the next node (ids grow: later nodes have larger ones)."""
        return self._next

    def add_layer(self, layer: Layer) -> int:
        """Add a layer call as a new node and return its id.

        A record without a ``layer_id`` is a layer of its own: it gets an id no
        other record in the graph has (a hand-built graph's layers are not all
        calls of one shared layer).
        """
        if layer.layer_id is None:
            layer.layer_id = self.new_layer_id()
        self._last_layer_id = max(self._last_layer_id, layer.layer_id)
        node = self._next
        self._next += 1
        self._layers[node] = layer
        self._succ[node] = {}
        self._pred[node] = {}
        self._nx = None
        return node

    def new_layer_id(self) -> int:
        """A layer id that no layer of the graph has had (for a record that is a layer of its own)."""
        self._last_layer_id += 1
        return self._last_layer_id

    def add_edge(self, producer: int, consumer: int, index: int = 0) -> None:
        """Connect *producer*'s output to input *index* of *consumer*."""
        if producer not in self._layers or consumer not in self._layers:
            raise KeyError(f"both ends of an edge must be nodes: {producer} -> {consumer}")
        self._succ[producer][consumer] = index
        self._pred[consumer][producer] = index
        self._nx = None

    def layer(self, node: int) -> Layer:
        """The :class:`Layer` record of *node*."""
        return self._layers[node]

    def nodes(self) -> Iterator[int]:
        """Node ids in creation order."""
        return iter(self._layers)

    def layers(self) -> Iterator[tuple[int, Layer]]:
        """``(node, layer)`` pairs in creation order."""
        return iter(self._layers.items())

    def edges(self) -> Iterator[tuple[int, int, int]]:
        """``(producer, consumer, input index)`` for every edge, in producer order."""
        for producer, consumers in self._succ.items():
            for consumer, index in consumers.items():
                yield producer, consumer, index

    def out_edges(self, node: int) -> list[tuple[int, int]]:
        """``(consumer, input index)`` for every use of *node*'s output."""
        return sorted(self._succ[node].items())

    def successors(self, node: int) -> list[int]:
        """Consumers of *node*'s output, in creation order."""
        consumers = self._succ[node]
        return sorted(consumers) if len(consumers) > 1 else list(consumers)

    def predecessors(self, node: int) -> list[int]:
        """Producers of *node*'s inputs, ordered by input index."""
        inputs = self._pred[node]
        return sorted(inputs, key=inputs.__getitem__) if len(inputs) > 1 else list(inputs)

    def ancestors(self, node: int) -> set[int]:
        """Every node whose output *node* depends on (not *node* itself)."""
        seen: set[int] = set()
        stack = [node]
        while stack:
            for producer in self._pred[stack.pop()]:
                if producer not in seen:
                    seen.add(producer)
                    stack.append(producer)
        return seen

    def descendants(self, node: int) -> set[int]:
        """Every node that depends on *node*'s output (not *node* itself)."""
        seen: set[int] = set()
        stack = [node]
        while stack:
            for consumer in self._succ[stack.pop()]:
                if consumer not in seen:
                    seen.add(consumer)
                    stack.append(consumer)
        return seen

    def topological_order(self) -> list[int]:
        """Nodes ordered so that every producer comes before its consumers (ties by creation)."""
        waiting = {node: len(producers) for node, producers in self._pred.items()}
        ready = sorted(node for node, count in waiting.items() if count == 0)
        order: list[int] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for consumer in sorted(self._succ[node]):
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    ready.append(consumer)
        return order

    def is_chain(self, start: int, end: int) -> bool:
        """True when *start* leads to *end* along a plain chain: every layer on the way
        (from *start*, before *end*) has one consumer, which has one input, and is no
        model output. Moving a layer along such a chain keeps every other connection.
        """
        node = start
        while node != end:
            consumers = self.successors(node)
            if len(consumers) != 1 or self.is_output(node) or len(self._pred[consumers[0]]) != 1:
                return False
            node = consumers[0]
        return True

    def output_tensors(self) -> list[tuple[int, int | None]]:
        """``(node, tensor index or None)`` for each output, in order (see :attr:`output_indices`)."""
        return [(node, self.output_indices[i] if i < len(self.output_indices) else None)
                for i, node in enumerate(self.outputs)]

    def is_output(self, node: int) -> bool:
        """True when *node*'s output is an output of the model."""
        return node in self.outputs

    def reachable(
        self, start: int, through: set[str] | Callable[[Layer], bool], backward: bool = False
    ) -> Iterator[int]:
        """Nodes reached from *start* along paths whose inner nodes all pass *through*.

        *through* is a set of kinds, or a test on a node's :class:`Layer`.
        The reached nodes themselves may be anything; each is yielded once.
        *start* itself is not yielded. With *backward*, paths run from
        consumers to producers.
        """
        passes = through if callable(through) else (lambda layer: layer.kind in through)
        step = self.predecessors if backward else self.successors
        seen = {start}
        stack = [start]
        while stack:
            for node in step(stack.pop()):
                if node in seen:
                    continue
                seen.add(node)
                yield node
                if passes(self.layer(node)):
                    stack.append(node)

    # Rewriting (the implementations live in bnlint.rewrite) ---------------------------

    def find(self, node: int | str) -> int:
        """The node id for *node*: an id, or the name of a layer called once.

        Raises
        ------
        RewriteError
            No such node or layer name, or a name shared by several calls.

        Examples
        --------
        >>> g = ModelGraph("tiny")
        >>> g.find(g.add_layer(Layer("dense", "Dense", "dense")))
        0
        >>> g.find("dense")
        0
        """
        from bnlint.rewrite import find_node

        return find_node(self, node)

    def insert_after(self, node: int | str, layer_spec: Any) -> int:
        """Insert a new layer between *node* and everything that consumed its output; return its id.

        *layer_spec* is described in :mod:`bnlint.rewrite` (a class name, a
        ``(class_name, config)`` pair, a serialised Keras layer dict, or a live
        Keras layer). If *node* was a model output, the new layer is.

        Examples
        --------
        >>> g = ModelGraph("tiny")
        >>> a = g.add_layer(Layer("input_layer", "InputLayer", "input"))
        >>> b = g.add_layer(Layer("conv", "Conv2D", "conv"))
        >>> g.add_edge(a, b)
        >>> g.outputs = [b]
        >>> bn = g.insert_after("conv", ("BatchNormalization", {"epsilon": 1e-5}))
        >>> g.layer(bn).name, g.layer(bn).config["epsilon"], g.outputs == [bn]
        ('conv_batch_normalization', 1e-05, True)
        """
        from bnlint.rewrite import insert_after

        return insert_after(self, node, layer_spec)

    def remove(self, node: int | str) -> None:
        """Remove *node*, connecting its one producer to each of its consumers.

        Raises
        ------
        RewriteError
            *node* has no input or several (an input layer, a merge), or
            reconnecting would feed one producer twice into one consumer.

        Examples
        --------
        >>> g = ModelGraph("tiny")
        >>> a = g.add_layer(Layer("input_layer", "InputLayer", "input"))
        >>> b = g.add_layer(Layer("dropout", "Dropout", "dropout"))
        >>> c = g.add_layer(Layer("dense", "Dense", "dense"))
        >>> g.add_edge(a, b); g.add_edge(b, c)
        >>> g.remove("dropout")
        >>> g.predecessors(c)
        [0]
        """
        from bnlint.rewrite import remove

        remove(self, node)

    def replace(self, node: int | str, layer_spec: Any) -> int:
        """Put a new layer in *node*'s place, with its connections; return the node id (unchanged).

        A merge can only be replaced by a merge, and a single-input layer by a
        single-input layer (merges keep their arity). The new layer takes the
        old one's name, unless the layer is shared or the spec names it: a
        config with a ``name``, and a live Keras layer, which always has one
        (Keras names ``Activation()`` ``activation``, ``activation_1`` ...).

        Examples
        --------
        >>> g = ModelGraph("tiny")
        >>> a = g.add_layer(Layer("input_layer", "InputLayer", "input"))
        >>> b = g.add_layer(Layer("relu", "ReLU", "activation"))
        >>> g.add_edge(a, b)
        >>> new = g.layer(g.replace("relu", ("Activation", {"activation": "gelu"})))
        >>> new.class_name, new.name
        ('Activation', 'relu')
        """
        from bnlint.rewrite import replace

        return replace(self, node, layer_spec)

    def set_config(self, node: int | str, **values: Any) -> None:
        """Set constructor arguments of *node*'s layer (every call of a shared layer sees them).

        Examples
        --------
        >>> g = ModelGraph("tiny")
        >>> bn = g.add_layer(Layer("bn", "BatchNormalization", "batchnorm", {"momentum": 0.1}))
        >>> g.set_config("bn", momentum=0.9)
        >>> g.layer(bn).config["momentum"]
        0.9
        """
        from bnlint.rewrite import set_config

        set_config(self, node, values)

    def validate(self) -> None:
        """Check the graph's structure after edits.

        Raises
        ------
        RewriteError
            A dangling input or output, a cycle, an input layer with inputs,
            a merge with fewer than two inputs, or a single-input layer with several.

        Examples
        --------
        >>> g = ModelGraph("tiny")
        >>> a = g.add_layer(Layer("input_layer", "InputLayer", "input"))
        >>> b = g.add_layer(Layer("add", "Add", "merge"))
        >>> g.add_edge(a, b)
        >>> g.inputs, g.outputs = [a], [b]
        >>> g.validate()
        Traceback (most recent call last):
        ...
        bnlint.rewrite.RewriteError: merge layer 'add' of model 'tiny' has 1 input(s), not 2 or more
        """
        from bnlint.rewrite import validate

        validate(self)

    def to_keras(self) -> Any:
        """A new Keras functional model built from this graph (imports Keras).

        Untouched layers carry over their weights from the model the graph was
        read from; see :func:`bnlint.keras_build.build_model` for the rules.

        Examples
        --------
        >>> import keras, bnlint
        >>> inputs = keras.Input((4,), name="x")
        >>> model = keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs))
        >>> [graph] = bnlint.load(model)
        >>> bn = graph.insert_after("dense", "BatchNormalization")
        >>> [layer.name for layer in graph.to_keras().layers]
        ['x', 'dense', 'dense_batch_normalization']
        """
        from bnlint.keras_build import build_model

        return build_model(self)

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain JSON-ready data (the schema is in the README)."""
        return {
            "name": self.name,
            "origin": _origin_dict(self.origin),
            "entry": self.entry,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "nodes": [
                {
                    "id": node,
                    "name": layer.name,
                    "layer_id": layer.layer_id,
                    "class_name": layer.class_name,
                    "kind": layer.kind,
                    "config": {k: _json_value(v) for k, v in layer.config.items()},
                    "origin": _origin_dict(layer.origin),
                    **({"submodel": layer.submodel.name} if layer.submodel is not None else {}),
                    **({"applies": layer.applies} if layer.applies is not None else {}),
                }
                for node, layer in self.layers()
            ],
            "edges": [
                {"source": u, "target": v, "index": index}
                for u, v, index in sorted(self.edges())
            ],
        }


def _origin_dict(origin: Origin | None) -> dict[str, Any] | None:
    if isinstance(origin, Site):
        return {
            "path": origin.path,
            "line": origin.line,
            "column": origin.column,
            "end_line": origin.end_line,
            "end_column": origin.end_column,
            **({"cell": origin.cell} if origin.cell is not None else {}),
        }
    if isinstance(origin, SavedLayer):
        return {"path": origin.path, "layer": origin.layer_name}
    return None


def _json_value(value: Any) -> Any:
    """Config values as JSON: UNKNOWN becomes the string "<unknown>", tuples become lists."""
    if value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)
