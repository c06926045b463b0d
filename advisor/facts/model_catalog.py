"""The bundled catalog of well-known models' config.json (`rules/catalog/models.json`), for use without network.

Built by `scripts/build_model_catalog.py`: each entry holds a real published config.json, where it was
found and whether it is verbatim, its exact parameter count (a meta-device build with transformers, or
the Hub's safetensors metadata) and its rank (how widely used, most used first). A config from here is
a snapshot taken on the catalog's date, not what the Hub serves today; `load_from_catalog` says so in
the `ModelSource` it returns.

The file is read only on a catalog lookup (a repo id the Hub and its cache cannot answer, or the model
list of the TUI and `advisor models`), never on the path of a local config.json. It is 0.38 MB of
minified JSON, one entry per line (46 KB gzipped), read and parsed in 3-6 ms on a 2-core machine:
gzip would shrink the file but not the load time, which is parsing (benchmarks/bench_catalog.py).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from advisor.core.data import data_path
from advisor.core.frozen import frozen
from advisor.facts.model_source import ModelSource

CATALOG_FILE = "catalog/models.json"
CATALOG_VERSION = 2


@frozen
class CatalogEntry:
    id: str
    """The repo id as the Hub spells it."""
    config: dict[str, Any]
    provenance: str
    """Where the config was found and how it was obtained."""
    verbatim: bool = False
    """The file is the published text (a byte copy); False: rebuilt from another form of the same values."""
    rank: int = 0
    """How widely used it is, 1 = most (an estimate: see the catalog's `rank_basis`)."""
    kind: str = ""
    """text-generation, vision-language, embedding, encoder, seq2seq, speech or quantized."""
    parameters: int | None = None
    """The exact parameter count; None when it could not be counted."""
    parameters_source: str = ""
    """How it was counted, or why it could not be."""
    parameters_note: str = ""


@frozen
class Catalog:
    taken: str
    """The date the catalog was taken (ISO)."""
    entries: dict[str, CatalogEntry]
    """Keyed by lower-case repo id, in rank order."""
    aliases: dict[str, str]
    """Lower-case old or short repo id → lower-case key in `entries`."""

    def lookup(self, repo_id: str) -> CatalogEntry | None:
        key = repo_id.strip().lower()
        return self.entries.get(self.aliases.get(key, key))


@cache
def catalog() -> Catalog:
    """The bundled catalog; an empty one when the file is missing or of another version (not fatal here)."""
    path = data_path(CATALOG_FILE)
    try:
        data = json.loads(path.read_bytes())
        if data.get("catalog_version") != CATALOG_VERSION:
            raise ValueError(f"catalog_version {data.get('catalog_version')!r}")
        entries = {e["id"].lower(): _entry(e) for e in sorted(data["models"], key=lambda e: e["rank"])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Catalog(taken="", entries={}, aliases={})
    aliases = {k: v for k, v in dict(data.get("aliases", {})).items() if v in entries}
    return Catalog(taken=str(data.get("taken", "")), entries=entries, aliases=aliases)


def _find(repo_id: str) -> tuple[str, CatalogEntry] | None:
    """`catalog().lookup(REPO_ID)` and the catalog's date, parsing only the header, the aliases and the entry's
    own line when the file has the layout `scripts/build_model_catalog.py` writes (a header line, one entry a
    line, the aliases last): a few hundred microseconds instead of the whole file's parse. Any other layout,
    a catalog already loaded, or anything unexpected takes the whole parse, so the answer is the same.
    """
    key = repo_id.strip().lower()
    if catalog.cache_info().currsize or not key.isascii():
        return _whole(repo_id)
    try:
        raw = data_path(CATALOG_FILE).read_bytes()
        first, _, rest = raw.partition(b"\n")
        body, _, last = rest.rstrip(b"\n").rpartition(b"\n")
        if not (first.endswith(b'"models":[') and last.startswith(ALIASES_LINE) and last.endswith(b"}")):
            return _whole(repo_id)
        head = json.loads(first + b"]}")
        aliases = json.loads(last[len(ALIASES_LINE):-1])
        if head.get("catalog_version") != CATALOG_VERSION or not isinstance(aliases, dict):
            return _whole(repo_id)
        lowered = body.lower()
        for wanted in dict.fromkeys((str(aliases.get(key, key)), key)):  # an alias whose target is missing: itself
            line = _entry_line(body, lowered, wanted)
            if line is not None:
                e = json.loads(line)
                if str(e["id"]).lower() != wanted:
                    return _whole(repo_id)
                return str(head.get("taken", "")), _entry(e)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return _whole(repo_id)
    return None


ALIASES_LINE = b'],"aliases":'


def _entry_line(body: bytes, lowered: bytes, key: str) -> bytes | None:
    """The one entry line of BODY whose id, lower-cased, is KEY (None when there is none; ValueError for two)."""
    needle = b'"id":' + json.dumps(key).encode()
    at = lowered.find(needle)
    if at < 0:
        return None
    if lowered.find(needle, at + 1) >= 0:
        raise ValueError("two entries of one id")
    start = body.rfind(b"\n", 0, at) + 1
    end = body.find(b"\n", at)
    line = body[start:end if end >= 0 else len(body)].rstrip(b",")
    if not line.startswith(b'{"rank":'):
        raise ValueError("an id outside an entry's first keys")
    return line


def _whole(repo_id: str) -> tuple[str, CatalogEntry] | None:
    cat = catalog()
    entry = cat.lookup(repo_id)
    return None if entry is None else (cat.taken, entry)


def _entry(e: dict[str, Any]) -> CatalogEntry:
    count = e.get("parameters")
    return CatalogEntry(id=str(e["id"]), config=dict(e["config"]), provenance=str(e.get("provenance", "")),
                        verbatim=bool(e.get("verbatim")), rank=int(e["rank"]), kind=str(e.get("kind", "")),
                        parameters=count if isinstance(count, int) and not isinstance(count, bool) else None,
                        parameters_source=str(e.get("parameters_source", "")),
                        parameters_note=str(e.get("parameters_note", "")))


def load_from_catalog(repo_id: str, *, revision: str | None, why: str) -> ModelSource | None:
    """The catalog's config for REPO_ID as a `ModelSource` marked `catalog`, or None when it has none.

    Only the default branch is in the catalog: a request for another revision gets None.
    """
    if revision not in (None, "main"):
        return None
    found = _find(repo_id)
    if found is None:
        return None
    taken, entry = found
    how = "verbatim" if entry.verbatim else "reconstructed, not verbatim"
    note = (f"config.json came from the bundled catalog taken on {taken}, not from the Hub ({why}); "
            f"the Hub may hold a newer version. Catalog source ({how}): {entry.provenance}")
    counted = (f"{entry.parameters:,} parameters ({entry.parameters_source})" if entry.parameters is not None
               else f"parameters unknown: {entry.parameters_source}")
    notes = (note, f"Catalog count: {counted}" + (f"; {entry.parameters_note}" if entry.parameters_note else ""))
    return ModelSource(id=entry.id, config=json.loads(json.dumps(entry.config)), source="catalog",
                       revision=revision or "main", commit=None,
                       parameters_reason="safetensors metadata is read from the Hub, which was not used",
                       notes=notes, catalog_date=taken, exact_parameters=entry.parameters,
                       exact_parameters_source=entry.parameters_source or None,
                       provenance=entry.provenance, verbatim=entry.verbatim)
