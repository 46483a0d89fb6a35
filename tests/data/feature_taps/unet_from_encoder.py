"""A U-Net decoder on an encoder's inner layers, reached with ``encoder.get_layer(name).output``."""

import keras
from keras import layers


def conv_bn_relu(x, filters, name):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name + "_conv")(x)
    x = layers.BatchNormalization(name=name + "_bn")(x)
    return layers.Activation("relu", name=name + "_relu")(x)


def encoder(input_shape=(64, 64, 3)):
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for i, filters in enumerate((16, 32, 64)):
        x = conv_bn_relu(x, filters, f"enc{i}")
        x = layers.MaxPooling2D(name=f"enc{i}_pool")(x)
    return keras.Model(inputs, conv_bn_relu(x, 128, "bottleneck"), name="encoder")


def unet(classes=3):
    base = encoder()
    x = base.output
    for i in (2, 1, 0):
        skip = base.get_layer(f"enc{i}_relu").output
        x = layers.UpSampling2D(name=f"dec{i}_up")(x)
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skip])
        x = conv_bn_relu(x, skip.shape[-1], f"dec{i}")
    outputs = layers.Conv2D(classes, 1, activation="softmax", name="mask")(x)
    return keras.Model(base.get_layer(name="image").output, outputs, name="unet")
