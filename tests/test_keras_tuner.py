"""KerasTuner search spaces: bnlint reads the model a tuner builds first, every hyperparameter at its default.

The real side runs KerasTuner and Keras in one subprocess: the hypermodels
in ``tests/data/hypermodels/`` are built with a fresh
``keras_tuner.HyperParameters()`` and compared with bnlint's static read;
a real tuner is made from each to show that its first build takes those
same values; and scripted sequences of ``hp`` calls are replayed on
KerasTuner's ``HyperParameters`` and on bnlint's.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap

import pytest

from bnlint.engine import lint
from bnlint.graph import UNKNOWN
from bnlint.readers.hyperparameters import HyperParameters
from bnlint.readers.python_source import read_source
from conftest import ROOT
from test_applications_fidelity import bnlint_graphs, compare, select_graph

HYPERMODELS = ROOT / "tests" / "data" / "hypermodels"
# file -> the function or HyperModel class in it that builds the model
ENTRIES = {"mlp_function.py": "build_model", "conv_hypermodel.py": "ConvNet", "model_selection.py": "make_model"}

# Sequences of calls on one HyperParameters: (method, args, kwargs); ("enter", method, args) opens a
# `with hp.<method>(*args):` block and ("exit",) closes the innermost one. Each call's result is compared.
PROGRAMS = [
    [("Int", ["n", 1, 5], {}), ("Int", ["m", 2, 8], {"step": 2, "default": 6}), ("Int", ["n", 3, 9], {}),
     ("Float", ["lr", 1, 3], {}), ("Float", ["p", 0.1, 0.9], {"default": 0.5, "sampling": "linear"}),
     ("Choice", ["act", ["relu", "tanh"]], {}), ("Choice", ["k", [3, 5, 7]], {"default": 5}),
     ("Boolean", ["flag"], {}), ("Boolean", ["other"], {"default": True}), ("Fixed", ["f", "x"], {}),
     ("get", ["m"], {})],
    [("Choice", ["kind", ["a", "b"]], {}),
     ("enter", "conditional_scope", ["kind", ["a"]]), ("Int", ["a_units", 4, 8], {}), ("exit",),
     ("enter", "conditional_scope", ["kind", "b"]), ("Int", ["b_units", 4, 8], {}),
     ("Boolean", ["b_flag"], {"default": True}), ("exit",),
     ("Float", ["rate", 0.0, 1.0], {"parent_name": "kind", "parent_values": ["b"]}),
     ("Float", ["rate2", 0.0, 1.0], {"parent_name": "kind", "parent_values": "a"}),
     ("get", ["a_units"], {})],
    [("enter", "name_scope", ["block"]), ("Int", ["units", 1, 3], {}), ("Choice", ["kind", ["x", "y"]], {}),
     ("enter", "conditional_scope", ["kind", ["y"]]), ("Int", ["inner", 1, 2], {}), ("exit",),
     ("get", ["units"], {}), ("exit",),
     ("Int", ["units", 5, 6], {}), ("get", ["block/units"], {})],
]

KERAS_SIDE = r"""
import json, runpy, sys, tempfile, contextlib, warnings
warnings.simplefilter("ignore")
import keras
import keras_tuner as kt
sys.path.insert(0, sys.argv[1])
from keras_reference import describe_config

entries, programs = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {"models": {}, "values": {}, "first_build": {}, "programs": []}
for path, entry in entries.items():
    namespace = runpy.run_path(path)
    found = namespace[entry]
    build = found().build if isinstance(found, type) else found
    keras.backend.clear_session()
    hp = kt.HyperParameters()
    model = build(hp)
    out["models"][path] = describe_config(model.get_config(), type(model).__name__)
    out["values"][path] = hp.values
    # What a tuner passes to its first build, when it is made.
    seen = []
    def recording(hp, build=build):
        seen.append(dict(hp.values))  # (empty: a fresh space)
        model = build(hp)
        seen[-1] = dict(hp.values)
        return model
    hypermodel = recording
    if isinstance(found, type):
        hypermodel = found()
        hypermodel.build = recording
    with tempfile.TemporaryDirectory() as directory:
        kt.RandomSearch(hypermodel, objective="val_loss", max_trials=1, directory=directory, overwrite=True)
    out["first_build"][path] = seen[0]

def run(program):
    hp, results, scopes = kt.HyperParameters(), [], []
    for step in program:
        if step[0] == "enter":
            scope = getattr(hp, step[1])(*step[2])
            scope.__enter__()
            scopes.append(scope)
        elif step[0] == "exit":
            scopes.pop().__exit__(None, None, None)
        else:
            try:
                results.append(getattr(hp, step[0])(*step[1], **step[2]))
            except (KeyError, ValueError) as error:
                results.append("<raises>")
    return results

out["programs"] = [run(program) for program in programs]
print(json.dumps(out))
"""


@functools.lru_cache(maxsize=None)
def keras_side() -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    entries = {str(HYPERMODELS / name): entry for name, entry in ENTRIES.items()}
    result = subprocess.run(
        [sys.executable, "-c", KERAS_SIDE, str(ROOT / "tests"), json.dumps(entries), json.dumps(PROGRAMS)],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def run_program(program: list) -> list:
    """*program* on bnlint's HyperParameters, as the interpreter calls it; unknown where KerasTuner raises."""
    hp, results, scopes = HyperParameters(), [], []
    for step in program:
        if step[0] == "enter":
            scope = hp.call(step[1], list(step[2]), {})
            scope.enter()
            scopes.append(scope)
        elif step[0] == "exit":
            scopes.pop().exit()
        else:
            value = hp.call(step[0], list(step[1]), dict(step[2]))
            results.append("<raises>" if value is UNKNOWN else value)
    return results


@pytest.mark.parametrize("index", range(len(PROGRAMS)))
def test_hyperparameters_take_keras_tuner_values(index):
    assert run_program(PROGRAMS[index]) == keras_side()["programs"][index]


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_the_static_read_is_the_model_keras_tuner_builds(name):
    path = str(HYPERMODELS / name)
    reference = keras_side()["models"][path]
    graphs, error = bnlint_graphs(path)
    assert error is None, error
    graph = select_graph(graphs, ENTRIES[name])
    assert graph is not None, [g.get("entry") for g in graphs]
    assert compare(reference, graph, graphs) == []


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_a_tuner_first_builds_with_the_defaults(name):
    path = str(HYPERMODELS / name)
    side = keras_side()
    assert side["first_build"][path] == side["values"][path]
    assert side["values"][path]  # the hypermodel does ask for hyperparameters


def graphs_of(source: str) -> list:
    return [(graph.name, graph.entry, [layer.name for _, layer in graph.layers()])
            for graph in read_source(textwrap.dedent(source), "search.py").graphs]


BUILD = """
    import keras
    import keras_tuner as kt
    from keras import layers

    def build(hp):
        inputs = keras.Input((8,))
        x = inputs
        for _ in range(hp.Int("depth", 1, 4, default=2)):
            x = layers.Dense(hp.Choice("units", [16, 32]))(x)
        return keras.Model(inputs, layers.Dense(1)(x))
"""


def test_a_function_given_to_a_tuner_is_built_there():
    tuned = graphs_of(BUILD + """
    tuner = kt.Hyperband(build, objective="val_loss", max_epochs=3)
    """)
    assert tuned == [("functional", None, ["input_layer", "dense", "dense_1", "dense_2"])]


def test_a_tuner_starts_from_the_hyperparameters_it_is_given():
    tuned = graphs_of(BUILD + """
    hp = kt.HyperParameters()
    hp.Fixed("depth", 3)
    tuner = kt.RandomSearch(hypermodel=build, hyperparameters=hp, tune_new_entries=False, objective="loss")
    """)
    assert tuned == [("functional", None, ["input_layer", "dense", "dense_1", "dense_2", "dense_3"])]


def test_an_uncalled_function_of_hp_is_read_with_the_defaults():
    assert graphs_of(BUILD) == [("functional", "build", ["input_layer", "dense", "dense_1", "dense_2"])]


def test_a_function_without_hp_gets_no_hyperparameters():
    # `params` may be anything: its values stay unknown, so the loop runs once (as a loop of a count
    # bnlint cannot know does), not once per hyperparameter value.
    source = BUILD.replace("build(hp)", "build(params)").replace("hp.", "params.")
    assert graphs_of(source) == [("functional", "build", ["input_layer", "dense", "dense_1"])]


def test_a_hypermodel_instance_given_to_a_tuner_is_built_with_its_arguments():
    tuned = graphs_of("""
    import keras
    import keras_tuner
    from keras import layers

    class Head(keras_tuner.HyperModel):
        def __init__(self, classes):
            super().__init__()
            self.classes = classes

        def build(self, hp):
            inputs = keras.Input((4,))
            x = layers.Dense(hp.Int("units", 8, 64), name="hidden")(inputs)
            return keras.Model(inputs, layers.Dense(self.classes, name="out")(x))

    tuner = keras_tuner.BayesianOptimization(Head(classes=3), objective="val_loss")
    """)
    assert tuned == [("functional", None, ["input_layer", "hidden", "out"])]


def test_hyperparameters_are_unknown_where_keras_tuner_would_refuse_them():
    hp = HyperParameters()
    assert hp.call("Int", ["n", 1.5, 4], {}) is UNKNOWN  # not a whole number
    assert hp.call("Choice", ["c", []], {}) is UNKNOWN
    assert hp.call("Boolean", ["b"], {"default": "yes"}) is UNKNOWN
    assert hp.call("conditional_scope", ["undefined", ["x"]], {}) is UNKNOWN
    assert hp.call("get", ["missing"], {}) is UNKNOWN


SEARCH_SPACE = """
    import keras
    from keras import layers

    def build(hp):
        momentum = hp.Choice("momentum", [0.1, 0.01])
        inputs = keras.Input((8,))
        x = layers.Dense(16)(inputs)
        x = layers.BatchNormalization(momentum=momentum)(x)
        x = layers.Dense(16)(x)
        x = layers.BatchNormalization(momentum=0.1)(x)
        return keras.Model(inputs, x)
"""


def test_a_fix_never_replaces_a_hyperparameter():
    found = lint(read_source(textwrap.dedent(SEARCH_SPACE), "search.py"), {"BN006"})
    by_line = {d.origin.line: d for d in found}
    assert sorted(by_line) == [9, 11]
    # `momentum=momentum` is computed in the search space: no fix, and the reason is given.
    assert by_line[9].fix is None and "KerasTuner" in by_line[9].unfixable
    # A literal written in the same search space is fixed as anywhere else.
    assert by_line[11].fix is not None and by_line[11].unfixable is None


@pytest.mark.parametrize("body", [
    """return keras.Sequential([
            keras.Input((8,)), layers.Dense(16, use_bias=False),
            layers.BatchNormalization(momentum=hp.Choice("momentum", [0.1, 0.01])), layers.Dense(1)])""",
    """model = keras.Sequential([keras.Input((8,)), layers.Dense(16, use_bias=False)])
        m = hp.Choice("momentum", [0.1, 0.01])
        model.add(layers.BatchNormalization(momentum=m))
        return model""",
])
def test_a_hyperparameter_in_a_sequential_is_not_replaced_either(body):
    """A Sequential's layers were recorded without the arguments the search space computes."""
    source = f"""
    import keras
    from keras import layers

    def build_model(hp):
        {body}
    """
    [finding] = lint(read_source(textwrap.dedent(source), "search.py"), {"BN006"})
    assert finding.fix is None and "KerasTuner" in finding.unfixable


def test_outside_a_search_space_computed_arguments_are_fixed_as_before():
    source = SEARCH_SPACE.replace('hp.Choice("momentum", [0.1, 0.01])', "0.1").replace("build(hp)", "build()")
    found = lint(read_source(textwrap.dedent(source), "search.py"), {"BN006"})
    assert [(d.origin.line, d.fix is not None) for d in found] == [(9, True), (11, True)]


def test_a_hypermodel_fit_trains_the_model_its_build_made():
    # KerasTuner trains each trial's model with the hypermodel's own fit, when it has one.
    source = """
    import keras
    import keras_tuner
    from keras import layers

    class Net(keras_tuner.HyperModel):
        def build(self, hp):
            return keras.Sequential([keras.Input((8,)), layers.Dense(8, use_bias=False),
                                     layers.BatchNormalization(), layers.Dense(1)])

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, batch_size=hp.Choice("batch_size", [4, 32]), **kwargs)
    """
    found = lint(read_source(textwrap.dedent(source), "net.py"), {"BN010"})
    assert [(d.code, d.origin.line) for d in found] == [("BN010", 12)]
    assert "batches of 4" in found[0].message
