"""Flag specs (`rules/flags.toml`): candidates in order of preference, and the keyword per version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.core.errors import InputError
from advisor.core.frozen import frozen
from advisor.core.logic import Unknown
from advisor.engine.expr import Expr, ExprError, compile_expr
from advisor.engine.namespace import fact_kind
from advisor.facts.release_facts import keywords_every_release

FLAG_KEYS = {"name", "title", "kwargs", "values", "first", "omit", "omit_first", "relevant", "code", "suggest",
             "docs", "aliases", "check_only"}


FLAG_DOCS = ("explanation", "analogy", "use_case", "compatibility")
"""A flag's documentation, in this order (the parsed-TOML cache does not keep key order)."""


@frozen
class FlagSpec:
    """One `from_pretrained` flag the resolver decides."""

    name: str
    title: str
    kwargs: tuple[str, ...]
    """The keywords that pass this flag, preferred first; the target's knowledge table says which one it
    takes (`kwarg`). Empty: the flag's name, in every version (remote-code config switches, for one)."""
    values: tuple[Any, ...]
    first: tuple[str, ...]
    """Facts whose values are tried before `values` (the user's request, the checkpoint's own); those of
    `memory.*` facts (a GPU index, a max_memory map) are computed by the plan and need not be in `values`."""
    omit: bool
    omit_first: bool
    """Leaving the flag out is preferred over every value."""
    check_only: bool
    """Never recommended; known so that check mode recognises it."""
    relevant: Expr | None
    code: str | None
    """How a value is written in Python: a format such as `torch.{value}` (for a string value),
    `call:NAME` (a dict as `NAME(key=value, ...)`, `*_dtype` keys as torch dtypes), `int_keys` (a dict
    whose digit keys are GPU indices); None means the JSON form."""
    suggest: frozenset[str]
    """Values worth an install suggestion when only the environment stands in the way."""
    aliases: tuple[str, ...]
    """Other keywords users pass for it (checked, never emitted)."""
    docs: dict[str, str]

    def kwarg(self, ns: Mapping[str, Any]) -> str | None:
        """The keyword the target transformers takes for this flag: the first of `kwargs` its from_pretrained
        consumes without a deprecation warning, else the first it consumes at all; None when it consumes none
        (the flag is then never emitted). Read from `transformers.keywords` (the target's table); when the
        target's release is unknown, the first of `kwargs` that every release read accepts."""
        if not self.kwargs:
            return self.name
        accepted = ns.get("transformers.keywords")
        if isinstance(accepted, Unknown):  # the target's release is unknown: a keyword every release takes
            every = keywords_every_release()
            return next((k for k in self.kwargs if k in every), self.kwargs[0])
        if not isinstance(accepted, frozenset):
            return self.kwargs[0]
        deprecated = ns.get("transformers.keywords_deprecated")
        old = deprecated if isinstance(deprecated, frozenset) else frozenset()
        current = [k for k in self.kwargs if k in accepted]
        return next((k for k in current if k not in old), current[0] if current else None)

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every keyword a user may pass for this flag (any version's name, and aliases)."""
        return tuple(dict.fromkeys((self.name, *self.kwargs, *self.aliases)))

    def candidates(self, ns: Mapping[str, Any]) -> list[Any]:
        """Values in order of preference, without repeats."""
        out: list[Any] = [None] if self.omit_first else []
        for fact in self.first:
            value = ns.get(fact)
            if value is None or isinstance(value, Unknown) or value == "auto":
                continue
            if self.values and value not in self.values and not fact.startswith("memory."):
                continue
            out.append(value)
        out.extend(self.values)
        if self.omit:
            out.append(None)
        seen: list[Any] = []
        for v in out:
            if v not in seen:
                seen.append(v)
        return seen

    def to_python(self, value: Any) -> Any:
        """The value as `from_pretrained` takes it from Python: GPU indices as ints (`{0: "20GiB"}`); the
        JSON form otherwise (dtype names are accepted as strings by every supported release)."""
        if self.code == "int_keys" and isinstance(value, dict):
            return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in value.items()}
        return value

    def python(self, value: Any) -> str:
        code = self.code
        if code is not None and code.startswith("call:") and isinstance(value, dict):
            def arg(key: str, item: Any) -> str:
                dtype = key.endswith("_dtype") and isinstance(item, str)
                return f"{key}={'torch.' + item if dtype else repr_json(item)}"

            return f"{code[5:]}(" + ", ".join(arg(k, v) for k, v in value.items()) + ")"
        if code == "int_keys" and isinstance(value, dict):
            return "{" + ", ".join(f"{k if str(k).isdigit() else repr_json(k)}: {repr_json(v)}"
                                   for k, v in value.items()) + "}"
        if code is not None and "{value}" in code and isinstance(value, str):
            return code.format(value=value)
        return repr_json(value)

    def packed(self) -> tuple[Any, ...]:
        """The spec as plain data for the rule pack."""
        return (self.name, self.title, self.kwargs, self.values, self.first, self.omit,
                self.omit_first, self.check_only, self.relevant.packed() if self.relevant else None, self.code,
                self.suggest, self.aliases, self.docs)

    @classmethod
    def unpack(cls, data: tuple[Any, ...]) -> FlagSpec:
        name, title, kwargs, values, first, omit, omit_first, check_only, relevant, code, suggest, aliases, docs = data
        return cls(name, title, tuple(kwargs), values, first, omit, omit_first, check_only,
                   Expr.unpack(relevant) if relevant else None, code, suggest, aliases, docs)

    @property
    def imports(self) -> tuple[str, ...]:
        """What the Python form needs from transformers."""
        return (self.code[5:],) if self.code and self.code.startswith("call:") else ()


def repr_json(value: Any) -> str:
    """Python source for a JSON value."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{repr_json(k)}: {repr_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(repr_json(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def parse_flags(name: str, data: Mapping[str, Any]) -> tuple[FlagSpec, ...]:
    """The flag specs of a parsed flags.toml (NAME is the file's name), in decision order."""
    entries = data.get("flag")
    if set(data) - {"flag"} or not isinstance(entries, list):
        raise InputError(f"{name}: expected only [[flag]] tables")
    return tuple(_parse(e, name, i) for i, e in enumerate(entries))


def _parse(entry: Any, file: str, index: int) -> FlagSpec:
    name = entry.get("name") if isinstance(entry, dict) else None
    where = f"{file}: flag {name or f'#{index + 1}'}"
    if not isinstance(entry, dict) or not isinstance(name, str):
        raise InputError(f"{where}: needs a `name`")
    extra = set(entry) - FLAG_KEYS
    if extra:
        raise InputError(f"{where}: unknown keys {sorted(extra)}")
    kwargs = entry.get("kwargs", [])
    if not isinstance(kwargs, list) or not all(isinstance(k, str) and k.isidentifier() for k in kwargs):
        raise InputError(f"{where}: `kwargs` must be a list of keyword names, preferred first (the target's "
                         "knowledge table says which it takes)")
    for fact in entry.get("first", []):
        if fact_kind(fact) is None:
            raise InputError(f"{where}: `first` names unknown fact {fact!r}")
    try:
        relevant = compile_expr(entry["relevant"], fact_kind) if entry.get("relevant") else None
    except ExprError as exc:
        raise InputError(f"{where}: relevant: {exc}") from None
    docs = entry.get("docs", {})
    for key in FLAG_DOCS:
        if not isinstance(docs.get(key), str):
            raise InputError(f"{where}: docs.{key} is missing")
    return FlagSpec(
        name=name, title=str(entry.get("title", name)), kwargs=tuple(kwargs),
        values=tuple(entry.get("values", [])), first=tuple(entry.get("first", [])),
        omit=bool(entry.get("omit", False)), omit_first=bool(entry.get("omit_first", False)),
        check_only=bool(entry.get("check_only", False)), relevant=relevant, code=entry.get("code"),
        suggest=frozenset(entry.get("suggest", [])), aliases=tuple(entry.get("aliases", [])),
        docs={k: " ".join(str(docs[k]).split()) for k in FLAG_DOCS if k in docs},
    )
