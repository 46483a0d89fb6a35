"""Functional models made from a Sequential's tensors (the Keras guide's feature extractor)."""

import keras
from keras import layers


def build_feature_extractor():
    initial_model = keras.Sequential([
        keras.Input(shape=(16, 16, 3)),
        layers.Conv2D(8, 3, use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(name="my_intermediate_layer"),
        layers.Conv2D(8, 3),
    ])
    return keras.Model(inputs=initial_model.inputs,
                       outputs=initial_model.get_layer(name="my_intermediate_layer").output)


def build_decoder():
    base = keras.Sequential([
        layers.Conv2D(8, 3, use_bias=False, name="c1", input_shape=(16, 16, 3)),
        layers.BatchNormalization(name="b1"),
        layers.ReLU(name="r1"),
    ], name="encoder")
    x = layers.Conv2D(4, 3, use_bias=False, name="head_conv")(base.get_layer("r1").output)
    x = layers.BatchNormalization(name="head_bn")(x)
    return keras.Model(base.inputs, x, name="decoder")


def build_on_top():
    base = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(8, 3), layers.BatchNormalization()], name="base")
    base.add(layers.ReLU())
    x = layers.GlobalAveragePooling2D()(base.outputs[0])
    return keras.Model(base.inputs, layers.Dense(3)(x), name="on_top")
