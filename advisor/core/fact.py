"""A single fact: a value, or unknown with the reason, and where it came from."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from advisor.core.frozen import frozen

T = TypeVar("T")


@frozen
class Fact(Generic[T]):
    """A value with its source; `reason` is set (and `value` is None) when the value is unknown."""

    value: T | None
    source: str
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.reason is None

    @classmethod
    def of(cls, value: T, source: str) -> Fact[T]:
        return cls(value, source)

    @classmethod
    def unknown(cls, reason: str, source: str) -> Fact[T]:
        return cls(None, source, reason)

    def get(self, default: T) -> T:
        """The value, or `default` when unknown (or known to be None)."""
        return default if self.value is None else self.value

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": jsonable(self.value), "source": self.source}
        if self.reason is not None:
            out["unknown"] = self.reason
        return out


def jsonable(value: object) -> Any:
    """Turn a fact value into plain JSON (tuples to lists, versions to strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | list | frozenset | set):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, frozenset | set) else items
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)
