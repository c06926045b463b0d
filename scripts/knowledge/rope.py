"""RoPE: the rope types a release knows, what it does with an unknown one, and per-config validation."""

from __future__ import annotations

import ast
import re

from advisor.facts import transformers_scan as scan
from knowledge.attention import _SEGMENT_END
from knowledge.messages import file_messages
from knowledge.source import (
    Json,
    Source,
    const_str,
    dict_keys,
    find_class,
    find_def,
    short,
    str_list,
    top_assign,
    where,
)

_ROPE_LOCAL = re.compile(r"def _rope_scaling_validation\(self\)")


def read_rope(src: Source) -> Json:
    """Rope types known globally, how an unknown type is treated, and per-config-class validation.

    `behaviour` lists (what, file:line) pairs: where the validation of an unknown type warns or raises,
    and where a model's rotary embedding looks the type up in ROPE_INIT_FUNCTIONS (a KeyError there).
    `per_config` (releases before the shared validation, and local overrides after) maps a config
    class to `raise:<accepted types>` for a local `_rope_scaling_validation`.
    """
    out: Json = {}
    rel = "modeling_rope_utils.py"
    module = src.ast(rel)
    if module is not None:
        out["init"] = dict_keys(top_assign(module, "ROPE_INIT_FUNCTIONS"))
        validation = top_assign(module, "ROPE_VALIDATION_FUNCTIONS")
        if validation is not None:
            out["validate"] = dict_keys(validation)
            out["validation"] = "ROPE_VALIDATION_FUNCTIONS"
        mixin = find_class(module, "RotaryEmbeddingConfigMixin")
        if mixin is not None:
            out["validate"] = sorted(
                m.group(1)
                for s in mixin.body
                if isinstance(s, ast.FunctionDef) and (m := re.fullmatch(r"_validate_(\w+)_rope_parameters", s.name))
            )
            out["validation"] = "RotaryEmbeddingConfigMixin"
        behaviour: list[list[str]] = []
        for msg in file_messages(src, rel):
            if "Missing validation function" in msg.text:
                behaviour.append([f"unknown rope_type at config validation: {msg.kind}", msg.where])
            elif (
                re.search(r"rope_type|rope type", msg.text)
                and msg.kind.startswith("raise")
                and "validation" in msg.text
            ):
                behaviour.append([f"{msg.kind}: {short(msg.text, 90)}", msg.where])
        for node in ast.walk(module):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ROPE_INIT_FUNCTIONS"
            ):
                behaviour.append(["ROPE_INIT_FUNCTIONS[rope_type] (KeyError if unknown)", where(rel, node)])
        llama = "models/llama/modeling_llama.py"
        for node in ast.walk(src.ast(llama) or ast.Module(body=[], type_ignores=[])):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ROPE_INIT_FUNCTIONS"
            ):
                behaviour.append(
                    [
                        "llama rotary embedding: ROPE_INIT_FUNCTIONS[rope_type] (KeyError if unknown)",
                        where(llama, node),
                    ]
                )
        out["behaviour"] = behaviour
    else:
        out["init"] = []
        out["validation"] = "per-model"
    per_config: dict[str, str] = {}
    uses_global: int = 0
    for cfg_rel in src.files("models", "*/configuration_*.py"):
        text = src.text(cfg_rel)
        if "rope" not in text:
            continue
        if "rope_config_validation(" in text:
            uses_global += 1
        if not _ROPE_LOCAL.search(text):
            continue
        cfg_module = src.ast(cfg_rel)
        for cls in cfg_module.body if cfg_module else []:
            if not isinstance(cls, ast.ClassDef):
                continue
            fn = find_def(cls.body, "_rope_scaling_validation")
            if fn is None or "rope_config_validation(" in ast.unparse(fn):
                continue
            accepted: list[str] = []
            for node in ast.walk(fn):
                if isinstance(node, ast.Compare) and "type" in ast.unparse(node.left):
                    for op, comp in zip(node.ops, node.comparators, strict=True):
                        items = str_list(comp) if isinstance(op, ast.NotIn) else None
                        one = const_str(comp) if isinstance(op, ast.NotEq) else None
                        for item in items or ([one] if one else []):
                            if item not in accepted:
                                accepted.append(item)
            line = where(cfg_rel, fn)
            per_config[cls.name] = f"raise:{','.join(accepted)}@{line.removeprefix('models/')}"
    if per_config:
        out["per_config"] = per_config
    if uses_global:
        out["configs_calling_rope_config_validation"] = uses_global
    out["configs"], out["read_by_model"] = rope_configs(src)
    return out




_ROPE_ATTR = re.compile(r"\brope_(scaling|parameters)\b")
_BASES = re.compile(r"^class \w+\(([^)]*)\)", re.M)


_MODEL_READS = re.compile(r"\brope_(scaling|parameters)\b|ROPE_INIT_FUNCTIONS")


def rope_configs(src: Source) -> tuple[list[str], list[str]]:
    """The config classes that hold rope settings (`rope_scaling`, or `rope_parameters` in 5.x), themselves or
    through a base config class; and those that do not but whose folder's modeling code reads them anyway (a
    `rope_scaling` key of config.json becomes an attribute there and the model applies it unvalidated). A
    rope setting of any other config class stays an unused attribute: the model ignores it."""
    tree = src.tree
    names = sorted(set(tree._config_mapping("models/auto/configuration_auto.py").values()))
    index: dict[str, str] = {}
    for rel in src.files("models", "**/configuration_*.py"):
        for m in re.finditer(r"^class (\w+)\b", src.text(rel), re.M):
            index.setdefault(m.group(1), rel)
    memo: dict[str, bool] = {}

    def holds(name: str, depth: int = 0) -> bool:
        if name in memo:
            return memo[name]
        memo[name] = False
        rel = index.get(name)
        text = src.text(rel) if rel else ""
        at = scan._find_class(text, name) if text else -1
        if at < 0:
            return False
        end = _SEGMENT_END.search(text, at + len(name) + 6)
        segment = text[at : end.start() if end else len(text)]
        found = bool(_ROPE_ATTR.search(segment))
        bases = _BASES.match(segment)
        if not found and bases and depth < 4:
            for base in (b.strip().split(".")[-1] for b in bases.group(1).split(",")):
                if base.endswith("Config") and base not in ("PretrainedConfig", "PreTrainedConfig") and holds(
                    base, depth + 1
                ):
                    found = True
        memo[name] = found
        return found

    holders = [n for n in names if holds(n)]
    readers: list[str] = []
    for name in names:
        found = index.get(name)
        if name in holders or found is None:
            continue
        folder = found.rsplit("/", 1)[0]
        if any(_MODEL_READS.search(src.text(m)) for m in src.files(folder, "modeling_*.py")):
            readers.append(name)
    return holders, readers
