"""The inputs column: model, target GPU and count, dtype, task, context, batch, and the package overlays."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static

from advisor.api import DEFAULT_CONTEXT
from advisor.tui import bindings
from advisor.tui.session import Inputs

THIS_MACHINE = "@this"
HARDWARE_FILE = "@file"
DTYPES = ("auto", "bfloat16", "float16", "float32")
TASKS = ("inference", "training")
DEBOUNCE_S = 0.35
NARROW, WIDE = 22, 28
"""The inputs column's width below 100 columns (room for the flags table's reasons) and its least above."""


def sidebar_width(total: int, model: str | None) -> int:
    """The inputs column's width in a window TOTAL cells wide: narrow below 100 columns, else wide enough
    for MODEL's whole name (borders, padding and the cursor included), up to 35 % of the window (a path of
    64 characters is whole at 200 columns)."""
    if total < 100:
        return NARROW
    want = len(model or "") + 5
    return max(WIDE, min(want, total * 7 // 20))


def context_hint(used: int | None, given: int | None) -> str:
    """The Context field's placeholder when it is left blank: the context the advice is computed for."""
    if given is not None or used is None:
        return f"{DEFAULT_CONTEXT} (default)"
    return f"{used} (default)" if used == DEFAULT_CONTEXT else f"{used} (model max)"


class InputsPanel(VerticalScroll):
    """Every input the advice depends on; each change posts `InputsPanel.Changed`."""

    BINDINGS = bindings.SIDEBAR

    class Changed(Message):
        """Some inputs changed: field name → new value (as `Inputs` holds it)."""

        def __init__(self, changes: dict[str, Any]) -> None:
            super().__init__()
            self.changes = changes

    class Leave(Message):
        """The person pressed escape: focus the results."""

    def __init__(self, inputs: Inputs, gpu_names: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._inputs = inputs
        self._gpu_names = gpu_names
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        i = self._inputs
        yield Static("Model", classes="section first")
        yield Input(i.model or "", placeholder="Hub id or path ⏎", id="model", compact=True,
                    tooltip="A Hub repo id, a model folder or a config.json path; ⏎ loads, ^o finds")
        yield Button("Find a model… ^o", id="find-model", compact=True, classes="link")
        yield Static("Target", classes="section")
        with Horizontal(classes="row"):
            yield Label("GPU")
            yield Select(self._gpu_options(i), value=self._gpu_value(i), allow_blank=False, id="gpu",
                         compact=True)
        with Horizontal(classes="row"):
            yield Label("Count")
            yield Input(str(i.gpu_count), type="integer", id="count", compact=True,
                        tooltip="How many of this GPU")
        yield Static("Request", classes="section")
        with Horizontal(classes="row"):
            yield Label("dtype")
            yield Select(_options(DTYPES, i.dtype), value=i.dtype, allow_blank=False, id="dtype",
                         compact=True)
        with Horizontal(classes="row"):
            yield Label("Task")
            yield Select(_options(TASKS, i.task), value=i.task, allow_blank=False, id="task",
                         compact=True)
        with Horizontal(classes="row"):
            yield Label("Context")
            yield Input("" if i.context is None else str(i.context), placeholder=context_hint(None, None),
                        type="integer", id="context", compact=True,
                        tooltip=f"Context length in tokens; blank: {DEFAULT_CONTEXT}, or the model's maximum "
                                "when smaller")
        with Horizontal(classes="row"):
            yield Label("Batch")
            yield Input(str(i.batch), type="integer", id="batch", compact=True)
        yield Static("Packages (what if)", classes="section")
        yield Static(self._overlay_text(i), id="overlays")
        yield Button("Edit packages… ^e", id="edit-packages", compact=True, classes="link")

    def _gpu_options(self, i: Inputs) -> list[tuple[str, str]]:
        opts = [("This machine", THIS_MACHINE)]
        if i.hardware_file is not None:
            opts.append((f"Profile {i.hardware_file.name}", HARDWARE_FILE))
        opts.append(("No GPU", "none"))
        opts += [(name, name) for name in self._gpu_names]
        if i.gpu is not None and i.gpu not in self._gpu_names and i.gpu != "none":
            opts.append((f"{i.gpu} (not in catalog)", i.gpu))
        return opts

    @staticmethod
    def _gpu_value(i: Inputs) -> str:
        if i.gpu is not None:
            return i.gpu
        return HARDWARE_FILE if i.hardware_file is not None else THIS_MACHINE

    @staticmethod
    def _overlay_text(i: Inputs) -> str:
        src = f"[dim]base: {escape(i.software_file.name)}[/]\n" if i.software_file else ""
        if not i.with_packages:
            return src + "[dim]as detected[/]"
        return src + "\n".join(f"[b $warning]{escape(s)}[/]" for s in i.with_packages)

    def show(self, inputs: Inputs) -> None:
        """Reflect INPUTS changed elsewhere (the finder, the palette, the package editor)."""
        old, self._inputs = self._inputs, inputs
        with self.prevent(Select.Changed, Input.Changed):
            model = self.query_one("#model", Input)
            if model.value != (inputs.model or ""):
                model.value = inputs.model or ""
            gpu = self.query_one("#gpu", Select)
            if self._gpu_options(inputs) != self._gpu_options(old):
                gpu.set_options(self._gpu_options(inputs))
            gpu.value = self._gpu_value(inputs)
            count = self.query_one("#count", Input)
            if count.value != str(inputs.gpu_count):
                count.value = str(inputs.gpu_count)
            self.query_one("#dtype", Select).value = inputs.dtype
            self.query_one("#task", Select).value = inputs.task
        self.query_one("#overlays", Static).update(self._overlay_text(inputs))

    def show_context(self, used: int | None) -> None:
        """Say in the blank Context field which context the advice is for (the ledger's)."""
        self.query_one("#context", Input).placeholder = context_hint(used, self._inputs.context)

    def _post(self, changes: dict[str, Any]) -> None:
        """Post CHANGES that differ from the inputs shown (a widget's first value is not a change)."""
        if any(getattr(self._inputs, k) != v for k, v in changes.items()):
            self.post_message(self.Changed(changes))

    @on(Input.Submitted, "#model")
    def _model(self, event: Input.Submitted) -> None:
        self.post_message(self.Changed({"model": event.value.strip() or None}))

    @on(Select.Changed, "#gpu")
    def _gpu(self, event: Select.Changed) -> None:
        value = event.value
        if value in (THIS_MACHINE, HARDWARE_FILE):
            self._post({"gpu": None})
        elif isinstance(value, str):
            self._post({"gpu": value})

    @on(Select.Changed, "#dtype, #task")
    def _choice(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.select.id:
            self._post({event.select.id: event.value})

    @on(Input.Changed, "#count, #context, #batch")
    def _number_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_S, self._numbers)

    @on(Input.Submitted, "#count, #context, #batch")
    def _number_submitted(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._numbers()

    def _numbers(self) -> None:
        """Post the numeric fields; a blank count or batch means 1, a blank context the default (4096, or the
        model's maximum when smaller)."""
        changes: dict[str, Any] = {}
        for field, blank in (("count", 1), ("context", None), ("batch", 1)):
            raw = self.query_one(f"#{field}", Input).value.strip()
            try:
                changes["gpu_count" if field == "count" else field] = int(raw) if raw else blank
            except ValueError:
                return
        self._post(changes)

    @on(Button.Pressed, "#find-model")
    async def _find(self) -> None:
        await self.app.run_action("find_model")

    @on(Button.Pressed, "#edit-packages")
    async def _packages(self) -> None:
        await self.app.run_action("edit_packages")

    def action_leave(self) -> None:
        self.post_message(self.Leave())


def _options(values: tuple[str, ...], current: str) -> list[tuple[str, str]]:
    opts = [(v, v) for v in values]
    if current not in values:
        opts.append((f"{current} (invalid)", current))
    return opts
