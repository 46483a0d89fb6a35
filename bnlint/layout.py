"""Where a layer's output keeps its channels, worked out along a :class:`~bnlint.graph.ModelGraph`.

A conv or dense layer sets the layout (``kinds.channel_axes``); activations,
dropout, normalisations, pooling, padding, upsampling and merges whose
inputs agree keep it; ``Flatten`` and global pooling without ``keepdims``
leave ``(batch, features)``. BN008 checks a BN's ``axis`` against it, and
:func:`bnlint.insert_batchnorm` gives a new BN its ``axis`` from it.
"""

from __future__ import annotations

import re

from bnlint import kinds
from bnlint.graph import ModelGraph

__all__ = ["batchnorm_axis", "channel_layout", "input_layout", "single_axis"]

_SAME_LAYOUT_KINDS = {"activation", "dropout", "batchnorm", "norm", "pool"}  # they keep the input's channel axis
_SAME_LAYOUT_CLASSES = ("ZeroPadding", "Cropping", "UpSampling", "Identity", "Concatenate", "Add", "Subtract",
                        "Multiply", "Average", "Maximum", "Minimum")
_RANK2 = frozenset({-1, 1})  # (batch, features) after Flatten or global pooling
_SPATIAL_SUFFIX = re.compile(r"([123])D$")


def channel_layout(graph: ModelGraph, node: int,
                   known: dict[int, frozenset[int] | None] | None = None) -> frozenset[int] | None:
    """The equivalent indices of the channel axis of *node*'s output (``{1, -3}``), or None when unknown.

    *known* holds the layouts worked out so far and receives those this
    one needs: only the layers a BN reads through (activations, pooling,
    merges ...) up to the conv/dense layers that set the layout are looked
    at, each once, without recursion (chains are long).
    """
    known = {} if known is None else known
    stack = [node]
    expanded = set()
    while stack:
        top = stack[-1]
        if top in known:
            stack.pop()
            continue
        found = _own_layout(graph, top, known)
        if type(found) is list:  # the producers whose layout it keeps, not worked out yet
            if top not in expanded:
                expanded.add(top)
                stack.extend(found)
                continue
            found = None  # back with producers still missing: they depend on it (a cycle, not a model)
        known[top] = found
        stack.pop()
    return known[node]


def input_layout(graph: ModelGraph, node: int,
                 known: dict[int, frozenset[int] | None] | None = None) -> frozenset[int] | None:
    """:func:`channel_layout` of the one input of *node* (a BN): None when it has another number of inputs."""
    producers = graph.predecessors(node)
    return channel_layout(graph, producers[0], known) if len(producers) == 1 else None


def single_axis(axis: object) -> int | None:
    """A BN's ``axis`` as one integer (``[3]`` is 3), or None: several axes, or a value not known.

    >>> single_axis([3]), single_axis(-1), single_axis([1, 2]), single_axis(True)
    (3, -1, None, None)
    """
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    return axis if isinstance(axis, int) and not isinstance(axis, bool) else None


def batchnorm_axis(graph: ModelGraph, node: int) -> int:
    """The ``axis`` for a BatchNormalization inserted after *node*.

    The channel axis of *node*'s output (:func:`channel_layout`): 1 after a
    channels_first conv and the pooling, padding, activations and merges that
    follow it; else, for a layer with a ``data_format`` of its own
    (``MaxPooling2D(data_format="channels_first")`` on an input), the axis
    that names; else Keras' default, -1.
    """
    axes = channel_layout(graph, node)
    if axes is None:
        layer = graph.layer(node)
        axes = _data_format_axes(layer.class_name, layer.get("data_format", None))
    return -1 if axes is None or -1 in axes else min(a for a in axes if a >= 0)


def _data_format_axes(class_name: str, data_format: object) -> frozenset[int] | None:
    """The channel axes a 1D/2D/3D layer's own ``data_format`` gives its output, or None."""
    rank = _SPATIAL_SUFFIX.search(class_name)
    if rank is None or data_format not in ("channels_last", "channels_first"):
        return None
    spatial = int(rank.group(1))
    if data_format == "channels_last":
        return frozenset({-1, spatial + 1})
    return frozenset({1, -(spatial + 1)})


def _own_layout(graph: ModelGraph, node: int,
                known: dict[int, frozenset[int] | None]) -> frozenset[int] | None | list[int]:
    """:func:`channel_layout` of *node* from its producers' in *known*; the list of those missing there, if any."""
    layer = graph.layer(node)
    if layer.kind in ("conv", "dense", "recurrent"):  # EinsumDense may put its features on any axis
        return None if layer.class_name == "EinsumDense" else kinds.channel_axes(layer.class_name, layer.config)
    keepdims = layer.get("keepdims", False) if layer.class_name.startswith("Global") else True
    if layer.class_name == "Flatten" or keepdims is False:
        return _RANK2
    keeps_layout = layer.kind in _SAME_LAYOUT_KINDS or layer.class_name.startswith(_SAME_LAYOUT_CLASSES)
    if keepdims is not True or not keeps_layout:
        return None
    producers = graph.predecessors(node)
    missing = [p for p in producers if p not in known]
    if missing:
        return missing
    found = {known[p] for p in producers}
    axes = found.pop() if len(found) == 1 else None  # merged inputs must agree
    data_format = layer.get("data_format", None)  # pooling/padding must read the layout it is given
    channel = {"channels_last": -1, "channels_first": 1}.get(data_format) if isinstance(data_format, str) else None
    return None if axes is None or (data_format is not None and channel not in axes) else axes
