"""`keras.config.set_image_data_format`: layers built after it take its format, as in real Keras."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from bnlint.engine import lint
from bnlint.graph import UNKNOWN
from bnlint.readers.python_source import read_source

PROGRAM = textwrap.dedent("""
    import keras
    from keras import backend, layers

    early = layers.Conv2D(4, 1, name="early")  # made while the format is still channels_last
    keras.config.set_image_data_format("channels_first")
    inputs = keras.Input((3, 16, 16))
    x = layers.ZeroPadding2D(1, name="pad")(inputs)
    x = layers.Conv2D(8, 3, name="conv")(x)
    axis = 1 if backend.image_data_format() == "channels_first" else -1
    x = layers.BatchNormalization(axis=axis, name="bn")(x)
    x = layers.MaxPooling2D(data_format=None, name="pool")(x)
    x = layers.UpSampling2D(name="up")(x)
    x = early(x)
    y = layers.GlobalAveragePooling2D(name="gap")(x)
    y = layers.Dense(int(x.shape[1]) * 10 + int(x.shape[-1]), name="sizes")(y)
    model = keras.Model(inputs, y)
""")

KERAS_SIDE = """
import json, sys
exec(sys.argv[1])
print(json.dumps({layer.name: {k: layer.get_config().get(k) for k in ("data_format", "axis", "units")}
                  for layer in model.layers}))
"""


def static_configs(source: str) -> dict:
    (graph,) = read_source(source, "model.py").graphs
    return {layer.name: layer.config for _, layer in graph.layers()}


def test_static_read_matches_the_model_real_keras_builds():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", KERAS_SIDE, PROGRAM], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    keras_side = json.loads(result.stdout.splitlines()[-1])
    static = static_configs(PROGRAM)
    for name, config in keras_side.items():
        if config["data_format"] is not None:
            assert static[name]["data_format"] == config["data_format"], name
    axis = keras_side["bn"]["axis"]
    assert static["bn"]["axis"] in ((axis,) if isinstance(axis, int) else (axis, axis[0])), axis
    assert static["sizes"]["units"] == keras_side["sizes"]["units"]  # shapes follow each layer's format
    assert keras_side["early"]["data_format"] == "channels_last" and keras_side["conv"]["data_format"] == "channels_first"


def test_unknown_or_invalid_formats_and_keras_1_dim_ordering():
    def formats(setter: str) -> str:
        return static_configs(f"""
from keras import backend as K, layers, Input, Model
{setter}
inputs = Input((3, 8, 8))
model = Model(inputs, layers.Conv2D(4, 3, name="c")(inputs))
""")["c"]["data_format"]

    assert formats('K.set_image_dim_ordering("th")') == "channels_first"
    assert formats('K.set_image_data_format("Channels_First")') == "channels_first"  # Keras lower-cases it
    assert formats("K.set_image_data_format(some_setting())") is UNKNOWN
    assert formats('K.set_image_data_format("NCHW")') is UNKNOWN  # Keras refuses it; the format is then unknown
    assert formats("") == "channels_last"


def test_keras_1_default_dim_ordering_is_the_setting_in_effect():
    """``dim_ordering="default"`` meant keras.json's setting, which ``set_image_dim_ordering`` changed."""
    def check(setter: str) -> list[str]:
        result = read_source(f"""
from keras.models import Sequential
from keras.layers import Convolution2D, BatchNormalization
from keras import backend as K
{setter}
model = Sequential()
model.add(Convolution2D(8, 3, 3, dim_ordering="default", bias=False, input_shape=(32, 32, 8)))
model.add(BatchNormalization(axis=1))
""", "model.py")
        (graph,) = result.graphs
        formats = [layer.config.get("data_format") for _, layer in graph.layers() if layer.kind == "conv"]
        return formats + [d.code for d in lint(result, {"BN008"})]

    assert check('K.set_image_dim_ordering("th")') == ["channels_first"]
    assert check("") == ["channels_last", "BN008"]
    # (An input declared as (3, 32, 32) reads channels-first whatever the code sets: BN008 trusts it.)


def test_each_entry_point_starts_from_what_the_module_set():
    graphs = read_source(textwrap.dedent("""
        import keras
        from keras import layers

        def first():
            keras.config.set_image_data_format("channels_first")
            inputs = keras.Input((3, 8, 8))
            return keras.Model(inputs, layers.Conv2D(4, 3, name="a")(inputs), name="first")

        def second():
            inputs = keras.Input((8, 8, 3))
            return keras.Model(inputs, layers.Conv2D(4, 3, name="b")(inputs), name="second")
    """), "model.py").graphs
    formats = {layer.name: layer.config["data_format"] for g in graphs for _, layer in g.layers() if layer.kind == "conv"}
    assert formats == {"a": "channels_first", "b": "channels_last"}  # a fresh process would not have run first()


def test_bn008_reads_the_global_format():
    result = read_source(textwrap.dedent("""
        import keras
        from keras import layers
        keras.config.set_image_data_format("channels_first")
        inputs = keras.Input((3, 32, 32))
        x = layers.Conv2D(8, 3, use_bias=False)(inputs)
        x = layers.BatchNormalization(axis=1)(x)
        x = layers.Conv2D(8, 3, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        model = keras.Model(inputs, x)
    """), "model.py")
    assert [(d.code, d.origin.line) for d in lint(result, {"BN008"})] == [("BN008", 9)]  # the default-axis BN only
