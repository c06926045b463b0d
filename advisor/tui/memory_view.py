"""The memory plan as bars, one per GPU: weights, KV cache, overhead and what stays free.

Reads the typed memory ledger of the recommendation (`advisor.core.ledger`).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult, RenderResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Static

from advisor.core.ledger import GpuLoad, MemoryLedger
from advisor.tui.explain import gib

PARTS = (("weights", "█", "$primary"), ("KV cache", "▓", "$success"), ("overhead", "▒", "$warning"))
FREE = ("free", "░", "$foreground 30%")
UNAVAILABLE = ("[b]The memory plan is not available[/] for these facts.\n\n[dim]It needs the model's sizes "
               "and the target's GPU memory; the flags were decided without it.[/]")


def gpu_parts(g: GpuLoad) -> tuple[list[tuple[str, float]], float | None, float | None]:
    """(label, bytes) of each part that lands on the GPU, what it has and what stays free."""
    parts = [("weights", float(g.weights_bytes)), ("KV cache", float(g.kv_cache_bytes)),
             ("overhead", float(g.overhead_bytes))]
    has = float(g.has_bytes) if g.has_bytes is not None else None
    free = has - g.total_bytes if has is not None else None
    return parts, has, free


class MemoryBar(Widget):
    """One GPU's bar: a title line, the bar scaled to the GPU's memory, and the figures."""

    DEFAULT_CSS = "MemoryBar { height: 3; }"

    def __init__(self, entry: GpuLoad, position: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.position = position

    def render(self) -> RenderResult:
        e = self.entry
        parts, total, free = gpu_parts(e)
        used = sum(b for _, b in parts)
        head = f"[b]GPU {e.index}[/] {escape(e.name)}"
        head += f" [dim]· {gib(total)}[/]" if total else " [dim]· total unknown[/]"
        width = max(self.size.width, 10)
        scale = max(total or 0.0, used, 1.0)
        bar = Content("")
        for (_, glyph, style), (_, value) in zip(PARTS, parts, strict=True):
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

    def show(self, memory: MemoryLedger | None) -> None:
        for bar in self.query(MemoryBar):
            bar.remove()
        summary = self.query_one("#memory-summary", Static)
        if memory is None:
            summary.update(UNAVAILABLE)
            return
        summary.update(summary_text(memory))
        self.mount_all([MemoryBar(g, i, classes="memory-bar") for i, g in enumerate(memory.per_gpu)])


def summary_text(memory: MemoryLedger) -> str:
    """Legend and the ledger's totals: parameters, weights, KV per token, fits, longest context."""
    legend = "  ".join(f"[{style}]{glyph}[/] {label}" for label, glyph, style in PARTS)
    legend += f"  [{FREE[2]}]{FREE[1]}[/] free"
    lines = [legend]
    figures = []
    p = memory.placement
    if memory.parameters is not None:
        figures.append(f"{memory.parameters.total / 1e9:.2f} B parameters"
                       + ("" if memory.parameters.exact else " (estimated)"))
    if p is not None:
        figures += [f"weights {gib(p.weights_bytes)}", f"total {gib(p.total_bytes)}"]
    if memory.kv_cache_bytes_per_token is not None:
        figures.append(f"KV cache {memory.kv_cache_bytes_per_token / 2**10:.0f} KiB/token")
    if figures:
        lines.append(" · ".join(figures))
    fits = memory.fits
    verdict = ("[b $success]fits[/]" if fits is True else "[b $error]does not fit[/]" if fits is False
               else "[$warning]fit unknown[/]")
    if p is not None and p.fits_reason:
        verdict += f": {escape(p.fits_reason)}"
    lines.append(verdict)
    if p is not None:
        if p.max_context is not None:
            lines.append(f"longest context that fits: {p.max_context:,} tokens (asked: {memory.context:,})")
        offload = [f"{label} {gib(value)}" for value, label in ((p.cpu_bytes, "CPU"), (p.disk_bytes, "disk")) if value]
        if offload:
            lines.append("[b $warning]offloaded:[/] " + ", ".join(offload))
    return "\n".join(lines)
