"""Layers drawn from iterators: generator functions, map(), filter(), itertools.chain, and loops over
what bnlint cannot list.

A generator function's items are drawn at once into a list, map() and filter() call the code's
own functions over known items, and itertools.chain joins known lists: each model below is compared
with the one real Keras builds. A loop over items bnlint cannot list (or a `while` on a condition it
cannot decide) runs once; it used to be skipped with its variables kept, which connected the layer
before the loop to the one after it (a false BN004, and a `--fix` that removed a bias still needed).
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_applications_fidelity import graph_as_keras_builds

from bnlint.readers.python_source import read_source

BLOCKS = ROOT / "tests" / "data" / "iteration_forms" / "blocks.py"


@pytest.mark.parametrize("builder", ["build_generators", "build_map_filter", "build_chain"])
def test_layers_drawn_from_iterators_are_read_as_keras_builds_them(builder):
    graph = graph_as_keras_builds(BLOCKS, builder)
    assert sum(node["class_name"] == "BatchNormalization" for node in graph["nodes"]) >= 2


def _classes_and_edges(source: str) -> tuple[list[str], set[tuple[str, str]]]:
    result = read_source(source, "m.py")
    (graph,) = [g for g in result.graphs if g.name == "model"]
    names = {node: graph.layer(node).name for node in graph.nodes()}
    return ([graph.layer(node).class_name for node in graph.nodes()],
            {(names[a], names[b]) for a in graph.nodes() for b in graph.successors(a)})


UNKNOWN_FOR = """\
import keras
from keras import layers
from settings import WIDTHS

inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, padding="same", name="first")(inputs)
for width in WIDTHS:
    x = layers.ReLU()(x)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False, name="inner")(x)
x = layers.BatchNormalization(name="bn")(x)
model = keras.Model(inputs, x, name="model")
"""

UNKNOWN_WHILE = """\
import os
import keras
from keras import layers

size = int(os.environ.get("IMG", "32"))
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(8, 3, padding="same", name="first")(inputs)
while size > 8:
    x = layers.ReLU()(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="inner")(x)
    size //= 2
x = layers.BatchNormalization(name="bn")(x)
model = keras.Model(inputs, x, name="model")
"""


@pytest.mark.parametrize("source", [UNKNOWN_FOR, UNKNOWN_WHILE], ids=["for", "while"])
def test_a_loop_bnlint_cannot_count_runs_once_and_what_it_leaves_feeds_the_code_after_it(source, tmp_path):
    classes, edges = _classes_and_edges(source)
    assert classes == ["InputLayer", "Conv2D", "ReLU", "Conv2D", "BatchNormalization"]
    assert ("inner", "bn") in edges and ("first", "bn") not in edges
    from bnlint.api import check

    # The first convolution feeds a ReLU, not the BN: its bias is not redundant (no BN004); it is
    # followed by a weight layer with no BN between (BN001, as in the model Keras builds).
    path = tmp_path / "m.py"
    path.write_text(source)
    assert [(d.code, d.origin.line) for d in check(path)] == [("BN001", 6 if "WIDTHS" in source else 7)]


def test_a_loop_run_once_forgets_plain_values_it_changes():
    source = UNKNOWN_WHILE.replace("name=\"model\"", "name=f\"model_{size}\"")
    result = read_source(source, "m.py")
    assert [g.name for g in result.graphs] == ["functional"]  # `size` is unknown after the loop


def test_a_recursion_through_a_loop_over_unknown_items_does_not_run_away():
    """tf-models' ParamsDict: `for k, v in items(unknown): ... ParamsDict(v)`, whose __init__ loops the same way."""
    source = """\
import keras

class Params:
    def __init__(self, values):
        for key, value in values.items():
            if isinstance(value, dict):
                setattr(self, key, Params(value))

params = Params(keras.utils.unknown_settings())
"""
    result = read_source(source, "m.py")
    assert result.notes == []


def test_a_generator_function_that_yields_nothing_gives_no_items():
    source = """\
import keras
from keras import layers


def extra_blocks(count):
    for _ in range(count):
        yield layers.Dense(4)


model = keras.Sequential([keras.Input((8,)), *extra_blocks(0), layers.Dense(1)], name="model")
"""
    (graph,) = read_source(source, "m.py").graphs
    assert [graph.layer(n).class_name for n in graph.nodes()] == ["InputLayer", "Dense"]
