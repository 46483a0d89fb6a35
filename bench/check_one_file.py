"""Wall time of `bnlint check` on one model file, next to `ruff check` on the same file.

A pre-commit hook runs on a handful of staged files, so start-up dominates.
Both tools run as fresh processes, alternately, so machine noise hits both;
the script prints medians and their ratio.

    python bench/check_one_file.py [--runs 21] [FILE]

Needs `ruff` on PATH (or beside this Python): `pip install ruff`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
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


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    commands = {
        "bnlint check": [_tool("bnlint"), "check", args.file],
        "ruff check --select ALL --no-cache": [_tool("ruff"), "check", "--select", "ALL", "--no-cache", args.file],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for name, command in commands.items():  # warm the file-system cache once
        _wall(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_wall(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"one file: {args.file} ({args.runs} alternating runs, medians)")
    for name, median in medians.items():
        print(f"  {name:<36} {median * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f} ms)")
    ratio = medians["bnlint check"] / medians["ruff check --select ALL --no-cache"]
    print(f"  bnlint / ruff: {ratio:.1f}x; bnlint over bare Python start-up: "
          f"{(medians['bnlint check'] - medians['python -c pass']) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
