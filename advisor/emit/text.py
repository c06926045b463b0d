"""Recommendations and rule documentation as text for a person (plain text: no table library).

The order follows what a person acts on: what the answer is about and a one-line verdict, the flags with
one short reason each, the warnings, the memory in a line, and the snippet to paste. `--explain` adds every
better candidate that was rejected with every reason, every finding with its fix, and the memory table.
"""

from __future__ import annotations

import json
import re
from typing import Any

from advisor.core.ledger import MemoryLedger
from advisor.core.plain import clean
from advisor.core.references import reference_url
from advisor.core.results import Finding, Recommendation
from advisor.emit.memory_text import memory_lines, memory_summary
from advisor.emit.style import Style
from advisor.engine.flags import FlagSpec
from advisor.engine.rules import ErrorText, Rule

MARK = {"error": "✗", "warning": "!", "info": "·"}
UNKNOWN_TF = re.compile(r"[^;]*\b(transformers(\.version)? is unknown|target transformers version is unknown)"
                        r"[^;]*;?\s*")


def recommendation_text(rec: Recommendation, style: Style | None = None) -> str:
    """The recommendation, laid out for STYLE's width (colour when STYLE has it)."""
    st = style or Style()
    out: list[str] = [*_header(rec, st), ""]
    out += _flags(rec, st)
    shown = [f for f in rec.findings if st.explain or f.severity != "info"]
    if shown:
        out += ["", st.paint("Findings" if st.explain else "Warnings", "bold")]
        for f in shown:
            out += _finding(f, st)
    hidden = len(rec.findings) - len(shown)
    if rec.memory is not None:
        out += ["", *_memory(rec.memory, st)]
    if st.explain:
        out += ["", *_rejected(rec, st)]
    out += ["", st.paint("Python", "bold"), *("  " + line if line else "" for line in rec.python.rstrip().split("\n"))]
    hint = ["every rejected candidate and why"] if not st.explain and any(d.rejected for d in rec.decisions) else []
    if hidden:
        hint.insert(0, f"{hidden} note(s)")
    if hint:
        out.append(st.paint(f"--explain: {', '.join(hint)}", "dim"))
    return "\n".join(out) + "\n"


def _header(rec: Recommendation, st: Style) -> list[str]:
    m, t = rec.model, rec.target
    name = _shown_id(clean(m["id"]), m["source"], st.width) + (f" @ {m['commit'][:12]}" if m.get("commit") else "")
    kind = clean(str(m.get("architecture") or m.get("model_type") or "?"))
    where = {"local": "local config", "hub": "the Hub", "cache": "the Hub cache", "catalog": "the bundled catalog"}
    lines = block(st.paint(name, "bold") + "  ", f"{kind}, from {where.get(m['source'], m['source'])}", 2, st,
                  len(name) + 2)
    if m["source"] == "catalog":
        lines += [st.paint(x, "dim") for x in st.wrap(catalog_line(m), 2, 0)]
    lines += st.wrap(f"on {_machine(t)}", 2, 0)
    tf = t["transformers"]
    if "unknown" in tf:
        lines += st.wrap(st.paint("! ", "warning") + "the target's transformers version is unknown: "
                         f"{clean(tf['unknown'])}. Advice that depends on it is withheld; name the target's "
                         "packages with --with transformers==VERSION or --software FILE", 2, 0)
    torch = t["software"]["packages"].get("torch", {}).get("version", {})
    if "unknown" in torch and "unknown" not in tf:
        lines += st.wrap(st.paint("! ", "warning") + f"the target's torch version is unknown: "
                         f"{clean(torch['unknown'])}. Name it with --with torch==VERSION or --software FILE", 2, 0)
    if t["software"].get("note"):
        lines += st.wrap(st.paint("! ", "warning") + clean(t["software"]["note"]), 2, 0)
    lines += _verdict(rec, st)
    return lines


def _shown_id(model_id: str, source: str, width: int) -> str:
    """A local config's path as the heading shows it: with its leading folders elided when it would not fit
    the width (a path has nowhere to wrap)."""
    if source != "local":
        return model_id
    room = max(width - 4, 20)
    if len(model_id) <= room:
        return model_id
    tail = model_id[-(room - 2):]
    cut = tail.find("/")
    return "…/" + (tail[cut + 1:] if 0 <= cut < len(tail) - 1 else tail)


def _machine(t: dict[str, Any]) -> str:
    hw = t["hardware"]
    gpus = hw["gpus"]
    if gpus:
        g = gpus[0]
        mem = g["memory_total_bytes"].get("value")
        cc = g["compute_capability"].get("value")
        size = f" {mem / 2**30:.0f} GiB" if isinstance(mem, int | float) else ""
        cap = f", compute capability {cc[0]}.{cc[1]}" if isinstance(cc, list) and len(cc) == 2 else ""
        machine = f"{len(gpus)}× {clean(str(g['name'].get('value') or 'GPU'))}{size}{cap}"
    else:
        machine = "no GPU" if hw["gpu_count"].get("value") == 0 else "GPUs unknown"
    parts = [machine]
    tf = t["transformers"].get("value")
    if tf:
        parts.append(f"transformers {tf}")
    torch = t["software"]["packages"].get("torch", {}).get("version", {}).get("value")
    if torch:
        parts.append(f"torch {torch}")
    return " · ".join(parts)


def _verdict(rec: Recommendation, st: Style) -> list[str]:
    n = {sev: sum(1 for f in rec.findings if f.severity == sev) for sev in ("error", "warning", "info")}
    counts = ", ".join(f"{v} {k}{'s' if v != 1 else ''}" for k, v in n.items() if v and k != "info")
    mem = rec.memory
    p = mem.placement if mem is not None else None
    if p is None:
        why = (mem.unknown_reason("ledger") or mem.unknown_reason("parameters") or "the memory plan is unknown"
               ) if mem is not None else "no memory plan"
        head = st.paint("? memory unknown:", "warning") + f" {clean(why)}"
    elif p.fits:
        used = [g for g in p.per_gpu if g.total_bytes]
        if len(used) == 1 and used[0].has_bytes:
            head = (st.paint("✓ fits", "ok") + f" on GPU {used[0].index}: {_gib(used[0].total_bytes)} of "
                    f"{_gib(used[0].has_bytes)} GiB")
        elif used:
            head = st.paint("✓ fits", "ok") + f" on {len(used)} GPUs: {_gib(p.total_bytes)} GiB in all"
        else:
            head = st.paint("✓ fits", "ok") + f": {_gib(p.total_bytes)} GiB of CPU memory"
    elif p.per_gpu and (p.cpu_bytes or p.disk_bytes):
        head = (st.paint("✗ does not fit on the GPUs:", "bad") + f" {_gib(p.cpu_bytes + p.disk_bytes)} GiB go to the "
                "CPU" + (" and disk" if p.disk_bytes else "") + " (slow)")
    elif p.fits is False:
        head = st.paint("✗ does not fit:", "bad") + f" {clean(p.fits_reason)}"
    else:
        head = st.paint("? fit unknown:", "warning") + f" {clean(p.fits_reason)}"
    if counts:
        head += " · " + ", ".join(st.paint(c, "error" if "error" in c else "warning") for c in counts.split(", "))
    return st.wrap(head, 2, 0)


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**30:.1f}"


def short_reason(summary: str) -> str:
    """A decision's summary without its value (the column beside it says it) and without what the header
    already says once (an unknown transformers version)."""
    text = re.sub(r"^.*? chosen: ", "", summary, count=1) if " chosen: " in summary else summary
    m = re.match(r"^(?P<value>.+?) (?P<how>rejected|unknown whether it works): (?P<why>.*)$", text)
    if m and m.group("how") == "rejected" and m.group("value") in m.group("why")[: len(m.group("value")) + 14]:
        text = m.group("why")  # the reason names the rejected value itself
    text = text.replace("; every requirement holds", "").replace(", and every requirement holds", "")
    return UNKNOWN_TF.sub("", text).strip().rstrip(":;").strip() or summary


VALUE_COLUMN = 18
"""Values up to this wide share a line with their reason; a longer one puts the reason on the next line."""


def _flags(rec: Recommendation, st: Style) -> list[str]:
    shown = [d for d in rec.decisions if d.value is not None or d.rejected]
    if not shown:
        return [st.paint("Flags", "bold"), "  (none needed: the defaults are safe here)"]
    name_w = max(len(d.name) for d in shown)
    vals = {d.flag: d.value if isinstance(d.value, str) else display_value(d.value) for d in shown}
    val_w = min(max(len(v) for v in vals.values()), VALUE_COLUMN)
    indent = 2 + name_w + 2 + val_w + 2
    out = [st.paint("Flags", "bold")]
    for d in shown:
        value = vals[d.flag]
        reason = clean(short_reason(d.summary))
        lines = st.wrap(reason, indent, indent) if st.explain else [_one_line(reason, st.width - indent)]
        head = f"  {st.paint(d.name.ljust(name_w), 'flag')}  {st.paint(value.ljust(val_w), 'value')}  "
        if len(value) > val_w:
            out.append(head.rstrip())
            out += [" " * indent + lines[0], *lines[1:]]
        else:
            out += [head + lines[0], *lines[1:]]
    return out


def _one_line(text: str, room: int) -> str:
    """TEXT cut at a sentence or clause end to ROOM columns (an ellipsis when it had to cut mid-clause)."""
    text = clean(text)
    if len(text) <= room:
        return text
    cut = max(text.rfind(sep, 0, room) for sep in (". ", "; "))
    return text[:cut].rstrip(".;") if cut > room // 2 else text[: max(room - 1, 10)].rstrip() + "…"


def block(prefix: str, text: str, indent: int, st: Style, shown: int | None = None) -> list[str]:
    """PREFIX then TEXT wrapped to the width, continuation lines indented by INDENT. SHOWN is the printed
    width of PREFIX when colour codes make it longer than it looks."""
    width = len(prefix) if shown is None else shown
    lines = st.wrap(text, indent, width)
    return [(prefix + lines[0]).rstrip() if lines[0] else prefix.rstrip(), *lines[1:]]


def _finding(f: Finding, st: Style) -> list[str]:
    """A finding: its message (two lines at most unless --explain) and its fix (one line unless --explain)."""
    prefix = f"  {st.paint(MARK[f.severity], f.severity)} {st.paint(f.rule, f.severity)} "
    out = block(prefix, clean(f.message), 4, st, len(f.rule) + 5)
    if not st.explain and len(out) > 2:
        out = [out[0], "    " + _one_line(" ".join(x.strip() for x in out[1:]), st.width - 4)]
    if f.fix and (st.explain or f.severity != "info"):
        fix = block("    " + st.paint("fix:", "dim") + " ", clean(f.fix), 9, st, 9)
        out += fix if st.explain else ["    " + st.paint("fix:", "dim") + " " + _one_line(clean(f.fix), st.width - 9)]
    return out


def _memory(mem: MemoryLedger, st: Style) -> list[str]:
    out = st.wrap(st.paint("Memory ", "bold") + memory_summary(mem), 2, 0)
    if st.explain:
        out += ["", *memory_lines(mem)]
    return out


def _rejected(rec: Recommendation, st: Style) -> list[str]:
    out: list[str] = []
    for d in rec.decisions:
        for r in d.rejected:
            if r.value is None:
                continue
            shown = r.value if isinstance(r.value, str) else display_value(r.value)
            out.append(f"  {st.paint(d.name, 'flag')} = {shown}")
            for reason in r.reasons:
                tag = " (unknown)" if reason.status == "unknown" else ""
                out += block(f"    {reason.rule}{tag}: ", clean(reason.message), 6, st)
    return [st.paint("Better candidates that were rejected", "bold"), *out] if out else []


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
        "References", *(f"  - {r}\n    {reference_url(r)}" for r in d.references),
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
