"""How machine-readable reports name files: relative to the directory bnlint runs in.

CI systems (GitHub annotations, SARIF's ``%SRCROOT%``) expect paths
relative to the checkout, which is where CI runs bnlint.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["artifact_path"]


def artifact_path(path: str) -> str:
    """*path* (as bnlint displays it) relative to the current directory, with ``/`` separators.

    A path outside the current directory stays absolute.

    >>> artifact_path("./src/../model.py")
    'model.py'
    """
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()
