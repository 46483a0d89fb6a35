"""A custom layer whose ``call`` returns several tensors gives one tensor per output, as in Keras.

keras-tcn's residual blocks return ``[output, skip]``: unpacked as ``x, skip = block(x)``, both
were unknown, and the network fell apart into one-layer fragments. Inside the block, the
sublayers are applied by ``layer(x, training=t) if takes_training else layer(x)``, whose
condition bnlint cannot decide: like an undecidable ``if``, the first branch is taken (both make
the same layer call); before, the tensor was lost there too.
"""

from __future__ import annotations

from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

SOURCE = ROOT / "tests" / "data" / "multi_output_layers" / "tcn_like.py"


def test_each_output_of_a_custom_layer_is_a_tensor_of_its_node_as_in_keras():
    reference, graph, graphs = keras_and_bnlint(SOURCE, "tcn_like")
    assert compare(reference, graph, graphs) == []
    names = [node["name"] for node in graph["nodes"]]
    inputs = {names[e["target"]]: [] for e in graph["edges"]}
    for edge in graph["edges"]:
        inputs[names[edge["target"]]].append(names[edge["source"]])
    assert inputs["block_1"] == ["block_0"] and inputs["block_2"] == ["block_1"]
    assert sorted(inputs["skips"]) == ["block_0", "block_1", "block_2"]
    # The block read as a model of its own: the whole chain, not cut at the undecidable condition.
    (block,) = [g for g in graphs if g["name"] == "residual_block"]
    assert [node["name"] for node in block["nodes"]] == [
        "input_layer", "conv_0", "bn_0", "act_0", "drop_0", "conv_1", "bn_1", "act_1", "drop_1",
        "match", "add", "final"]


def test_a_custom_layer_is_built_on_its_first_call_and_its_outputs_unpacked_as_in_keras():
    """`build` makes the sublayers when the layer is first called, as Keras does: one block gets a
    matching convolution (4 channels in, 8 out), the next does not, and the Conv1D after them is
    `conv1d_3`. The block returns a tuple of two tensors."""
    reference, graph, graphs = keras_and_bnlint(SOURCE, "gated")
    assert compare(reference, graph, graphs) == []
    assert [node["name"] for node in graph["nodes"]] == [
        "input_layer", "gated_block", "gated_block_1", "concatenate", "conv1d_3"]
    names = [node["name"] for node in graph["nodes"]]
    concatenated = sorted(names[e["source"]] for e in graph["edges"] if names[e["target"]] == "concatenate")
    assert concatenated == ["gated_block", "gated_block_1"]  # each block's second output
    assert graph["outputs"] == [names.index("gated_block_1"), names.index("conv1d_3")]
