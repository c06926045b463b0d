"""The ready-to-paste Python snippet, or the whole answer as JSON (`v` switches)."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from advisor.tui import bindings


class CodeView(VerticalScroll, can_focus=True):
    """Shows `python` or `json`; the text itself comes from the recommendation."""

    BINDINGS = bindings.CODE
    language: reactive[str] = reactive("python")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._python = ""
        self._json = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="code-title", classes="code-title")
        yield Static("", id="code-body")

    def show(self, python: str, json_text: str) -> None:
        self._python, self._json = python, json_text
        self._render_code()

    def watch_language(self) -> None:
        self._render_code()

    def _render_code(self) -> None:
        if not self.is_mounted:
            return
        text = self._python if self.language == "python" else self._json
        other = "JSON" if self.language == "python" else "Python"
        title = ("Python snippet" if self.language == "python" else "JSON (schema_version 1)")
        self.query_one("#code-title", Static).update(
            f"[b]{title}[/]  [dim]v: show {other} · ^y/c copy Python · j copy JSON · ^s save[/]")
        body = self.query_one("#code-body", Static)
        if not text:
            body.update("[dim]No advice yet.[/]")
            return
        body.update(Syntax(text, self.language, theme="ansi_dark", background_color="default",
                           word_wrap=True))

    def action_toggle_view(self) -> None:
        self.language = "json" if self.language == "python" else "python"
