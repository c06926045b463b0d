"""Model types, their auto mappings, and what decides attention per class (flags, overrides, kernels)."""

from __future__ import annotations

import ast
import re

from advisor.facts import transformers_scan as scan
from knowledge.source import (
    Json,
    Source,
    call_name,
    const_str,
    dict_items,
    dict_keys,
    find_class,
    find_def,
    render,
    str_list,
    top_assign,
    where,
)

# ---------------------------------------------------------------------------------------------------
# Model types, auto mappings, attention
# ---------------------------------------------------------------------------------------------------

ATTN_METHODS = (
    "_autoset_attn_implementation", "_check_and_enable_sdpa", "_check_and_enable_flash_attn_2",
    "_check_and_enable_flash_attn_3", "_check_and_enable_flex_attn", "_check_and_adjust_attn_implementation",
    "get_correct_attn_implementation", "_sdpa_can_dispatch", "_flash_attn_2_can_dispatch",
    "_flash_attn_3_can_dispatch", "_flash_attn_can_dispatch", "_flex_attn_can_dispatch",
    "set_attn_implementation", "_can_set_attn_implementation",
)  # fmt: skip
_ATTN_DEF = re.compile(r"^    def (" + "|".join(ATTN_METHODS) + r")\(", re.M)
_BACKEND = re.compile(r"^    _supports_attention_backend\s*(?::[^=\n]*)?=\s*(True|False)", re.M)
_SEGMENT_END = re.compile(r"^[^\s)\]}#]", re.M)


def short_auto(name: str) -> str:
    """`AutoModelForCausalLM` -> `CausalLM`, `AutoModel` -> `Model`; other names unchanged."""
    if name == "AutoModel":
        return "Model"
    return name.removeprefix("AutoModelFor")


def read_model_types(src: Source) -> Json:
    """Model types with their config class and the classes each auto class loads for them.

    `model_types[mt] = [config_class, {auto: [classes]}]`, the auto mappings in the order the scanner
    prefers when `architectures` does not decide (so the first entry is the default loader). `autos`
    maps the short auto names back to the class names (mappings without an auto class keep the
    variable name minus `_MAPPING_NAMES`).
    """
    tree = src.tree
    config_names = tree._config_mapping("models/auto/configuration_auto.py")
    mappings = tree.auto_mappings()
    autos: dict[str, str] = {}
    per_type: dict[str, dict[str, list[str]]] = {}
    for auto in mappings.auto_order():
        key = short_auto(auto)
        autos[key] = auto
        for model_type, classes in mappings.by_auto[auto].items():
            if classes:
                per_type.setdefault(model_type, {})[key] = list(classes)
    for var, group in mappings.other.items():
        key = var.removesuffix("_MAPPING_NAMES")
        autos[key] = var
        for model_type, classes in group.items():
            if classes:
                per_type.setdefault(model_type, {})[key] = list(classes)
    model_types: Json = {}
    for mt in sorted(set(config_names) | set(per_type)):
        model_types[mt] = [config_names.get(mt, ""), per_type.get(mt, {})]
    return {"autos": autos, "model_types": model_types}


def _raw_segment(text: str, name: str) -> str:
    at = scan._find_class(text, name)
    if at < 0:
        return ""
    end = _SEGMENT_END.search(text, at + len(name) + 6)
    return text[at : end.start() if end else len(text)]


def _class_extras(src: Source, name: str, hint: str | None) -> tuple[bool, list[str]]:
    """(`_supports_attention_backend` after inheritance, attention methods overridden outside
    modeling_utils as `method@file`), following the scanner's resolution of base classes."""
    tree = src.tree
    rel = tree.find_class(name, hint)
    if rel is None:
        return False, []
    node = tree._node(rel, name)
    if node is None:
        return False, []
    backend: bool | None = None
    overrides: list[str] = []
    for n in scan._c3(node):
        if isinstance(n, str):
            continue
        file, cls = n.key
        if file == "modeling_utils.py":
            continue
        seg = _raw_segment(tree.text(file), cls)
        if backend is None and (m := _BACKEND.search(seg)):
            backend = m.group(1) == "True"
        for m in _ATTN_DEF.finditer(seg):
            entry = f"{m.group(1)}@{file.removeprefix('models/')}"
            if not any(o.startswith(m.group(1) + "@") for o in overrides):
                overrides.append(entry)
    return bool(backend), overrides


def attn_implementations(src: Source) -> list[str]:
    """The `attn_implementation` strings the release knows (literal lists, AttentionInterface, FA matrix)."""
    found: set[str] = set()
    module = src.ast("modeling_utils.py")
    for node in ast.walk(module) if module else []:
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            for comp in node.comparators:
                for side in (comp, comp.left if isinstance(comp, ast.BinOp) else None):
                    items = str_list(side)
                    if items and "eager" in items and not any(i.endswith("_mm") for i in items):
                        found.update(items)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and ast.unparse(node.func.value) == "ALL_ATTENTION_FUNCTIONS"
            and node.args
        ):  # 4.48-4.50: a module-level dict filled with .update({...})
            found.update(dict_keys(node.args[0]))
        if isinstance(node, ast.ClassDef) and node.name == "AttentionInterface":
            for stmt in node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign):
                    target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                    if isinstance(target, ast.Name) and target.id == "_global_mapping":
                        found.update(dict_keys(stmt.value))
    matrix = top_assign(src.ast("modeling_flash_attention_utils.py"), "FLASH_ATTENTION_COMPATIBILITY_MATRIX")
    if isinstance(matrix, ast.Dict):
        found.update(f"flash_attention_{k.value!s}" for k in matrix.keys if isinstance(k, ast.Constant))
    return sorted(found | {"eager"})


def version_literals(node: ast.AST) -> list[str]:
    """Version-looking string literals inside version.parse(...) calls."""
    out: list[str] = []
    for n in ast.walk(node):
        v = const_str(n.args[0]) if isinstance(n, ast.Call) and call_name(n) == "parse" and n.args else None
        if v and re.match(r"\d+\.\d+", v) and v not in out:
            out.append(v)
    return out


def read_output_attentions(src: Source) -> Json:
    """What `output_attentions=True` does with an attention implementation other than eager.

    From the `output_attentions` setter of `PretrainedConfig` (4.53+): `explicit` is what happens when a
    non-eager implementation is asked for (`raise`), `default` when none is (`eager`: the setter dispatches
    eager; `raise`: 4.53 raises for the default too). Without a setter (4.36-4.52) each model's sdpa attention
    falls back to eager for that call with a warning: both are `fallback`.
    """
    rel = "configuration_utils.py"
    module = src.ast(rel)
    cls = find_class(module, "PreTrainedConfig") or find_class(module, "PretrainedConfig")
    setter = None
    for stmt in cls.body if cls else []:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "output_attentions" and any(
            ast.unparse(d).endswith(".setter") for d in stmt.decorator_list
        ):
            setter = stmt
    if setter is None:
        return {"explicit": "fallback", "default": "fallback"}
    body = ast.unparse(setter)
    raises = next((n for n in ast.walk(setter) if isinstance(n, ast.Raise)), None)
    dispatch = re.search(r"_attn_implementation is None:\s*self\._attn_implementation = 'eager'", body)
    return {
        "explicit": "raise" if raises else "fallback",
        "default": "eager" if dispatch else "raise" if raises else "fallback",
        "where": where(rel, raises or setter),
    }


def read_attention(src: Source, types: Json) -> Json:
    """Per class attention flags (scanner), plus era, known implementations and per-class extras.

    `classes[cls]` is a code: `S` sdpa, `2` FA2, `3` FA3, `X` flex (as this release reads them: see
    `era`), `B` `_supports_attention_backend`, `-` none. FA4 uses the FA flag (5.10+).
    """
    tree = src.tree
    era = tree.era()
    hint: dict[str, str] = {}
    for mt, (_cfg, groups) in types["model_types"].items():
        for names in groups.values():
            for c in names:
                hint.setdefault(c, mt)
    classes: dict[str, str] = {}
    compatible: dict[str, list[str]] = {}
    overrides: dict[str, list[str]] = {}
    missing: list[str] = []
    unresolved: dict[str, list[str]] = {}
    for name in sorted(hint):
        found = tree.class_flags(name, hint[name])
        if found is None:
            missing.append(name)
            continue
        if found.unresolved:
            unresolved[name] = list(found.unresolved)
        flags = found.effective(era)
        backend, over = _class_extras(src, name, hint[name])
        code = flags.code.replace("-", "") + ("B" if backend else "")
        classes[name] = code or "-"
        if flags.compatible_flash:
            compatible[name] = list(flags.compatible_flash)
        if over:
            overrides[name] = over
    out: Json = {
        "era": {"fa2": list(era.fa2), "fa3": list(era.fa3), "flex": era.flex, "compatible": era.compatible},
        "implementations": attn_implementations(src),
        "classes": classes,
    }
    if compatible:
        out["compatible_flash"] = compatible
    if overrides:
        out["overrides"] = overrides
    if missing:
        out["missing"] = missing
    if unresolved:
        out["unresolved"] = unresolved
    patterns: list[str] = []
    for rel in ("modeling_utils.py", "integrations/hub_kernels.py", "modeling_flash_attention_utils.py"):
        for node in ast.walk(src.ast(rel) or ast.Module(body=[], type_ignores=[])):
            if (text := const_str(node)) and text.startswith("^[^/:]+/") and text not in patterns:
                patterns.append(text)
                out.setdefault("hub_kernel_where", where(rel, node))
    if patterns:
        out["hub_kernel_patterns"] = patterns
    bt = (
        find_def(cls.body, "to_bettertransformer")
        if (cls := find_class(src.ast("modeling_utils.py"), "PreTrainedModel"))
        else None
    )
    if bt is not None:
        out["bettertransformer"] = {"where": where("modeling_utils.py", bt), "optimum": version_literals(bt)}
    for rel in ("modeling_flash_attention_utils.py", "modeling_utils.py"):  # 5.0-5.3 keep it in modeling_utils
        kernel_fallback = top_assign(src.ast(rel), "FLASH_ATTN_KERNEL_FALLBACK")
        if isinstance(kernel_fallback, ast.Dict):
            out["kernel_fallback"] = {k: render(v) for k, v in dict_items(kernel_fallback).items()}
            break
    else:  # 4.57 hard-codes the fallback kernel
        for node in ast.walk(src.ast("modeling_utils.py") or ast.Module(body=[], type_ignores=[])):
            if (text := const_str(node)) and text.startswith("kernels-community/flash-attn"):
                out["kernel_fallback"] = {"flash_attention_2": text}
                break
    matrix = top_assign(src.ast("modeling_flash_attention_utils.py"), "FLASH_ATTENTION_COMPATIBILITY_MATRIX")
    if isinstance(matrix, ast.Dict):
        fa: Json = {}
        for k, v in zip(matrix.keys, matrix.values, strict=True):
            if not isinstance(k, ast.Constant):
                continue
            items = dict_items(v)
            entry: Json = {}
            if "cuda_min_major_version" in items and isinstance(items["cuda_min_major_version"], ast.Constant):
                entry["cuda_min_major"] = items["cuda_min_major_version"].value
            devices = items.get("supported_devices")
            if isinstance(devices, ast.Tuple):
                entry["devices"] = [
                    d.elts[1].value
                    for d in devices.elts
                    if isinstance(d, ast.Tuple) and isinstance(d.elts[1], ast.Constant)
                ]
            pkg = items.get("pkg_availability_check")
            if pkg is not None:
                names = [c.value for c in ast.walk(pkg) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                entry["module_dist"] = names[:2]
            fa[str(k.value)] = entry
        out["flash_matrix"] = fa
    out["output_attentions"] = read_output_attentions(src)
    sinks = sorted({rel.split("/")[1] for rel in src.files("models", "*/modeling_*.py") if "s_aux=" in src.text(rel)})
    if sinks:
        out["sinks"] = sinks  # model folders whose attention passes sinks (s_aux) to the attention functions
    return out


# ---------------------------------------------------------------------------------------------------
