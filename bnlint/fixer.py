"""Fix a source file: lint, realise the fixes, and repeat until nothing changes.

One round lints the current text, collects the fixes allowed (safe ones,
and unsafe ones with ``--unsafe-fixes``) of findings in this file, and has
the source writer realise them. Rounds repeat until the text is stable, at
most :data:`MAX_ROUNDS` times (a fix that keeps re-triggering is reported,
not looped on). The result is written atomically: a temporary file in the
same directory, given the original's mode, then renamed over it, in the
original encoding and newline style, and only if the file did not change
on disk meanwhile and the new text parses.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from bnlint.diagnostics import Applicability, Diagnostic
from bnlint.engine import lint
from bnlint.errors import InputError
from bnlint.graph import Site
from bnlint.readers.python_source import SourceText, read_source
from bnlint.writers.python_source import apply_intents

__all__ = ["FixOutcome", "fix_source", "write_atomically", "unified_diff", "MAX_ROUNDS"]

MAX_ROUNDS = 10


@dataclass
class FixOutcome:
    """What fixing one file did."""

    text: str
    diagnostics: list[Diagnostic]  # what remains after the fixes
    fixed: list[Diagnostic] = field(default_factory=list)  # as found before their fix
    notes: list[str] = field(default_factory=list)


def fix_source(text: str, display: str, codes: set[str], options: dict, unsafe: bool, file: Path | None = None) -> FixOutcome:
    """Fix *text* (the file *display*) until it is stable; return the new text and what remains."""
    allowed = {Applicability.SAFE} | ({Applicability.UNSAFE} if unsafe else set())
    declined: dict[tuple, str] = {}
    fixed: list[Diagnostic] = []
    notes: list[str] = []
    current = text
    for _ in range(MAX_ROUNDS):
        result = read_source(current, display, file)
        notes = result.notes
        wanted = [
            d for d in lint(result, codes, options)
            if d.fix is not None and d.fix.applicability in allowed and (d.code, d.origin) not in declined
            and isinstance(d.origin, Site) and d.origin.path == display
        ]
        if not wanted:
            break
        edit = apply_intents(current, [intent for d in wanted for intent in d.fix.intents])
        for intent, reason in edit.declined:
            for diagnostic in wanted:
                if intent in diagnostic.fix.intents:
                    declined[(diagnostic.code, diagnostic.origin)] = reason
        if edit.text == current:
            break
        try:
            ast.parse(edit.text)
        except SyntaxError as error:  # a writer bug: never write it
            raise AssertionError(f"{display}: a fix produced invalid Python ({error}); nothing was written") from None
        fixed.extend(d for d in wanted if all(intent in edit.applied or getattr(intent, "optional", False)
                                              for intent in d.fix.intents))
        current = edit.text
    else:
        notes = notes + [f"{display}: fixes did not settle after {MAX_ROUNDS} rounds; the last round was kept"]
    remaining = lint(read_source(current, display, file), codes, options)
    for diagnostic in remaining:
        reason = declined.get((diagnostic.code, diagnostic.origin))
        if reason is not None and diagnostic.unfixable is None:
            diagnostic.fix, diagnostic.unfixable = None, reason
    return FixOutcome(current, remaining, fixed, notes)


def write_atomically(path: Path, source: SourceText, new_text: str) -> None:
    """Replace *path*'s content with *new_text*, unless it changed since *source* was read.

    Raises
    ------
    InputError
        The file changed on disk meanwhile, or cannot be written.
    """
    from bnlint.files import write_atomically as write

    try:
        unchanged = path.read_bytes() == source.data
    except OSError as error:
        raise InputError(path, f"cannot be read back ({error.strerror or error})") from None
    if not unchanged:
        raise InputError(path, "changed on disk while bnlint was fixing it; it was not overwritten")
    write(path, lambda out: out.write(new_text.encode(source.encoding)))


def unified_diff(display: str, before: str, after: str) -> str:
    """The change as a unified diff, as ``--diff`` prints it."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"a/{display}", tofile=f"b/{display}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
