"""Functional subclasses (keras_hub, keras_cv): ``__init__`` builds a graph and hands it to ``super().__init__``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from bnlint.engine import lint
from bnlint.readers.python_source import read_source
from conftest import FIXTURES

FIXTURE = FIXTURES / "bn004_functional_subclass_backbone.py"

KERAS_SIDE = """
import json, runpy, sys
import keras
namespace = runpy.run_path(sys.argv[1])
described = {}
for var in ("backbone", "model"):
    model = namespace[var]
    described[model.name] = [[layer.name, type(layer).__name__] for layer in model.layers]
print(json.dumps(described))
"""


def static_layers(source: str, path: str = "model.py") -> dict:
    return {graph.name: [[layer.name, layer.class_name] for _, layer in graph.layers()]
            for graph in read_source(source, path).graphs}


def test_the_static_read_names_what_real_keras_builds():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", KERAS_SIDE, str(FIXTURE)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    keras_side = json.loads(result.stdout.splitlines()[-1])
    static = static_layers(FIXTURE.read_text(encoding="utf-8"), str(FIXTURE))
    # Keras names the backbone after its class (tiny_backbone) and nests it in the classifier as that layer.
    assert keras_side["tiny_classifier"][1] == ["tiny_backbone", "TinyBackbone"]
    static["tiny_classifier"][1][1] = "TinyBackbone"  # bnlint calls a nested model node Functional
    assert static == keras_side


def test_a_library_file_is_read_from_the_class_definition_alone():
    source = FIXTURE.read_text(encoding="utf-8").split("\nbackbone = ")[0]  # no instance: a library module
    result = read_source(source, "backbone.py")
    backbone, classifier = result.graphs
    assert (backbone.name, len(backbone), classifier.name) == ("tiny_backbone", 7, "tiny_classifier")
    # The classifier's backbone argument is unknown there: an operation on the input stands for it.
    assert [layer.kind for _, layer in classifier.layers()] == ["input", "op", "pool", "dense"]
    assert [(d.code, d.origin.line) for d in lint(result, {"BN004"})] == [("BN004", 15)]


def test_a_subclass_that_only_inherits_init_is_not_read_again():
    source = FIXTURE.read_text(encoding="utf-8").split("\nbackbone = ")[0] + textwrap.dedent("""
        class TinyBackbone50(TinyBackbone):
            \"\"\"A preset: the same graph.\"\"\"
    """)
    assert [graph.name for graph in read_source(source, "backbone.py").graphs] == ["tiny_backbone", "tiny_classifier"]


def test_super_init_without_a_graph_builds_nothing():
    graphs = read_source(textwrap.dedent("""
        import keras
        from keras import layers

        class Head(keras.Model):
            def __init__(self, units=4, **kwargs):
                super().__init__(**kwargs)  # a subclassed model: its graph comes from call
                self.dense = layers.Dense(units, name="dense")

            def call(self, x):
                return self.dense(x)
    """), "head.py").graphs
    assert [(graph.name, len(graph)) for graph in graphs] == [("head", 2)]


TRAIN_STEP_SUBCLASS = """
import keras
from keras import layers


class SuperResolution(keras.Model):
    \"\"\"Keeps Model's __init__ and overrides training only, as keras-io's EDSR does.\"\"\"

    def train_step(self, data):
        return super().train_step(data)


def make_model(filters=16):
    inputs = layers.Input(shape=(None, None, 3))
    x = layers.Conv2D(filters, 3, padding="same")(inputs)
    x = layers.BatchNormalization(momentum=0.1)(x)
    return SuperResolution(inputs, layers.Conv2D(3, 3, padding="same")(x))


model = make_model()
other = SuperResolution(inputs=model.input, outputs=model.output, name="named")
"""


def test_a_model_subclass_made_from_tensors_is_functional(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    script = ("import json, sys, runpy\nns = runpy.run_path(sys.argv[1])\nprint(json.dumps({m.name: "
              "[[l.name, type(l).__name__] for l in m.layers] for m in (ns['model'], ns['other'])}))")
    source = tmp_path / "edsr.py"
    source.write_text(TRAIN_STEP_SUBCLASS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", script, str(source)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    keras_side = json.loads(result.stdout.splitlines()[-1])
    assert list(keras_side) == ["super_resolution", "named"]
    assert static_layers(TRAIN_STEP_SUBCLASS) == keras_side
    found = lint(read_source(TRAIN_STEP_SUBCLASS, "edsr.py"), {"BN006"})
    assert [(d.code, d.origin.line) for d in found] == [("BN006", 16)]
