"""Bundled data (rule files, generated tables, the model catalog): where it lives and how it is parsed.

The data lives in `rules/` at the top of a source checkout and is shipped inside the wheel as
`advisor/rules`; `data_dir` is the one place that finds it. It resolves the package's own folder, which is
what `importlib.resources.files("advisor")` returns for an installed package (tests/test_wheel.py checks
the two agree), without importing `importlib.resources`: that import (tempfile, random, zipfile,
threading) costs about 18 ms of CPU, a fifth of `advisor recommend`. Parsed TOML is cached as
marshal keyed by path, size and modification time (tomllib is pure Python); JSON files are parsed once per
process. The rule files themselves are compiled into the rule pack (`advisor.engine.pack`).
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from advisor.core.cache import cache_read_bytes, cache_write_bytes
from advisor.core.errors import InputError


@cache
def data_dir() -> Path:
    """The bundled data folder: `advisor/rules` in an installed wheel, else `rules/` beside the package."""
    import advisor  # the root package, which imports nothing: where this installation lives

    package = Path(os.path.dirname(os.path.abspath(advisor.__file__)))
    inside = package / "rules"
    return inside if inside.is_dir() else package.parent / "rules"


def data_path(name: str) -> Path:
    """A bundled data file by its name relative to the data folder (`gpus.toml`, `catalog/models.json`)."""
    return data_dir() / name


def file_stamp(path: Path) -> str:
    """What identifies a file's content for a cache: its resolved path, size and modification time."""
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def read_toml(path: Path) -> dict[str, Any]:
    """A bundled TOML file as a dict, parsed once per change of the file and kept (marshal) in the cache;
    an unreadable or invalid file is an InputError."""
    try:
        key = file_stamp(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    name = f"toml-{zlib.crc32(key.encode()):08x}.bin"  # a name, not a guard: the stamp inside is checked
    cached = _cached(name)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == key and isinstance(cached[1], dict):
        return cached[1]
    import tomllib  # only when the file changed: tomllib is pure Python

    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    with contextlib.suppress(ValueError):
        cache_write_bytes(name, marshal.dumps((key, data)))
    return data


def _cached(name: str) -> Any:
    try:
        return marshal.loads(cache_read_bytes(name))
    except (OSError, EOFError, ValueError, TypeError):
        return None


@cache
def read_json(name: str) -> Any:
    """A bundled JSON file by name, parsed once per process."""
    with data_path(name).open(encoding="utf-8") as fh:
        return json.load(fh)
