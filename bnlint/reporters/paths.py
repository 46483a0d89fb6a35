"""How machine-readable reports name files: relative to the directory bnlint runs in.

CI systems (GitHub annotations, SARIF's ``%SRCROOT%``) expect paths
relative to the checkout, which is where CI runs bnlint.
"""

from __future__ import annotations

from pathlib import Path

from bnlint.discovery import relative_to

__all__ = ["artifact_path"]


def artifact_path(path: str) -> str:
    """*path* (as bnlint displays it) relative to the current directory, with ``/`` separators.

    A path outside the current directory stays absolute.

    >>> artifact_path("./src/../model.py")
    'model.py'
    """
    return relative_to(path, Path.cwd()).as_posix()
