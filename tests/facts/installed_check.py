"""Compare advisor's shipped table of a release with that release imported for real (run in a subprocess).

    python tests/facts/installed_check.py

Imports the installed transformers and checks, for EVERY model type of `CONFIG_MAPPING_NAMES`: its config class
and the classes of every auto mapping; for every class of the table (each one imported): the attention flags as
the release reads them (`S` `_supports_sdpa`, `2`/`3` the flash flags of its era, `X` `_supports_flex_attn`, `B`
`_supports_attention_backend`) and `_compatible_flash_implementations`; then the release-wide facts the rules read
(quantizer keys, `*_MIN/MAX_VERSION`, `ROPE_INIT_FUNCTIONS`, the names of `transformers.utils`, the parameters of
`from_pretrained`). Prints one JSON object: counts and every mismatch.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from packaging.version import Version  # noqa: E402

from advisor.facts.release_table import table_for  # noqa: E402


def main() -> int:
    import transformers
    from transformers import PreTrainedModel
    from transformers.models.auto import configuration_auto, modeling_auto

    table = table_for(Version(transformers.__version__))
    data = table.data
    problems: list[str] = []
    real_cfg: dict[str, str] = dict(configuration_auto.CONFIG_MAPPING_NAMES)
    ours: dict[str, tuple[str, dict[str, list[str]]]] = {}
    codes: dict[str, str] = {}
    for mt in data["model_types"]:
        entry = table.model_type(mt)
        assert entry is not None
        groups: dict[str, list[str]] = {}
        for c in entry.classes:
            codes[c.name] = c.code
            for auto in c.autos:
                groups.setdefault(auto, []).append(c.name)
        ours[mt] = (entry.config, groups)
    if table.native() != set(real_cfg):
        problems.append(f"native model types differ: {sorted(table.native() ^ set(real_cfg))[:20]}")
    for mt in sorted(set(real_cfg) | {k for k, v in ours.items() if v[0]}):
        mine = ours.get(mt, ("", {}))[0]
        if real_cfg.get(mt, "") != mine:
            problems.append(f"config class of {mt}: table {mine!r}, import {real_cfg.get(mt)!r}")
    real_groups: dict[str, dict[str, tuple[str, ...]]] = {}
    for short, full in data["autos"].items():
        if full.endswith("_MAPPING_NAMES"):
            names = getattr(modeling_auto, full, None)
        else:
            auto_cls = getattr(transformers, full, None) or getattr(modeling_auto, full, None)
            names = getattr(getattr(auto_cls, "_model_mapping", None), "_model_mapping", None)
        if names is None:
            problems.append(f"auto {full}: not found on import")
            continue
        real_groups[short] = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in names.items()}
    for short, group in real_groups.items():
        for mt, names_real in group.items():
            listed = ours.get(mt, ("", {}))[1].get(short)
            if tuple(listed or ()) != names_real:
                problems.append(f"{mt} {short}: table {listed}, import {list(names_real)}")
        for mt, (_cfg, groups) in ours.items():
            if short in groups and mt not in group:
                problems.append(f"{mt} {short}: in the table, not on import")
    era = data["attention"]["era"]
    compatible: dict[str, list[str]] = data["attention"].get("compatible_flash", {})
    hints = {c: mt for mt, (_cfg, groups) in ours.items() for cs in groups.values() for c in cs}
    imported = 0
    for name, code in sorted(codes.items()):
        cls = _load_class(transformers, name, hints.get(name, ""))
        if cls is None:
            problems.append(f"class {name}: cannot import")
            continue
        imported += 1
        real = "".join(c for c, on in (
            ("S", bool(getattr(cls, "_supports_sdpa", False))),
            ("2", any(bool(getattr(cls, f, False)) for f in era["fa2"])),
            ("3", any(bool(getattr(cls, f, False)) for f in era["fa3"])),
            ("X", era["flex"] and bool(getattr(cls, "_supports_flex_attn", False))),
            ("B", bool(getattr(cls, "_supports_attention_backend", False))),
        ) if on) or "-"
        if real != code:
            problems.append(f"flags of {name}: table {code}, import {real}")
        real_compat = list(getattr(cls, "_compatible_flash_implementations", None) or [])
        if real_compat != compatible.get(name, []):
            problems.append(f"compatible of {name}: table {compatible.get(name)}, import {real_compat}")
    problems += _release_wide(transformers, PreTrainedModel, data)
    print(json.dumps({"version": transformers.__version__, "table": str(table.release), "model_types": len(real_cfg),
                      "classes": len(codes), "imported": imported, "problems": problems}))
    return 0


def _release_wide(transformers: Any, pretrained: Any, data: dict[str, Any]) -> list[str]:
    from transformers import modeling_rope_utils
    from transformers.quantizers import auto as qauto
    from transformers.utils import import_utils

    problems: list[str] = []
    if sorted(qauto.AUTO_QUANTIZER_MAPPING) != sorted(data["quantization"]["methods"]):
        problems.append("quantizer keys differ")
    for const, value in data["packages"]["min_versions"].items():
        if getattr(import_utils, const, None) != value:
            problems.append(f"{const}: table {value}, import {getattr(import_utils, const, None)}")
    if sorted(modeling_rope_utils.ROPE_INIT_FUNCTIONS) != sorted(data["rope"]["init"]):
        problems.append("ROPE_INIT_FUNCTIONS keys differ")
    import transformers.utils as tu

    real_names = {n for n in dir(tu) if not n.startswith("_")}
    mine_names = set(data["helpers"]["names"])
    if mine_names - real_names:
        problems.append(f"utils names in the table, not on import: {sorted(mine_names - real_names)[:20]}")
    extra = [n for n in sorted(real_names - mine_names) if not inspect.ismodule(getattr(tu, n, None))
             and str(getattr(getattr(tu, n, None), "__module__", "transformers")).startswith("transformers")]
    if extra:
        problems.append(f"utils names on import, not in the table: {extra[:30]}")
    sig = inspect.signature(pretrained.from_pretrained)
    real_params = [p for p in sig.parameters if p not in ("model_args", "kwargs")]
    mine_params = [k for k, v in data["from_pretrained"]["keywords"].items() if v == "arg"]
    if real_params != mine_params:
        problems.append(f"from_pretrained params: table {mine_params}, import {real_params}")
    return problems


def _load_class(transformers: Any, name: str, model_type: str) -> Any:
    try:
        return getattr(transformers, name)
    except (AttributeError, ImportError, RuntimeError):
        pass
    module = model_type.replace("-", "_")
    candidates = [f"transformers.models.{module}.modeling_{module}", f"transformers.models.{module}"]
    from advisor.facts.transformers_scan import TransformersTree  # the file the scanner read it from

    rel = TransformersTree(Path(transformers.__file__).parent.parent).find_class(name, model_type)
    if rel:
        candidates.append("transformers." + rel.removesuffix(".py").replace("/", "."))
    for mod in candidates:
        try:
            return getattr(importlib.import_module(mod), name)
        except (AttributeError, ImportError, RuntimeError):
            continue
    return None


if __name__ == "__main__":
    raise SystemExit(main())
