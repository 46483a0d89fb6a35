"""Make ``keras2_op_layers.h5``: a tf_keras model whose config records raw TensorFlow calls.

tf_keras records ``x + skip``, ``tf.nn.relu(x)`` and ``x * 0.5`` on symbolic
tensors as ``TFOpLambda`` layers, and writes their call nodes in a form of
their own: one tensor reference, unwrapped, with the other operands among
its keyword arguments (``["bn", 0, 0, {"y": ["skip_bn", 0, 0]}]``). The
test (``tests/test_saved_file.py``) reads this file and ``MODEL_SOURCE``,
the code that built it, and expects the same graph from both.

tf_keras and Keras 3 cannot share a process; run it in a tf_keras venv::

    TF_USE_LEGACY_KERAS=1 /tmp/tfkeras-venv/bin/python tests/data/make_keras2_op_layers.py
"""

from pathlib import Path

MODEL_SOURCE = '''
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input((8, 8, 3))
x = layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(inputs)
x = layers.BatchNormalization(name="bn")(x)
skip = layers.Conv2D(4, 1, use_bias=False, name="skip")(inputs)
skip = layers.BatchNormalization(name="skip_bn")(skip)
x = tf.nn.relu(x + skip)
x = layers.BatchNormalization(name="bn_after_relu")(x)
x = x * 0.5
outputs = layers.Conv2D(2, 1, name="head")(x)
model = keras.Model(inputs, outputs, name="op_layers")
'''

OUT = Path(__file__).resolve().parent / "keras2_op_layers.h5"


def main() -> None:
    namespace: dict = {}
    exec(compile(MODEL_SOURCE, "<MODEL_SOURCE>", "exec"), namespace)
    model = namespace["model"]
    assert type(model).__module__.startswith("tf_keras"), "run with TF_USE_LEGACY_KERAS=1 and tf_keras installed"
    model.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
