"""BN005 batchnorm-after-output."""

from __future__ import annotations

from bnlint import kinds
from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph
from bnlint.rule import Option, Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

_SQUASHING = kinds.SQUASHING_ACTIVATIONS
_PASSIVE = {"reshape", "dropout"}  # layers that only move or mask values


def _feeds_output(graph: ModelGraph, node: int, seen: frozenset = frozenset()) -> bool:
    """True when *node*'s output is a model output, directly or through reshape/dropout layers only;
    for a model nested in another as a layer (a block ``Sequential``), when that layer's is too."""
    reached = (n for n in graph.reachable(node, through=_PASSIVE) if graph.layer(n).kind in _PASSIVE)
    if not (graph.is_output(node) or any(graph.is_output(n) for n in reached)):
        return False
    callers = [(outer, n) for outer, n in graph.callers if id(outer) not in seen]
    return not graph.callers or any(_feeds_output(outer, n, seen | {id(graph)}) for outer, n in callers)


def _producer(graph: ModelGraph, node: int, through: set[str]) -> int | None:
    """The first layer before *node*, looking back through single-input layers of the kinds *through*."""
    producers = graph.predecessors(node)
    while len(producers) == 1 and graph.layer(producers[0]).kind in through:
        producers = graph.predecessors(producers[0])
    return producers[0] if len(producers) == 1 else None


def _is_head(graph: ModelGraph, node: int) -> bool:
    """A Dense after a Flatten or global pooling, or a conv fed by one directly (MobileNet's 1x1 conv head)."""
    def reduces(n: int | None) -> bool:
        return n is not None and graph.layer(n).class_name.startswith(("Flatten", "Global"))
    if graph.layer(node).kind == "dense":
        return any(reduces(a) for a in graph.ancestors(node))
    # Not any conv with a global pooling upstream: squeeze-and-excitation blocks have one.
    return graph.layer(node).kind == "conv" and reduces(_producer(graph, node, _PASSIVE | {"activation"}))


class BatchnormAfterOutput(Rule):
    """
    ## What it does
    Finds a `BatchNormalization` whose output is a model output (directly or
    through reshape/dropout layers) and that either follows the final
    `softmax`/`sigmoid` (an activation, or a `Dense`/conv with it fused) or
    ends a classifier head: a `Dense` after a `Flatten` or global pooling,
    or a conv fed by the global pooling itself (MobileNet's 1x1 conv head).
    A model nested in another as a layer (a block `Sequential`) is judged
    where it is called: its last BN counts only where that call's output is
    the outer model's. Not reported: a feature extractor ending conv -> BN (even one whose
    squeeze-and-excitation blocks pool globally elsewhere), and a block
    ending Dense -> BN with no reduction before it, a piece of a bigger
    model (so an MLP on flat inputs is not checked for a final BN).

    ## Why is this bad?
    A BN after a softmax or sigmoid turns probabilities back into arbitrary
    numbers that neither sum to one nor lie in [0, 1], and a loss expecting
    probabilities gets something else. A BN ending a head forces each output
    unit to the batch's mean and variance in training and to the moving
    statistics at inference: a prediction depends on the rest of the batch.

    ## Example
    ```python
    x = layers.Dense(10, activation="softmax")(x)
    outputs = layers.BatchNormalization()(x)
    ```

    ## Use instead
    ```python
    x = layers.BatchNormalization()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    ```

    ## Fix safety
    No automatic fix yet. Removing or moving the BN changes what the model computes.

    ## Options
    - `allow-embedding-batchnorm` (default `false`): do not report a BN that
      ends a head without a softmax/sigmoid, for embedding models whose
      output vector is batch-normalised on purpose (ArcFace's
      BN-Dropout-FC-BN output, the "BNNeck" of re-identification).

    ## References
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015.
    - J. Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face
      Recognition", CVPR 2019 (the embedding output setting "E").
    - Keras documentation, `keras.layers.BatchNormalization`.
    """

    code = "BN005"
    name = "batchnorm-after-output"
    summary = "BatchNormalization after the final softmax/sigmoid or as the last layer of a classifier head"
    options = {"allow-embedding-batchnorm": Option(False, "do not report a BN ending a head without softmax/sigmoid")}

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        for node, layer in graph.layers():
            if layer.kind != "batchnorm" or not _feeds_output(graph, node):
                continue
            source = _producer(graph, node, _PASSIVE | {"pool"})
            if source is None or graph.layer(source).kind not in ("activation", "dense", "conv"):
                continue
            before = graph.layer(source)
            activation = before.get("activation", None)
            if isinstance(activation, str) and activation in _SQUASHING:
                yield Violation(node, f"`{layer.class_name}` normalises the output of the final {activation} "
                                f"(`{before.class_name}` '{before.name}'); remove it or move it before the head")
            elif not self.settings["allow-embedding-batchnorm"] and _is_head(graph, source):
                yield Violation(node, f"`{layer.class_name}` ends the head after `{before.class_name}` '{before.name}'"
                                ": the output depends on batch statistics; remove it or move it before the head")

    VALID = [
        """
from keras import layers, Sequential
model = Sequential([layers.Input((32, 32, 3)), layers.Conv2D(8, 3, use_bias=False), layers.BatchNormalization()])
""",
        """
from keras import layers, Sequential
block = Sequential([layers.Dense(8, use_bias=False), layers.BatchNormalization()])  # a piece of a bigger model
""",
        """
from keras import layers, Sequential, Input
head = Sequential([layers.Flatten(), layers.Dense(16, use_bias=False), layers.BatchNormalization()])
model = Sequential([Input((8, 8, 3)), head, layers.ReLU(), layers.Dense(1)])  # the block's BN is not the output
""",
        ("""
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.Flatten()(layers.Conv2D(8, 3, use_bias=False)(inputs))
embedding = layers.BatchNormalization()(layers.Dense(128, use_bias=False)(x))
model = keras.Model(inputs, embedding)
""", {"allow-embedding-batchnorm": True}),
    ]
    INVALID = [
        """
from keras import layers, Sequential, Input
head = Sequential([layers.Flatten(), layers.Dense(10, use_bias=False), layers.BatchNormalization()])  # expect: BN005
model = Sequential([Input((8, 8, 3)), head])
""",
        """
from keras import Sequential, layers as L
model = Sequential([L.Flatten(), L.Dense(10, activation="softmax"), L.BatchNormalization()])  # expect: BN005
""",
        """
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.GlobalAveragePooling2D(input_shape=(8, 8, 3)))
model.add(tf.keras.layers.Dense(1, use_bias=False))
model.add(tf.keras.layers.BatchNormalization())  # expect: BN005
""",
        ("""
import keras
from keras import layers
def head(x, classes):
    x = layers.Activation("sigmoid")(layers.Dense(classes)(x))
    return layers.BatchNormalization()(x)  # expect: BN005
inputs = keras.Input((16,))
model = keras.Model(inputs, [head(inputs, n) for n in (2, 3)])
""", {"allow-embedding-batchnorm": True}),
    ]
