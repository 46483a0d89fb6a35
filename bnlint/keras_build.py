"""Build a real Keras model from a :class:`~bnlint.graph.ModelGraph` (imports Keras).

:func:`build_model` is what ``ModelGraph.to_keras()`` runs. It needs a graph
whose layers carry their Keras serialisation (``Layer.keras``): graphs
:func:`bnlint.load` read from ``.keras`` / ``.h5`` files or live models, and
layers added by rewriting. Graphs read from Python source are refused: their
layers carry only the arguments a static reading could know, and no input
shapes or weights.

The result is always a functional model named like the graph (a Sequential
graph becomes the equivalent functional model). Each layer is rebuilt from
its serialised config (in Keras' default safe mode, no ``Lambda`` code is deserialised) and
called the way the original call was recorded (positional structure and
keyword arguments), on the tensors of its current producers. Weights:

- a layer the rewriting did not touch gets every weight of the original
  layer, bitwise, from the graph's weight source (``graph.weights``: the live
  model, or the saved file, loaded with Keras on first use);
- a layer changed by ``set_config`` keeps each variable whose name and shape
  are unchanged (``use_bias=False`` keeps the kernel, drops the bias);
- an inserted or replacing layer is initialised by its config, unless it was
  given as a live, built Keras layer, which is used as it is (or, once
  ``set_config`` changed it, rebuilt from the new config with the live
  layer's variables whose name and shape are unchanged);
- a graph without a weight source (made by hand) is initialised by its configs.
"""

from __future__ import annotations

import re
from typing import Any

from bnlint.graph import Layer, ModelGraph
from bnlint.readers.saved_file import call_inputs

__all__ = ["BuildError", "build_model"]


class BuildError(ValueError):
    """A graph that cannot be built as a Keras model, with the reason in one sentence."""


def build_model(graph: ModelGraph) -> Any:
    """A new ``keras.Model`` computing what *graph* describes, with the original weights carried over.

    Raises
    ------
    BuildError
        The graph came from Python source, has no inputs or outputs, or a layer
        cannot be deserialised or called (a custom class, ``Lambda``).
    RewriteError
        The graph's structure is invalid (see :meth:`ModelGraph.validate`).

    Examples
    --------
    >>> import numpy as np, keras, bnlint
    >>> inputs = keras.Input((4,))
    >>> model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
    >>> [graph] = bnlint.load(model)
    >>> same = build_model(graph)  # a new model with the same weights
    >>> same is model, np.array_equal(same.get_layer("d").kernel, model.get_layer("d").kernel)
    (False, True)
    """
    import keras

    graph.validate()
    for node, layer in graph.layers():
        if layer.keras is None and layer.kind != "model" and layer.layer_id not in graph.live_layers:
            raise BuildError(
                f"model '{graph.name}': layer '{layer.name}' has no Keras config (graphs read from Python source, "
                "or at op level from a model.export() SavedModel, cannot be rebuilt: load() a .keras or .h5 "
                "file or a live model)"
            )
    if not graph.inputs or not graph.outputs:
        raise BuildError(f"model '{graph.name}' has no {'inputs' if not graph.inputs else 'outputs'} "
                         "(a Sequential model must be built with an input shape)")
    instances: dict[int, Any] = {}
    tensors: dict[int, Any] = {}
    for node in graph.topological_order():
        layer = graph.layer(node)
        if layer.kind == "input" and layer.layer_id not in graph.live_layers:
            tensors[node] = _input(layer)
            continue
        instance = instances.get(layer.layer_id)
        if instance is None:
            instance = instances[layer.layer_id] = _instance(graph, layer)
        args, kwargs = _call_arguments(graph, node, tensors)
        try:
            tensors[node] = instance(*args, **kwargs)
        except Exception as error:  # Keras raises many types for a bad call; name the layer
            raise BuildError(f"model '{graph.name}': calling layer '{layer.name}' failed "
                             f"({keras_reason(error)})") from error
    inputs = [tensors[n] for n in graph.inputs]
    outputs = [_one_output(tensors[n], index) for n, index in graph.output_tensors()]
    model = keras.Model(_structure(inputs, graph.input_keys), _structure(outputs, graph.output_keys), name=graph.name)
    _carry_weights(graph, instances, graph.weights)
    return model


def _structure(tensors: list, keys: list[str] | None) -> Any:
    """*tensors* as the model takes or returns them: a dict by *keys* (when there is one key per tensor;
    a rewrite that changed their number loses them), the tensor itself when alone, else the list."""
    if keys is not None and len(keys) == len(tensors):
        return dict(zip(keys, tensors))
    return tensors[0] if len(tensors) == 1 else tensors


def _one_output(value: Any, index: int | None) -> Any:
    """The output tensor *index* of a layer that returns several (``lstm(x)`` with ``return_state=True``)."""
    return value[index] if index is not None and isinstance(value, (list, tuple)) else value


def _input(layer: Layer) -> Any:
    import keras

    config = layer.keras.get("config", {}) if layer.keras else {}
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if shape is None:
        raise BuildError(f"input layer '{layer.name}' has no recorded shape")
    return keras.Input(batch_shape=tuple(shape), dtype=config.get("dtype"), sparse=bool(config.get("sparse")),
                       name=layer.name)


def _instance(graph: ModelGraph, layer: Layer) -> Any:
    """A new Keras layer for *layer* (shared by all its calls)."""
    import keras

    if layer.layer_id in graph.live_layers:
        return graph.live_layers[layer.layer_id]
    if layer.kind == "model":
        if layer.submodel is None:
            raise BuildError(f"model '{graph.name}': nested model '{layer.name}' has no graph")
        return build_model(layer.submodel)
    spec = {key: value for key, value in layer.keras.items() if key not in ("inbound_nodes", "build_config")}
    try:
        if "module" not in spec and hasattr(keras.layers, spec.get("class_name", "")):
            spec["module"] = "keras.layers"  # .h5 configs name built-in classes without their module
        return keras.saving.deserialize_keras_object(spec)
    except Exception as error:  # unknown class, Lambda in safe mode, bad config value
        raise BuildError(f"model '{graph.name}': layer '{layer.name}' ({layer.class_name}) cannot be rebuilt "
                         f"by Keras ({keras_reason(error)})") from error


def keras_reason(error: BaseException) -> str:
    """The reason a Keras error gives, in one line: ``TypeError: Could not locate class 'Custom'.``

    Keras wraps a layer's own complaint ("invalid value for `units`") in
    generic ones that repeat the whole config, the real reason last, after
    ``Exception encountered:``, and a failed call in "Exception encountered
    when calling ..."; that reason is taken, to its first sentence when it is
    long.
    """
    inner = error
    while (inner.__cause__ or inner.__context__) is not None and "Exception encountered:" in str(inner):
        inner = inner.__cause__ or inner.__context__
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(inner))  # (Keras prints some of it in bold)
    lines = [line.strip() for line in message.rsplit("Exception encountered:", 1)[-1].split("\n") if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        lines = lines[1:]  # (the layer's call, already named)
    text = lines[0] if lines else ""
    if len(text) > 200:
        end = text.find(". ", 40, 300)
        text = text[:end + 1] if end != -1 else text[:200] + "..."
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


def _call_arguments(graph: ModelGraph, node: int, tensors: dict[int, Any]) -> tuple[list, dict]:
    """Positional and keyword arguments for *node*'s call, on its current producers' tensors."""
    layer = graph.layer(node)
    by_index = {index: producer for producer, index in graph._pred[node].items()}
    call = layer.call
    if isinstance(call, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        histories = call_inputs(call)  # (the keyword arguments' tensors follow, by name, as below)
        # A tensor passed twice (add([x, x])) is one edge: its other position finds it by history.
        resolved = {h[:2]: by_index[i] for i, h in enumerate(histories) if i in by_index}
        positions = iter(range(len(histories)))

        def tensor_for(history: tuple, position: int | None) -> Any:
            producer = by_index.get(position, resolved.get(history[:2]))
            if producer is None:
                raise BuildError(f"model '{graph.name}': input {history[0]!r} of layer '{layer.name}' "
                                 "is no longer connected")
            value = tensors[producer]
            return value[history[2]] if isinstance(value, (list, tuple)) and len(history) > 2 else value

        args = _substitute(call.get("args", []), lambda h: tensor_for(h, next(positions)))
        given = call.get("kwargs") if isinstance(call.get("kwargs"), dict) else {}
        kwargs = {key: _substitute(given[key], lambda h: tensor_for(h, next(positions))) for key in sorted(given)}
        return list(args), kwargs
    producers = [by_index[i] for i in sorted(by_index)]
    values = [tensors[p] for p in producers]
    for producer, value in zip(producers, values):
        if isinstance(value, (list, tuple)) and call is None:
            raise BuildError(f"model '{graph.name}': layer '{layer.name}' follows '{graph.layer(producer).name}', "
                             f"which returns {len(value)} tensors; which one it reads is not known "
                             "(insert it after a layer with one output)")
    kwargs = {}
    if isinstance(call, (list, tuple)):  # tf_keras: [["layer", node, tensor, {kwargs}], ...]
        kwargs = next((entry[3] for entry in call if isinstance(entry, (list, tuple)) and len(entry) > 3
                       and isinstance(entry[3], dict)), {})
    if not values:
        raise BuildError(f"model '{graph.name}': layer '{layer.name}' has no input")
    if layer.kind == "merge" or len(values) > 1:
        return [values], dict(kwargs)
    return [values[0]], dict(kwargs)


def _substitute(value: Any, tensor_for: Any) -> Any:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return tensor_for(tuple(value["config"]["keras_history"]))
        return {key: _substitute(item, tensor_for) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_substitute(item, tensor_for) for item in value]
    return value


def _carry_weights(graph: ModelGraph, instances: dict[int, Any], weights: Any) -> None:
    """Copy the original weights into the new layers, as the module docstring says.

    *weights* is the graph's weight source (called on first need), or None.
    """
    done: set[int] = set()
    source = None
    for node, layer in graph.layers():
        if layer.layer_id in done or layer.kind in ("input", "model") or layer.layer_id in graph.live_layers:
            continue
        done.add(layer.layer_id)
        edit = graph.edits.get(layer.layer_id)
        new = instances[layer.layer_id]
        if not getattr(new, "weights", None):
            continue  # nothing to carry (keras.ops calls in a functional model are not even layers)
        if edit == "new":
            if layer.layer_id in graph.donors:  # a live layer, then set_config
                _copy_matching(graph.donors[layer.layer_id], new)
            continue
        if weights is None:
            continue  # a graph made by hand: initialised by its configs
        name = layer.origin.layer_name.rsplit("/", 1)[-1] if layer.origin is not None else layer.name
        source = weights() if source is None else source
        try:
            original = source.get_layer(name)
        except ValueError:
            raise BuildError(f"model '{graph.name}': the original model has no layer '{name}' to take weights from"
                             ) from None
        if edit is None:
            new.set_weights(original.get_weights())
        else:
            _copy_matching(original, new)


def _copy_matching(original: Any, new: Any) -> None:
    """Give *new* the value of each variable of *original* with the same name and shape."""
    old = {variable.name: variable for variable in original.weights}
    for variable in new.weights:
        match = old.get(variable.name)
        if match is not None and tuple(match.shape) == tuple(variable.shape):
            variable.assign(match.numpy() if hasattr(match, "numpy") else match)
