"""A fuzzy finder: type to filter a list (bundled models, rule ids), ⏎ picks; free text when allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from advisor.core.frozen import frozen
from advisor.emit.catalogs import parameters_label
from advisor.tui import bindings

if TYPE_CHECKING:
    from advisor.facts.model_catalog import CatalogEntry

LIMIT = 60


@frozen
class Item:
    """One thing to find: its value (what picking it returns) and a note shown beside it."""

    value: str
    note: str = ""


def model_note(entry: CatalogEntry) -> str:
    """What the finder shows beside a bundled model: its size, architecture and kind."""
    return f"{parameters_label(entry.parameters)} · {entry.config.get('model_type', '?')} · {entry.kind}"


def rank(query: str, items: list[Item]) -> list[tuple[Item, Content]]:
    """ITEMS matching QUERY, best first, with the matched letters highlighted; all of them for no query."""
    if not query.strip():
        return [(item, Content(item.value)) for item in items[:LIMIT]]
    matcher = Matcher("".join(query.split()))
    scored = [(matcher.match(item.value + " " + item.note), item) for item in items]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])[:LIMIT]
    return [(item, matcher.highlight(item.value)) for _, item in best]


class FinderScreen(ModalScreen[str | None]):
    """Pick one of ITEMS by fuzzy search; with FREE_TEXT, ⏎ on no match returns what was typed."""

    BINDINGS = bindings.FINDER

    def __init__(self, title: str, items: list[Item], hint: str, free_text: bool = False,
                 query: str = "") -> None:
        super().__init__(classes="modal")
        self._title, self._items, self._hint, self._free, self._query = title, items, hint, free_text, query

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog finder"):
            yield Static(self._title, classes="dialog-title")
            yield Static(self._hint, classes="dialog-hint")
            yield Input(self._query, placeholder="type to filter", id="finder-input")
            yield OptionList(id="finder-list")

    def on_mount(self) -> None:
        self._refill(self._query)

    @on(Input.Changed, "#finder-input")
    def _changed(self, event: Input.Changed) -> None:
        self._refill(event.value)

    def _refill(self, query: str) -> None:
        options = self.query_one("#finder-list", OptionList)
        options.clear_options()
        found = [Option(label + (Content.styled(f"  {item.note}", "dim") if item.note else Content("")),
                        id=item.value) for item, label in rank(query, self._items)]
        typed = query.strip()
        if self._free and typed and not any(i.value.lower() == typed.lower() for i in self._items):
            label = Content.assemble(("use ", "dim"), (typed, "bold"), (" as typed (Hub id or path)", "dim"))
            own = Option(label, id=typed)
            looks_like_id = "/" in typed or typed.startswith((".", "~"))
            found = [own, *found] if looks_like_id or not found else [*found, own]
        options.add_options(found)
        options.highlighted = 0 if options.option_count else None

    @on(Input.Submitted, "#finder-input")
    def _submit(self, event: Input.Submitted) -> None:
        options = self.query_one("#finder-list", OptionList)
        typed = event.value.strip()
        exact = next((i.value for i in self._items if i.value.lower() == typed.lower()), None)
        if exact is not None:
            self.dismiss(exact)
        elif options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#finder-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cursor_down(self) -> None:
        self.query_one("#finder-list", OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#finder-list", OptionList).action_cursor_up()

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)
