"""`advisor check` and `advisor lint` as text for a terminal.

lint prints ruff's line format, `path:line:col: RULE-ID message`, at the keyword the finding is about, one
line per distinct problem with the targets it affects. check prints each distinct problem once with the
targets it affects, then a model × target matrix of verdicts. Both end with the counts and are stable for
the same inputs.
"""

from __future__ import annotations

from collections.abc import Iterable

from advisor.core.plain import clean
from advisor.core.report import Case, Item, Report
from advisor.core.results import SEVERITY_RANK
from advisor.emit.style import Style

MATRIX_COLUMNS = 12
"""Targets beyond which the matrix becomes one line per model."""
MARKS = {"pass": "ok", "fail": "FAIL", "unknown": "?"}


def report_text(report: Report, style: Style | None = None) -> str:
    """The report as plain text (STYLE: the terminal's width and colour; lines are not cut)."""
    lines = _lint(report) if report.command == "lint" else _check(report)
    lines += ["", f"{report.command}: {report.verdict().upper()} (fail-on {report.fail_on}, exit "
              f"{int(report.exit_code())}): {report.tally()}"]
    if report.policy:
        lines.append(f"policy: {clean(report.policy)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _groups(items: Iterable[Item]) -> list[tuple[Item, list[str]]]:
    """Items that differ only in their target, merged: the first of each with every target it concerns."""
    merged: dict[tuple[object, ...], tuple[Item, list[str]]] = {}
    for item in items:
        f = item.finding
        key = (item.unknown, f.severity, f.rule, item.model, f.file, f.line, f.column, f.message, f.fix)
        if key not in merged:
            merged[key] = (item, [])
        if f.target and f.target not in merged[key][1]:
            merged[key][1].append(f.target)
    return list(merged.values())


def _targets(targets: list[str], everyone: int) -> str:
    if not targets or everyone == 1:
        return ""
    if len(targets) == everyone > 1:
        return " [every target]"
    return f" [{', '.join(clean(t) for t in targets)}]"


def _lint(report: Report) -> list[str]:
    lines: list[str] = []
    everyone = len(report.targets())
    ordered = sorted([*report.findings(), *report.unknowns()],
                     key=lambda i: (i.finding.file or "", i.finding.line or 0, i.finding.column or 0, i.unknown,
                                    -SEVERITY_RANK[i.finding.severity], i.finding.rule, i.finding.target or ""))
    for item, targets in _groups(ordered):
        f = item.finding
        where = f"{clean(f.file or item.model or '?')}:{f.line or 1}:{f.column or 1}"
        tag = " (unknown)" if item.unknown else "" if f.severity == "error" else f" ({f.severity})"
        lines.append(f"{where}: {f.rule}{tag} {clean(f.message)}{_targets(targets, everyone)}")
    return lines


def _check(report: Report) -> list[str]:
    lines: list[str] = []
    everyone = len(report.targets())
    for title, items in (("", report.findings()), ("unknown (the facts these rules need could not be "
                                                   "obtained; unknown is not pass):", report.unknowns())):
        if title and items:
            lines += ["", title]
        for item, targets in _groups(items):
            f = item.finding
            loc = f" ({clean(f.file)}:{f.line})" if f.file and f.line else f" ({clean(f.file)})" if f.file else ""
            head = "unknown" if item.unknown else f.severity
            lines += ["", f"{head:<7} {f.rule}  {clean(item.model or '')}{loc}{_targets(targets, everyone)}",
                      f"        {clean(f.message)}"]
            if f.fix and not item.unknown:
                lines.append(f"        fix: {clean(f.fix)}")
    lines += ["", *matrix(report)]
    return lines


def case_verdict(case: Case, report: Report) -> str:
    """pass, fail (a finding at or above fail-on) or unknown, for one case."""
    rank = SEVERITY_RANK[report.fail_on]
    if any(SEVERITY_RANK[f.severity] >= rank for f in case.findings):
        return "fail"
    return "unknown" if case.unknowns else "pass"


def matrix(report: Report) -> list[str]:
    """Models down, targets across, a verdict in each cell; one line per model when the targets are many."""
    models, targets = report.models(), report.targets()
    cells = {(c.model, c.target): case_verdict(c, report) for c in report.cases}
    if not models or not targets:
        return []
    width = max(len(clean(m)) for m in models)
    if len(targets) > MATRIX_COLUMNS:
        out = [f"{len(models)} model(s) × {len(targets)} target(s):"]
        for m in models:
            failing = [t for t in targets if cells.get((m, t)) == "fail"]
            unknown = [t for t in targets if cells.get((m, t)) == "unknown"]
            state = (f"fails on {len(failing)} of {len(targets)}: {', '.join(clean(t) for t in failing)}"
                     if failing else "passes everywhere")
            if unknown:
                state += f"; unknown on {len(unknown)}"
            out.append(f"  {clean(m):<{width}}  {state}")
        return out
    heads = [clean(t) for t in targets]
    out = [f"  {'':<{width}}  " + "  ".join(heads)]
    for m in models:
        row = [MARKS.get(cells.get((m, t), ""), "-").center(len(h)) for t, h in zip(targets, heads, strict=True)]
        out.append(f"  {clean(m):<{width}}  " + "  ".join(row))
    return out
