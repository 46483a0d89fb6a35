"""The human-readable report: one line per finding, then a summary."""

from __future__ import annotations

from collections import Counter

from bnlint.checker import CheckReport
from bnlint.diagnostics import Applicability, Diagnostic

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["write", "format_diagnostic", "describe", "one_line"]

_SHOWN_INSTANCES = 3

# Control characters (C0, DEL, C1) as escapes: "\n" for a newline, "\x1b" for ESC.
_CONTROLS = {code: repr(chr(code))[1:-1] for code in (*range(0x20), *range(0x7F, 0xA0))}


def one_line(text: str) -> str:
    r"""*text* with its control characters escaped, so that it prints as one line and nothing else.

    A layer or file name from the checked code could otherwise start a line
    of its own (``\n::error ...``, which GitHub Actions runs as a workflow
    command) or send terminal escape sequences.

    >>> one_line("bn\n::error file=x::hi\x1b[2J")
    'bn\\n::error file=x::hi\\x1b[2J'
    """
    return text.translate(_CONTROLS)


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """``path:line:col: CODE [name] message (N instances: a, b, c, ...)``.

    In a notebook the position is ``path:cell N:line:col``. ``[*]`` after
    the code marks a finding ``--fix`` can fix; a finding whose fix was
    declined says why.
    """
    mark = " [*]" if diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.SAFE else ""
    return one_line(f"{diagnostic.position}: {diagnostic.code}{mark} [{diagnostic.name}] {describe(diagnostic)}")


def describe(diagnostic: Diagnostic) -> str:
    """The finding's message with its instance count, first layer names and why it was not fixed.

    This is what every output format shows as the finding's text.
    """
    line = diagnostic.message
    count = len(diagnostic.instances)
    if count > 1:
        # ResNet50, 101 and 152 each have a `conv1_conv`: name it once, and say in how many models.
        distinct = list(dict.fromkeys(diagnostic.instances))
        names = ", ".join(distinct[:_SHOWN_INSTANCES])
        more = ", ..." if len(distinct) > _SHOWN_INSTANCES else ""
        models = len(set(diagnostic.models))
        where = f" in {models} models" if models > 1 and len(distinct) < count else ""
        line += f" ({count} instances{where}: {names}{more})"
    if diagnostic.unfixable is not None:
        line += f" (not fixed: {diagnostic.unfixable})"
    return line


def write(report: CheckReport, out: TextIO, statistics: bool = False, show_fixes: bool = False) -> None:
    """Write the findings of *report*, or per-rule counts when *statistics* is set.

    With *show_fixes*, the fixes applied are listed per file after the findings.
    """
    if statistics:
        counts = Counter((d.code, d.name) for d in report.diagnostics)
        for (code, name), count in sorted(counts.items()):
            out.write(f"{count:5d}  {code}  [{name}]\n")
    else:
        for diagnostic in report.diagnostics:
            out.write(format_diagnostic(diagnostic) + "\n")
    if show_fixes and report.fixed:
        out.write("Fixed:\n")
        counts: Counter = Counter()
        instances: Counter = Counter()
        for d in report.fixed:
            counts[d.path, d.code, d.name] += 1
            instances[d.path, d.code, d.name] += len(d.instances)
        for (path, code, name), count in sorted(counts.items()):
            layers = instances[path, code, name]
            out.write(one_line(f"  {path}: {count} x {code} [{name}] ({_plural(layers, 'layer instance')})") + "\n")
    out.write(_summary(report) + "\n")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _summary(report: CheckReport) -> str:
    checked = f"{_plural(report.files_checked, 'file')} checked"
    if report.errors:  # (each on standard error): a run with errors never says that all checks passed
        checked += f", {_plural(len(report.errors), 'error')}"
    fixed = len(report.fixed)
    if not report.diagnostics:
        if report.errors:
            done = f"Fixed {_plural(fixed, 'finding')}; no findings remain" if fixed else "No findings"
            return f"{done} ({checked})."
        done = f"Fixed {_plural(fixed, 'finding')}; all" if fixed else "All"
        return f"{done} checks passed ({checked})."
    files = len({d.path for d in report.diagnostics})
    count = len(report.diagnostics)
    if fixed:
        lines = [f"Found {_plural(count + fixed, 'finding')} ({fixed} fixed, {count} remaining; {checked})."]
    else:
        lines = [f"Found {_plural(count, 'finding')} in {_plural(files, 'file')} ({checked})."]
    safe = sum(1 for d in report.diagnostics if d.fix is not None and d.fix.applicability is Applicability.SAFE)
    unsafe = sum(1 for d in report.diagnostics if d.fix is not None and d.fix.applicability is Applicability.UNSAFE)
    if safe:
        lines.append(f"[*] {_plural(safe, 'finding')} fixable with `--fix`.")
    if unsafe:
        lines.append(f"{_plural(unsafe, 'more finding')} fixable with `--fix --unsafe-fixes`.")
    return "\n".join(lines)
