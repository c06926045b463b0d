"""The memory ledger as text: one summary line, and a table of what lands on each GPU against what it has."""

from __future__ import annotations

from advisor.core.ledger import GpuLoad, MemoryLedger
from advisor.core.plain import clean

GIB = 1 << 30
ROWS = (("weights", "weights_bytes"), ("KV cache", "kv_cache_bytes"), ("training state", "training_bytes"),
        ("activations", "activations_bytes"), ("CUDA context", "cuda_context_bytes"), ("margin", "margin_bytes"))


def gib(n: int | float | None) -> str:
    return "?" if not isinstance(n, int | float) else f"{n / GIB:.2f}"


def _part(g: GpuLoad, key: str) -> int:
    value: int = getattr(g, key)
    return value


def memory_summary(m: MemoryLedger) -> str:
    """Parameters (and where the count came from), weights, the cache, the total, the longest context."""
    p = m.placement
    count = m.parameters
    params = (f"{count.total / 1e9:.2f} B parameters ({'exact' if count.exact else 'an estimate'}: "
              f"{clean(count.source)})" if count is not None
              else f"parameters unknown ({clean(m.unknown_reason('parameters') or 'no count')})")
    parts = [params]
    if p is not None:
        q = f", {p.quantization}" if p.quantization else ""
        parts.append(f"weights {gib(p.weights_bytes)} GiB ({p.dtype}{q})")
    if m.kv_cache_bytes_per_token is not None:
        at = f", {gib(p.kv_cache_bytes)} GiB at {m.context:,} tokens × {m.batch}" if p is not None else ""
        bound = " (an upper bound)" if m.kv_cache is not None and not m.kv_cache.exact else ""
        parts.append(f"KV cache {m.kv_cache_bytes_per_token / 1024:.0f} KiB per token{bound}{at}")
        if m.kv_cache is not None and m.kv_cache.state_bytes_per_sequence:
            parts.append(f"recurrent state {m.kv_cache.state_bytes_per_sequence / 2**20:.0f} MiB per sequence")
    if p is not None:
        parts.append(f"total {gib(p.total_bytes)} GiB")
        if p.max_context is not None and p.fits:
            parts.append(f"longest context that fits: {p.max_context:,} tokens")
        elif p.per_gpu and not p.fits and (p.cpu_bytes or p.disk_bytes):
            parts.append("no context fits on the GPUs alone")
    for figure, why in m.unknown:
        if figure not in ("parameters", "ledger"):
            parts.append(f"{figure.replace('_', ' ')} unknown: {clean(why)}")
    return "; ".join(parts)


def memory_lines(m: MemoryLedger) -> list[str]:
    """The per-GPU table (rows: ledger items, columns: GPUs, CPU/disk), the verdict and tensor parallelism."""
    p = m.placement
    if p is None:
        return []
    gpus = p.per_gpu
    offload = p.cpu_bytes + p.disk_bytes
    heads = [f"GPU {g.index} {clean(g.name)}" for g in gpus] + (["CPU / disk"] if offload or not gpus else [])
    rows: list[list[str]] = []
    for label, key in ROWS:
        if any(_part(g, key) for g in gpus):
            rows.append([label, *(gib(_part(g, key)) for g in gpus), *([""] if offload or not gpus else [])])
    rows.append(["total", *(gib(g.total_bytes) for g in gpus),
                 *([f"{gib(p.cpu_bytes)} / {gib(p.disk_bytes)}"] if offload or not gpus else [])])
    rows.append(["has", *(gib(g.has_bytes) for g in gpus), *([""] if offload or not gpus else [])])
    label_w = max(len(r[0]) for r in rows)
    widths = [max(len(h), *(len(r[i + 1]) for r in rows)) for i, h in enumerate(heads)]
    out = ["  " + "GiB".ljust(label_w) + "".join(f"  {h.rjust(w)}" for h, w in zip(heads, widths, strict=True))]
    out += ["  " + r[0].ljust(label_w) + "".join(f"  {c.rjust(w)}" for c, w in zip(r[1:], widths, strict=True))
            for r in rows]
    word = {True: "fits", False: "does not fit", None: "fit unknown"}[p.fits]
    out.append(f"  {word}: {clean(p.fits_reason)}")
    if p.tensor_parallel is not None:
        tp = p.tensor_parallel
        out.append(f"  tensor-parallel sizes: {', '.join(str(s) for s in tp.sizes)} "
                   f"(the smallest that holds it: {tp.smallest_fitting or 'none'})")
    return out
