"""Every fact for a model on a target: the input of recommend and check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.version import Version

from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.facts.bundle import DTYPES, TASKS, Facts, Request
from advisor.facts.config_check import check_config
from advisor.facts.config_defaults import completed_config
from advisor.facts.derived import on_hardware, software_derived
from advisor.facts.hardware import Hardware
from advisor.facts.locate import load_model
from advisor.facts.model import FLOAT_DTYPES, ModelFacts, model_facts
from advisor.facts.model_source import ModelSource
from advisor.facts.release_table import refuse_older
from advisor.facts.software import Software
from advisor.facts.target import Target, hardware_of, software_of
from advisor.facts.transformers_support import installed_transformers, native_model_types

DTYPE_SPELLINGS = {**FLOAT_DTYPES, "auto": "auto"}
"""bf16, fp16, fp32, half, torch.bfloat16 ... → the dtype names the request holds."""
MAX_CONTEXT = 1 << 24
MAX_BATCH = 1 << 16


def validate_request(request: Request) -> Request:
    """Refuse a request that cannot mean anything (exit 2)."""
    spelled = DTYPE_SPELLINGS.get(request.dtype.lower().removeprefix("torch."), request.dtype)
    if spelled != request.dtype:
        request = replace(request, dtype=spelled)
    if request.dtype not in DTYPES:
        raise InputError(f"--dtype {request.dtype[:40]!r}: choose one of {', '.join(DTYPES)} (or bf16, fp16, fp32)")
    if request.task not in TASKS:
        raise InputError(f"--task {request.task!r}: choose one of {', '.join(TASKS)}")
    if request.context is not None and not 1 <= request.context <= MAX_CONTEXT:
        raise InputError(f"--context {request.context}: must be between 1 and {MAX_CONTEXT}")
    if not 1 <= request.batch <= MAX_BATCH:
        raise InputError(f"--batch {request.batch}: must be between 1 and {MAX_BATCH}")
    return request


def gather(model: str | ModelSource, *, revision: str | None = None, target: Target | None = None,
           request: Request | None = None) -> Facts:
    """Collect every fact for MODEL on the target."""
    target = target or Target()
    request = validate_request(request or Request())
    source = model if isinstance(model, ModelSource) else load_model(model, revision=revision,
                                                                     offline=request.offline)
    return facts_for(source, hardware_of(target), software_of(target), request)


def facts_for(source: ModelSource, hardware: Hardware, software: Software, request: Request) -> Facts:
    """Assemble a Facts bundle from its parts (the TUI and the matrix recompute with one part changed): what
    reads nothing of the hardware once per (source, software, request), held, as a policy matrix asks for
    every GPU target of each."""
    parts = (source, software, request)
    key = tuple(map(id, parts))
    hit = _SOFTWARE_SIDE.get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], parts, strict=True)):
        side = _without_hardware(source, hardware, software, request)
        if len(_SOFTWARE_SIDE) > 1024:
            _SOFTWARE_SIDE.clear()
        hit = _SOFTWARE_SIDE[key] = (parts, side)
    return on_hardware(hit[1], hardware)


_SOFTWARE_SIDE: dict[tuple[int, ...], tuple[tuple[Any, ...], Facts]] = {}


def _without_hardware(source: ModelSource, hardware: Hardware, software: Software, request: Request) -> Facts:
    """The facts of SOURCE on SOFTWARE derived from them (`software_derived`; HARDWARE only fills the bundle,
    `on_hardware` sets each target's). Bad input raises before anything is remembered."""
    tf = software.package("transformers").version
    transformers: Fact[Version] = tf if tf.value is not None or not tf.known else Fact.unknown(
        "transformers is not installed on the target", tf.source)
    check_config(source.config, source.id)
    if transformers.value is not None:
        refuse_older(transformers.value)  # nothing advisor knows holds for a release older than its tables
    mfacts = _model_facts(source, transformers.value)
    return software_derived(Facts(hardware=hardware, software=software, model=mfacts, request=request,
                                  transformers=transformers, arch=Fact.unknown("not computed", "none")))


_COMPLETED: dict[tuple[int, str], tuple[dict[str, Any], tuple[dict[str, Any], tuple[str, ...]]]] = {}


def _completed(config: dict[str, Any], target: Version | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The completed config, once per config object and target (a policy matrix builds facts for every GPU;
    the memory plan's own memo then finds the same completed dict)."""
    key = (id(config), str(target))
    hit = _COMPLETED.get(key)
    if hit is None or hit[0] is not config:
        if len(_COMPLETED) > 256:
            _COMPLETED.clear()
        hit = (config, completed_config(config, target))
        _COMPLETED[key] = hit
    return hit[1]


_MODEL_FACTS: dict[tuple[int, Version | None], tuple[ModelSource, ModelFacts]] = {}


def _model_facts(source: ModelSource, target: Version | None) -> ModelFacts:
    """The model facts of SOURCE read for transformers TARGET (its type inferred from the name when the config
    names none, its missing keys completed from the config class's defaults), once per source as read and
    target: a policy matrix asks for every GPU and software target of the same model (the sources are held, so
    their ids are not reused meanwhile)."""
    key = (id(source), target)
    hit = _MODEL_FACTS.get(key)
    if hit is None or hit[0] is not source:
        if len(_MODEL_FACTS) > 1024:
            _MODEL_FACTS.clear()
        inferred = _infer_model_type(source, target)
        completed, notes = _completed(inferred.config, target)
        if notes:
            inferred = replace(inferred, notes=(*inferred.notes, *notes))
        hit = _MODEL_FACTS[key] = (source, model_facts(inferred, completed))
    return hit[1]


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _names_type(name: str, model_type: str) -> bool:
    """Whether lower-cased NAME holds MODEL_TYPE between non-alphanumerics (what the expression
    `(?<![a-z0-9])TYPE(?![a-z0-9])` matches), with plain `str.find`: there are about 600 types, more than
    `re`'s own cache holds, so searching with an expression per type recompiled them all every time."""
    at = name.find(model_type)
    while at >= 0:
        end = at + len(model_type)
        if (at == 0 or name[at - 1] not in _NAME_CHARS) and (end == len(name) or name[end] not in _NAME_CHARS):
            return True
        at = name.find(model_type, at + 1)
    return False


def _infer_model_type(source: ModelSource, target: Version | None) -> ModelSource:
    """Old configs name no model_type; transformers then matches known types against the model's name."""
    cfg = source.config
    if cfg.get("model_type") or cfg.get("architectures") or target is None:
        return source
    if not any(k in cfg for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "d_model")):
        return source

    known = native_model_types(target, installed_transformers()).value or frozenset()
    name = source.id if source.source != "local" else Path(source.id).stem + "/" + Path(source.id).parent.name
    lowered = name.lower()
    for pattern in sorted(known, key=len, reverse=True):
        if _names_type(lowered, pattern):
            note = (f"config.json names no model_type; `{pattern}` is taken from the model's name, "
                    "as transformers' AutoConfig does")
            return replace(source, config={**cfg, "model_type": pattern}, notes=(*source.notes, note))
    return source
