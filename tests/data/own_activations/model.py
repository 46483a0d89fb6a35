"""Activation functions a model's code defines itself, passed as ``activation=``.

Written for bnlint's tests (``tests/test_own_activations.py``): bnlint runs
each function on a placeholder to learn what it computes; the test checks
its answers against the functions evaluated by real Keras.
"""

import keras
from keras import layers


def swish(x):
    """x * sigmoid(x), as code wrote it before Keras had it."""
    return x * keras.activations.sigmoid(x)


def mish(x):
    return x * keras.ops.tanh(keras.ops.softplus(x))


def hard_swish(x):
    return x * keras.ops.relu6(x + 3.0) / 6.0


def relu_layer(x):
    # A function that makes a layer: Keras calls it on the layer's output, the layer is not the model's.
    return layers.ReLU()(x)


def identity(x):
    return x


def tempered_softmax(x, temperature=2.0):
    # An output function: a softmax with a temperature.
    return keras.activations.softmax(x / temperature)


def conv_bn(x, filters, activation, name):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name + "_conv")(x)
    x = layers.BatchNormalization(name=name + "_bn")(x)
    return layers.Activation(activation, name=name + "_act")(x)


def own_activations():
    inputs = keras.Input((16, 16, 3), name="image")
    x = conv_bn(inputs, 8, swish, "block1")
    x = conv_bn(x, 8, mish, "block2")
    x = conv_bn(x, 8, hard_swish, "block3")
    x = conv_bn(x, 8, relu_layer, "block4")
    x = conv_bn(x, 8, lambda t: keras.ops.maximum(t, 0.1 * t) + keras.ops.relu(t), "block5")
    # The odd one out: the activation is fused into the convolution, before its BN.
    x = layers.Conv2D(8, 3, padding="same", activation=swish, name="fused_conv")(x)
    x = layers.BatchNormalization(name="fused_bn")(x)
    x = layers.Dense(8, activation=identity, name="projection")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(10, activation=tempered_softmax, name="classes")(x)
    return keras.Model(inputs, outputs, name="own_activations")
