"""Three-valued (Kleene) truth: True, False, or UNKNOWN when a fact needed is unknown."""

from __future__ import annotations

from enum import Enum


class Tri(Enum):
    TRUE = "pass"
    FALSE = "fail"
    UNKNOWN = "unknown"

    @staticmethod
    def of(value: bool) -> Tri:
        return Tri.TRUE if value else Tri.FALSE

    def __invert__(self) -> Tri:
        return {Tri.TRUE: Tri.FALSE, Tri.FALSE: Tri.TRUE, Tri.UNKNOWN: Tri.UNKNOWN}[self]

    def __and__(self, other: Tri) -> Tri:
        if Tri.FALSE in (self, other):
            return Tri.FALSE
        return Tri.UNKNOWN if Tri.UNKNOWN in (self, other) else Tri.TRUE

    def __or__(self, other: Tri) -> Tri:
        if Tri.TRUE in (self, other):
            return Tri.TRUE
        return Tri.UNKNOWN if Tri.UNKNOWN in (self, other) else Tri.FALSE


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
