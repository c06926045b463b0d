"""This machine's packages, read from installed metadata without importing any of them."""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Mapping, Sequence

from packaging.version import InvalidVersion, Version

from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.facts.built_against import NotProbed, not_probed
from advisor.facts.dists import environment_path, installed_versions
from advisor.facts.software import (
    EXTENSION_MODULES,
    RELEVANT_DISTS,
    Package,
    Software,
    TorchBuild,
)

SOURCE = "installed (package metadata)"
PROBED_DISTS = ("flash-attn", "flash-attn-3", "bitsandbytes", "xformers")
"""The distributions whose import the probe tries (their compiled parts can fail to load)."""
_NOT_A_PROBED_DIST = "not probed: advisor probes the imports of " + ", ".join(PROBED_DISTS) + " only"
_SWITCHED_OFF = NotProbed("probe=False", "the import probe was switched off (probe=False)")


def detect_software(probe: bool = True, overlays: Sequence[str] = ()) -> Software:
    """Installed distributions and extension modules; with `probe`, which of them really import.

    The probe runs for every installed package whose import the `--with` OVERLAYS leave as it is here; what
    they replace or change (`built_against`) is not probed, and its import is unknown with the overlay's reason.
    """
    versions = installed_versions()
    packages: dict[str, Package] = {}
    for dist in RELEVANT_DISTS:
        raw = versions.get(dist)
        if raw is None:
            packages[dist] = Package(dist, Fact(None, SOURCE), Fact.of(False, "not installed"))
            continue
        try:
            version = Version(raw)
        except InvalidVersion:
            invalid = f"installed version {raw!r} is not a valid version"
            packages[dist] = Package(dist, Fact.unknown(invalid, SOURCE),
                                     Fact.unknown(f"not probed: {invalid}", SOURCE))
            continue
        imports: Fact[bool] = Fact.unknown("not probed yet" if dist in PROBED_DISTS else _NOT_A_PROBED_DIST, SOURCE)
        packages[dist] = Package(dist, Fact.of(version, SOURCE), imports)
    modules = {m: _module_present(m) for m in EXTENSION_MODULES}
    torch_build = _torch_build()
    software = Software(packages=packages, modules=modules, source=SOURCE,
                        python=Fact.of(".".join(map(str, sys.version_info[:3])), "this interpreter"),
                        torch=torch_build)
    if not probe:
        skipped = dict.fromkeys((*PROBED_DISTS, *EXTENSION_MODULES), _SWITCHED_OFF)
    else:
        skipped = not_probed(overlays, {d: p.version.value for d, p in packages.items()}) if overlays else {}
    return _with_probe(software, skipped)


def _module_present(name: str) -> Fact[bool]:
    try:
        found = importlib.machinery.PathFinder.find_spec(name, list(environment_path()))
        return Fact.of(found is not None, "installed (module search path)")
    except (ImportError, ValueError, OSError) as exc:
        return Fact.unknown(f"looking for {name} failed: {exc}", "installed (module search path)")


def _torch_build() -> TorchBuild:
    from advisor.facts.torch_build import read_torch_build  # only when torch's build is read

    return read_torch_build()[1]


def _with_probe(software: Software, skipped: Mapping[str, NotProbed]) -> Software:
    """Fill `imports` by the import probe for the installed packages whose import can break, except SKIPPED.

    What is skipped and installed is unknown with its reason. Nothing is started (or even imported) when none
    of the others is installed: the common case stays fast.
    """
    software = _unprobed(software, skipped)
    if not any(software.package(d).installed and d not in skipped for d in PROBED_DISTS) and not any(
            f.value for m, f in software.modules.items() if m not in skipped):
        return software
    from advisor.facts.probe import apply_probe  # kept off the path when nothing needs probing

    return apply_probe(software, skip=frozenset(skipped))


def _unprobed(software: Software, skipped: Mapping[str, NotProbed]) -> Software:
    """SOFTWARE with the installed ones of SKIPPED unknown, each with the option that caused it."""
    packages, modules, unprobed = dict(software.packages), dict(software.modules), dict(software.unprobed)
    for name, why in skipped.items():
        package = packages.get(name)
        if package is not None and package.installed:
            packages[name] = replace(package, imports=Fact.unknown(why.reason, why.source), import_error=None)
            unprobed[name] = why.why
        elif name in modules and modules[name].value:
            modules[name] = Fact.unknown(why.reason, why.source)
            unprobed[name] = why.why
    if not unprobed:
        return software
    return replace(software, packages=packages, modules=modules, unprobed=unprobed)
