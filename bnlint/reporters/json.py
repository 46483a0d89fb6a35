"""The machine-readable report: a JSON array of findings (schema in the README)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TextIO

from bnlint.checker import CheckReport

__all__ = ["write"]


def write(report: CheckReport, out: TextIO, statistics: bool = False) -> None:
    """Write the findings of *report* as JSON, or ``[{code, name, count}]`` with *statistics*."""
    if statistics:
        counts = Counter((d.code, d.name) for d in report.diagnostics)
        data: list = [{"code": code, "name": name, "count": n} for (code, name), n in sorted(counts.items())]
    else:
        data = [diagnostic.to_dict() for diagnostic in report.diagnostics]
    json.dump(data, out, indent=2)
    out.write("\n")
