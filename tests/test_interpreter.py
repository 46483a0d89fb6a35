"""The static interpreter on real-world code shapes: helpers, loops, closures, classes, entry points."""

from __future__ import annotations

import textwrap

import pytest

from bnlint import fix_source
from bnlint.graph import UNKNOWN
from bnlint.readers.python_source import read_source


def graphs_of(source: str):
    return read_source(textwrap.dedent(source), "model.py").graphs


def names(graph):
    return [layer.name for _, layer in graph.layers()]


def test_uncalled_builder_is_analysed_with_its_defaults():
    (g,) = graphs_of("""
        import keras
        from keras import layers

        def build(width=16, depth=2, name="net"):
            inputs = keras.Input((8,))
            x = inputs
            for i in range(depth):
                x = layers.Dense(width * (i + 1), name=f"fc{i}")(x)
            return keras.Model(inputs, x, name=name)
    """)
    assert (g.name, g.entry) == ("net", "build")
    assert names(g) == ["input_layer", "fc0", "fc1"]
    assert g.layer(2).config["units"] == 32


def test_entry_points_are_the_functions_nothing_else_calls():
    graphs = graphs_of("""
        import keras
        from keras import layers

        def block(x, filters, name):
            x = layers.Conv2D(filters, 3, use_bias=False, name=name + "_conv")(x)
            return layers.BatchNormalization(name=name + "_bn")(x)

        def Net(stack_fn, name):
            inputs = keras.Input((32, 32, 3))
            return keras.Model(inputs, stack_fn(inputs), name=name)

        def NetSmall():
            def stack_fn(x):
                return block(x, 8, "b1")
            return Net(stack_fn, "small")

        def NetLarge():
            def stack_fn(x):
                x = block(x, 8, "b1")
                return block(x, 16, "b2")
            return Net(stack_fn, "large")
    """)
    assert [(g.name, g.entry) for g in graphs] == [("small", "NetSmall"), ("large", "NetLarge")]
    # each entry point starts a fresh naming session, as a fresh Keras process would
    assert names(graphs[1]) == ["input_layer", "b1_conv", "b1_bn", "b2_conv", "b2_bn"]


def test_an_uncalled_helper_on_its_own_is_still_read():
    (g,) = graphs_of("""
        from keras import layers

        def conv_bn(x, filters=8):
            x = layers.Conv2D(filters, 3)(x)
            return layers.BatchNormalization()(x)
    """)
    # `x` stands for a tensor made elsewhere: an input of the helper's graph, named after its first layer.
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Conv2D", "BatchNormalization"]
    assert g.entry == "conv_bn" and g.name == "<layers from conv2d>"


def test_a_helpers_tensor_parameter_is_an_input_so_gates_and_residuals_keep_both_ends():
    """DeepPoseKit's spatial squeeze-excitation, analysed on its own: the gate multiplies the helper's
    input, so BN001 leaves its convolution alone; a parameter passed on to another helper that applies
    layers to it is a tensor too; a parameter used only as a number is not."""
    source = """
        from keras import layers

        def spatial_gate(inputs):
            gate = layers.Conv2D(1, 1, activation="sigmoid", use_bias=False)(inputs)
            return layers.Multiply()([inputs, gate])

        def channel_gate(inputs, filters):
            x = layers.GlobalAveragePooling2D(keepdims=True)(inputs)
            x = layers.Conv2D(filters // 4, 1, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Conv2D(filters, 1, activation="sigmoid", use_bias=False)(x)
            return layers.multiply([inputs, x])

        def both(inputs, filters):
            return layers.Maximum()([channel_gate(inputs, filters), spatial_gate(inputs)])
    """
    graphs = {g.entry: g for g in graphs_of(source)}
    (g,) = [g for g in graphs.values() if g.entry == "both"]
    classes = [layer.class_name for _, layer in g.layers()]
    assert classes.count("InputLayer") == 1 and classes.count("Multiply") == 2
    (placeholder,) = [n for n, layer in g.layers() if layer.kind == "input"]
    multiplies = [n for n, layer in g.layers() if layer.class_name == "Multiply"]
    assert all(placeholder in g.predecessors(n) for n in multiplies)
    _, diagnostics = fix_source(textwrap.dedent(source), select=["BN001"])
    assert diagnostics == []


def test_argument_checks_that_raise_do_not_stop_the_model():
    (g,) = graphs_of("""
        import keras
        from mylib import validate

        def build(weights="imagenet", classes=1000):
            if not (weights in {"imagenet", None} or validate(weights)):
                raise ValueError("bad weights")
            if validate(classes):
                raise ValueError("bad classes")
            inputs = keras.Input((4,))
            x = keras.layers.Dense(classes)(inputs)
            if weights == "imagenet":
                x = keras.layers.Rescaling(2.0)(x)
            return keras.Model(inputs, x)
    """)
    # entry points are analysed without pretrained weights (weights=None)
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Dense"]


def test_comprehensions_partial_deepcopy_and_math():
    (g,) = graphs_of("""
        import copy, math
        from functools import partial
        import keras
        from keras import layers

        BLOCKS = [{"filters": 8, "repeats": 1.5}, {"filters": 16, "repeats": 2}]
        Conv = partial(layers.Conv2D, kernel_size=3, padding="same", use_bias=False)
        inputs = keras.Input((32, 32, 3))
        x = inputs
        blocks = copy.deepcopy(BLOCKS)
        total = sum(math.ceil(b["repeats"]) for b in blocks)
        widths = [b["filters"] * 2 for b in blocks if b["filters"] > 8]
        x = Conv(widths[0], name=f"conv_{total}")(x)
        model = keras.Model(inputs, x)
    """)
    conv = g.layer(1)
    assert (conv.name, conv.config["filters"], conv.config["use_bias"], conv.config["padding"]) == ("conv_4", 32, False, "same")


def test_subclassed_model_is_read_from_init_and_call():
    graphs = graphs_of("""
        import keras
        from keras import layers

        class Block(keras.Model):
            def __init__(self, filters=8, **kwargs):
                super().__init__(**kwargs)
                self.convs = [layers.Conv2D(filters, 3) for _ in range(2)]
                self.bn = layers.BatchNormalization(momentum=0.1)
                self.drop = layers.Dropout(0.5)

            def call(self, inputs, training=None):
                x = inputs
                for conv in self.convs:
                    x = conv(x)
                x = self.drop(x)
                return self.bn(x, training=training)
    """)
    (g,) = graphs
    assert (g.name, g.entry) == ("block", "Block")
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Conv2D", "Conv2D", "Dropout", "BatchNormalization"]
    assert g.layer(4).config["momentum"] == 0.1


def test_a_subclassed_layer_is_read_with_the_arguments_the_file_first_makes_it_with():
    """Required arguments were unknown, so `range(n)` made no sublayers and the BNs in them went unchecked."""
    graphs = graphs_of("""
        import keras
        from keras import layers

        class Stage(layers.Layer):
            def __init__(self, filters, n, act, **kw):
                super().__init__(**kw)
                self.convs = [layers.Conv2D(filters, 3, padding="same", use_bias=False) for _ in range(n)]
                self.bns = [layers.BatchNormalization(momentum=0.01) for _ in range(n)]
                self.act = act

            def call(self, x):
                for conv, bn in zip(self.convs, self.bns):
                    x = keras.ops.relu(bn(conv(x)))
                return x

        inp = keras.Input((16, 16, 3))
        x = Stage(8, 2, layers.ReLU())(inp)
        x = Stage(16, n=3, act=None)(x)
        model = keras.Model(inp, layers.Dense(10)(layers.GlobalAveragePooling2D()(x)))
    """)
    stage = next(g for g in graphs if g.entry == "Stage")
    convs = [layer for _, layer in stage.layers() if layer.class_name == "Conv2D"]
    assert [layer.config["filters"] for layer in convs] == [8, 8]  # the first call's, not the second's
    assert [layer.class_name for _, layer in stage.layers()].count("BatchNormalization") == 2


def test_custom_layer_called_in_functional_code_is_one_node():
    graphs = graphs_of("""
        import keras
        from keras import layers

        class Scale(layers.Layer):
            def __init__(self, value=2.0, **kwargs):
                super().__init__(**kwargs)
                self.value = value

            def call(self, x):
                return x * self.value

        inputs = keras.Input((4,))
        x = Scale(name="scale")(layers.Dense(4)(inputs))
        model = keras.Model(inputs, x, name="m")
    """)
    model = next(g for g in graphs if g.name == "m")
    assert [(layer.name, layer.class_name, layer.kind) for _, layer in model.layers()][-1] == ("scale", "Scale", "other")


def test_shapes_flow_into_values():
    (g,) = graphs_of("""
        import keras
        from keras import backend, layers
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(24, 3, strides=2, padding="same")(inputs)
        x = layers.Conv2D(int(x.shape[-1] * 0.5), 1, name="reduce")(x)
        x = layers.Conv2D(backend.int_shape(x)[1], 1, name="spatial")(x)
        model = keras.Model(inputs, x)
    """)
    assert g.layer(2).config["filters"] == 12
    assert g.layer(3).config["filters"] == 16


def test_shapes_are_worked_out_on_demand_through_long_chains():
    """Shapes are computed when code reads one, back through every layer not yet known, without recursion."""
    (g,) = graphs_of("""
        import keras
        from keras import layers
        inputs = keras.Input((64, 64, 3))
        x = layers.Conv2D(8, 3, padding="same")(inputs)
        for i in range(3000):
            x = layers.Activation("relu")(x) + x if i % 2 else layers.ZeroPadding2D(0)(x)
        x = layers.Conv2D(x.shape[-1] * 2 + x.shape[1], 1, name="read")(x)
        model = keras.Model(inputs, x)
    """)
    read = next(n for n, layer in g.layers() if layer.name == "read")
    assert g.layer(read).config["filters"] == 8 * 2 + 64


def test_keras_ops_results_have_the_shapes_keras_gives_them():
    """A condition on the shape of a keras.ops result is decided, so its branch is built only if Keras builds it."""
    (g,) = graphs_of("""
        import keras
        from keras import layers, ops
        inp = keras.Input((8, 8, 16))
        y = layers.Conv2D(16, 3, padding="same")(inp)
        x = ops.add(inp, y)
        if x.shape[-1] != 16:
            x = layers.Conv2D(16, 1, name="never_built")(x)
        s = ops.mean(x, axis=(1, 2), keepdims=True)
        r = layers.Conv2D(x.shape[-1] + s.shape[1], 1, name="read")(x * s)
        c = ops.concatenate([r, x * s], axis=-1)
        e = ops.concatenate([ops.expand_dims(ops.squeeze(s, 1), 1), s], axis=1)
        z = ops.reshape(ops.transpose(c, (0, 3, 1, 2)), (-1, c.shape[-1] * 2, 32))
        z = layers.Dense(z.shape[1] + ops.softmax(z, axis=1).shape[2] + e.shape[1], name="last")(z)
        u, v = keras.Input((None, 4)), keras.Input((5, 4))
        w = layers.Dense((u + v).shape[1] + (v - u).shape[1], name="sum")(v)  # an unknown size and 5 give 5
        model = keras.Model([inp, u, v], [z, w])
    """)
    assert "never_built" not in names(g)
    layers = {layer.name: layer for _, layer in g.layers()}
    assert layers["read"].config["filters"] == 17  # 16 channels, and mean's kept axis 1
    assert layers["last"].config["units"] == 2 * 33 + 32 + 2  # 17 + 16 channels; 1 + 1 rows
    assert layers["sum"].config["units"] == 10


def test_image_data_format_is_the_default_setting():
    (g,) = graphs_of("""
        import keras
        from keras import backend, layers
        axis = 3 if backend.image_data_format() == "channels_last" else 1
        model = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization(axis=axis)])
    """)
    assert g.layer(1).config["axis"] == 3


def test_undecidable_conditional_expression_is_unknown():
    (g,) = graphs_of("""
        import os, keras
        model = keras.Sequential([keras.layers.Dense(4 if os.environ["X"] else 8)])
    """)
    assert g.layer(0).config["units"] is UNKNOWN


def test_snippet_without_imports_or_model_assignment():
    (g,) = graphs_of("""
        model.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
        model.add(Dropout(0.25))
        model.add(BatchNormalization())
    """)
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Conv2D", "Dropout", "BatchNormalization"]


def test_keras1_spellings():
    (g,) = graphs_of("""
        from keras.layers import Input, Convolution2D, merge
        from keras.layers.normalization import BatchNormalization
        from keras.models import Model
        a = Input(shape=(3, 32, 32))
        x = Convolution2D(16, 3, 3, border_mode="same", dim_ordering="th")(a)
        y = Convolution2D(16, 1, 1, dim_ordering="th")(a)
        s = merge([x, y], mode="sum")
        out = BatchNormalization(axis=1, mode=0)(s)
        model = Model(input=a, output=out)
    """)
    classes = [layer.class_name for _, layer in g.layers()]
    assert classes == ["InputLayer", "Conv2D", "Conv2D", "Add", "BatchNormalization"]
    conv = g.layer(1).config
    assert (conv["filters"], conv["kernel_size"], conv["padding"], conv["data_format"]) == (16, (3, 3), "same", "channels_first")


def test_calls_into_sibling_modules_are_followed(tmp_path):
    package = tmp_path / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "blocks.py").write_text(textwrap.dedent("""
        from keras import layers

        def conv_bn(x, filters, name):
            x = layers.Conv2D(filters, 3, name=name + "_conv")(x)
            return layers.BatchNormalization(name=name + "_bn")(x)
    """))
    (package / "net.py").write_text(textwrap.dedent("""
        import keras
        from . import blocks
        from .blocks import conv_bn
        from models.blocks import conv_bn as absolute_conv_bn

        inputs = keras.Input((32, 32, 3))
        x = blocks.conv_bn(inputs, 8, "a")
        x = conv_bn(x, 16, "b")
        x = absolute_conv_bn(x, 32, "c")
        model = keras.Model(inputs, x, name="net")
    """))
    from bnlint.readers.python_source import read_source_file

    (g,) = read_source_file(package / "net.py", "models/net.py").graphs
    assert names(g) == ["input_layer", "a_conv", "a_bn", "b_conv", "b_bn", "c_conv", "c_bn"]
    assert g.layer(1).origin.path == "models/blocks.py" and g.layer(1).origin.line == 5


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1"])
def test_an_imported_module_is_decoded_as_its_own_check_decodes_it(tmp_path, encoding):
    """TensorFlowTTS's korean.py starts with a BOM; an older module may declare latin-1 in a coding cookie."""
    cookie = "# -*- coding: latin-1 -*-\n" if encoding == "latin-1" else ""
    (tmp_path / "blocks.py").write_bytes((cookie + textwrap.dedent("""
        from keras import layers

        GREETING = "caf\u00e9"

        def conv_bn(x):
            x = layers.Conv2D(8, 3, use_bias=False)(x)
            return layers.BatchNormalization()(x)
    """)).encode(encoding))
    (tmp_path / "net.py").write_text(textwrap.dedent("""
        import keras
        from blocks import GREETING, conv_bn

        inputs = keras.Input((32, 32, 3))
        model = keras.Model(inputs, conv_bn(inputs), name=GREETING)
    """))
    from bnlint.readers.python_source import read_source_file

    result = read_source_file(tmp_path / "net.py", "net.py")
    assert result.notes == []
    (g,) = result.graphs
    assert g.name == "caf\u00e9"
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Conv2D", "BatchNormalization"]


def test_absolute_imports_from_elsewhere_in_the_project_are_followed(tmp_path):
    """keras_hub's layout: keras_hub/src/models/resnet/resnet_backbone.py imports keras_hub.src.models.backbone."""
    for package in ("proj", "proj/common", "proj/models", "proj/models/tiny"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "proj/common/backbone.py").write_text(textwrap.dedent("""
        import keras

        class Backbone(keras.Model):
            pass  # the base of every backbone
    """))
    (tmp_path / "proj/common/blocks.py").write_text(textwrap.dedent("""
        from keras import layers

        def conv_bn(x, filters, name):
            x = layers.Conv2D(filters, 3, use_bias=False, name=name + "_conv")(x)
            return layers.BatchNormalization(name=name + "_bn")(x)
    """))
    (tmp_path / "proj/models/tiny/tiny_backbone.py").write_text(textwrap.dedent("""
        import keras
        from proj.common.backbone import Backbone
        from proj.common.blocks import conv_bn

        class TinyBackbone(Backbone):
            def __init__(self, **kwargs):
                inputs = keras.Input((32, 32, 3))
                super().__init__(inputs=inputs, outputs=conv_bn(inputs, 8, "stem"), **kwargs)
    """))
    from bnlint.readers.python_source import read_source_file

    (g,) = read_source_file(tmp_path / "proj/models/tiny/tiny_backbone.py", "tiny_backbone.py").graphs
    assert (g.name, names(g)) == ("tiny_backbone", ["input_layer", "stem_conv", "stem_bn"])
    (other,) = read_source_file(tmp_path / "proj/common/blocks.py", "blocks.py").graphs  # conv_bn alone
    assert names(other) == ["<placeholder>", "conv2d", "batch_normalization"]  # (its name argument is unknown there)


def test_keras_own_sources_keep_keras_modelled_outside_their_package(tmp_path):
    """Checking Keras itself (keras/src/applications): keras.src.initializers is Keras, not source to read."""
    for package in ("keras", "keras/src", "keras/src/applications"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "keras/src/initializers.py").write_text("class VarianceScaling:\n    pass\n")
    (tmp_path / "keras/src/applications/net.py").write_text(textwrap.dedent("""
        from keras.src import initializers
        from keras.src import layers
        from keras.src.models import Functional

        def Net():
            inputs = layers.Input((8, 8, 3))
            x = layers.Conv2D(4, 3, kernel_initializer=initializers.VarianceScaling(2.0), name="conv")(inputs)
            return Functional(inputs, x, name="net")
    """))
    from bnlint.readers.python_source import read_source_file

    (g,) = read_source_file(tmp_path / "keras/src/applications/net.py", "net.py").graphs
    assert g.layer(1).config["kernel_initializer"] == {"module": "keras.initializers", "class_name": "VarianceScaling",
                                                      "config": {"*args": [2.0]}}


def test_a_name_a_package_re_exports_is_followed_and_a_cycle_ends(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj/__init__.py").write_text("from proj.blocks import conv_bn\nfrom proj.loop import helper\n")
    (tmp_path / "proj/blocks.py").write_text(textwrap.dedent("""
        from keras import layers

        def conv_bn(x):
            return layers.BatchNormalization(name="bn")(layers.Conv2D(8, 3, name="conv")(x))
    """))
    (tmp_path / "proj/loop.py").write_text("from proj import helper\n")  # re-exports itself, in a circle
    (tmp_path / "proj/net.py").write_text(textwrap.dedent("""
        import keras
        import proj
        import proj.blocks

        inputs = keras.Input((32, 32, 3))
        x = proj.helper(proj.conv_bn(inputs))
        model = keras.Model(inputs, x, name="net")
        other = keras.Model(inputs, proj.blocks.conv_bn(inputs), name="other")
    """))
    from bnlint.readers.python_source import read_source_file

    g, other = read_source_file(tmp_path / "proj/net.py", "net.py").graphs
    assert names(g) == ["input_layer", "conv", "bn", "helper"]  # the circular name is unknown: an op
    assert names(other) == ["input_layer", "conv", "bn"]


def test_a_star_import_of_a_project_module_brings_its_names(tmp_path):
    """ktrain's `from ..imports import *`, where that module binds `keras` inside a `try`; a module
    with `__all__` exports only those names."""
    (tmp_path / "pkg/vision").mkdir(parents=True)
    (tmp_path / "pkg/__init__.py").write_text("")
    (tmp_path / "pkg/vision/__init__.py").write_text("")
    (tmp_path / "pkg/imports.py").write_text(textwrap.dedent("""
        try:
            from tensorflow import keras
        except ImportError:
            keras = None
        _private = 0.5
    """))
    (tmp_path / "pkg/blocks.py").write_text(textwrap.dedent("""
        from keras import layers
        __all__ = ["conv_bn"]
        MOMENTUM = 0.1

        def conv_bn(x):
            return layers.BatchNormalization(momentum=MOMENTUM, name="bn")(layers.Conv2D(8, 3, name="conv")(x))
    """))
    (tmp_path / "pkg/vision/net.py").write_text(textwrap.dedent("""
        from ..imports import *
        from ..blocks import *

        inputs = keras.Input((32, 32, 3))
        x = conv_bn(inputs)
        x = keras.layers.BatchNormalization(momentum=MOMENTUM, name="bn2")(x)  # not in blocks' __all__
        x = keras.layers.Dropout(_private, name="drop")(x)  # a name starting with `_` is not exported
        model = keras.Model(inputs, x, name="net")
    """))
    from bnlint.graph import is_known
    from bnlint.readers.python_source import read_source_file

    (g,) = read_source_file(tmp_path / "pkg/vision/net.py", "net.py").graphs
    assert names(g) == ["input_layer", "conv", "bn", "bn2", "drop"]
    assert g.layer(g.find("bn")).get("momentum") == 0.1
    assert not is_known(g.layer(g.find("bn2")).get("momentum"))
    assert not is_known(g.layer(g.find("drop")).get("rate"))


def test_findings_are_reported_in_the_file_holding_the_call(tmp_path):
    from conftest import run_bnlint

    (tmp_path / "blocks.py").write_text("from keras import layers\n\ndef conv_bn(x):\n"
                                        "    return layers.BatchNormalization()(layers.Conv2D(8, 3)(x))\n")
    (tmp_path / "net.py").write_text("import keras\nimport blocks\ni = keras.Input((8, 8, 3))\n"
                                     "m = keras.Model(i, blocks.conv_bn(i))\n")
    net_only = run_bnlint("check", "net.py", cwd=tmp_path)
    assert (net_only.returncode, net_only.stdout.splitlines()[-1]) == (0, "All checks passed (1 file checked).")
    both = run_bnlint("check", ".", cwd=tmp_path)
    assert [line.split(":")[0] for line in both.stdout.splitlines() if ": BN" in line] == ["blocks.py"]


def test_layer_cap_stops_with_a_note():
    result = read_source("import keras\nfor i in range(300):\n    for j in range(300):\n        keras.layers.Dense(1)(None)\n", "m.py")
    assert any("stopped after 50000 layer calls" in note for note in result.notes)


def test_a_long_comprehension_of_data_is_unknown_and_the_analysis_goes_on():
    result = read_source(textwrap.dedent("""
        import keras
        ids = [i * 2 for i in range(20000)]
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(len(ids))(inputs))
    """), "m.py")
    (g,) = result.graphs
    assert g.layer(1).config["units"] is UNKNOWN
    assert result.notes == ["m.py:3: comprehension stopped after 10000 items"]


def test_a_long_comprehension_making_layers_stops_the_analysis():
    result = read_source(textwrap.dedent("""
        import keras
        dense = [keras.layers.Dense(1) for i in range(20000)]
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    """), "m.py")
    assert result.graphs == []  # the rest of the module would have been read with layers missing
    assert result.notes == ["m.py:3: comprehension stopped after 10000 items"]


def test_hostile_values_stay_unknown_instead_of_exhausting_memory():
    (g,) = graphs_of("""
        import keras
        huge = "x" * 10**9
        wide = f"{1:>999999999}"
        pct = "%999999999d" % 1
        fmt = "{:>999999999}".format(1)
        total = sum(range(10**12))
        power = 2 ** 10**9
        model = keras.Sequential([keras.layers.Dense(4, name=huge), keras.layers.Dense(4, name=wide),
                                  keras.layers.Dense(4, name=pct), keras.layers.Dense(4, name=fmt),
                                  keras.layers.Dense(total), keras.layers.Dense(power)])
    """)
    first, second, third, fourth, fifth, sixth = (layer for _, layer in g.layers())
    assert [first.name, second.name, third.name, fourth.name] == ["dense", "dense_1", "dense_2", "dense_3"]
    assert fifth.config["units"] is UNKNOWN and sixth.config["units"] is UNKNOWN


def test_keras_objects_are_kept_as_keras_serialises_them_and_fit_is_recorded():
    (g,) = graphs_of("""
        import keras
        model = keras.Sequential([
            keras.layers.Dense(4, kernel_initializer=keras.initializers.HeNormal(seed=1)),
            keras.layers.BatchNormalization(gamma_initializer="zeros"),
        ])
        model.fit(x_train, y_train, batch_size=4, epochs=2)
    """)
    assert g.layer(0).config["kernel_initializer"] == {
        "class_name": "HeNormal", "module": "keras.initializers", "config": {"seed": 1}
    }
    assert g.layer(1).config["gamma_initializer"] == "zeros"
    (fit,) = g.fits
    assert (fit.batch_size, fit.site.line) == (4, 7)


def test_relative_path_inside_a_package_is_read(tmp_path):
    from conftest import run_bnlint

    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "m.py").write_text("import keras\nfrom pkg import helper\nm = keras.Sequential([keras.layers.Dense(2)])\n")
    result = run_bnlint("check", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_namedtuple_settings_drive_the_blocks():
    # EfficientNet ports keep block settings in a namedtuple, with defaults set the pre-3.7 way,
    # and read them with attributes and _replace; the letters come from `string`, the loop from six.
    (g,) = graphs_of("""
        import collections
        import string
        import keras
        from keras import layers
        from six.moves import xrange

        BlockArgs = collections.namedtuple("BlockArgs", ["filters", "repeats", "strides", "se_ratio"])
        BlockArgs.__new__.__defaults__ = (None,) * len(BlockArgs._fields)
        Head = collections.namedtuple("Head", "units dropout", defaults=[0.2])
        BLOCKS = [BlockArgs(filters=8, repeats=1, strides=2), BlockArgs(16, 3, 1)]

        def build(blocks=BLOCKS, head=Head(10)):
            inputs = keras.Input((32, 32, 3))
            x = inputs
            for i, block in enumerate(blocks):
                x = layers.Conv2D(block.filters, 3, strides=block.strides, name=f"block{i + 1}a")(x)
                if block.repeats > 1:
                    block = block._replace(strides=1, filters=block.filters * 2)
                    for j in xrange(block.repeats - 1):
                        name = "block{}{}".format(i + 1, string.ascii_lowercase[j + 1])
                        x = layers.Conv2D(block.filters, 3, strides=block.strides, name=name)(x)
                if block.se_ratio is not None:
                    x = layers.Dense(4, name=f"se{i}")(x)
            x = layers.Dropout(head.dropout)(layers.GlobalAveragePooling2D()(x))
            return keras.Model(inputs, layers.Dense(head.units)(x))
    """)
    assert names(g) == ["input_layer", "block1a", "block2a", "block2b", "block2c",
                        "global_average_pooling2d", "dropout", "dense"]
    layers = dict((layer.name, layer) for _, layer in g.layers())
    assert [layers[n].config["filters"] for n in ("block1a", "block2a", "block2b")] == [8, 16, 32]
    assert layers["block1a"].config["strides"] == 2 and layers["block2b"].config["strides"] == 1
    assert (layers["dropout"].config["rate"], layers["dense"].config["units"]) == (0.2, 10)


def test_a_namedtuple_call_python_would_refuse_is_unknown():
    (g,) = graphs_of("""
        import collections
        import keras
        from keras import layers

        Args = collections.namedtuple("Args", ["units"])

        def build(args=Args(8, 9)):
            inputs = keras.Input((4,))
            return keras.Model(inputs, layers.Dense(args.units)(inputs))
    """)
    assert g.layer(1).config["units"] is UNKNOWN


def test_module_constants_are_known():
    (g,) = graphs_of("""
        import math
        import keras
        from keras import layers
        from string import ascii_uppercase

        def build():
            inputs = keras.Input((4,))
            x = layers.Dense(round(math.pi * 10), name="fc_" + ascii_uppercase[2])(inputs)
            return keras.Model(inputs, x)
    """)
    assert (g.layer(1).name, g.layer(1).config["units"]) == ("fc_C", 31)


def test_lambdas_are_called():
    (g,) = graphs_of("""
        import keras
        from keras import layers

        block = lambda x, units: layers.Dense(units, name=f"fc{units}")(x)
        inputs = keras.Input((8,))
        model = keras.Model(inputs, block(block(inputs, 4), 2))
    """)
    assert names(g) == ["input_layer", "fc4", "fc2"]


def test_layers_composed_with_functools_reduce():
    # keras-yolo3's `compose(DarknetConv2D(...), BatchNormalization(), LeakyReLU(alpha=0.1))`
    (g,) = graphs_of("""
        from functools import reduce, wraps
        import keras
        from keras.layers import BatchNormalization, Conv2D, LeakyReLU

        def compose(*funcs):
            if funcs:
                return reduce(lambda f, g: lambda *a, **kw: g(f(*a, **kw)), funcs)
            raise ValueError("nothing to compose")

        @wraps(Conv2D)
        def DarknetConv2D(*args, **kwargs):
            return Conv2D(*args, padding="same", **kwargs)

        def DarknetConv2D_BN_Leaky(*args, **kwargs):
            return compose(DarknetConv2D(*args, use_bias=False, **kwargs), BatchNormalization(), LeakyReLU())

        inputs = keras.Input((32, 32, 3))
        x = compose(DarknetConv2D_BN_Leaky(8, 3), DarknetConv2D_BN_Leaky(16, 3))(inputs)
        model = keras.Model(inputs, x)
    """)
    assert [layer.class_name for _, layer in g.layers()] == [
        "InputLayer", "Conv2D", "BatchNormalization", "LeakyReLU", "Conv2D", "BatchNormalization", "LeakyReLU"]
    assert [list(g.predecessors(node)) for node, _ in g.layers()] == [[], [0], [1], [2], [3], [4], [5]]
    assert g.layer(4).config["filters"] == 16 and g.layer(4).config["use_bias"] is False


def test_modules_of_a_directory_without_init_run_from_above(tmp_path):
    # yolo3/model.py imports `from yolo3.utils import ...`; train.py beside yolo3/ imports yolo3.model.
    from bnlint.readers.python_source import read_source_file

    (tmp_path / "yolo3").mkdir()
    (tmp_path / "yolo3" / "utils.py").write_text(
        "from keras import layers\n\ndef conv_bn(x):\n    return layers.BatchNormalization()(layers.Conv2D(8, 3)(x))\n")
    (tmp_path / "yolo3" / "model.py").write_text(
        "import keras\nfrom yolo3.utils import conv_bn\n\ndef body(shape=(8, 8, 3)):\n"
        "    i = keras.Input(shape)\n    return keras.Model(i, conv_bn(conv_bn(i)))\n")
    (tmp_path / "train.py").write_text("import keras\nfrom yolo3.model import body\nmodel = body()\n")
    for path in (tmp_path / "yolo3" / "model.py", tmp_path / "train.py"):
        (g,) = read_source_file(path).graphs
        assert [layer.class_name for _, layer in g.layers()] == [
            "InputLayer", "Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization"], path
    # A module of a sibling directory (bubbliiiing's nets/CSPdarknet53.py: `from utils.utils import compose`).
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "backbone.py").write_text(
        "import keras\nfrom yolo3.utils import conv_bn\n\ndef body(shape=(8, 8, 3)):\n"
        "    i = keras.Input(shape)\n    return keras.Model(i, conv_bn(i))\n")
    (g,) = read_source_file(tmp_path / "nets" / "backbone.py").graphs
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Conv2D", "BatchNormalization"]
    # Keras itself beside a script stays Keras as bnlint models it, not its sources.
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "__init__.py").write_text("")
    (tmp_path / "keras" / "layers.py").write_text("Dense = None\n")
    (tmp_path / "script.py").write_text("import keras\nfrom keras.layers import Dense\n"
                                        "i = keras.Input((4,))\nm = keras.Model(i, Dense(2)(i))\n")
    (g,) = read_source_file(tmp_path / "script.py").graphs
    assert [layer.class_name for _, layer in g.layers()] == ["InputLayer", "Dense"]


def test_an_interpreter_is_freed_as_soon_as_its_file_is_read():
    # Nothing may point back at the interpreter once it is done: held in a reference cycle, it and the
    # whole module it read wait for the garbage collector, which made checking 1,000 files 20% slower.
    import ast
    import gc
    import weakref

    from bnlint.readers.interpreter import Interpreter

    from conftest import ROOT

    text = (ROOT / "tests" / "data" / "own_activations" / "model.py").read_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        interpreter = Interpreter(ast.parse(text), "model.py", text.splitlines())
        graphs = interpreter.run()
        freed = weakref.ref(interpreter)
        del interpreter
        assert freed() is None and graphs
    finally:
        if enabled:
            gc.enable()


def test_the_function_activations_get_returns_is_applied_as_an_activation():
    """TF Model Garden's `tf_utils.get_activation(name)(x)` returns `activations.get(name)`: calling it on
    a tensor is that activation (one of unknown name still an activation), and the chain goes on."""
    (g,) = graphs_of("""
        import tensorflow as tf
        from tensorflow.keras import layers

        def mish(x):
            return x * tf.math.tanh(tf.math.softplus(x))

        def build(name=NAME_FROM_CONFIG):
            inputs = tf.keras.Input((8,))
            x = layers.BatchNormalization()(layers.Dense(4, use_bias=False)(inputs))
            x = tf.keras.activations.get("swish")(x)
            x = layers.BatchNormalization()(layers.Dense(4, use_bias=False)(x))
            x = tf.keras.activations.get(name)(x)
            x = layers.BatchNormalization()(layers.Dense(4, use_bias=False)(x))
            x = tf.keras.activations.get(mish)(x)
            return tf.keras.Model(inputs, layers.Dense(2)(x), name="net")
    """)
    from bnlint.graph import is_known

    kinds_and_activations = [(layer.kind, layer.get("activation")) for _, layer in g.layers()
                             if layer.kind == "activation" or layer.class_name == "multiply"]
    assert kinds_and_activations[0] == ("activation", "silu")  # Keras' name for swish
    assert kinds_and_activations[1][0] == "activation" and not is_known(kinds_and_activations[1][1])
    assert names(g)[-1] == "dense_3" and len(g.outputs) == 1  # one chain, to the head
    assert [layer.class_name for _, layer in g.layers()].count("Dense") == 4


@pytest.mark.parametrize("backbone", [
    "keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3))",
    "keras.models.load_model('backbone.keras')",
    "keras.saving.load_model('backbone.keras', compile=False)",
    "keras.models.clone_model(keras.models.load_model('backbone.keras'))",
])
def test_a_model_bnlint_does_not_read_called_on_a_tensor_is_one_op_node(backbone):
    """The backbone's call gave no tensor, so the head began a graph of its own, cut from the model's
    input (and a head without BN after a BN stem was checked as a model without BN, or the reverse)."""
    (graph,) = graphs_of(f"""
        import keras
        from keras import layers

        base = {backbone}
        inputs = keras.Input((96, 96, 3))
        x = layers.Conv2D(3, 1, use_bias=False)(inputs)
        x = layers.BatchNormalization()(x)
        x = base(x, training=False)
        x = layers.GlobalAveragePooling2D()(x)
        outputs = layers.Dense(10, activation="softmax")(layers.Dense(128, activation="relu")(x))
        model = keras.Model(inputs, outputs)
    """)
    assert names(graph)[:4] == ["input_layer", "conv2d", "batch_normalization", backbone.split("(")[0].split(".")[-1]]
    backbone_node = 3
    assert graph.layer(backbone_node).kind == "op"
    assert graph.predecessors(backbone_node) == [2] and graph.successors(backbone_node) == [4]
