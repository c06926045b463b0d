"""One release's source tree, read as text and `ast`, and the small AST helpers every reader shares."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.facts.transformers_scan import TransformersTree

Json = dict[str, Any]
FORMAT = 1
"""The format of a release table."""
YANKED = ("4.46.0", "4.52.0", "4.57.0", "5.10.0")
"""Releases PyPI has yanked: `pip index versions` omits them, but `pip install transformers==X` still installs
them, so they are read too (and marked in the index)."""


# ---------------------------------------------------------------------------------------------------
# Source access
# ---------------------------------------------------------------------------------------------------


@dataclass
class Source:
    """One release's source tree: the directory holding `transformers/`, read as text and `ast`."""

    root: Path
    version: str
    metadata: str = ""
    tree: TransformersTree = field(init=False)
    _asts: dict[str, ast.Module | None] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.tree = TransformersTree(self.root)

    @property
    def pkg(self) -> Path:
        return self.root / "transformers"

    def text(self, rel: str) -> str:
        """File text relative to the package directory ('' if missing)."""
        return str(self.tree.text(rel))

    def exists(self, rel: str) -> bool:
        return (self.pkg / rel).is_file()

    def ast(self, rel: str) -> ast.Module | None:
        """The parsed module (None if missing or unparsable)."""
        if rel not in self._asts:
            text = self.text(rel)
            try:
                self._asts[rel] = ast.parse(text) if text else None
            except SyntaxError:
                self._asts[rel] = None
        return self._asts[rel]

    def files(self, folder: str, pattern: str = "*.py") -> list[str]:
        return sorted(p.relative_to(self.pkg).as_posix() for p in (self.pkg / folder).glob(pattern))


# ---------------------------------------------------------------------------------------------------


def const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def str_list(node: ast.AST | None) -> list[str] | None:
    """A literal list/tuple/set of strings, else None."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        out = [const_str(e) for e in node.elts]
        if all(o is not None for o in out):
            return [o for o in out if o is not None]
    return None


def top_assign(module: ast.Module | None, name: str) -> ast.expr | None:
    """The value of the last top-level `name = ...` (or `name: T = ...`) of a module."""
    found: ast.expr | None = None
    for stmt in module.body if module else []:
        if isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found = stmt.value
    return found


def dict_keys(node: ast.AST | None) -> list[str]:
    """String keys of a dict literal or `OrderedDict([...])`/`dict(...)` call."""
    if isinstance(node, ast.Dict):
        return [k for k in (const_str(k) for k in node.keys) if k is not None]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.List | ast.Tuple):
        out = []
        for e in node.args[0].elts:
            if isinstance(e, ast.Tuple) and e.elts and (k := const_str(e.elts[0])) is not None:
                out.append(k)
        return out
    return []


def dict_items(node: ast.AST | None) -> dict[str, ast.expr]:
    if isinstance(node, ast.Dict):
        out: dict[str, ast.expr] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if (name := const_str(key)) is not None:
                out[name] = value
        return out
    return {}


def find_class(module: ast.Module | None, name: str) -> ast.ClassDef | None:
    for stmt in module.body if module else []:
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return stmt
    return None


def find_def(body: Iterable[ast.stmt], name: str) -> ast.FunctionDef | None:
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt
    return None


def functions(module: ast.Module | None) -> dict[str, ast.FunctionDef]:
    return {s.name: s for s in (module.body if module else []) if isinstance(s, ast.FunctionDef)}


def call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""


def where(rel: str, node: ast.AST) -> str:
    return f"{rel}:{getattr(node, 'lineno', 0)}"


def render(node: ast.AST | None, scope: dict[str, ast.expr] | None = None, depth: int = 0) -> str:
    """The text of a message expression: literal parts verbatim, `{expr}` for formatted fields."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                parts.append("{" + ast.unparse(v.value) + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return render(node.left, scope, depth + 1) + render(node.right, scope, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return render(node.left, scope, depth + 1)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return render(node.func.value, scope, depth + 1)
    if isinstance(node, ast.Name) and scope and node.id in scope and depth < 4:
        return render(scope[node.id], scope, depth + 1)
    return "{" + ast.unparse(node) + "}"


def short(text: str, limit: int = 0) -> str:
    text = " ".join(text.split())
    return text if not limit or len(text) <= limit else text[: limit - 1] + "…"

