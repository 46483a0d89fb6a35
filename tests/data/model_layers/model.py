"""Models that read ``model.layers``: Keras' order decides which layer ``model.layers[i]`` is.

Written for bnlint's tests (``tests/test_model_layers.py``), which build each
model with real Keras and compare it with bnlint's reading.
"""

import keras
from keras import layers


def backbone():
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(16, 3, use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    shortcut = x
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="block_conv")(x)
    x = layers.BatchNormalization(name="block_bn")(x)
    x = layers.Add(name="block_add")([x, shortcut])
    x = layers.ReLU(name="block_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(10, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="backbone")


def tapped_head():
    # A new head on the backbone's features: model.layers[-3] is its last ReLU.
    base = backbone()
    x = base.layers[-3].output
    x = layers.Conv2D(8, 1, use_bias=False, name="head_conv")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.ReLU(name=base.layers[3].name + "_head")(x)
    x = layers.Flatten(name="head_flat")(x)
    outputs = layers.Dense(2, activation="softmax", name="head_classes")(x)
    return keras.Model(base.input, outputs, name="tapped_head")


def siamese():
    # A layer shared by two branches of different depths, and ops between layers.
    left = keras.Input((8,), name="left")
    right = keras.Input((8,), name="right")
    embed = layers.Dense(8, name="embed")
    a = embed(left)
    a = layers.Dense(8, name="left_post")(a)
    b = layers.Dense(8, name="pre")(right)
    b = embed(keras.ops.relu(b) + 1.0)
    for i in range(3):
        b = layers.Dense(8, name=f"right_post{i}")(b)
    merged = layers.Concatenate(name="merge")([a, b])
    x = layers.BatchNormalization(name="merged_bn")(merged)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)
    return keras.Model([left, right], outputs, name="siamese")


def sequential_head():
    # A Sequential's layers are the ones added, less its input.
    features = keras.Sequential([
        keras.Input((16,)),
        layers.Dense(32, use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
    ], name="features")
    head = keras.Sequential(name="head")
    head.add(keras.Input((32,)))
    head.add(layers.Dense(4, name=features.layers[0].name + "_of_" + str(len(features.layers))))
    return head


def dict_io():
    # Keras flattens dicts by sorted key: the inputs are [a, b] and the outputs [y, z], which decides
    # the order of y and z (equally deep) in model.layers.
    inputs = {"b": keras.Input((4,), name="b"), "a": keras.Input((4,), name="a")}
    x = layers.Concatenate(name="cat")([inputs["a"], inputs["b"]])
    x = layers.BatchNormalization(name="cat_bn")(x)
    z = layers.Dense(3, name="z")(x)
    y = layers.Dense(3, name="y")(x)
    return keras.Model(inputs, {"z": z, "y": y}, name="dict_io")
