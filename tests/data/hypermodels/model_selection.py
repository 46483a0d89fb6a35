"""Model selection in one search space: the inactive branch's hyperparameters are None."""
import keras
import keras_tuner as kt
from keras import layers


def make_model(hp):
    model_type = hp.Choice("model_type", ["cnn", "mlp"], default="mlp")
    inputs = keras.Input(shape=(28, 28, 1))
    with hp.conditional_scope("model_type", ["cnn"]):
        filters = hp.Int("filters", 8, 32, step=8)
    with hp.conditional_scope("model_type", ["mlp"]):
        units = hp.Int("units", 64, 256, step=64, default=128)
        depth = hp.Int("depth", 1, 4, default=2)
    if filters is not None:
        x = layers.Conv2D(filters, 3, use_bias=False)(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D()(x)
    else:
        x = layers.Flatten()(inputs)
        for _ in range(hp.get("depth")):
            x = layers.Dense(units, use_bias=False)(x)
            x = layers.BatchNormalization(epsilon=hp["units"] * 1e-5)(x)
            x = layers.Activation("relu")(x)
    if hp.values["model_type"] == "mlp" and depth > 1:
        x = layers.Dropout(hp.Float("head_dropout", 0.1, 0.5))(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)
