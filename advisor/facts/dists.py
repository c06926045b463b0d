"""Distributions on the module search path, read from their `*.dist-info` folder names."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from advisor.facts.software import normalize

_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)\.(dist|egg)-info$")


def dist_infos(paths: Sequence[str] | None = None) -> tuple[tuple[str, str, str], ...]:
    """(folder, normalised name, version) of every `*.dist-info` / `*.egg-info` folder on `paths`
    (default sys.path), in path order. Folder names give this without importlib.metadata, whose
    import alone costs tens of milliseconds; one scan per search path serves every lookup of a process."""
    return _scan(tuple(paths if paths is not None else sys.path))


@cache
def _scan(paths: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    found: list[tuple[str, str, str]] = []
    for entry in paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            m = _DIST_INFO.match(name)
            if m:
                found.append((entry or ".", normalize(m.group("name")), m.group("version")))
    return tuple(found)


def installed_versions(paths: list[str] | None = None) -> dict[str, str]:
    """Normalised distribution name → version on sys.path (first wins)."""
    found: dict[str, str] = {}
    for _, name, version in dist_infos(paths):
        found.setdefault(name, version)
    return found


def find_distribution(dist: str, paths: Sequence[str] | None = None) -> tuple[Path, str] | None:
    """(the folder holding it, its version) for a distribution on `paths` (default sys.path)."""
    want = normalize(dist)
    return next(((Path(folder), version) for folder, name, version in dist_infos(paths) if name == want), None)
