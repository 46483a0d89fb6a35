"""The README's CI recipes: the pre-commit one runs with real pre-commit; the GitHub one is checked and its
bnlint command lines are run on the fixtures (a GitHub runner cannot run here)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, ROOT, run_bnlint
from test_precommit import BAD, IDENTITY, git, hook_repository
from test_reporters import parse_annotation, sarif_errors


def recipe_blocks() -> list[str]:
    """The YAML blocks of the README's "CI and pre-commit recipes" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## CI and pre-commit recipes\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```yaml\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def recipe(key: str) -> dict:
    (block,) = [block for block in recipe_blocks() if re.search(rf"^{key}:", block, flags=re.MULTILINE)]
    return yaml.safe_load(block)


@pytest.fixture(scope="module")
def workflow() -> dict:
    return recipe("jobs")


def steps_of(workflow: dict) -> list[dict]:
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    return job["steps"]


def bnlint_lines(step: dict) -> list[list[str]]:
    """The bnlint command lines a step runs, as argument lists."""
    return [shlex.split(line) for line in step.get("run", "").splitlines() if line.strip().startswith("bnlint ")]


def option(arguments: list[str], name: str) -> str | None:
    return arguments[arguments.index(name) + 1] if name in arguments else None


def test_github_workflow_steps_fit_together(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    assert workflow["permissions"]["security-events"] == "write"
    steps = steps_of(workflow)
    uses = [step["uses"].split("@")[0] for step in steps if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif"]
    assert all("@v" in step["uses"] for step in steps if "uses" in step)  # pinned to a release
    install = next(step["run"] for step in steps if "pip install" in step.get("run", ""))
    assert re.search(r'"bnlint @ git\+https://\S+@v\d', install)
    upload_index, upload = next((i, s) for i, s in enumerate(steps) if s.get("uses", "").startswith(
        "github/codeql-action/upload-sarif@"))
    sarif_index, sarif_step = next(
        (i, s) for i, s in enumerate(steps) for line in bnlint_lines(s) if option(line, "--output-format") == "sarif")
    (sarif_line,) = bnlint_lines(sarif_step)
    assert sarif_index < upload_index
    assert upload["with"]["sarif_file"] == option(sarif_line, "--output-file")
    # The upload must happen even when there are findings: the SARIF step may not fail the job.
    assert "--exit-zero" in sarif_line or upload.get("if") in ("always()", "success() || failure()")
    annotations = [line for s in steps for line in bnlint_lines(s) if option(line, "--output-format") == "github"]
    assert len(annotations) == 1
    gate = bnlint_lines(steps[-1])
    assert len(gate) == 1 and "--exit-zero" not in gate[0] and option(gate[0], "--output-format") in (None, "text")


def run_recipe_line(arguments: list[str], checkout: Path) -> subprocess.CompletedProcess:
    assert arguments[0] == "bnlint"
    return run_bnlint(*arguments[1:], cwd=checkout)


def test_github_workflow_commands_run_on_the_fixtures(workflow, tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(FIXTURES, checkout / "models")
    shutil.copytree(ROOT / "fixtures" / "saved", checkout / "saved")
    expected = json.loads(run_bnlint("check", ".", "--output-format", "json", cwd=checkout).stdout)
    assert len(expected) > 30
    lines = [line for step in steps_of(workflow) for line in bnlint_lines(step)]
    assert len(lines) == 3
    for arguments in lines:
        result = run_recipe_line(arguments, checkout)
        fmt = option(arguments, "--output-format")
        if fmt == "sarif":
            assert (result.returncode, result.stdout) == (0, "")
            log = json.loads((checkout / option(arguments, "--output-file")).read_text())
            assert sarif_errors(log) == []
            assert [r["ruleId"] for r in log["runs"][0]["results"]] == [f["code"] for f in expected]
        elif fmt == "github":
            assert result.returncode == 0
            parsed = [parse_annotation(line) for line in result.stdout.splitlines()]
            assert [props["title"].split()[0] for props, _ in parsed] == [f["code"] for f in expected]
            assert all(not props["file"].startswith("/") for props, _ in parsed)
        else:  # the gate
            assert result.returncode == 1
            assert result.stdout.splitlines()[-3].startswith(f"Found {len(expected)} findings")


def test_github_gate_passes_on_clean_code(workflow, tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for path in FIXTURES.glob("good_*.py"):
        shutil.copy(path, checkout / path.name)
    (gate,) = bnlint_lines(steps_of(workflow)[-1])
    result = run_recipe_line(gate, checkout)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("All checks passed")


def test_precommit_recipe_runs_with_real_pre_commit(tmp_path):
    config = recipe("repos")
    (repository,) = config["repos"]
    assert [hook["id"] for hook in repository["hooks"]] == ["bnlint"]
    hooks = tmp_path / "bnlint-hook"
    hooks.mkdir()
    hook_repository(hooks)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True, check=True).stdout
    # The README's configuration, with `repo`/`rev` pointing at a copy of this checkout.
    repository["repo"], repository["rev"] = str(hooks), head.strip()
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    (project / "model.py").write_text(BAD)
    git("add", ".", cwd=project)
    pre_commit = Path(sys.executable).parent / "pre-commit"
    env = {**os.environ, **IDENTITY, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    command = [str(pre_commit), "run", "--all-files"]
    failing = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "model.py:2:38: BN003 [dropout-before-batchnorm]" in failing.stdout
    (project / "model.py").write_text(BAD.replace("layers.Dense(8), layers.Dropout(0.5), layers.BatchNormalization()",
                                                  "layers.Dense(8, use_bias=False), layers.BatchNormalization(), "
                                                  "layers.Dropout(0.5)"))
    git("add", ".", cwd=project)
    passing = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert re.search(r"^bnlint\.+Passed$", passing.stdout, flags=re.MULTILINE)
