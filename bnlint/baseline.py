"""Baselines: adopt bnlint on a code base that already has findings.

``bnlint check --write-baseline FILE`` records every current finding;
``bnlint check --baseline FILE`` then reports only findings that are not
in it, so CI fails on new mistakes while old ones are paid off over time.

A finding is recorded by a **key** that survives edits elsewhere in the
file: the file's path (relative to the baseline file's directory, with
``/``), the rule code, and the flagged constructor call's text with
whitespace, comments and trailing commas collapsed (``layers.Dense(64)``)
— never a line number, so moving code up or down keeps it matched. A
finding on a saved model is keyed by its layer name. Each key has a count;
a finding whose key occurs more often than recorded is new.

The file is JSON::

    {"bnlint-baseline": 1,
     "findings": [{"path": "src/model.py", "code": "BN004",
                   "call": "layers.Conv2D(64, 3)", "count": 2}]}

(``"layer": NAME`` instead of ``"call"`` for saved models).
"""

from __future__ import annotations

import ast
import io
import json
import os
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple

from bnlint.diagnostics import Diagnostic
from bnlint.errors import InputError
from bnlint.files import SourceTexts, write_text_atomically
from bnlint.graph import SavedLayer, Site
from bnlint.readers.python_source import source_lines

__all__ = ["Key", "Baseline", "finding_key", "normalise_call", "load_baseline", "write_baseline", "apply_baseline",
           "BaselineResult", "describe_key", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
_WORDLIKE = {tokenize.NAME, tokenize.NUMBER, tokenize.STRING}


class Key(NamedTuple):
    """What identifies a finding across edits: path, rule code, and the call text or layer name."""

    path: str
    code: str
    kind: str  # "call" or "layer"
    text: str


def _string(token: str) -> str:
    """A string literal as a formatter writes it: double quotes where the text allows (``'same'`` and
    ``"same"`` are one key); f-strings, byte strings and the rest as written."""
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return token
    if not isinstance(value, str):
        return token
    if '"' in value or "\\" in value or not value.isprintable():
        return repr(value)
    return f'"{value}"'


def normalise_call(source: str) -> str:
    """The call's text with whitespace, comments, trailing commas and string quoting collapsed.

    A trailing comma that makes a tuple (``(3,)``) stays.

    >>> normalise_call("layers.Conv2D(\\n    64, 3,  # stem\\n    padding='same',\\n)")
    'layers.Conv2D(64, 3, padding="same")'
    >>> normalise_call("layers.Reshape((3,),)")
    'layers.Reshape((3,))'
    """
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type not in _SKIPPED]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return " ".join(source.split())
    pieces: list[str] = []
    previous = None
    brackets: list[list] = []  # per open bracket: [is a tuple's parenthesis, commas so far]
    for index, token in enumerate(tokens):
        following = tokens[index + 1].string if index + 1 < len(tokens) else ""
        if token.string in ("(", "[", "{"):
            tuple_parenthesis = token.string == "(" and not (
                previous is not None and (previous.type == tokenize.NAME or previous.string in (")", "]")))
            brackets.append([tuple_parenthesis, 0])
        elif token.string in (")", "]", "}") and brackets:
            brackets.pop()
        elif token.string == "," and brackets:
            brackets[-1][1] += 1
        if token.string == "," and following in (")", "]", "}"):
            if not (following == ")" and brackets and brackets[-1][0] and brackets[-1][1] == 1):
                continue  # (the comma of a one-element tuple is kept: `(3,)` is not `(3)`)
        # One space between words and after commas, none elsewhere: `padding='same'`, `a+b`.
        if previous is not None and (
            (previous.type in _WORDLIKE and token.type in _WORDLIKE) or (previous.string == "," and token.string != ")")
        ):
            pieces.append(" ")
        pieces.append(_string(token.string) if token.type == tokenize.STRING else token.string)
        previous = token
    return "".join(pieces)


def _relative(path: str, root: Path) -> str:
    """*path* relative to *root*, also when one of them is reached through a symbolic link (a CI
    variable naming the checkout by a link, macOS's /tmp); absolute when it is outside *root*."""
    absolute = Path(os.path.abspath(path))
    for candidate, base in ((absolute, root), (Path(os.path.realpath(absolute)), Path(os.path.realpath(root)))):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            pass
    return absolute.as_posix()


def finding_key(diagnostic: Diagnostic, root: Path, texts: SourceTexts | None = None) -> Key:
    """The baseline key of *diagnostic*, with its path relative to *root* (an absolute directory)."""
    path = _relative(diagnostic.path, root)
    origin = diagnostic.origin
    if isinstance(origin, SavedLayer):
        return Key(path, diagnostic.code, "layer", origin.layer_name)
    text = (texts or SourceTexts()).get(origin.path)
    lines = source_lines(text, keepends=True) if text is not None else []
    if not origin.end_line <= len(lines):
        # The source cannot be read again, or no longer holds the call (changed on disk since it
        # was checked): fall back on the message.
        return Key(path, diagnostic.code, "message", diagnostic.message)
    return Key(path, diagnostic.code, "call", normalise_call(origin.text_in(lines)))


@dataclass
class Baseline:
    """The recorded findings: how many times each key occurred."""

    counts: Counter
    root: Path


def _root(baseline_file: Path) -> Path:
    return Path(os.path.abspath(baseline_file)).parent


def keys_of(diagnostics: Iterable[Diagnostic], root: Path, texts: SourceTexts | None = None) -> list[Key]:
    """The keys of *diagnostics*, in order (*texts*: where their sources are read from)."""
    texts = texts or SourceTexts()
    return [finding_key(d, root, texts) for d in diagnostics]


def write_baseline(path: Path, diagnostics: list[Diagnostic], texts: SourceTexts | None = None) -> int:
    """Record *diagnostics* in the baseline file *path* (written atomically); return the number recorded.

    *texts* gives the sources the findings point into (read from disk by default).

    Raises
    ------
    InputError
        The file cannot be written.
    """
    counts = Counter(keys_of(diagnostics, _root(path), texts))
    entries = []
    for key in sorted(counts):
        entry = {"path": key.path, "code": key.code, key.kind: key.text, "count": counts[key]}
        entries.append(entry)
    text = json.dumps({"bnlint-baseline": FORMAT_VERSION, "findings": entries}, indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(path, text)
    return len(diagnostics)


_KINDS = ("call", "layer", "message")


def load_baseline(path: Path) -> Baseline:
    """Read the baseline file *path*.

    Raises
    ------
    InputError
        The file is missing, unreadable, or not a bnlint baseline of a known version.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))  # (an editor's byte order mark)
    except FileNotFoundError:
        raise InputError(path, "no such baseline file (create it with --write-baseline)") from None
    except OSError as error:
        raise InputError(path, f"cannot read the baseline ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, f"is not a bnlint baseline: invalid JSON ({error})") from None
    except RecursionError:
        raise InputError(path, "is not a bnlint baseline: its JSON is nested too deeply") from None
    if not isinstance(data, dict) or "bnlint-baseline" not in data:
        raise InputError(path, "is not a bnlint baseline: no \"bnlint-baseline\" version key")
    if type(data["bnlint-baseline"]) is not int or data["bnlint-baseline"] != FORMAT_VERSION:  # (not true, 1.0)
        raise InputError(path, f"is a bnlint baseline of unknown version {data['bnlint-baseline']!r} "
                               f"(this bnlint reads version {FORMAT_VERSION})")
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise InputError(path, "is not a bnlint baseline: \"findings\" must be a list")
    counts: Counter = Counter()
    for number, entry in enumerate(findings, 1):
        kinds = [kind for kind in _KINDS if isinstance(entry, dict) and kind in entry]
        if (not isinstance(entry, dict) or len(kinds) != 1 or not isinstance(entry.get("path"), str)
                or not isinstance(entry.get("code"), str) or not isinstance(entry[kinds[0]], str)
                or type(entry.get("count", 1)) is not int or entry.get("count", 1) < 1):
            raise InputError(path, f"is not a valid bnlint baseline: finding {number} needs a \"path\", a \"code\", "
                                   f"one of \"call\"/\"layer\"/\"message\" (strings) and a positive integer \"count\"")
        text = normalise_call(entry["call"]) if kinds[0] == "call" else entry[kinds[0]]  # (as written by an
        # earlier bnlint, which kept quotes as they were)
        counts[Key(entry["path"], entry["code"], kinds[0], text)] += entry.get("count", 1)
    return Baseline(counts, _root(path))


@dataclass
class BaselineResult:
    """Findings the baseline does not cover, how many it covered, and its entries that matched nothing."""

    new: list[Diagnostic]
    matched: int
    stale: list[tuple[Key, int]]


def apply_baseline(baseline: Baseline, diagnostics: list[Diagnostic], checked_paths: Iterable[str],
                   texts: SourceTexts | None = None, rules_run: dict[str, frozenset[str]] | None = None,
                   directories: Iterable[str] = ()) -> BaselineResult:
    """Split *diagnostics* into new findings and those *baseline* records (*texts*: as for :func:`write_baseline`).

    Stale entries are those left unmatched in the files checked in this run
    (an entry for a file not checked this time is not stale), of rules that
    ran on them: with *rules_run* (the codes that ran, by checked path), an
    entry of a rule left out by ``--select``/``--ignore`` or a per-file
    ignore is not stale either. Entries for files that no longer exist in
    one of the *directories* the run walked (a file deleted or renamed)
    are stale too: left in, they would hide findings of a later file of
    that name.

    >>> apply_baseline(Baseline(Counter(), Path("/")), [], []).new
    []
    """
    remaining = Counter(baseline.counts)
    new: list[Diagnostic] = []
    matched = 0
    for diagnostic, key in zip(diagnostics, keys_of(diagnostics, baseline.root, texts)):
        if remaining[key] > 0:
            remaining[key] -= 1
            matched += 1
        else:
            new.append(diagnostic)
    checked = {_relative(path, baseline.root): (rules_run or {}).get(path) for path in checked_paths}
    walked = [_relative(directory, baseline.root) for directory in directories]

    def gone(path: str) -> bool:
        return path not in checked and any(path.startswith(d.rstrip("/") + "/") or d == "." for d in walked) and (
            not os.path.lexists(baseline.root / path))

    stale = [(key, count) for key, count in sorted(remaining.items()) if count > 0 and (
        key.path in checked and (rules_run is None or key.code in (checked[key.path] or ())) or gone(key.path))]
    return BaselineResult(new, matched, stale)


def describe_key(key: Key) -> str:
    """A baseline entry as ``bnlint`` shows a stale one: ``path: CODE `call```."""
    if key.kind == "layer":
        return f"{key.path}::{key.text}: {key.code}"
    return f"{key.path}: {key.code} `{key.text}`"
