"""`bnlint check` over the keras.applications sources, next to `ruff check --select ALL --no-cache`.

bnlint reads each builder statically (every ResNet, EfficientNet, NASNet ...
is interpreted with its default arguments: about 16,000 layer calls in 78
entry points) where ruff lints syntax; the figure that matters is the ratio
on the same files, measured in the same run. Runs alternate, as fresh
processes, and medians are printed.

    python bench/lint_speed.py [--runs 7] [DIRECTORY]

DIRECTORY defaults to the installed `keras/src/applications`. Needs `ruff`
(`pip install '.[bench]'`) and Keras installed (only to locate its sources;
nothing imports it).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_one_file import _tool, _wall  # noqa: E402  (bench scripts share the tool lookup and timer)


def applications_directory() -> Path:
    spec = importlib.util.find_spec("keras")
    if spec is None or spec.origin is None:
        raise SystemExit("bench: keras is not installed; pass a directory")
    return Path(spec.origin).parent / "src" / "applications"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    directory = Path(args.directory) if args.directory else applications_directory()
    files = sorted(p for p in directory.rglob("*.py"))
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
    commands = {
        "bnlint check": [_tool("bnlint"), "check", str(directory)],
        "ruff check --select ALL --no-cache": [_tool("ruff"), "check", "--select", "ALL", "--no-cache", str(directory)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        _wall(command)  # warm the file-system cache
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_wall(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{directory}: {len(files)} files, {lines} lines ({args.runs} alternating runs, medians)")
    for name, median in medians.items():
        print(f"  {name:<36} {median:7.3f} s  ({len(files) / median:6.1f} files/s)")
    bnlint, ruff = medians["bnlint check"], medians["ruff check --select ALL --no-cache"]
    print(f"  bnlint / ruff: {bnlint / ruff:.1f}x (target: within 3x)")


if __name__ == "__main__":
    main()
