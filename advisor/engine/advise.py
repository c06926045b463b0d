"""The engine's two answers over a Facts bundle: the safe flag set (recommend) and a check of given flags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.core.once import once_per
from advisor.core.results import CheckResult, Recommendation
from advisor.engine.check import check_flags
from advisor.engine.fixes import FixVetter
from advisor.engine.namespace import build_namespace, namespace_layers
from advisor.engine.pack import fact_rules, load_flags
from advisor.engine.resolver import resolve, scope_with
from advisor.facts.bundle import Facts
from advisor.memory.plan import MemoryPlan, plan_memory

_PLANS: dict[int, tuple[Any, Any]] = {}


def memory_plan(facts: Facts) -> MemoryPlan:
    """The memory plan of a Facts bundle, once per bundle (a matrix checks many flag sets on one)."""
    return once_per(_PLANS, facts, lambda: plan_memory(facts), 256)


def _target(facts: Facts) -> dict[str, Any]:
    """The `target` object, once per (hardware, software, transformers, request): a matrix asks per case."""
    parts = (facts.hardware, facts.software, facts.transformers, facts.request)
    key = tuple(map(id, parts))
    hit = _TARGETS.get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], parts, strict=True)):
        if len(_TARGETS) > 256:
            _TARGETS.clear()
        hit = _TARGETS[key] = (parts, {"hardware": _json(facts.hardware), "software": _json(facts.software),
                                       "transformers": _json(facts.transformers), "request": _json(facts.request)})
    return hit[1]


_JSON: dict[int, tuple[Any, Any]] = {}


def _json(part: Any) -> Any:
    """PART's JSON, once per part: a policy's software target is shared by each of its GPU targets."""
    return once_per(_JSON, part, part.to_json)


_TARGETS: dict[tuple[int, ...], tuple[tuple[Any, ...], dict[str, Any]]] = {}
_SUMMARIES: dict[int, tuple[Any, dict[str, Any]]] = {}


def _summary(facts: Facts) -> dict[str, Any]:
    """The `model` object, once per model facts (shared by every target of a matrix)."""
    return once_per(_SUMMARIES, facts.model, facts.model.summary, 256)


def what_would_change(facts: Facts, rec: Recommendation) -> dict[str, str]:
    """For each rule that rejected a candidate: its fix in words for these facts, never proposing a value of
    the flag that fails here too."""
    wanted = {r.rule: d.flag for d in rec.decisions for rej in d.rejected for r in rej.reasons}
    if not wanted:
        return {}
    specs = load_flags()
    ns = build_namespace(facts)
    decided = {d.flag: d.value for d in rec.decisions}
    scope = scope_with(ns, decided, specs, memory_plan(facts))
    vetter = FixVetter(scope, fact_rules(), specs)
    return {r.id: vetter.vet(r.render(r.fix, scope), wanted[r.id], prefer=decided.get(wanted[r.id]))
            for r in fact_rules() if r.id in wanted}


def recommend(facts: Facts) -> Recommendation:
    """The safe flag set, each flag with its reasons, rejected candidates and findings (no snippet yet)."""
    plan = memory_plan(facts)
    res = resolve(build_namespace(facts), fact_rules(), load_flags(), plan)
    decided = {d.flag: d.value for d in res.decisions}
    vetted = FixVetter(res.scope, fact_rules(), load_flags()).findings(res.findings, decided)
    findings = tuple(sorted(dict.fromkeys(vetted), key=lambda f: f.sort_key()))
    specs = {s.name: s for s in load_flags()}
    flags = {d.name: specs[d.flag].to_python(d.value) for d in res.decisions if d.value is not None}
    return Recommendation(model=facts.model.summary(), target=_target(facts), flags=flags,
                          decisions=tuple(res.decisions), findings=findings, memory=plan.report(res.scope),
                          python="")


def check(facts: Facts, flags: Mapping[str, Any], target_name: str = "") -> CheckResult:
    """Validate a proposed flag set against the facts: every problem with its rule, severity and fix."""
    base, layer = namespace_layers(facts)
    found, evaluations, normalized = check_flags(base, fact_rules(), load_flags(), flags, memory_plan(facts), layer)
    return CheckResult(model=_summary(facts), target=_target(facts), target_name=target_name,
                       flags=normalized, findings=tuple(sorted(dict.fromkeys(found), key=lambda f: f.sort_key())),
                       evaluations=tuple(evaluations))
