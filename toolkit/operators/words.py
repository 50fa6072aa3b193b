"""Operators on the words of a text field: ``mentions``, ``matches``, ``near``, ``disparages``, ``praises``.

They read what one matching pass over each searched field found (a
:class:`toolkit.matcher.TextHits` per text, and the patterns' RE2 set);
proximity and stance are decided from the hits' word positions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean
from ..postschema import FIELDS
from ..source import Span
from .base import Compiled, Evidence, FieldPath, Fn, Operator, register, span_field
from .fields import compare_hint, field_help


@dataclass(frozen=True, slots=True)
class Mentions:
    """``field mentions lexicon``; the field is ``text`` when omitted."""

    path: FieldPath
    lexicon: str
    span: Span = span_field()
    name_span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Matches:
    path: FieldPath
    pattern: str
    span: Span = span_field()
    name_span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Near:
    """``field mentions A near B [within N words]``: both in one sentence, at most N words apart."""

    path: FieldPath
    lexicon: str
    other: str
    within: int | None
    span: Span = span_field()
    name_span: Span = span_field()
    other_span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Stance:
    """``field disparages T`` / ``field praises T`` ``[within N words]``."""

    path: FieldPath
    lexicon: str
    polarity: str  # "negative" | "positive"
    within: int | None
    span: Span = span_field()
    name_span: Span = span_field()


def _path(lowerer: Any, children: list[Any], name: Any) -> FieldPath:
    if children and isinstance(children[0], FieldPath):
        return children[0]
    return FieldPath(("text",), lowerer._tok(name))


def _within(children: list[Any]) -> int | None:
    for child in children:
        if isinstance(child, tuple) and child and child[0] == "within":
            return int(child[1])
    return None


def _check_field(node: Any, verb: str) -> Iterator[Diagnostic]:
    path = node.path.dotted
    ft = FIELDS.get(path)
    if ft is None:
        yield Diagnostic("S204", f"posts have no field `{path}`", node.path.span, help=field_help(path))
    elif ft.kind not in ("text", "string"):
        yield Diagnostic("S206", f"`{path}` is not a text, so it cannot be searched with `{verb}`",
                         node.span, help=compare_hint(path))


def _check_lexicon(name: str, span: Span, symbols: Any) -> Iterator[Diagnostic]:
    if name not in symbols.lexicons:
        yield Diagnostic("S201", f"undefined lexicon `{name}`", span,
                         help=did_you_mean(name, symbols.lexicons)
                         or ("that is a pattern: use `matches`" if name in symbols.patterns else None)
                         or "declare it with `lexicon NAME { \"word\", \"phrase\" }`")


def _prefix(path: FieldPath) -> str:
    return path.dotted + " "


def _within_text(within: int | None) -> str:
    return "" if within is None else f" within {within} word{'s' if within != 1 else ''}"


class _WordsOp(Operator):
    def searched(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield c["field"], "lex"

    def uses(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield "lexicon", c["lexicon"]
        if "near" in c:
            yield "lexicon", c["near"]


@register
class MentionsOp(_WordsOp):
    op = "mentions"
    cost = 2
    nodes = (Mentions,)
    rules = ("mentions_atom",)
    keywords = ("mentions",)
    summary = "`FIELD mentions LEXICON`: an entry of the lexicon occurs in the field (text when omitted)"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        name = children[-1]
        return Mentions(_path(lowerer, children, name), str(name), lowerer._span(meta), lowerer._tok(name))

    def check(self, node: Mentions, symbols: Any) -> Iterator[Diagnostic]:
        yield from _check_field(node, "mentions")
        yield from _check_lexicon(node.lexicon, node.name_span, symbols)

    def compile(self, node: Mentions, env: Any) -> Compiled:
        return {"op": "mentions", "field": node.path.dotted, "lexicon": node.lexicon}

    def print(self, node: Mentions, printer: Callable[[Any, int], str], context: int) -> str:
        return f"{_prefix(node.path)}mentions {node.lexicon}"

    def references(self, node: Mentions) -> Iterator[tuple[str, str, Span]]:
        yield "lexicon", node.lexicon, node.name_span

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        path = c["field"]
        li = checker.lexicon_index(c["lexicon"])
        texts_of = checker.text_hits

        def mentions(ctx: Any, ev: list[Evidence] | None) -> bool:
            texts = ctx.texts.get(path)
            if texts is None:
                texts = texts_of(ctx, path)
            found = False
            for where, value, th in texts:
                if li in th.lex:
                    if ev is None:
                        return True
                    found = True
                    ev.extend(checker.lexicon_evidence(where, value, th, li))
            return found

        return mentions

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset({("lex", c["field"], c["lexicon"])})]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_lexicon(side, c["field"], c["lexicon"])

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.u.mentions(side.side, c["field"], c["lexicon"])


@register
class NearOp(_WordsOp):
    op = "near"
    cost = 6
    nodes = (Near,)
    rules = ("near_atom",)
    keywords = ("near", "within", "words")
    summary = ("`FIELD mentions A near B [within N words]`: entries of A and B occur in one sentence, "
               "not overlapping, with at most N words between them")

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        names = [c for c in children if not isinstance(c, (FieldPath, tuple))]
        first, second = names[0], names[1]
        return Near(_path(lowerer, children, first), str(first), str(second), _within(children),
                    lowerer._span(meta), lowerer._tok(first), lowerer._tok(second))

    def check(self, node: Near, symbols: Any) -> Iterator[Diagnostic]:
        yield from _check_field(node, "mentions")
        yield from _check_lexicon(node.lexicon, node.name_span, symbols)
        yield from _check_lexicon(node.other, node.other_span, symbols)

    def compile(self, node: Near, env: Any) -> Compiled:
        return {"op": "near", "field": node.path.dotted, "lexicon": node.lexicon, "near": node.other,
                "within": node.within}

    def print(self, node: Near, printer: Callable[[Any, int], str], context: int) -> str:
        return f"{_prefix(node.path)}mentions {node.lexicon} near {node.other}{_within_text(node.within)}"

    def references(self, node: Near) -> Iterator[tuple[str, str, Span]]:
        yield "lexicon", node.lexicon, node.name_span
        yield "lexicon", node.other, node.other_span

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        path = c["field"]
        a = checker.lexicon_index(c["lexicon"])
        b = checker.lexicon_index(c["near"])
        within = c["within"]
        texts_of = checker.text_hits

        def near(ctx: Any, ev: list[Evidence] | None) -> bool:
            texts = ctx.texts.get(path)
            if texts is None:
                texts = texts_of(ctx, path)
            found = False
            for where, value, th in texts:
                if a not in th.lex or b not in th.lex:
                    continue
                pairs = th.near(a, b, within)
                if not pairs:
                    continue
                if ev is None:
                    return True
                found = True
                for x, y in pairs:
                    ev.append(checker.hit_evidence(where, value, th, a, x))
                    ev.append(checker.hit_evidence(where, value, th, b, y))
            return found

        return near

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset({("lex", c["field"], c["lexicon"])}), frozenset({("lex", c["field"], c["near"])})]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_lexicon(side, c["field"], c["lexicon"])
        universe.add_lexicon(side, c["field"], c["near"])
        universe.add_relation(side, c)

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.u.relation(side.side, c)


@register
class StanceOp(_WordsOp):
    op = "stance"
    cost = 10
    nodes = (Stance,)
    rules = ("disparages_atom", "praises_atom")
    keywords = ("disparages", "praises", "within", "words")
    summary = ("`FIELD disparages T` / `FIELD praises T` `[within N words]`: an entry of T occurs with words "
               "whose valence, summed over the words around it in its sentence (negation and intensifiers "
               "applied), is at least the stance threshold, negative or positive")

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        name = [c for c in children if not isinstance(c, (FieldPath, tuple))][0]
        polarity = "negative" if rule == "disparages_atom" else "positive"
        return Stance(_path(lowerer, children, name), str(name), polarity, _within(children),
                      lowerer._span(meta), lowerer._tok(name))

    def check(self, node: Stance, symbols: Any) -> Iterator[Diagnostic]:
        yield from _check_field(node, "disparages" if node.polarity == "negative" else "praises")
        yield from _check_lexicon(node.lexicon, node.name_span, symbols)

    def compile(self, node: Stance, env: Any) -> Compiled:
        env.uses_stance = True
        return {"op": "stance", "field": node.path.dotted, "lexicon": node.lexicon, "polarity": node.polarity,
                "within": node.within}

    def print(self, node: Stance, printer: Callable[[Any, int], str], context: int) -> str:
        verb = "disparages" if node.polarity == "negative" else "praises"
        return f"{_prefix(node.path)}{verb} {node.lexicon}{_within_text(node.within)}"

    def references(self, node: Stance) -> Iterator[tuple[str, str, Span]]:
        yield "lexicon", node.lexicon, node.name_span

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        path = c["field"]
        li = checker.lexicon_index(c["lexicon"])
        sign = -1 if c["polarity"] == "negative" else 1
        within = c["within"]
        texts_of = checker.text_hits

        def stance(ctx: Any, ev: list[Evidence] | None) -> bool:
            texts = ctx.texts.get(path)
            if texts is None:
                texts = texts_of(ctx, path)
            found = False
            for where, value, th in texts:
                if li not in th.lex:
                    continue
                taken = th.stance(li, sign, within)
                if not taken:
                    continue
                if ev is None:
                    return True
                found = True
                for target, words in taken:
                    ev.append(checker.hit_evidence(where, value, th, li, target, role="target"))
                    for v in words:
                        ev.append(checker.valence_evidence(where, value, th, v))
            return found

        return stance

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset({("lex", c["field"], c["lexicon"])})]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_lexicon(side, c["field"], c["lexicon"])
        universe.add_relation(side, c)

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.u.relation(side.side, c)


@register
class MatchesOp(Operator):
    op = "matches"
    cost = 3
    nodes = (Matches,)
    rules = ("matches_atom",)
    keywords = ("matches",)
    summary = "`FIELD matches PATTERN`: the pattern's RE2 regular expression matches the field"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        name = children[-1]
        return Matches(_path(lowerer, children, name), str(name), lowerer._span(meta), lowerer._tok(name))

    def check(self, node: Matches, symbols: Any) -> Iterator[Diagnostic]:
        yield from _check_field(node, "matches")
        if node.pattern not in symbols.patterns:
            yield Diagnostic("S201", f"undefined pattern `{node.pattern}`", node.name_span,
                             help=did_you_mean(node.pattern, symbols.patterns)
                             or ("that is a lexicon: use `mentions`" if node.pattern in symbols.lexicons else None)
                             or "declare it with `pattern NAME /regex/`")

    def compile(self, node: Matches, env: Any) -> Compiled:
        return {"op": "matches", "field": node.path.dotted, "pattern": node.pattern}

    def print(self, node: Matches, printer: Callable[[Any, int], str], context: int) -> str:
        return f"{_prefix(node.path)}matches {node.pattern}"

    def references(self, node: Matches) -> Iterator[tuple[str, str, Span]]:
        yield "pattern", node.pattern, node.name_span

    def uses(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield "pattern", c["pattern"]

    def searched(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield c["field"], "pat"

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        path, pat = c["field"], c["pattern"]
        hits_of = checker.pattern_hits

        def matches(ctx: Any, ev: list[Evidence] | None) -> bool:
            hits = ctx.pat.get(path)
            found = (hits if hits is not None else hits_of(ctx, path)).get(pat)
            if found and ev is not None:
                ev.extend(found)
            return bool(found)

        return matches

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset({("pat", c["field"], c["pattern"])})]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_pattern(side, c["field"], c["pattern"])

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.u.matches(side.side, c["field"], c["pattern"])
