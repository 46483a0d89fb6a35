"""Check files: discovery -> readers -> engine, collecting findings and errors.

This is what ``bnlint check`` and :func:`bnlint.check` run. Each file is
read and linted on its own; a file that cannot be read becomes an error and
the others are still checked.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatch

from bnlint.config import Config
from bnlint.diagnostics import Diagnostic
from bnlint.discovery import Target, discover, relative_to_root
from bnlint.engine import lint, resolve_selection
from bnlint.errors import UserError
from bnlint.readers import read_path
from bnlint.readers.python_source import load_source

__all__ = ["Selection", "FixMode", "FileOutcome", "CheckReport", "check_paths", "check_file"]


@dataclass(frozen=True)
class Selection:
    """Rule selection given on the command line; ``None`` defers to the configuration."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixMode:
    """What to do with fixable findings: apply them (``--fix``) or show them (``--diff``)."""

    write: bool = True
    unsafe: bool = False


@dataclass
class FileOutcome:
    """One checked file: its findings, reader notes, and (when fixing) what was fixed."""

    diagnostics: list[Diagnostic]
    notes: list[str]
    fixed: list[Diagnostic] = field(default_factory=list)
    diff: str = ""


@dataclass
class CheckReport:
    """Everything one run found (and, when fixing, fixed)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[UserError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    #: The files checked, as displayed, in the order checked.
    checked_paths: list[str] = field(default_factory=list)
    fixed: list[Diagnostic] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)


def codes_for(config: Config, selection: Selection) -> set[str]:
    """The rules that run under *config* with the command line's *selection* on top.

    A command-line ``--select`` replaces the configuration's whole selection;
    otherwise the configuration's ``select`` (or the default rules), its
    ``extend-select`` and the command line's ``--extend-select`` run, less
    both ``ignore`` lists.

    Raises
    ------
    ConfigError
        A selector in the configuration or on the command line names no rule.
    """
    origin = str(config.path) if config.path else "configuration"
    from_config = resolve_selection(config.select, config.ignore, config.extend_select, origin)
    if selection.select is not None:
        return resolve_selection(selection.select, selection.ignore, selection.extend_select)
    extended = from_config | resolve_selection([], (), selection.extend_select)
    return extended - resolve_selection(list(selection.ignore))


def check_paths(
    arguments: list[str],
    selection: Selection = Selection(),
    force_exclude: bool = False,
    jobs: int | None = None,
    fix: FixMode | None = None,
) -> CheckReport:
    """Check every file under *arguments* (see :func:`~bnlint.discovery.discover` for *force_exclude*).

    With *fix*, fixable findings are fixed in place (or, with
    ``fix.write=False``, only shown as diffs). Files are checked in parallel
    across *jobs* processes (default: one per core) when there are enough of
    them to pay for starting the processes; the report is the same either way.
    """
    report = CheckReport()
    targets, report.errors = discover(arguments, force_exclude)
    work: list[tuple[Target, frozenset[str], FixMode | None]] = []
    selections: dict[int, set[str] | UserError] = {}
    for target in targets:
        key = id(target.config)
        if key not in selections:
            try:
                selections[key] = codes_for(target.config, selection)
            except UserError as error:
                selections[key] = error
                report.errors.append(error)
        codes = selections[key]
        if not isinstance(codes, UserError):
            work.append((target, frozenset(codes - _per_file_ignored(target.path, target.config)), fix))
    for (target, _, _), outcome in zip(work, _run(work, jobs)):
        if isinstance(outcome, UserError):
            report.errors.append(outcome)
            continue
        report.files_checked += 1
        report.checked_paths.append(target.display)
        report.notes.extend(outcome.notes)
        report.diagnostics.extend(outcome.diagnostics)
        report.fixed.extend(outcome.fixed)
        if outcome.diff:
            report.diffs.append(outcome.diff)
    return report


def check_file(target: Target, codes: frozenset[str], fix: FixMode | None = None) -> FileOutcome | UserError:
    """Read, lint and possibly fix one file; or the error that stopped it."""
    try:
        if fix is None or target.path.suffix != ".py":
            result = read_path(target.path, target.display)
            notes = list(result.notes)
            if fix is not None:
                notes.append(f"{target.display}: fixes apply to Python source; this saved model was only checked")
            return FileOutcome(lint(result, set(codes), target.config.options), notes)
        from bnlint.fixer import fix_source, unified_diff, write_atomically  # libcst: only when fixing

        source = load_source(target.path, target.display)
        outcome = fix_source(source.text, target.display, set(codes), target.config.options, fix.unsafe, target.path)
        changed = outcome.text != source.text
        if changed and fix.write:
            write_atomically(target.path, source, outcome.text)
        diff = unified_diff(target.display, source.text, outcome.text) if changed and not fix.write else ""
        return FileOutcome(outcome.diagnostics, outcome.notes, outcome.fixed, diff)
    except UserError as error:
        return error


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 4


def _run(work: list, jobs: int | None) -> list:
    """``check_file`` for every item, in order, in parallel when worthwhile."""
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 2 or len(work) < _PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return [check_file(*item) for item in work]
    # Fork: workers inherit the imported modules, so they start in milliseconds.
    context = multiprocessing.get_context("fork")
    # Biggest files first, so that no worker is left with a large one at the end.
    order = sorted(range(len(work)), key=lambda i: -_size(work[i][0].path))
    with ProcessPoolExecutor(max_workers=min(jobs, len(work)), mp_context=context) as pool:
        futures = {i: pool.submit(check_file, *work[i]) for i in order}
        return [futures[i].result() for i in range(len(work))]


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _per_file_ignored(path, config: Config) -> set[str]:
    if not config.per_file_ignores:
        return set()
    relative = relative_to_root(path, config).as_posix()
    ignored: set[str] = set()
    for pattern, selectors in config.per_file_ignores.items():
        if fnmatch(relative, pattern) or fnmatch(path.name, pattern):
            ignored |= resolve_selection(list(selectors), origin=str(config.path))
    return ignored
