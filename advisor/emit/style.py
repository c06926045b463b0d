"""How text output looks on this terminal: its width, and colour when the reader's terminal shows it.

Width: `COLUMNS`, else the terminal's width, else 100 (output to a file or a pipe). Colour: `--color
always|never|auto`; auto means a terminal, no `NO_COLOR` (https://no-color.org) and a `TERM` other than
`dumb`; `FORCE_COLOR` turns it on.
"""

from __future__ import annotations

import os
import sys
import textwrap
from typing import Any

from advisor.core.frozen import frozen

PIPE_WIDTH = 100
CODES = {"error": "1;31", "warning": "33", "info": "36", "ok": "32", "bad": "1;31", "dim": "2", "bold": "1",
         "flag": "1", "value": "32"}


@frozen
class Style:
    """The width text is laid out for, and whether it is coloured."""

    width: int = PIPE_WIDTH
    color: bool = False
    explain: bool = False
    """Everything: every rejected candidate with every reason, every finding with its fix, the memory table."""

    def paint(self, text: str, role: str) -> str:
        if not self.color or not text or role not in CODES:
            return text
        return f"\x1b[{CODES[role]}m{text}\x1b[0m"

    def wrap(self, text: str, indent: int, first: int | None = None) -> list[str]:
        """TEXT wrapped to the width: the first line after FIRST columns, the rest with a hanging INDENT."""
        lead = indent if first is None else first
        if self.width - lead < 16:  # no room beside what precedes it: start on the next line
            return ["", *(" " * indent + line for line in self.wrap(text, indent, indent))]
        lines = textwrap.wrap(text, width=self.width - lead, break_on_hyphens=False,
                              break_long_words=False) or [""]
        rest = textwrap.wrap(" ".join(lines[1:]), width=max(self.width - indent, 20), break_on_hyphens=False,
                             break_long_words=False) if len(lines) > 1 else []
        return [lines[0], *(" " * indent + line for line in rest)]


def terminal_style(color: str = "auto", explain: bool = False, stream: Any = None) -> Style:
    """The style for STREAM (default stdout) under the --color choice and the environment."""
    out: Any = stream if stream is not None else sys.stdout
    tty = bool(getattr(out, "isatty", lambda: False)())
    width = PIPE_WIDTH
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 1000:
        width = int(columns)
    elif tty:
        try:
            width = max(os.get_terminal_size(out.fileno()).columns, 40)
        except (OSError, ValueError, AttributeError):
            width = PIPE_WIDTH
    if color == "always":
        on = True
    elif color == "never":
        on = False
    else:
        on = bool(os.environ.get("FORCE_COLOR")) or (tty and "NO_COLOR" not in os.environ
                                                     and os.environ.get("TERM") != "dumb")
    return Style(width=width, color=on, explain=explain)
