"""The Python-source reader: each supported form becomes the right layer graph."""

from __future__ import annotations

import textwrap

import pytest

from bnlint.graph import UNKNOWN, Site
from bnlint.readers.python_source import read_source


def graphs_of(source: str):
    return read_source(textwrap.dedent(source), "model.py").graphs


def chain(graph):
    """Class names in node order, and edges as (producer class, consumer class, index)."""
    classes = [layer.class_name for _, layer in graph.layers()]
    edges = sorted(
        (graph.layer(u).name, graph.layer(v).name, d["index"]) for u, v, d in graph.nx.edges(data=True)
    )
    return classes, edges


def test_sequential_list_with_input_first():
    (g,) = graphs_of("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((32, 32, 3)),
            layers.Conv2D(8, 3),
            layers.BatchNormalization(),
            layers.ReLU(),
        ], name="net")
    """)
    assert g.name == "net"
    classes, edges = chain(g)
    assert classes == ["InputLayer", "Conv2D", "BatchNormalization", "ReLU"]
    assert edges == [
        ("batch_normalization", "re_lu", 0),
        ("conv2d", "batch_normalization", 0),
        ("input_layer", "conv2d", 0),
    ]
    assert [g.layer(n).kind for n in g.inputs] == ["input"]
    assert [g.layer(n).name for n in g.outputs] == ["re_lu"]


def test_input_shape_keyword_creates_an_input_layer():
    (g,) = graphs_of("""
        from tensorflow.keras import layers, models
        model = models.Sequential([layers.Dense(4, input_shape=(8,)), layers.Dense(2)])
    """)
    assert chain(g)[0] == ["InputLayer", "Dense", "Dense"]
    assert g.layer(1).config["input_shape"] == (8,)


def test_nested_sequential_is_a_model_node_and_a_model_of_its_own():
    inner, outer = graphs_of("""
        import keras as K
        block = K.Sequential([K.layers.Conv2D(8, 3), K.layers.BatchNormalization()], name="block")
        model = K.Sequential([K.Input((16, 16, 3)), block, K.layers.Flatten()], name="outer")
    """)
    assert (inner.name, outer.name) == ("block", "outer")
    assert chain(outer)[0] == ["InputLayer", "Sequential", "Flatten"]
    node = next(n for n, layer in outer.layers() if layer.kind == "model")
    assert outer.layer(node).submodel is inner
    # Building the outer model builds the inner one, which makes its own InputLayer (as in Keras).
    assert chain(inner)[0] == ["InputLayer", "Conv2D", "BatchNormalization"]
    assert inner.layer(0).name == "input_layer_1"


def test_inline_nested_sequential_in_a_list():
    graphs = graphs_of("""
        from keras import Sequential
        from keras.layers import Dense, BatchNormalization
        model = Sequential([Dense(4), Sequential([Dense(4), BatchNormalization()]), Dense(1)])
    """)
    assert sorted(len(g) for g in graphs) == [2, 3]


def test_sequential_add_chain():
    (g,) = graphs_of("""
        from keras.models import Sequential
        from keras.layers import Dense, Dropout, BatchNormalization
        model = Sequential()
        model.add(Dense(16, input_shape=(8,)))
        model.add(Dropout(0.5))
        model.add(BatchNormalization())
        model.compile(optimizer="adam", loss="mse")
    """)
    assert chain(g)[0] == ["InputLayer", "Dense", "Dropout", "BatchNormalization"]
    assert g.layer(2).config["rate"] == 0.5


def test_functional_model_with_merges():
    (g,) = graphs_of("""
        import tensorflow as tf
        from tensorflow.keras import layers
        inputs = tf.keras.Input(shape=(32, 32, 3), name="image")
        a = layers.Conv2D(8, 3, padding="same", name="a")(inputs)
        b = layers.Conv2D(8, 1, name="b")(inputs)
        s = layers.Add(name="sum")([a, b])
        t = layers.add([s, a], name="sum2")
        c = layers.Concatenate(name="cat")([t, b])
        model = tf.keras.Model(inputs=inputs, outputs=c, name="net")
    """)
    assert g.name == "net"
    classes, edges = chain(g)
    assert classes == ["InputLayer", "Conv2D", "Conv2D", "Add", "Add", "Concatenate"]
    assert ("a", "sum", 0) in edges and ("b", "sum", 1) in edges
    assert ("sum", "sum2", 0) in edges and ("a", "sum2", 1) in edges
    assert ("sum2", "cat", 0) in edges and ("b", "cat", 1) in edges
    assert [g.layer(n).name for n in g.inputs] == ["image"]
    assert [g.layer(n).name for n in g.outputs] == ["cat"]


def test_positional_model_arguments_and_unused_branches_left_out():
    (g,) = graphs_of("""
        import keras
        inputs = keras.Input((4,))
        x = keras.layers.Dense(4)(inputs)
        unused = keras.layers.Dense(9)(inputs)
        model = keras.Model(inputs, x)
    """)
    assert [layer.config.get("units") for _, layer in g.layers()] == [None, 4]


@pytest.mark.parametrize(
    "call, class_name, activation",
    [
        ("tf.nn.relu(x)", "tensorflow.nn.relu", "relu"),
        ("keras.ops.relu(x)", "keras.ops.relu", "relu"),
        ("keras.activations.swish(x)", "keras.activations.swish", "silu"),  # swish is silu in Keras 3
        ("tf.math.sigmoid(x)", "tensorflow.math.sigmoid", "sigmoid"),
    ],
)
def test_activation_calls_on_tensors(call, class_name, activation):
    (g,) = graphs_of(f"""
        import keras
        import tensorflow as tf
        inputs = keras.Input((4,))
        x = keras.layers.Dense(4)(inputs)
        x = {call}
        model = keras.Model(inputs, x)
    """)
    node = g.outputs[0]
    assert (g.layer(node).class_name, g.layer(node).kind) == (class_name, "activation")
    assert g.layer(node).config["activation"] == activation
    assert [g.layer(p).class_name for p in g.predecessors(node)] == ["Dense"]


def test_unknown_function_on_a_tensor_keeps_the_graph_connected():
    (g,) = graphs_of("""
        import keras
        from mylib import mystery
        inputs = keras.Input((4,))
        x = mystery(keras.layers.Dense(4)(inputs))
        x = x * 2 + 1
        x = keras.layers.BatchNormalization()(x)
        model = keras.Model(inputs, x)
    """)
    kinds = [layer.kind for _, layer in g.layers()]
    assert kinds == ["input", "dense", "op", "op", "op", "batchnorm"]
    assert len(g.nx.edges) == 5


def test_several_models_per_file():
    graphs = graphs_of("""
        import keras
        a = keras.Sequential([keras.layers.Dense(1)], name="first")
        i = keras.Input((3,))
        b = keras.Model(i, keras.layers.Dense(2)(i), name="second")
        c = keras.Sequential(name="third")
        c.add(keras.layers.Dense(3))
    """)
    assert [g.name for g in graphs] == ["first", "second", "third"]


@pytest.mark.parametrize(
    "imports, conv",
    [
        ("import tensorflow as tf", "tf.keras.layers.Conv2D"),
        ("from tensorflow import keras", "keras.layers.Conv2D"),
        ("from tensorflow.keras import layers", "layers.Conv2D"),
        ("import keras", "keras.layers.Conv2D"),
        ("from keras import layers", "layers.Conv2D"),
        ("from tensorflow.keras.layers import Conv2D as C", "C"),
        ("import tf_keras", "tf_keras.layers.Conv2D"),
        ("from tf_keras import layers", "layers.Conv2D"),
        ("import keras as K", "K.layers.Conv2D"),
        ("import tensorflow.keras.layers as L", "L.Conv2D"),
        ("from keras.layers.convolutional import Conv2D", "Conv2D"),
        ("import tensorflow.compat.v1 as tf", "tf.keras.layers.Conv2D"),
    ],
)
def test_import_spellings_name_the_same_class(imports, conv):
    (g,) = graphs_of(f"""
        {imports}
        import keras as _k
        model = _k.Sequential([{conv}(8, 3)])
    """)
    layer = g.layer(0)
    assert (layer.class_name, layer.kind, layer.config["filters"], layer.config["kernel_size"]) == ("Conv2D", "conv", 8, 3)


def test_tf_keras_models_path():
    (g,) = graphs_of("""
        import tf_keras
        model = tf_keras.models.Sequential([tf_keras.layers.BatchNormalization(momentum=0.1)])
    """)
    assert g.layer(0).config["momentum"] == 0.1


def test_config_binds_positional_arguments_and_fills_defaults():
    (g,) = graphs_of("""
        from keras import layers, Sequential
        model = Sequential([
            layers.Conv2D(8, 3, 1, "same"),
            layers.BatchNormalization(1, 0.9),
            layers.Dense(4, "relu"),
            layers.Dropout(0.25),
        ])
    """)
    conv, bn, dense, drop = (layer.config for _, layer in g.layers())
    assert (conv["filters"], conv["kernel_size"], conv["strides"], conv["padding"]) == (8, 3, 1, "same")
    assert (conv["use_bias"], conv["activation"], conv["data_format"]) == (True, "linear", "channels_last")
    assert (bn["axis"], bn["momentum"], bn["epsilon"], bn["center"], bn["scale"]) == (1, 0.9, 0.001, True, True)
    assert dense["activation"] == "relu"
    assert drop["rate"] == 0.25


def test_activation_arguments_in_every_spelling_are_canonical():
    (g,) = graphs_of("""
        import tensorflow as tf
        from keras import layers, activations, Sequential
        model = Sequential([
            layers.Dense(4, activation=tf.nn.relu),
            layers.Dense(4, activation=activations.gelu),
            layers.Dense(4, activation=None),
            layers.Activation("sigmoid"),
            layers.LeakyReLU(),
        ])
    """)
    assert [layer.config["activation"] for _, layer in g.layers()] == ["relu", "gelu", "linear", "sigmoid", "leaky_relu"]


def test_values_not_known_statically_are_unknown():
    (g,) = graphs_of("""
        import sys
        from keras import layers, Sequential
        width = int(sys.argv[1])
        model = Sequential([layers.Dense(width, use_bias=sys.flags.optimize > 0), layers.Dense(4)])
    """)
    first = g.layer(0).config
    assert first["units"] is UNKNOWN and first["use_bias"] is UNKNOWN


def test_known_values_flow_through_variables_and_expressions():
    (g,) = graphs_of("""
        from keras import layers, Sequential
        base = 8
        cfg = {"momentum": 1 - 0.1, "name": f"bn_{base * 2}"}
        model = Sequential([layers.Dense(base * 4), layers.BatchNormalization(**cfg)])
    """)
    assert g.layer(0).config["units"] == 32
    assert (g.layer(1).name, g.layer(1).config["momentum"]) == ("bn_16", 0.9)


def test_automatic_names_count_per_class_like_keras():
    (g,) = graphs_of("""
        from keras import layers, Sequential
        model = Sequential([layers.Dense(2), layers.Dense(2), layers.BatchNormalization(), layers.ReLU()])
    """)
    assert [layer.name for _, layer in g.layers()] == ["dense", "dense_1", "batch_normalization", "re_lu"]


def test_shared_layer_called_twice_is_two_nodes_with_one_layer_id():
    (g,) = graphs_of("""
        import keras
        a = keras.Input((4,))
        b = keras.Input((4,))
        shared = keras.layers.Dense(3)
        out = keras.layers.Add()([shared(a), shared(b)])
        model = keras.Model([a, b], out)
    """)
    dense = [(n, layer) for n, layer in g.layers() if layer.class_name == "Dense"]
    assert len(dense) == 2 and dense[0][1].layer_id == dense[1][1].layer_id and dense[0][0] != dense[1][0]


def test_site_is_the_exact_span_of_the_constructor_call():
    source = 'from keras import layers, Sequential\nmodel = Sequential([\n    layers.Dense(\n        4),\n    layers.BatchNormalization()])\n'
    (g,) = read_source(source, "m.py").graphs
    assert g.layer(0).origin == Site("m.py", 3, 5, 4, 11)
    assert g.layer(1).origin == Site("m.py", 5, 5, 5, 32)


def test_columns_count_characters_not_bytes():
    source = 'from keras import layers\nimport keras\nnom = "é"; m = keras.Sequential([layers.Dense(1)])\n'
    (g,) = read_source(source, "m.py").graphs
    assert g.layer(0).origin.column == source.splitlines()[2].index("layers.Dense") + 1


def test_functional_code_without_model_call_still_forms_a_graph():
    (g,) = graphs_of("""
        from keras import layers
        x = layers.Input((4,))
        y = layers.Dense(4)(x)
        y = layers.BatchNormalization()(y)
    """)
    assert chain(g)[0] == ["InputLayer", "Dense", "BatchNormalization"]


def test_helper_functions_and_loops_with_known_values():
    (g,) = graphs_of("""
        import keras
        from keras import layers

        def block(x, filters, name):
            x = layers.Conv2D(filters, 3, name=name + "_conv")(x)
            return layers.BatchNormalization(name=name + "_bn")(x)

        inputs = keras.Input((32, 32, 3))
        x = inputs
        for i, filters in enumerate([8, 16]):
            x = block(x, filters, name=f"block{i}")
        model = keras.Model(inputs, x)
    """)
    assert [layer.name for _, layer in g.layers()] == [
        "input_layer", "block0_conv", "block0_bn", "block1_conv", "block1_bn"
    ]
    assert g.layer(3).config["filters"] == 16
    assert g.layer(1).origin == g.layer(3).origin  # one site, two instances


def test_reader_never_executes_the_file(tmp_path):
    marker = tmp_path / "created"
    source = f"""
import keras
model = keras.Sequential([keras.layers.Dense(1)])
open({str(marker)!r}, "w").write("x")
__import__("os").system("touch " + {str(marker)!r})
raise SystemExit("executed")
"""
    result = read_source(source, "m.py")
    assert not marker.exists()
    assert len(result.graphs) == 1


def test_a_file_without_keras_is_not_parsed():
    assert read_source("def f(:\n", "x.py").graphs == []


def test_loop_cap_stops_with_a_note_instead_of_hanging():
    result = read_source("import keras\nwhile True:\n    keras.layers.Dense(1)\n", "m.py")
    assert any("loop stopped after" in note for note in result.notes)


def test_a_loop_of_plain_data_cut_short_leaves_its_values_unknown_and_the_analysis_goes_on():
    """keras' `_split_path_components`: `while True:` appending parts until an exit bnlint cannot
    decide. At the cap the loop's variables and the lists it grows become unknown, quietly, and the
    model built after it is read; a loop that was making layers still stops the analysis, with a note."""
    source = """
import os
import keras

SEEN = []

def split_path(path):
    parts, depth = [], 0
    while True:
        head, tail = os.path.split(path)
        if tail:
            parts.append(tail)
            SEEN.append(tail)
        elif head:
            break
        path, depth = head, depth + 1
    return parts, depth

def build(path="a/b"):
    parts, depth = split_path(path)
    inputs = keras.Input((8,))
    x = keras.layers.Dense(8)(inputs)
    for _ in parts:  # unknown: runs once, no layer invented for each of 10,000 parts
        x = keras.layers.Dense(8)(x)
    return keras.Model(inputs, keras.layers.BatchNormalization()(x), name=f"depth{depth}")

model = build()
extra = len(SEEN)
"""
    result = read_source(source, "m.py")
    assert result.notes == []
    (graph,) = result.graphs
    # The loop over unknown parts runs once: the BN reads the Dense it made (it read the first Dense,
    # which Keras never connects to the BN when the loop runs).
    assert [graph.layer(n).class_name for n in graph.nodes()] == [
        "InputLayer", "Dense", "Dense", "BatchNormalization"]
    assert graph.name == "functional"  # the f-string of an unknown depth: Keras' default name


def test_a_while_loop_that_changes_nothing_known_stops_and_the_analysis_goes_on():
    """`while True` whose exit is an exception bnlint cannot see would run to the cap and lose the model."""
    result = read_source(textwrap.dedent("""
        import keras

        def in_xla_context(graph):
            while True:
                if graph is None:
                    return False
                try:
                    graph = graph.outer_graph
                except AttributeError:
                    return False

        def build(graph=None):
            in_xla_context(graph)
            in_xla_context(graph)  # a stopped loop's note, if any, would be said once
            inputs = keras.Input((4,))
            return keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs))
    """), "m.py")
    assert result.notes == []
    (graph,) = result.graphs
    assert [layer.name for _, layer in graph.layers()] == ["input_layer", "head"]


def test_while_loops_that_make_progress_run_to_their_end():
    graphs = graphs_of("""
        import keras
        from keras import layers

        class Tower(keras.Model):
            def __init__(self):
                super().__init__()
                self.count = 0
                while self.count < 3:  # progress in an attribute of self
                    self.count = self.count + 1
                self.out = layers.Dense(self.count, name="tower_out")

            def call(self, x):
                return self.out(x)

        blocks = []
        while True:  # progress in a container's size; the exit is known
            blocks.append(layers.Dense(4))
            if len(blocks) == 3:
                break
        size = 100_000
        x = inputs = keras.Input((8,))
        while size > 1_000:  # new int objects each time (the ids of freed ones may repeat)
            x = layers.Dense(size // 1_000)(x)
            size = size // 10
        for block in blocks:
            x = block(x)
        model = keras.Model(inputs, x)
    """)
    units = {graph.name: [layer.config["units"] for _, layer in graph.layers() if layer.class_name == "Dense"]
             for graph in graphs}
    assert units == {"functional": [100, 10, 4, 4, 4], "tower": [3]}


def _count_function_runs(monkeypatch) -> dict:
    """How many times each user function's body is interpreted, by name."""
    from bnlint.readers import interpreter

    runs: dict = {}
    run = interpreter.Interpreter._run_function

    def counted(self, func, args, kwargs):
        name = getattr(func.node, "name", "<lambda>")
        runs[name] = runs.get(name, 0) + 1
        return run(self, func, args, kwargs)

    monkeypatch.setattr(interpreter.Interpreter, "_run_function", counted)
    return runs


def test_a_generator_loop_runs_once_per_call(monkeypatch):
    """`while True: ... yield batch` runs once per item its consumer draws, which bnlint does not
    follow: one iteration, not 10,000 (voxelmorph's and keras-segmentation's data generators took
    seconds each), and what the loop assigns is unknown after it."""
    runs = _count_function_runs(monkeypatch)
    result = read_source(textwrap.dedent("""
        import keras
        import numpy as np

        def load(name):
            return np.load(name)

        def batches(names, size=8):
            count = 0
            while True:
                picked = np.random.randint(len(names), size=size)
                count = count + 1
                batch = np.stack([load(names[i]) for i in range(2)])
                yield batch, count

        def models():
            while True:  # each item a new model: still one
                inputs = keras.Input((4,))
                yield keras.Model(inputs, keras.layers.Dense(2)(inputs))

        def build():
            gen = batches(["a.npy", "b.npy"])
            models()
            inputs = keras.Input((4,))
            return keras.Model(inputs, keras.layers.Dense(3, name="head")(inputs), name="main")
    """), "m.py")
    assert result.notes == []
    assert runs["load"] == 2  # one iteration's two loads (before: 20,000)
    assert sorted(len(graph) for graph in result.graphs) == [2, 2]


def test_a_generator_loop_with_a_condition_runs_as_any_other_and_an_endless_one_leaves_its_values_unknown():
    (graph,) = graphs_of("""
        import keras

        def numbered(limit=3):
            i = 0
            while i < limit:
                yield i
                i = i + 1
            j = 0
            while 1:
                j = j + 1
                yield j
            inputs = keras.Input((4,))
            return keras.Model(inputs, keras.layers.Dense(i)(keras.layers.Dense(j)(inputs)))
    """)
    assert [layer.config.get("units") for _, layer in graph.layers()] == [None, UNKNOWN, 3]


def test_a_function_on_plain_data_runs_once_per_distinct_call(monkeypatch):
    """HarDNet's channel counts come from a helper that calls itself on every earlier layer: 45,000
    calls for tf2cv's six HarDNets (6 s). An equal call of such a function gives the result of the
    first."""
    runs = _count_function_runs(monkeypatch)
    (graph,) = graphs_of("""
        import keras

        def channels(i, growth=1):
            if i < 2:
                return growth
            return channels(i - 1, growth) + channels(i - 2, growth)

        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(channels(20, growth=2))(inputs))
    """)
    assert [layer.config["units"] for _, layer in graph.layers() if layer.class_name == "Dense"] == [2 * 10946]
    assert runs["channels"] == 21  # 21,891 without the results kept


def test_kept_results_of_plain_data_functions_never_change_what_a_call_gives():
    (graph,) = graphs_of("""
        import keras

        SCALE = 2
        SEEN = []

        def scaled(x):
            return x * SCALE

        def widths():
            return [8]

        def digits(value):
            return str(value)

        def counted(x, acc=[]):
            acc.append(x)
            return len(acc)

        def seen(x):
            SEEN.append(x)
            return len(SEEN)

        def dense(units):
            return keras.layers.Dense(units)

        a = scaled(3)
        SCALE = 5
        b = scaled(3)  # the global it reads changed
        w = widths()
        w.append(4)  # the caller changes the list it was given
        c = len(widths())
        d = len(digits(True)), len(digits(1)), len(digits(1.0))  # equal keys, other results
        e = counted(1), counted(1)  # a default list it grows
        f = seen(1), seen(1)  # a module list it grows
        x = inputs = keras.Input((4,))
        for units in (a, b, c, *d, *e, *f):
            x = dense(units)(x)
        x = dense(7)(x)
        model = keras.Model(inputs, x)
    """)
    dense = [(name, layer.config["units"]) for _, layer in graph.layers() if (name := layer.name).startswith("dense")]
    assert [units for _, units in dense] == [6, 15, 1, 4, 1, 3, 1, 2, 1, 2, 7]
    assert len({name for name, _ in dense}) == 11  # a function that makes a layer makes one per call


def test_a_name_only_a_comprehension_binds_is_read_from_outside_in_the_rest_of_the_function():
    (graph,) = graphs_of("""
        import keras

        n = 2

        def count():
            xs = [n for n in range(5)]  # (its own n)
            return n + len(xs)  # the module's n

        def total(k):
            return sum([i * k for i in range(k)])

        a = count()
        n = 3
        b = count()
        model = keras.Sequential([keras.layers.Dense(a), keras.layers.Dense(b), keras.layers.Dense(total(3))])
    """)
    assert [layer.config["units"] for _, layer in graph.layers()] == [7, 8, 9]


def test_arithmetic_on_numbers_is_python_s_and_what_python_refuses_is_unknown():
    (graph,) = graphs_of("""
        import keras

        sizes = [7 // 2 + 2 ** 3, 1 << 4, 2 ** 1000, 3 @ 4, 1 / 0, True + 1, 2.5 * 2]
        model = keras.Sequential([keras.layers.Dense(units) for units in sizes])
    """)
    assert [layer.config["units"] for _, layer in graph.layers()] == [11, 16, UNKNOWN, UNKNOWN, UNKNOWN, 2, 5.0]


def test_del_removes_items_attributes_and_names():
    """`del` was passed over: a queue drained with `del nodes[0]` never emptied (calamari's prefix
    tree ran its `while len(nodes) > 0` to the cap, and a model built so was lost)."""
    result = read_source(textwrap.dedent("""
        import keras

        queue = [8, 16]
        stack = []
        while len(queue) > 0:
            stack.append(keras.layers.Dense(queue[0]))
            del queue[0]
        options = {"units": 3, "name": "x"}
        del options["name"]
        widths = [1, 2, 3, 4]
        del widths[1:3], widths[-1:]

        class Block:
            units = 7

            def __init__(self):
                self.units = 5
                del self.units  # the class attribute shows again

        gone = 2
        del gone
        model = keras.Sequential([
            *stack, keras.layers.Dense(**options), keras.layers.Dense(len(widths) + Block().units),
            keras.layers.Dense(gone),
        ])
    """), "m.py")
    assert result.notes == []
    (graph,) = result.graphs
    assert [(layer.name, layer.config["units"]) for _, layer in graph.layers()] == [
        ("dense", 8), ("dense_1", 16), ("dense_2", 3), ("dense_3", 8), ("dense_4", UNKNOWN)]


def test_a_custom_layer_reaching_a_tensor_of_the_model_gets_a_stand_in_for_it():
    """Its ``call`` runs on placeholders to learn its output shape; a tensor passed by keyword is the model's."""
    graphs = graphs_of("""
        import keras
        from keras import layers

        class Gate(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.dense = layers.Dense(6, name="gate_dense")

            def call(self, x, mask=None):
                return layers.Concatenate()([self.dense(x), mask])

        x = inputs = keras.Input((4,))
        for i in range(12):  # the mask's node number is beyond anything the scratch run makes
            x = layers.Dense(4, name=f"d{i}")(x)
        outputs = Gate()(inputs, mask=x)
        model = keras.Model(inputs, layers.Dense(int(outputs.shape[-1]), name="out")(outputs))
    """)
    (graph,) = [g for g in graphs if g.name == "functional"]  # (the other is the Gate class on its own)
    assert [layer.name for _, layer in graph.layers()][-2:] == ["gate", "out"]
    assert graph.layer(len(graph) - 1).config["units"] == 10  # 6 + the mask's 4, through the stand-in


def test_global_and_nonlocal_bind_in_the_scope_they_name():
    # tf_keras' builders set the module's `layers` inside the builder (`global layers`), and the
    # block helpers read it; counters for layer names are another common use.
    (model,) = graphs_of("""
        import keras
        from keras import layers
        count = 0
        norm = None

        def block(x):
            global count
            count += 1
            return norm(name=f"bn{count}")(layers.Conv2D(8, 3, name=f"conv{count}")(x))

        def build():
            global norm
            norm = layers.BatchNormalization
            inputs = keras.Input((8, 8, 3))

            def counter():
                n = 0

                def step():
                    nonlocal n
                    n += 1

                step()
                step()
                return n

            x = block(block(inputs))
            return keras.Model(inputs, layers.Dense(counter(), name="head")(x))

        model = build()
    """)
    assert [(layer.name, layer.class_name) for _, layer in model.layers()][1:] == [
        ("conv1", "Conv2D"), ("bn1", "BatchNormalization"), ("conv2", "Conv2D"), ("bn2", "BatchNormalization"),
        ("head", "Dense")]
    assert model.layer(len(model) - 1).config["units"] == 2


def test_an_entry_point_callable_without_arguments_has_empty_star_args():
    # tf_keras' `EfficientNetB0(include_top=True, ..., **kwargs)` passes `**kwargs` on to the
    # builder; analysed as `EfficientNetB0()`, they are empty and the builder's defaults hold. A helper
    # with required parameters may be passed anything in `**kwargs`: they stay unknown, and so does
    # `use_bias` in it (no BN004 on a call whose caller may pass `use_bias=False`).
    from bnlint.engine import lint

    result = read_source(textwrap.dedent("""
        import keras
        from keras import layers

        def Net(width, activation="swish", name="net"):
            inputs = keras.Input((8, 8, 3))
            x = layers.Conv2D(int(16 * width), 3, use_bias=False)(inputs)
            x = layers.Activation(activation)(layers.BatchNormalization()(x))
            return keras.Model(inputs, x, name=name)

        def NetB0(include_top=True, *args, **kwargs):
            return Net(1.0, *args, name="netb0", **kwargs)

        def conv_bn(x, filters, **kwargs):
            x = layers.Conv2D(filters, 3, **kwargs)(x)
            return layers.BatchNormalization()(x)
    """), "m.py")
    (model,) = [g for g in result.graphs if g.name == "netb0"]
    assert [(layer.config.get("filters"), layer.config.get("activation")) for _, layer in model.layers()][1:] == [
        (16, "linear"), (None, None), (None, "silu")]
    assert [d for d in lint(result, {"BN004"}) if d.origin.line == 15] == []


def test_backend_get_uid_counts_with_automatic_names():
    # tf_keras' RegNet and ResNet-RS name unnamed blocks `"stem_" + str(backend.get_uid("stem_"))`;
    # the counter is the one automatic layer names use (a Dense named `dense` makes the next uid 2).
    (model,) = graphs_of("""
        import keras
        from keras import backend, layers

        def block(x, name=None):
            if name is None:
                name = "block" + str(backend.get_uid("block"))
            return layers.Conv2D(4, 1, name=name + "_conv")(x)

        inputs = keras.Input((8, 8, 3))
        x = layers.Dense(3)(block(block(inputs)))
        model = keras.Model(inputs, layers.Dense(2, name=f"head{backend.get_uid('dense')}")(x))
    """)
    assert [layer.name for _, layer in model.layers()][1:] == ["block1_conv", "block2_conv", "dense", "head2"]


def test_a_models_input_output_and_name_continue_the_graph():
    # Transfer learning and "post modelling" (deepface's ArcFace head on its ResNet34) build on
    # `base.output` / `base.outputs[0]`; they were unknown, and the whole head was lost.
    # Real Keras 3 names this model's layers the same.
    graphs = graphs_of("""
        import keras
        from keras import layers

        inputs = keras.Input((8, 8, 3))
        x = layers.BatchNormalization()(layers.Conv2D(4, 3, use_bias=False)(inputs))
        base = keras.Model(inputs, x, name="base")
        y = layers.Dense(10)(layers.GlobalAveragePooling2D()(base.output))
        model = keras.Model(base.input, y, name=base.name + "_classifier")
        head = keras.Model(base.inputs[0], layers.Flatten()(base.outputs[0]), name="flat")
    """)
    assert {g.name: [layer.name for _, layer in g.layers()] for g in graphs} == {
        "base": ["input_layer", "conv2d", "batch_normalization"],
        "base_classifier": ["input_layer", "conv2d", "batch_normalization", "global_average_pooling2d", "dense"],
        "flat": ["input_layer", "conv2d", "batch_normalization", "flatten"],
    }


def test_tf_keras_builders_own_layers_module_is_read():
    # tf_keras' application sources: `layers = VersionAwareLayers()`, set module-wide by `global`
    # in a builder callable without arguments whose `**kwargs` (empty) select it.
    (model,) = graphs_of("""
        from tf_keras.src.engine import training
        from tf_keras.src.layers import VersionAwareLayers
        layers = None

        def block(x):
            return layers.BatchNormalization(name="bn")(layers.Conv2D(8, 3, name="conv")(x))

        def Net(**kwargs):
            global layers
            if "layers" in kwargs:
                layers = kwargs.pop("layers")
            else:
                layers = VersionAwareLayers()
            if kwargs:
                raise ValueError(f"Unknown argument(s): {kwargs}")
            inputs = layers.Input(shape=(8, 8, 3))
            return training.Model(inputs, block(inputs), name="net")
    """)
    assert (model.name, [(layer.name, layer.class_name) for _, layer in model.layers()][1:]) == (
        "net", [("conv", "Conv2D"), ("bn", "BatchNormalization")])


def test_recursion_is_capped():
    result = read_source("import keras\ndef f(n):\n    return f(n + 1)\nf(0)\n", "m.py")
    assert any("call depth" in note for note in result.notes)


def test_recursion_that_can_only_repeat_itself_is_unknown_not_capped():
    # keras_cv's box converter: whether `boxes` is a dict is unknown when it is analysed as an
    # entry point, so the call recurses on `boxes["boxes"]`, which is unknown too: the same call.
    # It used to run to the call-depth cap and stop the analysis of `build` with a warning.
    source = """
        import keras
        from keras import layers

        def convert(boxes, source="xyxy"):
            if isinstance(boxes, dict):
                converted = boxes.copy()
                converted["boxes"] = convert(boxes["boxes"], source=source)
                return converted
            return boxes

        def build(depth=3):
            inputs = keras.Input((8,))
            tensor = convert(inputs)   # a tensor is not a dict
            spec = convert(SPEC)       # unknown: recursion with the very same arguments
            return keras.Model(inputs, tower(tensor, depth), name="tower")

        def tower(x, depth):
            if depth == 0:
                return x
            x = layers.Dense(4, name=f"dense_{depth}")(x)
            return tower(layers.BatchNormalization(name=f"bn_{depth}")(x), depth - 1)
    """
    result = read_source(textwrap.dedent(source), "m.py")
    assert result.notes == []
    (model,) = [g for g in result.graphs if g.name == "tower"]
    assert [layer.name for _, layer in model.layers()][1:] == ["dense_3", "bn_3", "dense_2", "bn_2", "dense_1", "bn_1"]


def test_recursion_on_equal_fresh_lists_is_unknown_not_capped():
    # DeepReg's `pyramid_combination(values[::2], weight_floor[:-1], ...)`: with an empty list the
    # check that raises cannot be decided (`len(values)` is unknown), so the call recurses on a new
    # but equal `[]` every time; it ran to the call-depth cap with a warning.
    result = read_source(textwrap.dedent("""
        import keras

        def combine(values, weights):
            if 2 ** len(weights) != len(values):
                raise ValueError("values")
            if len(weights) == 1:
                return values[0] * weights[0]
            return combine(values[::2], weights[:-1]) + combine(values[1::2], weights[:-1])

        def build():
            combine(VALUES, [])
            inputs = keras.Input((8,))
            return keras.Model(inputs, keras.layers.Dense(2)(inputs), name="net")
    """), "m.py")
    assert result.notes == []
    assert [g.name for g in result.graphs] == ["net"]


def test_recursion_that_changes_state_is_followed():
    # The same arguments, but a layer made or a list grown in between: the next call may differ.
    (model,) = graphs_of("""
        import keras
        from keras import layers
        made = []

        def grow(x):
            if len(made) == 3:
                return x
            made.append(1)
            return grow(x)

        inputs = keras.Input((8,))
        grow(inputs)
        x = inputs
        for _ in made:
            x = layers.Dense(2)(x)
        model = keras.Model(inputs, x)
    """)
    assert [layer.class_name for _, layer in model.layers()] == ["InputLayer", "Dense", "Dense", "Dense"]


@pytest.mark.parametrize(
    "value, expected",
    [("(3, 5)", (3, 5)), ("3", (3, 3)), ("[3, 5]", [3, 5])],
)
def test_isinstance_on_builtin_types_is_known(value, expected):
    (model,) = graphs_of(f"""
        import keras
        from keras import layers

        def conv(x, kernel_size):
            if isinstance(kernel_size, int):
                kernel_size = (kernel_size, kernel_size)
            if isinstance(x, (list, tuple, dict)):   # a tensor is none of these
                x = x[0]
            return layers.Conv2D(4, kernel_size)(x)

        inputs = keras.Input((8, 8, 3))
        model = keras.Model(inputs, conv(inputs, {value}))
    """)
    assert [layer.config.get("kernel_size") for _, layer in model.layers()] == [None, expected]


@pytest.mark.parametrize(
    "test",
    ["callable(activation)", "not isinstance(activation, str)", "type(activation) is not str",
     "type(activation) not in (str, type(None))", 'hasattr(activation, "__call__")'],
)
def test_an_activation_given_by_name_is_not_called(test):
    # Model code accepts an activation as a name or a function. Unknown, the test used to take
    # its branch and call the string: the helper's output, and so the model, was lost.
    (model,) = graphs_of(f"""
        import keras
        from keras import layers

        def act(x, activation="relu"):
            if {test}:
                return activation(x)
            return layers.Activation(activation)(x)

        inputs = keras.Input((4,))
        model = keras.Model(inputs, act(layers.Dense(4)(inputs)))
    """)
    assert [(layer.class_name, layer.config.get("activation")) for _, layer in model.layers()][1:] == [
        ("Dense", "linear"), ("Activation", "relu")]


def test_callable_is_known_for_layers_and_functions_only():
    from bnlint.readers.interpreter import _callable

    (model,) = graphs_of("""
        import keras
        from keras import layers

        def act(x, activation=layers.ReLU()):
            if callable(activation):
                return activation(x)
            return layers.Activation(activation)(x)

        inputs = keras.Input((4,))
        model = keras.Model(inputs, act(inputs))
    """)
    assert [layer.class_name for _, layer in model.layers()] == ["InputLayer", "ReLU"]
    assert _callable(UNKNOWN) is UNKNOWN and _callable(None) is False


def test_isinstance_against_other_classes_stays_unknown():
    from bnlint.readers.interpreter import _isinstance

    assert _isinstance([(3, 5), UNKNOWN]) is UNKNOWN
    assert _isinstance([UNKNOWN, int]) is UNKNOWN
    assert _isinstance([(3, 5), tuple]) is True


@pytest.mark.parametrize(
    "call, kernel_size, padding",
    [
        ('Convolution2D(64, 3, 3, border_mode="same")', (3, 3), "same"),  # Keras 1
        ("Convolution2D(64, (3, 3))", (3, 3), None),  # Keras 2 alias
        ("Conv2D(64, kernel_size=5)", 5, None),
    ],
)
def test_keras1_and_keras2_spellings_bind_alike(call, kernel_size, padding):
    (g,) = graphs_of(f"""
        from keras.layers import Convolution2D, Conv2D
        from keras.models import Sequential
        model = Sequential([{call}])
    """)
    config = g.layer(0).config
    assert (g.layer(0).class_name, config["filters"], config["kernel_size"], config.get("padding")) == (
        "Conv2D", 64, kernel_size, padding
    )


def test_readme_rule_table_is_generated_from_the_rules():
    from bnlint.cli import rule_table
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    start, end = readme.index("<!-- rules:start -->\n"), readme.index("<!-- rules:end -->")
    assert readme[start + len("<!-- rules:start -->\n"):end].strip() == rule_table()


NOT_PYTHON = "def broken(:\n"


@pytest.mark.parametrize("source", [
    "import numpy as np\n" + NOT_PYTHON,  # nothing Keras-like
    "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 8))\n" + NOT_PYTHON,  # PyTorch's Sequential
    "from flax import linen as nn\nDense = nn.Dense(8)\n" + NOT_PYTHON,  # Flax's Dense
    '"""model = BertModel(config)"""\nfrom torch import nn\n' + NOT_PYTHON,  # class names in docs
])
def test_files_that_cannot_build_a_keras_model_are_not_parsed(source):
    """Skipped files are not parsed at all: a syntax error in one goes unreported."""
    result = read_source(source, "model.py")
    assert result.graphs == []


@pytest.mark.parametrize("source", [
    "import torch\nimport keras\nmodel = keras.Sequential([keras.layers.Dense(2)])\n",  # Keras 3 on torch
    "import jax\nfrom tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(2)])\n",
    "import numpy as np\nmodel = Sequential([Dense(2)])\n",  # a snippet without imports
])
def test_files_naming_keras_or_tensorflow_are_read_whatever_else_they_import(source):
    (graph,) = graphs_of(source)
    assert [layer.class_name for _, layer in graph.layers()] == ["Dense"]
    with pytest.raises(Exception, match="not valid Python"):
        read_source(source + NOT_PYTHON, "model.py")


def test_keras_2_and_tensorflow_shape_idioms_read_the_static_shape():
    """`x._keras_shape`, `x.get_shape().as_list()` and `x.shape.as_list()` are the shape, as `x.shape` is;
    and a Conv2D on an input of unknown shape still has its filters as channels (rank 4 is the only
    one it takes), so keras-contrib's Wide ResNet adds its shortcut convolution once per group, as Keras does."""
    source = """
import keras
from keras import backend as K
from keras.layers import Conv2D, Input, add

inputs = Input((8, 8, 3))
a = inputs._keras_shape[-1]
b = inputs.get_shape().as_list()[-1]
c = inputs.shape.as_list()[-1]
x = Conv2D(a * 2, 1)(inputs)
x = Conv2D(b * 2, 1)(x)
x = Conv2D(c * 2, 1)(x)
model = keras.Model(inputs, x, name="idioms")

def block(input, k):
    init = input
    if init._keras_shape[-1] != 16 * k:
        init = Conv2D(16 * k, (1, 1), name=None)(init)
    x = Conv2D(16 * k, (3, 3), padding="same")(input)
    return add([init, x])

def wide(input_shape, k=2):
    inputs = Input(shape=input_shape)  # unknown: a required argument
    x = Conv2D(16, (3, 3), padding="same")(inputs)
    for _ in range(3):
        x = block(x, k)
    return keras.Model(inputs, x, name="wide")
"""
    graphs = {graph.name: graph for graph in read_source(source, "m.py").graphs}
    idioms = graphs["idioms"]
    assert [idioms.layer(n).config["filters"] for n in idioms.nodes() if idioms.layer(n).kind == "conv"] == [6, 6, 6]
    wide = graphs["wide"]
    assert [wide.layer(n).class_name for n in wide.nodes()].count("Conv2D") == 1 + 1 + 3  # stem, one shortcut, 3 blocks


def test_lines_are_counted_as_python_counts_them_past_form_feeds_and_other_breaks(tmp_path):
    """str.splitlines() also ends a line at a form feed (a page break), NEL or U+2028; Python does not:
    columns, ``# noqa`` and quoted call text must use Python's lines."""
    import bnlint
    from bnlint.readers.python_source import source_lines

    assert source_lines("a\x0cb\nc\u2028d\r\ne\rf") == ["a\x0cb", "c\u2028d", "e", "f"]
    assert source_lines("a\x0cb\n", keepends=True) == ["a\x0cb\n"]
    path = tmp_path / "model.py"
    path.write_text("import keras\nfrom keras import layers\n\x0c\n# page two \x0c \u2028 \x85\n"
                    "inputs = keras.Input((8,))\n"
                    "y = layers.BatchNormalization()(layers.Dense(4)(inputs))  # noqa: BN004\n"
                    "z = layers.BatchNormalization()(layers.Dense(4)(inputs))\n"
                    "model = keras.Model(inputs, [y, z])\n", encoding="utf-8")
    (finding,) = bnlint.check(path)
    assert (finding.code, finding.position.line, finding.position.column) == ("BN004", 7, 33)


def test_lists_of_layers_joined_with_plus_build_the_model():
    (g,) = graphs_of("""
        import keras
        from keras import layers
        features = [layers.Conv2D(32, 3, input_shape=(28, 28, 1)), layers.BatchNormalization(), layers.ReLU()]
        head = [layers.GlobalAveragePooling2D(), layers.Dense(10)]
        model = keras.Sequential(features + head)
    """)
    assert chain(g)[0] == ["InputLayer", "Conv2D", "BatchNormalization", "ReLU", "GlobalAveragePooling2D", "Dense"]


def test_augmented_list_assignment_extends_the_list_every_name_holds():
    (g,) = graphs_of("""
        import keras
        from keras import layers
        blocks = []
        alias = blocks
        for width in (16, 32):
            blocks += [layers.Conv2D(width, 3), layers.BatchNormalization()]
        model = keras.Sequential([keras.Input((32, 32, 3))] + alias + [layers.Dense(10)])
    """)
    assert chain(g)[0] == ["InputLayer", "Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization", "Dense"]


def test_densenet_features_concatenated_from_a_growing_list_are_one_graph():
    (g,) = graphs_of("""
        import keras
        from keras import layers
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(16, 3, padding="same")(inputs)
        features = [x]
        for _ in range(2):
            h = layers.Conv2D(12, 3, padding="same")(x)
            features = features + [h]
            x = layers.Concatenate()(features)
        model = keras.Model(inputs, x)
    """)
    last = max(g.nx.nodes)
    assert g.layer(last).class_name == "Concatenate"
    assert [g.layer(u).class_name for u in g.predecessors(last)] == ["Conv2D", "Conv2D", "Conv2D"]


def _deep_source(expression: str) -> str:
    return ("import keras\nfrom keras import layers\nx1 = 1\n"
            f"y = {expression}\n"
            "inputs = keras.Input((8,))\nmodel = keras.Model(inputs, layers.BatchNormalization()(layers.Dense(4)(inputs)))\n")


def test_a_sum_of_thousands_of_terms_is_read_without_recursing():
    (g,) = read_source(_deep_source(" + ".join(["x1"] * 2_500)), "model.py").graphs
    assert chain(g)[0] == ["InputLayer", "Dense", "BatchNormalization"]


def test_code_nested_past_what_python_compiles_is_one_input_error():
    from bnlint.errors import InputError

    with pytest.raises(InputError, match="model.py: nests its code too deeply for bnlint to read"):
        read_source(_deep_source("x1" + ".real" * 15_000), "model.py")


def test_a_sublayer_list_grown_with_plus_equals_on_self_is_read():
    (g,) = graphs_of("""
        import keras
        from keras import layers

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.blocks = []
                for width in (16, 32):
                    self.blocks += [layers.Conv2D(width, 3), layers.BatchNormalization()]
                self.head = layers.Dense(10)

            def call(self, x):
                for block in self.blocks:
                    x = block(x)
                return self.head(x)
    """)
    assert chain(g)[0] == ["InputLayer", "Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization", "Dense"]
