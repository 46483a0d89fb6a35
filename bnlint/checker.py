"""Check files: discovery -> readers -> engine, collecting findings and errors.

This is what ``bnlint check`` and :func:`bnlint.check` run. Each file is
read and linted on its own; a file that cannot be read becomes an error and
the others are still checked.
"""

from __future__ import annotations

import os
import sys
from fnmatch import fnmatch

from bnlint.discovery import Target, discover, relative_to_root
from bnlint.errors import InputError, NotAModelError, UserError, internal_error
from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from pathlib import Path

    from bnlint.cache import ResultCache, Slot
    from bnlint.files import SourceTexts
    from bnlint.config import Config
    from bnlint.diagnostics import Diagnostic
    from bnlint.readers.notebook import Notebook

# The engine, readers and rules are imported only when a file is actually checked: a run answered
# entirely from the cache imports none of them.

__all__ = ["Selection", "FixMode", "FileOutcome", "CheckReport", "check_paths", "check_file", "usable_cpus"]


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
    #: The encoding of the file the diff is of (its lines must be the file's bytes for `patch`).
    diff_encoding: str = "utf-8"
    #: With ``--fix``, the source read from standard input as fixed (or as it was).
    text: str | None = None
    #: With ``--fix``, why the fixed file could not be written (its findings are those of the file as it is).
    error: UserError | None = None


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
    diff_encodings: list[str] = field(default_factory=list)  # (of each diff's file, as --diff writes it)
    #: With ``--fix`` on standard input, the source to write back to standard output.
    text: str | None = None
    #: The displayed path of the source read from standard input, whose findings are in :attr:`text`
    #: (the file of that name, if any, need not hold it).
    stdin_path: str | None = None
    #: The checked files' targets by displayed path, and the run's rule selection (see :meth:`rules_run`).
    targets: dict[str, Target] = field(default_factory=dict)
    selection: Selection | None = None

    def source_texts(self) -> SourceTexts:
        """The texts the findings point into, for reports that quote them: files read back from disk,
        and standard input's source as checked (fixed, with ``--fix``)."""
        from bnlint.files import SourceTexts

        return SourceTexts({self.stdin_path: self.text} if self.stdin_path is not None else {})

    def rules_run(self) -> dict[str, frozenset[str]]:
        """The codes of the rules that ran on each checked file, by displayed path (worked out when
        asked: a run answered from the cache imports no rule)."""
        found: dict[str, frozenset[str]] = {}
        selections: dict[int, set[str] | UserError] = {}
        for display, target in self.targets.items():
            codes = _selected(target.config, self.selection or Selection(), selections)
            if not isinstance(codes, UserError):
                found[display] = frozenset(codes - _per_file_ignored(target.path, target.config))
        return found


def _selected(config: Config, selection: Selection, memo: dict[int, set[str] | UserError]) -> set[str] | UserError:
    """:func:`codes_for` once per configuration (kept in *memo*), its error returned instead of raised."""
    key = id(config)
    if key not in memo:
        try:
            memo[key] = codes_for(config, selection)
        except UserError as error:
            memo[key] = error
    return memo[key]


def codes_for(config: Config, selection: Selection) -> set[str]:
    """The rules that run under *config* with the command line's *selection* on top.

    A command-line ``--select`` replaces the configuration's whole selection;
    otherwise the configuration's ``select`` (or the default rules), its
    ``extend-select`` and the command line's ``--extend-select`` run, less
    both ``ignore`` lists.

    Raises
    ------
    ConfigError
        A selector in the configuration (``per-file-ignores`` included) or on
        the command line names no rule.
    """
    from bnlint.engine import resolve_selection

    origin = str(config.path) if config.path else "configuration"
    from_config = resolve_selection(config.select, config.ignore, config.extend_select, origin)
    for selectors in config.per_file_ignores.values():  # every pattern's, whether it matches a file or not
        resolve_selection(list(selectors), origin=origin)
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
    cache: bool = False,
    progress: bool = False,
    stdin: tuple[str, str | None] | None = None,
) -> CheckReport:
    """Check every file under *arguments* (see :func:`~bnlint.discovery.discover` for *force_exclude*).

    With *stdin* = ``(text, filename)``, *arguments* are ignored and *text*
    (the source given on standard input) is checked as the file *filename*
    (:func:`~bnlint.discovery.stdin_target`), without the cache; with *fix*
    writing, the report's ``text`` is the source fixed.

    With *fix*, fixable findings are fixed in place (or, with
    ``fix.write=False``, only shown as diffs). Files are checked in parallel
    across *jobs* processes (default: :func:`usable_cpus`) when there are enough of
    them to pay for starting the processes; the report is the same either way.

    With *cache*, results are read from and written to the result cache
    (:mod:`bnlint.cache`); fixing never uses it. With *progress*, a progress
    bar is drawn on standard error when it is a terminal and the run is long
    (:mod:`bnlint.progress`).

    Raises
    ------
    ConfigError
        A command-line selector names no rule.

    Examples
    --------
    >>> report = check_paths(["fixtures/models/good_functional_resnet_block.py"])
    >>> report.files_checked, report.diagnostics
    (1, [])
    """
    _forget_module_answers()
    report = CheckReport(selection=selection)
    if stdin is not None:
        from bnlint.discovery import stdin_target

        target = stdin_target(*stdin, force_exclude)
        targets, cache = ([target] if target is not None else []), False
        report.text = stdin[0]  # (unless a fix changes it)
        report.stdin_path = target.display if target is not None else None
    else:
        targets, report.errors = discover(arguments, force_exclude)
    outcomes: list[FileOutcome | UserError | None] = [None] * len(targets)
    slots: list[Slot | None] = [None] * len(targets)
    caches: dict[str, ResultCache] = {}
    if cache and fix is None:
        caches = _read_cache(targets, selection, outcomes, slots)
    missed = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if missed or not targets:
        from bnlint.engine import resolve_selection

        # Command-line selectors are checked before any file is read. (A run answered entirely
        # from the cache has checked them already: they are part of every entry's key.)
        resolve_selection(selection.select or [], selection.ignore, selection.extend_select)
    work: list[tuple[Target, frozenset[str], FixMode | None, Slot | None]] = []
    pending: list[int] = []
    selections: dict[int, set[str] | UserError] = {}
    for i in missed:
        target = targets[i]
        seen = id(target.config) in selections
        codes = _selected(target.config, selection, selections)
        if isinstance(codes, UserError):
            if not seen:  # (reported once per configuration)
                report.errors.append(codes)
            outcomes[i] = _SKIPPED
        else:
            work.append((target, frozenset(codes - _per_file_ignored(target.path, target.config)), fix, slots[i]))
            pending.append(i)
    if work:
        from bnlint.progress import progress_bar

        with progress_bar(len(work), "checking", enabled=progress) as bar:
            for i, (outcome, entry) in zip(pending, _run(work, jobs, bar)):
                outcomes[i] = outcome
                if slots[i] is not None:
                    caches[str(targets[i].config.root)].put(slots[i], entry)
        for result_cache in caches.values():
            result_cache.flush()
    for target, outcome in zip(targets, outcomes):
        if outcome is _SKIPPED or (target.walked and isinstance(outcome, NotAModelError)):
            continue  # (an HDF5 file of weights or data found in a directory is not bnlint's)
        if isinstance(outcome, UserError):
            report.errors.append(outcome)
            continue
        if outcome.error is not None:
            report.errors.append(outcome.error)
        report.files_checked += 1
        report.checked_paths.append(target.display)
        report.targets[target.display] = target
        report.notes.extend(outcome.notes)
        report.diagnostics.extend(outcome.diagnostics)
        report.fixed.extend(outcome.fixed)
        if outcome.diff:
            report.diffs.append(outcome.diff)
            report.diff_encodings.append(outcome.diff_encoding)
        if outcome.text is not None:
            report.text = outcome.text
    # A limit met in a module that several checked files import is the same warning from each.
    report.notes = list(dict.fromkeys(report.notes))
    return report


# The outcome of a file whose configuration is invalid: the error is reported once, per configuration.
_SKIPPED = object()


def _forget_module_answers() -> None:
    """Start the run with no module lookups remembered (a long-lived process may run again)."""
    modules = sys.modules.get("bnlint.readers.modules")  # not imported: nothing remembered
    if modules is not None:
        modules.forget_answers()


def _read_cache(targets: list[Target], selection: Selection, outcomes: list, slots: list) -> dict[str, ResultCache]:
    """Fill *outcomes* with the cached results of *targets*, and *slots* with where to store the others.

    Returns the cache of each project root, by root.
    """
    from bnlint import __version__
    from bnlint.cache import ResultCache, settings_key

    caches: dict[str, ResultCache] = {}
    settings: dict[tuple, str] = {}
    for i, target in enumerate(targets):
        config = target.config
        per_file = _per_file_selectors(target.path, config)
        key = (id(config), str(per_file))
        if key not in settings:
            settings[key] = settings_key(__version__, {
                "command line": [selection.select, selection.ignore, selection.extend_select],
                "select": config.select, "ignore": config.ignore, "extend-select": config.extend_select,
                "per-file-ignores": per_file, "options": config.options,
            })
        root = str(config.root)
        result_cache = caches.get(root) or caches.setdefault(root, ResultCache(config.root))
        slots[i] = result_cache.slot(target.path, target.display, settings[key])
        found = result_cache.load(slots[i])
        if isinstance(found, tuple):
            outcomes[i] = FileOutcome(*found)
        elif found is not None:
            outcomes[i] = found
    return caches


def _check_item(
    target: Target, codes: frozenset[str], fix: FixMode | None, slot: Slot | None
) -> tuple[FileOutcome | UserError, dict | None]:
    """``check_file``, and with a cache *slot* the cache entry for its outcome (made where the file was read)."""
    if slot is None:
        return check_file(target, codes, fix), None
    from bnlint.cache import make_entry
    from bnlint.readers.modules import recording_lookups

    recording = recording_lookups()
    with recording as lookups:
        outcome = check_file(target, codes, fix)
    return outcome, make_entry(slot, outcome, lookups, recording.reads)


def check_file(target: Target, codes: frozenset[str], fix: FixMode | None = None) -> FileOutcome | UserError:
    """Read, lint and possibly fix one file; or the error that stopped it."""
    from bnlint.engine import lint
    from bnlint.readers import read_path

    try:
        if target.text is not None:
            return _check_text(target, codes, fix)
        if target.path.suffix == ".ipynb":
            return _check_notebook(target, codes) if fix is None else _fix_notebook(target, codes, fix)
        if fix is None or target.path.suffix != ".py":
            result = read_path(target.path, target.display)
            notes = list(result.notes)
            if fix is not None:
                notes.append(f"{target.display}: fixes apply to Python source; this saved model was only checked")
            return FileOutcome(lint(result, set(codes), target.config.options), notes)
        from bnlint.fixer import write_atomically  # libcst: only when fixing
        from bnlint.readers.python_source import load_source

        source = load_source(target.path, target.display)
        return _fix_text(target, codes, fix, source.text, lambda text: write_atomically(target.path, source, text),
                         target.path, source.encoding)
    except UserError as error:
        return error
    except Exception as error:  # noqa: BLE001 - a bug of ours: one line for this file, the others go on
        return internal_error(target.display, error)


def _check_text(target: Target, codes: frozenset[str], fix: FixMode | None) -> FileOutcome:
    """``check_file`` for source given on standard input (``target.text``): Python only."""
    from bnlint.engine import lint
    from bnlint.readers.python_source import read_source

    if target.path.suffix not in (".py", ".pyi", ""):
        raise InputError(target.display, "bnlint reads only Python source from standard input (a name ending "
                                         "in .py, or none); give a notebook or saved model by its path")
    file = target.path if target.display != "-" else None  # (the project's modules are found from its name)
    if fix is None:
        return FileOutcome(lint(read_source(target.text, target.display, file), set(codes), target.config.options), [])
    fixed: list[str] = []
    outcome = _fix_text(target, codes, fix, target.text, fixed.append, file)
    if fix.write:
        outcome.text = fixed[0] if fixed else target.text
    return outcome


def _fix_text(target: Target, codes: frozenset[str], fix: FixMode, text: str, write, file: Path | None,
              encoding: str = "utf-8") -> FileOutcome:
    """Fix *text*, the source bnlint reads from *target*; with ``--fix``, *write* takes the fixed text.

    *file* is where the project's modules are found from (None: nowhere, for unnamed standard input).
    """
    from bnlint.fixer import fix_source, unified_diff

    outcome = fix_source(text, target.display, set(codes), target.config.options, fix.unsafe, file)
    changed = outcome.text != text
    if changed and fix.write:
        try:
            write(outcome.text)
        except InputError as error:  # (read-only, changed meanwhile): nothing was fixed, so say what it holds
            from bnlint.engine import lint
            from bnlint.readers.python_source import read_source

            found = lint(read_source(text, target.display, file), set(codes), target.config.options)
            return FileOutcome(found, outcome.notes, error=error)
    diff = unified_diff(target.display, text, outcome.text) if changed and not fix.write else ""
    return FileOutcome(outcome.diagnostics, outcome.notes, outcome.fixed, diff, encoding)


_UNWRITABLE = "bnlint cannot write this notebook's JSON back in its own layout"


def _check_notebook(target: Target, codes: frozenset[str], notebook: Notebook | None = None,
                    writable: bool | None = None) -> FileOutcome:
    """``check_file`` without fixes for a Jupyter notebook (*notebook*, when already loaded).

    When bnlint cannot write the notebook back in its JSON layout (*writable*
    False, or found so), its findings lose their fixes and say why: the
    summary must not offer fixes that ``--fix`` would decline.
    """
    from bnlint.engine import lint
    from bnlint.readers.notebook import json_layout, load_notebook, read_notebook

    notebook = notebook or load_notebook(target.path, target.display)
    result = read_notebook(notebook, target.display, target.path)
    found = lint(result, set(codes), target.config.options)
    if writable is None and any(diagnostic.fix is not None for diagnostic in found):
        writable = json_layout(notebook) is not None  # (worked out only when there is a fix to offer)
    if writable is False:
        for diagnostic in found:
            if diagnostic.fix is not None:
                diagnostic.fix, diagnostic.unfixable = None, _UNWRITABLE
    return FileOutcome(found, list(result.notes))


def _fix_notebook(target: Target, codes: frozenset[str], fix: FixMode) -> FileOutcome:
    """``check_file`` with fixes for a Jupyter notebook: its code cells are fixed as one source."""
    from bnlint.fixer import write_atomically
    from bnlint.readers.notebook import in_cells, json_layout, load_notebook, rewrite
    from bnlint.readers.python_source import SourceText

    notebook = load_notebook(target.path, target.display)
    if json_layout(notebook) is None:
        outcome = _check_notebook(target, codes, notebook, writable=False)
        outcome.notes.append(f"{target.display}: fixes were not applied: {_UNWRITABLE}; it was only checked")
        return outcome
    on_disk = SourceText(notebook.data, notebook.data.decode("utf-8-sig"), "utf-8")

    def write(text: str) -> None:
        write_atomically(target.path, on_disk, rewrite(notebook, text, target.display).decode("utf-8"))

    try:
        outcome = _fix_text(target, codes, fix, notebook.text, write, target.path)
    except InputError as error:  # a cell that is not Python is named (any other problem reads as it was)
        raise InputError(target.display, in_cells(error.problem, notebook.text)) from None
    outcome.notes[:0] = notebook.left_out
    return outcome


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 4
# Files per task sent to a worker: enough to make the per-task cost (a round trip through a pipe)
# negligible, few enough that the workers finish together.
_MAX_CHUNK = 16
# More workers than this (`-j 1800`) would run past the file descriptors select() and the process may
# use (one pipe each), for no gain on any machine bnlint runs on.
_MAX_WORKERS = 64


def _run(work: list, jobs: int | None, bar) -> list:
    """``_check_item`` for every item, in order, in parallel when worthwhile; *bar* advances per file."""
    from bnlint.forking import MAX_TASKS, WorkerError, can_fork, run_forked

    jobs = jobs if jobs is not None else usable_cpus()
    if jobs < 2 or len(work) < _PARALLEL_FROM or not can_fork():
        results = []
        for item in work:
            results.append(_check_item(*item))
            bar.advance()
        return results
    # Biggest files first, so that no worker is left with a large one at the end.
    order = sorted(range(len(work)), key=lambda i: -_size(work[i][0].path))
    workers = min(jobs, len(work), _MAX_WORKERS)
    # At least eight tasks per worker, so that the biggest files (first) are not paired up.
    size = max(1, min(_MAX_CHUNK, len(work) // (workers * 8)), -(-len(work) // MAX_TASKS))
    chunks = [order[start:start + size] for start in range(0, len(order), size)]
    results: list = [None] * len(work)

    def check_chunk(chunk: list[int]) -> list[tuple[int, tuple]]:  # in a forked worker, which has *work*
        return [(i, _check_item(*work[i])) for i in chunk]

    def done(checked: list[tuple[int, tuple]]) -> None:
        for i, outcome in checked:
            results[i] = outcome
        bar.advance(len(checked))

    try:
        run_forked(chunks, check_chunk, workers, done)
    except WorkerError as error:  # (a worker killed from outside: the out-of-memory killer, a kill -9)
        raise UserError(f"the run stopped: {str(error).splitlines()[0]}; no report was made") from None
    return results


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, as ``taskset`` or a container's cpuset sets it).

    ``os.cpu_count()`` counts the machine's CPUs, which overcommits a CI job
    pinned to a few of them.
    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity masks here (macOS, Windows)
        return os.cpu_count() or 1


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _per_file_selectors(path, config: Config) -> list[list[str]]:
    """The selector lists of the ``per-file-ignores`` patterns that match *path*."""
    if not config.per_file_ignores:
        return []
    relative = relative_to_root(path, config).as_posix()
    return [
        list(selectors) for pattern, selectors in config.per_file_ignores.items()
        if fnmatch(relative, pattern) or fnmatch(path.name, pattern)
    ]


def _per_file_ignored(path, config: Config) -> set[str]:
    from bnlint.engine import resolve_selection

    ignored: set[str] = set()
    for selectors in _per_file_selectors(path, config):
        ignored |= resolve_selection(selectors, origin=str(config.path))
    return ignored
