"""`advisor verify`: the report as a text table and as JSON."""

from __future__ import annotations

import json

from advisor.verify.types import CandidateResult, VerifyReport


def report_json(report: VerifyReport) -> str:
    return json.dumps(report.to_json(), indent=2, allow_nan=False, default=str) + "\n"


def _seconds(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} m{unit}" if value < 1 else f"{value:.2f} {unit}"


def _bytes(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / (1 << 20):.0f} MiB"


def _yes(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "NO"


def _row(r: CandidateResult) -> list[str]:
    p = r.prediction
    predicted = p.verdict + (f" ({', '.join(p.rules)})" if p.rules and p.verdict != "works" else "")
    mark = "*" if p.recommended else " "
    if r.outcome is None:
        return [mark + r.candidate.label, predicted, "skipped", "-", "-", "-", "-", "-", "-", r.skipped or ""]
    o = r.outcome
    error = "-" if o.rel_error is None else f"{o.rel_error:.1e}" + ("" if r.consistent else " (!)")
    agrees = "-" if r.agrees is None else "yes" if r.agrees else "NO"
    note = f"{o.stage}: {o.error}" if o.error else (o.effective_attn or "")
    if o.compiled is False:
        note += " (uncompiled)"
    return [mark + r.candidate.label, predicted, _yes(o.loaded), _yes(o.ran if o.loaded else None), error,
            _seconds(o.forward_s), _seconds(o.token_s), _bytes(o.peak_bytes), agrees, note[:90]]


HEADER = ["candidate", "rules say", "loaded", "ran", "rel.err", "forward", "per token", "peak", "agrees",
          "note"]


def report_text(report: VerifyReport) -> str:
    lines = [f"verify {report.model.get('id')} ({report.model.get('architecture')})"]
    if report.device:
        d = report.device
        lines.append(f"device: {d.get('name')} · torch {d.get('torch')} · "
                     f"transformers {d.get('transformers')}")
    built = report.built
    if built:
        shape = built.get("shape", {})
        what = "real weights" if built.get("real") else f"{built.get('parameters', 0):,} random parameters"
        lines.append(f"built: {built.get('class')}, {what}; heads {shape.get('num_attention_heads')}/"
                     f"{shape.get('num_key_value_heads')} (query/KV), head_dim {shape.get('head_dim')}, "
                     f"hidden {shape.get('hidden_size')}")
        lines += [f"  scaled: {n}" for n in built.get("notes", [])]
    lines += [f"note: {n}" for n in report.notes]
    if report.skipped:
        lines.append(f"not verified: {report.skipped}")
    rows = [HEADER] + [_row(r) for r in report.results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    lines.append("* the recommended flags; rel.err against eager attention in float32 "
                 "(tolerance float32 1e-3, bfloat16 1e-1, float16 2e-2)")
    agreed, run = report.agreement()
    lines.append(f"agreement with the rules: {agreed}/{run}")
    for c in report.contradictions:
        lines.append(f"finding VERIFY-CONTRADICTS: {c.message()}")
    return "\n".join(lines) + "\n"
