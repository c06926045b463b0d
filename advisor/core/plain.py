"""Text that is safe to print: what came from a config, a log or a policy cannot drive the reader's terminal.

Control characters (ANSI escape sequences start with ESC), C1 controls, the Unicode bidirectional
overrides that can make text read differently than it is, and lone surrogates (a file name that is not UTF-8,
which no stream could encode) are shown as visible escapes; a newline inside
a one-line field becomes a space.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]")


def _escape(m: re.Match[str]) -> str:
    return f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"


def clean(text: str | None, *, one_line: bool = True) -> str:
    """TEXT with unsafe characters made visible (and, for ONE_LINE, line breaks and tabs as spaces)."""
    if not text:
        return ""
    flat = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ") if one_line else text.replace("\t", "    ")
    return _UNSAFE.sub(_escape, flat)
