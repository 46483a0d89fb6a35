"""Shared helpers: the ``# expect: CODE`` convention used by rule examples and fixtures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "models"

# A small model with two findings (BN003, BN006), and its corrected form.
BAD = """\
from keras import layers, Sequential
model = Sequential([
    layers.Dense(8),
    layers.Dropout(0.5),
    layers.BatchNormalization(momentum=0.1),
])
"""
GOOD = """\
from keras import layers, Sequential
model = Sequential([layers.Dense(8, use_bias=False), layers.BatchNormalization(), layers.Dropout(0.5)])
"""

_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def expected_findings(text: str) -> set[tuple[int, str]]:
    """``(line, code)`` for every ``# expect: CODE[, CODE]`` marker in *text*."""
    found = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            for code in match.group("codes").split(","):
                found.add((number, code.strip()))
    return found


def run_bnlint(*args: str, cwd: Path | None = None, env: dict | None = None,
               stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed command line in a subprocess (as a user would), *stdin* on its standard input."""
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def write(tmp_path: Path):
    """Write a file under a fresh directory: ``write("a.py", text) -> Path``."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    return _write
