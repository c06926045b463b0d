"""A small on-disk cache of probe results: JSON files, written atomically, ignored when corrupt."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """`$ADVISOR_CACHE_DIR`, else `$XDG_CACHE_HOME/advisor`, else `~/.cache/advisor`."""
    explicit = os.environ.get("ADVISOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "advisor"


def cache_read(name: str) -> dict[str, Any]:
    """The cached mapping in file `name`; empty when missing, unreadable or corrupt."""
    try:
        data = json.loads((cache_dir() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def cache_read_bytes(name: str) -> bytes:
    """The bytes of file `name` in the cache folder, if it is this user's and not writable by others (a cache
    another user could write is not trusted); OSError when missing or refused."""
    with (cache_dir() / name).open("rb") as fh:
        st = os.fstat(fh.fileno())
        uid = getattr(os, "getuid", None)
        if (uid is not None and st.st_uid != uid()) or st.st_mode & 0o022:
            raise PermissionError(f"{name} in the cache is not this user's alone")
        return fh.read()


def cache_write_bytes(name: str, data: bytes) -> bool:
    """Write DATA to file `name` by an atomic rename; False when the cache folder cannot be written."""
    import tempfile  # only when writing: its import (random, shutil, weakref) is not on a cached run's path

    target = cache_dir() / name  # NAME may hold one folder level ("config-classes/…")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep(target.parent, f".{target.name}.")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True


STALE_S = 600.0
"""A temporary file of the cache older than this was left by a process that was killed (SIGKILL cannot be
caught; every other exit path removes its own)."""


def _sweep(folder: Path, prefix: str) -> None:
    """Remove the stale temporary files PREFIX* in FOLDER (this user's; errors are ignored)."""
    import time  # only when writing

    now = time.time()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(prefix) and entry.is_file(follow_symlinks=False):
                    try:
                        if now - entry.stat(follow_symlinks=False).st_mtime > STALE_S:
                            os.unlink(entry.path)
                    except OSError:
                        continue
    except OSError:
        return


def cache_write(name: str, updates: dict[str, Any], keep: int = 64) -> bool:
    """Merge `updates` into file `name` (keeping the newest `keep` entries) by an atomic rename."""
    merged = {k: v for k, v in cache_read(name).items() if k not in updates}
    merged.update(updates)
    if len(merged) > keep:
        merged = dict(list(merged.items())[-keep:])
    return cache_write_bytes(name, json.dumps(merged, sort_keys=True).encode("utf-8"))
