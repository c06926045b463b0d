"""`advisor check --format github`: workflow commands for annotations, and the step summary.

GitHub shows at most ten annotations of each kind per step, so the top ten errors, warnings and notices
are printed (unknowns count as warnings); the full table goes to `$GITHUB_STEP_SUMMARY` when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path

from advisor.core.plain import clean
from advisor.core.report import Item, Report
from advisor.emit.markdown import report_markdown

LIMIT = 10
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """TEXT for a workflow command: GitHub's own escapes for %, CR and LF, then the other control characters
    escaped (a terminal shows the log)."""
    return clean(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), one_line=False)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(item: Item) -> str:
    """One `::error file=…,line=…,title=…::message` line."""
    f = item.finding
    kind = "warning" if item.unknown else COMMANDS[f.severity]
    props = []
    if f.file:
        props.append(f"file={escape_property(f.file)}")
        if f.line:
            props.append(f"line={f.line}")
            if f.column:
                props.append(f"col={f.column}")
    title = f"{f.rule}{' unknown' if item.unknown else ''}" + (f" on {f.target}" if f.target else "")
    props.append(f"title={escape_property(title)}")
    text = f.message + (f" [{item.model}]" if item.model else "")
    if f.fix and not item.unknown:
        text += f" Fix: {f.fix}"
    return f"::{kind} {','.join(props)}::{escape_data(text)}"


def report_github(report: Report) -> str:
    """Annotations (top ten of each kind) on stdout; the markdown table appended to the step summary."""
    groups: dict[str, list[Item]] = {"error": [], "warning": [], "notice": []}
    for item in report.findings() + report.unknowns():
        kind = "warning" if item.unknown else COMMANDS[item.finding.severity]
        groups[kind].append(item)
    lines: list[str] = []
    for kind, items in groups.items():
        lines.extend(annotation(i) for i in items[:LIMIT])
        if len(items) > LIMIT:
            lines.append(f"advisor: {len(items) - LIMIT} more {kind} annotation(s) not shown; "
                         "the step summary lists every one")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with Path(summary).open("a", encoding="utf-8") as fh:
                fh.write(report_markdown(report))
        except OSError as exc:
            lines.append(f"advisor: cannot append to $GITHUB_STEP_SUMMARY ({exc.strerror})")
    return "\n".join(lines) + ("\n" if lines else "")
