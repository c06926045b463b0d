"""`advisor facts --format text`: every fact with its value, its source, and why it is unknown."""

from __future__ import annotations

from typing import Any

from advisor.core.plain import clean
from advisor.emit.style import Style


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


def facts_text(data: dict[str, Any], style: Style | None = None) -> str:
    """One section per part (hardware, software, model, ...), a line per fact: name, value, source or why."""
    st = style or Style()
    out: list[str] = []
    for section, node in data.items():
        rows: list[tuple[str, str, str]] = []
        _rows("", node, rows)
        out.append(st.paint(str(section), "bold"))
        name_w = min(max((len(r[0]) for r in rows), default=0), 40)
        value_w = min(max((len(r[1]) for r in rows), default=0), 30)
        for name, value, source in rows:
            lead = 2 + name_w + 2 + value_w + 2
            shown = clean(value)
            text = f"  {clean(name).ljust(name_w)}  {shown.ljust(value_w)}  "
            if "unknown:" in source:
                source = st.paint(source, "warning")
            lines = st.wrap(clean(source), lead, len(text)) if source else [""]
            out.append((text + lines[0]).rstrip())
            out += lines[1:]
        out.append("")
    return "\n".join(out)
