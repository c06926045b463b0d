"""`advisor check --format json`: schema_version 1 (schemas/check.schema.json), stable bytes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from advisor.core.report import Case, Report
from advisor.emit.json_out import dumps

SCHEMA_VERSION = 1


def case_json(case: Case) -> dict[str, Any]:
    """One model (or call) on one target: its status and how many rules passed, failed, were unknown."""
    counts = Counter(e.status for e in case.evaluations)
    status = "fail" if case.findings else ("unknown" if case.unknowns else "pass")
    out: dict[str, Any] = {"model": case.model, "revision": case.revision, "target": case.target,
                           "file": case.file, "line": case.line, "status": status,
                           "flags": dict(sorted(case.flags.items())),
                           "rules": {k: counts.get(k, 0) for k in ("pass", "fail", "unknown")}}
    return out


def report_data(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": report.command,
        "policy": report.policy,
        "fail_on": report.fail_on,
        "status": report.verdict(),
        "exit_code": report.exit_code(),
        "counts": report.counts(),
        "findings": [i.to_json() for i in report.findings()],
        "unknown": [i.to_json() for i in report.unknowns()],
        "cases": [case_json(c) for c in report.cases],
    }


def report_json(report: Report) -> str:
    return dumps(report_data(report))
