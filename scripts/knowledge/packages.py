"""Packages: the `*_MIN_VERSION` constants and the `is_*_available` checks of `utils/import_utils.py`."""

from __future__ import annotations

import ast
import re

from knowledge.source import Json, Source, const_str, functions, top_assign

# ---------------------------------------------------------------------------------------------------
# Packages: import_utils constants and is_*_available checks
# ---------------------------------------------------------------------------------------------------


def simplify_version_expr(text: str) -> str:
    text = re.sub(r"(?:version|packaging\.version)\.parse\(([^()]*(?:\([^()]*\))?[^()]*)\)", r"\1", text)
    text = re.sub(r"importlib\.metadata\.version\(([^()]*)\)", r"version(\1)", text)
    return text


def _version_compares(func: ast.AST) -> list[str]:
    """Comparisons in `func` that involve a version literal or a *_VERSION constant, simplified."""
    out: list[str] = []
    for node in ast.walk(func):
        if not isinstance(node, ast.Compare):
            continue
        text = ast.unparse(node)
        if re.search(r"version|VERSION", text) and re.search(r"['\"]\d+\.\d+|_VERSION\b", text):
            s = simplify_version_expr(text)
            if s not in out:
                out.append(s)
    return out


def read_packages(src: Source) -> Json:
    """`min_versions` (the *_MIN/MAX_VERSION constants), `torch_min`, and per `is_*_available`
    function of import_utils its default minimum and version comparisons (only those with any)."""
    rel = "utils/import_utils.py"
    module = src.ast(rel)
    consts: dict[str, str] = {}
    for stmt in module.body if module else []:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if re.fullmatch(r"\w+_(MIN|MAX)_VERSION", name) and (v := const_str(stmt.value)) is not None:
                consts[name] = v
    out: Json = {"min_versions": consts}
    checks: Json = {}
    for name, fn in functions(module).items():
        if not re.fullmatch(r"is_\w+_available|is_\w+_greater_or_equal\w*", name):
            continue
        entry: Json = {}
        defaults = fn.args.defaults
        params = fn.args.args[len(fn.args.args) - len(defaults) :]
        for p, d in zip(params, defaults, strict=True):
            if re.search(r"version", p.arg, re.I):
                value = const_str(d) or (consts.get(d.id) if isinstance(d, ast.Name) else None)
                if value:
                    entry[p.arg] = value
        compares = _version_compares(fn)
        if compares:
            entry["checks"] = compares
        if entry:
            checks[name] = entry
    out["available"] = checks
    torch_min = None
    torch_fn = functions(module).get("is_torch_available")
    candidates: list[ast.AST] = [torch_fn] if torch_fn else []
    for stmt in module.body if module else []:
        if isinstance(stmt, ast.If | ast.Try) and "_torch_available" in ast.unparse(stmt)[:4000]:
            candidates.append(stmt)
    for cand in candidates:
        for node in ast.walk(cand):
            if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.GtE | ast.Lt):
                text = ast.unparse(node)
                m = re.search(r"torch_version.*parse\(['\"](\d[\w.]*)['\"]\)", text)
                if m:
                    torch_min = m.group(1)
                    break
        if torch_min:
            break
    out["torch_min"] = torch_min
    return out



def read_packages_const(src: Source, name: str) -> str | None:
    return const_str(top_assign(src.ast("utils/import_utils.py"), name))


