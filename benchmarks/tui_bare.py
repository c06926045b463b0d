"""The yardstick of `bench_tui.py`: a bare Textual app with the advisor app's widgets, layout and stylesheet,
filled from a JSON dump of what the advisor app shows (flags, detail, findings, memory, facts, packages,
code). It imports Textual only: no advisor, no engine, no computing; what it costs is what Textual costs
for the same screen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.containers import Container, Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)
from textual.widgets.option_list import Option

ROOT = Path(__file__).resolve().parents[1]
CSS = ROOT / "advisor" / "tui" / "advisor.tcss"
KEYS = [("f1", "Help"), ("ctrl+b", "Inputs"), ("ctrl+o", "Model"), ("ctrl+g", "GPU"), ("ctrl+e", "Packages"),
        ("ctrl+r", "Rule docs"), ("ctrl+x", "Explain"), ("ctrl+s", "Save"), ("ctrl+y", "Copy")]


class BareApp(App[None]):
    """The same widget tree as `AdvisorApp`, filled by `show(content)` with no work behind it."""

    CSS_PATH = CSS
    BINDINGS: ClassVar = [(key, "noop", label) for key, label in KEYS]

    def __init__(self, gpu_names: list[str]) -> None:
        super().__init__()
        self.gpu_names = gpu_names

    def compose(self) -> ComposeResult:
        yield Static("advisor", id="status")
        yield Static("", id="error")
        yield Static("", id="headline")
        with Horizontal(id="body"):
            with VerticalScroll(id="sidebar"):
                yield Static("Model", classes="section first")
                yield Input("", id="model", compact=True)
                yield Button("Find a model… ^o", id="find-model", compact=True, classes="link")
                yield Static("Target", classes="section")
                with Horizontal(classes="row"):
                    yield Label("GPU")
                    yield Select([(n, n) for n in self.gpu_names], value=self.gpu_names[0], allow_blank=False,
                                 id="gpu", compact=True)
                with Horizontal(classes="row"):
                    yield Label("Count")
                    yield Input("1", type="integer", id="count", compact=True)
                yield Static("Request", classes="section")
                for label, values in (("dtype", ["auto", "bfloat16"]), ("Task", ["inference", "training"])):
                    with Horizontal(classes="row"):
                        yield Label(label)
                        yield Select([(v, v) for v in values], value=values[0], allow_blank=False, compact=True)
                for label in ("Context", "Batch"):
                    with Horizontal(classes="row"):
                        yield Label(label)
                        yield Input("", type="integer", compact=True)
                yield Static("Packages (what if)", classes="section")
                yield Static("", id="overlays")
                yield Button("Edit packages… ^e", compact=True, classes="link")
            with TabbedContent(id="tabs", initial="flags"):
                with TabPane("Flags", id="flags"), Container(id="flags-pane"):
                    yield DataTable(id="flags-table", cursor_type="row", zebra_stripes=True)
                    with VerticalScroll(id="flag-detail"):
                        yield Static("", id="flag-detail-body")
                with TabPane("Findings", id="findings"):
                    yield OptionList(id="findings-list")
                with TabPane("Memory", id="memory"), VerticalScroll(id="memory-view"):
                    yield Static("", id="memory-summary")
                with TabPane("Facts", id="facts"):
                    yield Tree("facts", id="facts-tree")
                with TabPane("Packages", id="packages"):
                    yield DataTable(id="packages-table", cursor_type="row", zebra_stripes=True)
                with TabPane("Code", id="code"), VerticalScroll(id="code-view"):
                    yield Static("", id="code-title")
                    yield Static("", id="code-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#flags-table", DataTable).add_columns("flag", "value", "why")
        self.query_one("#packages-table", DataTable).add_columns("package", "version", "imports", "source")
        self.query_one("#flags-table").focus()

    def show(self, c: dict[str, Any]) -> None:
        """Fill every widget from the dump C, as the advisor app fills them from its advice."""
        self.query_one("#status", Static).update(c["status"])
        self.query_one("#headline", Static).update(c.get("headline", ""))
        self.query_one("#model", Input).value = c["model"]
        flags = self.query_one("#flags-table", DataTable)
        flags.clear()
        for row in c["flags"]:
            flags.add_row(*row)
        self.query_one("#flag-detail-body", Static).update(Content.from_markup(c["detail"]))
        findings = self.query_one("#findings-list", OptionList)
        findings.clear_options()
        findings.add_options([Option(Content.from_markup(m)) for m in c["findings"]])
        self.query_one("#memory-summary", Static).update(Content.from_markup(c["memory"]))
        tree: Tree[None] = self.query_one("#facts-tree", Tree)
        tree.clear()
        add(tree.root, "facts", c["facts"])
        tree.root.expand()
        packages = self.query_one("#packages-table", DataTable)
        packages.clear()
        for row in c["packages"]:
            packages.add_row(*row)
        self.query_one("#code-title", Static).update("Python snippet")
        self.query_one("#code-body", Static).update(c["python"])
        self.query_one(TabbedContent).get_tab("findings").label = c["findings_label"]

    def action_noop(self) -> None:
        """The bindings are there for the footer."""


def add(parent: Any, name: str, node: Any) -> None:
    """The facts as a tree, one node per mapping, one leaf per value (as the advisor app draws them)."""
    if isinstance(node, dict):
        branch = parent.add(name, expand=name in ("hardware", "model", "request", "transformers"))
        for key, value in node.items():
            add(branch, str(key), value)
    elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        branch = parent.add(name)
        for i, value in enumerate(node):
            add(branch, f"{name} {i}", value)
    else:
        parent.add_leaf(f"{name}: {json.dumps(node)}")
