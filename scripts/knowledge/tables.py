"""Writing the tables: one file per distinct release, the index, and the cross-release histories."""

from __future__ import annotations

import datetime as _dt
import gzip
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from packaging.version import Version

from knowledge.encode import compact, content, dumps, minor_line
from knowledge.source import FORMAT, YANKED, Json


def message_history(tables: dict[str, Json]) -> Json:
    """`{key: [[kind, file, text, first, last, line in first], ...]}` over the read releases: each
    message with the first and last read release that has it (no gap in between: a message that
    disappears and comes back gets a second row)."""
    versions = sorted(tables, key=Version)
    rows: dict[str, list[list[Any]]] = {}
    open_rows: dict[tuple[str, str, str, str], list[Any]] = {}
    for v in versions:
        seen: set[tuple[str, str, str, str]] = set()
        for key, msgs in tables[v].get("messages", {}).items():
            for kind, place, text in msgs:
                file, _, line = place.rpartition(":")
                ident = (key, kind, file, text)
                seen.add(ident)
                row = open_rows.get(ident)
                if row is None:
                    row = [kind, file, text, v, v, int(line or 0)]
                    rows.setdefault(key, []).append(row)
                    open_rows[ident] = row
                else:
                    row[4] = v
        for ident in [i for i in open_rows if i not in seen]:
            del open_rows[ident]
    return rows


def write_tables(tables: dict[str, Json], out: Path, available: list[str], compress: bool = True) -> Json:
    """Write the index, the model-type and message histories and one file per distinct read release.

    Releases of one minor line whose content is equal share one file (the first one's); `ranges`
    says which patches each file answers: a patch that was not read, between two equal read
    releases, is answered by them (patches between differing ones are always read).
    """
    rel_dir = out / "releases"
    rel_dir.mkdir(parents=True, exist_ok=True)
    for old in rel_dir.glob("*.json*"):
        old.unlink()
    versions = sorted(tables, key=Version)
    by_minor: dict[str, list[str]] = {}
    for v in versions:
        by_minor.setdefault(minor_line(v), []).append(v)
    all_by_minor: dict[str, list[str]] = {}
    for v in sorted(set(available) | set(versions), key=Version):
        all_by_minor.setdefault(minor_line(v), []).append(v)
    shipped = {v: compact(t) for v, t in tables.items()}
    files: dict[str, str] = {}
    minors: Json = {}
    sizes: dict[str, int] = {}
    for minor, read in by_minor.items():
        everything = all_by_minor.get(minor, read)
        groups: list[list[str]] = [[read[0]]]
        for v in read[1:]:
            if content(shipped[v]) == content(shipped[groups[-1][0]]):
                groups[-1].append(v)
            else:
                groups.append([v])
        ranges: list[list[str]] = []
        for i, members in enumerate(groups):
            # A group covers its members and the unread patches up to the next group's first member.
            start = members[0]
            nxt = groups[i + 1][0] if i + 1 < len(groups) else None
            covered = [
                p for p in everything if Version(p) >= Version(start) and (nxt is None or Version(p) < Version(nxt))
            ]
            name = f"{start}.json" + (".gz" if compress else "")
            data = dumps(shipped[start]).encode("utf-8")
            blob = gzip.compress(data, compresslevel=9, mtime=0) if compress else data
            (rel_dir / name).write_bytes(blob)
            sizes[f"releases/{name}"] = len(blob)
            for p in covered:
                files[p] = name
            ranges.append([covered[0], covered[-1], name])
        minors[minor] = {"read": read, "all": everything, "ranges": ranges}
    extra: dict[str, Json] = {
        "model_types_since.json": model_type_history(tables),
        "helpers_since.json": helper_history(tables),
        "messages.json": message_history(tables),
    }
    for name, payload in extra.items():
        text = dumps(payload) + "\n"
        (out / name).write_text(text, encoding="utf-8")
        sizes[name] = len(text.encode("utf-8"))
    index: Json = {
        "format": FORMAT,
        "about": (
            "Knowledge tables of transformers releases, read from the PyPI wheels by "
            "scripts/gen_transformers_table.py "
            "(never importing them). files[version] names the table (under releases/) that answers a "
            "release; a version absent from files was not published when the tables were made, or is "
            "newer than `newest`: say so instead of guessing. Tables of equal content (line numbers "
            "aside) are shared within a minor line: minors[m].ranges = [first patch, last patch, file]. "
            "model_types_since.json: [first read release with the type, first read release without it "
            "again or null]; 'first_read' is the oldest release read, so a type listed from it may be "
            "older; helpers_since.json the same for the public names of transformers.utils. messages.json: "
            "{key: [[kind, file, text, first read release, last, line in first]]}. optimum.json: optimum's "
            "BetterTransformer per optimum release."
        ),
        "generated": _dt.date.today().isoformat(),
        "newest": versions[-1],
        "first_read": versions[0],
        "read": len(versions),
        "releases_read": versions,
        "yanked": [v for v in YANKED if v in tables],
        "files": files,
        "minors": minors,
    }
    index_text = dumps(index) + "\n"
    (out / "index.json").write_text(index_text, encoding="utf-8")
    sizes["index.json"] = len(index_text.encode("utf-8"))
    return {"sizes": sizes, "total": sum(sizes.values()), "files": len(sizes)}


def presence_history(tables: dict[str, Json], names: Callable[[Json], Iterable[str]]) -> Json:
    """`{name: [first read release with it, first read release without it after that or None, ...]}` for the
    names a table holds (`names(table)`); a name that came back later gets more pairs appended."""
    versions = sorted(tables, key=Version)
    out: dict[str, list[str | None]] = {}
    present: set[str] = set()
    for v in versions:
        now = set(names(tables[v]))
        for name in sorted(now - present):
            out.setdefault(name, []).extend([v, None])
        for name in sorted(present - now):
            out[name][-1] = v
        present = now
    return dict(sorted(out.items()))


def model_type_history(tables: dict[str, Json]) -> Json:
    """When each model type is native (`presence_history` of `model_types`)."""
    return presence_history(tables, lambda t: t["model_types"])


def helper_history(tables: dict[str, Json]) -> Json:
    """When each public name of `transformers.utils` is exported (`presence_history` of `helpers.names`)."""
    return presence_history(tables, lambda t: t["helpers"]["names"])


def optimum_ranges(releases: Json) -> list[list[Any]]:
    """`[[first, last, entry], ...]`: consecutive optimum releases whose entries agree (line numbers aside)
    share one row, holding the first one's entry."""
    rows: list[list[Any]] = []
    for version in sorted(releases, key=Version):
        entry = releases[version]
        if rows and content(rows[-1][2]) == content(entry):
            rows[-1][1] = version
        else:
            rows.append([version, version, entry])
    return rows


def write_optimum(releases: Json, out: Path) -> int:
    """Write `optimum.json` (BetterTransformer per optimum release); returns its size in bytes."""
    payload = {
        "format": FORMAT,
        "about": (
            "optimum's BetterTransformer per optimum release, read from the wheels by "
            "scripts/gen_transformers_table.py: ranges = [first, last release read, entry]; entry.supported "
            "= BetterTransformerManager.MODEL_MAPPING keys, cannot = CAN_NOT_BE_SUPPORTED, refused = model "
            "types transform() refuses, refuses_sdpa = it refuses a model whose _attn_implementation is "
            "sdpa, deprecated = [warning, file:line]."
        ),
        "generated": _dt.date.today().isoformat(),
        "read": sorted(releases, key=Version),
        "ranges": optimum_ranges(releases),
    }
    text = dumps(payload) + "\n"
    (out / "optimum.json").write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def load_index(tables_dir: Path) -> Json:
    index: Json = json.loads((tables_dir / "index.json").read_text(encoding="utf-8"))
    return index


def load_table(tables_dir: Path, version: str, index: Json | None = None) -> Json | None:
    """What a consumer does: read the one table that answers `version` (None if the index lacks it)."""
    name = (index or load_index(tables_dir))["files"].get(version)
    if name is None:
        return None
    blob = (tables_dir / "releases" / name).read_bytes()
    data = gzip.decompress(blob) if name.endswith(".gz") else blob
    table: Json = json.loads(data)
    return table


# ---------------------------------------------------------------------------------------------------
# Versions and wheels
# ---------------------------------------------------------------------------------------------------

