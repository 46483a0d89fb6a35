"""BN008 batchnorm-axis."""

from __future__ import annotations

from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph
from bnlint.layout import input_layout, single_axis
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator


def _declared_input_shapes(graph: ModelGraph) -> list:
    """The shapes (without the batch axis) the model's inputs declare: an ``Input``'s, or the
    ``input_shape=`` of the first layer of a Sequential model."""
    shapes = []
    for node in graph.inputs:
        layer = graph.layer(node)
        batch_shape = layer.get("batch_shape", None) or layer.get("batch_input_shape", None)
        if isinstance(batch_shape, (list, tuple)) and batch_shape:
            shapes.append(tuple(batch_shape[1:]))
        for consumer in graph.successors(node):
            shape = graph.layer(consumer).get("input_shape", None)
            if isinstance(shape, (list, tuple)):
                shapes.append(tuple(shape))
    return shapes


def _reads_channels_first(shape: tuple) -> bool:
    """An image shape with the channels first: ``(1, 28, 28)``, ``(3, 224, 224)``."""
    return (len(shape) == 3 and all(isinstance(size, int) for size in shape) and shape[0] in (1, 3, 4)
            and min(shape[1], shape[2]) >= 8)


class BatchnormAxis(Rule):
    """
    ## What it does
    Finds `BatchNormalization` layers whose `axis` is not the channel axis of
    their input: a `data_format="channels_first"` conv followed by the default
    `axis=-1`, or a channels-last conv followed by `axis=1`. The layout comes
    from the conv, `Dense`, `Flatten` or global pooling before the BN, seen
    through activations, dropout, normalisations, merges whose inputs agree,
    and pooling and padding with the same `data_format`. Not reported: an
    unknown layout (after an `Input`, a `Reshape`, a tensor operation, an
    unknown `data_format`), a `Dense` with `axis >= 0` (its input rank is
    unknown; in a model saved by tf_keras, whose BNs save their axis as
    `[rank - 1]`, the rank is propagated from the input shapes), and a BN
    over several axes (Keras 2 only; a deliberate choice).
    A layer without `data_format` takes the image data format in effect when
    it is built, as in Keras: channels-last, or what an earlier
    `keras.config.set_image_data_format(...)` in the program set (the
    `keras.json` of the machine that runs the model cannot be seen). But a
    model whose declared input shape reads as channels-first — an image
    with 1, 3 or 4 first, before two sizes of at least 8: `input_shape=(1,
    28, 28)`, `(3, 224, 224)`, as Theano-era Keras code wrote it — was
    built channels-first by its author's `keras.json`: its `axis=1` BNs
    are not reported as if it were channels-last.

    ## Why is this bad?
    BN keeps one mean, variance, `gamma` and `beta` per index of its `axis`.
    On the wrong axis it normalises, say, each image row across all channels:
    channels of different scales share statistics, the parameters are per row
    instead of per feature map, and the model only accepts its built size.

    ## Example
    ```python
    x = layers.Conv2D(64, 3, data_format="channels_first", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Use instead
    ```python
    x = layers.Conv2D(64, 3, data_format="channels_first", use_bias=False)(x)
    x = layers.BatchNormalization(axis=1)(x)
    ```

    ## Fix safety
    No automatic fix yet. Changing the axis changes the shape of the BN's weights.

    ## Options
    None.

    ## References
    - Keras documentation, `keras.layers.BatchNormalization` ("typically the features axis").
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015, section 3.2.
    """

    code = "BN008"
    name = "batchnorm-axis"
    summary = "BatchNormalization axis is not the channel axis of its input"

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        layouts: dict[int, frozenset[int] | None] = {}  # (worked out as the BN layers need them)
        theano_layout: bool | None = None  # (worked out at the first axis=1 finding)
        for node, layer in graph.layers():
            axis = single_axis(layer.get("axis"))
            if layer.kind != "batchnorm" or axis is None:
                continue
            axes = input_layout(graph, node, layouts)
            if axes is None or axis in axes or (axis >= 0 and all(a < 0 for a in axes)):
                continue
            if axis == 1 and -1 in axes:
                if theano_layout is None:
                    theano_layout = any(_reads_channels_first(shape) for shape in _declared_input_shapes(graph))
                if theano_layout:
                    continue
            expected = " or ".join(f"axis={a}" for a in sorted(axes, reverse=True))
            yield Violation(node, f"axis={axis} is not the channel axis of its input; use {expected}")

    VALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Input((3, 32, 32)), layers.Conv2D(8, 3, data_format="channels_first", use_bias=False),
                    layers.MaxPooling2D(data_format="channels_first"), layers.BatchNormalization(axis=1)])
""",
        """
from keras import Input, Model, layers
inputs = Input((16,))
x = layers.BatchNormalization(axis=1)(layers.Dense(8, use_bias=False)(inputs))  # Dense: rank unknown
model = Model(inputs, layers.BatchNormalization(axis=1)(layers.Reshape((2, 4))(x)))  # layout unknown
""",
        """
from keras import Input, Model, layers
def conv_bn(x, data_format):
    x = layers.Conv2D(8, 3, padding="same", data_format=data_format, use_bias=False)(x)
    return layers.BatchNormalization(axis=1 if data_format == "channels_first" else -1)(x)
x = inputs = Input((32, 32, 3))
for _ in range(2):
    x = conv_bn(x, "channels_last")
model = Model(inputs, x)
""",
        """
from keras.models import Sequential
from keras.layers import Convolution2D, BatchNormalization, MaxPooling2D, ZeroPadding2D
model = Sequential([                      # Keras 1 with Theano: keras.json said "th" (channels first)
    ZeroPadding2D((1, 1), input_shape=(1, 28, 28)),
    Convolution2D(32, 3, 3, activation="relu"),
    BatchNormalization(axis=1),
    MaxPooling2D(),
])
""",
    ]
    INVALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Input((3, 32, 32)), layers.Conv2D(8, 3, data_format="channels_first", use_bias=False),
                    layers.BatchNormalization()])  # expect: BN008
""",
        """
import tf_keras as keras   # Keras 2 also accepts a list axis
model = keras.Sequential()
model.add(keras.layers.Conv2D(8, 3, use_bias=False, input_shape=(32, 32, 3)))
model.add(keras.layers.Activation("relu"))
model.add(keras.layers.BatchNormalization(axis=[1]))  # expect: BN008
""",
        """
import keras
from keras import layers
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.a, self.b = layers.Conv1D(8, 3, padding="same", use_bias=False), layers.Conv1D(8, 1, use_bias=False)
        self.bn = layers.BatchNormalization(axis=1)  # expect: BN008
    def call(self, x):
        return self.bn(layers.add([self.a(x), self.b(x)]))
""",
    ]
