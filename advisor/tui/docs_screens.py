"""Read-only windows: a rule's documentation, and the help screen listing every key binding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static

from advisor.tui import bindings
from advisor.tui.explain import rule_doc
from advisor.tui.paragraphs import Paragraphs

if TYPE_CHECKING:
    from advisor.api import Rule


class TextScreen(ModalScreen[None]):
    """A scrolling window of markup text; escape closes it."""

    BINDINGS = bindings.MODAL

    def __init__(self, title: str, body: str | Paragraphs, screen_id: str) -> None:
        super().__init__(classes="modal", id=screen_id)
        self._title, self._body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(self._title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body", can_focus=True):
                yield Static(self._body, classes="dialog-text")
            yield Static("[dim]esc closes[/]", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(".dialog-body").focus()

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)


def rule_screen(rule: Rule) -> TextScreen:
    return TextScreen(f"Rule {rule.id}", rule_doc(rule), "rule-screen")


def help_text() -> str:
    """Every binding by area, from `bindings.SECTIONS`."""
    lines = ["Every change to the inputs recomputes the advice in the background. "
             "The mouse works too: click tabs, rows, fields, and rule ids.", ""]
    for section, group in bindings.SECTIONS.items():
        lines.append(f"[b $accent]{escape(section)}[/]")
        for b in bindings.described(group):
            lines.append(f"  [b]{escape(bindings.key_label(b.key)):<12}[/] {escape(b.description):<16} "
                         f"[dim]{escape(b.tooltip)}[/]")
        lines.append("")
    lines.append("[b $accent]Command palette[/]")
    lines.append("  [b]^p          [/] Commands         [dim]Every action above, any catalog GPU, model, "
                 "dtype, rule, theme[/]")
    return "\n".join(lines)


def help_screen() -> TextScreen:
    return TextScreen("Keys", help_text(), "help-screen")
