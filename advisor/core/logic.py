"""Three-valued (Kleene) truth: True, False, or UNKNOWN when a fact needed is unknown."""

from __future__ import annotations

from enum import Enum


class Tri(Enum):
    TRUE = "pass"
    FALSE = "fail"
    UNKNOWN = "unknown"

    @staticmethod
    def of(value: bool) -> Tri:
        return _T if value else _F

    # by identity: a member's hash and equality are Python-level calls, and rules combine thousands of these
    def __invert__(self) -> Tri:
        return _F if self is _T else _T if self is _F else self

    def __and__(self, other: Tri) -> Tri:
        if self is _F or other is _F:
            return _F
        return _U if self is _U or other is _U else _T

    def __or__(self, other: Tri) -> Tri:
        if self is _T or other is _T:
            return _T
        return _U if self is _U or other is _U else _F


_T, _F, _U = Tri.TRUE, Tri.FALSE, Tri.UNKNOWN


class Unknown:
    """The value of a fact that could not be read; carries the reason."""

    __slots__ = ("name", "reason")

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason

    def __repr__(self) -> str:
        return f"unknown({self.name}: {self.reason})"

    def __eq__(self, other: object) -> bool:
        """Two unknowns with the same name and reason say the same thing (a rule reads nothing else of one)."""
        return other.__class__ is Unknown and (self.name, self.reason) == (other.name, other.reason)

    def __hash__(self) -> int:
        return hash((self.name, self.reason))
