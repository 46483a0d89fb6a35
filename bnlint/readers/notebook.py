"""Jupyter notebooks (``.ipynb``): their code cells read as one Python source.

A notebook runs its code cells top to bottom in one namespace, so bnlint
reads them as one module: each code cell, in order, after a marker comment
line (``# bnlint: cell 3``) that says where it starts. Findings keep their
lines in that text (suppression comments, baselines and fixes work on it
unchanged) and are *shown* by cell: ``model.ipynb:cell 3:2:5`` is line 2,
column 5 of the third cell, counting every cell of the notebook, Markdown
ones included, from 1.

IPython syntax is not Python: a line magic (``%matplotlib inline``), a shell
escape (``!pip install ...``, ``files = !ls``) or a help request
(``model.fit?``) reads as ``pass`` at its indentation; a cell that starts
with a cell magic runs its body in another language (``%%bash``,
``%%writefile``) and is left out, except for the magics whose body is
Python (``%%time``, ``%%capture`` ...), where only the magic line is.

Fixing a notebook rewrites only the ``source`` of the cells that changed,
and only when bnlint can write the notebook's JSON back byte for byte as it
was (the layout Jupyter writes: one-space indentation, non-ASCII kept);
otherwise the notebook is checked and left as it is, with a note.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from bisect import bisect_right
from json.decoder import scanstring
from pathlib import Path

from bnlint.errors import InputError
from bnlint.graph import Site
from bnlint.readers.python_source import not_utf8, read_bytes, source_lines
from bnlint.readers.result import ReadResult
from bnlint.records import dataclass

__all__ = ["Notebook", "load_notebook", "read_notebook_file", "read_notebook", "cell_starts", "cell_of", "cell_line",
           "in_cells", "show_in_cells", "rewrite", "json_layout", "source_strings", "in_file", "MARKER"]

#: The line before each code cell in the notebook's Python text.
MARKER = "# bnlint: cell "
#: What an IPython-only line reads as (restored when the notebook is written back).
MAGIC = "pass  # bnlint: IPython"
# Cell magics whose body is Python: only their first line is IPython.
_PYTHON_CELL_MAGICS = frozenset({"%%time", "%%timeit", "%%capture", "%%prun", "%%debug"})
# `x = !ls`, `out = %timeit -o f()`: an assignment of a shell escape or a magic.
_ASSIGNED_MAGIC = re.compile(r"^[\w.,\s\[\]()]+=\s*[!%]")
# `model.fit?`, `layers.Conv2D??`, `?keras`: IPython's help.
_HELP = re.compile(r"^(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


@dataclass(frozen=True)
class Notebook:
    """A notebook as read: its bytes, its JSON, and its code cells as one Python text.

    ``magics`` are the IPython lines that read as ``pass``, in order.
    ``left_out`` says which code cells are not in ``text`` because they are
    not valid Python on their own (IPython compiles each cell by itself:
    a broken cell fails alone, and the cells after it still run).
    """

    data: bytes
    content: dict
    text: str
    magics: tuple[str, ...]
    left_out: tuple[str, ...] = ()


def load_notebook(path: Path, display: str) -> Notebook:
    """The notebook at *path*.

    Raises
    ------
    InputError
        The file cannot be read, or is not a notebook (JSON with a list of cells).
    """
    return notebook_from_bytes(read_bytes(path, display), display)


def notebook_from_bytes(data: bytes, display: str) -> Notebook:
    """The notebook whose file holds *data*; see :func:`load_notebook`."""
    try:
        content = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise not_utf8(display, data, error) from None
    except ValueError as error:
        raise InputError(display, f"is not a Jupyter notebook: its JSON is invalid ({error})") from None
    except RecursionError:
        raise InputError(display, "is not a Jupyter notebook: its JSON is nested too deeply") from None
    cells = content.get("cells") if isinstance(content, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise InputError(display, "is not a Jupyter notebook: it has no list of cells (nbformat 4)")
    language = _language(content)
    if language is not None and language.lower() not in ("python", "python3", "ipython"):
        # An R or Julia notebook: its cells are not Python, and reading them as such only reports
        # "not valid Python" cell by cell.
        return Notebook(data, content, "", (), (f"{display}: a notebook in {language}, not Python; bnlint read "
                                                   "nothing in it",))
    code: list[tuple[int, str, list[str]]] = []  # (number, Python text, IPython lines) of each code cell
    malformed: list[str] = []
    for number, cell in enumerate(cells, start=1):
        source = _cell_source(cell)
        if cell.get("cell_type") != "code":
            continue
        if source is None:  # (a source that is neither a string nor a list of strings)
            malformed.append(f"{display}: cell {number} has a source that is not text (nbformat 4 wants a string "
                             "or a list of strings); bnlint read the notebook without it")
            continue
        lines = source.splitlines(keepends=True)
        first = lines[0].strip() if lines else ""
        if first.startswith("%%"):
            if first.split()[0] not in _PYTHON_CELL_MAGICS:
                continue  # another language's body
        pieces: list[str] = []
        magics: list[str] = []
        scanner = _Continuation()
        for line in lines:
            if not scanner.pending and _is_ipython(line.strip()):
                magics.append(line)
                ending = line[len(line.rstrip("\r\n")):] or "\n"
                pieces.append(line[:len(line) - len(line.lstrip())] + MAGIC + ending)
            else:
                scanner.feed(line)
                pieces.append(line)
        if lines and not lines[-1].endswith(("\n", "\r")):
            pieces.append("\n")
        code.append((number, "".join(pieces), magics))
    text = "".join(f"{MARKER}{number}\n{python}" for number, python, _ in code)
    left_out: list[str] = malformed
    if _syntax_problem(text) is not None:  # (checked cell by cell only then: most notebooks parse whole)
        kept = []
        for number, python, magics in code:
            problem = _syntax_problem(python)
            if problem is None:
                kept.append((number, python, magics))
            else:
                left_out.append(f"{display}: cell {number} is not valid Python ({problem}); "
                                "bnlint read the notebook without it")
        code = kept
        text = "".join(f"{MARKER}{number}\n{python}" for number, python, _ in code)
    return Notebook(data, content, text, tuple(line for *_, magics in code for line in magics), tuple(left_out))


def _language(content: dict) -> str | None:
    """The language the notebook's kernel runs (``metadata.language_info.name``, else the kernelspec's), if it says."""
    metadata = content.get("metadata")
    if not isinstance(metadata, dict):
        return None
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), str) and value[field]:
            return value[field]
    return None


def _syntax_problem(text: str) -> str | None:
    """Why *text* is not valid Python (``"invalid syntax, line 2"``), or None when it is."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            ast.parse(text)
    except SyntaxError as error:
        return f"{error.msg}, line {error.lineno}" if error.lineno else error.msg
    except ValueError as error:  # (a NUL character)
        return str(error)
    except (RecursionError, MemoryError):
        return None  # (too deep to tell here: the reader says so for the whole notebook)
    return None


def _cell_source(cell: dict) -> str | None:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def _is_ipython(stripped: str) -> bool:
    return (
        stripped.startswith(("%", "!")) or _HELP.match(stripped) is not None
        or _ASSIGNED_MAGIC.match(stripped) is not None
    )


class _Continuation:
    """Whether the next line of a cell continues a statement: a bracket or a triple-quoted string is
    open, or the line ends with a backslash.

    IPython's syntax only starts a statement: ``% (a, b)`` on a line inside ``print(...)`` is Python's
    modulo, not a magic.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.quote = ""  # the open triple quote
        self.backslash = False

    @property
    def pending(self) -> bool:
        return bool(self.depth or self.quote or self.backslash)

    def feed(self, line: str) -> None:
        text = line.rstrip("\r\n")
        self.backslash = False
        i, end = 0, len(text)
        while i < end:
            char = text[i]
            if self.quote:
                if char == "\\":
                    i += 2
                    continue
                if text.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = ""
                    continue
                i += 1
                continue
            if char == "#":
                return
            if char in "\"'":
                self.quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else char
                i += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(self.depth - 1, 0)
            elif char == "\\" and i == end - 1:
                self.backslash = True
            i += 1
        if len(self.quote) == 1:
            self.quote = ""  # (a one-line string left open is Python's error to report, not a continuation)


def cell_starts(text: str) -> list[tuple[int, int]]:
    """``(cell number, line of the cell's first line)`` for each code cell in a notebook's *text*."""
    starts = []
    # Numbered as ast numbers them: a form feed or U+2028 inside a cell ends no line.
    for index, line in enumerate(source_lines(text), start=1):
        number = _marked_cell(line)
        if number is not None:
            starts.append((number, index + 1))
    return starts


def _marked_cell(line: str) -> int | None:
    """The cell number of a marker line, else None."""
    line = line.rstrip("\r\n")
    return int(line[len(MARKER):]) if line.startswith(MARKER) and line[len(MARKER):].isdigit() else None


def cell_of(starts: list[tuple[int, int]], line: int) -> tuple[int, int] | None:
    """The ``(cell number, first line)`` of :func:`cell_starts` that holds *line*, if any."""
    index = bisect_right(starts, line, key=lambda start: start[1]) - 1
    return starts[index] if index >= 0 else None


def show_in_cells(result: ReadResult) -> None:
    """Give the layers and models of a notebook's *result* the sites they are shown at (with ``cell``)."""
    starts = cell_starts(result.text or "")

    def shown(site):
        cell = cell_of(starts, site.line) if isinstance(site, Site) and site.cell is None else None
        return site if cell is None else site.in_cell(*cell)

    for graph in result.graphs:
        graph.origin = shown(graph.origin)
        for _, layer in graph.layers():
            layer.origin = shown(layer.origin)


def read_notebook_file(path: Path, display: str | None = None) -> ReadResult:
    """Read every model built by the code cells of the notebook at *path*.

    Raises
    ------
    InputError
        The file cannot be read, is not a notebook, or a code cell is not
        valid Python (the message names the cell).
    """
    display = display or str(path)
    return read_notebook(load_notebook(path, display), display, path)


def read_notebook(notebook: Notebook, display: str, file: Path) -> ReadResult:
    """Read every model built by *notebook*'s Python text, *notebook* being the file *file* (see
    :func:`read_notebook_file`)."""
    from bnlint.readers.python_source import read_source

    try:
        result = read_source(notebook.text, display, file)
    except InputError as error:
        raise InputError(display, in_cells(error.problem, notebook.text)) from None
    result.notes[:0] = notebook.left_out
    return result


def in_cells(problem: str, text: str) -> str:
    """*problem* (a syntax error of the notebook's Python text) with its line counted in its cell."""
    from bnlint.readers.python_source import parse_python

    try:
        parse_python(None, text)
    except SyntaxError as error:
        column = f", column {error.offset}" if error.offset else ""
        return f"is not valid Python: {error.msg} ({cell_line(text, error.lineno or 1)}{column})"
    except (ValueError, RecursionError, MemoryError):
        pass
    return problem


def cell_line(text: str, line: int) -> str:
    """``cell N, line L`` for *line* of a notebook's *text*."""
    number, first = cell_of(cell_starts(text), line) or (0, 1)
    return f"cell {number}, line {line - first + 1}"


def rewrite(notebook: Notebook, text: str, display: str) -> bytes | None:
    """The notebook's file with its code cells replaced by those of *text* (a fixed :attr:`Notebook.text`).

    None when the notebook's JSON layout is not one bnlint can write back
    unchanged (then nothing should be written).

    Raises
    ------
    InputError
        *text* no longer has the notebook's cells (a bug: nothing is written).
    """
    layout = json_layout(notebook)
    if layout is None:
        return None
    cells = _split(text)
    before = _split(notebook.text)
    if sorted(cells) != sorted(before):
        raise InputError(display, "a fix moved code across the notebook's cell markers; nothing was written")
    magics = iter(notebook.magics)
    content = json.loads(notebook.data.decode("utf-8-sig"))
    for number in sorted(cells):  # (the IPython lines are restored in order, so every cell is walked)
        restored = "".join(line if line.strip() != MAGIC else next(magics, line)
                           for line in cells[number].splitlines(keepends=True))
        if cells[number] == before[number]:
            continue
        cell = content["cells"][number - 1]
        original = _cell_source(cell) or ""
        if not original.endswith(("\n", "\r")) and restored.endswith("\n"):
            restored = restored[:-1]
        cell["source"] = restored.splitlines(keepends=True) if isinstance(cell["source"], list) else restored
    indent, ensure_ascii, html_safe, newline = layout
    written = _dump(content, indent, ensure_ascii, html_safe) + newline
    prefix = b"\xef\xbb\xbf" if notebook.data.startswith(b"\xef\xbb\xbf") else b""
    return prefix + written.encode("utf-8")


def _split(text: str) -> dict[int, str]:
    cells: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        number = _marked_cell(line)
        if number is not None:
            current = cells.setdefault(number, [])
        elif current is not None:
            current.append(line)
    return {number: "".join(lines) for number, lines in cells.items()}


def json_layout(notebook: Notebook) -> tuple[int | None, bool, bool, str] | None:
    """How to dump the notebook's JSON so that it reads back as the same bytes, if bnlint can:
    ``(indent, ensure_ascii, html_safe, final newline)``. *html_safe* is Colab's layout, which writes
    ``<``, ``>`` and ``&`` as ``\\u003c``, ``\\u003e`` and ``\\u0026``."""
    text = notebook.data.decode("utf-8-sig")
    html_safe = "\\u003c" in text or "\\u003e" in text or "\\u0026" in text
    for indent in (1, 2, 4, None):
        for ensure_ascii in (False, True):
            dumped = _dump(notebook.content, indent, ensure_ascii, html_safe)
            for newline in ("\n", ""):
                if dumped + newline == text:
                    return indent, ensure_ascii, html_safe, newline
    return None


def _dump(content: dict, indent: int | None, ensure_ascii: bool, html_safe: bool) -> str:
    dumped = json.dumps(content, indent=indent, ensure_ascii=ensure_ascii)
    if html_safe:  # (outside strings, JSON has none of these characters)
        dumped = dumped.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return dumped


# Where a cell's lines are in the notebook's file ------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")


def source_strings(raw: str) -> dict[int, list[tuple[int, str]]]:
    """For each cell of the notebook JSON *raw* (numbered from 1), the strings of its ``source``:
    the offset of each string's opening quote in *raw*, and the string.

    >>> source_strings('{"cells": [{"source": ["x = 1", "y"]}, {"source": "z"}]}')
    {1: [(23, 'x = 1'), (32, 'y')], 2: [(50, 'z')]}

    Raises
    ------
    ValueError
        *raw* is not JSON.
    """
    found: dict[int, list[tuple[int, str]]] = {}

    def value(i: int, place: tuple) -> int:
        i = _SPACE.match(raw, i).end()
        char = raw[i:i + 1]
        if char == '"':
            text, end = scanstring(raw, i + 1)
            if place and place[0] == "source":
                found.setdefault(place[1], []).append((i, text))
            return end
        if char == "[":
            i, index = _SPACE.match(raw, i + 1).end(), 0
            if raw[i:i + 1] == "]":
                return i + 1
            while True:
                if place == ("top", "cells"):
                    inner: tuple = ("cell", index + 1)
                else:
                    inner = place if place and place[0] == "source" else ()
                i = _SPACE.match(raw, value(i, inner)).end()
                index += 1
                if raw[i:i + 1] == "]":
                    return i + 1
                if raw[i:i + 1] != ",":
                    raise ValueError(f"expected ',' or ']' at offset {i}")
                i += 1
        if char == "{":
            i = _SPACE.match(raw, i + 1).end()
            if raw[i:i + 1] == "}":
                return i + 1
            while True:
                if raw[i:i + 1] != '"':
                    raise ValueError(f"expected a key at offset {i}")
                key, i = scanstring(raw, i + 1)
                i = _SPACE.match(raw, i).end()
                if raw[i:i + 1] != ":":
                    raise ValueError(f"expected ':' at offset {i}")
                if place == ("top",) and key == "cells":
                    inner = ("top", "cells")
                elif place and place[0] == "cell" and key == "source":
                    inner = ("source", place[1])
                else:
                    inner = ()
                i = _SPACE.match(raw, value(i + 1, inner)).end()
                if raw[i:i + 1] == "}":
                    return i + 1
                if raw[i:i + 1] != ",":
                    raise ValueError(f"expected ',' or '}}' at offset {i}")
                i = _SPACE.match(raw, i + 1).end()
        match = _SCALAR.match(raw, i)
        if match is None:
            raise ValueError(f"unexpected {char!r} at offset {i}")
        return match.end()

    value(0, ("top",))
    return found


def _skip_characters(raw: str, start: int, count: int) -> int:
    """The offset in *raw* after *count* characters of the JSON string body that begins at *start*."""
    i = start
    for _ in range(count):
        if raw[i] != "\\":
            i += 1
        elif raw[i + 1] != "u":
            i += 2
        else:
            high = int(raw[i + 2:i + 6], 16)
            i += 6
            if 0xD800 <= high <= 0xDBFF and raw[i:i + 2] == "\\u" and 0xDC00 <= int(raw[i + 2:i + 6], 16) <= 0xDFFF:
                i += 6  # (a surrogate pair is one character)
    return i


def _file_position(raw: str, strings: list[tuple[int, str]], line: int, column: int) -> tuple[int, int] | None:
    """Line and column in the file *raw* of *line*, *column* (1-based) of the cell whose source is *strings*."""
    text = "".join(string for _, string in strings)
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    wanted = start + column - 1
    if wanted > len(text):
        return None
    passed = 0
    for offset, string in strings:
        if wanted <= passed + len(string):
            i = _skip_characters(raw, offset + 1, wanted - passed)
            line_start = raw.rfind("\n", 0, i) + 1
            return raw.count("\n", 0, line_start) + 1, i - line_start + 1
        passed += len(string)
    return None


_SOURCES: dict[tuple, tuple[str, dict[int, list[tuple[int, str]]]] | None] = {}


def in_file(site: Site) -> Site | None:
    """*site*, a position in a notebook cell (``site.cell`` set, lines counted in the cell), on the
    lines of the notebook's file: where a viewer of its raw JSON shows that code.

    None when the file no longer reads as the notebook it was (or its cell is not there).
    """
    if site.cell is None:
        return None
    try:
        stat = Path(site.path).stat()
    except OSError:
        return None
    key = (site.path, stat.st_mtime_ns, stat.st_size)  # (a notebook edited since is read again)
    if key not in _SOURCES:
        try:
            raw = Path(site.path).read_bytes().decode("utf-8-sig")
            _SOURCES[key] = raw, source_strings(raw)
        except (OSError, UnicodeDecodeError, ValueError, IndexError, RecursionError):
            _SOURCES[key] = None
    known = _SOURCES[key]
    strings = known[1].get(site.cell) if known is not None else None
    if not strings:
        return None
    start = _file_position(known[0], strings, site.line, site.column)
    end = _file_position(known[0], strings, site.end_line, site.end_column)
    if start is None or end is None:
        return None
    return Site(site.path, start[0], start[1], end[0], end[1], site.cell)
