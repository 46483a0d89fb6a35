"""The bundled fixture models are real Keras code with well-formed expectations.

Every file in fixtures/models/ is executed in one subprocess (importing
TensorFlow costs seconds, so it is done once) and must build at least one
keras.Model; a notebook's code cells are run as one script, less their
IPython-only lines. The `# expect: BNxxx` markers that tests/test_fixtures.py
compares bnlint's findings against are checked here for shape: known codes,
only in bad files, and every rule has several bad fixtures.
"""

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from bnlint.engine import all_rules

FIXTURES = Path(__file__).parent.parent / "fixtures" / "models"
FILES = sorted(FIXTURES.glob("*.py"))
NOTEBOOKS = sorted(FIXTURES.glob("*.ipynb"))
CODES = set(all_rules())
MARKER = re.compile(r"#\s*expect:(.*)$")

# Runs in the subprocess: argv = [fixtures_dir, result_json_path].
BUILD_ALL = r'''
import json, re, runpy, sys, tempfile, traceback, warnings
from pathlib import Path

import keras
import tensorflow as tf

warnings.simplefilter("ignore")
fixtures, result_path = Path(sys.argv[1]), Path(sys.argv[2])

# Keras 2 (tf_keras) wraps TF ops applied to symbolic tensors, such as
# `x = tf.nn.relu(x)`, in TFOpLambda layers; Keras 3 rejects them. tf_keras is
# not installed, so its fixtures run on Keras 3 with these unary tf.nn
# activations routed to keras.ops when given a KerasTensor.
KERAS2_OPS = {"relu": "relu", "relu6": "relu6", "elu": "elu", "selu": "selu",
              "silu": "silu", "swish": "silu", "sigmoid": "sigmoid"}

def keras2_op(tf_fn, keras_fn):
    def op(x, *args, **kwargs):
        if isinstance(x, keras.KerasTensor) and not args and not kwargs:
            return keras_fn(x)
        return tf_fn(x, *args, **kwargs)
    return op

originals = {name: getattr(tf.nn, name) for name in KERAS2_OPS}
keras2 = {name: keras2_op(originals[name], getattr(keras.ops, k3))
          for name, k3 in KERAS2_OPS.items()}

results = []
with tempfile.TemporaryDirectory() as tmp:
    for path in sorted(fixtures.glob("*.py")) + sorted(fixtures.glob("*.ipynb")):
        source = path.read_text()
        legacy = re.search(r"\btf_keras\b", source) is not None
        run = path
        if path.suffix == ".ipynb":  # its code cells, as IPython runs them, less the IPython-only lines
            cells = ["".join(cell["source"]) for cell in json.loads(source)["cells"] if cell["cell_type"] == "code"]
            run = Path(tmp) / (path.stem + ".py")
            run.write_text("\n".join(line for cell in cells for line in cell.splitlines()
                                     if not line.lstrip().startswith(("%", "!"))))
        elif legacy:
            run = Path(tmp) / path.name
            run.write_text(re.sub(r"\btf_keras\b", "keras", source))
            for name, fn in keras2.items():
                setattr(tf.nn, name, fn)
        entry = {"file": path.name, "error": None, "models": [], "unbuilt": []}
        try:
            namespace = runpy.run_path(str(run))
            for var, value in namespace.items():
                if isinstance(value, keras.Model):
                    entry["models"].append(var)
                    if not value.built:
                        entry["unbuilt"].append(var)
        except BaseException as exc:
            frames = [f"line {f.lineno}: {f.line}\n"
                      for f in traceback.extract_tb(exc.__traceback__)
                      if f.filename == str(run)]
            entry["error"] = "".join(frames[-1:] + traceback.format_exception_only(exc))
        finally:
            for name, fn in originals.items():
                setattr(tf.nn, name, fn)
            keras.config.set_image_data_format("channels_last")  # a fixture may set it for its program
        results.append(entry)
result_path.write_text(json.dumps(results))
'''


def markers(path):
    """{line: [codes]} from `# expect:` comments (real comments, not strings)."""
    found = {}
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            match = MARKER.search(tok.string)
            if match:
                codes = [c.strip() for c in match.group(1).split(",")]
                found[tok.start[0]] = codes
    return found


def test_fixture_set_is_present():
    good = [path for path in FILES if path.name.startswith("good_")]
    assert len(good) >= 3 * len(CODES) // 2 and len(FILES) - len(good) >= 3 * len(CODES), len(FILES)


def test_each_rule_has_several_bad_fixtures():
    files_per_code = {code: 0 for code in CODES}
    multi_code_files = 0
    for path in FILES:
        codes = {c for line in markers(path).values() for c in line}
        for code in codes & CODES:
            files_per_code[code] += 1
        multi_code_files += len(codes) >= 2
    assert all(n >= 3 for n in files_per_code.values()), files_per_code
    assert multi_code_files >= 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_markers_are_well_formed(path):
    found = markers(path)
    if path.name.startswith("good_"):
        assert not found, f"{path.name}: a good_ file carries markers {found}"
        return
    assert found, f"{path.name}: neither `# expect:` markers nor a good_ name"
    for line, codes in found.items():
        for code in codes:
            assert code in CODES, f"{path.name}:{line}: unknown code {code!r}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_says_what_it_shows(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and "\n" not in doc, f"{path.name}: needs a one-line docstring"


def test_every_fixture_builds_a_keras_model(tmp_path):
    result_path = tmp_path / "results.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    proc = subprocess.run(
        [sys.executable, "-c", BUILD_ALL, str(FIXTURES), str(result_path)],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        f"fixture build subprocess failed (is TensorFlow installed?):\n"
        f"{proc.stderr[-4000:]}")
    results = json.loads(result_path.read_text())
    assert [r["file"] for r in results] == [p.name for p in FILES + NOTEBOOKS] and NOTEBOOKS
    problems = []
    for r in results:
        if r["error"]:
            problems.append(f"{r['file']}: raised\n{r['error']}")
        elif not r["models"]:
            problems.append(f"{r['file']}: builds no keras.Model")
        elif r["unbuilt"]:
            problems.append(f"{r['file']}: models not built: {r['unbuilt']}")
    assert not problems, "\n".join(problems)
