"""Classes of the code's own that are not Keras classes: instantiating one runs its ``__init__``.

Keras-GAN and many research repositories build their networks in the
methods of a plain class (``self.generator = self.build_generator()``);
bnlint read no model from them. A class nothing in the file instantiates is
read as an entry point: its ``__init__`` with default arguments, then its
uncalled methods.
"""

from __future__ import annotations

from conftest import ROOT
from test_applications_fidelity import compare, keras_and_bnlint

from bnlint.checker import check_paths
from bnlint.readers import read_path

GAN = ROOT / "tests" / "data" / "plain_classes" / "gan.py"


def test_a_gan_class_is_read_as_keras_builds_it():
    reference, graph, graphs = keras_and_bnlint(GAN, "build")
    assert compare(reference, graph, graphs) == []
    assert {g["name"] for g in graphs if g.get("entry") == "build"} == {"combined", "generator", "discriminator"}


def test_a_training_loop_neither_stops_the_reading_nor_warns():
    # 30,000 epochs of train_on_batch: the loop stops once its iterations change nothing, and the model
    # the script makes after it is read.
    result = read_path(GAN, "gan.py")
    assert result.notes == []
    assert "after_training" in {graph.name for graph in result.graphs}


def test_an_uninstantiated_class_is_read_from_its_init_and_methods(tmp_path, write):
    write("models.py", """\
import keras
from keras import layers


class Builder:
    def __init__(self, width=16):
        self.width = width

    def build(self, classes):
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(self.width, 3)(inputs)
        x = layers.BatchNormalization()(x)
        return keras.Model(inputs, layers.Dense(classes)(layers.Flatten()(x)))

    @staticmethod
    def head(units=8):
        return keras.Sequential([keras.Input((4,)), layers.Dense(units), layers.BatchNormalization(momentum=0.1)])


class Unrelated:
    def __init__(self):
        self.items = []
        for i in range(20000):
            self.items.append(i)
""")
    report = check_paths([str(tmp_path / "models.py")], jobs=1)
    assert [(d.code, d.origin.line) for d in report.diagnostics] == [("BN004", 11), ("BN004", 17), ("BN006", 17)]
    assert report.notes == []  # Unrelated names no Keras layer: not run (its loop would meet the cap)


def test_an_idle_loop_stops_only_after_a_long_idle_stretch(tmp_path, write):
    # Layers made at iteration 150, after 150 that made none: still read (the loop stops only after
    # 100 idle iterations past the first 100).
    write("late.py", """\
import keras
from keras import layers

x = inputs = keras.Input((4,))
for step in range(1000):
    if step == 150:
        x = layers.Dense(4)(x)
        x = layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""")
    [graph] = read_path(tmp_path / "late.py", "late.py").graphs
    assert [layer.class_name for _, layer in graph.layers()] == ["InputLayer", "Dense", "BatchNormalization"]


def test_a_block_object_is_called_through_its_call_method(tmp_path, write):
    write("blocks.py", """\
import keras
from keras import layers


class ConvBN:
    def __init__(self, filters):
        self.filters = filters

    def __call__(self, x):
        x = layers.Conv2D(self.filters, 3, padding="same")(x)
        return layers.BatchNormalization()(x)


inputs = keras.Input((32, 32, 3))
x = ConvBN(8)(inputs)
x = ConvBN(16)(x)
model = keras.Model(inputs, x)
""")
    [graph] = read_path(tmp_path / "blocks.py", "blocks.py").graphs
    assert [layer.class_name for _, layer in graph.layers()] == [
        "InputLayer", "Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization"]
    assert [layer.get("filters") for _, layer in graph.layers() if layer.kind == "conv"] == [8, 16]


def test_super_init_runs_the_next_init_in_the_class_order(tmp_path, write):
    # The base class builds the model in its __init__ with a method the subclass overrides; each
    # __init__ hands on to the next with super(), as Python runs them.
    write("hierarchy.py", """\
import keras
from keras import layers


class Base:
    def __init__(self, width):
        super().__init__()
        self.width = width
        self.model = self.build()

    def build(self):
        inputs = keras.Input((8,))
        return keras.Model(inputs, layers.Dense(self.width)(inputs), name="base")


class Normalised(Base):
    def __init__(self, width=16, momentum=0.1):
        self.momentum = momentum
        super().__init__(width)

    def build(self):
        inputs = keras.Input((8,))
        x = layers.Dense(self.width, use_bias=False)(inputs)
        x = layers.BatchNormalization(momentum=self.momentum)(x)
        return keras.Model(inputs, x, name="normalised")


class Wide(Normalised):
    def __init__(self):
        super().__init__(width=64, momentum=0.99)


net = Wide()
""")
    graphs = read_path(tmp_path / "hierarchy.py", "hierarchy.py").graphs
    wide = [g for g in graphs if g.entry is None]
    assert [g.name for g in wide] == ["normalised"]
    [(dense, bn)] = [[layer for _, layer in wide[0].layers()][1:]]
    assert (dense.get("units"), bn.get("momentum")) == (64, 0.99)
    report = check_paths([str(tmp_path / "hierarchy.py")], jobs=1)
    # Normalised, analysed on its own with its defaults, has momentum=0.1.
    assert [(d.code, d.origin.line) for d in report.diagnostics] == [("BN006", 24)]


def test_super_follows_pythons_method_resolution_order(tmp_path, write):
    # A diamond: D(B, C) with B(A), C(A). Each __init__ calls super() first, then adds its layer, so the
    # layers come in the reverse of the order D, B, C, A that Python resolves methods in.
    write("diamond.py", """\
import keras
from keras import layers


class A:
    def __init__(self):
        self.inputs = keras.Input((4,))
        self.x = layers.Dense(4, name="a")(self.inputs)


class B(A):
    def __init__(self):
        super().__init__()
        self.x = layers.Dense(4, name="b")(self.x)


class C(A):
    def __init__(self):
        super().__init__()
        self.x = layers.Dense(4, name="c")(self.x)


class D(B, C):
    def __init__(self):
        super().__init__()
        self.x = layers.Dense(4, name="d")(self.x)
        self.model = keras.Model(self.inputs, self.x)


net = D()
""")
    [graph] = [g for g in read_path(tmp_path / "diamond.py", "diamond.py").graphs if g.entry is None]
    assert [layer.name for _, layer in graph.layers()][1:] == ["a", "c", "b", "d"]
