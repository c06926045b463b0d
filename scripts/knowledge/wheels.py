"""Which releases to read, the wheel cache, and reading them all (with the patches between differing ends)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from knowledge.answers import derive_answers
from knowledge.encode import content, minor_line
from knowledge.read import read_release
from knowledge.source import YANKED, Json

__all__ = ["DEFAULT_SINCE", "YANKED", "available_versions", "fetch", "first_and_last", "read_all"]

DEFAULT_SINCE = "4.36"



def available_versions(python: str = sys.executable) -> list[str]:
    """Every transformers version the package index lists (`pip index versions`), oldest first."""
    run = subprocess.run(
        [python, "-m", "pip", "index", "versions", "transformers"], capture_output=True, text=True, check=True
    )
    m = re.search(r"Available versions:\s*(.+)", run.stdout)
    if not m:
        raise RuntimeError(f"cannot read `pip index versions` output: {run.stdout[:200]}")
    out = []
    for v in m.group(1).split(","):
        try:
            out.append(Version(v.strip()))
        except InvalidVersion:
            continue
    return [str(v) for v in sorted(out) if not v.is_prerelease]


def first_and_last(versions: Iterable[str], since: str = DEFAULT_SINCE) -> list[str]:
    """The first and last patch release of every minor line from `since` on."""
    lo = Version(since)
    by_minor: dict[tuple[int, int], list[Version]] = {}
    for v in map(Version, versions):
        if (v.major, v.minor) >= (lo.major, lo.minor):
            by_minor.setdefault((v.major, v.minor), []).append(v)
    out: list[str] = []
    for vs in by_minor.values():
        vs.sort()
        out.extend(str(x) for x in dict.fromkeys([vs[0], vs[-1]]))
    return sorted(out, key=Version)


def fetch(version: str, wheels: Path, python: str = sys.executable) -> Path:
    """The cached wheel for `version`, downloaded with pip when missing."""
    found = sorted(wheels.glob(f"transformers-{version}-*.whl"))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                f"transformers=={version}",
                "-d",
                str(wheels),
            ],
            check=True,
        )
        found = sorted(wheels.glob(f"transformers-{version}-*.whl"))
    return found[0]


def read_all(
    versions: list[str],
    wheels: Path,
    available: list[str],
    bisect: bool = True,
    log: Callable[[str], None] = print,
    cache: Path | None = None,
    refresh: Iterable[str] = (),
) -> dict[str, Json]:
    """Read `versions`; where a minor's first and last read release differ, read its other patches too.

    With `cache`, each table is also written there as `<version>.json` right after it is read, and a
    table already there is reused (delete the directory after changing the reading code).
    """
    tables: dict[str, Json] = {}

    def read(v: str) -> None:
        start = time.perf_counter()
        cached = cache / f"{v}.json" if cache else None
        if cached is not None and cached.is_file():
            tables[v] = json.loads(cached.read_text(encoding="utf-8"))
            if refresh:  # re-read some sections of a cached table (after changing their reader)
                tables[v].update(read_release(fetch(v, wheels), refresh))
            tables[v]["answers"] = derive_answers(tables[v])
            if refresh:
                cached.write_text(json.dumps(tables[v], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            tables[v] = read_release(fetch(v, wheels))
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(tables[v], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        t = tables[v]
        log(
            f"{v}: {len(t['model_types'])} model types, {len(t['attention']['classes'])} classes, "
            f"{len(t['quantization'].get('methods', {}))} quantizers ({time.perf_counter() - start:.1f} s)"
        )

    for v in versions:
        read(v)
    if bisect:
        by_minor: dict[str, list[str]] = {}
        for v in sorted(tables, key=Version):
            by_minor.setdefault(minor_line(v), []).append(v)
        for minor, read_vs in by_minor.items():
            if len(read_vs) < 2 or content(tables[read_vs[0]]) == content(tables[read_vs[-1]]):
                continue
            for v in available:
                if minor_line(v) == minor and v not in tables:
                    read(v)
    return tables

