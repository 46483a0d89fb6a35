"""Make ``keras2_fold_zoo.h5``: a Keras 2 (tf_keras) model for ``bnlint fold``'s Keras 2 tests.

The same model is also saved as tf_keras' own archive, ``keras2_fold_zoo.keras``
(config in Keras 2's spelling, weight groups named by class only), and
``keras2_nested_trainable.keras`` holds the nested model below as one.

One BN after each layer family a Keras 2 ``.h5`` can hold, with random
statistics (gamma in [0.5, 1.5], beta ~ N(0, 0.5), moving mean ~ N(0, 0.5),
moving variance in [0.5, 2]) so that a wrong fold shows in the outputs:

- ``stem`` (Conv2D without bias), ``depthwise`` (DepthwiseConv2D),
  ``separable`` (SeparableConv2D), ``transpose`` (Conv2DTranspose), each
  followed by a BN on the channel axis: fold;
- ``seq_dense``, a Dense on a ``(5, 4)`` sequence: its BN normalises axis 2
  (the saved config says ``[2]``), the channel axis: folds, once the rank of
  the Dense's input is known;
- ``time_dense``, the same Dense shape, but its BN has ``axis=1``, the time
  axis: refused;
- ``head_dense`` (no bias) on a rank-2 input: folds.

It also makes ``keras2_nested_<trainable|frozen>.h5``: a classifier around a
nested functional backbone (trainable, and frozen as in transfer learning)
with random BN statistics, and beside each
``keras2_nested_<...>_folded_layout.h5``, the folded architecture (BNs
gone, biases added) built and saved by tf_keras itself. Keras 3 cannot load
a tf_keras model with a nested model at all, so the tests compare the layout
of bnlint's folded file (weight order per group, layer order) with this one,
which is what tf_keras reads weights by. In the backbone, folding ``c1/bn``
makes ``c1/conv`` shallower than ``c3``, so Keras lists ``c3`` first
afterwards; both have the same kernel shape, so a file in the old order
would load swapped.

Keras 2 allows ``/`` in layer names (DenseNet's ``conv1/bn``, MobileNetV3's
``expanded_conv/depthwise/BatchNorm``); Keras 3 does not, and cannot load
such a file. HDF5 then nests the groups: ``proj/relu``'s group sits inside
``proj``'s, and ``head/dense`` is a top-level layer, not a layer of a nested
model ``head``. In the backbone a BN named ``bn`` stays: ``c1/bn/gamma:0``
must not be taken for one of its weights once ``c1/bn`` is gone.

tf_keras and Keras 3 cannot share a process; run it in a tf_keras venv::

    python -m venv /tmp/tfkeras-venv
    /tmp/tfkeras-venv/bin/pip install "tensorflow-cpu==2.21.*" "tf-keras==2.21.*"
    TF_USE_LEGACY_KERAS=1 /tmp/tfkeras-venv/bin/python tests/data/make_keras2_fold_zoo.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "keras2_fold_zoo.h5"
# Four inputs and tf_keras' own outputs for them, so that tests compare with Keras 2 itself.
OUTPUTS = OUT.with_name("keras2_fold_zoo_outputs.npz")
# The same model in tf_keras' own .keras archive (same weights, so the same outputs).
ARCHIVE = OUT.with_suffix(".keras")


def build(keras):
    layers = keras.layers
    keras.utils.set_random_seed(0)
    image = keras.Input((12, 12, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", use_bias=False, name="stem")(image)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = layers.BatchNormalization(name="depthwise_bn")(x)
    x = layers.ReLU(name="depthwise_relu")(x)
    x = layers.SeparableConv2D(6, 3, padding="same", name="separable")(x)
    x = layers.BatchNormalization(name="separable_bn")(x)
    x = layers.Conv2DTranspose(5, 3, strides=2, padding="same", name="transpose")(x)
    x = layers.BatchNormalization(name="transpose_bn")(x)
    x = layers.GlobalAveragePooling2D(name="image_pool")(x)
    sequence = keras.Input((5, 4), name="sequence")
    s = layers.Dense(6, name="seq_dense")(sequence)
    s = layers.BatchNormalization(name="seq_dense_bn")(s)
    s = layers.GlobalAveragePooling1D(name="seq_pool")(s)
    t = layers.Dense(5, name="time_dense")(sequence)
    t = layers.BatchNormalization(axis=1, name="time_bn")(t)
    t = layers.Flatten(name="time_flat")(t)
    y = layers.Concatenate(name="concat")([x, s, t])
    y = layers.Dense(8, use_bias=False, name="head_dense")(y)
    y = layers.BatchNormalization(name="head_bn")(y)
    outputs = layers.Dense(3, activation="softmax", name="out")(y)
    model = keras.Model([image, sequence], outputs, name="keras2_fold_zoo")
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.5, 2.0, n)])
    return model


def build_nested(keras, frozen: bool, folded: bool):
    """The transfer-learning model, or (*folded*) its architecture once every BN is folded."""
    layers = keras.layers
    keras.utils.set_random_seed(1)

    def batchnorm(x, name):
        return x if folded else layers.BatchNormalization(name=name)(x)

    image = keras.Input((8, 8, 3), name="backbone_in")
    a = layers.Conv2D(4, 3, padding="same", use_bias=folded, name="c1/conv")(image)
    a = layers.ReLU(name="r1")(batchnorm(a, "c1/bn"))
    b = layers.Conv2D(4, 3, padding="same", name="c3")(image)
    b = layers.ReLU(name="r3b")(layers.ReLU(name="r3a")(b))
    x = layers.Add(name="add")([a, b])
    x = layers.BatchNormalization(name="bn")(x)  # after an Add: stays
    x = batchnorm(layers.Conv2D(5, 1, use_bias=folded, name="c2")(x), "b2")
    backbone = keras.Model(image, x, name="backbone")
    backbone.trainable = not frozen
    inputs = keras.Input((8, 8, 3), name="image")
    y = layers.GlobalAveragePooling2D(name="gap")(backbone(inputs, training=False))
    y = layers.ReLU(name="proj/relu")(layers.Dense(6, name="proj")(y))
    y = batchnorm(layers.Dense(3, use_bias=folded, name="head/dense")(y), "head/bn")
    model = keras.Model(inputs, y, name="transfer")
    rng = np.random.default_rng(2)
    for layer in [*model.layers, *backbone.layers]:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.5, 2.0, n)])
    return model


def main() -> None:
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise SystemExit("run with tf_keras and TF_USE_LEGACY_KERAS=1 (see the docstring)")
    import tf_keras as keras

    model = build(keras)
    for path in (OUT, ARCHIVE):
        if path.exists():
            path.unlink()
        model.save(path)  # never compiled: no optimizer state
    rng = np.random.default_rng(1)
    image = rng.standard_normal((4, 12, 12, 3)).astype("float32")
    sequence = rng.standard_normal((4, 5, 4)).astype("float32")
    np.savez(OUTPUTS, image=image, sequence=sequence, outputs=model.predict([image, sequence], verbose=0))
    print(OUT, OUTPUTS)
    for frozen in (False, True):
        for folded in (False, True):
            path = OUT.with_name(f"keras2_nested_{'frozen' if frozen else 'trainable'}"
                                 f"{'_folded_layout' if folded else ''}.h5")
            if path.exists():
                path.unlink()
            build_nested(keras, frozen, folded).save(path)
            print(path)
    path = OUT.with_name("keras2_nested_trainable.keras")
    if path.exists():
        path.unlink()
    build_nested(keras, frozen=False, folded=False).save(path)
    print(ARCHIVE, path)


if __name__ == "__main__":
    main()
