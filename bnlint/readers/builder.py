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
from contextlib import contextmanager
from functools import lru_cache

from bnlint import kinds
from bnlint.graph import UNKNOWN, Layer, ModelGraph, Site
from bnlint.readers.shapes import Operand, op_output_shape, output_shape
from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = [
    "ExternalRef",
    "KerasObject",
    "TrainingCall",
    "LayerValue",
    "TensorValue",
    "ModelValue",
    "ModelLayer",
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

# Keras settings read by model code, at their defaults (keras.json as installed); model code may
# change the image data format (each builder keeps its own copy).
_KERAS_SETTINGS = {
    "keras.backend.image_data_format": "channels_last",
    "keras.config.image_data_format": "channels_last",
    "keras.backend.image_dim_ordering": "tf",  # Keras 1 and 2.0
    "keras.backend.floatx": "float32",
    "keras.config.floatx": "float32",
    "keras.backend.backend": "tensorflow",
    "keras.config.backend": "tensorflow",
}

# Calls that change the image data format (Keras 3 and tf.keras; Keras 1 and 2.0's dim ordering).
_SETTERS = ("keras.config.set_image_data_format", "keras.backend.set_image_data_format",
            "keras.backend.set_image_dim_ordering")

_SEQUENTIAL = "keras.Sequential"
_MODEL = "keras.Model"
# `keras.activations.get(identifier)`: the activation function an identifier names.
_GET_ACTIVATION = "keras.activations.get"
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

# What Keras 3 names the operation behind a Python operator on a KerasTensor.
_OPERATOR_NAMES = {
    "Add": "add", "Sub": "subtract", "Mult": "multiply", "Div": "true_divide", "FloorDiv": "floor_divide",
    "Mod": "mod", "Pow": "power", "MatMult": "matmul", "USub": "negative", "UAdd": "positive",
    "Invert": "logical_not", "getitem": "get_item", "BitAnd": "logical_and", "BitOr": "logical_or",
}
_ELEMENTWISE = {"Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "USub", "UAdd"}

_KERAS1_MERGE_MODES = {
    "sum": "Add", "mul": "Multiply", "concat": "Concatenate", "ave": "Average",
    "max": "Maximum", "dot": "Dot", "cos": "Dot",
}

# Names a snippet may use without importing them (``model = Sequential()``
# in a notebook cell whose imports were elsewhere). They resolve to Keras
# only when nothing in the file binds them.
WELL_KNOWN_NAMES = {"Sequential": _SEQUENTIAL, "Model": _MODEL, "Input": _INPUT}


@lru_cache(maxsize=4096)
def canonical_name(qualname: str) -> str:
    """One spelling for every path to the same Keras object.

    >>> canonical_name("tensorflow.keras.layers.normalization.BatchNormalization")
    'keras.layers.BatchNormalization'
    >>> canonical_name("tf_keras.models.Sequential")
    'keras.Sequential'
    >>> canonical_name("tf_keras.src.layers.BatchNormalization")
    'keras.layers.BatchNormalization'
    """
    if qualname in _KERAS_ROOTS:
        return "keras"
    shortened = True
    while shortened:  # tf_keras.src.layers -> keras.src.layers -> keras.layers
        shortened = False
        for prefix in _KERAS_PREFIXES:
            if qualname.startswith(prefix):
                qualname, shortened = "keras." + qualname[len(prefix):], True
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
        key = (self.path, name)
        found = _ATTRIBUTES.get(key)
        if found is None:
            if len(_ATTRIBUTES) > 65_536:  # a long-lived process reading much code
                _ATTRIBUTES.clear()
            found = _ATTRIBUTES[key] = ExternalRef(canonical_name(f"{self.path}.{name}"))
        return found


# ``layers.Conv2D`` is evaluated at every call: its reference is made once (references are never changed).
_ATTRIBUTES: dict[tuple[str, str], ExternalRef] = {}


@dataclass(eq=False)
class KerasObject:
    """The result of calling a Keras API that is not a layer or model (an initializer, ...)."""

    path: str
    args: list
    kwargs: dict


@dataclass(frozen=True)
class TrainingCall:
    """A ``model.fit(...)`` call: its batch size (a config value) and where it is."""

    batch_size: Any
    site: Site


@dataclass(eq=False)
class LayerValue:
    """A constructed Keras layer (not yet called)."""

    class_name: str
    config: dict[str, Any]
    name: str
    site: Site | None
    layer_id: int
    #: For a layer class defined in the file: its analysed ``self``.
    instance: Any = None
    #: Arguments that may be KerasTuner hyperparameters (see :attr:`~bnlint.graph.Layer.tuned`).
    tuned: frozenset = frozenset()
    #: For a subclass of a Keras layer class defined in the file: that class, whose kind it has,
    #: and whether the subclass keeps its ``__init__`` (see :attr:`~bnlint.graph.Layer.base`).
    base: str | None = None
    base_init: bool = False


class TensorValue:
    """A symbolic tensor: the output of *node* in *graph* (a builder's workspace), with its static shape.

    The shape is worked out when first read (model code reads few: DenseNet's
    ``x.shape[-1]``, ``correct_pad``), from what :meth:`defer_shape` recorded.
    """

    __slots__ = ("_pending", "_shape", "graph", "node")

    def __init__(self, node: int, graph: ModelGraph, shape: Any = UNKNOWN) -> None:
        self.node = node
        self.graph = graph
        self._shape = shape
        self._pending: tuple | None = None

    def __repr__(self) -> str:
        return f"TensorValue(node={self.node})"

    def defer_shape(self, compute, argument: Any, inputs: list[TensorValue]) -> None:
        """Make the shape ``compute(argument, [the shapes of inputs])``, worked out when first read."""
        self._pending = (compute, argument, inputs)

    @property
    def shape(self) -> Any:
        if self._pending is not None:
            _resolve_shapes(self)
        return self._shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self._shape, self._pending = value, None


def _resolve_shapes(tensor: TensorValue) -> None:
    """Work out *tensor*'s shape and those it depends on, oldest first (no recursion: chains are long)."""
    stack = [tensor]
    while stack:
        top = stack[-1]
        if top._pending is None:
            stack.pop()
            continue
        compute, argument, inputs = top._pending
        waiting = [t for t in inputs if t._pending is not None]
        if waiting:
            stack.extend(waiting)
            continue
        top._shape, top._pending = compute(argument, [t._shape for t in inputs]), None
        stack.pop()


@dataclass(eq=False)
class ModelValue:
    """A functional ``Model(inputs, outputs)``."""

    graph: ModelGraph
    layer_id: int
    #: The tensors it was made from, as given (``model.input``, ``model.output``).
    input: Any = None
    output: Any = None
    #: The workspace it was taken from, and the workspace node of each of its graph's nodes.
    workspace: ModelGraph | None = field(default=None, repr=False)
    nodes: list = field(default_factory=list, repr=False)

    @property
    def fits(self) -> list:
        return self.graph.fits

    @property
    def inputs(self) -> list:
        return _tensors_in([self.input])

    @property
    def outputs(self) -> list:
        return _tensors_in([self.output])


@dataclass(eq=False)
class ModelLayer:
    """What ``model.get_layer(name)`` returns for a layer the model calls once: its tensors are known."""

    name: str
    output: Any
    input: Any


@dataclass(eq=False)
class SequentialValue:
    """A ``Sequential`` model; its graph is built when the file has been read."""

    name: str
    site: Site | None
    layer_id: int
    items: list[Any] = field(default_factory=list)
    graph: ModelGraph | None = None
    entry: str | None = None
    #: The name of the InputLayer Keras adds itself (from input_shape=, or on the first call).
    input_name: str | None = None
    fits: list = field(default_factory=list)
    built: bool = False
    #: Its layers applied in the workspace, once code reads its tensors (:meth:`ModelBuilder.sequential_tensors`).
    tensors: Any = field(default=None, repr=False)


# `keras.utils.get_source_inputs` (and where Keras 2 kept it).
_GET_SOURCE_INPUTS = ("keras.utils.get_source_inputs", "keras.engine.topology.get_source_inputs",
                      "keras.utils.layer_utils.get_source_inputs")


class ModelBuilder:
    """Carries out Keras calls for the interpreter and collects the models they build."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.workspace = ModelGraph("<workspace>")
        self._tensors: dict[int, TensorValue] = {}  # the workspace's nodes' outputs, for model.get_layer(name)
        self._stand_ins: dict[int, tuple[TensorValue, TensorValue]] = {}  # foreign tensor id -> (it, its stand-in)
        self.models: list[ModelValue | SequentialValue] = []
        self._uids: Counter[str] = Counter()
        self._layer_ids = 0
        #: The uncalled function being analysed as an entry point, if any.
        self.entry: str | None = None
        self._node_entries: dict[int, str | None] = {}
        # Nested-model nodes whose submodel graph exists only once reading ends.
        self._pending_submodels: list[tuple[Layer, SequentialValue]] = []
        #: The Keras settings as the code read so far has left them.
        self.settings = dict(_KERAS_SETTINGS)
        self._module_settings: dict | None = None
        #: Whether KerasTuner hyperparameters are in play (a ``HyperParameters`` was made): from then on
        #: the interpreter records in :attr:`computed_arguments` the calls' arguments not written as literals.
        self.tuning = False
        self.computed_arguments: dict[Site, frozenset] = {}
        #: What a function of the code's own passed as ``activation=`` computes (an activation name, or
        #: UNKNOWN); the interpreter sets it, as only it can run the function.
        self.user_activation: Callable[[Any], Any] | None = None

    def _set_image_data_format(self, setter: str, value: Any) -> None:
        """``keras.config.set_image_data_format(value)``: layers built from now on default to it.

        A value that is not known (or that Keras would refuse) leaves the format UNKNOWN.
        """
        if setter.endswith("set_image_dim_ordering"):
            value = {"th": "channels_first", "tf": "channels_last"}.get(value, UNKNOWN) if isinstance(value, str) else UNKNOWN
        value = value.lower() if isinstance(value, str) else UNKNOWN
        if value not in ("channels_first", "channels_last"):
            value = UNKNOWN
        for key in ("keras.backend.image_data_format", "keras.config.image_data_format"):
            self.settings[key] = value
        self.settings["keras.backend.image_dim_ordering"] = {"channels_first": "th", "channels_last": "tf"}.get(value, UNKNOWN)

    # -- names -----------------------------------------------------------

    def begin_entry(self, name: str | None) -> None:
        """Start (or, with None, end) analysing an uncalled function as if in a fresh Keras session.

        The session has the settings the module's own top-level code left
        (a fresh process imports the module first), not those another entry changed.
        """
        self.entry = name
        self._uids.clear()
        if self._module_settings is None:  # the first entry: the module's code has run
            self._module_settings = dict(self.settings)
        self.settings = dict(self._module_settings)

    def auto_name(self, prefix: str) -> str:
        """Keras' automatic name: the prefix, then prefix_1, prefix_2, ... per file."""
        count = self._uids[prefix]
        self._uids[prefix] += 1
        return prefix if count == 0 else f"{prefix}_{count}"

    @property
    def layers_made(self) -> int:
        """How many layers (and ops) have been constructed so far."""
        return self._layer_ids

    def _new_layer_id(self) -> int:
        self._layer_ids += 1
        return self._layer_ids

    # -- calls -----------------------------------------------------------

    def models_call(self, path: str) -> bool:
        """True when calling *path* has Keras semantics modelled here (not just an op node)."""
        if path.startswith("keras.layers.") or path in (_INPUT, _SEQUENTIAL, _MODEL):
            return True
        if path in _KERAS_SETTINGS or path in _SETTERS or path in _APPLICATION_HELPERS:
            return True
        return path in ("keras.backend.int_shape", "keras.ops.shape", "keras.backend.is_keras_tensor",
                        "keras.backend.get_uid", *_GET_SOURCE_INPUTS) or (
            kinds.activation_of_function(path) is not None
        )

    def call_external(self, ref: ExternalRef, args: list, kwargs: dict, site: Site) -> Any:
        """The value of calling *ref* (from an import) with evaluated arguments."""
        path = ref.path
        if path.startswith("keras.layers."):
            last = path.rsplit(".", 1)[1]
            if last == "VersionAwareLayers":  # tf_keras' own sources: `layers = VersionAwareLayers()`
                return ExternalRef("keras.layers")
            if last == "merge":  # Keras 1: merge([a, b], mode="sum")
                mode = kwargs.pop("mode", args[1] if len(args) > 1 else "sum")
                layer = self.construct(_KERAS1_MERGE_MODES.get(mode, "Add") if isinstance(mode, str) else "Add",
                                       [], {k: v for k, v in kwargs.items() if k in ("name", "concat_axis", "dot_axes")}, site)
                return self.call_layer(layer, args[:1], {}, site)
            if last in _MERGE_FUNCTIONS:
                layer = self.construct(_MERGE_FUNCTIONS[last], args[1:], kwargs, site)
                return self.call_layer(layer, args[:1], {}, site)
            if last[:1].isupper():
                return self.construct(last, args, kwargs, site)
        if path in self.settings:
            return self.settings[path]
        if path in _SETTERS:
            self._set_image_data_format(path, args[0] if args else kwargs.get("data_format", kwargs.get("dim_ordering")))
            return None
        if path in ("keras.backend.int_shape", "keras.ops.shape") and args and isinstance(args[0], TensorValue):
            return args[0].shape
        if path == "keras.backend.get_uid" and len(args) == 1 and isinstance(args[0], str) and not kwargs:
            # The counter automatic names count with (`"stem_" + str(backend.get_uid("stem_"))`).
            self._uids[args[0]] += 1
            return self._uids[args[0]]
        if path == "keras.backend.is_keras_tensor" and args:
            return isinstance(args[0], TensorValue) or UNKNOWN
        if path in _GET_SOURCE_INPUTS and len(args) == 1 and type(args[0]) is TensorValue and not kwargs:
            return self.source_inputs(args[0])
        if path == _GET_ACTIVATION and len(args) == 1 and not kwargs:
            # `activations.get("relu")(x)` (TF Model Garden's `tf_utils.get_activation`): the function
            # itself, so that calling it on a tensor is that activation.
            identifier = args[0]
            if identifier is None or isinstance(identifier, str):
                name = kinds.activation_name(identifier)
                return ExternalRef(f"keras.activations.{name}") if name is not None else UNKNOWN
            if identifier is not UNKNOWN and not isinstance(identifier, (dict, list, tuple, int, float)):
                return identifier  # a function: returned as it is
        if path in _APPLICATION_HELPERS:
            return _APPLICATION_HELPERS[path](*args, **kwargs) if "**" not in kwargs else UNKNOWN
        if path == _INPUT:
            return self.make_input(args, kwargs, site)
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
            result = self.apply_op(path, "op", {}, tensors, short, site)
            if path.startswith("keras.ops.") and "**" not in kwargs:
                result.defer_shape(_op_shape, (short, args, kwargs), tensors)
            return result
        if path.startswith("keras.") and "**" not in kwargs:
            # An initializer, regularizer, constraint ...: kept as Keras serialises it.
            return KerasObject(path, args, kwargs)
        return UNKNOWN

    def tensor_attribute(self, tensor: TensorValue, attribute: str) -> Any:
        """``x.shape`` (Keras 2's ``x._keras_shape`` too); other tensor attributes are not known statically."""
        return tensor.shape if attribute in ("shape", "_keras_shape") else UNKNOWN

    def construct_custom(self, class_name: str, args: list, kwargs: dict, site: Site,
                         base: str | None = None, own_init: bool = True) -> LayerValue:
        """A layer class defined in the file: its arguments are kept as given.

        A subclass of a Keras layer class (*base*: ``BatchNormalization`` for
        Mask R-CNN's ``class BatchNorm(KL.BatchNormalization)``) is of its
        base's kind; if it keeps its base's constructor (no ``__init__`` of its
        own, *own_init* false), its arguments are bound and defaulted as the
        base's are. Keras names it after its own class either way.
        """
        if base is not None and not own_init:
            if not isinstance(kwargs.get("name"), str):
                kwargs = {**kwargs, "name": self.auto_name(kinds.to_snake_case(class_name))}
            layer = self.construct(base, args, kwargs, site)
            layer.class_name, layer.base, layer.base_init = class_name, base, True
            return layer
        config = {key: _config_value(value) for key, value in kwargs.items() if key != "**"}
        name = config.get("name")
        if not isinstance(name, str):
            name = self.auto_name(kinds.to_snake_case(class_name))
        return LayerValue(class_name, config, name, site, self._new_layer_id(), base=base)

    def call_object(self, value: Any, args: list, kwargs: dict, site: Site) -> Any:
        """Calling a layer or model value on tensors (or what ``activations.get`` of an unknown name gave)."""
        if isinstance(value, LayerValue):
            return self.call_layer(value, args, kwargs, site)
        if isinstance(value, (ModelValue, SequentialValue)):
            return self.call_model(value, args, site)
        if isinstance(value, KerasObject):
            tensors = _tensors_in(args)
            if tensors and value.path == _GET_ACTIVATION:  # an activation, which one unknown: the chain goes on
                return self.apply_op(_GET_ACTIVATION, "activation", {"activation": UNKNOWN}, tensors, "activation",
                                     site)
            if tensors:
                # A model bnlint does not read, called on tensors: `keras.applications.MobileNetV2(...)`,
                # `keras.models.load_model(path)`, `clone_model(m)`. One op node keeps the graph whole (its
                # input to the head after it), as for an unknown library call.
                return self.apply_op(value.path, "op", {}, tensors, value.path.rsplit(".", 1)[-1], site)
        return UNKNOWN

    def call_method(self, value: Any, method: str, args: list, kwargs: dict, site: Site) -> Any:
        """``model.add(layer)`` and friends; other methods of Keras objects give UNKNOWN."""
        if isinstance(value, SequentialValue) and method == "add" and args:
            value.items.append(args[0])
            self._name_sequential_input(value, on_call=False)
            self._maybe_build(value)
            return None
        if isinstance(value, SequentialValue) and method == "pop" and value.items:
            return value.items.pop()
        if isinstance(value, (SequentialValue, ModelValue)) and method == "fit":
            return self.record_fit(value.fits, args, kwargs, site)
        if isinstance(value, ModelValue) and method == "get_layer":
            return self._model_layer(value, args, kwargs)
        if isinstance(value, SequentialValue) and method == "get_layer":
            name = _layer_name_asked(args, kwargs)
            found = [layer for layer in self.sequential_tensors(value) or () if layer.name == name]
            return found[0] if isinstance(name, str) and len(found) == 1 else UNKNOWN
        return UNKNOWN

    def source_inputs(self, tensor: TensorValue) -> list[TensorValue] | Any:
        """``keras.utils.get_source_inputs(tensor)``: the input tensors *tensor* is computed from, in order."""
        if tensor.graph is not self.workspace:
            return UNKNOWN
        nodes = [tensor.node, *self.workspace.ancestors(tensor.node)]
        found = sorted(n for n in set(nodes) if self.workspace.layer(n).kind == "input" and n in self._tensors)
        return [self._tensors[n] for n in found]

    def sequential_tensors(self, model: SequentialValue) -> list[ModelLayer] | None:
        """A Sequential's layers with their tensors, its input first, for code that reads them
        (``keras.Model(seq.inputs, seq.get_layer("relu").output)``, the Keras guide's feature extractor).

        Its layers are applied in order from its input, in the workspace, the first time code reads
        a tensor of it (again after an ``add`` or ``pop``), as Keras builds a Sequential whose input is
        known; the tensors are the same for every later read. None when its input is not known, or it
        holds something other than Keras layers and models (a custom layer, an unknown value).
        """
        key = tuple(map(id, model.items)) + (model.input_name,)
        if model.tensors is not None and model.tensors[0] == key:
            return model.tensors[1]
        items = list(model.items)
        if items and isinstance(items[0], TensorValue):
            tensor, items = items[0], items[1:]
            made = [ModelLayer(self.workspace.layer(tensor.node).name, tensor, tensor)]
        elif items and isinstance(items[0], LayerValue) and items[0].class_name == "InputLayer":
            tensor, items = self._input_node(items[0].name, items[0].site), items[1:]
            made = [ModelLayer(model.items[0].name, tensor, tensor)]
        elif model.input_name is not None:
            tensor = self._input_node(model.input_name, model.site)
            made = [ModelLayer(model.input_name, tensor, tensor)]
        else:
            return None
        for item in items:
            if not (isinstance(item, (ModelValue, SequentialValue)) or (
                    isinstance(item, LayerValue) and item.instance is None and item.class_name != "InputLayer")):
                return None
            output = self.call_object(item, [tensor], {}, item.site if isinstance(item, LayerValue) else model.site)
            if not isinstance(output, TensorValue):
                return None
            made.append(ModelLayer(item.name if not isinstance(item, ModelValue) else item.graph.name, output, tensor))
            tensor = output
        model.tensors = (key, made)
        return made

    def _model_layer(self, model: ModelValue, args: list, kwargs: dict) -> ModelLayer | Any:
        """``model.get_layer(name)``: the layer with its input and output tensors (``base.get_layer("bn1").output``).

        Unknown for a nested model or a model from another workspace; the
        tensors are unknown for a layer called more than once (Keras has no
        single ``output`` for it).
        """
        name = _layer_name_asked(args, kwargs)
        if not isinstance(name, str) or model.workspace is not self.workspace:
            return UNKNOWN
        found = [node for node, layer in model.graph.layers() if layer.name == name]
        return self._layer_handle(model, found[0], _calls(model.graph)) if found else UNKNOWN

    def model_layers(self, model: ModelValue | SequentialValue) -> list | Any:
        """``model.layers``: a Sequential's layers as added (less the input), a functional model's in Keras' order.

        A functional model's layer is what :meth:`_model_layer` gives for it
        (:func:`keras_layer_order`; unknown for a nested model, and the list
        for a model from another workspace).
        """
        if isinstance(model, SequentialValue):
            items = [item if isinstance(item, (LayerValue, ModelValue, SequentialValue)) else UNKNOWN
                     for item in model.items]
            return items[1:] if _starts_with_input(model) else items  # Keras leaves out the InputLayer first
        if model.workspace is not self.workspace:
            return UNKNOWN
        calls = _calls(model.graph)
        return [self._layer_handle(model, node, calls) for node in keras_layer_order(model.graph)]

    def _layer_handle(self, model: ModelValue, node: int, calls: Counter) -> ModelLayer | Any:
        """The layer at *node* of *model* (*calls*: the number of calls of each layer id in it)."""
        layer = model.graph.layer(node)
        if layer.kind == "model":
            return UNKNOWN
        if calls[layer.layer_id] > 1:
            return ModelLayer(layer.name, UNKNOWN, UNKNOWN)
        node = model.nodes[node]
        inputs = [self._tensors.get(p, UNKNOWN) for p in self.workspace.predecessors(node)]
        return ModelLayer(layer.name, self._tensors.get(node, UNKNOWN),
                          inputs[0] if len(inputs) == 1 else inputs if inputs else UNKNOWN)

    def record_fit(self, fits: list, args: list, kwargs: dict, site: Site) -> Any:
        """``model.fit(x, y, batch_size, ...)`` into *fits*: small batches matter to BN (rule BN010)."""
        batch_size = kwargs.get("batch_size", args[2] if len(args) > 2 else None)
        fits.append(TrainingCall(_config_value(batch_size), site))
        return UNKNOWN

    def apply_to_tensor(self, operator: str, operands: list, site: Site) -> TensorValue:
        """``x + y``, ``-x``, ``x[..., 0]``: a tensor expression becomes an op node.

        *operator* is the ast operator's class name (``Add``, ``USub``, ...)
        or ``getitem``; the node is named as Keras names the operation.
        """
        name = _OPERATOR_NAMES.get(operator, operator.lower())
        tensors = _tensors_in(operands)
        result = self.apply_op(name, "op", {}, tensors, name, site)
        if operator in _ELEMENTWISE:
            result.defer_shape(_broadcast_shape, None, tensors)
        return result

    # -- layers ----------------------------------------------------------

    def construct(self, class_name: str, args: list, kwargs: dict, site: Site) -> LayerValue:
        """A layer constructor call: bind its arguments by Keras' signature, fill defaults."""
        written = class_name
        class_name = kinds.canonical_class(class_name)
        renames = kinds.KERAS1_KWARGS.get(class_name)
        defaults = kinds.DEFAULT_CONFIG.get(class_name, _NO_DEFAULTS)
        config: dict[str, Any] = {}
        params = kinds.positional_params(written, args) or () if args else ()
        if args:
            for param, value in zip(params, args):
                config[renames.get(param, param) if renames else param] = value
            if len(args) > len(params):
                config["*args"] = UNKNOWN
        if renames:
            config.update((renames.get(key, key), value) for key, value in kwargs.items())
        else:
            config.update(kwargs)
        if "**" in config:
            del config["**"]
            # **options with unknown keys: anything not set explicitly may have been set there.
            for key in defaults:
                config.setdefault(key, UNKNOWN)
        _translate_keras1(class_name, config)
        if "data_format" in defaults and config.get("data_format") is None:
            # Keras resolves a missing (or None) data_format when the layer is made.
            config["data_format"] = self.settings["keras.config.image_data_format"]
        for key, default in defaults.items():
            if key not in config:
                config[key] = default
        if "activation" in config:
            activation = _activation_value(config["activation"])
            if activation is UNKNOWN and self.user_activation is not None:
                activation = self.user_activation(config["activation"])
            config["activation"] = activation
        elif class_name in kinds.ACTIVATION_LAYERS:
            config["activation"] = kinds.ACTIVATION_LAYERS[class_name]
        elif class_name == "Lambda" and "function" in config:
            # `Lambda(tf.nn.relu)`, `Lambda(lambda t: relu(t, max_value=6))`: an activation layer by another name.
            activation = _activation_value(config["function"]) if isinstance(config["function"], ExternalRef) else (
                self.user_activation(config["function"]) if self.user_activation is not None else UNKNOWN)
            if isinstance(activation, str) and activation != "linear":
                config["activation"] = activation
        for key, value in config.items():
            if type(value) not in _SCALARS:
                config[key] = _config_value(value)
        name = config.get("name")
        if not isinstance(name, str):
            name = self.auto_name(kinds.to_snake_case(class_name))
        layer = LayerValue(class_name, config, name, site, self._new_layer_id())
        if self.computed_arguments and site in self.computed_arguments:
            layer.tuned = frozenset(
                (params[key] if key < len(params) else None) if isinstance(key, int) else key
                for key in self.computed_arguments[site]) - {None}
        return layer

    def _add_node(self, layer: Layer, inputs: list[TensorValue], shape_config: dict | None = None) -> TensorValue:
        inputs = self._own(inputs)
        node = self.workspace.add_layer(layer)
        self._node_entries[node] = self.entry
        for index, tensor in enumerate(inputs):
            self.workspace.add_edge(tensor.node, node, index)
        tensor = self._tensors[node] = TensorValue(node, self.workspace)
        if layer.kind not in ("op", "model"):
            tensor.defer_shape(_layer_shape, (layer, shape_config), inputs)
        return tensor

    def call_layer(self, layer: LayerValue, args: list, kwargs: dict, site: Site) -> Any:
        # Every tensor the call is given is an input, as Keras records its node: the positional
        # arguments in order, then the keyword ones by name (`mha(query, value)`, `ctc(labels, logits)`).
        tensors = _tensors_in(args if not kwargs else [*args, *(kwargs[key] for key in sorted(kwargs))])
        if layer.class_name == "InputLayer":
            return self._input_node(layer.name, layer.site)
        return self._add_node(_record(layer), tensors)

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

    def make_input(self, args: list, kwargs: dict, site: Site) -> TensorValue:
        name = kwargs.get("name", UNKNOWN)
        if not isinstance(name, str):
            name = self.auto_name("input_layer")
        shape = kwargs.get("shape", args[0] if args else UNKNOWN)
        batch = kwargs.get("batch_size")
        if "batch_shape" in kwargs:
            shape_config = {"batch_shape": kwargs["batch_shape"]}
        elif isinstance(shape, (tuple, list)):
            shape_config = {"batch_shape": (batch if isinstance(batch, int) else None, *shape)}
        else:
            shape_config = {"shape": shape}
        return self._input_node(name, site, shape_config)

    def _input_node(self, name: str, site: Site | None, config: dict | None = None) -> TensorValue:
        record = Layer(name, "InputLayer", "input", {}, site, self._new_layer_id())
        return self._add_node(record, [], config or {})

    # -- models ----------------------------------------------------------

    def make_sequential(self, args: list, kwargs: dict, site: Site) -> SequentialValue:
        items = args[0] if args else kwargs.get("layers")
        name = kwargs.get("name", args[2] if len(args) > 2 else UNKNOWN)
        if not isinstance(name, str):
            name = self.auto_name("sequential")
        model = SequentialValue(name, site, self._new_layer_id(), entry=self.entry)
        if isinstance(items, (list, tuple)):
            model.items.extend(items)
        elif items is UNKNOWN:
            model.items.append(UNKNOWN)  # layers bnlint cannot list: one unknown layer, not an empty model
        self._name_sequential_input(model, on_call=False)
        self._maybe_build(model)
        self.models.append(model)
        return model

    # Building a Sequential uses Keras' automatic names, so it is followed as
    # Keras does it: a Sequential whose input is known (re)builds after its
    # construction and after each add() once it has a layer besides its
    # input; a Sequential without one builds when first called. Building
    # calls (so builds) the Sequential models inside it, then makes an
    # internal Functional model, which takes a "functional" name.

    def _maybe_build(self, model: SequentialValue) -> None:
        has_input = model.input_name is not None or _starts_with_input(model)
        layers = len(model.items) + (1 if model.input_name is not None else 0)
        if has_input and layers > 1:
            self._build(model)

    def _build(self, model: SequentialValue) -> None:
        for item in model.items:
            if isinstance(item, SequentialValue) and not item.built:
                self._name_sequential_input(item, on_call=True)
                self._build(item)
        self.auto_name("functional")
        model.built = True

    def _name_sequential_input(self, model: SequentialValue, on_call: bool) -> None:
        """Keras names a Sequential's own InputLayer when it makes it: at the first
        layer with ``input_shape=``, or when the model is first called."""
        if model.input_name is not None or not model.items:
            return
        first = model.items[0]
        if isinstance(first, TensorValue) or (isinstance(first, LayerValue) and first.class_name == "InputLayer"):
            return
        if on_call or (isinstance(first, LayerValue) and _declares_input(first)):
            model.input_name = self.auto_name("input_layer")

    def make_model(self, args: list, kwargs: dict, site: Site, default_name: str | None = None) -> ModelValue | Any:
        inputs = kwargs.get("inputs", kwargs.get("input", args[0] if args else UNKNOWN))
        outputs = kwargs.get("outputs", kwargs.get("output", args[1] if len(args) > 1 else UNKNOWN))
        output_tensors = _tensors_in([outputs])
        if not output_tensors:
            return UNKNOWN  # a subclassed-model super().__init__() or unknown outputs
        name = kwargs.get("name", args[2] if len(args) > 2 else UNKNOWN)
        if not isinstance(name, str):
            name = default_name or self.auto_name("functional")
        graph, nodes = self._extract(name, site, _tensors_in([inputs]), output_tensors)
        graph.entry = self.entry
        model = ModelValue(graph, self._new_layer_id(), inputs, outputs, self.workspace, nodes)
        self.models.append(model)
        return model

    def _stand_in(self, tensor: TensorValue) -> TensorValue:
        """An input node of *tensor*'s shape in the workspace, for a tensor made in another one.

        A custom layer's ``call`` runs in a scratch workspace (:meth:`scratch`),
        on placeholders for its arguments; the tensors it reaches otherwise (a
        mask passed by keyword, one kept on ``self``) belong to the model's
        workspace, and one it keeps may be used after. Each such tensor gets one
        stand-in per workspace.
        """
        found = self._stand_ins.get(id(tensor))  # (the tensor is kept with it: its id stays its own)
        if found is None:
            found = self._stand_ins[id(tensor)] = (tensor, self.placeholder(tensor.shape))
        return found[1]

    def placeholder(self, shape: Any = UNKNOWN) -> TensorValue:
        """A fresh input node of *shape* in the workspace, standing for a tensor made elsewhere."""
        record = Layer("<placeholder>", "InputLayer", "input", {}, None, 0)
        return TensorValue(self.workspace.add_layer(record), self.workspace, shape)

    def _own(self, tensors: list[TensorValue]) -> list[TensorValue]:
        workspace = self.workspace
        for tensor in tensors:
            if tensor.graph is not workspace:
                return [t if t.graph is workspace else self._stand_in(t) for t in tensors]
        return tensors

    def _extract(self, name: str, site: Site, inputs: list[TensorValue],
                 outputs: list[TensorValue]) -> tuple[ModelGraph, list[int]]:
        """The part of the workspace that computes *outputs*, as a graph of its own, and its nodes' workspace nodes."""
        inputs, outputs = self._own(inputs), self._own(outputs)
        wanted = set()
        for tensor in outputs:
            wanted.add(tensor.node)
            wanted |= self.workspace.ancestors(tensor.node)
        graph = ModelGraph(name, site)
        renumber = {}
        for node in sorted(wanted):
            renumber[node] = graph.add_layer(self.workspace.layer(node))
        for node in sorted(wanted):
            for consumer, index in self.workspace.out_edges(node):
                if consumer in renumber:
                    graph.add_edge(renumber[node], renumber[consumer], index)
        graph.inputs = [renumber[t.node] for t in inputs if t.node in renumber]
        graph.outputs = [renumber[t.node] for t in outputs]
        return graph, sorted(wanted)

    def call_model(self, model: ModelValue | SequentialValue, args: list, site: Site) -> TensorValue:
        if isinstance(model, ModelValue):
            name, layer_id, sub = model.graph.name, model.layer_id, model.graph
        else:
            name, layer_id, sub = model.name, model.layer_id, None
        record = Layer(name, "Functional" if sub else "Sequential", "model", {}, site, layer_id, sub)
        if isinstance(model, SequentialValue):
            if not model.built:
                self._name_sequential_input(model, on_call=True)
                self._build(model)
            self._pending_submodels.append((record, model))
        return self._add_node(record, _tensors_in(args[:1]))

    @contextmanager
    def scratch(self):
        """Layer calls made inside the block leave no trace: no nodes, no models, no names used.

        Keras runs a custom layer's ``call`` on placeholders to learn its
        output shape; the operations it performs are not part of the model.
        """
        saved = (self.workspace, Counter(self._uids), list(self.models), list(self._pending_submodels),
                 self._stand_ins, self._tensors)
        self.workspace, self._stand_ins, self._tensors = ModelGraph("<scratch>"), {}, {}
        try:
            yield
        finally:
            (self.workspace, self._uids, self.models, self._pending_submodels, self._stand_ins,
             self._tensors) = saved

    def placeholders(self, value: Any) -> Any:
        """*value* with every tensor replaced by a fresh input of the same shape (for scratch runs)."""
        if isinstance(value, TensorValue):
            return self.placeholder(value.shape)
        if isinstance(value, (list, tuple)):
            items = [self.placeholders(item) for item in value]
            return tuple(items) if isinstance(value, tuple) else items
        return value

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
        orphans = {n for n, layer in self.workspace.layers() if id(layer) not in claimed}
        for component in _components(self.workspace, orphans):
            if all(self.workspace.layer(n).kind == "input" for n in component):
                continue
            feeds_from_model = any(
                id(self.workspace.layer(p)) in claimed for n in component for p in self.workspace.predecessors(n)
            )
            if feeds_from_model:
                continue  # a branch a model left unused is dead code, not a model
            nodes = sorted(component)
            # Named after its first layer of the code's (not a placeholder a helper's input stands for).
            start = next((n for n in nodes if self.workspace.layer(n).origin is not None), nodes[0])
            first = self.workspace.layer(start)
            outputs = [TensorValue(n, self.workspace) for n in nodes
                       if not any(s in component for s in self.workspace.successors(n))]
            inputs = [TensorValue(n, self.workspace) for n in nodes if self.workspace.layer(n).kind == "input"]
            orphan, _ = self._extract(f"<layers from {first.name}>", first.origin, inputs, outputs)
            orphan.entry = self._node_entries.get(start)
            graphs.append(orphan)
        return graphs

    def _sequential_graph(self, model: SequentialValue) -> ModelGraph:
        graph = ModelGraph(model.name, model.site)
        graph.entry = model.entry
        graph.fits = model.fits
        previous: int | None = None
        for position, item in enumerate(model.items):
            if isinstance(item, TensorValue) and item.graph is self.workspace and (
                    self.workspace.layer(item.node).kind == "input"):
                record = self.workspace.layer(item.node)
            elif isinstance(item, LayerValue):
                if position == 0 and model.input_name is not None:
                    previous = graph.add_layer(Layer(model.input_name, "InputLayer", "input", {}, item.site, self._new_layer_id()))
                    graph.inputs.append(previous)
                record = _record(item)
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


def _layer_name_asked(args: list, kwargs: dict) -> Any:
    """The name ``get_layer(name)`` or ``get_layer(name=...)`` asks for (None for ``index=`` and the rest)."""
    if set(kwargs) == {"name"} and not args:
        return kwargs["name"]
    return args[0] if len(args) == 1 and not kwargs else None


def _starts_with_input(model: SequentialValue) -> bool:
    """Whether the Sequential's first item is its input: a ``keras.Input`` tensor or an ``InputLayer``."""
    first = model.items[0] if model.items else None
    return isinstance(first, TensorValue) or (isinstance(first, LayerValue) and first.class_name == "InputLayer")


def _declares_input(layer: LayerValue) -> bool:
    return any(key in layer.config for key in ("input_shape", "batch_input_shape", "input_dim"))


def keras_layer_order(graph: ModelGraph) -> list[int]:
    """The layers of a functional model's *graph* in the order Keras 3 lists ``model.layers``: one node per layer.

    Keras orders a functional model's operations by depth, deepest first:
    a call's depth is one more than the deepest call that uses its output
    (0 for an output), an operation's the deepest of its calls. Operations
    of equal depth come in the order a depth-first walk from the outputs,
    through each call's inputs in turn, first reaches them; an input no
    output depends on comes last. Operations that are not layers (``x + y``,
    ``keras.ops.*``, ``tf.nn.relu(x)``) count towards the depths but are not
    listed.

    >>> g = ModelGraph("m")
    >>> a, b, c = (g.add_layer(Layer(n, "Dense", "dense", layer_id=i)) for i, n in enumerate("abc"))
    >>> g.add_edge(a, b); g.add_edge(b, c); g.add_edge(a, c, 1); g.inputs, g.outputs = [a], [c]
    >>> [g.layer(n).name for n in keras_layer_order(g)]
    ['a', 'b', 'c']
    """
    first_visit: dict[int, int] = {}  # layer id -> when the walk first reached one of its calls
    finished: list[int] = []  # calls, each after every call it depends on
    done: set[int] = set()
    for output in graph.outputs:
        if output in done:
            continue
        first_visit.setdefault(graph.layer(output).layer_id, len(first_visit))
        stack = [(output, iter(graph.predecessors(output)))]
        while stack:
            node, producers = stack[-1]
            for producer in producers:
                if producer not in done:
                    first_visit.setdefault(graph.layer(producer).layer_id, len(first_visit))
                    stack.append((producer, iter(graph.predecessors(producer))))
                    break
            else:
                stack.pop()
                if node not in done:
                    done.add(node)
                    finished.append(node)
    call_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    first_call: dict[int, int] = {}
    for node in reversed(finished):
        layer_id = graph.layer(node).layer_id
        depth = max(call_depth.get(node, 0), layer_depth.get(layer_id, 0))
        layer_depth[layer_id] = call_depth[node] = depth
        first_call.setdefault(layer_id, node)
        for producer in graph.predecessors(node):
            call_depth[producer] = max(depth + 1, call_depth.get(producer, 0))
    for node in graph.inputs:
        layer_id = graph.layer(node).layer_id
        if layer_id not in layer_depth:
            layer_depth[layer_id], first_visit[layer_id] = 0, -1
            first_call[layer_id] = node
    order = sorted(layer_depth, key=lambda layer_id: (-layer_depth[layer_id], first_visit[layer_id]))
    return [first_call[layer_id] for layer_id in order if _is_layer(graph.layer(first_call[layer_id]))]


def _calls(graph: ModelGraph) -> Counter:
    """How many times *graph* calls each layer, by layer id."""
    return Counter(layer.layer_id for _, layer in graph.layers())


def _is_layer(layer: Layer) -> bool:
    """Whether Keras makes *layer* a layer, not an operation (``x + y``, ``keras.ops.relu(x)``)."""
    return layer.kind != "op" and "." not in layer.class_name


def _tensors_in(values: list) -> list[TensorValue]:
    """Tensors among *values*, looking into lists, tuples and dicts, in the order Keras flattens them.

    Keras flattens a dict by its sorted keys: ``Model(inputs, {"z": z, "y": y})``
    has the outputs ``[y, z]``, and a layer called on a dict has its
    inputs in that order.
    """
    found = []
    for value in values:
        if isinstance(value, TensorValue):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(_tensors_in(list(value)))
        elif isinstance(value, dict):
            try:
                keys = sorted(value)
            except TypeError:  # keys Keras could not sort either: as written
                keys = list(value)
            found.extend(_tensors_in([value[key] for key in keys]))
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


# Config values kept as they are (``_config_value`` would return them unchanged).
_SCALARS = frozenset({str, int, float, bool, type(None)})
_NO_DEFAULTS: dict = {}


def _config_value(value: Any) -> Any:
    """Config values are plain data, as Keras serialises them; other objects are UNKNOWN.

    A Keras object made by a call (``keras.initializers.Zeros()``) becomes
    ``{"class_name": "Zeros", "module": "keras.initializers", "config": {...}}``.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_config_value(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {key: _config_value(v) for key, v in value.items()}
    if isinstance(value, ExternalRef):
        return value.path
    if isinstance(value, KerasObject):
        module, _, class_name = value.path.rpartition(".")
        config = {key: _config_value(v) for key, v in value.kwargs.items()}
        if value.args:
            config["*args"] = [_config_value(v) for v in value.args]
        return {"class_name": class_name, "module": module, "config": config}
    return UNKNOWN


def _translate_keras1(class_name: str, config: dict) -> None:
    """Keras 1 spelled a kernel size as ``nb_row, nb_col`` and data formats as "th"/"tf"."""
    parts = kinds.KERAS1_KERNEL_SIZE.get(class_name)
    if parts and parts[0] in config and all(part in config for part in parts):
        config["kernel_size"] = tuple(config.pop(part) for part in parts)
    if config.get("data_format") == "default":
        # keras.json's setting, which set_image_dim_ordering changes: the format in effect (see construct).
        config["data_format"] = None
    for key, values in kinds.KERAS1_VALUES.items():
        value = config.get(key)
        if type(value) is str and value in values:
            config[key] = values[value]


def _record(layer: LayerValue) -> Layer:
    """The graph's record of a layer made by a constructor call, applied to tensors or put in a Sequential."""
    return Layer(
        name=layer.name,
        class_name=layer.class_name,
        kind=kinds.kind_of(layer.base) if layer.base else kinds.layer_kind(layer.class_name, layer.config),
        config=dict(layer.config),
        origin=layer.site,
        layer_id=layer.layer_id,
        tuned=layer.tuned,
        base=layer.base,
        base_init=layer.base_init,
    )


def _layer_shape(layer_and_config: tuple[Layer, dict | None], shapes: list) -> Any:
    """The static output shape of a layer node on inputs of *shapes* (UNKNOWN where it cannot be inferred)."""
    layer, shape_config = layer_and_config
    if layer.kind == "activation" and layer.class_name not in kinds.LAYER_KINDS:
        return shapes[0] if shapes else UNKNOWN  # tf.nn.relu(x) and friends keep the shape
    return output_shape(layer.class_name, shape_config if shape_config is not None else layer.config, shapes)


def _broadcast_shape(_: None, shapes: list) -> Any:
    """An elementwise tensor expression: a scalar operand keeps the tensor's shape; tensors broadcast as
    ``keras.ops`` does (the operator is ``keras.ops.add`` and its like: an unknown size and 3 give 3)."""
    return shapes[0] if len(shapes) == 1 else op_output_shape("add", [Operand(shape) for shape in shapes], {})


def _op_shape(call: tuple[str, list, dict], _: list) -> Any:
    """A ``keras.ops`` call on tensors: its output shape, from the shapes of its (by now known) tensor arguments."""
    name, args, kwargs = call
    return op_output_shape(name, _as_operands(args), {key: _as_operands(value) for key, value in kwargs.items()})


def _as_operands(value: Any) -> Any:
    if isinstance(value, TensorValue):
        return Operand(value.shape)
    if isinstance(value, (list, tuple)):
        return type(value)(_as_operands(item) for item in value) if type(value) in (list, tuple) else value
    return value


def _obtain_input_shape(input_shape=None, default_size=224, min_size=32, data_format="channels_last",
                        require_flatten=True, weights=None) -> Any:
    """keras.applications' input-shape helper, for the arguments a static reader can know."""
    if isinstance(input_shape, (tuple, list)):
        return tuple(input_shape)
    if input_shape is not None or not isinstance(default_size, int) or not isinstance(require_flatten, bool):
        return UNKNOWN
    size = default_size if require_flatten or weights == "imagenet" else None
    return (3, size, size) if data_format == "channels_first" else (size, size, 3)


def _correct_pad(inputs=None, kernel_size=None) -> Any:
    """keras.applications' padding for a strided 'valid' convolution that mimics 'same'."""
    shape = inputs.shape if isinstance(inputs, TensorValue) else UNKNOWN
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if not isinstance(shape, tuple) or len(shape) < 3 or not isinstance(kernel_size, tuple):
        return UNKNOWN
    rows, cols = shape[1], shape[2]
    adjust = (1, 1) if rows is None else (1 - rows % 2, 1 - cols % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


_APPLICATION_HELPERS = {
    "keras.applications.imagenet_utils.obtain_input_shape": _obtain_input_shape,
    "keras.applications.imagenet_utils.correct_pad": _correct_pad,
}


def _components(graph: ModelGraph, nodes: set[int]) -> list[set[int]]:
    """The weakly connected groups among *nodes*, ordered by their first node."""
    groups = []
    unseen = set(nodes)
    for start in sorted(nodes):
        if start not in unseen:
            continue
        unseen.discard(start)
        group, stack = {start}, [start]
        while stack:
            node = stack.pop()
            for neighbour in (*graph.successors(node), *graph.predecessors(node)):
                if neighbour in unseen:
                    unseen.discard(neighbour)
                    group.add(neighbour)
                    stack.append(neighbour)
        groups.append(group)
    return groups
