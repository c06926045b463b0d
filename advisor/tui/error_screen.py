"""Paste an error or a log and see the rules that explain it, recomputed as the text changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea
from textual.worker import get_current_worker

from advisor.core.errors import AdvisorError
from advisor.tui import bindings
from advisor.tui.explain import explanation_markup

if TYPE_CHECKING:
    from advisor.api import Explanation

Explain = Callable[[str], "Explanation"]
DELAY_S = 0.25
"""How long the text must rest before it is explained again (a paste arrives as many changes)."""
HINT = ("Paste an error message or a whole log or traceback. The rules that explain it appear below. "
        "^o loads the model it names into the app, esc closes.")


class ExplainScreen(ModalScreen[str | None]):
    """An editor for the error, the explanation under it; dismisses with the model the log names on ^o."""

    BINDINGS = bindings.EXPLAIN

    def __init__(self, explain: Explain, text: str = "") -> None:
        super().__init__(classes="modal", id="explain-screen")
        self._explain, self._text = explain, text
        self.explanation: Explanation | None = None
        self.problem: str | None = None
        self._timer: object | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Explain an error", classes="dialog-title")
            yield Static(HINT, classes="dialog-hint")
            yield TextArea(self._text, id="explain-input", soft_wrap=True, show_line_numbers=False)
            with VerticalScroll(classes="dialog-body", id="explain-body"):
                yield Static("", id="explain-result", classes="dialog-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        if self._text:
            self._start(self._text)

    @on(TextArea.Changed, "#explain-input")
    def _changed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        if self._timer is not None:
            self._timer.stop()  # type: ignore[attr-defined]
        self._timer = self.set_timer(DELAY_S, lambda: self._start(text))

    def _start(self, text: str) -> None:
        if not text.strip():
            self.explanation, self.problem = None, None
            self.query_one("#explain-result", Static).update("")
            return
        self._run(text)

    @work(thread=True, exclusive=True, group="explain", exit_on_error=False)
    def _run(self, text: str) -> None:
        worker = get_current_worker()
        result: Explanation | str
        try:
            result = self._explain(text)
        except AdvisorError as exc:
            result = str(exc)
        except Exception as exc:  # a bug in advisor: say so here, keep the app running
            result = f"internal error, please report it: {type(exc).__name__}: {exc}"
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, result)

    def _show(self, result: Explanation | str) -> None:
        out = self.query_one("#explain-result", Static)
        if isinstance(result, str):
            self.explanation, self.problem = None, result
            out.update(f"[$error]✗ {result}[/]")
            return
        self.explanation, self.problem = result, None
        out.update(explanation_markup(result))

    def action_use_model(self) -> None:
        mention = self._named_model()
        if mention is None:
            self.notify("The text names no model.", severity="warning")
            return
        self.dismiss(mention)

    def _named_model(self) -> str | None:
        e = self.explanation
        return e.named.id if e is not None and e.named is not None else None

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)
