"""Reporters render a :class:`~bnlint.checker.CheckReport` for people or machines."""

from __future__ import annotations

from typing import Callable, TextIO

from bnlint.checker import CheckReport

__all__ = ["REPORTERS"]


def _text(report: CheckReport, out: TextIO, statistics: bool, show_fixes: bool = False) -> None:
    from bnlint.reporters.text import write

    write(report, out, statistics, show_fixes)


def _json(report: CheckReport, out: TextIO, statistics: bool, show_fixes: bool = False) -> None:
    from bnlint.reporters.json import write

    write(report, out, statistics)


#: Reporter by ``--output-format`` name: ``(report, out, statistics, show_fixes)``.
REPORTERS: dict[str, Callable[..., None]] = {"text": _text, "json": _json}
