"""Fixes that hold on the facts: a fix never proposes a value of its flag that fails here too.

A rule's fix is written once for every machine ("Use flash_attention_2 or sdpa."). On a T4
flash_attention_2 fails as well, so proposing it sends the user into the next failure. `FixVetter.vet` tries
each value of the flag that a fix names against the rules about that flag on these facts (unknown is not a
pass) and `without_rejected` drops the alternatives that name a failing one: a fix is a sentence of
alternatives split at " or " and ", or " outside parentheses and quotes, an "(or …)" aside is an
alternative of its own, and the verb of a dropped first alternative carries over to the next ("Use sdpa.").
When no alternative is left, the fix proposes the first value of the flag that works here, or says that
none is known to.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from advisor.core.frozen import frozen, replace
from advisor.core.logic import Tri
from advisor.core.once import once_per
from advisor.core.results import Finding
from advisor.engine.expr import Scope
from advisor.engine.flags import FlagSpec
from advisor.engine.memo import Key, value_key, values_of
from advisor.engine.rules import Rule

_SEPARATOR = re.compile(r",\s+or\s+|\s+or\s+")
_ASIDE = re.compile(r"\s*\(or\s[^()]*\)")
_VERB = re.compile(r"\b(?P<verb>[Uu]se|[Ll]oad in|[Ss]et)\s+(\w+=)?$")


@cache
def _mention(value: str) -> re.Pattern[str]:
    """VALUE as a word of its own, optionally quoted (`sdpa`, `"sdpa"`, not `sdpa_paged` or `flash-attn2x`)."""
    return re.compile(r'(?<![\w/.-])"?' + re.escape(value) + r'"?(?![\w/-])')


@lru_cache(maxsize=4096)
def _mentioned(text: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """The VALUES that TEXT names, in order (a policy matrix vets the same fix on many targets)."""
    return tuple(v for v in values if _mention(v).search(text))


def _top_level_separators(text: str) -> list[re.Match[str]]:
    """The " or " / ", or " separators of TEXT that are outside parentheses and double quotes."""
    depth, quoted, inside = 0, False, []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "(" and not quoted:
            depth += 1
        elif ch == ")" and not quoted:
            depth = max(depth - 1, 0)
        inside.append(depth > 0 or quoted)
    return [m for m in _SEPARATOR.finditer(text) if not inside[m.start()]]


def _names_any(text: str, patterns: list[re.Pattern[str]]) -> bool:
    return any(p.search(text) for p in patterns)


def without_rejected(fix: str, rejected: Collection[str], values: Collection[str]) -> str:
    """FIX without the alternatives that name one of the REJECTED values ("" when none is left).

    VALUES are every candidate value of the flags concerned (they tell where a dropped alternative's verb
    ends: "Use " before "sdpa", 'Use attn_implementation=' before '"eager"'). FIX comes back unchanged
    when it names no rejected value.
    """
    bad = [_mention(v) for v in rejected if v]
    named = [v for v, p in zip(rejected, bad, strict=True) if p.search(fix)]
    if not named:
        return fix
    body, end = (fix[:-1], ".") if fix.endswith(".") else (fix, "")
    cuts = _top_level_separators(body)
    pieces: list[tuple[str, str]] = []  # (separator before it, the alternative)
    start, sep = 0, ""
    for m in cuts:
        pieces.append((sep, body[start:m.start()]))
        start, sep = m.end(), m.group(0)
    pieces.append((sep, body[start:]))
    kept: list[tuple[int, str, str]] = []
    for i, (sep, piece) in enumerate(pieces):
        piece = _ASIDE.sub(lambda a: "" if _names_any(a.group(0), bad) else a.group(0), piece)
        if not _names_any(piece, bad):
            kept.append((i, sep, piece.strip()))
    if not kept:
        return ""
    first = kept[0][2]
    if kept[0][0] != 0:
        first = _carry_verb([p for _, p in pieces[: kept[0][0]]], first, values)
    return first + "".join(sep + piece for _, sep, piece in kept[1:]) + end


def _carry_verb(dropped: list[str], first: str, values: Collection[str]) -> str:
    """FIRST led by the verb of the alternative dropped just before it, when FIRST continues that sentence:
    a value takes the whole verb phrase ("Use " + "sdpa", 'Use attn_implementation=' + '"eager"'), an
    article the verb alone ("Use " + "a transformers version …"); anything else starts a sentence itself."""
    lead = None
    for piece in reversed(dropped):
        mentions = [m.start() for v in values if v for m in [_mention(v).search(piece)] if m]
        found = _VERB.search(piece[: min(mentions)]) if mentions else None
        if found:
            lead = found
            break
    value = next((m.group(0) for v in values if v for m in [_mention(v).match(first)] if m), None)
    if lead is not None and value is not None:
        phrase = lead.group(0)
        phrase = phrase[:1].upper() + phrase[1:]
        if phrase.endswith("=") and not value.startswith('"'):
            first = f'"{value}"' + first[len(value):]
        return phrase + first
    if lead is not None and re.match(r"(a|an|the)\s", first):
        verb = lead.group("verb")
        return verb[:1].upper() + verb[1:] + " " + first
    return first[:1].upper() + first[1:]


@frozen
class _About:
    """The rejecting rules about a flag, the names their requirements read but memory figures, and whether
    they read any."""

    rules: tuple[Rule, ...]
    names: tuple[str, ...]
    memory: bool
    at: dict[str, int]
    """Where each of NAMES is in them."""


_ABOUT: dict[tuple[int, str], tuple[Sequence[Rule], _About]] = {}
_HOLDS: dict[Key, tuple[_About, Any, bool]] = {}
MAX_HOLDS = 20_000


def _about(rules: Sequence[Rule], flag: str) -> _About:
    hit = _ABOUT.get((id(rules), flag))
    if hit is None or hit[0] is not rules:
        about = tuple(r for r in rules if flag in r.flags and r.rejects)
        read = frozenset().union(*(r.reads for r in about))
        names = tuple(sorted(n for n in read if not n.startswith("memory.")))
        hit = _ABOUT[(id(rules), flag)] = (rules, _About(about, names, any(n.startswith("memory.") for n in read),
                                                         {n: i for i, n in enumerate(names)}))
    return hit[1]


def _holds(about: _About, scope: Scope, trial: dict[str, Any], flag_names: tuple[str, ...]) -> bool:
    """Whether every rule of ABOUT passes in SCOPE with TRIAL's names set, remembered by the values they read
    (`memo.value_key`) and, when they read memory figures, the plan's figures (by identity) and every flag
    (FLAG_NAMES): a policy matrix vets the same fix on many targets that read the same. The trial's scope is
    made only when the answer is new."""
    values = list(values_of(scope, about.names))
    for name, value in trial.items():
        at = about.at.get(name)
        if at is not None:
            values[at] = value
    plan = getattr(scope.dynamic, "figures", scope.dynamic) if about.memory else None
    flags = tuple(repr(trial[n] if n in trial else dict.get(scope, n)) for n in flag_names) if about.memory else ()
    key = value_key(tuple(values), id(about), id(plan), flags)
    hit = _HOLDS.get(key)
    if hit is None or hit[0] is not about or hit[1] is not plan:
        if len(_HOLDS) >= MAX_HOLDS:
            _HOLDS.clear()
        tried = scope.child(**trial)
        hit = _HOLDS[key] = (about, plan, all(r.evaluate(tried) is Tri.TRUE for r in about.rules))
    return hit[2]


_SPECS: dict[int, tuple[Any, Any]] = {}
"""Each flag table by name and its `flag.*` names, once per table (read-only)."""


class FixVetter:
    """Checks the fixes of one set of facts (SCOPE: the facts and the flags as set), caching each trial."""

    def __init__(self, scope: Scope, rules: Sequence[Rule], specs: Sequence[FlagSpec]) -> None:
        self.scope = scope
        self.rules = rules
        self.specs, self.flag_names = once_per(_SPECS, specs, lambda: (
            {s.name: s for s in specs}, tuple(f"flag.{s.name}" for s in specs)), 16)
        self._works: dict[tuple[str, str], bool] = {}

    def works(self, flag: str, value: str) -> bool:
        """Whether VALUE of FLAG passes every rejecting rule about FLAG here (unknown is not a pass)."""
        key = (flag, value)
        if key not in self._works:
            spec = self.specs[flag]
            trial = {"value": value, f"flag.{flag}": value}
            kw = spec.kwarg(self.scope)
            if kw is not None:
                trial[f"kwarg.{kw}"] = value
            self._works[key] = _holds(_about(self.rules, flag), self.scope, trial, self.flag_names)
        return self._works[key]

    def vet(self, text: str, flag: str | None, current: Any = None, prefer: Any = None) -> str:
        """TEXT without the alternatives that propose a value of FLAG failing here; when none is left, the
        value that works here first of PREFER (the recommended one) and FLAG's candidates, never CURRENT
        (the value in the flag set checked)."""
        spec = self.specs.get(flag) if flag is not None else None
        if spec is None or not text:
            return text
        values = tuple(dict.fromkeys(v for v in (*spec.candidates(self.scope), *spec.values) if isinstance(v, str)))
        failing = [v for v in _mentioned(text, values) if not self.works(spec.name, v)]
        if not failing:
            return text
        kept = without_rejected(text, failing, values)
        if kept:
            return kept
        listed = ", ".join(failing)
        too = f"{listed} {'fails' if len(failing) == 1 else 'fail'} here too"
        order = [prefer, *values] if isinstance(prefer, str) else values
        other = next((v for v in order if v != current and v not in failing and self.works(spec.name, v)), None)
        kw = spec.kwarg(self.scope) or spec.name
        if other is None:
            return f"No value of {kw} is known to work here ({too})."
        return f'Use {kw}="{other}" ({too}).'

    def findings(self, found: Sequence[Finding], current: Mapping[str, Any]) -> list[Finding]:
        """FOUND with each fix vetted (CURRENT: the value each flag has in the flag set checked)."""
        out = []
        for f in found:
            fix = self.vet(f.fix, f.flag, current.get(f.flag) if f.flag else None)
            out.append(f if fix == f.fix else replace(f, fix=fix))
        return out
