"""The contract every rule module in ``bnlint.rules`` fulfils.

A rule is a subclass of :class:`Rule` in a module of its own. Its class
docstring is its user documentation, in the sections *What it does / Why is
this bad? / Example / Use instead / Fix safety / Options / References*.
``VALID`` and ``INVALID`` are source snippets that the test suite runs:
every ``INVALID`` snippet marks each line the rule must report with a
trailing ``# expect: CODE`` comment; ``VALID`` snippets must produce nothing.

Rules see only :class:`~bnlint.graph.ModelGraph` objects: never files,
tokens or syntax trees.
"""

from __future__ import annotations

import inspect
from typing import ClassVar, Iterator

from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph

__all__ = ["Rule"]


class Rule:
    """Base class of all rules."""

    code: ClassVar[str]
    name: ClassVar[str]
    #: One line: what is wrong, as the rule table shows it.
    summary: ClassVar[str]
    #: Whether the rule runs when nothing selects it explicitly.
    default: ClassVar[bool] = True
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[str]] = []

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        """Yield a :class:`Violation` for each offending node of *graph*."""
        raise NotImplementedError

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation as ``bnlint rule CODE`` prints it."""
        header = f"{cls.name} ({cls.code})"
        default = "" if cls.default else "\n\nThis rule is off by default; enable it with `select`."
        return f"{header}\n\n{inspect.cleandoc(cls.__doc__ or '')}{default}\n"
