"""Exact parameter counts of a local model folder from its safetensors headers, never reading the tensors.

A `.safetensors` file starts with an unsigned little-endian 64-bit header length and that many bytes of
JSON: per tensor its dtype, shape and byte offsets (https://github.com/huggingface/safetensors, "Format").
Only those bytes are read; a header longer than the format's own limit (100 MB) or one that is not the
JSON it should be makes the count unknown with the reason. The files are those the folder's
`model.safetensors.index.json` names, else every `*.safetensors` file in it.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

MAX_HEADER_BYTES = 100_000_000
"""safetensors refuses headers above 100 MB (its `MAX_HEADER_SIZE`)."""
MAX_FILES = 4096


def _files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            names = sorted({str(v) for v in (data.get("weight_map") or {}).values()})
        except (OSError, ValueError, AttributeError):
            names = []
        if names and all("/" not in n and "\\" not in n for n in names):
            return [folder / n for n in names]
    return sorted(folder.glob("*.safetensors"))


def header(path: Path) -> dict[str, object]:
    """The JSON header of one safetensors file (ValueError with the reason when it cannot be read)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) != 8:
                raise ValueError(f"{path.name} is shorter than a safetensors header")
            (size,) = struct.unpack("<Q", head)
            if size > MAX_HEADER_BYTES:
                raise ValueError(f"{path.name} declares a {size}-byte header, above the format's 100 MB limit")
            raw = fh.read(size)
    except OSError as exc:
        raise ValueError(f"{path.name} cannot be read ({exc.strerror})") from None
    if len(raw) != size:
        raise ValueError(f"{path.name} ends inside its header")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{path.name} has a header that is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} has a header that is not a JSON object")
    return data


def local_parameters(folder: Path) -> tuple[dict[str, int] | None, str | None]:
    """Parameters per dtype over the folder's safetensors files (as the Hub's metadata gives them), or None
    with the reason."""
    files = _files(folder)
    if not files:
        return None, "the folder holds no *.safetensors files"
    if len(files) > MAX_FILES:
        return None, f"the folder holds {len(files)} safetensors files, more than the {MAX_FILES} read"
    counts: dict[str, int] = {}
    for path in files:
        if not path.is_file():
            return None, f"{path.name}, named by model.safetensors.index.json, is missing"
        try:
            data = header(path)
        except ValueError as exc:
            return None, str(exc)
        for name, info in data.items():
            if name == "__metadata__":
                continue
            if not isinstance(info, dict) or not isinstance(info.get("dtype"), str) \
                    or not isinstance(info.get("shape"), list) \
                    or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in info["shape"]):
                return None, f"{path.name}: tensor {name!r} has no dtype and shape"
            counts[info["dtype"]] = counts.get(info["dtype"], 0) + math.prod(info["shape"])
    if not counts:
        return None, "the safetensors headers list no tensors"
    return counts, None
