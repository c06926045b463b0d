"""The advisor app: inputs on the left, the advice in tabs on the right, recomputed off the UI thread."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.containers import Container, Horizontal
from textual.markup import escape
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from advisor import api
from advisor.core.errors import AdvisorError
from advisor.emit.json_out import recommendation_json
from advisor.tui import bindings
from advisor.tui.commands import AdvisorCommands
from advisor.tui.explain import headline
from advisor.tui.flags_view import FlagDetail, FlagsTable, loading_text
from advisor.tui.session import Advice, Inputs, Session
from advisor.tui.sidebar import InputsPanel, sidebar_width

if TYPE_CHECKING:
    from advisor.tui.packages_view import PackagesTable

DARK, LIGHT = "textual-dark", "textual-light"
TABS = {"flags": "Flags", "findings": "Findings", "memory": "Memory", "facts": "Facts", "packages": "Packages",
        "code": "Code"}
VIEW_IDS = {"flags": "flags-table", "findings": "findings-list", "memory": "memory-view", "facts": "facts-tree",
            "packages": "packages-table", "code": "code-view"}
"""The widget of each tab that takes the focus when the tab is shown (and that the tab's keys act in)."""
NO_ADVICE = "[dim]No advice for these inputs: the message above says why.[/]"
BUSY_AFTER_S = 0.15
"""A computation that takes longer than this says "computing…"; a quicker one redraws once, with no flicker."""


class AdvisorApp(App[int]):
    """Explore a model's safe `from_pretrained` flags, and what changes with the hardware or packages.

    Speed (benchmarks/bench_tui.py): the first screen holds the Flags tab only; the other tabs' widgets are
    mounted when first shown, and a new answer fills the tab on screen at once and the others when they are
    shown, so a GPU change redraws what is visible and nothing else.
    """

    CSS_PATH = Path(__file__).with_name("advisor.tcss")
    TITLE = "advisor"
    BINDINGS = bindings.APP
    COMMANDS = App.COMMANDS | {AdvisorCommands}

    def __init__(self, inputs: Inputs | None = None, session: Session | None = None) -> None:
        super().__init__()
        self.inputs = inputs or Inputs()
        self.session = session or Session()
        self.advice: Advice | None = None
        self.error: str | None = None
        self._generation = 0
        self._shown = 0
        self._stale: set[str] = set()
        """Tabs whose widgets still show an older answer than `advice` (filled when shown)."""
        self._busy: Timer | None = None
        self._detail_key: tuple[int, str | None] | None = None

    @property
    def computing(self) -> bool:
        """Whether the advice for the current inputs is still being computed."""
        return self._shown != self._generation

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._status_text(busy=bool(self.inputs.model)), id="status")
        yield Static("", id="error")
        yield Static("", id="headline")
        with Horizontal(id="body"):
            yield InputsPanel(self.inputs, [g.name for g in api.gpus()], id="sidebar")
            with TabbedContent(id="tabs", initial="flags"):
                with TabPane(TABS["flags"], id="flags"), Container(id="flags-pane"):
                    yield FlagsTable(id="flags-table")
                    yield FlagDetail(loading_text(self.inputs.model), id="flag-detail")
                for tab in list(TABS)[1:]:
                    yield TabPane(TABS[tab], id=tab)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FlagsTable).focus()
        self._fit_sidebar()
        self.recompute()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_sidebar()

    def _fit_sidebar(self) -> None:
        """The inputs column as wide as the model's name needs, within what the width allows."""
        self.query_one("#sidebar").styles.width = sidebar_width(self.size.width, self.inputs.model)

    # -- the tabs' widgets, mounted when first shown -------------------------------------------------

    def _view(self, tab: str) -> Widget | None:
        """The tab's focus widget, or None while it is not mounted yet."""
        found = self.query(f"#{VIEW_IDS[tab]}")
        return found.first() if found else None

    async def _ensure_view(self, tab: str) -> Widget:
        """The tab's focus widget, mounting the tab's widgets the first time."""
        view = self._view(tab)
        if view is None:
            view = self._new_view(tab)
            await self.query_one(TabbedContent).get_pane(tab).mount(view)
        return view

    @staticmethod
    def _new_view(tab: str) -> Widget:
        # The other tabs' modules load when a tab is first shown: a quicker first screen.
        if tab == "findings":
            from advisor.tui.findings_view import FindingsList  # as above

            return FindingsList(id=VIEW_IDS[tab])
        if tab == "memory":
            from advisor.tui.memory_view import MemoryView  # as above

            return MemoryView(id=VIEW_IDS[tab])
        if tab == "facts":
            from advisor.tui.facts_view import FactsTree  # as above

            return FactsTree(id=VIEW_IDS[tab])
        if tab == "packages":
            from advisor.tui.packages_view import PackagesTable  # as above

            return PackagesTable(id=VIEW_IDS[tab])
        from advisor.tui.code_view import CodeView  # as above

        return CodeView(id=VIEW_IDS[tab])

    async def _open_tab(self, tab: str) -> Widget:
        """Show TAB with the current answer in it; its focus widget."""
        view = await self._ensure_view(tab)  # mounted before it is shown: one switch, drawn once
        tabs = self.query_one(TabbedContent)
        if tabs.active != tab:
            tabs.active = tab
        self._refresh_tab(tab)
        return view

    async def _focus_tab(self, tab: str) -> None:
        """Show TAB and move the focus into it, so that its keys act at once."""
        view = await self._open_tab(tab)
        self.screen.set_focus(view)

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A tab was chosen (a click, a key): fill it, and take the focus into it (unless the person is
        typing in the inputs column)."""
        if not event.tabbed_content.is_attached or not self.is_running:
            return  # the app is closing
        tab = event.pane.id or "flags"
        if tab != event.tabbed_content.active:
            return  # a later change of tab is on its way (answering this one would switch back and forth)
        view = await self._open_tab(tab)
        if not event.pane.has_focus_within and not self.query_one("#sidebar").has_focus_within:
            self.screen.set_focus(view)

    # -- computing ---------------------------------------------------------------------------------

    def set_inputs(self, inputs: Inputs) -> None:
        """Take new inputs; recompute when they differ from the current ones."""
        if inputs == self.inputs:
            return
        model_changed = inputs.model != self.inputs.model
        self.inputs = inputs
        for panel in self.query(InputsPanel):
            panel.show(inputs)
        if model_changed:
            self._fit_sidebar()
        self.recompute()

    def recompute(self) -> None:
        """Start computing the advice for the current inputs; an older computation is dropped."""
        self._generation += 1
        if self._busy is not None:
            self._busy.stop()
        self._busy = self.set_timer(BUSY_AFTER_S, lambda: self._status(busy=self.computing))
        self._advise(self.inputs, self._generation)

    @work(thread=True, exclusive=True, group="advise", exit_on_error=False)
    def _advise(self, inputs: Inputs, generation: int) -> None:
        worker = get_current_worker()
        result: Advice | str
        try:
            result = self.session.advise(inputs)
        except AdvisorError as exc:
            result = str(exc)
        except Exception as exc:  # a bug in advisor: say so in the app, keep running
            result = f"internal error, please report it: {type(exc).__name__}: {exc}"
        if not worker.is_cancelled:
            self.call_from_thread(self._show_result, generation, result)

    def _show_result(self, generation: int, result: Advice | str) -> None:
        if generation != self._generation:
            return
        self._shown = generation
        if self._busy is not None:
            self._busy.stop()
            self._busy = None
        if isinstance(result, str):
            self.error = result
            banner = f"[b]✗[/] {escape(result)}"
            if self.advice is not None:
                banner += "\n[dim]The tabs still show the last advice that could be computed.[/]"
            self.query_one("#error", Static).update(banner)
            self.query_one("#error").add_class("-shown")
            if self.advice is None:
                self.query_one(FlagDetail).show(None, None, {}, {}, empty=NO_ADVICE)
            self._status(busy=False)
            return
        self.error = None
        self.query_one("#error").remove_class("-shown")
        self.advice = result
        self._fill(result)
        self._status(busy=False)

    def _fill(self, advice: Advice) -> None:
        """Show ADVICE: the parts always on screen and the tab on screen now; the other tabs when shown."""
        rec = advice.recommendation
        findings = rec.findings if rec else ()
        line = self.query_one("#headline", Static)
        line.update(headline(findings))
        line.set_class(any(f.severity != "info" for f in findings), "-shown")
        self.query_one(InputsPanel).show_context(rec.memory.context if rec and rec.memory else None)
        count = len(findings)
        self.query_one(TabbedContent).get_tab("findings").label = f"Findings {count}" if count else "Findings"
        self._stale = set(TABS)
        self._refresh_tab(self.query_one(TabbedContent).active or "flags")

    def _refresh_tab(self, tab: str) -> None:
        """Fill TAB's widgets with the current answer when they show an older one (and are mounted)."""
        advice = self.advice
        if tab not in self._stale or advice is None or self._view(tab) is None:
            return
        self._stale.discard(tab)
        rec = advice.recommendation
        view: Any = self._view(tab)
        if tab == "flags":
            view.show(rec)
            self._show_detail(view.current_flag)
        elif tab == "findings":
            view.show(rec.findings if rec else None)
        elif tab == "memory":
            view.show(rec.memory if rec else None)
        elif tab == "facts":
            view.show(advice.facts_json())
        elif tab == "packages":
            view.show(advice.software, advice.inputs.with_packages)
        else:
            view.show(rec.python if rec else "", recommendation_json(rec) if rec else "")

    def _status_text(self, busy: bool) -> str:
        advice = self.advice
        if advice is None or advice.facts is None:
            text = "[b]advisor[/] · " + ("no model chosen (^o to find one)" if not self.inputs.model
                                         else escape(self.inputs.model))
        else:
            m = advice.facts.model.summary()
            gpus = advice.hardware.gpus
            where = f"{len(gpus)}× {gpus[0].name.value}" if gpus else "no GPU"
            tf = advice.facts.transformers.value
            text = (f"[b]{escape(where)}[/] · transformers {tf or 'unknown'} · "
                    f"[b]{escape(str(m.get('architecture') or '?'))}[/] [dim]{escape(str(m.get('id')))}[/]")
        return text + ("  [dim]computing…[/]" if busy else "")

    def _status(self, busy: bool) -> None:
        line = self.query_one("#status", Static)
        line.update(self._status_text(busy))
        line.set_class(busy, "-busy")

    # -- reacting to the views ---------------------------------------------------------------------

    @on(InputsPanel.Changed)
    def _inputs_changed(self, event: InputsPanel.Changed) -> None:
        new = self.inputs.changed(**event.changes)
        if new == self.inputs and "model" in event.changes:
            self.recompute()  # ⏎ on the same path reads the config again (it may have been fixed)
        self.set_inputs(new)

    @on(InputsPanel.Leave)
    async def _leave_sidebar(self) -> None:
        await self._focus_tab(self.query_one(TabbedContent).active or "flags")

    @on(FlagDetail.Leave)
    def _leave_detail(self) -> None:
        self.screen.set_focus(self.query_one(FlagsTable))

    @on(FlagsTable.Chosen)
    def _flag_chosen(self, event: FlagsTable.Chosen) -> None:
        self._show_detail(event.flag)

    def _show_detail(self, flag: str | None) -> None:
        """The detail of FLAG in the current answer (drawn again only when it is another flag or answer)."""
        detail = self.query_one(FlagDetail)
        advice = self.advice
        rec = advice.recommendation if advice else None
        key = (self._shown, flag)  # the answer by its number (an id() may be reused by a later answer)
        if key == self._detail_key:
            return
        self._detail_key = key
        decision = next((d for d in rec.decisions if d.flag == flag), None) if rec else None
        if advice is None or decision is None:
            if rec is None:
                detail.show(None, None, {}, {})
            return
        detail.show(decision, api.flag(decision.flag), _rules_by_id(), advice.fixes)

    @on(FlagsTable.RulesWanted)
    def _flag_rules(self, event: FlagsTable.RulesWanted) -> None:
        rec = self.advice.recommendation if self.advice else None
        decision = next((d for d in rec.decisions if d.flag == event.flag), None) if rec else None
        if decision is None:
            return
        rejecting = (r.rule for rej in decision.rejected for r in rej.reasons)
        ids = list(dict.fromkeys([*decision.rules, *rejecting]))
        self._rule_finder(ids or None)

    def on_packages_table_overlay(self, event: PackagesTable.Overlay) -> None:
        inputs = self.inputs.without_package(event.name) if event.spec is None else \
            self.inputs.with_package(event.spec)
        self.set_inputs(inputs)

    # -- actions -----------------------------------------------------------------------------------

    def action_find_model(self) -> None:
        from advisor.tui.finder import FinderScreen, Item, model_note  # screens load when first opened

        items = [Item(e.id, model_note(e)) for e in api.models()]

        def picked(model: str | None) -> None:
            if model:
                self.set_inputs(self.inputs.changed(model=model))

        self.push_screen(FinderScreen(
            "Find a model", items,
            "Bundled catalog, fuzzy. Or type a Hub id or a path to a config.json/model folder. ⏎ picks.",
            free_text=True), picked)

    def action_set_model(self, model: str) -> None:
        self.set_inputs(self.inputs.changed(model=model or None))

    def action_set_gpu(self, gpu: str) -> None:
        self.set_inputs(self.inputs.changed(gpu=gpu or None, gpu_count=1))

    def action_set_dtype(self, dtype: str) -> None:
        self.set_inputs(self.inputs.changed(dtype=dtype))

    def action_set_task(self, task: str) -> None:
        self.set_inputs(self.inputs.changed(task=task))

    def action_focus_gpu(self) -> None:
        self.query_one("#sidebar").remove_class("-hidden")
        self.screen.set_focus(self.query_one("#gpu"))

    async def action_edit_packages(self) -> None:
        await self._focus_tab("packages")

    async def action_show_tab(self, tab: str) -> None:
        await self._focus_tab(tab)

    async def action_toggle_code(self) -> None:
        await self._focus_tab("code")
        view: Any = self._view("code")
        view.action_toggle_view()

    async def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        leaving = sidebar.has_focus_within
        sidebar.toggle_class("-hidden")
        if leaving:  # the focus must not stay in a hidden column
            await self._focus_tab(self.query_one(TabbedContent).active or "flags")

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def action_help(self) -> None:
        from advisor.tui.docs_screens import help_screen  # as above

        self.push_screen(help_screen())

    def action_rule_docs(self) -> None:
        self._rule_finder(None)

    def _rule_finder(self, only: list[str] | None) -> None:
        from advisor.tui.finder import FinderScreen, Item  # screens load when first opened: a quicker first frame

        rules = [r for r in api.rules() if only is None or r.id in only]
        if len(rules) == 1:
            self.action_show_rule(rules[0].id)
            return

        def picked(rule: str | None) -> None:
            if rule:
                self.action_show_rule(rule)

        hint = ("The rules behind this flag." if only else "Any rule, by id or title.") + " ⏎ opens its docs."
        items = [Item(r.id, r.title) for r in rules]
        self.push_screen(FinderScreen("Rule documentation", items, hint), picked)

    def action_explain_error(self) -> None:
        from advisor.tui.error_screen import ExplainScreen  # screens load when first opened: a quicker first frame

        facts = self.advice.facts if self.advice is not None else None
        target = self.inputs.target

        def explain(text: str) -> api.Explanation:
            return api.explain(text, facts=facts, target=target, recommend_flags=False)

        def picked(model: str | None) -> None:
            if model:
                self.set_inputs(self.inputs.changed(model=model))

        self.push_screen(ExplainScreen(explain), picked)

    def action_show_rule(self, rule_id: str) -> None:
        from advisor.tui.docs_screens import rule_screen  # as above

        rule = api.rule(rule_id)
        if rule is None:
            self.notify(f"no rule {rule_id!r} (^r lists them)", severity="error")
            return
        self.push_screen(rule_screen(rule))

    def _texts(self) -> tuple[str, str] | None:
        rec = self.advice.recommendation if self.advice else None
        if rec is None:
            self.notify("No advice yet: choose a model first.", severity="warning")
            return None
        return rec.python, recommendation_json(rec)

    def action_copy_python(self) -> None:
        texts = self._texts()
        if texts:
            self.copy_to_clipboard(texts[0])
            self.notify("Copied the Python snippet to the clipboard.")

    def action_copy_json(self) -> None:
        texts = self._texts()
        if texts:
            self.copy_to_clipboard(texts[1])
            self.notify("Copied the JSON to the clipboard.")

    def action_save(self) -> None:
        from advisor.tui.prompt import ConfirmScreen, PromptScreen  # as above

        if self._texts() is None:
            return

        def chosen(name: str | None) -> None:
            if not name:
                return
            path = Path(name).expanduser()
            if not path.exists():
                self.save_to(path)
                return

            def answered(overwrite: bool | None) -> None:
                if overwrite:
                    self.save_to(path, overwrite=True)
                else:
                    self.notify(f"Not saved: {path} is left as it was.")

            self.push_screen(ConfirmScreen(
                "Overwrite?", f"[b]{escape(str(path))}[/] exists. Replace it with the "
                f"{'JSON' if path.suffix.lower() == '.json' else 'Python snippet'}?", "Overwrite"), answered)

        self.push_screen(PromptScreen(
            "Save the advice", "A file ending in [b].json[/] gets the JSON; any other the Python snippet. "
            "⏎ saves, esc cancels.", "load_model.py", lambda v: None if v else "name a file", select=True),
            chosen)

    def save_to(self, path: Path, overwrite: bool = False) -> bool:
        """Write the JSON (for a `.json` path) or the Python snippet to PATH, whole or not at all; an existing
        file only with OVERWRITE. Says what happened."""
        texts = self._texts()
        if texts is None:
            return False
        what = "JSON" if path.suffix.lower() == ".json" else "Python snippet"
        if path.exists() and not overwrite:
            self.notify(f"Not saved: {path} exists.", severity="warning")
            return False
        tmp = path.with_name(f".{path.name}.advisor-tmp")
        try:
            tmp.write_text(texts[1] if what == "JSON" else texts[0], encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
            self.notify(f"Could not save {path}: {exc.strerror or exc}", severity="error")
            return False
        self.notify(f"Saved the {what} to {path}.")
        return True


@cache
def _rules_by_id() -> Mapping[str, api.Rule]:
    return {r.id: r for r in api.rules()}


def run_app(model: str | None = None, revision: str | None = None, target: api.Target | None = None,
            request: api.Request | None = None) -> int:
    """Open the app (`advisor tui [MODEL]`); the exit code when it closes."""
    inputs = Inputs(model, revision, target or api.Target(), request or api.Request())
    result = AdvisorApp(inputs).run()
    return int(result or 0)
