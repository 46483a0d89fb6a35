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

from bnlint.diagnostics import Violation
from bnlint.graph import ModelGraph
from bnlint.records import dataclass

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any, Callable, ClassVar, Iterator

__all__ = ["Rule", "Option"]


@dataclass(frozen=True)
class Option:
    """A setting a rule reads from ``[tool.bnlint]`` (a flat key, unique across rules).

    ``choices`` limits a string option to those values; otherwise the value
    must have the default's type.
    """

    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    #: For a table option: returns why a value is not valid, or None.
    validate: Callable[[Any], str | None] | None = None

    def problem(self, value: Any) -> str | None:
        """Why *value* is not valid for this option, or None (a whole-number option, a batch size, must be positive)."""
        if self.validate is not None:
            return self.validate(value)
        if self.choices is not None:
            return None if value in self.choices else f"must be one of {', '.join(repr(c) for c in self.choices)}"
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return None
        if expected is int:
            whole = isinstance(value, int) and not isinstance(value, bool)
            return None if whole and value > 0 else "must be a positive whole number"
        if not isinstance(value, expected):
            return f"must be {'a number' if expected is float else 'true or false' if expected is bool else 'a string'}"
        return None


class Rule:
    """Base class of all rules."""

    code: ClassVar[str]
    name: ClassVar[str]
    #: One line: what is wrong, as the rule table shows it.
    summary: ClassVar[str]
    #: Whether the rule runs when nothing selects it explicitly.
    default: ClassVar[bool] = True
    #: Settings by their ``[tool.bnlint]`` key.
    options: ClassVar[dict[str, Option]] = {}
    #: How safe the rule's fixes are ("safe" / "unsafe"), or None when it proposes none.
    fix: ClassVar[str | None] = None
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[str]] = []

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        settings = settings or {}
        #: The option values in force: configured ones, else the defaults.
        self.settings = {key: settings.get(key, option.default) for key, option in self.options.items()}

    def check(self, graph: ModelGraph) -> Iterator[Violation]:
        """Yield a :class:`Violation` for each offending node of *graph*."""
        raise NotImplementedError

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation as ``bnlint rule CODE`` prints it."""
        from inspect import cleandoc  # only for documentation: checking never imports inspect

        header = f"{cls.name} ({cls.code})"
        default = "" if cls.default else "\n\nThis rule is off by default; enable it with `select`."
        return f"{header}\n\n{cleandoc(cls.__doc__ or '')}{default}\n"
