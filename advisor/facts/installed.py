"""This machine's packages, read from installed metadata without importing any of them."""

from __future__ import annotations

import importlib.util
import sys

from packaging.version import InvalidVersion, Version

from advisor.core.fact import Fact
from advisor.facts.dists import installed_versions
from advisor.facts.software import (
    EXTENSION_MODULES,
    RELEVANT_DISTS,
    Package,
    Software,
    TorchBuild,
)

SOURCE = "installed (package metadata)"


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
    from advisor.facts.torch_build import read_torch_build  # only when torch's build is read

    return read_torch_build()[1]


PROBED_DISTS = ("flash-attn", "flash-attn-3", "bitsandbytes", "xformers")


def _with_probe(software: Software) -> Software:
    """Fill `imports` by the import probe, for the installed packages whose import can break.

    Nothing is started (or even imported) when none of them is installed: the common case stays fast.
    """
    if not any(software.package(d).installed for d in PROBED_DISTS) and not any(
            f.value for f in software.modules.values()):
        return software
    from advisor.facts.probe import apply_probe  # kept off the path when nothing needs probing

    return apply_probe(software)
