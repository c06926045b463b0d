"""`@frozen` behaves as `@dataclass(frozen=True, slots=True)` does, for everything advisor relies on."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from advisor.core.frozen import frozen


@frozen
class Point:
    """A test value."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)


@frozen
class Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            object.__setattr__(self, "value", 0)


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


def test_frozen_slotted_hashable_and_comparable() -> None:
    p = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x
    assert not hasattr(p, "__dict__")
    assert hash(p) == hash(Point(1, 2)) and p != Point(2, 1)
    assert p.__eq__((1, 2, ())) is NotImplemented
    assert {p: 1}[Point(1, 2)] == 1
    assert repr(p) == "Point(x=1, y=2, tags=())"


def test_dataclass_functions_copy_and_pickle() -> None:
    p = Point(1, 2, ("t",))
    assert dataclasses.is_dataclass(p) and [f.name for f in dataclasses.fields(p)] == ["x", "y", "tags"]
    assert dataclasses.replace(p, y=5) == Point(1, 5, ("t",))
    assert dataclasses.asdict(p) == {"x": 1, "y": 2, "tags": ("t",)}
    assert copy.copy(p) == p and copy.deepcopy(p) == p
    assert pickle.loads(pickle.dumps(p)) == p
