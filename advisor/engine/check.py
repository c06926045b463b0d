"""Check mode: evaluate every rule against a proposed flag set, as transformers would see it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.version import Version

from advisor.core.errors import InputError
from advisor.core.logic import Tri, Unknown
from advisor.core.results import Evaluation, Finding
from advisor.engine.expr import Dynamic, Scope
from advisor.engine.fixes import FixVetter
from advisor.engine.flags import FlagSpec
from advisor.engine.keywords import keyword_facts
from advisor.engine.rules import PLACEHOLDER, Rule
from advisor.facts.model import FLOAT_DTYPES

DTYPE_NAMES = {**FLOAT_DTYPES, "auto": "auto"}
"""Dtype spellings users pass (`torch.bfloat16`, `bf16`, `half`) and the name each stands for."""


def canonical_names(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """Every keyword a user may pass (any version's name, or an alias) → the canonical flag."""
    return {kw: spec.name for spec in specs for kw in spec.keywords}


_CANONICAL: dict[int, tuple[Sequence[FlagSpec], dict[str, str]]] = {}


def _canonical(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """canonical_names, once per flag table (read-only here)."""
    hit = _CANONICAL.get(id(specs))
    if hit is None or hit[0] is not specs:
        hit = _CANONICAL[id(specs)] = (specs, canonical_names(specs))
    return hit[1]


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


Outcome = tuple[Finding | None, Evaluation]


class _Reading(Scope):
    """The scope the rules of one check read: a memory figure is kept once computed, as the flags it
    follows do not change while the rules are read (a fix tried later gets a scope of its own)."""

    def __missing__(self, key: str) -> Any:
        value = super().__missing__(key)
        if key.startswith("memory."):
            self[key] = value
        return value

_OUTCOMES: dict[tuple[Any, ...], tuple[Rule, Outcome]] = {}
_NAMES: dict[int, tuple[Rule, tuple[str, ...]]] = {}
MAX_OUTCOMES = 200_000
"""Outcomes remembered at most (then forgotten all at once): a few tens of MB for a large policy matrix."""


def _names(rule: Rule) -> tuple[str, ...]:
    """Every name the rule's outcome reads: its requirements' facts and the placeholders of its message and fix."""
    hit = _NAMES.get(id(rule))
    if hit is None or hit[0] is not rule:
        names = {n for e in (rule.when, rule.require) if e is not None for n in e.names}
        names.update(PLACEHOLDER.findall(rule.message + " " + rule.fix))
        hit = _NAMES[id(rule)] = (rule, tuple(sorted(names)))
    return hit[1]


def _outcome(rule: Rule, flag: str | None, s: Scope) -> Outcome:
    """The finding (on a failure) and the evaluation of RULE about FLAG in scope S.

    Both are a function of the values of the names the rule reads (`_names`) and nothing else, so an
    outcome is remembered by those values, with their types (True and 1 render differently) and the release
    numbers of versions (2.5 equals 2.5.0 but does not read the same; equal versions differ in nothing else):
    across a policy matrix most rules read the same values on most targets. Values that cannot be hashed (a
    device_map dict) are evaluated every time.
    """
    values = tuple(map(s.__getitem__, _names(rule)))
    types = tuple(map(type, values))
    spelled = tuple(v.release for v in values if v.__class__ is Version) if Version in types else ()
    try:
        key = (id(rule), flag, values, types, spelled)
        hit = _OUTCOMES.get(key)
    except TypeError:
        return _evaluate(rule, flag, s)
    if hit is not None and hit[0] is rule:
        return hit[1]
    if len(_OUTCOMES) >= MAX_OUTCOMES:
        _OUTCOMES.clear()
    out = _evaluate(rule, flag, s)
    _OUTCOMES[key] = (rule, out)
    return out


def _evaluate(rule: Rule, flag: str | None, s: Scope) -> Outcome:
    truth = rule.evaluate(s)
    if truth is Tri.FALSE:
        message = rule.render(rule.message, s)
        return (Finding(rule.id, rule.severity, message, rule.render(rule.fix, s), flag=flag),
                Evaluation(rule.id, rule.severity, "fail", message, flag))
    if truth is Tri.UNKNOWN:
        why = "; ".join(rule.unknown_reasons(s))
        return None, Evaluation(rule.id, rule.severity, "unknown", f"{rule.title}: {why}", flag)
    applies = rule.applies(s) is Tri.TRUE
    return None, Evaluation(rule.id, rule.severity, "pass", rule.title, flag, applies)


def check_flags(ns: Mapping[str, Any], rules: Sequence[Rule], specs: Sequence[FlagSpec],
                flags: Mapping[str, Any], dynamic: Dynamic | None = None,
                ) -> tuple[list[Finding], list[Evaluation], dict[str, Any]]:
    """Findings, one evaluation per rule and flag, and the effective flags that were checked."""
    if not isinstance(flags, Mapping):
        raise InputError("--flags must be a JSON object of from_pretrained keyword arguments")
    names = _canonical(specs)
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
    s = _Reading(scope)  # the rules about a flag see its value as `value`, set before each is read
    s.dynamic = scope.dynamic
    for rule in rules:
        for flag in rule.flags or (None,):
            s["value"] = effective.get(flag) if flag else None
            finding, evaluation = _outcome(rule, flag, s)
            if finding is not None:
                findings.append(finding)
            evaluations.append(evaluation)
    shown = {k: (None if isinstance(v, Unknown) else v) for k, v in effective.items()}
    return FixVetter(scope, rules, specs).findings(findings, effective), evaluations, shown
