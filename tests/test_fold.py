"""``bnlint fold`` on saved models, end to end, with real Keras.

Models are built with Keras, BN statistics randomised (gamma in [0.2, 2],
beta ~ N(0, 0.5), mean ~ N(0, 0.5), variance in [0.5, 2]), saved, folded by
bnlint (no Keras involved), loaded back with ``keras.saving.load_model`` and
run against the original. The maths of every layer type and data format is
checked against Keras and numpy in ``test_fold_math.py``; these tests check the
plan (what folds and what is refused), the rewritten config and weights files,
the command line and the API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
from keras import layers

import bnlint
from bnlint.cli import main
from bnlint.errors import UserError
from bnlint.folding import fold_file
from bnlint.folding.verify import verify_models

from conftest import run_bnlint

LAYER_TOLERANCE = 1e-5


def randomise_batchnorm(model: keras.Model, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for layer in _all_layers(model):
        if isinstance(layer, layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            values = []
            if layer.scale:
                values.append(rng.uniform(0.2, 2.0, n))
            if layer.center:
                values.append(rng.normal(0.0, 0.5, n))
            values += [rng.normal(0.0, 0.5, n), rng.uniform(0.5, 2.0, n)]
            layer.set_weights(values)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def batchnorm_names(model) -> list[str]:
    return [layer.name for layer in _all_layers(model) if isinstance(layer, layers.BatchNormalization)]


def saved(model: keras.Model, path: Path) -> Path:
    model.save(path)
    return path


def fold_and_load(source: Path, out: Path, **options):
    report = fold_file(source, out, **options)
    return keras.saving.load_model(out, compile=False), report


def relative_error(model, folded, batch: int = 4) -> float:
    return verify_models(model, folded, batch=batch).relative_error


# --------------------------------------------------------------------------
# One model with a branch per layer family (channels_last and channels_first)
# --------------------------------------------------------------------------

def zoo_model() -> keras.Model:
    """Every foldable layer family, each followed by a BN, merged into one output."""
    sequence = keras.Input((13, 4), name="sequence")
    image = keras.Input((11, 10, 3), name="image")
    volume = keras.Input((6, 7, 5, 2), name="volume")
    vector = keras.Input((9,), name="vector")
    tokens = keras.Input((5, 9), name="tokens")

    transposed = layers.Permute((2, 1))(sequence)  # (4 channels, 13 steps) for channels_first

    def bn(x, **kwargs):
        return layers.BatchNormalization(**kwargs)(x)

    branches = [
        bn(layers.Conv1D(6, 3, strides=2)(sequence)),
        bn(layers.Conv1D(6, 3, groups=2, use_bias=False)(sequence)),
        bn(layers.Conv1D(5, 3, data_format="channels_first", dilation_rate=2)(transposed), axis=1),
        bn(layers.DepthwiseConv1D(3, depth_multiplier=2)(sequence)),
        bn(layers.DepthwiseConv1D(3, depth_multiplier=3, data_format="channels_first")(transposed), axis=1),
        bn(layers.SeparableConv1D(5, 3, depth_multiplier=2)(sequence)),
        bn(layers.Conv1DTranspose(4, 3, strides=2)(sequence)),  # Cin == Cout: axis -2 matters
        bn(layers.Conv2D(6, 3, padding="same", dilation_rate=2)(image)),
        bn(layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)(image)),
        bn(layers.SeparableConv2D(5, 3, depth_multiplier=3, use_bias=False)(image), center=False),
        bn(layers.Conv2DTranspose(3, 3, strides=2, padding="same")(image), scale=False),
        bn(layers.Conv3D(4, 2)(volume)),
        bn(layers.Conv3DTranspose(3, 2, strides=2)(volume)),
        bn(layers.Conv3D(3, 2, data_format="channels_first")(layers.Permute((4, 1, 2, 3))(volume)), axis=1),
        bn(layers.Dense(7)(vector), center=False, scale=False),
        bn(layers.Dense(6, use_bias=False)(tokens)),  # Dense on a rank-3 input
    ]
    pooled = [layers.Flatten()(branch) for branch in branches]
    merged = layers.Concatenate()(pooled)
    head = layers.BatchNormalization()(layers.Dense(10)(merged))
    return keras.Model([sequence, image, volume, vector, tokens], layers.Softmax()(head), name="zoo")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    model = zoo_model()
    randomise_batchnorm(model, seed=1)
    directory = tmp_path_factory.mktemp("zoo")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model, saved(model, directory / "zoo.keras"), saved(model, directory / "zoo.h5")


@pytest.mark.parametrize("source_format,target_format", [
    ("keras", "keras"), ("h5", "h5"), ("keras", "h5"), ("h5", "keras")])
def test_zoo_folds_every_batchnorm_and_matches_the_original(zoo, tmp_path, source_format, target_format):
    model, keras_path, h5_path = zoo
    source = keras_path if source_format == "keras" else h5_path
    folded, report = fold_and_load(source, tmp_path / f"folded.{target_format}")
    assert len(report.decisions) == 17 and not report.refused, report.text()
    assert batchnorm_names(folded) == []
    assert relative_error(model, folded) <= LAYER_TOLERANCE
    original = {layer.name: layer for layer in model.layers}
    for layer in folded.layers:  # untouched layers keep their weights exactly
        if not layer.weights:
            continue
        was = original[layer.name]
        folded_into = {d.into for d in report.folded}
        if layer.name not in folded_into:
            for a, b in zip(was.get_weights(), layer.get_weights()):
                np.testing.assert_array_equal(a, b)
        else:
            assert layer.use_bias, layer.name
    if source_format != target_format:
        assert any("compile config" in note for note in report.notes)


def test_keras_output_keeps_compile_config_and_other_members(zoo, tmp_path):
    _, keras_path, _ = zoo
    out = tmp_path / "folded.keras"
    fold_file(keras_path, out)
    with zipfile.ZipFile(keras_path) as before, zipfile.ZipFile(out) as after:
        old, new = json.loads(before.read("config.json")), json.loads(after.read("config.json"))
        assert new["compile_config"] == old["compile_config"]
        assert set(after.namelist()) == set(before.namelist())
        assert after.read("metadata.json") == before.read("metadata.json")
    names_before = [spec["config"]["name"] for spec in old["config"]["layers"]]
    names_after = [spec["config"]["name"] for spec in new["config"]["layers"]]
    assert names_after == [name for name in names_before if not name.startswith("batch_normalization")]
    compiled = keras.saving.load_model(out)  # with compile: the optimizer is rebuilt from the config
    assert compiled.optimizer.__class__.__name__ == "Adam"


def test_weights_of_later_layers_of_the_same_class_are_renamed_correctly(tmp_path):
    # Removing batch_normalization shifts batch_normalization_2 to batch_normalization in the
    # weights file; an unfolded BN must keep its own statistics.
    inputs = keras.Input((6,))
    a = layers.BatchNormalization()(layers.Dense(4)(inputs))
    b = layers.BatchNormalization()(layers.Add()([a, a]))  # refused: follows an Add
    c = layers.BatchNormalization()(layers.Dense(3)(b))
    model = keras.Model(inputs, c)
    randomise_batchnorm(model, seed=3)
    folded, report = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    assert [d.folded for d in report.decisions] == [True, False, True]
    kept = folded.get_layer(model.layers[4].name)
    for a, b in zip(model.layers[4].get_weights(), kept.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_folded_layers_are_listed_in_the_order_keras_loads_them(tmp_path):
    # Keras lists a functional model's layers by depth, and names .keras weight groups and matches .h5
    # weights by that order. Folding a_bn makes `a` shallower than `b`, so Keras now lists `b` first;
    # the two Dense layers have the same shape, so weights written in the old order would load swapped.
    inputs = keras.Input((8,))
    a = layers.Dense(8, name="a")(inputs)
    a = layers.ReLU(name="a_relu")(layers.BatchNormalization(name="a_bn")(a))
    b = layers.Dense(8, name="b")(inputs)
    b = layers.ReLU(name="b_relu2")(layers.ReLU(name="b_relu1")(b))
    model = keras.Model(inputs, layers.Add(name="add")([a, b]))
    randomise_batchnorm(model, seed=5)
    for suffix in ("keras", "h5"):
        folded, report = fold_and_load(saved(model, tmp_path / f"m.{suffix}"), tmp_path / f"out.{suffix}")
        assert [d.into for d in report.folded] == ["a"]
        assert [layer.name for layer in folded.layers].index("b") < [layer.name for layer in folded.layers].index("a")
        np.testing.assert_array_equal(folded.get_layer("b").get_weights()[0], model.get_layer("b").get_weights()[0])
        assert relative_error(model, folded) <= LAYER_TOLERANCE


@pytest.mark.parametrize("builder", ["MobileNetV3Small", "InceptionV3", "NASNetMobile"])
def test_keras_layer_order_reproduces_keras_on_unchanged_models(builder):
    from bnlint.folding.plan import _Model, keras_layer_order

    config = json.loads(json.dumps(getattr(keras.applications, builder)(weights=None).get_config()))
    names = [spec["config"]["name"] for spec in config["layers"]]  # Keras saves them in its own order
    assert keras_layer_order(_Model({"class_name": "Functional", "config": config})) == names


def test_sequential_models_fold(tmp_path):
    model = keras.Sequential([
        keras.Input((10, 10, 3)),
        layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2D(4, 3), layers.BatchNormalization(), layers.BatchNormalization(),
        layers.Flatten(), layers.Dense(3), layers.BatchNormalization(),
    ])
    randomise_batchnorm(model, seed=4)
    for suffix in ("keras", "h5"):
        folded, report = fold_and_load(saved(model, tmp_path / f"s.{suffix}"), tmp_path / f"out.{suffix}")
        assert len(report.folded) == 4 and not report.refused  # the second BN folds once the first is gone
        assert batchnorm_names(folded) == []
        assert relative_error(model, folded) <= LAYER_TOLERANCE


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_models_with_dict_inputs_and_outputs_fold_and_keep_their_keys(tmp_path, suffix):
    # Keras 3 saves input_layers / output_layers as dicts by key; the folded BN was output "o1".
    a, b = keras.Input((10,), name="a"), keras.Input((6,), name="b")
    p = layers.BatchNormalization(name="bn")(layers.Dense(4, name="dense")(a))
    model = keras.Model({"a": a, "b": b}, {"o1": p, "o2": layers.Add()([p, layers.Dense(4)(b)])})
    randomise_batchnorm(model, seed=6)
    folded, report = fold_and_load(saved(model, tmp_path / f"m.{suffix}"), tmp_path / f"out.{suffix}")
    assert [(d.batchnorm, d.into) for d in report.folded] == [("bn", "dense")]
    assert sorted(folded.input) == ["a", "b"] and sorted(folded.output) == ["o1", "o2"]
    assert relative_error(model, folded) <= LAYER_TOLERANCE
    result = run_bnlint("fold", f"m.{suffix}", f"cli.{suffix}", "--verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "verify (ok)" in result.stdout and "Expected:" not in result.stderr  # inputs given as the dict


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_a_batchnorm_giving_a_model_output_hands_its_name_to_the_layer_it_folds_into(tmp_path, suffix):
    # Keras names outputs after their layers, and a compiled loss or metrics dict is keyed by those names:
    # folded into "d" and renamed, the output stays "bn" and the kept compile config still fits.
    inputs = keras.Input((6,), name="x")
    hidden = layers.Dense(5, name="hidden")(inputs)
    normalised = layers.BatchNormalization(name="bn")(layers.Dense(3, name="d")(hidden))
    model = keras.Model(inputs, [normalised, layers.Dense(2, name="other")(normalised)])
    randomise_batchnorm(model, seed=9)
    if suffix == "h5":  # (Keras 3.15 cannot load a compiled .h5 whose loss or metric is a string)
        model.compile(optimizer="sgd", loss={"bn": keras.losses.MeanSquaredError(),
                                             "other": keras.losses.MeanAbsoluteError()})
    else:
        model.compile(optimizer="sgd", loss={"bn": "mse", "other": "mae"}, metrics={"bn": ["mae"]})
    out = tmp_path / f"out.{suffix}"
    report = fold_file(saved(model, tmp_path / f"m.{suffix}"), out)
    assert [d.to_dict() for d in report.decisions] == [{"batchnorm": "bn", "folded": True, "into": "d",
                                                        "position": "after", "reason": None, "renamed_to": "bn"}]
    assert "folded   bn into d (the BN was after it; as the BN gave a model output, 'd' takes its name 'bn')" in (
        report.text(verbose=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the optimizer's variables are not written)
        folded = keras.saving.load_model(out)
    assert folded.output_names == model.output_names == ["bn", "other"]
    assert [layer.name for layer in folded.layers] == ["x", "hidden", "bn", "other"]
    assert type(folded.get_layer("bn")).__name__ == "Dense"
    x = np.random.default_rng(9).normal(size=(8, 6)).astype("float32")
    targets = {"bn": np.zeros((8, 3)), "other": np.zeros((8, 2))}
    expected = model.evaluate(x, targets, verbose=0, return_dict=True)
    measured = folded.evaluate(x, targets, verbose=0, return_dict=True)
    assert measured.keys() == expected.keys() and "bn_loss" in measured
    assert all(abs(measured[key] - expected[key]) <= 1e-5 * max(1.0, abs(expected[key])) for key in expected)
    if suffix == "h5":  # the variables are named after the layer's new name, as Keras would save them
        import h5py

        with h5py.File(out, "r") as handle:
            assert [_decoded(name) for name in handle["model_weights"]["bn"].attrs["weight_names"]] == [
                "bn/kernel", "bn/bias"]


def test_a_sequential_model_ending_in_a_batchnorm_keeps_its_last_layers_name(tmp_path):
    # (tf_keras names a Sequential's output after its last layer, as a functional model's)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, name="d"), layers.BatchNormalization(name="bn")])
    randomise_batchnorm(model, seed=10)
    folded, report = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    assert [(d.into, d.renamed_to) for d in report.folded] == [("d", "bn")]
    assert [layer.name for layer in folded.layers] == ["bn"]
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_an_untouched_h5_layer_with_a_non_ascii_name_is_copied(tmp_path):
    # Keras 3 saves its weight_names as variable-length strings tagged ASCII holding UTF-8.
    inputs = keras.Input((8,))
    x = layers.BatchNormalization()(layers.Dense(4, name="d")(inputs))
    model = keras.Model(inputs, layers.Dense(2, name="éout")(x))
    randomise_batchnorm(model, seed=7)
    folded, report = fold_and_load(saved(model, tmp_path / "u.h5"), tmp_path / "out.h5")
    assert [d.into for d in report.folded] == ["d"]
    for a, b in zip(model.get_layer("éout").get_weights(), folded.get_layer("éout").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_keras_ops_calls_are_weightless_and_do_not_shift_the_weight_groups(tmp_path):
    # `x * 2.0`, ops.relu and `+ 1.0` are operations: no weights group, and not counted in conv2d_1, conv2d_2.
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3)(inputs) * 2.0
    x = layers.BatchNormalization()(layers.Conv2D(4, 3)(keras.ops.relu(x))) + 1.0
    model = keras.Model(inputs, layers.BatchNormalization()(layers.Conv2D(4, 3)(x)))
    randomise_batchnorm(model, seed=9)
    folded, report = fold_and_load(saved(model, tmp_path / "ops.keras"), tmp_path / "out.keras")
    assert len(report.folded) == 2 and not report.refused
    assert batchnorm_names(folded) == []
    assert relative_error(model, folded) <= LAYER_TOLERANCE


@pytest.mark.parametrize("dtype,tolerance", [("float16", 2e-3), ("bfloat16", 2e-2)])
def test_low_precision_layers_keep_their_dtype(tmp_path, dtype, tolerance):
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, dtype=dtype)(inputs)
    x = layers.BatchNormalization(dtype=dtype)(x)
    model = keras.Model(inputs, layers.Flatten(dtype="float32")(x))
    randomise_batchnorm(model, seed=5)
    folded, _ = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    conv = folded.layers[1]
    assert [str(w.dtype) for w in conv.weights] == [dtype, dtype]
    assert relative_error(model, folded) <= tolerance


# --------------------------------------------------------------------------
# Refusals: every reason, and nothing silent
# --------------------------------------------------------------------------

def _refusal(model: keras.Model, tmp_path: Path, **options) -> str:
    _, report = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras", force=True, **options)
    assert len(report.refused) == 1, report.text()
    return report.refused[0].reason


def test_refuses_a_fused_activation(tmp_path):
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, layers.BatchNormalization()(layers.Conv2D(3, 3, activation="relu")(inputs)))
    assert "activation 'relu'" in _refusal(model, tmp_path)


def test_refuses_a_custom_activation_function(tmp_path):
    # Keras 3 saves it as {"class_name": "function", "config": "doubled", ...}: a name, not a config object.
    def doubled(x):
        return x * 2.0

    inputs = keras.Input((6,))
    model = keras.Model(inputs, layers.BatchNormalization()(layers.Dense(3, activation=doubled, name="d")(inputs)))
    report = fold_file(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")  # (Keras could not load it)
    assert [d.reason for d in report.decisions] == [
        "'d' applies activation 'doubled' before it (a nonlinearity between the layer and the BN)."]


@pytest.mark.parametrize("masking", ["embedding", "masking"])
def test_a_batchnorm_given_a_mask_folds(tmp_path, masking):
    # Keras passes a mask to a BN after Embedding(mask_zero=True) or Masking (a second tensor in its call,
    # by keyword); it steers only training statistics, so in inference the BN folds as any other. (It was
    # refused as "the first layer of the model".) The LSTM after it still gets the mask.
    if masking == "embedding":
        inputs = keras.Input((6,), dtype="int32")
        x = layers.Embedding(10, 4, mask_zero=True)(inputs)
        batch = np.random.default_rng(11).integers(1, 10, size=(4, 6)).astype("int32")
    else:
        inputs = keras.Input((6, 4))
        x = layers.Masking(0.0)(inputs)
        batch = np.random.default_rng(11).normal(size=(4, 6, 4)).astype("float32")
    batch[:, 4:] = 0  # masked steps
    x = layers.BatchNormalization(name="bn")(layers.Dense(3, name="d")(x))
    model = keras.Model(inputs, [layers.LSTM(2, name="lstm")(x), x])
    randomise_batchnorm(model, seed=11)
    folded, report = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    assert [(d.batchnorm, d.folded, d.reason) for d in report.decisions] == [("bn", True, None)]
    for original, result in zip(model(batch), folded(batch)):
        assert np.abs(np.asarray(original) - np.asarray(result)).max() <= LAYER_TOLERANCE
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_a_batchnorm_given_another_tensor_by_keyword_is_refused_with_that_reason(tmp_path):
    inputs = keras.Input((6,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, layers.BatchNormalization(name="bn")(layers.Dense(3, name="d")(x)))
    source = saved(model, tmp_path / "m.keras")
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    call = _spec(config, "bn")["inbound_nodes"][0]
    call["kwargs"]["scale_by"] = call["kwargs"].pop("mask")  # (not an argument BN has: only the reason counts)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(source, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    report = fold_file(source, tmp_path / "out.keras")
    assert [d.reason for d in report.decisions] == ["it is called with a tensor for its argument 'scale_by'."]


def test_refuses_when_the_conv_output_has_other_consumers(tmp_path):
    inputs = keras.Input((6, 6, 2))
    conv = layers.Conv2D(3, 3, name="conv")(inputs)
    model = keras.Model(inputs, layers.Add(name="add")([conv, layers.BatchNormalization()(conv)]))
    assert "also feeds 'add'" in _refusal(model, tmp_path)
    model = keras.Model(inputs, [conv, layers.BatchNormalization()(conv)])
    assert "also feeds a model output" in _refusal(model, tmp_path)


def test_refuses_a_quantized_layer(tmp_path):
    inputs = keras.Input((6,))
    model = keras.Model(inputs, layers.BatchNormalization()(layers.Dense(4, name="dense")(inputs)))
    model.quantize("int8")  # Keras 3.15 saves its policy as {"mode": "int8", "source_name": "float32"}, no name
    assert _refusal(model, tmp_path) == "the layer before it, 'dense', is quantized (dtype policy int8_from_float32)."


def test_refuses_a_batchnorm_on_another_axis(tmp_path):
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, layers.BatchNormalization(axis=1)(layers.Conv2D(3, 3)(inputs)))
    assert "axis 1 is not the channel axis (3)" in _refusal(model, tmp_path)


def test_refuses_a_shared_batchnorm(tmp_path):
    inputs = keras.Input((6, 6, 2))
    shared = layers.BatchNormalization()
    left = shared(layers.Conv2D(3, 3)(inputs))
    right = shared(layers.Conv2D(3, 3)(inputs))
    model = keras.Model(inputs, layers.Add()([left, right]))
    assert "shared: called 2 times" in _refusal(model, tmp_path)


def test_refuses_a_batchnorm_after_an_add(tmp_path):
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, layers.BatchNormalization()(layers.Add(name="add")([inputs, inputs])))
    assert "follows 'add', a Add, not a conv or dense layer" in _refusal(model, tmp_path)


def test_refuses_renorm_and_a_shared_conv(tmp_path):
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, layers.BatchNormalization(renorm=True)(layers.Conv2D(3, 3)(inputs)))
    assert "renorm" in _refusal(model, tmp_path)
    conv = layers.Conv2D(2, 1, name="shared_conv")
    x = layers.BatchNormalization()(conv(inputs))
    model = keras.Model(inputs, conv(x))
    assert "'shared_conv', is shared (called 2 times)" in _refusal(model, tmp_path)


def transfer_model() -> keras.Model:
    """A conv stem and BN, a nested functional backbone whose last BN is its output, a nested Sequential head."""
    keras.utils.set_random_seed(6)
    image = keras.Input((8, 8, 3))
    h = layers.BatchNormalization(name="bb_bn1")(layers.Conv2D(6, 3, padding="same", name="bb_conv1")(image))
    h = layers.ReLU(name="bb_relu")(h)
    h = layers.BatchNormalization(name="bb_bn2")(layers.Conv2D(6, 1, use_bias=False, name="bb_conv2")(h))
    backbone = keras.Model(image, h, name="backbone")
    head = keras.Sequential([layers.GlobalAveragePooling2D(name="gap"), layers.Dense(4, name="head_dense"),
                             layers.BatchNormalization(name="head_bn")], name="head")
    inputs = keras.Input((8, 8, 3))
    x = layers.BatchNormalization(name="stem_bn")(layers.Conv2D(3, 1, name="stem")(inputs))
    model = keras.Model(inputs, layers.Dense(2, name="out")(head(backbone(x, training=False))))
    randomise_batchnorm(model, seed=6)
    return model


def test_batchnorms_inside_nested_models_fold_into_layers_of_the_same_model(tmp_path):
    model = transfer_model()
    folded, report = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    assert [(d.batchnorm, d.into) for d in report.folded] == [
        ("stem_bn", "stem"), ("backbone/bb_bn1", "backbone/bb_conv1"), ("backbone/bb_bn2", "backbone/bb_conv2"),
        ("head/head_bn", "head/head_dense")]
    assert batchnorm_names(folded) == [] and not report.refused
    assert [layer.name for layer in folded.get_layer("backbone").layers[1:]] == [
        "bb_conv1", "bb_relu", "bb_conv2"]  # the backbone's output is now its conv
    assert relative_error(model, folded) <= LAYER_TOLERANCE


@pytest.mark.parametrize("suffix,frozen", [("keras", False), ("h5", True)])
def test_a_keras_applications_backbone_nested_in_a_classifier_folds_whole(tmp_path, suffix, frozen):
    """The transfer-learning case the README quotes: every BN of a nested MobileNetV2 folds.

    In the .h5 file the backbone is frozen, as in transfer learning: all its weights are then saved in
    its list's non-trainable part.
    """
    keras.utils.set_random_seed(7)
    base = keras.applications.MobileNetV2(alpha=0.35, weights=None, include_top=False, input_shape=(96, 96, 3))
    base.trainable = not frozen
    inputs = keras.Input((96, 96, 3))
    model = keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling2D()(base(inputs, training=False))))
    randomise_batchnorm(model, seed=5)
    folded, report = fold_and_load(saved(model, tmp_path / f"m.{suffix}"), tmp_path / f"out.{suffix}")
    assert (len(report.folded), len(report.refused), batchnorm_names(folded)) == (52, 0, [])
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_a_shared_nested_backbone_folds_once_for_every_call(tmp_path):
    backbone = transfer_model().get_layer("backbone")
    left, right = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    pool = layers.GlobalAveragePooling2D()
    model = keras.Model([left, right], layers.Concatenate()([pool(backbone(left)), pool(backbone(right))]))
    folded, report = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    assert len(report.folded) == 2 and batchnorm_names(folded) == []
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_a_nested_model_starting_with_bn_does_not_fold_into_a_layer_outside_it(tmp_path):
    inner_inputs = keras.Input((6,), name="inner_in")
    inner = keras.Model(inner_inputs, layers.Dense(3)(layers.BatchNormalization(name="inner_bn")(inner_inputs)),
                        name="inner")
    inputs = keras.Input((6,))
    model = keras.Model(inputs, inner(layers.Dense(6, name="outside")(inputs)))
    assert "it follows 'inner_in', a InputLayer, not a conv" in _refusal(model, tmp_path)  # the nested model's input


@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen"])
def test_nested_models_in_h5_files_fold_in_keras_weight_order(tmp_path, frozen):
    # An .h5 file keeps a nested model's weights as one list, trainable_weights + non_trainable_weights
    # (a frozen backbone: all of them in the second part); the folded list must be in the order Keras loads.
    model = transfer_model()
    model.get_layer("backbone").trainable = not frozen
    folded, report = fold_and_load(saved(model, tmp_path / "m.h5"), tmp_path / "out.h5")
    assert [(d.batchnorm, d.into) for d in report.folded] == [
        ("stem_bn", "stem"), ("backbone/bb_bn1", "backbone/bb_conv1"), ("backbone/bb_bn2", "backbone/bb_conv2"),
        ("head/head_bn", "head/head_dense")]
    assert batchnorm_names(folded) == [] and folded.get_layer("backbone").trainable is not frozen
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_h5_nested_models_bnlint_cannot_rewrite_are_refused_with_the_reason(tmp_path):
    import h5py

    inner = keras.Sequential([layers.Dense(4, name="deep_dense"), layers.BatchNormalization(name="deep_bn")],
                             name="deep")
    middle_inputs = keras.Input((4,))
    middle = keras.Model(middle_inputs, inner(middle_inputs), name="middle")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, middle(inputs))
    _, report = fold_and_load(saved(model, tmp_path / "deep.h5"), tmp_path / "out.h5")
    assert [d.reason for d in report.refused] == [
        "it is inside the nested model 'middle', and it holds a nested model of its own, whose .h5 weights "
        "bnlint does not rewrite."]
    source = saved(transfer_model(), tmp_path / "m.h5")
    with h5py.File(source, "r+") as handle:  # an order bnlint cannot reproduce: it refuses rather than guess
        group = handle["model_weights"]["backbone"]
        group.attrs["weight_names"] = list(reversed([name.decode() if isinstance(name, bytes) else name
                                                     for name in group.attrs["weight_names"]]))
    report = fold_file(source, tmp_path / "out2.h5")
    assert {d.reason for d in report.refused} == {
        "it is inside the nested model 'backbone', and bnlint cannot reproduce the order in which Keras saved "
        "its weights in the .h5 file, so it leaves them as they are."}


# --------------------------------------------------------------------------
# A BN before the layer: only with --fold-preceding, only with valid padding
# --------------------------------------------------------------------------

def _preceding_model(layer: layers.Layer, shape: tuple, axis: int = -1) -> keras.Model:
    inputs = keras.Input(shape)
    x = layers.BatchNormalization(axis=axis)(layers.Add(name="add")([inputs, inputs]))  # nothing before the BN can absorb it
    return keras.Model(inputs, layers.Flatten()(layer(x)))


@pytest.mark.parametrize("layer,shape", [
    (layers.Conv2D(5, 3, strides=2), (9, 8, 4)),
    (layers.Conv2D(6, 3, groups=2, use_bias=False), (9, 8, 4)),
    (layers.Conv1D(5, 3, dilation_rate=2), (12, 4)),
    (layers.Conv3D(3, 2), (5, 6, 4, 2)),
    (layers.DepthwiseConv2D(3, depth_multiplier=2), (9, 8, 4)),
    (layers.Dense(5), (7,)),
    (layers.Dense(5), (3, 7)),
    (layers.Conv1D(5, 3, data_format="channels_first"), (4, 12)),
], ids=["conv2d", "conv2d-groups", "conv1d-dilated", "conv3d", "depthwise", "dense", "dense-rank3",
        "conv1d-channels-first"])
def test_fold_preceding_valid_padding_is_exact(tmp_path, layer, shape):
    axis = 1 if getattr(layer, "data_format", None) == "channels_first" else -1
    model = _preceding_model(layer, shape, axis)
    randomise_batchnorm(model, seed=6)
    source = saved(model, tmp_path / "m.keras")
    _, report = fold_and_load(source, tmp_path / "plain.keras")
    assert len(report.refused) == 1  # without the option, refused
    folded, report = fold_and_load(source, tmp_path / "out.keras", fold_preceding=True)
    assert [(d.folded, d.position) for d in report.decisions] == [(True, "before")]
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_a_channels_first_layer_keras_would_add_the_folded_bias_wrongly_to_is_refused(tmp_path):
    # The trap itself, in the Keras installed (DESIGN.md section 9): a channels_first Conv1D whose
    # last spatial size equals its channels adds its bias along that axis in an eager call.
    # Should Keras fix this, the assertion says so and the refusal can go.
    conv = layers.Conv1D(4, 3, data_format="channels_first")
    x = np.random.default_rng(3).normal(size=(2, 3, 6)).astype("float32")
    conv.build((None, 3, 6))
    conv.set_weights([conv.get_weights()[0], np.arange(1.0, 5.0, dtype="float32")])
    expected = np.asarray(conv.convolution_op(x, conv.kernel)) + np.arange(1.0, 5.0, dtype="float32")[None, :, None]
    assert np.abs(np.asarray(conv(x)) - expected).max() > 0.5, "Keras now adds a channels_first bias correctly"

    for preceding, shape in [(False, (3, 6)), (True, (4, 6))]:
        layer = layers.Conv1D(4, 3, data_format="channels_first", use_bias=False, name="conv")
        if preceding:
            model = _preceding_model(layer, shape, axis=1)
        else:
            inputs = keras.Input(shape)
            model = keras.Model(inputs, layers.BatchNormalization(axis=1)(layer(inputs)))
        reason = _refusal(model, tmp_path, fold_preceding=preceding)
        assert "'conv' is channels_first with its last spatial size equal to its 4 channels" in reason, reason
    # one step wider, the same layer folds, and the folded model matches in an eager call
    inputs = keras.Input((3, 7))
    model = keras.Model(inputs, layers.BatchNormalization(axis=1)(
        layers.Conv1D(4, 3, data_format="channels_first", use_bias=False)(inputs)))
    randomise_batchnorm(model, seed=4)
    folded, report = fold_and_load(saved(model, tmp_path / "w.keras"), tmp_path / "w_out.keras")
    assert [d.folded for d in report.decisions] == [True]
    assert relative_error(model, folded) <= LAYER_TOLERANCE


@pytest.mark.parametrize("use_bias", [False, True])
def test_a_channels_first_layer_of_unknown_width_is_refused_whether_or_not_it_has_a_bias(tmp_path, monkeypatch,
                                                                                         use_bias):
    # keras.Input((3, None, None)): any input whose output width equals the channel count hits the Keras
    # trap above at run time, and --verify (32 for unknown sizes) would not try that width.
    inputs = keras.Input((3, None, None))
    conv = layers.Conv2D(4, 3, data_format="channels_first", use_bias=use_bias, name="conv")
    model = keras.Model(inputs, layers.BatchNormalization(axis=1)(conv(inputs)))
    randomise_batchnorm(model, seed=5)
    if use_bias:
        conv.set_weights([conv.get_weights()[0], np.linspace(-1.0, 1.0, 4).astype("float32")])
    reason = _refusal(model, tmp_path)
    assert reason.startswith("'conv' is channels_first and the saved input shape leaves its last spatial size "
                             "unknown, so it may equal its 4 channels"), reason
    # Why: folded anyway, the model differs from the original where the output is 4 wide (input 6), even
    # when the layer had a bias of its own (which the original misapplies there too, differently).
    import bnlint.folding.plan as plan

    monkeypatch.setattr(plan, "_refuse_keras_bias_trap", lambda model, spec: None)
    folded, report = fold_and_load(tmp_path / "m.keras", tmp_path / "forced.keras", force=True)
    assert [d.folded for d in report.decisions] == [True]
    rng = np.random.default_rng(5)
    for width, wrong in [(6, True), (7, False)]:
        x = rng.normal(size=(2, 3, 5, width)).astype("float32")
        error = np.abs(np.asarray(model(x)) - np.asarray(folded(x))).max()
        assert bool(error > 0.1) == wrong, (width, error)


def test_fold_preceding_refuses_a_channels_first_layer_of_unknown_width(tmp_path):
    model = _preceding_model(layers.Conv1D(4, 3, data_format="channels_first", name="conv"), (4, None), axis=1)
    reason = _refusal(model, tmp_path, fold_preceding=True)
    assert "'conv' is channels_first and the saved input shape leaves its last spatial size unknown" in reason


@pytest.mark.parametrize("width,reason", [
    (8, None),
    (6, "'conv' is channels_first with its last spatial size equal to its 4 channels"),
    (None, "'conv' is channels_first and the saved input shape leaves its last spatial size unknown"),
])
def test_a_keras2_channels_first_layer_is_checked_against_the_width_its_input_layer_declares(width, reason):
    # Keras 2 configs record no shapes: the InputLayer's declared width is carried through the layers.
    from bnlint.folding.plan import plan_and_fold

    def spec(class_name, name, config, inbound):
        return {"class_name": class_name, "name": name, "config": {"name": name, **config},
                "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}

    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        spec("InputLayer", "input", {"batch_input_shape": [None, 3, 5, width], "dtype": "float32"}, None),
        spec("Conv2D", "conv", {"filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                "data_format": "channels_first", "dilation_rate": [1, 1], "activation": "linear",
                                "use_bias": False}, "input"),
        spec("BatchNormalization", "bn", {"axis": [1], "epsilon": 1e-3, "center": True, "scale": True}, "conv"),
    ], "input_layers": [["input", 0, 0]], "output_layers": [["bn", 0, 0]]}}
    weights = {"conv": [np.ones((3, 3, 3, 4), "float32")], "bn": [np.ones(4, "float32")] * 4}
    (decision,) = plan_and_fold(config, lambda name: weights.get(name, [])).decisions
    assert decision.folded is (reason is None)
    assert reason is None or decision.reason.startswith(reason), decision.reason


def test_fold_preceding_refuses_same_padding(tmp_path):
    model = _preceding_model(layers.Conv2D(5, 3, padding="same"), (9, 8, 4))
    reason = _refusal(model, tmp_path, fold_preceding=True)
    assert "'same' padding" in reason and "follows 'add'" in reason


# --------------------------------------------------------------------------
# keras.applications models, whole
# --------------------------------------------------------------------------

@pytest.mark.parametrize("builder,expected_folded,expected_total", [
    ("ResNet50", 53, 53), ("MobileNetV2", 52, 52), ("EfficientNetB0", 49, 49), ("DenseNet121", 59, 121)])
def test_applications_fold_within_tolerance(tmp_path, builder, expected_folded, expected_total):
    # The weights are seeded: with random BN statistics a deep network can become so ill-conditioned
    # that float32 itself is off by more than the tolerance (see the float64 test below).
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, builder)(weights=None)
    randomise_batchnorm(model, seed=7)
    source = saved(model, tmp_path / f"{builder}.keras")
    del model
    report = fold_file(source, tmp_path / "folded.keras", verify=True)
    assert (len(report.folded), len(report.decisions)) == (expected_folded, expected_total)
    assert report.verify.relative_error <= 1e-4, report.verify.text()
    assert report.verify.argmax_agree == report.verify.argmax_total == 8
    for decision in report.refused:  # DenseNet121: pre-activation BNs follow a Concatenate or a pooling
        assert "not a conv or dense layer" in decision.reason


def _float64_twin(model: keras.Model) -> keras.Model:
    config = model.get_config()
    for spec in config["layers"]:
        if "dtype" in spec["config"]:
            spec["config"]["dtype"] = "float64"
    twin = model.__class__.from_config(config)
    twin.set_weights([w.astype("float64") for w in model.get_weights()])
    return twin


def test_an_ill_conditioned_model_folds_as_close_to_the_float64_truth_as_float32_allows(tmp_path):
    # EfficientNetB0 with weight seed 2 and these random BN statistics amplifies float32 rounding so
    # much that the folded model differs from the original by about 1e-2 of max |output|. The original
    # float32 model is itself that far from its float64 evaluation; the folded one is no further.
    keras.utils.set_random_seed(2)
    model = keras.applications.EfficientNetB0(weights=None)
    randomise_batchnorm(model, seed=7)
    folded, _ = fold_and_load(saved(model, tmp_path / "m.keras"), tmp_path / "out.keras")
    x = np.random.default_rng(0).standard_normal((8, 224, 224, 3)).astype("float32")
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        truth = np.asarray(_float64_twin(model)(x.astype("float64"), training=False))
    finally:
        keras.config.set_floatx(previous)
    scale = np.abs(truth).max()
    original_error = np.abs(np.asarray(model(x, training=False)) - truth).max() / scale
    folded_error = np.abs(np.asarray(folded(x, training=False)) - truth).max() / scale
    assert original_error > 1e-3  # the premise: float32 cannot meet 1e-4 on this model
    assert folded_error <= 1.1 * original_error


# --------------------------------------------------------------------------
# Command line and API
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    inputs = keras.Input((8, 8, 3))
    x = layers.BatchNormalization(name="batch_normalization")(layers.Conv2D(4, 3, name="conv2d")(inputs))
    x = layers.BatchNormalization(name="batch_normalization_1")(layers.Add(name="add")([x, x]))
    model = keras.Model(inputs, layers.Dense(2)(layers.Flatten()(x)))
    randomise_batchnorm(model, seed=8)
    return model, saved(model, tmp_path_factory.mktemp("small") / "small.keras")


def test_cli_text_report_and_exit_code(small, tmp_path):
    _, source = small
    result = run_bnlint("fold", str(source), str(tmp_path / "out.keras"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{source} -> {tmp_path / 'out.keras'}"
    assert lines[1].startswith("  refused  batch_normalization_1: it follows 'add'")
    assert lines[-1] == "Folded 1 of 2 BatchNormalization layers; 1 refused."
    verbose = run_bnlint("fold", str(source), str(tmp_path / "out.keras"), "--force", "-v")
    assert "  folded   batch_normalization into conv2d (the BN was after it)" in verbose.stdout


def test_cli_json_report_and_verify(small, tmp_path):
    _, source = small
    result = run_bnlint("fold", str(source), str(tmp_path / "out.h5"), "--report", "json", "--verify")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["folded"] == 1 and report["refused"] == 1 and report["batchnorm_layers"] == 2
    assert report["decisions"][0] == {"batchnorm": "batch_normalization", "folded": True, "into": "conv2d",
                                      "position": "after", "reason": None, "renamed_to": None}
    assert report["decisions"][1]["reason"].startswith("it follows 'add'")
    verify = report["verify"]
    assert verify["passed"] and verify["batch"] == 8 and verify["relative_error"] <= 1e-5
    assert verify["argmax_agree"] == verify["argmax_total"] == 8


@pytest.mark.parametrize("level", [None, "0"])
def test_verify_keeps_tensorflows_start_up_lines_off_standard_error(small, tmp_path, level):
    # TensorFlow 2.21 writes "All log messages before absl::InitializeLog() ..." and a oneDNN notice from
    # native code, whatever TF_CPP_MIN_LOG_LEVEL says; a user who asks for level 0 gets them.
    _, source = small
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    result = subprocess.run([sys.executable, "-m", "bnlint", "fold", str(source), str(tmp_path / "out.keras"),
                             "--verify"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and "verify (ok)" in result.stdout, result.stderr
    if level is None:
        assert result.stderr == ""
    else:
        assert "oneDNN" in result.stderr or "absl" in result.stderr


def test_verify_failure_exits_1(small, tmp_path, monkeypatch, capsys):
    _, source = small
    import bnlint.folding.plan as plan

    def wrong(class_name, config, kernel, bias, bn):  # a fold on the wrong axis scale
        return kernel * 1.5, (np.zeros_like(kernel[0, 0, 0]) if bias is None else bias)

    monkeypatch.setattr(plan, "fold_into", wrong)
    assert main(["fold", str(source), str(tmp_path / "out.keras"), "--verify"]) == 1
    captured = capsys.readouterr()
    assert "verify (FAILED)" in captured.out
    assert "differ from the original's beyond the tolerance" in captured.err


@pytest.mark.parametrize("make", [
    (lambda d, src: ([str(src), str(src), "--force"], "must not be the input file")),
    (lambda d, src: ([str(src), str(_touch(d / "exists.keras"))], "already exists (use --force")),
    (lambda d, src: ([str(d / "missing.keras"), str(d / "o.keras")], "missing.keras: does not exist")),
    (lambda d, src: ([str(_write(d / "bad.keras", b"not a zip")), str(d / "o.keras")],
                     "bad.keras: is not a .keras archive (not a valid zip file)")),
    (lambda d, src: ([str(_write(d / "model.py", b"x = 1\n")), str(d / "o.keras")],
                     "model.py: is not a .keras or .h5 model file")),
    (lambda d, src: ([str(src), str(d / "o.txt")], "o.txt: the output must end in .keras or .h5")),
    (lambda d, src: ([str(src), str(d / "no" / "o.keras")], "its directory does not exist")),
    (lambda d, src: ([str(_write(d / "w.h5", b"")), str(d / "o.keras")], "w.h5: is not a readable HDF5 file")),
])
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(small, tmp_path, make):
    _, source = small
    args, expected = make(tmp_path, source)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_bnlint("fold", *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _spec(config: dict, name: str) -> dict:
    return next(spec for spec in config["config"]["layers"] if spec["config"]["name"] == name)


def _first_tensor(config: dict, name: str) -> dict:
    return _spec(config, name)["inbound_nodes"][0]["args"][0]["config"]


# Damage to the config the fold reads, each in one place: (edit, what the one-line error says).
CONFIG_DAMAGE = {
    "a layer that is a string": (lambda c: c["config"]["layers"].append("oops"),
                                 "layer 8 of 8 in the model is a string ('oops'), not a layer object"),
    "a layer that is null": (lambda c: c["config"]["layers"].insert(2, None), "layer 3 of 8 in the model is null"),
    "layers that are an object": (lambda c: c["config"].update(layers={}), "the model has layers that are an object"),
    "the model config a string": (lambda c: c.update(config="x"), "the model has a config that is a string ('x')"),
    "a layer without its config": (lambda c: _spec(c, "conv2d").pop("config"), "(Conv2D) has a config that is null"),
    "a class_name that is a number": (lambda c: _spec(c, "conv2d").update(class_name=5),
                                      "has a class_name that is a number (5)"),
    "a name that is a list": (lambda c: _spec(c, "add")["config"].update(name=["a"]),
                              "(Add) has a name that is a list"),
    "two layers of one name": (lambda c: _spec(c, "batch_normalization_1")["config"].update(name="add"),
                               "two layers in the model are named 'add'"),
    "inbound_nodes a string": (lambda c: _spec(c, "add").update(inbound_nodes="x"),
                               "layer 'add' in the model has inbound_nodes that are a string"),
    "a call that is a number": (lambda c: _spec(c, "add").update(inbound_nodes=[3]),
                                "layer 'add' in the model has a call in inbound_nodes that is a number"),
    "a short keras_history": (lambda c: _first_tensor(c, "batch_normalization").update(keras_history=["conv2d"]),
                              "whose keras_history is a list ([\"conv2d\"]), not [layer, call, index]"),
    "a keras_history with a word": (
        lambda c: _first_tensor(c, "batch_normalization").update(keras_history=["conv2d", "a", 0]),
        "not [layer, call, index]"),
    "a tensor shape that is a string": (lambda c: _first_tensor(c, "batch_normalization_1").update(shape="x"),
                                        "takes a tensor whose shape is a string"),
    "output_layers a string": (lambda c: c["config"].update(output_layers="add"),
                               "the output_layers of the model is a string"),
    "an output reference cut short": (lambda c: c["config"].update(output_layers=[["add"]]),
                                      "the output_layers of the model holds a list"),
    "input_layers a number": (lambda c: c["config"].update(input_layers=3),
                              "the input_layers of the model is a number"),
    "a BN axis that is a string": (lambda c: _spec(c, "batch_normalization")["config"].update(axis="x"),
                                   "has an axis that is a string ('x')"),
    "a BN epsilon that is a list": (lambda c: _spec(c, "batch_normalization")["config"].update(epsilon=[1]),
                                    "has an epsilon that is a list"),
    "a BN scale that is a word": (lambda c: _spec(c, "batch_normalization")["config"].update(scale="no"),
                                  "has a scale that is a string ('no'), not true or false"),
    "a use_bias that is a word": (lambda c: _spec(c, "conv2d")["config"].update(use_bias="yes"),
                                  "layer 'conv2d' in the model has a use_bias that is a string"),
    "an activation that is a number": (lambda c: _spec(c, "conv2d")["config"].update(activation=5),
                                       "has an activation that is a number"),
    "a dtype policy with a string config": (lambda c: _spec(c, "conv2d")["config"].update(dtype={"config": "x"}),
                                            "has a dtype policy whose config is a string"),
    "a module that is a number": (lambda c: _spec(c, "conv2d").update(module=3), "has a module that is a number"),
    "a call nested 300 levels deep": (lambda c: _spec(c, "add")["inbound_nodes"][0]["kwargs"].update(deep=_nested(300)),
                                      "lists and objects nest more than 200 levels deep"),
    # Keras cannot load these either; the fold wrote them out and said it folded.
    "an output naming a layer the model lacks": (lambda c: c["config"].update(output_layers=[["zzz", 0, 0]]),
                                                 "the output_layers of the model names a layer 'zzz' that the model "
                                                 "does not have"),
    "a call taking a layer the model lacks": (lambda c: _first_history(_spec(c, "add")["inbound_nodes"]).__setitem__(
        0, "gone"), "layer 'add' in the model takes the output of a layer 'gone' that the model does not have"),
}


def _first_history(value) -> list:
    """The first ``keras_history`` of a Keras 3 tensor reference in *value*."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return value["config"]["keras_history"]
        value = list(value.values())
    for item in value if isinstance(value, list) else []:
        found = _first_history(item)
        if found is not None:
            return found
    return None


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("suffix", ["keras", "h5"])
@pytest.mark.parametrize("damage", CONFIG_DAMAGE, ids=lambda name: name.replace(" ", "-"))
def test_a_damaged_config_is_one_sentence_exit_2_and_nothing_written(small, tmp_path, capsys, suffix, damage):
    import h5py

    model, _ = small
    source = saved(model, tmp_path / f"m.{suffix}")
    edit, expected = CONFIG_DAMAGE[damage]
    if suffix == "keras":
        with zipfile.ZipFile(source) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        config = json.loads(members["config.json"])
        edit(config)
        members["config.json"] = json.dumps(config).encode()
        with zipfile.ZipFile(source, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    else:
        with h5py.File(source, "r+") as handle:
            config = json.loads(handle.attrs["model_config"])
            edit(config)
            handle.attrs["model_config"] = json.dumps(config)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["fold", str(source), str(tmp_path / "out.keras")]) == 2
    captured = capsys.readouterr()
    what = "config.json" if suffix == "keras" else "model_config"
    assert captured.err.startswith(f"bnlint: error: {source}: has a {what} in which "), captured.err
    assert expected in captured.err and captured.err.count("\n") == 1, captured.err
    assert captured.out == "" and sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_damaged_nested_model_config_is_one_sentence_exit_2(tmp_path, capsys):
    # The layers of a nested model are read too (its weights groups, its BNs): a string among them was a
    # traceback from the .keras weights check and from planning.
    source = saved(transfer_model(), tmp_path / "m.keras")
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    _spec(config, "backbone")["config"]["layers"].append("oops")
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(source, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert main(["fold", str(source), str(tmp_path / "out.keras")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in the nested model 'backbone' is a string ('oops'), not a layer object" in err
    assert not (tmp_path / "out.keras").exists()


def _touch(path: Path) -> Path:
    path.write_bytes(b"keep me")
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


SAVED = Path(__file__).resolve().parent.parent / "fixtures" / "saved"


@pytest.mark.parametrize("name", ["functional_bias_dropout_momentum", "sequential_bias_dropout_momentum"])
@pytest.mark.parametrize("source_suffix,target_suffix", [("keras", "keras"), ("h5", "h5"), ("h5", "keras"),
                                                         ("keras", "h5")])
def test_committed_saved_fixtures_fold_and_verify(tmp_path, name, source_suffix, target_suffix):
    report = fold_file(SAVED / f"{name}.{source_suffix}", tmp_path / f"out.{target_suffix}", verify=True)
    assert [d.batchnorm for d in report.refused] == ["bn_after_dropout"]  # a Dropout sits before it
    assert report.verify.passed, report.verify.text()


@pytest.mark.parametrize("name", ["functional_bias_dropout_momentum_tfkeras", "sequential_bias_dropout_momentum_tfkeras"])
def test_committed_keras2_h5_fixtures_fold_and_verify(tmp_path, name):
    report = fold_file(SAVED / f"{name}.h5", tmp_path / "out.h5", verify=True)
    assert [d.batchnorm for d in report.refused] == ["bn_after_dropout"]
    assert len(report.folded) == (2 if name.startswith("functional") else 1)
    assert report.verify.passed, report.verify.text()


KERAS2_ZOO = Path(__file__).resolve().parent / "data" / "keras2_fold_zoo.h5"


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_keras2_model_folds_into_every_layer_family_and_matches_tf_keras_itself(tmp_path, suffix):
    # Made by tf_keras (tests/data/make_keras2_fold_zoo.py), with tf_keras' own outputs for four inputs, and
    # saved both as .h5 and as tf_keras' own .keras archive (same weights). The archive's weight groups are
    # named by class only, and Keras 3 cannot load it: it is folded into a Keras 2 .h5, and --verify runs
    # the original as .h5 too.
    out = tmp_path / "folded.h5"
    report = fold_file(KERAS2_ZOO.with_suffix(suffix), out, verify=True)
    assert {d.batchnorm: d.into for d in report.folded} == {
        "stem_bn": "stem", "depthwise_bn": "depthwise", "separable_bn": "separable",
        "transpose_bn": "transpose", "seq_dense_bn": "seq_dense", "head_bn": "head_dense"}
    # A Dense on a (5, 4) sequence: the BN's saved axis [1] is the time axis, found by propagating ranks.
    assert [(d.batchnorm, d.reason) for d in report.refused] == [
        ("time_bn", "its axis 1 is not the channel axis (2) of 'time_dense'.")]
    assert report.verify.passed, report.verify.text()
    from bnlint.folding.verify import _keras2_compatible

    folded = keras.saving.load_model(out, compile=False, custom_objects=_keras2_compatible(keras))
    reference = np.load(KERAS2_ZOO.with_name("keras2_fold_zoo_outputs.npz"))
    outputs = np.asarray(folded([reference["image"], reference["sequence"]]))
    assert np.abs(outputs - reference["outputs"]).max() <= LAYER_TOLERANCE * np.abs(reference["outputs"]).max()
    assert batchnorm_names(folded) == ["time_bn"]


def test_a_folded_keras2_h5_stays_a_keras2_file(tmp_path):
    import h5py

    out = tmp_path / "folded.h5"
    fold_file(KERAS2_ZOO, out)
    with h5py.File(out, "r") as handle:
        assert handle.attrs["keras_version"] == "2.21.0"
        config = json.loads(handle.attrs["model_config"])
        stem = handle["model_weights"]["stem"]
        assert [name.decode() if isinstance(name, bytes) else name for name in stem.attrs["weight_names"]] == [
            "stem/kernel:0", "stem/bias:0"]  # the bias the fold created, named as tf_keras names it
    specs = {spec["name"]: spec for spec in config["config"]["layers"]}
    assert "stem_bn" not in specs and specs["stem"]["config"]["use_bias"] is True
    assert specs["stem_relu"]["inbound_nodes"] == [[["stem", 0, 0, {}]]]  # rewired, in Keras 2's spelling


@pytest.mark.parametrize("variant", ["trainable", "frozen"])
def test_keras2_nested_backbone_folds_into_the_layout_tf_keras_itself_writes(tmp_path, variant):
    # Keras 3 cannot load a tf_keras model with a nested model, so the folded file is compared with the
    # file tf_keras saved for the folded architecture (tests/data/make_keras2_fold_zoo.py): tf_keras
    # reads .h5 weights by position, so the same layer order and weight order per group is what counts.
    import h5py

    out = tmp_path / "folded.h5"
    report = fold_file(KERAS2_ZOO.with_name(f"keras2_nested_{variant}.h5"), out)
    assert [(d.batchnorm, d.into) for d in report.folded] == [
        ("head/bn", "head/dense"), ("backbone/c1/bn", "backbone/c1/conv"), ("backbone/b2", "backbone/c2")]
    assert [(d.batchnorm, d.reason[:40]) for d in report.refused] == [
        ("backbone/bn", "it follows 'add', a Add, not a conv or d")]
    reference = KERAS2_ZOO.with_name(f"keras2_nested_{variant}_folded_layout.h5")
    with h5py.File(out, "r") as ours, h5py.File(reference, "r") as theirs:
        def layout(handle):
            weights = handle["model_weights"]
            names = [_decoded(name) for name in weights.attrs["layer_names"]]
            config = json.loads(handle.attrs["model_config"])["config"]
            backbone = next(spec for spec in config["layers"] if spec["name"] == "backbone")
            return (names, [spec["name"] for spec in backbone["config"]["layers"]], backbone["config"]["trainable"],
                    {name: [(_decoded(w), weights[name][_decoded(w)].shape) for w in weights[name].attrs["weight_names"]]
                     for name in names})

        folded = layout(ours)
        names, backbone, trainable, weights = layout(theirs)
        # The model's output was head/bn's: the layer that absorbed it takes its name (tf_keras' file, saved
        # from the folded architecture, keeps head/dense), its variables named after it.
        renamed = {"head/dense": "head/bn"}
        assert folded == ([renamed.get(name, name) for name in names], backbone, trainable, {
            renamed.get(name, name): [(weight.replace("head/dense/", "head/bn/"), shape) for weight, shape in group]
            for name, group in weights.items()})
    # Folding c1/bn made c1/conv shallower than c3: both are 3x3x3x4 kernels, listed (and loaded) c3 first.
    assert folded[1][1:3] == ["c3", "c1/conv"]
    # The BN named "bn" keeps its own four variables, not those of the folded "c1/bn".
    assert [name for name, _ in folded[3]["backbone"] if name.startswith(("bn/", "c1/bn/"))] == [
        "bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"]


def test_weight_names_split_into_chunks_are_read(tmp_path):
    # Keras splits an attribute bigger than an HDF5 object header into weight_names0, weight_names1, ...
    # (a nested NASNetMobile has 1,124 weight names); bnlint reads them as Keras does.
    import h5py

    model = transfer_model()
    source = saved(model, tmp_path / "m.h5")
    with h5py.File(source, "r+") as handle:
        group = handle["model_weights"]["backbone"]
        names = list(group.attrs["weight_names"])
        del group.attrs["weight_names"]
        group.attrs["weight_names0"], group.attrs["weight_names1"] = names[:3], names[3:]
    folded, report = fold_and_load(source, tmp_path / "out.h5")
    assert len(report.folded) == 4 and not report.refused, report.text()
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def _decoded(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.mark.parametrize("name", ["functional_bias_dropout_momentum_tfkeras", "sequential_bias_dropout_momentum_tfkeras"])
def test_tf_keras_archive_folds_to_what_its_h5_twin_folds_to(tmp_path, name):
    # The committed fixtures save one tf_keras model both ways: the .h5 names each weight by its layer, the
    # archive only by class and position, so equal folds show the archive's groups are matched to the
    # right layers (a Sequential's InputLayer has no group there, a functional one's has).
    import h5py

    from_archive, from_h5 = tmp_path / "from_archive.h5", tmp_path / "from_h5.h5"
    fold_file(SAVED / f"{name}.keras", from_archive)
    fold_file(SAVED / f"{name}.h5", from_h5)
    with h5py.File(from_archive, "r") as ours, h5py.File(from_h5, "r") as twin:
        assert json.loads(ours.attrs["model_config"]) == json.loads(twin.attrs["model_config"])
        assert ours.attrs["keras_version"] == twin.attrs["keras_version"] == "2.21.0"
        names = [_decoded(layer) for layer in twin["model_weights"].attrs["layer_names"]]
        assert [_decoded(layer) for layer in ours["model_weights"].attrs["layer_names"]] == names
        for layer in names:
            def values(handle):
                group = handle["model_weights"][layer]
                return [np.asarray(group[_decoded(weight)]) for weight in group.attrs["weight_names"]]

            ours_values, twin_values = values(ours), values(twin)
            assert len(ours_values) == len(twin_values) and all(
                np.array_equal(a, b) for a, b in zip(ours_values, twin_values)), layer


def test_tf_keras_archive_with_a_nested_model_is_refused_in_one_sentence(tmp_path):
    result = run_bnlint("fold", str(KERAS2_ZOO.with_name("keras2_nested_trainable.keras")), str(tmp_path / "out.h5"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "holds a nested model ('backbone') saved by tf_keras" in result.stderr
    assert "save the model as .h5 with tf_keras" in result.stderr
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("edit,message", [
    # a layer class renamed: its group no longer follows from the config
    (lambda config: config.replace(b'"class_name": "Dropout"', b'"class_name": "SpatialDropout2D"'),
     "has weights groups bnlint cannot match to its layers in model.weights.h5 (layers/dropout)"),
    (lambda config: json.dumps({"class_name": "Functional", "config": {"layers": [1, 2]}}).encode(),
     "has a config.json in which layer 1 of 2 in the model is a number (1), not a layer object"),
])
def test_tf_keras_archive_bnlint_cannot_map_is_refused_in_one_sentence(tmp_path, edit, message):
    source = tmp_path / "edited.keras"
    with zipfile.ZipFile(SAVED / "functional_bias_dropout_momentum_tfkeras.keras") as original, \
            zipfile.ZipFile(source, "w") as copy:
        for item in original.namelist():
            data = original.read(item)
            copy.writestr(item, edit(data) if item == "config.json" else data)
    result = run_bnlint("fold", str(source), str(tmp_path / "out.h5"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_keras1_model_is_refused_in_one_sentence(tmp_path, suffix):
    import h5py

    source = tmp_path / f"old{suffix}"
    if suffix == ".h5":
        source.write_bytes(KERAS2_ZOO.read_bytes())
        with h5py.File(source, "r+") as handle:
            handle.attrs["keras_version"] = "1.2.2"
    else:
        with zipfile.ZipFile(KERAS2_ZOO.with_suffix(".keras")) as original, zipfile.ZipFile(source, "w") as copy:
            for item in original.namelist():
                data = original.read(item)
                copy.writestr(item, b'{"keras_version": "1.2.2"}' if item == "metadata.json" else data)
    result = run_bnlint("fold", str(source), str(tmp_path / "out.h5"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "was saved by Keras 1.2.2; bnlint fold reads models saved by Keras 2 and Keras 3" in result.stderr
    assert not (tmp_path / "out.h5").exists()


def test_a_keras2_model_is_not_written_as_keras3_archive(tmp_path):
    result = run_bnlint("fold", str(KERAS2_ZOO), str(tmp_path / "out.keras"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot hold a model saved by Keras 2.21.0 (tf_keras)" in result.stderr
    assert not (tmp_path / "out.keras").exists()


def test_a_model_keras_cannot_load_fails_verify_in_one_sentence(tmp_path):
    import h5py

    source = tmp_path / "mystery.h5"
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    model.save(source)
    with h5py.File(source, "r+") as handle:  # a layer class Keras does not know, after the BN
        config = json.loads(handle.attrs["model_config"])
        config["config"]["layers"].append({"class_name": "Mystery", "config": {"name": "mystery"}})
        handle.attrs["model_config"] = json.dumps(config)
    result = run_bnlint("fold", str(source), str(tmp_path / "out.h5"), "--verify")
    # (TensorFlow's own start-up lines may precede bnlint's; there is one line of bnlint's)
    ours = [line for line in result.stderr.splitlines() if line.startswith("bnlint:")]
    assert result.returncode == 2 and len(ours) == 1, result.stderr
    assert "out.h5: was written, but could not be verified because Keras" in ours[0]
    assert "Unknown layer: 'Mystery'" in ours[0] and "Traceback" not in result.stderr
    assert (tmp_path / "out.h5").exists()  # the fold itself was written whole; only verifying failed
    assert "Folded 1 of 1 BatchNormalization layer." in result.stdout  # its report is not lost
    as_json = run_bnlint("fold", str(source), str(tmp_path / "out.h5"), "--verify", "--force", "--report", "json")
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and report["folded"] == 1 and report["verify"] is None
    assert "Unknown layer: 'Mystery'" in report["verify_error"]
    with pytest.raises(UserError, match="could not be verified"):  # the API raises it
        bnlint.fold(source, tmp_path / "again.h5", verify=True)


def test_a_model_keras_loads_but_cannot_run_fails_verify_in_one_sentence(tmp_path):
    source = tmp_path / "unbuilt.keras"  # a Sequential never built: Keras saves and loads it, without inputs
    keras.Sequential([layers.Conv2D(4, 3), layers.BatchNormalization()]).save(source)
    result = run_bnlint("fold", str(source), str(tmp_path / "out.keras"), "--verify")
    ours = [line for line in result.stderr.splitlines() if line.startswith("bnlint:")]
    assert result.returncode == 2 and len(ours) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "out.keras: was written, but could not be verified because Keras" in ours[0]
    assert "cannot run" in ours[0] and "has no defined inputs" in ours[0]
    assert (tmp_path / "out.keras").exists()


@pytest.mark.parametrize("name,message", [
    ("functional_bias_dropout_momentum_tfkeras.keras", "out.keras: cannot hold a model saved by Keras 2.21.0 "
                                                       "(tf_keras), whose config Keras 3 spells differently; "
                                                       "write the output as .h5"),
    ("sequential_bias_dropout_momentum_tfkeras_savedmodel", "is a directory; bnlint fold reads .keras and .h5"),
])
def test_legacy_models_are_refused_in_one_sentence(tmp_path, name, message):
    result = run_bnlint("fold", str(SAVED / name), str(tmp_path / "out.keras"))
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out.keras").exists()


def test_existing_output_is_untouched_without_force_and_replaced_with_it(small, tmp_path):
    _, source = small
    out = _touch(tmp_path / "out.keras")
    assert run_bnlint("fold", str(source), str(out)).returncode == 2
    assert out.read_bytes() == b"keep me"
    assert run_bnlint("fold", str(source), str(out), "--force").returncode == 0
    assert zipfile.is_zipfile(out)


def test_cross_format_with_nested_weights_is_refused_before_writing(tmp_path):
    inner_inputs = keras.Input((6,))
    inner = keras.Model(inner_inputs, layers.Dense(3)(inner_inputs), name="inner")
    inputs = keras.Input((6,))
    model = keras.Model(inputs, inner(layers.BatchNormalization()(layers.Dense(6)(inputs))))
    source = saved(model, tmp_path / "m.keras")
    with pytest.raises(UserError, match="layer 'inner' \\(Functional\\) has nested weights"):
        fold_file(source, tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]
    folded, _ = fold_and_load(source, tmp_path / "out.keras")  # same format: the nested model is copied
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_fold_without_verify_never_imports_tensorflow(small, tmp_path):
    _, source = small
    code = ("import sys; from bnlint.cli import main; "
            f"code = main(['fold', {str(source)!r}, {str(tmp_path / 'o.keras')!r}]); "
            "bad = [m for m in ('tensorflow', 'keras', 'tf_keras', 'jax', 'torch') if m in sys.modules]; "
            "assert not bad and code == 0, (bad, code)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_api_on_a_path_and_on_a_live_model(small, tmp_path):
    model, source = small
    result = bnlint.fold(source, tmp_path / "out.keras")
    assert result.model == tmp_path / "out.keras" and len(result.report.folded) == 1
    with pytest.raises(UserError, match="needs `out`"):
        bnlint.fold(source)
    folded, report = bnlint.fold(model, verify=True)
    assert isinstance(folded, keras.Model) and folded is not model
    assert batchnorm_names(folded) == ["batch_normalization_1"]
    assert batchnorm_names(model) == ["batch_normalization", "batch_normalization_1"]  # input unchanged
    assert report.verify.passed and report.input == model.name
    assert relative_error(model, folded) <= LAYER_TOLERANCE


def test_api_on_a_live_model_with_a_lambda_and_an_unregistered_custom_layer(tmp_path):
    class Shift(keras.layers.Layer):  # not registered with Keras
        def call(self, x):
            return x + 1.0

    class Scale(keras.layers.Layer):  # Keras saves its config without a name: __init__ takes none
        def __init__(self, amount, trainable=True, dtype=None):
            super().__init__(trainable=trainable, dtype=dtype)
            self.amount = amount

        def call(self, x):
            return x * self.amount

    class Broken(keras.layers.Layer):  # a get_config its __init__ cannot take
        def get_config(self):
            return {"wrong": 1}

        def call(self, x):
            return x

    keras.utils.set_random_seed(2)
    inputs = keras.Input((4,))
    x = keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(3)(inputs))
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(Shift(name="shift")(x))
    model = keras.Model(inputs, x, name="custom")
    model.get_layer("bn").moving_variance.assign([4.0, 0.25, 1.0])
    folded, report = bnlint.fold(model, verify=True)
    assert [type(layer).__name__ for layer in folded.layers] == ["InputLayer", "Dense", "Shift", "Lambda"]
    assert report.verify.passed and report.output == "custom (folded, in memory)"
    assert str(tmp_path) not in report.text() and "bnlint-fold-" not in report.text()

    scaled = keras.Model(inputs, Scale(3.0)(x), name="scaled")
    folded, report = bnlint.fold(scaled, verify=True)
    assert type(folded.layers[-1]).__name__ == "Scale" and report.verify.passed

    broken = keras.Model(inputs, Broken()(x), name="broken")
    with pytest.raises(UserError, match="^model 'broken': was folded, but Keras cannot load the folded model back "
                                        "\\(ValueError: Unrecognized keyword arguments passed to Broken: "):
        bnlint.fold(broken)


def test_readme_folding_example_runs():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Folding BN for inference", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```python\n")[1:]
    assert len(blocks) == 1
    exec(compile(blocks[0].split("```", 1)[0], "README.md", "exec"), {})


def test_verify_text_of_a_regression_output_has_no_argmax_to_compare():
    """chemml's property regressors have one output unit: "argmax agrees on 0/0" said nothing."""
    from bnlint.folding.verify import compare_outputs

    rng = np.random.default_rng(0)
    original = [rng.normal(size=(8, 1)).astype("float32")]
    result = compare_outputs(original, [original[0] + 1e-7], 8)
    assert result.passed and result.argmax_total == 0
    assert result.text().endswith("(tolerance 0.0001), no argmax to compare (one value per output)")
    classifier = [rng.normal(size=(8, 3)).astype("float32")]
    assert compare_outputs(classifier, classifier, 8).text().endswith("argmax agrees on 8/8")


def test_verify_fails_when_an_output_is_not_finite():
    """A folded float16 kernel that overflows gives NaN outputs; a NaN is never any maximum, so it was "ok"."""
    from bnlint.folding.verify import compare_outputs

    rng = np.random.default_rng(0)
    original = [rng.normal(size=(8, 1)).astype("float32")]
    broken = [np.full((8, 1), np.nan, dtype="float32")]
    result = compare_outputs(original, broken, 8)
    assert not result.passed and result.non_finite == 8
    assert "8 output values not finite (NaN or inf)" in result.text() and result.to_dict()["non_finite"] == 8
    inf = original[0].copy()
    inf[3, 0] = np.inf
    assert not compare_outputs(original, [inf], 8).passed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (inf - inf printed numpy's "invalid value encountered" under fold --verify)
        assert not compare_outputs([inf], [inf], 8).passed  # an original that is broken already is not verified


@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 4 * 2.0 ** -10), ("mixed_bfloat16", 4 * 2.0 ** -7)])
def test_verify_of_a_half_precision_model_allows_its_rounding(policy, tolerance):
    """The folded model is as close to a float32 rebuild as the original, but 1e-4 is below float16's resolution."""
    rng = np.random.default_rng(1)
    inputs = keras.Input((12, 12, 3))
    x = layers.Conv2D(8, 3, dtype=policy)(inputs)
    x = layers.BatchNormalization(dtype=policy)(x)
    x = layers.ReLU(dtype=policy)(x)
    x = layers.Dense(3, dtype="float32")(layers.Flatten(dtype=policy)(x))
    model = keras.Model(inputs, x)
    bn = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
    bn.set_weights([rng.uniform(0.5, 2, 8), rng.normal(size=8), rng.normal(size=8), rng.uniform(0.5, 2, 8)])
    folded, report = bnlint.fold(model, verify=True)
    assert report.verify.tolerance == tolerance
    assert 1e-4 < report.verify.relative_error <= tolerance  # (failed with the float32 tolerance)
    assert report.verify.passed and report.verify.to_dict()["tolerance"] == tolerance
