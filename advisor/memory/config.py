"""Reading sizes out of a config.json: integers under their many names, or a clear reason why not."""

from __future__ import annotations

from typing import Any


class MissingSize(Exception):
    """A size the count needs is not in config.json (the figure is then unknown, never guessed)."""


class Cfg:
    """A config dict with typed getters; `need` raises MissingSize naming the keys it looked for."""

    def __init__(self, data: dict[str, Any], where: str = "config.json") -> None:
        self.data, self.where = data, where

    def has(self, *keys: str) -> bool:
        return any(self.data.get(k) is not None for k in keys)

    def opt(self, *keys: str, default: int | None = None) -> int | None:
        for key in keys:
            value = self.data.get(key)
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and value >= 0:
                return value
        return default

    def need(self, *keys: str) -> int:
        value = self.opt(*keys)
        if value is None:
            raise MissingSize(f"{self.where} has none of {', '.join(f'`{k}`' for k in keys)}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        return value if isinstance(value, bool) else default

    def sub(self, key: str) -> Cfg | None:
        value = self.data.get(key)
        return Cfg(value, f"{self.where} `{key}`") if isinstance(value, dict) else None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)
