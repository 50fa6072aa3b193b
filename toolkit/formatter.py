"""Policy text → the same policy in govpost's one canonical layout, every comment kept.

The formatter decides indentation, spacing, alignment and blank lines; the
drafter decides where a long condition, list or text breaks (a line break
between two tokens of a statement is kept, at a canonical indent). Nothing
else of the source survives: formatting formatted text changes nothing.

It works on the complete token stream of a file (the named tokens of the
parse tree, the keywords and punctuation between them, and the comments),
walked in order under the guidance of the parse tree. Every token is
consumed from the stream exactly once, so a comment comes out exactly where
it stood between two tokens:

- a comment on the same line as the token before it stays at the end of
  that line (a *trailing* comment), and the next token starts a new line;
- a comment on a line of its own stays on a line of its own, before the
  token that followed it, indented as that token's statement would be (a
  comment before a closing ``}`` is indented as the block's contents);
- a blank line before a comment or a statement is kept (runs of blank lines
  become one); blank lines at the start and end of a block are dropped.

The layout:

- four spaces per level; one statement (a declaration, header entry, clause
  item, provision) per line;
- header keys, clause item keywords (``topic``, ``text``, ``outcome``,
  ``when``, ``unless``, ``cites``, ``note``), ``short``/``unit`` and provision
  references are padded so that their values line up;
- a continuation line is indented to the innermost open ``(``, ``[`` or
  ``{`` of its line, otherwise to the value column of a header entry or
  clause item, otherwise four spaces deeper than its statement (so a
  translated title ``@hi "…"`` of a section or clause stands under it);
- the continuation lines of a text that spans lines start one column after
  the opening quote of the text's first string (translations included);
- an example is three lines: title, post, ``expect``; a post is written
  ``{ key: value, … }``, a post part inside a list ``[{kind: image}]``;
- a multi-line lexicon has one or more entries per line and a comma after
  the last entry; a one-line lexicon has none;
- top-level declarations of different kinds, and every block declaration,
  are separated by one blank line; so are the clauses and sub-sections of a
  section.

:func:`format_source` checks its own work: it parses the output and compares
the model and the sequence of tokens and comments with the input's, and
raises :class:`UnsoundFormat` (an internal error) rather than return text
that would change the policy or lose a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnostics import DiagnosticError
from .lower import lower
from .metadata import read_metadata
from .source import Source
from .syntax import CstNode, CstToken, concrete_tree, parse_source

INDENT = 4

#: Clause items whose values line up after the keyword (``outcome`` is the longest).
_CLAUSE_KEYWORDS = {
    "clause_topic": "topic",
    "clause_text": "text",
    "clause_outcome": "outcome",
    "clause_when": "when",
    "clause_unless": "unless",
    "clause_cites": "cites",
    "clause_note": "note",
}
_CLAUSE_PAD = len("outcome") + 1

#: Top-level declarations that are always set apart by a blank line.
_BLOCKS = {"policy_header", "instrument", "lexicon", "signal", "section"}

_GAP = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|[{}()\[\],:.@]")
_NO_SPACE_AFTER = {"(", "[", ".", "@"}
_NO_SPACE_BEFORE = {")", "]", ",", ":", "."}


class UnsoundFormat(RuntimeError):
    """The formatted text would not mean what the input meant: a bug in the formatter."""


@dataclass
class Tok:
    """One token of the complete stream: named, keyword, punctuation or comment."""

    kind: str  # a terminal name, "KEYWORD", "PUNCT" or "COMMENT"
    text: str
    start: int
    end: int
    breaks: int = 0  # line breaks between the previous token (or comment) and this one
    trailing: bool = False  # a comment on the line of the token before it

    @property
    def comment(self) -> bool:
        return self.kind == "COMMENT"


def _leaves(node: CstNode) -> list[CstToken]:
    out: list[CstToken] = []
    for child in node.children:
        if isinstance(child, CstToken):
            out.append(child)
        else:
            out.extend(_leaves(child))
    return out


def token_stream(text: str, name: str = "<input>") -> tuple[CstNode, list[Tok]]:
    """Parse ``text`` and return its tree and complete token stream (comments included).

    Raises :class:`~toolkit.diagnostics.DiagnosticError` on a syntax error.
    """
    source = Source(name, text)
    result = parse_source(source)
    root = concrete_tree(result)
    known: list[Tok] = [Tok(t.kind, t.text, t.start, t.end) for t in _leaves(root)]
    known += [Tok("COMMENT", c.text.rstrip(), c.span.start, c.span.end) for c in result.comments]
    known.sort(key=lambda t: t.start)
    stream: list[Tok] = []
    pos = 0
    for tok in [*known, None]:
        gap_end = tok.start if tok is not None else len(text)
        while pos < gap_end:
            match = _GAP.match(text, pos)
            if match is None or match.end() > gap_end:  # pragma: no cover - the parser accepted the text
                raise UnsoundFormat(f"cannot read `{text[pos:pos + 10]}` at offset {pos}")
            word = match.group()
            if not word.isspace():
                stream.append(Tok("PUNCT" if len(word) == 1 and not word.isalpha() else "KEYWORD",
                                  word, pos, match.end()))
            pos = match.end()
        if tok is not None:
            stream.append(tok)
            pos = tok.end
    previous_end = 0
    for i, tok in enumerate(stream):
        tok.breaks = text.count("\n", previous_end, tok.start)
        tok.trailing = tok.comment and i > 0 and tok.breaks == 0 and not stream[i - 1].comment
        previous_end = tok.end
    return root, stream


def _reindent_string(literal: str, column: int) -> str:
    """A string token whose continuation lines start one column after its opening quote.

    White space inside a text folds to one space, so this changes nothing the
    text says. Trailing blanks are dropped unless escaped.
    """
    lines = literal.split("\n")
    if len(lines) == 1:
        return literal
    out = [re.sub(r"(?<!\\)[ \t]+$", "", lines[0])]
    for line in lines[1:]:
        body = re.sub(r"(?<!\\)[ \t]+$", "", line.lstrip(" \t"))
        out.append(" " * (column + 1) + body if body else "")
    return "\n".join(out)


class _Emitter:
    def __init__(self, stream: list[Tok]):
        self.stream = stream
        self.i = 0
        self.lines: list[str] = []
        self.cur = ""
        self.prev: str | None = None  # text of the last token on the current line
        self.before: tuple[str, str] = ("", "")  # (text of the token before the last, kind of the last)
        self.last_text = ""
        self.compact_open = False  # the last token opened a post part inside a list
        self.text_col = 0  # column of the first string of the text being placed
        self.glue = False  # the next token follows without a space (after padding)
        self.pad: int | None = None  # pad the line to this column before the next token
        self.stmt = False  # the next token starts a statement line
        self.stmt_indent = 0
        self.comment_indent = 0
        self.blank = False  # a blank line is wanted before the next statement
        self.no_blank = True  # at the start of a block or file: no blank line
        self.force = False  # the next token starts a new line (after a comment)
        self.anchors: list[int] = [0]
        self.brackets: list[str] = []

    # -- positions ---------------------------------------------------------

    def column(self) -> int:
        return len(self.cur) - (self.cur.rfind("\n") + 1)

    def peek(self) -> Tok | None:
        j = self.i
        while j < len(self.stream) and self.stream[j].comment:
            j += 1
        return self.stream[j] if j < len(self.stream) else None

    def peek_start(self) -> int:
        tok = self.peek()
        return tok.start if tok is not None else 1 << 62

    # -- lines -------------------------------------------------------------

    def _end_line(self) -> None:
        if self.cur:
            self.lines.append(self.cur)
        self.cur = ""
        self.prev = None
        self.glue = False
        self.pad = None

    def _blank_line(self) -> None:
        if self.lines and self.lines[-1] != "" and not self.no_blank:
            self.lines.append("")

    def start_stmt(self, indent: int, blank: bool = False, comment_indent: int | None = None) -> None:
        """The next token starts a statement at ``indent``, after a blank line if ``blank``."""
        self.stmt = True
        self.stmt_indent = indent
        self.comment_indent = indent if comment_indent is None else comment_indent
        self.blank = blank
        self.anchors = [indent + INDENT]
        self.brackets = []

    def anchor_here(self) -> None:
        """Continuation lines of this statement line up with the next token."""
        if self.pad is not None:
            col = self.pad
        else:
            col = self.column() + (0 if self.glue or not self.cur else 1)
        self.anchors[0] = col

    def pad_to(self, col: int) -> None:
        self.pad = max(col, self.column() + 1)

    def set_anchor(self, col: int) -> None:
        self.anchors[0] = col

    def break_next(self) -> None:
        self.force = True

    # -- comments ----------------------------------------------------------

    def _flush_comments(self) -> None:
        while self.i < len(self.stream) and self.stream[self.i].comment:
            c = self.stream[self.i]
            self.i += 1
            if c.trailing and (self.cur or self.lines):
                if self.cur:
                    self.cur = self.cur.rstrip(" ") + "  " + c.text
                    self._end_line()
                else:
                    self.lines[-1] = self.lines[-1] + "  " + c.text
                self.force = True
                continue
            self._end_line()
            if self.stmt and self.blank:
                self._blank_line()
                self.blank = False
            elif c.breaks >= 2:
                self._blank_line()
            indent = self.comment_indent if self.stmt else self.anchors[-1]
            self.lines.append(" " * indent + c.text)
            self.no_blank = False
            self.force = True

    # -- tokens ------------------------------------------------------------

    def take(self, expect: str | None = None, *, breaks: bool = False, block_close: bool = False) -> Tok:
        """Emit the next token (after the comments before it).

        ``breaks``: keep a line break that stood before it in the source.
        """
        self._flush_comments()
        if self.i >= len(self.stream):  # pragma: no cover - the walker follows the parse tree
            raise UnsoundFormat(f"the text ended where `{expect}` was expected")
        tok = self.stream[self.i]
        if expect is not None and tok.text != expect:  # pragma: no cover - ditto
            raise UnsoundFormat(f"expected `{expect}`, found `{tok.text}` at offset {tok.start}")
        self.i += 1
        self._place(tok, breaks=breaks, block_close=block_close)
        return tok

    def skip(self, text: str) -> None:
        """Drop the next token (an optional comma), keeping the comments before it."""
        self._flush_comments()
        assert self.stream[self.i].text == text
        self.i += 1

    def virtual(self, text: str) -> None:
        """Emit a token that is not in the source (a canonical trailing comma)."""
        self.cur += text
        self.prev = text

    def _place(self, tok: Tok, *, breaks: bool, block_close: bool) -> None:
        text = tok.text
        compact_close = text == "}" and not block_close and self.brackets[-1:] == ["{c"]
        glued = self.prev in _NO_SPACE_AFTER or text in _NO_SPACE_BEFORE or self.compact_open or compact_close
        unbreakable = glued or (text == "}" and not block_close)
        if self.stmt:
            self._end_line()
            if not block_close and (self.blank or tok.breaks >= 2):
                self._blank_line()
            self.cur = " " * self.stmt_indent
            self.stmt = False
            self.blank = False
            self.no_blank = False
        elif self.force or (breaks and tok.breaks > 0 and not unbreakable):
            self._end_line()
            self.cur = " " * self.anchors[-1]
        elif self.pad is not None:
            self.cur = self.cur.rstrip(" ")
            self.cur += " " * (self.pad - self.column())
        elif self.cur.strip() and not self.glue and not glued:
            self.cur += " "
        self.force = False
        self.pad = None
        self.glue = False
        if tok.kind == "STRING":
            # A translation or a further string of the same text lines up with the text's first string.
            if self.before[1] != "STRING" and self.before[0] != "@":
                self.text_col = self.column()
            text = _reindent_string(text, self.text_col)
        self.cur += text
        self.prev = tok.text
        self.before = (self.last_text, tok.kind)
        self.last_text = tok.text
        if text in ("(", "["):
            self.brackets.append(text)
            self.anchors.append(self.column())
        elif text == "{" and not block_close:
            # A post part inside a list is written compactly: [{kind: image}].
            compact = self.brackets[-1:] == ["["]
            self.brackets.append("{c" if compact else "{")
            self.anchors.append(self.column() + (0 if compact else 1))
        elif text in (")", "]") or (text == "}" and not block_close):
            if self.brackets:
                self.brackets.pop()
                self.anchors.pop()
        self.compact_open = text == "{" and not block_close and self.brackets[-1:] == ["{c"]

    def run_until(self, end: int, *, breaks: bool = True) -> None:
        """Emit every token that starts before ``end``."""
        while self.peek_start() < end:
            self.take(breaks=breaks)

    def open_block(self) -> None:
        self.take("{", block_close=True)
        self.no_blank = True

    def close_block(self, indent: int) -> None:
        self.start_stmt(indent, comment_indent=indent + INDENT)
        self.take("}", block_close=True)

    def finish(self) -> str:
        self.start_stmt(0)
        self._flush_comments()
        self._end_line()
        return "\n".join(self.lines) + "\n" if self.lines else ""


class _Layout:
    def __init__(self, emitter: _Emitter):
        self.e = emitter

    def file(self, root: CstNode) -> None:
        previous: str | None = None
        for item in root.children:
            assert isinstance(item, CstNode)
            blank = previous is not None and (item.kind != previous or item.kind in _BLOCKS)
            self.e.start_stmt(0, blank)
            getattr(self, "_" + item.kind)(item, 0)
            previous = item.kind

    # -- header ------------------------------------------------------------

    def _policy_header(self, node: CstNode, indent: int) -> None:
        e = self.e
        e.take("policy")
        e.take()
        e.open_block()
        self._entries([c for c in node.children if isinstance(c, CstNode)], indent + INDENT)
        e.close_block(indent)

    def _entries(self, entries: list[CstNode], indent: int) -> None:
        width = max((len(_token(entry, 0).text) for entry in entries), default=0)
        for entry in entries:
            self.e.start_stmt(indent)
            self.e.take()
            values = entry.children[1]
            assert isinstance(values, CstNode)
            self.e.pad_to(indent + width + 1)
            self.e.anchor_here()
            for value in values.children:
                assert isinstance(value, CstNode)
                self.e.run_until(value.start)  # the comma before it
                if value.kind == "record_value":
                    self.e.open_block()
                    self._entries([c for c in value.children if isinstance(c, CstNode)], indent + INDENT)
                    self.e.close_block(indent)
                else:
                    self.e.run_until(value.end)

    # -- declarations ------------------------------------------------------

    def _include(self, node: CstNode, indent: int) -> None:
        self.e.take("include")
        self.e.take()

    def _named_text(self, node: CstNode, indent: int) -> None:
        self.e.take()
        self.e.take()
        self.e.run_until(node.end)

    _topic_decl = _label_decl = _authority_decl = _named_text

    def _instrument(self, node: CstNode, indent: int) -> None:
        e = self.e
        e.take("instrument")
        e.take()
        e.run_until(node.children[1].end)
        e.open_block()
        items = [c for c in node.children[2:] if isinstance(c, CstNode)]
        refs = [len(_token(c, 0).text) for c in items if c.kind == "provision"]
        inner = indent + INDENT
        for item in items:
            e.start_stmt(inner)
            e.take()
            if item.kind == "provision":
                e.take()
                e.pad_to(inner + len("provision ") + max(refs) + 1)
            else:
                e.pad_to(inner + len("short "))
            e.anchor_here()
            e.run_until(item.end)
        e.close_block(indent)

    def _term_decl(self, node: CstNode, indent: int) -> None:
        self.e.take("define")
        self.e.take()
        self.e.take("means")
        self.e.run_until(node.end)

    def _lexicon(self, node: CstNode, indent: int) -> None:
        e = self.e
        e.take("lexicon")
        e.take()
        if e.peek() is not None and e.peek().kind == "STRING":  # type: ignore[union-attr]
            e.take(breaks=True)
        # Attributes (a mode, `valence N`, `negatable`, `negation`) stay on the head line.
        while e.peek() is not None and e.peek().text not in ("{", "from"):  # type: ignore[union-attr]
            e.take()
        if e.peek() is not None and e.peek().text == "from":  # type: ignore[union-attr]
            e.take("from")
            e.take()
            return
        brace = e.peek()
        assert brace is not None and brace.text == "{"
        inside = [t for t in e.stream if brace.start < t.start < node.end]
        block = any(t.comment or t.breaks for t in inside)

        def at_entry() -> bool:
            tok = e.peek()
            return tok is not None and (tok.kind == "STRING" or tok.text in _ENTRY_MODES)

        def entry(breaks: bool = False) -> None:
            if e.peek().text in _ENTRY_MODES:  # type: ignore[union-attr]
                e.take(breaks=breaks)
                e.take()
            else:
                e.take(breaks=breaks)

        if not block:
            e.take("{")
            while at_entry():
                entry()
                if e.peek().text == ",":  # type: ignore[union-attr]
                    following = e.stream[e.i + 1:]
                    if next(t for t in following if not t.comment).text == "}":
                        e.skip(",")
                    else:
                        e.take(",")
            e.take("}")
            return
        e.open_block()
        inner = indent + INDENT
        first = True
        while at_entry():
            if first:
                e.start_stmt(inner)
                e.set_anchor(inner)
                first = False
            entry(breaks=True)
            if e.peek().text == ",":  # type: ignore[union-attr]
                e.take(",")
            else:
                e.virtual(",")
        e.close_block(indent)

    def _pattern_decl(self, node: CstNode, indent: int) -> None:
        self.e.take("pattern")
        self.e.take()
        self.e.run_until(node.end)

    def _signal(self, node: CstNode, indent: int) -> None:
        self.e.take("signal")
        self.e.take()
        self.e.run_until(node.end)

    def _period(self, node: CstNode, indent: int) -> None:
        self.e.take("period")
        self.e.take()
        self.e.run_until(node.end)

    # -- sections and clauses ------------------------------------------------

    def _section(self, node: CstNode, indent: int) -> None:
        e = self.e
        e.take("section")
        e.take()
        e.run_until(node.children[1].end)
        e.open_block()
        inner = indent + INDENT
        for j, item in enumerate(c for c in node.children[2:] if isinstance(c, CstNode)):
            e.start_stmt(inner, blank=j > 0 and item.kind in ("section", "clause"))
            if item.kind == "section_text":
                e.take("text")
                e.anchor_here()
                e.run_until(item.end)
            else:
                getattr(self, "_" + item.kind)(item, inner)
        e.close_block(indent)

    def _clause(self, node: CstNode, indent: int) -> None:
        e = self.e
        e.take("clause")
        e.take()
        e.run_until(node.children[1].end)
        e.open_block()
        inner = indent + INDENT
        for item in node.children[2:]:
            assert isinstance(item, CstNode)
            e.start_stmt(inner)
            keyword = _CLAUSE_KEYWORDS.get(item.kind)
            if keyword is not None:
                e.take(keyword)
                e.pad_to(inner + _CLAUSE_PAD)
                e.anchor_here()
                e.run_until(item.end)
            elif item.kind == "clause_new_guidance":
                e.take("new")
                e.take("guidance")
                e.anchor_here()
                e.run_until(item.end)
            elif item.kind in ("clause_rationale",):
                e.take("rationale")
                e.anchor_here()
                e.run_until(item.end)
            else:
                self._example(item, inner)
        e.close_block(indent)

    def _example(self, node: CstNode, indent: int) -> None:
        e = self.e
        e.take("example")
        e.take()
        e.set_anchor(indent + INDENT)
        post = node.children[1]
        assert isinstance(post, CstNode)
        e.break_next()
        e.run_until(post.end)
        e.break_next()
        e.take("expect")
        e.run_until(node.end, breaks=False)


_ENTRY_MODES = frozenset({"exact", "inflected", "spelling"})


def _token(node: CstNode, index: int) -> CstToken:
    child = node.children[index]
    assert isinstance(child, CstToken)
    return child


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")


def layout(text: str, name: str = "<input>") -> str:
    """The canonical layout of ``text``, without the soundness check (see :func:`format_source`)."""
    root, stream = token_stream(_normalise(text), name)
    emitter = _Emitter(stream)
    _Layout(emitter).file(root)
    if emitter.peek() is not None:  # pragma: no cover - the walker follows the parse tree
        raise UnsoundFormat(f"token `{emitter.peek().text}` was not placed")  # type: ignore[union-attr]
    return emitter.finish()


def format_source(text: str, name: str = "<input>") -> str:
    """The canonical layout of a policy file's text, every comment kept.

    Raises :class:`~toolkit.diagnostics.DiagnosticError` when the text has a
    syntax error (every error of the file), and :class:`UnsoundFormat` when
    the result would not parse to the same model, tokens and comments (a bug
    in the formatter: nothing should be written).
    """
    original = text.removeprefix("\ufeff")
    out = layout(_normalise(text), name)
    # INVARIANT: the soundness check compares with the text as it was read, line breaks and all,
    # never with the normalised text the layout started from.
    check_sound(original, out, name)
    return out


def _signature(stream: list[Tok]) -> list[tuple[str, str]]:
    """Tokens and comments in order, commas left out and white space inside texts folded."""
    out = []
    for tok in stream:
        if tok.text == ",":
            continue
        if tok.kind == "STRING":
            out.append((tok.kind, re.sub(r"\s+", " ", tok.text)))
        else:
            out.append((tok.kind, tok.text))
    return out


def _model(text: str, name: str) -> tuple[object, ...]:
    source = Source(name, text)
    lowered = lower(parse_source(source).tree, source)
    header = None
    if lowered.header is not None:
        meta, _ = read_metadata(lowered.header)
        header = (lowered.header.id, meta)
    return header, tuple(lowered.items)


def check_sound(before: str, after: str, name: str = "<input>") -> None:
    """Raise :class:`UnsoundFormat` unless ``after`` says what ``before`` says, comments included."""
    try:
        _, after_stream = token_stream(after, name)
        after_model = _model(after, name)
    except DiagnosticError as exc:
        raise UnsoundFormat(f"the formatted text of `{name}` does not parse: {exc}") from None
    _, before_stream = token_stream(before, name)
    if _signature(before_stream) != _signature(after_stream):
        raise UnsoundFormat(f"formatting `{name}` would move, change or lose a token or comment")
    if _model(before, name) != after_model:
        raise UnsoundFormat(f"formatting `{name}` would change what the policy says")
    rules = _compiled(before, name)
    if rules is not None and _compiled(after, name) != rules:
        raise UnsoundFormat(f"formatting `{name}` would change its compiled rules")


def _compiled(text: str, name: str) -> str | None:
    """The rule set a policy's text compiles to, byte for byte, without what layout moves (None: it does not compile).

    Positions (line and column of each clause and example) and the content hash
    change with the layout; everything else of the rule set must not.
    """
    from .api import check_text, compile_result
    from .rules import dumps

    result = check_text(text, name)
    if not result.ok:
        return None
    rules = compile_result(result)
    rules["content_hash"] = ""
    for item in (*rules["clauses"], *rules["examples"]):
        item["source"] = {"file": item["source"]["file"]}
    return dumps(rules)
