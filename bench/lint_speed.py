"""`bnlint check` cold and warm, next to `ruff check --select ALL` cold and warm, on two trees.

* **keras.applications**: the installed `keras/src/applications` sources.
  bnlint reads each builder statically (every ResNet, EfficientNet,
  NASNet ... is interpreted with its default arguments: about 16,000 layer
  calls in 78 entry points) where ruff lints syntax.
* **1,000 model files**: generated into a temporary directory from
  `fixtures/models` (copies in 20 packages of 50, each copy tagged with a
  comment so that no two files are equal); nothing is committed.

Modes: *cold* is `bnlint check --no-cache` / `ruff check --no-cache`;
*first run* is bnlint with an empty cache (it checks and writes every
entry); *warm* reruns with the cache each tool wrote. Runs alternate
between the commands, as fresh processes, and medians are printed with
ratios to cold ruff (the issue's targets: warm bnlint no slower than cold
ruff, cold bnlint within 3x of it, on keras.applications).

    python bench/lint_speed.py [--runs 5] [--files 1000] [DIRECTORY]

DIRECTORY replaces keras.applications; `--files 0` leaves out the
generated tree. Needs `ruff` (`pip install '.[bench]'`) and Keras
installed (only to locate its sources; nothing imports it). Caches go to
temporary directories, never into the trees.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_one_file import _tool  # noqa: E402  (bench scripts share the tool lookup)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_MODELS = ROOT / "fixtures" / "models"


def applications_directory() -> Path:
    spec = importlib.util.find_spec("keras")
    if spec is None or spec.origin is None:
        raise SystemExit("bench: keras is not installed; pass a directory")
    return Path(spec.origin).parent / "src" / "applications"


def make_tree(directory: Path, count: int) -> Path:
    """*count* model files copied round-robin from the fixtures into ``directory/tree/pkg_NN/``."""
    sources = sorted(FIXTURE_MODELS.glob("*.py"))
    tree = directory / "tree"
    for i in range(count):
        source = sources[i % len(sources)]
        package = tree / f"pkg_{i // 50:02d}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"m{i:04d}_{source.name}").write_text(f"# copy {i}\n" + source.read_text(encoding="utf-8"))
    return tree


# As on a user's machine, Python may keep its bytecode cache (this development machine's shell
# disables it, which would add the compilation of bnlint's modules to every bnlint run).
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _wall(command: list[str], cwd: Path, before=None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def measure(tree: Path, work: Path, runs: int) -> dict[str, float]:
    """Median wall time of each mode on *tree*; caches live under *work*."""
    bnlint, ruff = _tool("bnlint"), _tool("ruff")
    bn_cache = work / "bnlint-run"  # bnlint writes .bnlint_cache in the current directory (no config)
    empty = work / "bnlint-empty"
    for directory in (bn_cache, empty):
        directory.mkdir(exist_ok=True)
    ruff_cache = work / "ruff-cache"

    def empty_cache() -> None:
        shutil.rmtree(empty / ".bnlint_cache", ignore_errors=True)

    modes = {
        "bnlint cold (--no-cache)": ([bnlint, "check", "--no-cache", str(tree)], bn_cache, None),
        "bnlint first run (empty cache)": ([bnlint, "check", str(tree)], empty, empty_cache),
        "bnlint warm": ([bnlint, "check", str(tree)], bn_cache, None),
        "ruff cold (--no-cache)": ([ruff, "check", "--select", "ALL", "--no-cache", str(tree)], work, None),
        "ruff warm": ([ruff, "check", "--select", "ALL", "--cache-dir", str(ruff_cache), str(tree)], work, None),
    }
    for command, cwd, before in modes.values():  # warm the file-system cache, fill the tool caches
        _wall(command, cwd, before)
    times: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(runs):
        for name, (command, cwd, before) in modes.items():
            times[name].append(_wall(command, cwd, before))
    return {name: statistics.median(values) for name, values in times.items()}


def report(title: str, files: int, medians: dict[str, float]) -> None:
    ruff = medians["ruff cold (--no-cache)"]
    print(f"\n{title}: {files} files")
    print(f"  {'mode':<32} {'median':>9} {'files/s':>9} {'/ ruff cold':>12}")
    for name, median in medians.items():
        print(f"  {name:<32} {median:8.3f}s {files / median:9.0f} {median / ruff:11.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    applications = Path(args.directory) if args.directory else applications_directory()
    print(f"{args.runs} alternating runs per mode, medians; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bnlint-bench-") as temporary:
        work = Path(temporary)
        files = sorted(applications.rglob("*.py"))
        lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
        (work / "apps").mkdir()
        medians = measure(applications, work / "apps", args.runs)
        report(f"{applications} ({lines} lines)", len(files), medians)
        ruff = medians["ruff cold (--no-cache)"]
        print(f"  targets: warm <= 1x ruff cold ({medians['bnlint warm'] / ruff:.2f}x), "
              f"cold <= 3x ({medians['bnlint cold (--no-cache)'] / ruff:.2f}x)")
        if args.files <= 0:
            return
        tree = make_tree(work, args.files)
        (work / "tree-work").mkdir()
        report(f"generated tree of model files from {FIXTURE_MODELS.relative_to(ROOT)}", args.files,
               measure(tree, work / "tree-work", args.runs))


if __name__ == "__main__":
    main()
