"""Subclasses of Keras layer classes defined in the checked file are of their base's kind.

Mask R-CNN's ``class BatchNorm(KL.BatchNormalization)`` only changes how
``training`` reaches the layer: the rules must see a BN there. A subclass
that keeps its base's constructor binds its arguments as the base does
(``BatchNorm(-1, 0.1)`` sets ``momentum``); one with its own ``__init__``
keeps the arguments it is given, the rest unknown.
"""

from __future__ import annotations

import textwrap

from bnlint.engine import all_rules, lint
from bnlint.readers.python_source import read_source, read_source_file
from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

SOURCE = ROOT / "tests" / "data" / "layer_subclasses" / "detection_backbone.py"


def test_the_graph_is_the_model_keras_builds():
    reference, graph, graphs = keras_and_bnlint(SOURCE, "backbone")
    assert [n["class_name"] for n in graph["nodes"]] == [
        "InputLayer", "ScaledConv", "BatchNorm", "Activation", "Conv2D", "BatchNorm", "Conv2D",
        "FrozenBatchNorm", "Activation"]
    # Only what bnlint leaves unknown: the values FrozenBatchNorm's own __init__ passes on unseen.
    assert sorted(compare(reference, graph, graphs)) == [
        "config: frozen_batch_norm.axis: keras -1, bnlint missing",
        "config: frozen_batch_norm.momentum: keras 0.99, bnlint missing"]


def kinds_of(source: str) -> list:
    (graph,) = [g for g in read_source(textwrap.dedent(source), "model.py").graphs if g.name == "functional"]
    return [(layer.class_name, layer.kind) for _, layer in graph.layers()]


def test_a_subclass_of_a_layer_class_that_is_no_layer_kind_stays_other():
    assert kinds_of("""
        import keras
        from keras import layers

        class Scale(layers.Layer):
            def call(self, x):
                return x * 2.0

        class Gate(Scale):
            pass

        inputs = keras.Input((8,))
        model = keras.Model(inputs, Gate()(Scale()(inputs)))
    """)[1:] == [("Scale", "other"), ("Gate", "other")]


def test_the_rules_see_the_subclass_as_its_base():
    found = {(d.code, d.origin.line) for d in lint(read_source_file(SOURCE), set(all_rules()))}
    assert ("BN006", 30) in found  # BatchNorm(-1, 0.1): momentum bound positionally, as BatchNormalization's


FIXABLE = """
    import keras
    from keras import layers

    class BatchNorm(layers.BatchNormalization):
        pass

    class MyBN(layers.BatchNormalization):
        def __init__(self, axis, momentum=0.99, **kwargs):
            super().__init__(axis=axis, momentum=momentum, **kwargs)

    inputs = keras.Input((8, 8, 3))
    x = BatchNorm(-1, 0.1)(layers.Conv2D(4, 3, use_bias=False)(inputs))
    x = MyBN(-1, 0.1)(layers.Conv2D(4, 3, use_bias=False)(x))
    x = MyBN(-1, momentum=0.1)(layers.Conv2D(4, 3, use_bias=False)(x))
    model = keras.Model(inputs, x)
"""


def test_fixes_set_a_subclass_argument_where_its_signature_puts_it():
    from bnlint.diagnostics import SetArgument
    from bnlint.fixer import fix_source
    from bnlint.graph import Site
    from bnlint.writers.arguments import argument_problem

    lines = fix_source(textwrap.dedent(FIXABLE), "model.py", {"BN006"}, None, unsafe=True).text.splitlines()
    assert "x = BatchNorm(-1, 0.9)(layers.Conv2D(4, 3, use_bias=False)(inputs))" in lines  # the base's position
    assert "x = MyBN(-1, momentum=0.9)(layers.Conv2D(4, 3, use_bias=False)(x))" in lines  # a keyword: set there
    assert "x = MyBN(-1, 0.1)(layers.Conv2D(4, 3, use_bias=False)(x))" in lines  # its own signature: unknown
    # Where the class's own positional parameters are unknown, the writer does not guess.
    reason = argument_problem("MyBN(-1, 0.1)", SetArgument(Site("model.py", 1, 1, 1, 14), "MyBN", "momentum", 0.9))
    assert reason == "`MyBN` takes positional arguments bnlint cannot name; one may be `momentum`"
