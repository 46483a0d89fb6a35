"""BN001 missing-batchnorm."""

from __future__ import annotations

from bnlint import kinds
from bnlint.diagnostics import Applicability, Fix, InsertLayer, SetArgument, Violation
from bnlint.graph import Layer, ModelGraph, Site, is_known
from bnlint.rule import Option, Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

# The layers this rule checks.
_CHECKED = {"conv", "dense"}
# Layers with weights of their own: a walk that meets one has reached the next weight layer.
_WEIGHTED = {"conv", "dense", "embedding", "recurrent", "attention"}
_WEIGHTED_OTHERS = {"Highway", "MaxoutDense", "DenseFeatures", "RandomFourierFeatures", "SpectralNormalization"}
# Layers that may hold anything, a BN included: bnlint cannot see inside them.
_WRAPPERS = {"TimeDistributed", "Wrapper", "Layer", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "Pipeline"}
_NORMALISERS = {"batchnorm", "norm"}
# Tensor functions that are a batch normalisation.
_BN_FUNCTIONS = {"batch_normalization", "batch_norm", "fused_batch_norm"}
# What Python operators on tensors are called in the graph.
_OPERATORS = {
    "add", "subtract", "multiply", "true_divide", "floor_divide", "mod", "power", "matmul",
    "negative", "positive", "logical_not", "get_item", "logical_and", "logical_or",
}
_LIBRARIES = ("keras.", "tensorflow.", "tf.", "numpy.", "jax.", "torch.")
# Between a layer and the BN that normalises its output: layers without
# weights. Merges count: pre-activation designs normalise after the Add.
_FORWARD = {"activation", "pool", "reshape", "dropout", "merge", "op", "other"}
# Between a BN and the layer whose input it normalises (BN -> ReLU -> conv).
_BACKWARD = {"activation", "pool", "reshape", "dropout"}
# Between an output head and the model output (a merge: the last residual Add).
_TO_OUTPUT = {"activation", "pool", "reshape", "dropout", "merge"}
# Single-input steps of a side branch (gates, residual scaling, classifier heads).
_BRANCH = {"activation", "pool", "reshape", "dropout", "op", "other", "conv", "dense"}
# How deep nested models are looked into.
_MAX_DEPTH = 8


def _role(layer: Layer) -> str:
    """What a layer is to this rule: "norm", "weights", "opaque" (cannot tell) or "through"."""
    kind = layer.kind
    if kind in _NORMALISERS:
        return "norm"
    if kind in _WEIGHTED:
        return "weights"
    if kind == "model":
        return "model" if layer.submodel is not None else "opaque"
    if kind == "op":
        name = layer.class_name
        if name.rpartition(".")[2] in _BN_FUNCTIONS and name.startswith(_LIBRARIES):
            return "norm"
        if name in _OPERATORS or name.startswith(_LIBRARIES):
            return "through"
        return "opaque"  # a function of the user's that bnlint could not read
    if kind == "other":
        if layer.class_name in _WEIGHTED_OTHERS:
            return "weights"
        if layer.class_name in _WRAPPERS or layer.class_name not in kinds.LAYER_KINDS:
            return "opaque"  # a custom layer or a wrapper
    return "through"


def _maybe_linear(layer: Layer) -> bool:
    """True unless the layer is known to apply a nonlinearity (an unknown activation may be linear)."""
    if "activation" not in layer.config:
        return layer.kind != "activation"  # ReLU, LeakyReLU, ... name their function by their class
    activation = layer.config["activation"]
    return not is_known(activation) or activation == "linear"


def _is_batchnorm(layer: Layer) -> bool:
    return layer.kind == "batchnorm" or (layer.kind == "op" and _role(layer) == "norm")


def _normalised_after(graph: ModelGraph, node: int, depth: int = 0) -> bool:
    """True when a normalisation follows *node*'s output before the next weight layer (or may: an opaque layer)."""
    seen = {node}
    stack = [node]
    while stack:
        for succ in graph.successors(stack.pop()):
            if succ in seen:
                continue
            seen.add(succ)
            layer = graph.layer(succ)
            role = _role(layer)
            if role in ("norm", "opaque"):
                return True
            if role == "model":
                if _starts_normalised(layer.submodel, depth):
                    return True
            elif role == "through" and layer.kind in _FORWARD:
                stack.append(succ)
    return False


def _normalised_with_next(graph: ModelGraph, node: int) -> bool:
    """True when *node* is linear and feeds only linear weight layers whose outputs are normalised.

    A depthwise convolution straight into its pointwise one, a transposed
    convolution concatenated into the next convolution, InceptionTime's 1x1
    bottleneck feeding its three parallel convolutions: the BN after the
    next layers normalises the linear maps the layers compose.
    """
    def judge(succ: int) -> bool | None:
        layer = graph.layer(succ)
        role = _role(layer)
        if role == "weights":
            return None if layer.kind in _CHECKED and _maybe_linear(layer) and _normalised_after(graph, succ) else False
        return role == "through" and layer.kind in _FORWARD and (layer.kind != "activation" or _maybe_linear(layer))

    return _maybe_linear(graph.layer(node)) and _every_path(graph, node, judge, to_output=False)


def _every_path(graph: ModelGraph, node: int, judge, to_output: bool) -> bool:
    """True when every path forward from *node* is accepted.

    *judge(layer_node)* says, for each node a path reaches, whether the path
    goes on through it (True), ends well there (None) or fails (False). A path
    that reaches a model output (or a node nothing consumes) ends well there
    when *to_output*, and fails otherwise.
    """
    ends = _ends(graph)
    seen = {node}
    stack = [node]
    while stack:
        current = stack.pop()
        succs = graph.successors(current)
        if current in ends or not succs:
            if to_output and current in ends:
                continue
            return False
        for succ in succs:
            if succ not in seen:
                seen.add(succ)
                verdict = judge(succ)
                if verdict is False:
                    return False
                if verdict:
                    stack.append(succ)
    return True


def _normalised_before(graph: ModelGraph, node: int, own: bool, depth: int = 0) -> bool:
    """True when *node*'s input comes from a normalisation through weightless single-input layers.

    With *own*, a BN that already normalises an earlier weight layer's output
    does not count: only pre-activation BNs (after a merge or the input) do.
    """
    for pred in graph.reachable(node, through=_passes_backward, backward=True):
        layer = graph.layer(pred)
        role = _role(layer)
        if role == "opaque":
            return True
        if role == "norm" and (not own or not _follows_weight_layer(graph, pred)):
            return True
        if role == "model" and _ends_normalised(layer.submodel, own, depth):
            return True
    return False


def _passes_backward(layer: Layer) -> bool:
    """A weightless layer that a walk back from a layer's input may cross."""
    return _role(layer) == "through" and layer.kind in _BACKWARD


def _follows_weight_layer(graph: ModelGraph, node: int) -> bool:
    """True when *node* (a BN) normalises a weight layer's output: one reaches it through weightless layers."""
    return any(
        _role(graph.layer(pred)) == "weights"
        for pred in graph.reachable(node, through=_passes_backward, backward=True)
    )


def _starts_normalised(submodel: ModelGraph | None, depth: int) -> bool:
    """A nested model whose inputs meet a normalisation before any weight layer ([BN, ReLU, Conv] blocks)."""
    if submodel is None or depth >= _MAX_DEPTH:
        return True  # cannot tell
    return any(_normalised_after(submodel, start, depth + 1) for start in submodel.inputs)


def _ends_normalised(submodel: ModelGraph | None, own: bool, depth: int) -> bool:
    """A nested model whose outputs come from a normalisation through weightless layers only."""
    if submodel is None or depth >= _MAX_DEPTH:
        return True  # cannot tell
    for end in submodel.outputs:
        role = _role(submodel.layer(end))
        if role == "opaque" or (role == "norm" and not (own and _follows_weight_layer(submodel, end))):
            return True
        if _normalised_before(submodel, end, own, depth + 1):
            return True
    return False


def _ends(graph: ModelGraph) -> set[int]:
    """The model's outputs; for a chain never wrapped in a model, its last layers."""
    return set(graph.outputs) or {n for n in graph.nodes() if not graph.successors(n)}


# Weightless layers between a model input and its first weight layer (pix2pix concatenates two images).
_PLUMBING = {"reshape", "op", "merge", "pool", "dropout", "activation", "input"}


def _input_layer_left_unnormalised(graph: ModelGraph, node: int) -> bool:
    """True when *node* is the first convolution on the image input of a net that leaves it without BN
    on purpose: a GAN's generator or discriminator, or a restoration net that learns the residual.

    Radford et al.'s DCGAN guidelines leave BN out of the discriminator's
    input layer, and image-to-image generators (SRGAN, pix2pix) leave their
    first convolution without one too, as does DnCNN (Zhang et al.). A
    discriminator is told by a convolution on the input followed by a
    LeakyReLU and an output of one unit (or a one-channel patch map); a
    generator by an output ending in ``tanh``; a residual-learning net by an
    output that adds the model input to what it computes, or subtracts it
    (:func:`_residual_on_input`). A classifier's stem is still reported.
    """
    layer = graph.layer(node)
    if layer.kind != "conv":
        return False
    if not graph.predecessors(node) or not all(  # back to the model's inputs through weightless layers only
            graph.layer(pred).kind in _PLUMBING for pred in graph.reachable(node, _PLUMBING, backward=True)):
        return False
    ends = _ends(graph)
    if any(kinds.applied_activation(graph.layer(end)) == "tanh" or _residual_on_input(graph, end) for end in ends):
        return True  # a generator, or a restoration net that learns the residual
    leaky = layer.get("activation") == "leaky_relu" or any(
        kinds.applied_activation(graph.layer(succ)) == "leaky_relu" for succ in graph.successors(node))
    return leaky and any(_one_unit(graph, end) for end in ends)


# The sum or difference of the input and what a restoration net predicts (DnCNN's `input - noise`).
_RESIDUALS = {"Add", "Subtract", "add", "subtract"}


def _residual_on_input(graph: ModelGraph, end: int) -> bool:
    """True when the output *end* adds the model's input to (or subtracts from it) what the layers compute."""
    layer = graph.layer(end)
    if layer.class_name not in _RESIDUALS:
        return False
    return any(graph.layer(pred).kind == "input" for pred in graph.predecessors(end))


def _one_unit(graph: ModelGraph, end: int) -> bool:
    """True when the output *end* comes, through weightless layers, from a layer of one unit or filter."""
    current = end
    while True:
        layer = graph.layer(current)
        if layer.kind in ("conv", "dense"):
            return layer.get("units", layer.get("filters")) == 1
        preds = graph.predecessors(current)
        if layer.kind not in _PLUMBING or len(preds) != 1:
            return False
        current = preds[0]


def _single_input(graph: ModelGraph, node: int) -> bool:
    return len(graph.predecessors(node)) == 1


def _is_output_head(graph: ModelGraph, node: int) -> bool:
    """True when *node*'s output reaches a model output through weightless layers only."""
    ends = _ends(graph)
    seen = {node}
    stack = [node]
    while stack:
        current = stack.pop()
        if current in ends or not graph.successors(current):
            return True
        for succ in graph.successors(current):
            kind = graph.layer(succ).kind
            # A merge counts only as the model's last layer: through a residual
            # Add that feeds later blocks, every branch would "reach the output".
            # So does `shortcut + y` ending a pre-activation block written as a layer.
            passes = kind in _TO_OUTPUT and (kind != "merge" or succ in ends)
            if kind in ("op", "other"):
                passes = _single_input(graph, succ) or succ in ends
            if succ not in seen and passes:
                seen.add(succ)
                stack.append(succ)
    return False


def _is_collapse(layer: Layer) -> bool:
    """Flatten or global pooling: where the feature maps become a feature vector."""
    return layer.class_name == "Flatten" or (layer.kind == "pool" and layer.class_name.startswith("Global"))


def _in_plain_classifier(graph: ModelGraph, node: int) -> bool:
    """True when *node* is in a classifier without BN: after a Flatten or global pooling,
    on a chain of single-input layers to a model output that holds no normalisation.

    VGG-style heads (Flatten -> Dense -> Dropout -> Dense -> Dropout -> Dense)
    and MobileNetV3's 1x1 "last point" convolution after its global pooling
    are built this way on purpose, in models whose feature extractor uses BN.
    Above *node*, the chain may join feature vectors: global average and max
    pooling concatenated, or the max-pooled branches of a text CNN.
    """
    if not _collapsed_above(graph, node):
        return False
    ends = _ends(graph)
    current = node
    while current not in ends:  # down to the output
        succs = graph.successors(current)
        gate = _self_gate(graph, current) if len(succs) == 2 else None
        if gate is not None:  # an activation written as x * f(x): one step
            current = gate
            continue
        if len(succs) != 1:
            return False
        layer = graph.layer(succs[0])
        if layer.kind not in _BRANCH or _role(layer) == "norm" or not _single_input(graph, succs[0]):
            return False
        current = succs[0]
    return True


def _collapsed_above(graph: ModelGraph, node: int) -> bool:
    """Whether every way up from *node* reaches a Flatten or global pooling, through layers with one
    input that are not normalisations, and merges of such ways (``Concatenate()([avg, max])``)."""
    if len(graph.predecessors(node)) != 1:
        return False
    pending, seen = [node], {node}
    while pending:
        current = pending.pop()
        preds = graph.predecessors(current)
        if not preds or (len(preds) > 1 and not _joins(graph.layer(current))):
            return False
        for pred in preds:
            layer = graph.layer(pred)
            if _is_collapse(layer):
                continue
            if (layer.kind not in _BRANCH and layer.kind != "merge") or _role(layer) == "norm":
                return False
            if pred not in seen:
                seen.add(pred)
                pending.append(pred)
    return True


def _joins(layer: Layer) -> bool:
    """A merge layer, or the tensor function that concatenates (``keras.ops.concatenate``, ``tf.concat``)."""
    return layer.kind == "merge" or (layer.kind == "op" and layer.class_name.rpartition(".")[2] in (
        "concatenate", "concat"))


def _self_gate(graph: ModelGraph, node: int) -> int | None:
    """The multiply ending an activation written as ``x * f(x)``, *node* being x; else None.

    tf.keras' MobileNetV3 writes hard-swish as ``Multiply()([x, ReLU(6.0)(x + 3.0) * (1 / 6)])``,
    and swish is often ``x * sigmoid(x)``: f is a chain of weightless single-input steps.
    """
    for multiply in graph.successors(node):
        if not _is_multiply(graph.layer(multiply)) or len(graph.predecessors(multiply)) != 2:
            continue
        others = [s for s in graph.successors(node) if s != multiply]
        if len(others) > 1:
            continue
        current = others[0] if others else multiply  # (x * x)
        while current != multiply:
            if graph.layer(current).kind not in ("activation", "op") or not _single_input(graph, current):
                break
            following = graph.successors(current)
            if len(following) != 1:
                break
            current = following[0]
        else:
            return multiply
    return None


def _is_multiply(layer: Layer) -> bool:
    return (layer.kind == "merge" and layer.class_name == "Multiply") or (
        layer.kind == "op" and layer.class_name.rpartition(".")[2] == "multiply"
    )


def _squashing(layer: Layer) -> bool:
    """True when *layer* ends in a squashing function (sigmoid, softmax, ...): its own or a fused activation."""
    name = kinds.applied_activation(layer)
    return is_known(name) and name in kinds.SQUASHING_ACTIVATIONS


def _is_gate(graph: ModelGraph, node: int) -> bool:
    """True when *node* computes a gate: a squashing function whose output only multiplies features of the model.

    Weightless shape steps may come between (nobrainer's attention gate:
    sigmoid -> UpSampling3D -> ``Lambda`` repeating the channel -> multiply).
    A mask that multiplies a model input (a whole network computing a
    spectrogram mask, as spleeter's) is the model's output, not a gate.
    """
    if not _squashing(graph.layer(node)):
        return False
    products = _gate_products(graph, node)
    return bool(products) and not any(
        graph.layer(pred).kind == "input" for product in products for pred in graph.predecessors(product))


def _gate_products(graph: ModelGraph, node: int) -> list[int]:
    """The multiplications *node*'s output reaches only through shape steps, if that is all it reaches; else []."""
    products, stack = [], [node]
    while stack:
        succs = graph.successors(stack.pop())
        if not succs:
            return []
        for succ in succs:
            layer = graph.layer(succ)
            if _is_multiply(layer):
                products.append(succ)
            elif layer.kind == "reshape" or layer.class_name == "Lambda" and len(graph.predecessors(succ)) == 1:
                stack.append(succ)
            else:
                return []
    return products


def _in_gate(graph: ModelGraph, node: int, main: set[int]) -> bool:
    """True when *node* reaches the model's outputs only through gates (:func:`_is_gate`).

    Attention U-Net's gates project the skip tensor X and the gating
    signal (1x1 convolutions), add them, then ReLU -> 1x1 convolution ->
    sigmoid -> ``X * gate``: all of it computes attention weights, like a
    squeeze-and-excitation branch.
    """
    if node in main:
        return False
    # Off the main path, every path ends at a gate unless it dead-ends (which fails here).
    return _is_gate(graph, node) or _every_path(
        graph, node, lambda succ: None if _is_gate(graph, succ) else True, to_output=False)


def _on_main_path(graph: ModelGraph) -> set[int]:
    """The nodes from which a model output is reached without passing through a gate."""
    reached = set(_ends(graph))
    stack = list(reached)
    while stack:
        for pred in graph.predecessors(stack.pop()):
            if pred not in reached and not _is_gate(graph, pred):
                reached.add(pred)
                stack.append(pred)
    return reached


def _normalises_features(graph: ModelGraph, main: set[int]) -> bool:
    """True when a BN of the model normalises features a weight layer computed, on the model's main path.

    A BN on the raw inputs (a feature scaler: ``Input -> BatchNormalization
    -> Dense``) and BNs inside attention gates (``conv -> BN -> sigmoid ->
    X * gate``) say nothing about how the author means the hidden layers
    of the main path to be normalised.
    """
    for node, layer in graph.layers():
        if node in main and _is_batchnorm(layer) and any(
            _computes_features(graph.layer(pred)) for pred in graph.ancestors(node)
        ):
            return True
    return False


def _computes_features(layer: Layer) -> bool:
    """A layer with weights that computes features (not feature-column plumbing), or one bnlint cannot see into."""
    return layer.kind in _WEIGHTED or _role(layer) in ("opaque", "model")


# Merges that add or stack their inputs: a linear function of them.
_LINEAR_MERGES = {"Add", "Concatenate", "Average", "Subtract", "add", "concat", "concatenate", "add_n", "subtract"}


def _linear_source(graph: ModelGraph, node: int) -> bool:
    """True when *node*'s output is a linear weight layer's, through weightless single-input layers."""
    current = node
    while True:
        layer = graph.layer(current)
        if layer.kind in _CHECKED:
            return layer.get("activation") == "linear"
        preds = graph.predecessors(current)
        if layer.kind not in _LINEAR_STEPS or len(preds) != 1:
            return False
        current = preds[0]


# Weightless single-input layers that keep a map linear (up-sampling, cropping, dropout, pooling).
_LINEAR_STEPS = {"reshape", "dropout", "pool"}


def _in_linear_head(graph: ModelGraph, node: int) -> bool:
    """True when *node* is linear and every path from it to a model output stays linear.

    Such a layer computes scores for the output, not features: FCN's 1x1
    score convolutions, their learned up-sampling and the sums of score
    maps; U^2-Net's side outputs, up-sampled, concatenated and fused by a
    1x1 convolution. The path may hold linear weight layers, weightless
    reshaping, and merges that add or concatenate other such linear maps
    (never a residual shortcut: its input went through nonlinearities), and
    end at a model output or at a softmax or sigmoid that reaches one.
    """
    layer = graph.layer(node)
    if layer.kind not in _CHECKED or layer.get("activation") != "linear":
        return False
    ends = _ends(graph)

    def judge(succ: int) -> bool | None:
        layer = graph.layer(succ)
        if _squashing(layer):
            return None if succ in ends or _is_output_head(graph, succ) else False
        preds = graph.predecessors(succ)
        if len(preds) > 1:
            return layer.class_name.rpartition(".")[2] in _LINEAR_MERGES and all(
                _linear_source(graph, pred) for pred in preds)
        if layer.kind in _CHECKED:
            return layer.get("activation") == "linear"
        return layer.kind in _LINEAR_STEPS or (layer.kind == "activation" and layer.get("activation") == "linear")

    return _every_path(graph, node, judge, to_output=True)


def _on_gating_branch(graph: ModelGraph, node: int) -> bool:
    """True when *node* sits on a side branch that starts at a tensor X and ends multiplying X.

    That is the shape of squeeze-and-excitation and other gates (X -> global
    pooling -> conv/dense -> ... -> sigmoid -> X * gate): the branch computes
    per-channel weights, not features.
    """
    current = node
    while True:  # up to the tensor the branch leaves
        preds = graph.predecessors(current)
        if len(preds) != 1:
            return False
        source = preds[0]
        if graph.layer(source).kind not in _BRANCH or graph.successors(source) != [current]:
            break
        current = source
    current = node
    while True:  # down to the multiplication that applies the gate
        succs = graph.successors(current)
        if len(succs) != 1:
            return False
        succ = succs[0]
        layer = graph.layer(succ)
        preds = graph.predecessors(succ)
        if len(preds) >= 2:
            return _is_multiply(layer) and source in preds
        if layer.kind not in _BRANCH:
            return False
        current = succ


def _is_scaled_residual(graph: ModelGraph, node: int) -> bool | None:
    """True when *node* is a linear projection whose output is scaled and added to a residual.

    InceptionResNet's block "up" convolutions (`x + scale * conv(...)`, in a
    Lambda, a custom layer or tensor arithmetic) and ConvNeXt's LayerScale
    branches end this way: the scale keeps the residual branch small on
    purpose. A plain `Add` right after the layer is not enough: a ResNet
    branch that forgot its BN looks like that. None when the layer's
    configuration is not known.
    """
    layer = graph.layer(node)
    activation, use_bias = layer.get("activation"), layer.get("use_bias")
    if not is_known(activation) or not is_known(use_bias):
        return None
    if activation != "linear" or use_bias is not True:
        return False
    current, scaled = node, False
    while True:
        succs = graph.successors(current)
        if len(succs) != 1:
            return False
        succ = succs[0]
        succ_layer = graph.layer(succ)
        preds = graph.predecessors(succ)
        if len(preds) >= 2:
            custom = succ_layer.kind == "other"
            adds = custom or (succ_layer.kind == "merge" and succ_layer.class_name == "Add") or (
                succ_layer.kind == "op" and succ_layer.class_name.rpartition(".")[2] == "add"
            )
            if not adds or not (scaled or custom):
                return False
            ancestors = graph.ancestors(node)
            return any(p in ancestors for p in preds if p != current)
        if succ_layer.kind in ("op", "other"):
            scaled = True
        elif not (succ_layer.kind == "activation" and _maybe_linear(succ_layer)):
            return False
        current = succ


# [tool.bnlint.insert]: how inserted BN layers are initialised (Keras' defaults otherwise).
_INSERT_KEYS = {"epsilon": float, "momentum": float, "center": bool, "scale": bool, "zero-gamma-residual": bool}
_KERAS_DEFAULTS = {"epsilon": 0.001, "momentum": 0.99, "center": True, "scale": True}
# What the numbers must be: a NaN or an infinity would be written into the source as a name
# (`epsilon=nan`); Keras divides by sqrt(variance + epsilon), and a moving average with a momentum
# of 1 or more never learns the statistics (or diverges).
_INSERT_RANGES = {
    "epsilon": (lambda value: 0 < value < float("inf"), "must be a finite number greater than 0"),
    "momentum": (lambda value: 0 <= value < 1, "must be a number from 0 up to (not including) 1"),
}


def _insert_problem(table: object) -> str | None:
    if not isinstance(table, dict):
        return "must be a table ([tool.bnlint.insert])"
    for key, value in table.items():
        expected = _INSERT_KEYS.get(key)
        if expected is None:
            return f"has an unknown key '{key}' (known: {', '.join(_INSERT_KEYS)})"
        numeric = expected is float and isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (numeric or (expected is bool and isinstance(value, bool))):
            return f"'{key}' must be {'a number' if expected is float else 'true or false'}"
        if key in _INSERT_RANGES and not _INSERT_RANGES[key][0](value):
            return f"'{key}' {_INSERT_RANGES[key][1]}"
    return None


def _ends_residual_branch(graph: ModelGraph, node: int) -> bool:
    """True when *node*'s only consumer is an ``Add`` that also reads another path (a shortcut)."""
    consumers = graph.successors(node)
    return len(consumers) == 1 and graph.layer(consumers[0]).class_name == "Add" and len(
        graph.predecessors(consumers[0])
    ) > 1


def _insert_batchnorm(graph: ModelGraph, node: int, insert: dict) -> Fix | None:
    """A BN right after the layer (with Keras' default initialisation), and its bias dropped.

    A layer named ``..._conv`` (or ``..._dense``, ``..._fc``...) gets a BN
    named ``..._bn`` next to it, unless that name is taken.
    """
    layer = graph.layer(node)
    if not isinstance(layer.origin, Site):
        return None
    arguments = [(key, float(value) if key in ("epsilon", "momentum") else value)
                 for key, value in insert.items() if key in _KERAS_DEFAULTS and value != _KERAS_DEFAULTS[key]]
    axis = kinds.batchnorm_axis(layer.class_name, layer.config)
    if axis != -1:  # a channels_first layer: the default axis=-1 would normalise image columns (BN008)
        arguments.insert(0, ("axis", axis))
    if insert.get("zero-gamma-residual") is True and _ends_residual_branch(graph, node):
        arguments.append(("gamma_initializer", "zeros"))  # Goyal et al. 2017: the block starts as identity
    rename = None
    head, _, token = layer.name.rpartition("_")
    taken = {other.name for _, other in graph.layers()}
    if head and token.isalpha() and token != "bn" and f"{head}_bn" not in taken:
        rename = (token, "bn")
    intents = [InsertLayer(layer.origin, "BatchNormalization", tuple(arguments), rename=rename)]
    if layer.get("use_bias") is True and layer.get("activation") == "linear":
        # The BN cancels the bias only when nothing nonlinear comes between them: after a fused
        # activation="relu" the BN lands after the relu, and the bias still shapes it.
        intents.append(SetArgument(layer.origin, layer.constructor, "use_bias", False, follow=True, optional=True))
    return Fix("insert a BatchNormalization after the layer", Applicability.UNSAFE, tuple(intents))


class MissingBatchnorm(Rule):
    """
    ## What it does
    Finds hidden convolution and dense layers that no `BatchNormalization`
    normalises, in a model that uses `BatchNormalization` elsewhere (or in
    every model, with `require-batchnorm`).

    A layer counts as normalised when a BN follows its output before the
    next weight layer (activation, pooling, reshape, dropout, merge and
    tensor-arithmetic layers may sit between: a BN after the `Add` of a
    residual block normalises the branches that feed it), or when a BN
    precedes its input with only activation, pooling, reshape, padding or
    dropout layers between (pre-activation designs such as ResNetV2 and
    DenseNet: BN -> ReLU -> Conv). A linear layer whose consumers, through
    weightless layers and no nonlinearity, are all linear weight layers
    whose outputs are normalised (a depthwise convolution straight into its
    pointwise one; InceptionTime's 1x1 bottleneck feeding three parallel
    convolutions, concatenated and normalised) is normalised by the BN
    after them, which normalises the linear maps the layers compose. Other normalisations (`LayerNormalization`,
    `GroupNormalization`, ...) normalise too, but only `BatchNormalization`
    makes a model a "BN model": ConvNeXt is not one. A custom layer,
    wrapper or unreadable function next to a layer may hold a BN, so the
    layer is not reported.

    Never reported:
    - the output head: a layer whose output reaches a model output through
      activation, pooling, reshape, dropout or merge layers only (the
      classifier `Dense`, a final 1x1 convolution, the last convolution of
      a residual branch whose `Add` — a layer or `shortcut + y` — is the
      output, as in a pre-activation block written as a layer), and every layer of a
      classifier without BN that follows the `Flatten` or global pooling
      of the features, or several of them concatenated (global average
      and max pooling; a text CNN's max-pooled branches) (VGG-style `Dense -> Dropout -> Dense` heads,
      MobileNetV3's 1x1 convolution after its global pooling; an
      activation written as `x * f(x)`, as tf.keras' MobileNetV3 writes
      hard-swish, is one step of that classifier);
    - layers on a gating branch: a side branch that starts at a tensor `X`
      and ends multiplying `X` (squeeze-and-excitation in MobileNetV3 and
      EfficientNet: global pooling -> reduce -> expand -> sigmoid -> `X * gate`),
      and every layer that reaches the output only through such gates (the
      projections and the 1x1 convolution of an Attention U-Net gate:
      `ReLU(conv(X) + conv(g)) -> conv -> sigmoid -> X * gate`, with
      up-sampling or a `Lambda` that repeats channels allowed before the
      product). A sigmoid mask that multiplies a model input (a network
      computing a spectrogram mask) is not a gate: it is the output;
    - linear projections (`use_bias=True`, no activation) whose output is
      scaled and then added to the residual it branched from
      (InceptionResNetV2's `x + scale * up`, ConvNeXt's LayerScale); a plain
      `Add` right after the layer is not enough;
    - a linear output head of several layers: a linear layer from which
      every path to a model output stays linear (linear weight layers,
      up-sampling, cropping, and `Add`s or `Concatenate`s of other such
      linear maps, up to the output or a final softmax/sigmoid): FCN's 1x1
      score convolutions, their learned up-sampling and the sums of score
      maps, U^2-Net's side outputs fused by a 1x1 convolution. These
      layers compute class scores, not features. A residual `Add` does not
      pass: its shortcut went through nonlinearities;
    - anything in a model without `BatchNormalization` layers of its own
      (a BN backbone called as a nested model does not make the layers
      around it a BN model), unless `require-batchnorm` is set. Only a BN
      that normalises features a weight layer computed, on the model's
      main path, makes a BN model: not a BN on the raw inputs (`Input ->
      BatchNormalization -> Dense`, a feature scaler) and not the BNs
      inside attention gates (`conv -> BN -> sigmoid -> X * gate`, an
      Attention U-Net whose other convolutions have none);
    - the first convolution on the image input of a GAN's discriminator or
      image-to-image generator, which Radford et al.'s DCGAN guidelines
      (and SRGAN, pix2pix) leave without BN: a discriminator is told by a
      LeakyReLU after that convolution and an output of one unit or a
      one-channel patch map, a generator by a `tanh` output. So is the
      first convolution of a restoration net that learns the residual
      (DnCNN: `Conv+ReLU`, then `Conv+BN+ReLU` layers, and the output
      `input - noise`), which Zhang et al. leave without BN. A
      classifier's stem is reported, and so are other layers those papers
      leave unnormalised (SRGAN's up-sampling convolutions): mark them
      `# noqa: BN001`.

    ## Why is this bad?
    A network that relies on BN for well-scaled activations loses that at
    every layer left out: the layer's output statistics drift with its
    weights during training, the layers after it see inputs of arbitrary
    scale, and the model tolerates smaller learning rates than its
    normalised parts would. A single layer without BN in a model that uses
    BN everywhere else is usually an oversight, often in a stem or a
    copy-pasted block. Where a layer is left out on purpose (CRNN's first
    convolutions), say so with `# noqa: BN001`.

    ## Example
    ```python
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    ```

    ## Use instead
    ```python
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the fix inserts a
    `BatchNormalization()` right after the layer — Keras' default
    initialisation: gamma 1, beta 0, moving mean 0, moving variance 1,
    epsilon 1e-3, momentum 0.99 — and sets `use_bias=False` on the layer
    (the BN's beta takes the bias's place), unless the layer has a fused
    activation: the BN then lands after the activation, and the bias, which
    comes before the activation, keeps its use. Where the bias cannot be
    dropped (the call passes `**kwargs`, or `use_bias` is read from a
    setting), the BN is still inserted and BN004 reports the bias, with
    the reason. After a channels_first layer
    (its own `data_format`, or the program's `set_image_data_format`) the
    BN gets `axis=1`, its channel axis. A layer named like
    `name + "_1_conv"` gets a BN named `name + "_1_bn"`. Adding a BN changes
    what the model computes and how it trains.

    ## Options
    - `require-batchnorm` (default `false`): report unnormalised hidden
      layers in every model, also in models without any BN (VGG). Layers
      normalised by `LayerNormalization` or `GroupNormalization` still pass.
    - `require-own-batchnorm` (default `false`): every hidden layer needs a
      normalisation of its own output. A BN before a layer's input then
      counts only when it normalises no earlier weight layer's output (a
      true pre-activation BN after a merge or the model input): in
      `Conv -> BN -> ReLU -> Conv -> ReLU -> Conv -> BN`, the second
      convolution is reported, which by default passes as pre-activated.
    - `insert` (the table `[tool.bnlint.insert]`): how the fix initialises
      the BN it inserts. `epsilon` and `momentum` (Keras' defaults 1e-3
      and 0.99), `center` and `scale` (true) are written into the call when
      they differ from the defaults; `zero-gamma-residual = true` sets
      `gamma_initializer="zeros"` on a BN that ends a residual branch (its
      layer feeds an `Add` with a shortcut), so each block starts as the
      identity (Goyal et al. 2017).

    ## References
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015.
    - K. He, X. Zhang, S. Ren, J. Sun, "Identity Mappings in Deep Residual
      Networks", ECCV 2016 (pre-activation: BN before the convolution).
    - J. Hu, L. Shen, G. Sun, "Squeeze-and-Excitation Networks", CVPR 2018.
    - P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in
      1 Hour", 2017, §5.1 (zero gamma on the last BN of a residual block).
    - Keras documentation, `keras.layers.BatchNormalization`.
    """

    code = "BN001"
    name = "missing-batchnorm"
    summary = "Hidden conv/dense layer that no BatchNormalization normalises, in a model that uses BN"
    fix = "unsafe"
    options = {
        "require-batchnorm": Option(
            False, "report unnormalised hidden conv/dense layers in every model, even one without BN"
        ),
        "require-own-batchnorm": Option(
            False, "a BN that normalises one layer's output does not also count for the next layer's input"
        ),
        "insert": Option(
            {}, "[tool.bnlint.insert]: epsilon, momentum, center, scale, zero-gamma-residual of inserted BN layers",
            validate=_insert_problem,
        ),
    }

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        uses_bn = any(_is_batchnorm(layer) for _, layer in graph.layers())
        if not uses_bn and self.settings["require-batchnorm"] is not True:
            return
        features_normalised: bool | None = None  # (worked out at the first finding)
        main: set[int] | None = None  # the nodes on the main path (likewise)
        own = self.settings["require-own-batchnorm"] is True
        reason = "while this model uses BatchNormalization elsewhere" if uses_bn else "and `require-batchnorm` is set"
        for node, layer in graph.layers():
            if layer.kind not in _CHECKED:
                continue
            if _normalised_after(graph, node) or _normalised_before(graph, node, own):
                continue
            if _normalised_with_next(graph, node):
                continue
            if _is_output_head(graph, node) or _in_plain_classifier(graph, node):
                continue
            if _on_gating_branch(graph, node) or _is_scaled_residual(graph, node) is not False:
                continue
            if _in_linear_head(graph, node):
                continue
            if main is None:
                main = _on_main_path(graph)
            if _in_gate(graph, node, main) or _input_layer_left_unnormalised(graph, node):
                continue
            if features_normalised is None:
                features_normalised = uses_bn and _normalises_features(graph, main)
                if not features_normalised and self.settings["require-batchnorm"] is not True:
                    return
                if not features_normalised:
                    reason = "and `require-batchnorm` is set"
            yield Violation(
                node,
                f"`{layer.class_name}` output is not normalised before the next weight layer, {reason}; "
                "add a BatchNormalization after it",
                fix=_insert_batchnorm(graph, node, self.settings["insert"]),
            )

    VALID = [
        """
import keras
from keras import layers

def inception_module(x, filters=32):
    bottleneck = layers.Conv1D(32, 1, padding="same", use_bias=False)(x)  # linear, into three convs
    branches = [layers.Conv1D(filters, k, padding="same", use_bias=False)(bottleneck) for k in (10, 20, 40)]
    pooled = layers.Conv1D(filters, 1, padding="same", use_bias=False)(layers.MaxPooling1D(3, 1, "same")(x))
    x = layers.Concatenate()([*branches, pooled])
    return layers.ReLU()(layers.BatchNormalization()(x))

inputs = keras.Input((128, 3))
x = inception_module(inception_module(inputs))
model = keras.Model(inputs, layers.Dense(5, activation="softmax")(layers.GlobalAveragePooling1D()(x)))
""",
        # tf.keras' MobileNetV3 head: its "last point" 1x1 convolution after the global pooling, with
        # hard-swish written as x * hard_sigmoid(x), is part of a classifier without BN.
        """
import tensorflow as tf
from tensorflow.keras import layers

def hard_swish(x):
    return layers.Multiply()([x, layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)])

inputs = tf.keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, use_bias=False)(inputs)
x = hard_swish(layers.BatchNormalization()(x))
x = layers.GlobalAveragePooling2D(keepdims=True)(x)
x = hard_swish(layers.Conv2D(64, 1, use_bias=True)(x))
x = layers.Flatten()(layers.Conv2D(10, 1)(x))
model = tf.keras.Model(inputs, x)
""",
        """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input((32, 32, 3)),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.DepthwiseConv2D(3, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(64, 1, use_bias=False),   # pointwise: BN after it too
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.GlobalAveragePooling2D(),
    layers.Dense(10, activation="softmax"),  # the output head
])
""",
        """
import keras
from keras import layers

def preact_block(x, filters):
    p = layers.BatchNormalization()(x)
    p = layers.ReLU()(p)
    shortcut = layers.Conv2D(filters, 1)(p)          # BN before its input
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(p)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same")(y)  # the next block's BN follows the Add
    return layers.Add()([shortcut, y])

inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, padding="same")(inputs)
for _ in range(3):
    x = preact_block(x, 16)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10)(x))
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 16))
x = layers.Conv2D(64, 1, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Activation("swish")(x)
se = layers.GlobalAveragePooling2D(keepdims=True)(x)
se = layers.Conv2D(4, 1, activation="swish")(se)      # squeeze-and-excitation gate
se = layers.Conv2D(64, 1, activation="sigmoid")(se)
x = layers.Multiply()([x, se])
a = layers.Conv2D(16, 1, use_bias=False)(x)
a = layers.BatchNormalization()(a)
b = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
b = layers.BatchNormalization()(b)
mixed = layers.Concatenate()([a, b])
up = layers.Conv2D(16, 1)(mixed)                       # linear, scaled into the residual
x = layers.Lambda(lambda t: t[0] + 0.2 * t[1])([inputs, up])
x = layers.ReLU()(x)
x = layers.Conv2D(32, 3, use_bias=False)(x)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""",
        """
from keras import layers, Sequential
model = Sequential([                 # no BN anywhere: nothing to be consistent with
    layers.Input((32, 32, 3)),
    layers.Conv2D(32, 3, activation="relu"),
    layers.Conv2D(32, 3, activation="relu"),
    layers.Flatten(),
    layers.Dense(10),
])
""",
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),   # a classifier without BN, as in VGG-BN
    layers.Dropout(0.5),
    layers.Dense(256, activation="relu"),
    layers.Dropout(0.5),
    layers.Dense(10),
])
""",
        (
            """
from keras import layers, Sequential
model = Sequential([
    layers.Input((16, 64)),
    layers.Dense(64),
    layers.LayerNormalization(),   # another normalisation counts too
    layers.ReLU(),
    layers.Dense(2),
])
""",
            {"require-batchnorm": True},
        ),
        # A pre-activation residual block written as a layer (TF Model Garden's MaxViT MBConv): the
        # projection and the shortcut end the block; the next block's BN normalises their sum.
        """
import keras
from keras import layers


class PreActBlock(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = layers.BatchNormalization()
        self.conv = layers.Conv2D(16, 3, padding="same", use_bias=False)
        self.norm2 = layers.BatchNormalization()
        self.proj = layers.Conv2D(16, 1)
        self.shortcut = layers.Conv2D(16, 1)

    def call(self, x):
        y = self.conv(keras.ops.relu(self.norm(x)))
        y = self.proj(keras.ops.relu(self.norm2(y)))
        return self.shortcut(x) + y
""",
        """
import keras
from keras import layers

def attention_gate(skip, gating, filters):
    g = layers.BatchNormalization()(layers.Conv2D(filters, 1)(gating))
    s = layers.BatchNormalization()(layers.Conv2D(filters, 1)(skip))
    a = layers.Conv2D(1, 1)(layers.ReLU()(g + s))
    a = layers.Activation("sigmoid")(layers.BatchNormalization()(a))
    return skip * a                      # the model's only BNs are inside its gates

inputs = keras.Input((64, 64, 1))
c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
p1 = layers.MaxPooling2D()(c1)
c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
u1 = layers.Conv2D(16, 3, padding="same", activation="relu")(layers.UpSampling2D()(c2))
m = layers.Concatenate()([attention_gate(c1, u1, 16), u1])
c3 = layers.Conv2D(16, 3, padding="same", activation="relu")(m)
model = keras.Model(inputs, layers.Conv2D(1, 1, activation="sigmoid")(c3))
""",
        """
import keras
from keras import layers
inputs = keras.Input((20,))
x = layers.BatchNormalization()(inputs)   # scales the raw features, like a Normalization layer
x = layers.Dense(64, activation="relu")(x)
x = layers.Dense(64, activation="relu")(x)
model = keras.Model(inputs, layers.Dense(1)(x))
""",
        """
import keras
from keras import layers

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    return layers.ReLU()(layers.BatchNormalization()(x))

inputs = keras.Input((64, 64, 3))
f1 = layers.MaxPooling2D()(conv_bn(inputs, 16))
f2 = layers.MaxPooling2D()(conv_bn(f1, 32))
# FCN's decoder: 1x1 score layers, learned up-sampling and sums of score maps, all linear
score2 = layers.Conv2DTranspose(5, 4, strides=2, padding="same", use_bias=False)(layers.Conv2D(5, 1)(f2))
scores = layers.Add()([score2, layers.Conv2D(5, 1)(f1)])
scores = layers.Conv2DTranspose(5, 4, strides=2, padding="same", use_bias=False)(scores)
model = keras.Model(inputs, layers.Softmax()(scores))
""",
        # nobrainer's attention U-Net: the gate's convolutions compute attention weights (sigmoid,
        # brought back to the skip tensor's size, X * gate), not features.
        """
import keras
from keras import layers

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    return layers.ReLU()(layers.BatchNormalization()(x))

def attention_gate(x, g, filters):
    theta = layers.Conv2D(filters, 2, strides=2, padding="same")(x)
    phi = layers.Conv2D(filters, 1, padding="same")(g)
    psi = layers.Conv2D(1, 1, padding="same")(layers.ReLU()(layers.add([theta, phi])))
    psi = layers.UpSampling2D()(layers.Activation("sigmoid")(psi))
    psi = layers.Lambda(lambda t: keras.ops.repeat(t, filters, axis=-1))(psi)
    return layers.multiply([psi, x])

inputs = keras.Input((64, 64, 3))
c1 = conv_bn(inputs, 16)
c2 = conv_bn(layers.MaxPooling2D()(c1), 32)
u1 = layers.Concatenate()([layers.UpSampling2D()(c2), attention_gate(c1, c2, 16)])
model = keras.Model(inputs, layers.Conv2D(1, 1, activation="sigmoid")(conv_bn(u1, 16)))
""",
        # DCGAN's discriminator: no BN on the input layer (Radford et al.), one sigmoid unit out.
        """
import keras
from keras import layers
image = keras.Input((64, 64, 3))
x = layers.LeakyReLU(0.2)(layers.Conv2D(64, 4, strides=2, padding="same")(image))
x = layers.Conv2D(128, 4, strides=2, padding="same", use_bias=False)(x)
x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
x = layers.Conv2D(256, 4, strides=2, padding="same", use_bias=False)(x)
x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
discriminator = keras.Model(image, layers.Dense(1, activation="sigmoid")(layers.Flatten()(x)))
""",
        # An image-to-image generator (SRGAN): its first convolution has no BN, its output is tanh.
        """
import keras
from keras import layers
low = keras.Input((24, 24, 3))
x = features = layers.PReLU(shared_axes=[1, 2])(layers.Conv2D(64, 9, padding="same")(low))
y = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
y = layers.PReLU(shared_axes=[1, 2])(layers.BatchNormalization()(y))
y = layers.BatchNormalization()(layers.Conv2D(64, 3, padding="same", use_bias=False)(y))
x = layers.UpSampling2D()(layers.Add()([features, y]))
generator = keras.Model(low, layers.Conv2D(3, 9, padding="same", activation="tanh")(x))
""",
        # DnCNN (Zhang et al.): the first Conv+ReLU has no BN; the net predicts the noise it subtracts.
        """
import keras
from keras import layers
noisy = keras.Input((None, None, 1))
x = layers.Conv2D(64, 3, padding="same", activation="relu")(noisy)
for _ in range(15):
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
noise = layers.Conv2D(1, 3, padding="same")(x)
model = keras.Model(noisy, layers.Subtract()([noisy, noise]))
""",
        # A classifier without BN after global average and max pooling concatenated, and after the
        # max-pooled branches of a text CNN (Kim, 2014): its hidden Dense is the classifier's.
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(16, 3, use_bias=False)(inputs)))
x = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
x = layers.Dropout(0.5)(layers.Dense(128, activation="relu")(x))
model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""",
        """
import keras
from keras import layers, ops
inputs = keras.Input((32, 32, 3))
x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(16, 3, use_bias=False)(inputs)))
x = ops.concatenate([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)], axis=-1)
x = layers.Dropout(0.5)(layers.Dense(128, activation="relu")(x))
model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""",
        """
import keras
from keras import layers
inputs = keras.Input((100,), dtype="int32")
emb = layers.Embedding(5000, 64)(inputs)
pooled = []
for k in (3, 4, 5):
    c = layers.ReLU()(layers.BatchNormalization()(layers.Conv1D(32, k, use_bias=False)(emb)))
    pooled.append(layers.GlobalMaxPooling1D()(c))
x = layers.Dropout(0.5)(layers.Dense(64, activation="relu")(layers.concatenate(pooled)))
model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
""",
    ]

    INVALID = [
        # Of a residual-learning denoiser, only the first convolution is left without BN on purpose;
        # and a residual on features, not on the model input, makes no restoration net.
        """
import keras
from keras import layers
noisy = keras.Input((None, None, 1))
x = layers.Conv2D(64, 3, padding="same", activation="relu")(noisy)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)  # expect: BN001
x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
x = layers.Activation("relu")(layers.BatchNormalization()(x))
model = keras.Model(noisy, layers.Subtract()([noisy, layers.Conv2D(1, 3, padding="same")(x)]))

image = keras.Input((32, 32, 3))
f = layers.Conv2D(32, 3, padding="same", activation="relu")(image)  # expect: BN001
y = layers.Conv2D(32, 3, padding="same", use_bias=False)(f)
y = layers.Activation("relu")(layers.BatchNormalization()(y))
sharpened = keras.Model(image, layers.Conv2D(3, 1)(layers.Add()([f, y])))
""",
        # A classifier's stem is no GAN input layer, LeakyReLU or not.
        """
import keras
from keras import layers
inputs = keras.Input((64, 64, 3))
x = layers.Conv2D(32, 3, padding="same")(inputs)  # expect: BN001
x = layers.LeakyReLU(0.2)(x)
x = layers.Conv2D(64, 3, strides=2, padding="same", use_bias=False)(x)
x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""",
        # A network computing a mask for its input (spleeter, speech enhancement) computes features:
        # its sigmoid output multiplies a model input, which is no attention gate.
        """
import keras
from keras import layers
spectrogram = keras.Input((512, 128, 2))
x = layers.Conv2D(16, 5, padding="same", use_bias=False)(spectrogram)
x = layers.LeakyReLU()(layers.BatchNormalization()(x))
x = layers.Conv2D(16, 5, padding="same", activation="relu")(x)  # (its input is normalised)
x = layers.Conv2D(16, 5, padding="same", activation="relu")(x)  # expect: BN001
mask = layers.Conv2D(2, 5, padding="same", activation="sigmoid")(x)
model = keras.Model(spectrogram, layers.Multiply()([mask, spectrogram]))
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
x = layers.ReLU()(layers.BatchNormalization()(x))
a = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
y = layers.Conv2D(16, 3, padding="same")(a)  # expect: BN001
x = layers.Add()([a, y])                      # linear up to the output, but a residual block
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""",
        """
import keras
from keras import layers
inputs = keras.Input((20,))
x = layers.Dense(64, activation="relu")(inputs)  # expect: BN001
x = layers.Dense(64, use_bias=False)(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
model = keras.Model(inputs, layers.Dense(1)(x))
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(32, 3, activation="relu")(inputs)  # expect: BN001
x = layers.Conv2D(64, 3, use_bias=False)(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
model = keras.Model(inputs, x)
""",
        """
import keras
from keras import layers

def conv_block(x, filters, norm):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=not norm)(x)  # expect: BN001
    if norm:
        x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.MaxPooling2D()(x)

inputs = keras.Input((64, 64, 3))
x = inputs
for filters, norm in [(16, True), (32, True), (64, False), (64, False)]:
    x = conv_block(x, filters, norm)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10)(x))
""",
        """
import keras
from keras import layers

class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv1 = layers.Conv2D(16, 3, use_bias=False)
        self.bn1 = layers.BatchNormalization()
        self.conv2 = layers.Conv2D(16, 3)
        self.conv3 = layers.Conv2D(16, 3)  # expect: BN001
        self.pool = layers.GlobalAveragePooling2D()
        self.head = layers.Dense(10)

    def call(self, x):
        x = keras.ops.relu(self.bn1(self.conv1(x)))
        x = keras.ops.relu(self.conv2(x))   # pre-activated by bn1
        x = keras.ops.relu(self.conv3(x))   # nothing normalises this one
        return self.head(self.pool(x))
""",
        """
from keras.models import Sequential
from keras.layers import Dense, BatchNormalization, Activation, Input
model = Sequential()
model.add(Input((20,)))
model.add(Dense(64, use_bias=False))
model.add(BatchNormalization())
model.add(Activation("relu"))
model.add(Dense(64, activation="relu"))
model.add(Dense(32, activation="relu"))  # expect: BN001
model.add(Dense(1, activation="sigmoid"))
""",
        (
            """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(32, 3, activation="relu"),  # expect: BN001
    layers.Conv2D(32, 3, activation="relu"),  # expect: BN001
    layers.GlobalAveragePooling2D(),
    layers.Dense(10),
])
""",
            {"require-batchnorm": True},
        ),
        (
            """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(32, 3),  # expect: BN001
    layers.ReLU(),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
])
""",
            {"require-own-batchnorm": True},
        ),
    ]
