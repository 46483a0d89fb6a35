"""Statements and calls the reader skipped or misread: `match` (and `except*`), a multi-output result
unpacked into names (`a, b = ops.split(x, 2)`, `out, h, c = LSTM(..., return_state=True)(x)`),
`keras.utils.get_source_inputs`, subclasses of `keras.Sequential` (`self.add(...)`), Python 2's
`super(Net, self)` and `setattr(self, name, layer)` in a subclassed model.

`match` had no handler: its cases never ran, so the layer before it fed the layer after it (a
false BN004 whose safe fix removed a bias the model needs). An unpacked result lost its model's
input; a Sequential subclass read `self.add(layer)` as tensor arithmetic.
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_applications_fidelity import graph_as_keras_builds

from bnlint.api import check
from bnlint.readers import read_path

MODELS = ROOT / "tests" / "data" / "statement_forms" / "models.py"


@pytest.mark.parametrize("builder", ["build_match", "build_unpacked", "build_sequential_subclass"])
def test_models_built_with_these_forms_are_read_as_keras_builds_them(builder):
    graph = graph_as_keras_builds(MODELS, builder)
    assert graph["inputs"], "the model lost its input"


def test_setattr_sublayers_and_two_argument_super_make_the_subclassed_model():
    (net,) = [g for g in read_path(MODELS, "models.py").graphs if g.entry == "Net"]
    assert net.name == "net"  # super(Net, self).__init__(name="net")
    assert [net.layer(n).class_name for n in net.nodes()] == [
        "InputLayer", "Dense", "BatchNormalization", "keras.ops.relu", "Dense", "BatchNormalization",
        "keras.ops.relu"]


def test_a_match_case_between_two_layers_is_not_skipped(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("""\
import keras
from keras import layers

ACT = "relu"
inputs = keras.Input((8,))
x = layers.Dense(16)(inputs)
match ACT:
    case "relu":
        x = layers.ReLU()(x)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(1)(x))
""")
    assert [d.code for d in check(path)] == []  # the Dense feeds the ReLU: its bias is not redundant
