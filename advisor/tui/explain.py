"""Textual markup for what the app explains: a flag's decision, a rule's documentation, a finding, a fact.

Pure functions over the API's objects (no widgets, no rule logic): the views show what these return,
paragraphs whose wrapped lines hang under their first (`paragraphs.Paragraphs`).
Rule ids are links (`@click=app.show_rule(...)`) so the mouse opens their documentation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from textual.markup import escape

from advisor.core.references import reference_url
from advisor.emit.text import display_value as value_text
from advisor.emit.text import error_line
from advisor.tui.paragraphs import Para, Paragraphs

if TYPE_CHECKING:
    from advisor.api import Explanation, FlagSpec, Rule
    from advisor.core.results import Decision, Finding

DOC_PARTS = (("explanation", "Explanation"), ("analogy", "In plain words"), ("use_case", "Use case"),
             ("compatibility", "Compatibility"))
SEVERITY_STYLE = {"error": "$error", "warning": "$warning", "info": "$accent"}
SEVERITY_TITLE = {"error": "Errors", "warning": "Warnings", "info": "Information"}


HEADLINE_MAX = 3
"""Findings that matter shown on the first screen, one line each; more are counted."""
MARK = {"error": "✗", "warning": "▲", "info": "·"}


def rule_link(rule_id: str, style: str = "$accent") -> str:
    return f"[@click=app.show_rule({rule_id!r})][b {style}]{escape(rule_id)}[/][/]"


def headline(findings: Sequence[Finding]) -> str:
    """The findings that matter (errors, then warnings), a line each, for the first screen; "" for none."""
    shown = sorted((f for f in findings if f.severity in ("error", "warning")), key=lambda f: f.severity != "error")
    lines = []
    for f in shown[:HEADLINE_MAX]:
        style = SEVERITY_STYLE[f.severity]
        lines.append(f"[b {style}]{MARK[f.severity]}[/] {rule_link(f.rule, style)} {escape(f.message)}")
    if len(shown) > HEADLINE_MAX:
        lines.append(f"[dim]… and {len(shown) - HEADLINE_MAX} more: 2 shows every finding[/]")
    return "\n".join(lines)


def flag_detail(decision: Decision, spec: FlagSpec | None, rules: Mapping[str, Rule],
                fixes: Mapping[str, str]) -> Paragraphs:
    """A flag's full story: its value and why, every better candidate with what it failed, its docs."""
    out = [Para(f"[b]{escape(decision.name)}[/] = [b $success]{escape(value_text(decision.value))}[/]")]
    if spec is not None:
        out.append(Para(f"[dim]{escape(spec.title)}[/]"))
    out += [Para(), Para(f"[b]Why:[/] {escape(decision.summary)}", hang=5)]
    if decision.rejected:
        out += [Para(), Para("[b]Better candidates it rejected[/] (best first)")]
        for rej in decision.rejected:
            out.append(Para(f"[b $warning]{escape(value_text(rej.value))}[/]", indent=2))
            for reason in rej.reasons:
                mark = "?" if reason.status == "unknown" else "✗"
                note = " [dim](unknown, not a pass)[/]" if reason.status == "unknown" else ""
                out.append(Para(f"{mark} {rule_link(reason.rule)} {escape(reason.message)}{note}", indent=4,
                                hang=2))
                fix = fixes.get(reason.rule)
                if fix:
                    out.append(Para(f"[dim]→ what would change it:[/] {escape(fix)}", indent=6, hang=2))
    if decision.rules:
        out += [Para(), Para("[b]Rules that chose it[/]")]
        for rid in decision.rules:
            title = rules[rid].title if rid in rules else ""
            out.append(Para(f"{rule_link(rid)} {escape(title)}", indent=2, hang=2))
    if spec is not None:
        for key, title in DOC_PARTS:
            text = spec.docs.get(key)
            if text:
                out += [Para(), Para(f"[b]{title}[/]"), Para(escape(text), indent=2)]
    return Paragraphs(out)


def rule_doc(rule: Rule) -> Paragraphs:
    """A rule's documentation in the same parts as `advisor rules ID`."""
    d = rule.docs
    style = SEVERITY_STYLE.get(rule.severity, "$text")
    out = [
        Para(f"[b]{escape(rule.id)}[/]: {escape(rule.title)}", hang=2),
        Para(f"[{style}]{rule.severity}[/]  [dim]file rules/{escape(rule.file)} · flags "
             f"{escape(', '.join(rule.flags) or '(any)')}[/]", hang=2),
        Para(),
        Para(f"[b]When[/]      {escape(rule.when.text if rule.when else '(always)')}", hang=10),
        Para(f"[b]Requires[/]  {escape(rule.require.text)}", hang=10) if rule.require else
        Para(f"[b]Reported by[/]  advisor {escape(rule.emitted_by or '')}", hang=13),
    ]
    for key, title in DOC_PARTS:
        out += [Para(), Para(f"[b]{title}[/]"), Para(escape(getattr(d, key)), indent=2)]
    out += [Para(), Para("[b]Fix[/]"), Para(escape(rule.fix), indent=2), Para(), Para("[b]References[/]")]
    for ref in d.references:
        out.append(Para(f"• {escape(ref)}", indent=2, hang=2))
        url = reference_url(ref)
        if url:
            out.append(Para(f'[dim][link="{url}"]{escape(url)}[/link][/dim]', indent=4))
    if rule.errors:
        out += [Para(), Para("[b]Error messages it explains[/]")]
        out += [Para(f"• {escape(error_line(e))}", indent=2, hang=2) for e in rule.errors]
    return Paragraphs(out)


def finding_paras(finding: Finding, indent: int = 0) -> list[Para]:
    """A finding: its rule and message, then its fix, each wrapped under itself."""
    style = SEVERITY_STYLE.get(finding.severity, "$text")
    out = [Para(f"[b {style}]{escape(finding.rule)}[/] {escape(finding.message)}", indent=indent, hang=2)]
    if finding.fix:
        out.append(Para(f"[dim]fix:[/] {escape(finding.fix)}", indent=indent + 2, hang=5))
    return out


def finding_text(finding: Finding) -> Paragraphs:
    return Paragraphs(finding_paras(finding))


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


def explanation_markup(e: Explanation) -> Paragraphs:
    """The rules that explain a pasted error, best first, then what the text revealed."""
    if not e.matches:
        out = [Para("[b $warning]No rule explains this error.[/] advisor does not know this message.")]
    else:
        out = [Para(f"[b]{len(e.matches)} rule{'s' if len(e.matches) != 1 else ''} explain this error[/], "
                    "best first")]
    for n, m in enumerate(e.matches, 1):
        style = SEVERITY_STYLE.get(m.severity, "$text")
        out += [Para(), Para(f"[b]{n}.[/] {rule_link(m.rule)} {escape(m.title)} [{style}]{m.severity}[/]",
                             hang=3)]
        for hit in m.messages:
            out.append(Para(f"[dim]line {hit.line}:[/] {escape(hit.excerpt)}", indent=2, hang=2))
        if m.verdict is not None:
            out.append(Para(VERDICT_MARKUP[m.verdict], indent=2))
        out.append(Para(f"[b]What happened[/] {escape(m.happened)}", indent=2, hang=2))
        releases = ", ".join(f"{h.package} {'(every release read)' if h.releases == '*' else h.releases}"
                             for h in m.messages)
        out.append(Para(f"[b]Raised by[/] {escape(releases)}", indent=2, hang=2))
        out.append(Para(f"[b]Why[/] {escape(m.explanation)}", indent=2, hang=2))
        out.append(Para(f"[b]Fix[/] {escape(m.fix)}", indent=2, hang=2))
    r = e.recognised
    seen = [("Exceptions", ", ".join(r.exceptions)),
            ("Models", ", ".join(dict.fromkeys(f"{m.id} ({m.how})" for m in r.models))),
            ("Packages", ", ".join(f"{name} {' / '.join(v)}" for name, v in r.packages)),
            ("GPUs", ", ".join(w if w == c else f"{w} ({c})" for w, c in r.gpus))]
    shown = [Para(f"[b]{k}[/] {escape(v)}", indent=2, hang=2) for k, v in seen if v]
    out += [Para(), Para("[b]Recognised[/]"),
            *(shown or [Para("[dim]nothing: no exception, model, package or GPU[/]", indent=2)])]
    if e.named is not None:
        out += [Para(), Para(f"[dim]^o loads {escape(e.named.id)} into the app.[/]")]
    return Paragraphs(out)
