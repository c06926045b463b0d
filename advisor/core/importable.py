"""Whether optional packages can be imported here, without importing them."""

from __future__ import annotations


def missing(*names: str) -> list[str]:
    """The NAMES that cannot be imported here (found on the path or not; a broken parent package counts as
    missing)."""
    import importlib.util  # only when an optional face asks: not on advisor recommend's path

    out = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(name)
    return out
