"""Check files: discovery -> readers -> engine, collecting findings and errors.

This is what ``bnlint check`` and :func:`bnlint.check` run. Each file is
read and linted on its own; a file that cannot be read becomes an error and
the others are still checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch

from bnlint.config import Config
from bnlint.diagnostics import Diagnostic
from bnlint.discovery import discover, relative_to_root
from bnlint.engine import lint, resolve_selection
from bnlint.errors import UserError
from bnlint.readers import read_path

__all__ = ["Selection", "CheckReport", "check_paths"]


@dataclass(frozen=True)
class Selection:
    """Rule selection given on the command line; ``None`` defers to the configuration."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


@dataclass
class CheckReport:
    """Everything one run found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[UserError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0


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


def check_paths(arguments: list[str], selection: Selection = Selection(), force_exclude: bool = False) -> CheckReport:
    """Check every file under *arguments* (see :func:`~bnlint.discovery.discover` for *force_exclude*)."""
    report = CheckReport()
    targets, report.errors = discover(arguments, force_exclude)
    cache: dict[int, set[str] | UserError] = {}
    for target in targets:
        key = id(target.config)
        if key not in cache:
            try:
                cache[key] = codes_for(target.config, selection)
            except UserError as error:
                cache[key] = error
                report.errors.append(error)
        codes = cache[key]
        if isinstance(codes, UserError):
            continue
        codes = codes - _per_file_ignored(target.path, target.config)
        try:
            result = read_path(target.path, target.display)
        except UserError as error:
            report.errors.append(error)
            continue
        report.files_checked += 1
        report.notes.extend(result.notes)
        report.diagnostics.extend(lint(result, codes, target.config.options))
    return report


def _per_file_ignored(path, config: Config) -> set[str]:
    if not config.per_file_ignores:
        return set()
    relative = relative_to_root(path, config).as_posix()
    ignored: set[str] = set()
    for pattern, selectors in config.per_file_ignores.items():
        if fnmatch(relative, pattern) or fnmatch(path.name, pattern):
            ignored |= resolve_selection(list(selectors), origin=str(config.path))
    return ignored
