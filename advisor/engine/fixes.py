"""A rule's fix as advice for one recommendation: the alternatives it offers that name a value the same
recommendation rejected are left out, so "what would change it" never sends someone to another dead end.

A fix is a sentence of alternatives ("Use flash_attention_2 or sdpa, or upgrade transformers.", "Use
flash_attention_2 (or flash_attention_4 on Blackwell)."): they are split at " or " and ", or " outside
parentheses and quotes, and an "(or …)" aside is an alternative of its own. An alternative that names a
rejected value goes; the verb of a dropped first alternative carries over to the next ("Use sdpa."). When
nothing is left, the fix says so instead of proposing anything.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_SEPARATOR = re.compile(r",\s+or\s+|\s+or\s+")
_ASIDE = re.compile(r"\s*\(or\s[^()]*\)")
_VERB = re.compile(r"\b(?P<verb>[Uu]se|[Ll]oad in|[Ss]et)\s+(\w+=)?$")


def _mention(value: str) -> re.Pattern[str]:
    """VALUE as a word of its own, optionally quoted (`sdpa`, `"sdpa"`, not `sdpa_paged` or `flash-attn2x`)."""
    return re.compile(r'(?<![\w/.-])"?' + re.escape(value) + r'"?(?![\w/-])')


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
    """FIX without the alternatives that name one of the REJECTED values.

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
        listed = list(dict.fromkeys(named))
        words = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        return f"nothing on this target; the fix's {words} {'is' if len(listed) == 1 else 'are'} rejected here too."
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
