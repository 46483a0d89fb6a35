"""The pre-commit hook, run by the real pre-commit framework against a throwaway repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

BAD = """\
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.Dropout(0.5), layers.BatchNormalization()])
"""


IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **IDENTITY})


def hook_repository(destination: Path) -> Path:
    """A git repository holding this checkout's package, as pre-commit would clone it."""
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, destination / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("bnlint", "rules"):
        shutil.copytree(ROOT / name, destination / name, symlinks=True, ignore=ignore)
    git("init", "-q", cwd=destination)
    git("add", ".", cwd=destination)
    git("commit", "-q", "-m", "hook under test", cwd=destination)
    return destination


def test_hook_fails_on_a_bad_model_and_prints_the_finding(tmp_path):
    pre_commit = Path(sys.executable).parent / "pre-commit"
    assert pre_commit.exists(), "pre-commit must be installed with the test extra"
    hooks = tmp_path / "bnlint-hook"
    hooks.mkdir()
    repo = tmp_path / "user-repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "model.py").write_text(BAD)
    (repo / "notes.txt").write_text("not python\n")
    # pre-commit's own file types call these Python too; the hook leaves them alone (no "not a kind of file")
    (repo / "train").write_text("#!/usr/bin/env python\n" + BAD)
    (repo / "train").chmod(0o755)
    (repo / "app.wsgi").write_text(BAD)
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": ["%matplotlib inline\n", *BAD.splitlines(keepends=True)]}
    (repo / "explore.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                    "nbformat_minor": 5}, indent=1) + "\n")
    git("add", ".", cwd=repo)
    hook_repository(hooks)
    env = {**os.environ, **IDENTITY, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    command = [str(pre_commit), "try-repo", str(hooks), "bnlint", "--all-files"]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "model.py:2:38: BN003 [dropout-before-batchnorm]" in output
    assert "explore.ipynb:cell 1:3:38: BN003 [dropout-before-batchnorm]" in output  # (types_or: jupyter)
    assert "notes.txt" not in output.split("hook id")[-1]
    assert "is not a kind of file" not in output and "app.wsgi" not in output, output
