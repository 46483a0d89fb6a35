"""Reporters render a :class:`~bnlint.checker.CheckReport` for people or machines."""

from __future__ import annotations

from bnlint.checker import CheckReport

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import Callable, TextIO

__all__ = ["REPORTERS"]


def _text(report: CheckReport, out: TextIO, statistics: bool, show_fixes: bool = False) -> None:
    from bnlint.reporters.text import write

    write(report, out, statistics, show_fixes)


def _json(report: CheckReport, out: TextIO, statistics: bool, show_fixes: bool = False) -> None:
    from bnlint.reporters.json import write

    write(report, out, statistics)


def _github(report: CheckReport, out: TextIO, statistics: bool = False, show_fixes: bool = False) -> None:
    from bnlint.reporters.github import write

    write(report, out)


def _sarif(report: CheckReport, out: TextIO, statistics: bool = False, show_fixes: bool = False) -> None:
    from bnlint.reporters.sarif import write

    write(report, out)


def _junit(report: CheckReport, out: TextIO, statistics: bool = False, show_fixes: bool = False) -> None:
    from bnlint.reporters.junit import write

    write(report, out)


#: Reporter by ``--output-format`` name: ``(report, out, statistics, show_fixes)``.
REPORTERS: dict[str, Callable[..., None]] = {
    "text": _text, "json": _json, "github": _github, "sarif": _sarif, "junit": _junit,
}
