"""Check mode's reading of the keywords passed: which ones the target transformers does not consume.

A keyword `from_pretrained` does not name, pop or ignore, that the Auto classes do not take and that the
config does not consume goes to the model's config; unless the config has such an attribute (a key of
config.json, or a default of its config class), the model's `__init__` raises TypeError. The target's
knowledge table gives the keywords (`transformers.keywords`, `_ignored`, `_deprecated`); the config's keys
come from config.json. Flags advisor decides have their own rules and are left out here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from advisor.core.logic import Unknown

SETS = ("kwargs.unknown", "kwargs.typos", "kwargs.ignored", "kwargs.deprecated")
"""The facts this module fills; in recommend mode (no keywords passed) each is empty."""


def keyword_facts(ns: Mapping[str, Any], passed: Iterable[str], flag_keywords: set[str]) -> dict[str, Any]:
    """`kwargs.*` for the keywords passed that are not flags advisor decides."""
    sets: list[frozenset[str]] = []
    for key in ("keywords", "keywords_ignored", "keywords_deprecated"):
        value = ns.get(f"transformers.{key}")
        if not isinstance(value, frozenset):
            reason = value.reason if isinstance(value, Unknown) else "the target's keywords are unknown"
            return {name: Unknown(name, reason) for name in SETS}
        sets.append(value)
    accepted, ignored, deprecated = sets
    messages = ns.get("transformers.deprecations")
    notes: dict[str, str] = messages if isinstance(messages, dict) else {}
    config = ns.get("model.config_keys")
    config_keys: frozenset[str] = config if isinstance(config, frozenset) else frozenset()
    known = accepted | config_keys | flag_keywords
    unknown: set[str] = set()
    typos: set[str] = set()
    dropped: set[str] = set()
    warned: set[str] = set()
    for key in passed:
        if key in deprecated:
            warned.add(f"{key} ({notes.get(key, 'deprecated')})")
        elif key in ignored:
            dropped.add(key)
        elif key not in known:
            close = closest(key, known)
            if close:
                typos.add(f"{key} (did you mean {close}?)")
            else:
                unknown.add(key)
    return {"kwargs.unknown": frozenset(unknown), "kwargs.typos": frozenset(typos),
            "kwargs.ignored": frozenset(dropped), "kwargs.deprecated": frozenset(warned)}


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The known keyword a misspelt one most likely meant (difflib ratio 0.85 or more), or None."""
    import difflib  # only when a keyword is not known

    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.85)
    return found[0] if found else None
