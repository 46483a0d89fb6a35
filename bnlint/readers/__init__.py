"""Readers turn a path into :class:`~bnlint.graph.ModelGraph` objects.

One reader per input kind: Python source (``.py``), Jupyter notebooks
(``.ipynb``, their code cells), ``.keras`` archives, legacy ``.h5`` files,
and SavedModel directories (a directory holding ``saved_model.pb``).
"""

from __future__ import annotations

from pathlib import Path

from bnlint.errors import InputError

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from bnlint.readers.result import ReadResult

__all__ = ["read_path", "source_text", "is_readable", "is_savedmodel", "ReadResult"]

SOURCE_SUFFIXES = (".py", ".ipynb")
SAVED_SUFFIXES = (".keras", ".h5", ".hdf5")


def __getattr__(name: str):
    # ReadResult (and with it the graph module) is imported on first use: discovering files needs neither.
    if name == "ReadResult":
        from bnlint.readers.result import ReadResult

        return ReadResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_readable(path: Path) -> bool:
    """True when some reader accepts files named like *path*."""
    return path.suffix in SOURCE_SUFFIXES or path.suffix in SAVED_SUFFIXES


def is_savedmodel(path: Path) -> bool:
    """True for a SavedModel directory: one model, not a tree to walk (False where it cannot be looked into)."""
    try:
        return (path / "saved_model.pb").is_file()
    except OSError:  # (a directory the user may not enter: the walk reports it)
        return False


def source_text(path: Path, display: str) -> str:
    """The Python text bnlint reads in the source file at *path*: a notebook's code cells as one source.

    Raises
    ------
    InputError
        The file cannot be read, or is not valid text (or not a notebook).
    """
    if path.suffix == ".ipynb":
        from bnlint.readers.notebook import load_notebook

        return load_notebook(path, display).text
    from bnlint.readers.python_source import load_source

    return load_source(path, display).text


def read_path(path: Path, display: str | None = None) -> ReadResult:
    """Read the models in the file at *path* with the reader for its kind.

    Raises
    ------
    InputError
        No reader accepts the file, or the file is unreadable or invalid.
    """
    display = display or str(path)
    if path.suffix == ".ipynb":
        from bnlint.readers.notebook import read_notebook_file

        return read_notebook_file(path, display)
    if path.suffix in SOURCE_SUFFIXES:
        from bnlint.readers.python_source import read_source_file

        return read_source_file(path, display)
    if path.suffix == ".keras":
        from bnlint.readers.saved_file import read_keras_archive

        return read_keras_archive(path, display)
    if path.suffix in (".h5", ".hdf5"):
        from bnlint.readers.saved_file import read_h5

        return read_h5(path, display)
    if path.is_dir() and is_savedmodel(path):
        from bnlint.readers.savedmodel import read_legacy_savedmodel

        return read_legacy_savedmodel(path, display)
    kinds = ", ".join(SOURCE_SUFFIXES + SAVED_SUFFIXES)
    raise InputError(display, f"is not a kind of file bnlint reads (expected {kinds}, or a SavedModel directory)")
