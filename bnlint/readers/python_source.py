"""Read Keras models from Python source, statically.

The file is decoded (UTF-8, or the encoding its PEP 263 cookie declares),
parsed with :mod:`ast` and evaluated by the static interpreter. Nothing in
the file is imported or executed. Files that cannot mention Keras are
skipped before parsing.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from pathlib import Path

from bnlint.errors import InputError
from bnlint.readers.result import ReadResult

__all__ = ["read_source_file", "read_source"]

# A file that mentions none of these cannot build a Keras model we could read.
_MAY_BUILD_MODEL = re.compile(r"keras|tensorflow|Sequential|BatchNormalization|Conv[123]D|Dense|Model\(")


def read_source_file(path: Path, display: str | None = None) -> ReadResult:
    """Read every model built by the Python file at *path*.

    Raises
    ------
    InputError
        The file cannot be read, is not valid text in its encoding, or is
        not valid Python.
    """
    display = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(display, f"cannot read the file ({error.strerror or error})") from None
    return read_source(decode_source(data, display), display, path)


def decode_source(data: bytes, display: str) -> str:
    """The text of a source file: UTF-8 unless a coding cookie says otherwise."""
    try:
        return data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    if encoding not in ("utf-8", "utf-8-sig"):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    raise InputError(
        display,
        f"is not valid UTF-8 (byte 0x{data[utf8_error.start]:02x} at offset {utf8_error.start})",
    )


def read_source(text: str, display: str = "<string>", file: Path | None = None) -> ReadResult:
    """Read every model built by the Python source *text*.

    *file*, when given, is where the text came from: modules of its package
    that it imports are then read too.

    Examples
    --------
    >>> result = read_source("import keras\\nm = keras.Sequential([keras.layers.Dense(2)])")
    >>> [layer.class_name for _, layer in result.graphs[0].layers()]
    ['Dense']
    """
    if not _MAY_BUILD_MODEL.search(text):
        return ReadResult(display, [], text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # invalid escapes etc. are not ours to report
            tree = ast.parse(text, filename=display)
    except SyntaxError as error:
        where = f"line {error.lineno}" + (f", column {error.offset}" if error.offset else "")
        raise InputError(display, f"is not valid Python: {error.msg} ({where})") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise InputError(display, f"is not valid Python: {error}") from None
    from bnlint.readers.interpreter import Interpreter

    interpreter = Interpreter(tree, display, text.splitlines(), file)
    graphs = interpreter.run()
    return ReadResult(display, graphs, text, interpreter.notes)
