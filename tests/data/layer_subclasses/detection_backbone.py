"""Subclasses of Keras layer classes, as detection code writes them (Mask R-CNN's ``BatchNorm``)."""

import keras
from keras import layers


class BatchNorm(layers.BatchNormalization):
    """A BN that is frozen by its call's ``training`` argument, as in Mask R-CNN."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=training)


class FrozenBatchNorm(layers.BatchNormalization):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.trainable = False


class ScaledConv(layers.Conv2D):
    pass


def backbone(input_shape=(32, 32, 3), train_bn=False):
    inputs = keras.Input(input_shape)
    x = ScaledConv(8, 3, padding="same", name="stem_conv")(inputs)
    x = BatchNorm(name="stem_bn")(x, training=train_bn)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(16, 3, use_bias=False)(x)
    x = BatchNorm(-1, 0.1)(x, training=train_bn)  # PyTorch's momentum, positionally
    x = layers.Conv2D(16, 3, use_bias=False)(x)
    x = FrozenBatchNorm(epsilon=1e-5)(x)
    return keras.Model(inputs, layers.Activation("relu")(x), name="backbone")
