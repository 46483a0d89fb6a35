"""Adapt a trained model's BatchNormalization to a new dataset (imports Keras when called).

The documented workflow for moving a model to data with other statistics:

1. :func:`recalibrate` (AdaBN, Li et al. 2016): re-estimate every BN's
   moving mean and variance on the new data, nothing else changes. Often
   enough on its own.
2. :func:`freeze_all_but_batchnorm`, compile, ``fit`` a few epochs: only the
   BN layers learn (gamma and beta), and their moving statistics keep
   following the new data.
3. Make everything trainable again (``model.trainable = True``), compile
   with a small learning rate, and fine-tune end to end.

**Keras 3's rule**: a ``BatchNormalization`` layer whose ``trainable`` is
``False`` runs in *inference mode* even inside ``fit()`` — it normalises
with its moving statistics and never updates them (``call`` uses batch
statistics only when ``training and self.trainable``). Setting
``trainable = False`` on a model sets it on every layer inside, BN
included. Step 2 needs the BN layers to train, so
:func:`freeze_all_but_batchnorm` leaves them ``trainable = True`` and
freezes the other layers one by one: in ``fit`` the BN layers use batch
statistics, update their moving mean and variance (they are non-trainable
variables, so no optimiser touches them), and their gamma and beta are the
model's only trainable weights. A change of ``trainable`` takes effect at
the next ``compile()``.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import islice
from typing import Any, Iterator

__all__ = ["freeze_all_but_batchnorm", "recalibrate"]


def freeze_all_but_batchnorm(model: Any) -> Any:
    """Make only the BatchNormalization layers trainable (in place); return *model*.

    Every layer that is not a ``BatchNormalization`` (other normalisations
    included) gets ``trainable = False``; BN layers, and the models and
    layers that contain them, get ``trainable = True``, so the model's
    trainable weights are exactly the BN gammas and betas, and the BN layers
    run in training mode in ``fit`` (see the module docstring). Compile
    after calling it.

    A layer that holds BN layers *and* weights of its own (a custom block
    with a learned scale) must stay trainable for its BNs to train, so its
    own variables are frozen one by one (``variable.trainable = False``).
    ``model.trainable = True`` does not undo that; for step 3 of the
    workflow set ``trainable = True`` on those variables again
    (``layer._trainable_variables`` keeps them listed).

    Examples
    --------
    >>> import keras, bnlint.adapt
    >>> inputs = keras.Input((4,))
    >>> x = keras.layers.BatchNormalization()(keras.layers.Dense(8)(inputs))
    >>> model = bnlint.adapt.freeze_all_but_batchnorm(keras.Model(inputs, x))
    >>> [w.name for w in model.trainable_weights]
    ['gamma', 'beta']
    """
    import keras

    def holds_batchnorm(layer: Any) -> bool:
        return any(isinstance(inner, keras.layers.BatchNormalization)
                   for inner in layer._flatten_layers(include_self=False, recursive=True))

    for layer in model._flatten_layers(include_self=True, recursive=True):  # parents before children
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = True
        elif holds_batchnorm(layer):
            layer.trainable = True  # a frozen container hides its BN layers' weights ...
            for variable in getattr(layer, "_trainable_variables", []):
                variable.trainable = False  # ... so its own weights are frozen where they are
        else:
            layer.trainable = False
    return model


def recalibrate(model: Any, data: Any, steps: int | None = None, batch_size: int = 32) -> Any:
    """Re-estimate every BN's moving mean and variance on *data* (AdaBN), in place; return *model*.

    Each BN's new moving mean and variance are the exact per-channel mean and
    (population, as Keras' BN computes it) variance of its input over all the
    batches — cumulative averages combined in float64, not a momentum
    average. No other weight changes (gamma, beta, epsilon, momentum and
    every other layer's weights are kept).

    Order: a BN's input depends on the BNs upstream of it, which run in
    inference mode with their moving statistics. So BNs are recalibrated by
    depth: first every BN with no BN upstream (one pass over the data, all
    of them at once), then those whose upstream BNs are all done, and so on.
    Each BN therefore sees the input distribution that the recalibrated
    model produces; that is one pass over the data per level of BN depth.
    BNs inside nested models (a pretrained backbone called as a layer, a
    Sequential block) are recalibrated too, in the same order: the model is
    run whole, and each BN of the current level records its input as it is
    called. BNs inside a layer that holds them (``TimeDistributed(BN)``, a
    custom block) are recalibrated too, each on a level of its own after the
    BNs upstream of that layer, in the order the layer calls them on the
    first batch; one the layer calls several times per batch (once per time
    step) gets the statistics of all those inputs together.

    *data* is a NumPy array (split into *batch_size* batches), a
    ``tf.data.Dataset``, or any iterable of batches. A tuple element is
    ``(x, y)`` or ``(x, y, sample_weight)`` and only ``x`` is used; a list or
    dict is the inputs of a multi-input model. For a multi-input model,
    *data* may also be one NumPy array per input (a list in the model's input
    order, or a dict by input name), split into batches together as ``fit``
    does. Where Keras passes a BN a mask (``Embedding(mask_zero=True)``
    upstream), the masked positions are left out of its statistics, as
    Keras' BN leaves them out in training. *steps* limits each pass to
    that many batches. A one-shot iterator (a generator) is read once and its
    batches kept in memory, since several passes are needed.

    Raises
    ------
    ValueError
        *data* is empty, the model is not functional or Sequential, or a BN
        is shared: called more than once, itself or through a nested model or
        layer called more than once (its statistics have no single input).

    Examples
    --------
    >>> import numpy as np, keras, bnlint.adapt
    >>> inputs = keras.Input((4,))
    >>> model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs))
    >>> new_data = np.random.default_rng(0).normal(5.0, 2.0, size=(256, 4)).astype("float32")
    >>> model = bnlint.adapt.recalibrate(model, new_data, batch_size=100)
    >>> bn = model.get_layer("bn")
    >>> bool(np.allclose(bn.moving_mean, new_data.mean(axis=0), rtol=1e-5))
    True
    >>> bool(np.allclose(bn.moving_variance, new_data.var(axis=0), rtol=1e-5))
    True
    """
    import keras

    from bnlint.api import load
    from bnlint.errors import InputError

    try:
        graph = load(model)[0]
    except InputError as error:  # (a subclassed model, or not a keras.Model at all)
        raise ValueError(f"recalibrate() needs a functional or Sequential keras.Model: {error}") from None
    batches = _batches(data, steps, batch_size, len(getattr(model, "inputs", None) or [None]))
    levels = _levels(graph, model, batches)
    for wave in levels:
        bns = [bn for bn, _ in wave]
        stats = [_Moments() for _ in bns]
        seen = 0
        with _wrapped(bns, lambda index, inputs, mask: stats[index].add(inputs, bns[index].axis, mask)) as calls:
            for x in batches():
                model(x, training=False)
                for (bn, hidden), count in zip(wave, calls):
                    if count[0] != 1 and not hidden:
                        raise ValueError(f"model '{model.name}': BN layer '{bn.name}' is called {count[0]} times "
                                         "per batch; its statistics have no single input")
                    count[0] = 0
                seen += 1
        if not seen:
            raise ValueError("recalibrate() got no batches of data")
        for (bn, hidden), moments in zip(wave, stats):
            if moments.count == 0:
                where = f" inside layer '{hidden}'" if hidden else ""
                raise ValueError(f"model '{model.name}': BN layer '{bn.name}'{where} was not called on the data")
            bn.moving_mean.assign(moments.mean.astype(keras.backend.standardize_dtype(bn.moving_mean.dtype)))
            bn.moving_variance.assign(
                moments.variance.astype(keras.backend.standardize_dtype(bn.moving_variance.dtype)))
    return model


@contextmanager
def _wrapped(bns: list, on_call: Any) -> Iterator[list[list[int]]]:
    """While active, each BN in *bns* runs ``on_call(index, inputs, mask)`` (NumPy arrays) when called;
    yields per-BN call counts.

    The BN's ``call`` is wrapped on the instance (in its ``__dict__``, past
    Keras' attribute tracking, and where a wrapper such as ``TimeDistributed``
    calls ``layer.call`` directly) and the wrapper removed afterwards,
    whatever happens.
    """
    import keras
    import numpy as np

    counts = [[0] for _ in bns]

    def recorder(bn: Any, index: int) -> Any:
        original = bn.call

        def call(inputs: Any, *args: Any, **kwargs: Any) -> Any:
            counts[index][0] += 1
            mask = kwargs.get("mask")
            mask = np.asarray(keras.ops.convert_to_numpy(mask)).astype(bool) if mask is not None else None
            on_call(index, np.asarray(keras.ops.convert_to_numpy(inputs)), mask)
            return original(inputs, *args, **kwargs)

        return call

    wrapped = []
    try:
        for index, bn in enumerate(bns):
            if "call" in vars(bn):
                raise ValueError(f"BN layer '{bn.name}' has its own instance attribute 'call'; it cannot be recorded")
            vars(bn)["call"] = recorder(bn, index)
            wrapped.append(bn)
        yield counts
    finally:
        for bn in wrapped:
            del vars(bn)["call"]


def _levels(graph: Any, model: Any, batches: Any) -> list[list[tuple[Any, str | None]]]:
    """The model's BN layers grouped by depth: ``(bn, None)``, or ``(bn, name)`` for a BN inside layer *name*.

    Level k holds the BNs with k - 1 BNs on their longest upstream path,
    counting the BNs inside nested models on the way. BNs the graph does
    not show, inside a layer that holds them (``TimeDistributed(BN)``, a
    custom block), each get a level of their own after the BNs upstream of
    that layer, in the order the layer calls them on the first batch.
    """
    levels: dict[int, list[tuple[Any, str | None]]] = {}
    groups: list[tuple[int, list, str]] = []  # (depth above the layer, its BNs, its name)
    _depths(graph, model, 0, levels, groups)
    several = [bns for _, bns, _ in groups if len(bns) > 1]
    if several:
        bns = [bn for group in several for bn in group]
        first: dict[int, int] = {}
        with _wrapped(bns, lambda index, inputs, mask: first.setdefault(index, len(first))):
            for x in batches():
                model(x, training=False)
                break
        order = {id(bn): first.get(index, len(bns)) for index, bn in enumerate(bns)}
        for group in several:
            group.sort(key=lambda bn: order[id(bn)])
    for above, bns, name in groups:
        for offset, bn in enumerate(bns, start=1):
            levels.setdefault(above + offset, []).append((bn, name))
    return [levels[k] for k in sorted(levels)]


def _depths(graph: Any, live: Any, entry: int, levels: dict[int, list], groups: list) -> int:
    """Place the BNs of *graph* (whose live model is *live*) in *levels*, or in *groups* for BNs inside
    a layer, its inputs being *entry* BNs deep; return the depth at its outputs."""
    import keras

    depth: dict[int, int] = {}  # node -> the deepest BN level at or above it
    calls: dict[int, int] = {}
    for _, layer in graph.layers():
        calls[layer.layer_id] = calls.get(layer.layer_id, 0) + 1
    for node in graph.topological_order():
        layer = graph.layer(node)
        above = max((depth[p] for p in graph.predecessors(node)), default=entry)
        depth[node] = above
        if layer.kind == "input":
            continue
        try:
            instance = live.get_layer(layer.name)
        except ValueError:  # (a keras.ops call in a functional model is not a layer)
            continue
        is_batchnorm = layer.kind == "batchnorm" and isinstance(instance, keras.layers.BatchNormalization)
        inside = [instance] if is_batchnorm else [
            inner for inner in instance._flatten_layers(include_self=False, recursive=True)
            if isinstance(inner, keras.layers.BatchNormalization)]
        if not inside:
            continue
        if calls[layer.layer_id] > 1:
            if is_batchnorm:
                raise ValueError(f"model '{graph.name}': BN layer '{layer.name}' is called "
                                 f"{calls[layer.layer_id]} times; its statistics have no single input")
            what = "nested model" if layer.kind == "model" else "layer"
            raise ValueError(f"model '{graph.name}': {what} '{layer.name}' holds BN layers and is called "
                             f"{calls[layer.layer_id]} times; their statistics have no single input")
        if is_batchnorm:
            depth[node] = above + 1
            levels.setdefault(above + 1, []).append((instance, None))
        elif layer.kind == "model" and layer.submodel is not None:
            # All of its inputs are taken to be as deep as the deepest: a BN may
            # wait a level longer than it must, never less (still exact).
            depth[node] = _depths(layer.submodel, instance, above, levels, groups)
        else:
            groups.append((above, inside, layer.name))
            depth[node] = above + len(inside)
    return max((depth[n] for n in graph.outputs if n in depth), default=max(depth.values(), default=entry))


def _batches(data: Any, steps: int | None, batch_size: int, inputs: int = 1) -> Any:
    """A function returning a fresh iterable of input batches (``x`` only) on each call.

    *inputs* is the model's number of inputs: with several, a list (or dict)
    of that many arrays is one array per input, batched together.
    """
    import numpy as np

    # One array per input: a dict by input name, or a list (tuple) of as many arrays as the model has inputs.
    per_input = list(data.values()) if isinstance(data, dict) else (
        list(data) if isinstance(data, (list, tuple)) and len(data) == inputs > 1 else [])
    if per_input and all(isinstance(a, np.ndarray) for a in per_input):
        sizes = {len(a) for a in per_input}
        if len(sizes) != 1:
            raise ValueError(f"recalibrate() got input arrays of different lengths {sorted(sizes)}")
        starts = range(0, sizes.pop(), batch_size)
        starts = starts[:steps] if steps is not None else starts
        if isinstance(data, dict):
            return lambda: ({key: a[start:start + batch_size] for key, a in data.items()} for start in starts)
        return lambda: ([a[start:start + batch_size] for a in per_input] for start in starts)
    if isinstance(data, dict):
        raise ValueError("recalibrate() got a dict whose values are not all NumPy arrays (one per input)")
    if isinstance(data, np.ndarray):
        starts = range(0, len(data), batch_size)
        starts = starts[:steps] if steps is not None else starts
        return lambda: (data[start:start + batch_size] for start in starts)
    if iter(data) is data:  # a one-shot iterator: keep its batches for the later passes (and read no more)
        kept = [_inputs(element) for element in islice(data, steps)]
        return lambda: iter(kept)
    return lambda: (_inputs(element) for element in islice(data, steps))


def _inputs(element: Any) -> Any:
    return element[0] if isinstance(element, tuple) else element


class _Moments:
    """Per-channel count, mean and sum of squared deviations, merged batch by batch (Chan et al.)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: Any = None
        self.m2: Any = None

    def add(self, values: Any, axis: int, mask: Any = None) -> None:
        """Add a batch *values* whose channels are on *axis*; *mask* (the other axes' shape) keeps positions."""
        import numpy as np

        channels = np.moveaxis(values.astype(np.float64), axis, -1)
        flat = channels.reshape(-1, channels.shape[-1])
        if mask is not None and mask.shape == channels.shape[:-1]:
            flat = flat[mask.reshape(-1)]
        count = flat.shape[0]
        if count == 0:
            return
        mean = flat.mean(axis=0)
        m2 = ((flat - mean) ** 2).sum(axis=0)
        if self.count == 0:
            self.count, self.mean, self.m2 = count, mean, m2
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + m2 + delta ** 2 * (self.count * count / total)
        self.count = total

    @property
    def variance(self) -> Any:
        return self.m2 / self.count
