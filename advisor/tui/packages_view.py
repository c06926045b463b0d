"""The package editor: detected (or profiled) versions, each editable as a what-if `--with` overlay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from advisor import api
from advisor.core.errors import InputError
from advisor.tui import bindings
from advisor.tui.prompt import PromptScreen
from advisor.tui.session import package_key

if TYPE_CHECKING:
    from advisor.api import Software

MODULE = "module:"


def check_spec(value: str) -> str | None:
    """Why VALUE is not a `NAME==VERSION` overlay, or None when it is one."""
    try:
        api.parse_package(value)
    except InputError as exc:
        return str(exc).replace("--with ", "")
    return None


class PackagesTable(DataTable[Text]):
    """One row per package (and flash-attn extension module) the rules read; what-if rows are marked."""

    BINDINGS = bindings.PACKAGES

    class Overlay(Message):
        """Overlay NAME with SPEC (`NAME==VERSION`, `NAME==none`); SPEC None means back to detected."""

        def __init__(self, name: str, spec: str | None) -> None:
            super().__init__()
            self.name = name
            self.spec = spec

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._versions: dict[str, str] = {}

    def on_mount(self) -> None:
        self.add_column("package", key="package")
        self.add_column("version", key="version")
        self.add_column("imports", key="imports")
        self.add_column("source", key="source")

    def show(self, software: Software | None, overlays: tuple[str, ...]) -> None:
        """Refill from SOFTWARE, marking the packages that OVERLAYS set."""
        row = self.cursor_row
        self.clear()
        self._versions = {}
        if software is None:
            return
        marked = {package_key(s) for s in overlays}
        theme = self.app.current_theme
        what_if = f"bold {theme.warning or 'yellow'}"
        for name, pkg in sorted(software.packages.items()):
            version = pkg.version.value
            shown = str(version) if version is not None else "—" if pkg.version.known else "unknown"
            self._versions[name] = "" if version is None else str(version)
            imports = pkg.imports
            yes = (Text("?", "dim") if not imports.known else Text("yes") if imports.value
                   else Text("no", theme.error or "red"))
            mine = name in marked
            self.add_row(Text.assemble(("★ " if mine else "  ", what_if), name),
                         Text(shown, what_if if mine else ""), yes if version is not None else Text(""),
                         Text(pkg.version.source), key=name)
        for name, present in sorted(software.modules.items()):
            mine = package_key(name) in marked
            state = "present" if present.value else "absent" if present.known else "unknown"
            self.add_row(Text.assemble(("★ " if mine else "  ", what_if), (name, "italic")), Text(state),
                         Text(""), Text(present.source), key=MODULE + name)
        if row < self.row_count:
            self.move_cursor(row=row, animate=False)

    def _selected(self) -> str | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key is None else str(key)

    def action_edit(self) -> None:
        name = self._selected()
        if name is None:
            return
        if name.startswith(MODULE):
            module = name.removeprefix(MODULE)
            self._ask(module, f"{module}==1")
            return
        current = self._versions.get(name, "")
        self._ask(name, f"{name}=={current}" if current else f"{name}==")

    def action_add(self) -> None:
        self._ask(None, "")

    def _ask(self, name: str | None, value: str) -> None:
        title = f"What if {name} were…" if name else "Add a package overlay"
        hint = ("Write [b]NAME==VERSION[/], or [b]NAME==none[/] for not installed "
                "(e.g. flash-attn==2.6.3). ⏎ applies, esc cancels.")

        def done(spec: str | None) -> None:
            if spec:
                self.post_message(self.Overlay(package_key(spec), spec))

        self.app.push_screen(PromptScreen(title, hint, value, check_spec, "flash-attn==2.6.3"), done)

    def action_absent(self) -> None:
        name = self._selected()
        if name is not None:
            name = name.removeprefix(MODULE)
            self.post_message(self.Overlay(name, f"{name}==none"))

    def action_reset(self) -> None:
        name = self._selected()
        if name is not None:
            self.post_message(self.Overlay(name.removeprefix(MODULE), None))
