"""Small data classes for the modules a cached ``bnlint check`` imports.

A fully cached run does almost no work, so its time is Python's start-up and
imports; the standard ``dataclasses`` module alone costs about 10 ms there (it
imports ``inspect``, which imports ``ast``, ``dis``, ``tokenize``...), a fifth
of the run. This module gives the subset bnlint's records use, with the same
behaviour: ``@dataclass`` with ``frozen`` and ``order``, ``field`` with
``default``, ``default_factory``, ``repr`` and ``compare``, fields inherited
from record base classes, ``__post_init__``, and :func:`replace` and
:func:`fields`. Classes keep ``__dataclass_fields__`` (name -> :class:`Field`),
so code that lists a record's fields works on both kinds.

>>> @dataclass(frozen=True, order=True)
... class Point:
...     x: int
...     y: int = 0
>>> Point(1) < Point(1, 2), replace(Point(1), y=5)
(True, Point(x=1, y=5))
"""

from __future__ import annotations

__all__ = ["FrozenInstanceError", "Field", "dataclass", "field", "fields", "replace"]

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    """One field of a record: its name, default or default factory, and whether repr/compare use it."""

    __slots__ = ("name", "default", "default_factory", "repr", "compare")

    def __init__(self, default=_MISSING, default_factory=_MISSING, repr: bool = True, compare: bool = True) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


def field(*, default=_MISSING, default_factory=_MISSING, repr: bool = True, compare: bool = True):
    """A field with a default (or a factory for one), optionally left out of repr or comparisons."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, repr, compare)


def fields(record) -> tuple[Field, ...]:
    """The fields of a record class or instance, in order."""
    return tuple(record.__dataclass_fields__.values())


def replace(record, **changes):
    """A copy of *record* with *changes* (a standard dataclass is handed to ``dataclasses.replace``)."""
    names = record.__dataclass_fields__
    if not all(isinstance(value, Field) for value in names.values()):
        import dataclasses

        return dataclasses.replace(record, **changes)
    values = {name: getattr(record, name) for name in names}
    values.update(changes)
    return record.__class__(**values)


def dataclass(cls=None, /, *, frozen: bool = False, order: bool = False, eq: bool = True):
    """Make *cls* a record: ``__init__``, ``__repr__``, ``__eq__`` (and ``__hash__`` when frozen), ordering.

    With ``eq=False`` records compare (and hash) by identity, as with dataclasses.
    """

    def wrap(cls):
        return _process(cls, frozen, order, eq)

    return wrap if cls is None else wrap(cls)


def _process(cls, frozen: bool, order: bool, eq: bool = True):
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        found.update(base.__dict__.get("__dataclass_fields__", {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        if isinstance(value, Field):
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        found[name] = spec
    cls.__dataclass_fields__ = found
    names = tuple(found)
    compared = tuple(name for name, spec in found.items() if spec.compare)
    _set(cls, "__init__", _make_init(cls, found, frozen))
    _set(cls, "__repr__", _make_repr(tuple(name for name, spec in found.items() if spec.repr)))
    key = _key(compared)
    if eq and "__eq__" not in cls.__dict__:
        def __eq__(self, other):
            return key(self) == key(other) if other.__class__ is self.__class__ else NotImplemented
        cls.__eq__ = __eq__
        if frozen:
            cls.__hash__ = lambda self: hash(key(self))
        elif "__hash__" not in cls.__dict__:
            cls.__hash__ = None
    if order:
        for method, compare in (("__lt__", tuple.__lt__), ("__le__", tuple.__le__),
                                ("__gt__", tuple.__gt__), ("__ge__", tuple.__ge__)):
            _set(cls, method, _make_order(key, compare))
    if frozen:
        def __setattr__(self, name, value):
            if type(self) is cls or name in names:
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self, name):
            if type(self) is cls or name in names:
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)

        cls.__setattr__ = __setattr__
        cls.__delattr__ = __delattr__
    cls.__match_args__ = names
    return cls


def _set(cls, name: str, value) -> None:
    if name not in cls.__dict__:
        setattr(cls, name, value)


def _key(names: tuple[str, ...]):
    def key(record) -> tuple:
        return tuple([getattr(record, name) for name in names])

    return key


def _make_order(key, compare):
    def method(self, other):
        return compare(key(self), key(other)) if other.__class__ is self.__class__ else NotImplemented

    return method


def _make_repr(names: tuple[str, ...]):
    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _make_init(cls, found: dict[str, Field], frozen: bool):
    """Compile an ``__init__`` taking the fields in order, as dataclasses does."""
    scope: dict = {"_MISSING": _MISSING, "_setattr": object.__setattr__}
    parameters, lines = [], []
    for name, spec in found.items():
        value = name
        if spec.default_factory is not _MISSING:
            scope[f"_factory_{name}"] = spec.default_factory
            parameters.append(f"{name}=_MISSING")
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
        elif spec.default is not _MISSING:
            scope[f"_default_{name}"] = spec.default
            parameters.append(f"{name}=_default_{name}")
        else:
            parameters.append(name)
        lines.append(f"  _setattr(self, {name!r}, {value})" if frozen else f"  self.{name} = {value}")
    if hasattr(cls, "__post_init__"):
        lines.append("  self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + ("\n".join(lines) or "  pass") + "\n"
    exec(source, scope)  # noqa: S102 - generated from the class's own field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
