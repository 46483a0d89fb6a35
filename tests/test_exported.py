"""Reading Keras 3 ``model.export()`` SavedModels at op level (bnlint/readers/exported.py).

The models are built and exported at test time in one TensorFlow subprocess
(``sys.executable`` must have TensorFlow and Keras 3; the tests are skipped
otherwise). The reader itself must never import TensorFlow, Keras or protobuf.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint import kinds
from bnlint.engine import all_rules, lint
from bnlint.errors import InputError
from bnlint.graph import UNKNOWN
from bnlint.readers import exported
from bnlint.readers.exported import RULES_NOT_CHECKABLE, _written_decimal, read_exported_savedmodel

ROOT = Path(__file__).resolve().parent.parent

BUILD = r'''
import json, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from keras import layers

out = sys.argv[1]

def basic():
    inp = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", use_bias=True, name="conv_biased")(inp)
    x = layers.BatchNormalization(epsilon=0.002, momentum=0.1, name="bn_1")(x)
    x = layers.ReLU(name="relu_1")(x)
    y = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv_2")(x)
    y = layers.BatchNormalization(name="bn_2")(y)
    y = layers.Activation("relu", name="act_2")(y)
    x = layers.Add(name="residual_add")([x, y])
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.5, name="drop")(x)
    x = layers.Dense(10, activation="softmax", name="head")(x)
    return keras.Model(inp, x, name="basic")

def variants():
    inp = keras.Input((16, 16, 4), name="inp")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_relu")(inp)
    x = layers.BatchNormalization(center=False, name="bn_nocenter")(x)
    x = layers.BatchNormalization(scale=False, name="bn_noscale")(x)
    x = layers.BatchNormalization(axis=1, name="bn_axis1")(x)
    x = layers.Activation("swish", name="act_swish")(x)
    x = layers.Activation("gelu", name="act_gelu")(x)
    x = layers.LeakyReLU(name="leaky")(x)
    x = layers.ZeroPadding2D(name="pad")(x)
    x = layers.SeparableConv2D(8, 3, name="sep")(x)
    x = layers.Conv2DTranspose(8, 3, name="conv_t")(x)
    a = layers.AveragePooling2D(2, name="avg")(x)
    b = layers.MaxPooling2D(2, name="maxp")(x)
    x = layers.Concatenate(name="cat")([a, b])
    x = layers.Multiply(name="mul")([x, x])
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(16, activation="relu", name="d1")(x)
    x = layers.BatchNormalization(name="bn_dense")(x)
    x = layers.Reshape((4, 4), name="resh")(x)
    x = layers.Conv1D(4, 2, name="c1d")(x)
    x = layers.GlobalMaxPooling1D(name="gmp")(x)
    x = layers.Dense(3, use_bias=False, name="d2")(x)
    x = layers.Activation("sigmoid", name="sig")(x)
    return keras.Model(inp, x, name="variants")

def sequential():
    return keras.Sequential([keras.Input((20,)), layers.Dense(16, name="hidden"),
                             layers.BatchNormalization(name="bn"), layers.Activation("tanh", name="tanh"),
                             layers.Dense(2, name="logits")], name="seq")

def nested():
    i = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, name="in_conv")(i)
    x = layers.BatchNormalization(name="in_bn")(x)
    x = layers.ReLU(name="in_relu")(x)
    inner = keras.Model(i, x, name="inner")
    o = keras.Input((8, 8, 3), name="outer_in")
    y = layers.Flatten(name="fl")(inner(o))
    return keras.Model(o, layers.Dense(2, name="out")(y), name="outer")

def mobilenet():
    return keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))

summary = {}
for builder in (basic, variants, sequential, nested, mobilenet):
    start = time.time()
    model = builder()
    model.export(os.path.join(out, builder.__name__), verbose=False)
    summary[builder.__name__] = {
        "model": model.name,
        "layers": [[layer.name, type(layer).__name__] for layer in model.layers],
        "seconds": time.time() - start,
    }
with open(os.path.join(out, "summary.json"), "w") as handle:
    json.dump(summary, handle)
'''


def _built(script: str, directory: Path, listing: str) -> tuple[Path, dict]:
    """Run the model-building *script* with real Keras into *directory*; the JSON *listing* it writes there."""
    try:
        result = subprocess.run([sys.executable, "-c", script, str(directory)], capture_output=True, text=True,
                                check=False, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    except subprocess.TimeoutExpired:
        pytest.skip("building and exporting the test models took too long")
    if result.returncode != 0:
        if "No module named" in result.stderr:
            pytest.skip("TensorFlow/Keras are needed to build the exports")
        pytest.fail(result.stderr[-3000:])
    return directory, json.loads((directory / listing).read_text())


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[Path, dict]:
    return _built(BUILD, tmp_path_factory.mktemp("exports"), "summary.json")


def _read(exports, name):
    directory, summary = exports
    return read_exported_savedmodel(directory / name, name), summary[name]


def _surviving(layers):
    """``(name, kind)`` of the model's layers that leave ops in an inference export."""
    return [(name, kinds.kind_of(cls)) for name, cls in layers if cls not in ("InputLayer", "Dropout")]


def _recovered(graph):
    return [(layer.name, layer.kind) for _, layer in graph.layers() if layer.kind != "input"]


@pytest.mark.parametrize("name", ["basic", "variants", "sequential", "mobilenet"])
def test_recovered_layers_match_the_model(exports, name):
    result, expected = _read(exports, name)
    assert len(result.graphs) == 1
    graph = result.graphs[0]
    assert graph.name == expected["model"]
    assert sorted(_recovered(graph)) == sorted(_surviving(expected["layers"]))
    assert len(graph.inputs) == 1 and len(graph.outputs) == 1
    # every layer is connected to the input
    assert set(graph.descendants(graph.inputs[0])) == set(graph.nodes()) - {graph.inputs[0]}


def test_basic_structure_and_configs(exports):
    result, _ = _read(exports, "basic")
    graph = result.graphs[0]
    by_name = {layer.name: (node, layer) for node, layer in graph.layers()}
    assert by_name["image"][1].kind == "input"
    conv_node, conv = by_name["conv_biased"]
    assert conv.class_name == "Conv2D" and conv.config["use_bias"] is True
    assert conv.config["data_format"] == "channels_last" and conv.config["activation"] == "linear"
    assert by_name["conv_2"][1].config["use_bias"] is False
    bn = by_name["bn_1"][1]
    assert bn.class_name == "BatchNormalization"
    assert bn.config["epsilon"] == 0.002  # the decimal written, not float32's 0.0020000000949949026
    assert bn.config["momentum"] is UNKNOWN
    assert bn.config["center"] is True and bn.config["scale"] is True and bn.config["axis"] == -1
    assert by_name["relu_1"][1].config == {"activation": "relu"}
    assert graph.successors(conv_node) == [by_name["bn_1"][0]]
    add_node, add = by_name["residual_add"]
    assert add.class_name == "Add"
    assert graph.predecessors(add_node) == [by_name["relu_1"][0], by_name["act_2"][0]]
    # dropout has no op: the pooling feeds the head directly
    assert graph.successors(by_name["gap"][0]) == [by_name["head"][0]]
    head_node, head = by_name["head"]
    assert head.class_name == "Dense" and head.config["activation"] == "softmax"
    assert graph.outputs == [head_node]
    assert by_name["gap"][1].config["keepdims"] is False


def test_variant_configs(exports):
    result, _ = _read(exports, "variants")
    layers = {layer.name: layer for _, layer in result.graphs[0].layers()}
    assert layers["conv_relu"].config["activation"] == "relu"
    assert layers["bn_nocenter"].config["center"] is False
    assert layers["bn_noscale"].config["scale"] is False and layers["bn_noscale"].config["center"] is True
    assert layers["bn_axis1"].config["axis"] == 1
    assert layers["act_swish"].config["activation"] == "silu"
    assert layers["act_gelu"].config["activation"] == "gelu"
    assert layers["leaky"].config["activation"] == "leaky_relu"
    assert layers["sep"].class_name == "SeparableConv2D"
    assert layers["conv_t"].class_name == "Conv2DTranspose"
    assert layers["c1d"].class_name == "Conv1D"
    assert layers["flat"].class_name == "Flatten" and layers["resh"].class_name == "Reshape"
    assert layers["cat"].class_name == "Concatenate" and layers["cat"].config["axis"] == -1
    assert layers["mul"].class_name == "Multiply"
    assert layers["gmp"].class_name == "GlobalMaxPooling1D"
    assert layers["d2"].config["use_bias"] is False


def test_rules_on_exports(exports):
    codes = set(all_rules())
    found = {(d.code, d.origin.layer_name) for d in lint(_read(exports, "basic")[0], codes)}
    assert ("BN004", "conv_biased") in found
    assert not any(code == "BN006" for code, _ in found)  # momentum 0.1 is not exported
    variants = {(d.code, d.origin.layer_name) for d in lint(_read(exports, "variants")[0], codes)}
    assert ("BN008", "bn_axis1") in variants
    assert ("BN009", "bn_noscale") in variants
    assert lint(_read(exports, "mobilenet")[0], codes) == []  # as for the .keras file: no findings


def test_nested_model_is_flattened(exports):
    result, _ = _read(exports, "nested")
    graph = result.graphs[0]
    assert [(layer.name, layer.kind) for _, layer in graph.layers()] == [
        ("outer_in", "input"), ("inner/in_conv", "conv"), ("inner/in_bn", "batchnorm"),
        ("inner/in_relu", "activation"), ("fl", "reshape"), ("out", "dense")]
    assert ("BN004", "inner/in_conv") in {(d.code, d.origin.layer_name) for d in lint(result, set(all_rules()))}


def test_rules_not_checkable():
    assert {"BN003", "BN006"} <= set(RULES_NOT_CHECKABLE)
    assert set(RULES_NOT_CHECKABLE) <= set(all_rules())
    assert all(isinstance(reason, str) and reason for reason in RULES_NOT_CHECKABLE.values())
    for code in RULES_NOT_CHECKABLE:
        assert code in exported.__doc__


def test_mobilenet_exports_quickly_and_reads_fast(exports):
    import time

    directory, summary = exports
    assert summary["mobilenet"]["seconds"] < 60
    start = time.perf_counter()
    read_exported_savedmodel(directory / "mobilenet", "m")
    assert time.perf_counter() - start < 5


# -- bad input ---------------------------------------------------------------


def test_no_saved_model_pb(tmp_path):
    with pytest.raises(InputError, match="no saved_model.pb"):
        read_exported_savedmodel(tmp_path, "empty")


def test_truncated_protobuf(exports, tmp_path):
    directory, _ = exports
    data = (directory / "basic" / "saved_model.pb").read_bytes()
    (tmp_path / "saved_model.pb").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a valid SavedModel protobuf"):
        read_exported_savedmodel(tmp_path, "cut")


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"not a protobuf at all", b""])
def test_garbage(tmp_path, data):
    (tmp_path / "saved_model.pb").write_bytes(data)
    with pytest.raises(InputError):
        read_exported_savedmodel(tmp_path, "junk")


def test_no_serving_function(tmp_path):
    # SavedModel{meta_graphs: MetaGraphDef{graph_def: GraphDef{}}}
    (tmp_path / "saved_model.pb").write_bytes(b"\x12\x02\x12\x00")
    with pytest.raises(InputError, match="without a serving function"):
        read_exported_savedmodel(tmp_path, "bare")


def test_size_cap(exports, tmp_path, monkeypatch):
    directory, _ = exports
    shutil.copy(directory / "basic" / "saved_model.pb", tmp_path / "saved_model.pb")
    monkeypatch.setattr(exported, "MAX_SAVED_MODEL_BYTES", 100)
    with pytest.raises(InputError, match="byte limit"):
        read_exported_savedmodel(tmp_path, "big")


def test_reading_imports_no_tensorflow(exports):
    directory, _ = exports
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bnlint.readers.exported import read_exported_savedmodel\n"
        f"g = read_exported_savedmodel(Path({str(directory / 'basic')!r}), 'x').graphs[0]\n"
        "assert len(g) > 5\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras', 'google')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=False, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("written", [0.1, 0.001, 1e-5, 1.001e-5, 0.3, 2.0])
def test_a_float32_constant_reads_as_the_decimal_written(written):
    """An export stores epsilon=0.1 as float32 0.100000001490116: read as more than 0.1, BN007 reported it."""
    stored = struct.unpack("<f", struct.pack("<f", written))[0]
    assert _written_decimal(stored) == written


def test_a_number_where_a_string_or_message_was_expected_is_a_damaged_file_not_a_bug():
    # A few flipped bytes can turn a length-delimited field into a varint: the reader got an int and
    # failed with AttributeError, reported as "a bug in bnlint" instead of an invalid SavedModel.
    import pytest

    from bnlint.readers import exported, protobuf

    with pytest.raises(ValueError, match="a number where a string was expected"):
        exported._text(5)
    with pytest.raises(ValueError, match="a number where a message was expected"):
        list(protobuf.fields(5))
    assert list(protobuf.fields(b"\x08\x05")) == [(1, 0, 5)] and exported._text(b"ok") == "ok"


# -- convolutions whose layout or kind the op graph hides ----------------------
#
# Each model below is saved as .keras and exported; the .keras file, read from its Keras config, gives the
# findings the export must give (for every rule an export can check).

CONV_LAYOUTS = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from keras import layers

out = sys.argv[1]

def chain(shape, *stack):
    x = inp = keras.Input(shape, name="inp")
    for layer in stack:
        x = layer(x)
    return inp, x

CF = {"data_format": "channels_first"}
MODELS = {
    # (a) channels_first depthwise and separable convs: TF computes them channels-last between two Transposes
    "dw_cf": lambda: chain((4, 16, 16), layers.DepthwiseConv2D(3, use_bias=False, name="dw", **CF),
                           layers.BatchNormalization(axis=1, name="bn")),
    "dw_cf_bias": lambda: chain((4, 16, 16), layers.DepthwiseConv2D(3, name="dw", **CF),
                                layers.BatchNormalization(axis=1, name="bn")),
    "dw_cf_wrong_axis": lambda: chain((4, 16, 16), layers.DepthwiseConv2D(3, use_bias=False, name="dw", **CF),
                                      layers.BatchNormalization(name="bn")),
    "dw_cf_strided_dilated": lambda: chain((4, 16, 16), layers.DepthwiseConv2D(3, strides=2, dilation_rate=2,
                                                                               padding="same", name="dw", **CF),
                                           layers.BatchNormalization(axis=1, name="bn")),
    "sep_cf": lambda: chain((4, 16, 16), layers.SeparableConv2D(8, 3, use_bias=False, name="sep", **CF),
                            layers.BatchNormalization(axis=1, name="bn")),
    "sep1d_cf": lambda: chain((4, 16), layers.SeparableConv1D(8, 3, name="sep", **CF),
                              layers.BatchNormalization(axis=1, name="bn")),
    "sep1d_cl": lambda: chain((16, 4), layers.SeparableConv1D(8, 3, name="sep"), layers.BatchNormalization(name="bn")),
    "dw1d_cf": lambda: chain((4, 16), layers.DepthwiseConv1D(3, use_bias=False, name="dw", **CF),
                             layers.BatchNormalization(axis=1, name="bn")),
    # (b) grouped convs: Keras compiles them with XLA, a StatefulPartitionedCall whose function holds the conv op
    "grouped": lambda: chain((16, 16, 4), layers.Conv2D(8, 3, groups=2, name="conv"),
                             layers.BatchNormalization(name="bn")),
    "grouped_cf": lambda: chain((4, 16, 16), layers.Conv2D(8, 3, groups=2, name="conv", **CF),
                                layers.BatchNormalization(axis=1, name="bn")),
    "grouped_relu": lambda: chain((16, 16, 4), layers.Conv2D(8, 3, groups=2, activation="relu", name="conv"),
                                  layers.BatchNormalization(name="bn")),
    "grouped1d": lambda: chain((16, 4), layers.Conv1D(8, 3, groups=2, name="conv"),
                               layers.BatchNormalization(name="bn")),
    "grouped1d_cf_wrong_axis": lambda: chain((4, 16), layers.Conv1D(8, 3, groups=2, use_bias=False, name="conv", **CF),
                                             layers.BatchNormalization(name="bn")),
    "grouped3d": lambda: chain((8, 8, 8, 4), layers.Conv3D(8, 3, groups=2, name="conv"),
                               layers.BatchNormalization(name="bn")),
    # (c) channels_first Conv3D: compiled with XLA too (TF has no NCDHW Conv3D on CPU)
    "conv3d_cf": lambda: chain((4, 8, 8, 8), layers.Conv3D(8, 3, name="conv", **CF),
                               layers.BatchNormalization(axis=1, name="bn")),
    "conv3d_cf_no_bias": lambda: chain((4, 8, 8, 8), layers.Conv3D(8, 3, use_bias=False, name="conv", **CF),
                                       layers.BatchNormalization(axis=1, name="bn")),
    "conv3d_cf_wrong_axis": lambda: chain((4, 8, 8, 8), layers.Conv3D(8, 3, use_bias=False, name="conv", **CF),
                                          layers.BatchNormalization(name="bn")),
    # Conv1DTranspose: Conv2DBackpropInput between ExpandDims and Squeeze
    "conv1d_t": lambda: chain((16, 4), layers.Conv1DTranspose(8, 3, name="conv"), layers.BatchNormalization(name="bn")),
    "conv1d_t_cf": lambda: chain((4, 16), layers.Conv1DTranspose(8, 3, use_bias=False, name="conv", **CF),
                                 layers.BatchNormalization(name="bn")),
    "conv2d_t": lambda: chain((8, 8, 4), layers.Conv2DTranspose(8, 3, name="conv"), layers.BatchNormalization(name="bn")),
    # ZeroPadding: one Pad op whose paddings constant shows the rank and which axes are padded
    "pad2d_cf_wrong_axis": lambda: chain((4, 16, 16), layers.Conv2D(8, 3, use_bias=False, name="conv", **CF),
                                         layers.ZeroPadding2D(1, name="pad", **CF),
                                         layers.BatchNormalization(name="bn")),
    "pad2d_cf": lambda: chain((4, 16, 16), layers.Conv2D(8, 3, use_bias=False, name="conv", **CF),
                              layers.ZeroPadding2D(((0, 1), (0, 1)), name="pad", **CF),
                              layers.BatchNormalization(axis=1, name="bn")),
    "pad1d_cf_wrong_axis": lambda: chain((4, 16), layers.Conv1D(8, 3, use_bias=False, name="conv", **CF),
                                         layers.ZeroPadding1D(2, name="pad", **CF),
                                         layers.BatchNormalization(name="bn")),
    "pad3d_cl": lambda: chain((8, 8, 8, 4), layers.Conv3D(8, 3, use_bias=False, name="conv"),
                              layers.ZeroPadding3D(1, name="pad"), layers.BatchNormalization(axis=1, name="bn")),
    # TimeDistributed(conv): the time axis comes before a channels_first conv's channel axis
    "td_cf": lambda: chain((3, 4, 16, 16), layers.TimeDistributed(layers.Conv2D(8, 3, use_bias=False, **CF), name="td"),
                           layers.BatchNormalization(axis=2, name="bn")),
    "td_cf_bias": lambda: chain((3, 4, 16, 16), layers.TimeDistributed(layers.Conv2D(8, 3, **CF), name="td"),
                                layers.BatchNormalization(axis=2, name="bn")),
    "td_cl": lambda: chain((3, 16, 16, 4), layers.TimeDistributed(layers.Conv2D(8, 3), name="td"),
                           layers.BatchNormalization(name="bn")),
    "td_cl_dynamic": lambda: chain((None, 16, 16, 4), layers.TimeDistributed(layers.Conv2D(8, 3), name="td"),
                                   layers.BatchNormalization(name="bn")),
    # channels_first pooling: computed channels-last between two Transposes, as depthwise convs are
    "pool2d_cf_wrong_axis": lambda: chain((4, 16, 16), layers.Conv2D(8, 3, use_bias=False, name="conv", **CF),
                                          layers.MaxPooling2D(2, name="pool", **CF),
                                          layers.BatchNormalization(name="bn")),
    "pool2d_cf": lambda: chain((4, 16, 16), layers.Conv2D(8, 3, use_bias=False, name="conv", **CF),
                               layers.AveragePooling2D(2, name="pool", **CF),
                               layers.BatchNormalization(axis=1, name="bn")),
    "pool1d_cf_wrong_axis": lambda: chain((4, 16), layers.Conv1D(8, 3, use_bias=False, name="conv", **CF),
                                          layers.AveragePooling1D(2, name="pool", **CF),
                                          layers.BatchNormalization(name="bn")),
    "pool1d_cl": lambda: chain((16, 4), layers.Conv1D(8, 3, use_bias=False, name="conv"),
                               layers.MaxPooling1D(2, name="pool"), layers.BatchNormalization(name="bn")),
    "pool3d_cf_wrong_axis": lambda: chain((4, 8, 8, 8), layers.Conv3D(8, 3, use_bias=False, name="conv", **CF),
                                          layers.MaxPooling3D(2, name="pool", **CF),
                                          layers.BatchNormalization(name="bn")),
}


def nested_grouped():
    i = keras.Input((16, 16, 4))
    x = layers.Conv2D(8, 3, groups=2, name="g1")(i)
    x = layers.ReLU(name="relu")(x)
    x = layers.Conv2D(8, 3, groups=2, use_bias=False, name="g2")(x)
    inner = keras.Model(i, x, name="inner")
    outer_in = keras.Input((16, 16, 4), name="inp")
    return outer_in, layers.BatchNormalization(name="bn")(inner(outer_in))


MODELS["nested_grouped"] = nested_grouped

classes = {}
for name, build in MODELS.items():
    keras.backend.clear_session()
    inp, x = build()
    model = keras.Model(inp, x, name=name)
    model.save(os.path.join(out, name + ".keras"))
    model.export(os.path.join(out, name), verbose=False)
    classes[name] = {layer.name: type(layer).__name__ for layer in model.layers}
import json
with open(os.path.join(out, "classes.json"), "w") as handle:
    json.dump(classes, handle)
'''


@pytest.fixture(scope="module")
def conv_layouts(tmp_path_factory) -> tuple[Path, dict]:
    return _built(CONV_LAYOUTS, tmp_path_factory.mktemp("conv_layouts"), "classes.json")


def _findings(result) -> set[tuple[str, str]]:
    checkable = set(all_rules()) - set(RULES_NOT_CHECKABLE)
    return {(d.code, d.origin.layer_name) for d in lint(result, checkable)}


def _export_and_keras(conv_layouts, name):
    from bnlint.readers.saved_file import read_keras_archive

    directory, classes = conv_layouts
    keras_file = read_keras_archive(directory / f"{name}.keras", f"{name}.keras")
    return read_exported_savedmodel(directory / name, name), keras_file, classes[name]


def _agreeing(conv_layouts, name, expected):
    """The export of *name* and the classes Keras built, once its findings and its .keras file's (the
    reference: the file's config) both are *expected*."""
    exported_result, keras_result, classes = _export_and_keras(conv_layouts, name)
    assert _findings(keras_result) == expected
    assert _findings(exported_result) == expected
    return exported_result, classes


def _layer(result, name):
    """The layer named *name* in the first model of *result*."""
    return next(layer for _, layer in result.graphs[0].layers() if layer.name == name)


@pytest.mark.parametrize("name, expected", [
    ("dw_cf", set()),  # was a false BN008: the depthwise conv read as channels_last
    ("dw_cf_bias", {("BN004", "dw")}),  # was BN008 instead of BN004
    ("dw_cf_wrong_axis", {("BN008", "bn")}),  # was missed: axis=-1 matched the misread layout
    ("dw_cf_strided_dilated", {("BN004", "dw")}),
    ("sep_cf", set()),
    ("sep1d_cf", {("BN004", "sep")}),
    ("sep1d_cl", {("BN004", "sep")}),
    ("dw1d_cf", set()),
])
def test_channels_first_depthwise_and_separable_convs_read_as_their_keras_file(conv_layouts, name, expected):
    exported_result, classes = _agreeing(conv_layouts, name, expected)
    layers = {layer.name: layer for _, layer in exported_result.graphs[0].layers()}
    conv = layers["dw" if "dw" in layers else "sep"]
    assert conv.class_name == classes[conv.name]  # SeparableConv1D was read as SeparableConv2D
    assert conv.config["data_format"] == ("channels_last" if name.endswith("_cl") else "channels_first")


@pytest.mark.parametrize("name, expected", [
    ("grouped", {("BN004", "conv")}),  # was missed: the conv was an `op` node named StatefulPartitionedCall
    ("grouped_cf", {("BN004", "conv")}),
    ("grouped_relu", set()),  # the fused activation is in the layer's scope, outside the called function
    ("grouped1d", {("BN004", "conv")}),
    ("grouped1d_cf_wrong_axis", {("BN008", "bn")}),
    ("grouped3d", {("BN004", "conv")}),
])
def test_grouped_convs_read_as_their_keras_file(conv_layouts, name, expected):
    exported_result, classes = _agreeing(conv_layouts, name, expected)
    layers = {layer.name: layer for _, layer in exported_result.graphs[0].layers()}
    conv = layers["conv"]
    assert (conv.class_name, conv.kind) == (classes["conv"], "conv")
    assert conv.config["data_format"] == ("channels_first" if "_cf" in name else "channels_last")
    assert conv.config["activation"] == ("relu" if name == "grouped_relu" else "linear")


@pytest.mark.parametrize("name, expected", [
    ("conv3d_cf", {("BN004", "conv")}),  # was missed: the conv was an `op` node named StatefulPartitionedCall
    ("conv3d_cf_no_bias", set()),
    ("conv3d_cf_wrong_axis", {("BN008", "bn")}),  # was missed
])
def test_channels_first_conv3d_reads_as_its_keras_file(conv_layouts, name, expected):
    exported_result, _ = _agreeing(conv_layouts, name, expected)
    conv = _layer(exported_result, "conv")
    assert (conv.class_name, conv.kind, conv.config["data_format"]) == ("Conv3D", "conv", "channels_first")
    assert conv.config["use_bias"] is (name == "conv3d_cf")


@pytest.mark.parametrize("name, expected", [
    ("pool2d_cf_wrong_axis", {("BN008", "bn")}),  # was missed: the pooling read as channels_last hid the layout
    ("pool2d_cf", set()),
    ("pool1d_cf_wrong_axis", {("BN008", "bn")}),
    ("pool1d_cl", set()),
    ("pool3d_cf_wrong_axis", {("BN008", "bn")}),
])
def test_pooling_layout_and_rank_read_as_their_keras_file(conv_layouts, name, expected):
    exported_result, classes = _agreeing(conv_layouts, name, expected)
    pool = _layer(exported_result, "pool")
    assert pool.class_name == classes["pool"]  # MaxPooling1D was read as MaxPooling2D
    assert pool.config["data_format"] == ("channels_last" if name.endswith("_cl") else "channels_first")


@pytest.mark.parametrize("name, expected", [
    ("conv1d_t", {("BN004", "conv")}),
    ("conv1d_t_cf", {("BN008", "bn")}),
    ("conv2d_t", {("BN004", "conv")}),
])
def test_transposed_convs_are_named_with_their_rank(conv_layouts, name, expected):
    exported_result, classes = _agreeing(conv_layouts, name, expected)
    conv = _layer(exported_result, "conv")
    assert conv.class_name == classes["conv"]  # Conv1DTranspose was read as Conv2DTranspose
    diagnostics = lint(exported_result, set(all_rules()) - set(RULES_NOT_CHECKABLE))
    assert all("Conv2DTranspose" not in d.message for d in diagnostics if name.startswith("conv1d"))


@pytest.mark.parametrize("name, expected", [
    ("pad2d_cf_wrong_axis", {("BN008", "bn")}),  # was missed: the padding read as channels_last hid the layout
    ("pad2d_cf", set()),
    ("pad1d_cf_wrong_axis", {("BN008", "bn")}),
    ("pad3d_cl", {("BN008", "bn")}),
])
def test_zero_padding_layout_and_rank_read_as_their_keras_file(conv_layouts, name, expected):
    exported_result, classes = _agreeing(conv_layouts, name, expected)
    pad = _layer(exported_result, "pad")
    assert pad.class_name == classes["pad"]  # every ZeroPadding was read as ZeroPadding2D
    assert pad.config["data_format"] == ("channels_last" if name.endswith("_cl") else "channels_first")


def test_zero_padding_of_no_axis_that_tells_the_layout_has_an_unknown_layout():
    # paddings ((0, 0), (0, 0), (1, 1), (0, 0)): neither axis 1 nor the last axis is padded
    ops = [exported._Op("m/pad/Const", "Const", []), exported._Op("m/pad/Pad", "Pad", ["x", "m/pad/Const"])]
    by_name = {op.name: op for op in ops}
    ops[0].tensor = lambda: [0, 0, 0, 0, 1, 1, 0, 0]
    class_name, kind, config = exported._padding(ops[1], by_name)
    assert (class_name, kind, config["data_format"]) == ("ZeroPadding2D", "reshape", UNKNOWN)


@pytest.mark.parametrize("name", ["td_cf", "td_cf_bias"])
def test_a_time_distributed_channels_first_conv_gives_no_false_bn008(conv_layouts, name):
    # The conv op says NCHW, but the layer's channel axis is 2: BatchNormalization(axis=2) is right.
    # (TimeDistributed is a layer of kind `other` in a .keras file; the export reported {("BN008", "bn")})
    exported_result, _ = _agreeing(conv_layouts, name, set())
    td = _layer(exported_result, "td")
    assert (td.class_name, td.config["data_format"]) == ("Conv2D", UNKNOWN)


@pytest.mark.parametrize("name", ["td_cl", "td_cl_dynamic"])
def test_a_time_distributed_channels_last_conv_keeps_its_layout(conv_layouts, name):
    # The export sees the wrapped conv's bias before the BN; a .keras file shows a TimeDistributed layer of
    # kind `other`, so only the export reports BN004 here (the config reader does not look inside wrappers).
    exported_result, _, _ = _export_and_keras(conv_layouts, name)
    assert _findings(exported_result) == {("BN004", "td")}
    td = _layer(exported_result, "td")
    assert td.config["data_format"] == "channels_last"


def test_a_nested_model_of_grouped_convs_is_still_split_into_its_layers(conv_layouts):
    # A nested model is told from a layer by op types in several sub-scopes; a grouped conv's is a call.
    directory, _ = conv_layouts
    graph = read_exported_savedmodel(directory / "nested_grouped", "nested_grouped").graphs[0]
    assert [(layer.name, layer.class_name, layer.config.get("use_bias")) for _, layer in graph.layers()] == [
        ("inp", "InputLayer", None), ("inner/g1", "Conv2D", True), ("inner/relu", "Activation", None),
        ("inner/g2", "Conv2D", False), ("bn", "BatchNormalization", None)]


def test_a_damaged_called_function_is_an_invalid_savedmodel(conv_layouts, monkeypatch):
    directory, _ = conv_layouts
    decode = exported._Function.decode

    def damaged(self):
        if "conv_xla" in self.name:  # the XLA function of the grouped conv
            raise ValueError("truncated message")
        return decode(self)

    monkeypatch.setattr(exported._Function, "decode", damaged)
    with pytest.raises(InputError, match="not a valid SavedModel protobuf"):
        read_exported_savedmodel(directory / "grouped", "grouped")
