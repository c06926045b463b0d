"""Human-readable tables (rich) for recommendations and rule documentation."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from advisor.core.results import Recommendation
from advisor.emit.memory_text import memory_table
from advisor.engine.flags import FlagSpec
from advisor.engine.rules import ErrorText, Rule

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _console(buf: StringIO, width: int) -> Console:
    return Console(file=buf, width=width, force_terminal=False, color_system=None, highlight=False)


def recommendation_text(rec: Recommendation, width: int = 110) -> str:
    buf = StringIO()
    con = _console(buf, width)
    m = rec.model
    where = f" @ {m['commit'][:12]}" if m.get("commit") else ""
    con.print(f"Model: {m['id']}{where}  ({m.get('architecture') or m.get('model_type')}, from {m['source']})")
    if m["source"] == "catalog":
        con.print(catalog_line(m), markup=False)
    hw = rec.target["hardware"]
    gpus = hw["gpus"]
    gpu = f"{len(gpus)} x {gpus[0]['name']['value']}" if gpus else "no GPU"
    tf = rec.target["transformers"].get("value") or "unknown"
    con.print(f"Target: {gpu} ({hw['source']}), transformers {tf}")
    if rec.target["software"].get("note"):
        con.print(f"Note: {rec.target['software']['note']}", markup=False)
    con.print()
    table = Table(title="Recommended from_pretrained flags", show_lines=False, expand=False)
    table.add_column("flag", no_wrap=True)
    table.add_column("value", no_wrap=True)
    table.add_column("why")
    for d in rec.decisions:
        table.add_row(d.name, display_value(d.value), d.summary)
    con.print(table)
    rejected = [(d, r) for d in rec.decisions for r in d.rejected if r.value is not None]
    if rejected:
        con.print()
        rt = Table(title="Better candidates that were rejected")
        rt.add_column("flag", no_wrap=True)
        rt.add_column("value", no_wrap=True)
        rt.add_column("rule", no_wrap=True)
        rt.add_column("reason")
        for d, r in rejected:
            for i, reason in enumerate(r.reasons):
                rt.add_row(d.name if i == 0 else "", display_value(r.value) if i == 0 else "", reason.rule,
                           ("(unknown) " if reason.status == "unknown" else "") + reason.message)
        con.print(rt)
    if rec.findings:
        con.print()
        ft = Table(title="Findings")
        ft.add_column("severity", no_wrap=True)
        ft.add_column("rule", no_wrap=True)
        ft.add_column("message")
        ft.add_column("fix")
        for f in rec.findings:
            ft.add_row(Text(f.severity, style=SEVERITY_STYLE[f.severity]), f.rule, f.message, f.fix)
        con.print(ft)
    if rec.memory:
        con.print()
        con.print(memory_table(rec.memory))
    con.print()
    con.print("Python:")
    con.print(rec.python, markup=False)
    return buf.getvalue()


def catalog_line(model: dict[str, Any]) -> str:
    """What the catalog says of a model it answered for: the date, the count and where the config came from."""
    count = model.get("parameters")
    counted = (f"{count / 1e9:.2f}B parameters ({model.get('parameters_source')})" if isinstance(count, int)
               else f"parameters unknown ({model.get('parameters_source')})")
    how = "verbatim" if model.get("verbatim") else "reconstructed"
    where = str(model.get("provenance") or "an unrecorded source").split("; ", 1)[0]
    return f"Catalog: config.json taken {model.get('catalog_date')}, {how}, from {where}; {counted}"


def display_value(value: Any) -> str:
    """A flag value as people read it in tables: its JSON form, or `(leave out)`."""
    return "(leave out)" if value is None else json.dumps(value, ensure_ascii=False)


def rules_list_text(rules: tuple[Rule, ...]) -> str:
    width = max(len(r.id) for r in rules)
    return "".join(f"{r.id:<{width}}  {r.severity:<7}  {r.title}\n" for r in rules)


def rule_doc_text(rule: Rule) -> str:
    d = rule.docs
    parts = [
        f"{rule.id}: {rule.title}",
        f"severity: {rule.severity}    file: rules/{rule.file}    flags: {', '.join(rule.flags) or '(any)'}",
        "",
        f"When:     {rule.when.text if rule.when else '(always)'}",
        f"Requires: {rule.require.text}" if rule.require else f"Reported by: advisor {rule.emitted_by}",
        "",
        "Explanation", f"  {d.explanation}", "",
        "In plain words", f"  {d.analogy}", "",
        "Use case", f"  {d.use_case}", "",
        "Compatibility", f"  {d.compatibility}", "",
        "Fix", f"  {rule.fix}", "",
        "References", *(f"  - {r}" for r in d.references),
    ]
    if rule.errors:
        parts += ["", "Error messages it explains (advisor explain)"]
        parts += [f"  - {error_line(e)}" for e in rule.errors]
    return "\n".join(parts) + "\n"


def error_line(error: ErrorText) -> str:
    """One upstream message of a rule as people read it: the text (or pattern), who raises it, and when."""
    shown = f'"{error.text}"' if error.text is not None else f"pattern {error.pattern}"
    releases = "every release read" if error.releases == "*" else error.releases
    return f"{shown}  [{error.package} {releases}]"


def flag_doc_text(spec: FlagSpec) -> str:
    return "\n".join([f"{spec.name}: {spec.title}", ""] + [
        f"{k.replace('_', ' ').capitalize()}\n  {v}\n" for k, v in spec.docs.items()])
