"""Activation functions of the code's own (``activation=swish``) are run to learn what they compute.

bnlint runs such a function on a placeholder, in scratch, and calls it a
hidden nonlinearity (``"<function swish>"``) when it applies a known
activation other than an output squashing one; ``"linear"`` when it returns
its input; unknown otherwise. Here its answers are checked against the same
functions evaluated by real Keras.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

from bnlint.checker import check_paths
from bnlint.graph import UNKNOWN

SOURCE = ROOT / "tests" / "data" / "own_activations" / "model.py"

# What each layer's activation function does to numbers, by real Keras: "affine" (a + b x, exactly),
# "squashing" (every output in [0, 1]) or "nonlinear".
_EVALUATE = r"""
import json, runpy, sys
import numpy as np
import keras

model = runpy.run_path(sys.argv[1])[sys.argv[2]]()
x = np.linspace(-6.0, 6.0, 241, dtype="float32").reshape(1, -1)
found = {}
for layer in model.layers:
    if isinstance(layer, keras.layers.Lambda):  # (its function is what it computes, a Keras one included)
        function = layer.function
    elif not type(layer).__module__.startswith("keras"):  # a layer class of the file's own, on each channel
        channels = layer.input.shape[-1]
        function = lambda t, layer=layer, c=channels: layer(keras.ops.repeat(keras.ops.reshape(t, (-1, 1)), c, axis=1))[:, 0]
    else:
        function = getattr(layer, "activation", None)
        if function is None or getattr(function, "__module__", "").startswith("keras"):
            continue
    y = np.asarray(keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(x)))).ravel()
    design = np.stack([x.ravel(), np.ones(x.size)], axis=1)
    fit, *_ = np.linalg.lstsq(design, y, rcond=None)
    if np.max(np.abs(design @ fit - y)) < 1e-4:
        found[layer.name] = "affine"
    elif y.min() >= 0 and y.max() <= 1:
        found[layer.name] = "squashing"
    else:
        found[layer.name] = "nonlinear"
print(json.dumps({"semantics": found, "layers": [[layer.name, type(layer).__name__] for layer in model.layers]}))
"""


def _keras_semantics(source=SOURCE, builder="own_activations") -> dict:
    """``{"semantics": what each activation function computes, "layers": [[name, class], ...]}`` by Keras."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", _EVALUATE, str(source), builder],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_own_activation_functions_are_read_as_keras_computes_them():
    reference, graph, graphs = keras_and_bnlint(SOURCE, "own_activations")
    described = _described(graph)
    # Layers, edges and every other value match Keras; the activations are bnlint's descriptions.
    assert [d for d in compare(reference, graph, graphs)
            if not d.startswith(tuple(f"config: {name}.activation:" for name in described))] == []
    semantics = _keras_semantics()["semantics"]
    assert set(semantics) == set(described) == {
        "block1_act", "block2_act", "block3_act", "block4_act", "block5_act", "fused_conv", "projection", "classes"}
    keras_names = {layer["name"]: layer["config"]["activation"] for layer in reference["layers"]
                   if layer["name"] in described}
    for name, activation in described.items():
        if semantics[name] == "nonlinear":
            assert activation == (f"<function {keras_names[name]}>" if keras_names[name] else "<lambda>"), name
        elif semantics[name] == "affine":
            assert activation == "linear", name
        else:  # an output function: left unknown, as a BN next to it is not classified
            assert activation == "<unknown>", name
    assert sorted(set(semantics.values())) == ["affine", "nonlinear", "squashing"]


def _described(graph: dict) -> dict[str, str]:
    """bnlint's activation of each layer given a function of the file's own."""
    own = {"block1_act", "block2_act", "block3_act", "block4_act", "block5_act", "fused_conv", "projection",
           "classes"}
    return {node["name"]: node["config"]["activation"] for node in graph["nodes"] if node["name"] in own}


def assert_one_bn002_without_fix(source, line: int, phrases: tuple[str, ...], unfixable: str) -> None:
    """*source*'s only finding is a BN002 at *line* whose message has *phrases*, with no fix, saying *unfixable*."""
    report = check_paths([str(source)], jobs=1)
    assert [(d.code, d.origin.line) for d in report.diagnostics] == [("BN002", line)]
    finding = report.diagnostics[0]
    assert all(phrase in finding.message for phrase in phrases), finding.message
    assert finding.fix is None and unfixable in finding.unfixable


def test_a_fused_own_activation_before_bn_is_reported_without_a_fix():
    assert_one_bn002_without_fix(SOURCE, 53, ("activation='<function swish>'", "5 of the 6 BN layers"),
                                 "a function of the code's own")


def test_running_an_activation_leaves_no_trace_in_the_model(tmp_path):
    # The function makes a ReLU when run: the model's own ReLU is still Keras' first, "re_lu".
    path = tmp_path / "model.py"
    path.write_text(
        "import keras\nfrom keras import layers\n\n"
        "def act(x):\n    return layers.ReLU()(x)\n\n"
        "inputs = keras.Input((8,))\n"
        "x = layers.Dense(4, activation=act)(inputs)\n"
        "x = layers.ReLU()(x)\n"
        "model = keras.Model(inputs, x)\n"
    )
    from bnlint.readers import read_path

    graphs = read_path(path, "model.py").graphs
    model = next(g for g in graphs if g.name == "functional")
    assert [layer.name for _, layer in model.layers()] == ["input_layer", "dense", "re_lu"]
    assert model.layer(1).get("activation") == "<function act>"


def test_what_cannot_be_told_stays_unknown(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(
        "import keras\nimport mystery\nfrom keras import layers\n\n"
        "def scaled(x):\n    return mystery.squash(x) * 2\n\n"
        "def gate(x):\n    return keras.activations.sigmoid(x)\n\n"
        "inputs = keras.Input((8,))\n"
        "x = layers.Dense(4, activation=scaled)(inputs)\n"
        "x = layers.Dense(4, activation=gate)(x)\n"
        "x = layers.Dense(4, activation=lambda t: 3 * t)(x)\n"
        "x = layers.Dense(4, activation=lambda t: keras.activations.softmax(t) * 2.0)(x)\n"
        "x = layers.Dense(4, activation=lambda t: t * keras.activations.sigmoid(t))(x)\n"
        "model = keras.Model(inputs, x)\n"
    )
    from bnlint.readers import read_path

    model = read_path(path, "model.py").graphs[0]
    # An unknown function; a squashing one on the output; arithmetic without a known activation; a scaled
    # softmax (everything goes through the softmax); then a gate, which is known.
    assert [layer.get("activation") for _, layer in model.layers()][1:] == [UNKNOWN] * 4 + ["<lambda>"]


def test_efficientnet_swish_through_keras_2_backend(tmp_path):
    # The efficientnet package's swish (a closure; Keras 2's backend module has TensorFlow as `tf`).
    path = tmp_path / "model.py"
    path.write_text(
        "from keras import backend, layers, models\n\n"
        "def get_swish():\n"
        "    def swish(x):\n"
        "        if backend.backend() == 'tensorflow':\n"
        "            try:\n"
        "                return backend.tf.nn.swish(x)\n"
        "            except AttributeError:\n"
        "                pass\n"
        "        return x * backend.sigmoid(x)\n"
        "    return swish\n\n"
        "def build():\n"
        "    activation = get_swish()\n"
        "    inputs = layers.Input((8, 8, 3))\n"
        "    x = layers.Conv2D(4, 3, use_bias=False)(inputs)\n"
        "    x = layers.BatchNormalization()(x)\n"
        "    x = layers.Activation(activation)(x)\n"
        "    return models.Model(inputs, x)\n"
    )
    from bnlint.readers import read_path

    model = read_path(path, "model.py").graphs[0]
    assert [layer.get("activation") for _, layer in model.layers() if layer.kind == "activation"] == [
        "<function swish>"]


WRAPPED = ROOT / "tests" / "data" / "own_activations" / "wrapped.py"


def test_lambda_layers_layer_classes_and_partials_of_activations_are_read_as_keras_computes_them():
    # (Keras cannot serialise a model with a partial activation, so its layers are compared by name and class.)
    keras_model = _keras_semantics(WRAPPED, "wrapped_activations")
    from bnlint.readers import read_path

    [graph] = [g for g in read_path(WRAPPED, "wrapped.py").graphs if g.entry == "wrapped_activations"]
    assert [[layer.name, layer.class_name] for _, layer in graph.layers()] == keras_model["layers"]
    assert [(u, v) for u, v, _ in sorted(graph.edges())] == [(i, i + 1) for i in range(len(graph) - 1)]  # a chain
    nodes = {layer.name: {"kind": layer.kind, "config": layer.config} for _, layer in graph.layers()}
    semantics = keras_model["semantics"]
    assert semantics == {"relu6": "nonlinear", "mish": "nonlinear", "fused": "nonlinear", "gelu": "nonlinear",
                         "mish_layer": "nonlinear", "scaled_relu": "nonlinear", "half": "affine",
                         "classes": "squashing"}
    read = {name: (nodes[name]["kind"], nodes[name]["config"].get("activation")) for name in semantics}
    assert read == {
        # A Lambda layer whose function applies an activation is an activation layer ...
        "relu6": ("activation", "<lambda>"), "mish": ("activation", "<function mish>"), "gelu": ("activation", "gelu"),
        # A layer class without weights whose call is an activation is one; one with weights is not.
        "mish_layer": ("activation", "<class Mish>"), "scaled_relu": ("other", None),
        # ... one that does not stays what it was (arithmetic).
        "half": ("other", None),
        # A partial of an activation is a function of the code's own; an output function stays unknown.
        "fused": ("conv", "<partial leaky_relu>"), "classes": ("dense", UNKNOWN),
    }


def test_a_partial_fused_before_bn_is_reported_without_a_fix_and_wrapped_activations_count():
    # The Lambda activations and the Mish layer make the convention: 4 of the 5 BN layers come before.
    assert_one_bn002_without_fix(WRAPPED, 47, ("activation='<partial leaky_relu>'", "4 of the 5 BN layers"),
                                 "a function of the code's own")


APPLIED = ROOT / "tests" / "data" / "own_activations" / "applied.py"

_EVALUATE_FUNCTIONS = r"""
import json, runpy, sys
import numpy as np
import keras

namespace = runpy.run_path(sys.argv[1])
x = np.linspace(-6.0, 6.0, 241, dtype="float32")
found = {}
for name in sys.argv[2:]:
    y = np.asarray(keras.ops.convert_to_numpy(namespace[name](keras.ops.convert_to_tensor(x))))
    fit = np.polyfit(x, y, 1)
    found[name] = "affine" if np.max(np.abs(np.polyval(fit, x) - y)) < 1e-4 else "nonlinear"
print(json.dumps(found))
"""


def test_functions_of_the_code_s_own_applied_to_tensors_are_activations_to_the_rules():
    reference, graph, graphs = keras_and_bnlint(APPLIED, "applied_activations")
    assert compare(reference, graph, graphs) == []  # the ops and layers are Keras' own
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    evaluated = subprocess.run([sys.executable, "-c", _EVALUATE_FUNCTIONS, str(APPLIED), "mish", "swish", "rescale"],
                               capture_output=True, text=True, env=env, timeout=600)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads(evaluated.stdout.splitlines()[-1]) == {"mish": "nonlinear", "swish": "nonlinear",
                                                              "rescale": "affine"}
    # The last op of each call of mish and swish records it; rescale's ops, conv_bn's layers and the
    # arithmetic with another tensor do not.
    applied = [(node["class_name"], node.get("applies")) for node in graph["nodes"] if node["kind"] == "op"]
    assert applied == [("multiply", "<function mish>"), ("multiply", "<function swish>"), ("multiply", None),
                       ("add", None), ("multiply", "<function mish>"), ("multiply", None)]
    assert_one_bn002_without_fix(APPLIED, 39, ("comes after the activation `<function mish>`", "3 of the 4"),
                                 "a call of a function of the code's own")
