"""The public names of `transformers.utils`, and those whose body always warns that they are deprecated."""

from __future__ import annotations

import ast
import re

from knowledge.messages import file_messages
from knowledge.source import Json, Source, functions, where

# ---------------------------------------------------------------------------------------------------
# transformers.utils helpers
# ---------------------------------------------------------------------------------------------------


def read_helpers(src: Source) -> Json:
    """Names `transformers.utils` exports (its `__init__` imports and definitions) and those whose
    function body warns that it is deprecated (FutureWarning or a "deprecated" message)."""
    rel = "utils/__init__.py"
    module = src.ast(rel)
    names: set[str] = set()
    origin: dict[str, str] = {}

    def collect(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ImportFrom) and stmt.level >= 1:
                for alias in stmt.names:
                    if alias.name != "*":
                        n = alias.asname or alias.name
                        names.add(n)
                        if stmt.level == 1 and stmt.module:
                            origin[n] = f"utils/{stmt.module.replace('.', '/')}.py"
            elif isinstance(stmt, ast.FunctionDef | ast.ClassDef):
                names.add(stmt.name)
                origin[stmt.name] = rel
            elif isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        names.add(t.id)
            elif isinstance(stmt, ast.If | ast.Try):
                collect(stmt.body)
                for h in getattr(stmt, "handlers", []):
                    collect(h.body)
                collect(stmt.orelse)

    collect(module.body if module else [])
    deprecated: Json = {}
    by_file: dict[str, list[str]] = {}
    for n, f in origin.items():
        by_file.setdefault(f, []).append(n)
    for f, ns in by_file.items():
        fns = functions(src.ast(f))
        messages = {m.where: m for m in file_messages(src, f)}
        for n in ns:
            fn = fns.get(n)
            if fn is None:
                continue
            # Only a warning the function always gives (a statement of its body, not inside an `if`)
            # deprecates the function itself; conditional ones deprecate an argument.
            for stmt in fn.body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                    m = messages.get(where(f, stmt.value))
                    if m and (m.kind == "warn FutureWarning" or re.search(r"deprecat", m.text, re.I)):
                        deprecated[n] = [m.kind, m.where, m.text]
                        break
    public = sorted(n for n in names if not n.startswith("_") and n not in ("logger", "version"))
    return {"names": public, "deprecated": deprecated}


# ---------------------------------------------------------------------------------------------------
