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
import os
from dataclasses import dataclass, field
from pathlib import Path

from bnlint.diagnostics import Applicability, Diagnostic, MoveLayer, RemoveLayer
from bnlint.engine import lint
from bnlint.errors import InputError
from bnlint.graph import Site
from bnlint.readers.python_source import SourceText, nesting_room, parse_python, read_source
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


# Rules whose fix rests on the layers that follow the flagged one: deferred while layers move.
_DECIDED_AFTER_MOVES = frozenset({"BN004"})

# libcst copies and visits its tree recursively, partly through C calls: past about 3,000 levels
# (`a + b + …` of 3,000 terms; Python itself compiles no deeper) the process may overflow its C stack
# and die, which no `except` catches. Deeper code is declined before libcst sees it.
MAX_FIX_DEPTH = 3_000


def _nesting_depth(text: str, file: Path | None) -> int:
    """How deeply the syntax tree of *text* nests (counted without recursion); 0 if it does not parse."""
    try:
        _, tree = parse_python(file.resolve() if file is not None else None, text)  # (the tree just read)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return 0
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


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
        deferred = False
        if any(isinstance(intent, (MoveLayer, RemoveLayer)) for d in wanted for intent in d.fix.intents):
            # BN004's `use_bias=False` rests on the BN right after the layer, which a move in this
            # round may take away (Conv → BN → ReLU turned into Conv → ReLU → BN): it is decided
            # again, on the moved code, in the next round.
            kept = [d for d in wanted if d.code not in _DECIDED_AFTER_MOVES]
            deferred, wanted = len(kept) < len(wanted), kept
        if not wanted:
            break
        if _nesting_depth(current, file) > MAX_FIX_DEPTH:
            raise InputError(display, "nests its code too deeply for bnlint to fix; nothing was written")
        with nesting_room():  # (libcst copies and visits its tree recursively)
            try:
                edit = _apply_whole_fixes(current, wanted, declined)
                if edit.text == current and not (deferred and any((d.code, d.origin) in declined for d in wanted)):
                    break  # (when the round's moves were all declined, the fixes deferred for them come next)
                ast.parse(edit.text)
            except SyntaxError as error:  # a writer bug: never write it
                raise AssertionError(f"{display}: a fix produced invalid Python ({error}); nothing was written") from None
            except RecursionError:
                raise InputError(display, "nests its code too deeply for bnlint to fix; nothing was written") from None
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


def _apply_whole_fixes(text: str, wanted: list[Diagnostic], declined: dict[tuple, str]):
    """One pass of *wanted*'s fixes on *text*, each fix whole or not at all.

    A fix whose required edit the writer declines (into *declined*, with the
    reason) or defers to the next round (another fix changes the same layer)
    is left out of the pass entirely, and the pass is made again without it:
    BN001's optional ``use_bias=False`` must not land without the BN it goes
    with, which would remove a bias nothing cancels.
    """
    while True:
        edit = apply_intents(text, [intent for d in wanted for intent in d.fix.intents])
        reasons = dict(edit.declined)
        missing = set(reasons) | set(edit.deferred)
        partial = [d for d in wanted if any(intent in missing and not getattr(intent, "optional", False)
                                            for intent in d.fix.intents)]
        for diagnostic in partial:
            for intent in diagnostic.fix.intents:
                if intent in reasons:
                    declined[(diagnostic.code, diagnostic.origin)] = reasons[intent]
        if not partial or not any(i in edit.applied for d in partial for i in d.fix.intents):
            return edit
        wanted = [d for d in wanted if d not in partial]


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
    if not os.access(path, os.W_OK):  # (replacing it by a rename would only need the directory writable)
        raise InputError(path, "is read-only, so it was not fixed")
    write(path, lambda out: out.write(new_text.encode(source.encoding)))


def unified_diff(display: str, before: str, after: str) -> str:
    """The change as a unified diff, as ``--diff`` prints it."""
    # (an absolute path as `a/tmp/m.py`, not `a//tmp/m.py`: `patch -p1` run from / finds it; a name with
    # a space ends with a tab, as git writes it, or `patch` takes the name to end at the space)
    end = "\t" if " " in display else ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{display.lstrip('/')}{end}", tofile=f"b/{display.lstrip('/')}{end}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
