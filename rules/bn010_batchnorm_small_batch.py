"""BN010 batchnorm-small-batch."""

from __future__ import annotations

from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph
from bnlint.rule import Option, Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator


def _batch_statistics_nodes(graph: ModelGraph) -> list[int]:
    """Nodes of *graph* that normalise with batch statistics in training.

    A BN counts unless it is frozen (``trainable=False``: Keras then runs it
    in inference mode) or uses batch renormalisation (``renorm=True``, the
    small-batch remedy of Ioffe 2017); a setting that is not known statically
    leaves the layer out. A nested model counts when it holds such a BN.
    """
    found = []
    for node, layer in graph.layers():
        if layer.get("trainable", True) is not True:
            continue
        if layer.kind == "batchnorm" and layer.get("renorm", False) is False:
            found.append(node)
        elif layer.kind == "model" and layer.submodel is not None and _batch_statistics_nodes(layer.submodel):
            found.append(node)
    return found


class BatchnormSmallBatch(Rule):
    """
    ## What it does
    Finds `model.fit(..., batch_size=N)` calls with `N` below
    `min-batch-size` (8) on a model that contains `BatchNormalization`
    layers. The finding is reported at the `fit` call; the layers it lists
    are the BN layers (or the nested models holding them) that train on
    those batches.

    Not reported: `batch_size=None` or no `batch_size` (Keras then uses
    32); a batch size bnlint cannot know statically (a variable read from
    the command line); BN layers built with `trainable=False` (Keras runs a
    frozen BN in inference mode, on its moving statistics) or
    `renorm=True` (batch renormalisation, designed for small batches).

    Limitations: only `fit` calls in the same file as the model are seen,
    and only their `batch_size` argument. When `x` is a `tf.data.Dataset`
    or a generator, the batch size comes from the pipeline
    (`dataset.batch(4)`) and `fit` ignores `batch_size`: such calls are not
    checked. A model frozen later by assignment (`base.trainable = False`)
    or called with `training=False` is not seen as frozen; silence the
    finding with `# noqa: BN010` on the `fit` line. `fit` on an instance of
    a subclassed `keras.Model` counts for the model read from that class.

    ## Why is this bad?
    In training, BN normalises each channel with the mean and variance of
    the current batch. With a handful of samples these estimates are noisy,
    the noise differs from step to step, and the moving averages used at
    inference no longer match what the layer saw in training. Wu & He
    measured ResNet-50's ImageNet error rising sharply once the batch falls
    below 8 images per device: with 2 images, BN's error is 10.6 points
    higher than Group Normalization's, which does not depend on the batch.

    The batch size given to `fit` is the global batch: under a
    `tf.distribute` strategy it is split across the replicas. A BN with
    `synchronized=True` computes statistics over the whole global batch, so
    it cannot see more than those `N` samples and is no remedy here; each
    replica on its own sees even fewer.

    ## Example
    ```python
    model = keras.Sequential([
        keras.Input((64, 64, 3)),
        layers.Conv2D(32, 3, use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
    ])
    model.fit(x, y, batch_size=2)
    ```

    ## Use instead
    A normalisation that does not depend on the batch:
    ```python
    model = keras.Sequential([
        keras.Input((64, 64, 3)),
        layers.Conv2D(32, 3, use_bias=False),
        layers.GroupNormalization(groups=8),
        layers.ReLU(),
    ])
    model.fit(x, y, batch_size=2)
    ```
    or a batch of at least 8 samples (`fit(x, y, batch_size=32)`), or,
    when fine-tuning a pretrained network, BN layers frozen with
    `trainable=False`.

    ## Fix safety
    No automatic fix: every remedy changes how the model trains.

    ## Options
    - `min-batch-size` (int, default 8): the smallest batch size not
      reported.

    ## References
    - Y. Wu, K. He, "Group Normalization", ECCV 2018 (figure 1, section 1).
    - S. Ioffe, "Batch Renormalization: Towards Reducing Minibatch
      Dependence in Batch-Normalized Models", NeurIPS 2017.
    - Keras documentation, `keras.layers.BatchNormalization` (`trainable`,
      `synchronized`) and `keras.layers.GroupNormalization`.
    """

    code = "BN010"
    name = "batchnorm-small-batch"
    summary = "Model with BatchNormalization trained by fit() on batches smaller than 8"
    options = {
        "min-batch-size": Option(8, "smallest fit() batch size that BatchNormalization layers may train on"),
    }

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        if not graph.fits:
            return
        minimum = self.settings["min-batch-size"]
        nodes = None
        for fit in graph.fits:
            size = fit.batch_size
            if isinstance(size, bool) or not isinstance(size, int) or size >= minimum:
                continue
            if nodes is None:
                nodes = _batch_statistics_nodes(graph)
            message = (
                f"`fit(batch_size={size})` trains BatchNormalization on batches of {size} "
                f"(fewer than {minimum}): its batch statistics are noisy; use a batch of at least "
                f"{minimum}, or `GroupNormalization` instead of BN"
            )
            # One violation per BN, all at the fit call: the engine makes them
            # one finding that lists the BN layers affected.
            for node in nodes:
                yield Violation(node, message, origin=fit.site)

    VALID = [
        """
import keras
from keras import layers
model = keras.Sequential([keras.Input((16,)), layers.Dense(8, use_bias=False), layers.BatchNormalization()])
model.compile("adam", "mse")
model.fit(x, y, batch_size=32)
model.fit(x, y)  # Keras' default batch size, 32
model.fit(x, y, batch_size=None)
""",
        """
import keras
from keras import layers
model = keras.Sequential([keras.Input((16,)), layers.Dense(8), layers.LayerNormalization()])
model.fit(x, y, batch_size=2)  # no BN in the model
""",
        """
import sys
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(8, 3, use_bias=False)(inputs)
x = layers.BatchNormalization(trainable=False)(x)  # frozen: runs on its moving statistics
y = layers.Conv2D(8, 3, use_bias=False)(x)
y = layers.BatchNormalization(renorm=True)(y)
model = keras.Model(inputs, y)
model.fit(images, labels, batch_size=4)
model.fit(images, labels, batch_size=int(sys.argv[1]))  # not known statically
""",
        (
            """
import keras
from keras import layers
model = keras.Sequential([keras.Input((16,)), layers.Dense(8, use_bias=False), layers.BatchNormalization()])
model.fit(x, y, batch_size=4)
""",
            {"min-batch-size": 4},
        ),
    ]
    INVALID = [
        """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input((16,)),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(),
])
model.compile("adam", "mse")
model.fit(x, y, batch_size=4)  # expect: BN010
""",
        """
import tensorflow as tf
BATCH = 2
inputs = tf.keras.Input((32, 32, 3))
x = tf.keras.layers.Conv2D(8, 3, use_bias=False)(inputs)
x = tf.keras.layers.BatchNormalization(synchronized=True)(x)
model = tf.keras.Model(inputs, x)
model.fit(  # expect: BN010
    images,
    labels,
    BATCH,
    epochs=10,
)
""",
        """
from keras import layers, Sequential
backbone = Sequential([layers.Conv2D(8, 3, use_bias=False), layers.BatchNormalization()])
model = Sequential([layers.Input((32, 32, 3)), backbone, layers.GlobalAveragePooling2D(), layers.Dense(2)])
model.fit(x, y, batch_size=1)  # expect: BN010
model.fit(x, y, batch_size=16)
""",
        """
import keras
from keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(16, 3, use_bias=False)
        self.bn = layers.BatchNormalization()
        self.head = layers.Dense(10)

    def call(self, x):
        return self.head(layers.GlobalAveragePooling2D()(keras.activations.relu(self.bn(self.conv(x)))))


net = Net()
net.compile("adam", "sparse_categorical_crossentropy")
net.fit(images, labels, batch_size=2, epochs=3)  # expect: BN010
""",
        (
            """
import keras
from keras import layers
model = keras.Sequential([keras.Input((16,)), layers.Dense(8, use_bias=False), layers.BatchNormalization()])
model.fit(x, y, batch_size=8)  # expect: BN010
""",
            {"min-batch-size": 16},
        ),
    ]
