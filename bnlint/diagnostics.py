"""Findings: what rules report and what users see.

A rule yields one :class:`Violation` per offending layer call. The engine
groups violations that share a rule and an origin (one constructor call in
the source, or one saved layer) into a :class:`Diagnostic`, which carries
the number of layer instances and their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bnlint.graph import Origin, SavedLayer, Site

__all__ = ["Violation", "Diagnostic"]


@dataclass(frozen=True)
class Violation:
    """One layer call that breaks a rule.

    ``node`` is the node the finding is about; its origin is where the
    finding is reported (and suppressed).
    """

    node: int
    message: str
    #: Where to report, when that is not the node's own origin (a ``fit`` call).
    origin: Origin | None = None


@dataclass
class Diagnostic:
    """One finding at one origin, possibly covering many layer instances."""

    code: str
    name: str
    message: str
    origin: Origin
    instances: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.origin.path

    def sort_key(self) -> tuple:
        if isinstance(self.origin, Site):
            return (self.origin.path, 0, self.origin.line, self.origin.column, "", self.code)
        assert isinstance(self.origin, SavedLayer)
        return (self.origin.path, 1, 0, 0, self.origin.layer_name, self.code)

    def to_dict(self) -> dict:
        """The finding as JSON-ready data (schema in the README)."""
        data: dict = {"code": self.code, "name": self.name, "message": self.message, "path": self.path}
        if isinstance(self.origin, Site):
            data["location"] = {"line": self.origin.line, "column": self.origin.column}
            data["end_location"] = {"line": self.origin.end_line, "column": self.origin.end_column}
        else:
            data["layer"] = self.origin.layer_name
        data["instances"] = len(self.instances)
        data["layers"] = list(self.instances)
        data["models"] = list(self.models)
        return data
