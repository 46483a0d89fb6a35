"""Models built from a configuration object, as tfimm builds its models (``cfg: ResNetConfig``).

Nothing in this file says which configuration: the builders take it as a
required argument. bnlint reads them with the configuration's defaults.
"""

from dataclasses import dataclass, field

import keras
from keras import layers


@dataclass
class ModelConfig:
    name: str = "resnet"
    input_size: tuple = (32, 32)
    in_channels: int = 3


@dataclass(frozen=False)
class ResNetConfig(ModelConfig):
    block: str = "bottleneck"
    nb_blocks: tuple = (1, 2)
    nb_channels: tuple = (8, 16)
    norm_layer: str = "batch_norm"
    bn_momentum: float = field(default=0.1)  # PyTorch's convention, ported as is
    nb_classes: int = 10

    def __post_init__(self):
        self.stem_width = self.nb_channels[0]


def norm_layer_factory(norm_layer):
    if norm_layer == "batch_norm":
        return lambda cfg, **kwargs: layers.BatchNormalization(momentum=cfg.bn_momentum, **kwargs)
    return lambda cfg, **kwargs: layers.LayerNormalization(**kwargs)


class BasicBlock:
    expansion = 1


class Bottleneck(BasicBlock):
    expansion = 4


def residual_block(x, cfg, channels, name):
    norm = norm_layer_factory(cfg.norm_layer)
    block_cls = BasicBlock if cfg.block == "basic_block" else Bottleneck
    out_channels = channels * block_cls.expansion
    shortcut = x
    if x.shape[-1] != out_channels:
        shortcut = layers.Conv2D(out_channels, 1, use_bias=False, name=f"{name}_proj")(x)
        shortcut = norm(cfg, name=f"{name}_proj_bn")(shortcut)
    y = layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_conv1")(x)
    y = norm(cfg, name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(out_channels, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = norm(cfg, name=f"{name}_bn2")(y)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, y]))


def build_resnet(cfg: ResNetConfig) -> keras.Model:
    inputs = keras.Input((*cfg.input_size, cfg.in_channels))
    x = layers.Conv2D(cfg.stem_width, 3, use_bias=False, name="stem")(inputs)
    x = norm_layer_factory(cfg.norm_layer)(cfg, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage, (count, channels) in enumerate(zip(cfg.nb_blocks, cfg.nb_channels)):
        for index in range(count):
            x = residual_block(x, cfg, channels, f"stage{stage}_{index}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, layers.Dense(cfg.nb_classes, name="head")(x), name=cfg.name)


class ConvBlock(layers.Layer):
    """Sublayers made in ``__init__``, no ``build``: a block that computes features, not an activation."""

    def __init__(self, cfg: ResNetConfig, filters=8, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.bn = norm_layer_factory(cfg.norm_layer)(cfg)
        self.act = layers.ReLU()

    def call(self, x):
        return self.act(self.bn(self.conv(x)))


class SmallNet(keras.Model):
    def __init__(self, cfg: "ResNetConfig", **kwargs):
        super().__init__(name=cfg.name, **kwargs)
        self.bn = layers.BatchNormalization()
        self.block = ConvBlock(cfg)
        self.pool = layers.GlobalAveragePooling2D()
        self.head = layers.Dense(cfg.nb_classes)

    def call(self, x):
        return self.head(self.pool(self.block(self.bn(x))))
