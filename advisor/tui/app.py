"""The advisor app: inputs on the left, the advice in tabs on the right, recomputed off the UI thread."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Container, Horizontal
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from advisor import api
from advisor.core.errors import AdvisorError
from advisor.emit.json_out import recommendation_json
from advisor.tui import bindings
from advisor.tui.code_view import CodeView
from advisor.tui.commands import AdvisorCommands
from advisor.tui.facts_view import FactsTree
from advisor.tui.findings_view import FindingsList
from advisor.tui.flags_view import FlagDetail, FlagsTable
from advisor.tui.memory_view import MemoryView
from advisor.tui.packages_view import PackagesTable
from advisor.tui.session import Advice, Inputs, Session
from advisor.tui.sidebar import InputsPanel

DARK, LIGHT = "textual-dark", "textual-light"
TAB_FOCUS: dict[str, type[Widget]] = {"flags": FlagsTable, "findings": FindingsList, "memory": MemoryView,
                                      "facts": FactsTree, "packages": PackagesTable, "code": CodeView}
"""The widget that takes the focus when a tab is shown."""


class AdvisorApp(App[int]):
    """Explore a model's safe `from_pretrained` flags, and what changes with the hardware or packages."""

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

    @property
    def computing(self) -> bool:
        """Whether the advice for the current inputs is still being computed."""
        return self._shown != self._generation

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("advisor", id="status")
        yield Static("", id="error")
        with Horizontal(id="body"):
            yield InputsPanel(self.inputs, [g.name for g in api.gpus()], id="sidebar")
            with TabbedContent(id="tabs", initial="flags"):
                with TabPane("Flags", id="flags"), Container(id="flags-pane"):
                    yield FlagsTable(id="flags-table")
                    yield FlagDetail(id="flag-detail")
                with TabPane("Findings", id="findings"):
                    yield FindingsList(id="findings-list")
                with TabPane("Memory", id="memory"):
                    yield MemoryView(id="memory-view")
                with TabPane("Facts", id="facts"):
                    yield FactsTree(id="facts-tree")
                with TabPane("Packages", id="packages"):
                    yield PackagesTable(id="packages-table")
                with TabPane("Code", id="code"):
                    yield CodeView(id="code-view")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FlagsTable).focus()
        self.call_after_refresh(self.recompute)  # draw the first screen before the engine's imports

    # -- computing ---------------------------------------------------------------------------------

    def set_inputs(self, inputs: Inputs) -> None:
        """Take new inputs; recompute when they differ from the current ones."""
        if inputs == self.inputs:
            return
        self.inputs = inputs
        for panel in self.query(InputsPanel):
            panel.show(inputs)
        self.recompute()

    def recompute(self) -> None:
        """Start computing the advice for the current inputs; an older computation is dropped."""
        self._generation += 1
        self._status(busy=True)
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
        if isinstance(result, str):
            self.error = result
            banner = f"[b]✗[/] {escape(result)}"
            if self.advice is not None:
                banner += "\n[dim]The tabs still show the last advice that could be computed.[/]"
            self.query_one("#error", Static).update(banner)
            self.query_one("#error").add_class("-shown")
            self._status(busy=False)
            return
        self.error = None
        self.query_one("#error").remove_class("-shown")
        self.advice = result
        self._fill(result)
        self._status(busy=False)

    def _fill(self, advice: Advice) -> None:
        rec = advice.recommendation
        self.query_one(FlagsTable).show(rec)
        self.query_one(FindingsList).show(rec.findings if rec else None)
        self.query_one(MemoryView).show(rec.memory if rec else None)
        self.query_one(FactsTree).show(advice.facts_json())
        self.query_one(PackagesTable).show(advice.software, advice.inputs.with_packages)
        self.query_one(CodeView).show(rec.python if rec else "", recommendation_json(rec) if rec else "")
        tabs = self.query_one(TabbedContent)
        count = len(rec.findings) if rec else 0
        tabs.get_tab("findings").label = f"Findings {count}" if count else "Findings"
        self._show_detail(self.query_one(FlagsTable).current_flag)

    def _status(self, busy: bool) -> None:
        line = self.query_one("#status", Static)
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
        line.update(text + ("  [dim]computing…[/]" if busy else ""))
        line.set_class(busy, "-busy")

    # -- reacting to the views ---------------------------------------------------------------------

    @on(InputsPanel.Changed)
    def _inputs_changed(self, event: InputsPanel.Changed) -> None:
        new = self.inputs.changed(**event.changes)
        if new == self.inputs and "model" in event.changes:
            self.recompute()  # ⏎ on the same path reads the config again (it may have been fixed)
        self.set_inputs(new)

    @on(InputsPanel.Leave)
    def _leave_sidebar(self) -> None:
        self._focus_tab(self.query_one(TabbedContent).active or "flags")

    @on(FlagsTable.Chosen)
    def _flag_chosen(self, event: FlagsTable.Chosen) -> None:
        self._show_detail(event.flag)

    def _show_detail(self, flag: str | None) -> None:
        detail = self.query_one(FlagDetail)
        advice = self.advice
        rec = advice.recommendation if advice else None
        decision = next((d for d in rec.decisions if d.flag == flag), None) if rec else None
        if advice is None or decision is None:
            detail.show(None, None, {}, {}) if rec is None else None
            return
        detail.show(decision, api.flag(decision.flag), {r.id: r for r in api.rules()}, advice.fixes)

    @on(FlagsTable.RulesWanted)
    def _flag_rules(self, event: FlagsTable.RulesWanted) -> None:
        rec = self.advice.recommendation if self.advice else None
        decision = next((d for d in rec.decisions if d.flag == event.flag), None) if rec else None
        if decision is None:
            return
        rejecting = (r.rule for rej in decision.rejected for r in rej.reasons)
        ids = list(dict.fromkeys([*decision.rules, *rejecting]))
        self._rule_finder(ids or None)

    @on(PackagesTable.Overlay)
    def _overlay(self, event: PackagesTable.Overlay) -> None:
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
        self.query_one("#gpu").focus()

    def action_edit_packages(self) -> None:
        self._focus_tab("packages")

    def action_show_tab(self, tab: str) -> None:
        self._focus_tab(tab)

    def _focus_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(TAB_FOCUS[tab]).focus()

    def action_toggle_code(self) -> None:
        self._focus_tab("code")
        self.query_one(CodeView).action_toggle_view()

    def action_toggle_sidebar(self) -> None:
        self.query_one("#sidebar").toggle_class("-hidden")

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
        from advisor.tui.prompt import PromptScreen  # as above

        if self._texts() is None:
            return

        def chosen(path: str | None) -> None:
            if path:
                self.save_to(Path(path).expanduser())

        self.push_screen(PromptScreen(
            "Save the advice", "A file ending in [b].json[/] gets the JSON; any other the Python snippet. "
            "⏎ saves, esc cancels.", "load_model.py", lambda v: None if v else "name a file"), chosen)

    def save_to(self, path: Path) -> bool:
        """Write the JSON (for a `.json` path) or the Python snippet to PATH; say what happened."""
        texts = self._texts()
        if texts is None:
            return False
        text = texts[1] if path.suffix.lower() == ".json" else texts[0]
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not save {path}: {exc.strerror or exc}", severity="error")
            return False
        self.notify(f"Saved the {'JSON' if path.suffix.lower() == '.json' else 'Python snippet'} to {path}.")
        return True


def run_app(model: str | None = None, revision: str | None = None, target: api.Target | None = None,
            request: api.Request | None = None) -> int:
    """Open the app (`advisor tui [MODEL]`); the exit code when it closes."""
    inputs = Inputs(model, revision, target or api.Target(), request or api.Request())
    result = AdvisorApp(inputs).run()
    return int(result or 0)
