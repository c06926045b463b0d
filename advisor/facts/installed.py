"""This machine's packages, read from installed metadata without importing any of them."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

from advisor.facts.fact import Fact
from advisor.facts.software import (
    EXTENSION_MODULES,
    RELEVANT_DISTS,
    Package,
    Software,
    TorchBuild,
    normalize,
    unknown_torch_build,
)

SOURCE = "installed (package metadata)"
_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)\.(dist|egg)-info$")


def dist_infos(paths: Sequence[str] | None = None) -> Iterator[tuple[Path, str, str]]:
    """(folder, normalised name, version) of every `*.dist-info` / `*.egg-info` folder on `paths`
    (default sys.path), in path order. Folder names give this without importlib.metadata, whose
    import alone costs tens of milliseconds."""
    for entry in paths if paths is not None else sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            m = _DIST_INFO.match(name)
            if m:
                yield Path(entry or "."), normalize(m.group("name")), m.group("version")


def installed_versions(paths: list[str] | None = None) -> dict[str, str]:
    """Normalised distribution name → version on sys.path (first wins)."""
    found: dict[str, str] = {}
    for _, name, version in dist_infos(paths):
        found.setdefault(name, version)
    return found


def detect_software(probe: bool = True) -> Software:
    """Installed distributions and extension modules; with `probe`, which of them really import."""
    versions = installed_versions()
    packages: dict[str, Package] = {}
    for dist in RELEVANT_DISTS:
        raw = versions.get(dist)
        if raw is None:
            packages[dist] = Package(dist, Fact(None, SOURCE), Fact.of(False, "not installed"))
            continue
        try:
            packages[dist] = Package(dist, Fact.of(Version(raw), SOURCE))
        except InvalidVersion:
            packages[dist] = Package(dist, Fact.unknown(f"installed version {raw!r} is not a valid version", SOURCE))
    modules = {m: _module_present(m) for m in EXTENSION_MODULES}
    torch_build = _torch_build()
    software = Software(packages=packages, modules=modules, source=SOURCE,
                        python=Fact.of(".".join(map(str, sys.version_info[:3])), "this interpreter"),
                        torch=torch_build)
    return _with_probe(software) if probe else software


def _module_present(name: str) -> Fact[bool]:
    try:
        return Fact.of(importlib.util.find_spec(name) is not None, "installed (module search path)")
    except (ImportError, ValueError) as exc:
        return Fact.unknown(f"looking for {name} failed: {exc}", "installed (module search path)")


def _torch_build() -> TorchBuild:
    try:
        from advisor.facts.torch_build import read_torch_build
    except ImportError:
        return unknown_torch_build("torch build facts are not read by this version", SOURCE)
    return read_torch_build()[1]


PROBED_DISTS = ("flash-attn", "flash-attn-3", "bitsandbytes", "xformers")


def _with_probe(software: Software) -> Software:
    """Fill `imports` by the import probe, for the installed packages whose import can break.

    Nothing is started (or even imported) when none of them is installed: the common case stays fast.
    """
    if not any(software.package(d).installed for d in PROBED_DISTS) and not any(
            f.value for f in software.modules.values()):
        return software
    try:
        from advisor.facts.probe import apply_probe
    except ImportError:
        return software
    return apply_probe(software)


def find_distribution(dist: str, paths: Sequence[str] | None = None) -> tuple[Path, str] | None:
    """(the folder holding it, its version) for a distribution on `paths` (default sys.path)."""
    want = normalize(dist)
    return next(((folder, version) for folder, name, version in dist_infos(paths) if name == want), None)
