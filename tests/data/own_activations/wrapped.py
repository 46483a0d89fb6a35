"""Activation functions wrapped in a ``Lambda`` layer, a ``functools.partial`` or a layer class.

Written for bnlint's tests (``tests/test_own_activations.py``): a Lambda
layer whose function is an activation is an activation layer, and so is a
layer class without weights whose ``call`` is one; a partial of an
activation is a function of the code's own. The test checks bnlint's
answers against the functions evaluated by real Keras.
"""

import functools

import keras
from keras import layers


def mish(x):
    return x * keras.ops.tanh(keras.ops.softplus(x))


class Mish(layers.Layer):
    """YOLOv4's Mish, as a layer class."""

    def call(self, inputs):
        return inputs * keras.ops.tanh(keras.ops.softplus(inputs))


class ScaledReLU(layers.Layer):
    """A learned per-channel scale, then a ReLU: a layer with weights, not an activation."""

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return keras.ops.relu(inputs * self.gamma)


def wrapped_activations():
    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Lambda(lambda t: keras.activations.relu(t, max_value=6.0), name="relu6")(x)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv2")(x)
    x = layers.BatchNormalization(name="bn2")(x)
    x = layers.Lambda(mish, name="mish")(x)
    # The odd one out: a leaky ReLU fused into the convolution, before its BN.
    leaky = functools.partial(keras.activations.leaky_relu, negative_slope=0.1)
    x = layers.Conv2D(8, 3, padding="same", activation=leaky, name="fused")(x)
    x = layers.BatchNormalization(name="bn3")(x)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv4")(x)
    x = layers.BatchNormalization(name="bn4")(x)
    x = layers.Lambda(keras.activations.gelu, name="gelu")(x)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv5")(x)
    x = layers.BatchNormalization(name="bn5")(x)
    x = Mish(name="mish_layer")(x)
    x = ScaledReLU(name="scaled_relu")(x)
    x = layers.Lambda(lambda t: t * 0.5, name="half")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    softmax = functools.partial(keras.activations.softmax, axis=-1)
    outputs = layers.Dense(10, activation=softmax, name="classes")(x)
    return keras.Model(inputs, outputs, name="wrapped_activations")
