"""The flags table (flag, value, one-line reason) and the selected flag's detail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from advisor.emit.text import display_value as value_text
from advisor.tui import bindings
from advisor.tui.explain import flag_detail

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from advisor.api import FlagSpec, Rule
    from advisor.core.results import Decision, Recommendation

EMPTY = ("[b]No model yet.[/]\n\nType a Hub id or a path in the Model field and press ⏎, or press [b]^o[/] "
         "to find one in the bundled catalog.")


class FlagsTable(DataTable[str]):
    """One row per decided flag; the highlighted row drives the detail."""

    BINDINGS = bindings.FLAGS

    class Chosen(Message):
        """A flag row was highlighted (or the table was refilled)."""

        def __init__(self, flag: str | None) -> None:
            super().__init__()
            self.flag = flag

    class RulesWanted(Message):
        """The person asked for the rules behind a flag."""

        def __init__(self, flag: str) -> None:
            super().__init__()
            self.flag = flag

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        self.add_column("flag", key="flag")
        self.add_column("value", key="value")
        self.add_column("why", key="why")

    def show(self, rec: Recommendation | None) -> None:
        """Refill from REC, keeping the cursor on the same flag when it is still there."""
        current = self.current_flag
        self.clear()
        if rec is None:
            self.post_message(self.Chosen(None))
            return
        for d in rec.decisions:
            self.add_row(d.name, value_text(d.value), d.summary, key=d.flag)
        flags = [d.flag for d in rec.decisions]
        if current in flags:
            self.move_cursor(row=flags.index(current), animate=False)
        self.post_message(self.Chosen(self.current_flag))

    @property
    def current_flag(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor is off the table while it refills
            return None
        return None if key.value is None else str(key.value)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Chosen(None if event.row_key.value is None else str(event.row_key.value)))

    def action_open_detail(self) -> None:
        self.screen.query_one("#flag-detail").focus()

    def action_flag_rules(self) -> None:
        flag = self.current_flag
        if flag is not None:
            self.post_message(self.RulesWanted(flag))


class FlagDetail(VerticalScroll, can_focus=True):
    """The selected flag: value, why, rejected candidates with the requirement they failed, docs."""

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="flag-detail-body")

    def show(self, decision: Decision | None, spec: FlagSpec | None, rules: Mapping[str, Rule],
             fixes: Mapping[str, str], empty: str = EMPTY) -> None:
        body = self.query_one("#flag-detail-body", Static)
        body.update(empty if decision is None else flag_detail(decision, spec, rules, fixes))
        self.scroll_home(animate=False)
