"""GitHub Actions annotations: one ``::error`` workflow command per finding.

GitHub turns each line into an annotation on the pull request's diff, at
the flagged constructor call (``file``, ``line``, ``col``, ``endLine``,
``endColumn``), titled ``CODE (name)``. A finding on a saved model has no
line: its annotation names only the file, and its text starts with the
layer name. Values are escaped as the workflow-command syntax requires.
"""

from __future__ import annotations

from typing import TextIO

from bnlint.checker import CheckReport
from bnlint.diagnostics import Diagnostic
from bnlint.graph import Site
from bnlint.reporters.paths import artifact_path, file_position
from bnlint.reporters.text import describe

__all__ = ["write", "annotation", "escape_data", "escape_property"]


def escape_data(text: str) -> str:
    """*text* as the message of a workflow command (``%``, CR and LF percent-encoded).

    >>> escape_data("50% done\\nnext")
    '50%25 done%0Anext'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """*text* as a property value of a workflow command (also ``:`` and ``,`` encoded).

    >>> escape_property("a,b: c")
    'a%2Cb%3A c'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic) -> str:
    """The ``::error ...::message`` line for one finding."""
    properties = [("file", artifact_path(diagnostic.path))]
    origin, before = file_position(diagnostic)
    message = before + describe(diagnostic)
    if isinstance(origin, Site):
        properties += [
            ("line", str(origin.line)), ("col", str(origin.column)),
            ("endLine", str(origin.end_line)), ("endColumn", str(origin.end_column)),
        ]
    else:
        message = f"{origin.layer_name}: {message}"
    properties.append(("title", f"{diagnostic.code} ({diagnostic.name})"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::error {rendered}::{escape_data(message)}"


def write(report: CheckReport, out: TextIO) -> None:
    """Write one annotation line per finding of *report*, nothing else."""
    for diagnostic in report.diagnostics:
        out.write(annotation(diagnostic) + "\n")
