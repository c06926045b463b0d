"""The memory ledger as a text table: what lands on each GPU against what it has."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

GIB = 1 << 30
ROWS = (("weights", "weights_bytes"), ("KV cache", "kv_cache_bytes"), ("training state", "training_bytes"),
        ("activations", "activations_bytes"), ("CUDA context", "cuda_context_bytes"), ("margin", "margin_bytes"))


def gib(n: Any) -> str:
    return "?" if not isinstance(n, int | float) else f"{n / GIB:.2f}"


def memory_table(memory: dict[str, Any]) -> RenderableType:
    """A summary line, the per-GPU table (rows: ledger items, columns: GPUs, CPU/disk) and the verdict."""
    lines: list[RenderableType] = [Text(_summary(memory))]
    gpus = memory.get("per_gpu") or []
    if gpus or memory.get("cpu_bytes"):
        table = Table(title="Memory plan (GiB)")
        table.add_column("")
        for g in gpus:
            table.add_column(f"GPU {g['index']} {g['name']}", justify="right")
        offload = (memory.get("cpu_bytes") or 0) + (memory.get("disk_bytes") or 0)
        if offload or not gpus:
            table.add_column("CPU / disk", justify="right")
        for label, key in ROWS:
            if not any(g.get(key) for g in gpus):
                continue
            cells = [gib(g.get(key)) for g in gpus]
            table.add_row(label, *cells, *([""] if offload or not gpus else []))
        extra = [f"{gib(memory.get('cpu_bytes'))} / {gib(memory.get('disk_bytes'))}"] if offload or not gpus else []
        table.add_row("total", *[gib(g["total_bytes"]) for g in gpus], *extra)
        table.add_row("has", *[gib(g["has_bytes"]) for g in gpus], *([""] if extra else []))
        lines.append(table)
    lines.append(Text(_verdict(memory)))
    return Group(*lines)


def _summary(m: dict[str, Any]) -> str:
    params = m.get("parameters")
    p = f"{params / 1e9:.2f}B parameters" if isinstance(params, int) else "parameters unknown"
    q = f", {m['quantization']}" if m.get("quantization") else ""
    per = m.get("kv_cache_bytes_per_token")
    kv = f"KV cache {per / 1024:.0f} KiB per token" if isinstance(per, int) else "KV cache unknown"
    return (f"Memory: {p} ({m.get('dtype', '?')}{q}): weights {gib(m.get('weights_bytes'))} GiB; {kv}, "
            f"{gib(m.get('kv_cache_bytes'))} GiB at context {m.get('context')} x batch {m.get('batch')}; "
            f"total {gib(m.get('total_bytes'))} GiB")


def _verdict(m: dict[str, Any]) -> str:
    fits = m.get("fits")
    word = {True: "fits", False: "does not fit", None: "fit unknown"}[fits]
    parts = [f"{word}: {m.get('fits_reason') or ''}".rstrip(": ")]
    if m.get("max_context") is not None:
        parts.append(f"longest context that fits: {m['max_context']}")
    tp = m.get("tensor_parallel")
    if tp:
        parts.append(f"tensor-parallel sizes: {', '.join(str(s) for s in tp['sizes'])} "
                     f"(smallest that holds it: {tp['smallest_fitting']})")
    for key, why in (m.get("unknown") or {}).items():
        parts.append(f"{key} unknown: {why}")
    return "; ".join(parts)
