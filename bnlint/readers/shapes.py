"""Static output shapes of Keras layer calls, computed without Keras.

Contract
--------
``output_shape(class_name, config, input_shapes)`` is the shape Keras 3.15
gives the output of calling a layer of *class_name* (any spelling
``kinds.canonical_class`` knows) built from *config* on inputs of
*input_shapes* (one entry per input tensor: merges get several, InputLayer
none). The static interpreter uses it to follow model code that reads
``x.shape[axis]`` (DenseNet, NASNet, ...).

- A shape is a tuple including the batch dimension; each dimension is an int
  or None (size not known statically, as in Keras). A whole shape, given or
  returned, may be UNKNOWN: not even the rank is known. A layer that accepts
  one rank only (Conv2D, MaxPooling2D, ZeroPadding2D: 4) gives that rank's
  output for an input of unknown rank (Conv2D: its filters as channels).
- *config* holds the arguments the user wrote plus the defaults bnlint fills
  (use_bias, activation, momentum, epsilon, axis, center, scale, data_format,
  rate); every other shape-relevant default (strides=1, padding="valid",
  pool_size=2, ...) is Keras 3.15's and lives here. Any value may be UNKNOWN:
  it turns the dimensions it affects into None, or the whole result into
  UNKNOWN when it decides the rank (Reshape's target_shape, keepdims).
- Never raises. What Keras refuses (an output size <= 0, the wrong rank,
  output_padding >= strides, Conv strides > 1 with dilation > 1, incompatible
  merges), odd values, and classes without a rule here (Lambda, custom layers,
  EinsumDense, Dot, attention, wrappers, ConvLSTM) all give UNKNOWN.
- Deliberately more lenient than Keras 3.15, because a linter also reads
  tf.keras code: padding strings are case-insensitive everywhere (3.15 pooling
  rejects "SAME" despite its docstring); every 1D conv accepts "causal";
  AveragePooling's pool_size defaults to 2 (Keras 3 requires it); sizes Keras
  needs only to create weights (Conv/Dense input channels, the BN axis) may be
  None.

Only the standard library and bnlint's plain-data modules are imported: this
runs on the lint hot path, which must never import TensorFlow or Keras.
"""

from __future__ import annotations

import math
from functools import partial

from bnlint.graph import UNKNOWN
from bnlint.kinds import canonical_class

__all__ = ["Operand", "op_output_shape", "output_shape"]


class _GiveUp(Exception):
    """Raised internally when the answer is UNKNOWN (unknown rank or input Keras refuses)."""


def output_shape(class_name, config, input_shapes):
    """The output shape of calling Keras layer *class_name* with *config* on *input_shapes*.

    Returns a tuple (batch dimension included, each dim an int or None) or UNKNOWN.
    """
    rule = _TABLE.get(canonical_class(class_name))
    if rule is None or not isinstance(config, dict) or not isinstance(input_shapes, (list, tuple)):
        return UNKNOWN
    try:
        result = rule(config, [_shape(s) for s in input_shapes])
        return result if isinstance(result, tuple) else UNKNOWN
    except Exception:  # noqa: BLE001 - contract: what cannot be derived is UNKNOWN, never a crash
        return UNKNOWN


# --- Values. Internally an unknown argument is UNKNOWN and an unknown size is None. ---

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _unknown(*values):
    return any(v is None or v is UNKNOWN for v in values)


# An input of unknown rank: a layer that accepts one rank only (Conv2D: 4) knows it, others give up.
_ANY_RANK = object()


def _shape(shape):
    """Normalise one input shape; a dimension given as UNKNOWN is just an unknown size."""
    if shape is UNKNOWN:
        return _ANY_RANK
    if not isinstance(shape, (list, tuple)):
        raise _GiveUp  # garbage
    dims = tuple(None if d is UNKNOWN else d for d in shape)
    if not all(d is None or (_is_int(d) and d >= 0) for d in dims):
        raise _GiveUp
    return dims


def _num(value, minimum=1):
    """An int argument (UNKNOWN passes through); Keras refuses values below *minimum*."""
    if value is UNKNOWN or (_is_int(value) and value >= minimum):
        return value
    raise _GiveUp


def _size(config, key, default=UNKNOWN):
    """A size argument (filters, units, ...) as an output dimension: int or None."""
    value = _num(config.get(key, default))
    return None if value is UNKNOWN else value


def _ints(value, n, minimum=1):
    """An int-or-tuple argument (kernel_size, strides, ...) as a list of *n* values."""
    if value is UNKNOWN:
        return [UNKNOWN] * n
    if not isinstance(value, (list, tuple)):
        return [_num(value, minimum)] * n
    if len(value) != n:
        raise _GiveUp
    return [_num(v, minimum) for v in value]


def _pairs(value, n):
    """ZeroPadding/Cropping amounts as *n* (before, after) pairs."""
    if n == 1 or value is UNKNOWN:  # 1D: an int or one pair
        return [tuple(_ints(value, 2, minimum=0))] * n
    if not isinstance(value, (list, tuple)):
        return [(_num(value, 0),) * 2] * n
    if len(value) != n:
        raise _GiveUp
    return [tuple(_ints(v, 2, minimum=0)) for v in value]


def _option(config, key, default, allowed):
    """A string or bool option (case-insensitive like Keras), or UNKNOWN."""
    value = config.get(key, default)
    value = value.lower() if isinstance(value, str) else value
    if value is UNKNOWN or value in allowed:
        return value
    raise _GiveUp


def _channels_first(config):
    """True / False / UNKNOWN. None is Keras' image_data_format(): channels_last."""
    value = _option(config, "data_format", None, ("channels_first", "channels_last", None))
    return value if value is UNKNOWN else value == "channels_first"


def _one(shapes, ndim=None, min_ndim=1):
    """The single input shape of a one-input layer, checked like Keras' InputSpec (one of unknown
    rank has the rank *ndim* requires)."""
    if len(shapes) == 1 and shapes[0] is _ANY_RANK:
        if ndim is None:
            raise _GiveUp
        return (None,) * ndim
    if len(shapes) != 1 or len(shapes[0]) < min_ndim or ndim not in (None, len(shapes[0])):
        raise _GiveUp
    return shapes[0]


# --- Layers over spatial axes: each supplies a function from input to output sizes. ---

def _spatial(config, shapes, rank, per_axis, channels=lambda c: c, has_format=True):
    """Apply *per_axis* to the spatial sizes and *channels* to the channel size.

    Cropping1D and UpSampling1D have no data_format (always channels_last). An
    unknown data_format keeps the rank but not the layout.
    """
    shape = _one(shapes, ndim=rank + 2)
    first = _channels_first(config) if has_format else False
    if first is UNKNOWN:
        return (shape[0],) + (None,) * (rank + 1)
    spatial, c = (shape[2:], shape[1]) if first else (shape[1:-1], shape[-1])
    out, c = tuple(per_axis(spatial)), channels(c)
    return (shape[0], c, *out) if first else (shape[0], *out, c)


def _windows(config, rank, kernel_key, kernel_default, strides_default, allowed):
    """Per-axis sizes after a conv/pooling window (Keras' compute_*_output_shape)."""
    kernel = _ints(config.get(kernel_key, kernel_default), rank)
    strides = config.get("strides", strides_default)
    pooling_default = strides is None and kernel_key == "pool_size"  # strides=None: pool_size
    strides = kernel if pooling_default else _ints(strides, rank)
    dilation = _ints(config.get("dilation_rate", 1), rank)
    padding = _option(config, "padding", "valid", allowed)

    def axis(size, k, s, d):
        if _unknown(size, s, padding):
            return None
        if padding in ("same", "causal"):  # needs no kernel size
            return (size - 1) // s + 1
        if _unknown(k, d):
            return None
        out = (size - d * (k - 1) - 1) // s + 1
        if out <= 0:
            raise _GiveUp  # Keras: "Computed output size would be zero or negative"
        return out

    return lambda sizes: [axis(*a) for a in zip(sizes, kernel, strides, dilation)]


def _no_strided_dilation(config, rank):
    """Conv and ConvTranspose (not Depthwise/Separable, whatever their docstrings
    say) refuse strides > 1 together with dilation_rate > 1."""
    strides, dilation = (_ints(config.get(k, 1), rank) for k in ("strides", "dilation_rate"))
    if any(_is_int(s) and s > 1 for s in strides) and any(_is_int(d) and d > 1 for d in dilation):
        raise _GiveUp


def _conv(config, shapes, rank, kind="conv"):
    allowed = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    per_axis = _windows(config, rank, "kernel_size", UNKNOWN, 1, allowed)
    if kind == "conv":
        _no_strided_dilation(config, rank)
    if kind == "depthwise":  # output channels = depth_multiplier * input channels
        multiplier = _size(config, "depth_multiplier", 1)
        channels = lambda c: None if _unknown(c, multiplier) else c * multiplier
    else:
        filters = _size(config, "filters")
        channels = lambda c: filters
    return _spatial(config, shapes, rank, per_axis, channels)


def _conv_transpose(config, shapes, rank):
    kernel, strides, dilation = (_ints(config.get(key, default), rank) for key, default in
                                 (("kernel_size", UNKNOWN), ("strides", 1), ("dilation_rate", 1)))
    padding = _option(config, "padding", "valid", ("valid", "same"))
    output_padding = config.get("output_padding")  # None: Keras picks it
    output_padding = [None] * rank if output_padding is None else _ints(output_padding, rank, 0)
    filters = _size(config, "filters")
    _no_strided_dilation(config, rank)
    if any(_is_int(p) and _is_int(s) and p >= s for p, s in zip(output_padding, strides)):
        raise _GiveUp  # Keras: output_padding must be strictly less than strides

    def axis(size, k, s, d, p):  # backend_utils._get_output_shape_given_tf_padding
        if _unknown(size, s, padding):
            return None
        if padding == "same" and p is None:
            return size * s
        if _unknown(k, d) or p is UNKNOWN:
            return None
        k = (k - 1) * d + 1
        if padding == "valid":
            return (size - 1) * s + k + (max(k, s) - k if p is None else p)
        return (size - 1) * s + k % 2 + p

    per_axis = lambda sizes: [axis(*a) for a in zip(sizes, kernel, strides, dilation, output_padding)]
    return _spatial(config, shapes, rank, per_axis, lambda c: filters)


def _pool(config, shapes, rank):
    per_axis = _windows(config, rank, "pool_size", 2, None, ("valid", "same"))
    return _spatial(config, shapes, rank, per_axis)


def _global_pool(config, shapes, rank):
    keepdims = _option(config, "keepdims", False, (False, True))
    if keepdims is UNKNOWN:
        raise _GiveUp  # it decides the rank
    if keepdims:
        return _spatial(config, shapes, rank, lambda sizes: [1] * rank)
    shape, first = _one(shapes, ndim=rank + 2), _channels_first(config)
    return (shape[0], None if first is UNKNOWN else shape[1] if first else shape[-1])


def _adaptive_pool(config, shapes, rank):
    size = [None if s is UNKNOWN else s for s in _ints(config.get("output_size", UNKNOWN), rank)]
    return _spatial(config, shapes, rank, lambda sizes: size)


def _pad_or_crop(config, shapes, rank, sign, default, has_format=True):
    pairs = _pairs(config.get("padding" if sign > 0 else "cropping", default), rank)

    def axis(size, pair):
        if _unknown(size, *pair):
            return None
        out = size + sign * sum(pair)
        if out <= 0:
            raise _GiveUp  # Keras: cropping must be smaller than the input
        return out

    per_axis = lambda sizes: [axis(*a) for a in zip(sizes, pairs)]
    return _spatial(config, shapes, rank, per_axis, has_format=has_format)


def _upsample(config, shapes, rank, has_format=True):
    factors = _ints(config.get("size", 2), rank)
    per_axis = lambda sizes: [None if _unknown(n, f) else n * f for n, f in zip(sizes, factors)]
    return _spatial(config, shapes, rank, per_axis, has_format=has_format)


def _resize(config, shapes):
    """Resizing / CenterCrop / RandomCrop: images, batched or not, to (height, width)."""
    shape, first = list(_one(shapes)), _channels_first(config)
    if len(shape) not in (3, 4):
        raise _GiveUp
    if first is UNKNOWN:
        return tuple(shape[:-3]) + (None,) * 3
    shape[-2 if first else -3] = _size(config, "height")
    shape[-1 if first else -2] = _size(config, "width")
    return tuple(shape)


# --- Other one-input layers. ---

def _input(config, shapes):
    # keras.Input(shape=, batch_size=) or batch_shape=; tf.keras: input_shape, batch_input_shape.
    batch_shape = config.get("batch_shape", config.get("batch_input_shape"))
    if shapes:
        raise _GiveUp
    if batch_shape is not None:
        return _shape(batch_shape)
    batch = config.get("batch_size")
    return (None if batch is None else _size(config, "batch_size"),) + _shape(
        config.get("shape", config.get("input_shape")))


def _same(config, shapes):
    return _one(shapes)


def _dense(config, shapes):  # acts on the last axis, any rank >= 2
    return _one(shapes, min_ndim=2)[:-1] + (_size(config, "units"),)


def _embedding(config, shapes):
    return _one(shapes) + (_size(config, "output_dim"),)


def _repeat_vector(config, shapes):
    shape = _one(shapes, ndim=2)
    return (shape[0], _size(config, "n"), shape[1])


def _recurrent(config, shapes):
    batch, steps, _ = _one(shapes, ndim=3)
    sequences = _option(config, "return_sequences", False, (False, True))
    if sequences is UNKNOWN or config.get("return_state", False) is not False:
        raise _GiveUp  # return_state gives a list of tensors, not one shape
    return (batch, steps, _size(config, "units")) if sequences else (batch, _size(config, "units"))


def _flatten(config, shapes):
    shape = _one(shapes)
    return (shape[0], None if None in shape[1:] else math.prod(shape[1:]))


def _reshape(config, shapes):  # operation_utils.compute_reshape_output_shape
    shape, target = _one(shapes), config.get("target_shape")
    if not isinstance(target, (list, tuple)):
        raise _GiveUp  # UNKNOWN target_shape: unknown rank
    target = tuple(None if t is UNKNOWN else t for t in target)
    if not all(t is None or (_is_int(t) and t >= -1) for t in target) or target.count(-1) > 1:
        raise _GiveUp
    if None in shape[1:] or None in target:
        return (shape[0], *(None if t == -1 else t for t in target))
    size, known = math.prod(shape[1:]), math.prod(t for t in target if t != -1)
    if (-1 not in target and known != size) or (-1 in target and (known == 0 or size % known)):
        raise _GiveUp  # Keras: the total size of the tensor must be unchanged
    return (shape[0], *(size // known if t == -1 else t for t in target))


def _permute(config, shapes):
    shape, dims = _one(shapes, min_ndim=2), config.get("dims", UNKNOWN)
    if dims is UNKNOWN:
        return (shape[0],) + (None,) * (len(shape) - 1)
    known = [d for d in dims if d is not UNKNOWN]
    if len(dims) != len(shape) - 1 or len(set(known)) != len(known) or not all(
            _is_int(d) and 1 <= d <= len(dims) for d in known):
        raise _GiveUp
    return (shape[0], *(None if d is UNKNOWN else shape[d] for d in dims))


# --- Merges. ---

def _elementwise(config, shapes, arity=None):
    """Add, Multiply, ...: Keras' Merge._compute_elemwise_op_output_shape, pairwise.

    Lower ranks align on the right, and unlike numpy a None against anything
    (even 1) stays None.
    """
    if not shapes or arity not in (None, len(shapes)):
        raise _GiveUp
    batch = {s[0] for s in shapes if s} - {None}
    if len(batch) > 1:
        raise _GiveUp  # Keras: cannot merge tensors with different batch sizes
    out = shapes[0][1:]
    for shape in shapes[1:]:
        a, b = sorted((out, shape[1:]), key=len, reverse=True)
        merged = list(a[: len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if not _unknown(i, j) and 1 not in (i, j) and i != j:
                raise _GiveUp
            merged.append(None if _unknown(i, j) else j if i == 1 else i)
        out = tuple(merged)
    return (batch.pop() if batch else None,) + out


def _concatenate(config, shapes):
    axis = config.get("axis", -1)
    if not shapes or len({len(s) for s in shapes}) != 1:
        raise _GiveUp
    rank = len(shapes[0])
    if len(shapes) == 1:  # Keras never looks at the axis then
        return shapes[0]
    if axis is UNKNOWN:  # any axis, even the batch one, may be the summed one
        return (None,) * rank
    if not _is_int(axis) or not -rank <= axis < rank:
        raise _GiveUp
    axis %= rank
    if any(i != axis and len({s[i] for s in shapes} - {None}) > 1 for i in range(rank)):
        raise _GiveUp  # Keras' build: known sizes off the axis must agree
    sizes = [s[axis] for s in shapes]
    out = list(shapes[0])  # Keras keeps the first input's other sizes, Nones included
    out[axis] = None if None in sizes else sum(sizes)
    return tuple(out)


# --- keras.ops functions on tensors (keras/src/ops: numpy.py, operation_utils.py). ---

class Operand:
    """A tensor argument of a ``keras.ops`` call, standing for its *shape* (UNKNOWN or a tuple)."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def op_output_shape(name, args, kwargs):
    """The output shape of ``keras.ops.<name>(*args, **kwargs)``, tensors given as :class:`Operand`.

    Returns a tuple (batch dimension included) or UNKNOWN: for an operation
    not listed here, an argument that is not known, or one Keras refuses.
    """
    rule = _OPS.get(name)
    if rule is None:
        return UNKNOWN
    try:
        bound = _bind(rule[0], args, kwargs)
        result = rule[1](**bound)
        return result if isinstance(result, tuple) else UNKNOWN
    except Exception:  # noqa: BLE001 - as output_shape: UNKNOWN, never a crash
        return UNKNOWN


def _bind(params, args, kwargs):
    """*args* and *kwargs* by the parameter names *params* (those left out get their defaults).

    A last parameter ``"*"`` takes any further arguments, which the rule ignores.
    """
    if params[-1] == "*":
        params = params[:-1]
        args, kwargs = args[:len(params)], {key: value for key, value in kwargs.items() if key in params}
    if len(args) > len(params) or any(key not in params for key in kwargs):
        raise _GiveUp
    bound = dict(zip(params, args))
    if bound.keys() & kwargs.keys():
        raise _GiveUp
    return {**bound, **kwargs}


def _tensor(value):
    """The shape of a tensor argument (a Python number is a scalar); anything else is not known."""
    if isinstance(value, Operand):
        shape = _shape(value.shape)
        if shape is _ANY_RANK:
            raise _GiveUp
        return shape
    if isinstance(value, (int, float)):
        return ()
    raise _GiveUp


def _axis(value, ndim):
    if not _is_int(value) or not -ndim <= value < ndim:
        raise _GiveUp
    return value % ndim


def _op_same(x):
    return _tensor(x)


def _op_broadcast(x1, x2):  # operation_utils.broadcast_shapes: unlike a Merge layer, None and n give n
    a, b = _tensor(x1), _tensor(x2)
    a, b = (1,) * (len(b) - len(a)) + a, (1,) * (len(a) - len(b)) + b
    out = []
    for i, j in zip(a, b):
        if i == 1 or (i is None and j != 1):
            out.append(j)
        elif i is None or j in (1, None, i):
            out.append(i)
        else:
            raise _GiveUp
    return tuple(out)


def _op_reduce(x, axis=None, keepdims=False):  # operation_utils.reduce_shape
    shape = _tensor(x)
    if not isinstance(keepdims, bool):
        raise _GiveUp
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axes = {_axis(a, len(shape)) for a in (axis if isinstance(axis, (list, tuple)) else (axis,))}
    return tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes)


def _op_concatenate(xs, axis=0):
    if not isinstance(xs, (list, tuple)) or not xs:
        raise _GiveUp
    shapes = [_tensor(x) for x in xs]
    if len({len(s) for s in shapes}) != 1:
        raise _GiveUp
    axis, first = _axis(axis, len(shapes[0])), shapes[0]
    if any(i != axis and not _unknown(s[i], first[i]) and s[i] != first[i] for s in shapes for i in range(len(s))):
        raise _GiveUp  # Keras compares each input with the first only
    sizes = [s[axis] for s in shapes]
    out = list(shapes[0])
    out[axis] = None if None in sizes else sum(sizes)
    return tuple(out)


def _op_reshape(x, newshape):  # no special batch axis: ops.reshape(x, (-1, 4)) reshapes it too
    shape = _tensor(x)
    if not isinstance(newshape, (list, tuple)):
        raise _GiveUp
    target = tuple(None if t is UNKNOWN else t for t in newshape)
    if not all(t is None or (_is_int(t) and t >= -1) for t in target) or target.count(-1) > 1:
        raise _GiveUp
    if None in shape or None in target:
        return tuple(None if t == -1 else t for t in target)
    size, known = math.prod(shape), math.prod(t for t in target if t != -1)
    if (-1 not in target and known != size) or (-1 in target and (known == 0 or size % known)):
        raise _GiveUp
    return tuple(size // known if t == -1 else t for t in target)


def _op_expand_dims(x, axis):
    shape = _tensor(x)
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    ndim = len(shape) + len(axes)
    axes = {_axis(a, ndim) for a in axes}
    if len(axes) != ndim - len(shape):
        raise _GiveUp
    rest = iter(shape)
    return tuple(1 if i in axes else next(rest) for i in range(ndim))


def _op_squeeze(x, axis=None):  # as Keras on a symbolic tensor: an unknown size is not 1
    shape = _tensor(x)
    if axis is None:
        return tuple(d for d in shape if d != 1)
    axes = {_axis(a, len(shape)) for a in (axis if isinstance(axis, (list, tuple)) else (axis,))}
    if any(shape[i] != 1 for i in axes):
        raise _GiveUp
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _op_transpose(x, axes=None):
    shape = _tensor(x)
    if axes is None:
        return shape[::-1]
    if not isinstance(axes, (list, tuple)) or len(axes) != len(shape):
        raise _GiveUp
    order = [_axis(a, len(shape)) for a in axes]
    if len(set(order)) != len(order):
        raise _GiveUp
    return tuple(shape[i] for i in order)


_OPS = {name: (("x", "*"), _op_same) for name in (  # their other arguments leave the shape
    "abs", "absolute", "negative", "square", "sqrt", "rsqrt", "reciprocal", "exp", "expm1", "log",
    "log1p", "sign", "floor", "ceil", "round", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
    "relu6", "gelu", "silu", "swish", "softplus", "softsign", "elu", "selu", "celu",
    "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "mish", "erf",
    "stop_gradient", "softmax", "log_softmax", "cast", "clip",
)}
_OPS.update({name: (("x1", "x2"), _op_broadcast) for name in (
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "maximum", "minimum",
    "power", "mod",
)})
_OPS.update({name: (("x", "axis", "keepdims"), _op_reduce) for name in (
    "mean", "sum", "max", "min", "amax", "amin", "prod", "std", "var", "any", "all", "logsumexp",
)})
_OPS.update({
    "concatenate": (("xs", "axis"), _op_concatenate),
    "reshape": (("x", "newshape"), _op_reshape),
    "expand_dims": (("x", "axis"), _op_expand_dims),
    "squeeze": (("x", "axis"), _op_squeeze),
    "transpose": (("x", "axes"), _op_transpose),
})


# --- The table: canonical class name -> rule(config, input_shapes). ---

# Output shape == input shape: normalisation, activation, dropout, noise,
# regularisation, and preprocessing that keeps the size.
_SAME_SHAPE = (
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "RMSNormalization", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "ThresholdedReLU", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "AlphaDropout", "GaussianNoise", "ActivityRegularization", "Masking",
    "Identity", "Rescaling", "Normalization", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "RandomShear",
)

_TABLE = {name: _same for name in _SAME_SHAPE}
_TABLE.update({
    "Input": _input, "InputLayer": _input, "Dense": _dense, "Embedding": _embedding,
    "SimpleRNN": _recurrent, "GRU": _recurrent, "LSTM": _recurrent,
    "Flatten": _flatten, "Reshape": _reshape, "Permute": _permute, "RepeatVector": _repeat_vector,
    "Resizing": _resize, "CenterCrop": _resize, "RandomCrop": _resize,
    "Add": _elementwise, "Multiply": _elementwise, "Average": _elementwise,
    "Maximum": _elementwise, "Minimum": _elementwise, "Subtract": partial(_elementwise, arity=2),
    "Concatenate": _concatenate,
})
for _n in (1, 2, 3):
    _TABLE.update({
        f"Conv{_n}D": partial(_conv, rank=_n),
        f"Conv{_n}DTranspose": partial(_conv_transpose, rank=_n),
        f"MaxPooling{_n}D": partial(_pool, rank=_n),
        f"AveragePooling{_n}D": partial(_pool, rank=_n),
        f"GlobalMaxPooling{_n}D": partial(_global_pool, rank=_n),
        f"GlobalAveragePooling{_n}D": partial(_global_pool, rank=_n),
        f"AdaptiveMaxPooling{_n}D": partial(_adaptive_pool, rank=_n),
        f"AdaptiveAveragePooling{_n}D": partial(_adaptive_pool, rank=_n),
        # Keras defaults differ by rank: ZeroPadding 1 each side, Cropping2D 0 but 1D/3D 1.
        f"ZeroPadding{_n}D": partial(_pad_or_crop, rank=_n, sign=1, default=1),
        f"Cropping{_n}D": partial(_pad_or_crop, rank=_n, sign=-1, default=0 if _n == 2 else 1,
                                  has_format=_n > 1),
        f"UpSampling{_n}D": partial(_upsample, rank=_n, has_format=_n > 1),
    })
for _n in (1, 2):  # Keras has no 3D depthwise or separable convolution
    _TABLE[f"DepthwiseConv{_n}D"] = partial(_conv, rank=_n, kind="depthwise")
    _TABLE[f"SeparableConv{_n}D"] = partial(_conv, rank=_n, kind="separable")
del _n
