"""Remembering a value computed from one object, by the object's identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def once_per(cache: dict[int, tuple[Any, Any]], obj: object, make: Callable[[], T], limit: int = 1024) -> T:
    """MAKE(), remembered in CACHE by the identity of OBJ (held by the entry, so its id is not reused
    meanwhile); CACHE is emptied once it holds LIMIT entries."""
    hit = cache.get(id(obj))
    if hit is None or hit[0] is not obj:
        if len(cache) >= limit:
            cache.clear()
        hit = cache[id(obj)] = (obj, make())
    made: T = hit[1]
    return made
