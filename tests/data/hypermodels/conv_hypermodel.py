"""A HyperModel subclass: blocks under name scopes, pooling chosen with conditional scopes."""
import keras
import keras_tuner
from keras import layers


class ConvNet(keras_tuner.HyperModel):
    def __init__(self, num_classes=10, image_shape=(32, 32, 3), **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.image_shape = image_shape

    def build(self, hp):
        inputs = keras.Input(shape=self.image_shape)
        x = inputs
        for i in range(hp.Int("blocks", 2, 5, default=3)):
            with hp.name_scope(f"block_{i}"):
                filters = hp.Int("filters", 16, 64, step=16, default=32 * (i + 1))
                x = layers.Conv2D(filters, 3, padding="same", use_bias=hp.Fixed("bias", False))(x)
                x = layers.BatchNormalization()(x)
                x = layers.Activation(hp.Choice("activation", ["relu", "gelu"], default="gelu"))(x)
                if hp.Boolean("pool", default=i % 2 == 0):
                    x = layers.MaxPooling2D()(x)
        pooling = hp.Choice("pooling", ["avg", "max", "flatten"])
        with hp.conditional_scope("pooling", ["avg"]):
            if pooling == "avg":
                x = layers.GlobalAveragePooling2D()(x)
        with hp.conditional_scope("pooling", ["max"]):
            if pooling == "max":
                x = layers.GlobalMaxPooling2D()(x)
        if pooling == "flatten":
            x = layers.Flatten()(x)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2, parent_name="pooling", parent_values="avg")
        if dropout:
            x = layers.Dropout(dropout)(x)
        outputs = layers.Dense(self.num_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name="conv_net")
