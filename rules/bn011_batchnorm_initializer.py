"""BN011 batchnorm-initializer."""

from __future__ import annotations

from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph, is_known
from bnlint.rule import Rule

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any, Iterator

# The BN arguments checked, with Keras' defaults, and the config flag that
# says whether the weight exists at all (gamma needs scale, beta needs center).
_DEFAULTS = {
    "gamma_initializer": ("ones", "scale"),
    "beta_initializer": ("zeros", "center"),
    "moving_mean_initializer": ("zeros", None),
    "moving_variance_initializer": ("ones", None),
}

_ONES = "ones"
_ZEROS = "zeros"
_CONSTANT = "constant"

# Every name keras.initializers.get accepts (Keras 3.15: class names, their
# snake_case and aliases; case-sensitive), plus TensorFlow's own initializers,
# mapped to ones / zeros / constant or to the name shown for any other.
_KERAS_NAMES = {
    "Ones": _ONES, "ones": _ONES, "one": _ONES,
    "Zeros": _ZEROS, "zeros": _ZEROS, "zero": _ZEROS,
    "Constant": _CONSTANT, "constant": _CONSTANT,
    **{name: name for name in (
        "Identity", "identity", "IdentityInitializer", "STFT", "stft", "STFTInitializer",
        "GlorotNormal", "glorot_normal", "GlorotUniform", "glorot_uniform",
        "HeNormal", "he_normal", "HeUniform", "he_uniform",
        "LecunNormal", "lecun_normal", "LecunUniform", "lecun_uniform",
        "Orthogonal", "orthogonal", "OrthogonalInitializer",
        "RandomNormal", "random_normal", "normal", "RandomUniform", "random_uniform", "uniform",
        "TruncatedNormal", "truncated_normal", "VarianceScaling", "variance_scaling",
    )},
}
_TF_NAMES = {
    "ones_initializer": _ONES,
    "zeros_initializer": _ZEROS,
    "constant_initializer": _CONSTANT,
    **{name: name for name in (
        "random_normal_initializer", "random_uniform_initializer", "truncated_normal_initializer",
        "glorot_normal_initializer", "glorot_uniform_initializer", "variance_scaling_initializer",
        "orthogonal_initializer",
    )},
}
_LIBRARIES = ("keras", "tensorflow")

# Layers between a BN and the residual add that neither hold weights nor
# apply a nonlinearity that moves a constant: with a zero gamma the branch
# still contributes only beta (max pooling of a constant is that constant).
_BRANCH_TAIL = {"op", "dropout", "reshape", "pool"}
# Layers a shortcut may hold between the block input and the add: at most
# one projection (conv or dense), plus BN, pooling and reshapes.
_SHORTCUT = {"conv", "dense", "batchnorm", "pool", "reshape", "op", "dropout"}


def _initial_value(value: Any) -> tuple[str, str] | None:
    """``(kind, shown)`` of an initializer argument, or None when it cannot be told.

    *kind* is ``"ones"``, ``"zeros"``, or any other name; *shown* is how the
    message spells the argument.
    """
    if value is None:
        # Keras then falls back to add_weight's default: glorot_uniform.
        return "glorot_uniform", "None"
    if isinstance(value, str):
        if "." not in value:
            kind = _KERAS_NAMES.get(value)
            return None if kind is None else (_ZEROS if kind == _CONSTANT else kind, repr(value))
        # A reference to an initializer class or function: keras.initializers.Ones.
        module, _, name = value.rpartition(".")
        kind = _named(module, name)
        return None if kind is None else (_ZEROS if kind == _CONSTANT else kind, value)
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        module = value.get("module", "keras.initializers")
        config = value.get("config", {})
        name = value["class_name"]
        if not isinstance(module, str) or not isinstance(config, dict):
            return None
        args = config.get("*args", [])
        if name == "get" and module.split(".")[0] == "keras":
            identifier = args[0] if args else config.get("identifier", None)
            return _initial_value(identifier)
        kind = _named(module, name)
        if kind != _CONSTANT:
            return None if kind is None else (kind, f"{name}()")
        constant = args[0] if args else config.get("value", 0.0)
        if isinstance(constant, bool) or not isinstance(constant, (int, float)):
            return None
        kind = _ONES if constant == 1 else _ZEROS if constant == 0 else f"constant {constant:g}"
        return kind, f"{name}({constant!r})"
    return None


def _named(module: str, name: str) -> str | None:
    """The kind of initializer *name* in *module*, or None for anything not Keras' or TensorFlow's."""
    if module.split(".")[0] not in _LIBRARIES:
        return None
    return _KERAS_NAMES.get(name, _TF_NAMES.get(name))


def _is_add(graph: ModelGraph, node: int) -> bool:
    layer = graph.layer(node)
    if layer.kind == "merge":
        return layer.class_name == "Add"
    return layer.kind == "op" and layer.class_name.rpartition(".")[2] == "add"


def _ends_residual_branch(graph: ModelGraph, bn: int) -> bool:
    """True when *bn* is the last BN of a residual branch, or may be.

    Its output must reach an add through weight-free, activation-free
    single-input layers only, and another input of that add must be the
    block's shortcut: a tensor the branch was computed from, possibly
    through one projection. A BN whose output leaves the model that way
    (a branch built as a model of its own) may be added to a shortcut by
    the caller, which this graph does not show.
    """
    before = None
    current = bn
    while True:
        if graph.is_output(current):
            return True
        consumers = graph.successors(current)
        if len(consumers) != 1:
            return False
        before, current = current, consumers[0]
        if _is_add(graph, current):
            break
        layer = graph.layer(current)
        if layer.kind not in _BRANCH_TAIL or len(graph.predecessors(current)) != 1:
            return False
    branch_inputs = graph.ancestors(bn)
    downstream = graph.descendants(bn) | {bn}
    return any(
        _is_shortcut(graph, other, branch_inputs, downstream)
        for other in graph.predecessors(current)
        if other != before
    )


def _is_shortcut(graph: ModelGraph, node: int, branch_inputs: set[int], downstream: set[int]) -> bool:
    """True when *node* carries a tensor the branch started from, through at most one projection."""
    projections = 0
    while node not in branch_inputs:
        layer = graph.layer(node)
        producers = graph.predecessors(node)
        if node in downstream or layer.kind not in _SHORTCUT or len(producers) != 1:
            return False
        projections += layer.kind in ("conv", "dense")
        if projections > 1:
            return False
        node = producers[0]
    return True


class BatchnormInitializer(Rule):
    """
    ## What it does
    Finds `BatchNormalization` layers with initialisers other than Keras'
    defaults: `gamma_initializer` not ones, `beta_initializer` not zeros,
    `moving_mean_initializer` not zeros, `moving_variance_initializer` not
    ones. Strings (`"zeros"`, `"Ones"`, `"glorot_uniform"`), initializer
    objects (`keras.initializers.Zeros()`, `Constant(1.0)` counts as ones,
    `Constant(0.0)` as zeros), classes (`keras.initializers.Ones`) and
    serialised dicts are understood; `None` counts as non-standard (see
    below). An argument not written is the default. `gamma_initializer` is
    not checked when `scale=False` (there is no gamma), nor
    `beta_initializer` when `center=False`.

    Not reported: a zero `gamma_initializer` on the last BN of a residual
    branch, i.e. a BN whose output reaches an `Add` (a layer, `layers.add`,
    `x + y`, `keras.ops.add`) through weight-free, activation-free layers
    only (a scaling op, dropout, pooling, a reshape), where another input
    of the `Add` is the block's shortcut: a tensor the branch was computed
    from, directly or through one projection (a 1x1 convolution with its
    BN, pooling). Zero-initialising that gamma makes each residual block start
    as the identity, which Goyal et al. recommend. A zero gamma on a BN
    whose output is the output of its model (a residual branch built as a
    model of its own) is not reported either: the add happens in the
    caller. Initialisers bnlint cannot identify (custom classes, values
    not known statically) are not reported.

    ## Why is this bad?
    The defaults make a freshly initialised BN an exact standardisation:
    output mean 0 and variance 1 in training, and, before the moving
    statistics have been learned, the identity at inference. Other values
    change what the network starts from:

    - gamma zeros (outside a residual branch) cuts the signal: the layer
      outputs only beta, and the layers before it receive no gradient in the
      first step; random gammas flip and shrink channels at random.
    - a non-zero beta shifts every channel; before a ReLU a negative beta
      starts units dead.
    - the moving statistics are what inference uses until training has
      replaced them (with the default momentum 0.99, about 460 steps to
      forget 99% of the initial value). A moving variance of zeros divides
      by `sqrt(epsilon)`, about 32 times the signal.
    - `None` is not "no initialiser": Keras falls back to `glorot_uniform`,
      so gamma and even the moving variance start with random values,
      negative ones included (the square root of a negative variance is NaN
      at inference).

    ## Example
    ```python
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(gamma_initializer="glorot_uniform")(x)
    x = layers.ReLU()(x)
    ```

    ## Use instead
    The defaults, or zero gamma only on the last BN of a residual branch:
    ```python
    y = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(64, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(gamma_initializer="zeros")(y)
    x = layers.Add()([x, y])
    ```

    ## Fix safety
    No automatic fix: the initial values change how the model trains.

    ## Options
    None.

    ## References
    - P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in
      1 Hour", 2017, section 5.1 (zero gamma for the last BN of each
      residual block).
    - S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
      Training by Reducing Internal Covariate Shift", ICML 2015, section 3
      (gamma and beta can recover the identity).
    - Keras documentation, `keras.layers.BatchNormalization` (initialiser
      defaults) and `keras.initializers`.
    """

    code = "BN011"
    name = "batchnorm-initializer"
    summary = "BatchNormalization with non-default gamma, beta or moving-statistics initialisers"
    default = False

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        for node, layer in graph.layers():
            if layer.kind != "batchnorm":
                continue
            unusual = []
            for key, (standard, needs) in _DEFAULTS.items():
                if key not in layer.config or (needs is not None and layer.get(needs) is not True):
                    continue
                value = layer.config[key]
                if not is_known(value):
                    continue
                initial = _initial_value(value)
                if initial is None or initial[0] == standard:
                    continue
                kind, shown = initial
                note = f"default: {standard}"
                if value is None:
                    note += "; None makes Keras draw glorot_uniform values"
                if key == "gamma_initializer" and kind == _ZEROS:
                    if _ends_residual_branch(graph, node):
                        continue
                    note += "; zero gamma belongs only on the last BN of a residual branch"
                unusual.append(f"`{key}={shown}` ({note})")
            if unusual:
                yield Violation(node, "non-standard initialisation: " + ", ".join(unusual))

    VALID = [
        """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input((16,)),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(gamma_initializer="ones", beta_initializer="Zeros"),
    layers.BatchNormalization(moving_variance_initializer=keras.initializers.Constant(1.0)),
    layers.BatchNormalization(moving_mean_initializer=keras.initializers.zeros()),
])
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 16))
y = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
y = layers.BatchNormalization()(y)
y = layers.ReLU()(y)
y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
y = layers.BatchNormalization(gamma_initializer="zeros")(y)  # last BN of the residual branch
x = layers.Add()([inputs, y])
model = keras.Model(inputs, layers.ReLU()(x))
""",
        """
import tensorflow as tf
inputs = tf.keras.Input((32, 32, 16))
s = tf.keras.layers.Conv2D(32, 1, strides=2, use_bias=False)(inputs)
s = tf.keras.layers.BatchNormalization()(s)
y = tf.keras.layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(inputs)
y = tf.keras.layers.BatchNormalization(gamma_initializer=tf.keras.initializers.Constant(0.0))(y)
x = tf.nn.relu(s + y * 0.5)
model = tf.keras.Model(inputs, x)
""",
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.BatchNormalization(scale=False, gamma_initializer="he_normal")])
""",
    ]
    INVALID = [
        """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input((16,)),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(gamma_initializer="glorot_uniform"),  # expect: BN011
    layers.ReLU(),
    layers.BatchNormalization(beta_initializer=keras.initializers.Constant(0.1)),  # expect: BN011
    layers.BatchNormalization(moving_variance_initializer="zeros"),  # expect: BN011
])
""",
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 16))
y = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
y = layers.BatchNormalization(gamma_initializer="zeros")(y)  # expect: BN011
y = layers.ReLU()(y)
y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
y = layers.BatchNormalization()(y)
x = layers.Add()([inputs, y])
model = keras.Model(inputs, x)
""",
        """
from tensorflow.keras.layers import BatchNormalization as BN, Dense, Input
from tensorflow.keras import Model, initializers
inputs = Input((8,))
x = Dense(8, use_bias=False)(inputs)
x = BN(  # expect: BN011
    moving_mean_initializer=initializers.RandomNormal(stddev=0.1),
    gamma_initializer=None,
)(x)
model = Model(inputs, x)
""",
    ]
