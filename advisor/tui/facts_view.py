"""The facts (hardware, software, model, request) as a tree: value and source, or why it is unknown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from advisor.tui.explain import fact_label, is_fact

OPEN = ("hardware", "model", "request", "transformers")


class FactsTree(Tree[None]):
    """`Facts.to_json()` as a tree; unknown facts carry their reason in the label."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("facts", **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self._facts: Mapping[str, Any] | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.show(self._facts))

    def show(self, facts: Mapping[str, Any] | None) -> None:
        self._facts = facts
        self.clear()
        if facts is None:
            self.root.add_leaf(Text("No facts yet.", style="dim"))
            return
        warn = self.app.current_theme.warning or "yellow"
        for key, value in facts.items():
            add(self.root, key, value, warn, expand=key in OPEN)
        self.root.expand()


def add(parent: TreeNode[None], name: str, node: Any, warn: str, expand: bool = False) -> None:
    """Add NODE under PARENT: a fact is a leaf, a mapping or list a branch, anything else a plain leaf."""
    if is_fact(node):
        parent.add_leaf(Text.from_markup(fact_label(name, node, warn)))
    elif isinstance(node, Mapping):
        if not node:
            parent.add_leaf(Text.from_markup(f"{escape(name)}: [dim]none[/]"))
            return
        branch = parent.add(Text.from_markup(f"[b]{escape(name)}[/]"), expand=expand)
        for key, value in node.items():
            add(branch, str(key), value, warn)
    elif isinstance(node, list) and node and all(isinstance(v, Mapping) for v in node):
        branch = parent.add(Text.from_markup(f"[b]{escape(name)}[/] [dim]({len(node)})[/]"), expand=expand)
        for i, value in enumerate(node):
            add(branch, f"{name.rstrip('s')} {value.get('index', i)}", value, warn, expand=True)
    else:
        shown = "none" if node is None else ", ".join(map(str, node)) if isinstance(node, list) else str(node)
        parent.add_leaf(Text.from_markup(f"{escape(name)}: [b]{escape(shown)}[/]"))
