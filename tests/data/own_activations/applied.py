"""Functions of the code's own applied to tensors (``x = mish(x)``), not passed as ``activation=``.

Written for bnlint's tests (``tests/test_own_activations.py``): the ops of
such a call that apply a hidden nonlinearity are an activation to the rules;
other functions of ops (an affine rescaling, a gate by another tensor) and
functions that make layers are not.
"""

import keras
from keras import layers


def mish(x):
    return x * keras.ops.tanh(keras.ops.softplus(x))


def swish(x):
    return x * keras.activations.sigmoid(x)


def rescale(x):
    return x * 0.5 + 1.0


def conv_bn(x):
    return layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same", use_bias=False)(x))


def applied_activations():
    inputs = keras.Input((16, 16, 3), name="image")
    x = conv_bn(inputs)
    x = mish(x)
    x = conv_bn(x)
    x = swish(x)
    x = rescale(x)
    # The odd one out: the activation before the BN.
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    x = mish(x)
    x = layers.BatchNormalization()(x)
    gate = conv_bn(inputs)
    x = x * keras.ops.tanh(gate)  # arithmetic with another tensor: its multiply is no activation of x
    return keras.Model(inputs, x, name="applied_activations")
