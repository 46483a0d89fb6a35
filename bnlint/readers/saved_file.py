"""Read saved Keras models (``.keras`` archives and legacy ``.h5`` files) without TensorFlow.

Both formats carry the model's Keras config as JSON: ``config.json`` inside
the ``.keras`` zip, the ``model_config`` attribute of the ``.h5`` root.
:func:`graphs_from_config` turns that config into layer graphs, in either
inbound-node form (Keras 3's ``{"args": [...], "kwargs": {...}}`` with
``__keras_tensor__`` entries, or tf_keras' ``[[["layer", 0, 0, {}]]]``).
Nothing is deserialised: a ``Lambda`` or a custom class is a node of kind
``other`` that keeps its edges. Weights are not read. Each node keeps its
serialised layer and call (``Layer.keras``, ``Layer.call``), from which
:mod:`bnlint.keras_build` can rebuild the model.
"""

from __future__ import annotations

import json
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from bnlint import kinds
from bnlint.errors import InputError, MissingDependencyError, NotAModelError
from bnlint.graph import Layer, ModelGraph, SavedLayer
from bnlint.readers.result import ReadResult
from bnlint.records import replace

__all__ = ["read_keras_archive", "read_h5", "graphs_from_config", "layer_record", "MAX_CONFIG_BYTES"]

#: The largest model config read (a ResNet152's is about 0.5 MB).
MAX_CONFIG_BYTES = 64 * 1024 * 1024
_MODEL_CLASSES = {"Functional", "Sequential", "Model"}


def read_keras_archive(path: Path, display: str) -> ReadResult:
    """The models in a ``.keras`` archive (only its ``config.json`` is read).

    Raises
    ------
    InputError
        Not a zip archive, truncated, no or oversized ``config.json``, invalid JSON.
    """
    with keras_archive(path, display) as archive:
        try:
            member = archive.getinfo("config.json")
        except KeyError:
            raise InputError(display, "is a zip archive without config.json, so not a .keras model") from None
        if member.file_size > MAX_CONFIG_BYTES:
            raise InputError(display, f"has a config.json of {member.file_size} bytes, over the "
                                      f"{MAX_CONFIG_BYTES} byte limit")
        data = archive.read(member)  # read in memory: member names never become paths
    return ReadResult(display, graphs_from_config(parse_model_config(data, display, "config.json"), display))


@contextmanager
def keras_archive(path: Path, display: str) -> Iterator[zipfile.ZipFile]:
    """The ``.keras`` zip at *path*, open for reading; zip and I/O errors become :class:`InputError`."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except zipfile.BadZipFile:
        raise InputError(display, "is not a .keras archive (not a valid zip file)") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as error:
        raise InputError(display, f"cannot be read as a .keras archive ({error})") from None


def read_h5(path: Path, display: str) -> ReadResult:
    """The model in a legacy ``.h5`` file (its ``model_config`` attribute).

    Raises
    ------
    InputError
        Not an HDF5 file, or one without a Keras model config.
    """
    try:
        import h5py  # only when an .h5 file is read
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise MissingDependencyError(display, "needs h5py to be read (pip install h5py)") from None
    try:
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
    except OSError:
        raise InputError(display, "is not a readable HDF5 file") from None
    if raw is None:
        raise NotAModelError(display, "is an HDF5 file without a Keras model (no model_config attribute)")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return ReadResult(display, graphs_from_config(parse_model_config(str(raw), display, "model_config"), display))


def parse_model_config(data: bytes | str, display: str, what: str) -> dict:
    """The model config JSON *data* (the file's *what*), checked to be a Keras model config.

    Raises
    ------
    InputError
        Invalid JSON, or not an object with a ``config`` entry.
    """
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(display, f"has a {what} that is not valid JSON ({error})") from None
    except RecursionError:
        raise InputError(display, f"has a {what} whose JSON is nested too deeply") from None
    if not isinstance(value, dict) or "config" not in value:
        raise InputError(display, f"has a {what} that is not a Keras model config")
    return value


def graphs_from_config(config: dict, display: str) -> list[ModelGraph]:
    """The graphs of a serialised Keras model: the model itself, then every nested model.

    Raises
    ------
    InputError
        The config is not a model config bnlint understands.
    """
    graphs: list[ModelGraph] = []
    try:
        _model_graph(config, display, graphs)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as error:
        raise InputError(display, f"has a model config bnlint cannot read ({type(error).__name__}: {error})") from None
    output_ranks: dict[int, int | None] = {}
    for graph in reversed(graphs):  # nested models (listed after the model that calls them) first
        output_ranks[id(graph)] = _negative_batchnorm_axes(graph, output_ranks)
    return graphs


def _negative_batchnorm_axes(graph: ModelGraph, output_ranks: dict[int, int | None]) -> int | None:
    """Write tf_keras' saved BN axes as Keras' default spelling, negative, where the input's rank is known.

    tf_keras saves a built BN's axis as a list of non-negative indices:
    ``[3]`` for the default ``-1`` after a Conv2D, ``[1]`` after a Dense on a
    batch of vectors, ``[2]`` after a Dense on a sequence. Rules compare the
    axis with a layer's channel axis, which for a Dense is ``-1`` whatever
    the rank, so ``[1]`` and ``[2]`` are written back as ``-1`` (and a time
    axis ``[1]`` of a sequence as ``-2``). Keras 2 configs record no shapes:
    ranks are propagated from the inputs' declared shapes
    (:func:`bnlint.kinds.output_rank`; *output_ranks* holds those of the
    nested models' graphs). Keras 3 saves the axis as written (an int),
    which is left alone. Returns the rank of the graph's output.
    """
    ranks: dict[int, int | None] = {}
    for node in graph.topological_order():
        layer = graph.layer(node)
        producers = graph.predecessors(node)
        if producers:
            rank_in = ranks.get(producers[0])
        else:  # an InputLayer, or a Sequential's first layer that declares the input shape
            rank_in = kinds.declared_rank(layer.config)
        axis = layer.config.get("axis") if layer.kind == "batchnorm" else None
        if rank_in is not None and isinstance(axis, tuple) and len(axis) == 1 and type(axis[0]) is int and (
                0 <= axis[0] < rank_in):
            layer.config["axis"] = axis[0] - rank_in
        if layer.kind == "model" and layer.submodel is not None:
            ranks[node] = output_ranks.get(id(layer.submodel))
        elif layer.kind == "input":
            ranks[node] = rank_in
        else:
            ranks[node] = kinds.output_rank(layer.class_name, layer.config, rank_in)
    outputs = [ranks.get(node) for node in graph.outputs]
    return outputs[0] if len(outputs) == 1 else None


def _model_graph(spec: dict, display: str, graphs: list[ModelGraph], prefix: str = "") -> ModelGraph:
    body = spec["config"]
    name = body.get("name") or spec.get("name") or "model"
    graph = ModelGraph(name, SavedLayer(display, prefix + name))
    graphs.append(graph)
    layers = body.get("layers") or []
    if spec.get("class_name") == "Sequential" or not any("inbound_nodes" in layer for layer in layers):
        _sequential(graph, layers, display, graphs, prefix)
        return graph
    calls: dict[tuple[str, int], int] = {}
    wiring: list[tuple[int, list]] = []
    for position, layer_spec in enumerate(layers):
        layer_name = _layer_name(layer_spec)
        inbound = layer_spec.get("inbound_nodes") or []
        first = None
        for call_index, node in enumerate(inbound or [None]):
            if first is not None and first.submodel is not None:
                # A nested model called again is the same model: one graph, read once (an edit
                # to it changes every call, as it does in Keras).
                record = replace(first, config=dict(first.config))
            else:
                record = first = _layer(layer_spec, display, graphs, prefix, position)
            record.call = node
            calls[layer_name, call_index] = graph.add_layer(record)
            if node is not None:
                wiring.append((calls[layer_name, call_index], _history(node, record.kind in ("op", "activation"))))
    for consumer, producers in wiring:
        for index, (producer_name, call_index) in enumerate(producers):
            producer = calls.get((producer_name, call_index), calls.get((producer_name, 0)))
            if producer is not None:
                graph.add_edge(producer, consumer, index)
    starts = [(calls[name, call], key) for key, (name, call, _) in _endpoints(body.get("input_layers"))
              if (name, call) in calls]
    graph.inputs = [node for node, _ in starts]
    ends = [(calls[name, call], index, key) for key, (name, call, index) in _endpoints(body.get("output_layers"))
            if (name, call) in calls]
    graph.outputs, graph.output_indices = [node for node, _, _ in ends], [index for _, index, _ in ends]
    # Keras 3 models called with / returning a dict keep its keys, so that a rebuilt model does too.
    graph.input_keys = [key for _, key in starts] if isinstance(body.get("input_layers"), dict) else None
    graph.output_keys = [key for _, _, key in ends] if isinstance(body.get("output_layers"), dict) else None
    return graph


def _sequential(graph: ModelGraph, layers: list, display: str, graphs: list, prefix: str) -> None:
    previous = None
    for position, layer_spec in enumerate(layers):
        node = graph.add_layer(_layer(layer_spec, display, graphs, prefix, position))
        if graph.layer(node).kind == "input":
            graph.inputs.append(node)
        if previous is not None:
            graph.add_edge(previous, node)
        previous = node
    graph.outputs = [previous] if previous is not None else []


def _layer_name(spec: dict) -> str:
    return spec.get("name") or spec.get("config", {}).get("name") or spec.get("class_name", "layer")


def layer_record(spec: dict, display: str, layer_id: int) -> Layer:
    """The node record for one serialised (non-model) Keras layer, as a saved file's reader makes it.

    Raises
    ------
    InputError
        *spec* is not a serialised layer bnlint understands.
    """
    try:
        return _layer(spec, display, [], "", layer_id)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as error:
        raise InputError(display, f"is not a layer bnlint can read ({type(error).__name__}: {error})") from None


def _layer(spec: dict, display: str, graphs: list, prefix: str, layer_id: int) -> Layer:
    """A node record for a serialised layer, its config normalised as the source reader's.

    The record keeps *spec* itself (``Layer.keras``): rebuilding the layer needs it.
    """
    record = _normalised_layer(spec, display, graphs, prefix, layer_id)
    record.keras = spec
    return record


def _normalised_layer(spec: dict, display: str, graphs: list, prefix: str, layer_id: int) -> Layer:
    class_name = kinds.canonical_class(spec.get("class_name", "Layer"))
    if ">" in class_name:
        # A legacy `.h5` names a registered class `package>Scale`, where a `.keras` file has its class name
        # and the registered one apart: the class is `Scale`, and custom.
        class_name = class_name.rpartition(">")[2]
    name = _layer_name(spec)
    raw = dict(spec.get("config") or {})
    module = spec.get("module") or ""
    if class_name in _MODEL_CLASSES and "layers" in raw:
        submodel = _model_graph(spec, display, graphs, prefix + name + "/")
        return Layer(name, class_name, "model", {}, SavedLayer(display, prefix + name), layer_id, submodel)
    if module.startswith(("keras.src.ops", "keras.ops", "keras.src.activations")):
        # keras.ops / keras.activations calls in a functional model are operations, not layers
        # (`Add` here is not the Add layer); an activation keeps its kind, as in source.
        activation = next((a for a in (kinds.activation_of_function(f"keras.ops.{n}") for n in (
            kinds.to_snake_case(class_name), class_name.lower())) if a is not None), None)
        return _operation(name, class_name, activation, SavedLayer(display, prefix + name), layer_id)
    if class_name in ("TFOpLambda", "SlicingOpLambda"):
        # tf.keras' record of a raw TensorFlow call (`x + y`, `tf.nn.relu(x)`), likewise.
        function = raw.get("function")
        activation = kinds.activation_of_function(f"tensorflow.{function}") if isinstance(function, str) else None
        return _operation(name, class_name, activation, SavedLayer(display, prefix + name), layer_id)
    if spec.get("registered_name") not in (None, spec.get("class_name")) or ">" in spec.get("class_name", "") or (
            module and not module.startswith(("keras", "tf_keras"))):
        kind = "other"  # a custom or registered class, never deserialised; it keeps its edges
    else:
        kind = kinds.kind_of(class_name)
    config: dict[str, Any] = {key: value for key, value in raw.items() if key != "name"}
    for key, default in kinds.DEFAULT_CONFIG.get(class_name, {}).items():
        config.setdefault(key, default)
    if "activation" in config:
        activation = kinds.activation_name(config["activation"])
        config["activation"] = activation if activation is not None else config["activation"]
    elif class_name in kinds.ACTIVATION_LAYERS:
        config["activation"] = kinds.ACTIVATION_LAYERS[class_name]
    if config.get("data_format") is None and "data_format" in kinds.DEFAULT_CONFIG.get(class_name, {}):
        config["data_format"] = "channels_last"
    if isinstance(config.get("axis"), list):
        config["axis"] = tuple(config["axis"])
    return Layer(name, class_name, kind, config, SavedLayer(display, prefix + name), layer_id)


def _operation(name: str, class_name: str, activation: str | None, origin: SavedLayer, layer_id: int) -> Layer:
    """A raw operation's node: an activation when it computes one, else an op."""
    if activation is None:
        return Layer(name, class_name, "op", {}, origin, layer_id)
    return Layer(name, class_name, "activation", {"activation": activation}, origin, layer_id)


def _history(node: Any, keywords: bool = False) -> list[tuple[str, int]]:
    """``(producer layer, producer call)`` for each input tensor of one call, in order.

    Tensors passed by keyword follow the positional ones, by keyword name
    (``mha(query=x, value=y)``), as the source reader connects a call; in a
    tf_keras file only for an operation's call (*keywords*): its layers'
    keyword tensors are not rebuilt (see :mod:`bnlint.keras_build`).
    """
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        return [(history[0], history[1]) for history in call_inputs(node)]
    found: list[tuple[str, int]] = []
    # tf_keras: [["layer", node_index, tensor_index, {kwargs}], ...]; a TFOpLambda's is one such
    # reference, unwrapped (`["bn", 0, 0, {"y": ["skip_bn", 0, 0]}]` for `bn_output + skip`).
    by_keyword: list[tuple[str, int]] = []
    _keras2_tensors(node, found, by_keyword)
    return found + list(dict.fromkeys(by_keyword)) if keywords else found


def call_inputs(call: dict) -> list[tuple]:
    """The ``keras_history`` (layer, call, tensor index) of each input tensor of a Keras 3 call record
    (``{"args": [...], "kwargs": {...}}``): the positional arguments' in order, then the keyword
    arguments', by keyword name (``mha(query=x, value=y)``)."""
    kwargs = call.get("kwargs")
    found: list[tuple] = []
    _histories([call.get("args", []), *([kwargs[key] for key in sorted(kwargs)] if isinstance(kwargs, dict) else [])],
               found)
    return found


def is_keras2_reference(value: Any) -> bool:
    """``[layer, node, tensor]`` or ``[layer, node, tensor, kwargs]``: a Keras 2 call node's reference to a tensor."""
    return (isinstance(value, list) and len(value) in (3, 4) and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int)
            and (len(value) == 3 or isinstance(value[3], dict)))


def _keras2_tensors(value: Any, found: list, by_keyword: list) -> None:
    if is_keras2_reference(value):
        found.append((value[0], value[1]))
        if len(value) == 4:
            for argument in value[3].values():
                _keras2_tensors(argument, by_keyword, by_keyword)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _keras2_tensors(item, found, by_keyword)


def _histories(value: Any, found: list) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            found.append(tuple(value["config"]["keras_history"]))
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _histories(item, found)


def _endpoints(spec: Any) -> list[tuple[str | None, tuple]]:
    """``input_layers`` / ``output_layers``: one ``[name, node, tensor]``, a list of them, or (Keras 3,
    a model called with or returning a dict) a dict of them by key.

    ``(key or None, (name, node, tensor index or None))`` for each, in order.
    """
    if not spec:
        return []
    items = list(spec.items()) if isinstance(spec, dict) else [(None, spec)] if isinstance(spec[0], str) else [
        (None, item) for item in spec]
    return [(key, (item[0], item[1], item[2] if len(item) > 2 and isinstance(item[2], int) else None))
            for key, item in items]
