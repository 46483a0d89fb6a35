"""The numerical core of ``bnlint fold``: fold an inference-mode BatchNormalization into the layer before it.

Contract
--------
This module depends on numpy only. It never imports TensorFlow or Keras; it
works on the kernel and bias arrays exactly as Keras 3 stores them.

For inference a BatchNormalization computes, per channel,
``BN(z) = gamma * (z - mean) / sqrt(var + eps) + beta``. With

    s = gamma / sqrt(var + eps)        t = beta - mean * s

``BN(z) = s * z + t``. When BN directly follows a linear layer ``z = W x + b``
(no activation in between), ``BN(z) = (W * s) x + (b - mean) * s + beta``, so

    W' = W * s   along the layer's OUTPUT-channel axis
    b' = (b - mean) * s + beta          (b = 0 when the layer has no bias)

``gamma`` is 1 when the BN has ``scale=False`` and ``beta`` is 0 when it has
``center=False`` (:class:`BatchNormParams` holds ``None`` for them). All maths
is done in float64; the results are cast back to the kernel's dtype (float32,
float16, float64, or ml_dtypes' bfloat16 when the kernel already has that
dtype). The folded layer needs a bias, so callers rebuild it with
``use_bias=True``.

Output-channel axis, by Keras 3 kernel layout (``data_format`` does not change
the kernel layout in Keras 3, so channels_first layers fold the same way; the
caller must check that the BN's ``axis`` is the layer's channel axis):

``Conv1D``/``Conv2D``/``Conv3D``  kernel ``(k..., Cin/groups, Cout)``
    last axis (strides, dilation and groups do not matter).
``Dense``  kernel ``(Cin, Cout)``
    last axis, whatever the rank of the input (Dense acts on the last axis).
``DepthwiseConv1D``/``DepthwiseConv2D``  kernel ``(k..., Cin, mult)``
    output channel ``c * mult + m`` is ``kernel[..., c, m]``: ``s`` is
    reshaped to ``(Cin, mult)``.
``SeparableConv1D``/``SeparableConv2D``
    fold into the POINTWISE kernel ``(1..., Cin*mult, Cout)``, last axis. The
    caller passes the pointwise kernel (and the layer's bias); the depthwise
    kernel is left unchanged.
``Conv1DTranspose``/``Conv2DTranspose``/``Conv3DTranspose``  kernel ``(k..., Cout, Cin)``
    axis -2. Folding on axis -1 (the usual bug) is silently wrong whenever
    Cin == Cout.

A BatchNormalization immediately BEFORE a layer folds into it too
(:func:`fold_preceding_into`), but only into ``Dense``, ``Conv1D/2D/3D``
(any ``groups``) and ``DepthwiseConv1D/2D`` and only with ``valid`` padding:
``conv(s * x + t) = conv'(x) + b'`` with the kernel scaled along its INPUT
channels and ``b' = b + sum(W * t)``. With ``same``/``causal`` padding the
zero border would be shifted by ``t`` only inside the image, so the fold would
be wrong near the borders; it is refused.

Legacy spellings (``Convolution2D``, ``Deconv2D``, ...) are accepted through
:func:`bnlint.kinds.canonical_class`.

:func:`fold_into` raises :class:`FoldRefused` (with a one-sentence reason)
for a class it cannot fold, for shapes that disagree (BN channel count, bias
length, kernel rank, ``filters``/``units``/``depth_multiplier`` in the config,
a separable layer given a non-pointwise kernel), for a non-floating kernel,
and for a non-positive ``var + eps``. Structural refusals (fused activation,
other consumers, BN axis, shared BN, renorm) belong to the caller, which sees
the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnlint.kinds import canonical_class

__all__ = [
    "FOLDABLE_CLASSES",
    "BatchNormParams",
    "FoldRefused",
    "fold_into",
    "fold_preceding_into",
    "output_channel_axis",
    "scale_and_shift",
]


class FoldRefused(Exception):
    """A BatchNormalization that cannot be folded; ``reason`` says why in one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __reduce__(self):  # may travel back from worker processes
        return (FoldRefused, (self.reason,))


@dataclass(frozen=True)
class BatchNormParams:
    """Inference-time parameters of one BatchNormalization (one value per channel).

    ``gamma`` is ``None`` when the layer has ``scale=False`` (meaning 1) and
    ``beta`` is ``None`` when it has ``center=False`` (meaning 0).
    """

    gamma: np.ndarray | None
    beta: np.ndarray | None
    moving_mean: np.ndarray
    moving_variance: np.ndarray
    epsilon: float


# class -> (kernel rank, kernel layout family)
_LAYOUTS = {
    "Dense": (2, "last"),
    "Conv1D": (3, "last"),
    "Conv2D": (4, "last"),
    "Conv3D": (5, "last"),
    "DepthwiseConv1D": (3, "depthwise"),
    "DepthwiseConv2D": (4, "depthwise"),
    "SeparableConv1D": (3, "pointwise"),
    "SeparableConv2D": (4, "pointwise"),
    "Conv1DTranspose": (3, "transpose"),
    "Conv2DTranspose": (4, "transpose"),
    "Conv3DTranspose": (5, "transpose"),
}

FOLDABLE_CLASSES = frozenset(_LAYOUTS)


def _channels(name: str, value, what: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1:
        raise FoldRefused(f"BatchNormalization {what} has shape {array.shape}, expected one value per channel.")
    return array


def scale_and_shift(bn: BatchNormParams) -> tuple[np.ndarray, np.ndarray]:
    """``(s, t)`` in float64 with ``BN(z) = s * z + t``: ``s = gamma / sqrt(var + eps)``, ``t = beta - mean * s``."""
    mean = _channels("mean", bn.moving_mean, "moving_mean")
    var = _channels("var", bn.moving_variance, "moving_variance")
    n = mean.shape[0]
    gamma = np.ones(n) if bn.gamma is None else _channels("gamma", bn.gamma, "gamma")
    beta = np.zeros(n) if bn.beta is None else _channels("beta", bn.beta, "beta")
    for what, array in (("moving_variance", var), ("gamma", gamma), ("beta", beta)):
        if array.shape[0] != n:
            raise FoldRefused(
                f"BatchNormalization {what} has {array.shape[0]} values but moving_mean has {n}."
            )
    denominator = var + float(bn.epsilon)
    if not np.all(denominator > 0):
        raise FoldRefused("BatchNormalization moving_variance + epsilon is not positive for every channel.")
    s = gamma / np.sqrt(denominator)
    t = beta - mean * s
    return s, t


def output_channel_axis(class_name: str) -> int:
    """The kernel axis that holds output channels (-1 or -2); depthwise kernels span the last two."""
    canonical = canonical_class(class_name)
    if canonical not in _LAYOUTS:
        raise FoldRefused(f"bnlint cannot fold a BatchNormalization into a {class_name} layer.")
    return -2 if _LAYOUTS[canonical][1] == "transpose" else -1


def _is_float(dtype: np.dtype) -> bool:
    if dtype.kind == "f":
        return True
    # ml_dtypes' bfloat16 and friends are kind "V"; they are floating if finfo knows them.
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes ships with TensorFlow/JAX
        return False
    try:
        ml_dtypes.finfo(dtype)
    except (TypeError, ValueError):
        return False
    return True


def _checked_kernel(class_name: str, canonical: str, kernel) -> tuple[np.ndarray, np.dtype]:
    """*kernel* as an array, and its dtype, after checking it is floating and has the class's rank."""
    kernel = np.asarray(kernel)
    if not _is_float(kernel.dtype):
        raise FoldRefused(f"{class_name} kernel has dtype {kernel.dtype}, not a floating-point type.")
    rank = _LAYOUTS[canonical][0]
    if kernel.ndim != rank:
        raise FoldRefused(f"{class_name} kernel has rank {kernel.ndim}, expected {rank}.")
    return kernel, kernel.dtype


def _config_int(config: dict, key: str):
    value = config.get(key) if isinstance(config, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bias64(class_name: str, bias: np.ndarray | None, out_channels: int) -> np.ndarray:
    """The layer's bias in float64 (zeros without one), checked against its output channels."""
    if bias is None:
        return np.zeros(out_channels)
    b = np.asarray(bias).astype(np.float64)
    if b.shape != (out_channels,):
        raise FoldRefused(f"{class_name} bias has shape {b.shape}, expected ({out_channels},).")
    return b


def fold_into(
    class_name: str,
    config: dict,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    bn: BatchNormParams,
) -> tuple[np.ndarray, np.ndarray]:
    """``(new_kernel, new_bias)`` of a *class_name* layer followed directly by the BN *bn*.

    *kernel* and *bias* are the layer's weights as Keras stores them (*bias*
    ``None`` when ``use_bias=False``); for ``SeparableConv1D/2D`` pass the
    POINTWISE kernel. *config* is the layer's config, used only to cross-check
    shapes. Both results have the kernel's dtype. Raises :class:`FoldRefused`.
    """
    canonical = canonical_class(class_name)
    if canonical not in _LAYOUTS:
        raise FoldRefused(f"bnlint cannot fold a BatchNormalization into a {class_name} layer.")
    layout = _LAYOUTS[canonical][1]
    kernel, dtype = _checked_kernel(class_name, canonical, kernel)

    if layout == "transpose":
        out_channels = kernel.shape[-2]
        key = "filters"
    elif layout == "depthwise":
        out_channels = kernel.shape[-2] * kernel.shape[-1]
        key = None
        multiplier = _config_int(config, "depth_multiplier")
        if multiplier is not None and multiplier != kernel.shape[-1]:
            raise FoldRefused(
                f"{class_name} has depth_multiplier {multiplier} but its kernel has {kernel.shape[-1]}."
            )
    else:
        out_channels = kernel.shape[-1]
        key = "units" if canonical == "Dense" else "filters"
        if layout == "pointwise" and any(size != 1 for size in kernel.shape[:-2]):
            raise FoldRefused(
                f"{class_name} kernel has shape {kernel.shape}; fold into the pointwise kernel (1..., Cin*mult, Cout)."
            )
    declared = _config_int(config, key) if key else None
    if declared is not None and declared != out_channels:
        raise FoldRefused(f"{class_name} has {key}={declared} but its kernel has {out_channels} output channels.")

    s, t = scale_and_shift(bn)
    if s.shape[0] != out_channels:
        raise FoldRefused(
            f"BatchNormalization has {s.shape[0]} channels but the {class_name} before it has {out_channels}."
        )
    b = _bias64(class_name, bias, out_channels)

    w = kernel.astype(np.float64)
    if layout == "transpose":
        w = w * s[:, None]  # (k..., Cout, Cin): scale axis -2
    elif layout == "depthwise":
        w = w * s.reshape(kernel.shape[-2], kernel.shape[-1])  # channel c*mult + m
    else:
        w = w * s  # (..., Cout): scale the last axis
    new_bias = b * s + t  # == (b - mean) * s + beta
    return _stored(w, dtype), _stored(new_bias, dtype)


def _stored(values: np.ndarray, dtype) -> np.ndarray:
    """*values* (float64) in the layer's *dtype*; a fold whose weights do not fit it is refused."""
    with np.errstate(over="ignore", invalid="ignore"):
        result = values.astype(dtype)
    if np.issubdtype(result.dtype, np.floating) and not np.isfinite(result).all() and np.isfinite(values).all():
        raise FoldRefused(f"the folded weights overflow {result.dtype} (largest magnitude "
                          f"{float(np.max(np.abs(values))):.3g}).")
    return result


_PRECEDING = {"Dense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D"}


def fold_preceding_into(
    class_name: str,
    config: dict,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    bn: BatchNormParams,
) -> tuple[np.ndarray, np.ndarray]:
    """``(new_kernel, new_bias)`` of a *class_name* layer whose input is the output of the BN *bn*.

    ``layer(BN(x)) == layer'(x)`` exactly for ``valid`` padding. The kernel is
    scaled along its input channels (for grouped convolutions, the channels of
    each output channel's group) and the BN shift enters the bias through the
    kernel. Raises :class:`FoldRefused` for other classes, other paddings and
    disagreeing shapes.
    """
    canonical = canonical_class(class_name)
    if canonical not in _PRECEDING:
        raise FoldRefused(f"bnlint folds a BatchNormalization into the layer after it only for Dense, "
                          f"Conv1D/2D/3D and DepthwiseConv1D/2D, not {class_name}.")
    padding = str((config or {}).get("padding", "valid")).lower()
    if padding != "valid":
        raise FoldRefused(f"{class_name} uses {padding!r} padding; a BatchNormalization before it folds exactly "
                          f"only with 'valid' padding (the zero border would not be normalised).")
    layout = _LAYOUTS[canonical][1]
    kernel, dtype = _checked_kernel(class_name, canonical, kernel)
    s, t = scale_and_shift(bn)
    w = kernel.astype(np.float64)
    spatial = tuple(range(w.ndim - 2))
    if layout == "depthwise":
        in_channels, multiplier = w.shape[-2], w.shape[-1]
        if s.shape[0] != in_channels:
            raise FoldRefused(f"BatchNormalization has {s.shape[0]} channels but the {class_name} after it "
                              f"takes {in_channels}.")
        scale, shift = s[:, None], t[:, None]
        out_channels = in_channels * multiplier
    else:
        groups = _config_int(config, "groups") or 1
        per_group_in, out_channels = w.shape[-2], w.shape[-1]
        if out_channels % groups:
            raise FoldRefused(f"{class_name} has {out_channels} filters, not a multiple of groups={groups}.")
        if s.shape[0] != per_group_in * groups:
            raise FoldRefused(f"BatchNormalization has {s.shape[0]} channels but the {class_name} after it "
                              f"takes {per_group_in * groups}.")
        # index[i, o]: the input channel that kernel[..., i, o] reads.
        group_of = np.arange(out_channels) // (out_channels // groups)
        index = group_of[None, :] * per_group_in + np.arange(per_group_in)[:, None]
        scale, shift = s[index], t[index]
    b = _bias64(class_name, bias, out_channels)
    new_bias = b + (w * shift).sum(axis=spatial + (w.ndim - 2,) if layout != "depthwise" else spatial).reshape(-1)
    return _stored(w * scale, dtype), _stored(new_bias, dtype)
