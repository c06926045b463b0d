"""Find a model's config.json: a local path, the Hub, its cache, or the bundled catalog."""

from __future__ import annotations

from advisor.errors import InputError
from advisor.facts.model_source import ModelSource, is_local, load_local


def load_model(model: str, *, revision: str | None = None, offline: bool = False) -> ModelSource:
    """Load MODEL (a path to config.json, a model folder, or a Hub repo id) at REVISION."""
    if is_local(model):
        return load_local(model)
    raise InputError(f"{model}: not a local file or folder")
