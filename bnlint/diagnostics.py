"""Findings: what rules report, what they propose to change, and what users see.

A rule yields one :class:`Violation` per offending layer call, optionally
with a :class:`Fix`: a description, an :class:`Applicability` and the
*fix intents* that realise it (:class:`SetArgument`, :class:`InsertLayer`,
:class:`RemoveLayer`, :class:`MoveLayer`). The engine
groups violations that share a rule and an origin (one constructor call in
the source, or one saved layer) into a :class:`Diagnostic`, which carries
the number of layer instances and their names. Writers realise intents on
the origin; they never decide what to change.
"""

from __future__ import annotations

from enum import Enum

from bnlint.graph import Origin, SavedLayer, Site
from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Applicability", "SetArgument", "InsertLayer", "RemoveLayer", "MoveLayer", "FixIntent", "Fix", "Violation",
    "Diagnostic", "NOT_A_CHAIN",
]

#: Why a move or reorder is not offered: :meth:`~bnlint.graph.ModelGraph.is_chain` is false.
NOT_A_CHAIN = "a layer on the way has another input or consumer, or is a model output: a move would rewire them"


class Applicability(str, Enum):
    """How far a fix may be trusted.

    ``safe`` keeps what the model computes or only removes waste, and is
    applied by ``--fix``; ``unsafe`` changes how the model trains, and
    needs ``--unsafe-fixes`` too.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class SetArgument:
    """Set constructor argument *key* of the layer built at *site* to *value* (a Python literal).

    ``class_name`` lets the writer find a positional argument of that name.
    With *follow*, an argument written as a plain name (``momentum=m``) is
    followed to the literals its value is written as (``m = 0.1``, a
    parameter's default, what the file's calls pass), and those are set
    instead (see :mod:`bnlint.writers.value_sources`); without it, the name
    is replaced by *value*. An *optional* edit is one the fix can do
    without (the ``use_bias=False`` beside the BN that BN001 inserts): if it
    cannot be made, the rest of the fix is still made.
    """

    site: Site
    class_name: str
    key: str
    value: Any
    follow: bool = False
    optional: bool = False


@dataclass(frozen=True)
class InsertLayer:
    """Insert a new layer (``class_name`` with *arguments*) right after the layer built at *after*.

    With ``rename = (old, new)``, the new layer is named like its neighbour:
    the ``name=`` expression of the call at *after*, with its final *old*
    replaced by *new* (``name + "_1_conv"`` gives ``name + "_1_bn"``).
    """

    after: Site
    class_name: str
    arguments: tuple[tuple[str, Any], ...] = ()
    rename: tuple[str, str] | None = None

    @property
    def site(self) -> Site:
        return self.after


@dataclass(frozen=True)
class RemoveLayer:
    """Remove the layer built at *site*, connecting its input to its consumers."""

    site: Site


@dataclass(frozen=True)
class MoveLayer:
    """Move the layer built at *site*, unchanged, to right after the layer built at *after*."""

    site: Site
    after: Site


#: Every kind of fix intent a writer may be asked to realise.
FixIntent = SetArgument | InsertLayer | RemoveLayer | MoveLayer


@dataclass(frozen=True)
class Fix:
    """A change that resolves a finding: what it does, how safe it is, and its intents."""

    description: str
    applicability: Applicability
    intents: tuple[FixIntent, ...]
    #: The layers the fix rests on without editing them (the BN that makes a bias redundant): the
    #: fix is withdrawn when an ``if``, loop or ``try`` holds some of its layers and not the others.
    #: Not compared: the instances of one call may rest on different layers (a shared conv, a BN after
    #: each use) and still take the same fix; the engine joins their contexts.
    context: tuple[Site, ...] = field(default=(), compare=False)


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
    fix: Fix | None = None
    #: Why there is no fix, when the rule has one for other cases (shown to the user).
    unfixable: str | None = None


@dataclass
class Diagnostic:
    """One finding at one origin, possibly covering many layer instances."""

    code: str
    name: str
    message: str
    origin: Origin
    instances: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    #: The fix every instance agrees on, if any.
    fix: Fix | None = None
    #: Why the finding has no fix although its rule has one (shown to the user).
    unfixable: str | None = None
    #: In a Jupyter notebook: the cell's number (from 1, every cell counted) and the line of the
    #: notebook's Python text where the cell starts; ``origin`` has lines of that text.
    cell: tuple[int, int] | None = None

    @property
    def path(self) -> str:
        return self.origin.path

    @property
    def position(self) -> Origin:
        """Where to show the finding: ``origin``, with lines counted from its cell's start in a notebook."""
        if self.cell is None or not isinstance(self.origin, Site):
            return self.origin
        return self.origin.in_cell(*self.cell)

    def sort_key(self) -> tuple:
        if isinstance(self.origin, Site):
            return (self.origin.path, 0, self.origin.line, self.origin.column, "", self.code)
        assert isinstance(self.origin, SavedLayer)
        return (self.origin.path, 1, 0, 0, self.origin.layer_name, self.code)

    def to_dict(self) -> dict:
        """The finding as JSON-ready data (schema in the README)."""
        data: dict = {"code": self.code, "name": self.name, "message": self.message, "path": self.path}
        position = self.position
        if isinstance(position, Site):
            data["location"] = {"line": position.line, "column": position.column}
            data["end_location"] = {"line": position.end_line, "column": position.end_column}
            if position.cell is not None:
                data["cell"] = position.cell
        else:
            data["layer"] = self.origin.layer_name
        data["instances"] = len(self.instances)
        data["layers"] = list(self.instances)
        data["models"] = list(self.models)
        data["fix"] = (
            {"description": self.fix.description, "applicability": self.fix.applicability.value}
            if self.fix is not None else None
        )
        data["unfixable"] = self.unfixable
        return data
