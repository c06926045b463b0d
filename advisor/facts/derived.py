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
from advisor.facts.hardware import Hardware
from advisor.facts.release_facts import dequantized, helper_status, release_facts_without_gpu
from advisor.facts.release_table import table_for
from advisor.facts.torch_build import torch_runs_on
from advisor.facts.transformers_support import arch_support, installed_transformers, knows_model_type
from advisor.facts.wheels import install_hint


def software_derived(facts: Facts) -> Facts:
    """FACTS with what is derived from the model and the target's packages alone (architecture support, remote
    code, release facts): the same on every GPU target, whose hardware `on_hardware` then sets."""
    arch, remote, software_side = _software_side(facts)
    # the software side is shared (never changed): every GPU target of a matrix finds the same `extra`
    extra = {**facts.extra, **software_side} if facts.extra else software_side
    return replace(facts, arch=arch, remote=remote, extra=extra)


def on_hardware(facts: Facts, hardware: Hardware) -> Facts:
    """FACTS (`software_derived`) on HARDWARE, with the derived facts that read it (`gpu_extra`)."""
    gpu = dict(facts.gpu_extra)
    placed = replace(facts, hardware=hardware, gpu_extra=gpu)
    # filled before the bundle is handed out (what fills it reads the hardware, never `gpu_extra`)
    gpu["quant.dequantized"] = dequantized(placed, facts.extra)
    gpu.update(_torch_runs(placed))
    return placed


_SIDE: dict[tuple[int, int], tuple[Any, Any, tuple[Fact[Any], Any | None, dict[str, Fact[Any]]]]] = {}


def _software_side(facts: Facts) -> tuple[Fact[Any], Any | None, dict[str, Fact[Any]]]:
    """What is derived from the model and the target's packages alone (everything but the GPU's part), once per
    (model facts, software): a policy matrix asks for every GPU target of the same model and software."""
    key = (id(facts.model), id(facts.software))
    hit = _SIDE.get(key)
    if hit is None or hit[0] is not facts.model or hit[1] is not facts.software:
        arch = _arch_support(facts)
        remote = _remote_code(facts)
        extra = release_facts_without_gpu(replace(facts, arch=arch))
        extra.update(_native_equivalent(facts))
        extra.update(_remote_needs(facts, remote))
        extra["flash_attn.install_hint"] = _flash_attn_hint(facts)
        extra["arch.model_type_known"] = _model_type_known(facts)
        if len(_SIDE) > 1024:
            _SIDE.clear()
        hit = _SIDE[key] = (facts.model, facts.software, (arch, remote, extra))
    return hit[2]


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
    key = (model_type.value, target.value, installed_transformers())
    found = _KNOWN.get(key)
    if found is None:  # once per (model type, version, installation), as _support
        found = _KNOWN[key] = knows_model_type(*key)
    return found


_KNOWN: dict[tuple[Any, ...], Fact[Any]] = {}


def _remote_code(facts: Facts) -> Any | None:
    files = facts.model.source.files
    if not facts.model.remote_code or not files:
        return None
    from advisor.facts.remote_code import analyze_remote_code  # ast only for models with remote code

    hit = _REMOTE.get(id(files))
    if hit is None or hit[0] is not files:  # once per model's files: a matrix asks for every target
        if len(_REMOTE) > 256:
            _REMOTE.clear()
        hit = _REMOTE[id(files)] = (files, analyze_remote_code(files))
    return hit[1]


_REMOTE: dict[int, tuple[dict[str, str], Any]] = {}


@cache
def _native_table() -> dict[str, dict[str, str]]:
    table = read_toml(data_path("native.toml")).get("native", {})
    return {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in table.items()}


def _native_equivalent(facts: Facts) -> dict[str, Fact[Any]]:
    """The native model type that replaced a remote-code one (rules/native.toml), and whether the target's
    table has it."""
    entry = _native_table().get(facts.model.model_type.value or "")
    src = "rules/native.toml"
    if entry is None:
        return {"model.native_equivalent": Fact(None, src), "arch.native_equivalent": Fact(None, src)}
    target = facts.transformers.value
    if target is None:
        present: Fact[Any] = Fact.unknown("the target transformers version is unknown", src)
    else:
        table = table_for(target)
        present = Fact.of(entry["model_type"] in table.native(), table.source)
    return {"model.native_equivalent": Fact.of(entry["model_type"], src), "arch.native_equivalent": present}


@cache
def _helper_notes() -> dict[str, str]:
    """What to use instead of a removed or deprecated helper (rules/transformers_removed.toml)."""
    notes = read_toml(data_path("transformers_removed.toml")).get("instead", {})
    return {str(k): str(v) for k, v in notes.items()}


def _remote_needs(facts: Facts, remote: Any | None) -> dict[str, Fact[Any]]:
    if remote is None:
        return {}
    from advisor.facts.remote_code import required_distributions  # as above

    src = "remote code (read as text)"
    out: dict[str, Fact[Any]] = {}
    target = facts.transformers.value
    if target is not None:
        table = table_for(target)
        removed, deprecated = helper_status(remote.imported_names, table)
        notes = _helper_notes()

        def told(name: str, what: str) -> str:
            return f"{name} ({what}{'; ' + notes[name] if name in notes else ''})"

        helper_src = f"{src}; rules/transformers/helpers_since.json and {table.source}"
        out["remote.removed_helpers"] = Fact.of(frozenset(told(n, w) for n, w in removed.items()), helper_src)
        out["remote.deprecated_helpers"] = Fact.of(frozenset(told(n, w) for n, w in deprecated.items()), helper_src)
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
    key = (id(facts.software), id(facts.hardware))
    hit = _RUNS.get(key)
    if hit is None or hit[0] is not facts.software or hit[1] is not facts.hardware:
        if len(_RUNS) > 1024:
            _RUNS.clear()  # once per target: every model of a policy matrix asks again
        hit = _RUNS[key] = (facts.software, facts.hardware, torch_runs_on(facts.software, facts.hardware))
    return {"torch.runs_on_gpu": hit[2], "env.flash_attn_triton_amd": _triton_amd(facts)}


_RUNS: dict[tuple[int, int], tuple[Any, Any, Fact[Any]]] = {}


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
    return _hint(torch.value, cuda, sw.version("flash-attn"))


@cache
def _hint(torch: Any, cuda: Any, flash_attn: Any) -> Fact[Any]:
    """The install hint, once per (torch, CUDA, flash-attn) versions: it reads the wheel table."""
    return Fact.of(install_hint(torch, cuda, flash_attn), "flash-attn release wheels (knowledge: kernels.md §1.4)")
