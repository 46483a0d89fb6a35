"""Decide, for every BatchNormalization of a saved Keras 3 model, whether it folds, and rewrite the config.

A BN *after* a layer folds into it when all of these hold (otherwise the
decision records the first that fails, in one sentence):

- the BN is a built-in ``BatchNormalization``, called once on one tensor
  (a mask passed by keyword is ignored, as inference ignores it), without
  renorm, normalising one axis;
- its input comes straight from a built-in Dense/Conv/DepthwiseConv/
  SeparableConv/ConvTranspose layer (not an Add, a pooling, an input...);
- that layer has no fused activation, is called once, is not quantized or
  LoRA-enabled, and its output feeds nothing but this BN (no other layer, not
  a model output);
- the BN axis is that layer's channel axis (last for channels_last and Dense,
  1 for channels_first).

With ``fold_preceding`` a BN that cannot fold into the layer before it folds
into the single layer after it instead (Dense, Conv1D/2D/3D,
DepthwiseConv1D/2D with ``valid`` padding; see
:func:`bnlint.folding.maths.fold_preceding_into`).

Planning repeats until nothing more folds, so ``Conv -> BN -> BN`` folds both.

A BN whose output is an output of the (top-level) model hands its name to the
layer it folds into, so that the output keeps its name (see
:func:`_take_output_name`).

Keras 2 (tf_keras) configs spell a call's inputs ``[["conv", 0, 0, {}]]``
instead of Keras 3's ``__keras_tensor__`` objects and record no input
shapes; the ranks that the axis checks need are then propagated from the
``InputLayer`` shapes through the layers whose output rank is known
(:func:`_propagate_ranks`), and are unknown past anything else; so are the
sizes, where they can be computed.

The models nested inside (a backbone called as a layer, a Sequential block)
are planned the same way, each on its own graph, unless ``nested`` names a
reason their weights cannot be rewritten; their layers are named by path
(``backbone/conv``), and a BN at the start of a nested model does not fold
into a layer outside it. Otherwise their BNs are refused with that reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from bnlint.folding.maths import (
    FOLDABLE_CLASSES,
    BatchNormParams,
    FoldRefused,
    fold_into,
    fold_preceding_into,
)
from bnlint.folding.maths import _PRECEDING
from bnlint.kinds import canonical_class, declared_rank, output_rank
from bnlint.readers.saved_file import is_keras2_reference
from bnlint.readers.shapes import output_shape

__all__ = ["Decision", "FoldPlan", "is_nested_model", "plan_and_fold"]

_CONV_RANK = {"1D": 3, "2D": 4, "3D": 5}
_MODELS = {"Functional", "Sequential", "Model"}


@dataclass(frozen=True)
class Decision:
    """What happened to one BatchNormalization."""

    batchnorm: str
    folded: bool
    into: str | None = None
    position: str | None = None  # "after" the layer it folded into, or "before" it
    reason: str | None = None
    #: The name *into* takes from the BN, whose output was a model output (see :func:`_take_output_name`).
    renamed_to: str | None = None

    def to_dict(self) -> dict:
        return {"batchnorm": self.batchnorm, "folded": self.folded, "into": self.into,
                "position": self.position, "reason": self.reason, "renamed_to": self.renamed_to}


@dataclass
class FoldPlan:
    """The rewritten config, the new weights of the layers that absorbed a BN, and every decision."""

    config: dict
    replaced: dict[str, list[np.ndarray]]
    decisions: list[Decision]
    #: A layer the fold renamed -> its name in the saved model (see :func:`_take_output_name`).
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def folded(self) -> list[Decision]:
        return [d for d in self.decisions if d.folded]

    @property
    def refused(self) -> list[Decision]:
        return [d for d in self.decisions if not d.folded]


Tensor = tuple[str, int, int]  # keras_history: (layer, call, output index)


class _Model:
    """The top-level call graph of a Functional or Sequential config, enough to rewire it."""

    def __init__(self, whole: dict) -> None:
        self.whole = whole
        self._index()

    def _index(self) -> None:
        whole = self.whole
        self.body = whole["config"]
        self.specs: list[dict] = self.body.setdefault("layers", [])
        self.sequential = whole.get("class_name") == "Sequential" or not any(
            "inbound_nodes" in spec for spec in self.specs)
        self.by_name = {spec["config"]["name"]: spec for spec in self.specs}
        self.inputs: dict[str, list[list[Tensor]]] = {}  # layer -> per call -> input tensors
        # layer -> per call -> (the tensors passed positionally, those passed by keyword (a mask) by keyword)
        self.arguments: dict[str, list[tuple[list[Tensor], dict[str, list[Tensor]]]]] = {}
        self.shapes: dict[str, list | None] = {}  # layer -> shape of its first input (first call)
        self.ranks: dict[str, int | None] = {}  # Keras 2: layer -> rank of its first output (_propagate_ranks)
        self.consumers: dict[Tensor, list[str]] = {}
        self.outputs: list[Tensor] = []
        if self.sequential:
            previous = None
            for spec in self.specs:
                name = spec["config"]["name"]
                self.inputs[name] = [[(previous, 0, 0)]] if previous else []
                build = spec.get("build_config") or {}
                self.shapes[name] = build.get("input_shape")
                if previous:
                    self.consumers.setdefault((previous, 0, 0), []).append(name)
                previous = name
            if previous:
                self.outputs = [(previous, 0, 0)]
            if not any(self.shapes.values()):  # Keras 2 records no build_config
                _propagate_ranks(self)
            return
        for spec in self.specs:
            name = spec["config"]["name"]
            calls = []
            for node in spec.get("inbound_nodes") or []:
                found: list[tuple[Tensor, Any]] = []
                _keras_tensors(node, found, keras2=isinstance(node, list))
                calls.append([tensor for tensor, _ in found])
                self.arguments.setdefault(name, []).append(_call_arguments(node))
                if len(calls) == 1:
                    self.shapes[name] = found[0][1] if found else None
                for tensor, _ in found:
                    self.consumers.setdefault(tensor, []).append(name)
            self.inputs[name] = calls
        self.outputs = [(item[0], int(item[1]), int(item[2])) for item in _endpoints(self.body.get("output_layers"))]
        if any(isinstance(node, list) for spec in self.specs for node in spec.get("inbound_nodes") or []):
            _propagate_ranks(self)

    def positional(self, name: str) -> list[Tensor]:
        """The tensors the first call of layer *name* passes positionally: its inputs, without a mask."""
        if self.sequential:
            return (self.inputs.get(name) or [[]])[0]
        return (self.arguments.get(name) or [([], {})])[0][0]

    def keywords(self, name: str) -> dict[str, list[Tensor]]:
        """The tensors the first call of layer *name* passes by keyword (``mask``), by keyword."""
        return {} if self.sequential else (self.arguments.get(name) or [([], {})])[0][1]

    def remove(self, name: str) -> None:
        """Drop layer *name* (called once, one positional input) and rewire its consumers to that input."""
        (source,) = self.positional(name)
        self.specs.remove(self.by_name.pop(name))
        if not self.sequential:
            self._rewire(name, source)
        self._index()

    def rename(self, name: str, new: str) -> None:
        """Give layer *name* the name *new* (free in this model), in its config and in every reference to it."""
        spec = self.by_name[name]
        spec["config"]["name"] = new
        if "name" in spec:  # (Keras 3 and Keras 2 functional configs repeat it beside the config)
            spec["name"] = new
        if not self.sequential:
            self._map_references(lambda history: [new, *history[1:]] if history[0] == name else history)
        self._index()

    def _rewire(self, name: str, source: Tensor) -> None:
        # (a Keras 2 reference keeps its fourth item, the call's keyword arguments)
        self._map_references(lambda history: [*source, *history[3:]] if history[0] == name else history)

    def _map_references(self, change: Callable[[list], list]) -> None:
        """Apply *change* to every ``[layer, call, index, ...]`` reference of the calls and the outputs."""
        for spec in self.specs:
            for node in spec.get("inbound_nodes") or []:
                _map_history(node, change, keras2=isinstance(node, list))
        value = self.body.get("output_layers")
        if isinstance(value, dict):  # Keras 3, a model returning a dict: keys and their order stay
            self.body["output_layers"] = {key: change(item) for key, item in value.items()}
        elif value and isinstance(value[0], str):
            self.body["output_layers"] = change(value)
        elif value:
            self.body["output_layers"] = [change(item) for item in value]


def keras_layer_order(model: _Model) -> list[str]:
    """The layers of a functional *model* in the order Keras lists ``model.layers`` when it loads the config.

    Keras orders them by depth, the longest path to an output first (ties in
    the order a depth-first walk from the outputs meets them), not in the
    config's order; it names a ``.keras`` file's weight groups and matches an
    ``.h5`` file's weights by that order. Removing a BN can shorten paths,
    so a folded config is put back in this order (Keras 3's ``map_graph``,
    which tf_keras shares).
    """
    # tf_keras numbers the calls of a nested model from 1 (its call 0 is the one that built it, left out of
    # the config): a layer whose references run 1..n over its n recorded calls is read that way.
    referenced: dict[str, set[int]] = {}
    for tensor in [*model.outputs, *(t for calls in model.inputs.values() for call in calls for t in call)]:
        referenced.setdefault(tensor[0], set()).add(tensor[1])
    offset = {layer: 1 for layer, calls in referenced.items()
              if min(calls) >= 1 and max(calls) == len(model.inputs.get(layer) or [])}

    def parents(node: tuple[str, int]) -> list[tuple[str, int]]:
        calls = model.inputs.get(node[0]) or []
        call = node[1] - offset.get(node[0], 0)
        return [(layer, index) for layer, index, _ in calls[call]] if 0 <= call < len(calls) else []

    post_order: list[tuple[str, int]] = []  # nodes, inputs first
    first_seen: dict[str, int] = {}
    finished: set[tuple[str, int]] = set()
    walking: set[tuple[str, int]] = set()
    for layer, call, _ in model.outputs:
        stack: list[tuple[tuple[str, int], Iterator | None]] = [((layer, call), None)]
        while stack:
            node, pending = stack.pop()
            if pending is None:
                if node in finished:
                    continue
                if node in walking:
                    raise FoldRefused(f"the config's layer graph has a cycle through '{node[0]}'.")
                walking.add(node)
                first_seen.setdefault(node[0], len(first_seen))
                pending = iter(parents(node))
            for parent in pending:
                if parent not in finished:
                    stack.append((node, pending))
                    stack.append((parent, None))
                    break
            else:
                walking.discard(node)
                finished.add(node)
                post_order.append(node)
    node_depth: dict[tuple[str, int], int] = {}
    layer_depth: dict[str, int] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node[0], 0))
        layer_depth[node[0]] = node_depth[node] = depth
        for parent in parents(node):
            if parent in finished:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for layer, _, _ in _endpoints(model.body.get("input_layers")):
        if layer not in layer_depth:  # an input no output depends on
            layer_depth[layer], first_seen[layer] = 0, -1
    return sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))


def _restore_keras_order(model: _Model) -> None:
    """Put the layers of a functional *model*'s config in Keras' order (see :func:`keras_layer_order`)."""
    if model.sequential:
        return
    order = {name: position for position, name in enumerate(keras_layer_order(model))}
    model.specs.sort(key=lambda spec: order.get(spec["config"]["name"], len(order)))
    model._index()


def _keras_tensors(value: Any, found: list, keras2: bool = False) -> None:
    """The ``(tensor, shape)`` pairs a call node references, in order; *keras2* for a Keras 2 node (a list)."""
    if keras2 and is_keras2_reference(value):
        found.append(((value[0], value[1], value[2]), None))
        if len(value) == 4:
            _keras_tensors(value[3], found, keras2)  # tensors passed by keyword
        return
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value["config"]
            history = config["keras_history"]
            found.append(((history[0], int(history[1]), int(history[2])), config.get("shape")))
            return
        for item in value.values():
            _keras_tensors(item, found, keras2)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _keras_tensors(item, found, keras2)


def _call_arguments(node: Any) -> tuple[list[Tensor], dict[str, list[Tensor]]]:
    """The tensors one call node passes positionally, and by keyword (``{"mask": [("not_equal", 0, 0)]}``).

    Keras 3 spells a call ``{"args": [...], "kwargs": {...}}``; Keras 2 a
    list of ``[layer, call, index, kwargs]`` references (or one reference),
    whose fourth items hold the keyword arguments.
    """
    positional: list[tuple[Tensor, Any]] = []
    if isinstance(node, dict):
        _keras_tensors(node.get("args"), positional)
        kwargs = node.get("kwargs")
        keyword = list(kwargs.items()) if isinstance(kwargs, dict) else []
    else:
        references = [node] if is_keras2_reference(node) else [item for item in node if is_keras2_reference(item)]
        positional = [((reference[0], reference[1], reference[2]), None) for reference in references]
        keyword = [item for reference in references if len(reference) == 4 for item in reference[3].items()]
    by_keyword: dict[str, list[Tensor]] = {}
    for key, value in keyword:
        found: list[tuple[Tensor, Any]] = []
        _keras_tensors(value, found, keras2=not isinstance(node, dict))
        if found:
            by_keyword.setdefault(key, []).extend(tensor for tensor, _ in found)
    return [tensor for tensor, _ in positional], by_keyword


def _map_history(value: Any, change: Callable[[list], list], keras2: bool = False) -> None:
    if keras2 and is_keras2_reference(value):
        value[:] = change(list(value))
        if len(value) == 4:
            _map_history(value[3], change, keras2)
        return
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            value["config"]["keras_history"] = change(list(value["config"]["keras_history"]))
            return
        for item in value.values():
            _map_history(item, change, keras2)
    elif isinstance(value, list):
        for item in value:
            _map_history(item, change, keras2)


def _endpoints(spec: Any) -> list:
    """The ``[name, node, tensor]`` references of ``input_layers`` / ``output_layers`` (one, a list, or a dict
    by key in a Keras 3 model called with or returning a dict), in order."""
    if not spec:
        return []
    if isinstance(spec, dict):
        return list(spec.values())
    return [spec] if isinstance(spec[0], str) else list(spec)


def _builtin(spec: dict) -> bool:
    module = spec.get("module") or "keras.layers"
    return module.startswith("keras") and spec.get("registered_name") in (None, spec.get("class_name"))


def _class(spec: dict) -> str:
    return canonical_class(spec.get("class_name", "Layer"))


def is_nested_model(spec: dict) -> bool:
    """A nested Functional or Sequential model, whose layers are in its config (and weights in its group)."""
    return _class(spec) in _MODELS and "layers" in (spec.get("config") or {})


def _nested_batchnorms(spec: dict, prefix: str) -> Iterator[str]:
    for inner in (spec.get("config") or {}).get("layers") or []:
        name = f"{prefix}/{inner.get('config', {}).get('name')}"
        if _class(inner) == "BatchNormalization":
            yield name
        if _class(inner) in _MODELS:
            yield from _nested_batchnorms(inner, name)


def plan_and_fold(config: dict, weights: Callable[[str], list[np.ndarray]], fold_preceding: bool = False,
                  nested: Callable[[str, dict], str | None] | None = None) -> FoldPlan:
    """Fold every foldable BN of the model *config*; *weights(path)* gives a layer's saved variables.

    Returns the rewritten copy of *config*, the new variables of each layer
    that absorbed a BN (by path: ``conv``, ``backbone/conv``), and one
    :class:`Decision` per BN (nested ones included). The BNs of a nested
    model are folded unless *nested(path, spec)* gives a reason its weights
    cannot be rewritten (without *nested*, none are). *config* itself is not
    modified.
    """
    if config.get("class_name") not in ("Functional", "Sequential", "Model") or "layers" not in config.get("config", {}):
        raise FoldRefused(f"the saved model is a {config.get('class_name')}, not a Functional or Sequential "
                          f"model, so its layer graph is not in its config")
    model = _Model(copy.deepcopy(config))
    replaced: dict[str, list[np.ndarray]] = {}
    renamed: dict[str, str] = {}

    def current(path: str) -> list[np.ndarray]:
        return replaced[path] if path in replaced else weights(path)

    decisions = _fold_model(model, "", current, replaced, fold_preceding, nested, renamed)
    return FoldPlan(model.whole, replaced, decisions, renamed)


def _fold_model(model: _Model, prefix: str, current, replaced: dict, fold_preceding: bool,
                nested: Callable[[str, dict], str | None] | None, renamed: dict | None = None) -> list[Decision]:
    """Fold what folds in *model* (whose layer paths start with *prefix*), then in the models nested in it.

    *renamed* collects the top-level layers renamed after a BN that was a model output (see
    :func:`_take_output_name`).
    """

    def local(name: str) -> list[np.ndarray]:
        return current(prefix + name)

    final: dict[str, Decision] = {}
    while True:
        progress = False
        for spec in list(model.specs):
            name = spec["config"]["name"]
            if _class(spec) != "BatchNormalization" or name not in model.by_name:
                continue
            decision = _fold_one(model, name, local, replaced, fold_preceding, prefix, renamed)
            final[name] = decision
            progress = progress or decision.folded
        if not progress:
            break
    decisions = list(final.values())
    if any(decision.folded for decision in decisions):
        _restore_keras_order(model)
    for spec in model.specs:
        if _class(spec) not in _MODELS:
            continue
        path = prefix + spec["config"]["name"]
        if not is_nested_model(spec):
            problem = "its layers are not in the saved config"
        else:
            problem = nested(path, spec) if nested is not None else "its weights cannot be rewritten"
        if problem is None:
            decisions += _fold_model(_Model(spec), path + "/", current, replaced, fold_preceding, nested)
        else:
            decisions.extend(Decision(name, False, reason=f"it is inside the nested model '{path}', and {problem}.")
                             for name in _nested_batchnorms(spec, path))
    return decisions


def _fold_one(model: _Model, name: str, current, replaced: dict, fold_preceding: bool, prefix: str = "",
              renamed: dict | None = None) -> Decision:
    """Fold the BN *name* of *model* if it can; *current* reads variables by local name, *replaced* is by path.

    A top-level BN whose output is a model output hands its name to the layer that absorbs it, recorded in
    *renamed* (see :func:`_take_output_name`).
    """
    try:
        producer = _check_batchnorm(model, name)
    except FoldRefused as refusal:
        return Decision(prefix + name, False, reason=refusal.reason)
    try:
        target = _check_following(model, name, producer)
        new = _fold_after(model, name, target, current)
        position = "after"
    except FoldRefused as refusal:
        if not fold_preceding:
            return Decision(prefix + name, False, reason=refusal.reason)
        try:
            target = _check_preceding(model, name)
            new = _fold_before(model, name, target, current)
            position = "before"
        except FoldRefused as second:
            return Decision(prefix + name, False,
                            reason=f"{refusal.reason} It cannot fold into the layer after it either: {second.reason}")
    output = not prefix and renamed is not None and (name, 0, 0) in model.outputs
    replaced[prefix + target] = new
    model.remove(name)
    if output:
        _take_output_name(model, target, name, replaced, renamed)
        return Decision(name, True, target, position, renamed_to=name)
    return Decision(prefix + name, True, prefix + target, position)


def _take_output_name(model: _Model, layer: str, name: str, replaced: dict, renamed: dict) -> None:
    """Rename *layer* to *name*, the name of the BN folded into it, whose output was a model output.

    Keras names a model's outputs after the layers that give them
    (``model.output_names``), and a compiled model keys a loss or metrics
    dict by those names: renamed, the folded model's output keeps the name
    its compile config and the user's training code use. Only a top-level
    model's outputs are named so (a nested model's output is named after the
    nested model), so a nested model's layers keep their names.
    """
    model.rename(layer, name)
    replaced[name] = replaced.pop(layer)
    renamed[name] = renamed.pop(layer, layer)


def _check_batchnorm(model: _Model, name: str) -> str | None:
    """The BN's own preconditions; returns the layer that produces its input."""
    spec = model.by_name[name]
    config = spec["config"]
    if not _builtin(spec):
        raise FoldRefused("it is a custom class registered as BatchNormalization, not Keras' own.")
    calls = model.inputs.get(name, [])
    if len(calls) > 1:
        raise FoldRefused(f"it is shared: called {len(calls)} times, so no single layer can absorb it.")
    if config.get("renorm"):
        raise FoldRefused("it uses batch renormalization (renorm=True).")
    axis = config.get("axis", -1)
    if isinstance(axis, list) and len(axis) != 1:
        raise FoldRefused(f"it normalises over several axes ({axis}), not one channel axis.")
    if not calls or not calls[0]:
        raise FoldRefused("it is the first layer of the model, with nothing before it to fold into.")
    keywords = model.keywords(name)
    # A mask (a layer before it sets one: Embedding(mask_zero=True), Masking) steers only the batch
    # statistics of training; in inference a BN normalises masked steps too, with its moving ones.
    others = sorted(key for key in keywords if key != "mask")
    if others:
        raise FoldRefused(f"it is called with a tensor for its argument '{others[0]}'.")
    positional = model.positional(name)
    if len(positional) != 1:
        raise FoldRefused(f"it is called on {len(positional)} tensors, not one.")
    return positional[0][0]


def _axis(model: _Model, name: str, rank: int | None) -> int | None:
    """The BN axis, made non-negative when the input *rank* is known (else as written)."""
    axis = model.by_name[name]["config"].get("axis", -1)
    axis = axis[0] if isinstance(axis, list) else axis
    if rank is not None and isinstance(axis, int) and axis < 0:
        axis += rank
    return axis


def _channel_axis(spec: dict, rank: int | None) -> int | None:
    """Where *spec*'s layer keeps channels (in its input and its output): last (``rank-1`` when known) or 1."""
    config = spec["config"]
    if config.get("data_format") == "channels_first":
        return 1
    return rank - 1 if rank is not None else -1


def _output_rank(spec: dict, rank_in: int | None) -> int | None:
    """The rank of *spec*'s first output when its first input has rank *rank_in*; None when unknown."""
    if is_nested_model(spec):  # its own InputLayer declares the shape it takes
        inner = _Model(spec)
        if len(inner.outputs) == 1 and inner.outputs[0][1:] == (0, 0):
            return inner.ranks.get(inner.outputs[0][0])
        return None
    return output_rank(_class(spec), spec["config"], rank_in)


def _propagate_ranks(model: _Model) -> None:
    """Fill ``model.shapes`` of a Keras 2 config (which records no shapes): sizes where known, else ``None``.

    Ranks start at the shapes an ``InputLayer`` (or a Sequential's first
    layer) declares and pass through the layers of :func:`bnlint.kinds.output_rank`.
    Keras 2 lists a model's layers in call order, so one pass reaches every
    layer whose inputs have a known rank; a layer after anything else
    (a ``Lambda``, a second output) keeps an unknown rank. The declared sizes
    go along through the one-input layers :func:`bnlint.readers.shapes.output_shape`
    knows (a channels_first check needs the width, :func:`_refuse_keras_bias_trap`);
    past anything else each size is ``None``.
    """
    ranks: dict[str, int | None] = {}  # layer -> rank of its first output, first call
    sizes: dict[str, list | None] = {}  # layer -> shape of its first output, first call, where computed
    for spec in model.specs:
        name = spec["config"]["name"]
        calls = model.inputs.get(name) or []
        if calls and calls[0]:
            layer, call, index = calls[0][0]
            # (a nested model's rank does not depend on the call, which Keras 2 numbers from 1)
            same = call == 0 or (layer in model.by_name and is_nested_model(model.by_name[layer]))
            rank_in = ranks.get(layer) if index == 0 and same else None
            shape_in = sizes.get(layer) if (call, index) == (0, 0) and len(calls[0]) == 1 else None
        else:
            rank_in = declared_rank(spec["config"])
            shape_in = _declared_shape(spec["config"])
        if rank_in is not None and not model.shapes.get(name):
            model.shapes[name] = shape_in if shape_in is not None and len(shape_in) == rank_in else [None] * rank_in
        ranks[name] = _output_rank(spec, rank_in)
        sizes[name] = _output_sizes(spec, shape_in, ranks[name])
    model.ranks = ranks


def _declared_shape(config: dict) -> list | None:
    """The input shape a Keras 2 ``InputLayer`` (or a Sequential's first layer) declares, batch included."""
    shape = config.get("batch_input_shape") or config.get("batch_shape")
    if not isinstance(shape, list):
        return None
    known = all(size is None or isinstance(size, int) and not isinstance(size, bool) for size in shape)
    return list(shape) if known else None


def _output_sizes(spec: dict, shape_in: list | None, rank: int | None) -> list | None:
    """The shape of *spec*'s first output on an input shaped *shape_in*, when computed and of rank *rank*."""
    if _class(spec) == "InputLayer":
        return shape_in
    if shape_in is None or rank is None:
        return None
    shape = output_shape(_class(spec), spec["config"], [shape_in])
    return list(shape) if isinstance(shape, tuple) and len(shape) == rank else None


def _rank(model: _Model, name: str, spec: dict) -> int | None:
    shape = model.shapes.get(name)
    if isinstance(shape, list):
        return len(shape)
    for suffix, rank in _CONV_RANK.items():  # Conv2D, DepthwiseConv2D, Conv2DTranspose...: rank 4
        if suffix in _class(spec):
            return rank
    return None  # Dense: any rank


def _weight_layer_problem(spec: dict, model: _Model, role: str) -> str | None:
    config = spec["config"]
    name = config["name"]
    if not _builtin(spec):
        return f"the layer {role} it, '{name}', is a custom {spec.get('class_name')}."
    calls = model.inputs.get(name, [])
    if len(calls) > 1:
        return f"the layer {role} it, '{name}', is shared (called {len(calls)} times)."
    if config.get("lora_rank"):
        return f"the layer {role} it, '{name}', has LoRA enabled."
    dtype = config.get("dtype")
    policy = str(dtype or "")
    if isinstance(dtype, dict):  # Keras 3.15 writes a QuantizedDTypePolicy as {"mode": "int8", "source_name": ...}
        inner = dtype.get("config") or {}
        policy = inner.get("name") or (f"{inner['mode']}_from_{inner.get('source_name')}" if inner.get("mode") else "")
    if str(policy).startswith(("int", "float8")) or "_from_" in str(policy):
        return f"the layer {role} it, '{name}', is quantized (dtype policy {policy})."
    return None


def _check_following(model: _Model, name: str, producer: str) -> str:
    spec = model.by_name.get(producer)
    if spec is None:
        raise FoldRefused("its input is not a layer of this model.")
    class_name = _class(spec)
    if class_name not in FOLDABLE_CLASSES:
        raise FoldRefused(f"it follows '{producer}', a {spec.get('class_name')}, not a conv or dense layer "
                          f"whose weights could absorb it.")
    problem = _weight_layer_problem(spec, model, "before")
    if problem:
        raise FoldRefused(problem)
    activation = _activation(spec["config"].get("activation", "linear"))
    if activation not in (None, "linear"):
        raise FoldRefused(f"'{producer}' applies activation '{activation}' before it (a nonlinearity between "
                          f"the layer and the BN).")
    (tensor,) = model.positional(name)
    others = [consumer for consumer in model.consumers.get(tensor, []) if consumer != name]
    if others or tensor in model.outputs:
        what = f"'{others[0]}'" if others else "a model output"
        raise FoldRefused(f"the output of '{producer}' also feeds {what}, which must keep seeing it unnormalised.")
    _require_channel_axis(model, name, _rank(model, name, spec), spec, "channel axis", producer)
    _refuse_keras_bias_trap(model, spec)
    return producer


def _activation(value: Any) -> Any:
    """The name of a saved ``activation`` argument.

    A string as it is; Keras 3 saves a function it has no name for (a custom
    one) as ``{"class_name": "function", "config": "my_act", ...}``, and a
    layer given as the activation as that layer's config, named in it.
    """
    if not isinstance(value, dict):
        return value
    inner = value.get("config")
    if isinstance(inner, str):
        return inner
    if isinstance(inner, dict) and inner.get("name"):
        return inner["name"]
    return value.get("class_name")


def _check_preceding(model: _Model, name: str) -> str:
    tensor = (name, 0, 0)
    consumers = model.consumers.get(tensor, [])
    if tensor in model.outputs:
        raise FoldRefused("its output is a model output.")
    if len(consumers) != 1:
        raise FoldRefused(f"its output feeds {len(consumers)} layers, not exactly one.")
    target = consumers[0]
    spec = model.by_name[target]
    if _class(spec) not in _PRECEDING:
        raise FoldRefused(f"'{target}' after it is a {spec.get('class_name')}; a BN folds forward only into "
                          f"Dense, Conv1D/2D/3D or DepthwiseConv1D/2D.")
    problem = _weight_layer_problem(spec, model, "after")
    if problem:
        raise FoldRefused(problem)
    if len(model.positional(target)) != 1:
        raise FoldRefused(f"'{target}' takes several inputs.")
    _require_channel_axis(model, name, _rank(model, target, spec), spec, "input channel axis", target)
    _refuse_keras_bias_trap(model, spec)
    return target


def _refuse_keras_bias_trap(model: _Model, spec: dict) -> None:
    """Refuse a fold that gives *spec*'s channels_first layer a bias Keras would add on the wrong axis.

    Keras' TensorFlow backend adds a bias shaped ``(1, C, 1, ...)`` as
    ``tf.nn.bias_add`` in the NHWC format whenever the tensor's last size is
    ``C`` (``keras.ops.add``), so in eager calls a channels_first layer whose
    last spatial size equals its channel count adds its bias along the
    width. The folded layer always has a bias, and its output would differ
    from the original's. Refused where the saved input shape shows it, and
    where it leaves that size unknown (``keras.Input((3, None, None))``): any
    input of the matching width would then hit it. Whether the layer already
    has a bias does not matter: the original then misapplies its own bias at
    that width, but the folded layer's bias is another, and the outputs differ.
    """
    config = spec["config"]
    if config.get("data_format") != "channels_first":
        return
    shape = model.shapes.get(config["name"])
    out = output_shape(_class(spec), config, [shape]) if isinstance(shape, list) else None
    out = out if isinstance(out, tuple) and len(out) >= 3 else (None, None, None)
    channels, width = out[1], out[-1]
    if isinstance(channels, int) and channels == width:
        raise FoldRefused(f"'{config['name']}' is channels_first with its last spatial size equal to its {channels} "
                          f"channels, where Keras' TensorFlow backend adds a bias along the last axis in eager calls "
                          f"(keras.ops.add takes it for a channels_last bias): the folded bias would be misapplied.")
    if width is None:
        count = f"its {channels} channels" if isinstance(channels, int) else "its channel count"
        raise FoldRefused(f"'{config['name']}' is channels_first and the saved input shape leaves its last spatial "
                          f"size unknown, so it may equal {count}, where Keras' TensorFlow backend adds a bias along "
                          f"the last axis in eager calls (keras.ops.add takes it for a channels_last bias): the "
                          f"folded bias would be misapplied to inputs of that width.")


def _require_channel_axis(model: _Model, name: str, rank: int | None, spec: dict, which: str, layer: str) -> None:
    """Refuse the BN *name* unless its axis is the (*which*) channel axis of *layer*, whose config is *spec*."""
    axis, channel = _axis(model, name, rank), _channel_axis(spec, rank)
    if axis != channel:
        raise FoldRefused(f"its axis {axis} is not the {which} ({channel}) of '{layer}'.")


def _batchnorm_params(model: _Model, name: str, current) -> BatchNormParams:
    config = model.by_name[name]["config"]
    values = list(current(name))
    scale, center = config.get("scale", True), config.get("center", True)
    expected = 2 + int(bool(scale)) + int(bool(center))
    if len(values) != expected:
        raise FoldRefused(f"it has {len(values)} saved variables, expected {expected}.")
    gamma = values.pop(0) if scale else None
    beta = values.pop(0) if center else None
    return BatchNormParams(gamma, beta, values[0], values[1], float(config.get("epsilon", 1e-3)))


def _split(spec: dict, values: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """``(leading variables kept as they are, kernel to fold, bias or None)``."""
    leading = 1 if _class(spec).startswith("SeparableConv") else 0
    use_bias = spec["config"].get("use_bias", True)
    expected = leading + 1 + int(bool(use_bias))
    if len(values) != expected:
        raise FoldRefused(f"'{spec['config']['name']}' has {len(values)} saved variables, expected {expected}.")
    return list(values[:leading]), values[leading], values[leading + 1] if use_bias else None


def _fold_after(model: _Model, name: str, target: str, current) -> list[np.ndarray]:
    return _fold(model, name, target, current, fold_into)


def _fold_before(model: _Model, name: str, target: str, current) -> list[np.ndarray]:
    return _fold(model, name, target, current, fold_preceding_into)


def _fold(model: _Model, name: str, target: str, current, maths) -> list[np.ndarray]:
    """The new variables of *target* once the BN *name* is folded into it by *maths*; sets ``use_bias``."""
    spec = model.by_name[target]
    bn = _batchnorm_params(model, name, current)
    leading, kernel, bias = _split(spec, current(target))
    new_kernel, new_bias = maths(spec["class_name"], spec["config"], kernel, bias, bn)
    spec["config"]["use_bias"] = True
    return [*leading, new_kernel, new_bias]
