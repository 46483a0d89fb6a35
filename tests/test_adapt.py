"""bnlint.adapt with real Keras: AdaBN recalibration and freezing all but BN."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from bnlint import adapt  # noqa: E402
from bnlint.adapt import _Moments  # noqa: E402

CHANNELS = 6


def branchy_cnn() -> "keras.Model":
    """Two BN levels feeding a merge, a third BN after it, and a dense BN head (4 depths)."""
    keras.utils.set_random_seed(1)
    layers = keras.layers
    inputs = keras.Input((10, 10, 3), name="img")
    a = layers.BatchNormalization(name="bn_a")(layers.Conv2D(CHANNELS, 3, padding="same", name="conv_a")(inputs))
    a = layers.ReLU(name="relu_a")(a)
    b = layers.Conv2D(CHANNELS, 1, name="conv_b")(a)
    b = layers.BatchNormalization(name="bn_b", momentum=0.9, epsilon=1e-5)(b)
    merged = layers.Add(name="add")([a, b])
    c = layers.BatchNormalization(name="bn_c")(layers.Conv2D(CHANNELS, 3, name="conv_c")(merged))
    pooled = layers.GlobalAveragePooling2D(name="gap")(layers.ReLU(name="relu_c")(c))
    head = layers.BatchNormalization(name="bn_head")(layers.Dense(4, name="dense")(pooled))
    return keras.Model(inputs, layers.Dense(2, name="out")(head))


def shifted_data(count: int = 96) -> np.ndarray:
    rng = np.random.default_rng(7)
    # a new dataset: per-channel scale and offset far from what BN's defaults (mean 0, var 1) assume
    return (rng.normal(size=(count, 10, 10, 3)) * [3.0, 0.5, 2.0] + [5.0, -2.0, 0.5]).astype("float32")


def bn_inputs(model, data: np.ndarray) -> dict[str, np.ndarray]:
    """Every BN's input on *data*, computed by a probe model in inference mode (float64)."""
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.inputs[0], [bn.input for bn in bns])
    values = probe.predict(data, batch_size=len(data), verbose=0)
    values = values if isinstance(values, list) else [values]
    return {bn.name: np.asarray(v, dtype=np.float64) for bn, v in zip(bns, values)}


def non_bn_weights(model) -> dict[str, list[np.ndarray]]:
    return {
        layer.name: [w.copy() for w in layer.get_weights()]
        for layer in model.layers
        if not isinstance(layer, keras.layers.BatchNormalization)
    }


def test_recalibrated_statistics_are_the_data_statistics_at_each_bn_input():
    model = branchy_cnn()
    data = shifted_data()
    before = non_bn_weights(model)
    gammas = {l.name: (l.gamma.numpy().copy(), l.beta.numpy().copy())
              for l in model.layers if isinstance(l, keras.layers.BatchNormalization)}

    assert adapt.recalibrate(model, data, batch_size=20) is model  # 96 rows: 5 batches, the last one short

    inputs = bn_inputs(model, data)  # the recalibrated model's own BN inputs
    for name, values in inputs.items():
        bn = model.get_layer(name)
        axes = tuple(range(values.ndim - 1))
        np.testing.assert_allclose(bn.moving_mean.numpy(), values.mean(axis=axes), rtol=1e-3, atol=1e-6)
        np.testing.assert_allclose(bn.moving_variance.numpy(), values.var(axis=axes), rtol=1e-3)
        assert np.array_equal(bn.gamma.numpy(), gammas[name][0]) and np.array_equal(bn.beta.numpy(), gammas[name][1])
    after = non_bn_weights(model)
    assert before.keys() == after.keys()
    for name in before:
        assert all(np.array_equal(x, y) for x, y in zip(before[name], after[name])), name


def test_statistics_are_far_from_the_defaults_so_the_check_above_can_fail():
    model = branchy_cnn()
    values = bn_inputs(model, shifted_data())["bn_c"]
    assert np.abs(values.mean(axis=(0, 1, 2))).max() > 0.1
    assert not np.allclose(model.get_layer("bn_c").moving_variance.numpy(), values.var(axis=(0, 1, 2)), rtol=1e-3)


def test_upstream_bns_are_recalibrated_first():
    # Recalibrating only bn_c on the *old* bn_a/bn_b statistics gives other values:
    # the order matters, and recalibrate() uses the recalibrated upstream.
    data = shifted_data()
    stale = branchy_cnn()
    stale_inputs = bn_inputs(stale, data)["bn_c"]
    model = adapt.recalibrate(branchy_cnn(), data)
    mean = model.get_layer("bn_c").moving_mean.numpy()
    assert not np.allclose(mean, stale_inputs.mean(axis=(0, 1, 2)), rtol=1e-2)


def test_steps_limits_the_batches_and_datasets_and_generators_work():
    data = shifted_data()
    first_two = data[:40]
    reference = adapt.recalibrate(branchy_cnn(), first_two)
    expected = reference.get_layer("bn_head").moving_variance.numpy()

    limited = adapt.recalibrate(branchy_cnn(), data, steps=2, batch_size=20)
    np.testing.assert_allclose(limited.get_layer("bn_head").moving_variance.numpy(), expected, rtol=1e-5)

    labels = np.zeros(len(data))
    generator = ((data[i:i + 20], labels[i:i + 20]) for i in range(0, len(data), 20))
    from_generator = adapt.recalibrate(branchy_cnn(), generator, steps=2)
    np.testing.assert_allclose(from_generator.get_layer("bn_head").moving_variance.numpy(), expected, rtol=1e-5)
    assert next(generator)[0][0, 0, 0, 0] == data[40, 0, 0, 0]  # the generator gave only the 2 batches used

    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((data, labels)).batch(20)
    from_dataset = adapt.recalibrate(branchy_cnn(), dataset, steps=2)
    np.testing.assert_allclose(from_dataset.get_layer("bn_head").moving_variance.numpy(), expected, rtol=1e-5)


def test_empty_data_and_shared_bn_are_refused():
    with pytest.raises(ValueError, match="no batches"):
        adapt.recalibrate(branchy_cnn(), np.zeros((0, 10, 10, 3), "float32"))
    inputs = keras.Input((4,))
    bn = keras.layers.BatchNormalization(name="shared_bn")
    model = keras.Model(inputs, keras.layers.Add()([bn(inputs), bn(keras.layers.Dense(4)(inputs))]))
    with pytest.raises(ValueError, match="'shared_bn' is called 2 times"):
        adapt.recalibrate(model, np.zeros((8, 4), "float32"))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = keras.layers.BatchNormalization()

        def call(self, x):
            return self.bn(x)

    with pytest.raises(ValueError, match="^recalibrate\\(\\) needs a functional or Sequential keras.Model: .* is a "
                                         "subclassed model"):
        adapt.recalibrate(Subclassed(), np.zeros((8, 4), "float32"))


def test_moments_merge_batches_exactly():
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, size=(50, 4, 5))
    moments = _Moments()
    for chunk in np.array_split(values, [7, 8, 30]):
        moments.add(chunk, axis=1)
    np.testing.assert_allclose(moments.mean, values.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(moments.variance, values.var(axis=(0, 2)), rtol=1e-12)


def test_freeze_all_but_batchnorm_leaves_only_gamma_and_beta_trainable():
    model = adapt.freeze_all_but_batchnorm(branchy_cnn())
    trainable = sorted(w.path for w in model.trainable_weights)
    bns = ["bn_a", "bn_b", "bn_c", "bn_head"]
    assert trainable == sorted(f"{bn}/{var}" for bn in bns for var in ("beta", "gamma"))


class ScaledBlock(keras.layers.Layer):
    """A custom layer with BN layers inside and a learned weight of its own (as LayerScale has)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(CHANNELS, name="inner_dense")
        self.bn = keras.layers.BatchNormalization(name="inner_bn")

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(CHANNELS,), initializer="ones", name="scale")

    def call(self, x, training=None):
        return self.bn(self.dense(x), training=training) * self.scale


def test_freeze_all_but_batchnorm_freezes_a_containers_own_weights_and_bn_free_containers():
    keras.utils.set_random_seed(5)
    inner_in = keras.Input((4,))
    no_bn = keras.Model(inner_in, keras.layers.Dense(4, name="plain_dense")(inner_in), name="no_bn")
    inputs = keras.Input((4,))
    x = ScaledBlock(name="block")(no_bn(inputs))
    x = keras.layers.TimeDistributed(keras.layers.Dense(2), name="td")(keras.layers.Reshape((3, 2))(x))
    model = adapt.freeze_all_but_batchnorm(keras.Model(inputs, x))
    assert sorted(w.path for w in model.trainable_weights) == ["block/inner_bn/beta", "block/inner_bn/gamma"]
    assert not model.get_layer("no_bn").trainable and not model.get_layer("td").trainable
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    block = model.get_layer("block")
    scale, gamma = block.scale.numpy().copy(), block.bn.gamma.numpy().copy()
    data = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(data, np.ones((16, 3, 2), "float32"), batch_size=8, epochs=1, verbose=0)
    assert np.array_equal(block.scale.numpy(), scale) and not np.array_equal(block.bn.gamma.numpy(), gamma)


def test_frozen_model_trains_only_bn_and_bn_runs_in_training_mode():
    model = adapt.freeze_all_but_batchnorm(branchy_cnn())
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    data = shifted_data(32)
    targets = np.ones((32, 2), "float32")
    before = non_bn_weights(model)
    bn = model.get_layer("bn_c")
    gamma, moving_mean = bn.gamma.numpy().copy(), bn.moving_mean.numpy().copy()

    model.fit(data, targets, batch_size=16, epochs=1, verbose=0)

    after = non_bn_weights(model)
    for name in before:
        assert all(np.array_equal(x, y) for x, y in zip(before[name], after[name])), name
    assert not np.array_equal(bn.gamma.numpy(), gamma)  # gamma trained
    assert not np.array_equal(bn.moving_mean.numpy(), moving_mean)  # batch statistics were used and tracked


def test_keras_rule_a_non_trainable_bn_runs_in_inference_mode():
    # The rule freeze_all_but_batchnorm works around: model.trainable = False freezes BN's statistics too.
    model = branchy_cnn()
    model.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    bn = model.get_layer("bn_c")
    moving_mean = bn.moving_mean.numpy().copy()
    model.fit(shifted_data(32), np.ones((32, 2), "float32"), batch_size=16, epochs=1, verbose=0)
    assert np.array_equal(bn.moving_mean.numpy(), moving_mean)


def test_sequential_models_recalibrate():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="d"),
                              keras.layers.BatchNormalization(name="bn1"), keras.layers.Dense(3, name="d2"),
                              keras.layers.BatchNormalization(name="bn2")])
    data = (np.random.default_rng(3).normal(size=(50, 5)) * 4 + 1).astype("float32")
    adapt.recalibrate(model, data, batch_size=16)
    for name, values in bn_inputs(model, data).items():
        np.testing.assert_allclose(model.get_layer(name).moving_variance.numpy(), values.var(axis=0), rtol=1e-3)


def nested_model():
    keras.utils.set_random_seed(3)
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization(name="inner_bn")(
        keras.layers.Dense(4, name="inner_dense")(inner_in)), name="block")
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(inner(inputs)))


def transfer_model() -> "keras.Model":
    """The transfer-learning shape: a BN stem, a nested functional backbone (two BN levels), a nested Sequential head."""
    keras.utils.set_random_seed(4)
    layers = keras.layers
    image = keras.Input((10, 10, 3))
    h = layers.BatchNormalization(name="bb_bn1")(layers.Conv2D(CHANNELS, 3, padding="same", name="bb_conv1")(image))
    h = layers.ReLU()(h)
    h = layers.BatchNormalization(name="bb_bn2")(layers.Conv2D(CHANNELS, 1, name="bb_conv2")(h))
    backbone = keras.Model(image, h, name="backbone")
    head = keras.Sequential([layers.GlobalAveragePooling2D(name="gap"), layers.Dense(4, name="head_dense"),
                             layers.BatchNormalization(name="head_bn")], name="head")
    inputs = keras.Input((10, 10, 3))
    x = layers.BatchNormalization(name="stem_bn")(inputs)
    return keras.Model(inputs, layers.Dense(2, name="out")(head(backbone(x, training=False))))


def test_bns_inside_nested_models_are_recalibrated_in_order():
    model = transfer_model()
    data = shifted_data()
    backbone, head = model.get_layer("backbone"), model.get_layer("head")
    stale = {bn.name: bn.moving_variance.numpy().copy() for bn in
             (model.get_layer("stem_bn"), backbone.get_layer("bb_bn1"), backbone.get_layer("bb_bn2"),
              head.get_layer("head_bn"))}

    adapt.recalibrate(model, data, batch_size=32)

    # Each BN's input, computed layer by layer on the recalibrated model (inference mode, float64).
    stem_out = model.get_layer("stem_bn")(data, training=False)
    bb_probe = keras.Model(backbone.inputs, [backbone.get_layer("bb_bn1").input, backbone.get_layer("bb_bn2").input])
    bb1_in, bb2_in = bb_probe(stem_out, training=False)
    head_in = head.get_layer("head_dense")(head.get_layer("gap")(backbone(stem_out, training=False)))
    expected = {("stem_bn",): data, ("backbone", "bb_bn1"): bb1_in, ("backbone", "bb_bn2"): bb2_in,
                ("head", "head_bn"): head_in}
    for path, values in expected.items():
        bn = model
        for name in path:
            bn = bn.get_layer(name)
        values = np.asarray(values, dtype=np.float64)
        axes = tuple(range(values.ndim - 1))
        np.testing.assert_allclose(bn.moving_mean.numpy(), values.mean(axis=axes), rtol=1e-3, atol=1e-6)
        np.testing.assert_allclose(bn.moving_variance.numpy(), values.var(axis=axes), rtol=1e-3)
        assert not np.allclose(bn.moving_variance.numpy(), stale[bn.name], rtol=1e-2), path  # it did change
    assert "call" not in vars(backbone.get_layer("bb_bn1"))  # the recording wrapper is gone


def test_a_nested_model_called_twice_with_bns_is_refused():
    backbone = transfer_model().get_layer("backbone")
    left, right = keras.Input((10, 10, 3)), keras.Input((10, 10, 3))
    siamese = keras.Model([left, right], keras.layers.Subtract()([backbone(left), backbone(right)]))
    with pytest.raises(ValueError, match="nested model 'backbone' holds BN layers and is called 2 times"):
        adapt.recalibrate(siamese, [shifted_data(8), shifted_data(8)])


def test_freeze_reaches_into_nested_models():
    model = nested_model()
    model.get_layer("block").trainable = False  # even a frozen container is opened up
    adapt.freeze_all_but_batchnorm(model)
    assert sorted(w.path for w in model.trainable_weights) == ["inner_bn/beta", "inner_bn/gamma"]


class TwoBNBlock(keras.layers.Layer):
    """A custom layer calling BN, Dense, BN in turn; the second BN is made first (so listed first)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.late_bn = keras.layers.BatchNormalization(name="late_bn")
        self.early_bn = keras.layers.BatchNormalization(name="early_bn")
        self.dense = keras.layers.Dense(CHANNELS, name="block_dense")

    def call(self, x, training=None):
        return self.late_bn(self.dense(self.early_bn(x, training=training)), training=training)


def test_bns_inside_time_distributed_and_custom_layers_are_recalibrated_in_call_order():
    keras.utils.set_random_seed(6)
    inputs = keras.Input((5, 3))
    steps = keras.layers.TimeDistributed(keras.layers.BatchNormalization(name="step_bn"), name="td")(inputs)
    block = TwoBNBlock(name="block")
    x = block(keras.layers.Flatten()(keras.layers.Dense(4, name="pre")(steps)))
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="after_bn")(x))
    rng = np.random.default_rng(3)
    data = (rng.normal(size=(200, 5, 3)) * [4.0, 0.5, 2.0] + [6.0, -3.0, 1.0]).astype("float32")
    assert [bn.name for bn in block._flatten_layers(include_self=False)][:2] == ["late_bn", "early_bn"]

    adapt.recalibrate(model, data, batch_size=64)

    step_bn = model.get_layer("td").layer
    block_in = keras.Model(inputs, model.get_layer("flatten").output)(data, training=False)
    early_out = block.early_bn(block_in, training=False)
    late_in = block.dense(early_out)
    after_in = block.late_bn(late_in, training=False)
    expected = [(step_bn, data.reshape(-1, 3)), (block.early_bn, block_in), (block.late_bn, late_in),
                (model.get_layer("after_bn"), after_in)]
    for bn, values in expected:
        values = np.asarray(values, dtype=np.float64)
        np.testing.assert_allclose(bn.moving_mean.numpy(), values.mean(axis=0), rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(bn.moving_variance.numpy(), values.var(axis=0), rtol=1e-3)
        if bn.name != "after_bn":  # (which reads late_bn's normalised output: variance 1 / (1 + epsilon))
            assert not np.allclose(bn.moving_variance.numpy(), 1.0, rtol=1e-2), bn.name  # it did change
    assert all("call" not in vars(bn) for bn, _ in expected)


def test_a_custom_layer_called_twice_with_bns_is_refused():
    block = TwoBNBlock(name="block")
    left, right = keras.Input((CHANNELS,)), keras.Input((CHANNELS,))
    model = keras.Model([left, right], keras.layers.Add()([block(left), block(right)]))
    data = np.ones((8, CHANNELS), "float32")
    with pytest.raises(ValueError, match="layer 'block' holds BN layers and is called 2 times"):
        adapt.recalibrate(model, [data, data])
