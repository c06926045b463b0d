"""The memory ledger as a text table: what lands on each GPU against what it has."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from advisor.core.ledger import GpuLoad, MemoryLedger

GIB = 1 << 30
ROWS = (("weights", "weights_bytes"), ("KV cache", "kv_cache_bytes"), ("training state", "training_bytes"),
        ("activations", "activations_bytes"), ("CUDA context", "cuda_context_bytes"), ("margin", "margin_bytes"))


def gib(n: int | float | None) -> str:
    return "?" if not isinstance(n, int | float) else f"{n / GIB:.2f}"


def _part(g: GpuLoad, key: str) -> int:
    value: int = getattr(g, key)
    return value


def memory_table(memory: MemoryLedger) -> RenderableType:
    """A summary line, the per-GPU table (rows: ledger items, columns: GPUs, CPU/disk) and the verdict."""
    lines: list[RenderableType] = [Text(_summary(memory))]
    p = memory.placement
    gpus = memory.per_gpu
    if p is not None and (gpus or p.cpu_bytes):
        table = Table(title="Memory plan (GiB)")
        table.add_column("")
        for g in gpus:
            table.add_column(f"GPU {g.index} {g.name}", justify="right")
        offload = p.cpu_bytes + p.disk_bytes
        if offload or not gpus:
            table.add_column("CPU / disk", justify="right")
        for label, key in ROWS:
            if not any(_part(g, key) for g in gpus):
                continue
            table.add_row(label, *[gib(_part(g, key)) for g in gpus], *([""] if offload or not gpus else []))
        extra = [f"{gib(p.cpu_bytes)} / {gib(p.disk_bytes)}"] if offload or not gpus else []
        table.add_row("total", *[gib(g.total_bytes) for g in gpus], *extra)
        table.add_row("has", *[gib(g.has_bytes) for g in gpus], *([""] if extra else []))
        lines.append(table)
    lines.append(Text(_verdict(memory)))
    return Group(*lines)


def _summary(m: MemoryLedger) -> str:
    p = m.placement
    params = m.parameters.total if m.parameters else None
    count = f"{params / 1e9:.2f}B parameters" if params is not None else "parameters unknown"
    if m.parameters is not None:
        count += f" ({'exact' if m.parameters.exact else 'estimated'}: {m.parameters.source})"
    q = f", {p.quantization}" if p is not None and p.quantization else ""
    per = m.kv_cache_bytes_per_token
    kv = f"KV cache {per / 1024:.0f} KiB per token" if per is not None else "KV cache unknown"
    if m.kv_cache is not None and not m.kv_cache.exact:
        kv += " (an upper bound)"
    if m.kv_cache is not None and m.kv_cache.state_bytes_per_sequence:
        kv += f" + {m.kv_cache.state_bytes_per_sequence / 2**20:.0f} MiB of state per sequence"
    return (f"Memory: {count}, {p.dtype if p else '?'}{q}: weights {gib(p.weights_bytes if p else None)} GiB; "
            f"{kv}, {gib(p.kv_cache_bytes if p else None)} GiB at context {m.context} x batch {m.batch}; "
            f"total {gib(p.total_bytes if p else None)} GiB")


def _verdict(m: MemoryLedger) -> str:
    p = m.placement
    fits = p.fits if p else None
    word = {True: "fits", False: "does not fit", None: "fit unknown"}[fits]
    parts = [f"{word}: {(p.fits_reason if p else '') or ''}".rstrip(": ")]
    if p is not None and p.max_context is not None:
        parts.append(f"longest context that fits: {p.max_context}")
    tp = p.tensor_parallel if p else None
    if tp:
        parts.append(f"tensor-parallel sizes: {', '.join(str(s) for s in tp.sizes)} "
                     f"(smallest that holds it: {tp.smallest_fitting})")
    for key, why in m.unknown:
        parts.append(f"{key} unknown: {why}")
    return "; ".join(parts)
