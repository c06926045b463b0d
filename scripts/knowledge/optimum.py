"""optimum's BetterTransformer, read from the optimum wheels: which model types it converts and what it refuses.

`model.to_bettertransformer()` (transformers 4.x) hands the model to `optimum.bettertransformer`. What that does
is optimum's code, release by release: `BetterTransformerManager.MODEL_MAPPING` (the model types it converts),
`CAN_NOT_BE_SUPPORTED`, and the refusals at the top of `BetterTransformer.transform` (model types transformers
runs natively with sdpa, any model already using sdpa, the deprecation warning). optimum 2.0 has no
`bettertransformer` package at all.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.version import Version

from knowledge.messages import LOG_METHODS
from knowledge.source import Json, call_name, const_str, dict_keys, find_class, find_def, render, str_list

OPTIMUM_RELEASES = (
    *("1.14.0", "1.14.1", "1.15.0", "1.16.0", "1.16.2", "1.17.0", "1.17.1", "1.18.0", "1.18.1", "1.19.0", "1.19.2"),
    *("1.20.0", "1.21.0", "1.21.4", "1.22.0", "1.23.0", "1.23.1", "1.23.2", "1.23.3", "1.24.0", "1.25.0", "1.25.3"),
    *("1.26.0", "1.26.1", "1.27.0", "2.0.0"),
)
"""optimum releases read: every 1.x patch from 1.14 (the releases used with transformers 4.36+) whose line
changes BetterTransformer, the first and last of the others, and 2.0.0 (without BetterTransformer)."""

TRANSFORMATION = "optimum/bettertransformer/transformation.py"
MANAGER = "optimum/bettertransformer/models/__init__.py"


def read_optimum(wheel: Path) -> Json:
    """What one optimum wheel's BetterTransformer converts and refuses (read with `ast`, never imported)."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        if TRANSFORMATION not in names:
            return {"bettertransformer": False}
        transformation = ast.parse(zf.read(TRANSFORMATION).decode("utf-8"))
        manager = ast.parse(zf.read(MANAGER).decode("utf-8")) if MANAGER in names else None
    out: Json = {"bettertransformer": True}
    cls = find_class(manager, "BetterTransformerManager")
    for key, attr in (("supported", "MODEL_MAPPING"), ("cannot", "CAN_NOT_BE_SUPPORTED")):
        for stmt in cls.body if cls else []:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets):
                out[key] = sorted(dict_keys(stmt.value))
    bt = find_class(transformation, "BetterTransformer")
    transform = find_def(bt.body, "transform") if bt else None
    refused: list[str] = []
    for node in ast.walk(transform) if transform else []:
        if not isinstance(node, ast.If) or not any(isinstance(s, ast.Raise) for s in node.body):
            continue
        test = ast.unparse(node.test)
        if "model_type in" in test and isinstance(node.test, ast.Compare):
            items = str_list(node.test.comparators[0])
            if items:
                refused.extend(items)
                out["refused_where"] = f"{TRANSFORMATION}:{node.lineno}"
        elif "_attn_implementation" in test and "sdpa" in test:
            out["refuses_sdpa"] = f"{TRANSFORMATION}:{node.lineno}"
    if refused:
        out["refused"] = sorted(refused)
    for stmt in transform.body if transform else []:
        call = stmt.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else None
        if call is not None and call_name(call) in LOG_METHODS and call.args:
            text = render(call.args[0])
            if "deprecated" in text:
                out["deprecated"] = [text, f"{TRANSFORMATION}:{stmt.lineno}"]
    for deco in transform.decorator_list if transform else []:
        if isinstance(deco, ast.Call) and call_name(deco) == "check_if_pytorch_greater" and deco.args:
            out["torch_above"] = const_str(deco.args[0])
    return out


def fetch_optimum(version: str, wheels: Path, python: str = sys.executable) -> Path:
    """The cached optimum wheel for `version`, downloaded with pip when missing."""
    found = sorted(wheels.glob(f"optimum-{version}-*.whl"))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        f"optimum=={version}", "-d", str(wheels)], check=True)
        found = sorted(wheels.glob(f"optimum-{version}-*.whl"))
    return found[0]


def read_optimum_releases(versions: Iterable[str], wheels: Path, log: Callable[[str], None] = print) -> Json:
    """`{release: entry}` for the optimum releases named (oldest first)."""
    out: Json = {}
    for version in sorted(versions, key=Version):
        out[version] = read_optimum(fetch_optimum(version, wheels))
        log(f"optimum {version}: bettertransformer {out[version]['bettertransformer']}, "
            f"{len(out[version].get('supported', []))} model types")
    return out
