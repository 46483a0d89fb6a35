"""TinyNet: residual blocks whose layers come from injected Keras modules."""

from . import get_submodules_from_kwargs

backend = None
layers = None
models = None
keras_utils = None


def channel_axis():
    return 3 if backend.image_data_format() == "channels_last" else 1


def conv_bn(x, filters, kernel_size, name, strides=1):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", name=name + "_conv")(x)
    # PyTorch's momentum, ported as is (BN006), after a conv that keeps its bias (BN004).
    return layers.BatchNormalization(axis=channel_axis(), momentum=0.1, name=name + "_bn")(x)


def residual_block(x, filters, name, downsample=False):
    shortcut = x
    if downsample:
        shortcut = conv_bn(x, filters, 1, name + "_shortcut", strides=2)
    x = conv_bn(x, filters, 3, name + "_1", strides=2 if downsample else 1)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = conv_bn(x, filters, 3, name + "_2")
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def TinyNet(input_shape=(32, 32, 3), widths=(16, 32), classes=10, **kwargs):
    global backend, layers, models, keras_utils
    backend, layers, models, keras_utils = get_submodules_from_kwargs(kwargs)

    inputs = layers.Input(shape=input_shape, name="image")
    x = layers.Conv2D(widths[0], 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(axis=channel_axis(), name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for i, width in enumerate(widths):
        x = residual_block(x, width, f"block{i + 1}", downsample=i > 0)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return models.Model(inputs, outputs, name="tinynet")


def TinyNetWide(input_shape=(32, 32, 3), classes=10, **kwargs):
    return TinyNet(input_shape, widths=(32, 64, 128), classes=classes, **kwargs)
