"""Rewriting live Keras models whose layers are called in less plain ways, rebuilt with to_keras().

Tensors passed by keyword (``MultiHeadAttention(...)(query=q, value=v)``), one of several outputs
of a layer (an LSTM's ``seq, h, c``), a nested model called twice, and a merge of one tensor with
itself: each is read as the graph it is, edits to it rebuild, and the rebuilt model computes what
the original does.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import bnlint  # noqa: E402
from bnlint.keras_build import BuildError  # noqa: E402

layers = keras.layers


def edge_names(graph) -> set[tuple[str, str]]:
    return {(graph.layer(p).name, graph.layer(c).name) for p, c, _ in graph.edges()}


def predict(model, data):
    out = model(data, training=False)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else np.asarray(out)


def sequences(shape=(5, 8), count=6, seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(count, *shape)) * 3 + 1).astype("float32")


def lstm_with_states():
    """An LSTM returning ``seq, h, c`` (the three tensors of one layer), with the model input."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((5, 3))
    seq, _, c = layers.LSTM(4, return_state=True, name="lstm")(inputs)
    return inputs, seq, c


def dropout_reading_state() -> "keras.Model":
    inputs, _, c = lstm_with_states()
    return keras.Model(inputs, layers.Dense(2, name="head")(layers.Dropout(0.1, name="drop")(c)))


# Keyword inputs


def test_tensors_passed_by_keyword_are_edges_and_rebuild_exactly():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, 8))
    b1 = layers.BatchNormalization(name="bn1")(layers.Dense(8, name="d")(inputs))
    attended = layers.MultiHeadAttention(2, 4, name="mha")(query=b1, value=b1)
    model = keras.Model(inputs, layers.BatchNormalization(name="bn2")(attended))
    graph = bnlint.load(model)[0]
    assert ("bn1", "mha") in edge_names(graph)
    assert [graph.layer(n).name for n in graph.predecessors(graph.find("mha"))] == ["bn1"]
    data = sequences()
    np.testing.assert_array_equal(predict(graph.to_keras(), data), predict(model, data))


def test_positional_and_keyword_inputs_in_either_order_rebuild_exactly():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5, 8))
    q, v = layers.Dense(8, name="q")(inputs), layers.Dense(8, name="v")(inputs)
    first = layers.MultiHeadAttention(2, 4, name="mha")(q, value=v)
    second = layers.MultiHeadAttention(2, 4, name="mha2")(value=v, query=q)
    model = keras.Model(inputs, layers.Add(name="add")([first, second]))
    graph = bnlint.load(model)[0]
    assert {("q", "mha"), ("v", "mha"), ("q", "mha2"), ("v", "mha2")} <= edge_names(graph)
    data = sequences(seed=1)
    np.testing.assert_array_equal(predict(graph.to_keras(), data), predict(model, data))


# One of several outputs


def test_removing_a_dropout_that_reads_an_lstm_state_keeps_reading_that_state():
    model = dropout_reading_state()
    graph = bnlint.load(model)[0]
    graph.remove("drop")
    rebuilt = graph.to_keras()
    assert "drop" not in [layer.name for layer in rebuilt.layers]
    data = sequences((5, 3))
    np.testing.assert_array_equal(predict(rebuilt, data), predict(model, data))


def test_replacing_a_dropout_that_reads_an_lstm_state_keeps_reading_that_state():
    model = dropout_reading_state()
    graph = bnlint.load(model)[0]
    graph.replace("drop", ("Activation", {"activation": "linear"}))
    rebuilt = graph.to_keras()
    assert type(rebuilt.get_layer("drop")).__name__ == "Activation"
    data = sequences((5, 3))
    np.testing.assert_array_equal(predict(rebuilt, data), predict(model, data))


def test_two_outputs_of_one_layer_as_model_outputs_rebuild_as_those_two():
    inputs, seq, c = lstm_with_states()
    model = keras.Model(inputs, [seq, c])
    rebuilt = bnlint.load(model)[0].to_keras()
    data = sequences((5, 3))
    expected, got = predict(model, data), predict(rebuilt, data)
    assert len(got) == 2 and [g.shape for g in got] == [(6, 4), (6, 4)]
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have, want)


def test_removing_an_output_dropout_that_reads_an_lstm_state_keeps_that_state_the_output():
    inputs, _, c = lstm_with_states()
    model = keras.Model(inputs, layers.Dropout(0.1, name="drop")(c))
    graph = bnlint.load(model)[0]
    graph.remove("drop")
    data = sequences((5, 3))
    np.testing.assert_array_equal(predict(graph.to_keras(), data), predict(model, data))


def test_insert_batchnorm_after_a_layer_with_three_outputs_is_refused():
    inputs, seq, c = lstm_with_states()
    with pytest.raises(BuildError, match="returns 3 tensors"):
        bnlint.insert_batchnorm(keras.Model(inputs, [seq, c]), after="lstm")


# Nested model called twice


def test_a_nested_model_called_twice_is_one_graph_and_its_edit_is_rebuilt():
    keras.utils.set_random_seed(3)
    sub_in = keras.Input((4,))
    s = layers.Dense(4, name="sd")(layers.Dropout(0.2, name="sdrop")(sub_in))
    sub = keras.Model(sub_in, layers.BatchNormalization(name="sbn")(s), name="sub")
    inputs = keras.Input((4,))
    d1, d2 = layers.Dense(4, name="d1")(inputs), layers.Dense(4, name="d2")(inputs)
    outer = keras.Model(inputs, layers.Add(name="add")([sub(d1), sub(d2)]), name="outer")
    graphs = bnlint.load(outer)
    assert [g.name for g in graphs] == ["outer", "sub"]
    graphs[1].remove("sdrop")
    rebuilt = graphs[0].to_keras()
    assert [layer.name for layer in rebuilt.get_layer("sub").layers][1:] == ["sd", "sbn"]
    data = np.random.default_rng(3).normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(predict(rebuilt, data), predict(outer, data))  # dropout is inactive in inference


# A merge of one tensor with itself


def test_replacing_a_merge_of_one_tensor_with_itself_keeps_both_inputs():
    keras.utils.set_random_seed(4)
    inputs = keras.Input((4,))
    d = layers.Dense(4, name="d")(inputs)
    model = keras.Model(inputs, layers.Add(name="add")([d, d]))
    graph = bnlint.load(model)[0]
    graph.replace("add", "Multiply")
    rebuilt = graph.to_keras()
    assert type(rebuilt.get_layer("add")).__name__ == "Multiply"
    data = np.random.default_rng(4).normal(size=(3, 4)).astype("float32")
    dense = np.asarray(model.get_layer("d")(data))
    np.testing.assert_array_equal(predict(rebuilt, data), dense * dense)


# Dict inputs and outputs


def dict_model() -> "keras.Model":
    keras.utils.set_random_seed(5)
    a, b = keras.Input((10,), name="a"), keras.Input((6,), name="b")
    p = layers.BatchNormalization(name="bn")(layers.Dense(4, name="dense")(a))
    q = layers.Dense(4, name="dense_b")(b)
    model = keras.Model({"a": a, "b": b}, {"o1": p, "o2": layers.Add(name="add")([p, q])})
    bn = model.get_layer("bn")
    bn.set_weights([w + np.arange(4, dtype="float32") for w in bn.get_weights()])  # not the identity
    return model


@pytest.mark.parametrize("source", ["live", "keras", "h5"])
def test_dict_inputs_and_outputs_rebuild_as_dicts_with_their_keys(tmp_path, source):
    model = dict_model()
    if source != "live":
        model.save(tmp_path / f"m.{source}")
    graph = bnlint.load(model if source == "live" else tmp_path / f"m.{source}")[0]
    rebuilt = graph.to_keras()
    assert sorted(rebuilt.input) == ["a", "b"] and sorted(rebuilt.output) == ["o1", "o2"]
    data = {"a": sequences((10,)), "b": sequences((6,), seed=1)}
    expected, got = model(data, training=False), rebuilt(data, training=False)
    for key in ("o1", "o2"):
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(expected[key]))
    graph.remove("bn")  # the output "o1" becomes the Dense's, under the same key
    assert sorted(graph.to_keras()(data)) == ["o1", "o2"]
