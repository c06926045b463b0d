"""The resolver: for each flag, the first candidate whose requirements all hold wins.

Flags are decided in the order of `rules/flags.toml` (dtype before attention before the rest), so a
rule about attention can read the dtype already chosen. Every better candidate keeps the reasons it
failed; a requirement over an unknown fact is not a pass, so such a candidate is named "if ..."
instead of being chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from advisor.core.frozen import field, record
from advisor.core.logic import Tri
from advisor.core.results import Decision, Finding, Reason, Rejected
from advisor.engine.expr import Dynamic, Scope
from advisor.engine.flags import FlagSpec
from advisor.engine.rules import Rule

_NOTHING = object()


@record
class Resolution:
    """The resolver's output: decisions in order, emitted flags, findings, the final scope."""

    decisions: list[Decision] = field(default_factory=list)
    flags: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    scope: Scope = field(default_factory=Scope)


def scope_with(base: dict[str, Any], decided: dict[str, Any], specs: Sequence[FlagSpec],
               dynamic: Dynamic | None = None) -> Scope:
    scope = Scope(base)
    scope.dynamic = dynamic
    for spec in specs:
        if spec.name in decided:
            scope[f"flag.{spec.name}"] = decided[spec.name]
            kw = spec.kwarg(base)
            if kw is not None and decided[spec.name] is not None:
                scope[f"kwarg.{kw}"] = decided[spec.name]
    return scope


def candidate_reasons(rules: Sequence[Rule], scope: Scope) -> tuple[list[Reason], list[str]]:
    """Evaluate the rejecting rules for one candidate: the reasons it fails and the rules that held."""
    reasons: list[Reason] = []
    held: list[str] = []
    for rule in rules:
        if not rule.rejects:
            continue
        truth, applies = rule.outcome(scope)
        if truth is Tri.FALSE:
            reasons.append(Reason(rule.id, rule.render(rule.message, scope), "fail"))
        elif truth is Tri.UNKNOWN:
            reasons.append(Reason(rule.id, f"{rule.title}: {'; '.join(rule.unknown_reasons(scope))}", "unknown"))
        elif applies is Tri.TRUE:
            held.append(rule.id)
    return reasons, held


def resolve(base: dict[str, Any], rules: Sequence[Rule], specs: Sequence[FlagSpec],
            dynamic: Dynamic | None = None) -> Resolution:
    """Decide every relevant flag, then collect the findings of the final flag set."""
    by_id = {r.id: r for r in rules}
    out = Resolution()
    decided: dict[str, Any] = {}
    for spec in specs:
        if spec.check_only:
            continue
        scope = scope_with(base, decided, specs, dynamic)
        if spec.relevant is not None and spec.relevant.truth(scope) is not Tri.TRUE:
            continue
        kw = spec.kwarg(base)
        if kw is None:
            continue
        flag_rules = [r for r in rules if spec.name in r.flags]
        rejected: list[Rejected] = []
        chosen: Any = _NOTHING
        held: list[str] = []
        for value in spec.candidates(scope):
            trial = scope.child(value=value, **{f"flag.{spec.name}": value})
            if value is not None:
                trial[f"kwarg.{kw}"] = value
            reasons, ok = candidate_reasons(flag_rules, trial)
            if not reasons:
                chosen, held = value, ok
                break
            rejected.append(Rejected(value, tuple(reasons)))
        if chosen is _NOTHING:
            chosen = _least_bad(rejected)
            out.findings.append(Finding(
                rule=rejected[-1].reasons[0].rule, severity="warning", flag=spec.name,
                message=f"no value of {spec.name} is known to work here; {value_text(chosen)} is the least risky",
                fix="; ".join(dict.fromkeys(by_id[r.rule].render(by_id[r.rule].fix, scope)
                                            for r in rejected[-1].reasons))))
            rejected = [r for r in rejected if r.value != chosen]
        decided[spec.name] = chosen
        out.decisions.append(Decision(
            flag=spec.name, name=kw, value=chosen, rules=tuple(held) or tuple(
                dict.fromkeys(r.rule for rej in rejected for r in rej.reasons)),
            rejected=tuple(rejected), summary=_summary(spec, chosen, rejected, scope)))
        if chosen is not None:
            out.flags[kw] = chosen
        out.findings.extend(_replaced(spec, chosen, rejected, scope, by_id))
        out.findings.extend(_better(spec, rejected, by_id, scope))
    final = scope_with(base, decided, specs, dynamic)
    out.scope = final
    out.findings.extend(collect_findings(rules, final, decided, only_non_rejecting=True))
    return out


def collect_findings(rules: Sequence[Rule], scope: Scope, flags: dict[str, Any],
                     only_non_rejecting: bool) -> list[Finding]:
    """Findings of a settled flag set: every rule that fails for the flags it concerns."""
    found: list[Finding] = []
    scopes: dict[str | None, Scope] = {}
    for rule in rules:
        if only_non_rejecting and rule.rejects and rule.flags:
            continue
        targets: list[str | None] = [f for f in rule.flags if f in flags] if rule.flags else [None]
        for flag in targets:
            s = scopes.get(flag)
            if s is None:  # one scope per flag, shared by the rules about it
                s = scopes[flag] = scope.child(value=flags.get(flag) if flag else None)
            if rule.evaluate(s) is Tri.FALSE:
                found.append(Finding(rule.id, rule.severity, rule.render(rule.message, s),
                                     rule.render(rule.fix, s), flag=flag))
    return found


def _least_bad(rejected: list[Rejected]) -> Any:
    for rej in rejected:
        if all(r.status == "unknown" for r in rej.reasons):
            return rej.value
    return rejected[-1].value


def _summary(spec: FlagSpec, chosen: Any, rejected: list[Rejected], scope: Scope) -> str:
    if not rejected:
        source = next((f for f in spec.first if scope.get(f) == chosen), None)
        if source is not None and source.startswith("request."):
            return "as asked, and every requirement holds"
        if source is not None and source.startswith("model."):
            return "as the checkpoint is saved; every requirement holds"
        if source is not None and source.startswith("memory."):
            return "computed by the memory plan; every requirement holds"
        return "the preferred value; every requirement holds"
    best = next((r for r in rejected if isinstance(r.value, str) and r.value in spec.suggest), rejected[0])
    first = best.reasons[0]
    word = "unknown whether it works" if first.status == "unknown" else "rejected"
    lead = "left out" if chosen is None else f"{value_text(chosen)} chosen"
    other = "leaving it out" if best.value is None else value_text(best.value)
    return f"{lead}: {other} {word}: {first.message}"


def value_text(value: Any) -> str:
    """A flag value as people read it: a string as it is, anything else in its JSON form (`true`, `null`)."""
    if isinstance(value, str):
        return value
    import json  # only for the summaries of non-string values

    return json.dumps(value)


def _replaced(spec: FlagSpec, chosen: Any, rejected: list[Rejected], scope: Scope,
              by_id: dict[str, Rule]) -> list[Finding]:
    """A finding when the user's requested value had to be replaced."""
    asked = next((scope.get(f) for f in spec.first if f.startswith("request.")), None)
    if asked in (None, "auto") or asked == chosen:
        return []
    rej = next((r for r in rejected if r.value == asked), None)
    if rej is None:
        return []
    rule = by_id[rej.reasons[0].rule]
    why = "; ".join(r.message for r in rej.reasons)
    return [Finding(rule.id, "warning", f"{spec.name}={asked} was asked for but cannot be used here: {why}. "
                    f"Using {value_text(chosen)} instead.", rule.render(rule.fix, scope), flag=spec.name)]


def _better(spec: FlagSpec, rejected: list[Rejected], by_id: dict[str, Rule], scope: Scope) -> list[Finding]:
    """An info finding when a better value is only a package install or upgrade away."""
    for rej in rejected:
        if not isinstance(rej.value, str) or rej.value not in spec.suggest:
            continue
        if all(r.status == "fail" and by_id[r.rule].fixable for r in rej.reasons):
            first = by_id[rej.reasons[0].rule]
            fixes = "; ".join(dict.fromkeys(by_id[r.rule].render(by_id[r.rule].fix, scope) for r in rej.reasons))
            return [Finding(first.id, "info", f"{spec.name}={value_text(rej.value)} would be possible: "
                            + "; ".join(r.message for r in rej.reasons), fixes, flag=spec.name)]
        return []
    return []
