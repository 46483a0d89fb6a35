"""The smallest whole-line replacement that turns one text into another.

SARIF describes a fix as replacements: a region of the original file
(1-based lines and columns, the end column just past the last character)
and the text to put there. :func:`line_replacement` finds the block of lines
that differ between the source and its fixed version, so a consumer can
apply the fix without knowing anything about libcst or bnlint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Replacement", "line_replacement", "apply_replacement"]


@dataclass(frozen=True)
class Replacement:
    """Replace the characters from (*start_line*, *start_column*) up to, not including,
    (*end_line*, *end_column*) with *inserted* (lines and columns 1-based)."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    inserted: str


# Line breaks as Python and SARIF count them (str.splitlines also splits on form feeds and more).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def _strip_newline(line: str) -> str:
    return line[:-2] if line.endswith("\r\n") else line.rstrip("\r\n")


def line_replacement(old: str, new: str) -> Replacement | None:
    """The block of whole lines of *old* to replace to get *new*, or None when they are equal.

    The region covers at least one line of *old* and the inserted text at
    least one line, so insertions and deletions are expressed as the
    rewrite of a neighbouring line. The line break ending the last line of
    the region is outside it.

    >>> r = line_replacement("a\\nb\\nc\\n", "a\\nB\\nc\\n")
    >>> (r.start_line, r.end_line, r.inserted)
    (2, 2, 'B')
    """
    if old == new:
        return None
    before, after = _lines(old), _lines(new)
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(before), len(after)) - prefix
           and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]):
        suffix += 1
    # Widen until both sides hold a line: an empty region cannot end with a line break.
    while len(before) - prefix - suffix < 1 or len(after) - prefix - suffix < 1:
        if prefix > 0:
            prefix -= 1
        elif suffix > 0:
            suffix -= 1
        else:  # one side is empty: the whole text
            break
    deleted = before[prefix:len(before) - suffix]
    inserted = "".join(after[prefix:len(after) - suffix])
    if not deleted:  # *old* is empty
        return Replacement(1, 1, 1, 1, inserted)
    last = deleted[-1]
    end_column = len(_strip_newline(last)) + 1
    if end_column <= len(last):  # the region's last line ends with a line break
        newline = last[end_column - 1:]
        if inserted.endswith(newline):
            inserted = inserted[:-len(newline)]
        else:  # the fix removes or changes the final line break: the region takes it
            end_column = len(last) + 1
    return Replacement(prefix + 1, 1, prefix + len(deleted), end_column, inserted)


def apply_replacement(text: str, replacement: Replacement) -> str:
    """*text* with *replacement* applied, as a SARIF consumer would apply it.

    >>> apply_replacement("a\\nb\\n", line_replacement("a\\nb\\n", "a\\nx\\ny\\n"))
    'a\\nx\\ny\\n'
    """
    lines = _lines(text)

    def offset(line: int, column: int) -> int:
        return sum(len(item) for item in lines[:line - 1]) + column - 1

    start = offset(replacement.start_line, replacement.start_column)
    end = offset(replacement.end_line, replacement.end_column)
    return text[:start] + replacement.inserted + text[end:]
