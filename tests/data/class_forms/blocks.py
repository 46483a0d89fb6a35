"""Layers reached through a class's static and class methods, and through getattr()."""

import keras
from keras import layers

SPEC = [
    ("Conv2D", {"filters": 8, "kernel_size": 3, "use_bias": False}),
    ("BatchNormalization", {"momentum": 0.95}),
    ("Activation", {"activation": "relu"}),
]


class Blocks:
    width = 8

    @staticmethod
    def conv_bn(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        return layers.BatchNormalization()(x)

    @classmethod
    def stage(cls, x):
        return layers.ReLU()(cls.conv_bn(x, cls.width * 2))


def build_class_methods():
    inputs = keras.Input((16, 16, 3))
    x = Blocks.stage(Blocks.conv_bn(inputs, Blocks.width))
    return keras.Model(inputs, x, name="class_methods")


def build_getattr():
    model = keras.Sequential(name="from_spec")
    model.add(keras.Input((16, 16, 3)))
    for class_name, options in SPEC:
        model.add(getattr(layers, class_name)(**options))
    model.add(getattr(layers, "GlobalAveragePooling2D")())
    return model
