"""What a reader hands to the engine."""

from __future__ import annotations

from bnlint.graph import ModelGraph
from bnlint.records import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ReadResult"]


@dataclass
class ReadResult:
    """The models read from one path.

    ``text`` is the source text for Python files (the engine reads
    suppression comments from it) and ``None`` for saved models. ``notes``
    are things the reader could not fully analyse, shown to the user as
    warnings. For a Jupyter notebook, ``notebook`` is set and ``text`` is
    its code cells as one source (:mod:`bnlint.readers.notebook`).
    """

    path: str
    graphs: list[ModelGraph]
    text: str | None = None
    notes: list[str] = field(default_factory=list)
    notebook: bool = False
    #: The parsed tree of ``text``, when the reader parsed it (the engine reads it for fixes' syntax).
    tree: Any = field(default=None, repr=False)
    #: Models the file also makes, read only to check fixes: a subclassed layer or model made again
    #: with other arguments (``ConvBlock(8, use_bn=False)``), whose class a fix would change too.
    variants: list[ModelGraph] = field(default_factory=list, repr=False)
