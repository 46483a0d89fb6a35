"""Errors a user can cause.

Each is reported as one sentence naming the file and the problem, and makes
``bnlint`` exit with code 2. Anything else that goes wrong is a bug and stays
loud (a traceback).
"""

from __future__ import annotations

__all__ = ["UserError", "InputError", "InternalError", "MissingDependencyError", "NotAModelError", "ConfigError",
           "internal_error"]


class UserError(Exception):
    """A problem with what the user gave bnlint, described in one sentence."""


class InputError(UserError):
    """A path that cannot be checked: missing, unreadable, not UTF-8, not Python."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem

    def __reduce__(self):  # travels back from worker processes
        return (InputError, (self.path, self.problem))


class InternalError(InputError):
    """bnlint itself failed on a file: a bug, reported in one line (exit code 2) instead of a traceback.

    Never cached: it says nothing about the file that a fixed bnlint would repeat.
    """

    def __reduce__(self):
        return (InternalError, (self.path, self.problem))


class MissingDependencyError(InputError):
    """A file bnlint cannot read on this machine: a package its format needs is not installed (h5py).

    Never cached: once the package is installed, the same file reads.
    """

    def __reduce__(self):
        return (MissingDependencyError, (self.path, self.problem))


def internal_error(path: object, error: Exception) -> InternalError:
    """The :class:`InternalError` for *error*, raised while bnlint read, linted or fixed *path*."""
    return InternalError(path, f"bnlint failed on this file ({type(error).__name__}: {error}); "
                               "this is a bug in bnlint, please report it with the file")


class NotAModelError(InputError):
    """A file in a model format that holds no model: an HDF5 file of weights or data.

    Named on the command line, it is an error like any other; found by
    walking a directory, it is passed over (ML repositories keep datasets
    and ``.weights.h5`` files beside their models).
    """

    def __reduce__(self):
        return (NotAModelError, (self.path, self.problem))


class ConfigError(UserError):
    """An invalid configuration file or command-line selection."""
