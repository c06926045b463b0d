"""Requirements: the wheel's METADATA pins and `dependency_versions_table.py`."""

from __future__ import annotations

import re

from knowledge.source import Json, Source, dict_items, render, top_assign

# ---------------------------------------------------------------------------------------------------

DEP_NAMES = (
    "torch", "accelerate", "huggingface-hub", "tokenizers", "safetensors", "optimum", "kernels", "peft",
    "bitsandbytes", "deepspeed", "numpy", "packaging", "gguf", "torchao", "python",
)  # fmt: skip


def read_requires(src: Source) -> Json:
    """`python` and core dependency pins from METADATA; the setup pins of selected packages."""
    out: Json = {}
    core: dict[str, str] = {}
    torch_extra: dict[str, str] = {}
    for line in src.metadata.splitlines():
        if line.startswith("Requires-Python:"):
            out["python"] = line.split(":", 1)[1].strip()
        elif line.startswith("Requires-Dist:"):
            spec = line.split(":", 1)[1].strip()
            req, _, marker = spec.partition(";")
            m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*\(?([^)]*)\)?", req)
            if not m:
                continue
            name, pins = m.group(1).lower(), m.group(3).strip()
            if not marker.strip():
                core[name] = pins
            elif re.search(r"extra\s*==\s*['\"]torch['\"]", marker):
                torch_extra[name] = pins
    if core:
        out["core"] = core
    if torch_extra:
        out["extra_torch"] = torch_extra
    deps = top_assign(src.ast("dependency_versions_table.py"), "deps")
    table = {k: render(v) for k, v in dict_items(deps).items()}
    picked = {k: table[k] for k in DEP_NAMES if k in table}
    if picked:
        out["setup"] = picked
    return out

