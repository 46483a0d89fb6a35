"""The engine: selection, suppression comments, grouping by site."""

from __future__ import annotations

import textwrap

import pytest

from bnlint.engine import all_rules, find_rule, lint, resolve_selection, suppressed_codes
from bnlint.errors import ConfigError
from bnlint.readers.python_source import read_source

DEFAULT = {"BN003", "BN004", "BN006"}


def findings(source: str, codes=DEFAULT):
    return lint(read_source(textwrap.dedent(source), "m.py"), codes)


def test_rules_are_collected_from_the_rules_package():
    assert set(all_rules()) >= DEFAULT
    assert find_rule("BN003").name == "dropout-before-batchnorm"
    assert find_rule("bn004").code == "BN004"
    assert find_rule("momentum-convention").code == "BN006"
    assert find_rule("BN999") is None


@pytest.mark.parametrize(
    "select, ignore, extend, expected",
    [
        (None, (), (), DEFAULT),
        (["BN003"], (), (), {"BN003"}),
        (["ALL"], ["BN004"], (), {"BN003", "BN006"}),
        (["BN00"], (), (), DEFAULT),
        (["redundant-bias"], (), ["BN006"], {"BN004", "BN006"}),
        ([], (), (), set()),
    ],
)
def test_selection(select, ignore, extend, expected):
    assert resolve_selection(select, ignore, extend) & DEFAULT == expected


def test_unknown_selector_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="unknown rule selector 'BN999'"):
        resolve_selection(["BN999"])
    with pytest.raises(ConfigError, match="'E501'"):
        resolve_selection(None, ["E501"])


@pytest.mark.parametrize(
    "comment, silenced",
    [
        ("# noqa", None),
        ("# noqa: BN003", {"BN003"}),
        ("# NOQA:BN003,BN004", {"BN003", "BN004"}),
        ("# noqa: E501", {"E501"}),
        ("# bnlint: ignore[BN003]", {"BN003"}),
        ("# bnlint: ignore[dropout-before-batchnorm, BN006]", {"BN003", "BN006"}),
        ("# bnlint: ignore", None),
        ("# a comment", set()),
    ],
)
def test_suppression_comments(comment, silenced):
    assert suppressed_codes(f"x = 1  {comment}") == silenced


def test_suppression_applies_on_the_first_line_of_the_flagged_call():
    source = """
        from keras import layers, Sequential
        model = Sequential([
            layers.Dense(8),  # noqa: BN004
            layers.BatchNormalization(momentum=0.1),  # bnlint: ignore[momentum-convention]
            layers.Dense(8),  # noqa: E501
            layers.BatchNormalization(
                momentum=0.2,  # noqa: BN006  (not the first line: no effect)
            ),
        ])
    """
    assert [(d.code, d.origin.line) for d in findings(source)] == [("BN004", 6), ("BN006", 7)]


def test_findings_are_grouped_by_site_with_instance_names():
    source = """
        import keras
        from keras import layers

        def block(x, name):
            x = layers.Conv2D(8, 3, name=name + "_conv")(x)
            return layers.BatchNormalization(name=name + "_bn")(x)

        inputs = keras.Input((32, 32, 3))
        x = inputs
        for i in range(5):
            x = block(x, f"b{i}")
        model = keras.Model(inputs, x)
    """
    (finding,) = findings(source)
    assert (finding.code, finding.origin.line) == ("BN004", 6)
    assert finding.instances == ["b0_conv", "b1_conv", "b2_conv", "b3_conv", "b4_conv"]
    assert finding.models == ["functional"]


def test_a_layer_in_two_models_is_one_instance():
    source = """
        import keras
        i = keras.Input((4,))
        z = keras.layers.Dense(4, name="code")(i)
        z = keras.layers.BatchNormalization()(z)
        encoder = keras.Model(i, z, name="encoder")
        out = keras.layers.Dense(4, use_bias=False)(z)
        autoencoder = keras.Model(i, out, name="autoencoder")
    """
    (finding,) = findings(source)
    assert finding.instances == ["code"]
    assert finding.models == ["encoder", "autoencoder"]


def test_unknown_values_are_never_reported():
    source = """
        import os
        from keras import layers, Sequential
        m = float(os.environ["M"])
        model = Sequential([layers.Dense(8, use_bias=bool(os.environ["B"])), layers.BatchNormalization(momentum=m)])
    """
    assert findings(source) == []


def test_why_a_finding_has_no_fix_is_said_for_source_only():
    # A dropout whose output is also a model output cannot be moved. In source, the finding says
    # so; a saved model has no fixes at all, so its finding has no such reason.
    from bnlint.graph import Layer, ModelGraph, SavedLayer, Site
    from bnlint.readers.result import ReadResult

    def result(origin_of) -> ReadResult:
        graph = ModelGraph("m")
        dense, dropout, bn = (
            graph.add_layer(Layer(name, cls, kind, config, origin_of(name), i))
            for i, (name, cls, kind, config) in enumerate([
                ("dense", "Dense", "dense", {"use_bias": False}), ("dropout", "Dropout", "dropout", {"rate": 0.5}),
                ("bn", "BatchNormalization", "batchnorm", {})])
        )
        graph.add_edge(dense, dropout)
        graph.add_edge(dropout, bn)
        graph.outputs = [dropout, bn]
        return ReadResult("m.py", [graph], "x = 1\n" * 4)

    (source,) = lint(result(lambda name: Site("m.py", ["dense", "dropout", "bn"].index(name) + 1, 1, 1, 2)), {"BN003"})
    (saved,) = lint(result(lambda name: SavedLayer("m.py", name)), {"BN003"})
    assert source.fix is None and source.unfixable.startswith("a layer on the way has another input or consumer")
    assert saved.fix is None and saved.unfixable is None
