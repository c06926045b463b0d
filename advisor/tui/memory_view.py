"""The memory plan as bars, one per GPU: weights, KV cache, overhead and what stays free.

Reads the `memory` ledger of the recommendation JSON. Per GPU: `weights_bytes`, `kv_cache_bytes`, the
overhead (`overhead_bytes`, or the sum of `activations_bytes`, `cuda_context_bytes`, `training_bytes` and
`margin_bytes`), what the GPU has (`has_bytes`, or `total`) and what stays free (`free`, or what it has
minus `total_bytes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult, RenderResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Static

from advisor.tui.explain import gib

PARTS = (("weights", "█", "$primary", ("weights_bytes", "weights")),
         ("KV cache", "▓", "$success", ("kv_cache_bytes", "kv_bytes", "kv_cache")),
         ("overhead", "▒", "$warning", ("overhead_bytes", "overhead")))
OVERHEAD_PARTS = ("activations_bytes", "cuda_context_bytes", "training_bytes", "margin_bytes")
"""What the ledger counts besides weights and KV cache, when it gives no single overhead figure."""
FREE = ("free", "░", "$foreground 30%")
UNAVAILABLE = ("[b]The memory plan is not available[/] for these facts.\n\n[dim]It needs the model's sizes "
               "and the target's GPU memory; the flags were decided without it.[/]")


def number(entry: Mapping[str, Any], *keys: str) -> float | None:
    """The first of KEYS in ENTRY that holds a number (bytes)."""
    for key in keys:
        value = entry.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def gpu_parts(entry: Mapping[str, Any]) -> tuple[list[tuple[str, float]], float | None, float | None]:
    """(label, bytes) of each part that lands on the GPU, its total memory and what stays free."""
    parts = [(label, number(entry, *keys) or 0.0) for label, _, _, keys in PARTS]
    if number(entry, "overhead_bytes", "overhead") is None:
        parts[2] = ("overhead", sum(number(entry, k) or 0.0 for k in OVERHEAD_PARTS))
    has = number(entry, "has_bytes", "total", "capacity_bytes", "memory_total_bytes")
    free = number(entry, "free", "free_bytes")
    if free is None and has is not None:
        need = number(entry, "total_bytes")
        free = has - (need if need is not None else sum(b for _, b in parts))
    return parts, has, free


class MemoryBar(Widget):
    """One GPU's bar: a title line, the bar scaled to the GPU's memory, and the figures."""

    DEFAULT_CSS = "MemoryBar { height: 3; }"

    def __init__(self, entry: Mapping[str, Any], position: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.position = position

    def render(self) -> RenderResult:
        e = self.entry
        parts, total, free = gpu_parts(e)
        used = sum(b for _, b in parts)
        index = e.get("index", e.get("device", self.position))
        name = e.get("name") or e.get("gpu") or ""
        head = f"[b]GPU {escape(str(index))}[/] {escape(str(name))}"
        head += f" [dim]· {gib(total)}[/]" if total else " [dim]· total unknown[/]"
        width = max(self.size.width, 10)
        scale = max(total or 0.0, used, 1.0)
        bar = Content("")
        for (_, glyph, style, _), (_, value) in zip(PARTS, parts, strict=True):
            bar = bar + Content.styled(glyph * round(value / scale * width), style)
        spare = width - bar.cell_length
        if free is not None and free < 0:
            head += f"  [b $error]over by {gib(-free)}[/]"
        elif spare > 0:
            bar = bar + Content.styled(FREE[1] * spare, FREE[2])
        figures = " · ".join(f"{label} {gib(value)}" for label, value in parts)
        if free is not None:
            figures += f" · free {gib(free)}" if free >= 0 else ""
        return Content("\n").join([Content.from_markup(head), bar.truncate(width),
                                   Content.from_markup(f"[dim]{escape(figures)}[/]")])


class MemoryView(VerticalScroll):
    """The ledger's summary and one bar per GPU, or why there is no plan."""

    def compose(self) -> ComposeResult:
        yield Static(UNAVAILABLE, id="memory-summary")

    def show(self, memory: Mapping[str, Any] | None) -> None:
        for bar in self.query(MemoryBar):
            bar.remove()
        summary = self.query_one("#memory-summary", Static)
        if memory is None:
            summary.update(UNAVAILABLE)
            return
        summary.update(summary_text(memory))
        gpus = memory.get("per_gpu")
        if isinstance(gpus, list):
            self.mount_all([MemoryBar(e, i, classes="memory-bar") for i, e in enumerate(gpus)
                            if isinstance(e, Mapping)])


def summary_text(memory: Mapping[str, Any]) -> str:
    """Legend and the ledger's totals: parameters, weights, KV per token, fits, longest context."""
    legend = "  ".join(f"[{style}]{glyph}[/] {label}" for label, glyph, style, _ in PARTS)
    legend += f"  [{FREE[2]}]{FREE[1]}[/] free"
    lines = [legend]
    figures = []
    if isinstance(memory.get("parameters"), int):
        figures.append(f"{memory['parameters'] / 1e9:.2f} B parameters")
    for key, label in (("weights_bytes", "weights"), ("total_bytes", "total")):
        value = number(memory, key)
        if value is not None:
            figures.append(f"{label} {gib(value)}")
    per_token = number(memory, "kv_cache_bytes_per_token")
    if per_token is not None:
        figures.append(f"KV cache {per_token / 2**10:.0f} KiB/token")
    if figures:
        lines.append(" · ".join(figures))
    if "fits" in memory:
        fits = memory["fits"]
        verdict = ("[b $success]fits[/]" if fits is True else "[b $error]does not fit[/]" if fits is False
                   else "[$warning]fit unknown[/]")
        if memory.get("fits_reason"):
            verdict += f": {escape(str(memory['fits_reason']))}"
        lines.append(verdict)
    context = memory.get("context")
    if isinstance(memory.get("max_context"), int):
        at = f" (asked: {context:,})" if isinstance(context, int) else ""
        lines.append(f"longest context that fits: {memory['max_context']:,} tokens{at}")
    offload = [f"{label} {gib(value)}" for key, label in (("cpu_bytes", "CPU"), ("disk_bytes", "disk"))
               if (value := number(memory, key))]
    if offload:
        lines.append("[b $warning]offloaded:[/] " + ", ".join(offload))
    return "\n".join(lines)
