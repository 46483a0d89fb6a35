"""Builders whose Keras modules are injected: ``layers = None`` until ``get_submodules_from_kwargs(kwargs)``.

keras-applications (Keras 2's model builders) and the packages written
after it (efficientnet, classification_models, segmentation_models) keep
``backend, layers, models, utils = None, None, None, None`` in a builder's
module and fill them from the entry point's ``**kwargs``. bnlint reads
such a builder with Keras' own modules there; real Keras, given them by
the package's wrapper, builds the same model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from bnlint.engine import all_rules, lint
from bnlint.readers.python_source import read_source, read_source_file
from conftest import ROOT
from test_applications_fidelity import bnlint_graphs, compare, select_graph

PACKAGE = ROOT / "tests" / "data" / "injected_modules"

KERAS_SIDE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path[:0] = sys.argv[1:3]
import keras
from keras_reference import describe_config
from injected_modules.applications import TinyNetWide
model = TinyNetWide()
print(json.dumps(describe_config(model.get_config(), type(model).__name__)))
"""


def test_the_static_read_is_the_model_keras_builds_with_the_modules_injected():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", KERAS_SIDE, str(ROOT / "tests"), str(PACKAGE.parent)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    reference = json.loads(result.stdout.splitlines()[-1])
    graphs, error = bnlint_graphs(str(PACKAGE / "tinynet.py"))
    assert error is None, error
    graph = select_graph(graphs, "TinyNetWide")
    assert graph is not None, [g.get("entry") for g in graphs]
    assert len(graph["nodes"]) == len(reference["layers"]) == 31
    assert compare(reference, graph, graphs) == []


def test_the_findings_are_those_of_the_blocks():
    result = read_source_file(PACKAGE / "tinynet.py")
    found = {(d.code, d.origin.line, len(d.instances)) for d in lint(result, set(all_rules()))}
    # conv_bn's Conv2D and BatchNormalization, once per conv_bn call of TinyNetWide's 3 blocks.
    assert found == {("BN004", 16, 8), ("BN006", 18, 8)}


def read(source: str) -> list:
    return [[(layer.name, layer.class_name) for _, layer in graph.layers()]
            for graph in read_source(textwrap.dedent(source), "builder.py").graphs]


def test_an_imported_get_submodules_from_kwargs_hands_out_keras_modules():
    # The package that defines it is not read (not installed, or not this project's).
    assert read("""
        from keras_applications import get_submodules_from_kwargs

        def Net(**kwargs):
            backend, layers, models, keras_utils = get_submodules_from_kwargs(kwargs)
            inputs = layers.Input((4,))
            return models.Model(inputs, layers.BatchNormalization()(layers.Dense(2)(inputs)))
    """) == [[("input_layer", "InputLayer"), ("dense", "Dense"), ("batch_normalization", "BatchNormalization")]]


def test_modules_given_by_the_caller_are_used():
    # `layers=` names tf.keras' module: its Conv2D is Keras' Conv2D.
    assert read("""
        import tensorflow as tf
        from .utils import get_submodules_from_kwargs

        def Net(**kwargs):
            backend, layers, models, keras_utils = get_submodules_from_kwargs(kwargs)
            inputs = layers.Input((8, 8, 3))
            return models.Model(inputs, layers.Conv2D(4, 3)(inputs))

        model = Net(layers=tf.keras.layers, models=tf.keras.models)
    """) == [[("input_layer", "InputLayer"), ("conv2d", "Conv2D")]]


def test_the_older_get_keras_submodule_form():
    # keras-applications 1.0.6 and before: the modules are fetched once, at import.
    assert read("""
        from . import get_keras_submodule

        backend = get_keras_submodule("backend")
        layers = get_keras_submodule("layers")
        models = get_keras_submodule("models")
        unknown = get_keras_submodule("optimizers")

        def Net():
            inputs = layers.Input((4,))
            return models.Model(inputs, layers.BatchNormalization()(layers.Dense(2)(inputs)))
    """) == [[("input_layer", "InputLayer"), ("dense", "Dense"), ("batch_normalization", "BatchNormalization")]]


def test_a_call_of_another_form_is_not_the_convention():
    # Two arguments: not keras-applications' function, so its result is unknown and no model is read.
    assert read("""
        from mypackage import get_submodules_from_kwargs

        def Net(**kwargs):
            backend, layers, models, keras_utils = get_submodules_from_kwargs(kwargs, "extra")
            inputs = layers.Input((4,))
            return models.Model(inputs, layers.Dense(2)(inputs))
    """) == []
