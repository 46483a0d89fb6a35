"""A temporal convolutional network in the style of keras-tcn: each residual block is a custom
layer returning two tensors (the block's output and its skip connection), and applies its
sublayers with `training=` only where their `call` takes it (a condition bnlint cannot decide)."""
import inspect

import keras
from keras import layers


class ResidualBlock(layers.Layer):
    def __init__(self, dilation_rate, filters=16, dropout_rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.layers_in_order = []
        for k in range(2):
            self.layers_in_order.append(layers.Conv1D(filters, 3, padding="causal", dilation_rate=dilation_rate,
                                                      use_bias=False, name=f"conv_{k}"))
            self.layers_in_order.append(layers.BatchNormalization(name=f"bn_{k}"))
            self.layers_in_order.append(layers.Activation("relu", name=f"act_{k}"))
            self.layers_in_order.append(layers.SpatialDropout1D(dropout_rate, name=f"drop_{k}"))
        self.match = layers.Conv1D(filters, 1, name="match")
        self.final = layers.Activation("relu", name="final")

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.layers_in_order:
            takes_training = "training" in dict(inspect.signature(layer.call).parameters)
            x = layer(x, training=training) if takes_training else layer(x)
        return [self.final(layers.add([self.match(inputs), x])), x]


def tcn_like(dilations=(1, 2, 4)):
    inputs = keras.Input((32, 4))
    x, skips = inputs, []
    for i, d in enumerate(dilations):
        x, skip = ResidualBlock(d, filters=16, name=f"block_{i}")(x)
        skips.append(skip)
    x = layers.add(skips, name="skips")
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(1)(x), name="tcn_like")


class GatedBlock(layers.Layer):
    """Sublayers made in `build`, on the first call, with Keras' automatic names; two outputs."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters

    def build(self, input_shape):
        self.conv = layers.Conv1D(self.filters, 3, padding="same", use_bias=False)
        self.norm = layers.BatchNormalization()
        self.match = layers.Conv1D(self.filters, 1) if input_shape[-1] != self.filters else None

    def call(self, inputs):
        y = keras.ops.relu(self.norm(self.conv(inputs)))
        shortcut = self.match(inputs) if self.match is not None else inputs
        return y + shortcut, y


def gated(depth=2):
    inputs = keras.Input((32, 4))
    x, ys = inputs, []
    for _ in range(depth):
        x, y = GatedBlock(filters=8)(x)
        ys.append(y)
    skips = layers.Conv1D(8, 1)(layers.concatenate(ys))  # conv1d_3: three made by the builds
    return keras.Model(inputs, [x, skips], name="gated")
