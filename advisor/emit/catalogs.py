"""The catalogs as text and JSON: the rule list, one rule or flag, the GPU catalog, the model catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from advisor.emit.json_out import dumps
from advisor.engine.flags import FlagSpec
from advisor.engine.rules import Rule
from advisor.facts.gpu_catalog import CatalogGpu
from advisor.facts.model_catalog import CatalogEntry


def rules_json(rules: Sequence[Rule]) -> str:
    return dumps([{"id": r.id, "severity": r.severity, "title": r.title, "file": r.file} for r in rules])


def rule_data(rule: Rule) -> dict[str, Any]:
    """A rule as JSON data: what it requires, what it says, and its documentation."""
    d = rule.docs
    return {"id": rule.id, "title": rule.title, "severity": rule.severity, "file": f"rules/{rule.file}",
            "flags": list(rule.flags), "when": rule.when.text if rule.when else None,
            "require": rule.require.text if rule.require else None, "message": rule.message, "fix": rule.fix,
            "docs": {"explanation": d.explanation, "analogy": d.analogy, "use_case": d.use_case,
                     "compatibility": d.compatibility, "references": list(d.references)},
            "errors": [{e.kind: e.source, "package": e.package, "releases": e.releases, "evidence": e.evidence,
                        "raised": e.raised, "note": e.note} for e in rule.errors]}


def rule_json(rule: Rule) -> str:
    return dumps(rule_data(rule))


def flag_json(spec: FlagSpec) -> str:
    return dumps({"name": spec.name, "title": spec.title, "values": list(spec.values), "docs": dict(spec.docs)})


def gpus_text(gpus: Sequence[CatalogGpu]) -> str:
    head = f"{'GPU':<16} {'vendor':<7} {'compute':<8} {'memory':>10}  {'arch':<10} {'bf16':<5} fp8\n"
    return head + "".join(f"{g.name:<16} {g.vendor:<7} {g.capability.removeprefix('cc '):<8} {g.memory_gib:>6.1f} GiB"
                          f"  {g.arch:<10} {_yes(g.bf16):<5} {_yes(g.fp8)}\n" for g in gpus)


def _yes(value: bool | None) -> str:
    return "?" if value is None else "yes" if value else "no"


def gpus_json(gpus: Sequence[CatalogGpu]) -> str:
    return dumps([{"name": g.name, "vendor": g.vendor,
                   "compute_capability": f"{g.cc[0]}.{g.cc[1]}" if g.cc else None, "gfx": g.gfx,
                   "memory_gib": g.memory_gib, "unified_memory": g.unified, "devices": g.devices, "arch": g.arch,
                   "bf16": g.bf16, "fp8": g.fp8, "fp8_format": g.fp8_format or None, "aliases": list(g.aliases)}
                  for g in gpus])


def parameters_label(count: int | None) -> str:
    """A parameter count for people: 124M, 7.62B, 1.03T; `?` when unknown."""
    if count is None:
        return "?"
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if count >= scale:
            return f"{count / scale:.3g}{unit}"
    return f"{count:,}"


def models_text(models: Sequence[CatalogEntry]) -> str:
    width = max((len(m.id) for m in models), default=0)
    return "".join(f"{m.rank:>4}  {m.id:<{width}}  {parameters_label(m.parameters):>6}  {m.kind:<15}  "
                   f"{m.config.get('model_type', '?')}{'' if m.verbatim else '  (reconstructed)'}\n"
                   for m in models)


def models_json(models: Sequence[CatalogEntry]) -> str:
    return dumps([{"id": m.id, "rank": m.rank, "kind": m.kind, "model_type": m.config.get("model_type"),
                   "parameters": m.parameters, "parameters_source": m.parameters_source,
                   "verbatim": m.verbatim, "provenance": m.provenance} for m in models])
