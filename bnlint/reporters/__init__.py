"""Reporters render a :class:`~bnlint.checker.CheckReport` for people or machines."""

from __future__ import annotations

from typing import Callable, TextIO

from bnlint.checker import CheckReport

__all__ = ["REPORTERS"]


def _text(report: CheckReport, out: TextIO, statistics: bool) -> None:
    from bnlint.reporters.text import write

    write(report, out, statistics)


def _json(report: CheckReport, out: TextIO, statistics: bool) -> None:
    from bnlint.reporters.json import write

    write(report, out, statistics)


REPORTERS: dict[str, Callable[[CheckReport, TextIO, bool], None]] = {"text": _text, "json": _json}
