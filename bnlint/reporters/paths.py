"""How machine-readable reports name files and places in them.

CI systems (GitHub annotations, SARIF's ``%SRCROOT%``) expect paths
relative to the checkout, which is where CI runs bnlint, and lines of the
file as stored: for a notebook, the lines of its JSON.
"""

from __future__ import annotations

from pathlib import Path

from bnlint.diagnostics import Diagnostic
from bnlint.discovery import relative_to
from bnlint.graph import Origin, Site

__all__ = ["artifact_path", "file_position"]


def artifact_path(path: str) -> str:
    """*path* (as bnlint displays it) relative to the current directory, with ``/`` separators.

    A path outside the current directory stays absolute.

    >>> artifact_path("./src/../model.py")
    'model.py'
    """
    return relative_to(path, Path.cwd()).as_posix()


def file_position(diagnostic: Diagnostic) -> tuple[Origin, str]:
    """Where in its file to put *diagnostic*, and what to say before its message.

    In a notebook, that is the finding's place in the notebook's JSON (the
    string of the cell's source that holds the call), and the message starts
    with the cell and its line there: ``cell 3, line 2: ``. Elsewhere it is
    the finding's own position, and nothing is said before the message.
    """
    position = diagnostic.position
    if diagnostic.cell is None or not isinstance(position, Site):
        return position, ""
    from bnlint.readers.notebook import in_file

    return in_file(position) or position, f"cell {position.cell}, line {position.line}: "
