"""Every key binding of the app, as data: key, action, description. The help screen lists them from here."""

from __future__ import annotations

from textual.binding import Binding, BindingType

APP: list[BindingType] = [
    Binding("f1", "help", "Help", tooltip="Every key binding", id="help"),
    Binding("ctrl+o", "find_model", "Model", tooltip="Fuzzy-find a bundled model, or type a Hub id or path",
            id="find-model"),
    Binding("ctrl+g", "focus_gpu", "GPU", tooltip="Choose the target GPU (or this machine) and the count",
            id="focus-gpu"),
    Binding("ctrl+e", "edit_packages", "Packages", tooltip="Edit package versions: what if X were installed?",
            id="edit-packages"),
    Binding("ctrl+r", "rule_docs", "Rule docs", tooltip="Open the documentation of any rule by id",
            id="rule-docs"),
    Binding("ctrl+x", "explain_error", "Explain", tooltip="Paste an error or a log: the rules that explain it",
            id="explain-error"),
    Binding("ctrl+s", "save", "Save", tooltip="Save the Python snippet or the JSON to a file", id="save"),
    Binding("ctrl+y", "copy_python", "Copy", tooltip="Copy the Python snippet to the clipboard",
            id="copy-python"),
    Binding("ctrl+b", "toggle_sidebar", "Inputs", show=False, tooltip="Show or hide the inputs column",
            id="toggle-sidebar"),
    Binding("ctrl+t", "toggle_theme", "Theme", show=False, tooltip="Switch between the dark and light theme",
            id="toggle-theme"),
    Binding("question_mark", "help", "Help", show=False, tooltip="Every key binding", id="help-alt"),
    Binding("c", "copy_python", "Copy Python", show=False, tooltip="Copy the Python snippet",
            id="copy-python-alt"),
    Binding("j", "copy_json", "Copy JSON", show=False, tooltip="Copy the whole answer as JSON",
            id="copy-json"),
    Binding("1", "show_tab('flags')", "Flags", show=False, tooltip="The recommended flags", id="tab-flags"),
    Binding("2", "show_tab('findings')", "Findings", show=False, tooltip="Findings by severity",
            id="tab-findings"),
    Binding("3", "show_tab('memory')", "Memory", show=False, tooltip="The memory plan per GPU",
            id="tab-memory"),
    Binding("4", "show_tab('facts')", "Facts", show=False, tooltip="Hardware, software and model facts",
            id="tab-facts"),
    Binding("5", "show_tab('packages')", "Packages", show=False, tooltip="The package versions",
            id="tab-packages"),
    Binding("6", "show_tab('code')", "Code", show=False, tooltip="The Python snippet and the JSON",
            id="tab-code"),
    Binding("ctrl+q", "quit", "Quit", tooltip="Leave the app", id="quit"),
]

SIDEBAR: list[BindingType] = [
    Binding("escape", "leave", "Back to results", tooltip="Move the focus to the results",
            id="sidebar-leave"),
]

FLAGS: list[BindingType] = [
    Binding("enter", "open_detail", "Detail", tooltip="Move to the selected flag's explanation",
            id="flags-detail"),
    Binding("r", "flag_rules", "Rules", tooltip="The documentation of the rules behind this flag",
            id="flags-rules"),
]

FINDINGS: list[BindingType] = [
    Binding("r", "finding_rule", "Rule docs", tooltip="The documentation of the selected finding's rule",
            id="findings-rule"),
]

PACKAGES: list[BindingType] = [
    Binding("enter", "edit", "Edit version", tooltip="Set a what-if version for the selected package",
            id="packages-edit"),
    Binding("a", "add", "Add", tooltip="Add any NAME==VERSION overlay", id="packages-add"),
    Binding("n", "absent", "Not installed", tooltip="Assume the selected package is not installed",
            id="packages-absent"),
    Binding("delete,backspace", "reset", "Reset", tooltip="Back to the detected (or profiled) version",
            id="packages-reset"),
]

CODE: list[BindingType] = [
    Binding("v", "toggle_view", "Python/JSON", tooltip="Switch between the Python snippet and the JSON",
            id="code-toggle"),
]

MODAL: list[BindingType] = [
    Binding("escape", "dismiss_screen", "Close", tooltip="Close this window", id="modal-close"),
]

EXPLAIN: list[BindingType] = [
    Binding("escape", "dismiss_screen", "Close", tooltip="Close this window", id="explain-close"),
    Binding("ctrl+o", "use_model", "Use its model", tooltip="Load the model the pasted text names into the app",
            id="explain-use-model"),
]

FINDER: list[BindingType] = [
    Binding("escape", "dismiss_screen", "Close", tooltip="Close without choosing", id="finder-close"),
    Binding("down", "cursor_down", "Next", show=False, tooltip="Next match", id="finder-down"),
    Binding("up", "cursor_up", "Previous", show=False, tooltip="Previous match", id="finder-up"),
]

SECTIONS: dict[str, list[BindingType]] = {
    "Everywhere": APP,
    "Inputs column": SIDEBAR,
    "Flags table": FLAGS,
    "Findings": FINDINGS,
    "Packages": PACKAGES,
    "Code": CODE,
    "Model finder": FINDER,
    "Explain an error": EXPLAIN,
    "Windows (help, rule docs, save)": MODAL,
}
"""Bindings by the part of the app they act in, in the order the help screen shows them."""


def described(group: list[BindingType]) -> list[Binding]:
    """The group's bindings as `Binding` objects (every one here is written as one)."""
    return [b for b in group if isinstance(b, Binding)]


def key_label(key: str) -> str:
    """A binding's keys as a person reads them: `ctrl+o` → `^o`, `question_mark` → `?`."""
    names = {"question_mark": "?", "delete": "del", "backspace": "⌫", "enter": "⏎", "escape": "esc"}
    return " ".join(names.get(k, k.replace("ctrl+", "^")) for k in key.split(","))
