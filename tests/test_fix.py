"""`bnlint --fix`: each source form, the four properties, and real Keras agreeing with the edit.

For every case: the fixed source parses, re-lints clean for the fixed rule,
a second `--fix` changes nothing (byte-identical), and real Keras, running
the fixed file, builds models whose layer graphs equal what `bnlint graph`
predicts for it (`compare` from the keras.applications fidelity test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bnlint
from bnlint.diagnostics import SetArgument
from bnlint.errors import InputError
from bnlint.fixer import write_atomically
from bnlint.graph import Site
from bnlint.readers.python_source import load_source
from conftest import ROOT, run_bnlint
from test_applications_fidelity import compare

CASES = {
    "sequential_list": (
        """
        import keras
        from keras import layers

        model = keras.Sequential([
            layers.Conv2D(8, 3, input_shape=(16, 16, 3)),  # first element
            layers.BatchNormalization(momentum=0.1),
            layers.ReLU(),
            layers.Conv2D(
                16,  # filters
                3,  # kernel
            ),  # middle element, one argument per line
            layers.BatchNormalization(),
            layers.Dense(4),
            layers.BatchNormalization(momentum=0.2),  # last element
        ], name="net")
        """,
        "--unsafe-fixes",
    ),
    "sequential_add": (
        """
        from tensorflow.keras.models import Sequential
        from tensorflow.keras.layers import Dense, BatchNormalization as BN

        model = Sequential(name="mlp")
        model.add(Dense(32, input_shape=(8,)))
        model.add(BN(-1, 0.1))
        model.add(Dense(8,
                        activation=None))
        model.add(BN())
        """,
        "--unsafe-fixes",
    ),
    "functional_and_nested_call": (
        """
        import keras
        from keras import layers

        inputs = keras.Input((16, 16, 3))
        x = layers.Conv2D(8, 3, padding="same")(inputs)
        x = layers.BatchNormalization()(x)
        y = layers.BatchNormalization()(layers.Conv2D(8, 1)(inputs))
        out = layers.Add()([x, y])
        model = keras.Model(inputs, out, name="two_paths")
        """,
        "",
    ),
    "moved_layers_keep_their_comments": (
        """
        import keras
        from keras import layers

        listed = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, use_bias=False),
            layers.Dropout(0.5),  # regularise the hidden layer
            layers.BatchNormalization(),
            layers.ReLU(),
        ], name="listed")

        added = keras.Sequential(name="added")
        added.add(keras.Input((16,)))
        added.add(layers.Dense(32, use_bias=False))
        added.add(layers.Dropout(0.25))  # a quarter
        added.add(layers.BatchNormalization())
        added.add(layers.ReLU())

        inputs = keras.Input((16,))
        x = layers.Dense(32, use_bias=False)(inputs)
        x = layers.Dropout(0.5)(x)  # keep half
        x = layers.BatchNormalization()(x)
        model = keras.Model(inputs, layers.ReLU()(x), name="functional")
        """,
        "--unsafe-fixes",
    ),
    "helper_in_a_loop": (
        """
        import keras
        from keras import layers

        def conv_bn(x, filters, name):
            x = layers.Conv2D(filters, 3, padding="same", name=name + "_conv")(x)
            x = layers.BatchNormalization(momentum=0.1, name=name + "_bn")(x)
            return layers.Activation("relu", name=name + "_relu")(x)

        inputs = keras.Input((16, 16, 3))
        x = inputs
        for i, filters in enumerate([8, 16, 32]):
            x = conv_bn(x, filters, f"block{i}")
        model = keras.Model(inputs, x, name="stack")
        """,
        "--unsafe-fixes",
    ),
}


def write_case(directory: Path, name: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(CASES[name][0]).lstrip())
    return path


KERAS_PROBE = """
import json, os, runpy, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, sys.argv[1])
import keras
from keras_reference import describe_config
out = {}
for path in sys.argv[2:]:
    keras.backend.clear_session()
    namespace = runpy.run_path(path)
    described = []
    for model in [v for v in namespace.values() if isinstance(v, keras.Model)]:
        if type(model).__name__ not in ("Sequential", "Functional"):
            continue  # a subclassed model has no layer graph to compare
        description = describe_config(model.get_config(), type(model).__name__)
        if not model.built:  # never called: Keras has not decided its inputs
            del description["inputs"], description["outputs"]
        described.append(description)
    out[path] = described
print(json.dumps(out))
"""


def keras_models(paths: list[Path]) -> dict[str, list[dict]]:
    """What real Keras builds from each file: one TensorFlow process for all of them."""
    result = subprocess.run(
        [sys.executable, "-c", KERAS_PROBE, str(ROOT / "tests"), *map(str, paths)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_every_form_is_fixed_and_real_keras_agrees(tmp_path):
    paths = [write_case(tmp_path, name) for name in CASES]
    for path, (name, (_, flags)) in zip(paths, CASES.items()):
        before = path.read_text()
        fixed = run_bnlint("check", "--fix", *([flags] if flags else []), path.name, cwd=tmp_path)
        assert fixed.returncode == 0, (name, fixed.stdout, fixed.stderr)
        after = path.read_text()
        assert after != before
        compile(after, str(path), "exec")  # the fixed source parses
        # Comments and untouched lines are kept as written.
        kept = [line for line in before.splitlines() if "Conv2D" not in line and "Dense" not in line
                and "BatchNormalization" not in line and "BN(" not in line and "activation=None" not in line]
        assert all(line in after.splitlines() for line in kept), name
        again = run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
        assert (again.returncode, path.read_text()) == (0, after), name  # a second run changes nothing
    built = keras_models(paths)
    for path in paths:
        graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
        for reference in built[str(path)]:
            graph = next(g for g in graphs if g["name"] == reference["name"])
            assert compare(reference, graph, graphs) == [], (path.name, reference["name"])
        # the fixes really are in the Keras model
        for reference in built[str(path)]:
            for layer in reference["layers"]:
                if layer["class_name"] == "BatchNormalization":
                    assert layer["config"]["momentum"] >= 0.5
            convs = [layer for layer in reference["layers"] if layer["class_name"] in ("Conv2D", "Dense")]
            assert convs and all(layer["config"]["use_bias"] is False for layer in convs)


def test_helper_site_is_edited_once_and_instances_are_counted(tmp_path):
    path = write_case(tmp_path, "helper_in_a_loop")
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "--show-fixes", path.name, cwd=tmp_path)
    assert path.read_text().count("use_bias=False") == 1
    assert path.read_text().count("momentum=0.9") == 1
    assert "helper_in_a_loop.py: 1 x BN004 [redundant-bias] (3 layer instances)" in result.stdout
    assert "helper_in_a_loop.py: 1 x BN006 [momentum-convention] (3 layer instances)" in result.stdout


def test_safe_fixes_only_without_unsafe_flag(tmp_path):
    path = write_case(tmp_path, "sequential_add")
    result = run_bnlint("check", "--fix", path.name, cwd=tmp_path)
    text = path.read_text()
    assert "use_bias=False" in text and "BN(-1, 0.1)" in text
    assert result.returncode == 1
    assert "1 more finding fixable with `--fix --unsafe-fixes`." in result.stdout


def test_diff_writes_nothing_and_exits_1(tmp_path):
    path = write_case(tmp_path, "functional_and_nested_call")
    before = path.read_bytes()
    result = run_bnlint("check", "--diff", path.name, cwd=tmp_path)
    assert result.returncode == 1 and path.read_bytes() == before
    assert result.stdout.startswith("--- a/functional_and_nested_call.py\n+++ b/functional_and_nested_call.py\n")
    added = [line for line in result.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(added) == 2 and all("use_bias=False" in line for line in added)
    assert result.stderr == "Would fix 2 findings.\n"
    clean = run_bnlint("check", "--diff", "--select", "BN003", path.name, cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "No fixes to apply.\n")


def test_subclassed_model_sublayer_is_fixed(tmp_path):
    path = tmp_path / "block.py"
    path.write_text(textwrap.dedent("""
        import keras
        from keras import layers

        class Block(keras.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.conv = layers.Conv2D(8, 3)
                self.bn = layers.BatchNormalization()

            def call(self, x):
                return self.bn(self.conv(x))
        """))
    assert run_bnlint("check", "--fix", "block.py", cwd=tmp_path).returncode == 0
    assert "self.conv = layers.Conv2D(8, 3, use_bias=False)" in path.read_text()


def test_a_call_with_kwargs_is_left_alone_with_the_reason(tmp_path):
    path = tmp_path / "m.py"
    original = textwrap.dedent("""\
        import keras

        def build(opts, biased):
            return keras.Sequential([
                keras.layers.Conv2D(8, 3, **opts), keras.layers.BatchNormalization(),
                keras.layers.Conv2D(8, 3, **biased), keras.layers.BatchNormalization(),
            ])

        options = dict(padding="same")
        options.update(strides=2)
        m = build(options, {"use_bias": True})
        """)
    path.write_text(original)
    result = run_bnlint("check", "--fix", "m.py", cwd=tmp_path)
    assert path.read_text() == original
    assert result.stdout.count("(not fixed: the call passes *args or **kwargs, which may already set `use_bias`)") == 2


KNOWN_KWARGS = """\
import keras
from keras import layers

conv = dict(padding="same", kernel_initializer="he_normal")
biased = {"padding": "same", "use_bias": True}
mutated = dict(padding="same")
mutated["use_bias"] = True
inputs = keras.Input((32, 32, 3))
x = layers.BatchNormalization()(layers.Conv2D(8, 3, **conv)(inputs))
x = layers.BatchNormalization()(layers.Conv2D(8, 3, **{"strides": 1})(x))
x = layers.BatchNormalization()(layers.Conv2D(8, 3, **biased)(x))
x = layers.BatchNormalization()(layers.Conv2D(8, 3, **mutated)(x))
x = layers.GlobalAveragePooling2D()(layers.ReLU()(x))
model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
"""


def test_a_call_spreading_a_dict_written_in_the_file_gets_the_argument_it_lacks(tmp_path):
    """`**conv` with `conv = dict(padding="same")`, assigned once and only spread: `use_bias` is added."""
    path = tmp_path / "model.py"
    path.write_text(KNOWN_KWARGS)
    checked = run_bnlint("check", "model.py", cwd=tmp_path)
    assert "[*] 2 findings fixable with `--fix`." in checked.stdout
    fixed = run_bnlint("check", "--fix", "model.py", cwd=tmp_path)
    assert fixed.returncode == 1
    lines = fixed.stdout.splitlines()
    assert lines[0].endswith("(not fixed: `**biased` sets `use_bias`; change the value there)")
    assert lines[1].endswith("(not fixed: the call passes *args or **kwargs, which may already set `use_bias`)")
    assert lines[2] == "Found 4 findings (2 fixed, 2 remaining; 1 file checked)."
    text = path.read_text()
    assert text == KNOWN_KWARGS.replace("(8, 3, **conv)", "(8, 3, **conv, use_bias=False)").replace(
        '(8, 3, **{"strides": 1})', '(8, 3, **{"strides": 1}, use_bias=False)')
    (reference,) = keras_models([path])[str(path)]  # real Keras builds the fixed file
    convs = [layer["config"] for layer in reference["layers"] if layer["class_name"] == "Conv2D"]
    assert [conv["use_bias"] for conv in convs] == [False, False, True, True]


DECLINED_BY_SYNTAX = """\
import keras
from keras import layers


def build(cfg, bn_args):
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=cfg.bn_momentum)(x)  # a setting
    x = layers.Conv2D(8, 3, use_bias=False, name="caf\u00e9")(x)
    x = layers.BatchNormalization(
        **bn_args)(x)  # may hold `momentum`
    x = layers.Conv2D(8, 3, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.1)(x)  # fixable
    return keras.Model(inputs, x)


class Config:
    bn_momentum = 0.1


model = build(Config(), {"momentum": 0.1})
"""


def test_a_check_counts_as_fixable_only_what_the_fix_does(tmp_path):
    """The writer's declines that the call's syntax decides are known before `--fix` runs."""
    path = tmp_path / "model.py"
    path.write_text(DECLINED_BY_SYNTAX, encoding="utf-8")
    checked = run_bnlint("check", "--select", "BN006", "model.py", cwd=tmp_path)
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert lines[:3] == [
        "model.py:8:9: BN006 [momentum-convention] momentum=0.1 looks like PyTorch's convention; the Keras equivalent "
        "is momentum=0.9 (not fixed: `momentum=cfg.bn_momentum` is read from a setting; change the value where "
        "`cfg.bn_momentum` is set)",
        "model.py:10:9: BN006 [momentum-convention] momentum=0.1 looks like PyTorch's convention; the Keras equivalent "
        "is momentum=0.9 (not fixed: the call passes *args or **kwargs, which may already set `momentum`)",
        "model.py:13:9: BN006 [momentum-convention] momentum=0.1 looks like PyTorch's convention; the Keras "
        "equivalent is momentum=0.9",
    ]
    assert lines[3:] == ["Found 3 findings in 1 file (1 file checked).",
                         "1 more finding fixable with `--fix --unsafe-fixes`."]  # (BN006's fix is unsafe)
    fixed = run_bnlint("check", "--select", "BN006", "--fix", "--unsafe-fixes", "model.py", cwd=tmp_path)
    assert "Found 3 findings (1 fixed, 2 remaining; " in fixed.stdout
    assert path.read_text(encoding="utf-8") == DECLINED_BY_SYNTAX.replace("momentum=0.1)", "momentum=0.9)")


def test_an_inserted_batchnorm_is_still_inserted_where_the_bias_cannot_be_dropped(tmp_path):
    """BN001's `use_bias=False` is optional: a `**kwargs` call still gets its BN, and BN004 names the bias."""
    path = tmp_path / "model.py"
    source = textwrap.dedent("""\
        import keras
        from keras import layers

        conv = dict(padding="same")
        conv.update(strides=1)  # (not only spread: may set anything)
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(8, 3, **conv)(inputs)
        x = layers.ReLU()(x)
        x = layers.Conv2D(8, 3, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D()(x)
        outputs = layers.Dense(10, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        """)
    path.write_text(source)
    checked = run_bnlint("check", "--select", "BN001,BN004", "model.py", cwd=tmp_path)
    assert checked.stdout.splitlines()[-1] == "1 more finding fixable with `--fix --unsafe-fixes`."
    fixed = run_bnlint("check", "--select", "BN001,BN004", "--fix", "--unsafe-fixes", "model.py", cwd=tmp_path)
    assert "model.py:7:5: BN004 [redundant-bias] the bias of `Conv2D` is cancelled by the `BatchNormalization` after " \
           "it; set `use_bias=False` (not fixed: the call passes *args or **kwargs, which may already set " \
           "`use_bias`)" in fixed.stdout
    assert "(1 fixed, 1 remaining; " in fixed.stdout
    assert path.read_text() == source.replace("x = layers.Conv2D(8, 3, **conv)(inputs)\n",
                                              "x = layers.Conv2D(8, 3, **conv)(inputs)\n"
                                              "x = layers.BatchNormalization()(x)\n")


def test_python_that_libcst_cannot_parse_is_reported_and_left_as_it_is(tmp_path):
    """Keras-SRGAN's Network.py indents a method's body with a tab and spaces: Python reads it, libcst not."""
    source = ("import keras\nfrom keras import layers\n\n\nclass G:\n    def build(self):\n"
              "\t    inputs = keras.Input((8, 8, 3))\n\t    x = layers.Conv2D(4, 3)(inputs)\n"
              "\t    x = layers.BatchNormalization()(x)\n\t    return keras.Model(inputs, x)\n\n\nmodel = G().build()\n")
    path = tmp_path / "model.py"
    path.write_text(source)
    fixed = run_bnlint("check", "--fix", "model.py", cwd=tmp_path)
    assert (fixed.returncode, fixed.stderr) == (1, "")
    assert fixed.stdout.splitlines()[0].endswith(
        "(not fixed: libcst, which the fixer edits with, cannot parse the file (tokenizer error: no matching "
        "outer block for dedent))")
    assert path.read_text() == source
    sarif = run_bnlint("check", "--output-format", "sarif", "model.py", cwd=tmp_path)
    assert (sarif.returncode, sarif.stderr) == (1, "")
    (result,) = json.loads(sarif.stdout)["runs"][0]["results"]
    assert "fixes" not in result


def test_argument_problems_are_told_from_the_call_text():
    from bnlint.writers.arguments import argument_problem

    site = Site("model.py", 1, 1, 1, 1)
    momentum = SetArgument(site, "BatchNormalization", "momentum", 0.9, follow=True)
    assert argument_problem('BatchNormalization(momentum=config["bn"]["momentum"])', momentum) == (
        '`momentum=config["bn"]["momentum"]` is read from a setting; change the value where '
        '`config["bn"]["momentum"]` is set')
    # Not following values, the writer replaces whatever is written.
    assert argument_problem("BatchNormalization(momentum=cfg.m)", SetArgument(site, "BatchNormalization",
                                                                             "momentum", 0.9)) is None
    assert argument_problem("BatchNormalization(momentum=m)", momentum) is None  # followed to where `m` is set
    assert argument_problem("BatchNormalization(-1, cfg.m)", momentum) is not None  # by position
    assert argument_problem("BatchNormalization(*args)", momentum) == (
        "the call passes *args or **kwargs, which may already set `momentum`")
    assert argument_problem("BatchNormalization(momentum=m, **kw)", momentum) is None  # given: kwargs cannot hold it
    assert argument_problem("layers.BatchNormalization(\n    # comment\n    axis=-1)", momentum) is None
    assert argument_problem("not a call", momentum) is None
    # `**name`: a dict written in the file, assigned once and only spread, holds only its own keys.
    spread = "BatchNormalization(**bn)"
    assert argument_problem(spread, momentum, "bn = {'axis': -1}\nBatchNormalization(**bn)\n") is None
    assert argument_problem(spread, momentum, "bn = {'momentum': 0.1}\n") == (
        "`**bn` sets `momentum`; change the value there")
    unknown = "the call passes *args or **kwargs, which may already set `momentum`"
    for text in [
        "bn = {'axis': -1, **base}\n",  # another dict's keys inside
        "bn = {'axis': -1}\nbn = {'axis': 1}\n",  # assigned twice (perhaps in two functions)
        "bn = {'axis': -1}\nbn['momentum'] = 0.1\n",  # changed
        "bn = {'axis': -1}\nprint(bn)\n",  # used otherwise: who knows what happens to it
        "def f(bn):\n    BatchNormalization(**bn)\n",  # a parameter
        "from settings import bn\n",
        "bn = make_dict()\n",
        "not python (",
        "",
    ]:
        assert argument_problem(spread, momentum, text) == unknown, text
    assert argument_problem("BatchNormalization(**{'axis': -1})", momentum) is None
    # Each builder function may have its own options dict of the same name (bubbliiiing's DCGAN).
    two = ("def generator():\n    o = {'axis': -1}\n    BatchNormalization(**o)\n\n"
           "def discriminator():\n    o = {'momentum': 0.1}\n    BatchNormalization(**o)\n"
           "\ndef other():\n    BatchNormalization(**o)\n")

    def on_line(line):
        return SetArgument(Site("model.py", line, 5, line, 28), "BatchNormalization", "momentum", 0.9)

    assert argument_problem(spread.replace("bn", "o"), on_line(3), two) is None
    assert argument_problem(spread.replace("bn", "o"), on_line(7), two) == (
        "`**o` sets `momentum`; change the value there")
    assert argument_problem(spread.replace("bn", "o"), on_line(10), two) == unknown  # a global `o`: none
    assert argument_problem("BatchNormalization(**dict(axis=-1, **base))", momentum) == unknown
    assert argument_problem("", momentum) is None


def test_file_attributes_are_kept(tmp_path):
    path = tmp_path / "m.py"
    source = "# -*- coding: latin-1 -*-\r\nimport keras\r\nname = 'caf\xe9'\r\nm = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()])\r\n"
    path.write_bytes(source.encode("latin-1"))
    os.chmod(path, 0o750)
    assert run_bnlint("check", "--fix", "m.py", cwd=tmp_path).returncode == 0
    data = path.read_bytes()
    assert data == source.replace("Dense(4)", "Dense(4, use_bias=False)").encode("latin-1")
    assert (os.stat(path).st_mode & 0o777) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]  # no temporary file left behind


def test_a_file_changed_on_disk_meanwhile_is_not_overwritten(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import keras\n")
    source = load_source(path, "m.py")
    path.write_text("import keras  # edited by someone else\n")
    with pytest.raises(InputError, match="changed on disk while bnlint was fixing it"):
        write_atomically(path, source, "import keras\nimport os\n")
    assert path.read_text() == "import keras  # edited by someone else\n"


def test_set_argument_intent_compares_by_value():
    site = Site("m.py", 1, 1, 1, 5)
    assert SetArgument(site, "Conv2D", "use_bias", False) == SetArgument(site, "Conv2D", "use_bias", False)


RESNET_PROBE = """
import json, os, sys, importlib.util
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, sys.argv[1])
import keras
from keras_reference import describe_config
spec = importlib.util.spec_from_file_location("fixed_resnet", sys.argv[2])
fixed_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixed_module)
out = {}
for label, builder in (("original", keras.applications.ResNet50), ("fixed", fixed_module.ResNet50)):
    keras.backend.clear_session()
    model = builder(weights=None)
    out[label] = {
        "biases": sum(1 for w in model.weights if w.path.endswith("/bias")),
        "description": describe_config(model.get_config(), "Functional"),
    }
print(json.dumps(out))
"""


def test_fixing_keras_resnet_removes_exactly_the_redundant_biases(tmp_path):
    original = Path(keras_applications_file("resnet.py"))
    copy = tmp_path / "resnet.py"
    copy.write_text(original.read_text())
    result = run_bnlint("check", "--fix", "--select", "BN004", "--show-fixes", "resnet.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resnet.py: 5 x BN004 [redundant-bias] (312 layer instances)" in result.stdout
    before, after = original.read_text().splitlines(), copy.read_text().splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    # Four constructor calls get `use_bias=False`; the stem's `Conv2D(..., use_bias=use_bias)` is
    # followed to the `use_bias=True` that ResNet50, ResNet101 and ResNet152 pass (ResNetV2's callers,
    # in another module, keep their bias, which no BN follows).
    assert len(changed) == 7 and all("use_bias=False" in b for _, b in changed)
    assert sum("use_bias=True" in a for a, _ in changed) == 3
    probe = subprocess.run(
        [sys.executable, "-c", RESNET_PROBE, str(ROOT / "tests"), str(copy)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    built = json.loads(probe.stdout.splitlines()[-1])
    assert built["original"]["biases"] - built["fixed"]["biases"] == 53
    # The same layer graph otherwise: names, classes, edges; only use_bias differs.
    fixed, original_model = built["fixed"]["description"], built["original"]["description"]
    assert fixed["edges"] == original_model["edges"]
    assert [(l["name"], l["class_name"]) for l in fixed["layers"]] == [
        (l["name"], l["class_name"]) for l in original_model["layers"]
    ]
    flipped = [l["name"] for l, o in zip(fixed["layers"], original_model["layers"]) if l["config"] != o["config"]]
    assert len(flipped) == 53 and all(name.endswith("_conv") for name in flipped)
    # And bnlint's reading of the fixed file is what Keras built from it.
    graphs = json.loads(run_bnlint("graph", str(copy), "--format", "json").stdout)
    graph = next(g for g in graphs if g["entry"] == "ResNet50")
    assert compare(fixed, graph, graphs) == []


def keras_applications_file(name: str) -> str:
    import keras

    return str(Path(keras.__file__).parent / "src" / "applications" / name)


STRUCTURAL = {
    "structural_list": """
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dense(32, use_bias=False),
            layers.ReLU(),
            layers.Dense(32),  # BN001: nothing normalises it
            layers.ReLU(),
            layers.Dense(16, use_bias=False),
            layers.Dropout(0.3),  # BN003: before the BN
            layers.ReLU(),
            layers.BatchNormalization(),
            layers.BatchNormalization(),  # BN009: twice
            layers.Dense(2, activation="softmax"),
        ], name="mlp")
        """,
    "structural_add": """
        from keras.models import Sequential
        from keras.layers import Conv2D, BatchNormalization, Dropout, ReLU, Flatten, Dense, Input

        model = Sequential(name="cnn")
        model.add(Input((16, 16, 3)))
        model.add(Conv2D(8, 3, use_bias=False))
        model.add(BatchNormalization())
        model.add(ReLU())
        model.add(Conv2D(8, 3, use_bias=False))
        model.add(ReLU())
        model.add(Conv2D(8, 3))
        model.add(ReLU())
        model.add(Conv2D(8, 3, use_bias=False))
        model.add(Dropout(0.2))
        model.add(BatchNormalization())
        model.add(BatchNormalization())
        model.add(Flatten())
        model.add(Dense(2))
        """,
    "structural_functional": """
        import keras
        from keras.layers import Conv2D as C
        from keras import layers

        inputs = keras.Input((16, 16, 3))
        x = C(8, 3, use_bias=False)(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = C(8, 3, use_bias=False)(x)
        x = layers.ReLU()(x)
        x = C(8, 3)(x)
        x = layers.ReLU()(x)
        y = layers.Dropout(0.2)(layers.Conv2D(8, 1, use_bias=False)(x))
        y = layers.BatchNormalization()(y)
        z = layers.BatchNormalization()(layers.BatchNormalization()(layers.Conv2D(8, 1, use_bias=False)(x)))
        out = layers.Add()([y, z])
        model = keras.Model(inputs, out, name="branches")
        """,
}
STRUCTURAL_RULES = "BN001,BN003,BN009"


def test_structural_fixes_insert_remove_and_move_layers_and_keras_agrees(tmp_path):
    paths = []
    for name, source in STRUCTURAL.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source).lstrip())
        paths.append(path)
    for path in paths:
        found = run_bnlint("check", "--select", STRUCTURAL_RULES, path.name, cwd=tmp_path)
        assert {line.split()[1] for line in found.stdout.splitlines() if ": BN" in line} == {"BN001", "BN003", "BN009"}
        fixed = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", STRUCTURAL_RULES, path.name, cwd=tmp_path)
        assert fixed.returncode == 0, (path.name, fixed.stdout, fixed.stderr)
        after = path.read_text()
        compile(after, path.name, "exec")
        again = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", STRUCTURAL_RULES, path.name, cwd=tmp_path)
        assert (again.returncode, path.read_text()) == (0, after)
    assert "from keras.layers import Conv2D as C, BatchNormalization\n" in paths[2].read_text()
    built = keras_models(paths)
    for path in paths:
        graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
        (reference,) = built[str(path)]
        graph = next(g for g in graphs if g["name"] == reference["name"])
        assert compare(reference, graph, graphs) == [], (path.name, path.read_text())
        # the dropout now follows its BN; no BN feeds a BN
        class_of = {layer["name"]: layer["class_name"] for layer in reference["layers"]}
        pairs = {(class_of[src], class_of[dst]) for src, dst, _ in reference["edges"]}
        assert ("Dropout", "BatchNormalization") not in pairs and ("BatchNormalization", "Dropout") in pairs
        assert ("BatchNormalization", "BatchNormalization") not in pairs


REORDER = {
    "reorder_split_fused": ("""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16, 16, 3)),
            layers.Conv2D(8, 3, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2D(8, 3, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2D(8, 3, use_bias=False, activation="relu"),  # BN002: fused, then BN
            layers.BatchNormalization(),
        ], name="split")
        """, None),
    "reorder_functional": ("""
        import keras
        from keras.layers import Conv2D, BatchNormalization as BN, ReLU

        inputs = keras.Input((16, 16, 3))
        x = Conv2D(8, 3, use_bias=False)(inputs)
        x = BN()(x)
        x = ReLU()(x)
        x = Conv2D(8, 3, use_bias=False)(x)
        x = BN()(x)
        x = ReLU()(x)
        x = Conv2D(8, 3, use_bias=False)(x)
        x = ReLU()(x)
        x = BN()(x)  # BN002: after its activation
        model = keras.Model(inputs, x, name="moved")
        """, None),
    "reorder_policy_after": ("""
        from keras.models import Sequential
        from keras.layers import Dense, BatchNormalization, ReLU, Input

        model = Sequential(name="policy")
        model.add(Input((8,)))
        model.add(Dense(16, use_bias=False))
        model.add(BatchNormalization())
        model.add(ReLU())
        model.add(Dense(2))
        """, 'bn-position = "after-activation"'),
}


def test_reorder_fixes_follow_the_policy_and_keras_agrees(tmp_path):
    paths = []
    for name, (source, option) in REORDER.items():
        directory = tmp_path / name
        directory.mkdir()
        if option:
            (directory / "pyproject.toml").write_text(f"[tool.bnlint]\n{option}\n")
        path = directory / "model.py"
        path.write_text(textwrap.dedent(source).lstrip())
        assert run_bnlint("check", "--select", "BN002", "model.py", cwd=directory).returncode == 1
        fixed = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", "BN002", "model.py", cwd=directory)
        assert fixed.returncode == 0, (name, fixed.stdout, fixed.stderr)
        paths.append(path)
    assert 'layers.Conv2D(8, 3, use_bias=False, activation=None),' in paths[0].read_text()
    assert 'layers.Activation("relu"),' in paths[0].read_text()
    built = keras_models(paths)
    for path in paths:
        graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
        (reference,) = built[str(path)]
        graph = next(g for g in graphs if g["name"] == reference["name"])
        assert compare(reference, graph, graphs) == [], path.read_text()
        class_of = {layer["name"]: layer["class_name"] for layer in reference["layers"]}
        pairs = {(class_of[src], class_of[dst]) for src, dst, _ in reference["edges"]}
        if path.parent.name == "reorder_policy_after":
            assert ("ReLU", "BatchNormalization") in pairs and ("BatchNormalization", "ReLU") not in pairs
        else:
            assert ("ReLU", "BatchNormalization") not in pairs


def test_inserted_batchnorm_follows_insert_options_and_neighbour_names(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.bnlint.insert]\nmomentum = 0.9\nepsilon = 1e-5\nzero-gamma-residual = true\n"
    )
    path = tmp_path / "resblock.py"
    path.write_text(textwrap.dedent("""
        import keras
        from keras import layers

        def block(x, name):
            shortcut = x
            x = layers.Conv2D(8, 3, padding="same", use_bias=False, name=name + "_1_conv")(x)
            x = layers.BatchNormalization(name=name + "_1_bn")(x)
            x = layers.ReLU(name=name + "_1_relu")(x)
            x = layers.Conv2D(8, 3, padding="same", use_bias=False, name=name + "_2_conv")(x)
            x = layers.ReLU(name=name + "_2_relu")(x)
            x = layers.Conv2D(8, 3, padding="same", name=name + "_3_conv")(x)
            return layers.Add(name=name + "_add")([shortcut, x])

        inputs = keras.Input((8, 8, 8))
        x = inputs
        for i in range(2):
            x = block(x, f"block{i}")
        x = layers.Dense(2, name="head")(layers.GlobalAveragePooling2D(name="pool")(x))
        model = keras.Model(inputs, x, name="resnet_like")
        """).lstrip())
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", "BN001", "--show-fixes", "resblock.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    text = path.read_text()
    assert ('    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-05, gamma_initializer="zeros", '
            'name=name + "_3_bn")(x)\n') in text
    assert 'layers.Conv2D(8, 3, padding="same", name=name + "_3_conv", use_bias=False)' in text
    (reference,) = keras_models([path])[str(path)]
    graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
    assert compare(reference, graphs[0], graphs) == []
    bn = next(layer for layer in reference["layers"] if layer["name"] == "block1_3_bn")
    assert (bn["config"]["momentum"], bn["config"]["epsilon"]) == (0.9, 1e-05)


def test_invalid_insert_options_are_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint.insert]\nmomentom = 0.9\n")
    (tmp_path / "m.py").write_text("import keras\n")
    result = run_bnlint("check", "m.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "'insert' in [tool.bnlint] has an unknown key 'momentom'" in result.stderr


SUBCLASS_PROBE = """
import os, runpy, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
namespace = runpy.run_path(sys.argv[1])
layer = namespace[sys.argv[2]]()
output = layer(np.zeros((1, 16, 16, 3), "float32"))
print(tuple(output.shape), sorted(type(sub).__name__ for sub in layer._layers))
"""


def refixed_and_built(path: Path, select: str, class_name: str) -> str:
    """Check that fixing *path* again changes nothing; then what real Keras gives for its layer class
    *class_name* called on a 16x16 image: the output shape and the sorted classes of its sublayers."""
    text = path.read_text()
    again = run_bnlint("check", "--select", select, "--fix", "--unsafe-fixes", path.name, cwd=path.parent)
    assert (again.returncode, path.read_text()) == (0, text)
    probe = subprocess.run([sys.executable, "-c", SUBCLASS_PROBE, str(path), class_name], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert probe.returncode == 0, probe.stderr[-2000:]
    return probe.stdout.splitlines()[-1]


def test_subclassed_models_get_sublayers_added_moved_and_removed(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent("""
        import keras
        from keras.layers import Conv2D, BatchNormalization, ReLU, Dropout


        class Net(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.a = Conv2D(8, 3, use_bias=False)
                self.a_bn = BatchNormalization()
                self.b = Conv2D(8, 3, use_bias=False)
                self.c = Conv2D(8, 3)
                self.c_bn = BatchNormalization()  # taken: the new one is c_bn2
                self.d = Conv2D(8, 3, use_bias=False)
                self.drop = Dropout(0.2)
                self.d_bn = BatchNormalization()
                self.d_bn_again = BatchNormalization()
                self.relu = ReLU()

            def call(self, x):
                x = self.relu(self.a_bn(self.a(x)))
                x = self.relu(self.b(x))
                x = self.relu(self.c(x))
                x = self.drop(self.d(x))
                x = self.d_bn(x)
                x = self.d_bn_again(x)
                return self.relu(x)
        """).lstrip())
    before = run_bnlint("check", "--select", "ALL", "net.py", cwd=tmp_path)
    assert {line.split()[1] for line in before.stdout.splitlines() if ": BN" in line} == {"BN001", "BN003", "BN009"}
    fixed = run_bnlint("check", "--select", "ALL", "--fix", "--unsafe-fixes", "net.py", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    text = path.read_text()
    assert "        self.c = Conv2D(8, 3, use_bias=False)\n        self.c_bn2 = BatchNormalization()\n" in text
    assert "x = self.relu(self.c_bn2(self.c(x)))" in text
    assert "x = self.d(x)\n        x = self.d_bn(x)\n        x = self.drop(x)\n" in text and "d_bn_again" not in text
    assert refixed_and_built(path, "ALL", "Net") == (
        "(1, 8, 8, 8) ['BatchNormalization', 'BatchNormalization', 'BatchNormalization', 'BatchNormalization', "
        "'Conv2D', 'Conv2D', 'Conv2D', 'Conv2D', 'Dropout', 'ReLU']"
    )


def test_missing_batchnorm_keeps_the_bias_of_a_layer_with_a_fused_activation(tmp_path):
    """keras_cv's SimCLR projector: the BN inserted after `Dense(..., activation="relu")` lands after
    the relu, so the Dense's bias is not cancelled and stays; a linear Dense loses its bias."""
    path = tmp_path / "projector.py"
    path.write_text(textwrap.dedent("""
        import keras
        from keras import layers

        projector = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32),
            layers.ReLU(),
            layers.Dense(32),
            layers.BatchNormalization(),
        ], name="projector")
        """).lstrip())
    fixed = run_bnlint("check", "--select", "BN001", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Fixed 2 findings" in fixed.stdout
    text = path.read_text()
    assert (
        '    layers.Dense(32, activation="relu"),\n    layers.BatchNormalization(),\n'
        "    layers.Dense(32, use_bias=False),\n    layers.BatchNormalization(),\n    layers.ReLU(),\n"
    ) in text
    (reference,) = keras_models([path])[str(path)]
    dense = [layer["config"] for layer in reference["layers"] if layer["class_name"] == "Dense"]
    assert [config["use_bias"] for config in dense] == [True, False, True]
    assert [config["activation"] for config in dense] == ["relu", "linear", "linear"]
    graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
    assert compare(reference, graphs[0], graphs) == []


def test_sublayers_applied_by_statements_are_moved_and_added_as_statements(tmp_path):
    """`x = self.drop(x)` / `x = self.bn(x)` swap lines (the comment goes with the moved one), and a new
    sublayer after `x = self.conv(x)` is a line of its own; one applied inside an expression is wrapped there."""
    path = tmp_path / "block.py"
    path.write_text(textwrap.dedent("""
        import keras
        from keras import layers


        class Block(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.stem = layers.Conv2D(8, 3, use_bias=False)
                self.stem_bn = layers.BatchNormalization()
                self.conv = layers.Conv2D(8, 3, use_bias=False)
                self.drop = layers.Dropout(0.2)
                self.bn = layers.BatchNormalization()
                self.proj = layers.Conv2D(8, 1, use_bias=False)
                self.mix = layers.Conv2D(8, 1, use_bias=False)
                self.head = layers.Conv2D(8, 1)
                self.relu = layers.ReLU()

            def call(self, x):
                x = self.relu(self.stem_bn(self.stem(x)))
                x = self.conv(x)
                x = self.drop(x)  # moved
                x = self.bn(x)
                y = self.proj(x)
                y = self.relu(y)
                y = self.mix(y)
                y = self.relu(y)
                return self.head(y)
        """).lstrip())
    fixed = run_bnlint("check", "--select", "BN001,BN003", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    text = path.read_text()
    assert textwrap.indent(textwrap.dedent("""
            def call(self, x):
                x = self.relu(self.stem_bn(self.stem(x)))
                x = self.conv(x)
                x = self.bn(x)
                x = self.drop(x)  # moved
                y = self.proj(x)
                y = self.relu(y)
                y = self.mix(y)
                y = self.mix_bn(y)
                y = self.relu(y)
                return self.head(y)
        """).lstrip(), "    ") in text, text
    assert "        self.mix = layers.Conv2D(8, 1, use_bias=False)\n        self.mix_bn = layers.BatchNormalization()\n" in text
    assert refixed_and_built(path, "BN001,BN003", "Block") == (
        "(1, 12, 12, 8) ['BatchNormalization', 'BatchNormalization', 'BatchNormalization', "
        "'Conv2D', 'Conv2D', 'Conv2D', 'Conv2D', 'Conv2D', 'Dropout', 'ReLU']"
    )


def test_a_sublayer_applied_twice_is_not_moved_or_wrapped(tmp_path):
    """Moving `self.drop` after `self.bn` would rewrite every `self.bn(...)`: with two, the fix declines."""
    path = tmp_path / "shared.py"
    original = textwrap.dedent("""
        import keras
        from keras import layers


        class Block(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.stem = layers.Conv2D(8, 3, use_bias=False)
                self.conv = layers.Conv2D(8, 3, use_bias=False)
                self.drop = layers.Dropout(0.2)
                self.bn = layers.BatchNormalization()
                self.relu = layers.ReLU()

            def call(self, x):
                x = self.relu(self.bn(self.stem(x)))
                x = self.conv(x)
                x = self.drop(x)
                x = self.bn(x)
                return self.relu(x)
        """).lstrip()
    path.write_text(original)
    result = run_bnlint("check", "--select", "BN003", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert result.returncode == 1 and path.read_text() == original
    assert "(not fixed: `self.bn` is used in 2 places in the class, and the fix rewrites each one)" in result.stdout


def test_a_layer_made_in_a_comprehension_is_left_alone_with_the_reason(tmp_path):
    path = tmp_path / "m.py"
    original = textwrap.dedent("""
        import keras
        from keras import layers

        blocks = [layers.Dense(8, use_bias=False) for _ in range(2)]
        model = keras.Sequential([
            keras.Input((4,)),
            layers.Dense(8, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dense(8),  # (pre-activated by the BN before it)
            layers.ReLU(),
            blocks[0],
            layers.ReLU(),
            blocks[1],
            layers.ReLU(),
            layers.Dense(2),
        ])
        """).lstrip()
    path.write_text(original)
    result = run_bnlint("check", "--select", "BN001", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert result.returncode == 1 and path.read_text() == original
    assert "m.py:4:11: BN001 [missing-batchnorm]" in result.stdout
    assert "(not fixed: the layer is not built in a form the fixer edits" in result.stdout


@pytest.mark.parametrize(
    "body, outputs, code, reason",
    [
        # The dropout's output is also the residual: moving it would put the dropout on the skip too.
        ("x = layers.Dropout(0.5)(x)\ny = layers.BatchNormalization()(x)\nx = layers.Add()([x, y])", "x",
         "BN003", "a layer on the way has another input or consumer, or is a model output"),
        # The BN's output is also a model output: moving it past the ReLU would change that output.
        ("y = layers.BatchNormalization()(x)\nx = layers.ReLU()(y)", "[x, y]",
         "BN002", "a layer on the way has another input or consumer, or is a model output"),
        # Each branch is activated before the Concatenate the BN reads: no one activation to move it before.
        ("a = layers.Dense(4, activation='relu')(x)\nb = layers.Dense(4, activation='relu')(x)\n"
         "x = layers.BatchNormalization()(layers.Concatenate()([a, b]))", "x",
         "BN002", "the activations are on the branches its input joins"),
    ],
)
def test_a_move_that_would_rewire_other_connections_is_not_offered_and_says_why(tmp_path, body, outputs, code, reason):
    path = tmp_path / "m.py"
    lines = ["import keras", "from keras import layers", "inputs = keras.Input((4,))",
             "x = layers.Dense(8, use_bias=False)(inputs)", *body.split("\n"),
             f"model = keras.Model(inputs, {outputs})"]
    original = "\n".join(lines) + "\n"
    path.write_text(original)
    position = "after-activation" if "ReLU" in body else "before-activation"
    (tmp_path / "pyproject.toml").write_text(f'[tool.bnlint]\nbn-position = "{position}"\n')
    result = run_bnlint("check", "--select", code, "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert result.returncode == 1 and path.read_text() == original
    (line,) = [line for line in result.stdout.splitlines() if f" {code} " in line]
    assert f"(not fixed: {reason}" in line and "[*]" not in line
    (finding,) = json.loads(run_bnlint("check", "--select", code, "--output-format", "json", "m.py", cwd=tmp_path).stdout)
    assert finding["fix"] is None and finding["unfixable"].startswith(reason)


CHANNELS_FIRST = {
    "explicit": """
        import keras
        from keras import layers

        inputs = keras.Input(shape=(3, 32, 32))
        x = layers.Conv2D(16, 3, padding="same", data_format="channels_first")(inputs)
        x = layers.ReLU()(x)
        x = layers.Conv2D(24, 3, padding="same", data_format="channels_first", use_bias=False)(x)
        x = layers.BatchNormalization(axis=1)(x)
        x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D(data_format="channels_first")(x)
        model = keras.Model(inputs, layers.Dense(10)(x))
        """,
    "global_setting": """
        import keras
        from keras import layers

        keras.config.set_image_data_format("channels_first")
        inputs = keras.Input(shape=(3, 32, 32))
        x = layers.Conv1D(8, 3)(layers.Reshape((3, 1024))(inputs))
        x = layers.ReLU()(layers.Reshape((8, 1022, 1))(x))
        x = layers.Conv2D(16, 3, padding="same")(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(24, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(axis=1)(x)
        x = layers.ReLU()(x)
        model = keras.Model(inputs, x)
        """,
}

GAMMA_PROBE = """
import json, os, runpy, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
out = {}
for path in sys.argv[1:]:
    keras.config.set_image_data_format("channels_last")
    model = runpy.run_path(path)["model"]
    out[path] = [[layer.name, list(layer.gamma.shape)] for layer in model.layers
                 if isinstance(layer, keras.layers.BatchNormalization)]
print(json.dumps(out))
"""


def test_bn_inserted_after_a_channels_first_layer_normalises_its_channels(tmp_path):
    """BN001's fix gives the inserted BN axis=1 after a channels_first layer (explicit or global),
    where the default axis=-1 would normalise image columns; real Keras confirms one gamma per filter."""
    paths = []
    for name, source in CHANNELS_FIRST.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source).lstrip())
        fixed = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", "BN001", path.name, cwd=tmp_path)
        assert fixed.returncode == 0, (name, fixed.stdout, fixed.stderr)
        assert "BatchNormalization(axis=1)" in path.read_text(), path.read_text()
        assert "BatchNormalization()" not in path.read_text()
        clean = run_bnlint("check", "--select", "BN008", path.name, cwd=tmp_path)
        assert clean.returncode == 0, clean.stdout
        paths.append(path)
    result = subprocess.run([sys.executable, "-c", GAMMA_PROBE, *map(str, paths)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    gammas = json.loads(result.stdout.splitlines()[-1])
    assert [shape for _, shape in gammas[str(paths[0])]] == [[16], [24]]
    assert [shape for _, shape in gammas[str(paths[1])]] == [[8], [16], [24]]


def test_a_moved_layers_comment_is_not_left_behind_on_the_line_it_leaves():
    """`d = Dropout(...)(h)  # c` becomes `d = h`: the comment goes with the dropout, not twice."""
    import bnlint

    source = textwrap.dedent("""
        import keras
        from keras import layers

        inputs = keras.Input((16,))
        h = layers.Dense(32, use_bias=False)(inputs)
        d = layers.Dropout(0.5)(h)  # keep half
        x = layers.BatchNormalization()(d)  # the BN
        model = keras.Model(inputs, layers.ReLU()(x))
    """)
    fixed, _ = bnlint.fix_source(source, select=["BN003"], unsafe=True)
    lines = fixed.splitlines()
    assert "d = h" in lines
    assert [line for line in lines if "#" in line] == [
        "x = layers.BatchNormalization()(d)  # the BN", "x = layers.Dropout(0.5)(x)  # keep half"]


FOLLOWED = """
    import keras
    from keras import layers

    BN_MOMENTUM = 0.1  # ported from PyTorch


    def conv_bn(x, filters, momentum, use_bias=True):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias)(x)
        return layers.BatchNormalization(momentum=momentum)(x)


    def build(name):
        inputs = keras.Input((16, 16, 3))
        mom = 0.01
        x = conv_bn(inputs, 8, mom)
        x = conv_bn(x, 16, momentum=mom)
        x = layers.Dense(4)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        return keras.Model(inputs, x, name=name)


    model = build("followed")
"""


def test_a_value_given_by_name_is_set_where_it_is_written_and_keras_agrees(tmp_path):
    # `momentum=momentum` and `use_bias=use_bias` stay as written (a hard-coded value would ignore
    # what the helper's callers pass); the literals their values come from change instead.
    path = tmp_path / "followed.py"
    path.write_text(textwrap.dedent(FOLLOWED).lstrip())
    before = path.read_text()
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "--show-fixes", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    after = path.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [
        ("BN_MOMENTUM = 0.1  # ported from PyTorch", "BN_MOMENTUM = 0.9  # ported from PyTorch"),
        ("def conv_bn(x, filters, momentum, use_bias=True):", "def conv_bn(x, filters, momentum, use_bias=False):"),
        ("    mom = 0.01", "    mom = 0.99"),
        ("    x = layers.Dense(4)(x)", "    x = layers.Dense(4, use_bias=False)(x)"),
    ]
    assert run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path).returncode == 0
    assert path.read_text() == after  # a second run changes nothing
    (reference,) = keras_models([path])[str(path)]
    graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
    assert compare(reference, next(g for g in graphs if g["name"] == "followed"), graphs) == []
    layers = reference["layers"]
    assert [l["config"]["momentum"] for l in layers if l["class_name"] == "BatchNormalization"] == [0.99, 0.99, 0.9]
    assert [l["config"]["use_bias"] for l in layers if l["class_name"] in ("Conv2D", "Dense")] == [False] * 3


def test_an_init_parameter_default_of_a_layer_class_is_followed(tmp_path):
    path = tmp_path / "block.py"
    path.write_text(textwrap.dedent("""
        from keras import layers


        class Block(layers.Layer):
            def __init__(self, filters, momentum=0.1, **kwargs):
                super().__init__(**kwargs)
                self.conv = layers.Conv2D(filters, 3, use_bias=False)
                self.bn = layers.BatchNormalization(momentum=momentum)

            def call(self, x):
                return self.bn(self.conv(x))


        def head(x):
            return Block(16)(Block(8, momentum=0.1)(x))
    """).lstrip())
    assert run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path).returncode == 0
    text = path.read_text()
    assert "def __init__(self, filters, momentum=0.9, **kwargs):" in text
    assert "return Block(16)(Block(8, momentum=0.9)(x))" in text
    assert "layers.BatchNormalization(momentum=momentum)" in text


@pytest.mark.parametrize(("body", "reason"), [
    ("m = 0.1\nscaled = m * 2\nbn = layers.BatchNormalization(momentum=m)",
     "`momentum=m` does not lead to a literal the fixer can change: `m` is also used in `scaled = m * 2`"),
    ("m = 0.5\nm = 0.1\nbn = layers.BatchNormalization(momentum=m)",
     "`m` is assigned in more than one place"),
    ("for m in (0.1,):\n    bn = layers.BatchNormalization(momentum=m)",
     "`m` is not assigned a value by a plain `m = ...`"),
    ("from settings import M\nbn = layers.BatchNormalization(momentum=M)",
     "`M` is not assigned in this file"),
    ("def f(m=0.1):\n    return layers.BatchNormalization(momentum=m)\nbn = f(m=1 / 10)",
     "a value on the way is computed (`1 / 10`)"),
    ("def f(m=0.1):\n    return layers.BatchNormalization(momentum=m)\nmake = f\nbn = f()",
     "`f` is used other than by calling it (`make = f`)"),
    ("def f(m=0.1):\n    return layers.BatchNormalization(momentum=m)\nbn, other = f(), f(.1)", None),
])
def test_a_name_that_does_not_lead_to_one_literal_is_left_with_the_reason(tmp_path, body, reason):
    (tmp_path / "settings.py").write_text("M = 0.1\n")
    path = tmp_path / "m.py"
    original = "from keras import layers, Sequential\n" + body + "\nmodel = Sequential([layers.Dense(4, use_bias=False), bn])\n"
    path.write_text(original)
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", "BN006", "m.py", cwd=tmp_path)
    if reason is None:  # `.1` and the default `0.1` are one value, written twice: both change
        assert result.returncode == 0, result.stdout
        assert path.read_text() == original.replace("m=0.1", "m=0.9").replace("f(.1)", "f(0.9)")
        return
    assert result.returncode == 1
    assert path.read_text() == original
    assert f"(not fixed: " in result.stdout and reason in result.stdout, result.stdout


def test_a_split_activation_is_imported_by_name_in_a_file_with_functions_and_keras_agrees(tmp_path):
    # The new `Activation` joins the file's `from keras.layers import ...`; finding that import
    # walked into the body of the first `def` (not a statement list) and crashed.
    path = tmp_path / "split.py"
    path.write_text(textwrap.dedent("""
        from keras.layers import Conv2D, BatchNormalization, Input, ReLU
        from keras.models import Model

        if True:
            FILTERS = 8


        def build():
            inputs = Input((16, 16, 3))
            x = Conv2D(FILTERS, 3, activation="relu", use_bias=False)(inputs)
            x = BatchNormalization()(x)
            for _ in range(2):
                x = Conv2D(FILTERS, 3, use_bias=False)(x)
                x = BatchNormalization()(x)
                x = ReLU()(x)
            return Model(inputs, x, name="split")


        model = build()
    """).lstrip())
    result = run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    text = path.read_text()
    assert text.startswith("from keras.layers import Conv2D, BatchNormalization, Input, ReLU, Activation\n")
    assert 'Conv2D(FILTERS, 3, activation=None, use_bias=False)' in text and 'Activation("relu")(x)' in text
    (reference,) = keras_models([path])[str(path)]
    graphs = json.loads(run_bnlint("graph", str(path), "--format", "json").stdout)
    assert compare(reference, next(g for g in graphs if g["name"] == "split"), graphs) == []
    assert [l["class_name"] for l in reference["layers"]][1:4] == ["Conv2D", "BatchNormalization", "Activation"]


def test_only_the_literals_that_differ_change_and_options_passed_beside_the_name_do_not_stop_it(tmp_path):
    # keras-io's DeepLabV3+: `convolution_block(..., use_bias=False)` by default, one call passes
    # `use_bias=True` (that call changes, the default already holds the value); karolzak's
    # satellite U-Net passes the momentum positionally beside `**conv2d_args`.
    path = tmp_path / "m.py"
    original = textwrap.dedent("""
        import keras
        from keras import layers


        def conv_block(x, filters, use_bias=False):
            x = layers.Conv2D(filters, 1, use_bias=use_bias)(x)
            return layers.BatchNormalization()(x)


        def bn_conv(x, filters, momentum, **conv_args):
            x = layers.BatchNormalization(momentum=momentum)(x)
            return layers.Conv2D(filters, use_bias=False, **conv_args)(x)


        def build():
            inputs = keras.Input((8, 8, 3))
            options = {"kernel_size": 3, "padding": "same"}
            momentum = 0.01
            x = conv_block(inputs, 8)
            x = conv_block(x, 8, use_bias=True)
            x = bn_conv(x, 8, momentum, **options)
            x = bn_conv(x, 8, momentum, **options)
            return keras.Model(inputs, x)
    """).lstrip()
    path.write_text(original)
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", "BN004,BN006", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert path.read_text() == original.replace("use_bias=True)", "use_bias=False)").replace(
        "momentum = 0.01", "momentum = 0.99")


def test_a_followed_value_that_reaches_another_layer_is_left_and_one_that_reaches_two_fixes_is_set(tmp_path):
    # The default `use_bias=True` also makes the bias of a layer no BN follows: changing it would
    # remove that bias too. `mom` reaches two BN layers, both fixed in the same pass: it changes.
    path = tmp_path / "m.py"
    original = textwrap.dedent("""
        import keras
        from keras import layers


        def block(x, use_bias=True):
            x = layers.Conv2D(8, 3, use_bias=use_bias)(x)
            x = layers.BatchNormalization()(x)
            return layers.ReLU()(layers.Conv2D(8, 1, use_bias=use_bias)(x))


        def bn_a(x, momentum):
            return layers.BatchNormalization(momentum=momentum)(x)


        def bn_b(x, momentum):
            return layers.BatchNormalization(momentum=momentum, name="b")(x)


        def build():
            inputs = keras.Input((8, 8, 3))
            mom = 0.1
            x = block(inputs)
            x = bn_a(x, mom)
            x = bn_b(layers.ReLU()(x), mom)
            return keras.Model(inputs, x)
    """).lstrip()
    path.write_text(original)
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "--select", "BN004,BN006", "m.py", cwd=tmp_path)
    assert path.read_text() == original.replace("mom = 0.1", "mom = 0.9")
    assert ("(not fixed: `use_bias=use_bias` does not lead to a literal the fixer can change: `use_bias` is also "
            "used in `return layers.ReLU()(layers.Conv2D(8, 1, use_bias=use_bia...`)") in result.stdout


def test_a_fix_is_withdrawn_when_the_call_also_makes_layers_the_finding_does_not_cover(tmp_path):
    # keras-io's ResNet20 (CutMix example): `resnet_layer(..., batch_normalization=False)` makes the
    # shortcut projections from the same `Conv2D(...)` call. Setting `use_bias=False` there would
    # remove the bias of those convolutions too, which no BN follows.
    path = tmp_path / "m.py"
    original = textwrap.dedent("""
        import keras
        from keras import layers


        def conv(x, filters, bn=True):
            x = layers.Conv2D(filters, 3, padding="same")(x)
            if bn:
                x = layers.BatchNormalization()(x)
            return layers.ReLU()(x)


        def build():
            inputs = keras.Input((8, 8, 3))
            x = conv(inputs, 8)
            x = conv(x, 8, bn=False)
            return keras.Model(inputs, conv(x, 8))
    """).lstrip()
    path.write_text(original)
    result = run_bnlint("check", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert path.read_text() == original
    assert ("m.py:6:9: BN004 [redundant-bias] the bias of `Conv2D` is cancelled by the `BatchNormalization` after "
            "it; set `use_bias=False` (2 instances: conv2d, conv2d_2) (not fixed: the call also makes `conv2d_1`, "
            "which this finding does not cover and an edit of the call would change too)") in result.stdout


BLOCKS = """\
import keras
from keras import layers

inp = keras.Input((16,))
x = inp
for _ in range(3):
    x = layers.Dense(32, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
"""
WHOLE_OR_NOTHING = {
    # BN002 would move the BN to after `dense = ...`, where `dense` is a layer, not a tensor.
    "stored_layer": (BLOCKS + "dense = layers.Dense(32, use_bias=False)\nx = dense(x)\nx = layers.ReLU()(x)\n"
                     "x = layers.BatchNormalization()(x)\nmodel = keras.Model(inp, x)\n",
                     "the layer is kept in a variable and applied in another statement"),
    # BN001's BN cannot go after `proj = ...`; its use_bias=False must not land alone.
    "stored_layer_bn001": ("import keras\nfrom keras import layers\n\nproj = layers.Dense(32)\n"
                           "inp = keras.Input((16,))\nx = layers.ReLU()(proj(inp))\n"
                           "model = keras.Model(inp, layers.Dense(2, activation='softmax')(x))\n",
                           "the layer is kept in a variable and applied in another statement"),
    # Activation("prelu") does not exist; Activation("leaky_relu") has another slope.
    "prelu": (BLOCKS + "x = layers.Dense(32, activation=layers.PReLU())(x)\nx = layers.BatchNormalization()(x)\n"
              "model = keras.Model(inp, x)\n", "the activation is given as a layer or an expression"),
    "leaky": (BLOCKS + "x = layers.Dense(32, activation=layers.LeakyReLU(negative_slope=0.01))(x)\n"
              "x = layers.BatchNormalization()(x)\nmodel = keras.Model(inp, x)\n",
              "the activation is given as a layer or an expression"),
}


@pytest.mark.parametrize("name", sorted(WHOLE_OR_NOTHING))
def test_a_fix_that_cannot_be_made_whole_is_not_made_at_all(tmp_path, name):
    source, reason = WHOLE_OR_NOTHING[name]
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nrequire-batchnorm = true\n")
    result = run_bnlint("check", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert path.read_text() == source
    assert f"(not fixed: {reason}" in result.stdout


def test_fixed_standard_input_goes_back_in_its_own_encoding(tmp_path):
    source = ("# -*- coding: latin-1 -*-\nimport keras\nfrom keras import layers\n\nentrée = keras.Input((8,))\n"
              "x = layers.Dense(4, name='dénse')(entrée)  # été\nx = layers.BatchNormalization()(x)\n"
              "model = keras.Model(entrée, x)\n").encode("latin-1")
    result = subprocess.run([sys.executable, "-m", "bnlint", "check", "--fix", "--stdin-filename", "m.py"],
                            input=source, capture_output=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == source.replace(b"name='d\xe9nse')", b"name='d\xe9nse', use_bias=False)")
    compile(result.stdout, "m.py", "exec")


def test_diff_of_an_absolute_path_applies_with_patch_p1_from_the_root(tmp_path):
    path = write_case(tmp_path, "functional_and_nested_call")
    result = run_bnlint("check", "--diff", str(path), cwd=tmp_path)
    assert result.stdout.startswith(f"--- a{path}\n+++ b{path}\n")
    stripped = result.stdout.splitlines()[0].split(" ", 1)[1].split("/", 1)[1]  # what `patch -p1` keeps
    assert Path("/", stripped) == path


def test_fix_source_keeps_a_byte_order_mark():
    import bnlint

    fixed, remaining = bnlint.fix_source("\ufeffimport keras\nmodel = keras.Sequential([keras.layers.Dense(8), "
                                         "keras.layers.BatchNormalization()])\n")
    assert fixed.startswith("\ufeffimport keras") and "Dense(8, use_bias=False)" in fixed and remaining == []


def _summed_source(terms: int) -> str:
    return ("import keras\nfrom keras import layers\nx1 = 1\n"
            f"y = {' + '.join(['x1'] * terms)}\n"
            "inputs = keras.Input((8,))\nmodel = keras.Model(inputs, layers.BatchNormalization()(layers.Dense(4)(inputs)))\n")


def test_a_file_with_a_sum_of_two_thousand_terms_is_fixed(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(_summed_source(2_000))
    result = run_bnlint("check", "--no-cache", "--fix", str(path))
    assert result.returncode == 0, result.stderr
    assert "layers.Dense(4, use_bias=False)" in path.read_text()


def test_a_file_nested_deeper_than_libcst_can_copy_is_declined_not_crashed(tmp_path):
    path = tmp_path / "model.py"
    source = _summed_source(6_000)  # (parses here, where libcst's recursive copy overflowed the C stack: signal 11)
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", str(path))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().endswith(f"{path}: nests its code too deeply for bnlint to fix; nothing was written")
    assert path.read_text() == source


def _two_blocks_then(order: str, tail: str) -> str:
    """A model of two Conv2D blocks with BN and ReLU in *order* ("BN ReLU" or "ReLU BN": the majority), then *tail*."""
    block = {"BN": "    x = layers.BatchNormalization()(x)\n", "ReLU": "    x = layers.ReLU()(x)\n"}
    return ("import keras\nfrom keras import layers\n\ninputs = keras.Input((8, 8, 3))\nx = inputs\n"
            "for i in range(2):\n    x = layers.Conv2D(4, 3, padding=\"same\", use_bias=False)(x)\n"
            + "".join(block[name] for name in order.split()) + textwrap.dedent(tail))


NESTED_MOVE = _two_blocks_then("BN ReLU", """\
    y = layers.BatchNormalization()(layers.Activation("relu")(layers.Conv2D(4, 1, use_bias=False)(x)))
    model = keras.Model(inputs, y)
""")


def test_a_batchnorm_moved_within_nested_calls_lands_inside_them_and_keras_builds_it(tmp_path):
    path = tmp_path / "nested.py"
    path.write_text(NESTED_MOVE)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ('y = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(4, 1, use_bias=False)(x)))'
            in path.read_text())
    (model,) = keras_models([path])[str(path)]
    classes = [layer["class_name"] for layer in model["layers"]]
    assert classes.count("BatchNormalization") == 3  # moved, not lost
    assert classes[-3:] == ["Conv2D", "BatchNormalization", "Activation"]


@pytest.mark.parametrize("application", ["x = layers.BatchNormalization()(x, training=False)",
                                         "x = layers.BatchNormalization()(x, mask=None)"])
def test_a_move_that_would_drop_the_call_arguments_is_declined(tmp_path, application):
    source = NESTED_MOVE.replace("y = layers.BatchNormalization()(layers.Activation", "x = layers.Activation").replace(
        "(layers.Conv2D(4, 1, use_bias=False)(x)))", "(layers.Conv2D(4, 1, use_bias=False)(x))\n" + application
    ).replace("keras.Model(inputs, y)", "keras.Model(inputs, x)")
    path = tmp_path / "kept.py"
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert path.read_text() == source
    assert result.returncode == 1
    assert "applied with more than its input" in result.stdout


def test_a_declined_move_leaves_the_other_fixes_of_the_file_applied(tmp_path):
    """BN004 waits for the round's moves; when every move was declined, nothing changed and the run
    ended there: `--fix --unsafe-fixes` left the file as it was, safe fixes included, and said so nowhere."""
    source = _two_blocks_then("BN ReLU", """\
        x = layers.Conv2D(4, 1)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.Dropout(0.2)(x, training=True)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        model = keras.Model(inputs, x)
    """)
    path = tmp_path / "mixed.py"
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    fixed = path.read_text()
    assert fixed == source.replace("layers.Conv2D(4, 1)(x)", "layers.Conv2D(4, 1, use_bias=False)(x)")
    assert result.returncode == 1  # the declined BN003 remains, with its reason
    assert "BN003" in result.stdout and "applied with more than its input" in result.stdout
    assert "BN004" not in result.stdout
    (model,) = keras_models([path])[str(path)]
    convs = [layer for layer in model["layers"] if layer["class_name"] == "Conv2D"]
    assert [conv["config"]["use_bias"] for conv in convs] == [False, False, False]


SUBCLASS_TRAINING = """\
import keras
from keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.c1, self.b1, self.a1 = layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU()
        self.c2, self.b2, self.a2 = layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU()
        self.c3 = layers.Conv2D(4, 3, use_bias=False)
        self.a3 = layers.ReLU()
        self.b3 = layers.BatchNormalization()

    def call(self, x):
        x = self.a1(self.b1(self.c1(x)))
        x = self.a2(self.b2(self.c2(x)))
        x = self.a3(self.c3(x))
        x = self.b3(x, training=False)  # frozen statistics
        return x
"""


def test_a_sublayer_applied_with_training_false_is_not_moved(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(SUBCLASS_TRAINING)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert path.read_text() == SUBCLASS_TRAINING
    assert "BN002" in result.stdout and "applied with more than its input" in result.stdout


def test_a_bias_is_kept_when_the_batchnorm_that_cancelled_it_moves_past_the_activation(tmp_path):
    path = tmp_path / "cifar.py"
    path.write_text(_two_blocks_then("ReLU BN", """\
        x = layers.Conv2D(4, 1)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        model = keras.Model(inputs, x)
    """))
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    (model,) = keras_models([path])[str(path)]
    last = [layer for layer in model["layers"] if layer["class_name"] != "InputLayer"][-3:]
    assert [layer["class_name"] for layer in last] == ["Conv2D", "ReLU", "BatchNormalization"]
    assert last[0]["config"]["use_bias"] is True  # the BN that cancelled it moved after the ReLU


def test_a_batchnorm_is_not_moved_across_global_pooling_where_its_axis_means_another_dimension(tmp_path):
    path = tmp_path / "gap.py"
    source = _two_blocks_then("BN ReLU", """\
        x = layers.Conv2D(16, 3, use_bias=False)(x)
        x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.BatchNormalization(axis=1)(x)
        model = keras.Model(inputs, x)
    """)
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert path.read_text() == source
    assert "BN002" in result.stdout and "global pooling or reshape lies between" in result.stdout


def test_diff_of_a_latin_1_file_is_in_its_bytes_and_patch_applies_it(tmp_path):
    import shutil

    source = ("# -*- coding: latin-1 -*-\n# Modèle à corriger\nfrom keras import layers, Sequential\n"
              "model = Sequential([layers.Input((4,)), layers.Dense(8), layers.BatchNormalization()])  # café\n")
    (tmp_path / "m.py").write_bytes(source.encode("latin-1"))
    (tmp_path / "fixed.py").write_bytes(source.encode("latin-1"))
    diff = subprocess.run([sys.executable, "-m", "bnlint", "check", "--no-cache", "--fix", "--diff", "m.py"],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert diff.returncode == 1 and "café".encode("latin-1") in diff.stdout  # (not UTF-8's c3 a9)
    assert run_bnlint("check", "--no-cache", "--fix", "fixed.py", cwd=tmp_path).returncode == 0
    if shutil.which("patch") is None:
        pytest.skip("no patch(1) on this machine to apply the diff with")
    subprocess.run(["patch", "-p1"], input=diff.stdout, cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "m.py").read_bytes() == (tmp_path / "fixed.py").read_bytes()


_THREE_BLOCKS = """\
import keras
from keras import layers

inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(8, 3, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.Conv2D(8, 3, use_bias=False)(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
"""


@pytest.mark.parametrize("tail, reason", [
    ("""\
x = layers.Dropout(0.2)(x, training=True)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
""", "applied with more than its input (`training=True`)"),
    ("""\
bn = layers.BatchNormalization()
x = bn(x)
""", "kept in a variable"),
    ("""\
x = layers.Conv2D(8, 3, use_bias=False, activation=layers.LeakyReLU(negative_slope=0.01))(x)
x = layers.BatchNormalization()(x)
""", "given as a layer or an expression (`layers.LeakyReLU(negative_slope=0.01)`)"),
])
def test_a_check_shows_the_fixes_the_syntax_rules_out_as_not_fixable(tmp_path, tail, reason):
    """A plain check counted these as fixable with `--unsafe-fixes`, which then declined them every time."""
    path = tmp_path / "m.py"
    path.write_text(_THREE_BLOCKS + tail + "model = keras.Model(inputs, x)\n")
    checked = run_bnlint("check", "--no-cache", str(path))
    assert reason in checked.stdout and "fixable" not in checked.stdout, checked.stdout
    fixed = run_bnlint("check", "--no-cache", "--diff", "--unsafe-fixes", str(path))
    assert fixed.returncode == 0 and "No fixes to apply." in fixed.stdout + fixed.stderr


TRY_IMPORTS = """\
import keras
try:
    from tensorflow.keras.layers import Dense, ReLU
except ImportError:
    from keras.layers import Dense, ReLU


def build():
    inputs = keras.Input((16,))
    x = Dense(8)(inputs)
    x = ReLU()(x)
    x = Dense(8, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = ReLU()(x)
    return keras.Model(inputs, Dense(2, activation="softmax")(x))


model = build()
"""

LOCAL_IMPORTS = """\
import keras


def stem(inputs):
    from keras.layers import Dense, ReLU
    x = Dense(8)(inputs)
    return ReLU()(x)


def body(x):
    from keras.layers import BatchNormalization, Dense, ReLU
    return ReLU()(BatchNormalization()(Dense(8, use_bias=False)(x)))


inputs = keras.Input((16,))
model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(body(stem(inputs))))
"""


@pytest.mark.parametrize("source, expected", [
    (TRY_IMPORTS, "BatchNormalization()(x)"),  # imported in both branches of the try
    (TRY_IMPORTS.replace("import Dense, ReLU", "import BatchNormalization, Dense, ReLU"),
     "BatchNormalization()(x)"),  # imported there already: not added a second time
    (LOCAL_IMPORTS, "keras.layers.BatchNormalization()("),  # imported in another function only
], ids=["try-except", "try-except-imported", "local"])
def test_an_inserted_layer_is_named_where_the_file_can_reach_it(tmp_path, source, expected):
    """The BN was written as a bare `BatchNormalization` that nothing imported there: NameError."""
    path = tmp_path / "m.py"
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))  # (BN001's fix is unsafe)
    assert result.returncode == 0, result.stdout + result.stderr
    fixed = path.read_text()
    assert expected in fixed
    assert all(line.count("BatchNormalization") <= 1 for line in fixed.splitlines() if "import" in line)
    (model,) = keras_models([path])[str(path)]  # it builds
    assert [layer["class_name"] for layer in model["layers"]].count("BatchNormalization") == 2


def test_a_batchnorm_moved_after_its_activation_gives_the_layer_before_it_its_bias_back(tmp_path):
    """BN001 inserts a BN and drops the bias; BN002 then moves that BN after the ReLU (the model's
    majority): the bias was left removed, with nothing cancelling it."""
    source = """\
import keras
from keras import layers

inputs = keras.Input((16,))
x = layers.Dense(8, name="first")(inputs)
x = layers.ReLU()(x)
x = layers.Dense(8)(x)
x = layers.ReLU()(x)
x = layers.BatchNormalization()(x)
x = layers.Dense(8)(x)
x = layers.ReLU()(x)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))
"""
    path = tmp_path / "m.py"
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert result.returncode == 0, result.stdout
    (model,) = keras_models([path])[str(path)]
    classes = [layer["class_name"] for layer in model["layers"]]
    assert classes[1:4] == ["Dense", "ReLU", "BatchNormalization"]  # the new BN follows the ReLU
    assert model["layers"][1]["config"].get("use_bias", True) is True


def test_a_parameter_default_that_is_a_name_is_followed_to_its_literal(tmp_path):
    """`def conv_bn(x, momentum=BN_MOMENTUM)`: declined, "`BN_MOMENTUM` is also used in def conv_bn(...)"."""
    source = """\
import keras
from keras import layers

BN_MOMENTUM = 0.1


def conv_bn(x, momentum=BN_MOMENTUM):
    x = layers.Dense(8, use_bias=False)(x)
    return layers.BatchNormalization(momentum=momentum)(x)


inputs = keras.Input((16,))
model = keras.Model(inputs, conv_bn(inputs))
"""
    path = tmp_path / "m.py"
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))  # (BN006's fix is unsafe)
    assert result.returncode == 0, result.stdout
    assert path.read_text() == source.replace("BN_MOMENTUM = 0.1", "BN_MOMENTUM = 0.9")
    (model,) = keras_models([path])[str(path)]
    assert [layer["config"]["momentum"] for layer in model["layers"] if "momentum" in layer["config"]] == [0.9]


def test_a_comment_line_after_a_moved_list_element_stays_where_it_was(tmp_path):
    """In a Sequential list the comment above the BN belonged to the Dropout's comma, and went with it."""
    source = """\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input((16,)),
    layers.Dense(8, use_bias=False),
    layers.Dropout(0.2),
    # the normalisation
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dense(2, activation="softmax"),
])
"""
    path = tmp_path / "m.py"
    path.write_text(source)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", str(path))
    assert result.returncode == 0, result.stdout
    assert path.read_text() == source.replace(
        "    layers.Dropout(0.2),\n    # the normalisation\n    layers.BatchNormalization(),\n",
        "    # the normalisation\n    layers.BatchNormalization(),\n    layers.Dropout(0.2),\n")


def test_a_check_shows_a_sublayer_applied_twice_as_not_fixable(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("""\
import keras
from keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.d1 = layers.Dense(8, use_bias=False)
        self.bn1 = layers.BatchNormalization()
        self.d2 = layers.Dense(8, use_bias=False)
        self.drop = layers.Dropout(0.2)
        self.bn2 = layers.BatchNormalization()

    def call(self, x):
        x = self.drop(keras.ops.relu(self.bn1(self.d1(x))))
        x = self.drop(self.d2(x))
        return keras.ops.relu(self.bn2(x))
""")
    checked = run_bnlint("check", "--no-cache", str(path))
    assert "`self.drop` is used in 2 places" in checked.stdout and "fixable" not in checked.stdout, checked.stdout


@pytest.mark.parametrize(("line", "fixed"), [
    ("x = layers.Dense(8, use_bias=False)(inputs); x = layers.Dropout(0.2)(x); x = layers.BatchNormalization()(x)",
     "x = layers.Dense(8, use_bias=False)(inputs); x = layers.Dropout(0.2)(layers.BatchNormalization()(x))"),
    ("x = layers.Dropout(0.2)(x); x = layers.BatchNormalization()(x);",
     "x = layers.Dropout(0.2)(layers.BatchNormalization()(x));"),
])
def test_a_statement_whose_layer_moved_leaves_no_self_assignment_on_a_line_of_several(line, fixed):
    """A moved layer's `x = Dropout(0.2)(x)` is `x = x` afterwards: on a line of its own the line goes,
    and among other statements on a `;`-separated line only that statement does."""
    source = ("import keras\nfrom keras import layers\n\ninputs = keras.Input((16,))\n"
              "x = layers.Dense(8, use_bias=False)(inputs)\n{}\n"
              "model = keras.Model(inputs, layers.Dense(2)(layers.ReLU()(x)))\n")
    if line.startswith("x = layers.Dense"):
        source = source.replace("x = layers.Dense(8, use_bias=False)(inputs)\n", "")
    text, remaining = bnlint.fix_source(source.format(line), unsafe=True)
    assert text == source.format(fixed) and remaining == []


def test_the_comment_after_a_last_argument_or_imported_name_stays_on_its_line():
    """A name added after the last item of a bracket whose comment sits before the closing bracket
    comes on a line of its own: the comment stays with the item it was written after."""
    call = """\
import keras
from keras import layers

inputs = keras.Input((16,))
x = layers.Dense(
    8,
    activation=None  # linear
)(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(2)(layers.ReLU()(x)))
"""
    text, _ = bnlint.fix_source(call)
    assert text == call.replace("    activation=None  # linear\n",
                                "    activation=None,  # linear\n    use_bias=False\n")
    imported = """\
import keras
from keras.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Input,
    ReLU  # activations
)

inputs = Input((8, 8, 3))
x = ReLU()(BatchNormalization()(Conv2D(4, 3, use_bias=False)(inputs)))
x = ReLU()(BatchNormalization()(Conv2D(4, 3, use_bias=False)(x)))
x = BatchNormalization()(Conv2D(4, 3, activation="relu")(x))
model = keras.Model(inputs, Dense(2)(x))
"""
    text, _ = bnlint.fix_source(imported, unsafe=True)
    assert "    ReLU,  # activations\n    Activation\n)\n" in text, text
    assert 'x = Activation("relu")(x)\nmodel' in text, text


def test_a_layer_is_not_moved_after_a_call_that_makes_layers_the_finding_does_not_cover():
    """A BN moved before the activation a helper called twice returns would land in both calls."""
    source = """\
import keras
from keras import layers


def conv_relu(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    return layers.Activation("relu")(x)


inputs = keras.Input((32, 32, 3))
x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(8, 3, use_bias=False)(inputs)))
x = conv_relu(x, 8)
x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(8, 3, use_bias=False)(x)))
x = conv_relu(x, 16)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling2D()(x)))
"""
    text, remaining = bnlint.fix_source(source, select="BN002", unsafe=True)
    assert text == source
    [finding] = remaining
    assert finding.fix is None and "the call it would go after makes 2 layers" in finding.unfixable, finding


def test_diff_of_a_file_whose_name_has_a_space_applies_with_patch(tmp_path):
    import shutil

    source = "from keras import layers, Sequential\nmodel = Sequential([layers.Dense(8), layers.BatchNormalization()])\n"
    for name in ("sp ace.py", "fixed.py"):
        (tmp_path / name).write_text(source)
    diff = subprocess.run([sys.executable, "-m", "bnlint", "check", "--no-cache", "--diff", "sp ace.py"],
                          cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert diff.returncode == 1 and b"--- a/sp ace.py\t\n+++ b/sp ace.py\t\n" in diff.stdout  # (as git ends it)
    assert run_bnlint("check", "--no-cache", "--fix", "fixed.py", cwd=tmp_path).returncode == 0
    if shutil.which("patch") is None:
        pytest.skip("no patch(1) on this machine to apply the diff with")
    subprocess.run(["patch", "-p1"], input=diff.stdout, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    assert (tmp_path / "sp ace.py").read_text() == (tmp_path / "fixed.py").read_text() != source


_BUILD = """\
import keras
from keras import layers


def build(use_bn=True, use_dropout=True):
    inputs = keras.Input((16, 16, 3))
    x = inputs
{body}    return keras.Model(inputs, x)
"""


@pytest.mark.parametrize(("code", "body", "construct"), [
    ("BN003", "x = layers.Dropout(0.5)(x)\nif use_bn:\n    x = layers.BatchNormalization()(x)\n", "an `if` (line 9)"),
    ("BN003", "if use_dropout:\n    x = layers.Dropout(0.5)(x)\nx = layers.BatchNormalization()(x)\n",
     "an `if` (line 8)"),
    ("BN009", "x = layers.Conv2D(8, 3, use_bias=False)(x)\nif use_bn:\n    x = layers.BatchNormalization()(x)\n"
     "x = layers.MaxPooling2D()(x)\nx = layers.BatchNormalization()(x)\n", "an `if` (line 9)"),
    ("BN004", "x = layers.Conv2D(8, 3)(x)\nx = layers.BatchNormalization()(x) if use_bn else x\n",
     "a conditional expression (line 9)"),
    ("BN004", "x = layers.Conv2D(8, 3)(x)\nfor _ in range(2 if use_bn else 0):\n"
     "    x = layers.BatchNormalization()(x)\n", "a `for` loop (line 9)"),
    ("BN002", "x = layers.Conv2D(8, 3, activation='relu', use_bias=False)(x)\ntry:\n"
     "    x = layers.BatchNormalization()(x)\nexcept ValueError:\n    pass\n", "a `try` (line 9)"),
    ("BN004", "x = layers.Conv2D(8, 3)(x)\nmatch 'bn' if use_bn else 'ln':\n    case 'bn':\n"
     "        x = layers.BatchNormalization()(x)\n    case _:\n        x = layers.LayerNormalization()(x)\n",
     "a `match` (line 9)"),
])
def test_a_fix_whose_layers_an_if_or_loop_holds_only_in_part_is_withdrawn(tmp_path, code, body, construct):
    """`if use_bn:` around the BN and not the layer the fix edits or moves: the analysis follows one way,
    and the fix would change the model built the other way (a conv losing its bias with no BN after it,
    a dropout moved into the `if`, the unconditional BN removed)."""
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nbn-position = "before-activation"\n')
    path = tmp_path / "m.py"
    original = _BUILD.format(body=textwrap.indent(body, "    "))
    path.write_text(original)
    checked = run_bnlint("check", "--no-cache", "--unsafe-fixes", "--select", code, "m.py", cwd=tmp_path)
    assert f"(not fixed: {construct} holds some of the layers this fix edits or rests on and not the others" in (
        checked.stdout), checked.stdout
    assert "fixable" not in checked.stdout
    fixed = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", code, "m.py", cwd=tmp_path)
    assert fixed.returncode == 1 and path.read_text() == original, fixed.stdout


def test_a_fix_whose_layers_share_their_if_is_made_and_keras_agrees(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(_BUILD.format(body=textwrap.indent(
        "if use_bn:\n    x = layers.Conv2D(8, 3)(x)\n    x = layers.Dropout(0.5)(x)\n"
        "    x = layers.BatchNormalization()(x)\n", "    ")) + "\nmodel = build()\n")
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "BN003", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "        x = layers.BatchNormalization()(x)\n        x = layers.Dropout(0.5)(x)\n" in path.read_text()
    (model,) = keras_models([path])[str(path)]
    assert [layer["class_name"] for layer in model["layers"]][-2:] == ["BatchNormalization", "Dropout"]


@pytest.mark.parametrize("where", ["init", "call"])
def test_a_sublayer_fix_counts_the_if_where_the_sublayer_is_made_or_applied(tmp_path, where):
    guard_init, guard_call = ("if use_bn:\n            ", "") if where == "init" else ("", "if use_bn:\n            ")
    path = tmp_path / "m.py"
    original = f"""\
import keras
from keras import layers


class Block(layers.Layer):
    def __init__(self, use_bn=True):
        super().__init__()
        self.use_bn = use_bn
        self.conv = layers.Conv2D(8, 3)
        {guard_init}self.bn = layers.BatchNormalization()

    def call(self, x, use_bn=True):
        x = self.conv(x)
        {guard_call}x = self.bn(x)
        return x


model = keras.Sequential([keras.Input((16, 16, 3)), Block()])
"""
    path.write_text(original)
    result = run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path)
    line = 10 if where == "init" else 14
    assert f"(not fixed: an `if` (line {line}) holds some of the layers" in result.stdout, result.stdout
    assert path.read_text() == original


_CONV_BLOCK = """\
import keras
from keras import layers


class ConvBlock(layers.Layer):
    def __init__(self, filters, norm=layers.BatchNormalization):
        super().__init__()
        self.conv = layers.Conv2D(filters, 3, padding="same")
        self.norm = norm()

    def call(self, x):
        return self.norm(self.conv(x))


model = keras.Sequential([keras.Input((16, 16, 3)), {blocks}])
"""


def test_a_class_made_again_with_arguments_the_fix_does_not_hold_for_keeps_its_bias(tmp_path):
    """bnlint reads a subclassed layer with the arguments the file first makes it with; the second
    `ConvBlock` has a LayerNormalization after its conv (which does not cancel a per-channel bias), and
    `use_bias=False` in the class would have removed that bias too."""
    path = tmp_path / "m.py"
    original = _CONV_BLOCK.format(blocks="ConvBlock(8), ConvBlock(8, norm=layers.LayerNormalization)")
    path.write_text(original)
    result = run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path)
    assert ("(not fixed: `ConvBlock` is also made with other arguments, and there this finding does not hold "
            "for `conv2d`, which an edit of the class would change too)") in result.stdout, result.stdout
    assert result.returncode == 1 and path.read_text() == original
    graphs = json.loads(run_bnlint("graph", "m.py", "--format", "json", cwd=tmp_path).stdout)
    assert [graph["name"] for graph in graphs] == ["sequential", "conv_block"]  # (the second reading is not a model)


def test_a_class_made_again_with_arguments_that_keep_its_structure_is_fixed_and_keras_agrees(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(_CONV_BLOCK.format(blocks="ConvBlock(8), ConvBlock(16), ConvBlock(32)"))
    result = run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert 'layers.Conv2D(filters, 3, padding="same", use_bias=False)' in path.read_text()
    probe = ("import runpy, sys, numpy; model = runpy.run_path(sys.argv[1])['model']; "
             "print([layer.conv.use_bias for layer in model.layers], model(numpy.zeros((1, 16, 16, 3))).shape)")
    built = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=600,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert built.stdout.splitlines()[-1] == "[False, False, False] (1, 16, 16, 32)", built.stderr[-2000:]


def test_a_layer_shared_by_a_model_where_the_finding_does_not_hold_keeps_its_bias(tmp_path):
    """One `shared = Dense(32)` object: a BN follows it in `model_a`, a ReLU in `model_b`. BN004 holds in
    `model_a` only, and `use_bias=False` on the one constructor call would have changed `model_b` too."""
    path = tmp_path / "m.py"
    original = """\
import keras
from keras import layers

shared = layers.Dense(32)

a = keras.Input((16,))
model_a = keras.Model(a, layers.Dense(1)(layers.BatchNormalization()(shared(a))), name="model_a")

b = keras.Input((16,))
model_b = keras.Model(b, layers.Dense(1)(layers.ReLU()(shared(b))), name="model_b")
"""
    path.write_text(original)
    result = run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path)
    assert ("(not fixed: the layer is also applied in `model_b`, where this finding does not hold, and an edit of "
            "its call would change it there too)") in result.stdout, result.stdout
    assert result.returncode == 1 and path.read_text() == original
    # Without the second model, the same finding is fixed.
    path.write_text(original.split("\nb = ")[0])
    assert run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path).returncode == 0
    assert "shared = layers.Dense(32, use_bias=False)" in path.read_text()


_OWN_BATCHNORM = """\
import keras
from keras.layers import Conv2D, ReLU, Input, GlobalAveragePooling2D, Dense


class BatchNormalization(keras.layers.BatchNormalization):
    \"\"\"Frozen: always in inference mode.\"\"\"

    def call(self, x, training=None):
        return super().call(x, training=False)


inputs = Input((16, 16, 3))
x = Conv2D(8, 3, use_bias=False)(inputs)
x = BatchNormalization()(x)
x = ReLU()(x)
x = Conv2D(8, 3)(x)
x = ReLU()(x)
x = Conv2D(8, 3)(x)
x = ReLU()(x)
x = Conv2D(8, 3, use_bias=False)(x)
x = BatchNormalization()(x)
x = ReLU()(x)
x = GlobalAveragePooling2D()(x)
model = keras.Model(inputs, Dense(10, activation="softmax")(x))
"""


def test_an_inserted_batchnorm_is_keras_own_where_the_file_defines_a_class_of_that_name(tmp_path):
    """The file's frozen `class BatchNormalization` shadows an imported name: BN001 added
    `BatchNormalization` to the `from keras.layers import` line, and the inserted BN was the frozen one."""
    path = tmp_path / "m.py"
    path.write_text(_OWN_BATCHNORM)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "BN001", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    text = path.read_text()
    assert "from keras.layers import Conv2D, ReLU, Input, GlobalAveragePooling2D, Dense\n" in text
    assert "x = Conv2D(8, 3, use_bias=False)(x)\nx = keras.layers.BatchNormalization()(x)\n" in text
    probe = ("import runpy, sys; model = runpy.run_path(sys.argv[1])['model']; "
             "print([type(layer).__module__.split('.')[0] for layer in model.layers if 'Normalization' in "
             "type(layer).__name__])")
    built = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=600,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert built.stdout.splitlines()[-1] == "['<run_path>', 'keras', '<run_path>']", built.stderr[-2000:]


def test_a_value_two_fixes_follow_is_declined_for_both_with_the_use_that_stops_it(tmp_path):
    """The second BN's reason named the first BN's `momentum=MOMENTUM`, which only the first trail's
    own decline (the optimizer's use) had taken off the pass."""
    path = tmp_path / "m.py"
    original = """\
import keras
from keras import layers

MOMENTUM = 0.1
model = keras.Sequential([
    layers.Input((16,)),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(momentum=MOMENTUM),
    layers.ReLU(),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(momentum=MOMENTUM),
    layers.ReLU(),
    layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.SGD(momentum=MOMENTUM), loss="mse")
"""
    path.write_text(original)
    result = run_bnlint("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "BN006", "m.py", cwd=tmp_path)
    assert result.returncode == 1 and path.read_text() == original
    reason = "`MOMENTUM` is also used in `model.compile(optimizer=keras.optimizers.SGD(momentum=MOM...`)"
    assert result.stdout.count(reason) == 2, result.stdout


_HELPER = """\
import keras
from keras import layers


def conv(x, filters):
    return layers.Conv2D(filters, 3, padding="same")(x)


def build(use_bn=True):
    inputs = keras.Input((16, 16, 3))
    x = inputs
{body}    return keras.Model(inputs, x)


model = build()
"""


@pytest.mark.parametrize(("body", "fixed"), [
    ("for filters in (8, 16):\n    x = conv(x, filters)\n    x = layers.BatchNormalization()(x)\n", True),
    ("x = layers.BatchNormalization()(conv(x, 8))\nif use_bn:\n    x = conv(x, 16)\n"
     "    x = layers.BatchNormalization()(x)\n", True),
    ("x = conv(x, 8)\nif use_bn:\n    x = layers.BatchNormalization()(x)\n", False),
])
def test_a_helper_made_layer_counts_where_its_caller_calls_the_helper(tmp_path, body, fixed):
    """A helper makes the conv, the caller adds the BN: the conv stands where the helper is called. A BN
    after each call, in the call's own branch, keeps the fix (it was withdrawn for the loop around both);
    a BN in an `if` the call is not in withdraws it."""
    path = tmp_path / "m.py"
    original = _HELPER.format(body=textwrap.indent(body, "    "))
    path.write_text(original)
    result = run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path)
    assert ("holds some of the layers" in result.stdout) is not fixed, result.stdout
    assert (path.read_text() != original) is fixed
    if fixed:
        (model,) = keras_models([path])[str(path)]
        assert {layer["config"].get("use_bias") for layer in model["layers"] if layer["class_name"] == "Conv2D"} == {
            False}


@pytest.mark.parametrize(("blocks", "fixed"), [
    ("ConvBlock(8), ConvBlock(16), ConvBlock(24), ConvBlock(32), ConvBlock(48, norm=layers.LayerNormalization)", False),
    (", ".join(f"ConvBlock({filters})" for filters in (8, 16, 24, 32, 48, 64)), True),
])
def test_a_class_made_with_more_argument_sets_than_are_read_one_by_one_is_read_with_them_unknown(
        tmp_path, blocks, fixed):
    """Past three other argument sets, a class is read once more with every argument the others pass
    unknown: the fifth `ConvBlock`'s LayerNormalization got the fix of the first four."""
    path = tmp_path / "m.py"
    original = _CONV_BLOCK.format(blocks=blocks)
    path.write_text(original)
    result = run_bnlint("check", "--no-cache", "--fix", "--select", "BN004", "m.py", cwd=tmp_path)
    assert ("`ConvBlock` is also made with other arguments" in result.stdout) is not fixed, result.stdout
    assert (path.read_text() != original) is fixed
