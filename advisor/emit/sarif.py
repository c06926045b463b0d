"""`advisor check --format sarif`: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, GitLab).

Rules carry their help text and links from the rule docs; results point at the code line (lint) or at
the model's entry in the policy file (check). Unknowns are results of kind `open`: not a pass.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from advisor import __version__
from advisor.core.references import reference_url
from advisor.core.report import Item, Report
from advisor.emit.json_out import dumps
from advisor.engine.pack import load_rules
from advisor.engine.rules import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """A reportingDescriptor: id, texts, help (plain and markdown), helpUri, default level."""
    d = rule.docs
    links = [(r, reference_url(r)) for r in d.references]
    parts = [d.explanation]
    md = [d.explanation]
    for label, text in (("Analogy", d.analogy), ("Use case", d.use_case),
                        ("Compatibility", d.compatibility), ("Fix", rule.fix)):
        if text:
            parts.append(f"{label}: {text}")
            md.append(f"**{label}:** {text}")
    if links:
        parts.append("References: " + "; ".join(r if u is None else f"{r} <{u}>" for r, u in links))
        md.append("**References:**\n" + "\n".join(f"- [{r}]({u})" if u else f"- {r}" for r, u in links))
    out: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", rule.id) if w),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": d.explanation},
        "help": {"text": "\n\n".join(parts), "markdown": "\n\n".join(md)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [rule.id.split("-", 1)[0].lower(), "advisor"]},
    }
    url = next((u for _, u in links if u and u.startswith("https://")), None)  # helpUri is absolute
    if url:
        out["helpUri"] = url
    return out


def _fingerprint(item: Item) -> str:
    f = item.finding
    key = "\x1f".join([f.rule, item.model or "", f.target or "", f.file or "", str(f.line or 0),
                       f.flag or ""])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(item: Item, index: dict[str, int]) -> dict[str, Any]:
    f = item.finding
    context = " · ".join(p for p in (item.model, f.target) if p)
    text = f.message + (f" [{context}]" if context else "")
    if f.fix and not item.unknown:
        text += f" Fix: {f.fix}"
    out: dict[str, Any] = {"ruleId": f.rule}
    if f.rule in index:
        out["ruleIndex"] = index[f.rule]
    if item.unknown:
        out.update({"kind": "open", "level": "none"})
    else:
        out.update({"kind": "fail", "level": LEVELS[f.severity]})
    out["message"] = {"text": text}
    if f.file:
        region = ({"startLine": f.line, **({"startColumn": f.column} if f.column else {})} if f.line else None)
        physical: dict[str, Any] = {"artifactLocation": {"uri": f.file.replace("\\", "/")}}
        if region:
            physical["region"] = region
        out["locations"] = [{"physicalLocation": physical}]
    out["partialFingerprints"] = {"advisorFinding/v1": _fingerprint(item)}
    props: dict[str, Any] = {"target": f.target, "model": item.model, "flag": f.flag, "severity": f.severity}
    out["properties"] = {k: v for k, v in props.items() if v is not None}
    return out


def report_sarif(report: Report) -> str:
    """The report as one SARIF 2.1.0 log with one run."""
    items = report.findings() + report.unknowns()
    known = {r.id: r for r in load_rules()}
    used = sorted({i.finding.rule for i in items})
    rules = [known[r] for r in sorted(known)]
    index = {r.id: n for n, r in enumerate(rules)}
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "advisor", "fullName": "hf-advisor", "version": __version__,
                                "semanticVersion": __version__,
                                "rules": [rule_descriptor(r) for r in rules]}},
            "automationDetails": {"id": f"advisor/{report.command}/"},
            "columnKind": "unicodeCodePoints",
            "results": [_result(i, index) for i in items],
            "properties": {"status": report.verdict(), "failOn": report.fail_on, "rulesReported": used,
                           **({"policy": report.policy} if report.policy else {})},
        }],
    }
    return dumps(log)


def failure_sarif(command: str, message: str) -> str:
    """A SARIF log for a run that could not produce results: no results, and the error as a notification."""
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "advisor", "fullName": "hf-advisor", "version": __version__,
                                "semanticVersion": __version__}},
            "automationDetails": {"id": f"advisor/{command}/"},
            "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [
                {"level": "error", "message": {"text": message}, "descriptor": {"id": "advisor-run"}}]}],
            "results": [],
        }],
    }
    return dumps(log)
