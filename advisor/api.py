"""The Python API: `gather()`, `recommend()`, `check()`. The CLI, the TUI and CI are faces over it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.version import Version

from advisor.engine.check import check_flags
from advisor.engine.flags import load_flags
from advisor.engine.namespace import build_namespace
from advisor.engine.resolver import resolve
from advisor.engine.rules import load_rules
from advisor.errors import InputError
from advisor.facts.bundle import DTYPES, TASKS, Facts, Request
from advisor.facts.derived import derived_facts
from advisor.facts.fact import Fact
from advisor.facts.hardware import Hardware
from advisor.facts.locate import load_model
from advisor.facts.model import model_facts
from advisor.facts.model_source import ModelSource
from advisor.facts.software import Software
from advisor.frozen import frozen
from advisor.recommendation import CheckResult, Recommendation

__all__ = ["Request", "Target", "check", "gather", "hardware_facts", "recommend", "software_facts"]

MAX_CONTEXT = 1 << 24
MAX_BATCH = 1 << 16


@frozen
class Target:
    """The machine the advice is for. Empty means this machine."""

    gpu: str | None = None
    hardware_file: Path | None = None
    software_file: Path | None = None
    with_packages: tuple[str, ...] = ()
    name: str | None = None
    """A label for matrix checks (e.g. `T4 / torch-2.5`)."""

    def __post_init__(self) -> None:
        for key in ("hardware_file", "software_file"):
            value = getattr(self, key)
            if isinstance(value, str):
                object.__setattr__(self, key, Path(value))
        object.__setattr__(self, "with_packages", tuple(self.with_packages))

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [self.gpu or (f"hardware {self.hardware_file}" if self.hardware_file else "this machine")]
        if self.software_file:
            parts.append(f"software {self.software_file}")
        parts.extend(self.with_packages)
        return " · ".join(parts)


def validate_request(request: Request) -> Request:
    """Refuse a request that cannot mean anything (exit 2)."""
    if request.dtype not in DTYPES:
        raise InputError(f"--dtype {request.dtype!r}: choose one of {', '.join(DTYPES)}")
    if request.task not in TASKS:
        raise InputError(f"--task {request.task!r}: choose one of {', '.join(TASKS)}")
    if request.context is not None and not 1 <= request.context <= MAX_CONTEXT:
        raise InputError(f"--context {request.context}: must be between 1 and {MAX_CONTEXT}")
    if not 1 <= request.batch <= MAX_BATCH:
        raise InputError(f"--batch {request.batch}: must be between 1 and {MAX_BATCH}")
    return request


def hardware_facts(target: Target) -> Hardware:
    """The target's hardware: a catalog name, a profile file, or this machine through NVML."""
    if target.gpu is not None and target.hardware_file is not None:
        raise InputError("give either --gpu or --hardware, not both")
    if target.gpu is not None:
        from advisor.facts.gpu_catalog import catalog_hardware

        return catalog_hardware(target.gpu)
    if target.hardware_file is not None:
        from advisor.facts.profiles import hardware_profile

        return hardware_profile(target.hardware_file)
    from advisor.facts.local_hardware import local_hardware

    return local_hardware()


def software_facts(target: Target, probe: bool = True) -> Software:
    """The target's packages: a profile file or this machine, with `--with` overlays on top."""
    if target.software_file is not None:
        from advisor.facts.profiles import software_profile

        software = software_profile(target.software_file)
    else:
        from advisor.facts.installed import detect_software

        software = detect_software(probe=probe and not target.with_packages)
        if target.gpu is not None or target.hardware_file is not None:
            software = _as_gpu_target(software)
    if target.with_packages:
        from advisor.facts.profiles import overlay

        software = overlay(software, target.with_packages)
    return software


def _as_gpu_target(software: Software) -> Software:
    """This machine's packages describing another machine: a CPU-only torch here says nothing of the target.

    A CI runner has a CPU build of torch; the GPU target it checks for runs the CUDA build of the same
    version. Assume that build (and say so in the source) rather than report the runner's CPU build.
    """
    torch = software.package("torch").version.value
    if torch is None or software.torch.cuda.value or software.torch.hip.value:
        return software
    from advisor.facts.profiles import torch_build_for

    public = Version(torch.public)
    return replace(software, torch=torch_build_for(
        public, f"torch {public} installed here; a CUDA build of it is assumed on the GPU target"))


def gather(model: str | ModelSource, *, revision: str | None = None, target: Target | None = None,
           request: Request | None = None) -> Facts:
    """Collect every fact for MODEL on the target: the input of recommend and check."""
    target = target or Target()
    request = validate_request(request or Request())
    source = model if isinstance(model, ModelSource) else load_model(model, revision=revision,
                                                                     offline=request.offline)
    hardware = hardware_facts(target)
    software = software_facts(target)
    return facts_for(source, hardware, software, request)


def facts_for(source: ModelSource, hardware: Hardware, software: Software, request: Request) -> Facts:
    """Assemble a Facts bundle from its parts (the TUI recomputes with one part changed)."""
    tf = software.package("transformers").version
    transformers: Fact[Version] = tf if tf.value is not None or not tf.known else Fact.unknown(
        "transformers is not installed on the target (add --with transformers==VERSION)", tf.source)
    mfacts = model_facts(_infer_model_type(source, transformers.value))
    base = Facts(hardware=hardware, software=software, model=mfacts, request=request,
                 transformers=transformers, arch=Fact.unknown("not computed", "none"))
    return derived_facts(base)


def _infer_model_type(source: ModelSource, target: Version | None) -> ModelSource:
    """Old configs name no model_type; transformers then matches known types against the model's name."""
    cfg = source.config
    if cfg.get("model_type") or cfg.get("architectures") or target is None:
        return source
    if not any(k in cfg for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "d_model")):
        return source
    from advisor.facts.transformers_support import installed_transformers, native_model_types

    known = native_model_types(target, installed_transformers()).value or frozenset()
    name = source.id if source.source != "local" else Path(source.id).stem + "/" + Path(source.id).parent.name
    for pattern in sorted(known, key=len, reverse=True):
        if re.search(rf"(?<![a-z0-9]){re.escape(pattern)}(?![a-z0-9])", name.lower()):
            note = (f"config.json names no model_type; `{pattern}` is taken from the model's name, "
                    "as transformers' AutoConfig does")
            return replace(source, config={**cfg, "model_type": pattern}, notes=(*source.notes, note))
    return source


def recommend(facts: Facts) -> Recommendation:
    """The safe flag set for the facts, each flag with its reasons, rejected candidates and findings."""
    from advisor.emit.snippet import python_snippet

    ns = build_namespace(facts)
    res = resolve(ns, load_rules(), load_flags(), facts.memory)
    findings = tuple(sorted(dict.fromkeys(res.findings), key=lambda f: f.sort_key()))
    rec = Recommendation(
        model=facts.model.summary(),
        target={"hardware": facts.hardware.to_json(), "software": facts.software.to_json(),
                "transformers": facts.transformers.to_json(), "request": facts.request.to_json()},
        flags=res.flags,
        decisions=tuple(res.decisions),
        findings=findings,
        memory=facts.memory.to_json(res.scope) if facts.memory is not None else None,
        python="",
    )
    return replace(rec, python=python_snippet(facts, rec))


def check(facts: Facts, flags: Mapping[str, Any], target_name: str = "") -> CheckResult:
    """Validate a proposed flag set against the facts: every problem with its rule, severity and fix."""
    ns = build_namespace(facts)
    findings, evaluations, normalized = check_flags(ns, load_rules(), load_flags(), flags, facts.memory)
    return CheckResult(
        model=facts.model.summary(),
        target={"hardware": facts.hardware.to_json(), "software": facts.software.to_json(),
                "transformers": facts.transformers.to_json(), "request": facts.request.to_json()},
        target_name=target_name,
        flags=normalized,
        findings=tuple(sorted(dict.fromkeys(findings), key=lambda f: f.sort_key())),
        evaluations=tuple(evaluations),
    )

