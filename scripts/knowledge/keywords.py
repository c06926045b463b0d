"""The keywords `from_pretrained` names, pops or ignores, the Auto classes' own, and the config's."""

from __future__ import annotations

import ast
import re

from knowledge.messages import LOG_METHODS, file_messages, scope_of
from knowledge.source import Json, Source, call_name, const_str, find_class, find_def, render, str_list, where

# from_pretrained keywords
# ---------------------------------------------------------------------------------------------------


def _pops(fn: ast.FunctionDef, source: str = "kwargs") -> list[tuple[str, ast.AST, str | None]]:
    """`(keyword, node, variable or None)` for every `kwargs.pop("k", ...)`/`kwargs.get("k")` in `fn`,
    including `for name in [...]: kwargs.pop(name)` loops."""
    out: list[tuple[str, ast.AST, str | None]] = []
    assigned: dict[int, str] = {}
    for node in ast.walk(fn):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                continue
            target: ast.expr = node.targets[0]
        else:
            target = node.target
        if isinstance(target, ast.Name):
            assigned[id(node.value)] = target.id
        elif isinstance(target, ast.Attribute | ast.Subscript):
            assigned[id(node.value)] = "get"  # stored on an object: used
    for node in ast.walk(fn):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            items = str_list(node.iter)
            if items and "kwargs.pop(" in ast.unparse(node):
                out.extend((i, node, None) for i in items)
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("pop", "get") or not (
            isinstance(node.func.value, ast.Name) and node.func.value.id == source
        ):
            continue
        key = const_str(node.args[0]) if node.args else None
        if key is None:
            continue
        var = assigned.get(id(node), "get" if node.func.attr == "get" else None)
        if var is None and not _is_bare_statement(fn, node):
            var = "get"  # used inside an expression (an argument, a condition): read, not dropped
        out.append((key, node, None if var == "_" else var))
    return out


def _is_bare_statement(fn: ast.FunctionDef, call: ast.Call) -> bool:
    """Whether `call` is a whole expression statement (its value dropped)."""
    return any(isinstance(n, ast.Expr) and n.value is call for n in ast.walk(fn))


def _usage(fn: ast.FunctionDef, var: str, scope: dict[str, ast.expr]) -> tuple[str, str | None]:
    """How a popped variable is used: ('ignored'|'deprecated'|'used', message)."""
    loads = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Load)]
    if not loads:
        return "ignored", None
    for node in ast.walk(fn):
        if isinstance(node, ast.If) and var in {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}:
            for s in node.body:
                call = s.value if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) else None
                if call is not None and call_name(call) in LOG_METHODS | {"warn"} and call.args:
                    text = render(call.args[0], scope)
                    if re.search(r"deprecat|no longer|removed|not used|ignored", text, re.I):
                        return "deprecated", text
    return "used", None


def read_from_pretrained(src: Source) -> Json:
    """The keywords `PreTrainedModel.from_pretrained` names, pops or ignores, the Auto classes' own,
    and those the config consumes (a keyword matching a config attribute updates the config).

    `keywords[k]` is `arg` (signature), `used`, `ignored` (popped and dropped) or
    `["deprecated", message]`.
    """
    rel = "modeling_utils.py"
    module = src.ast(rel)
    cls = find_class(module, "PreTrainedModel")
    fn = find_def(cls.body, "from_pretrained") if cls else None
    out: Json = {}
    if fn is None:
        return out
    keywords: Json = {}
    for a in fn.args.args[1:] + fn.args.kwonlyargs:
        keywords[a.arg] = "arg"
    scope = scope_of(fn)
    for key, _node, var in _pops(fn):
        if key in keywords and keywords[key] != "ignored":
            continue
        if var is None:
            keywords[key] = "ignored"
        elif var == "get":
            keywords.setdefault(key, "used")
        else:
            state, msg = _usage(fn, var, scope)
            keywords[key] = [state, msg] if msg else state
    deprecations = [
        m for m in file_messages(src, rel) if re.search(r"deprecat|no longer|will be removed", m.text, re.I)
    ]
    for key, state in list(keywords.items()):
        if state != "used":
            continue
        for m in deprecations:
            # the keyword must be the subject: named before the word "deprecated"
            head = re.split(r"deprecat|no longer|will be removed", m.text, maxsplit=1, flags=re.I)[0]
            if re.search(rf"`{re.escape(key)}`|(?<![\w`]){re.escape(key)}=", head):
                keywords[key] = ["deprecated", m.text]
                break
    out["keywords"] = keywords
    out["where"] = where(rel, fn)
    for node in ast.walk(fn):
        if isinstance(node, ast.If) and re.fullmatch(r"(torch_)?dtype is None", ast.unparse(node.test)):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and const_str(stmt.value) == "auto":
                    out["default_dtype"] = ["auto", where(rel, stmt)]
    calls = {call_name(n) for n in ast.walk(fn) if isinstance(n, ast.Call)}
    out["calls"] = sorted(
        calls
        & {
            "resolve_revision",
            "check_and_set_device_map",
            "get_hf_quantizer",
            "_check_and_adjust_attn_implementation",
            "_autoset_attn_implementation",
        }
    )
    auto = src.ast("models/auto/auto_factory.py")
    base = find_class(auto, "_BaseAutoModelClass")
    afn = find_def(base.body, "from_pretrained") if base else None
    if afn is not None:
        auto_kw: list[str] = [a.arg for a in afn.args.args[1:] + afn.args.kwonlyargs]
        for key, _node, _var in _pops(afn):
            if key not in auto_kw:
                auto_kw.append(key)
        out["auto_keywords"] = auto_kw
    cfg_mod = src.ast("configuration_utils.py")
    ccls = find_class(cfg_mod, "PreTrainedConfig") or find_class(cfg_mod, "PretrainedConfig")
    config_kw: list[str] = []
    if ccls is not None:
        for init in (find_def(ccls.body, "__init__"), find_def(ccls.body, "__post_init__")):  # 5.x: dataclass
            if init is not None:
                config_kw.extend(a.arg for a in init.args.args[1:] + init.args.kwonlyargs if a.arg != "kwargs")
                config_kw.extend(k for k, _n, _v in _pops(init) if k not in config_kw)
        for s in ccls.body:  # dataclass-style fields (5.x); a ClassVar is no field
            name = s.target.id if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) else ""
            if isinstance(s, ast.AnnAssign) and "ClassVar" in ast.unparse(s.annotation):
                continue
            if name and not name.startswith("__") and not name.isupper() and name not in config_kw:
                config_kw.append(name)
    out["config_keywords"] = sorted(set(config_kw))
    return out




# ---------------------------------------------------------------------------------------------------
