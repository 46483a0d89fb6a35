"""match statements, except*, unpacked multi-output results, Sequential subclasses, setattr, and
get_source_inputs: each builder is compared with the model real Keras builds."""

import keras
from keras import layers, ops
from keras.utils import get_source_inputs

ACTIVATION = "relu"


def norm(kind):
    match kind:
        case "bn":
            return layers.BatchNormalization()
        case "ln" | "layer":
            return layers.LayerNormalization()
        case _:
            return layers.Identity()


def build_match():
    inputs = keras.Input((8,))
    x = layers.Dense(16, use_bias=False)(inputs)
    x = norm("bn")(x)
    match ACTIVATION:
        case "gelu":
            x = layers.Activation("gelu")(x)
        case name if name.startswith("re"):
            x = layers.ReLU()(x)
    try:
        x = layers.Dense(4)(x)
    except* ValueError:
        pass
    return keras.Model(inputs, x, name="matched")


def build_unpacked():
    inputs = keras.Input((8, 8, 16))
    a, b = ops.split(inputs, 2, axis=-1)
    b = layers.BatchNormalization(name="bn")(layers.Conv2D(8, 1, use_bias=False, name="conv")(b))
    sequence = layers.Reshape((8, 128))(layers.Concatenate(name="cat")([a, b]))
    out, h, c = layers.LSTM(8, return_state=True, name="enc")(sequence)
    y = layers.BatchNormalization(name="bn_state")(layers.Dense(8, use_bias=False, name="proj")(h))
    return keras.Model(get_source_inputs(y), y, name="unpacked")


class Stack(keras.Sequential):
    def __init__(self, width=8, **kwargs):
        super().__init__(**kwargs)
        self.add(keras.Input((8,)))
        self.add(layers.Dense(width, use_bias=False))
        self.add(layers.BatchNormalization())
        self.add(layers.ReLU())


def build_sequential_subclass():
    return Stack(name="stack")


class Net(keras.Model):
    def __init__(self):
        super(Net, self).__init__(name="net")
        for i in range(2):
            setattr(self, f"dense{i}", layers.Dense(8, use_bias=False))
            setattr(self, f"bn{i}", layers.BatchNormalization())

    def call(self, x):
        for i in range(2):
            x = ops.relu(getattr(self, f"bn{i}")(getattr(self, f"dense{i}")(x)))
        return x
