"""Models built from a configuration object: ``def build_resnet(cfg: ResNetConfig)``.

tfimm (and other configuration-driven code) passes every setting in one
dataclass. Read on their own, such builders had nothing to go on: ``cfg``
was unknown, so the normalisation factory chose no layer and the stage loops
did not run. A required parameter annotated with a class of the code's own
that can be made without arguments (a dataclass whose fields all have
defaults, or a class whose ``__init__`` needs none and makes no Keras
objects) now stands for that class's default instance; class-level
variables (``expansion = 4``, a dataclass field's default) are read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from bnlint.engine import all_rules, lint
from bnlint.readers.python_source import read_source, read_source_file
from conftest import ROOT, run_bnlint
from test_applications_fidelity import HERE, bnlint_graphs, compare, select_graph

SOURCE = ROOT / "tests" / "data" / "configured_models" / "configured_resnet.py"

_BUILD_WITH_DEFAULT_CONFIG = r"""
import json, runpy, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from keras_reference import describe_config
namespace = runpy.run_path(sys.argv[2])
model = namespace[sys.argv[3]](namespace[sys.argv[4]]())
print(json.dumps(describe_config(model.get_config(), type(model).__name__)))
"""


def test_a_builder_taking_a_configuration_is_read_with_its_defaults_as_keras_builds_it():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    built = subprocess.run([sys.executable, "-c", _BUILD_WITH_DEFAULT_CONFIG, str(HERE), str(SOURCE),
                            "build_resnet", "ResNetConfig"], capture_output=True, text=True, env=env, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    reference = json.loads(built.stdout.splitlines()[-1])
    graphs, error = bnlint_graphs(str(SOURCE))
    assert error is None, error
    graph = select_graph(graphs, "build_resnet")
    assert compare(reference, graph, graphs) == []
    names = [node["name"] for node in graph["nodes"]]
    # Bottleneck.expansion = 4: every stage's first block projects its shortcut (8 -> 32, 32 -> 64 channels).
    assert [name for name in names if name.endswith("_proj")] == ["stage0_0_proj", "stage1_0_proj"]
    assert graph["name"] == "resnet"  # the configuration's (inherited) default name


def test_the_configured_momentum_is_reported_and_not_overwritten_by_the_fix(tmp_path):
    found = [d for d in lint(read_source_file(SOURCE), set(all_rules())) if d.code == "BN006"]
    assert [(d.origin.line, len(d.instances)) for d in found] == [(35, 10)]  # 9 in build_resnet, 1 in ConvBlock
    (tmp_path / "model.py").write_text(SOURCE.read_text())
    fixed = run_bnlint("check", "--fix", "--unsafe-fixes", "model.py", cwd=tmp_path)
    assert fixed.returncode == 1
    assert ("(not fixed: `momentum=cfg.bn_momentum` is read from a setting; change the value where "
            "`cfg.bn_momentum` is set)") in fixed.stdout
    assert (tmp_path / "model.py").read_text() == SOURCE.read_text()


def test_a_layer_that_applies_sublayers_with_weights_is_not_an_activation():
    """ConvBlock has no `build` and its `call` ends in a ReLU: it used to be taken for an activation."""
    (graph,) = [g for g in read_source_file(SOURCE).graphs if g.entry == "SmallNet"]
    assert graph.name == "resnet"  # `super().__init__(name=cfg.name)`, as Keras names it
    assert [(layer.class_name, layer.kind) for _, layer in graph.layers()] == [
        ("InputLayer", "input"), ("BatchNormalization", "batchnorm"), ("ConvBlock", "other"),
        ("GlobalAveragePooling2D", "pool"), ("Dense", "dense")]


def momentum_of(source: str) -> list:
    graphs = read_source(textwrap.dedent(source), "model.py").graphs
    return [layer.get("momentum") for graph in graphs for _, layer in graph.layers()
            if layer.class_name == "BatchNormalization"]


def test_class_level_variables_are_read_through_instances_classes_and_bases():
    assert momentum_of("""
        import keras
        from keras import layers

        class Defaults:
            momentum = 0.9

        class Tuned(Defaults):
            pass

        class Block:
            momentum = 0.8

            def __init__(self):
                self.bn = layers.BatchNormalization(momentum=self.momentum)

        inputs = keras.Input((8,))
        x = layers.BatchNormalization(momentum=Tuned.momentum)(inputs)
        x = Block().bn(x)
        model = keras.Model(inputs, x)
    """) == [0.9, 0.8]


def test_only_configurations_made_without_arguments_stand_in_for_a_required_parameter():
    source = """
        import dataclasses
        import typing
        import keras
        from keras import layers

        @dataclasses.dataclass
        class Complete:
            momentum: float = 0.5
            presets: typing.ClassVar[dict] = {}     # a class variable, not a field
            names: list = dataclasses.field(default_factory=list)

        @dataclasses.dataclass
        class Incomplete:
            depth: int
            momentum: float = 0.5

        @dataclasses.dataclass(init=False)
        class OwnInit:
            momentum: float = 0.5

        class Plain:
            def __init__(self, momentum=0.5):
                self.momentum = momentum

        class NeedsArguments:
            def __init__(self, momentum):
                self.momentum = momentum

        class MakesLayers:
            def __init__(self, momentum=0.5):
                self.momentum = momentum
                self.bn = layers.BatchNormalization()

        def build(cfg: {annotation}):
            inputs = keras.Input((8,))
            return keras.Model(inputs, layers.BatchNormalization(momentum=cfg.momentum)(inputs))
    """
    read = {name: momentum_of(source.replace("{annotation}", name))
            for name in ("Complete", "Incomplete", "OwnInit", "Plain", "NeedsArguments", "MakesLayers",
                         "'Complete'", "keras.Model")}
    known = {name: values[-1] for name, values in read.items() if values and isinstance(values[-1], float)}
    # (OwnInit writes no __init__: its instance reads the class attribute, as in Python.)
    assert known == {"Complete": 0.5, "OwnInit": 0.5, "Plain": 0.5, "'Complete'": 0.5}
