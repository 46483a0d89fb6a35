"""The lint path never imports TensorFlow, Keras or KerasTuner (nor libcst and networkx, which it does not need)."""

from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES, ROOT

PROBE = """
import sys
from bnlint.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "keras_tuner", "libcst", "networkx"))
print(heavy)
"""


def test_check_leaves_heavy_modules_unimported():
    files = [str(p) for p in sorted(FIXTURES.glob("*.py"))]
    result = subprocess.run([sys.executable, "-c", PROBE, "check", *files], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr


API_PROBE = """
import sys
import bnlint
after_import = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
graphs = bnlint.load(sys.argv[1])
graphs[0].insert_after("conv", "BatchNormalization")
graphs[0].set_config("bn_momentum", momentum=0.9)
graphs[0].remove("dropout")
found = bnlint.check(graphs) + bnlint.check(sys.argv[1]) + bnlint.check(sys.argv[2])
import bnlint.adapt
print(after_import)
print(sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in HEAVY}), len(found) > 0)
""".replace("HEAVY", repr(("tensorflow", "keras", "tf_keras", "keras_tuner", "libcst", "networkx")))


def test_api_without_a_live_model_leaves_tensorflow_unimported():
    saved = ROOT / "fixtures" / "saved" / "functional_bias_dropout_momentum.keras"
    source = FIXTURES / "sequential_list_dropout_before_bn.py"
    result = subprocess.run([sys.executable, "-c", API_PROBE, str(saved), str(source)],
                            capture_output=True, text=True, cwd=ROOT)
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["[]", "[] True"], result.stderr


ONE_FILE_PROBE = """
import sys
from bnlint.cli import main
code = main(["check", "--no-cache", sys.argv[1]])
print(code, sorted(m for m in ("typing", "dataclasses", "inspect", "multiprocessing", "pkgutil", "tomllib")
                   if m in sys.modules))
"""


def test_cold_one_file_check_imports_no_module_it_can_do_without(tmp_path):
    """A pre-commit run checks a file or two uncached: start-up is most of its time.

    typing, dataclasses and inspect (about 15 ms together) are replaced by
    bnlint.records and string annotations, and the worker pool is bnlint's
    own (bnlint.forking: no multiprocessing, even for many files). A
    project's pyproject.toml that does not configure bnlint is passed over
    without tomllib (which imports typing); one that does is parsed.
    """
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "models"\n', encoding="utf-8")
    source = tmp_path / "model.py"
    source.write_text((FIXTURES / "sequential_list_dropout_before_bn.py").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", ONE_FILE_PROBE, str(source)], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.stdout.splitlines()[-1] == "1 []", result.stderr


def test_no_import_line_names_tensorflow_or_keras():
    """The reviewers' check, `python -X importtime -m bnlint check fixtures/ 2>&1 | grep -E "tensorflow|keras"`,
    on the import lines (the findings on standard output name `.keras` files and `keras.ops.relu`).

    bnlint's own modules are named so that only an import of TensorFlow or Keras would match.
    """
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bnlint", "check", "--no-cache",
                             str(ROOT / "fixtures")], capture_output=True, text=True, cwd=ROOT)
    imports = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert len(imports) > 50 and any("bnlint.readers.builder" in line for line in imports), result.stderr[-2000:]
    assert [line for line in imports if "tensorflow" in line or "keras" in line] == []
