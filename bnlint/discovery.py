"""Which files a ``bnlint check PATH ...`` run reads, and under which configuration.

Directories are walked recursively (symbolic links are followed, each real
directory at most once, so a link loop ends); files are kept when a reader
accepts their suffix and no ``exclude`` / ``extend-exclude`` pattern
matches below the directory named. Paths named explicitly are checked
regardless, unless ``--force-exclude`` asks to apply exclusions to them too
(the pre-commit hook does).
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatch, translate
from functools import lru_cache
from pathlib import Path, PurePath

from bnlint.config import Config, find_config
from bnlint.errors import InputError, UserError
from bnlint.readers import is_readable, is_savedmodel
from bnlint.records import dataclass

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import Callable

__all__ = ["Target", "discover", "is_excluded", "path_problem", "stdin_target"]


@dataclass(frozen=True)
class Target:
    """One file to check: where it is, how to show it, which configuration applies."""

    path: Path
    display: str
    config: Config
    #: Found by walking a directory (not named): a file that holds no model is then passed over.
    walked: bool = False
    #: The source read from standard input, checked as the content of *path* (see :func:`stdin_target`).
    text: str | None = None


def discover(arguments: list[str], force_exclude: bool = False) -> tuple[list[Target], list[UserError]]:
    """The files to check for the command-line *arguments*, and the errors met on the way.

    A path named on the command line is checked even when an exclude
    pattern matches it, unless *force_exclude* is set (as the pre-commit
    hook does: it names every staged file).
    """
    targets: list[Target] = []
    errors: list[UserError] = []
    configs: dict[Path, Config] = {}
    for argument in arguments:
        path = Path(argument)
        problem = path_problem(argument, path)
        if problem is not None:
            errors.append(InputError(argument or "''", problem))
            continue
        try:
            key = Path(os.path.abspath(path if path.is_dir() else path.parent))  # (as find_config walks it)
            config = configs.get(key) or configs.setdefault(key, find_config(path))
        except UserError as error:
            errors.append(error)
            continue
        if force_exclude and is_excluded(path, config):
            continue
        if path.is_dir() and not is_savedmodel(path):
            targets.extend(_walk(path, argument, config, errors))
        else:
            targets.append(Target(path, argument, config))
    return targets, errors


def path_problem(argument: str, path: Path) -> str | None:
    """Why the command-line *argument* (as *path*) cannot be checked, or None.

    Only files and directories are read: a FIFO, socket or device would block
    the run or mean nothing, and a name the system refuses (too long) is one
    error, not a traceback.
    """
    if not argument:  # (Path("") is the current directory)
        return "is an empty path; name a file or directory ('.' for the current one)"
    try:
        if not path.exists():
            return "a broken symbolic link" if path.is_symlink() else "no such file or directory"
        if not path.is_dir() and not path.is_file():
            return "is not a regular file or a directory (a FIFO, socket or device), so bnlint cannot read it"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return None


def stdin_target(text: str, filename: str | None, force_exclude: bool = False) -> Target | None:
    """The target for source *text* read from standard input, as the file *filename* (shown as ``-`` without one).

    The file need not exist: its name decides the configuration (found from
    its directory, as for a file on disk), which of the project's modules its
    imports name, and, with *force_exclude*, whether it is excluded (None).
    """
    path = Path(filename) if filename else Path("-")
    try:
        if filename and path.is_dir():
            raise InputError(filename, "is a directory; --stdin-filename names the file the source on standard input is")
        config = find_config(path.absolute())
    except OSError as error:  # a name the system refuses (too long)
        raise InputError(filename, f"cannot be a file name ({error.strerror or error})") from None
    if force_exclude and filename and is_excluded(path, config):
        return None
    return Target(path.absolute(), filename or "-", config, text=text)


def _walk(root: Path, argument: str, config: Config, errors: list[UserError]) -> list[Target]:
    """The files to check under *root*; a directory or file that cannot be read is added to *errors*."""
    found: list[Target] = []
    visited: set[str] = set()

    def display(path: str | Path) -> str:
        return os.path.normpath(os.path.join(argument, os.path.relpath(path, root)))

    def unreadable(error: OSError) -> None:
        errors.append(InputError(display(error.filename or root), f"cannot be read ({error.strerror or error}), "
                                                                  "so the files in it are not checked"))

    for directory, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        real = os.path.realpath(directory)
        if real in visited:
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not is_excluded(Path(directory, d), config, root))
        for name in [d for d in dirnames if is_savedmodel(Path(directory, d))]:
            # A SavedModel directory is one model to read, not a tree to walk.
            dirnames.remove(name)
            found.append(Target(Path(directory, name), display(Path(directory, name)), config))
        for filename in sorted(filenames):
            path = Path(directory, filename)
            if not is_readable(path) or is_excluded(path, config, root):
                continue
            try:
                regular = path.is_file()
            except OSError as error:  # (a directory that can be listed but not entered)
                errors.append(InputError(display(path), f"cannot be read ({error.strerror or error})"))
                continue
            if regular:
                found.append(Target(path, display(path), config, walked=True))
    return found


def is_excluded(path: Path, config: Config, walked_from: Path | None = None) -> bool:
    """True when an exclude pattern matches *path*.

    Patterns without a slash match a single path component (``.venv``,
    ``*_pb2.py``) below the directory being walked (*walked_from*) or, for a
    path named explicitly, below the configuration's directory. Patterns
    with a slash match the path relative to the configuration's directory
    (``tests/fixtures/*``).
    """
    patterns = config.exclude + config.extend_exclude
    if not patterns:
        return False
    component, anchored = _matchers(tuple(patterns))
    if walked_from is not None:
        parts = Path(os.path.relpath(path, walked_from)).parts
        if any(component(part) for part in parts):
            return True
        if not anchored:
            return False
    relative = relative_to_root(path, config)
    if walked_from is None:
        parts = relative.parts if not relative.is_absolute() else (path.name,)
        if any(component(part) for part in parts):
            return True
    if anchored and not relative.is_absolute():
        posix = relative.as_posix()
        return any(fnmatch(posix, pattern) or fnmatch(posix, pattern + "/*") for pattern in anchored)
    return False


@lru_cache(maxsize=64)
def _matchers(patterns: tuple[str, ...]) -> tuple[Callable[[str], bool], tuple[str, ...]]:
    """A test for one path component against every pattern without a slash, and the patterns with one.

    One compiled expression for all component patterns: a walk of a thousand files asks
    seventeen default patterns about every component of every path.
    """
    plain = [pattern for pattern in patterns if "/" not in pattern]
    expression = re.compile("|".join(f"(?:{translate(pattern)})" for pattern in plain)) if plain else None
    anchored = tuple(pattern.rstrip("/") for pattern in patterns if "/" in pattern)
    return (lambda part: expression.match(part) is not None) if expression else (lambda part: False), anchored


def relative_to_root(path: Path, config: Config) -> PurePath:
    """*path* relative to the configuration's directory, or absolute when outside it.

    Compared as named, then with symbolic links resolved on both sides (a checkout reached through
    a link, `/tmp` on macOS): exclude and per-file-ignores patterns match either way.
    """
    relative = relative_to(path, Path(os.path.abspath(config.root)))
    if relative.is_absolute():
        relative = relative_to(os.path.realpath(path), _resolved(config.root))
    return relative


def relative_to(path: str | Path, base: Path) -> PurePath:
    """*path* (made absolute, not resolved) relative to the absolute *base*, or absolute when outside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(base)
    except ValueError:
        return absolute


@lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    return root.resolve()
