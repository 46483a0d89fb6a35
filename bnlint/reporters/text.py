"""The human-readable report: one line per finding, then a summary."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from bnlint.checker import CheckReport
from bnlint.diagnostics import Diagnostic

__all__ = ["write", "format_diagnostic"]

_SHOWN_INSTANCES = 3


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """``path:line:col: CODE [name] message (N instances: a, b, c, ...)``."""
    line = f"{diagnostic.origin}: {diagnostic.code} [{diagnostic.name}] {diagnostic.message}"
    count = len(diagnostic.instances)
    if count > 1:
        # ResNet50, 101 and 152 each have a `conv1_conv`: name it once.
        distinct = list(dict.fromkeys(diagnostic.instances))
        names = ", ".join(distinct[:_SHOWN_INSTANCES])
        more = ", ..." if len(distinct) > _SHOWN_INSTANCES else ""
        line += f" ({count} instances: {names}{more})"
    return line


def write(report: CheckReport, out: TextIO, statistics: bool = False) -> None:
    """Write the findings of *report*, or per-rule counts when *statistics* is set."""
    if statistics:
        counts = Counter((d.code, d.name) for d in report.diagnostics)
        for (code, name), count in sorted(counts.items()):
            out.write(f"{count:5d}  {code}  [{name}]\n")
    else:
        for diagnostic in report.diagnostics:
            out.write(format_diagnostic(diagnostic) + "\n")
    out.write(_summary(report) + "\n")


def _summary(report: CheckReport) -> str:
    checked = f"{report.files_checked} file{'s' if report.files_checked != 1 else ''} checked"
    if not report.diagnostics:
        return f"All checks passed ({checked})."
    files = len({d.path for d in report.diagnostics})
    count = len(report.diagnostics)
    return f"Found {count} finding{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''} ({checked})."
