"""Readers turn a path into :class:`~bnlint.graph.ModelGraph` objects.

One reader per input kind. Today: Python source (``.py``).
"""

from __future__ import annotations

from pathlib import Path

from bnlint.errors import InputError
from bnlint.readers.result import ReadResult

__all__ = ["read_path", "is_readable", "ReadResult"]

SOURCE_SUFFIXES = (".py",)


def is_readable(path: Path) -> bool:
    """True when some reader accepts files named like *path*."""
    return path.suffix in SOURCE_SUFFIXES


def read_path(path: Path, display: str | None = None) -> ReadResult:
    """Read the models in the file at *path* with the reader for its kind.

    Raises
    ------
    InputError
        No reader accepts the file, or the file is unreadable or invalid.
    """
    display = display or str(path)
    if path.suffix in SOURCE_SUFFIXES:
        from bnlint.readers.python_source import read_source_file

        return read_source_file(path, display)
    raise InputError(display, f"is not a kind of file bnlint reads (expected {', '.join(SOURCE_SUFFIXES)})")
