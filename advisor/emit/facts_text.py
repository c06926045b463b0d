"""`advisor facts --format text`: every fact with its value, its source, and why it is unknown."""

from __future__ import annotations

from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table


def _is_fact(node: Any) -> bool:
    return isinstance(node, dict) and "source" in node and ("value" in node or "unknown" in node)


def _rows(prefix: str, node: Any, out: list[tuple[str, str, str]]) -> None:
    if _is_fact(node):
        value = "unknown" if "unknown" in node else _show(node.get("value"))
        source = node["source"] + (f" — unknown: {node['unknown']}" if "unknown" in node else "")
        out.append((prefix, value, source))
    elif isinstance(node, dict):
        for key, child in node.items():
            _rows(f"{prefix}.{key}" if prefix else str(key), child, out)
    elif isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
        for i, child in enumerate(node):
            _rows(f"{prefix}[{i}]", child, out)
    else:
        out.append((prefix, _show(node), ""))


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) or "(none)"
    return str(value)


def facts_text(data: dict[str, Any], width: int = 120) -> str:
    """One table per section (hardware, software, model, ...), a row per fact."""
    buf = StringIO()
    con = Console(file=buf, width=width, force_terminal=False, color_system=None, highlight=False)
    for section, node in data.items():
        rows: list[tuple[str, str, str]] = []
        _rows("", node, rows)
        table = Table(title=section, title_justify="left", expand=False)
        table.add_column("fact", no_wrap=True)
        table.add_column("value")
        table.add_column("source / why unknown")
        for row in rows:
            table.add_row(*row)
        con.print(table)
        con.print()
    return buf.getvalue()
