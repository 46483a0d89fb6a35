"""Read and write the weights of saved Keras models (``.keras`` and ``.h5``) with h5py, without Keras.

``.keras`` is a zip of ``config.json``, ``metadata.json`` and
``model.weights.h5``. Inside the weights file each top-level layer has a group
``layers/<snake_case(class)>[_<n>]/vars`` whose datasets ``0, 1, ...`` are the
layer's variables in creation order; the suffix counts earlier layers of the
same class in ``model.layers`` order, and the ``vars`` group carries the layer
name as its ``name`` attribute. Removing a layer therefore renames the groups
of later layers of the same class; :func:`write_saved_model` recomputes them.
A nested model's group holds its own ``vars`` and a ``layers`` group laid
out the same way (its names counted within it); its layers are addressed
here by path, ``backbone/conv``.

A legacy ``.h5`` file carries the config as the ``model_config`` root
attribute and each layer's weights under ``model_weights/<layer>``, ordered by
that group's ``weight_names`` attribute. Keras matches those groups to the
model's layers by position in ``layer_names``, in its own layer order (see
:func:`bnlint.folding.plan.keras_layer_order`). Keras 2 (tf_keras) writes
``.h5`` files the same way, with its own config spelling and ``:0``-suffixed
weight names; such a file is folded into a Keras 2 ``.h5`` file again, never
into a ``.keras`` archive. tf_keras' own archives keep Keras 2's config
spelling and name weight groups by class only (see
:func:`_index_keras_2_groups`); they too are written as Keras 2 ``.h5``.

Optimizer state is never written: after folding, the optimizer's slots no
longer match the model's variables. A compile config is kept when input and
output have the same format; across formats it is dropped (the two formats
spell it differently) and :class:`SavedModel` says so in ``notes``.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bnlint.errors import InputError
from bnlint.files import write_atomically
from bnlint.folding.plan import is_nested_model
from bnlint.folding.validate import config_problem
from bnlint.kinds import to_snake_case
from bnlint.readers.saved_file import MAX_CONFIG_BYTES, keras_archive, parse_model_config

__all__ = ["SavedModel", "open_saved_model", "write_saved_model"]

_WEIGHTS = "model.weights.h5"
_WORD_START = re.compile(r"(.)([A-Z][a-z0-9]+)")
_LOWER_UPPER = re.compile(r"([a-z])([A-Z])")


@dataclass
class SavedModel:
    """A saved model opened for folding: its config and access to each layer's weights."""

    display: str
    format: str  # "keras" or "h5"
    config: dict  # the whole config.json (``.keras``) or model_config (``.h5``)
    handle: object  # the open h5py.File holding the weights
    members: dict[str, bytes] = field(default_factory=dict)  # other zip members of a .keras archive
    training_config: str | None = None  # .h5 only
    keras_version: str = "3"
    _groups: dict[str, str] = field(default_factory=dict)  # layer path (backbone/conv) -> weights group path
    # .h5 nested model -> whether its weights are saved trainable first (see h5_nested_weight_names)
    _h5_split: dict[str, bool] = field(default_factory=dict)
    _tops: dict[str, dict] | None = None  # the top-level layer specs, by name
    _owners: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # .h5 nested model -> _by_owner

    def layer_weights(self, name: str) -> list[np.ndarray]:
        """The variables of layer *name*, in Keras' order (in a ``.keras`` file, a nested layer by its path)."""
        if self.format == "keras":
            if name not in self._groups:
                return []  # a Sequential model's InputLayer has no weights group
            group = self.handle[self._groups[name]]["vars"]
            return [np.asarray(group[str(index)]) for index in range(len(group))]
        top, inner = self._h5_split_path(name)
        group = self.handle["model_weights"].get(top)
        if group is None:
            return []
        names = _names(group)
        if inner:  # a layer of a nested model: its variables are named ".../<layer>/<variable>" in the model's group
            names = self.h5_owners(top).get(inner, [])
        return [np.asarray(group[weight]) for weight in names]

    def _h5_split_path(self, path: str) -> tuple[str, str]:
        """``(top-level layer, layer inside it or "")`` for a layer *path* (Keras 2 layer names may hold ``/``)."""
        specs = self._top_specs()
        if path in specs:
            return path, ""
        for name, spec in specs.items():
            if path.startswith(name + "/") and is_nested_model(spec):
                return name, path[len(name) + 1:]
        return path, ""

    def _top_specs(self) -> dict[str, dict]:
        if self._tops is None:
            self._tops = {spec["config"]["name"]: spec for spec in self.config.get("config", {}).get("layers", [])}
        return self._tops

    def h5_owners(self, top: str) -> dict[str, list[str]]:
        """The weight names of each layer of the nested model *top* of an ``.h5`` file, as saved (read once)."""
        if top not in self._owners:
            spec = self._top_specs().get(top) or {}
            layers = {inner["config"]["name"] for inner in (spec.get("config") or {}).get("layers", [])}
            self._owners[top] = _by_owner(_names(self.handle["model_weights"][top]), layers)
        return self._owners[top]

    def nested_problem(self, path: str, spec: dict) -> str | None:
        """Why the weights of the nested model *spec* at *path* cannot be rewritten (None when they can)."""
        if self.format == "keras":
            if _missing_group(self._groups, spec, path + "/") is not None:
                return "its layers have no weights groups of their own in model.weights.h5"
            return None
        if "/" in path:
            return "bnlint rewrites the weights of .h5 nested models one level deep only"
        if any(is_nested_model(inner) for inner in spec["config"].get("layers", [])):
            return "it holds a nested model of its own, whose .h5 weights bnlint does not rewrite"
        group = self.handle["model_weights"].get(path)
        if group is None:
            return "its weights are not in the .h5 file"
        names = _names(group)
        for split in (True, False):
            if h5_nested_weight_names(spec, self.h5_owners(path), split) == names:
                self._h5_split[path] = split
                return None
        return ("bnlint cannot reproduce the order in which Keras saved its weights in the .h5 file, "
                "so it leaves them as they are")

    def is_plain(self, name: str) -> bool:
        """Whether *name* keeps only its own variables (no nested layers), so it converts between formats."""
        if self.format == "keras":
            return name not in self._groups or set(self.handle[self._groups[name]].keys()) <= {"vars"}
        group = self.handle["model_weights"].get(name)
        names = _names(group) if group is not None else []
        # "conv/kernel" or "sequential/conv/kernel" are the layer's own; "mha/query/kernel" is nested.
        return all(weight.rsplit("/", 2)[-2:-1] == [name] for weight in names)

    @property
    def is_keras_2(self) -> bool:
        """Saved by tf_keras (Keras 2): written back in its own format, as ``.h5`` only."""
        return self.keras_version.startswith("2.")

    def close(self) -> None:
        self.handle.close()


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(group) -> list[str]:
    """An ``.h5`` layer group's ``weight_names``, in order.

    Keras splits an attribute too big for an HDF5 object header into
    ``weight_names0``, ``weight_names1``, ... (a nested NASNet's 1,124 names).
    """
    attributes = group.attrs
    if "weight_names" in attributes:
        return [_text(weight) for weight in attributes["weight_names"]]
    names: list[str] = []
    chunk = 0
    while f"weight_names{chunk}" in attributes:
        names += [_text(weight) for weight in attributes[f"weight_names{chunk}"]]
        chunk += 1
    return names


def _owner(weight: str, layers: set[str]) -> str:
    """The layer of *layers* a nested model's weight belongs to.

    ``c1`` for ``c1/kernel:0`` (Keras 2; its layer names may hold ``/``:
    ``Conv/BatchNorm/gamma:0``), ``c1/kernel`` (Keras 3) or ``head/c1/kernel``
    (Keras 3, in a nested Sequential); the weight's prefix when no layer matches.
    """
    prefix = weight.rpartition("/")[0]
    parts = prefix.split("/")
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if candidate in layers:
            return candidate
    return prefix


def _by_owner(names: list[str], layers: set[str]) -> dict[str, list[str]]:
    """Each layer's weight names, in the order they appear (the order the layer made its variables)."""
    owners: dict[str, list[str]] = {}
    for weight in names:
        owners.setdefault(_owner(weight, layers), []).append(weight)
    return owners


# Variables Keras keeps out of training (BN's moving statistics, a dropout's seed): saved after the trainable ones.
_NON_TRAINABLE = frozenset({"moving_mean", "moving_variance", "seed_generator_state"})


def h5_nested_weight_names(spec: dict, variables: dict[str, list[str]], split: bool) -> list[str]:
    """The weight names of the nested model *spec*, in the order Keras saves them to (and loads them from) ``.h5``.

    *variables* gives each of its layers' weight names in the order the layer
    made them. Keras writes a nested model's weights as one list, by
    position, with its layers in Keras' layer order. With *split* (a
    functional model: Keras 2, and Keras 3) the list is
    ``trainable_weights + non_trainable_weights``: a trainable layer's
    trainable variables go in the first part and its moving statistics in
    the second, a frozen layer's variables (all of them, when the model
    itself is frozen) in the second, in the order the layer made them.
    Without it (Keras 3's nested Sequential) each layer's variables follow
    each other. Which one a file uses is checked against the file itself
    (:meth:`SavedModel.nested_problem`) before anything is rewritten.
    """
    model_trainable = spec["config"].get("trainable", True) is not False
    sequential = spec.get("class_name") == "Sequential"
    trainable: list[str] = []
    frozen: list[str] = []
    for inner in spec["config"].get("layers", []):
        if sequential and inner.get("class_name") == "InputLayer":
            continue
        names = variables.get(inner["config"]["name"], [])
        if not split:
            trainable += names
        elif model_trainable and inner["config"].get("trainable", True) is not False:
            trainable += [weight for weight in names if _variable(weight) not in _NON_TRAINABLE]
            frozen += [weight for weight in names if _variable(weight) in _NON_TRAINABLE]
        else:
            frozen += names
    return trainable + frozen


def _variable(weight: str) -> str:
    """``moving_mean`` for ``bn/moving_mean:0`` or ``bn/moving_mean``."""
    return weight.rpartition("/")[2].partition(":")[0]


def open_saved_model(path: Path, display: str) -> SavedModel:
    """Open a Keras 3 ``.keras`` or ``.h5`` model, or a Keras 2 ``.h5`` model, for folding.

    Raises
    ------
    InputError
        Any other kind of file, or one that is not a readable model of those.
    """
    suffix = path.suffix.lower()
    if path.is_dir():
        raise InputError(display, "is a directory; bnlint fold reads .keras and .h5 files (a SavedModel "
                                  "cannot be folded, re-save it as .keras)")
    if suffix == ".keras":
        return _open_keras(path, display)
    if suffix in (".h5", ".hdf5"):
        return _open_h5(path, display)
    raise InputError(display, "is not a .keras or .h5 model file")


_ADDED_NAME = "__bnlint_added_name"  # (marks a layer config that had no name of its own)


def _name_every_layer(config: dict) -> dict:
    """*config* with each layer's name in its config, where Keras 3 saved it only beside it.

    A custom layer whose ``get_config`` leaves ``name`` out (Keras 3 takes its
    ``__init__`` arguments, which need not include it) is saved with its name
    in the layer spec alone. Folding reads names from the configs, so the
    name is copied in, marked, and taken out again when the model is written
    (:func:`_as_saved`): such a class's ``__init__`` may not accept ``name``.
    """
    body = config.get("config")
    for spec in body.get("layers") if isinstance(body, dict) and isinstance(body.get("layers"), list) else []:
        if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
            continue
        if "name" not in spec["config"] and isinstance(spec.get("name"), str):
            spec["config"]["name"] = spec["name"]
            spec[_ADDED_NAME] = True
        if isinstance(spec["config"].get("layers"), list):
            _name_every_layer(spec)
    return config


def _readable_config(data: bytes | str, display: str, what: str) -> dict:
    """The model config *data* (the file's *what*), its layers named (:func:`_name_every_layer`).

    Raises
    ------
    InputError
        Not JSON, not a model config, or without the structure folding reads
        (:func:`bnlint.folding.validate.config_problem`), in one sentence.
    """
    config = _name_every_layer(parse_model_config(data, display, what))
    problem = config_problem(config)
    if problem is not None:
        raise InputError(display, f"has a {what} in which {problem}")
    return config


def _as_saved(config: dict) -> dict:
    """A copy of *config* without the names :func:`_name_every_layer` added."""
    if not isinstance(config, dict):
        return config
    copy = {key: value for key, value in config.items() if key != _ADDED_NAME}
    if isinstance(copy.get("config"), dict):
        inner = {key: value for key, value in copy["config"].items()
                 if not (key == "name" and config.get(_ADDED_NAME))}
        if isinstance(inner.get("layers"), list):
            inner["layers"] = [_as_saved(spec) for spec in inner["layers"]]
        copy["config"] = inner
    return copy


def _h5py():
    import h5py

    return h5py


def _open_keras(path: Path, display: str) -> SavedModel:
    h5py = _h5py()
    with keras_archive(path, display) as archive:
        names = archive.namelist()
        missing = [name for name in ("config.json", _WEIGHTS) if name not in names]
        if missing:
            raise InputError(display, f"is a zip archive without {' or '.join(missing)}, "
                                      "so not a Keras 3 .keras model bnlint can fold")
        if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
            raise InputError(display, "has an oversized config.json")
        members = {name: archive.read(name) for name in names}
    config = _readable_config(members.pop("config.json"), display, "config.json")
    try:
        handle = h5py.File(io.BytesIO(members.pop(_WEIGHTS)), "r")
    except OSError:
        raise InputError(display, "has a model.weights.h5 that is not a readable HDF5 file") from None
    metadata = members.get("metadata.json", b"{}")
    try:
        version = str(json.loads(metadata).get("keras_version", "3"))
    except (ValueError, AttributeError, RecursionError):
        version = "3"
    model = SavedModel(display, "keras", config, handle, members, keras_version=version)
    try:
        _require_keras_2_or_3(display, version)
        if model.is_keras_2:
            _index_keras_2_groups(model._groups, handle, config, display)
            return model
        _index_groups(model._groups, handle, "", "")
        missing = _missing_group(model._groups, config, "", nested=False)
        if missing is not None:
            raise InputError(display, f"has no weights group for layer '{missing}' in model.weights.h5")
    except InputError:
        handle.close()
        raise
    except (AttributeError, TypeError, KeyError) as error:  # a layer list that is not one of layer configs
        handle.close()
        raise InputError(display, f"has a config.json bnlint cannot read ({type(error).__name__}: {error})") from None
    return model


def _index_groups(groups: dict[str, str], parent, prefix: str, base: str) -> None:
    """Map each layer's path to its group, descending into groups that hold layers of their own."""
    h5py = _h5py()
    layers = parent.get("layers")
    if not isinstance(layers, h5py.Group):
        return
    for key in layers:
        group = layers[key]
        vars_group = group.get("vars") if isinstance(group, h5py.Group) else None
        if vars_group is not None and "name" in vars_group.attrs:
            name = prefix + _text(vars_group.attrs["name"])
            groups[name] = f"{base}layers/{key}"
            _index_groups(groups, group, name + "/", f"{base}layers/{key}/")


def _index_keras_2_groups(groups: dict[str, str], handle, config: dict, display: str) -> None:
    """Map each layer of a tf_keras archive to its group, refusing any file laid out otherwise.

    tf_keras (2.13 and later) writes a ``.keras`` archive like Keras 3 but
    without the ``name`` attribute on ``vars``: a layer's group is only its
    class name in snake case, numbered among the layers of that class in
    ``model.layers`` order, which is the config's (an ``InputLayer`` counts,
    except the one a Sequential model keeps out of its layers). The mapping
    is accepted only when it names exactly the groups in the file.
    """
    spec_layers = config.get("config", {}).get("layers", [])
    for spec in spec_layers:
        if is_nested_model(spec):
            raise InputError(display, f"holds a nested model ('{spec.get('config', {}).get('name')}') saved by "
                                      f"tf_keras, whose .keras weights bnlint does not map; save the model as .h5 "
                                      f"with tf_keras (model.save('model.h5')) to fold it")
    sequential = config.get("class_name") == "Sequential"
    counts: dict[str, int] = {}
    for spec in spec_layers:
        class_name = str(spec.get("class_name", "Layer"))
        if sequential and class_name == "InputLayer":
            continue
        key = _keras_2_snake_case(class_name)
        count = counts[key] = counts.get(key, -1) + 1
        groups[str(spec.get("config", {}).get("name"))] = f"layers/{key}" if count == 0 else f"layers/{key}_{count}"
    layers = handle.get("layers")
    present = {f"layers/{key}" for key in layers} if layers is not None else set()
    if present != set(groups.values()):
        unknown = sorted(present - set(groups.values())) or sorted(set(groups.values()) - present)
        raise InputError(display, f"has weights groups bnlint cannot match to its layers in model.weights.h5 "
                                  f"({unknown[0]}); save the model as .h5 with tf_keras (model.save('model.h5')) "
                                  f"to fold it")


def _keras_2_snake_case(class_name: str) -> str:
    """tf_keras' group name for a class: ``Conv2DTranspose`` -> ``conv2d_transpose``, ``ReLU`` -> ``re_lu``.

    tf_keras' rule, in its two passes: an underscore before each capital
    that starts a run of lower-case letters or digits (scanning left to
    right, a run already matched is not looked into again), then between
    each lower-case letter and a capital that follows it; lower-cased, and
    ``private`` put before a leading underscore.
    """
    name = _WORD_START.sub(r"\1_\2", class_name)
    name = _LOWER_UPPER.sub(r"\1_\2", name).lower()
    return "private" + name if name.startswith("_") else name


def is_operation(spec: dict) -> bool:
    """A keras.ops call in a functional model (``x * 2.0``, ``ops.relu(x)``): an operation, not a layer.

    Keras leaves it out of ``model.layers``, so it has no weights and no weights group, and does not count
    in the numbering of the groups (the source reader reads it as an op node, likewise).
    """
    return (spec.get("module") or "").startswith(("keras.src.ops", "keras.ops", "keras.src.activations"))


def _missing_group(groups: dict[str, str], config: dict, prefix: str, nested: bool = True) -> str | None:
    """The path of the first layer of *config* (with *nested*, of its nested models too) without a weights group."""
    for spec in config.get("config", {}).get("layers", []):
        name = prefix + str(spec.get("config", {}).get("name"))
        if spec.get("class_name") == "InputLayer" or is_operation(spec):
            continue
        if name not in groups:
            return name
        if nested and is_nested_model(spec):
            missing = _missing_group(groups, spec, name + "/")
            if missing is not None:
                return missing
    return None


def _open_h5(path: Path, display: str) -> SavedModel:
    h5py = _h5py()
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise InputError(display, "is not a readable HDF5 file") from None
    raw = handle.attrs.get("model_config")
    if raw is None or "model_weights" not in handle:
        handle.close()
        raise InputError(display, "is an HDF5 file without a whole Keras model (no model_config or "
                                  "model_weights; a weights-only file cannot be folded)")
    training = handle.attrs.get("training_config")
    version = _text(handle.attrs.get("keras_version", "3"))
    try:
        config = _readable_config(_text(raw), display, "model_config")
        _require_keras_2_or_3(display, version)
    except InputError:
        handle.close()
        raise
    return SavedModel(display, "h5", config, handle, training_config=_text(training) if training is not None else None,
                      keras_version=version)


def _require_keras_2_or_3(display: str, version: str) -> None:
    """Keras 1 files (``.h5`` only) spell their configs in a way bnlint fold does not read."""
    if version.startswith("1."):
        raise InputError(display, f"was saved by Keras {version}; bnlint fold reads models saved by Keras 2 "
                                  f"and Keras 3")


def write_saved_model(source: SavedModel, config: dict, replaced: dict[str, list[np.ndarray]],
                      out: Path, notes: list[str], renamed: dict[str, str] | None = None) -> None:
    """Write the folded model to *out* (``.keras`` unless *out* ends in ``.h5``), atomically.

    *config* is the rewritten model config (same shape as ``source.config``);
    layers absent from it are dropped, layers in *replaced* get those
    variables, every other layer's weights are copied unchanged. *renamed*
    gives the name in *source* of each layer the fold renamed (an ``.h5``
    file names its variables after it).
    """
    target = "h5" if out.suffix.lower() in (".h5", ".hdf5") else "keras"
    if target == "keras" and source.is_keras_2:
        raise InputError(str(out), f"cannot hold a model saved by Keras {source.keras_version} (tf_keras), whose "
                                   f"config Keras 3 spells differently; write the output as .h5")
    layers = config["config"].get("layers", [])
    if target != source.format:
        for spec in layers:
            name = spec["config"]["name"]
            if name not in replaced and not source.is_plain(name):
                raise InputError(str(out), f"cannot be written as .{target} from a .{source.format} input "
                                           f"because layer '{name}' ({spec.get('class_name')}) has nested "
                                           f"weights; write the output in the input's format")
        if config.get("compile_config") or source.training_config:
            notes.append(f"the compile config is not carried from .{source.format} to .{target}; "
                         f"compile the folded model again before training it")
    if target == "keras":
        weights = _keras_weights(source, config, replaced)
        write_atomically(out, lambda stream: _write_keras_zip(stream, source, config, weights))
    else:
        data = _h5_bytes(source, config, replaced, renamed or {})
        write_atomically(out, lambda stream: stream.write(data))


def _weights_of(source: SavedModel, name: str, replaced: dict) -> list[np.ndarray]:
    return replaced[name] if name in replaced else source.layer_weights(name)


def _keras_weights(source: SavedModel, config: dict, replaced: dict) -> memoryview:
    """The folded model's ``model.weights.h5``, in memory."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as weights:
        if source.format == "keras":
            for key, value in source.handle.attrs.items():
                weights.attrs[key] = value
            if "vars" in source.handle:
                source.handle.copy(source.handle["vars"], weights, "vars")
            else:
                weights.create_group("vars").attrs["name"] = config["config"].get("name", "functional")
        else:
            weights.create_group("vars").attrs["name"] = config["config"].get("name", "functional")
        _write_layers(weights, "", source, config, replaced, "")
    return buffer.getbuffer()


def _write_layers(weights, base: str, source: SavedModel, config: dict, replaced: dict, prefix: str) -> None:
    """Write the ``layers`` group of the model *config* under *base*; nested models (``.keras``) recursively."""
    weights.create_group(f"{base}layers")
    counts: dict[str, int] = {}
    for spec in config["config"].get("layers", []):
        class_name = spec.get("class_name", "Layer")
        if class_name == "InputLayer" and config.get("class_name") == "Sequential" or is_operation(spec):
            continue  # Sequential.layers leaves its InputLayer out, and every model its keras.ops calls
        name = prefix + spec["config"]["name"]
        key = to_snake_case(class_name)
        if key in counts:
            counts[key] += 1
            key = f"{key}_{counts[key] - 1}"
        else:
            counts[key] = 1
        path = f"{base}layers/{key}"
        if source.format == "keras" and is_nested_model(spec) and any(k.startswith(name + "/") for k in replaced):
            # A BN inside was folded: its layers are renumbered as the top level's are.
            source.handle.copy(source.handle[source._groups[name]]["vars"], weights, f"{path}/vars")
            _write_layers(weights, f"{path}/", source, spec, replaced, name + "/")
            continue
        if source.format == "keras" and name not in replaced:
            source.handle.copy(source.handle[source._groups[name]], weights, path)
            continue
        group = weights.create_group(f"{path}/vars")
        group.attrs["name"] = spec["config"]["name"]
        for index, value in enumerate(_weights_of(source, name, replaced)):
            group.create_dataset(str(index), data=value)


def _write_keras_zip(stream, source: SavedModel, config: dict, weights: memoryview) -> None:
    whole = dict(config)
    if source.format != "keras":
        whole = {"module": "keras.src.models.functional" if config.get("class_name") == "Functional"
                 else "keras", **config, "registered_name": None}
        whole.pop("compile_config", None)
    members = dict(source.members) if source.format == "keras" else {}
    members.setdefault("metadata.json", json.dumps({"keras_version": source.keras_version,
                                                    "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}).encode())
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", members.pop("metadata.json"))
        archive.writestr("config.json", json.dumps(_as_saved(whole)))
        archive.writestr(_WEIGHTS, weights)
        for name, data in members.items():
            archive.writestr(name, data)


def _h5_bytes(source: SavedModel, config: dict, replaced: dict, renamed: dict[str, str]) -> bytes:
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        model_config = {"class_name": config.get("class_name"), "config": config["config"]}
        if source.format == "keras" and source.is_keras_2:
            model_config["config"] = _keras_2_h5_config(config["config"])
        handle.attrs["model_config"] = json.dumps(_as_saved(model_config))
        handle.attrs["backend"] = "tensorflow"
        handle.attrs["keras_version"] = source.keras_version
        if source.format == "h5" and source.training_config is not None:
            handle.attrs["training_config"] = source.training_config
        group = handle.create_group("model_weights")
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = source.keras_version
        sequential = config.get("class_name") == "Sequential"
        names = [spec["config"]["name"] for spec in config["config"].get("layers", [])
                 if not (sequential and spec.get("class_name") == "InputLayer")]
        group.attrs["layer_names"] = np.array(names, dtype=h5py.string_dtype())
        specs = {spec["config"]["name"]: spec for spec in config["config"].get("layers", [])}
        for name in names:
            if source.format == "h5" and any(path.startswith(name + "/") for path in replaced):
                _write_h5_nested(group, name, specs[name], source, replaced)
                continue
            if source.format == "h5" and name not in replaced and name in source.handle["model_weights"]:
                _copy_h5_layer(source.handle["model_weights"][name], group.require_group(name))
                continue
            layer = group.require_group(name)  # (a Keras 2 name "a/b" puts its group inside layer a's)
            values = _weights_of(source, name, replaced)
            weight_names = _weight_names(source, name, len(values), renamed.get(name, name))
            layer.attrs["weight_names"] = np.array(weight_names, dtype=h5py.string_dtype())
            for weight, value in zip(weight_names, values):
                layer.create_dataset(weight, data=value)
        if source.format == "h5" and "top_level_model_weights" in source.handle["model_weights"]:
            source.handle.copy(source.handle["model_weights"]["top_level_model_weights"], group,
                               "top_level_model_weights")
        else:
            group.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype=h5py.string_dtype())
    return buffer.getvalue()


def _keras_2_h5_config(config: dict) -> dict:
    """A tf_keras archive's model config as tf_keras writes it in ``.h5``: layers without the archive's keys.

    In an archive each layer also carries ``module``, ``registered_name`` and
    ``build_config``; Keras 3 reads a layer with ``module`` as a Keras 3
    layer (and then rejects Keras 2's list-valued BN ``axis``).
    """
    layers = [{key: value for key, value in spec.items() if key not in ("module", "registered_name", "build_config")}
              for spec in config.get("layers", [])]
    return {**config, "layers": layers}


def _write_h5_nested(group, name: str, spec: dict, source: SavedModel, replaced: dict) -> None:
    """Write the group of the nested model *name* (folded *spec*) in the weight order Keras will load it in."""
    h5py = _h5py()
    old = source.handle["model_weights"][name]
    # Owners by the layers of the model as saved: a folded BN "conv1/bn" must not pass for a layer "bn".
    variables = dict(source.h5_owners(name))
    values: dict[str, np.ndarray] = {}
    for path, new in replaced.items():
        if path.startswith(name + "/"):
            inner = path[len(name) + 1:]
            names = _grown(variables.get(inner, []), len(new))
            variables[inner] = names
            values.update(zip(names, new))
    order = h5_nested_weight_names(spec, variables, source._h5_split[name])
    layer = group.require_group(name)
    for key, value in old.attrs.items():
        if not key.startswith("weight_names"):  # (weight_names0, 1, ... of a big list are replaced too)
            layer.attrs[key] = value
    layer.attrs["weight_names"] = np.array(order, dtype=h5py.string_dtype())
    for weight in order:
        if weight in values:
            layer.create_dataset(weight, data=values[weight])
        else:
            old.file.copy(old[weight], layer, weight)


def _copy_h5_layer(old, layer) -> None:
    """Copy an unchanged layer's group: its attributes and the datasets its ``weight_names`` list.

    Dataset by dataset, not the whole group: with Keras 2's ``/`` in layer
    names, layer ``a``'s group also holds layer ``a/b``'s, which is copied as
    a layer of its own.
    """
    h5py = _h5py()
    for key, value in old.attrs.items():
        info = h5py.check_string_dtype(old.attrs.get_id(key).dtype)
        if info is not None and info.length is None:
            # Keras 3 writes weight_names as variable-length strings tagged ASCII that hold UTF-8; h5py
            # reads them as str but cannot write "éout/kernel" back as ASCII. UTF-8, as a rewritten layer's.
            layer.attrs.create(key, value, dtype=h5py.string_dtype())
        else:
            layer.attrs[key] = value
    for weight in _names(old):
        old.file.copy(old[weight], layer, weight)


def _renamed_weight(weight: str, old: str, new: str) -> str:
    """The name of the variable *weight* of layer *old* (``old/kernel:0``) once the layer is named *new*."""
    prefix, _, variable = weight.rpartition("/")
    if prefix == old or prefix.endswith("/" + old):
        return f"{prefix[:len(prefix) - len(old)]}{new}/{variable}"
    return weight


def _grown(existing: list[str], count: int) -> list[str]:
    """Names for *count* variables of a layer whose variables were *existing*: a created bias is named like them."""
    if existing and count == len(existing) + 1:
        stem, _, last = existing[0].rpartition("/")
        return [*existing, f"{stem}/bias{':0' if last.endswith(':0') else ''}"]
    return existing[:count]


def _weight_names(source: SavedModel, name: str, count: int, saved_as: str) -> list[str]:
    """Dataset names for *name*'s variables in an ``.h5`` file: the source's where it has enough.

    *saved_as* is the layer's name in the source (another when the fold renamed it: its variables
    ``d/kernel`` are then named after the new name, ``bn/kernel``, as Keras would save them).
    """
    existing: list[str] = []
    if source.format == "h5" and saved_as in source.handle["model_weights"]:
        existing = [_renamed_weight(weight, saved_as, name)
                    for weight in _names(source.handle["model_weights"][saved_as])]
    if existing and len(existing) + 1 >= count:  # (a bias created by folding is named as its kernel is)
        return _grown(existing, count)
    return [f"{name}/variable_{index}" for index in range(count)]
