""".keras, .h5 and exported SavedModel files: read without TensorFlow, linted like their source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import keras
import pytest

from bnlint.engine import all_rules
from bnlint.errors import InputError
from bnlint.readers import saved_file
from bnlint.readers.saved_file import read_h5, read_keras_archive
from bnlint.readers.python_source import read_source_file
from conftest import run_bnlint

DATA = Path(__file__).resolve().parent / "data"

APPLICATIONS = Path(keras.__file__).parent / "src" / "applications"
BUILDERS = {
    "ResNet50": "resnet.py",
    "MobileNetV2": "mobilenet_v2.py",
    "EfficientNetB0": "efficientnet.py",
    "DenseNet121": "densenet.py",
}

SAVE = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
out = sys.argv[1]
for name in sys.argv[2:]:
    keras.backend.clear_session()
    model = getattr(keras.applications, name)(weights=None)
    model.save(os.path.join(out, name + ".keras"))
    model.save(os.path.join(out, name + ".h5"))
    model.export(os.path.join(out, name + "_export"), verbose=False)
"""


@pytest.fixture(scope="module")
def saved_applications(tmp_path_factory):
    directory = tmp_path_factory.mktemp("saved")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", SAVE, str(directory), *BUILDERS], capture_output=True, text=True,
                            timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    print(f"saved and exported {len(BUILDERS)} models in {time.perf_counter() - started:.0f} s")
    return directory


def findings(graph) -> set[tuple[str, str]]:
    """(rule code, layer name) for every default rule's violation on one graph."""
    found = set()
    for code, rule in all_rules().items():
        if rule.default:
            found |= {(code, graph.layer(v.node).name) for v in rule().check(graph)}
    return found


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_saved_models_get_the_findings_of_their_source(saved_applications, builder):
    source_graph = next(g for g in read_source_file(APPLICATIONS / BUILDERS[builder]).graphs if g.entry == builder)
    expected = findings(source_graph)
    for suffix in (".keras", ".h5"):
        path = saved_applications / f"{builder}{suffix}"
        (graph,) = (read_keras_archive if suffix == ".keras" else read_h5)(path, path.name).graphs
        assert graph.name == source_graph.name
        assert findings(graph) == expected, (builder, suffix)
    if builder == "ResNet50":
        assert len(expected) == 53 and {code for code, _ in expected} == {"BN004"}
    # A model.export() SavedModel, read at op level, shows every finding whose facts survive export.
    from bnlint.readers.exported import RULES_NOT_CHECKABLE, read_exported_savedmodel

    path = saved_applications / f"{builder}_export"
    result = read_exported_savedmodel(path, path.name)
    (graph,) = result.graphs
    assert findings(graph) == {(code, layer) for code, layer in expected if code not in RULES_NOT_CHECKABLE}
    assert any("not checkable: BN003, BN006" in note for note in result.notes)


def test_checking_resnet50_keras_is_fast_and_imports_no_tensorflow(saved_applications):
    path = saved_applications / "ResNet50.keras"
    assert path.stat().st_size > 50_000_000  # the weights are there; bnlint does not read them
    probe = (
        "import sys, time; start = time.perf_counter()\n"
        "from bnlint.cli import main\n"
        f"code = main(['check', {str(path)!r}])\n"
        "print(round(time.perf_counter() - start, 3), sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras')))\n"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    wall = time.perf_counter() - started
    last = result.stdout.splitlines()[-1]
    assert last.endswith(" []"), last
    assert wall < 3.0  # measured here: about 0.3 s; generous for a shared, noisy machine
    assert "ResNet50.keras::conv1_conv: BN004" in result.stdout


def test_cli_reports_layer_locations(saved_applications):
    result = run_bnlint("check", "ResNet50.h5", "--output-format", "json", cwd=saved_applications)
    first = json.loads(result.stdout)[0]
    assert (first["path"], first["code"], "location" in first) == ("ResNet50.h5", "BN004", False)
    assert first["layer"] == first["layers"][0]


def write_archive(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"not a zip"), "is not a .keras archive (not a valid zip file)"),
        (lambda p: write_archive(p, {"metadata.json": b"{}"}), "is a zip archive without config.json"),
        (lambda p: write_archive(p, {"config.json": b"{nope"}), "has a config.json that is not valid JSON"),
        (lambda p: write_archive(p, {"config.json": b"[1, 2]"}), "has a config.json that is not a Keras model config"),
        (lambda p: write_archive(p, {"config.json": b'{"config": {"layers": 3}}'}), "has a model config bnlint cannot read"),
    ],
)
def test_bad_keras_archives_are_one_sentence_and_exit_2(tmp_path, make, message):
    path = tmp_path / "bad.keras"
    make(path)
    result = run_bnlint("check", "bad.keras", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"bnlint: error: bad.keras: {message}")


def test_truncated_archive(tmp_path, saved_applications):
    data = (saved_applications / "MobileNetV2.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    result = run_bnlint("check", "cut.keras", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("bnlint: error: cut.keras: ")
    assert "Traceback" not in result.stderr


def test_oversized_config_member(tmp_path, monkeypatch):
    path = write_archive(tmp_path / "big.keras", {"config.json": b'{"config": {}}' + b" " * 100})
    monkeypatch.setattr(saved_file, "MAX_CONFIG_BYTES", 50)
    with pytest.raises(InputError, match="over the 50 byte limit"):
        read_keras_archive(path, "big.keras")


def test_hdf5_without_a_model_and_non_hdf5(tmp_path):
    import h5py

    with h5py.File(tmp_path / "weights.h5", "w") as handle:
        handle["x"] = [1, 2, 3]
    (tmp_path / "text.h5").write_text("hello")
    result = run_bnlint("check", "weights.h5", "text.h5", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "bnlint: error: weights.h5: is an HDF5 file without a Keras model (no model_config attribute)",
        "bnlint: error: text.h5: is not a readable HDF5 file",
    ]


def test_hdf5_weights_and_data_found_in_a_directory_are_passed_over(tmp_path):
    """ML repositories keep datasets and .weights.h5 files beside their models: only named ones are errors."""
    import shutil

    import h5py

    saved = Path(__file__).resolve().parent.parent / "fixtures" / "saved" / "sequential_bias_dropout_momentum.h5"
    shutil.copy(saved, tmp_path / "model.h5")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.save_weights(tmp_path / "model.weights.h5")  # Keras' own weights-only file
    with h5py.File(tmp_path / "images.hdf5", "w") as handle:
        handle["x"] = [[0.0, 1.0]]
    alone = run_bnlint("check", "--no-cache", "model.h5", cwd=tmp_path)
    assert alone.returncode == 1 and alone.stderr == ""
    for cache in ("--no-cache", None, None):  # uncached, then writing the cache, then from it
        result = run_bnlint("check", *([cache] if cache else []), ".", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (1, ""), result.stderr
        assert result.stdout.splitlines()[-2:] == alone.stdout.splitlines()[-2:]  # "... (1 file checked)."
    named = run_bnlint("check", "model.weights.h5", cwd=tmp_path)
    assert named.returncode == 2 and "model.weights.h5: is an HDF5 file without a Keras model" in named.stderr
    (tmp_path / "broken.h5").write_text("not HDF5 at all")  # a damaged file is still reported
    result = run_bnlint("check", ".", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.splitlines() == [
        "bnlint: error: broken.h5: is not a readable HDF5 file"]


def test_custom_and_lambda_layers_are_other_nodes_that_keep_their_edges(tmp_path):
    config = {
        "class_name": "Functional",
        "config": {
            "name": "custom",
            "layers": [
                {"class_name": "InputLayer", "config": {"name": "in"}, "name": "in", "inbound_nodes": []},
                {"module": "my_package", "class_name": "Mystery", "registered_name": "Custom>Mystery",
                 "config": {"name": "mystery"}, "name": "mystery",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                              "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]},
                {"class_name": "Lambda", "config": {"name": "lam", "function": "exec('boom')"}, "name": "lam",
                 "inbound_nodes": [[["mystery", 0, 0, {}]]]},
            ],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["lam", 0, 0]],
        },
    }
    write_archive(tmp_path / "custom.keras", {"config.json": json.dumps(config).encode()})
    (graph,) = read_keras_archive(tmp_path / "custom.keras", "custom.keras").graphs
    assert [(layer.name, layer.kind) for _, layer in graph.layers()] == [
        ("in", "input"), ("mystery", "other"), ("lam", "other")
    ]
    assert sorted(graph.edges()) == [(0, 1, 0), (1, 2, 0)]


def test_tf_keras_saved_batchnorm_axes_are_checked_once_the_input_rank_is_known():
    # tf_keras saves a built BN's axis as [rank - 1]: [2] after a Dense on a (5, 4) sequence, [1] for a BN
    # on that sequence's time axis. With the rank propagated from the input shapes, BN004 sees the first
    # on the Dense's channel axis and BN008 sees the second is not (made by tests/data/make_keras2_fold_zoo.py).
    from conftest import ROOT

    result = run_bnlint("check", "tests/data/keras2_fold_zoo.h5", "--output-format", "json", cwd=ROOT)
    found = {(finding["code"], finding["layer"]) for finding in json.loads(result.stdout)}
    assert found == {("BN004", "depthwise"), ("BN004", "separable"), ("BN004", "transpose"),
                     ("BN004", "seq_dense"), ("BN008", "time_bn")}, result.stderr


def test_tf_keras_ranks_pass_through_a_nested_model():
    from bnlint.readers.saved_file import graphs_from_config

    def layer(class_name, name, inputs, **config):
        nodes = [[[source, index, 0, {}] for source, index in inputs]] if inputs else []
        return {"class_name": class_name, "name": name, "config": {"name": name, **config}, "inbound_nodes": nodes}

    backbone = {"class_name": "Functional", "name": "backbone", "config": {
        "name": "backbone", "layers": [layer("InputLayer", "in", [], batch_input_shape=[None, 8, 8, 3]),
                                       layer("Conv2D", "conv", [("in", 0)], filters=4, kernel_size=[3, 3])],
        "input_layers": [["in", 0, 0]], "output_layers": [["conv", 0, 0]]}, "inbound_nodes": [[["image", 0, 0, {}]]]}
    config = {"class_name": "Functional", "config": {"name": "outer", "layers": [
        layer("InputLayer", "image", [], batch_input_shape=[None, 8, 8, 3]),
        backbone,
        layer("GlobalAveragePooling2D", "gap", [("backbone", 1)]),  # tf_keras numbers a nested model's calls from 1
        layer("Dense", "head", [("gap", 0)], units=2, use_bias=True),
        layer("BatchNormalization", "head_bn", [("head", 0)], axis=[1], center=True),
        layer("Dense", "out", [("head_bn", 0)], units=2),
    ], "input_layers": [["image", 0, 0]], "output_layers": [["out", 0, 0]]}}
    outer = graphs_from_config(config, "m.h5")[0]
    assert outer.layer(outer.find("head_bn")).get("axis") == -1  # [1] of a rank-2 input


def test_bundled_saved_models_in_every_format_report_their_expected_findings():
    from conftest import ROOT

    saved = ROOT / "fixtures" / "saved"
    expected = json.loads((saved / "EXPECTED.json").read_text())
    result = run_bnlint("check", "fixtures/saved", "--output-format", "json", cwd=ROOT)
    assert result.returncode == 1, result.stderr
    found: dict[str, set] = {}
    for finding in json.loads(result.stdout):
        found.setdefault(Path(finding["path"]).name, set()).add((finding["code"], finding["layer"]))
    assert found == {name: {(f["code"], f["layer"]) for f in items} for name, items in expected.items()}
    assert len(found) == 10  # .keras, .h5, tf_keras .keras, tf_keras .h5 and tf_keras SavedModel, of two models


SHARED = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
from keras import layers
a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
shared = layers.Dense(4, name="shared")
inner = keras.Sequential([keras.Input((4,)), layers.Dense(4, name="inner_dense"), layers.BatchNormalization(name="inner_bn")], name="inner")
x = layers.Concatenate(name="cat")([shared(a), shared(b)])
y = inner(layers.Dense(4, name="proj")(x))
keras.Model([a, b], y, name="siamese").save(sys.argv[1])
"""


def test_shared_layers_merges_and_nested_models_in_a_keras_archive(tmp_path):
    path = tmp_path / "siamese.keras"
    result = subprocess.run([sys.executable, "-c", SHARED, str(path)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    outer, inner = read_keras_archive(path, "siamese.keras").graphs
    assert (outer.name, inner.name) == ("siamese", "inner")
    calls = [(n, layer) for n, layer in outer.layers() if layer.name == "shared"]
    assert len(calls) == 2 and calls[0][1].layer_id == calls[1][1].layer_id
    cat = next(n for n, layer in outer.layers() if layer.name == "cat")
    assert sorted((outer.layer(p).name, i) for p, _, i in outer.edges() if _ == cat) == [("shared", 0), ("shared", 1)]
    model_node = next(layer for _, layer in outer.layers() if layer.kind == "model")
    assert model_node.submodel is inner
    assert [layer.class_name for _, layer in inner.layers()] == ["InputLayer", "Dense", "BatchNormalization"]
    fixed = run_bnlint("check", "--fix", "siamese.keras", cwd=tmp_path)
    assert "siamese.keras: fixes apply to Python source; this saved model was only checked" in fixed.stderr


def test_tf_keras_op_layers_are_connected_as_in_the_source():
    # tf_keras records `x + skip`, `tf.nn.relu(x)` and `x * 0.5` as TFOpLambda layers whose call
    # node is one unwrapped tensor reference with the other operand among its keyword arguments.
    # They used to have no inputs at all (and the relu was no activation), cutting the graph.
    import runpy

    from bnlint.engine import lint
    from bnlint.readers.python_source import read_source

    renamed = {"input_layer": "input_1", "add": "tf.__operators__.add", "relu": "tf.nn.relu",
               "multiply": "tf.math.multiply"}  # Keras 3's names in source, tf_keras' in the file

    def describe(result, names=lambda name: name):
        (graph,) = [g for g in result.graphs if g.name == "op_layers"]
        nodes = {(names(layer.name), layer.kind, layer.config.get("activation")) for _, layer in graph.layers()}
        edges = {(names(graph.layer(source).name), names(graph.layer(target).name), index)
                 for source, target, index in graph.edges()}
        return nodes, edges

    source = read_source(runpy.run_path(str(DATA / "make_keras2_op_layers.py"))["MODEL_SOURCE"], "m.py")
    saved = read_h5(DATA / "keras2_op_layers.h5", "m.h5")
    assert describe(saved) == describe(source, lambda name: renamed.get(name, name))
    nodes, edges = describe(saved)
    assert ("tf.nn.relu", "activation", "relu") in nodes
    assert {("bn", "tf.__operators__.add", 0), ("skip_bn", "tf.__operators__.add", 1)} <= edges
    # ... so the rules see the BN that comes after the relu, as they do in the source.
    options = {"bn-position": "before-activation"}
    assert [(d.code, d.instances) for d in lint(saved, {"BN002"}, options)] == [("BN002", ["bn_after_relu"])]
    assert [(d.code, d.instances) for d in lint(source, {"BN002"}, options)] == [("BN002", ["bn_after_relu"])]


def dict_model(inputs_dict: bool = True, outputs_dict: bool = True) -> keras.Model:
    """Two inputs and two outputs, as dicts (Keras 3 saves ``input_layers`` / ``output_layers`` by key)."""
    a, b = keras.Input((10,), name="a"), keras.Input((6,), name="b")
    p = keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(4, name="dense")(a))
    q = keras.layers.Dense(4, name="dense_b")(b)
    total = keras.layers.Add(name="add")([p, q])
    return keras.Model({"a": a, "b": b} if inputs_dict else [a, b],
                       {"o1": p, "o2": total} if outputs_dict else [p, total])


@pytest.mark.parametrize("suffix", ["keras", "h5"])
@pytest.mark.parametrize("inputs_dict,outputs_dict", [(True, True), (True, False), (False, True)])
def test_models_with_dict_inputs_or_outputs_are_read(tmp_path, suffix, inputs_dict, outputs_dict):
    path = tmp_path / f"dictio.{suffix}"
    dict_model(inputs_dict, outputs_dict).save(path)
    (graph,) = (read_keras_archive if suffix == "keras" else read_h5)(path, path.name).graphs
    assert [graph.layer(n).name for n in graph.inputs] == ["a", "b"]
    assert [graph.layer(n).name for n in graph.outputs] == ["bn", "add"]
    assert graph.input_keys == (["a", "b"] if inputs_dict else None)
    assert graph.output_keys == (["o1", "o2"] if outputs_dict else None)
    result = run_bnlint("check", path.name, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr == ""
    assert f"{path.name}::dense: BN004" in result.stdout
    assert run_bnlint("graph", path.name, cwd=tmp_path).returncode == 0


@keras.saving.register_keras_serializable(package="probe")
class _Scale(keras.layers.Layer):
    def call(self, x):
        return x * 2.0


def test_a_registered_custom_class_reads_the_same_from_h5_and_keras(tmp_path):
    """A legacy .h5 names it `probe>_Scale`; a .keras file has `_Scale` and the registered name apart."""
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, _Scale(name="scale")(keras.layers.Conv2D(4, 3)(inputs)))
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    for result in (read_keras_archive(tmp_path / "m.keras", "m.keras"), read_h5(tmp_path / "m.h5", "m.h5")):
        layer = {layer.name: layer for _, layer in result.graphs[0].layers()}["scale"]
        assert (layer.class_name, layer.kind) == ("_Scale", "other")
