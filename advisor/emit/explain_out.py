"""`advisor explain` as text and JSON: the rules that explain an error, best first, and what the log revealed."""

from __future__ import annotations

import json
import textwrap

from advisor.core.explanation import Explanation, MessageHit, Recognised, RuleMatch
from advisor.emit.json_out import dumps

WIDTH = 100
VERDICT_TEXT = {"fails": "it fails on these facts", "unknown": "these facts cannot tell",
                "holds": "it holds on these facts, so this error is unlikely to come from it"}


def _wrap(label: str, text: str, indent: int = 4) -> list[str]:
    head = " " * indent + f"{label:<15}"
    return textwrap.wrap(text, WIDTH, initial_indent=head, subsequent_indent=" " * (indent + 15),
                         break_on_hyphens=False, break_long_words=False) or [head.rstrip()]


def _raised_by(hit: MessageHit) -> str:
    releases = "(every release read)" if hit.releases == "*" else hit.releases
    fit = {True: ", as is the installed one", False: ", not the installed one", None: ""}[hit.fits_version]
    return f"{hit.package} {releases}{fit}" + (f": {hit.raised}" if hit.raised else "")


def _match(n: int, m: RuleMatch) -> list[str]:
    lines = [f"{n}. {m.rule}  {m.title}  [{m.severity}]"]
    for hit in m.messages:
        seen = f"line {hit.line}" + (f" (and {hit.count - 1} more)" if hit.count > 1 else "")
        lines += _wrap("Found", f"{seen}: {hit.excerpt}")
    lines += _wrap("What happened", m.happened)
    for hit in m.messages:
        lines += _wrap("Raised by", _raised_by(hit))
        lines += _wrap("Read in", hit.evidence)
    if m.verdict is not None and not m.on_facts:
        lines += _wrap("On the facts", VERDICT_TEXT[m.verdict])
    lines += _wrap("Why", m.explanation)
    lines += _wrap("In plain words", m.analogy)
    lines += _wrap("Fix", m.fix)
    lines += _wrap("More", f"advisor rules {m.rule}")
    return lines


def recognised_lines(r: Recognised) -> list[str]:
    """What the log says of its origin, one line per kind (nothing when it says nothing)."""
    lines: list[str] = []
    if r.exceptions:
        lines += _wrap("Exceptions", ", ".join(r.exceptions))
    if r.models:
        seen = dict.fromkeys(f"{m.id} ({m.how}, line {m.line})" for m in r.models)
        lines += _wrap("Models", "; ".join(list(seen)[:5]))
    if r.packages:
        lines += _wrap("Packages", ", ".join(f"{name} {' / '.join(found)}" for name, found in r.packages))
    if r.gpus:
        lines += _wrap("GPUs", ", ".join(w if w == c else f"{w} ({c})" for w, c in r.gpus))
    if r.capabilities:
        lines += _wrap("Capabilities", ", ".join(r.capabilities))
    if r.flags:
        lines += _wrap("Flags", ", ".join(f"{k}={v!r}" for k, v in r.flags.items()))
    if r.python:
        lines += _wrap("Python", r.python)
    return lines


def explanation_text(e: Explanation) -> str:
    out: list[str] = []
    size = f"{e.input.lines} line{'s' if e.input.lines != 1 else ''}"
    if e.matches:
        n = len(e.matches)
        out.append(f"{n} rule{'s' if n != 1 else ''} explain{'s' if n == 1 else ''} this error ({size} read), "
                   "best match first:")
        for i, m in enumerate(e.matches, 1):
            out += ["", *_match(i, m)]
    else:
        out += [f"No rule explains this error ({size} read): advisor does not know this message.",
                "If it comes from loading a model, please report it with the message and what was recognised:"]
    recognised = recognised_lines(e.recognised)
    out += ["", "Recognised in the input:", *(recognised or ["    nothing (no exception, model, package or GPU)"])]
    if e.input.long_lines or e.input.replaced:
        out += _wrap("Note", f"{e.input.long_lines} line(s) cut at 65536 characters, {e.input.replaced} "
                     "character(s) that were not UTF-8", indent=0)
    rec = e.recommendation
    if rec is not None and e.model is not None:
        how = {"--model": "named by --model", "the facts given": "the facts given"}.get(
            e.model.how, f"named by the log, {e.model.how}")
        out += ["", *textwrap.wrap(f"Recommended flags for {e.model.id} on {e.target} ({how}):", WIDTH,
                                   break_long_words=False, break_on_hyphens=False)]
        out += [f"    {k} = {_value(v)}" for k, v in rec.flags.items()] or ["    (none: the defaults are safe)"]
        out += ["", *(f"    {line}".rstrip() for line in rec.python.rstrip().split("\n"))]
        errors = [f for f in rec.findings if f.severity == "error"]
        if errors:
            out += ["", "    Findings for these facts (advisor recommend shows them all):"]
            out += [f"    - {f.rule}: {f.message}" for f in errors[:5]]
    for note in e.notes:
        out += ["", *textwrap.wrap(f"Note: {note}", WIDTH, break_long_words=False, break_on_hyphens=False)]
    return "\n".join(out).rstrip() + "\n"


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def explanation_json(e: Explanation) -> str:
    return dumps(e.to_json())
