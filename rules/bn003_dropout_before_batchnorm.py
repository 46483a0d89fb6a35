"""BN003 dropout-before-batchnorm."""

from __future__ import annotations

from bnlint.diagnostics import NOT_A_CHAIN, Applicability, Fix, MoveLayer, Violation
from bnlint.graph import ModelGraph, Site
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Iterator

# Layers that do not stop the variance shift from reaching the BN.
_TRANSPARENT = {"activation", "pool", "reshape", "dropout"}


# Why a dropout and a BN in two models (a nested block and the model that calls it) get no fix.
_NESTED = "the BN is in another model (a nested model, or the model that calls this one): move the dropout by hand"


def _first_batchnorm(graph: ModelGraph, start: int) -> int | None:
    """The first BN *start*'s output reaches through transparent layers, else None."""
    return next((node for node in graph.reachable(start, through=_TRANSPARENT)
                 if graph.layer(node).kind == "batchnorm"), None)


def _batchnorm_across_models(graph: ModelGraph, dropout: int) -> tuple[ModelGraph, int] | None:
    """A BN that *dropout*'s output reaches across a model boundary, through transparent layers: in the
    model that calls *graph* as a layer (the dropout ends a block), or at the start of a model *graph*
    calls (a block that begins with its BN). None if there is none."""
    for node in [dropout, *graph.reachable(dropout, through=_TRANSPARENT)]:
        layer = graph.layer(node)
        if node == dropout or layer.kind in _TRANSPARENT:
            if graph.is_output(node) and len(graph.outputs) == 1:
                for caller, call in graph.callers:
                    bn = _first_batchnorm(caller, call)
                    if bn is not None:
                        return caller, bn
        elif layer.kind == "model" and layer.submodel is not None and len(layer.submodel.inputs) == 1:
            bn = _first_batchnorm(layer.submodel, layer.submodel.inputs[0])
            if bn is not None:
                return layer.submodel, bn
    return None


def _move_after(graph: ModelGraph, dropout: int, bn: int) -> Fix | None:
    """Moving the dropout after the BN (the path between is a plain chain)."""
    sites = (graph.layer(dropout).origin, graph.layer(bn).origin)
    if not all(isinstance(site, Site) for site in sites):
        return None
    return Fix("move the dropout after the BN", Applicability.UNSAFE, (MoveLayer(sites[0], after=sites[1]),))


class DropoutBeforeBatchnorm(Rule):
    """
    ## What it does
    Finds dropout layers (`Dropout`, `SpatialDropout1D/2D/3D`,
    `GaussianDropout`, `AlphaDropout`) whose output reaches a
    `BatchNormalization` with only activation, pooling or reshape layers in
    between, also across a nested model's boundary (a block ending in its
    dropout, a BN after the block; a BN starting the block after a dropout).

    ## Why is this bad?
    Dropout scales the activations it keeps by `1 / (1 - rate)` during
    training and does nothing at inference, so the variance of its output
    differs between the two modes. A BN after it learns its moving variance
    from the training-mode statistics and then normalises inference-mode
    inputs with them: the "variance shift" that Li et al. show degrades
    accuracy whenever dropout precedes BN.

    ## Example
    ```python
    x = layers.Dense(128)(x)
    x = layers.Dropout(0.5)(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Use instead
    Put dropout after the last BN of the block (or after all BN layers):
    ```python
    x = layers.Dense(128)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the dropout is moved, unchanged, to
    right after the BN, which changes how the model trains. Offered only
    when the layers between form a plain chain (no branch leaves or joins
    it), where the move keeps every other connection, and both are in one
    model.

    ## Options
    None.

    ## References
    - X. Li, S. Chen, X. Hu, J. Yang, "Understanding the Disharmony between
      Dropout and Batch Normalization by Variance Shift", CVPR 2019.
    - Keras documentation, `keras.layers.Dropout`.
    """

    code = "BN003"
    name = "dropout-before-batchnorm"
    summary = "Dropout output reaches a BatchNormalization (variance shift)"
    fix = "unsafe"

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        for node, layer in graph.layers():
            if layer.kind != "dropout" or layer.get("rate", None) == 0:
                continue
            reached = _first_batchnorm(graph, node)
            if reached is not None:
                bn = graph.layer(reached)
                chain = graph.is_chain(node, reached)
                yield Violation(
                    node,
                    f"`{layer.class_name}` feeds `{bn.class_name}` '{bn.name}' (variance shift "
                    "between training and inference); move the dropout after the BN",
                    fix=_move_after(graph, node, reached) if chain else None,
                    unfixable=None if chain else NOT_A_CHAIN,
                )
            else:
                across = _batchnorm_across_models(graph, node)
                if across is not None:
                    other, bn_node = across
                    bn = other.layer(bn_node)
                    yield Violation(
                        node,
                        f"`{layer.class_name}` feeds `{bn.class_name}` '{bn.name}' of model '{other.name}' (variance "
                        "shift between training and inference); move the dropout after the BN",
                        unfixable=_NESTED,
                    )


    VALID = [
        """
import keras
from keras import layers
model = keras.Sequential([
    layers.Dense(64),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dropout(0.5),
    layers.Dense(10),
])
""",
        """
from tensorflow.keras import layers, Input, Model
inputs = Input((16,))
x = layers.Dropout(0.2)(inputs)
x = layers.Dense(32)(x)   # a weight layer between dropout and BN
x = layers.BatchNormalization()(x)
model = Model(inputs, x)
""",
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.Dropout(0.0), layers.BatchNormalization()])
""",
    ]
    INVALID = [
        """
import keras
from keras import layers
block = keras.Sequential([layers.Dense(64), layers.Dropout(0.5)])  # expect: BN003
model = keras.Sequential([layers.Input((16,)), block, layers.BatchNormalization(), layers.Dense(1)])
""",
        """
import keras
from keras import layers
head = keras.Sequential([layers.BatchNormalization(), layers.Dense(1)])
inputs = keras.Input((16,))
x = layers.Dropout(0.5)(layers.Dense(64)(inputs))  # expect: BN003
model = keras.Model(inputs, head(x))
""",
        """
import keras
from keras import layers
model = keras.Sequential([
    layers.Dense(64),
    layers.Dropout(0.5),  # expect: BN003
    layers.BatchNormalization(),
])
""",
        """
import tensorflow as tf
inputs = tf.keras.Input((32, 32, 3))
x = tf.keras.layers.Conv2D(8, 3, use_bias=False)(inputs)
x = tf.keras.layers.SpatialDropout2D(0.1)(x)  # expect: BN003
x = tf.nn.relu(x)
x = tf.keras.layers.MaxPooling2D()(x)
x = tf.keras.layers.BatchNormalization()(x)
model = tf.keras.Model(inputs, x)
""",
        """
from keras.models import Sequential
from keras.layers import Dense, Dropout, BatchNormalization, Flatten
model = Sequential()
model.add(Dense(16, input_shape=(8,)))
model.add(Dropout(0.3))  # expect: BN003
model.add(Flatten())
model.add(BatchNormalization())
""",
    ]
