"""Text in paragraphs with hanging indents: a Textual visual that wraps each paragraph to the width it is
drawn at, its first line at its indent and every further line `hang` cells further in.

    Para("[b]Why:[/] sdpa chosen: flash_attention_2 rejected: …", hang=5)

draws as

    Why: sdpa chosen: flash_attention_2 rejected:
         flash_attention_2 needs compute capability 8.0 …

Static widgets and option lists take a `Paragraphs` wherever they take markup.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual


class Para:
    """One paragraph: markup (or Content), the indent of its first line, and how much further the rest go."""

    __slots__ = ("content", "hang", "indent")

    def __init__(self, text: str | Content = "", indent: int = 0, hang: int = 0) -> None:
        self.content = text if isinstance(text, Content) else Content.from_markup(text)
        self.indent = indent
        self.hang = hang

    def lines(self, width: int) -> list[Content]:
        """The paragraph wrapped to WIDTH cells, indents included."""
        first_pad, rest_pad = " " * self.indent, " " * (self.indent + self.hang)
        out: list[Content] = []
        for n, line in enumerate(self.content.split("\n", allow_blank=True)):
            pad = first_pad if n == 0 else rest_pad
            if not line.plain.strip():
                out.append(Content(""))
                continue
            wrapped = line.wrap(max(width - len(pad), 1))
            out.append(Content(pad) + wrapped[0])
            if len(wrapped) == 1:
                continue
            used = len(wrapped[0].plain)
            rest = line[used:]
            rest = rest[len(rest.plain) - len(rest.plain.lstrip(" ")):]
            out += [Content(rest_pad) + part for part in rest.wrap(max(width - len(rest_pad), 1))]
        return out

    @property
    def plain(self) -> str:
        return " " * self.indent + self.content.plain.replace("\n", "\n" + " " * (self.indent + self.hang))


class Paragraphs(Visual):
    """Paragraphs drawn one under another, each wrapped with its hanging indent at the width it is given."""

    def __init__(self, paras: Iterable[Para]) -> None:
        self.paras = tuple(paras)
        self._cache: tuple[int, Content] | None = None

    def content(self, width: int) -> Content:
        """Every paragraph wrapped to WIDTH, as one Content of lines that already fit."""
        if self._cache is None or self._cache[0] != width:
            lines = [line for p in self.paras for line in p.lines(width)]
            self._cache = (width, Content("\n").join(lines))
        return self._cache[1]

    @property
    def plain(self) -> str:
        """The text unwrapped, one paragraph a line (what tests and copies read)."""
        return "\n".join(p.plain for p in self.paras)

    @property
    def markup(self) -> str:
        return "\n".join(" " * p.indent + p.content.markup for p in self.paras)

    def __str__(self) -> str:
        return self.plain

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        return self.content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max((p.indent + p.content.cell_length for p in self.paras), default=0)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return max((p.indent + p.hang + 8 for p in self.paras), default=1)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.content(width).plain.split("\n")) if self.paras else 0
