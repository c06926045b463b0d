"""`advisor check --format text`: findings and unknowns for a terminal, grouped by severity."""

from __future__ import annotations

from advisor.core.report import Item, Report


def where(item: Item) -> str:
    """`model @ target (file:line)` for one item."""
    f = item.finding
    parts = [p for p in (item.model, f"@ {f.target}" if f.target else None) if p]
    loc = f"{f.file}:{f.line}" if f.file and f.line else f.file
    if loc:
        parts.append(f"({loc})")
    return " ".join(parts)


def report_text(report: Report) -> str:
    """The report as plain text, stable for the same inputs."""
    verdict = report.verdict()
    lines = [f"advisor {report.command}: {verdict.upper()} (fail-on {report.fail_on}, exit "
             f"{report.exit_code()})"]
    if report.policy:
        lines.append(f"policy: {report.policy}")
    n = report.counts()
    lines.append(f"{len(report.cases)} check(s): {n['error']} error(s), {n['warning']} warning(s), "
                 f"{n['info']} info, {n['unknown']} unknown")
    for item in report.findings():
        f = item.finding
        lines += ["", f"{f.severity:<7} {f.rule}  {where(item)}", f"        {f.message}"]
        if f.fix:
            lines.append(f"        fix: {f.fix}")
    unknowns = report.unknowns()
    if unknowns:
        lines += ["", "unknown (the facts these rules need could not be obtained; unknown is not pass):"]
        for item in unknowns:
            lines += [f"unknown {item.finding.rule}  {where(item)}", f"        {item.finding.message}"]
    return "\n".join(lines) + "\n"
