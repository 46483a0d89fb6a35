"""``model.get_layer(name)``: a model's inner layers and their tensors, as feature extractors use them.

A decoder on an encoder's inner activations (U-Net, FPN) reaches them with
``encoder.get_layer(name).output``. bnlint follows those tensors; real
Keras, building the same source, gives the same graph.
"""

from __future__ import annotations

import textwrap

from bnlint.readers.python_source import read_source
from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

SOURCE = ROOT / "tests" / "data" / "feature_taps" / "unet_from_encoder.py"


def test_a_decoder_on_an_encoders_inner_layers_is_the_model_keras_builds():
    reference, graph, graphs = keras_and_bnlint(SOURCE, "unet")
    assert graph is not None and graph["name"] == "unet"
    assert len(graph["nodes"]) == len(reference["layers"]) == 32
    assert compare(reference, graph, graphs) == []


def layers_of(source: str) -> list:
    (*_, graph) = read_source(textwrap.dedent(source), "model.py").graphs
    return [(layer.name, sorted(graph.predecessors(node))) for node, layer in graph.layers()]


BASE = """
    import keras
    from keras import layers

    inputs = keras.Input((8,))
    shared = layers.Dense(8, name="shared")
    a = shared(inputs)
    b = shared(layers.Dense(8, name="other")(inputs))
    base = keras.Model(inputs, layers.Add(name="sum")([a, b]))
"""


def test_a_layer_called_twice_has_no_single_output():
    assert layers_of(BASE + """
    head = layers.Dense(2, name="head")(base.get_layer("shared").output)
    model = keras.Model(inputs, head)
    """)[-1] == ("head", [])


def test_a_layer_by_index_or_of_no_such_name_is_unknown():
    for request in ('get_layer(index=1)', 'get_layer("nope")', 'get_layer("other", 1)'):
        assert layers_of(BASE + f"""
    head = layers.Dense(2, name="head")(base.{request}.output)
    model = keras.Model(inputs, head)
    """)[-1] == ("head", []), request


def test_input_and_name_of_a_tapped_layer():
    assert layers_of(BASE + """
    other = base.get_layer("other")
    head = layers.Dense(2, name="head_" + other.name)(layers.Concatenate()([other.input, other.output]))
    model = keras.Model(inputs, head)
    """) == [("input_layer", []), ("other", [0]), ("concatenate", [0, 1]), ("head_other", [2])]
