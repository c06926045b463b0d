"""Find a model's config.json: a local path, the Hub, its cache, or the bundled catalog.

The order for a repo id: the Hub (at the revision, resolved to its commit); when the Hub cannot be
reached or offline mode is on, the local huggingface_hub cache; then the bundled catalog (default branch
only). A repo the Hub says is gated, private or missing is reported, never replaced by the catalog.
`huggingface_hub` is imported only on the repo-id path.
"""

from __future__ import annotations

from advisor.core.errors import FactsUnavailable
from advisor.facts.model_source import ModelSource, is_local, load_local


def load_model(model: str, *, revision: str | None = None, offline: bool = False) -> ModelSource:
    """Load MODEL (a path to config.json, a model folder, or a Hub repo id) at REVISION."""
    if is_local(model):
        return load_local(model)
    from advisor.facts.hub import HubAccessDenied, HubUnreachable, load_from_hub  # only on the repo-id path
    from advisor.facts.model_catalog import catalog, load_from_catalog  # as above: a local config needs neither

    try:
        return load_from_hub(model, revision=revision, offline=offline)
    except HubUnreachable as exc:
        found = load_from_catalog(model, revision=revision, why=str(exc))
        if found is not None:
            return found
        fix = "go online once so the cache holds it, or pass the path of a local config.json or model folder"
        if revision not in (None, "main") and catalog().lookup(model) is not None:
            raise FactsUnavailable(f"{exc}; the bundled catalog holds only the main branch of {model}: "
                                   f"{fix}") from None
        raise FactsUnavailable(f"{exc}; {model} is not in the bundled catalog either: {fix}") from None
    except HubAccessDenied as exc:
        if catalog().lookup(model) is not None:
            raise HubAccessDenied(f"{exc}; or pass --offline to use the bundled catalog's copy of its "
                                  "config") from None
        raise
