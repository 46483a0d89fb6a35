"""Fold tf_keras applications saved as Keras 2 ``.h5`` files, and check the results with tf_keras itself.

Not part of the test suite: tf_keras is not a test dependency (Keras 3 and
tf_keras cannot share a process, and Keras 3 cannot load a tf_keras model
with a nested model). Run it by hand in a tf_keras venv, from the
repository root::

    python -m venv /tmp/tfkeras-venv
    /tmp/tfkeras-venv/bin/pip install "tensorflow-cpu==2.21.*" "tf-keras==2.21.*"
    TF_USE_LEGACY_KERAS=1 PYTHONPATH=. /tmp/tfkeras-venv/bin/python tests/data/check_keras2_applications.py

With ``--archive`` each model is saved as tf_keras' own ``.keras`` archive
instead (still folded into ``.h5``); the two transfer variants hold a nested
model, which bnlint refuses in such archives, so they print that refusal.

For each application it saves, with random BN statistics (gamma in
[0.5, 1.5], beta and moving mean ~ N(0, 0.5), moving variance in [0.5, 2]),
the whole model, a functional classifier around the frozen backbone
(``backbone(x, training=False)``) and a ``Sequential([Input, backbone, pool,
Dense])``; folds each with ``python -m bnlint fold``; loads both files with
tf_keras and prints the largest difference of the outputs on two random
inputs, relative to the largest output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SIZES = {"MobileNetV2": 96, "MobileNetV3Small": 64, "ResNet50": 64, "ResNet50V2": 64, "DenseNet121": 64,
         "EfficientNetB0": 64, "Xception": 71, "InceptionV3": 75, "NASNetMobile": 224}


def randomise(keras, model, rng) -> None:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            randomise(keras, layer, rng)
        elif isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            values = [rng.uniform(0.5, 1.5, n)] if layer.scale else []
            values += [rng.normal(0, 0.5, n)] if layer.center else []
            layer.set_weights(values + [rng.normal(0, 0.5, n), rng.uniform(0.5, 2.0, n)])


def variants(keras, name: str, size: int, rng):
    build = getattr(keras.applications, name)
    whole = build(weights=None, input_shape=(size, size, 3), classes=10)
    randomise(keras, whole, rng)
    yield "whole", whole
    backbone = build(weights=None, include_top=False, input_shape=(size, size, 3))
    randomise(keras, backbone, rng)
    backbone.trainable = False
    layers = keras.layers
    inputs = keras.Input((size, size, 3))
    outputs = layers.Dense(3)(layers.GlobalAveragePooling2D()(backbone(inputs, training=False)))
    yield "functional transfer", keras.Model(inputs, outputs)
    yield "sequential transfer", keras.Sequential(
        [keras.Input((size, size, 3)), backbone, layers.GlobalAveragePooling2D(), layers.Dense(3)])


def main() -> None:
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise SystemExit("run with tf_keras and TF_USE_LEGACY_KERAS=1 (see the docstring)")
    import tf_keras as keras

    archive = "--archive" in sys.argv[1:]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as directory:
        for name, size in SIZES.items():
            for kind, model in variants(keras, name, size, rng):
                source = Path(directory) / ("model.keras" if archive else "model.h5")
                out = Path(directory) / "folded.h5"
                if source.exists():
                    source.unlink()
                model.save(source)
                fold = subprocess.run([sys.executable, "-m", "bnlint", "fold", str(source), str(out), "--force"],
                                      capture_output=True, text=True)
                summary = (fold.stdout.strip().splitlines() or [fold.stderr.strip()])[-1]
                if fold.returncode != 0:
                    print(f"{name:17} {kind:20} fold failed: {summary}")
                    continue
                folded = keras.models.load_model(out, compile=False)
                x = np.random.default_rng(1).standard_normal((2, size, size, 3)).astype("float32")
                expected, actual = model.predict(x, verbose=0), folded.predict(x, verbose=0)
                error = np.abs(expected - actual).max() / np.abs(expected).max()
                print(f"{name:17} {kind:20} {summary:55} relative error {error:.1e}", flush=True)


if __name__ == "__main__":
    main()
