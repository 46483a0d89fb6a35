"""bnlint.records behaves like the dataclasses it replaces on the cached path."""

from __future__ import annotations

import dataclasses
import doctest
import pickle

import pytest

from bnlint import records
from bnlint.records import FrozenInstanceError, dataclass, field, fields, replace


@dataclass(frozen=True, order=True)
class Point:
    x: int
    y: int = 0
    tags: list = field(default_factory=list, compare=False, repr=False)


@dataclass
class Box:
    items: list = field(default_factory=list)
    name: str = "box"

    def __post_init__(self) -> None:
        self.size = len(self.items)


@dataclass(frozen=True)
class Point3(Point):
    z: int = 0


def test_init_defaults_factories_and_repr():
    assert Point(1) == Point(1, 0) and Point(1).tags == [] and Point(1).tags is not Point(1).tags
    assert repr(Point(1, 2, ["a"])) == "Point(x=1, y=2)"
    assert Box().size == 0 and Box([1, 2]).size == 2 and Box(name="b").name == "b"
    with pytest.raises(TypeError):
        Point()


def test_equality_hash_and_order_ignore_compare_false_fields():
    assert Point(1, 2, ["a"]) == Point(1, 2, ["b"]) and hash(Point(1, 2, ["a"])) == hash(Point(1, 2))
    assert sorted([Point(2), Point(1, 5), Point(1, 1)]) == [Point(1, 1), Point(1, 5), Point(2)]
    assert Point(1) != (1, 0) and Point(1).__lt__((1, 0)) is NotImplemented
    with pytest.raises(TypeError):
        hash(Box())  # mutable records are unhashable, as with dataclasses


def test_eq_false_records_compare_and_hash_by_identity():
    @dataclass(eq=False)
    class Value:
        path: str

    a = Value("x")
    assert a == a and a != Value("x") and len({a, Value("x")}) == 2
    assert repr(a).endswith("Value(path='x')")


def test_frozen_records_refuse_assignment_and_survive_pickle():
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 3
    with pytest.raises(AttributeError):
        del point.y
    assert pickle.loads(pickle.dumps(Point(1, 2))) == Point(1, 2)


def test_inheritance_replace_and_fields():
    assert [f.name for f in fields(Point3)] == ["x", "y", "tags", "z"]
    assert Point3(1, z=4) == Point3(1, 0, [], 4)
    assert replace(Point(1, 2), y=7) == Point(1, 7)

    @dataclasses.dataclass(frozen=True)
    class Standard:
        a: int

    assert replace(Standard(1), a=2) == Standard(2)  # a standard dataclass goes to dataclasses.replace


def test_module_doctest():
    assert doctest.testmod(records).failed == 0
