"""Wall time of `bnlint check` on one model file, next to `ruff check` on the same file.

A pre-commit hook runs on a handful of staged files, so start-up dominates.
Both tools run as fresh processes, alternately, so machine noise hits both;
the script prints medians and their ratio.

    python bench/check_one_file.py [--runs 21] [FILE]

Needs `ruff` on PATH (or beside this Python): `pip install ruff`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "fixtures" / "models" / "functional_merge_add_redundant_bias.py"


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"bench: `{name}` is not installed (pip install {name})")
    return found


# As on a user's machine, Python may keep its bytecode cache (this development machine's shell disables it).
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _wall(command: list[str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    path = str(Path(args.file).resolve())
    commands = {
        "bnlint check --no-cache": [_tool("bnlint"), "check", "--no-cache", path],
        "bnlint check (cached)": [_tool("bnlint"), "check", path],
        "ruff check --select ALL --no-cache": [_tool("ruff"), "check", "--select", "ALL", "--no-cache", path],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="bnlint-bench-") as cwd:  # bnlint's cache goes here
        for name, command in commands.items():  # warm the file-system cache once, fill bnlint's cache
            _wall(command, cwd)
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(_wall(command, cwd))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"one file: {args.file} ({args.runs} alternating runs, medians)")
    for name, median in medians.items():
        print(f"  {name:<36} {median * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f} ms)")
    ruff = medians["ruff check --select ALL --no-cache"]
    for name in ("bnlint check --no-cache", "bnlint check (cached)"):
        print(f"  {name} / ruff: {medians[name] / ruff:.1f}x; over bare Python start-up: "
              f"{(medians[name] - medians['python -c pass']) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
