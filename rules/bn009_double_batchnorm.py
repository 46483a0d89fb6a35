"""BN009 double-batchnorm."""

from __future__ import annotations

from bnlint.diagnostics import Applicability, Fix, RemoveLayer, Violation
from bnlint.graph import ModelGraph, Site
from bnlint.layout import input_layout, single_axis
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

# Layers that commute (nearly: dropout, padding) with a per-channel affine map.
_TRANSPARENT = {"pool", "reshape", "dropout"}
# How deep nested models are looked into.
_MAX_DEPTH = 8


def _normalisation_before(graph: ModelGraph, node: int, depth: int = 0) -> tuple[ModelGraph, int] | None:
    """The BN whose output reaches only *node*, through transparent layers, and its model: *graph*, or
    a model nested in it whose output that is (a block ending in its BN); else None."""
    producers = graph.predecessors(node)
    while len(producers) == 1:
        producer = producers[0]
        if len(graph.successors(producer)) > 1 or graph.is_output(producer):
            return None  # the first normalisation's output is used elsewhere too
        layer = graph.layer(producer)
        if layer.kind == "batchnorm":
            return graph, producer  # (not a LayerNormalization or GroupNormalization: see the doc)
        if layer.kind == "model" and layer.submodel is not None and depth < _MAX_DEPTH:
            inner = layer.submodel
            if len(inner.outputs) != 1 or len(inner.successors(inner.outputs[0])) > 0:
                return None
            end = inner.outputs[0]
            if inner.layer(end).kind == "batchnorm":
                return inner, end
            return _normalisation_before(inner, end, depth + 1) if inner.layer(end).kind in _TRANSPARENT else None
        if layer.kind not in _TRANSPARENT:
            return None
        producers = graph.predecessors(producer)
    return None


def _normalises_channels(graph: ModelGraph, node: int) -> bool:
    """Whether the BN *node* normalises the channel axis of its input (by its layout, when bnlint knows
    it; else only ``axis=-1``). A second BN on another axis (`axis=1` of a `(batch, steps, channels)`
    tensor) normalises other groups of values, and is not redundant."""
    axis = single_axis(graph.layer(node).get("axis", -1))
    layout = input_layout(graph, node)
    return axis is not None and (axis in layout if layout is not None else axis == -1)


class DoubleBatchnorm(Rule):
    """
    ## What it does
    Finds a `BatchNormalization` fed by another BN with nothing between
    them but pooling, reshaping (`Flatten`, padding, ...) or dropout; the
    first may end a nested model (a `Sequential` block whose last layer
    is its BN). Both must normalise the channels (the second after a
    `Flatten` its features): a BN on another axis normalises other groups
    of values. Not
    reported: a BN after `LayerNormalization`, `GroupNormalization`,
    `UnitNormalization` or `RMSNormalization`, which normalise each sample
    on its own, so their output's per-channel batch statistics are not 0
    and 1 and the BN after them changes it; an activation between
    them (it changes the distribution the second BN sees), a merge or an
    unknown tensor operation between them, and a first normalisation whose
    output is also used elsewhere (another branch, a model output): there
    the second BN gives its branch an affine map of its own.

    ## Why is this bad?
    The second BN subtracts the batch mean and divides by the batch standard
    deviation of a tensor that was just normalised. Pooling and reshaping
    commute with the first layer's per-channel affine map (max pooling when
    its scale is positive), so the second BN computes the same without the
    first: its normalisation, `gamma` and `beta` are wasted work and
    parameters, and at inference the pair is two affine maps in a row.
    Dropout (the identity at inference) and padding keep this nearly so.

    ## Example
    ```python
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Use instead
    Keep one normalisation, or put the activation the block was meant to have between them:
    ```python
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D()(x)
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the fix removes the second
    normalisation, reconnecting its input to its consumers. That changes a
    checkpoint's weights and how the model trains.

    ## Options
    None.

    ## References
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015, section 3.
    - Keras documentation, `keras.layers.BatchNormalization`.
    """

    code = "BN009"
    name = "double-batchnorm"
    summary = "BatchNormalization directly after another BatchNormalization"
    fix = "unsafe"

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        for node, layer in graph.layers():
            found = _normalisation_before(graph, node) if layer.kind == "batchnorm" else None
            if found is not None and not (_normalises_channels(*found) and _normalises_channels(graph, node)):
                found = None  # (one of them normalises another axis)
            if found is not None:
                model, first = found
                before = model.layer(first)
                where = "" if model is graph else f" of model '{model.name}'"
                fix = None
                if isinstance(layer.origin, Site):
                    fix = Fix("remove the second normalisation", Applicability.UNSAFE, (RemoveLayer(layer.origin),),
                              context=(before.origin,) if isinstance(before.origin, Site) else ())
                yield Violation(node, f"`{layer.class_name}` re-normalises the output of `{before.class_name}` "
                                f"'{before.name}'{where} with no activation between; keep one of them", fix=fix)

    VALID = [
        # The second BN normalises the steps, not the channels: other groups of values.
        """
import keras
from keras import layers
inputs = keras.Input((16, 8))
x = layers.BatchNormalization()(layers.Conv1D(8, 3, use_bias=False)(inputs))
x = layers.BatchNormalization(axis=1)(layers.Dropout(0.1)(x))
model = keras.Model(inputs, x)
""",
        """
import keras
from keras import layers
inputs = keras.Input((16, 8))
x = layers.LayerNormalization()(inputs)   # per sample: its channels' batch statistics are not 0 and 1
x = layers.BatchNormalization()(x)
y = layers.GroupNormalization(groups=4)(layers.Conv1D(8, 3, use_bias=False)(inputs))
y = layers.BatchNormalization()(layers.Flatten()(y))
model = keras.Model(inputs, [x, y])
""",
        """
from keras import layers, Sequential
model = Sequential([layers.Input((32, 32, 3)), layers.Conv2D(8, 3, use_bias=False),
                    layers.BatchNormalization(), layers.ReLU(), layers.BatchNormalization()])
""",
        """
import keras
from keras import layers
def block(x):
    x = layers.LayerNormalization()(x)
    x = layers.Add()([x, layers.Dense(8, use_bias=False)(x)])
    x = layers.BatchNormalization()(x)   # a merge sits between the two normalisations
    return layers.ReLU()(x)
x = inputs = keras.Input((16, 8))
for _ in range(2):
    x = block(x)
model = keras.Model(inputs, x)
""",
        """
import keras
from keras import layers
inputs = keras.Input((16,))
x = layers.Dense(8, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
branch = layers.BatchNormalization()(x)   # x is used by the other output too
model = keras.Model(inputs, [layers.Dense(2)(x), layers.Dense(3)(branch)])
""",
    ]
    INVALID = [
        """
import keras
from keras import layers
block = keras.Sequential([layers.Conv2D(8, 3, use_bias=False), layers.BatchNormalization()])
model = keras.Sequential([
    layers.Input((32, 32, 3)),
    block,
    layers.MaxPooling2D(),
    layers.BatchNormalization(),  # expect: BN009
    layers.ReLU(),
])
""",
        """
from keras import layers, Sequential
model = Sequential([
    layers.Input((32, 32, 3)),
    layers.Conv2D(8, 3, use_bias=False),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.BatchNormalization(),  # expect: BN009
])
""",
        """
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.Dense(8, use_bias=False, input_shape=(4,)))
model.add(tf.keras.layers.BatchNormalization())
model.add(tf.keras.layers.Dropout(0.2))
model.add(tf.keras.layers.BatchNormalization())  # expect: BN009
""",
        """
import keras
from keras import layers
class Head(keras.Model):
    def __init__(self):
        super().__init__()
        self.norm = layers.BatchNormalization()
        self.flatten = layers.Flatten()
        self.bn = layers.BatchNormalization()  # expect: BN009
    def call(self, x):
        return self.bn(self.flatten(self.norm(x)))
""",
    ]
