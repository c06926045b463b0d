"""Derived facts: what the target transformers supports for this model, what its remote code needs."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from packaging.version import Version

from advisor.core.data import data_path, read_toml
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.facts.bundle import Facts
from advisor.facts.torch_build import torch_runs_on
from advisor.facts.transformers_support import arch_support, installed_transformers, knows_model_type
from advisor.facts.wheels import install_hint


def derived_facts(facts: Facts) -> Facts:
    """Fill the facts that are computed from others: architecture support, remote code, torch vs GPU."""
    extra: dict[str, Fact[Any]] = dict(facts.extra)
    arch = _arch_support(facts)
    remote = _remote_code(facts)
    extra.update(_native_equivalent(facts))
    extra.update(_remote_needs(facts, remote))
    extra.update(_torch_runs(facts))
    extra["flash_attn.install_hint"] = _flash_attn_hint(facts)
    extra["arch.model_type_known"] = _model_type_known(facts)
    return replace(facts, arch=arch, remote=remote, extra=extra)


def _arch_support(facts: Facts) -> Fact[Any]:
    target = facts.transformers
    if target.value is None:
        return Fact.unknown(target.reason or "the target transformers version is unknown", target.source)
    m = facts.model
    archs = (m.architecture.value,) if m.architecture.value else ()
    return _support(m.model_type.value, archs, target.value, installed_transformers())


def _support(model_type: str | None, archs: tuple[str, ...], target: Version, installed: Any) -> Fact[Any]:
    """arch_support, once per (model type, architecture, version, installation) in a process: a policy
    matrix asks the same question for every GPU target."""
    key = (model_type, archs, target, installed)
    found = _SUPPORT.get(key)
    if found is None:
        found = _SUPPORT[key] = arch_support(model_type, archs, target, installed)
    return found


_SUPPORT: dict[tuple[Any, ...], Fact[Any]] = {}


def _model_type_known(facts: Facts) -> Fact[Any]:
    target, model_type = facts.transformers, facts.model.model_type
    if target.value is None:
        return Fact.unknown(target.reason or "the target transformers version is unknown", target.source)
    if not model_type.known or model_type.value is None:
        return Fact.unknown(model_type.reason or "config.json has no model_type", model_type.source)
    return knows_model_type(model_type.value, target.value, installed_transformers())


def _remote_code(facts: Facts) -> Any | None:
    files = facts.model.source.files
    if not facts.model.remote_code or not files:
        return None
    from advisor.facts.remote_code import analyze_remote_code  # ast only for models with remote code

    return analyze_remote_code(files)


@cache
def _native_table() -> dict[str, dict[str, str]]:
    table = read_toml(data_path("native.toml")).get("native", {})
    return {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in table.items()}


def _native_equivalent(facts: Facts) -> dict[str, Fact[Any]]:
    entry = _native_table().get(facts.model.model_type.value or "")
    src = "rules/native.toml"
    if entry is None:
        return {"model.native_equivalent": Fact(None, src), "arch.native_equivalent": Fact(None, src)}
    target = facts.transformers.value
    present: Fact[Any] = (Fact.of(target >= Version(entry["since"]), f"{src} (native since {entry['since']})")
                          if target is not None else Fact.unknown("the target transformers version is unknown", src))
    return {"model.native_equivalent": Fact.of(entry["model_type"], src), "arch.native_equivalent": present}


def _remote_needs(facts: Facts, remote: Any | None) -> dict[str, Fact[Any]]:
    if remote is None:
        return {}
    from advisor.facts.remote_code import removed_helpers, required_distributions  # as above

    src = "remote code (read as text)"
    out: dict[str, Fact[Any]] = {}
    target = facts.transformers.value
    if target is not None:
        removed = removed_helpers(remote, target)
        out["remote.removed_helpers"] = Fact.of(frozenset(f"{n} ({w})" for n, w in removed.items()), src)
    hard_top = {m.split(".")[0] for m in remote.hard_imports}
    missing: set[str] = set()
    unknown: list[str] = []
    for dist, where in required_distributions(remote).items():
        module = where.split(" ", 1)[0] if " " in where else ""
        if module and module.split(".")[0] not in hard_top:
            continue
        pkg = facts.software.package(dist)
        if not pkg.version.known:
            unknown.append(dist)
        elif pkg.version.value is None:
            missing.add(f"{dist} ({where})")
    out["remote.missing_dists"] = (Fact.unknown(f"whether {', '.join(unknown)} are installed is unknown", src)
                                   if unknown and not missing else Fact.of(frozenset(missing), src))
    return out


def _torch_runs(facts: Facts) -> dict[str, Fact[Any]]:
    return {"torch.runs_on_gpu": torch_runs_on(facts.software, facts.hardware),
            "env.flash_attn_triton_amd": _triton_amd(facts)}


LOCAL_SOURCES = ("nvml", "amdsmi", "sysctl")
"""Hardware sources that mean this machine, whose environment is the target's."""


def _triton_amd(facts: Facts) -> Fact[Any]:
    """FLASH_ATTENTION_TRITON_AMD_ENABLE as flash-attn reads it (`== "TRUE"`, flash_attn_interface.py v2.8.3 L11)."""
    name = "FLASH_ATTENTION_TRITON_AMD_ENABLE"
    if facts.hardware.source not in LOCAL_SOURCES:
        return Fact.unknown(f"the target's environment ({name}) is not known here", facts.hardware.source)
    return Fact.of(os.environ.get(name, "FALSE") == "TRUE", f"environment {name}")


def _flash_attn_hint(facts: Facts) -> Fact[Any]:
    sw = facts.software
    torch = sw.package("torch").version
    if not torch.known:
        return Fact.unknown(torch.reason or "torch's version is unknown", torch.source)
    cuda = sw.torch.cuda.value if sw.torch.cuda.known else None
    hint = install_hint(torch.value, cuda, sw.version("flash-attn"))
    return Fact.of(hint, "flash-attn release wheels (knowledge: kernels.md §1.4)")
