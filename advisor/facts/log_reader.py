"""Reading a log or a pasted error: bytes in, blocks of normalised lines out, streaming.

What logs do to messages is undone here, line by line, without changing the number of lines:
- CRLF and lone CR (progress bars) become line breaks; ANSI colour and cursor sequences and other control
  characters are removed;
- the prefixes tools put before every line are stripped: timestamps (GitHub Actions, Python logging), level
  words (`WARNING:transformers.modeling_utils:`), torchrun's `[rank0]:`, pytest's `E   `, docker compose's
  `app-1  | `, syslog's `May 01 12:00:00 host python[123]: `.
Line wrapping is handled by the matcher, which ignores whitespace (engine/error_match.py).

The input is read in chunks of `READ_BYTES` and handed on in blocks of about `BLOCK_CHARS`, each starting with
the last lines of the block before it (`OVERLAP_CHARS`), so a message that spans a block boundary is still
found. A line longer than `MAX_LINE` characters is cut there; the rest of it is skipped as it streams by, so
no more than `MAX_LINE` characters of any line are ever held. Bytes that are not UTF-8 become U+FFFD (a UTF-8
or UTF-16 byte-order mark is honoured).

Refused with InputError (exit 2): an empty input, binary data (a NUL byte in the first `SNIFF` bytes), text
of which more than a tenth of the first `SNIFF` bytes are not UTF-8, and an input that is a single line
longer than `MAX_LINE`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import BinaryIO

from advisor.core.errors import InputError
from advisor.core.frozen import frozen, record

READ_BYTES = 1 << 20
BLOCK_CHARS = 1 << 20
OVERLAP_CHARS = 16 * 1024
MAX_LINE = 64 * 1024
SNIFF = 64 * 1024
MAX_REPLACED = 0.1
"""The share of undecodable characters at the start above which the input is not taken for text."""

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
CONTROL_BYTES = bytes((*range(0, 9), 11, 12, *range(14, 27), *range(28, 32), 127))
"""Control bytes dropped from UTF-8 input before decoding (ASCII bytes never occur inside a multi-byte
sequence, so this is safe and, unlike a regex over the text, nearly free); ESC stays for the ANSI pass."""
_PREFIXES = (
    r"[ \t]*\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?[ \t]*(?:[-|][ \t]*)?",
    r"[ \t]*\[\d{4}-\d\d-\d\d[T ][\d:.,]+\][ \t]*",
    r"[ \t]*(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)(?::[\w.]*:|[ \t]*-[ \t]+|[ \t]*\|[ \t]*)",
    r"[ \t]*\[(?:default|rank)\d+\]:[ \t]?",
    r"E[ \t]{2,}",
    r"[\w.-]+[-_]\d+[ \t]+\|[ \t]",
    r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [\w.-]+ [\w./-]+(?:\[\d+\])?:[ \t]",
)
PREFIX = re.compile(r"\n(?:" + "|".join(_PREFIXES) + r")+")
"""Line prefixes, each tried at the start of every line (led by the line break: a fast literal search)."""


def normalise(text: str, controls: bool = True) -> str:
    """TEXT (lines joined by `\\n`) without ANSI sequences, control characters (unless CONTROLS is false:
    they were removed already) and per-line prefixes."""
    if "\x1b" in text:
        text = ANSI.sub("", text)
    if controls and CONTROL.search(text):
        text = CONTROL.sub("", text)
    return PREFIX.sub("\n", "\n" + text)[1:]


@frozen
class Block:
    """Normalised lines of the log, joined by `\\n`."""

    text: str
    first_line: int
    """The number (1-based) of the first line of `text` in the input."""
    overlap: int
    """How many lines at the start of `text` the block before this one held too."""


@record
class LogStats:
    """What reading the input saw."""

    bytes: int = 0
    lines: int = 0
    long_lines: int = 0
    """Lines cut at MAX_LINE characters."""
    replaced: int = 0
    """Characters that were not UTF-8 (read as U+FFFD)."""
    text_seen: bool = False


class LogReader:
    """The blocks of a byte stream; `stats` is complete once `blocks()` is exhausted."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._bytewise = True
        self.stats = LogStats()

    def _decoded(self) -> Iterator[str]:
        head = self._stream.read(READ_BYTES)
        encoding = "utf-8"
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif b"\x00" in head[:SNIFF]:
            where = head.index(b"\x00")
            raise InputError(f"the input is binary data (a NUL byte at offset {where}), not a log or an error message")
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._bytewise = encoding != "utf-16"
        chunk, first = head, True
        while chunk:
            self.stats.bytes += len(chunk)
            text = decoder.decode(chunk.translate(None, CONTROL_BYTES) if self._bytewise else chunk)
            bad = text.count("\ufffd")
            self.stats.replaced += bad
            if first and encoding == "utf-8":
                sniffed = text[:SNIFF]
                bad_head = sniffed.count("\ufffd")
                if bad_head > 8 and bad_head > MAX_REPLACED * len(sniffed):
                    raise InputError(f"the input is not text: {bad_head} of its first {len(sniffed)} characters are "
                                     "not UTF-8")
            first = False
            yield text
            chunk = self._stream.read(READ_BYTES)
        tail = decoder.decode(b"", final=True)
        if tail:
            self.stats.replaced += tail.count("\ufffd")
            yield tail

    def _lines(self) -> Iterator[list[str]]:
        """Complete lines, a list per chunk read; each cut at MAX_LINE characters."""
        pending, skipping, held_cr = "", False, False
        for piece in self._decoded():
            if held_cr:
                piece = "\r" + piece
            held_cr = piece.endswith("\r")
            if held_cr:
                piece = piece[:-1]
            if "\r" in piece:
                piece = piece.replace("\r\n", "\n").replace("\r", "\n")
            parts = piece.split("\n")
            last = parts.pop()
            if parts:
                parts[0] = pending if skipping else pending + parts[0]
                skipping = False
                pending = last
            elif not skipping:
                pending += last
            if len(pending) > MAX_LINE:
                pending, skipping = pending[:MAX_LINE], True
                self.stats.long_lines += 1
            if parts:
                if max(map(len, parts)) > MAX_LINE:
                    for i, line in enumerate(parts):
                        if len(line) > MAX_LINE:
                            parts[i] = line[:MAX_LINE]
                            self.stats.long_lines += 1
                yield parts
        if held_cr or pending or skipping:
            yield [pending]

    def blocks(self) -> Iterator[Block]:
        """The input as normalised blocks (InputError for empty, binary or single-huge-line input)."""
        stats = self.stats
        lines: list[str] = []
        size = 0
        overlap, overlap_lines = "", 0
        next_line = 1

        def emit() -> Block:
            nonlocal overlap, overlap_lines, next_line, lines, size
            text = normalise("\n".join(lines), controls=not self._bytewise)
            if not stats.text_seen and text.strip():
                stats.text_seen = True
            block = Block(f"{overlap}\n{text}" if overlap_lines else text, next_line - overlap_lines, overlap_lines)
            next_line += len(lines)
            tail = text[-OVERLAP_CHARS:]
            cut = tail.find("\n") if len(text) > OVERLAP_CHARS else -1
            overlap = tail[cut + 1:] if len(text) > OVERLAP_CHARS else tail
            overlap_lines = overlap.count("\n") + 1 if overlap else 0
            lines, size = [], 0
            return block

        for chunk in self._lines():
            stats.lines += len(chunk)
            lines.extend(chunk)
            size += sum(map(len, chunk))
            if size >= BLOCK_CHARS:
                yield emit()
        if lines:
            yield emit()
        if stats.lines == 1 and stats.long_lines:
            raise InputError(f"the input is one line of more than {MAX_LINE} characters with no line break, not a log "
                             "or an error message")
        if not stats.text_seen:
            raise InputError("nothing to explain: the input is empty" if stats.bytes == 0 else
                             "nothing to explain: the input holds no text")
