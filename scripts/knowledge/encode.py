"""The shipped encoding of a release table, and equality of content (line numbers aside)."""

from __future__ import annotations

import json
import re
from typing import Any

from packaging.version import Version

from knowledge.source import Json, short


def content(table: Json) -> Json:
    """The table without evidence that moves with every edit (line numbers) and without the version:
    two releases with equal content answer every question the same way."""

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("version", "where")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        if isinstance(v, str):
            return re.sub(r"(\.py):\d+\b", r"\1", re.sub(r"^\d+$", "", v))
        return v

    stripped: Json = strip(table)
    return stripped


def dumps(table: Json) -> str:
    return json.dumps(table, separators=(",", ":"), sort_keys=False, ensure_ascii=False)


def minor_line(v: str) -> str:
    p = Version(v)
    return f"{p.major}.{p.minor}"


# -- the shipped encoding ---------------------------------------------------------------------------
#
# A release file holds the table of `read_release` with two changes that keep it small and fast to
# parse (json.loads cost grows with the number of objects):
#   * `model_types[mt]` is one string: `Config;Class flags auto,auto;Class flags auto;...`, classes in
#     the preference order of their auto classes (the first is the default loader). `~` in a class
#     name stands for the config class name without `Config` (LlamaConfig: `~ForCausalLM`).
#     `attention.classes` is folded into it and dropped. Decode with `model_type_entry`.
#   * `messages` moves to the cross-release `messages.json` (text, file and the read releases that
#     have it); quantizer checks keep their condition, outcome and line, with the text cut short.

CHECK_TEXT = 160
"""Characters of a quantizer check's message kept in a release file (the full text is in messages)."""


def _stem(config: str) -> str:
    return config[: -len("Config")] if config.endswith("Config") and len(config) > len("Config") else ""


def encode_model_types(table: Json) -> dict[str, str]:
    """`model_types` of a read table as one string per type (see the comment above)."""
    flags: dict[str, str] = table["attention"]["classes"]
    out: dict[str, str] = {}
    for mt, (config, groups) in table["model_types"].items():
        autos: dict[str, list[str]] = {}
        for auto, classes in groups.items():
            for c in classes:
                autos.setdefault(c, []).append(auto)
        stem = _stem(config)
        parts = [config]
        for c, a in autos.items():
            name = "~" + c[len(stem) :] if stem and c.startswith(stem) and len(c) > len(stem) else c
            parts.append(f"{name} {flags.get(c, '?')} {','.join(a)}")
        out[mt] = ";".join(parts)
    return out


def model_type_entry(table: Json, model_type: str) -> Json | None:
    """Decode one model type of a shipped table: `{"config": str, "classes": {cls: {"flags", "autos"}}}`
    (classes in loader preference order; flags `S` sdpa, `2` FA2, `3` FA3, `X` flex, `B` attention
    backend, `-` none, `?` the class was not found in the source)."""
    raw = table["model_types"].get(model_type)
    if raw is None:
        return None
    if not isinstance(raw, str):  # a table as read_release returns it
        config, groups = raw
        classes: Json = {}
        for auto, names in groups.items():
            for c in names:
                classes.setdefault(c, {"flags": table["attention"]["classes"].get(c, "?"), "autos": []})[
                    "autos"
                ].append(auto)
        return {"config": config, "classes": classes}
    config, *parts = raw.split(";")
    stem = _stem(config)
    classes = {}
    for part in parts:
        name, code, autos = part.split(" ")
        classes[stem + name[1:] if name.startswith("~") else name] = {"flags": code, "autos": autos.split(",")}
    return {"config": config, "classes": classes}


def class_flags(table: Json, cls: str, model_type: str | None = None) -> str | None:
    """The flag code of a model class (looked up under `model_type` first, then everywhere)."""
    if "classes" in table.get("attention", {}):
        found = table["attention"]["classes"].get(cls)
        return None if found is None else str(found)
    order = [model_type] if model_type in table["model_types"] else []
    for mt in order + list(table["model_types"]):
        entry = model_type_entry(table, mt)
        if entry and cls in entry["classes"]:
            return str(entry["classes"][cls]["flags"])
    return None


def compact(table: Json) -> Json:
    """The shipped form of a read table (see the comment above)."""
    out = {k: v for k, v in table.items() if k != "messages"}
    out["model_types"] = encode_model_types(table)
    out["attention"] = {k: v for k, v in table["attention"].items() if k != "classes"}
    quant = json.loads(dumps(table["quantization"]))
    for m in quant.get("methods", {}).values():
        m["checks"] = [[c[0], c[1], short(c[2], CHECK_TEXT), c[3]] for c in m.get("checks", [])]
    out["quantization"] = quant
    return out

