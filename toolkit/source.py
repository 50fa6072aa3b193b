"""Source texts and spans.

A :class:`Span` carries its :class:`Source`, so any stage can point at the
text a value came from (file, line, column, the line itself) without the
parser being around. Spans never take part in equality: two models that say
the same thing are equal wherever their text stood.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class Source:
    """One text and the name it is known by (a path, ``<stdin>``, ``REV:path``)."""

    name: str
    text: str = field(repr=False)
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "_line_starts", starts)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def offset(self, line: int, col: int) -> int:
        """Character offset of a 1-based line and column."""
        line = max(1, min(line, len(self._line_starts)))
        return self._line_starts[line - 1] + col - 1


@dataclass(frozen=True)
class Span:
    """Character offsets ``[start, end)`` in a source."""

    source: Source
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def col(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def location(self) -> str:
        """``file:line:col``, the form editors and CI annotate."""
        line, col = self.source.line_col(self.start)
        return f"{self.source.name}:{line}:{col}"

    def snippet(self) -> str:
        """The source line with a caret under the span (first line only)."""
        line, col = self.source.line_col(self.start)
        text = self.source.line_text(line)
        end_line, end_col = self.source.line_col(max(self.start, self.end))
        width = (end_col - col) if end_line == line else len(text) - col + 1
        width = max(1, width)
        # Tabs keep their width under the caret so it lines up in a terminal.
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
        return f"{text}\n{pad}^{'~' * (width - 1)}"


def no_span(name: str = "<generated>") -> Span:
    """A span for values that have no text (defaults, generated values)."""
    return Span(Source(name, ""), 0, 0)
