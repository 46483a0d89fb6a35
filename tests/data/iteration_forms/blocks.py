"""Blocks of layers drawn from generator functions, map(), filter() and itertools.chain."""

import itertools

import keras
from keras import layers


def conv_bn(widths):
    for width in widths:
        yield layers.Conv2D(width, 3, padding="same", use_bias=False)
        yield layers.BatchNormalization(momentum=0.9)
        yield layers.ReLU()


def stem():
    yield keras.Input((16, 16, 3))
    yield from conv_bn([8])


def stage(width):
    return [layers.Conv2D(width, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU()]


def build_generators():
    return keras.Sequential(list(stem()) + list(conv_bn([16, 24])) + [layers.GlobalAveragePooling2D()],
                            name="generators")


def build_map_filter():
    widths = filter(lambda width: width % 8 == 0, [8, 12, 16])
    body = []
    for block in map(stage, widths):
        body += block
    return keras.Sequential([keras.Input((16, 16, 3))] + body, name="map_filter")


def build_chain():
    blocks = [stage(width) for width in (8, 16)]
    inputs = keras.Input((16, 16, 3))
    x = inputs
    for layer in itertools.chain(itertools.chain.from_iterable(blocks), [layers.Flatten(), layers.Dense(4)]):
        x = layer(x)
    return keras.Model(inputs, x, name="chain")
