"""Calls into a vendor's GPU library (NVML, AMD SMI): a call that fails is the reason a fact is unknown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.core.fact import Fact


class CallFailed(Exception):
    """A library call failed; the message is the reason a fact is unknown."""


def call(lib: Any, fn: str, reason: Callable[[BaseException, str], str], *args: Any) -> Any:
    """LIB.FN(*ARGS), its failure raised as CallFailed with REASON(exception, FN)."""
    try:
        return getattr(lib, fn)(*args)
    except Exception as exc:
        raise CallFailed(reason(exc, fn)) from exc


def fact(read: Callable[[], Any], source: str) -> Fact[Any]:
    """READ()'s value as a fact from SOURCE, or unknown with the reason a library call in it failed."""
    try:
        return Fact.of(read(), source)
    except CallFailed as exc:
        return Fact.unknown(str(exc), source)
