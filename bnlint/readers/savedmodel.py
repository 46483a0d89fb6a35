"""Read tf_keras SavedModel directories (``model.save(dir)``) without TensorFlow.

A SavedModel written by tf_keras keeps, next to ``saved_model.pb``, a small
``keras_metadata.pb``: one entry per saved Keras object, whose ``root`` entry
holds the whole model config as JSON. It is decoded here with a minimal
protobuf wire-format reader (no ``protobuf`` package). A Keras 3
``model.export()`` SavedModel has no Keras metadata, only the op graph; it is
refused with a sentence saying so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bnlint.errors import InputError
from bnlint.readers.protobuf import fields
from bnlint.readers.result import ReadResult

__all__ = ["read_legacy_savedmodel", "is_savedmodel_dir", "decode_saved_metadata", "MAX_METADATA_BYTES"]

#: The largest keras_metadata.pb read (a ResNet152's is a few MB).
MAX_METADATA_BYTES = 64 * 1024 * 1024
METADATA_FILE = "keras_metadata.pb"


def is_savedmodel_dir(path: Path) -> bool:
    """True for a SavedModel directory (one holding ``saved_model.pb``)."""
    return path.is_dir() and (path / "saved_model.pb").is_file()


def read_legacy_savedmodel(directory: Path, display: str) -> ReadResult:
    """The models in a tf_keras SavedModel directory (only ``keras_metadata.pb`` is read).

    Raises
    ------
    InputError
        Not a SavedModel, no Keras metadata (e.g. a Keras 3 ``export()``),
        oversized, truncated or invalid metadata, or no ``root`` entry.
    """
    if not is_savedmodel_dir(directory):
        raise InputError(display, "is not a SavedModel directory (it has no saved_model.pb)")
    path = directory / METADATA_FILE
    if not path.is_file():
        # No Keras config: a Keras 3 model.export(), read at op level.
        from bnlint.readers.exported import read_exported_savedmodel

        return read_exported_savedmodel(directory, display)
    try:
        size = path.stat().st_size
        if size > MAX_METADATA_BYTES:
            raise InputError(display, f"has a {METADATA_FILE} of {size} bytes, over the {MAX_METADATA_BYTES} byte limit")
        data = path.read_bytes()
    except OSError as error:
        raise InputError(display, f"has a {METADATA_FILE} that cannot be read ({error.strerror or error})") from None
    try:
        nodes = decode_saved_metadata(data)
    except ValueError as error:
        raise InputError(display, f"has a {METADATA_FILE} that is not valid protobuf ({error})") from None
    root = next((node for node in nodes if node.get("node_path") == "root"), None)
    if root is None:
        raise InputError(display, f"has a {METADATA_FILE} without a root entry, so no model config")
    try:
        metadata = json.loads(root.get("metadata", ""))
    except ValueError as error:
        raise InputError(display, f"has a root entry in {METADATA_FILE} that is not valid JSON ({error})") from None
    except RecursionError:
        raise InputError(display, f"has a root entry in {METADATA_FILE} whose JSON is nested too deeply") from None
    config = _model_config(metadata)
    if config is None:
        if isinstance(metadata, dict) and "class_name" in metadata:
            raise InputError(display, f"has a {METADATA_FILE} whose root {metadata['class_name']} has no config "
                                      "(a subclassed model without get_config?)")
        raise InputError(display, f"has a root entry in {METADATA_FILE} that is not a Keras model config")
    from bnlint.readers.saved_file import graphs_from_config  # lazily: shared with .keras/.h5

    return ReadResult(display, graphs_from_config(config, display))


def _model_config(metadata: object) -> dict | None:
    """``{"class_name", "config"}`` of the model in a root entry's JSON, in plain JSON form.

    The root entry carries the model's class and config at its top level (as
    tf_keras' loader reads them) and again under ``model_config`` (with
    ``shared_object_id`` annotations); the top level is preferred. tf_keras
    encodes tuples there as ``{"class_name": "__tuple__", "items": [...]}``,
    which become lists as in a ``.keras`` or ``.h5`` config.
    """
    if not isinstance(metadata, dict):
        return None
    for candidate in (metadata, metadata.get("model_config")):
        if isinstance(candidate, dict) and isinstance(candidate.get("config"), dict) and "class_name" in candidate:
            return {"class_name": candidate["class_name"], "config": _plain(candidate["config"])}
    return None


def _plain(value: Any) -> Any:
    """*value* with tf_keras' ``__tuple__`` wrappers turned into lists and ``shared_object_id`` dropped."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        if value.get("class_name") == "__tuple__" and isinstance(value.get("items"), list):
            return [_plain(item) for item in value["items"]]
        return {key: _plain(item) for key, item in value.items() if key != "shared_object_id"}
    return value


# -- protobuf wire format ---------------------------------------------------

#: SavedObject fields kept, by field number (all strings; node_id=2 and version=6 are skipped).
_SAVED_OBJECT = {3: "node_path", 4: "identifier", 5: "metadata"}


def decode_saved_metadata(data: bytes) -> list[dict[str, str]]:
    """The ``SavedObject`` entries of a ``SavedMetadata`` message, as ``{field name: str}``.

    The wire format is decoded by :mod:`bnlint.readers.protobuf`; unknown
    fields are skipped. ``SavedMetadata { repeated SavedObject nodes = 1; }`` and
    ``SavedObject { int32 node_id = 2; string node_path = 3; string identifier = 4;
    string metadata = 5; VersionDef version = 6; }``.

    Raises ``ValueError`` on truncated or malformed input.
    """
    nodes = []
    for number, _, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            node = {}
            for field, _, text in fields(value):
                if field in _SAVED_OBJECT and isinstance(text, bytes):
                    node[_SAVED_OBJECT[field]] = text.decode("utf-8", "replace")
            nodes.append(node)
    return nodes
