"""Checks bnlint.kinds against a real Keras 3.15 / TensorFlow install.

kinds.py is hand-written static data; these tests are what keep it honest.
Keras is required: a missing install is a failure, not a skip.
"""

import ast
import inspect
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import pytest

from bnlint import kinds
from bnlint.kinds import (
    ACTIVATION_FUNCTIONS,
    ACTIVATION_LAYERS,
    DEFAULT_CONFIG,
    KERAS1_KERNEL_SIZE,
    KERAS1_KWARGS,
    KERAS1_VALUES,
    KINDS,
    LAYER_KINDS,
    LEGACY_ALIASES,
    POSITIONAL_PARAMS,
    activation_name,
    activation_of_function,
    canonical_class,
    channel_axes,
    kind_of,
    positional_params,
    to_snake_case,
)

REPO = Path(__file__).resolve().parent.parent

RULE_KEYS = (
    "use_bias", "activation", "momentum", "epsilon", "axis", "center", "scale",
    "data_format", "rate",
)
# Kinds whose classes must carry DEFAULT_CONFIG entries.
STRUCTURAL_KINDS = set(KINDS) - {"input", "op", "model", "other"}


def keras_layer_classes():
    """{name in keras.layers: class} for every Layer subclass exported there."""
    found = {}
    for name in dir(keras.layers):
        obj = getattr(keras.layers, name)
        if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer):
            found[name] = obj
    return found


KERAS_LAYERS = keras_layer_classes()
# One entry per class, keyed by the class __name__ (what Keras serialises).
KERAS_CLASSES = {cls.__name__: cls for cls in KERAS_LAYERS.values()}


def signature_positional(fn, skip_self=True):
    params = list(inspect.signature(fn).parameters.values())[1 if skip_self else 0:]
    names = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
            break
        names.append(p.name)
    return tuple(names)


def signature_params(cls):
    return {
        p.name: p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def test_the_export_list_is_not_empty():
    # Guards every loop below against silently testing nothing.
    assert len(KERAS_LAYERS) > 150
    assert "Conv2D" in KERAS_LAYERS and "BatchNormalization" in KERAS_LAYERS


# ---------------------------------------------------------------------------
# Kinds and class names
# ---------------------------------------------------------------------------


def test_kinds_tuple_is_the_documented_one():
    assert KINDS == (
        "input", "conv", "dense", "batchnorm", "norm", "activation", "dropout", "pool",
        "merge", "reshape", "embedding", "recurrent", "attention", "op", "model", "other",
    )
    assert set(LAYER_KINDS.values()) <= set(KINDS)


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS) + ["Input"])
def test_every_keras_layer_is_classified(name):
    assert name in LAYER_KINDS
    assert kind_of(name) in KINDS
    if name != "Input":
        cls = KERAS_LAYERS[name]
        assert canonical_class(name) == cls.__name__
        assert cls.__name__ in LAYER_KINDS
        assert kind_of(name) == kind_of(cls.__name__)


def test_keras_export_aliases_are_legacy_aliases():
    for name, cls in KERAS_LAYERS.items():
        if name != cls.__name__:
            assert LEGACY_ALIASES.get(name) == cls.__name__, name


def test_alias_targets_are_keras3_classes():
    for alias, target in LEGACY_ALIASES.items():
        assert target in KERAS_CLASSES, (alias, target)
        assert target not in LEGACY_ALIASES
        assert LAYER_KINDS[alias] == LAYER_KINDS[target]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("Input", "input"),
        ("InputLayer", "input"),
        ("Conv2D", "conv"),
        ("Convolution2D", "conv"),
        ("AtrousConvolution2D", "conv"),
        ("Deconvolution2D", "conv"),
        ("Conv2DTranspose", "conv"),
        ("DepthwiseConv2D", "conv"),
        ("SeparableConvolution2D", "conv"),
        ("LocallyConnected2D", "conv"),
        ("Dense", "dense"),
        ("EinsumDense", "dense"),
        ("TimeDistributedDense", "dense"),
        ("BatchNormalization", "batchnorm"),
        ("BatchNormalizationV1", "batchnorm"),
        ("BatchNormalizationV2", "batchnorm"),
        ("SyncBatchNormalization", "batchnorm"),
        ("LayerNormalization", "norm"),
        ("GroupNormalization", "norm"),
        ("UnitNormalization", "norm"),
        ("RMSNormalization", "norm"),
        ("SpectralNormalization", "other"),
        ("Normalization", "other"),
        ("ReLU", "activation"),
        ("ThresholdedReLU", "activation"),
        ("Activation", "activation"),
        ("Dropout", "dropout"),
        ("SpatialDropout2D", "dropout"),
        ("AlphaDropout", "dropout"),
        ("GaussianDropout", "dropout"),
        ("GaussianNoise", "other"),
        ("MaxPool2D", "pool"),
        ("GlobalAvgPool2D", "pool"),
        ("AdaptiveAveragePooling2D", "pool"),
        ("Add", "merge"),
        ("Concatenate", "merge"),
        ("Merge", "merge"),
        ("Flatten", "reshape"),
        ("ZeroPadding2D", "reshape"),
        ("Identity", "reshape"),
        ("Embedding", "embedding"),
        ("ReversibleEmbedding", "embedding"),
        ("LSTM", "recurrent"),
        ("LSTMCell", "recurrent"),
        ("CuDNNLSTM", "recurrent"),
        ("CuDNNGRU", "recurrent"),
        ("AbstractRNNCell", "recurrent"),
        ("Bidirectional", "recurrent"),
        ("ConvLSTM2D", "recurrent"),
        ("TimeDistributed", "other"),
        ("MultiHeadAttention", "attention"),
        ("GroupQueryAttention", "attention"),
        ("TFOpLambda", "op"),
        ("Functional", "model"),
        ("Sequential", "model"),
        ("Lambda", "other"),
        ("Rescaling", "other"),
        ("DenseFeatures", "other"),
        ("MaxoutDense", "other"),
        ("Highway", "other"),
    ],
)
def test_kind_of(name, kind):
    assert kind_of(name) == kind


def test_unknown_names():
    assert kind_of("MyResidualBlock") == "other"
    assert kind_of(object()) == "other"
    assert canonical_class("MyResidualBlock") == "MyResidualBlock"
    assert canonical_class("MaxPool2D") == "MaxPooling2D"
    assert canonical_class("Convolution2DTranspose") == "Conv2DTranspose"


# ---------------------------------------------------------------------------
# Positional parameters and legacy spellings
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KERAS_CLASSES))
def test_positional_params_match_signature(name):
    expected = signature_positional(KERAS_CLASSES[name].__init__)
    assert POSITIONAL_PARAMS[name] == expected


def test_positional_params_of_input_function():
    assert POSITIONAL_PARAMS["Input"] == signature_positional(keras.Input, skip_self=False)


def test_positional_params_keys_are_known_classes():
    for name in POSITIONAL_PARAMS:
        assert name in LAYER_KINDS, name


@pytest.mark.parametrize(
    "name", sorted(n for n in KERAS_LAYERS if n not in POSITIONAL_PARAMS or n in KERAS_CLASSES)
)
def test_positional_params_resolve_every_export(name):
    # Exports without a Keras 1 spelling of their own get the Keras 3 order.
    expected = signature_positional(KERAS_LAYERS[name].__init__)
    assert positional_params(name, (1, 2)) == expected
    assert positional_params(name) == expected


@pytest.mark.parametrize(
    "written, args, first",
    [
        # Keras 1 forms
        ("Convolution2D", (64, 3, 3), ("nb_filter", "nb_row", "nb_col")),
        ("Convolution3D", (8, 3, 3, 3), ("nb_filter", "kernel_dim1", "kernel_dim2")),
        (
            "Deconvolution2D",
            (8, 3, 3, (None, 8, 8, 8)),
            ("nb_filter", "nb_row", "nb_col", "output_shape"),
        ),
        ("AtrousConvolution2D", (8, 3, 3), ("nb_filter", "nb_row", "nb_col")),
        ("SeparableConvolution2D", (8, 3, 3), ("nb_filter", "nb_row", "nb_col")),
        ("Convolution1D", (8, 3), ("nb_filter", "filter_length")),
        ("TimeDistributedDense", (8,), ("output_dim",)),
        # Keras 2+ forms through the same names
        ("Convolution2D", (64, (3, 3)), ("filters", "kernel_size")),
        ("Convolution2D", (64, 3), ("filters", "kernel_size")),
        ("Convolution2D", (64, [3, 3], 2), ("filters", "kernel_size", "strides")),
        ("Convolution3D", (8, (3, 3, 3)), ("filters", "kernel_size")),
        ("Deconvolution2D", (8, (3, 3), (2, 2)), ("filters", "kernel_size", "strides")),
        ("Convolution1D", (8, 3, 2), ("filters", "kernel_size", "strides")),
        # Plain Keras 3 names
        ("Conv2D", (64, 3, 2), ("filters", "kernel_size", "strides")),
        ("MaxPool2D", (2,), ("pool_size",)),
    ],
)
def test_positional_params_tell_keras1_from_keras2(written, args, first):
    names = positional_params(written, args)
    assert names[: len(first)] == first


def test_positional_params_unknown_class():
    assert positional_params("MyResidualBlock", (1, 2)) is None


def test_raw_lookup_prefers_the_written_keras1_name():
    # The documented fallback order: name as written, then canonical.
    assert POSITIONAL_PARAMS["Convolution2D"][:3] == ("nb_filter", "nb_row", "nb_col")
    assert POSITIONAL_PARAMS["Convolution1D"] == ("nb_filter", "filter_length")
    assert positional_params("Convolution2D") == POSITIONAL_PARAMS["Convolution2D"]


def test_keras1_kwargs_rename_to_real_keras3_parameters():
    for cls_name, renames in KERAS1_KWARGS.items():
        assert canonical_class(cls_name) == cls_name
        params = signature_params(KERAS_CLASSES[cls_name])
        for old, new in renames.items():
            assert new in params, (cls_name, old, new)
            assert old not in params, (cls_name, old)


def test_documented_keras1_renames():
    assert KERAS1_KWARGS["Conv2D"]["nb_filter"] == "filters"
    assert KERAS1_KWARGS["Conv2D"]["subsample"] == "strides"
    assert KERAS1_KWARGS["Conv2D"]["border_mode"] == "padding"
    assert KERAS1_KWARGS["Conv2D"]["dim_ordering"] == "data_format"
    assert KERAS1_KWARGS["Conv2D"]["bias"] == "use_bias"
    assert KERAS1_KWARGS["Dense"]["output_dim"] == "units"
    assert KERAS1_KWARGS["Dense"]["bias"] == "use_bias"
    assert KERAS1_KWARGS["Dropout"] == {"p": "rate"}
    assert "mode" not in KERAS1_KWARGS["BatchNormalization"]  # removed, not renamed
    assert KERAS1_VALUES["data_format"]["th"] == "channels_first"
    assert KERAS1_VALUES["data_format"]["tf"] == "channels_last"


def test_keras1_positional_names_all_have_a_destination():
    # Every Keras 1 positional name either survives as is, is renamed, folds
    # into kernel_size, or is an argument Keras 3 dropped.
    dropped = {"weights", "output_shape", "input_dim", "input_length", "init",
               "depthwise_regularizer", "pointwise_regularizer",
               "depthwise_constraint", "pointwise_constraint"}
    for written, names in POSITIONAL_PARAMS.items():
        canonical = canonical_class(written)
        if canonical == written:
            continue
        params = signature_params(KERAS_CLASSES[canonical])
        renames = KERAS1_KWARGS.get(canonical, {})
        kernel = KERAS1_KERNEL_SIZE.get(canonical, ())
        for name in names:
            ok = (name in params or name in renames or name in kernel or name in dropped)
            assert ok, (written, name)


def test_keras1_kernel_size_keys_are_canonical():
    for cls_name in KERAS1_KERNEL_SIZE:
        assert cls_name in KERAS_CLASSES


# ---------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------


def expected_defaults(cls):
    expected = {}
    for name, p in signature_params(cls).items():
        if name in RULE_KEYS and p.default is not p.empty:
            value = p.default
            if name == "data_format" and value is None:
                value = "channels_last"
            if name == "activation" and value is None:
                value = "linear"
            expected[name] = value
    return expected


@pytest.mark.parametrize(
    "name", sorted(n for n in KERAS_CLASSES if kind_of(n) in STRUCTURAL_KINDS)
)
def test_default_config_matches_signature(name):
    assert DEFAULT_CONFIG[name] == expected_defaults(KERAS_CLASSES[name])


def test_default_config_documented_values():
    assert DEFAULT_CONFIG["BatchNormalization"] == {
        "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
    }
    assert DEFAULT_CONFIG["Conv2D"] == {
        "data_format": "channels_last", "activation": "linear", "use_bias": True,
    }
    assert DEFAULT_CONFIG["Dense"] == {"activation": "linear", "use_bias": True}
    assert "rate" not in DEFAULT_CONFIG["Dropout"]  # required, no default


def test_default_config_shape():
    for name, config in DEFAULT_CONFIG.items():
        assert canonical_class(name) == name
        # Normalization is "other" but its saved axis is compared against Keras' graphs.
        assert kind_of(name) in STRUCTURAL_KINDS or name == "Normalization", name
        assert set(config) <= set(RULE_KEYS), name
    # every structural class is covered, so a missing entry means "unknown class"
    for name, kind in LAYER_KINDS.items():
        if kind in STRUCTURAL_KINDS and canonical_class(name) == name:
            assert name in DEFAULT_CONFIG, name
    # callers may update an entry without touching another class
    assert DEFAULT_CONFIG["Conv1D"] is not DEFAULT_CONFIG["Conv2D"]


# ---------------------------------------------------------------------------
# Auto names
# ---------------------------------------------------------------------------

# Minimal values for required constructor arguments.
_REQUIRED = {
    "activation": "relu", "output_size": 2, "rate": 0.5, "pool_size": 2, "filters": 2,
    "kernel_size": 3, "height": 2, "width": 2, "units": 2, "axes": 1,
    "equation": "ab,bc->ac", "output_shape": 2, "input_dim": 3, "output_dim": 2,
    "stddev": 0.1, "head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1,
    "num_bins": 3, "max_number": 2, "num_heads": 2, "key_dim": 2, "dims": (1,),
    "layers": [], "factor": 0.1, "height_factor": 0.1, "width_factor": 0.1, "n": 2,
    "scale": 1.0, "target_shape": (2,), "shape": (3,),
}
_EXTRA = {
    "CategoryEncoding": {"num_tokens": 3},
    "Discretization": {"num_bins": 3},
    "RandomPosterization": {"factor": 2},
    "InputLayer": {"shape": (3,)},
    "STFTSpectrogram": {"window": None},  # a named window needs scipy
}
# Need another backend (jax, torch, flax) or a SavedModel on disk.
_NOT_CONSTRUCTIBLE_HERE = {"FlaxLayer", "JaxLayer", "TorchModuleWrapper", "TFSMLayer"}


def construct(cls):
    kwargs = dict(_EXTRA.get(cls.__name__, {}))
    for name, p in signature_params(cls).items():
        if p.default is not p.empty or name in kwargs:
            continue
        if name == "layer":
            bidirectional = cls.__name__ == "Bidirectional"
            kwargs[name] = keras.layers.LSTM(2) if bidirectional else keras.layers.Dense(2)
        elif name == "cell":
            kwargs[name] = keras.layers.LSTMCell(2)
        elif name == "cells":
            kwargs[name] = [keras.layers.LSTMCell(2)]
        elif name == "function":
            kwargs[name] = lambda x: x
        else:
            kwargs[name] = _REQUIRED[name]
    return cls(**kwargs)


@pytest.mark.parametrize("name", sorted(set(KERAS_LAYERS) - _NOT_CONSTRUCTIBLE_HERE))
def test_to_snake_case_matches_keras_auto_name(name):
    keras.backend.clear_session()
    layer = construct(KERAS_LAYERS[name])
    assert to_snake_case(name) == layer.name


def test_to_snake_case_of_input_and_models():
    keras.backend.clear_session()
    inputs = keras.Input((3,))
    input_layer = inputs._keras_history[0]
    assert to_snake_case(type(input_layer).__name__) == input_layer.name
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    assert to_snake_case(type(model).__name__) == model.name  # "functional"
    keras.backend.clear_session()
    assert to_snake_case("Sequential") == keras.Sequential().name


@pytest.mark.parametrize(
    "name, snake",
    [
        ("Conv2D", "conv2d"),
        ("BatchNormalization", "batch_normalization"),
        ("ReLU", "re_lu"),
        ("PReLU", "p_re_lu"),
        ("LSTM", "lstm"),
        ("Conv2DTranspose", "conv2d_transpose"),
        ("GlobalAveragePooling2D", "global_average_pooling2d"),
        ("DepthwiseConv2D", "depthwise_conv2d"),
        ("MaxPool2D", "max_pooling2d"),
        ("GroupQueryAttention", "grouped_query_attention"),
        # tf.keras 2.x classes, as tf.keras named them
        ("ThresholdedReLU", "thresholded_re_lu"),
        ("LocallyConnected2D", "locally_connected2d"),
        ("SyncBatchNormalization", "sync_batch_normalization"),
        ("CuDNNLSTM", "cu_dnnlstm"),
        ("BatchNormalizationV1", "batch_normalization"),
    ],
)
def test_to_snake_case_examples(name, snake):
    assert to_snake_case(name) == snake


def test_to_snake_case_agrees_with_keras_on_arbitrary_names():
    # Keras' own helper is the reference; bnlint has an independent implementation.
    from keras.src.utils.naming import to_snake_case as keras_to_snake_case

    rng = random.Random(1234)
    alphabet = "AaBbCcXyZz0129_- "
    checked = 0
    for _ in range(5000):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if name in LEGACY_ALIASES:
            continue
        assert to_snake_case(name) == keras_to_snake_case(name), name
        checked += 1
    assert checked > 4000


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------


def keras_activation_names():
    names = []
    for name in dir(keras.activations):
        if name.startswith("_") or name in ("get", "serialize", "deserialize"):
            continue
        if callable(getattr(keras.activations, name)):
            names.append(name)
    return names


def test_activation_name_accepts_every_keras_activation():
    names = keras_activation_names()
    assert len(names) > 25
    for name in names:
        assert activation_name(name) == keras.activations.get(name).__name__, name
        assert name in ACTIVATION_FUNCTIONS


def test_activation_name_conventions_and_rejections():
    assert activation_name(None) == "linear"
    assert activation_name("linear") == "linear"
    assert activation_name("swish") == "silu"
    assert activation_name("hard_swish") == "hard_silu"
    for bad in ("ReLU", "Relu", "relu ", "", "crelu", "keras.activations.relu", "softmax2"):
        assert activation_name(bad) is None, bad
        with pytest.raises(ValueError):
            keras.activations.get(bad)
    assert activation_name(3) is None
    assert activation_name(object()) is None


def test_activation_name_reads_serialised_functions():
    serialised = keras.saving.serialize_keras_object(keras.activations.swish)
    assert activation_name(serialised) == "silu"
    custom = {"module": "my_project.acts", "class_name": "function", "config": "relu"}
    assert activation_name(custom) is None
    assert activation_name({"class_name": "Mish", "config": {}}) is None


def test_activation_functions_include_tf_names():
    for name in ("relu", "relu6", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "tanh",
                 "softmax", "log_softmax", "softplus", "softsign", "leaky_relu", "crelu"):
        assert name in ACTIVATION_FUNCTIONS


@pytest.mark.parametrize(
    "qualname, activation",
    [
        ("tensorflow.nn.relu", "relu"),
        ("tf.nn.relu", "relu"),
        ("tensorflow.compat.v1.nn.relu6", "relu6"),
        ("keras.ops.relu", "relu"),
        ("keras.ops.nn.silu", "silu"),
        ("keras.ops.swish", "silu"),
        ("keras.ops.tanh", "tanh"),
        ("keras.ops.numpy.tanh", "tanh"),
        ("keras.activations.swish", "silu"),
        ("keras.activations.activations.gelu", "gelu"),
        ("keras.backend.sigmoid", "sigmoid"),
        ("keras.backend.relu", "relu"),
        ("tensorflow.math.tanh", "tanh"),
        ("tensorflow.math.sigmoid", "sigmoid"),
        ("tensorflow.math.softplus", "softplus"),
        ("tensorflow.math.log_sigmoid", "log_sigmoid"),
        ("tensorflow.sigmoid", "sigmoid"),
        ("tensorflow.tanh", "tanh"),
        ("tensorflow.nn.crelu", "crelu"),
        ("tensorflow.nn.swish", "silu"),
        ("tensorflow.nn.leaky_relu", "leaky_relu"),
    ],
)
def test_activation_of_function(qualname, activation):
    assert activation_of_function(qualname) == activation


@pytest.mark.parametrize(
    "qualname",
    [
        "keras.ops.add",
        "keras.ops.exp",
        "keras.ops.nn.tanh",  # not in keras.ops.nn
        "keras.activations.get",
        "keras.activations.serialize",
        "tensorflow.reshape",
        "tensorflow.relu",  # not re-exported at top level
        "tensorflow.nn.conv2d",
        "tensorflow.nn.dropout",
        "tensorflow.nn.bias_add",
        "tensorflow.nn.batch_normalization",
        "numpy.tanh",
        "relu",
        "",
    ],
)
def test_activation_of_function_rejects(qualname):
    assert activation_of_function(qualname) is None


def test_activation_of_function_names_exist():
    """Every function the table recognises exists under that name."""
    import tensorflow as tf

    roots = {"keras": keras, "tensorflow": tf}
    checked = 0
    for namespace, names in kinds._FUNCTIONS_BY_NAMESPACE.items():
        if namespace in ("keras.backend", "keras.activations.activations"):
            continue  # tf.keras 2.x backend / keras.src module: not in Keras 3's public API
        root, *rest = namespace.split(".")
        module = roots[root]
        for part in rest:
            module = getattr(module, part)
        for name in names:
            assert callable(getattr(module, name, None)), f"{namespace}.{name}"
            checked += 1
    assert checked > 60


def test_activation_of_function_covers_keras_ops_and_tf_nn():
    """The reverse: no activation exported there is missed."""
    import tensorflow as tf

    known = set(keras_activation_names())
    for name in known:
        if hasattr(keras.ops, name):
            assert activation_of_function(f"keras.ops.{name}") is not None, name
        if hasattr(tf.nn, name):
            assert activation_of_function(f"tensorflow.nn.{name}") is not None, name
        if hasattr(tf.math, name):
            assert activation_of_function(f"tensorflow.math.{name}") is not None, name


def test_activation_layers():
    assert ACTIVATION_LAYERS["ReLU"] == "relu"
    assert ACTIVATION_LAYERS["LeakyReLU"] == "leaky_relu"
    assert ACTIVATION_LAYERS["PReLU"] == "prelu"
    assert ACTIVATION_LAYERS["ELU"] == "elu"
    assert ACTIVATION_LAYERS["Softmax"] == "softmax"
    assert ACTIVATION_LAYERS["ThresholdedReLU"] == "thresholded_relu"
    assert "Activation" not in ACTIVATION_LAYERS
    for name in ACTIVATION_LAYERS:
        assert kind_of(name) == "activation"
    for name, kind in LAYER_KINDS.items():
        if kind == "activation" and canonical_class(name) != "Activation":
            assert name in ACTIVATION_LAYERS, name


# ---------------------------------------------------------------------------
# Channel axes
# ---------------------------------------------------------------------------

UNKNOWN = object()  # stands in for the reader's sentinel


@pytest.mark.parametrize(
    "name, config, axes",
    [
        ("Conv2D", {"data_format": "channels_last"}, {-1, 3}),
        ("Conv2D", {"data_format": "channels_first"}, {1, -3}),
        ("Conv1D", {"data_format": "channels_last"}, {-1, 2}),
        ("Conv1D", {"data_format": "channels_first"}, {1, -2}),
        ("Conv3D", {"data_format": "channels_first"}, {1, -4}),
        ("Conv2D", {}, {-1, 3}),  # missing: the Keras default
        ("Convolution2D", {"data_format": "th"}, {1, -3}),  # Keras 1 value
        ("Convolution2D", {"dim_ordering": "tf"}, {-1, 3}),  # Keras 1 key
        ("DepthwiseConv2D", {"data_format": "channels_last"}, {-1, 3}),
        ("Conv2DTranspose", {"data_format": "channels_first"}, {1, -3}),
        ("Dense", {}, {-1}),
        ("EinsumDense", {}, {-1}),
        ("ConvLSTM2D", {"return_sequences": True}, {-1, 4}),
        ("ConvLSTM2D", {"return_sequences": False, "data_format": "channels_first"}, {1, -3}),
        ("ConvLSTM2D", {"return_sequences": True, "data_format": "channels_first"}, {2, -3}),
    ],
)
def test_channel_axes(name, config, axes):
    assert channel_axes(name, config) == frozenset(axes)


@pytest.mark.parametrize(
    "name, config",
    [
        ("Conv2D", {"data_format": UNKNOWN}),
        ("Conv2D", {"data_format": None}),
        ("Conv2D", {"data_format": "NHWC"}),
        ("ConvLSTM2D", {"return_sequences": UNKNOWN}),
        ("BatchNormalization", {}),
        ("MaxPooling2D", {}),
        ("MyLayer", {}),
    ],
)
def test_channel_axes_unknown(name, config):
    assert channel_axes(name, config) is None


def _conv_output_shape(cls, data_format, return_sequences=False):
    """Output shape of a real Keras layer, with every dimension distinct."""
    name = cls.__name__
    rank = int(next(c for c in name if c.isdigit()))
    spatial = (17, 19, 23)[:rank]
    in_channels = 5
    kwargs = {"data_format": data_format}
    lead = (2,)  # batch
    if name.startswith("Depthwise"):
        layer = cls(3, depth_multiplier=2, **kwargs)
        out_channels = 10
    elif name.startswith("ConvLSTM"):
        layer = cls(7, 3, return_sequences=return_sequences, **kwargs)
        out_channels = 7
        lead = (2, 11)  # batch, time
    else:
        layer = cls(7, 3, **kwargs)
        out_channels = 7
    if data_format == "channels_last":
        shape = lead + spatial + (in_channels,)
    else:
        shape = lead + (in_channels,) + spatial
    return tuple(layer.compute_output_shape(shape)), out_channels


CONV_LIKE = sorted(
    name for name in KERAS_CLASSES
    if kind_of(name) == "conv" or name.startswith("ConvLSTM")
)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", CONV_LIKE)
def test_channel_axes_agree_with_keras_output_shapes(name, data_format):
    cls = KERAS_CLASSES[name]
    for return_sequences in ((False, True) if name.startswith("ConvLSTM") else (False,)):
        shape, channels = _conv_output_shape(cls, data_format, return_sequences)
        config = {"data_format": data_format, "return_sequences": return_sequences}
        axes = channel_axes(name, config)
        assert axes is not None and len(axes) == 2
        assert {a % len(shape) for a in axes} == {shape.index(channels)}, (shape, axes)


# ---------------------------------------------------------------------------
# Import cost
# ---------------------------------------------------------------------------


def test_import_does_not_load_heavy_modules():
    script = textwrap.dedent(
        """
        import sys, time
        start = time.perf_counter()
        import bnlint.kinds
        elapsed = time.perf_counter() - start
        heavy = sorted(
            m for m in sys.modules
            if m.split(".")[0] in {"tensorflow", "keras", "tf_keras", "jax", "torch"}
        )
        print(repr((heavy, elapsed)))
        """
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO,
        capture_output=True, text=True, check=True,
    )
    heavy, elapsed = ast.literal_eval(result.stdout.strip())
    assert heavy == []
    assert elapsed < 0.1  # gross regression guard; a warm import takes well under 1 ms


def test_batchnorm_axis_follows_the_layers_data_format():
    assert kinds.batchnorm_axis("Conv2D", {"data_format": "channels_first"}) == 1
    assert kinds.batchnorm_axis("Conv3D", {"data_format": "channels_first"}) == 1
    assert kinds.batchnorm_axis("Conv2D", {"data_format": "channels_last"}) == -1
    assert kinds.batchnorm_axis("Dense", {}) == -1
    assert kinds.batchnorm_axis("Conv2D", {"data_format": object()}) == -1  # unknown: Keras' default
