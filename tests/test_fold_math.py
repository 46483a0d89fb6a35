"""The numerical core of folding (``bnlint/folding/maths.py``) against real Keras and a numpy reference.

Every case builds a tiny Keras model ``layer -> BatchNormalization`` with random
weights and random BN statistics, runs it in inference mode, folds the BN into a
copy of the layer (same config, ``use_bias=True``) and compares outputs:
``max |delta| <= 1e-5 * max |out|`` in float32 (DESIGN §7: per layer about 1e-5).

Channels_first ``Conv2D``/``Conv2DTranspose`` are checked against a numpy
reference convolution only (DESIGN §9: TF on CPU cannot run them, and Keras's
channels_first bias add misbehaves when the last spatial size equals C). Other
channels_first Keras cases keep every spatial size different from the channel
count for the same reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import ml_dtypes
import numpy as np
import pytest

from bnlint.folding.maths import (
    BatchNormParams,
    FoldRefused,
    fold_into,
    fold_preceding_into,
    output_channel_axis,
    scale_and_shift,
)

TOLERANCE = 1e-5
MAX_ERRORS: dict[str, float] = {}  # layer class -> largest relative error seen (printed with -s)


@pytest.fixture(scope="module", autouse=True)
def _report_max_errors():
    yield
    if MAX_ERRORS:
        print("\nmax |delta| / max |out| by layer class:")
        for name, error in sorted(MAX_ERRORS.items()):
            print(f"  {name:18s} {error:.3e}")


def _record(name: str, error: float) -> None:
    MAX_ERRORS[name] = max(MAX_ERRORS.get(name, 0.0), error)


def _relative_error(expected: np.ndarray, actual: np.ndarray) -> float:
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    return float(np.max(np.abs(expected - actual)) / np.max(np.abs(expected)))


def random_bn(rng: np.random.Generator, channels: int, *, center: bool = True, scale: bool = True,
              epsilon: float = 1e-3) -> BatchNormParams:
    return BatchNormParams(
        gamma=rng.uniform(0.2, 2.0, channels) if scale else None,
        beta=rng.normal(0.0, 0.5, channels) if center else None,
        moving_mean=rng.normal(0.0, 1.0, channels),
        moving_variance=rng.uniform(0.05, 3.0, channels),
        epsilon=epsilon,
    )


# ---------------------------------------------------------------------------
# Keras end-to-end cases
# ---------------------------------------------------------------------------

CF = {"data_format": "channels_first"}

# (id, class, config without use_bias, batch input shape)
KERAS_CASES = [
    ("conv1d", "Conv1D", {"filters": 5, "kernel_size": 3}, (2, 11, 3)),
    ("conv1d-stride2-same", "Conv1D", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 11, 3)),
    ("conv1d-dilation2-causal", "Conv1D",
     {"filters": 5, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"}, (2, 13, 3)),
    ("conv1d-groups2", "Conv1D", {"filters": 6, "kernel_size": 3, "groups": 2}, (2, 11, 4)),
    ("conv1d-cf", "Conv1D", dict(filters=5, kernel_size=3, **CF), (2, 3, 11)),
    ("conv1d-cf-stride2", "Conv1D", dict(filters=5, kernel_size=3, strides=2, **CF), (2, 3, 13)),
    ("conv2d", "Conv2D", {"filters": 5, "kernel_size": 3}, (2, 9, 8, 3)),
    ("conv2d-stride2-same", "Conv2D", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 8, 3)),
    ("conv2d-dilation2", "Conv2D", {"filters": 5, "kernel_size": 3, "dilation_rate": 2}, (2, 9, 10, 3)),
    ("conv2d-groups3", "Conv2D", {"filters": 9, "kernel_size": 3, "groups": 3}, (2, 7, 8, 6)),
    ("conv3d", "Conv3D", {"filters": 4, "kernel_size": 2}, (2, 5, 6, 7, 3)),
    ("conv3d-stride2-same", "Conv3D",
     {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 5, 6, 7, 3)),
    ("conv3d-dilation2", "Conv3D", {"filters": 4, "kernel_size": 2, "dilation_rate": 2}, (2, 5, 6, 7, 3)),
    ("conv3d-cf", "Conv3D", dict(filters=4, kernel_size=2, **CF), (2, 3, 6, 7, 9)),
    ("dwconv1d-m1", "DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 1}, (2, 11, 4)),
    ("dwconv1d-m3", "DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 3}, (2, 11, 4)),
    ("dwconv1d-m3-cf", "DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=3, **CF), (2, 4, 11)),
    ("dwconv2d-m1", "DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 1}, (2, 9, 8, 4)),
    ("dwconv2d-m3", "DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 3}, (2, 9, 8, 4)),
    ("dwconv2d-m3-stride2-same", "DepthwiseConv2D",
     {"kernel_size": 3, "depth_multiplier": 3, "strides": 2, "padding": "same"}, (2, 9, 8, 4)),
    ("sepconv1d-m1", "SeparableConv1D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 1}, (2, 11, 3)),
    ("sepconv1d-m3", "SeparableConv1D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 3}, (2, 11, 3)),
    ("sepconv1d-m2-cf", "SeparableConv1D", dict(filters=5, kernel_size=3, depth_multiplier=2, **CF), (2, 3, 11)),
    ("sepconv2d-m1", "SeparableConv2D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 1}, (2, 9, 8, 3)),
    ("sepconv2d-m3", "SeparableConv2D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 3}, (2, 9, 8, 3)),
    ("conv1dT", "Conv1DTranspose", {"filters": 5, "kernel_size": 3}, (2, 11, 3)),
    ("conv1dT-stride2", "Conv1DTranspose", {"filters": 5, "kernel_size": 3, "strides": 2}, (2, 11, 3)),
    ("conv1dT-cin=cout", "Conv1DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2}, (2, 11, 4)),
    ("conv1dT-cf", "Conv1DTranspose", dict(filters=5, kernel_size=3, strides=2, **CF), (2, 3, 11)),
    ("conv2dT", "Conv2DTranspose", {"filters": 5, "kernel_size": 3}, (2, 7, 6, 3)),
    ("conv2dT-stride2-same", "Conv2DTranspose",
     {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("conv2dT-cin=cout", "Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2}, (2, 7, 6, 4)),
    ("conv3dT", "Conv3DTranspose", {"filters": 4, "kernel_size": 2, "strides": 2}, (2, 3, 4, 5, 3)),
    ("conv3dT-cf", "Conv3DTranspose", dict(filters=4, kernel_size=2, strides=2, **CF), (2, 3, 5, 6, 7)),
    ("dense-2d", "Dense", {"units": 5}, (4, 7)),
    ("dense-3d", "Dense", {"units": 5}, (2, 6, 7)),
    ("dense-4d", "Dense", {"units": 5}, (2, 3, 6, 7)),
]

# (use_bias, center, scale): every BN combination, each with and without a layer bias.
BIAS_BN_COMBOS = [
    (True, True, True),
    (False, True, True),
    (True, False, False),
    (False, False, False),
    (True, True, False),
    (False, False, True),
]


def _kernel_attribute(class_name: str) -> str:
    return "pointwise_kernel" if class_name.startswith("SeparableConv") else "kernel"


def _run_keras_case(class_name, config, input_shape, use_bias, center, scale, seed):
    rng = np.random.default_rng(seed)
    layer_cls = getattr(keras.layers, class_name)
    layer = layer_cls(**config, use_bias=use_bias)
    bn_axis = 1 if config.get("data_format") == "channels_first" else -1
    bn_layer = keras.layers.BatchNormalization(axis=bn_axis, center=center, scale=scale, epsilon=1e-3)
    inputs = keras.Input(shape=input_shape[1:], batch_size=input_shape[0])
    model = keras.Model(inputs, bn_layer(layer(inputs)))

    layer.set_weights([rng.normal(0.0, 0.5, w.shape).astype("float32") for w in layer.get_weights()])
    channels = bn_layer.moving_mean.shape[0]
    bn = random_bn(rng, channels, center=center, scale=scale, epsilon=1e-3)
    if scale:
        bn_layer.gamma.assign(bn.gamma.astype("float32"))
    if center:
        bn_layer.beta.assign(bn.beta.astype("float32"))
    bn_layer.moving_mean.assign(bn.moving_mean.astype("float32"))
    bn_layer.moving_variance.assign(bn.moving_variance.astype("float32"))

    x = rng.normal(0.0, 1.0, input_shape).astype("float32")
    expected = np.asarray(model(x, training=False))
    # Guard: the BN really did something (inference statistics are far from identity).
    assert _relative_error(expected, np.asarray(layer(x))) > 1e-2

    kernel_name = _kernel_attribute(class_name)
    kernel = np.asarray(getattr(layer, kernel_name))
    bias = np.asarray(layer.bias) if use_bias else None
    new_kernel, new_bias = fold_into(class_name, layer.get_config(), kernel, bias, bn)
    assert new_kernel.dtype == kernel.dtype == np.float32 and new_bias.dtype == np.float32

    folded = layer_cls.from_config({**layer.get_config(), "use_bias": True})
    folded.build(input_shape)
    if class_name.startswith("SeparableConv"):
        folded.depthwise_kernel.assign(np.asarray(layer.depthwise_kernel))
    getattr(folded, kernel_name).assign(new_kernel)
    folded.bias.assign(new_bias)
    actual = np.asarray(folded(x))
    return expected, actual


@pytest.mark.parametrize("use_bias,center,scale", BIAS_BN_COMBOS,
                         ids=[f"bias{int(b)}-center{int(c)}-scale{int(s)}" for b, c, s in BIAS_BN_COMBOS])
@pytest.mark.parametrize("case", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_fold_matches_keras(case, use_bias, center, scale):
    case_id, class_name, config, input_shape = case
    seed = zlib.crc32(f"{case_id}-{use_bias}-{center}-{scale}".encode())
    expected, actual = _run_keras_case(class_name, config, input_shape, use_bias, center, scale, seed)
    assert expected.shape == actual.shape
    error = _relative_error(expected, actual)
    _record(class_name, error)
    assert error <= TOLERANCE, f"{case_id}: relative error {error:.3e}"


# ---------------------------------------------------------------------------
# numpy reference convolutions (independent of Keras)
# ---------------------------------------------------------------------------


def np_conv2d(x_nhwc: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Valid, stride-1 2-D convolution (cross-correlation, as Keras): kernel (kh, kw, Cin, Cout)."""
    kh, kw, _, cout = kernel.shape
    n, h, w, _ = x_nhwc.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1, cout))
    for a in range(kh):
        for b in range(kw):
            out += np.einsum("nhwc,co->nhwo", x_nhwc[:, a:a + h - kh + 1, b:b + w - kw + 1, :], kernel[a, b])
    return out if bias is None else out + bias


def np_conv2d_transpose(x_nhwc: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None,
                        stride: int) -> np.ndarray:
    """Valid 2-D transposed convolution: kernel (kh, kw, Cout, Cin); out[i*s + a] += x[i] @ W[a]."""
    kh, kw, cout, _ = kernel.shape
    n, h, w, _ = x_nhwc.shape
    out = np.zeros((n, (h - 1) * stride + kh, (w - 1) * stride + kw, cout))
    for a in range(kh):
        for b in range(kw):
            contribution = np.einsum("nhwc,oc->nhwo", x_nhwc, kernel[a, b])
            out[:, a:a + (h - 1) * stride + 1:stride, b:b + (w - 1) * stride + 1:stride, :] += contribution
    return out if bias is None else out + bias


def np_batchnorm(z: np.ndarray, bn: BatchNormParams, axis: int) -> np.ndarray:
    """Inference-mode BN straight from the definition (not via scale_and_shift)."""
    shape = [1] * z.ndim
    shape[axis] = -1
    channels = bn.moving_mean.shape[0]
    gamma = np.ones(channels) if bn.gamma is None else bn.gamma
    beta = np.zeros(channels) if bn.beta is None else bn.beta
    normalised = (z - bn.moving_mean.reshape(shape)) / np.sqrt(bn.moving_variance.reshape(shape) + bn.epsilon)
    return gamma.reshape(shape) * normalised + beta.reshape(shape)


def _nchw(x):
    return np.transpose(x, (0, 3, 1, 2))


def _nhwc(x):
    return np.transpose(x, (0, 2, 3, 1))


def test_numpy_references_agree_with_keras():
    """The numpy conv/transposed-conv/BN references are trustworthy: they match Keras channels_last."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 6, 3)).astype("float32")

    conv = keras.layers.Conv2D(5, 3)
    conv.build(x.shape)
    conv.set_weights([rng.normal(size=w.shape).astype("float32") for w in conv.get_weights()])
    reference = np_conv2d(x.astype(np.float64), np.asarray(conv.kernel, np.float64), np.asarray(conv.bias))
    assert _relative_error(reference, conv(x)) < 1e-6

    for stride in (1, 2):
        convt = keras.layers.Conv2DTranspose(5, 3, strides=stride)
        convt.build(x.shape)
        convt.set_weights([rng.normal(size=w.shape).astype("float32") for w in convt.get_weights()])
        reference = np_conv2d_transpose(x.astype(np.float64), np.asarray(convt.kernel, np.float64),
                                        np.asarray(convt.bias), stride)
        assert _relative_error(reference, convt(x)) < 1e-6

    bn = random_bn(rng, 5)
    bn_layer = keras.layers.BatchNormalization(epsilon=bn.epsilon)
    bn_layer.build((None, 5))
    bn_layer.set_weights([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance])
    z = rng.normal(size=(4, 5))
    assert _relative_error(np_batchnorm(z, bn, -1), bn_layer(z.astype("float32"), training=False)) < 1e-6


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("spatial", [(7, 6), (8, 5)], ids=["W!=C", "W==C"])
def test_conv2d_channels_first_numpy_reference(use_bias, spatial):
    """Channels_first Conv2D -> BN(axis=1): the fold is right, computed entirely in numpy (W==C included)."""
    rng = np.random.default_rng(2)
    cin, cout = 3, 5
    x = rng.normal(size=(2, cin, *spatial))  # NCHW; for (8, 5) the output width 3 != C but input W == C
    kernel = rng.normal(size=(3, 3, cin, cout)).astype("float32")  # Keras layout, whatever data_format
    bias = rng.normal(size=cout).astype("float32") if use_bias else None
    bn = random_bn(rng, cout)
    expected = np_batchnorm(_nchw(np_conv2d(_nhwc(x), kernel.astype(np.float64), bias)), bn, axis=1)

    new_kernel, new_bias = fold_into("Conv2D", {"filters": cout, "data_format": "channels_first"},
                                     kernel, bias, bn)
    actual = _nchw(np_conv2d(_nhwc(x), new_kernel.astype(np.float64), new_bias.astype(np.float64)))
    error = _relative_error(expected, actual)
    _record("Conv2D (cf, numpy)", error)
    assert error <= TOLERANCE


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_transpose_numpy_reference(data_format, stride, use_bias):
    """Conv2DTranspose folds on kernel axis -2 (Cout of (kh, kw, Cout, Cin)), checked in numpy."""
    rng = np.random.default_rng(3 + stride)
    cin, cout = 3, 5
    x_nhwc = rng.normal(size=(2, 5, 4, cin))
    kernel = rng.normal(size=(3, 3, cout, cin)).astype("float32")
    bias = rng.normal(size=cout).astype("float32") if use_bias else None
    bn = random_bn(rng, cout)
    z = np_conv2d_transpose(x_nhwc, kernel.astype(np.float64), bias, stride)
    axis = -1
    if data_format == "channels_first":
        z, axis = _nchw(z), 1
    expected = np_batchnorm(z, bn, axis)

    new_kernel, new_bias = fold_into("Conv2DTranspose", {"filters": cout, "data_format": data_format},
                                     kernel, bias, bn)
    actual = np_conv2d_transpose(x_nhwc, new_kernel.astype(np.float64), new_bias.astype(np.float64), stride)
    if data_format == "channels_first":
        actual = _nchw(actual)
    error = _relative_error(expected, actual)
    _record(f"Conv2DTranspose ({'cf' if data_format == 'channels_first' else 'cl'}, numpy)", error)
    assert error <= TOLERANCE


def test_conv_transpose_fold_on_last_axis_is_wrong():
    """Pin the trap: with Cin == Cout the axis -1 fold has the right shapes and the wrong answer."""
    rng = np.random.default_rng(4)
    channels = 4
    x = rng.normal(size=(2, 5, 4, channels))
    kernel = rng.normal(size=(3, 3, channels, channels))
    bias = rng.normal(size=channels)
    bn = random_bn(rng, channels)
    expected = np_batchnorm(np_conv2d_transpose(x, kernel, bias, 2), bn, -1)

    s, _ = scale_and_shift(bn)
    wrong_kernel = kernel * s  # scales Cin (axis -1) instead of Cout (axis -2)
    _, new_bias = fold_into("Conv2DTranspose", {}, kernel, bias, bn)
    wrong = np_conv2d_transpose(x, wrong_kernel, new_bias, 2)
    assert _relative_error(expected, wrong) > 0.05

    right_kernel, _ = fold_into("Conv2DTranspose", {}, kernel, bias, bn)
    assert _relative_error(expected, np_conv2d_transpose(x, right_kernel, new_bias, 2)) <= TOLERANCE
    assert output_channel_axis("Conv2DTranspose") == output_channel_axis("Deconv2D") == -2
    assert output_channel_axis("Conv2D") == output_channel_axis("Dense") == -1


def test_depthwise_channel_order_is_c_times_mult_plus_m():
    rng = np.random.default_rng(5)
    cin, mult = 3, 4
    kernel = rng.normal(size=(3, cin, mult))
    gamma = np.arange(1, cin * mult + 1, dtype=float)  # s = gamma: channel k is scaled by k + 1
    bn = BatchNormParams(gamma, None, np.zeros(cin * mult), np.ones(cin * mult), 0.0)
    new_kernel, _ = fold_into("DepthwiseConv1D", {"depth_multiplier": mult}, kernel, None, bn)
    for c in range(cin):
        for m in range(mult):
            np.testing.assert_allclose(new_kernel[:, c, m], kernel[:, c, m] * (c * mult + m + 1))


# ---------------------------------------------------------------------------
# scale_and_shift, dtypes, refusals, import cost
# ---------------------------------------------------------------------------


def test_scale_and_shift_defaults_and_float64():
    mean = np.array([1.0, -2.0], dtype=np.float32)
    var = np.array([3.0, 0.5], dtype=np.float32)
    s, t = scale_and_shift(BatchNormParams(None, None, mean, var, 1e-3))
    assert s.dtype == t.dtype == np.float64
    np.testing.assert_allclose(s, 1.0 / np.sqrt(var.astype(np.float64) + 1e-3))
    np.testing.assert_allclose(t, -mean * s)
    gamma, beta = np.array([2.0, 0.5]), np.array([0.1, -0.3])
    s2, t2 = scale_and_shift(BatchNormParams(gamma, beta, mean, var, 1e-3))
    np.testing.assert_allclose(s2, gamma * s)
    np.testing.assert_allclose(t2, beta - mean * s2)


@pytest.mark.parametrize("dtype,rtol", [
    (np.float64, 1e-12), (np.float32, 1e-6), (np.float16, 2e-3), (ml_dtypes.bfloat16, 1.6e-2),
], ids=["float64", "float32", "float16", "bfloat16"])
@pytest.mark.parametrize("class_name,kernel_shape", [
    ("Conv2D", (3, 3, 2, 6)), ("DepthwiseConv2D", (3, 3, 2, 3)), ("Conv2DTranspose", (3, 3, 6, 2)),
    ("Dense", (4, 6)), ("SeparableConv1D", (1, 4, 6)),
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_result_dtype_is_kernel_dtype(dtype, rtol, class_name, kernel_shape, with_bias):
    rng = np.random.default_rng(6)
    kernel = rng.normal(size=kernel_shape).astype(dtype)
    bias = rng.normal(size=6).astype(dtype) if with_bias else None
    bn = random_bn(rng, 6)
    new_kernel, new_bias = fold_into(class_name, {}, kernel, bias, bn)
    assert new_kernel.dtype == np.dtype(dtype) and new_bias.dtype == np.dtype(dtype)
    assert new_kernel.shape == kernel.shape and new_bias.shape == (6,)
    # The same fold in float64 from the same (rounded) inputs, then compared at the dtype's precision.
    ref_kernel, ref_bias = fold_into(class_name, {}, kernel.astype(np.float64),
                                     None if bias is None else bias.astype(np.float64), bn)
    np.testing.assert_allclose(new_kernel.astype(np.float64), ref_kernel, rtol=rtol, atol=0)
    np.testing.assert_allclose(new_bias.astype(np.float64), ref_bias, rtol=rtol, atol=rtol * np.abs(ref_bias).max())


def test_legacy_aliases_fold_like_canonical_classes():
    rng = np.random.default_rng(7)
    bn = random_bn(rng, 4)
    kernel = rng.normal(size=(3, 3, 4, 4)).astype("float32")
    assert np.array_equal(fold_into("Convolution2D", {}, kernel, None, bn)[0],
                          fold_into("Conv2D", {}, kernel, None, bn)[0])
    assert np.array_equal(fold_into("Deconvolution2D", {}, kernel, None, bn)[0],
                          fold_into("Conv2DTranspose", {}, kernel, None, bn)[0])


@pytest.mark.parametrize("class_name,config,kernel_shape,bias_shape,channels,match", [
    ("LSTM", {}, (4, 16), None, 16, "cannot fold"),
    ("BatchNormalization", {}, (4,), None, 4, "cannot fold"),
    ("Conv2D", {}, (3, 3, 2, 6), None, 5, "5 channels"),
    ("Conv2DTranspose", {}, (3, 3, 6, 2), None, 2, "2 channels"),  # Cin, not Cout
    ("DepthwiseConv2D", {}, (3, 3, 2, 3), None, 3, "3 channels"),  # needs Cin*mult = 6
    ("Dense", {}, (4, 6), (5,), 6, "bias"),
    ("Dense", {"units": 7}, (4, 6), None, 6, "units=7"),
    ("Conv2D", {"filters": 8}, (3, 3, 2, 6), None, 6, "filters=8"),
    ("DepthwiseConv2D", {"depth_multiplier": 2}, (3, 3, 2, 3), None, 6, "depth_multiplier"),
    ("SeparableConv2D", {}, (3, 3, 2, 6), None, 6, "pointwise"),
    ("Conv2D", {}, (3, 2, 6), None, 6, "rank"),
])
def test_refusals(class_name, config, kernel_shape, bias_shape, channels, match):
    rng = np.random.default_rng(8)
    kernel = rng.normal(size=kernel_shape).astype("float32")
    bias = None if bias_shape is None else np.zeros(bias_shape, "float32")
    with pytest.raises(FoldRefused, match=match) as info:
        fold_into(class_name, config, kernel, bias, random_bn(rng, channels))
    assert info.value.reason == str(info.value)


def test_refuses_integer_kernel_and_nonpositive_variance():
    rng = np.random.default_rng(9)
    with pytest.raises(FoldRefused, match="floating"):
        fold_into("Dense", {}, np.ones((3, 4), np.int8), None, random_bn(rng, 4))
    bad = BatchNormParams(None, None, np.zeros(4), np.array([1.0, -1.0, 1.0, 1.0]), 1e-3)
    with pytest.raises(FoldRefused, match="positive"):
        fold_into("Dense", {}, np.ones((3, 4), np.float32), None, bad)


@pytest.mark.parametrize("fold", [fold_into, fold_preceding_into])
def test_a_fold_whose_weights_overflow_a_float16_layer_is_refused(fold):
    # variance + epsilon = 2e-10 scales the kernel by 1/sqrt(2e-10) = 7.07e4: 4 * 7.07e4 > float16's 65504
    kernel = np.full((4, 4), 4.0, np.float16)
    bn = BatchNormParams(None, None, np.zeros(4), np.full(4, 1e-10), 1e-10)
    with pytest.raises(FoldRefused, match=r"overflow float16 \(largest magnitude 2\.83e\+05\)"):
        fold("Dense", {}, kernel, None, bn)
    # the same fold fits a float32 layer, and a float16 one once the scale is small
    assert np.isfinite(fold("Dense", {}, kernel.astype(np.float32), None, bn)[0]).all()
    small = BatchNormParams(None, None, np.zeros(4), np.ones(4), 1e-3)
    assert fold("Dense", {}, kernel, None, small)[0].dtype == np.float16


def test_fold_module_never_imports_tensorflow_or_keras():
    code = ("import sys, bnlint.folding.maths; "
            "bad = [m for m in ('tensorflow', 'keras', 'tf_keras', 'jax', 'torch') if m in sys.modules]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
