"""BN007 batchnorm-epsilon."""

from __future__ import annotations

from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

_MAX_EPSILON = 0.1
# cuDNN's minimum before cuDNN 8 and PyTorch's default; 1/sqrt(1e-5) = 316
# keeps BN's largest gain far from float16's maximum.
_MIN_FLOAT16_EPSILON = 1e-5
_FLOAT16 = {"float16", "half", "mixed_float16"}


def _policy_name(dtype: object) -> str | None:
    """The dtype policy name of a `dtype=` argument: a string, or a serialised policy object."""
    if isinstance(dtype, dict) and isinstance(dtype.get("config"), dict):
        config = dtype["config"]
        dtype = config.get("name", (config.get("*args") or [None])[0])
    # `tf.float16` arrives as "tensorflow.float16"; a quantized policy
    # ("int8_from_mixed_float16") computes in its source policy's dtype.
    return dtype.rpartition(".")[2].rpartition("_from_")[2] if isinstance(dtype, str) else None


class BatchnormEpsilon(Rule):
    """
    ## What it does
    Finds `BatchNormalization` layers whose `epsilon` is zero or negative,
    above 0.1, or below 1e-5 on a layer that computes in float16
    (`dtype="float16"`, `tf.float16`, `"mixed_float16"`, `DTypePolicy("mixed_float16")`).

    ## Why is this bad?
    BN divides by `sqrt(variance + epsilon)`. With `epsilon <= 0` a constant
    channel (a dead ReLU, zero padding) divides by zero or takes the root of
    a negative number: NaN. A large epsilon swamps the variance of
    unit-scale activations, so the layer hardly normalises.

    In float16, `gamma / sqrt(epsilon)` is BN's largest gain on a
    (near-)constant channel: with `epsilon=1e-7` it is 3162, and an input
    deviation of 21 overflows float16's maximum, 65504, to `inf`. With
    `dtype="float16"` the moving variance is stored in float16 too, whose
    smallest normal value is about 6e-5: small variances lose precision, and
    below 6e-8 become zero, leaving epsilon alone in the denominator at
    inference. TensorFlow's fused batch norm (tf.keras) silently raises an
    epsilon below cuDNN's old minimum, 1e-5, to 1.001e-5. bfloat16 is not
    checked: it has float32's exponent range, so the gain cannot overflow
    nor the variance underflow.

    Limitation: a global `keras.mixed_precision.set_global_policy("mixed_float16")`
    is not part of the model graph; only a `dtype=` given to the BN counts.

    ## Example
    ```python
    layers.BatchNormalization(epsilon=0)
    layers.BatchNormalization(epsilon=1e-8, dtype="mixed_float16")
    ```

    ## Use instead
    ```python
    layers.BatchNormalization(epsilon=1e-3)
    layers.BatchNormalization(epsilon=1e-3, dtype="mixed_float16")
    ```

    ## Fix safety
    No automatic fix yet. Changing epsilon changes what a trained model computes.

    ## Options
    None.

    ## References
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015, Algorithm 1.
    - P. Micikevicius et al., "Mixed Precision Training", ICLR 2018.
    - Keras documentation, `keras.layers.BatchNormalization`, `keras.mixed_precision`.
    - NVIDIA cuDNN 7 API reference, `CUDNN_BN_MIN_EPSILON` (1e-5).
    """

    code = "BN007"
    name = "batchnorm-epsilon"
    summary = "BatchNormalization epsilon is not positive, above 0.1, or below 1e-5 in float16"

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        for node, layer in graph.layers():
            epsilon = layer.get("epsilon")
            if layer.kind != "batchnorm" or isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
                continue
            if epsilon <= 0:
                yield Violation(node, f"epsilon={epsilon:g} divides by zero on a constant channel; use 1e-3")
            elif epsilon > _MAX_EPSILON:
                yield Violation(node, f"epsilon={epsilon:g} swamps the variance, so BN hardly normalises; use 1e-3")
            elif epsilon < _MIN_FLOAT16_EPSILON and _policy_name(layer.get("dtype", None)) in _FLOAT16:
                yield Violation(node, f"epsilon={epsilon:g} is below 1e-5 on a float16 layer: BN's gain "
                                "1/sqrt(epsilon) can overflow float16; use 1e-3")

    VALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.BatchNormalization(epsilon=1e-7)])  # float32
""",
        """
import keras
from keras import layers
inputs = keras.Input((8,))
x = layers.BatchNormalization(epsilon=1e-6, dtype=keras.DTypePolicy("mixed_bfloat16"))(inputs)
model = keras.Model(inputs, x)
""",
        """
import keras
from keras import layers
def block(x, eps):
    return layers.BatchNormalization(epsilon=eps, dtype="mixed_float16")(x)
x = inputs = keras.Input((8,))
for eps in (1e-3, 1.001e-5):
    x = block(x, eps)
model = keras.Model(inputs, x)
""",
    ]
    INVALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.BatchNormalization(epsilon=0)])  # expect: BN007
""",
        """
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.Dense(8, use_bias=False))
model.add(tf.keras.layers.BatchNormalization(epsilon=0.5))  # expect: BN007
""",
        """
import keras
from keras import layers
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(8, use_bias=False, dtype="mixed_float16")
        self.bn = layers.BatchNormalization(  # expect: BN007
            epsilon=1e-8, dtype=keras.mixed_precision.DTypePolicy("mixed_float16"))
    def call(self, x):
        return self.bn(self.dense(x))
""",
        """
from keras import layers, Sequential
model = Sequential([layers.BatchNormalization(epsilon=1e-6, dtype="float16")])  # expect: BN007
""",
    ]
