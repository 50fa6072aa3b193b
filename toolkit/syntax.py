"""Text → Lark parse tree, with every syntax error turned into a diagnostic.

This module and :mod:`toolkit.lower` are the only ones that import Lark.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic, DiagnosticError, did_you_mean
from .resources import grammar_file
from .source import LINE_BREAKS, Source, Span

#: At most this many syntax errors are reported for one file: past that they
#: are mostly echoes of the first ones.
MAX_SYNTAX_ERRORS = 10

#: How deeply a policy may nest: ``and``/``or``/``not`` in a condition, a section in a
#: section, ``{…}`` and ``[…]`` in an example post or a header value. Every stage after
#: the parser (lowering, the checks, the compiler, the checker, the solver, the
#: printer, the linter) walks these recursively; this bound keeps all of them far
#: from Python's recursion limit. The bundled policies nest at most 3 deep.
MAX_NESTING = 32

# Names for terminals as a drafter would say them.
_TERMINAL_NAMES = {
    "IDENT": "a name",
    "STRING": "a quoted text",
    "DATE": "a date (YYYY-MM-DD)",
    "DATETIME": "a date and time (YYYY-MM-DDTHH:MM+05:30)",
    "PROVREF": "a provision (such as `7` or `3(1A)(ii)`)",
    "REGEX": "a regular expression between slashes",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "DOT": "`.`",
    "AT": "`@`",
    "$END": "the end of the file",
}


@dataclass(frozen=True)
class Comment:
    """A comment and where it stood; the formatter puts it back."""

    text: str
    span: Span


@dataclass(frozen=True)
class ParseResult:
    tree: Tree[Token]
    comments: tuple[Comment, ...]


class _CommentSink:
    # Lark binds lexer callbacks when the parser is built; the parser is built
    # once, so the callback writes into whichever list the current parse set.
    def __init__(self) -> None:
        self.items: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.items.append(token)
        return token


_SINK = _CommentSink()


@functools.cache
def parser() -> Lark:
    """The LALR parser, built once per process."""
    return Lark.open(
        str(grammar_file()),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _SINK},
        start=["start", "recover"],
        cache=True,
    )


@functools.cache
def keywords() -> dict[str, str]:
    """Terminal name → keyword text, for every keyword of the language."""
    out = {}
    for term in parser().terminals:
        pattern = term.pattern
        if pattern.type == "str" and pattern.value.isidentifier():
            out[term.name] = pattern.value
    return out


# A line that starts with one of these words starts a declaration or a
# clause: after a syntax error, parsing resumes at the next such line.
# `topic`, `label` and `authority` also start lines inside a clause
# (`topic political_neutrality`); as declarations they are followed by a
# name and a quoted title.
_SYNC = re.compile(
    r"^[ \t]*(?:(?:clause|section|instrument|define|lexicon|pattern|signal|period|include|policy)\b"
    r"|(?:topic|label|authority)[ \t]+[A-Za-z_][\w-]*[ \t]+\")",
    re.MULTILINE,
)


# The lexical shape of a file as far as comments go: a text, a regular expression,
# a comment (ending at any line break), or anything else. Only `"`, `/` and `#`
# start a token that can hold a `#`, so this finds the comments the parser finds.
_BREAK = re.compile(f"[{LINE_BREAKS}]")
_SCAN = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"?'  # a text (possibly unterminated: the parser reports it)
    r"|/(?!/)[^/\\\n]*(?:\\.[^/\\\n]*)*/"  # a regular expression
    rf"|#[^\n{LINE_BREAKS}]*"  # a comment, up to the first line break of any kind
    r'|[^"/#]+|.',
    re.DOTALL,
)


def lexer_text(text: str) -> str:
    """The text the parser reads: ``text`` with every line break that ends a comment made a ``\\n``.

    The grammar's comment runs to the next ``\\n``. A carriage return, a form feed
    or a Unicode line separator inside a comment ends the line for an editor, a
    diff or :meth:`str.splitlines`; if the parser read on, the text after it would
    be hidden in the comment while a reviewer (or ``govpost fmt``, which writes it
    on a line of its own) sees it as part of the policy. Here the character is
    replaced by a ``\\n``, one character for one, so offsets, lines and columns do
    not move. A ``\\r\\n`` is left alone: the comment already ends there.
    """
    if _BREAK.search(text) is None:
        return text
    chars: list[str] | None = None
    for match in _SCAN.finditer(text):
        end = match.end()
        if text[match.start()] != "#" or end >= len(text) or text[end] == "\n":
            continue
        if text[end] == "\r" and text[end + 1 : end + 2] == "\n":
            continue
        if chars is None:
            chars = list(text)
        chars[end] = "\n"
    return text if chars is None else "".join(chars)


# Operators written before a name with the field left out (`praises parties` is `text praises
# parties`). Where a name may also stand (`campaigning or praises`, a signal of an older policy named
# before `praises` was an operator), the word is the operator only when a name follows it.
_SOFT_KEYWORDS = frozenset({"MENTIONS", "DISPARAGES", "PRAISES", "MATCHES"})
_NEXT_WORD = re.compile(r"(?:\s+|#[^\n]*)*([A-Za-z_][\w-]*)?")


def _parse(text: str, start: str) -> Tree[Token]:
    """``parser().parse(text, start)``, with the operators of :data:`_SOFT_KEYWORDS` read as names
    where no name follows them and a name may stand."""
    from lark.parsers.lalr_interactive_parser import InteractiveParser

    ip = parser().parse_interactive(text, start=start)
    state = ip.parser_state
    lexer = ip.lexer_thread
    states = state.parse_conf.states
    hard = {word for name, word in keywords().items() if name not in _SOFT_KEYWORDS}
    token = None
    try:
        for token in lexer.lex(state):
            if token.type in _SOFT_KEYWORDS and "IDENT" in states[state.position]:
                follows = _NEXT_WORD.match(text, token.end_pos or 0)
                word = follows.group(1) if follows else None
                if word is None or word in hard:
                    token = Token.new_borrow_pos("IDENT", str(token), token)
            state.feed_token(token)
        end = Token.new_borrow_pos("$END", "", token) if token else Token("$END", "", 0, 1, 1)
        return state.feed_token(end, True)  # type: ignore[no-any-return]
    except UnexpectedInput as exc:
        exc.interactive_parser = InteractiveParser(ip.parser, state, lexer)
        raise


def parse_source(source: Source) -> ParseResult:
    """Parse one file. Raises :class:`DiagnosticError` with every syntax error found."""
    _SINK.items = []
    text = lexer_text(source.text)
    try:
        tree = _parse(text, "start")
    except UnexpectedInput as exc:
        _SINK.items = []
        raise DiagnosticError(_collect_errors(source, exc, text)) from None
    comments = tuple(
        Comment(str(tok), Span(source, tok.start_pos or 0, tok.end_pos or 0)) for tok in _SINK.items
    )
    _SINK.items = []
    too_deep = _too_deep(source, tree)
    if too_deep is not None:
        raise DiagnosticError([too_deep])
    return ParseResult(tree, comments)


# The rules that nest, and what a drafter calls each.
_NESTING = {"and_cond": "condition", "or_cond": "condition", "not_cond": "condition", "section": "section",
            "post_literal": "example post", "list_lit": "example post", "record_value": "header value"}
_HINTS = {
    "condition": "name a part of it with `signal NAME means …` and use the name instead",
    "section": "put sections side by side instead of one inside another",
    "example post": "an example post needs only a few levels of `{…}` and `[…]`",
    "header value": "a header value such as `signatory { … }` needs one level",
}
_WORD = re.compile(r"[A-Za-z_][\w-]*|\S")


def _too_deep(source: Source, tree: Tree[Token]) -> Diagnostic | None:
    """P105 at the first construct nested more than :data:`MAX_NESTING` deep, found without recursion."""
    # Each kind counts on its own: a condition in a section ten deep may still nest 32 deep.
    stack: list[tuple[Tree[Token], dict[str, int]]] = [(tree, {})]
    while stack:
        node, depths = stack.pop()
        kind = _NESTING.get(str(node.data))
        if kind is not None:
            depth = depths.get(kind, 0) + 1
            depths = {**depths, kind: depth}
            if depth > MAX_NESTING:
                meta = node.meta
                start = 0 if getattr(meta, "empty", True) else meta.start_pos
                word = _WORD.match(source.text, start)
                end = word.end() if word else start
                return Diagnostic("P105", f"this {kind} is nested more than {MAX_NESTING} levels deep",
                                  Span(source, start, end), help=_HINTS[kind])
        stack.extend((child, depths) for child in reversed(node.children) if isinstance(child, Tree))
    return None


def _collect_errors(source: Source, first: UnexpectedInput, text: str) -> list[Diagnostic]:
    errors = [_diagnostic(source, first)]
    while len(errors) < MAX_SYNTAX_ERRORS:
        # Resume at the first declaration or clause that starts after the
        # line of the last error. Blanking what came before (newlines kept)
        # keeps every offset, line and column true.
        last = errors[-1].span
        after = text.find("\n", last.start if last else len(text))
        if after < 0:
            break
        match = _SYNC.search(text, after)
        if match is None:
            break
        blanked = re.sub(r"[^\n]", " ", text[: match.start()]) + text[match.start() :]
        try:
            _parse(blanked, "recover")
            break
        except UnexpectedInput as exc:
            diag = _diagnostic(source, exc)
            if diag.span is not None and last is not None and diag.span.start <= last.start:
                break
            errors.append(diag)
    _SINK.items = []
    return errors


def _eof(source: Source, message: str) -> Diagnostic:
    end = len(source.text)
    return Diagnostic("P103", message, Span(source, end, end))


def _expected(names: set[str]) -> list[str]:
    kws = keywords()
    words = []
    for name in sorted(names):
        if name in kws:
            words.append(f"`{kws[name]}`")
        elif name in _TERMINAL_NAMES:
            words.append(_TERMINAL_NAMES[name])
        elif name.startswith("__ANON") or name.isupper():
            continue
        else:
            words.append(name.lower())
    return sorted(set(words))


def _expected_text(names: set[str]) -> str:
    words = _expected(names)
    if not words:
        return ""
    if len(words) > 8:
        return "; expected one of " + ", ".join(words[:8]) + ", …"
    if len(words) == 1:
        return "; expected " + words[0]
    return "; expected one of " + ", ".join(words)


def _accepted(exc: UnexpectedToken) -> set[str]:
    """Every terminal the parser would have taken here.

    Lark's own list leaves out keywords that the contextual lexer would lex
    as names; asking the parser state gives the complete list.
    """
    expected = set(exc.expected)
    ip = getattr(exc, "interactive_parser", None)
    if ip is not None:
        try:
            expected |= set(ip.accepts())
        except Exception:  # noqa: BLE001 - the list is a courtesy; never fail the error report
            pass
    return expected


def _diagnostic(source: Source, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedToken):
        exc.expected = _accepted(exc)
        tok = exc.token
        if tok.type == "$END":
            return Diagnostic(
                "P103",
                "the file ended too early" + _expected_text(set(exc.expected)),
                Span(source, len(source.text), len(source.text)),
                help=_eof_help(set(exc.expected), _open_block(source, _tokens_before(source.text,
                                                                                     len(source.text)))),
            )
        start = tok.start_pos or 0
        end = tok.end_pos or start + len(str(tok))
        shown = str(tok)
        if len(shown) > 30:
            shown = shown[:27] + "…"
        kws = keywords()
        expected_kw = [kws[n] for n in exc.expected if n in kws]
        hint = did_you_mean(str(tok), expected_kw) if str(tok).isidentifier() else None
        if hint is None and tok.type in kws and expected_kw:
            hint = f"`{tok}` is a keyword and cannot be used as a name here"
            if "IDENT" not in exc.expected:
                hint = None
        if hint is None:
            hint = _contextual_hint(tok, set(exc.expected))
        before = _tokens_before(source.text, start)
        runaway = _runaway_text(source, before)
        if runaway is not None:
            return runaway
        if str(tok) == "of" and [str(t) for t in before[-3:]] == ["expect", "requires", "sanction"]:
            hint = ("an example expects `requires sanction`, without the authority (the deciding clause names "
                    "it): `expect requires sanction by CLAUSE`")
        opened = _open_block(source, before)
        if opened is not None and tok.type in _BLOCK_STARTS and "RBRACE" in exc.expected:
            hint = f"{opened} is still open here: is its closing `}}` missing?"
        return Diagnostic(
            "P101",
            f"unexpected `{shown}`" + _expected_text(set(exc.expected)),
            Span(source, start, end),
            help=hint,
        )
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = source.text[pos] if pos < len(source.text) else ""
        if char == '"':
            return Diagnostic(
                "P104",
                "this text has no closing quote",
                Span(source, pos, pos + 1),
                help='end the text with `"`; write `\\"` for a quote inside it',
            )
        allowed = set(exc.allowed or ())
        shown = char if char.isprintable() else f"U+{ord(char):04X}" if char else ""
        return Diagnostic(
            "P102",
            f"unexpected character `{shown}`" + _expected_text(allowed),
            Span(source, pos, pos + 1),
            help=_char_hint(char),
        )
    if isinstance(exc, UnexpectedEOF):
        return Diagnostic(
            "P103",
            "the file ended too early" + _expected_text(set(exc.expected)),
            Span(source, len(source.text), len(source.text)),
            help=_eof_help(set(exc.expected)),
        )
    return _eof(source, str(exc))  # pragma: no cover - lark raises only the above


def _eof_help(expected: set[str], opened: str | None = None) -> str | None:
    if "RBRACE" in expected:
        if opened is not None:
            return f"{opened} was not closed: add its `}}`"
        return "a `{` was not closed: add the matching `}`"
    return None


# Keywords that start a declaration, a section or a clause: met where a `}` could stand, they
# mean the block before them was not closed.
_BLOCK_STARTS = {"CLAUSE", "SECTION", "INSTRUMENT", "DEFINE", "LEXICON", "PATTERN", "SIGNAL", "PERIOD",
                 "INCLUDE", "POLICY"}


def _tokens_before(text: str, pos: int) -> list[Token]:
    """The tokens that end at or before ``pos`` (as far as the text lexes)."""
    out: list[Token] = []
    try:
        for tok in parser().lex(text):
            if (tok.end_pos or 0) > pos:
                break
            out.append(tok)
    except UnexpectedInput:
        pass
    _SINK.items = []
    return out


def _runaway_text(source: Source, before: list[Token]) -> Diagnostic | None:
    """A text whose closing quote is missing runs on to the next quote, lines later, and the error
    shows only there: report it at the line where the text starts."""
    if not before or before[-1].type != "STRING" or "\n" not in str(before[-1]):
        return None
    tok = before[-1]
    start = tok.start_pos or 0
    line_end = source.text.find("\n", start)
    text_line = source.text[:start].count("\n") + 1
    end_line = source.text[: tok.end_pos or start].count("\n") + 1
    return Diagnostic(
        "P104",
        f"this text has no closing quote on line {text_line}: it runs on to line {end_line}",
        Span(source, start, line_end if line_end > start else start + 1),
        help='end the text with `"` on this line (a text may span lines, so the parser only notices '
             f'where the next quote, on line {end_line}, leaves it)',
    )


def _open_block(source: Source, before: list[Token]) -> str | None:
    """What the innermost `{` still open before the error belongs to: "clause `c` (opened on line 6)"."""
    stack: list[int] = []
    for i, tok in enumerate(before):
        if tok.type == "LBRACE":
            stack.append(i)
        elif tok.type == "RBRACE" and stack:
            stack.pop()
    if not stack:
        return None
    i = stack[-1]
    brace = before[i]
    line = source.text[: brace.start_pos or 0].count("\n") + 1
    kws = keywords()
    head = before[max(0, i - 3):i]
    keyword = next((t for t in head if t.type in kws), None)
    name = next((t for t in head if t.type in ("IDENT", "PROVREF")), None)  # the basic lexer may say PROVREF
    if keyword is None:
        return f"the `{{` on line {line}"
    what = f"{kws[keyword.type]} `{name}`" if name is not None else f"`{kws[keyword.type]}`"
    return f"{what} (its `{{` is on line {line})"


def _contextual_hint(tok: Token, expected: set[str]) -> str | None:
    if tok.type == "STRING" and "IDENT" in expected:
        return "names are written without quotes"
    if tok.type == "IDENT" and "STRING" in expected and "IDENT" not in expected:
        return 'texts are written in double quotes: "…"'
    if tok.type == "COLON":
        return "`:` is used only inside example posts; elsewhere write the keyword and its value"
    if tok.type == "DATE" and "DATETIME" in expected:
        return None
    return None


def _char_hint(char: str) -> str | None:
    if char in "“”":
        return 'use straight quotes `"` around texts'
    if char == "'":
        return 'texts are written in double quotes: "…"'
    if char in ";":
        return "statements need no terminator; remove the `;`"
    if char == "=":
        return "write `is` to compare a field with a value, `means` to define a signal"
    if char in LINE_BREAKS:
        return "an invisible line or page break that is not a line break here; use an ordinary line break"
    return None


# ---------------------------------------------------------------------------
# A parse tree in govpost's own types, for tools that must not depend on Lark
# (the formatter, the language server).
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CstToken:
    """A named token of the parse tree: its terminal (``IDENT``, ``STRING``…), text and offsets."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class CstNode:
    """A rule of the parse tree (``clause``, ``clause_when``…) and the offsets of all it matched.

    Keywords and punctuation are not children (the grammar drops them), but
    ``start``/``end`` cover them: ``end`` of a ``clause_when`` includes a
    closing parenthesis.
    """

    kind: str
    children: tuple[CstNode | CstToken, ...]
    start: int
    end: int


def concrete_tree(result: ParseResult) -> CstNode:
    """The parse tree of :func:`parse_source` as :class:`CstNode` and :class:`CstToken`."""

    def convert(item: Tree[Token] | Token) -> CstNode | CstToken:
        if isinstance(item, Token):
            start = item.start_pos or 0
            return CstToken(item.type, str(item), start, item.end_pos if item.end_pos is not None else start)
        children = tuple(convert(c) for c in item.children)
        meta = item.meta
        if getattr(meta, "empty", True):
            start = children[0].start if children else 0
            end = children[-1].end if children else 0
        else:
            start, end = meta.start_pos, meta.end_pos
        return CstNode(str(item.data), children, start, end)

    node = convert(result.tree)
    assert isinstance(node, CstNode)
    return node
