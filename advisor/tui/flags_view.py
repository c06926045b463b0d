"""The flags table (flag, value, one short reason) and the selected flag's detail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.widgets import DataTable, Static

from advisor.emit.text import display_value, short_reason
from advisor.tui import bindings
from advisor.tui.explain import flag_detail
from advisor.tui.paragraphs import Paragraphs

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from advisor.api import FlagSpec, Rule
    from advisor.core.results import Decision, Recommendation

EMPTY = ("[b]No model yet.[/]\n\nType a Hub id or a path in the Model field and press ⏎, or press [b]^o[/] "
         "to find one in the bundled catalog.")
WHY_MIN = 16
"""The reason column keeps at least this many cells, however narrow the window: values are cut first."""
VALUE_MIN = 12


def loading_text(model: str | None) -> str:
    """What the detail says before the first answer: the model being read, or how to choose one."""
    return EMPTY if not model else f"[b]loading {escape(model)}…[/]\n\n[dim]Reading its config and the target.[/]"


def value_cell(value: Any) -> str:
    """A flag's value as the table shows it: a string as it is, anything else in its JSON form."""
    return value if isinstance(value, str) else display_value(value)


def column_widths(total: int, names: list[str], values: list[str]) -> tuple[int, int, int]:
    """(flag, value, why) widths that fit TOTAL cells (each column has a cell of padding on either side):
    the names whole, the reason at least WHY_MIN, the values what remains up to their length."""
    name_w = max((len(n) for n in names), default=4)
    room = max(total - 6 - name_w, WHY_MIN + VALUE_MIN)
    value_full = max((len(v) for v in values), default=5)
    value_w = min(value_full, max(VALUE_MIN, room - max(WHY_MIN, room // 2)))
    return name_w, value_w, max(room - value_w, WHY_MIN)


class FlagsTable(DataTable[Text]):
    """One row per decided flag; the highlighted row drives the detail. Columns follow the width."""

    BINDINGS = bindings.FLAGS

    class Chosen(Message):
        """A flag row was highlighted."""

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
        self._rec: Recommendation | None = None
        self._widths: tuple[int, int, int] | None = None

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        if self._layout() != self._widths:
            self._rebuild()

    def show(self, rec: Recommendation | None) -> None:
        """Refill from REC, keeping the cursor on the same flag when it is still there."""
        self._rec = rec
        self._rebuild()

    def _layout(self) -> tuple[int, int, int]:
        decisions = self._rec.decisions if self._rec else ()
        return column_widths(self.size.width or 80, [d.name for d in decisions],
                             [value_cell(d.value) for d in decisions])

    def _rebuild(self) -> None:
        current = self.current_flag
        self._widths = name_w, value_w, why_w = self._layout()
        self.clear(columns=True)
        self.add_column("flag", width=name_w, key="flag")
        self.add_column("value", width=value_w, key="value")
        self.add_column("why", width=why_w, key="why")
        if self._rec is None:
            return
        for d in self._rec.decisions:
            self.add_row(Text(d.name), cut(value_cell(d.value)), cut(short_reason(d.summary)), key=d.flag)
        flags = [d.flag for d in self._rec.decisions]
        if current in flags:
            self.move_cursor(row=flags.index(current), animate=False)

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
        self.screen.set_focus(self.screen.query_one("#flag-detail"))

    def action_flag_rules(self) -> None:
        flag = self.current_flag
        if flag is not None:
            self.post_message(self.RulesWanted(flag))


def cut(text: str) -> Text:
    """One line, an ellipsis where the column cuts it."""
    return Text(text, no_wrap=True, overflow="ellipsis")


class FlagDetail(VerticalScroll, can_focus=True):
    """The selected flag: value, why, rejected candidates with the requirement they failed, docs."""

    BINDINGS = bindings.DETAIL

    class Leave(Message):
        """The person pressed escape: back to the flags table."""

    def __init__(self, text: str = EMPTY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._text = text

    def compose(self) -> ComposeResult:
        yield Static(self._text, id="flag-detail-body")

    def show(self, decision: Decision | None, spec: FlagSpec | None, rules: Mapping[str, Rule],
             fixes: Mapping[str, str], empty: str = EMPTY) -> None:
        body = self.query_one("#flag-detail-body", Static)
        shown: str | Paragraphs = empty if decision is None else flag_detail(decision, spec, rules, fixes)
        body.update(shown)
        self.scroll_home(animate=False)

    def action_leave(self) -> None:
        self.post_message(self.Leave())
