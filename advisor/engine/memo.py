"""Keys for remembering what the rules answered, by the values they read.

A rule's outcome is a function of the values of the names it reads. Two values that compare equal can still
read differently in a message: True and 1, 2.5 and 2.5.0 (equal versions differ in nothing else). A key
therefore holds the values with their types and the release numbers of versions. A value that cannot be
hashed (a device_map dict) is keyed by its repr.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import repeat
from typing import Any

from packaging.version import Version


class Key:
    """A key that hashes once: a long tuple of values (versions hash in Python) is hashed when made, not again
    by every dict it is looked up in."""

    __slots__ = ("_hash", "parts")

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Key and self._hash == other._hash and self.parts == other.parts


def value_key(values: tuple[Any, ...], *extra: Hashable) -> Key:
    """A key for VALUES (and EXTRA, hashable already), equal only for values that read the same."""
    types = tuple(map(type, values))
    spelled = tuple(v.release for v in values if v.__class__ is Version) if Version in types else ()
    try:
        return Key((values, types, spelled, *extra))
    except TypeError:
        return Key((tuple(map(repr, values)), types, spelled, *extra))


def values_of(scope: dict[str, Any], names: Sequence[str]) -> tuple[Any, ...]:
    """The values of NAMES in SCOPE as a plain dict reads them, None when absent, without calling the scope's
    own lookup (which computes memory figures: never one of NAMES)."""
    return tuple(map(dict.get, repeat(scope, len(names)), names))

