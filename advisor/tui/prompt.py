"""Small modals: one line of text, checked before closing; a yes-or-no question."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from advisor.tui import bindings

Check = Callable[[str], str | None]
"""Returns an error message for a value it refuses, None for one it accepts."""


class PromptScreen(ModalScreen[str | None]):
    """Title, hint, an input; ⏎ closes with the value once CHECK accepts it, escape with None. With SELECT
    the given value starts selected, so typing replaces it (a proposed file name); else typing adds to it."""

    BINDINGS = bindings.MODAL

    def __init__(self, title: str, hint: str, value: str = "", check: Check | None = None,
                 placeholder: str = "", select: bool = False) -> None:
        super().__init__(classes="modal")
        self._select = select
        self._title, self._hint, self._value, self._check = title, hint, value, check
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title")
            yield Static(self._hint, classes="dialog-hint")
            yield Input(self._value, placeholder=self._placeholder, id="prompt-input",
                        select_on_focus=self._select)
            yield Static("", id="prompt-error", classes="dialog-error")

    @on(Input.Submitted, "#prompt-input")
    def _submit(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self._check(value) if self._check else None
        if problem:
            self.query_one("#prompt-error", Static).update(problem)
            return
        self.dismiss(value)

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A question: y or the YES button answers True, n, escape or Cancel False (the safe answer)."""

    BINDINGS = bindings.CONFIRM

    def __init__(self, title: str, question: str, yes: str = "Yes") -> None:
        super().__init__(classes="modal", id="confirm-screen")
        self._title, self._question, self._yes = title, question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title")
            yield Static(self._question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._yes} (y)", id="confirm-yes", variant="warning", compact=True)
                yield Button("Cancel (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no_pressed(self) -> None:
        self.dismiss(False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
