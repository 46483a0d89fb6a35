"""Read Keras models from Python source, statically.

The file is decoded (UTF-8, or the encoding its PEP 263 cookie declares),
parsed with :mod:`ast` and evaluated by the static interpreter. Nothing in
the file is imported or executed. Files that cannot mention Keras are
skipped before parsing.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from bnlint.errors import InputError
from bnlint.readers.result import ReadResult
from bnlint.records import dataclass

__all__ = ["SourceText", "decode_source", "load_source", "nesting_room", "not_utf8", "read_bytes", "read_source_file",
           "read_source", "source_lines"]

# A file that mentions none of these cannot build a Keras model we could read.
_MAY_BUILD_MODEL = re.compile(r"keras|tensorflow|Sequential|BatchNormalization|Conv[123]D|Dense|Model\(")
# Nor can another framework's model file: one that imports PyTorch, JAX or Flax and never names Keras
# or TensorFlow (`nn.Sequential`, `class BertModel(`, Flax's `nn.Dense` match the words above). In
# the transformers package, 330 such files (17 MB) were parsed and interpreted for nothing.
_NAMES_KERAS = re.compile(r"keras|tensorflow")
_IMPORTS_OTHER_FRAMEWORK = re.compile(r"^[ \t]*(?:import|from)[ \t]+(?:torch|jax|flax)\b", re.MULTILINE)


# Characters str.splitlines() ends a line at that Python's tokenizer does not: a form feed (a page
# break, as GNU-style code has), vertical tab, the file/group/record separators, NEL, U+2028/U+2029.
_OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def source_lines(text: str, keepends: bool = False) -> list[str]:
    """*text*'s lines as Python numbers them (``ast`` line numbers index them): ended by LF, CRLF or CR only.

    >>> source_lines("a = 1\\x0c  # page\\nb = 2\\r\\n")
    ['a = 1\\x0c  # page', 'b = 2']
    """
    if not any(character in text for character in _OTHER_LINE_BREAKS):
        return text.splitlines(keepends)
    lines = _PHYSICAL_LINE.findall(text)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


@dataclass(frozen=True)
class SourceText:
    """A source file as read: its bytes, its text, and the encoding that maps one to the other."""

    data: bytes
    text: str
    encoding: str


def read_source_file(path: Path, display: str | None = None) -> ReadResult:
    """Read every model built by the Python file at *path*.

    Raises
    ------
    InputError
        The file cannot be read, is not valid text in its encoding, or is
        not valid Python.
    """
    display = display or str(path)
    return read_source(load_source(path, display).text, display, path)


def load_source(path: Path, display: str) -> SourceText:
    """The file's bytes and text: UTF-8 (with or without BOM) unless a coding cookie says otherwise.

    Raises
    ------
    InputError
        The file cannot be read or is not valid text in its encoding.
    """
    return decode_source(read_bytes(path, display), display)


def read_bytes(path: Path, display: str) -> bytes:
    """The content of the file at *path*; an unreadable file is an :class:`InputError` naming *display*."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(display, f"cannot read the file ({error.strerror or error})") from None


def not_utf8(display: str, data: bytes, error: UnicodeDecodeError) -> InputError:
    """The error for *data* that is not UTF-8, naming the first bad byte."""
    return InputError(display, f"is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})")


def decode_source(data: bytes, display: str) -> SourceText:
    """Python source *data* as text: UTF-8 (with or without BOM) unless a coding cookie says otherwise.

    Raises
    ------
    InputError
        *data* is not valid text in its encoding.
    """
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    if any(b"coding" in line for line in data.split(b"\n", 2)[:2]):  # a PEP 263 cookie, perhaps: as Python reads it
        try:
            declared, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as error:  # an unknown encoding, or a BOM with a cookie naming another
            raise InputError(display, f"is not valid Python: {error.msg} (its coding declaration)") from None
        if declared not in ("utf-8", "utf-8-sig"):
            try:
                return SourceText(data, data.decode(declared), declared)
            except UnicodeDecodeError as error:
                raise InputError(display, f"is not valid text in its declared encoding {declared} "
                                          f"({error.reason} at byte {error.start})") from None
    try:
        return SourceText(data, data.decode(encoding), encoding)
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        declared, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        declared = "utf-8"
    if declared not in ("utf-8", "utf-8-sig"):
        try:
            return SourceText(data, data.decode(declared), declared)
        except (UnicodeDecodeError, LookupError):
            pass
    raise not_utf8(display, data, utf8_error)


# Python frames the interpreter and libcst may stack up: enough for the deepest code ``ast.parse``
# accepts (about 3,000 terms of `a + b + …`, of `x.shape.shape…`, of `1 if c else 2 if …`), each
# level several frames deep. The interpreter walks `+` chains in a loop; other nestings recurse.
NESTING_LIMIT = 12_000


@contextlib.contextmanager
def nesting_room() -> Iterator[None]:
    """Raise Python's recursion limit to :data:`NESTING_LIMIT` while reading or rewriting a tree; restore it after."""
    limit = sys.getrecursionlimit()
    if limit < NESTING_LIMIT:
        sys.setrecursionlimit(NESTING_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@lru_cache(maxsize=128)
def parse_python(path: Path | None, text: str) -> tuple[list[str], ast.Module]:
    """The lines and tree of *text* (from the file at resolved *path*, if any), parsed once per process.

    A file checked in a run is often also imported by another checked file
    (keras.applications' test module imports every application; most files
    import ``imagenet_utils.py``): both reads share one parse. The trees are
    only read, never changed. The key is the text as well as the path, so an
    edited file is parsed again. 128 trees are kept: with 32, the checked
    files pushed out the modules they import, and checking TensorFlow's own
    sources parsed them over and over (38 s of CPU instead of 20 s, and more
    memory, not less: about 400 MB per process either way).

    Raises SyntaxError, ValueError, RecursionError or MemoryError, as ``ast.parse`` does.
    """
    with warnings.catch_warnings(), nesting_room():
        warnings.simplefilter("ignore", SyntaxWarning)  # invalid escapes etc. are not ours to report
        return source_lines(text), ast.parse(text, filename=str(path or "<string>"))


def read_source(text: str, display: str = "<string>", file: Path | None = None) -> ReadResult:
    """Read every model built by the Python source *text*.

    *file*, when given, is where the text came from: modules of its package
    that it imports are then read too. For a notebook (``.ipynb``), *text*
    is its code cells as one source (:mod:`bnlint.readers.notebook`), and
    the result says so.

    Examples
    --------
    >>> result = read_source("import keras\\nm = keras.Sequential([keras.layers.Dense(2)])")
    >>> [layer.class_name for _, layer in result.graphs[0].layers()]
    ['Dense']
    """
    notebook = file is not None and file.suffix == ".ipynb"
    if not _MAY_BUILD_MODEL.search(text) or (
        _IMPORTS_OTHER_FRAMEWORK.search(text) and not _NAMES_KERAS.search(text)
    ):
        return ReadResult(display, [], text, notebook=notebook)
    try:
        lines, tree = parse_python(file.resolve() if file is not None else None, text)
    except SyntaxError as error:
        where = (f" (line {error.lineno}" + (f", column {error.offset}" if error.offset else "") + ")"
                 if error.lineno is not None else "")  # (none for a NUL byte)
        raise InputError(display, f"is not valid Python: {error.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        # (ast.parse gives a MemoryError without a message for code nested past its limits)
        reason = str(error) or "it is nested too deeply for Python's parser"
        raise InputError(display, f"is not valid Python: {reason}") from None
    from bnlint.readers.interpreter import Interpreter

    interpreter = Interpreter(tree, display, lines, file)
    with nesting_room():
        try:
            graphs = interpreter.run()
        except RecursionError:  # (past what CPython itself compiles: `x.a.a.a…` 20,000 deep parses)
            raise InputError(display, "nests its code too deeply for bnlint to read") from None
    return ReadResult(display, graphs, text, list(dict.fromkeys(interpreter.notes)), notebook,  # (a helper's cap, once)
                      tree=tree, variants=interpreter.variants)
