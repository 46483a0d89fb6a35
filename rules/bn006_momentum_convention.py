"""BN006 momentum-convention."""

from __future__ import annotations

from bnlint.diagnostics import Applicability, Fix, SetArgument, Violation
from bnlint.graph import ModelGraph, Site
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

_THRESHOLD = 0.5
_KERAS_DEFAULT = 0.99


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

    `momentum=0` is no PyTorch port (there it would never update the
    statistics): in Keras it replaces the moving statistics with each
    batch's, so inference uses whatever batch came last. It is reported
    with Keras' default, 0.99, as the replacement.

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the fix sets `momentum` to `1 - m`
    (0.1 becomes 0.9; 0 becomes Keras' default 0.99, not 1, which would
    freeze the statistics at their initial values), which changes how the
    moving statistics are estimated during training. A momentum given by a
    plain name (`momentum=bn_momentum`) is changed where its value is
    written (`BN_MOMENTUM = 0.1`, a parameter's default, what the file's
    calls pass); one computed by an expression is replaced by the literal
    value.

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
                if momentum <= 0:
                    # Not a PyTorch port: PyTorch's momentum=0 would never update its
                    # statistics, and its Keras equivalent 1 would freeze them at 0 and 1.
                    keras_momentum = _KERAS_DEFAULT
                    message = (f"momentum={momentum:g} keeps no history: the moving statistics become each batch's "
                               f"own, so inference uses the last training batch's; Keras' default is "
                               f"momentum={_KERAS_DEFAULT:g}")
                else:
                    keras_momentum = round(1 - momentum, 6)
                    message = (f"momentum={momentum:g} looks like PyTorch's convention; "
                               f"the Keras equivalent is momentum={keras_momentum:g}")
                fix = None
                if isinstance(layer.origin, Site):
                    intent = SetArgument(layer.origin, layer.constructor, "momentum", keras_momentum, follow=True)
                    fix = Fix(f"set `momentum={keras_momentum:g}`", Applicability.UNSAFE, (intent,))
                yield Violation(node, message, fix=fix)

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
        """
from keras import layers, Sequential
BN_MOMENTUM = 0.0  # keeps only the last batch's statistics
model = Sequential([layers.Dense(8, use_bias=False), layers.BatchNormalization(momentum=BN_MOMENTUM)])  # expect: BN006
""",
    ]
