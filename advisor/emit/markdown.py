"""`advisor check --format markdown`: a table for a pull-request comment or the step summary."""

from __future__ import annotations

from advisor.core.plain import clean
from advisor.core.report import Item, Report

ICONS = {"pass": "✅", "fail": "❌", "unknown": "❔"}
MAX_ROWS = 500
"""Rows per table: a pull-request comment holds 65,536 characters."""


def cell(text: str | None) -> str:
    """Table-cell text: control characters escaped, pipes escaped, newlines folded."""
    return clean(text).replace("\\", "\\\\").replace("|", "\\|")


def _loc(item: Item) -> str:
    f = item.finding
    if not f.file:
        return ""
    return f"`{cell(f.file)}:{f.line}`" if f.line else f"`{cell(f.file)}`"


def report_markdown(report: Report) -> str:
    """Verdict, counts, then the findings and the unknowns as tables."""
    verdict = report.verdict()
    n = report.counts()
    out = [f"### {ICONS[verdict]} advisor {report.command}: {verdict}", ""]
    scope = f"{len(report.models())} model(s) × {len(report.targets())} target(s)"
    out.append(f"{scope} · {n['error']} error(s) · {n['warning']} warning(s) · {n['info']} info · "
               f"{n['unknown']} unknown · fail-on `{report.fail_on}`"
               + (f" · policy `{cell(report.policy)}`" if report.policy else ""))
    findings = report.findings()
    if findings:
        out += ["", "| Severity | Rule | Model | Target | Where | Message | Fix |",
                "|---|---|---|---|---|---|---|"]
        for item in findings[:MAX_ROWS]:
            f = item.finding
            out.append(f"| {f.severity} | `{f.rule}` | {cell(item.model)} | {cell(f.target)} | "
                       f"{_loc(item)} | {cell(f.message)} | {cell(f.fix)} |")
        if len(findings) > MAX_ROWS:
            out.append(f"\n…and {len(findings) - MAX_ROWS} more (see the json or sarif output).")
    unknowns = report.unknowns()
    if unknowns:
        out += ["", "<details><summary>Unknown: the facts these rules need could not be obtained "
                f"({len(unknowns)})</summary>", "", "| Rule | Model | Target | Where | Why |",
                "|---|---|---|---|---|"]
        for item in unknowns[:MAX_ROWS]:
            f = item.finding
            out.append(f"| `{f.rule}` | {cell(item.model)} | {cell(f.target)} | {_loc(item)} | "
                       f"{cell(f.message)} |")
        out += ["", "</details>"]
    if not findings and not unknowns:
        out += ["", "No findings."]
    return "\n".join(out) + "\n"
