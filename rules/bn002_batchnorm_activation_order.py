"""BN002 batchnorm-activation-order."""

from __future__ import annotations

from bnlint import kinds
from bnlint.diagnostics import (
    NOT_A_CHAIN,
    Applicability,
    Fix,
    InsertLayer,
    MoveLayer,
    SetArgument,
    Violation,
)
from bnlint.graph import ModelGraph, Site
from bnlint.rule import Option, Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

_BEFORE = "before"
_AFTER = "after"

# Layers that neither compute nor undo an activation: the BN on one side of
# them sits next to the activation on the other side (conv -> ReLU ->
# MaxPooling2D -> BN is "after"; conv -> BN -> MaxPooling2D -> ReLU "before").
_TRANSPARENT = {"pool", "reshape", "dropout"}

# Squashing functions are output and gating functions, not hidden
# nonlinearities: the logits of a softmax and the input of a sigmoid gate are
# normalised whatever the model's convention, and a BN after the final
# softmax/sigmoid is BN005's finding. A BN next to one is not classified.
_SQUASHING = kinds.SQUASHING_ACTIVATIONS

OWN_FUNCTION = "the activation is a function of the code's own, which a fix cannot name as a Keras activation"
#: Why a BN next to ``x = mish(x)`` is not moved: the activation is a call, not a layer to move across.
APPLIED_FUNCTION = "the activation is a call of a function of the code's own; move the BN across that call by hand"

# Answers of the one-sided tests below; _LINEAR is an identity activation.
_YES, _NO, _UNSURE, _LINEAR = "yes", "no", "unsure", "linear"


def _nonlinearity(graph: ModelGraph, node: int) -> str:
    """Whether *node* applies a hidden nonlinearity (its own or a fused ``activation=``).

    ``_YES`` for ReLU-like activations; ``_LINEAR`` for ``Activation("linear")``
    (an identity to look through); ``_UNSURE`` when the activation is not
    statically known; ``_NO`` for everything else, squashing functions
    included.
    """
    layer = graph.layer(node)
    if layer.kind not in ("activation", "conv", "dense"):
        return _NO
    name = kinds.applied_activation(layer)  # (ReLU, LeakyReLU, Softmax ...: the class is the activation)
    if name == "linear":
        return _LINEAR if layer.kind == "activation" else _NO
    if not isinstance(name, str):
        return _UNSURE
    if name in _SQUASHING:
        return _NO
    return _YES


def _activated_input(graph: ModelGraph, node: int, memo: dict[int, tuple[str, int | None]]) -> tuple[str, int | None]:
    """Whether *node*'s output is an activation's output, and which node applied it.

    Returns ``(answer, source)``: *source* is the activation layer or the
    conv/dense layer with a fused ``activation=``, when one node explains the
    answer ``_YES`` (a ``Concatenate`` of several activated branches has none).
    Looks back through pooling, reshaping, dropout and ``Activation("linear")``,
    and through ``Concatenate`` when every input is activated. An ``Add`` is a
    new pre-activation (ResNetV2's pre-activation BN reads one), so it stops
    the search.
    """
    if node in memo:
        return memo[node]
    memo[node] = (_NO, None)  # a model graph has no cycles; guard anyway
    layer = graph.layer(node)
    preds = graph.predecessors(node)
    answer: tuple[str, int | None] = (_NO, None)
    if layer.applies is not None:  # the last op of `x = mish(x)`
        answer = (_YES, node)
    elif layer.kind in ("activation", "conv", "dense"):
        found = _nonlinearity(graph, node)
        if found == _LINEAR:
            answer = _activated_input(graph, preds[0], memo) if len(preds) == 1 else (_NO, None)
        else:
            answer = (found, node if found == _YES else None)
    elif layer.kind in _TRANSPARENT and len(preds) == 1:
        answer = _activated_input(graph, preds[0], memo)
    elif layer.class_name == "Concatenate" and preds:
        # Inputs that answer without looking further back go first, so that a
        # DenseNet chain of concatenations stops at its conv input.
        recursive = _TRANSPARENT | {"activation", "merge"}
        ordered = sorted(preds, key=lambda pred: graph.layer(pred).kind in recursive)
        answer = (_YES, None)
        for pred in ordered:
            found = _activated_input(graph, pred, memo)[0]
            if found == _NO:
                answer = (_NO, None)
                break
            if found == _UNSURE:
                answer = (_UNSURE, None)
    memo[node] = answer
    return answer


def _feeds_activation(graph: ModelGraph, node: int) -> tuple[str, int | None]:
    """Whether *node*'s output reaches an activation through transparent layers only.

    Returns ``(answer, activation node)``. One such path is enough: a BN whose
    output goes to a ReLU and also to a shortcut still normalises the
    activation's input.
    """
    answer: tuple[str, int | None] = (_NO, None)
    stack = [node]
    seen = {node}
    while stack:
        for succ in graph.successors(stack.pop()):
            if succ in seen:
                continue
            seen.add(succ)
            if graph.layer(succ).applies is not None:  # `x = swish(x)`: the gate's multiply reads x
                return (_YES, succ)
            if graph.layer(succ).kind in _TRANSPARENT:
                stack.append(succ)
            elif graph.layer(succ).kind == "activation":
                found = _nonlinearity(graph, succ)
                if found == _YES:
                    return (_YES, succ)
                if found == _LINEAR:
                    stack.append(succ)
                elif found == _UNSURE:
                    answer = (_UNSURE, None)
    return answer


#: Why a BN is not moved across a `Flatten`, a global pooling or a reshape.
RESHAPED = ("a `Flatten`, global pooling or reshape lies between the BN and where it would go, "
            "where its `axis` would name another dimension")


def _reshaped_between(graph: ModelGraph, start: int, end: int) -> bool:
    """Whether a layer on the chain from *start* to *end* (both left out) changes the tensor's dimensions."""
    node = graph.successors(start)[0]
    while node != end:
        layer = graph.layer(node)
        if layer.kind == "reshape" or layer.class_name == "Flatten" or layer.class_name.startswith("Global"):
            return True
        node = graph.successors(node)[0]
    return False


def _reorder(graph: ModelGraph, bn: int, after: int) -> Fix | None:
    """Move the BN, unchanged, to right after *after* (the activation, or the layer before it).

    A BN moved past its activation no longer cancels the bias of the conv or dense layer before
    it: a `use_bias=False` there is set back to `True` (optional), or the layer would keep no shift
    before its activation. (The other way, BN004 then reports the bias the BN now cancels.)
    """
    sites = (graph.layer(bn).origin, graph.layer(after).origin)
    if not all(isinstance(site, Site) for site in sites):
        return None
    intents: tuple = (MoveLayer(sites[0], after=sites[1]),)
    producers = graph.predecessors(bn)
    if len(producers) == 1 and producers[0] != after:
        producer = graph.layer(producers[0])
        if producer.kind in ("conv", "dense") and producer.get("use_bias") is False and (
                producer.get("activation") == "linear") and isinstance(producer.origin, Site):
            intents += (SetArgument(producer.origin, producer.constructor, "use_bias", True, follow=True,
                                    optional=True),)
    return Fix("move the BN across its activation", Applicability.UNSAFE, intents)


def _split(graph: ModelGraph, fused: int, bn: int) -> Fix | None:
    """``activation=None`` on the layer, and its activation applied as a layer after the BN."""
    layer, norm = graph.layer(fused), graph.layer(bn)
    activation = layer.get("activation")
    if not isinstance(layer.origin, Site) or not isinstance(norm.origin, Site) or not isinstance(activation, str):
        return None
    intents = (
        SetArgument(layer.origin, layer.constructor, "activation", None),
        InsertLayer(norm.origin, "Activation", (("activation", activation),)),
    )
    return Fix("move the fused activation after the BN", Applicability.UNSAFE, intents)


def _classify(graph: ModelGraph, bn: int, memo: dict | None = None) -> tuple[str | None, int | None]:
    """The order of the BN call *bn* relative to its activation.

    Returns ``(_BEFORE, activation)`` when the BN's output feeds an activation
    and its input is not an activation's output; ``(_AFTER, source)`` when its
    input is an activation's output (*source* is the activation layer or the
    conv/dense with the fused activation, or None for a concatenation of
    activated branches) and its output feeds no activation; ``(None, None)``
    otherwise: no activation next to it, one on each side (fits either
    order), or an unknown value in the way.
    """
    memo = {} if memo is None else memo
    preds = graph.predecessors(bn)
    upstream = _activated_input(graph, preds[0], memo) if preds else (_NO, None)
    downstream = _feeds_activation(graph, bn)
    if _UNSURE in (upstream[0], downstream[0]):
        return None, None
    if upstream[0] == _YES and downstream[0] == _NO:
        if _on_identity_shortcut(graph, bn, upstream[1]):
            return None, None
        return _AFTER, upstream[1]
    if downstream[0] == _YES and upstream[0] == _NO:
        return _BEFORE, downstream[1]
    return None, None


def _is_sum(layer) -> bool:
    return layer.class_name == "Add" or (layer.kind == "op" and layer.class_name.rpartition(".")[2] == "add")


def _on_identity_shortcut(graph: ModelGraph, bn: int, activation: int | None) -> bool:
    """True when *bn* normalises a residual block's identity shortcut: its input is the activated sum
    of the block before, its only consumer the sum with this block's branch (the time-series ResNet
    of Wang et al., `y = BatchNormalization()(x)` then `add([y, branch])`). It stands next to no
    layer's activation, so it says nothing about the model's BN order. (A conv or dense layer with a
    fused activation between the sum and the BN is a block's branch, not a shortcut.)"""
    if activation is None or graph.layer(activation).kind in ("conv", "dense"):
        return False
    consumers = graph.successors(bn)
    if len(consumers) != 1 or not _is_sum(graph.layer(consumers[0])) or len(graph.predecessors(consumers[0])) < 2:
        return False
    producers = graph.predecessors(activation)
    return len(producers) == 1 and _is_sum(graph.layer(producers[0]))


def _tally(graph: ModelGraph, seen: set[int] | None = None,
           classified: dict | None = None) -> dict[str, set[tuple[int, int]]]:
    """The BN layers of *graph* and of the models nested in it, by order.

    Layers are counted once (a shared BN is one layer); keys are
    ``(id of the graph, layer_id)`` so that nested models do not collide.
    *classified*, when given, receives what :func:`_classify` said of each
    BN node of *graph* itself (the check reports from it).
    """
    seen = set() if seen is None else seen
    classified = {} if classified is None else classified
    counts: dict[str, set[tuple[int, int]]] = {_BEFORE: set(), _AFTER: set()}
    if id(graph) in seen:
        return counts
    seen.add(id(graph))
    memo: dict = {}
    for node, layer in graph.layers():
        if layer.kind == "batchnorm":
            order, _ = classified[node] = _classify(graph, node, memo)
            if order is not None:
                counts[order].add((id(graph), layer.layer_id))
        elif layer.kind == "model" and layer.submodel is not None:
            inner = _tally(layer.submodel, seen)
            for key in counts:
                counts[key] |= inner[key]
    return counts


def _describe(graph: ModelGraph, node: int) -> str:
    layer = graph.layer(node)
    if layer.applies is not None:
        return f"`{layer.applies}` (a function of the code's own applied to the tensor)"
    return f"`{layer.class_name}` '{layer.name}'"


class BatchnormActivationOrder(Rule):
    """
    ## What it does
    Reports the `BatchNormalization` layers that sit on the other side of
    their activation than most BN layers of the same model (or than
    `bn-position` asks for). Every BN next to an activation is classified:

    - **before** the activation: its output feeds an activation (conv/dense
      -> BN -> ReLU, or a pre-activation BN such as ResNetV2's and
      DenseNet's, whose input is an `Add`, a `Concatenate`, a pooling layer
      or the model input and whose output goes to the ReLU);
    - **after** the activation: its input is an activation's output (conv
      -> ReLU -> BN, or `Conv2D(..., activation="relu")` -> BN, also with
      pooling, reshaping or dropout in between).

    Activations are hidden nonlinearities: activation layers (`ReLU`,
    `Activation("relu")`, `LeakyReLU`, ...), activation functions applied
    to tensors (`keras.ops.relu(x)`) and fused `activation=` arguments,
    including functions of the code's own that apply one (`activation=swish`
    with `def swish(x): return x * sigmoid(x)`), `Lambda` layers and layer
    classes of the code's own that apply one, and such functions called on
    a tensor (`x = swish(x)`; see the README).
    `Activation("linear")` is looked through. Squashing functions
    (softmax, sigmoid, hard sigmoid, ...) are output and gating functions,
    not counted: a BN before the final softmax or a sigmoid gate is where
    it belongs in either convention, and a BN after the final
    softmax/sigmoid is BN005's finding.

    Not classified, so never reported: a BN with no activation next to it
    (before an `Add` in a residual branch, after a linear projection, the
    last layer); a BN with an activation on both sides (ReLU -> pooling ->
    BN -> ReLU, DenseNet's first block), which fits both orders; a BN next
    to an activation that is not statically known.

    With the default `bn-position = "consistent"` it reports the BN layers
    whose order differs from the order most BN layers of the same model use
    (nested models count towards the model that contains them). On a tie it
    reports nothing: there is no convention to point to.

    ## Why is this bad?
    The two orders are different models: BN before the activation
    normalises the activation's input, as the BN paper proposes; BN after it
    normalises the activation's output, which many practitioners prefer.
    Both train, and the literature disagrees on which is better. A model
    that mixes them, though, is almost always a copy-paste accident (a head
    written in another style, one block edited by hand), and the odd layers
    behave differently from the rest: a ReLU after BN sees zero-mean inputs
    and zeroes half of them; a BN after ReLU sees non-negative inputs.

    ## Example
    ```python
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(128, activation="relu")(x)  # BN002: activation before BN
    x = layers.BatchNormalization()(x)
    ```

    ## Use instead
    ```python
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    ```

    When the activation that precedes the BN is fused into a conv or dense
    layer (`activation="relu"`), the finding is reported at that layer: its
    `activation=` argument is what puts the activation first, and the fix
    is to remove it there and apply the activation after the BN. Otherwise
    the finding is reported at the `BatchNormalization`.

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the fix reorders to the configured
    policy — it moves the BN across its activation layer, or splits a fused
    activation (`Conv2D(..., activation="relu")` becomes `Conv2D(...,
    activation=None)`, the BN, then an `Activation("relu")` spelled like the
    file's other layers). Offered only where the layers between form a
    plain chain that keeps the tensor's dimensions: not across a `Flatten`,
    a global pooling or a reshape, where the BN's `axis` would name another
    dimension. It changes what the model computes; trained weights do not
    carry over.

    ## Options
    - `bn-position` (default `"consistent"`): `"consistent"` reports BN
      layers whose order differs from the majority of their model;
      `"before-activation"` reports every BN placed after its activation;
      `"after-activation"` reports every BN placed before its activation.

    ## References
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015, section 3.2
      ("we add the BN transform immediately before the nonlinearity").
    - K. He, X. Zhang, S. Ren, J. Sun, "Identity Mappings in Deep Residual
      Networks", ECCV 2016 (pre-activation: BN -> ReLU -> conv).
    - G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely
      Connected Convolutional Networks", CVPR 2017 (BN -> ReLU -> conv).
    - D. Mishkin, N. Sergievskiy, J. Matas, "Systematic evaluation of
      convolution neural network advances on the ImageNet", CVIU 2017
      (compares BN before and after the activation).
    - Keras documentation, `keras.layers.BatchNormalization`.
    """

    code = "BN002"
    name = "batchnorm-activation-order"
    summary = "BatchNormalization on the other side of its activation than the model's convention"
    fix = "unsafe"
    options = {
        "bn-position": Option(
            "consistent",
            "where BN goes relative to its activation: the model's majority, or always before/after",
            ("consistent", "before-activation", "after-activation"),
        ),
    }

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        position = self.settings["bn-position"]
        classified: dict = {}
        if position == "consistent":
            counts = _tally(graph, classified=classified)
            before, after = len(counts[_BEFORE]), len(counts[_AFTER])
            if before == after:
                return  # no majority: either half would be an arbitrary pick
            wrong = _AFTER if before > after else _BEFORE
            reason = (
                f"while {max(before, after)} of the {before + after} BN layers next to an activation "
                f"in this model come {'before' if wrong == _AFTER else 'after'} theirs"
            )
        else:
            wrong = _AFTER if position == "before-activation" else _BEFORE
            reason = f'while `bn-position = "{position}"` asks for BN {"before" if wrong == _AFTER else "after"} it'
        memo: dict = {}
        for node, layer in graph.layers():
            if layer.kind != "batchnorm":
                continue
            order, other = classified[node] if node in classified else _classify(graph, node, memo)
            if order != wrong:
                continue
            if order == _BEFORE:
                chain = graph.is_chain(node, other)
                reshaped = chain and _reshaped_between(graph, node, other)
                yield Violation(
                    node, f"`{layer.class_name}` comes before the activation {_describe(graph, other)} {reason}",
                    fix=_reorder(graph, node, after=other) if chain and not reshaped else None,
                    unfixable=None if chain and not reshaped else RESHAPED if reshaped
                    else APPLIED_FUNCTION if graph.layer(other).applies else NOT_A_CHAIN,
                )
            elif other is not None and graph.layer(other).kind in ("conv", "dense"):
                # The fused activation="..." is the text that puts the activation
                # first, and the call a fix edits; the BN call has nothing to change.
                fused = graph.layer(other)
                chain = graph.is_chain(other, node)
                own = kinds.is_own_function(fused.get("activation"))
                yield Violation(
                    other,
                    f"`{fused.class_name}` applies activation={fused.get('activation')!r} before the "
                    f"{_describe(graph, node)} that follows it, {reason}; "
                    "remove `activation=` here and apply the activation after the BN",
                    fix=_split(graph, other, node) if chain and not own else None,
                    unfixable=NOT_A_CHAIN if not chain else OWN_FUNCTION if own else None,
                )
            else:
                activation = (
                    "the activations of the branches its `Concatenate` joins" if other is None
                    else f"the activation {_describe(graph, other)}"
                )
                producers = graph.predecessors(other) if other is not None else []
                fix = unfixable = None
                if other is None:
                    unfixable = "the activations are on the branches its input joins: no one activation to cross"
                elif graph.layer(other).applies is not None:
                    unfixable = APPLIED_FUNCTION
                elif len(producers) == 1 and graph.is_chain(producers[0], node):
                    if _reshaped_between(graph, producers[0], node):
                        unfixable = RESHAPED
                    else:
                        fix = _reorder(graph, node, after=producers[0])
                else:
                    unfixable = NOT_A_CHAIN
                yield Violation(
                    node, f"`{layer.class_name}` comes after {activation} {reason}", fix=fix, unfixable=unfixable
                )

    VALID = [
        """
import keras
from keras import layers

def block(x, filters):
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv1D(filters, 8, padding="same")(x)))
    y = layers.BatchNormalization()(layers.Conv1D(filters, 3, padding="same")(y))
    shortcut = layers.BatchNormalization()(x)   # the identity shortcut, normalised for the sum
    return layers.Activation("relu")(layers.add([shortcut, y]))

inputs = keras.Input((128, 16))
x = block(block(inputs, 16), 16)
model = keras.Model(inputs, layers.GlobalAveragePooling1D()(x))
""",
        # ResNetV2-style pre-activation: the BN reads an Add and feeds a ReLU,
        # which is "before", the same as conv -> BN -> ReLU.
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 16))
x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.Conv2D(16, 3, padding="same")(x)
x = layers.Add()([x, inputs])
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
model = keras.Model(inputs, x)
""",
        # The BN before the Add and the BN of the linear projection have no
        # activation next to them: not classified.
        """
from keras import layers, Model, Input
inputs = Input((32, 32, 8))
y = layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
y = layers.BatchNormalization()(y)
y = layers.Activation("relu")(y)
y = layers.Conv2D(8, 3, padding="same", use_bias=False)(y)
y = layers.BatchNormalization()(y)
out = layers.Add()([y, inputs])
out = layers.Dense(4, use_bias=False)(out)
out = layers.BatchNormalization()(out)
model = Model(inputs, out)
""",
        # Consistently after the activation, with a fused activation and an
        # activation layer; Activation("linear") is no activation.
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((28, 28, 1)),
    layers.Conv2D(32, 3, activation="relu"),
    layers.BatchNormalization(),
    layers.Conv2D(32, 3),
    layers.ReLU(),
    layers.MaxPooling2D(),
    layers.BatchNormalization(),
    layers.Flatten(),
    layers.Dense(10),
    layers.BatchNormalization(),
    layers.Activation("linear"),
])
""",
        # Softmax and sigmoid are output and gating functions: the BN before
        # the softmax is where it belongs in an "after" model too.
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32,)),
    layers.Dense(64, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(64, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(10, use_bias=False),
    layers.BatchNormalization(),
    layers.Softmax(),
])
""",
        # A tie: one of each, no convention to point to.
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((16,)),
    layers.Dense(32, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dense(32, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(1),
])
""",
        # An activation on both sides fits either order.
        (
            """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(16, 3, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.MaxPooling2D(),
    layers.BatchNormalization(),
    layers.ReLU(),
])
""",
            {"bn-position": "before-activation"},
        ),
    ]
    INVALID = [
        # A residual block's branch with a fused activation: not an identity shortcut's BN.
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 16))
x = inputs
for _ in range(3):
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(16, 3, padding="same", use_bias=False)(x)))
    x = layers.Add()([x, y])
y = layers.Conv2D(16, 3, padding="same", activation="relu")(x)  # expect: BN002
x = layers.Add()([x, layers.BatchNormalization()(y)])
model = keras.Model(inputs, x)
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.Conv2D(16, 3, use_bias=False)(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(64)(x)
x = layers.ReLU()(x)
x = layers.BatchNormalization()(x)  # expect: BN002
model = keras.Model(inputs, x)
""",
        # A fused activation is reported at the layer that fuses it.
        """
import tensorflow as tf
model = tf.keras.Sequential([
    tf.keras.layers.Input((64,)),
    tf.keras.layers.Dense(32, use_bias=False),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Activation("relu"),
    tf.keras.layers.Dense(32, use_bias=False),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Activation("relu"),
    tf.keras.layers.Dense(16, activation="relu"),  # expect: BN002
    tf.keras.layers.BatchNormalization(),
])
""",
        # The majority is "after": the odd one out is the BN before its ReLU.
        """
from keras.models import Sequential
from keras.layers import Conv2D, BatchNormalization, ReLU, MaxPooling2D, Input
model = Sequential()
model.add(Input((32, 32, 3)))
model.add(Conv2D(16, 3, activation="relu"))
model.add(BatchNormalization())
model.add(Conv2D(16, 3, activation="relu"))
model.add(BatchNormalization())
model.add(Conv2D(16, 3, use_bias=False))
model.add(BatchNormalization())  # expect: BN002
model.add(MaxPooling2D())
model.add(ReLU())
""",
        (
            """
from keras import layers, Sequential
model = Sequential([
    layers.Input((16,)),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(),  # expect: BN002
    layers.ReLU(),
])
""",
            {"bn-position": "after-activation"},
        ),
        (
            """
import keras
inputs = keras.Input((16,))
x = keras.layers.Dense(8)(inputs)
x = keras.ops.relu(x)
x = keras.layers.BatchNormalization()(x)  # expect: BN002
model = keras.Model(inputs, x)
""",
            {"bn-position": "before-activation"},
        ),
    ]
