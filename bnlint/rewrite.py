"""Rewriting a :class:`~bnlint.graph.ModelGraph`: insert, remove, replace, reconfigure layers.

These functions implement the rewriting methods of ``ModelGraph``
(``graph.insert_after(...)`` and so on); call them through the graph. Every
operation checks its preconditions before it changes anything, so a refused
edit (:class:`RewriteError`) leaves the graph as it was.

A **layer spec** names the layer to put into a graph. It is one of:

- a Keras class name: ``"BatchNormalization"`` (Keras' defaults);
- a ``(class_name, config)`` pair: ``("BatchNormalization", {"epsilon": 1e-5})``;
- a serialised Keras layer, as ``keras.saving.serialize_keras_object(layer)``
  returns it: ``{"class_name": ..., "config": {...}, "module": ...}``;
- a live Keras layer object: :meth:`ModelGraph.to_keras` then uses that very
  object (with its weights, if it has been built).

Class names must be Keras layer classes bnlint knows (a typo is an error,
not a silent ``other`` layer); custom classes go in as live layers or
serialised dicts. Without a ``name`` in its config, a new layer is named
after the layer it follows (``conv1_batch_normalization``), made unique in
the graph. Nothing here imports TensorFlow, except turning a live layer
into its serialised form.

>>> from bnlint.graph import Layer, ModelGraph
>>> g = ModelGraph("m")
>>> x = g.add_layer(Layer("x", "InputLayer", "input"))
>>> dense = g.add_layer(Layer("dense", "Dense", "dense"))
>>> g.add_edge(x, dense)
>>> g.inputs, g.outputs = [x], [dense]
>>> bn = g.insert_after("dense", ("BatchNormalization", {"momentum": 0.9}))
>>> g.remove("dense")
>>> [g.layer(n).name for n in g.topological_order()], g.outputs == [bn]
(['x', 'dense_batch_normalization'], True)
>>> g.replace(bn, "Add")  # doctest: +ELLIPSIS
Traceback (most recent call last):
bnlint.rewrite.RewriteError: cannot replace 'dense_batch_normalization' (BatchNormalization) by Add: ...
"""

from __future__ import annotations

import copy
from typing import Any

from bnlint import kinds
from bnlint.errors import InputError
from bnlint.graph import Layer, ModelGraph, SavedLayer

__all__ = ["RewriteError", "find_node", "input_count", "insert_after", "remove", "replace", "set_config", "validate"]

# Kinds whose layers take exactly one input tensor.
_SINGLE_INPUT = frozenset({"conv", "dense", "batchnorm", "norm", "activation", "dropout", "pool", "reshape"})


class RewriteError(ValueError):
    """A graph edit that bnlint refuses, with the reason in one sentence."""


def find_node(graph: ModelGraph, node: int | str) -> int:
    """The node id for *node*: a node id, or the name of a layer called once in *graph*."""
    if isinstance(node, bool) or not isinstance(node, (int, str)):
        raise RewriteError(f"a node is a node id or a layer name, not {type(node).__name__}")
    if isinstance(node, int):
        if node not in graph:
            raise RewriteError(f"model '{graph.name}' has no node {node}")
        return node
    found = [n for n, layer in graph.layers() if layer.name == node]
    if not found:
        raise RewriteError(f"model '{graph.name}' has no layer named '{node}'")
    if len(found) > 1:
        raise RewriteError(f"layer '{node}' is called {len(found)} times in model '{graph.name}'; "
                           f"name the call by its node id ({', '.join(map(str, found))})")
    return found[0]


def insert_after(graph: ModelGraph, node: int | str, layer_spec: Any) -> int:
    """Insert a layer after *node*; see :meth:`ModelGraph.insert_after`."""
    node = find_node(graph, node)
    record, live = _new_layer(graph, layer_spec, default_name=graph.layer(node).name)
    if record.kind in ("merge", "input") or record.kind == "model":
        raise RewriteError(f"cannot insert a {record.class_name} after '{graph.layer(node).name}': "
                           "an inserted layer takes the one output of the layer before it")
    new = graph.add_layer(record)
    _register(graph, record, live)
    for consumer, index in graph.out_edges(node):
        _disconnect(graph, node, consumer)
        graph.add_edge(new, consumer, index)
    graph.add_edge(node, new, 0)
    _replace_output(graph, node, new, None)  # (the new layer's one output)
    return new


def remove(graph: ModelGraph, node: int | str) -> None:
    """Remove *node*, reconnecting; see :meth:`ModelGraph.remove`."""
    node = find_node(graph, node)
    layer = graph.layer(node)
    producers = graph.predecessors(node)
    if layer.kind == "input" or node in graph.inputs:
        raise RewriteError(f"cannot remove '{layer.name}': it is an input of model '{graph.name}'")
    if layer.kind == "merge" or input_count(graph, node) != 1:
        raise RewriteError(f"cannot remove '{layer.name}': it has {input_count(graph, node)} inputs, so which one "
                           "should feed its consumers is ambiguous")
    (producer,) = producers
    for consumer, _ in graph.out_edges(node):
        if consumer in graph.successors(producer):
            raise RewriteError(f"cannot remove '{layer.name}': '{graph.layer(producer).name}' would feed "
                               f"'{graph.layer(consumer).name}' twice")
    # What the removed layer read (one output of a layer that returns several, as an LSTM's state)
    # is what its consumers and the model's outputs read now.
    source = _input_reference(layer.call)
    for consumer, index in graph.out_edges(node):
        graph.add_edge(producer, consumer, index)
        record = graph.layer(consumer)
        if source is not None and record.call is not None:
            record.call = _redirect(record.call, layer.name, source)
    _replace_output(graph, node, producer, source[2] if source is not None else _KEEP)
    _delete(graph, node)


def replace(graph: ModelGraph, node: int | str, layer_spec: Any) -> int:
    """Put a new layer in *node*'s place; see :meth:`ModelGraph.replace`."""
    node = find_node(graph, node)
    old = graph.layer(node)
    shared = sum(1 for _, other in graph.layers() if other.layer_id == old.layer_id) > 1
    # The replacement takes the old name (unless other calls of a shared layer keep it).
    record, live = _new_layer(graph, layer_spec, default_name=None, taken_by=None if shared else old.name,
                              preferred=None if shared else old.name)
    arity = input_count(graph, node)
    if old.kind == "input" or record.kind == "input":
        raise RewriteError(f"cannot replace '{old.name}' by a {record.class_name}: input layers are not replaced")
    if record.kind == "model":
        raise RewriteError(f"cannot replace '{old.name}' by a nested model")
    if (old.kind == "merge") != (record.kind == "merge"):
        what = "a merge" if old.kind == "merge" else "a single-input layer"
        raise RewriteError(f"cannot replace '{old.name}' ({old.class_name}) by {record.class_name}: "
                           f"{what} must be replaced by {what}")
    if record.kind in _SINGLE_INPUT and arity > 1:
        raise RewriteError(f"cannot replace '{old.name}' by a {record.class_name}: it has {arity} inputs")
    record.call = _inputs_of_call(old.call)  # (`add([x, x])` replaced stays a call on x twice)
    graph._layers[node] = record  # same node id: every edge and endpoint stays
    graph._nx = None
    _register(graph, record, live)
    return node


def set_config(graph: ModelGraph, node: int | str, values: dict[str, Any]) -> None:
    """Set constructor arguments; see :meth:`ModelGraph.set_config`."""
    node = find_node(graph, node)
    layer = graph.layer(node)
    if layer.kind == "model":
        raise RewriteError(f"cannot set the config of '{layer.name}': it is a nested model; edit its own graph")
    name = values.get("name", layer.name)
    if not isinstance(name, str) or not name:
        raise RewriteError(f"a layer name must be a non-empty string, not {name!r}")
    if name != layer.name and any(other.name == name for _, other in graph.layers()):
        raise RewriteError(f"cannot rename '{layer.name}' to '{name}': model '{graph.name}' already has that name")
    shared = [n for n, other in graph.layers() if other.layer_id == layer.layer_id]
    if layer.layer_id in graph.live_layers:  # a live layer cannot take a new config: rebuild it, keeping its weights
        graph.donors[layer.layer_id] = graph.live_layers.pop(layer.layer_id)
    if layer.keras is not None:
        spec = copy.deepcopy(layer.keras)
        spec["config"] = {**(spec.get("config") or {}), **values}
        if "name" in values:
            spec["name"] = name
        fresh = _record(spec, graph, layer.layer_id)
        for n in shared:
            current = graph.layer(n)
            graph._layers[n] = Layer(name, fresh.class_name, fresh.kind, dict(fresh.config), current.origin,
                                     current.layer_id, None, spec, current.call)
    else:  # read from source: no serialised form, only the recorded arguments
        for n in shared:
            current = graph.layer(n)
            current.config.update({key: value for key, value in values.items() if key != "name"})
            if "activation" in values:
                named = kinds.activation_name(values["activation"])
                current.config["activation"] = named if named is not None else values["activation"]
            current.name = name
    graph._nx = None
    graph.edits.setdefault(layer.layer_id, "config")


def validate(graph: ModelGraph) -> None:
    """Check the structure; see :meth:`ModelGraph.validate`."""
    for producer, consumer, _ in graph.edges():
        if producer not in graph or consumer not in graph:
            raise RewriteError(f"model '{graph.name}' has a dangling edge {producer} -> {consumer}")
        if graph._pred[consumer].get(producer) is None:
            raise RewriteError(f"model '{graph.name}': edge {producer} -> {consumer} is missing its reverse entry")
    for what, endpoints in (("input", graph.inputs), ("output", graph.outputs)):
        for node in endpoints:
            if node not in graph:
                raise RewriteError(f"model '{graph.name}' names a missing node {node} as an {what}")
    if len(graph.topological_order()) != len(graph):
        raise RewriteError(f"model '{graph.name}' has a cycle")
    for node, layer in graph.layers():
        arity = input_count(graph, node)
        if layer.kind == "input" and arity:
            raise RewriteError(f"input layer '{layer.name}' of model '{graph.name}' has inputs")
        if layer.kind == "merge" and arity < 2:
            raise RewriteError(f"merge layer '{layer.name}' of model '{graph.name}' has {arity} input(s), not 2 or more")
        if layer.kind in _SINGLE_INPUT and arity > 1:
            raise RewriteError(f"layer '{layer.name}' of model '{graph.name}' takes one input but has {arity}")


_KEEP = object()  # (the output keeps the tensor index it had)


def _replace_output(graph: ModelGraph, old: int, new: int, index: Any) -> None:
    """Make *new* (its output tensor *index*, or the index *old* had with :data:`_KEEP`) the model output
    wherever *old* was one."""
    ends = [(new, i if index is _KEEP else index) if node == old else (node, i) for node, i in graph.output_tensors()]
    graph.outputs, graph.output_indices = [node for node, _ in ends], [i for _, i in ends]


def _input_reference(call: Any) -> list | None:
    """``[layer, call, tensor]``: the one input tensor of a recorded Keras 3 call, or None."""
    from bnlint.readers.saved_file import call_inputs

    found = call_inputs(call) if isinstance(call, dict) else []
    return list(found[0]) if len(found) == 1 and len(found[0]) == 3 else None


def _redirect(value: Any, name: str, source: list) -> Any:
    """A recorded call with every reference to the outputs of layer *name* made a reference to *source*."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__" and value["config"]["keras_history"][0] == name:
            return {**value, "config": {**value["config"], "keras_history": list(source)}}
        return {key: _redirect(item, name, source) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redirect(item, name, source) for item in value]
    return value


def _inputs_of_call(call: Any) -> Any:
    """A recorded call with its input tensors as they were and none of the old layer's own keyword arguments."""
    from bnlint.readers.saved_file import is_keras2_reference

    if isinstance(call, dict):  # Keras 3
        return {"args": call.get("args", []), "kwargs": {}}
    if isinstance(call, list) and call and all(is_keras2_reference(entry) for entry in call):  # tf_keras
        return [entry[:3] for entry in call]
    return None


def input_count(graph: ModelGraph, node: int) -> int:
    """How many input tensors *node*'s call takes: its edges, or more when the recorded
    call passes one producer twice (``add([x, x])`` is one edge, two inputs)."""
    edges = len(graph.predecessors(node))
    call = graph.layer(node).call
    if isinstance(call, dict) and edges:
        return max(edges, _tensor_count(call.get("args", [])))
    return edges


def _tensor_count(value: Any) -> int:
    if isinstance(value, dict):
        return int(value.get("class_name") == "__keras_tensor__")
    if isinstance(value, (list, tuple)):
        return sum(_tensor_count(item) for item in value)
    return 0


def _new_layer(graph: ModelGraph, layer_spec: Any, default_name: str | None, taken_by: str | None = None,
               preferred: str | None = None) -> tuple[Layer, Any]:
    """The node record for a layer spec (and the live layer, when one was given)."""
    spec, live = _serialised(layer_spec)
    config = spec["config"]
    if not config.get("name") and preferred:
        config["name"] = preferred
    elif not config.get("name"):
        base = kinds.to_snake_case(spec["class_name"])
        config["name"] = _unique(graph, f"{default_name}_{base}" if default_name else base, taken_by)
    elif config["name"] != taken_by and any(layer.name == config["name"] for _, layer in graph.layers()):
        raise RewriteError(f"model '{graph.name}' already has a layer named '{config['name']}'")
    spec["name"] = config["name"]
    return _record(spec, graph, graph.new_layer_id()), live


def _record(spec: dict, graph: ModelGraph, layer_id: int) -> Layer:
    from bnlint.readers.saved_file import layer_record

    path = graph.origin.path if graph.origin is not None else "<graph>"
    try:
        record = layer_record(spec, path, layer_id)
    except InputError as error:
        raise RewriteError(f"{spec.get('class_name')!r} is not a layer spec bnlint can use ({error.problem})") from None
    record.origin = SavedLayer(path, record.name)
    return record


def _serialised(layer_spec: Any) -> tuple[dict, Any]:
    """A layer spec as a Keras-serialised dict (a fresh copy), and the live layer if given."""
    if isinstance(layer_spec, str):
        layer_spec = (layer_spec, {})
    if isinstance(layer_spec, tuple) and len(layer_spec) == 2 and isinstance(layer_spec[0], str):
        class_name, config = layer_spec
        if not isinstance(config, dict):
            raise RewriteError(f"the config of a ({class_name!r}, config) layer spec must be a dict")
        if kinds.canonical_class(class_name) not in kinds.LAYER_KINDS:
            raise RewriteError(f"'{class_name}' is not a Keras layer class bnlint knows; pass a live layer "
                               "or a serialised dict for a custom class")
        spec = {"module": "keras.layers", "class_name": kinds.canonical_class(class_name),
                "config": copy.deepcopy(config), "registered_name": None}
        return spec, None
    if isinstance(layer_spec, dict):
        if not isinstance(layer_spec.get("class_name"), str) or not isinstance(layer_spec.get("config", {}), dict):
            raise RewriteError("a serialised layer spec needs a 'class_name' string and a 'config' dict")
        spec = copy.deepcopy(layer_spec)
        spec.setdefault("config", {})
        spec.setdefault("module", "keras.layers")
        spec.pop("inbound_nodes", None)
        return spec, None
    if callable(getattr(layer_spec, "get_config", None)) and callable(layer_spec):
        import keras  # a live layer: Keras is already imported by whoever made it

        if isinstance(layer_spec, keras.Model):
            raise RewriteError("a nested model is not a layer spec; rewrite its own graph")
        return keras.saving.serialize_keras_object(layer_spec), layer_spec
    raise RewriteError(f"not a layer spec: {layer_spec!r} (give a class name, a (class_name, config) pair, "
                       "a serialised layer dict or a Keras layer)")


def _register(graph: ModelGraph, record: Layer, live: Any) -> None:
    graph.edits[record.layer_id] = "new"
    if live is not None:
        graph.live_layers[record.layer_id] = live


def _unique(graph: ModelGraph, base: str, taken_by: str | None) -> str:
    names = {layer.name for _, layer in graph.layers()} - ({taken_by} if taken_by else set())
    name, number = base, 1
    while name in names:
        name, number = f"{base}_{number}", number + 1
    return name


def _disconnect(graph: ModelGraph, producer: int, consumer: int) -> None:
    del graph._succ[producer][consumer]
    del graph._pred[consumer][producer]
    graph._nx = None


def _delete(graph: ModelGraph, node: int) -> None:
    for producer in list(graph._pred[node]):
        _disconnect(graph, producer, node)
    for consumer in list(graph._succ[node]):
        _disconnect(graph, node, consumer)
    del graph._layers[node], graph._succ[node], graph._pred[node]
    graph._nx = None
