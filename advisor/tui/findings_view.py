"""Findings grouped by severity: errors, then warnings, then information; each opens its rule's docs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from advisor.tui import bindings
from advisor.tui.explain import SEVERITY_STYLE, SEVERITY_TITLE, finding_text

if TYPE_CHECKING:
    from advisor.core.results import Finding


class FindingsList(OptionList):
    """The findings of the current advice; ⏎ or r opens the selected finding's rule."""

    BINDINGS = bindings.FINDINGS

    def show(self, findings: tuple[Finding, ...] | None) -> None:
        self.clear_options()
        if findings is None:
            self.add_option(Option(Content.from_markup("[dim]No advice yet.[/]"), disabled=True))
            return
        if not findings:
            self.add_option(Option(Content.from_markup("[$success]No findings:[/] every rule holds for "
                                                       "the recommended flags."), disabled=True))
            return
        for severity in ("error", "warning", "info"):
            group = [f for f in findings if f.severity == severity]
            if not group:
                continue
            title = f"[b {SEVERITY_STYLE[severity]}]{SEVERITY_TITLE[severity]} ({len(group)})[/]"
            self.add_option(Option(Content.from_markup(title), disabled=True))
            for i, f in enumerate(group):
                self.add_option(Option(finding_text(f), id=f"{f.rule}#{severity}{i}"))
        first = next((i for i in range(self.option_count) if not self.get_option_at_index(i).disabled), None)
        self.highlighted = first

    def _rule_of_highlighted(self) -> str | None:
        if self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        return None if option.id is None else option.id.split("#", 1)[0]

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        await self.action_finding_rule()

    async def action_finding_rule(self) -> None:
        rule = self._rule_of_highlighted()
        if rule is not None:
            await self.app.run_action(f"show_rule({rule!r})")
