"""Keys for remembering what the rules answered, by the values they read.

A rule's outcome is a function of the values of the names it reads. Two values that compare equal can still
read differently in a message: True and 1, 2.5 and 2.5.0 (equal versions differ in nothing else). A key
therefore holds the values with their types and the release numbers of versions. A value that cannot be
hashed (a device_map dict) is keyed by its repr.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from packaging.version import Version


def value_key(values: tuple[Any, ...], *extra: Hashable) -> tuple[Any, ...]:
    """A hashable key for VALUES (and EXTRA, hashable already), equal only for values that read the same."""
    types = tuple(map(type, values))
    spelled = tuple(v.release for v in values if v.__class__ is Version) if Version in types else ()
    key = (values, types, spelled, *extra)
    try:
        hash(key)
    except TypeError:
        key = (tuple(map(repr, values)), types, spelled, *extra)
    return key
