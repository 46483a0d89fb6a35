"""BN006 momentum-convention."""

from __future__ import annotations

from bnlint.diagnostics import Applicability, Fix, SetArgument, Violation
from bnlint.graph import ModelGraph, Site
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

_THRESHOLD = 0.5


class MomentumConvention(Rule):
    """
    ## What it does
    Finds `BatchNormalization` layers whose `momentum` is below 0.5.

    ## Why is this bad?
    Keras and PyTorch define momentum the opposite way round. Keras updates
    `moving = momentum * moving + (1 - momentum) * batch`, so its default
    0.99 keeps 99% of the history. PyTorch updates
    `running = (1 - momentum) * running + momentum * batch`, with default
    0.1. A `momentum=0.1` ported from PyTorch therefore makes the Keras
    moving statistics follow the last batch almost entirely: inference then
    depends on whichever batch came last in training. PyTorch's 0.1 is
    Keras' 0.9.

    ## Example
    ```python
    layers.BatchNormalization(momentum=0.1)
    ```

    ## Use instead
    ```python
    layers.BatchNormalization(momentum=0.9)
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the fix sets `momentum` to `1 - m`
    (0.1 becomes 0.9), which changes how the moving statistics are
    estimated during training. A momentum computed by an expression is
    replaced by the literal value.

    ## Options
    None.

    ## References
    - Keras documentation, `keras.layers.BatchNormalization` (`momentum`).
    - PyTorch documentation, `torch.nn.BatchNorm2d` (`momentum`, note on the
      update rule).
    """

    code = "BN006"
    name = "momentum-convention"
    summary = "BatchNormalization momentum below 0.5 (PyTorch's convention)"
    fix = "unsafe"

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        for node, layer in graph.layers():
            momentum = layer.get("momentum")
            if layer.kind != "batchnorm" or isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
                continue
            if momentum < _THRESHOLD:
                keras_momentum = round(1 - momentum, 6)
                fix = None
                if isinstance(layer.origin, Site):
                    intent = SetArgument(layer.origin, layer.class_name, "momentum", keras_momentum)
                    fix = Fix(f"set `momentum={keras_momentum:g}`", Applicability.UNSAFE, (intent,))
                yield Violation(
                    node,
                    f"momentum={momentum:g} looks like PyTorch's convention; "
                    f"the Keras equivalent is momentum={keras_momentum:g}",
                    fix=fix,
                )

    VALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.BatchNormalization(momentum=0.9)])
""",
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.BatchNormalization()])
""",
        """
import tensorflow as tf
m = tf.keras.Sequential([tf.keras.layers.Dense(8), tf.keras.layers.BatchNormalization(-1, 0.99)])
""",
    ]
    INVALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.BatchNormalization(momentum=0.1)])  # expect: BN006
""",
        """
import tensorflow as tf
m = tf.keras.Sequential([
    tf.keras.layers.Dense(8),
    tf.keras.layers.BatchNormalization(-1, 0.1),  # expect: BN006
])
""",
        """
import keras
inputs = keras.Input((8,))
x = keras.layers.Dense(4, use_bias=False)(inputs)
x = keras.layers.BatchNormalization(  # expect: BN006
    momentum=0.01,
)(x)
model = keras.Model(inputs, x)
""",
    ]
