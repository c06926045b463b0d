"""Where a model's config.json comes from: a local file or folder (the Hub lives in `hub.py`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from advisor.core.errors import InputError
from advisor.core.frozen import field, frozen
from advisor.core.readfile import MAX_SOURCE_BYTES, load_json, read_bytes, show
from advisor.facts.safetensors_local import local_parameters

MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""A config.json larger than this is refused: real ones are a few KiB."""


@frozen
class ModelSource:
    """A model's config.json and what came with it."""

    id: str
    """Hub repo id, or the path the user gave."""
    config: dict[str, Any]
    source: str
    """`local`, `hub`, `cache` or `catalog`."""
    revision: str | None = None
    """The revision as requested."""
    commit: str | None = None
    """The commit the revision resolved to."""
    files: dict[str, str] = field(default_factory=dict)
    """Remote code: file name to source text (read, never executed)."""
    parameters: dict[str, int] | None = None
    """Parameter count per dtype from safetensors metadata; None when unknown."""
    parameters_reason: str | None = None
    """Why `parameters` is unknown."""
    parameters_source: str | None = None
    """Where `parameters` was read: the Hub's safetensors metadata or the local files' headers."""
    notes: tuple[str, ...] = ()
    catalog_date: str | None = None
    exact_parameters: int | None = None
    """The exact parameter total from the source itself (the bundled catalog's count); None when it has none."""
    exact_parameters_source: str | None = None
    """How `exact_parameters` was counted, or why the source could not count it."""
    provenance: str | None = None
    """Where a catalog config was found and how it was obtained."""
    verbatim: bool | None = None
    """Whether a catalog config is the published text (None: not from the catalog)."""


def parse_config(text: str | bytes, where: str) -> dict[str, Any]:
    """Parse config.json text into a dict, with one clear message for each way it can be wrong."""
    if len(text) > MAX_CONFIG_BYTES:
        raise InputError(f"{where}: config.json is {len(text)} bytes, more than the {MAX_CONFIG_BYTES} allowed")
    data = load_json(text, f"{where}: config.json")
    if not isinstance(data, dict):
        raise InputError(f"{where}: config.json must be a JSON object, not {_json_kind(data)}")
    return data


def _json_kind(value: object) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def is_local(model: str) -> bool:
    """Whether MODEL names a local path rather than a Hub repo id."""
    try:
        exists = Path(model).exists()
    except (OSError, ValueError):  # too long, a NUL, characters the file system cannot encode
        exists = False
    return exists or model.endswith(".json") or model.startswith((".", "/", "~"))


def load_local(model: str) -> ModelSource:
    """Read config.json from a file, or from a folder that holds one (with remote code beside it)."""
    try:
        path = Path(model).expanduser()
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except (OSError, RuntimeError, ValueError):  # an unknown ~user, a path too long or with a NUL
        raise InputError(f"{show(model, 200)}: not a path that can be read") from None
    if is_dir:
        folder, cfg = path, path / "config.json"
    else:
        folder, cfg = path.parent, path
    if not exists or (is_dir and not _exists(cfg)):
        raise InputError(f"{show(model, 200)}: no such file" if not is_dir
                         else f"{show(model, 200)}: the folder has no config.json")
    config = parse_config(read_bytes(cfg, "config.json", MAX_CONFIG_BYTES), show(cfg, 200))
    files: dict[str, str] = {}
    if is_dir:
        for name in sorted(_remote_code_files(config)):
            f = folder / name
            if _exists(f):
                try:
                    raw = read_bytes(f, "the remote code file", MAX_SOURCE_BYTES)
                except InputError:
                    continue  # an unreadable remote-code file is read as absent: the code is unknown
                files[name] = raw.decode("utf-8", errors="replace")
    parameters, reason = local_parameters(folder)
    return ModelSource(id=model, config=config, source="local", files=files, parameters=parameters,
                       parameters_reason=reason, parameters_source="safetensors headers" if parameters else None)


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except (OSError, ValueError):
        return False


def _remote_code_files(config: dict[str, Any]) -> set[str]:
    """The `.py` files that `auto_map` points at inside the same repo (checked module names only)."""
    if not isinstance(config.get("auto_map"), dict):
        return set()
    from advisor.facts.remote_code import remote_code_refs  # ast only for folders with remote code

    return {ref.file for ref in remote_code_refs(config) if ref.repo is None}


def finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
