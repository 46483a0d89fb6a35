"""ModelGraph rewriting (insert_after, remove, replace, set_config, validate), without TensorFlow."""

from __future__ import annotations

import pytest

import bnlint
from bnlint.graph import SavedLayer
from bnlint.readers.python_source import read_source
from bnlint.rewrite import RewriteError
from conftest import FIXTURES, ROOT

SAVED = ROOT / "fixtures" / "saved"
FUNCTIONAL = SAVED / "functional_bias_dropout_momentum.keras"  # stem, stem_bn, conv, bn_momentum, relu, dropout, ...

RESIDUAL = """
import keras
from keras import layers
inputs = keras.Input((8,))
x = layers.Dense(8, name="shortcut")(inputs)
y = layers.Dense(8, name="branch")(x)
model = keras.Model(inputs, layers.Add(name="add")([x, y]))
"""

SIAMESE = """
import keras
from keras import layers
a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
shared = layers.Dense(8, name="shared")
model = keras.Model([a, b], layers.Concatenate(name="cat")([shared(a), shared(b)]))
"""


def functional():
    return bnlint.load(FUNCTIONAL)[0]


def source_graph(text: str):
    return read_source(text, "model.py").graphs[0]


def names(graph, nodes) -> list[str]:
    return [graph.layer(n).name for n in nodes]


def codes(graph) -> list[tuple[str, str]]:
    return sorted((d.code, d.origin.layer_name) for d in bnlint.check(graph))


def test_insert_after_rewires_every_consumer_and_keeps_input_indices():
    graph = functional()
    stem_bn = graph.find("stem_bn")
    consumers = dict(graph.out_edges(stem_bn))  # conv (index 0) and add (index 0)
    new = graph.insert_after("stem_bn", ("Dropout", {"rate": 0.1}))
    assert graph.successors(stem_bn) == [new]
    assert dict(graph.out_edges(new)) == consumers
    assert names(graph, graph.predecessors(graph.find("add"))) == ["stem_bn_dropout", "bn_after_dropout"]
    layer = graph.layer(new)
    assert (layer.name, layer.class_name, layer.kind, layer.config["rate"]) == ("stem_bn_dropout", "Dropout", "dropout", 0.1)
    assert layer.origin == SavedLayer(str(FUNCTIONAL), "stem_bn_dropout")
    assert graph.edits == {layer.layer_id: "new"}
    graph.validate()


def test_inserted_layers_are_linted_like_read_ones():
    graph = functional()
    assert ("BN003", "dropout") in codes(graph)
    graph.insert_after("conv", "Dropout")  # feeds bn_momentum: a new BN003
    assert ("BN003", "conv_dropout") in codes(graph)


def test_insert_after_an_output_makes_the_new_layer_the_output_and_names_stay_unique():
    graph = functional()
    first = graph.insert_after("head", "Softmax")
    second = graph.insert_after("head", "Softmax")
    assert graph.outputs == [first]
    assert names(graph, [second, first]) == ["head_softmax_1", "head_softmax"]
    assert graph.predecessors(first) == [second]


def test_remove_reconnects_and_clears_the_finding():
    graph = functional()
    dropout = graph.find("dropout")
    graph.remove(dropout)
    assert dropout not in graph
    assert names(graph, graph.predecessors(graph.find("bn_after_dropout"))) == ["relu"]
    assert ("BN003", "dropout") not in codes(graph)
    graph.validate()


def test_remove_an_output_makes_its_producer_the_output():
    graph = functional()
    graph.remove("head")
    assert names(graph, graph.outputs) == ["pool"]


@pytest.mark.parametrize(
    "node, reason",
    [
        ("add", "has 2 inputs, so which one should feed its consumers is ambiguous"),
        ("image", "it is an input of model"),
    ],
)
def test_remove_refuses_ambiguous_nodes(node, reason):
    graph = functional()
    before = graph.to_dict()
    with pytest.raises(RewriteError, match=reason):
        graph.remove(node)
    assert graph.to_dict() == before


def test_remove_refuses_to_feed_one_producer_twice_into_a_merge():
    graph = source_graph(RESIDUAL)
    with pytest.raises(RewriteError, match="'shortcut' would feed 'add' twice"):
        graph.remove("branch")


def test_replace_keeps_connections_name_and_output():
    graph = functional()
    relu = graph.find("relu")
    producers, consumers = graph.predecessors(relu), graph.successors(relu)
    assert graph.replace("relu", ("Activation", {"activation": "gelu"})) == relu
    layer = graph.layer(relu)
    assert (layer.name, layer.class_name, layer.config["activation"]) == ("relu", "Activation", "gelu")
    assert (graph.predecessors(relu), graph.successors(relu)) == (producers, consumers)
    assert graph.replace("head", ("Dense", {"units": 3})) == graph.outputs[0]
    graph.validate()


def test_replace_keeps_merge_arity():
    graph = functional()
    graph.replace("add", ("Concatenate", {"axis": -1}))  # merge -> merge
    assert graph.layer(graph.find("add")).kind == "merge"
    with pytest.raises(RewriteError, match="a merge must be replaced by a merge"):
        graph.replace("add", "ReLU")
    with pytest.raises(RewriteError, match="a single-input layer must be replaced by a single-input layer"):
        graph.replace("relu", "Add")
    with pytest.raises(RewriteError, match="an inserted layer takes the one output"):
        graph.insert_after("relu", "Add")


def test_set_config_updates_rules_view_and_keras_config():
    graph = functional()
    assert ("BN006", "bn_momentum") in codes(graph)
    original = graph.layer(graph.find("bn_momentum")).keras
    graph.set_config("bn_momentum", momentum=0.99)
    layer = graph.layer(graph.find("bn_momentum"))
    assert layer.config["momentum"] == 0.99 and layer.keras["config"]["momentum"] == 0.99
    assert original["config"]["momentum"] != 0.99  # the read config is copied, not changed
    assert ("BN006", "bn_momentum") not in codes(graph)
    assert graph.edits == {layer.layer_id: "config"}


def test_a_hand_built_graphs_layers_are_each_their_own_layer():
    from bnlint.graph import Layer, ModelGraph

    graph = ModelGraph("hand")
    x = graph.add_layer(Layer("x", "InputLayer", "input"))
    dense = graph.add_layer(Layer("dense", "Dense", "dense", {"units": 4}))
    bn = graph.add_layer(Layer("bn", "BatchNormalization", "batchnorm", {"momentum": 0.1}))
    relu = graph.add_layer(Layer("relu", "ReLU", "activation", layer_id=7))
    after = graph.add_layer(Layer("after", "Dropout", "dropout"))
    graph.add_edge(x, dense), graph.add_edge(dense, bn), graph.add_edge(bn, relu), graph.add_edge(relu, after)
    graph.inputs, graph.outputs = [x], [after]
    assert [graph.layer(n).layer_id for n in (x, dense, bn, relu, after)] == [0, 1, 2, 7, 8]
    graph.set_config("bn", momentum=0.9)
    assert graph.layer(dense).config == {"units": 4} and graph.layer(bn).config["momentum"] == 0.9
    replaced = graph.layer(graph.replace("relu", ("Activation", {"activation": "gelu"})))
    assert replaced.name == "relu"
    later = graph.layer(graph.add_layer(Layer("later", "Dropout", "dropout")))  # no id of the replacement's
    assert len({graph.layer(n).layer_id for n in graph.nodes()}) == len(graph) == 6 and later.layer_id == 10


def test_set_config_on_a_shared_layer_changes_every_call():
    graph = source_graph(SIAMESE)
    calls = [n for n, layer in graph.layers() if layer.name == "shared"]
    assert len(calls) == 2
    with pytest.raises(RewriteError, match="called 2 times"):
        graph.find("shared")
    graph.set_config(calls[1], use_bias=False, activation="relu")
    assert [(graph.layer(n).config["use_bias"], graph.layer(n).config["activation"]) for n in calls] == [
        (False, "relu"), (False, "relu")]


def test_set_config_rename_must_stay_unique():
    graph = functional()
    with pytest.raises(RewriteError, match="already has that name"):
        graph.set_config("conv", name="stem")
    graph.set_config("conv", name="conv_renamed")
    assert graph.find("conv_renamed") and graph.layer(graph.find("conv_renamed")).keras["config"]["name"] == "conv_renamed"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda g: g.insert_after(99, "ReLU"), "has no node 99"),
        (lambda g: g.remove("nope"), "has no layer named 'nope'"),
        (lambda g: g.set_config(1.5, units=2), "a node is a node id or a layer name"),
        (lambda g: g.insert_after("relu", "BatchNormalisation"), "'BatchNormalisation' is not a Keras layer class"),
        (lambda g: g.insert_after("relu", ("Dense", {"units": 4, "name": "head"})), "already has a layer named 'head'"),
        (lambda g: g.insert_after("relu", 42), "not a layer spec"),
        (lambda g: g.insert_after("relu", {"config": {}}), "needs a 'class_name' string"),
    ],
)
def test_bad_edits_are_clear_errors_and_change_nothing(call, message):
    graph = functional()
    before = graph.to_dict()
    with pytest.raises(RewriteError, match=message):
        call(graph)
    assert graph.to_dict() == before


def test_serialised_layer_spec_is_accepted():
    graph = functional()
    spec = {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"epsilon": 1e-5}}
    new = graph.insert_after("head", spec)
    assert graph.layer(new).config["epsilon"] == 1e-5 and graph.layer(new).kind == "batchnorm"
    assert "name" not in spec["config"]  # the caller's dict is not changed


def test_validate_finds_broken_structure():
    graph = functional()
    graph.outputs = [123]
    with pytest.raises(RewriteError, match="missing node 123 as an output"):
        graph.validate()
    graph = functional()
    graph.add_edge(graph.find("head"), graph.find("stem"))
    with pytest.raises(RewriteError, match="cycle"):
        graph.validate()
    graph = functional()
    graph.add_edge(graph.find("stem"), graph.find("conv"))
    with pytest.raises(RewriteError, match="'conv' .* takes one input but has 2"):
        graph.validate()


@pytest.mark.parametrize("path", sorted(SAVED.glob("*.keras")) + sorted(SAVED.glob("*.h5")), ids=lambda p: p.name)
def test_graphs_of_saved_fixtures_validate(path):
    for graph in bnlint.load(path):
        graph.validate()


def test_graphs_of_source_fixtures_validate():
    for path in sorted(FIXTURES.glob("*.py")):
        for graph in bnlint.load(path):
            graph.validate()


def test_check_takes_a_path_with_select_and_options(tmp_path):
    found = bnlint.check(FUNCTIONAL)
    assert sorted(d.code for d in found) == ["BN003", "BN004", "BN006"]
    assert [d.code for d in bnlint.check(FUNCTIONAL, select=["BN004"])] == ["BN004"]
    with pytest.raises(bnlint.ConfigError, match="unknown rule option 'bn-positoin'"):
        bnlint.check(FUNCTIONAL, options={"bn-positoin": "consistent"})
    with pytest.raises(bnlint.ConfigError, match="unknown rule selector 'BN999'"):
        bnlint.check(FUNCTIONAL, select=["BN999"])
    with pytest.raises(bnlint.InputError, match="no such file or directory"):
        bnlint.load(tmp_path / "missing.keras")
    with pytest.raises(bnlint.InputError, match="no such file or directory"):
        bnlint.check(tmp_path / "missing.keras")


@pytest.mark.parametrize("call, error, message", [
    (lambda: bnlint.check(FUNCTIONAL, select="FOO"), bnlint.ConfigError, "^select: unknown rule selector 'FOO'"),
    (lambda: bnlint.check(FUNCTIONAL, ignore=["BN00X"]), bnlint.ConfigError, "^ignore: unknown rule selector"),
    (lambda: bnlint.check(FUNCTIONAL, select=[4]), TypeError, "^select= takes rule selectors .* not \\[4\\]$"),
    (lambda: bnlint.check(FUNCTIONAL, select=4), TypeError, "^select= takes rule selectors .* not 4$"),
    (lambda: bnlint.check(FUNCTIONAL, ignore=4), TypeError, "^ignore= takes rule selectors"),
    (lambda: bnlint.check(FUNCTIONAL, options=["x"]), TypeError, "^options= takes a dict of rule options"),
    (lambda: bnlint.fix_source(None), TypeError, "^fix_source\\(\\) takes the source text as a str, not NoneType$"),
    (lambda: bnlint.fix_source(b"import keras"), TypeError, "not bytes \\(decode it first\\)$"),
    (lambda: bnlint.fix_source("import keras", select=[None]), TypeError, "^select= takes rule selectors"),
    (lambda: bnlint.load(""), bnlint.InputError, "^'': is an empty path"),
    (lambda: bnlint.insert_batchnorm(FUNCTIONAL, after=3), TypeError, "^after= takes a layer name.* not 3$"),
])
def test_wrong_arguments_get_errors_that_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_check_applies_rule_options():
    source = (FIXTURES / "good_bn002_sequential_list_bn_after_activation.py")
    assert bnlint.check(source, select=["BN002"]) == []
    found = bnlint.check(source, select=["BN002"], options={"bn-position": "before-activation"})
    assert {d.code for d in found} == {"BN002"}


def test_fix_source_returns_fixed_text_and_what_remains():
    text = (FIXTURES / "sequential_list_dropout_before_bn.py").read_text()
    fixed, remaining = bnlint.fix_source(text, unsafe=True)
    assert fixed != text
    assert not any(d.code == "BN003" for d in remaining)
    again, _ = bnlint.fix_source(fixed, unsafe=True)
    assert again == fixed
    same, found = bnlint.fix_source(text)  # BN003's fix is unsafe: nothing changes without unsafe=True
    assert same == text and any(d.code == "BN003" for d in found)


def test_load_refuses_what_is_not_a_model_without_importing_keras():
    with pytest.raises(bnlint.InputError, match="is neither a path nor a Keras 3 keras.Model"):
        bnlint.load(42)


def test_load_sees_a_sibling_module_that_appeared_since_the_last_load(tmp_path):
    """Module lookups are remembered within one load (files of a package import the same modules), not across loads."""
    (tmp_path / "m.py").write_text(
        "import keras\nfrom blocks import block\n\ninputs = keras.Input((4,))\n"
        "model = keras.Model(inputs, block(keras.layers.Dense(8)(inputs)))\n"
    )
    assert [layer.class_name for _, layer in bnlint.load(tmp_path / "m.py")[0].layers()] == ["InputLayer", "Dense", "blocks.block"]
    (tmp_path / "blocks.py").write_text("from keras import layers\n\ndef block(x):\n    return layers.BatchNormalization()(x)\n")
    classes = [layer.class_name for _, layer in bnlint.load(tmp_path / "m.py")[0].layers()]
    assert classes == ["InputLayer", "Dense", "BatchNormalization"]
