"""Parse tree → model: the one Lark transformer.

Lowering is structural: it builds model objects, reads dates, literals and
metadata, and reports what is wrong with the shape of a declaration (an
unknown metadata key, two outcomes in one clause). Whether names resolve is
the business of :mod:`toolkit.check`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Transformer, Tree, v_args

from . import model as m
from .diagnostics import Diagnostic, Severity, did_you_mean
from .source import Source, Span


@dataclass
class Header:
    """The `policy` block of a file: its id and raw metadata entries."""

    id: str
    entries: list[tuple[str, list[Any], Span]]
    span: Span


@dataclass
class LoweredFile:
    """One file's declarations, in order, before includes are merged."""

    source: Source
    header: Header | None
    items: list[Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_WS = re.compile(r"\s+")


def unquote(token: str) -> str:
    """The value of a string literal: escapes resolved, white space folded."""
    body = token[1:-1]
    body = re.sub(r"\\(.)", lambda mt: _ESCAPES.get(mt.group(1), mt.group(1)), body)
    return _WS.sub(" ", body).strip()


class _Lower(Transformer[Token, Any]):
    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.diags: list[Diagnostic] = []

    # -- helpers ---------------------------------------------------------

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 0, 0)
        return Span(self.source, meta.start_pos, meta.end_pos)

    def _tok(self, tok: Token) -> Span:
        start = tok.start_pos or 0
        return Span(self.source, start, tok.end_pos if tok.end_pos is not None else start)

    def _date(self, tok: Token) -> dt.date | None:
        try:
            return dt.date.fromisoformat(str(tok))
        except ValueError:
            self.diags.append(
                Diagnostic(
                    "S208",
                    f"`{tok}` is not a calendar date",
                    self._tok(tok),
                    help="dates are written YYYY-MM-DD, for example 2026-03-31",
                )
            )
            return None

    # -- texts -----------------------------------------------------------

    @v_args(meta=True)
    def strings(self, meta: Any, children: list[Token]) -> tuple[str, Span]:
        return " ".join(unquote(str(t)) for t in children).strip(), self._span(meta)

    @v_args(meta=True)
    def translation(self, meta: Any, children: list[Any]) -> tuple[str, str]:
        lang, (value, _) = children
        return str(lang), value

    @v_args(meta=True)
    def text(self, meta: Any, children: list[Any]) -> m.Text:
        (value, _), *translations = children
        seen: set[str] = set()
        for lang, _v in translations:
            if lang in seen:
                self.diags.append(
                    Diagnostic(
                        "S217",
                        f"translation `@{lang}` given more than once",
                        self._span(meta),
                    )
                )
            seen.add(lang)
        return m.Text(value, tuple(translations), self._span(meta))

    # -- header ----------------------------------------------------------

    @v_args(meta=True)
    def policy_header(self, meta: Any, children: list[Any]) -> Header:
        ident, *entries = children
        return Header(str(ident), entries, self._span(meta))

    @v_args(meta=True)
    def meta_entry(self, meta: Any, children: list[Any]) -> tuple[str, list[Any], Span]:
        key, values = children
        return str(key), values, self._tok(key)

    def meta_values(self, children: list[Any]) -> list[Any]:
        return children

    @v_args(meta=True)
    def date_value(self, meta: Any, children: list[Token]) -> tuple[str, Any, Span]:
        return "date", self._date(children[0]), self._tok(children[0])

    @v_args(meta=True)
    def name_value(self, meta: Any, children: list[Token]) -> tuple[str, Any, Span]:
        return "name", str(children[0]), self._tok(children[0])

    @v_args(meta=True)
    def record_value(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "record", children, self._span(meta)

    # -- declarations ----------------------------------------------------

    @v_args(meta=True)
    def include(self, meta: Any, children: list[Token]) -> m.Include:
        return m.Include(unquote(str(children[0])), self._span(meta))

    @v_args(meta=True)
    def topic_decl(self, meta: Any, children: list[Any]) -> m.Topic:
        return m.Topic(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def label_decl(self, meta: Any, children: list[Any]) -> m.Label:
        return m.Label(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def authority_decl(self, meta: Any, children: list[Any]) -> m.Authority:
        return m.Authority(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def provision(self, meta: Any, children: list[Any]) -> m.Provision:
        return m.Provision(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def instrument_unit(self, meta: Any, children: list[Token]) -> tuple[str, str, Span]:
        return "unit", unquote(str(children[0])), self._span(meta)

    @v_args(meta=True)
    def instrument_short(self, meta: Any, children: list[Any]) -> tuple[str, m.Text, Span]:
        return "short", children[0], self._span(meta)

    @v_args(meta=True)
    def instrument(self, meta: Any, children: list[Any]) -> m.Instrument:
        ident, title, *items = children
        unit: str | None = None
        short: m.Text | None = None
        provisions = []
        for item in items:
            if isinstance(item, m.Provision):
                provisions.append(item)
            elif item[0] == "unit":
                if unit is not None:
                    self.diags.append(Diagnostic("S217", "`unit` given more than once", item[2]))
                unit = item[1]
            else:
                if short is not None:
                    self.diags.append(Diagnostic("S217", "`short` given more than once", item[2]))
                short = item[1]
        return m.Instrument(str(ident), title, short, unit, tuple(provisions), self._span(meta))

    @v_args(meta=True)
    def term_decl(self, meta: Any, children: list[Any]) -> m.Term:
        return m.Term(unquote(str(children[0])), children[1], self._span(meta))

    @v_args(meta=True)
    def lexicon(self, meta: Any, children: list[Any]) -> m.Lexicon:
        ident, *rest = children
        description = None
        attrs: dict[str, Any] = {}
        entries: tuple[m.LexiconEntry, ...] = ()
        source = None
        for child in rest:
            if isinstance(child, Token):
                description = unquote(str(child))
            elif child[0] == "entries":
                entries = child[1]
            elif child[0] == "file":
                source = child[1]
            else:
                key, value, span = child
                if key in attrs:
                    self.diags.append(Diagnostic("S230", f"lexicon `{ident}` gives `{key}` more than once", span))
                attrs[key] = value
        return m.Lexicon(str(ident), description, entries, self._span(meta), mode=attrs.get("mode", "inflected"),
                         valence=attrs.get("valence"), negatable=bool(attrs.get("negatable")),
                         role="negation" if attrs.get("negation") else "terms", source=source)

    @v_args(meta=True)
    def lexicon_mode(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "mode", children[0], self._span(meta)

    @v_args(meta=True)
    def lexicon_valence(self, meta: Any, children: list[Token]) -> tuple[str, Any, Span]:
        return "valence", float(children[0]), self._span(meta)

    @v_args(meta=True)
    def lexicon_negatable(self, meta: Any, children: list[Token]) -> tuple[str, Any, Span]:
        return "negatable", True, self._span(meta)

    @v_args(meta=True)
    def lexicon_negation(self, meta: Any, children: list[Token]) -> tuple[str, Any, Span]:
        return "negation", True, self._span(meta)

    def entry_mode(self, children: list[Token]) -> str:
        return str(children[0])

    def lexicon_entries(self, children: list[m.LexiconEntry]) -> tuple[str, tuple[m.LexiconEntry, ...]]:
        return "entries", tuple(children)

    @v_args(meta=True)
    def lexicon_file(self, meta: Any, children: list[Token]) -> tuple[str, str]:
        return "file", unquote(str(children[0]))

    @v_args(meta=True)
    def lexicon_entry(self, meta: Any, children: list[Any]) -> m.LexiconEntry:
        tok = children[-1]
        mode = children[0] if len(children) == 2 else None
        return m.LexiconEntry(unquote(str(tok)), self._tok(tok), mode)

    @v_args(meta=True)
    def pattern_decl(self, meta: Any, children: list[Token]) -> m.Pattern:
        ident = children[0]
        description = unquote(str(children[1])) if len(children) == 3 else None
        regex_tok = children[-1]
        raw = str(regex_tok)
        close = raw.rindex("/")
        body, flags = raw[1:close], raw[close + 1 :]
        # `\/` is how a slash is written inside the delimiters; RE2 gets `/`.
        # Other escapes pass through untouched (`\\/` is `\\` then the end).
        body = re.sub(r"\\(.)", lambda mt: "/" if mt.group(1) == "/" else mt.group(0), body)
        return m.Pattern(str(ident), description, body, flags, self._span(meta), self._tok(regex_tok))

    @v_args(meta=True)
    def signal(self, meta: Any, children: list[Any]) -> m.Signal:
        ident = children[0]
        description = unquote(str(children[1])) if len(children) == 3 else None
        return m.Signal(str(ident), description, children[-1], self._span(meta))

    @v_args(meta=True)
    def period(self, meta: Any, children: list[Token]) -> m.Period:
        ident = children[0]
        description = unquote(str(children[1])) if len(children) == 4 else None
        start, end = self._date(children[-2]), self._date(children[-1])
        return m.Period(str(ident), description, start, end, self._span(meta))

    # -- sections and clauses -------------------------------------------

    @v_args(meta=True)
    def section_text(self, meta: Any, children: list[Any]) -> tuple[str, m.Text, Span]:
        return "text", children[0], self._span(meta)

    @v_args(meta=True)
    def section(self, meta: Any, children: list[Any]) -> m.Section:
        ident, title, *items = children
        intro: m.Text | None = None
        kids = []
        for item in items:
            if isinstance(item, tuple):
                if intro is not None:
                    self.diags.append(
                        Diagnostic("S217", "a section has one introductory `text`", item[2],
                                   help="join the paragraphs into one text")
                    )
                intro = item[1]
            else:
                kids.append(item)
        return m.Section(str(ident), title, intro, tuple(kids), self._span(meta))

    @v_args(meta=True)
    def clause_topic(self, meta: Any, children: list[Token]) -> tuple[str, Any, Span]:
        return "topic", (str(children[0]), self._tok(children[0])), self._span(meta)

    @v_args(meta=True)
    def clause_text(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "text", children[0], self._span(meta)

    @v_args(meta=True)
    def clause_outcome(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "outcome", children[0], self._span(meta)

    @v_args(meta=True)
    def outcome(self, meta: Any, children: list[Token]) -> tuple[m.Outcome, str | None, Span | None]:
        word = str(children[0])
        if word == "requires":
            return m.Outcome.REQUIRES_SANCTION, str(children[1]), self._tok(children[1])
        return m.Outcome.from_label(word), None, None

    def expected_outcome(self, children: list[Token]) -> m.Outcome:
        word = str(children[0])
        return m.Outcome.REQUIRES_SANCTION if word == "requires" else m.Outcome.from_label(word)

    @v_args(meta=True)
    def clause_when(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "when", children[0], self._span(meta)

    @v_args(meta=True)
    def clause_unless(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        description = unquote(str(children[0])) if len(children) == 2 else None
        return "unless", m.Exception_(children[-1], description, self._span(meta)), self._span(meta)

    @v_args(meta=True)
    def clause_cites(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "cites", children, self._span(meta)

    @v_args(meta=True)
    def citation(self, meta: Any, children: list[Token]) -> m.Citation:
        return m.Citation(str(children[0]), str(children[1]), self._span(meta))

    @v_args(meta=True)
    def clause_new_guidance(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "new_guidance", children[0] if children else None, self._span(meta)

    @v_args(meta=True)
    def clause_rationale(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "rationale", children[0], self._span(meta)

    @v_args(meta=True)
    def clause_note(self, meta: Any, children: list[Any]) -> tuple[str, Any, Span]:
        return "note", children[0], self._span(meta)

    @v_args(meta=True)
    def example(self, meta: Any, children: list[Any]) -> m.Example:
        title, post, outcome, *clause = children
        clause_id = str(clause[0]) if clause else None
        clause_span = self._tok(clause[0]) if clause else self._span(meta)
        return m.Example(unquote(str(title)), post, outcome, clause_id, self._span(meta), clause_span)

    @v_args(meta=True)
    def clause(self, meta: Any, children: list[Any]) -> m.Clause:
        ident, title, *items = children
        span = self._span(meta)
        single: dict[str, Any] = {}
        unless: list[m.Exception_] = []
        cites: list[m.Citation] = []
        examples: list[m.Example] = []
        for item in items:
            if isinstance(item, m.Example):
                examples.append(item)
                continue
            key, value, item_span = item
            if key == "unless":
                unless.append(value)
            elif key == "cites":
                cites.extend(value)
            elif key in single:
                self.diags.append(
                    Diagnostic(
                        "S217",
                        f"clause `{ident}` has more than one `{key.replace('_', ' ')}`",
                        item_span,
                        help="a clause has one of each; combine conditions with `and` / `or`"
                        if key == "when"
                        else None,
                    )
                )
            else:
                single[key] = value
        for key in ("topic", "text", "outcome", "when"):
            if key not in single:
                self.diags.append(
                    Diagnostic(
                        "S216",
                        f"clause `{ident}` has no `{key}`",
                        self._tok(ident),
                        help=_MISSING_HELP[key],
                    )
                )
        topic, topic_span = single.get("topic", (None, span))
        outcome, authority, authority_span = single.get("outcome", (None, None, None))
        return m.Clause(
            id=str(ident),
            title=title,
            topic=topic,
            text=single.get("text"),
            outcome=outcome,
            authority=authority,
            when=single.get("when"),
            unless=tuple(unless),
            citations=tuple(cites),
            new_guidance=single.get("new_guidance"),
            is_new_guidance="new_guidance" in single,
            rationale=single.get("rationale"),
            note=single.get("note"),
            examples=tuple(examples),
            span=span,
            topic_span=topic_span,
            authority_span=authority_span or span,
        )

    # -- posts in examples ----------------------------------------------

    @v_args(meta=True)
    def post_literal(self, meta: Any, children: list[Any]) -> m.PostLiteral:
        return m.PostLiteral(tuple(children), self._span(meta))

    @v_args(meta=True)
    def post_field(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        path, value = children
        return path.dotted, value

    def string_lit(self, children: list[Token]) -> Any:
        return m.Lit(unquote(str(children[0])), "string", self._tok(children[0]))

    def datetime_lit(self, children: list[Token]) -> Any:
        return m.Lit(str(children[0]), "datetime", self._tok(children[0]))

    def date_lit(self, children: list[Token]) -> Any:
        return m.Lit(str(children[0]), "date", self._tok(children[0]))

    def true_lit(self, children: list[Token]) -> Any:
        return m.Lit(True, "bool", self._tok(children[0]))

    def false_lit(self, children: list[Token]) -> Any:
        return m.Lit(False, "bool", self._tok(children[0]))

    def name_lit(self, children: list[Token]) -> Any:
        return m.Lit(str(children[0]), "name", self._tok(children[0]))

    def list_lit(self, children: list[Any]) -> Any:
        return tuple(children)

    # -- conditions ------------------------------------------------------

    @v_args(meta=True)
    def field_path(self, meta: Any, children: list[Token]) -> m.FieldPath:
        return m.FieldPath(tuple(str(c) for c in children), self._span(meta))

    # Every other condition is lowered by its operator (toolkit.operators): see
    # _install_operators below.

    def within(self, children: list[Token]) -> tuple[str, int]:
        return "within", int(children[0])

    def same_sentence(self, children: list[Token]) -> tuple[str]:
        return ("sentence",)

    def value_list(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def start(self, children: list[Any]) -> list[Any]:
        return children


def _install_operators() -> None:
    """Give the transformer one method per grammar alias of each operator, which the operator lowers."""
    from .operators import rule_operators

    for rule, op in rule_operators().items():
        def method(self: _Lower, meta: Any, children: list[Any], _op: Any = op, _rule: str = rule) -> Any:
            return _op.lower(self, _rule, meta, children)

        method.__name__ = rule
        setattr(_Lower, rule, v_args(meta=True)(method))


_install_operators()


_MISSING_HELP = {
    "topic": "add `topic NAME` with one of the declared topics",
    "text": 'add `text "…"`: the words a reader of the circular sees',
    "outcome": "add `outcome prohibited` (or permitted, advisory, requires sanction of AUTHORITY)",
    "when": "add `when CONDITION`: the posts this clause is about",
}


def literal_value(lit: Any) -> Any:
    """A post-literal value as plain JSON data."""
    if isinstance(lit, m.Lit):
        return lit.value
    if isinstance(lit, tuple):
        return [literal_value(v) for v in lit]
    if isinstance(lit, m.PostLiteral):
        return {k: literal_value(v) for k, v in lit.fields}
    return lit


def lower(tree: Tree[Token], source: Source) -> LoweredFile:
    """Lower one file's tree to its header and declarations."""
    lowerer = _Lower(source)
    items = lowerer.transform(tree)
    header = None
    rest = []
    for item in items:
        if isinstance(item, Header):
            if header is not None:
                lowerer.diags.append(
                    Diagnostic("S217", "a file has one `policy` header", item.span)
                )
                continue
            header = item
        else:
            rest.append(item)
    return LoweredFile(source, header, rest, lowerer.diags)


# Re-exported for the metadata reader, which lives with the lowering because
# it reads the raw header entries.
__all__ = ["Header", "LoweredFile", "lower", "literal_value", "unquote", "Severity", "did_you_mean"]
