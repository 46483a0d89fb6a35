"""BN004 redundant-bias."""

from __future__ import annotations

from bnlint import kinds
from bnlint.diagnostics import Applicability, Fix, SetArgument, Violation
from bnlint.graph import ModelGraph, Site
from bnlint.layout import single_axis
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

# A flattened or globally pooled tensor has shape (batch, features).
_RANK2_AXES = frozenset({-1, 1})


def _only_batchnorm_after(graph: ModelGraph, node: int, axes: frozenset[int]) -> list[int] | None:
    """The centring BNs that the uses of *node*'s output end in, when every use ends in one; else None."""
    found: list[int] = []
    stack = [(node, axes)]
    while stack:
        current, current_axes = stack.pop()
        if graph.is_output(current):
            return None
        consumers = graph.successors(current)
        if not consumers:
            return None
        for consumer in consumers:
            layer = graph.layer(consumer)
            if layer.kind == "batchnorm":
                if not _on_axes(layer.get("axis"), current_axes):  # (`center=False` cancels it too: see the doc)
                    return None
                found.append(consumer)
            elif layer.class_name == "Flatten" or layer.class_name.startswith("Global"):
                if layer.get("keepdims", False) is not False:
                    return None
                stack.append((consumer, _RANK2_AXES))
            elif layer.kind == "pool" or layer.class_name == "Identity" or (
                    layer.kind == "activation" and layer.get("activation", None) == "linear"):
                stack.append((consumer, current_axes))  # (`Activation("linear")`, `Identity`: nothing between)
            else:
                return None
    return found or None


def _on_axes(axis: object, axes: frozenset[int]) -> bool:
    return single_axis(axis) in axes


class RedundantBias(Rule):
    """
    ## What it does
    Finds convolution and dense layers with a bias (`use_bias=True`, the
    Keras default) whose output goes only into a `BatchNormalization` on
    the layer's channel axis, with nothing nonlinear in
    between (pooling and `Flatten` may sit between: they commute with a
    per-channel constant; so may `Identity` and `Activation("linear")`).

    ## Why is this bad?
    BN subtracts the per-channel batch mean, which removes any per-channel
    constant the layer added, and then adds its own learned offset `beta`.
    The bias receives zero gradient: it costs parameters, memory and a
    kernel launch, and does nothing. The BN paper notes the bias "can be
    ignored" for this reason. This holds with `center=False` too: that
    only drops `beta`, and the mean is still subtracted (in inference the
    moving mean has tracked the bias along with the rest).

    Not reported when a nonlinearity sits between (a fused
    `activation="relu"`, an activation layer, dropout), when the layer's
    output is also used elsewhere (a residual connection), or when the BN
    normalises a different axis: in each case the bias does change the
    result.

    ## Example
    ```python
    x = layers.Conv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Use instead
    ```python
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Fix safety
    Safe: `--fix` sets `use_bias=False` on the layer. The model computes the
    same function and trains the same way (the bias had zero gradient), but
    checkpoints and saved weights that include the bias no longer load into
    the changed model: re-save them, or fold the bias into the BN's moving
    mean (`moving_mean -= bias`) when converting.

    ## Options
    None.

    ## References
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015, section 3.2.
    - Keras documentation, `keras.layers.BatchNormalization`.
    """

    code = "BN004"
    name = "redundant-bias"
    summary = "Bias of a conv/dense layer is cancelled by the BatchNormalization after it"
    fix = "safe"

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        found: dict[int, list[tuple[int, str | None]]] = {}  # layer id -> (node, the BN after it) per call
        for node, layer in graph.layers():
            if layer.kind not in ("conv", "dense") or layer.get("use_bias") is not True:
                continue
            if layer.class_name.startswith("LocallyConnected"):
                continue  # a bias per position: BN removes only its mean
            if layer.get("activation") != "linear":
                continue
            axes = kinds.channel_axes(layer.class_name, layer.config)
            if axes is None:
                continue
            found.setdefault(layer.layer_id, []).append((node, _only_batchnorm_after(graph, node, axes)))
        for calls in found.values():
            if any(bn is None for _, bn in calls):
                continue  # a shared layer applied where no BN follows too: its bias acts there
            for node, bns in calls:
                layer = graph.layer(node)
                fix = Fix(
                    "set `use_bias=False`",
                    Applicability.SAFE,
                    (SetArgument(layer.origin, layer.constructor, "use_bias", False, follow=True),),
                    context=tuple(graph.layer(bn).origin for bn in bns if isinstance(graph.layer(bn).origin, Site)),
                ) if isinstance(layer.origin, Site) else None
                yield Violation(
                    node,
                    f"the bias of `{layer.class_name}` is cancelled by the `{graph.layer(bns[-1]).class_name}` "
                    "after it; set `use_bias=False`",
                    fix=fix,
                )


    VALID = [
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(8, 3, use_bias=False),
    layers.BatchNormalization(),
])
""",
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(8, 3, activation="relu"),  # the bias acts before the ReLU
    layers.BatchNormalization(),
])
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 8))
x = layers.Conv2D(8, 3, padding="same")(inputs)
y = layers.BatchNormalization()(x)
out = layers.Add()([x, y])   # the raw conv output, bias included, is used here too
model = keras.Model(inputs, out)
""",
        """
import keras
from keras import layers
conv = layers.Conv2D(8, 3, padding="same")   # one layer, two calls: its bias acts on the second
a, b = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
model = keras.Model([a, b], [layers.BatchNormalization()(conv(a)), layers.ReLU()(conv(b))])
""",
    ]
    INVALID = [
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((16,)),
    layers.Dense(8),  # expect: BN004
    layers.BatchNormalization(center=False),  # the mean is still subtracted
])
""",
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(8, 3),  # expect: BN004
    layers.BatchNormalization(),
    layers.ReLU(),
])
""",
        """
import tensorflow as tf
inputs = tf.keras.Input((16,))
x = tf.keras.layers.Dense(32, use_bias=True)(inputs)  # expect: BN004
x = tf.keras.layers.BatchNormalization()(x)
model = tf.keras.Model(inputs=inputs, outputs=x)
""",
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(8, 3),  # expect: BN004
    layers.Activation("linear"),
    layers.Identity(),
    layers.BatchNormalization(),
])
""",
        """
from tensorflow.keras.layers import Conv2D as C, BatchNormalization as BN, MaxPooling2D, Input
from tensorflow.keras.models import Model
inputs = Input((32, 32, 3))
x = C(16, 3)(inputs)  # expect: BN004
x = MaxPooling2D()(x)
x = BN()(x)
model = Model(inputs, x)
""",
    ]
