"""``[tool.bnlint]`` configuration: discovery and validation.

Configuration lives in ``pyproject.toml`` under ``[tool.bnlint]``, or at the
top level of ``bnlint.toml`` / ``.bnlint.toml``. The file used for a checked
path is the nearest one found walking up from it (a ``pyproject.toml``
without a ``[tool.bnlint]`` table is passed over). Glob patterns are
relative to the directory holding that file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bnlint.errors import ConfigError
from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["Config", "find_config", "load_config", "DEFAULT_EXCLUDE", "CONFIG_FILES"]

CONFIG_FILES = (".bnlint.toml", "bnlint.toml", "pyproject.toml")

# Directories no one wants linted; `exclude` replaces this list, `extend-exclude` adds to it.
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".eggs", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".bnlint_cache", "build", "dist",
    "node_modules", "site-packages", ".ipynb_checkpoints",
)

_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_KNOWN_KEYS = set(_LIST_KEYS) | {"per-file-ignores"}


@dataclass
class Config:
    """Settings for the files under one configuration file."""

    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    #: Rule options (flat keys such as ``bn-position``), validated against the rules.
    options: dict[str, Any] = field(default_factory=dict)


def _rule_options() -> dict:
    """Every rule's options by key (the rules define which keys are valid)."""
    from bnlint.engine import all_rules

    return {key: option for rule in all_rules().values() for key, option in rule.options.items()}


def find_config(start: Path) -> Config:
    """The configuration that applies to *start* (a file or directory).

    Raises
    ------
    ConfigError
        The nearest configuration file is not valid.
    """
    # Walked up from the path as named, not from a symbolic link's target: `proj/model.py ->
    # ../shared/model.py` is checked under proj's configuration, whether named or found in a walk.
    start = Path(os.path.abspath(start))
    directory = start if start.is_dir() else start.parent
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = candidate_dir / name
            if candidate.is_file():
                table = _read_table(candidate)
                if table is not None:
                    return load_config(table, candidate)
    return Config()


def _read_table(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration file ({error.strerror or error})") from None
    if path.name == "pyproject.toml" and b"bnlint" not in raw:
        # Passed over unparsed: a [tool.bnlint] table names bnlint, and tomllib
        # (with typing and datetime) would cost a one-file pre-commit run 6 ms.
        return None
    # Imported here: a run without a configuration file (or answered from the cache) never needs TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))  # (a byte order mark, as some Windows editors write, is read past)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: is not valid TOML ({error})") from None
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool", {})
    table = tool.get("bnlint") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.bnlint] must be a table")
    return table


def load_config(table: dict[str, Any], path: Path) -> Config:
    """Validate a configuration *table* read from *path*.

    Raises
    ------
    ConfigError
        An unknown key, or a value of the wrong type.
    """
    where = "[tool.bnlint]" if path.name == "pyproject.toml" else "the configuration"
    # The rules (all of them imported) are asked about option keys only when the table has some.
    rule_options = _rule_options() if set(table) - _KNOWN_KEYS else {}
    unknown = sorted(set(table) - _KNOWN_KEYS - set(rule_options))
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS | set(rule_options)))
        raise ConfigError(f"{path}: unknown key '{unknown[0]}' in {where} (known keys: {known})")
    config = Config(path=path, root=path.parent)
    for key in sorted(set(table) & set(rule_options)):
        problem = rule_options[key].problem(table[key])
        if problem is not None:
            raise ConfigError(f"{path}: '{key}' in {where} {problem}")
        config.options[key] = table[key]
    for key in _LIST_KEYS:
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError(f"{path}: '{key}' in {where} must be a list of strings")
            is_pattern = key in ("exclude", "extend-exclude")
            if is_pattern:
                _check_patterns(value, f"{path}: '{key}' in {where}")
            setattr(config, key.replace("-", "_"), [_pattern(item) if is_pattern else item for item in value])
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        valid = isinstance(value, dict) and all(
            isinstance(codes, list) and all(isinstance(code, str) for code in codes) for codes in value.values()
        )
        if not valid:
            raise ConfigError(f"{path}: 'per-file-ignores' in {where} must map glob patterns to lists of rule codes")
        _check_patterns(value, f"{path}: 'per-file-ignores' in {where}")
        config.per_file_ignores = {_pattern(pattern): list(codes) for pattern, codes in value.items()}
    return config


def _check_patterns(patterns: Iterable[str], where: str) -> None:
    """Refuse a pattern with a ``[`` that no ``]`` closes (``data[12``): fnmatch would take it literally,
    and the pattern would quietly match nothing. ``[[]`` is a literal ``[``.

    >>> _check_patterns(["build/", "*_[0-9].py", "a[[]b"], "here")
    >>> _check_patterns(["data[12"], "here")
    Traceback (most recent call last):
    ...
    bnlint.errors.ConfigError: here: pattern 'data[12' has a '[' that no ']' closes (write '[[]' for a literal '[')
    """
    for pattern in patterns:
        at = 0
        while (at := pattern.find("[", at)) != -1:
            end = at + 1
            if pattern[end:end + 1] == "!":
                end += 1
            if pattern[end:end + 1] == "]":  # (a `]` first in a set is one of its characters)
                end += 1
            end = pattern.find("]", end)
            if end == -1:
                raise ConfigError(f"{where}: pattern {pattern!r} has a '[' that no ']' closes "
                                  "(write '[[]' for a literal '[')")
            at = end + 1


def _pattern(pattern: str) -> str:
    """A path pattern as it is matched: relative to the configuration's directory, so without a leading ``./``."""
    while pattern.startswith("./"):
        pattern = pattern[2:].lstrip("/")
    return pattern
