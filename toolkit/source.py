"""Source texts and spans.

A :class:`Span` carries its :class:`Source`, so any stage can point at the
text a value came from (file, line, column, the line itself) without the
parser being around. Spans never take part in equality: two models that say
the same thing are equal wherever their text stood.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

#: The characters other than ``\n`` that end a line for Python's ``str.splitlines``
#: (and for some editors and viewers): carriage return, vertical tab, form feed, the
#: file/group/record separators, next line, and the Unicode line and paragraph
#: separators. A comment ends at any of them (:mod:`toolkit.syntax`), so no text a
#: viewer shows on a line of its own can hide inside a comment.
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

#: The widest source excerpt a diagnostic prints (see :meth:`Span.snippet`).
SNIPPET_WIDTH = 160
_SHOWN = {ord(ch): " " for ch in LINE_BREAKS}

# Lines for positions: `\n`, `\r\n` and a lone `\r` end a line, as the Language Server Protocol counts them.
_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, eq=False)
class Source:
    """One text and the name it is known by (a path, ``<stdin>``, ``REV:path``)."""

    name: str
    text: str = field(repr=False)
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(m.end() for m in _LINE_END.finditer(self.text))
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
        end = _LINE_END.search(self.text, start)
        return self.text[start:] if end is None else self.text[start : end.start()]

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
        """The source line with a caret under the span (first line only).

        A line longer than :data:`SNIPPET_WIDTH` characters is cut to a window
        that starts a little before the span (``…`` marks a cut), and the
        underline stops at the window's end: a one-megabyte line prints a line.
        """
        line, col = self.source.line_col(self.start)
        text = self.source.line_text(line)
        end_line, end_col = self.source.line_col(max(self.start, self.end))
        width = (end_col - col) if end_line == line else len(text) - col + 1
        width = max(1, width)
        at = col - 1
        if len(text) > SNIPPET_WIDTH:
            lo = max(0, at - SNIPPET_WIDTH // 4)
            hi = min(len(text), lo + SNIPPET_WIDTH)
            head, tail = ("…" if lo else ""), ("…" if hi < len(text) else "")
            width = max(1, min(width, hi - at))
            text = head + text[lo:hi] + tail
            at = at - lo + len(head)
        # Invisible line breaks (a form feed, U+2028) would break the line in a terminal: show a space.
        text = text.translate(_SHOWN)
        # Tabs keep their width under the caret so it lines up in a terminal.
        pad = "".join("\t" if ch == "\t" else " " for ch in text[:at])
        return f"{text}\n{pad}^{'~' * (width - 1)}"


def no_span(name: str = "<generated>") -> Span:
    """A span for values that have no text (defaults, generated values)."""
    return Span(Source(name, ""), 0, 0)
