"""tf_keras SavedModel directories are read from keras_metadata.pb, without TensorFlow.

The wire decoder is checked on hand-built protobuf bytes; the reader on the
SavedModels in fixtures/saved/ (made by fixtures/make_saved_models.py) and on
broken copies of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.errors import InputError
from bnlint.readers import read_path, savedmodel
from bnlint.readers.savedmodel import decode_saved_metadata, is_savedmodel_dir, read_legacy_savedmodel

from conftest import ROOT

SAVED = ROOT / "fixtures" / "saved"
EXPECTED = json.loads((SAVED / "EXPECTED.json").read_text())
SAVEDMODELS = sorted(name for name in EXPECTED if name.endswith("_savedmodel"))
FUNCTIONAL = SAVED / "functional_bias_dropout_momentum_tfkeras_savedmodel"
SEQUENTIAL = SAVED / "sequential_bias_dropout_momentum_tfkeras_savedmodel"

# -- a minimal protobuf encoder, the decoder's mirror ------------------------


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, wire: int, payload: bytes | int) -> bytes:
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload  # fixed 64 (wire 1) or 32 (wire 5) bits


def saved_object(node_id: int, path: str, identifier: str, metadata: str) -> bytes:
    version = field(1, 0, 1) + field(2, 0, 1)  # VersionDef{producer, min_consumer}
    return (
        field(2, 0, node_id)
        + field(3, 2, path.encode())
        + field(4, 2, identifier.encode())
        + field(5, 2, metadata.encode())
        + field(6, 2, version)
    )


def saved_metadata(*objects: bytes) -> bytes:
    return b"".join(field(1, 2, obj) for obj in objects)


def model_metadata(config: dict) -> str:
    """A root entry's JSON as tf_keras writes it: class and config at the top and under model_config."""
    return json.dumps({"name": config["config"]["name"], "class_name": config["class_name"],
                       "config": config["config"], "model_config": config, "keras_version": "2.21.0"})


TINY = {
    "class_name": "Sequential",
    "config": {
        "name": "tiny",
        "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": {"class_name": "__tuple__", "items": [None, 4]},
                                                    "name": "x"}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 3, "use_bias": True}},
            {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "momentum": 0.1,
                                                            "shared_object_id": 7}},
        ],
    },
}

# -- the wire decoder -------------------------------------------------------


def test_decoder_round_trips_hand_built_bytes():
    long_json = json.dumps({"text": "é" * 200})  # > 127 bytes: a two-byte length varint
    data = saved_metadata(
        saved_object(0, "root", "_tf_keras_network", '{"a": 1}'),
        saved_object(300, "root.layer-0", "_tf_keras_layer", long_json),
    )
    assert decode_saved_metadata(data) == [
        {"node_path": "root", "identifier": "_tf_keras_network", "metadata": '{"a": 1}'},
        {"node_path": "root.layer-0", "identifier": "_tf_keras_layer", "metadata": long_json},
    ]


def test_decoder_skips_unknown_fields_of_every_wire_type():
    obj = field(9, 0, 2**63) + field(10, 1, b"\x00" * 8) + field(11, 5, b"\x00" * 4) + field(3, 2, b"root")
    data = field(7, 0, 5) + field(1, 2, obj) + field(8, 2, b"ignored") + field(12, 5, b"\x01\x02\x03\x04")
    assert decode_saved_metadata(data) == [{"node_path": "root"}]


def test_decoder_reads_empty_message_and_empty_objects():
    assert decode_saved_metadata(b"") == []
    assert decode_saved_metadata(field(1, 2, b"")) == [{}]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x0a", id="key-without-length"),
        pytest.param(b"\x0a\x05abc", id="length-past-end"),
        pytest.param(b"\x0a\x80", id="truncated-length-varint"),
        pytest.param(b"\x10" + b"\xff" * 11, id="varint-over-10-bytes"),
        pytest.param(b"\x0b", id="wire-type-3-group"),
        pytest.param(b"\x02\x00", id="field-number-0"),
        pytest.param(field(1, 2, b"\x1a\x09root"), id="truncated-inner-message"),
        pytest.param(b"\x11\x00\x00", id="truncated-fixed64"),
    ],
)
def test_decoder_refuses_malformed_bytes(data):
    with pytest.raises(ValueError):
        decode_saved_metadata(data)


def test_decoder_refuses_a_real_file_cut_short():
    data = (FUNCTIONAL / "keras_metadata.pb").read_bytes()
    assert len(decode_saved_metadata(data)) == 12  # the model plus its 11 layers
    for cut in (1, 2, 3, len(data) // 2, len(data) - 1):
        # Each cut lands inside a field: an error, never a silently shorter list.
        with pytest.raises(ValueError):
            decode_saved_metadata(data[:-cut])


# -- reading the fixtures ---------------------------------------------------

FUNCTIONAL_LAYERS = [
    ("image", "InputLayer"), ("stem", "Conv2D"), ("stem_bn", "BatchNormalization"), ("conv", "Conv2D"),
    ("bn_momentum", "BatchNormalization"), ("relu", "ReLU"), ("dropout", "Dropout"),
    ("bn_after_dropout", "BatchNormalization"), ("add", "Add"), ("pool", "GlobalAveragePooling2D"),
    ("head", "Dense"),
]
SEQUENTIAL_LAYERS = [
    ("image", "InputLayer"), ("conv", "Conv2D"), ("bn_momentum", "BatchNormalization"), ("relu", "ReLU"),
    ("dropout", "Dropout"), ("bn_after_dropout", "BatchNormalization"), ("pool", "GlobalAveragePooling2D"),
    ("head", "Dense"),
]


def edges_by_name(graph) -> set[tuple[str, str, int]]:
    return {(graph.layer(u).name, graph.layer(v).name, index) for u, v, index in graph.edges()}


def test_functional_savedmodel_reads_into_its_graph():
    result = read_legacy_savedmodel(FUNCTIONAL, "fm")
    assert result.path == "fm" and result.text is None
    [graph] = result.graphs
    assert graph.name == "functional_fixture"
    assert [(layer.name, layer.class_name) for _, layer in graph.layers()] == FUNCTIONAL_LAYERS
    edges = edges_by_name(graph)
    assert ("stem_bn", "add", 0) in edges and ("bn_after_dropout", "add", 1) in edges
    assert ("stem_bn", "conv", 0) in edges and len(edges) == 11
    assert [graph.layer(n).name for n in graph.inputs] == ["image"]
    assert [graph.layer(n).name for n in graph.outputs] == ["head"]
    layers = {layer.name: layer for _, layer in graph.layers()}
    assert layers["conv"].get("use_bias") is True and layers["stem"].get("use_bias") is False
    assert layers["bn_momentum"].get("momentum") == 0.1
    assert layers["conv"].get("kernel_size") == [3, 3]  # tf_keras' {"class_name": "__tuple__"} became a list
    assert "shared_object_id" not in json.dumps(graph.to_dict())
    assert str(layers["conv"].origin) == "fm::conv"


def test_sequential_savedmodel_reads_into_a_chain():
    [graph] = read_legacy_savedmodel(SEQUENTIAL, "sm").graphs
    assert graph.name == "sequential_fixture"
    assert [(layer.name, layer.class_name) for _, layer in graph.layers()] == SEQUENTIAL_LAYERS
    names = [name for name, _ in SEQUENTIAL_LAYERS]
    assert edges_by_name(graph) == {(a, b, 0) for a, b in zip(names, names[1:])}


RULE_KEYS = ("use_bias", "activation", "momentum", "epsilon", "axis", "center", "scale", "data_format", "rate")


@pytest.mark.parametrize("savedmodel_dir", [FUNCTIONAL, SEQUENTIAL], ids=lambda p: p.name)
def test_savedmodel_graph_matches_the_same_model_saved_as_keras(savedmodel_dir):
    """tf_keras saved the same model both ways: the graphs agree on everything rules read."""
    archive = savedmodel_dir.with_name(savedmodel_dir.name.replace("_savedmodel", ".keras"))

    def summary(graphs):
        return [
            (g.name, g.inputs, g.outputs, sorted(g.edges()),
             [(l.name, l.class_name, l.kind, {k: l.get(k, None) for k in RULE_KEYS}) for _, l in g.layers()])
            for g in graphs
        ]

    assert summary(read_legacy_savedmodel(savedmodel_dir, "x").graphs) == summary(read_path(archive, "x").graphs)


@pytest.mark.parametrize("name", SAVEDMODELS)
def test_savedmodel_fixture_findings_match_expected(name):
    from bnlint.engine import all_rules, lint

    result = read_legacy_savedmodel(SAVED / name, name)
    found = sorted((d.code, d.origin.layer_name) for d in lint(result, set(all_rules())))
    assert found == sorted((item["code"], item["layer"]) for item in EXPECTED[name])


def test_expected_json_lists_every_fixture():
    present = {p.name for p in SAVED.iterdir() if p.name.endswith((".keras", ".h5", "_savedmodel"))}
    assert set(EXPECTED) == present and len(SAVEDMODELS) == 2


def test_is_savedmodel_dir(tmp_path):
    assert is_savedmodel_dir(FUNCTIONAL)
    assert not is_savedmodel_dir(tmp_path)
    assert not is_savedmodel_dir(FUNCTIONAL / "saved_model.pb")


# -- bad input: one sentence naming the directory ---------------------------


@pytest.fixture
def copy(tmp_path):
    """A copy of the functional fixture, to break: ``copy() -> Path``."""

    def _copy() -> Path:
        target = tmp_path / "model_dir"
        shutil.copytree(FUNCTIONAL, target)
        return target

    return _copy


def problem(directory: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_legacy_savedmodel(directory, str(directory))
    message = str(caught.value)
    assert message.startswith(f"{directory}: ")
    assert "\n" not in message and ". " not in caught.value.problem  # one sentence
    return caught.value.problem


def write_metadata(directory: Path, data: bytes) -> Path:
    (directory / "keras_metadata.pb").write_bytes(data)
    return directory


def test_a_savedmodel_without_metadata_is_read_as_an_export(tmp_path):
    # No keras_metadata.pb: the op-level reader of Keras 3 exports takes it (and refuses an empty graph).
    (tmp_path / "saved_model.pb").write_bytes(b"")
    (tmp_path / "variables").mkdir()
    assert "saved_model.pb" in problem(tmp_path)


def test_directory_without_saved_model_pb_is_refused(tmp_path):
    write_metadata(tmp_path, b"")
    assert "not a SavedModel directory" in problem(tmp_path)


def test_truncated_metadata_is_refused(copy):
    directory = copy()
    data = (directory / "keras_metadata.pb").read_bytes()
    write_metadata(directory, data[: len(data) // 2])
    assert "not valid protobuf" in problem(directory)


def test_garbage_metadata_is_refused(copy):
    assert "not valid protobuf" in problem(write_metadata(copy(), b"\xff" * 64))


def test_missing_root_entry_is_refused(copy):
    data = saved_metadata(saved_object(1, "root.layer-0", "_tf_keras_layer", "{}"))
    assert "without a root entry" in problem(write_metadata(copy(), data))


def test_empty_metadata_has_no_root(copy):
    assert "without a root entry" in problem(write_metadata(copy(), b""))


def test_invalid_json_is_refused(copy):
    data = saved_metadata(saved_object(0, "root", "_tf_keras_network", '{"class_name": "Functional", '))
    assert "not valid JSON" in problem(write_metadata(copy(), data))


@pytest.mark.parametrize("metadata", ['[1, 2]', '{"name": "m"}', '{"class_name": "Functional", "config": 3}'])
def test_root_without_model_config_is_refused(copy, metadata):
    data = saved_metadata(saved_object(0, "root", "_tf_keras_network", metadata))
    assert "config" in problem(write_metadata(copy(), data))


def test_subclassed_root_without_config_names_the_class(copy):
    data = saved_metadata(saved_object(0, "root", "_tf_keras_model", '{"class_name": "MyNet", "name": "net"}'))
    assert "MyNet has no config" in problem(write_metadata(copy(), data))


def test_oversized_metadata_is_refused(copy, monkeypatch):
    monkeypatch.setattr(savedmodel, "MAX_METADATA_BYTES", 1000)
    assert "byte limit" in problem(copy())


def test_unreadable_model_config_is_an_input_error(copy):
    broken = {"class_name": "Functional", "config": {"name": "m", "layers": 5}}
    data = saved_metadata(saved_object(0, "root", "_tf_keras_network", model_metadata(broken)))
    problem(write_metadata(copy(), data))


def test_hand_built_metadata_reads_through_graphs_from_config(copy):
    """The decoder's output feeds graphs_from_config: tuples unwrapped, shared ids dropped."""
    data = saved_metadata(
        saved_object(0, "root", "_tf_keras_sequential", model_metadata(TINY)),
        saved_object(1, "root.layer_with_weights-0", "_tf_keras_layer", "{}"),
    )
    directory = write_metadata(copy(), data)
    [graph] = read_legacy_savedmodel(directory, "d").graphs
    assert [(l.name, l.class_name) for _, l in graph.layers()][-2:] == [("dense", "Dense"), ("bn", "BatchNormalization")]
    assert "shared_object_id" not in json.dumps(graph.to_dict())


# -- no TensorFlow ----------------------------------------------------------

PROBE = """
import sys
from pathlib import Path
from bnlint.readers.savedmodel import read_legacy_savedmodel
graphs = read_legacy_savedmodel(Path(sys.argv[1]), "x").graphs
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "google", "h5py"))
print(len(graphs[0]), heavy)
"""


def test_reading_a_savedmodel_imports_no_tensorflow_or_keras():
    result = subprocess.run([sys.executable, "-c", PROBE, str(FUNCTIONAL)], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.split() == ["11", "[]"], result.stderr
