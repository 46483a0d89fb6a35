"""The lint path never imports TensorFlow or Keras (nor libcst and networkx, which it does not need)."""

from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES, ROOT

PROBE = """
import sys
from bnlint.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "libcst", "networkx"))
print(heavy)
"""


def test_check_leaves_heavy_modules_unimported():
    files = [str(p) for p in sorted(FIXTURES.glob("*.py"))]
    result = subprocess.run([sys.executable, "-c", PROBE, "check", *files], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr
