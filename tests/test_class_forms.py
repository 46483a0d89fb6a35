"""Layers reached through a class rather than an instance: static and class methods called on the
class, getattr() on a module, and super() into a class of the code's own.

`Blocks.conv_bn(x, 8)` was an unknown call (one op node, the layers in a graph of their own, where
no rule saw them next to the code around them); `getattr(layers, name)(**options)` made layers of
unknown class; and a model deriving from another of the code's own ran neither its parent's
`__init__` (its sublayers were ops) nor its parent's `call` through `super().call(x)`.
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_applications_fidelity import graph_as_keras_builds

from bnlint.readers.python_source import read_source

BLOCKS = ROOT / "tests" / "data" / "class_forms" / "blocks.py"


@pytest.mark.parametrize("builder", ["build_class_methods", "build_getattr"])
def test_layers_reached_through_a_class_or_getattr_are_read_as_keras_builds_them(builder):
    graph = graph_as_keras_builds(BLOCKS, builder)
    assert "<unknown>" not in {node["class_name"] for node in graph["nodes"]}


def _chain(source: str, name: str) -> list[str]:
    (graph,) = [g for g in read_source(source, "m.py").graphs if g.name == name]
    return [graph.layer(node).class_name for node in graph.nodes()]


SUBCLASS = """\
import keras
from keras import layers


class Base(keras.Model):
    def __init__(self, width=8, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(width, 3)
        self.bn = layers.BatchNormalization()

    def call(self, x):
        return keras.ops.relu(self.bn(self.conv(x)))


class Child(Base):
    def __init__(self, **kwargs):
        super().__init__(width=4, **kwargs)
        self.head = layers.Conv2D(4, 1, use_bias=False)
        self.head_bn = layers.BatchNormalization()

    def call(self, x):
        return self.head_bn(self.head(super().call(x)))


model = Child()
"""


def test_a_subclass_of_a_model_of_the_code_s_own_runs_its_parent_s_init_and_call(tmp_path):
    assert _chain(SUBCLASS, "child") == [
        "InputLayer", "Conv2D", "BatchNormalization", "keras.ops.relu", "Conv2D", "BatchNormalization"]
    from bnlint.api import check

    path = tmp_path / "m.py"
    path.write_text(SUBCLASS)
    findings = check(path)
    # The parent's convolution keeps its bias before a BN: reported where the parent makes it.
    assert [(d.code, d.origin.line) for d in findings] == [("BN004", 8)]



def test_a_subclassed_model_takes_the_name_its_super_init_gives():
    source = """\
import keras
from keras import layers


class MLP(keras.Model):
    def __init__(self):
        super().__init__(name="mlp_net")
        self.dense = layers.Dense(4)

    def call(self, x):
        return self.dense(x)
"""
    assert [g.name for g in read_source(source, "m.py").graphs] == ["mlp_net"]  # (it was "mlp", the class's)


def test_a_custom_layer_s_config_names_its_positional_arguments():
    """Keras' config of `ConvBNReLU(16, 5)` has `filters` and `kernel`: the node had only the keywords."""
    source = """\
import keras
from keras import layers


class ConvBNReLU(layers.Layer):
    def __init__(self, filters, kernel=3, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(filters, kernel, use_bias=False)
        self.bn = layers.BatchNormalization()

    def call(self, x):
        return keras.ops.relu(self.bn(self.conv(x)))


inputs = keras.Input((8, 8, 3))
model = keras.Model(inputs, ConvBNReLU(16, 5, name="block")(inputs))
"""
    (model,) = [g for g in read_source(source, "m.py").graphs if g.name == "functional"]
    (block,) = [model.layer(n) for n in model.nodes() if model.layer(n).class_name == "ConvBNReLU"]
    assert block.config == {"filters": 16, "kernel": 5, "name": "block"}
