"""The bundled catalog of popular models' config.json (`rules/catalog/models.json`), for use without network.

Built by `scripts/build_model_catalog.py`. A config from here is a snapshot taken on the catalog's date,
not what the Hub serves today; `load_from_catalog` says so in the `ModelSource` it returns.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from advisor.core.data import data_path
from advisor.core.frozen import frozen
from advisor.facts.model_source import ModelSource

CATALOG_FILE = "catalog/models.json"


@frozen
class CatalogEntry:
    id: str
    """The repo id as the Hub spells it."""
    config: dict[str, Any]
    provenance: str
    """Where the config was copied from and how."""


@frozen
class Catalog:
    taken: str
    """The date the catalog was taken (ISO)."""
    entries: dict[str, CatalogEntry]
    """Keyed by lower-case repo id."""
    aliases: dict[str, str]
    """Lower-case old or short repo id → lower-case key in `entries`."""

    def lookup(self, repo_id: str) -> CatalogEntry | None:
        key = repo_id.strip().lower()
        return self.entries.get(self.aliases.get(key, key))


@cache
def catalog() -> Catalog:
    """The bundled catalog; an empty one when the file is missing (a broken install is not fatal here)."""
    path = data_path(CATALOG_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Catalog(taken="", entries={}, aliases={})
    entries = {key: CatalogEntry(e["id"], e["config"], e.get("provenance", ""))
               for key, e in data.get("models", {}).items()}
    return Catalog(taken=str(data.get("taken", "")), entries=entries, aliases=dict(data.get("aliases", {})))


def load_from_catalog(repo_id: str, *, revision: str | None, why: str) -> ModelSource | None:
    """The catalog's config for REPO_ID as a `ModelSource` marked `catalog`, or None when it has none.

    Only the default branch is in the catalog: a request for another revision gets None.
    """
    if revision not in (None, "main"):
        return None
    cat = catalog()
    entry = cat.lookup(repo_id)
    if entry is None:
        return None
    note = (f"config.json came from the bundled catalog taken on {cat.taken}, not from the Hub ({why}); "
            f"the Hub may hold a newer version. Catalog source: {entry.provenance}")
    return ModelSource(id=entry.id, config=json.loads(json.dumps(entry.config)), source="catalog",
                       revision=revision or "main", commit=None,
                       parameters_reason="safetensors metadata is read from the Hub, which was not used",
                       notes=(note,), catalog_date=cat.taken)
