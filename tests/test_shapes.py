"""bnlint.readers.shapes against real Keras 3.15.

Every rule in shapes.py is checked by building the real layer and calling it on
``keras.KerasTensor`` inputs (symbolic: no data runs, so channels_first works
on CPU) for many seeded random configs. Where Keras raises, bnlint must say
UNKNOWN. Keras is required: a missing install is a failure, not a skip.
"""

import os
import random
import subprocess
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras
import pytest

from bnlint.graph import UNKNOWN
from bnlint.readers.shapes import Operand, op_output_shape, output_shape

ERROR = "keras raised"
N = 40  # random configs per class


def keras_shape(class_name, config, input_shapes, merge=False):
    """The shape real Keras gives, or ERROR if it refuses the config or the inputs."""
    try:
        layer = getattr(keras.layers, class_name)(**config)
        tensors = [keras.KerasTensor(shape) for shape in input_shapes]
        return tuple(layer(tensors if merge else tensors[0]).shape)
    except Exception:  # noqa: BLE001 - any refusal counts
        return ERROR


_RESULTS = []  # what Keras answered in the current test


@pytest.fixture(autouse=True)
def _not_vacuous():
    """A test whose Keras calls all fail (a misspelt argument, say) would pass
    vacuously, since bnlint must answer UNKNOWN wherever Keras refuses."""
    _RESULTS.clear()
    yield
    if _RESULTS:
        assert sum(r != ERROR for r in _RESULTS) >= len(_RESULTS) / 3, "Keras refused most cases"


def check(class_name, config, input_shapes, merge=False):
    """bnlint agrees with Keras: the same shape, or UNKNOWN where Keras refuses."""
    expected = keras_shape(class_name, config, input_shapes, merge)
    _RESULTS.append(expected)
    got = output_shape(class_name, dict(config), list(input_shapes))
    if expected == ERROR:
        assert got is UNKNOWN, (class_name, config, input_shapes, got)
    else:
        assert got == expected, (class_name, config, input_shapes)
    return expected


def ints(rng, rank, low, high):
    """An int or a tuple of *rank* ints, as users write them."""
    if rng.random() < 0.5:
        return rng.randint(low, high)
    return tuple(rng.randint(low, high) for _ in range(rank))


def image(rng, rank, channels_first, channels=None, low=1, high=13):
    """A batched input shape with random (sometimes None) spatial sizes."""
    spatial = [None if rng.random() < 0.15 else rng.randint(low, high) for _ in range(rank)]
    c = channels or rng.randint(1, 4)
    batch = rng.choice([None, 2])
    return (batch, c, *spatial) if channels_first else (batch, *spatial, c)


def padding(rng, options=("valid", "same")):
    value = rng.choice(options)
    return rng.choice([value, value.upper()]) if value != "causal" else value


# ---------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------

CONVS = [("Conv1D", 1), ("Conv2D", 2), ("Conv3D", 3), ("SeparableConv1D", 1),
         ("SeparableConv2D", 2), ("DepthwiseConv1D", 1), ("DepthwiseConv2D", 2)]


@pytest.mark.parametrize("class_name,rank", CONVS)
def test_convolutions(class_name, rank):
    rng = random.Random(class_name)
    outcomes = set()
    for _ in range(N):
        first = rng.random() < 0.4
        config = {"kernel_size": ints(rng, rank, 1, 4), "data_format":
                  "channels_first" if first else "channels_last"}
        if rng.random() < 0.7:
            config["strides"] = ints(rng, rank, 1, 3)
        if rng.random() < 0.4:
            config["dilation_rate"] = ints(rng, rank, 1, 3)  # Keras refuses it with strides > 1
        if rng.random() < 0.8:
            causal = ("causal",) if class_name == "Conv1D" else ()
            config["padding"] = padding(rng, ("valid", "same") + causal)
        if class_name.startswith("Depthwise"):
            config["depth_multiplier"] = rng.randint(1, 3)
        else:
            config["filters"] = rng.randint(1, 5)
        outcomes.add(check(class_name, config, [image(rng, rank, first)]) == ERROR)
    assert outcomes == {True, False}  # both valid configs and ones Keras refuses were drawn


@pytest.mark.parametrize("class_name,rank", [("Conv1DTranspose", 1), ("Conv2DTranspose", 2),
                                             ("Conv3DTranspose", 3)])
def test_transposed_convolutions(class_name, rank):
    rng = random.Random(class_name)
    for _ in range(N):
        first = rng.random() < 0.4
        config = {"filters": rng.randint(1, 5), "kernel_size": ints(rng, rank, 1, 5),
                  "strides": ints(rng, rank, 1, 3), "padding": padding(rng),
                  "data_format": "channels_first" if first else "channels_last"}
        if rng.random() < 0.25:
            config["dilation_rate"] = ints(rng, rank, 1, 2)
        if rng.random() < 0.5:
            config["output_padding"] = ints(rng, rank, 0, 2)  # >= strides is refused
        check(class_name, config, [image(rng, rank, first)])


# ---------------------------------------------------------------------------
# Pooling, padding, cropping, upsampling
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["MaxPooling", "AveragePooling"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pooling(kind, rank):
    rng = random.Random(f"{kind}{rank}")
    for _ in range(N):
        first = rng.random() < 0.4
        config = {"data_format": "channels_first" if first else "channels_last"}
        if rng.random() < 0.8 or kind == "AveragePooling":  # required there in Keras 3
            config["pool_size"] = ints(rng, rank, 1, 4)
        if rng.random() < 0.6:
            config["strides"] = rng.choice([None, ints(rng, rank, 1, 3)])
        if rng.random() < 0.7:
            config["padding"] = rng.choice(["valid", "same"])  # Keras 3.15 pooling: lower case only
        check(f"{kind}{rank}D", config, [image(rng, rank, first)])


@pytest.mark.parametrize("kind", ["GlobalMaxPooling", "GlobalAveragePooling",
                                  "AdaptiveMaxPooling", "AdaptiveAveragePooling"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_global_and_adaptive_pooling(kind, rank):
    rng = random.Random(f"{kind}{rank}")
    for _ in range(N // 4):
        first = rng.random() < 0.5
        config = {"data_format": "channels_first" if first else "channels_last"}
        if kind.startswith("Global"):
            if rng.random() < 0.7:
                config["keepdims"] = rng.random() < 0.5
        else:
            config["output_size"] = ints(rng, rank, 1, 4)
        check(f"{kind}{rank}D", config, [image(rng, rank, first)])


def pairs(rng, rank):
    """ZeroPadding / Cropping amounts in every form Keras accepts."""
    form = rng.randrange(3)
    if form == 0:
        return rng.randint(0, 3)
    if rank == 1:
        return (rng.randint(0, 3), rng.randint(0, 3))
    if form == 1:
        return tuple(rng.randint(0, 3) for _ in range(rank))
    return tuple((rng.randint(0, 3), rng.randint(0, 3)) for _ in range(rank))


@pytest.mark.parametrize("kind", ["ZeroPadding", "Cropping", "UpSampling"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_padding_cropping_upsampling(kind, rank):
    rng = random.Random(f"{kind}{rank}")
    has_format = rank > 1 or kind == "ZeroPadding"  # Cropping1D, UpSampling1D have none
    for _ in range(N // 2):
        first = has_format and rng.random() < 0.5
        config = {"data_format": "channels_first" if first else "channels_last"} if has_format else {}
        if rng.random() < 0.8:  # else the Keras default, which differs by class and rank
            key = {"ZeroPadding": "padding", "Cropping": "cropping", "UpSampling": "size"}[kind]
            if kind == "UpSampling":  # UpSampling1D takes an int only
                config[key] = rng.randint(1, 3) if rank == 1 else ints(rng, rank, 1, 3)
            else:
                config[key] = pairs(rng, rank)
        check(f"{kind}{rank}D", config, [image(rng, rank, first)])


@pytest.mark.parametrize("class_name", ["Resizing", "CenterCrop", "RandomCrop"])
def test_resizing_layers(class_name):
    rng = random.Random(class_name)
    for _ in range(N // 4):
        first = rng.random() < 0.5
        shape = image(rng, 2, first, high=40)
        shape = shape if rng.random() < 0.5 else shape[1:]  # unbatched images too
        config = {"height": rng.randint(1, 9), "width": rng.randint(1, 9),
                  "data_format": "channels_first" if first else "channels_last"}
        check(class_name, config, [shape])


# ---------------------------------------------------------------------------
# Dense, embeddings, reshaping, recurrent, same-shape layers
# ---------------------------------------------------------------------------

def test_dense_embedding_and_recurrent():
    rng = random.Random("dense")
    for _ in range(N):
        shape = (rng.choice([None, 3]),) + tuple(rng.choice([None, 2, 5]) for _ in range(rng.randint(0, 3)))
        check("Dense", {"units": rng.randint(1, 9)}, [shape + (rng.randint(1, 6),)])
        check("Embedding", {"input_dim": 10, "output_dim": rng.randint(1, 9)}, [shape])
    for class_name in ("SimpleRNN", "GRU", "LSTM"):
        for sequences in (False, True):
            check(class_name, {"units": 7, "return_sequences": sequences}, [(None, 5, 3)])
            check(class_name, {"units": 4, "return_sequences": sequences}, [(2, None, 6)])


def test_flatten_reshape_permute_repeat():
    rng = random.Random("reshape")
    for _ in range(N):
        shape = (None,) + tuple(rng.choice([None, 1, 2, 3, 4, 6]) for _ in range(rng.randint(1, 4)))
        check("Flatten", {}, [shape])
        target = [rng.choice([1, 2, 3, 4, 6, 12]) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.6:
            target[rng.randrange(len(target))] = -1
        check("Reshape", {"target_shape": tuple(target)}, [shape])  # incl. sizes that do not fit
        dims = list(range(1, len(shape)))
        rng.shuffle(dims)
        check("Permute", {"dims": tuple(dims)}, [shape])
    check("Flatten", {}, [(None,)])
    check("RepeatVector", {"n": 3}, [(None, 5)])
    check("RepeatVector", {"n": 3}, [(None, 5, 2)])  # refused: 2D input only


SAME_SHAPE = [
    ("BatchNormalization", {}), ("BatchNormalization", {"axis": 1}), ("LayerNormalization", {}),
    ("GroupNormalization", {"groups": 2}), ("UnitNormalization", {}), ("RMSNormalization", {}),
    ("Activation", {"activation": "relu"}), ("ReLU", {}), ("LeakyReLU", {}), ("PReLU", {}),
    ("ELU", {}), ("Softmax", {}), ("Dropout", {"rate": 0.5}), ("SpatialDropout2D", {"rate": 0.2}),
    ("GaussianDropout", {"rate": 0.1}), ("AlphaDropout", {"rate": 0.1}),
    ("GaussianNoise", {"stddev": 0.1}), ("ActivityRegularization", {}), ("Masking", {}),
    ("Identity", {}), ("Rescaling", {"scale": 1 / 255}), ("Normalization", {}),
    ("RandomFlip", {}), ("RandomRotation", {"factor": 0.1}),
    ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}),
    ("RandomZoom", {"height_factor": 0.1}), ("RandomContrast", {"factor": 0.1}),
    ("RandomBrightness", {"factor": 0.1}), ("RandomShear", {"x_factor": 0.1}),
]


@pytest.mark.parametrize("class_name,config", SAME_SHAPE, ids=[c for c, _ in SAME_SHAPE])
def test_same_shape_layers(class_name, config):
    for shape in [(None, 8, 6, 4), (2, 3, 5, 4)]:  # BN/PReLU weights need known sizes
        assert check(class_name, config, [shape]) == shape


# ---------------------------------------------------------------------------
# Merges
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("class_name", ["Add", "Subtract", "Multiply", "Average", "Maximum",
                                        "Minimum"])
def test_elementwise_merges_broadcast_like_keras(class_name):
    rng = random.Random(class_name)
    for _ in range(N):
        base = [rng.choice([2, 3, 5]) for _ in range(rng.randint(1, 3))]
        shapes = []
        for _ in range(2 if class_name == "Subtract" else rng.randint(2, 3)):
            dims = [rng.choice([d, d, 1, None, 4]) for d in base]  # 4 may clash
            dims = dims[rng.randint(0, len(dims) - 1):] if rng.random() < 0.3 else dims
            shapes.append((rng.choice([None, None, 2, 3]), *dims))  # clashing batches too
        check(class_name, {}, shapes, merge=True)
    check(class_name, {}, [(None, 4)] * 3, merge=True)  # Subtract: exactly two inputs


def test_concatenate():
    rng = random.Random("concat")
    for _ in range(N * 2):
        rank = rng.randint(2, 4)
        base = [None] + [rng.choice([None, 2, 3]) for _ in range(rank - 1)]
        axis = rng.choice([-1, -2, 1, rank - 1, rank])  # rank: out of range
        shapes = []
        for _ in range(rng.randint(1, 3)):
            dims = list(base)
            dims[axis % rank] = rng.choice([None, 1, 4, 5])
            if rng.random() < 0.2:
                dims[rng.randrange(1, rank)] = rng.choice([None, 7])  # clash off the axis?
            shapes.append(tuple(dims))
        config = {} if axis == -1 and rng.random() < 0.5 else {"axis": axis}
        check("Concatenate", config, shapes, merge=True)


# ---------------------------------------------------------------------------
# Inputs and whole chains
# ---------------------------------------------------------------------------

def test_inputs():
    for shape, batch_size in [((224, 224, 3), None), ((None, 7), 4), ((5,), None), ((), None)]:
        expected = tuple(keras.Input(shape=shape, batch_size=batch_size).shape)
        config = {"shape": shape} if batch_size is None else {"shape": shape, "batch_size": batch_size}
        assert output_shape("Input", config, []) == expected
        assert output_shape("InputLayer", {"batch_shape": expected}, []) == expected
    legacy = {"batch_input_shape": (None, 3)}  # tf.keras spelling
    assert output_shape("InputLayer", legacy, []) == (None, 3)


def test_resnet_stem_and_densenet_transition_chain():
    """Shapes threaded through a chain agree with a real functional model."""
    chain = [("ZeroPadding2D", {"padding": 3}), ("Conv2D", {"filters": 64, "kernel_size": 7,
             "strides": 2}), ("BatchNormalization", {"axis": 3}), ("Activation", {"activation":
             "relu"}), ("ZeroPadding2D", {"padding": ((1, 1), (1, 1))}), ("MaxPooling2D",
             {"pool_size": 3, "strides": 2}), ("Conv2D", {"filters": 32, "kernel_size": 1}),
             ("AveragePooling2D", {"pool_size": 2}), ("GlobalAveragePooling2D", {}),
             ("Dense", {"units": 10})]
    x = keras.Input(shape=(224, 224, 3))
    shape = output_shape("Input", {"shape": (224, 224, 3)}, [])
    for class_name, config in chain:
        x = getattr(keras.layers, class_name)(**config)(x)
        shape = output_shape(class_name, config, [shape])
        assert shape == tuple(x.shape), class_name
    assert shape == (None, 10)


# ---------------------------------------------------------------------------
# UNKNOWN handling, leniency, robustness, import cost
# ---------------------------------------------------------------------------

def test_unknown_values_blank_only_the_dims_they_affect():
    conv = {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "valid"}
    assert output_shape("Conv2D", conv, [(None, 9, 9, 3)]) == (None, 4, 4, 8)
    assert output_shape("Conv2D", {**conv, "filters": UNKNOWN}, [(None, 9, 9, 3)]) == (None, 4, 4, None)
    assert output_shape("Conv2D", {**conv, "kernel_size": (3, UNKNOWN)}, [(None, 9, 9, 3)]) == (None, 4, None, 8)
    assert output_shape("Conv2D", {**conv, "padding": "same", "kernel_size": UNKNOWN},
                        [(None, 9, 9, 3)]) == (None, 5, 5, 8)  # "same" needs no kernel size
    assert output_shape("Conv2D", {**conv, "data_format": UNKNOWN}, [(None, 9, 9, 3)]) == (None,) * 4
    assert output_shape("Conv2D", conv, [(None, UNKNOWN, 9, 3)]) == (None, None, 4, 8)
    # An input of unknown rank: Conv2D takes rank 4 only, so its channels are known; Dense takes any rank.
    assert output_shape("Conv2D", conv, [UNKNOWN]) == (None, None, None, 8)
    assert output_shape("MaxPooling2D", {}, [UNKNOWN]) == (None, None, None, None)
    assert output_shape("Dense", {"units": 3}, [UNKNOWN]) is UNKNOWN
    assert output_shape("BatchNormalization", {}, [UNKNOWN]) is UNKNOWN
    assert output_shape("Add", {}, [UNKNOWN, UNKNOWN]) is UNKNOWN
    assert output_shape("Dense", {"units": UNKNOWN}, [(None, 5)]) == (None, None)
    assert output_shape("Reshape", {"target_shape": UNKNOWN}, [(None, 6)]) is UNKNOWN
    assert output_shape("Reshape", {"target_shape": (UNKNOWN, 2)}, [(None, 6)]) == (None, None, 2)
    assert output_shape("GlobalAveragePooling2D", {"keepdims": UNKNOWN}, [(None, 4, 4, 3)]) is UNKNOWN
    assert output_shape("Add", {}, [(None, 4), UNKNOWN]) is UNKNOWN
    assert output_shape("Concatenate", {"axis": -1}, [(None, 4, 3), (None, 4, None)]) == (None, 4, None)
    assert output_shape("Lambda", {}, [(None, 4)]) is UNKNOWN
    assert output_shape("MyCustomBlock", {}, [(None, 4)]) is UNKNOWN
    assert output_shape("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 4},
                        [(None, 4)]) is UNKNOWN


CONFIGS = [
    ("Conv2D", {"filters": 8, "kernel_size": (3, 5), "strides": (2, 1), "padding": "valid"}, [(None, 17, 11, 3)]),
    ("Conv1D", {"filters": 8, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"}, [(None, 17, 3)]),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2, "output_padding": 1,
                         "padding": "same", "data_format": "channels_first"}, [(None, 3, 7, 6)]),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, [(None, 8, 8, 3)]),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "valid"}, [(None, 15, 15, 3)]),
    ("Cropping2D", {"cropping": ((1, 2), (0, 3))}, [(None, 15, 15, 3)]),
    ("UpSampling2D", {"size": (2, 3), "data_format": "channels_first"}, [(None, 3, 5, 5)]),
    ("Reshape", {"target_shape": (-1, 4)}, [(None, 6, 2)]),
    ("Permute", {"dims": (2, 1)}, [(None, 6, 2)]),
    ("Concatenate", {"axis": 1}, [(None, 6, 2), (None, 3, 2)]),
]


@pytest.mark.parametrize("class_name,config,shapes", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_any_unknown_argument_only_loses_information(class_name, config, shapes):
    """Replacing any argument (or tuple element) by UNKNOWN gives the same shape with
    some dims None -- never a different size, never a crash."""
    full = check(class_name, config, shapes, merge=class_name == "Concatenate")
    config = {"data_format": "channels_last", **config}
    variants = []
    for key, value in config.items():
        variants.append({**config, key: UNKNOWN})
        if isinstance(value, tuple):
            for i in range(len(value)):
                variants.append({**config, key: value[:i] + (UNKNOWN,) + value[i + 1:]})
    for variant in variants:
        got = output_shape(class_name, variant, shapes)
        if got is UNKNOWN:
            assert class_name == "Reshape", variant  # target_shape decides the rank
            continue
        assert len(got) == len(full), variant
        assert all(g is None or g == f for g, f in zip(got, full)), (variant, got, full)


def test_leniency_beyond_keras_3():
    # Keras 3.15 pooling layers reject "SAME" (their docstring says case-insensitive).
    assert keras_shape("MaxPooling2D", {"padding": "SAME"}, [(None, 7, 7, 3)]) == ERROR
    assert output_shape("MaxPooling2D", {"padding": "SAME"}, [(None, 7, 7, 3)]) == (None, 4, 4, 3)
    # tf.keras allowed causal padding in SeparableConv1D; its shape is that of "same".
    assert output_shape("SeparableConv1D", {"filters": 4, "kernel_size": 3, "padding": "causal"},
                        [(None, 10, 3)]) == (None, 10, 4)
    # tf.keras gave AveragePooling a default pool_size of 2; Keras 3 requires one.
    assert keras_shape("AveragePooling2D", {}, [(None, 8, 8, 3)]) == ERROR
    assert output_shape("AveragePooling2D", {}, [(None, 8, 8, 3)]) == (None, 4, 4, 3)
    # Keras cannot build a conv on unknown channels, but the output channels are known.
    assert output_shape("Conv2D", {"filters": 4, "kernel_size": 3}, [(None, 8, 8, None)]) == (None, 6, 6, 4)
    assert output_shape("DepthwiseConv2D", {"kernel_size": 3}, [(None, 8, 8, None)]) == (None, 6, 6, None)


def test_legacy_spellings_use_the_canonical_rule():
    assert output_shape("Convolution2D", {"filters": 4, "kernel_size": 3}, [(None, 8, 8, 3)]) == (None, 6, 6, 4)
    assert output_shape("MaxPool2D", {}, [(None, 8, 8, 3)]) == (None, 4, 4, 3)
    assert output_shape("GlobalAvgPool2D", {}, [(None, 8, 8, 3)]) == (None, 3)


# ---------------------------------------------------------------------------
# keras.ops functions on tensors
# ---------------------------------------------------------------------------

def check_op(name, args, kwargs=None):
    """``keras.ops.<name>`` on KerasTensors (shapes in *args* given as lists) against op_output_shape."""
    kwargs = kwargs or {}

    def real(value):
        return keras.KerasTensor(tuple(value)) if isinstance(value, list) else (
            [real(v) for v in value] if isinstance(value, tuple) and value and isinstance(value[0], list) else value)

    def ours(value):
        return Operand(tuple(value)) if isinstance(value, list) else (
            [ours(v) for v in value] if isinstance(value, tuple) and value and isinstance(value[0], list) else value)

    try:
        expected = tuple(getattr(keras.ops, name)(*[real(a) for a in args],
                                                 **{k: real(v) for k, v in kwargs.items()}).shape)
    except Exception:  # noqa: BLE001 - any refusal counts
        expected = ERROR
    _RESULTS.append(expected)
    got = op_output_shape(name, [ours(a) for a in args], {k: ours(v) for k, v in kwargs.items()})
    if expected == ERROR:
        assert got is UNKNOWN, (name, args, kwargs, got)
    else:
        assert got == expected, (name, args, kwargs)


def random_shape(rng, rank):
    return [rng.choice([None, 1, 2, 3]) for _ in range(rank)]


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power"])
def test_elementwise_ops_broadcast_like_keras_ops(name):
    rng = random.Random(name)
    for _ in range(N):
        a = random_shape(rng, rng.randint(0, 4))
        b = [rng.choice([d, d, 1, None, 3]) for d in a][rng.randint(0, len(a)):] if rng.random() < 0.8 else []
        operands = [a, b if rng.random() < 0.8 else rng.choice([2, 0.5])]
        rng.shuffle(operands)
        check_op(name, operands)


@pytest.mark.parametrize("name", ["mean", "sum", "max", "min", "prod", "var", "std", "logsumexp"])
def test_reductions(name):
    rng = random.Random(name)
    for _ in range(N):
        rank = rng.randint(1, 4)
        axis = rng.choice([None, rng.randint(-rank, rank - 1),
                           tuple(rng.sample(range(-rank, rank), rng.randint(1, rank))), rank])
        axis = axis if not isinstance(axis, tuple) or len({a % rank for a in axis}) == len(axis) else axis[:1]
        kwargs = {"axis": axis} if rng.random() < 0.7 else {}
        if rng.random() < 0.5:
            kwargs["keepdims"] = rng.random() < 0.5
        check_op(name, [random_shape(rng, rank)], kwargs)


def test_reshaping_ops():
    rng = random.Random("reshape")
    for _ in range(N * 2):
        rank = rng.randint(1, 4)
        x = [rng.choice([None, 2, 3, 4]) for _ in range(rank)]
        kind = rng.choice(["reshape", "expand_dims", "squeeze", "transpose", "concatenate"])
        if kind == "reshape":
            target = rng.choice([(-1,), (-1, 4), (2, -1, 3), (24,), (5, -1), (4, 6), (-1, -1)])
            check_op("reshape", [rng.choice([x, [None, 2, 3, 4], [2, 3, 4]]), target])
        elif kind == "expand_dims":
            check_op("expand_dims", [x, rng.choice([0, -1, rank, rank + 1, -rank - 1, (0, 2)])])
        elif kind == "squeeze":
            x = [rng.choice([None, 1, 1, 3]) for _ in range(rank)]
            check_op("squeeze", [x], {"axis": rng.choice([0, -1, (0,), (0, -1)])} if rng.random() < 0.8 else {})
        elif kind == "transpose":
            axes = rng.sample(range(rank), rank) if rng.random() < 0.8 else rng.choice([None, [0] * rank])
            check_op("transpose", [x], {"axes": None if axes is None else tuple(axes)})
        else:
            axis = rng.randint(-rank, rank)
            xs = tuple([rng.choice([d, d, None, 5]) for d in x] for _ in range(rng.randint(1, 3)))
            check_op("concatenate", [xs], {"axis": axis} if rng.random() < 0.8 else {})
    check_op("softmax", [[None, 8, 3]], {"axis": 1})
    check_op("clip", [[None, 8, 3], 0.0, 6.0])


GARBAGE = [None, UNKNOWN, -1, 0, 2.5, "x", True, (), (1,), ((1, 2, 3),), [UNKNOWN], {"a": 1}, object()]


def test_never_raises():
    from bnlint.readers import shapes

    rng = random.Random("garbage")
    keys = ["filters", "kernel_size", "strides", "padding", "dilation_rate", "data_format",
            "output_padding", "pool_size", "keepdims", "cropping", "size", "units", "target_shape",
            "dims", "n", "axis", "shape", "batch_shape", "depth_multiplier", "output_dim",
            "return_sequences", "height", "width", "output_size"]
    inputs = [(None, 8, 8, 3), (None, 8, 3), (None, 8, 8, 8, 3), (None, 3), UNKNOWN, (), None,
              (None, -1, 3), (None, "a")]
    for class_name in sorted(shapes._TABLE):
        for _ in range(30):
            config = {k: rng.choice(GARBAGE) for k in rng.sample(keys, rng.randint(0, 4))}
            shapes_in = [rng.choice(inputs) for _ in range(rng.randint(0, 3))]
            got = output_shape(class_name, config, shapes_in)
            assert got is UNKNOWN or (isinstance(got, tuple) and all(
                d is None or (isinstance(d, int) and d >= 0) for d in got)), (class_name, config, got)
    assert output_shape("Conv2D", None, [(None, 8, 8, 3)]) is UNKNOWN
    # strides=None means pool_size for pooling only; Keras refuses it for a conv.
    assert keras_shape("Conv2D", {"filters": 2, "kernel_size": 3, "strides": None}, [(None, 9, 9, 1)]) == ERROR
    assert output_shape("Conv2D", {"filters": 2, "kernel_size": 3, "strides": None}, [(None, 9, 9, 1)]) is UNKNOWN
    assert output_shape(None, {}, []) is UNKNOWN
    for name in sorted(shapes._OPS):
        for _ in range(30):
            args = [rng.choice([*GARBAGE, Operand(rng.choice(inputs))]) for _ in range(rng.randint(0, 3))]
            got = op_output_shape(name, args, {k: rng.choice(GARBAGE) for k in rng.sample(keys, rng.randint(0, 2))})
            assert got is UNKNOWN or (isinstance(got, tuple) and all(
                d is None or (isinstance(d, int) and d >= 0) for d in got)), (name, args, got)


def test_importing_shapes_imports_no_tensorflow_or_keras():
    code = ("import sys, bnlint.readers.shapes\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'tf_keras', 'jax', 'torch', 'numpy'))\n"
            "print(heavy)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
