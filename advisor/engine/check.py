"""Check mode: evaluate every rule against a proposed flag set, as transformers would see it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from advisor.core.errors import InputError
from advisor.core.logic import Tri, Unknown
from advisor.core.results import Evaluation, Finding
from advisor.engine.expr import Dynamic, Scope
from advisor.engine.fixes import FixVetter
from advisor.engine.flags import FlagSpec
from advisor.engine.keywords import keyword_facts
from advisor.engine.rules import Rule
from advisor.facts.model import FLOAT_DTYPES

DTYPE_NAMES = {**FLOAT_DTYPES, "auto": "auto"}
"""Dtype spellings users pass (`torch.bfloat16`, `bf16`, `half`) and the name each stands for."""


def canonical_names(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """Every keyword a user may pass (any version's name, or an alias) → the canonical flag."""
    return {kw: spec.name for spec in specs for kw in spec.keywords}


def normalize_value(flag: str, value: Any) -> Any:
    if flag == "dtype" and isinstance(value, str):
        name = DTYPE_NAMES.get(value.removeprefix("torch.").lower())
        if name is None:
            raise InputError(f"dtype {value!r}: use bfloat16, float16, float32 or auto")
        return name
    return value


def effective_flags(ns: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The flags as transformers will act on them: defaults filled in, config.json overrides applied."""
    out = dict(given)
    default = ns.get("transformers.default_dtype")
    dtype = out.get("dtype")
    if dtype is None or dtype == "auto":
        if dtype == "auto" or default == "auto":
            out["dtype"] = ns.get("model.checkpoint_dtype")
        elif not isinstance(default, Unknown):
            out["dtype"] = "float32"
        else:
            out["dtype"] = Unknown("flag.dtype", "the default depends on the transformers version, which is unknown")
    config_attn = ns.get("model.config_attn_impl")
    attn = out.get("attn_implementation")
    if isinstance(config_attn, str) and (attn is None or "config" not in given):
        out["attn_implementation"] = config_attn
    elif attn is None and ns.get("model.has_attention") is True:
        sdpa = ns.get("arch.sdpa")
        out["attn_implementation"] = sdpa if isinstance(sdpa, Unknown) else ("sdpa" if sdpa else "eager")
    return out


def check_flags(ns: Mapping[str, Any], rules: Sequence[Rule], specs: Sequence[FlagSpec],
                flags: Mapping[str, Any], dynamic: Dynamic | None = None,
                ) -> tuple[list[Finding], list[Evaluation], dict[str, Any]]:
    """Findings, one evaluation per rule and flag, and the effective flags that were checked."""
    if not isinstance(flags, Mapping):
        raise InputError("--flags must be a JSON object of from_pretrained keyword arguments")
    names = canonical_names(specs)
    given: dict[str, Any] = {}
    scope = Scope(ns)
    scope.dynamic = dynamic
    for key, value in flags.items():
        if not isinstance(key, str):
            raise InputError("--flags keys must be strings")
        scope[f"kwarg.{key}"] = value
        canonical = names.get(key, key)
        given[canonical] = normalize_value(canonical, value)
    scope.update(keyword_facts(scope, [k for k in flags if k not in names], set(names)))
    effective = effective_flags(scope, given)
    for key, value in effective.items():
        scope[f"flag.{key}"] = value
    findings: list[Finding] = []
    evaluations: list[Evaluation] = []
    scopes: dict[str | None, Scope] = {}
    for rule in rules:
        targets: list[str | None] = list(rule.flags) if rule.flags else [None]
        for flag in targets:
            s = scopes.get(flag)
            if s is None:  # one scope per flag: the rules about it see its value as `value`
                s = scopes[flag] = scope.child(value=effective.get(flag) if flag else None)
            truth = rule.evaluate(s)
            if truth is Tri.FALSE:
                message = rule.render(rule.message, s)
                findings.append(Finding(rule.id, rule.severity, message, rule.render(rule.fix, s), flag=flag))
                evaluations.append(Evaluation(rule.id, rule.severity, "fail", message, flag))
            elif truth is Tri.UNKNOWN:
                why = "; ".join(rule.unknown_reasons(s))
                evaluations.append(Evaluation(rule.id, rule.severity, "unknown", f"{rule.title}: {why}", flag))
            else:
                applies = rule.applies(s) is Tri.TRUE
                evaluations.append(Evaluation(rule.id, rule.severity, "pass", rule.title, flag, applies))
    shown = {k: (None if isinstance(v, Unknown) else v) for k, v in effective.items()}
    return FixVetter(scope, rules, specs).findings(findings, effective), evaluations, shown
