"""The command palette's advisor commands: the main actions, any catalog GPU, model, dtype, task or rule."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from advisor import api
from advisor.tui import bindings
from advisor.tui.finder import model_note

Command = tuple[str, str, str]
"""(name shown, help line, action string run on the app)."""


def main_commands() -> Iterator[Command]:
    seen: set[str] = set()
    for b in bindings.described(bindings.APP):
        if b.action in seen or b.action.startswith("show_tab"):
            continue
        seen.add(b.action)
        yield b.tooltip or b.description, f"key {bindings.key_label(b.key)}", b.action
    for b in bindings.described(bindings.APP):
        if b.action.startswith("show_tab"):
            yield f"Show the {b.description} tab", f"key {bindings.key_label(b.key)}", b.action
    yield "Show the JSON (or the Python snippet)", "Code tab, key v", "toggle_code"


def choice_commands() -> Iterator[Command]:
    yield "Target: this machine", "the GPUs and packages found here", "set_gpu('')"
    yield "Target: no GPU", "a CPU-only machine", "set_gpu('none')"
    for gpu in api.gpus():
        yield (f"Target GPU: {gpu.name}", f"{gpu.capability}, {gpu.memory_gib:g} GiB"
               f"{' unified' if gpu.unified else ''}, {gpu.arch}", f"set_gpu({gpu.name!r})")
    for dtype in ("auto", "bfloat16", "float16", "float32"):
        yield f"dtype: {dtype}", "the requested dtype", f"set_dtype({dtype!r})"
    for task in ("inference", "training"):
        yield f"Task: {task}", "what the model is loaded for", f"set_task({task!r})"
    for entry in api.models():
        yield f"Model: {entry.id}", f"bundled catalog · {model_note(entry)}", f"set_model({entry.id!r})"
    for rule in api.rules():
        yield f"Rule docs: {rule.id}", rule.title, f"show_rule({rule.id!r})"


class AdvisorCommands(Provider):
    """Main actions on discovery; search also finds GPUs, models, dtypes, tasks and rules."""

    async def discover(self) -> Hits:
        for name, help_text, action in main_commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in (*main_commands(), *choice_commands()):
            score = matcher.match(name)
            if score > 0:
                run = partial(self.app.run_action, action)
                yield Hit(score, matcher.highlight(name), run, help=help_text)
