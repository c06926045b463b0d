"""`@frozen` and `@record` behave as frozen and mutable slotted dataclasses do, for everything advisor relies on."""

from __future__ import annotations

import copy
import pickle
from typing import ClassVar, Generic, TypeVar

import pytest

from advisor.core.frozen import COMPILE_AFTER, FrozenError, asdict, field, fields, frozen, is_value, record, replace

T = TypeVar("T")


@frozen
class Point:
    """A test value."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)
    UNIT: ClassVar[str] = "m"

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


@frozen
class Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            object.__setattr__(self, "value", 0)


@frozen
class Box(Generic[T]):
    item: T | None
    label: str = ""


@frozen
class Point3(Point):
    z: int = 0


@record
class Counter:
    n: int = 0
    seen: list[str] = field(default_factory=list)


def test_construction_defaults_and_errors() -> None:
    assert Point(1) == Point(x=1, y=0, tags=())
    assert Point(1, 2).y == 2 and Point(1, tags=("a",)).tags == ("a",)
    with pytest.raises(TypeError, match="missing required argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional arguments"):
        Point(1, 2, (), 4)  # type: ignore[call-arg]
    assert Checked(-5).value == 0
    with pytest.raises(TypeError, match="missing required argument: 'value'"):
        Checked()  # type: ignore[call-arg]  # a class with __post_init__ keeps the generic init
    assert Point.UNIT == "m" and "UNIT" not in fields(Point) and Point(3, -4).norm1 == 7


def test_frozen_slotted_hashable_and_comparable() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.x
    assert not hasattr(p, "__dict__")
    assert hash(p) == hash(Point(1, 2)) and p != Point(2, 1)
    assert p.__eq__((1, 2, ())) is NotImplemented
    assert {p: 1}[Point(1, 2)] == 1
    assert repr(p) == "Point(x=1, y=2, tags=())"


def test_inheritance_and_generics() -> None:
    q = Point3(1, 2, z=3)
    assert fields(q) == ("x", "y", "tags", "z") and q.norm1 == 3 and q != Point(1, 2)
    assert Box[int](5).item == 5 and Box(None, "empty").label == "empty"


def test_records_are_mutable_and_unhashable() -> None:
    c = Counter()
    c.n += 1
    c.seen.append("a")
    assert c == Counter(1, ["a"]) and Counter().seen == [] and Counter().seen is not c.seen
    with pytest.raises(TypeError):
        hash(c)
    assert not hasattr(c, "__dict__")


def test_replace_fields_asdict_copy_and_pickle() -> None:
    p = Point(1, 2, ("t",))
    assert is_value(p) and not is_value(Point) and fields(p) == ("x", "y", "tags")
    assert replace(p, y=5) == Point(1, 5, ("t",))
    assert replace(Checked(3), value=-1).value == 0  # __post_init__ runs again
    with pytest.raises(TypeError, match="no field 'w'"):
        replace(p, w=1)
    assert asdict(p) == {"x": 1, "y": 2, "tags": ("t",)}
    assert asdict(Box(Point(1))) == {"item": {"x": 1, "y": 0, "tags": ()}, "label": ""}
    assert copy.copy(p) == p and copy.deepcopy(p) == p
    assert pickle.loads(pickle.dumps(p)) == p


def test_a_class_made_often_gets_its_own_init_that_makes_the_same_values() -> None:
    made = [Counter(i) for i in range(COMPILE_AFTER + 4)]
    assert Counter.__init__.__qualname__ == "Counter.__init__"  # its own, compiled after COMPILE_AFTER values
    assert [c.n for c in made] == list(range(COMPILE_AFTER + 4)) and Counter(seen=["a"]) == Counter(0, ["a"])
    assert len({id(c.seen) for c in made}) == len(made)  # a fresh default list each time
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Counter(z=1)  # type: ignore[call-arg]
