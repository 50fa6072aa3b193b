"""``and``, ``or``, ``not`` and bare names (a signal, or a yes/no field of the post)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean
from ..postschema import FIELDS, GROUPS
from ..source import Span
from .base import (
    PREC_AND,
    PREC_NOT,
    PREC_OR,
    Compiled,
    Evidence,
    FieldPath,
    Fn,
    Operator,
    register,
    span_field,
)
from .fields import compare_hint, field_help


@dataclass(frozen=True, slots=True)
class And:
    args: tuple[Any, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Or:
    args: tuple[Any, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Not:
    arg: Any
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Ref:
    """A bare name: a signal, or a boolean field of the post."""

    path: FieldPath
    span: Span = span_field()


@register
class AllOp(Operator):
    op = "all"
    nodes = (And,)
    rules = ("and_cond",)
    keywords = ("and",)
    summary = "`A and B`: both hold"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return And(tuple(children), lowerer._span(meta))

    def children(self, node: And) -> tuple[Any, ...]:
        return node.args

    def compile(self, node: And, env: Any) -> Compiled:
        return {"op": "all", "args": [env.cond(a) for a in node.args]}

    def print(self, node: And, printer: Callable[[Any, int], str], context: int) -> str:
        body = " and ".join(printer(a, PREC_AND + 1) for a in node.args)
        return f"({body})" if context > PREC_AND else body

    def args(self, c: Compiled) -> tuple[Compiled, ...]:
        return tuple(c["args"])

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        parts = [checker.compile(a) for a in c["args"]]
        cheap_first = _cheap_first(parts, c["args"], checker)

        def all_(ctx: Any, ev: list[Evidence] | None) -> bool:
            if ev is None:
                return all(p(ctx, None) for p in cheap_first)
            local: list[Evidence] = []
            for p in parts:
                if not p(ctx, local):
                    return False
            ev.extend(local)
            return True

        return all_

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        # Every conjunct's necessary sets are necessary for the whole.
        return [t for arg in c["args"] for t in sub(arg)]

    def encode(self, c: Compiled, side: Any) -> Any:
        import z3

        return z3.And([side.enc(a) for a in c["args"]], side.u.ctx)


@register
class AnyOp(Operator):
    op = "any"
    nodes = (Or,)
    rules = ("or_cond",)
    keywords = ("or",)
    summary = "`A or B`: either holds"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return Or(tuple(children), lowerer._span(meta))

    def children(self, node: Or) -> tuple[Any, ...]:
        return node.args

    def compile(self, node: Or, env: Any) -> Compiled:
        return {"op": "any", "args": [env.cond(a) for a in node.args]}

    def print(self, node: Or, printer: Callable[[Any, int], str], context: int) -> str:
        # A nested `or` keeps its parentheses, so the tree survives a round trip.
        body = " or ".join(printer(a, PREC_OR + 1) for a in node.args)
        return f"({body})" if context > PREC_OR else body

    def args(self, c: Compiled) -> tuple[Compiled, ...]:
        return tuple(c["args"])

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        parts = [checker.compile(a) for a in c["args"]]
        cheap_first = _cheap_first(parts, c["args"], checker)

        def any_(ctx: Any, ev: list[Evidence] | None) -> bool:
            if ev is None:
                return any(p(ctx, None) for p in cheap_first)
            found = False
            for p in parts:
                local: list[Evidence] = []
                if p(ctx, local):
                    found = True
                    ev.extend(local)
            return found

        return any_

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        # Some disjunct holds, so the union of one necessary set of each is necessary.
        union: set[tuple[Any, ...]] = set()
        for arg in c["args"]:
            found = sub(arg)
            if not found:
                return []
            union |= min(found, key=trigger_cost)
        return [frozenset(union)]

    def encode(self, c: Compiled, side: Any) -> Any:
        import z3

        return z3.Or([side.enc(a) for a in c["args"]], side.u.ctx)


def trigger_cost(trigger: frozenset[tuple[Any, ...]]) -> int:
    """How costly a necessary set is to index by: field values are common, words rare."""
    return sum(10 if atom[0] == "field" else 1 for atom in trigger)


@register
class NotOp(Operator):
    op = "not"
    nodes = (Not,)
    rules = ("not_cond",)
    keywords = ("not",)
    summary = "`not A`: A does not hold"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return Not(children[0], lowerer._span(meta))

    def children(self, node: Not) -> tuple[Any, ...]:
        return (node.arg,)

    def compile(self, node: Not, env: Any) -> Compiled:
        return {"op": "not", "arg": env.cond(node.arg)}

    def print(self, node: Not, printer: Callable[[Any, int], str], context: int) -> str:
        return "not " + printer(node.arg, PREC_NOT)

    def args(self, c: Compiled) -> tuple[Compiled, ...]:
        return (c["arg"],)

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        inner = checker.compile(c["arg"])
        return lambda ctx, ev: not inner(ctx, None)

    # A negation is usually true: not worth indexing (no triggers).

    def encode(self, c: Compiled, side: Any) -> Any:
        import z3

        return z3.Not(side.enc(c["arg"]))


@register
class RefOp(Operator):
    """A bare name. It compiles to ``signal``, or to ``in`` ``[true]`` for a yes/no field."""

    op = "signal"
    nodes = (Ref,)
    rules = ("ref_atom",)
    summary = "`NAME`: the signal NAME holds (or the yes/no field NAME is true)"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return Ref(children[0], lowerer._span(meta))

    def check(self, node: Ref, symbols: Any) -> Iterator[Diagnostic]:
        path = node.path.dotted
        if len(node.path.parts) == 1 and path in symbols.signals:
            return
        ft = FIELDS.get(path)
        if ft is not None:
            if ft.kind != "bool":
                yield Diagnostic("S206", f"`{path}` is not a yes/no field", node.span, help=compare_hint(path))
            return
        if path in GROUPS:
            yield Diagnostic("S206", f"`{path}` is a group of fields, not a condition", node.span,
                             help=field_help(path))
            return
        if len(node.path.parts) == 1:
            yield Diagnostic(
                "S201", f"undefined signal `{path}`", node.span,
                help=did_you_mean(path, [*symbols.signals, *(p for p, f in FIELDS.items() if f.kind == "bool")])
                or ("that is a label: write `labelled " + path + "`" if path in symbols.labels else None)
                or ("that is a period: write `posted during " + path + "`" if path in symbols.periods else None)
                or "declare it with `signal NAME means CONDITION`",
            )
        else:
            yield Diagnostic("S204", f"posts have no field `{path}`", node.path.span, help=field_help(path))

    def compile(self, node: Ref, env: Any) -> Compiled:
        path = node.path.dotted
        if len(node.path.parts) == 1 and path in env.symbols.signals:
            return {"op": "signal", "signal": path}
        return {"op": "in", "field": path, "values": [True]}

    def print(self, node: Ref, printer: Callable[[Any, int], str], context: int) -> str:
        return node.path.dotted

    def references(self, node: Ref) -> Iterator[tuple[str, str, Span]]:
        if len(node.path.parts) == 1:
            yield "signal", node.path.parts[0], node.span

    def uses(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield "signal", c["signal"]

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        name = c["signal"]

        def signal(ctx: Any, ev: list[Evidence] | None) -> bool:
            if ev is None:
                cached = ctx.signals.get(name)
                if cached is None:
                    cached = ctx.signals[name] = checker.signal_fn(name)(ctx, None)
                return bool(cached)
            return checker.signal_fn(name)(ctx, ev)

        return signal

    # Triggers: the checker's walker follows a signal into its definition, once (see
    # Checker.necessary), so a signal has no triggers of its own.

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.signal(c["signal"])


def _cheap_first(parts: list[Fn], args: list[Compiled], checker: Any) -> list[Fn]:
    """The parts of an `and` or an `or` in the order to decide them: cheapest first (the result is
    the same in any order; evidence is gathered from every part, in the written order)."""
    from .base import cost

    memo: dict[str, int] = checker.__dict__.setdefault("_cost_memo", {})
    signals = checker.ruleset["signals"]
    order = sorted(range(len(parts)), key=lambda i: cost(args[i], signals, memo))
    return [parts[i] for i in order]
