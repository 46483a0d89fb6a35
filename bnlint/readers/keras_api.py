"""What Keras calls do, for the static interpreter.

The interpreter (``interpreter.py``) evaluates Python; whenever it calls
something that came from an import, it hands the call to :class:`KerasModel
Builder <ModelBuilder>` here, which knows what Keras would do: construct a layer,
call a layer on symbolic tensors, make an ``Input``, a ``Sequential`` or a
functional ``Model``, or apply a tensor function. Every layer call becomes a
node of one workspace graph; each model found becomes a :class:`ModelGraph`.

Names are first put in one canonical spelling (:func:`canonical_name`), so
``tf.keras.layers.Conv2D``, ``keras.layers.Conv2D``, ``tf_keras.layers.Conv2D``
and ``keras.layers.convolutional.Conv2D`` are all ``keras.layers.Conv2D``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from bnlint import kinds
from bnlint.graph import UNKNOWN, Layer, ModelGraph, Site

__all__ = [
    "ExternalRef",
    "LayerValue",
    "TensorValue",
    "ModelValue",
    "SequentialValue",
    "ModelBuilder",
    "canonical_name",
    "WELL_KNOWN_NAMES",
]

# Package prefixes that all mean "the Keras API".
_KERAS_PREFIXES = (
    "tensorflow.keras.",
    "tensorflow.python.keras.",
    "tensorflow.compat.v1.keras.",
    "tensorflow.compat.v2.keras.",
    "tf_keras.",
    "keras.src.",
    "keras.api.",
    "keras._tf_keras.keras.",
)
_KERAS_ROOTS = {"tensorflow.keras", "tensorflow.python.keras", "tf_keras", "keras"}

_SEQUENTIAL = "keras.Sequential"
_MODEL = "keras.Model"
_INPUT = "keras.Input"

# Functional merge helpers: keras.layers.add([a, b]) builds an Add layer.
_MERGE_FUNCTIONS = {
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "average": "Average",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "concatenate": "Concatenate",
    "dot": "Dot",
}

# Names a snippet may use without importing them (``model = Sequential()``
# in a notebook cell whose imports were elsewhere). They resolve to Keras
# only when nothing in the file binds them.
WELL_KNOWN_NAMES = {"Sequential": _SEQUENTIAL, "Model": _MODEL, "Input": _INPUT}


def canonical_name(qualname: str) -> str:
    """One spelling for every path to the same Keras object.

    >>> canonical_name("tensorflow.keras.layers.normalization.BatchNormalization")
    'keras.layers.BatchNormalization'
    >>> canonical_name("tf_keras.models.Sequential")
    'keras.Sequential'
    """
    if qualname in _KERAS_ROOTS:
        return "keras"
    for prefix in _KERAS_PREFIXES:
        if qualname.startswith(prefix):
            qualname = "keras." + qualname[len(prefix):]
            break
    if not qualname.startswith("keras."):
        return qualname
    parts = qualname.split(".")
    last = parts[-1]
    if len(parts) > 2 and parts[1] == "layers":
        # keras.layers.<submodule>.Name (Keras 2 module paths) -> keras.layers.Name
        if last == "Input":
            return _INPUT
        if last[:1].isupper() or last in _MERGE_FUNCTIONS:
            return "keras.layers." + last
    if last == "Sequential" and len(parts) > 1:
        return _SEQUENTIAL
    if last in ("Model", "Functional") and len(parts) > 1 and parts[1] in ("models", "Model", "engine", "Functional"):
        return _MODEL
    if last == "Input" and (len(parts) == 2 or parts[1] in ("engine", "layers")):
        return _INPUT
    if len(parts) == 3 and parts[1] == "models":
        return "keras." + last if last in ("Sequential", "Model") else qualname
    return qualname


@dataclass(eq=False)
class ExternalRef:
    """Something reached through an import: a module, class or function, by canonical name."""

    path: str

    def attribute(self, name: str) -> ExternalRef:
        return ExternalRef(canonical_name(f"{self.path}.{name}"))


@dataclass(eq=False)
class LayerValue:
    """A constructed Keras layer (not yet called)."""

    class_name: str
    config: dict[str, Any]
    name: str
    site: Site | None
    layer_id: int


@dataclass(eq=False)
class TensorValue:
    """A symbolic tensor: the output of *node* in the builder's workspace."""

    node: int


@dataclass(eq=False)
class ModelValue:
    """A functional ``Model(inputs, outputs)``."""

    graph: ModelGraph
    layer_id: int


@dataclass(eq=False)
class SequentialValue:
    """A ``Sequential`` model; its graph is built when the file has been read."""

    name: str
    site: Site | None
    layer_id: int
    items: list[Any] = field(default_factory=list)
    graph: ModelGraph | None = None


class ModelBuilder:
    """Carries out Keras calls for the interpreter and collects the models they build."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.workspace = ModelGraph("<workspace>")
        self.models: list[ModelValue | SequentialValue] = []
        self._uids: Counter[str] = Counter()
        self._layer_ids = 0
        # Nested-model nodes whose submodel graph exists only once reading ends.
        self._pending_submodels: list[tuple[Layer, SequentialValue]] = []

    # -- names -----------------------------------------------------------

    def auto_name(self, prefix: str) -> str:
        """Keras' automatic name: the prefix, then prefix_1, prefix_2, ... per file."""
        count = self._uids[prefix]
        self._uids[prefix] += 1
        return prefix if count == 0 else f"{prefix}_{count}"

    def _new_layer_id(self) -> int:
        self._layer_ids += 1
        return self._layer_ids

    # -- calls -----------------------------------------------------------

    def call_external(self, ref: ExternalRef, args: list, kwargs: dict, site: Site) -> Any:
        """The value of calling *ref* (from an import) with evaluated arguments."""
        path = ref.path
        if path.startswith("keras.layers."):
            last = path.rsplit(".", 1)[1]
            if last in _MERGE_FUNCTIONS:
                layer = self.construct(_MERGE_FUNCTIONS[last], args[1:], kwargs, site)
                return self.call_layer(layer, args[:1], {}, site)
            if last[:1].isupper():
                return self.construct(last, args, kwargs, site)
        if path == _INPUT:
            return self.make_input(kwargs.get("name", UNKNOWN), site)
        if path == _SEQUENTIAL:
            return self.make_sequential(args, kwargs, site)
        if path == _MODEL:
            return self.make_model(args, kwargs, site)
        activation = kinds.activation_of_function(path)
        tensors = _tensors_in(args) + _tensors_in(list(kwargs.values()))
        if tensors:
            short = path.rsplit(".", 1)[-1]
            if activation is not None:
                return self.apply_op(path, "activation", {"activation": activation}, tensors, short, site)
            return self.apply_op(path, "op", {}, tensors, short, site)
        return UNKNOWN

    def call_object(self, value: Any, args: list, kwargs: dict, site: Site) -> Any:
        """Calling a layer or model value on tensors."""
        if isinstance(value, LayerValue):
            return self.call_layer(value, args, kwargs, site)
        if isinstance(value, (ModelValue, SequentialValue)):
            return self.call_model(value, args, site)
        return UNKNOWN

    def call_method(self, value: Any, method: str, args: list, kwargs: dict, site: Site) -> Any:
        """``model.add(layer)`` and friends; other methods of Keras objects give UNKNOWN."""
        if isinstance(value, SequentialValue) and method == "add" and args:
            value.items.append(args[0])
            return None
        if isinstance(value, SequentialValue) and method == "pop" and value.items:
            return value.items.pop()
        return UNKNOWN

    def apply_to_tensor(self, operator: str, operands: list, site: Site) -> TensorValue:
        """``x + y``, ``x[..., 0]``: a tensor expression becomes an op node."""
        return self.apply_op(operator, "op", {}, _tensors_in(operands), operator, site)

    # -- layers ----------------------------------------------------------

    def construct(self, class_name: str, args: list, kwargs: dict, site: Site) -> LayerValue:
        """A layer constructor call: bind its arguments by Keras' signature, fill defaults."""
        written = class_name
        class_name = kinds.canonical_class(class_name)
        params = kinds.positional_params(written, args) or ()
        renames = kinds.KERAS1_KWARGS.get(class_name, {})
        config: dict[str, Any] = {}
        for param, value in zip(params, args):
            config[renames.get(param, param)] = value
        if len(args) > len(params):
            config["*args"] = UNKNOWN
        for key, value in kwargs.items():
            if key == "**":
                continue
            config[renames.get(key, key)] = value
        if "**" in kwargs:
            # **options with unknown keys: anything not set explicitly may have been set there.
            for key in kinds.DEFAULT_CONFIG.get(class_name, {}):
                config.setdefault(key, UNKNOWN)
        _translate_keras1(class_name, config)
        for key, default in kinds.DEFAULT_CONFIG.get(class_name, {}).items():
            config.setdefault(key, default)
        if "activation" in config:
            config["activation"] = _activation_value(config["activation"])
        elif class_name in kinds.ACTIVATION_LAYERS:
            config["activation"] = kinds.ACTIVATION_LAYERS[class_name]
        config = {key: _config_value(value) for key, value in config.items()}
        name = config.get("name")
        if not isinstance(name, str):
            name = self.auto_name(kinds.to_snake_case(class_name))
        return LayerValue(class_name, config, name, site, self._new_layer_id())

    def _add_node(self, layer: Layer, inputs: list[TensorValue]) -> TensorValue:
        node = self.workspace.add_layer(layer)
        for index, tensor in enumerate(inputs):
            self.workspace.add_edge(tensor.node, node, index)
        return TensorValue(node)

    def call_layer(self, layer: LayerValue, args: list, kwargs: dict, site: Site) -> Any:
        inputs = args[0] if args else kwargs.get("inputs", UNKNOWN)
        tensors = _tensors_in([inputs])
        if layer.class_name == "InputLayer":
            return self._input_node(layer.name, layer.site)
        record = Layer(
            name=layer.name,
            class_name=layer.class_name,
            kind=kinds.kind_of(layer.class_name),
            config=dict(layer.config),
            origin=layer.site,
            layer_id=layer.layer_id,
        )
        return self._add_node(record, tensors)

    def apply_op(self, class_name: str, kind: str, config: dict, tensors: list, short: str, site: Site) -> TensorValue:
        record = Layer(
            name=self.auto_name(short),
            class_name=class_name,
            kind=kind,
            config=config,
            origin=site,
            layer_id=self._new_layer_id(),
        )
        return self._add_node(record, tensors)

    def make_input(self, name: Any, site: Site) -> TensorValue:
        if not isinstance(name, str):
            name = self.auto_name("input_layer")
        return self._input_node(name, site)

    def _input_node(self, name: str, site: Site | None) -> TensorValue:
        record = Layer(name, "InputLayer", "input", {}, site, self._new_layer_id())
        return self._add_node(record, [])

    # -- models ----------------------------------------------------------

    def make_sequential(self, args: list, kwargs: dict, site: Site) -> SequentialValue:
        items = args[0] if args else kwargs.get("layers")
        name = kwargs.get("name", args[2] if len(args) > 2 else UNKNOWN)
        if not isinstance(name, str):
            name = self.auto_name("sequential")
        model = SequentialValue(name, site, self._new_layer_id())
        if isinstance(items, (list, tuple)):
            model.items.extend(items)
        self.models.append(model)
        return model

    def make_model(self, args: list, kwargs: dict, site: Site) -> ModelValue | Any:
        inputs = kwargs.get("inputs", kwargs.get("input", args[0] if args else UNKNOWN))
        outputs = kwargs.get("outputs", kwargs.get("output", args[1] if len(args) > 1 else UNKNOWN))
        output_tensors = _tensors_in([outputs])
        if not output_tensors:
            return UNKNOWN  # a subclassed-model super().__init__() or unknown outputs
        name = kwargs.get("name", args[2] if len(args) > 2 else UNKNOWN)
        if not isinstance(name, str):
            name = self.auto_name("functional")
        graph = self._extract(name, site, _tensors_in([inputs]), output_tensors)
        model = ModelValue(graph, self._new_layer_id())
        self.models.append(model)
        return model

    def _extract(self, name: str, site: Site, inputs: list[TensorValue], outputs: list[TensorValue]) -> ModelGraph:
        """The part of the workspace that computes *outputs*, as a graph of its own."""
        wanted = set()
        for tensor in outputs:
            wanted.add(tensor.node)
            wanted |= nx.ancestors(self.workspace.nx, tensor.node)
        graph = ModelGraph(name, site)
        renumber = {}
        for node in sorted(wanted):
            renumber[node] = graph.add_layer(self.workspace.layer(node))
        for u, v, data in self.workspace.nx.subgraph(wanted).edges(data=True):
            graph.add_edge(renumber[u], renumber[v], data["index"])
        graph.inputs = [renumber[t.node] for t in inputs if t.node in renumber]
        graph.outputs = [renumber[t.node] for t in outputs]
        return graph

    def call_model(self, model: ModelValue | SequentialValue, args: list, site: Site) -> TensorValue:
        if isinstance(model, ModelValue):
            name, layer_id, sub = model.graph.name, model.layer_id, model.graph
        else:
            name, layer_id, sub = model.name, model.layer_id, None
        record = Layer(name, "Functional" if sub else "Sequential", "model", {}, site, layer_id, sub)
        if isinstance(model, SequentialValue):
            self._pending_submodels.append((record, model))
        return self._add_node(record, _tensors_in(args[:1]))

    def finish(self) -> list[ModelGraph]:
        """Every model the file builds, in creation order, plus orphan layer chains.

        Functional code that never reaches ``Model(...)`` (a snippet, a block
        helper) still forms graphs: each connected group of layer calls that
        no model claimed becomes one graph, named after its first layer,
        unless it branches off a model (then it is unused code).
        """
        for model in self.models:
            if isinstance(model, SequentialValue):
                model.graph = self._sequential_graph(model)
        for record, model in self._pending_submodels:
            record.submodel = model.graph
        graphs = [model.graph for model in self.models if model.graph is not None]
        claimed = {id(layer) for g in graphs for _, layer in g.layers()}
        orphans = [n for n, layer in self.workspace.layers() if id(layer) not in claimed]
        orphan_view = self.workspace.nx.subgraph(orphans)
        for component in sorted(nx.weakly_connected_components(orphan_view), key=min):
            if all(self.workspace.layer(n).kind == "input" for n in component):
                continue
            feeds_from_model = any(
                id(self.workspace.layer(p)) in claimed for n in component for p in self.workspace.predecessors(n)
            )
            if feeds_from_model:
                continue  # a branch a model left unused is dead code, not a model
            nodes = sorted(component)
            first = self.workspace.layer(nodes[0])
            outputs = [TensorValue(n) for n in nodes if not any(s in component for s in self.workspace.successors(n))]
            inputs = [TensorValue(n) for n in nodes if self.workspace.layer(n).kind == "input"]
            graphs.append(self._extract(f"<layers from {first.name}>", first.origin, inputs, outputs))
        return graphs

    def _sequential_graph(self, model: SequentialValue) -> ModelGraph:
        graph = ModelGraph(model.name, model.site)
        previous: int | None = None
        for position, item in enumerate(model.items):
            if isinstance(item, TensorValue) and self.workspace.layer(item.node).kind == "input":
                record = self.workspace.layer(item.node)
            elif isinstance(item, LayerValue):
                if position == 0 and item.class_name != "InputLayer" and _declares_input(item):
                    previous = graph.add_layer(Layer(self.auto_name("input_layer"), "InputLayer", "input", {}, item.site, self._new_layer_id()))
                    graph.inputs.append(previous)
                record = Layer(item.name, item.class_name, kinds.kind_of(item.class_name), dict(item.config), item.site, item.layer_id)
                if item.class_name == "InputLayer":
                    record.kind = "input"
            elif isinstance(item, (SequentialValue, ModelValue)):
                sub = item.graph if isinstance(item, ModelValue) else None
                name = item.graph.name if isinstance(item, ModelValue) else item.name
                record = Layer(name, "Functional" if sub else "Sequential", "model", {}, item.site if isinstance(item, SequentialValue) else item.graph.origin, item.layer_id, sub)
                if isinstance(item, SequentialValue):
                    self._pending_submodels.append((record, item))
            else:
                # An item the reader could not determine: keep the chain connected.
                record = Layer(self.auto_name("unknown"), "<unknown>", "other", {}, model.site, self._new_layer_id())
            node = graph.add_layer(record)
            if record.kind == "input":
                graph.inputs.append(node)
            if previous is not None:
                graph.add_edge(previous, node)
            previous = node
        if previous is not None:
            graph.outputs = [previous]
        return graph


def _declares_input(layer: LayerValue) -> bool:
    return any(key in layer.config for key in ("input_shape", "batch_input_shape", "input_dim"))


def _tensors_in(values: list) -> list[TensorValue]:
    """Tensors among *values*, looking one level into lists, tuples and dicts."""
    found = []
    for value in values:
        if isinstance(value, TensorValue):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(_tensors_in(list(value)))
        elif isinstance(value, dict):
            found.extend(_tensors_in(list(value.values())))
    return found


def _activation_value(value: Any) -> Any:
    """The canonical activation name for an ``activation=`` argument, or UNKNOWN."""
    if value is None or isinstance(value, str):
        name = kinds.activation_name(value)
        return name if name is not None else (value if isinstance(value, str) else UNKNOWN)
    if isinstance(value, ExternalRef):
        name = kinds.activation_of_function(value.path)
        return name if name is not None else UNKNOWN
    if isinstance(value, LayerValue) and value.config.get("activation") not in (None, UNKNOWN):
        return value.config["activation"]
    return UNKNOWN


def _config_value(value: Any) -> Any:
    """Config values are plain data: anything the reader models as an object is UNKNOWN."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_config_value(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, ExternalRef):
        return value.path
    return UNKNOWN


def _translate_keras1(class_name: str, config: dict) -> None:
    """Keras 1 spelled a kernel size as ``nb_row, nb_col`` and data formats as "th"/"tf"."""
    parts = kinds.KERAS1_KERNEL_SIZE.get(class_name, ())
    if parts and all(part in config for part in parts):
        config["kernel_size"] = tuple(config.pop(part) for part in parts)
    for key, values in kinds.KERAS1_VALUES.items():
        if isinstance(config.get(key), str) and config[key] in values:
            config[key] = values[config[key]]
