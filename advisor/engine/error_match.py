"""Matching the rules' error messages against a log: whitespace-free regexes behind literal anchors.

Logs wrap messages (a terminal's width, rich, a CI runner's log viewer), so a message is matched with every
whitespace character removed from both the message and the log: "FlashAttention only supports Ampere" is
found in "FlashAttention only sup" + a line break + "ports Ampere". Each message of a rule compiles to

- a regex over the squeezed log: an exact `text` is escaped, each `{name}` in it (a class name, a path, a
  version) becomes a lazy gap of at most `GAP` characters, and a full stop at its end is optional (people
  quote messages without it); a `pattern` loses its whitespace (literal spaces,
  `\\s`, `\\s+`, `\\s*`) and is used as written otherwise;
- anchors: for each alternative of the regex, the longest literal piece that every occurrence contains.

A block of the log is searched for every anchor with `in` (CPython's fast search, about 3 ms per anchor and
10 MB here), and only the messages whose anchor is present run their regex, so the cost is one pass per
distinct anchor and not one regex per message per line. Nothing here runs on `advisor recommend`'s path:
the rule loader calls `compile_error` to validate a rule file when the pack is rebuilt, and `explain` calls
it when it first needs the matchers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING

from advisor.core.frozen import frozen

if TYPE_CHECKING:
    from advisor.engine.rules import ErrorText, Rule

WHITESPACE = " \t\n\r\f\v\u00a0\u2007\u202f\u3000\u200b\ufeff"
SQUEEZE = str.maketrans("", "", WHITESPACE)
_ASCII_SPACE = b" \t\n\r\f\v"
_WIDE_SPACE = WHITESPACE[6:]
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")
MIN_ANCHOR = 6
"""The shortest literal piece a message may be found by (shorter ones would match too much)."""
GAP = 400
"""How many squeezed characters a `{name}` part of an exact text may span."""
MAX_COUNT = 1000
"""Occurrences of one message counted per block, at most."""
_META = set(".^$*+?{}[]()|\\")
_SPACE_TOKENS = (" ", "\t", "\n", "\\s", "\\ ", "\\n", "\\t", "\\r")
_QUANTIFIER = re.compile(r"[?*+]\??|\{\d*(?:,\d*)?\}\??")


class ErrorTextError(ValueError):
    """An error message entry that cannot be matched: a bad regex, or no literal piece to find it by."""


def squeeze(text: str) -> str:
    """TEXT without any whitespace.

    `str.translate` is fast only for ASCII text (16 ms for 10 MB here, 2 s when one character is not ASCII);
    other text goes through its UTF-8 bytes (75 ms for 10 MB), after the few non-ASCII spaces are removed.
    """
    if text.isascii():
        return text.translate(SQUEEZE)
    for space in _WIDE_SPACE:
        if space in text:
            text = text.replace(space, "")
    return text.encode("utf-8", "surrogatepass").translate(None, _ASCII_SPACE).decode("utf-8", "surrogatepass")


@frozen
class CompiledError:
    """One message of a rule, ready to search a squeezed log for."""

    regex: re.Pattern[str]
    anchors: tuple[str, ...]
    """One per alternative: a block that contains none of them cannot hold the message."""
    literal: int
    """How many literal (squeezed) characters the message pins down: the more, the more specific."""


@cache
def compile_error(error: ErrorText) -> CompiledError:
    """The regex and anchors of one message (ErrorTextError when it cannot be matched)."""
    if error.text is not None:
        return _compile_text(error.text)
    assert error.pattern is not None
    return _compile_pattern(error.pattern)


def _compile_text(text: str) -> CompiledError:
    parts = [squeeze(p) for p in PLACEHOLDER.split(text.rstrip().rstrip(".!:;,"))]
    pieces = [p for p in parts if p]
    if not pieces:
        raise ErrorTextError("the text has no literal part")
    regex = f".{{1,{GAP}}}?".join(re.escape(p) for p in pieces)
    anchor = max(pieces, key=len)
    if len(anchor) < MIN_ANCHOR:
        raise ErrorTextError(f"the text's longest literal part {anchor!r} is shorter than {MIN_ANCHOR} characters")
    return CompiledError(re.compile(regex), (anchor,), sum(len(p) for p in pieces))


def _compile_pattern(pattern: str) -> CompiledError:
    if re.search(r"\(\?[a-zA-Z]*[ixuaL]", pattern):
        raise ErrorTextError("only the (?s) flag is allowed in a pattern (write [Aa] for a case, no verbose mode)")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ErrorTextError(f"the pattern is not a valid regex: {exc}") from None
    squeezed = squeeze_pattern(pattern)
    try:
        regex = re.compile(squeezed)
    except re.error as exc:  # pragma: no cover - squeezing keeps a valid regex valid
        raise ErrorTextError(f"the pattern without its whitespace is not a valid regex: {exc}") from None
    anchors = tuple(longest_literals(squeezed))
    short = [a for a in anchors if len(a) < MIN_ANCHOR]
    if short:
        raise ErrorTextError(f"an alternative of the pattern has no literal part of {MIN_ANCHOR} characters or more "
                             f"(longest: {short[0]!r}); write each alternative with a fixed piece of the message")
    return CompiledError(regex, anchors, min(len(a) for a in anchors))


def _tokens(pattern: str) -> Iterator[str]:
    """The pattern as tokens: an escape (two characters), a character class, a quantifier, or one character."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            yield pattern[i:i + 2]
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            yield pattern[i:j + 1]
            i = j + 1
        elif (m := _QUANTIFIER.match(pattern, i)) and m.end() > i:
            yield m.group()
            i = m.end()
        else:
            yield c
            i += 1


def _is_quantifier(token: str) -> bool:
    return bool(_QUANTIFIER.fullmatch(token))


def squeeze_pattern(pattern: str) -> str:
    """PATTERN as it must read to match a log without whitespace: literal spaces and `\\s` dropped."""
    out: list[str] = []
    dropped = False
    for token in _tokens(pattern):
        if dropped and _is_quantifier(token):
            continue  # the quantifier of something dropped goes with it
        dropped = False
        if token in _SPACE_TOKENS:
            dropped = True
            continue
        if token.startswith("[") and len(token) > 1:
            inner = token[1:-1]
            for space in _SPACE_TOKENS:
                inner = inner.replace(space, "")
            if inner == "":
                dropped = True
                continue
            token = "." if inner == "^" else f"[{inner}]"
        out.append(token)
    return "".join(out)


def _alternatives(pattern: str) -> list[list[str]]:
    """The top-level alternatives of PATTERN, each as its tokens."""
    alts: list[list[str]] = [[]]
    depth = 0
    for token in _tokens(pattern):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token == "|" and depth == 0:
            alts.append([])
            continue
        alts[-1].append(token)
    return alts


def longest_literals(pattern: str) -> list[str]:
    """For each top-level alternative of PATTERN, the longest run of characters every match contains."""
    out: list[str] = []
    for tokens in _alternatives(pattern):
        best, run, depth = "", "", 0
        i = 0
        while i < len(tokens):
            token = tokens[i]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            literal: str | None = None
            if token in ("(", ")"):
                depth += 1 if token == "(" else -1
                if token == "(" and nxt == "?":  # (?:, (?s), (?=: the group's kind, not a quantifier
                    i += 1
            elif depth == 0 and len(token) == 1 and token not in _META:
                literal = token
            elif depth == 0 and len(token) == 2 and token[0] == "\\" and not token[1].isalnum():
                literal = token[1]
            if literal is None:
                best, run = max(best, run, key=len), ""
            elif _is_quantifier(nxt):
                required = nxt.startswith("+") or bool(re.match(r"\{[1-9]", nxt))
                # a repeated character ends one run and, being there at least once, starts the next
                best, run = max(best, run + literal if required else run, key=len), literal if required else ""
                i += 1
            else:
                run += literal
            i += 1
        out.append(max(best, run, key=len))
    return out


def literal_fragments(error: ErrorText) -> list[str]:
    """The literal pieces of a message as upstream source spells them (spaces kept), one per alternative for
    a pattern, every piece between placeholders for a text: what a grep of the source must find."""
    if error.text is not None:
        return [p.strip() for p in PLACEHOLDER.split(error.text) if p.strip()]
    assert error.pattern is not None
    return [frag.strip() for frag in longest_literals(error.pattern)]


@frozen
class Entry:
    """One message of one rule, as the matcher holds it."""

    rule: str
    index: int
    """Its place in the rule's `errors`."""
    compiled: CompiledError


@frozen
class Found:
    """Where a message was found in a squeezed block: offsets of its first occurrences (at most MAX_COUNT)."""

    entry: Entry
    offsets: tuple[int, ...]


KEY = 5
"""Length of the keys anchors are grouped under."""
MIN_GROUP = 3


def group_anchors(anchors: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Anchors under shared keys: (key, the anchors holding it). A block without the key holds none of them,
    so one search for the key replaces several; an anchor that shares no key is its own.

    Greedy: the key held by most ungrouped anchors first, while it groups at least MIN_GROUP of them. With the
    rules' 140 anchors this makes about 40 searches of a block where there were 140.
    """
    remaining = sorted(set(anchors))
    groups: list[tuple[str, tuple[str, ...]]] = []
    while remaining:
        counts: dict[str, int] = {}
        for anchor in remaining:
            for key in {anchor[i:i + KEY] for i in range(len(anchor) - KEY + 1)}:
                counts[key] = counts.get(key, 0) + 1
        key, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))
        if n < MIN_GROUP:
            break
        members = tuple(a for a in remaining if key in a)
        groups.append((key, members))
        remaining = [a for a in remaining if key not in a]
    groups.extend((a, (a,)) for a in remaining)
    return groups


class Matcher:
    """Every message of the given rules, indexed by anchor, the anchors grouped under shared keys."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.entries = [Entry(r.id, i, compile_error(e)) for r in rules for i, e in enumerate(r.errors)]
        self._order = {id(e): n for n, e in enumerate(self.entries)}
        by_anchor: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for anchor in entry.compiled.anchors:
                by_anchor.setdefault(anchor, []).append(entry)
        self._by_anchor = by_anchor
        self._groups = group_anchors(by_anchor)

    def search(self, squeezed: str) -> list[Found]:
        """The messages found in SQUEEZED (a block of log without whitespace), in rule order."""
        candidates: dict[int, Entry] = {}
        for key, anchors in self._groups:
            if key not in squeezed:
                continue
            for anchor in anchors:
                if anchor == key or anchor in squeezed:
                    for entry in self._by_anchor[anchor]:
                        candidates[id(entry)] = entry
        found: list[Found] = []
        for entry in sorted(candidates.values(), key=lambda e: self._order[id(e)]):
            offsets = tuple(m.start() for _, m in zip(range(MAX_COUNT), entry.compiled.regex.finditer(squeezed),
                                                      strict=False))
            if offsets:
                found.append(Found(entry, offsets))
        return found


def line_index(text: str, offsets: Iterable[int]) -> dict[int, int]:
    """For each offset into TEXT's squeezed form, the index of the line of TEXT it falls on."""
    wanted = sorted(set(offsets))
    out: dict[int, int] = {}
    if not wanted:
        return out
    k, seen = 0, 0
    for i, line in enumerate(text.split("\n")):
        seen += len(line) - sum(map(line.count, " \t\r\f\v")) if line.isascii() else len(squeeze(line))
        while k < len(wanted) and wanted[k] < seen:
            out[wanted[k]] = i
            k += 1
        if k == len(wanted):
            break
    for rest in wanted[k:]:
        out[rest] = text.count("\n")
    return out
