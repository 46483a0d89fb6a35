"""``model.layers``: a functional model's layers in Keras' order, a Sequential's as added.

``model.layers[-3].output`` taps a model where Keras' order puts that
index; the order (by depth from the outputs, then by a walk from them) is
checked here, with shared layers and ops, against models real Keras builds,
and on every keras.applications builder in ``test_applications_fidelity``.
"""

from __future__ import annotations

import pytest

from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

from bnlint.readers import read_path
from bnlint.readers.builder import keras_layer_order

SOURCE = ROOT / "tests" / "data" / "model_layers" / "model.py"


def _graph(name: str):
    [graph] = [g for g in read_path(SOURCE, str(SOURCE)).graphs if g.name == name]
    return graph


@pytest.mark.parametrize("builder", ["tapped_head", "siamese", "sequential_head", "dict_io"])
def test_models_built_from_model_layers_equal_keras(builder):
    reference, graph, graphs = keras_and_bnlint(SOURCE, builder)
    assert compare(reference, graph, graphs) == []


@pytest.mark.parametrize("builder", ["backbone", "tapped_head", "siamese", "dict_io"])
def test_layers_are_listed_in_keras_order(builder):
    reference, _, _ = keras_and_bnlint(SOURCE, builder)
    graph = _graph(builder)
    assert [graph.layer(node).name for node in keras_layer_order(graph)] == [
        layer["name"] for layer in reference["layers"] if not layer.get("op")]


def test_a_tap_by_index_reads_the_layer_keras_lists_there():
    graph = _graph("tapped_head")
    names = [layer.name for _, layer in graph.layers()]
    # base.layers[-3] is block_relu (then pool, classes); base.layers[3] is stem_relu.
    assert graph.layer(names.index("head_conv")).name == "head_conv"
    assert [graph.layer(p).name for p in graph.predecessors(names.index("head_conv"))] == ["block_relu"]
    assert "stem_relu_head" in names and "pool" not in names


def test_a_shared_layer_is_listed_once_at_its_deepest_call():
    graph = _graph("siamese")
    order = [graph.layer(node).name for node in keras_layer_order(graph)]
    assert order.count("embed") == 1
    # Its call on the right branch is the deeper one, and its left call takes that depth, so the left input
    # comes before it and it comes before right_post0 (which is as deep as its left call would be).
    assert order == ["right", "pre", "left", "embed", "right_post0", "right_post1", "left_post", "right_post2",
                     "merge", "merged_bn", "score"]
