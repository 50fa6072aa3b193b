"""Facts about a post that are not its words: ``labelled L``, ``posted during P``, ``posted before/after D``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean
from ..source import Span
from .base import Compiled, Evidence, Fn, Operator, register, span_field


@dataclass(frozen=True, slots=True)
class Labelled:
    label: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class During:
    period: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class PostedBefore:
    date: dt.date
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class PostedAfter:
    date: dt.date
    span: Span = span_field()


def label_field(post: dict[str, Any], label: str) -> str:
    """Where a label was set: the post's labels, or an attached item's."""
    if label in post["labels"]:
        return "labels"
    for i, item in enumerate(post["media"]):
        if label in (item.get("labels") or ()):
            return f"media[{i}].labels"
    return "labels"


def instant(value: str | None) -> float:
    if value is None:
        return float("nan")
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@register
class LabelledOp(Operator):
    op = "labelled"
    nodes = (Labelled,)
    rules = ("labelled_atom",)
    keywords = ("labelled",)
    summary = "`labelled LABEL`: a reviewer or a classifier set the label on the post or an attached item"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return Labelled(str(children[0]), lowerer._span(meta))

    def check(self, node: Labelled, symbols: Any) -> Iterator[Diagnostic]:
        if node.label not in symbols.labels:
            yield Diagnostic("S201", f"undefined label `{node.label}`", node.span,
                             help=did_you_mean(node.label, symbols.labels) or "declare it with `label NAME \"…\"`")

    def compile(self, node: Labelled, env: Any) -> Compiled:
        return {"op": "labelled", "label": node.label}

    def print(self, node: Labelled, printer: Callable[[Any, int], str], context: int) -> str:
        return f"labelled {node.label}"

    def references(self, node: Labelled) -> Iterator[tuple[str, str, Span]]:
        yield "label", node.label, node.span

    def uses(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield "label", c["label"]

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        label = c["label"]

        def labelled(ctx: Any, ev: list[Evidence] | None) -> bool:
            if label in ctx.labels:
                if ev is not None:
                    ev.append({"field": label_field(ctx.post, label), "value": label})
                return True
            return False

        return labelled

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset({("label", c["label"])})]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_label(c["label"])

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.u.labels[c["label"]]


@register
class DuringOp(Operator):
    op = "during"
    nodes = (During,)
    rules = ("during_atom",)
    keywords = ("posted", "during")
    summary = "`posted during PERIOD`: the post's time falls in the period (its last day included)"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return During(str(children[0]), lowerer._span(meta))

    def check(self, node: During, symbols: Any) -> Iterator[Diagnostic]:
        if node.period not in symbols.periods:
            yield Diagnostic("S201", f"undefined period `{node.period}`", node.span,
                             help=did_you_mean(node.period, symbols.periods)
                             or "declare it with `period NAME from DATE to DATE`")

    def compile(self, node: During, env: Any) -> Compiled:
        return {"op": "during", "period": node.period}

    def print(self, node: During, printer: Callable[[Any, int], str], context: int) -> str:
        return f"posted during {node.period}"

    def references(self, node: During) -> Iterator[tuple[str, str, Span]]:
        yield "period", node.period, node.span

    def uses(self, c: Compiled) -> Iterator[tuple[str, str]]:
        yield "period", c["period"]

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        period = c["period"]
        start, end = checker.periods[period]

        def during(ctx: Any, ev: list[Evidence] | None) -> bool:
            ts = ctx.ts
            if ts is not None and start <= ts < end:
                if ev is not None:
                    ev.append({"field": "posted_at", "value": ctx.post["posted_at"], "period": period})
                return True
            return False

        return during

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset({("period", c["period"])})]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        period = universe.rulesets[side]["periods"][c["period"]]
        universe.add_cut(instant(period["start"]))
        universe.add_cut(instant(period["end"]))

    def encode(self, c: Compiled, side: Any) -> Any:
        period = side.rs["periods"][c["period"]]
        return side.u.segment_range(instant(period["start"]), instant(period["end"]))


class _PostedOp(Operator):
    before: bool = True

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        before = self.before
        limit = instant(c["instant"])

        def posted(ctx: Any, ev: list[Evidence] | None) -> bool:
            ts = ctx.ts
            ok = ts is not None and (ts < limit if before else ts >= limit)
            if ok and ev is not None:
                ev.append({"field": "posted_at", "value": ctx.post["posted_at"]})
            return ok

        return posted

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_cut(instant(c["instant"]))

    def encode(self, c: Compiled, side: Any) -> Any:
        at = instant(c["instant"])
        return side.u.segment_range(None, at) if self.before else side.u.segment_range(at, None)


@register
class PostedBeforeOp(_PostedOp):
    op = "posted_before"
    nodes = (PostedBefore,)
    rules = ("before_atom",)
    keywords = ("posted", "before")
    summary = "`posted before DATE`: the post was made before the start of the day, in the policy's time zone"
    before = True

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return PostedBefore(lowerer._date(children[0]) or dt.date.min, lowerer._span(meta))

    def compile(self, node: PostedBefore, env: Any) -> Compiled:
        return {"op": "posted_before", "instant": env.instant(node.date)}

    def print(self, node: PostedBefore, printer: Callable[[Any, int], str], context: int) -> str:
        return f"posted before {node.date.isoformat()}"


@register
class PostedAfterOp(_PostedOp):
    op = "posted_after"
    nodes = (PostedAfter,)
    rules = ("after_atom",)
    keywords = ("posted", "after")
    summary = "`posted after DATE`: the post was made after the end of the day, in the policy's time zone"
    before = False

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        return PostedAfter(lowerer._date(children[0]) or dt.date.max, lowerer._span(meta))

    def compile(self, node: PostedAfter, env: Any) -> Compiled:
        return {"op": "posted_after", "instant": env.instant(node.date + dt.timedelta(days=1))}

    def print(self, node: PostedAfter, printer: Callable[[Any, int], str], context: int) -> str:
        return f"posted after {node.date.isoformat()}"
