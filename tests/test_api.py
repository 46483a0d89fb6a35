"""The Python API with real Keras: load() of live models and files, to_keras(), insert_batchnorm()."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import bnlint  # noqa: E402
from bnlint.keras_build import BuildError  # noqa: E402
from conftest import FIXTURES, ROOT  # noqa: E402

layers = keras.layers
SAVED = ROOT / "fixtures" / "saved"


def small_cnn() -> "keras.Model":
    """A CNN with a residual add, an add of one tensor to itself, and a dense head."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 3), name="img")
    x = layers.Conv2D(8, 3, padding="same", name="c1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="r1")(x)
    y = layers.Conv2D(8, 3, padding="same", name="c2")(x)
    y = layers.Add(name="res")([x, y])
    y = layers.Add(name="twice")([y, y])
    y = layers.GlobalAveragePooling2D(name="gap")(y)
    return keras.Model(inputs, layers.Dense(3, name="head")(y), name="small_cnn")


def nested_and_shared() -> "keras.Model":
    keras.utils.set_random_seed(4)
    inner_in = keras.Input((6,))
    encoder = keras.Model(inner_in, layers.Dense(4, name="enc_dense")(inner_in), name="encoder")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    shared = layers.Dense(6, name="shared")
    merged = layers.Concatenate(name="cat")([encoder(shared(a)), encoder(shared(b))])
    return keras.Model([a, b], layers.Dense(2, name="out")(merged), name="siamese")


def sequential() -> "keras.Model":
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input((5,)), layers.Dense(4, name="d1"), layers.BatchNormalization(name="bn"),
                             layers.Dense(2, name="d2")], name="seq")


def images(shape=(12, 12, 3), count=4, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, *shape)).astype("float32")


def predict(model, data):
    return np.asarray(model(data, training=False))


def assert_same_weights(original, rebuilt, skip=()):
    for layer in original.layers:
        if layer.name in skip:
            continue
        old, new = layer.get_weights(), rebuilt.get_layer(layer.name).get_weights()
        assert len(old) == len(new), layer.name
        assert all(np.array_equal(x, y) for x, y in zip(old, new)), layer.name


def test_round_trip_of_an_untouched_model_computes_the_same():
    model = small_cnn()
    [graph] = bnlint.load(model)
    rebuilt = graph.to_keras()
    assert rebuilt is not model and rebuilt.name == "small_cnn"
    assert [l.name for l in rebuilt.layers] == [l.name for l in model.layers]
    assert_same_weights(model, rebuilt)
    data = images()
    assert np.array_equal(predict(model, data), predict(rebuilt, data))


def test_round_trip_keeps_nested_models_and_shared_layers():
    model = nested_and_shared()
    graphs = bnlint.load(model)
    assert [g.name for g in graphs] == ["siamese", "encoder"]  # one graph per nested model, however often called
    rebuilt = graphs[0].to_keras()
    data = [images((6,), seed=1), images((6,), seed=2)]
    assert np.array_equal(predict(model, data), predict(rebuilt, data))
    assert sum(1 for l in rebuilt.layers if l.name == "shared") == 1  # one layer, called twice
    assert np.array_equal(rebuilt.get_layer("encoder").get_layer("enc_dense").get_weights()[0],
                          model.get_layer("encoder").get_layer("enc_dense").get_weights()[0])


def test_sequential_becomes_an_equivalent_functional_model():
    model = sequential()
    data = images((5,))
    model.get_layer("bn").moving_mean.assign(np.arange(4, dtype="float32"))  # non-trainable state carries too
    rebuilt = bnlint.load(model)[0].to_keras()
    assert np.array_equal(predict(model, data), predict(rebuilt, data))


@pytest.mark.parametrize("name", ["functional_bias_dropout_momentum", "sequential_bias_dropout_momentum"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_files_rebuild_with_their_weights(name, suffix):
    path = SAVED / f"{name}{suffix}"
    graph = bnlint.load(path)[0]
    original = keras.saving.load_model(path, compile=False)
    rebuilt = graph.to_keras()
    assert_same_weights(original, rebuilt)
    data = images(tuple(original.inputs[0].shape[1:]))
    assert np.array_equal(predict(original, data), predict(rebuilt, data))


def test_a_file_keras_cannot_load_is_one_clear_error():
    path = SAVED / "functional_bias_dropout_momentum_tfkeras.keras"
    graph = bnlint.load(path)[0]
    # Keras 3 cannot rebuild tf_keras' layer configs (nor load the file for its weights)
    with pytest.raises((bnlint.InputError, BuildError), match="cannot be (rebuilt|loaded) by Keras"):
        graph.to_keras()


def test_graphs_from_source_are_refused():
    graph = bnlint.load(FIXTURES / "good_functional_resnet_block.py")[0]
    with pytest.raises(BuildError, match="graphs read from Python source, .* cannot be rebuilt"):
        graph.to_keras()


def test_savedmodel_directories_say_why_their_weights_cannot_be_carried():
    graph = bnlint.load(SAVED / "functional_bias_dropout_momentum_tfkeras_savedmodel")[0]
    with pytest.raises((bnlint.InputError, BuildError), match="Keras 3 cannot load|cannot be rebuilt by Keras"):
        graph.to_keras()


def test_subclassed_live_models_are_refused():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(bnlint.InputError, match="is a subclassed model"):
        bnlint.load(Tiny())


def test_edits_carry_weights_only_where_they_still_fit():
    model = small_cnn()
    [graph] = bnlint.load(model)
    graph.set_config("c2", use_bias=False)  # kernel kept, bias dropped
    graph.set_config("bn1", momentum=0.9)  # every variable kept
    graph.remove("r1")
    rebuilt = graph.to_keras()
    assert [w.name for w in rebuilt.get_layer("c2").weights] == ["kernel"]
    assert np.array_equal(rebuilt.get_layer("c2").kernel.numpy(), model.get_layer("c2").kernel.numpy())
    assert rebuilt.get_layer("bn1").momentum == 0.9
    assert_same_weights(model, rebuilt, skip={"c2", "r1"})
    assert "r1" not in [l.name for l in rebuilt.layers]


def test_replace_with_a_live_layer_uses_that_layer():
    model = small_cnn()
    [graph] = bnlint.load(model)
    swish = layers.Activation("swish", name="swish")
    graph.replace("r1", swish)
    rebuilt = graph.to_keras()
    assert rebuilt.get_layer("swish") is swish
    x = predict(keras.Model(model.inputs, model.get_layer("bn1").output), images())
    probe = keras.Model(rebuilt.inputs, rebuilt.get_layer("swish").output)
    np.testing.assert_allclose(predict(probe, images()), x / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)


def test_insert_batchnorm_keeps_every_other_weight_and_is_identity_with_tiny_epsilon():
    model = small_cnn()
    data = images()
    bigger = bnlint.insert_batchnorm(model, after="Conv2D", epsilon=1e-9)
    assert [l.name for l in bigger.layers] == [
        "img", "c1", "c1_bn", "bn1", "r1", "c2", "c2_bn", "res", "twice", "gap", "head"]
    assert_same_weights(model, bigger)
    for name in ("c1_bn", "c2_bn"):
        gamma, beta, mean, variance = bigger.get_layer(name).get_weights()
        assert (gamma == 1).all() and (beta == 0).all() and (mean == 0).all() and (variance == 1).all()
        assert bigger.get_layer(name).momentum == 0.99
    # 1 + 1e-9 rounds to 1 in float32, so each inserted BN is x * 1 + 0
    np.testing.assert_allclose(predict(bigger, data), predict(model, data), rtol=1e-6, atol=1e-6)
    assert len(model.layers) == 9  # the input model is unchanged


def test_inserted_batchnorm_with_default_epsilon_scales_by_one_over_sqrt_one_plus_epsilon():
    model = small_cnn()
    bigger = bnlint.insert_batchnorm(model, after=lambda layer: layer.name == "c2")
    bn = bigger.get_layer("c2_bn")
    assert bn.epsilon == 1e-3
    probe = keras.Model(bigger.inputs, [bn.input, bn.output])
    before, after = (np.asarray(t) for t in probe(images(), training=False))
    np.testing.assert_allclose(after, before / np.sqrt(1 + 1e-3), rtol=1e-6, atol=1e-7)


def test_insert_batchnorm_follows_the_channel_axis_and_refuses_no_match():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 6))
    x = layers.Conv1D(5, 3, data_format="channels_first", name="cf")(inputs)
    model = keras.Model(inputs, layers.Dense(2, name="d")(x))
    bigger = bnlint.insert_batchnorm(model, after=["cf", "d"])
    assert bigger.get_layer("cf_bn").axis == 1 and bigger.get_layer("d_bn").axis in (-1, 2)
    with pytest.raises(bnlint.RewriteError, match="no layer of model .* matches"):
        bnlint.insert_batchnorm(model, after="Conv2D")


def test_insert_batchnorm_after_layers_that_keep_a_channels_first_layout_uses_axis_1():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 8, 8), name="img")
    pooled = layers.MaxPooling2D(data_format="channels_first", name="pool_in")(inputs)  # its own data_format
    x = layers.Conv2D(4, 3, padding="same", data_format="channels_first", name="conv")(pooled)
    x = layers.ReLU(name="relu")(x)
    x = layers.ZeroPadding2D(1, data_format="channels_first", name="pad")(x)
    x = layers.UpSampling2D(data_format="channels_first", name="up")(x)
    y = layers.Conv2D(4, 1, data_format="channels_first", name="side")(x)
    x = layers.Add(name="add")([x, y])
    x = layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, layers.Dense(2, name="head")(x))
    chosen = ["pool_in", "relu", "pad", "up", "add", "flat"]
    bigger = bnlint.insert_batchnorm(model, after=chosen, epsilon=1e-9)
    assert {name: bigger.get_layer(f"{name}_bn").axis for name in chosen} == {
        "pool_in": 1, "relu": 1, "pad": 1, "up": 1, "add": 1, "flat": -1}
    data = np.random.default_rng(1).normal(size=(2, 3, 8, 8)).astype("float32")
    np.testing.assert_allclose(bigger.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-5, atol=1e-6)
    for name in chosen[:-1]:  # one gamma per channel, not per image column
        assert bigger.get_layer(f"{name}_bn").gamma.shape == (bigger.get_layer(name).output.shape[1],)


def test_insert_batchnorm_on_mobilenet_v2_keeps_weights_bitwise_and_outputs():
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(64, 64, 3), alpha=0.35, classes=10,
                                           classifier_activation=None)
    data = images((64, 64, 3), count=4)
    # Freshly initialised, MobileNetV2's BN statistics (0 and 1) shrink its activations to ~1e-10 at the
    # logits, where any difference would vanish; give the BNs the statistics of the data first (AdaBN).
    bnlint.adapt.recalibrate(model, data)
    expected = predict(model, data)
    assert np.abs(expected).max() > 0.1
    relus = [l.name for l in model.layers if isinstance(l, layers.ReLU)]
    assert len(relus) == 35

    bigger = bnlint.insert_batchnorm(model, after="ReLU", epsilon=1e-9)
    assert len(bigger.layers) == len(model.layers) + len(relus)
    assert {f"{name}_bn" for name in relus} <= {l.name for l in bigger.layers}
    assert_same_weights(model, bigger)
    # 1 + 1e-9 is 1 in float32: every inserted BN is x * 1 + 0, so nothing changes
    np.testing.assert_allclose(predict(bigger, data), expected, rtol=1e-6, atol=1e-6)

    # With Keras' default epsilon each BN scales by 1/sqrt(1.001); the BN after it then subtracts its
    # moving mean, so the error grows with that channel's |mean| / std: far more than 35 * 5e-4.
    default = predict(bnlint.insert_batchnorm(model, after="ReLU"), data)
    relative = np.abs(default - expected).max() / np.abs(expected).max()
    assert 0.02 < relative < 0.5


@pytest.mark.parametrize("builder", ["EfficientNetB0", "ConvNeXtTiny"])
def test_keras_applications_round_trip_exactly(builder):
    # EfficientNet: Rescaling, Normalization (with its own weights), multiply merges;
    # ConvNeXt: keras.ops calls in the functional graph and LayerScale layers.
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, builder)(weights=None, input_shape=(64, 64, 3))
    rebuilt = bnlint.load(model)[0].to_keras()
    assert_same_weights(model, rebuilt)
    data = images((64, 64, 3), count=2)
    assert np.array_equal(predict(model, data), predict(rebuilt, data))


def test_keras_ops_in_a_functional_model_rebuild():
    inputs = keras.Input((4,))
    outputs = keras.ops.add(keras.ops.relu(layers.Dense(4, name="dense")(inputs)), 1.0)
    model = keras.Model(inputs, outputs)
    rebuilt = bnlint.load(model)[0].to_keras()
    data = images((4,))
    assert np.array_equal(predict(model, data), predict(rebuilt, data))


def test_lambda_layers_are_refused_with_the_reason():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Lambda(lambda t: t * 2, name="double")(inputs))
    with pytest.raises(BuildError, match="layer 'double' \\(Lambda\\) cannot be rebuilt by Keras"):
        bnlint.load(model)[0].to_keras()


@pytest.mark.parametrize("edit, reason", [
    (lambda g: g.set_config("d", units="x"), "(ValueError: Received an invalid value for `units`, expected a "
                                             "positive integer. Received: units=x)"),
    (lambda g: g.set_config("d", activation="nope"), "(ValueError: Could not interpret activation function "
                                                     "identifier: nope)"),
    (lambda g: g.insert_after("d", ("Reshape", {"target_shape": [3, 5]})),
     "calling layer 'd_reshape' failed (ValueError: The total size of the tensor must be unchanged. "
     "Received: input_shape=(2,), target_shape=(3, 5))"),
])
def test_build_errors_give_the_reason_keras_buries_in_one_line(edit, reason):
    inputs = keras.Input((4,))
    [graph] = bnlint.load(keras.Model(inputs, layers.Dense(2, name="d")(inputs)))
    edit(graph)
    with pytest.raises(BuildError) as caught:
        graph.to_keras()
    message = str(caught.value)
    assert message.endswith(reason) and "\n" not in message and "\x1b" not in message and len(message) < 250


def test_set_config_on_a_layer_inserted_live_rebuilds_it_and_keeps_the_weights_that_still_fit():
    model = small_cnn()
    [graph] = bnlint.load(model)
    extra = layers.Dense(3, name="extra")
    extra.build((None, 3))
    kernel = extra.kernel.numpy().copy()
    graph.insert_after("head", extra)
    graph.set_config("extra", use_bias=False, name="extra_nobias")
    bn = layers.BatchNormalization(name="live_bn")
    graph.insert_after("res", bn)
    graph.set_config("live_bn", momentum=0.5)
    rebuilt = graph.to_keras()
    new = rebuilt.get_layer("extra_nobias")
    assert new is not extra and [w.name for w in new.weights] == ["kernel"]
    assert np.array_equal(new.kernel.numpy(), kernel)
    assert rebuilt.get_layer("live_bn").momentum == 0.5  # (unbuilt when given: initialised by its config)
    assert_same_weights(model, rebuilt, skip=set())


def test_check_a_live_model_and_insert_into_a_saved_file(tmp_path):
    model = small_cnn()
    found = bnlint.check(model)
    assert [(d.code, str(d.origin)) for d in found] == [("BN004", "<model small_cnn>::c1")]
    path = tmp_path / "cnn.keras"
    model.save(path)
    bigger = bnlint.insert_batchnorm(path, after="c2")
    assert "c2_bn" in [l.name for l in bigger.layers]
    assert_same_weights(model, bigger)


def test_insert_batchnorm_takes_a_name_for_one_layer_and_the_layer_dtype_policy():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, name="c", dtype="mixed_float16")(inputs)
    x = layers.Conv2D(4, 3, name="d", dtype="mixed_float16")(x)
    model = keras.Model(inputs, layers.Flatten(dtype="float32")(x))
    bigger = bnlint.insert_batchnorm(model, after="c", name="stem_bn")
    assert [(layer.name, layer.dtype_policy.name) for layer in bigger.layers][1:4] == [
        ("c", "mixed_float16"), ("stem_bn", "mixed_float16"), ("d", "mixed_float16")]
    assert bnlint.insert_batchnorm(model, after="c", dtype="float32").get_layer("c_bn").dtype_policy.name == "float32"
    with pytest.raises(bnlint.RewriteError, match="name='x' names one layer, and after='Conv2D' chooses 2"):
        bnlint.insert_batchnorm(model, after="Conv2D", name="x")
    with pytest.raises(bnlint.RewriteError, match="name='d' is taken"):
        bnlint.insert_batchnorm(model, after="c", name="d")
