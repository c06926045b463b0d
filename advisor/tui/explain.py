"""Textual markup for what the app explains: a flag's decision, a rule's documentation, a finding, a fact.

Pure functions over the API's objects (no widgets, no rule logic): the views show what these return.
Rule ids are links (`@click=app.show_rule(...)`) so the mouse opens their documentation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual.markup import escape

from advisor.core.references import reference_url
from advisor.emit.text import display_value as value_text
from advisor.emit.text import error_line

if TYPE_CHECKING:
    from advisor.api import Explanation, FlagSpec, Rule
    from advisor.core.results import Decision, Finding

DOC_PARTS = (("explanation", "Explanation"), ("analogy", "In plain words"), ("use_case", "Use case"),
             ("compatibility", "Compatibility"))
SEVERITY_STYLE = {"error": "$error", "warning": "$warning", "info": "$accent"}
SEVERITY_TITLE = {"error": "Errors", "warning": "Warnings", "info": "Information"}


def rule_link(rule_id: str) -> str:
    return f"[@click=app.show_rule({rule_id!r})][b $accent]{escape(rule_id)}[/][/]"


def flag_detail(decision: Decision, spec: FlagSpec | None, rules: Mapping[str, Rule],
                fixes: Mapping[str, str]) -> str:
    """A flag's full story: its value and why, every better candidate with what it failed, its docs."""
    lines = [f"[b]{escape(decision.name)}[/] = [b $success]{escape(value_text(decision.value))}[/]"]
    if spec is not None:
        lines.append(f"[dim]{escape(spec.title)}[/]")
    lines += ["", f"[b]Why:[/] {escape(decision.summary)}"]
    if decision.rejected:
        lines += ["", "[b]Better candidates it rejected[/] (best first)"]
        for rej in decision.rejected:
            lines.append(f"  [b $warning]{escape(value_text(rej.value))}[/]")
            for reason in rej.reasons:
                mark = "?" if reason.status == "unknown" else "✗"
                note = " [dim](unknown, not a pass)[/]" if reason.status == "unknown" else ""
                lines.append(f"    {mark} {rule_link(reason.rule)} {escape(reason.message)}{note}")
                fix = fixes.get(reason.rule)
                if fix:
                    lines.append(f"      [dim]→ what would change it:[/] {escape(fix)}")
    if decision.rules:
        lines += ["", "[b]Rules that chose it[/]"]
        for rid in decision.rules:
            title = rules[rid].title if rid in rules else ""
            lines.append(f"  {rule_link(rid)} {escape(title)}")
    if spec is not None:
        for key, title in DOC_PARTS:
            text = spec.docs.get(key)
            if text:
                lines += ["", f"[b]{title}[/]", f"  {escape(text)}"]
    return "\n".join(lines)


def rule_doc(rule: Rule) -> str:
    """A rule's documentation in the same parts as `advisor rules ID`."""
    d = rule.docs
    style = SEVERITY_STYLE.get(rule.severity, "$text")
    lines = [
        f"[b]{escape(rule.id)}[/]: {escape(rule.title)}",
        f"[{style}]{rule.severity}[/]  [dim]file rules/{escape(rule.file)} · flags "
        f"{escape(', '.join(rule.flags) or '(any)')}[/]",
        "",
        f"[b]When[/]      {escape(rule.when.text if rule.when else '(always)')}",
        f"[b]Requires[/]  {escape(rule.require.text)}" if rule.require else
        f"[b]Reported by[/]  advisor {escape(rule.emitted_by or '')}",
    ]
    for key, title in DOC_PARTS:
        lines += ["", f"[b]{title}[/]", f"  {escape(getattr(d, key))}"]
    lines += ["", "[b]Fix[/]", f"  {escape(rule.fix)}", "", "[b]References[/]"]
    for ref in d.references:
        url = reference_url(ref) or ""
        lines += [f"  • {escape(ref)}", f'    [dim][link="{url}"]{escape(url)}[/link][/dim]']
    if rule.errors:
        lines += ["", "[b]Error messages it explains[/]"]
        lines += [f"  • {escape(error_line(e))}" for e in rule.errors]
    return "\n".join(lines)


def finding_text(finding: Finding) -> str:
    style = SEVERITY_STYLE.get(finding.severity, "$text")
    out = f"[b {style}]{escape(finding.rule)}[/] {escape(finding.message)}"
    if finding.fix:
        out += f"\n  [dim]fix:[/] {escape(finding.fix)}"
    return out


def is_fact(node: object) -> bool:
    """A fact as `Fact.to_json()` writes it: a value with its source."""
    return isinstance(node, dict) and "source" in node and "value" in node


def fact_label(name: str, fact: Mapping[str, Any], warn: str = "yellow") -> str:
    """`name: value · source`, or `name: unknown (reason) · source`, in Rich markup (for a Tree label)."""
    source = f"[dim]· {escape(str(fact.get('source')))}[/]"
    if "unknown" in fact:
        return f"{escape(name)}: [{warn}]unknown[/] [i]({escape(str(fact['unknown']))})[/] {source}"
    value = fact.get("value")
    shown = "none" if value is None else json.dumps(value) if not isinstance(value, str) else value
    return f"{escape(name)}: [b]{escape(shown)}[/] {source}"


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


VERDICT_MARKUP = {"fails": "[b $error]fails on these facts[/]", "unknown": "[dim]these facts cannot tell[/]",
                  "holds": "[$success]holds on these facts[/] [dim](unlikely to be this rule)[/]"}


def explanation_markup(e: Explanation) -> str:
    """The rules that explain a pasted error, best first, then what the text revealed."""
    if not e.matches:
        lines = ["[b $warning]No rule explains this error.[/] advisor does not know this message."]
    else:
        lines = [f"[b]{len(e.matches)} rule{'s' if len(e.matches) != 1 else ''} explain this error[/], best first"]
    for n, m in enumerate(e.matches, 1):
        style = SEVERITY_STYLE.get(m.severity, "$text")
        lines += ["", f"[b]{n}.[/] {rule_link(m.rule)} {escape(m.title)} [{style}]{m.severity}[/]"]
        for hit in m.messages:
            lines.append(f"  [dim]line {hit.line}:[/] {escape(hit.excerpt)}")
        if m.verdict is not None:
            lines.append(f"  {VERDICT_MARKUP[m.verdict]}")
        lines.append(f"  [b]What happened[/] {escape(m.happened)}")
        releases = ", ".join(f"{h.package} {'(every release read)' if h.releases == '*' else h.releases}"
                             for h in m.messages)
        lines.append(f"  [b]Raised by[/] {escape(releases)}")
        lines.append(f"  [b]Why[/] {escape(m.explanation)}")
        lines.append(f"  [b]Fix[/] {escape(m.fix)}")
    r = e.recognised
    seen = [("Exceptions", ", ".join(r.exceptions)),
            ("Models", ", ".join(dict.fromkeys(f"{m.id} ({m.how})" for m in r.models))),
            ("Packages", ", ".join(f"{name} {' / '.join(v)}" for name, v in r.packages)),
            ("GPUs", ", ".join(w if w == c else f"{w} ({c})" for w, c in r.gpus))]
    shown = [f"  [b]{k}[/] {escape(v)}" for k, v in seen if v]
    lines += ["", "[b]Recognised[/]", *(shown or ["  [dim]nothing: no exception, model, package or GPU[/]"])]
    if e.named is not None:
        lines += ["", f"[dim]^o loads {escape(e.named.id)} into the app.[/]"]
    return "\n".join(lines)
