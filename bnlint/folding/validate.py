"""Check that a saved model config has the structure folding reads, before anything reads it.

A ``.keras`` file's ``config.json`` or an ``.h5`` file's ``model_config`` is
JSON that anyone can edit or damage; the fold walks it by key. Rather than
fail somewhere inside planning or writing with a Python error, the config is
checked up front (:func:`config_problem`) and a damaged one is refused in one
sentence that says where it is wrong (``layer 3 of 4 in the model is a
string ('oops'), not a layer object``).

Checked, in the model and in every model nested in it, are the parts the
fold reads: the layer list and each layer's ``class_name``, ``config``,
``name`` (unique), ``module``, ``registered_name``, ``inbound_nodes`` and
``build_config``; each Keras 3 tensor reference (``keras_history`` as
``[layer, call, index]``, and its ``shape``); ``input_layers`` and
``output_layers``; and the config values the fold decides by: a
BatchNormalization's ``axis``, ``epsilon``, ``center``, ``scale`` and
``renorm``, and a conv or dense layer's ``activation``, ``use_bias``,
``data_format``, ``dtype`` and ``lora_rank``. Keras 2 (tf_keras) call nodes
are lists, whose references the fold recognises by their shape and skips
otherwise, as Keras 2 also records constants there. So that no recursive
walk of the config can fail, it may not nest more than :data:`MAX_DEPTH`
levels deep.
"""

from __future__ import annotations

import json
from typing import Any

from bnlint.folding.maths import _PRECEDING, FOLDABLE_CLASSES
from bnlint.kinds import canonical_class

__all__ = ["config_problem"]

_MODELS = {"Functional", "Sequential", "Model"}
_WEIGHT_LAYERS = FOLDABLE_CLASSES | _PRECEDING

#: How deeply a config may nest. Keras' configs nest a few levels per nested model; folding copies
#: and walks them recursively, two Python frames a level at most, well inside Python's limit of 1000.
MAX_DEPTH = 200


class _Problem(Exception):
    """Raised internally with the sentence that says what is wrong."""


def config_problem(config: dict) -> str | None:
    """What is wrong with the structure of the model *config* (a whole saved config), or None.

    >>> config_problem({"class_name": "Functional", "config": {"layers": ["oops"]}})
    "layer 1 of 1 in the model is a string ('oops'), not a layer object"
    >>> config_problem({"class_name": "Sequential", "config": {"layers": []}}) is None
    True
    """
    if _deeper_than(config, MAX_DEPTH):
        return f"lists and objects nest more than {MAX_DEPTH} levels deep"
    try:
        _check_model(config, "the model")
    except _Problem as problem:
        return str(problem)
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether *value* nests lists and objects more than *limit* levels deep (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _shown(value: Any) -> str:
    """*value* as it reads in the JSON, shortened."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    """``a string ('oops')``, ``a number (3)``, ``null``: what *value* is, for a sentence."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({_shown(value)})"
    if isinstance(value, str):
        return f"a string ('{value if len(value) <= 40 else value[:37] + '...'}')"
    if isinstance(value, (int, float)):
        return f"a number ({_shown(value)})"
    if isinstance(value, list):
        return f"a list ({_shown(value)})"
    return f"an object ({_shown(value)})"


def _require(condition: bool, sentence: str) -> None:
    if not condition:
        raise _Problem(sentence)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_model(spec: dict, where: str) -> None:
    """Check the model *spec* (the whole config, or a nested model's layer spec), called *where* in sentences."""
    class_name = spec.get("class_name")
    _require(class_name is None or isinstance(class_name, str),
             f"{where} has a class_name that is {_kind(class_name)}, not a string")
    body = spec.get("config")
    _require(isinstance(body, dict), f"{where} has a config that is {_kind(body)}, not an object")
    name = body.get("name")
    _require(name is None or isinstance(name, str), f"{where} has a name that is {_kind(name)}, not a string")
    if "layers" not in body:
        return  # (not a model whose layers are in its config: the fold refuses it, or leaves it whole)
    layers = body["layers"]
    _require(isinstance(layers, list), f"{where} has layers that are {_kind(layers)}, not a list")
    names: set[str] = set()
    sequential = class_name == "Sequential"
    for position, layer in enumerate(layers):
        name = _check_layer(layer, f"layer {position + 1} of {len(layers)} in {where}", where, sequential)
        _require(name not in names, f"two layers in {where} are named '{name}'")
        names.add(name)
    for key in ("input_layers", "output_layers"):
        _check_endpoints(body.get(key), f"the {key} of {where}", names)
    for layer in layers:  # (once every name is known: a call may take the output of a later-listed layer)
        for referenced in _histories(layer.get("inbound_nodes")):
            _require(referenced in names, f"layer '{layer['config']['name']}' in {where} takes the output of a "
                                          f"layer '{referenced}' that {where} does not have")


def _check_layer(layer: Any, entry: str, where: str, sequential: bool) -> str:
    """Check one *entry* (``layer 3 of 4 in the model``) of the layer list of the model *where*; returns its name."""
    _require(isinstance(layer, dict), f"{entry} is {_kind(layer)}, not a layer object")
    class_name = layer.get("class_name")
    _require(isinstance(class_name, str), f"{entry} has a class_name that is {_kind(class_name)}, not a string")
    config = layer.get("config")
    _require(isinstance(config, dict), f"{entry} ({class_name}) has a config that is {_kind(config)}, not an object")
    name = config.get("name")
    _require(isinstance(name, str) and name != "",
             f"{entry} ({class_name}) has a name that is {_kind(name)}, not a layer name")
    label = f"layer '{name}' in {where}"
    for key in ("module", "registered_name"):
        value = layer.get(key)
        _require(value is None or isinstance(value, str), f"{label} has a {key} that is {_kind(value)}, not a string")
    nodes = layer.get("inbound_nodes")
    _require(nodes is None or isinstance(nodes, list),
             f"{label} has inbound_nodes that are {_kind(nodes)}, not a list of calls")
    for node in nodes or []:
        _require(isinstance(node, (dict, list)), f"{label} has a call in inbound_nodes that is {_kind(node)}, "
                                                 f"not an object or a list")
        _check_tensors(node, label)
    build = layer.get("build_config")
    _require(build is None or isinstance(build, dict),
             f"{label} has a build_config that is {_kind(build)}, not an object")
    if sequential and build:
        _check_shape(build.get("input_shape"), f"{label} has a build_config input_shape")
    canonical = canonical_class(class_name)
    if canonical == "BatchNormalization":
        _check_batchnorm(config, label)
    elif canonical in _WEIGHT_LAYERS:
        _check_weight_layer(config, label)
    if canonical in _MODELS and "layers" in config:
        _check_model(layer, f"the nested model '{name}'")
    return name


def _check_tensors(value: Any, label: str) -> None:
    """Check every Keras 3 tensor reference (``__keras_tensor__``) in a call node."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            inner = value.get("config")
            _require(isinstance(inner, dict), f"{label} takes a tensor whose config is {_kind(inner)}, not an object")
            history = inner.get("keras_history")
            _require(isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
                     and _is_int(history[1]) and _is_int(history[2]),
                     f"{label} takes a tensor whose keras_history is {_kind(history)}, not [layer, call, index]")
            _check_shape(inner.get("shape"), f"{label} takes a tensor whose shape")
            return
        for item in value.values():
            _check_tensors(item, label)
    elif isinstance(value, list):
        for item in value:
            _check_tensors(item, label)


def _check_shape(shape: Any, subject: str) -> None:
    """A shape is null (unknown) or a list of sizes, each a whole number or null."""
    _require(shape is None or isinstance(shape, list) and all(size is None or _is_int(size) for size in shape),
             f"{subject} is {_kind(shape)}, not a list of sizes")


def _histories(value: Any):
    """The layer names of the Keras 3 tensor references (``keras_history``) in a layer's calls."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"][0]
            return
        for item in value.values():
            yield from _histories(item)
    elif isinstance(value, list):
        for item in value:
            yield from _histories(item)


def _check_endpoints(value: Any, subject: str, names: set[str]) -> None:
    """``input_layers`` / ``output_layers``: empty, one ``[layer, call, index]``, a list or a dict of them."""
    if not value:
        return
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list):
        items = [value] if isinstance(value[0], str) else value
    else:
        raise _Problem(f"{subject} is {_kind(value)}, not a list of [layer, call, index] references")
    for item in items:
        _require(isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and _is_int(item[1])
                 and _is_int(item[2]), f"{subject} holds {_kind(item)}, not a [layer, call, index] reference")
        _require(item[0] in names, f"{subject} names a layer '{item[0]}' that the model does not have")


def _check_batchnorm(config: dict, label: str) -> None:
    axis = config.get("axis", -1)
    _require(_is_int(axis) or isinstance(axis, list) and all(_is_int(item) for item in axis),
             f"{label} has an axis that is {_kind(axis)}, not a whole number or a list of them")
    epsilon = config.get("epsilon", 1e-3)
    _require(isinstance(epsilon, (int, float)) and not isinstance(epsilon, bool),
             f"{label} has an epsilon that is {_kind(epsilon)}, not a number")
    for key in ("center", "scale", "renorm"):
        _check_flag(config, key, label)


def _check_weight_layer(config: dict, label: str) -> None:
    activation = config.get("activation")
    _require(activation is None or isinstance(activation, (str, dict)),
             f"{label} has an activation that is {_kind(activation)}, not a name or a serialised function")
    if isinstance(activation, dict):
        inner = activation.get("config")
        _require(inner is None or isinstance(inner, (str, dict)),
                 f"{label} has an activation whose config is {_kind(inner)}, not a name or an object")
    _check_flag(config, "use_bias", label)
    data_format = config.get("data_format")
    _require(data_format is None or isinstance(data_format, str),
             f"{label} has a data_format that is {_kind(data_format)}, not a string")
    dtype = config.get("dtype")
    _require(dtype is None or isinstance(dtype, (str, dict)),
             f"{label} has a dtype that is {_kind(dtype)}, not a name or a dtype policy")
    if isinstance(dtype, dict):
        inner = dtype.get("config")
        _require(inner is None or isinstance(inner, dict),
                 f"{label} has a dtype policy whose config is {_kind(inner)}, not an object")
    lora_rank = config.get("lora_rank")
    _require(lora_rank is None or _is_int(lora_rank), f"{label} has a lora_rank that is {_kind(lora_rank)}, "
                                                      f"not a whole number")


def _check_flag(config: dict, key: str, label: str) -> None:
    value = config.get(key, False)
    _require(isinstance(value, bool), f"{label} has a {key} that is {_kind(value)}, not true or false")
