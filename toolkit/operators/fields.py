"""``field is v``, ``field is not v``, ``field in [..]``, ``field not in [..]``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean
from ..postschema import FIELDS, GROUPS
from ..source import Span
from .base import Compiled, Evidence, FieldPath, Fn, Operator, Value, register, span_field


@dataclass(frozen=True, slots=True)
class Compare:
    """``field is v`` / ``field is not v`` / ``field in [..]`` / ``field not in [..]``."""

    path: FieldPath
    values: tuple[Value, ...]
    negated: bool
    is_list: bool
    span: Span = span_field()


def field_help(path: str) -> str | None:
    hint = did_you_mean(path, FIELDS)
    if hint:
        return hint
    if path in GROUPS:
        inner = sorted(p for p in FIELDS if p.startswith(path + "."))
        return f"`{path}` is a group; name one of its fields: {', '.join(inner)}"
    return None


def compare_hint(path: str) -> str | None:
    ft = FIELDS[path]
    if ft.kind == "enum":
        return f"compare it: `{path} is {ft.values[0]}`"
    if ft.kind == "bool":
        return f"test it on its own: `{path}`"
    if ft.kind == "datetime":
        return "use `posted during PERIOD`, `posted before DATE` or `posted after DATE`"
    return None


def print_value(v: Value) -> str:
    from ..printer import quote

    if v.kind == "bool":
        return "true" if v.value else "false"
    if v.kind == "name":
        return str(v.value)
    return quote(str(v.value))


def fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


@register
class InOp(Operator):
    op = "in"
    nodes = (Compare,)
    rules = ("is_atom", "is_not_atom", "in_atom", "not_in_atom")
    keywords = ("is", "in")
    summary = "`FIELD is VALUE`, `FIELD in [V, …]` (and their `not` forms): the post's field has one of the values"

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        path, values = children
        vals = values if isinstance(values, tuple) else (values,)
        negated = rule in ("is_not_atom", "not_in_atom")
        is_list = rule in ("in_atom", "not_in_atom")
        return Compare(path, tuple(Value(v.value, v.kind, v.span) for v in vals), negated, is_list,
                       lowerer._span(meta))

    def check(self, node: Compare, symbols: Any) -> Iterator[Diagnostic]:
        path = node.path.dotted
        ft = FIELDS.get(path)
        if ft is None:
            yield Diagnostic("S204", f"posts have no field `{path}`", node.path.span, help=field_help(path))
            return
        if ft.kind == "datetime":
            yield Diagnostic("S206", f"`{path}` cannot be compared with `is`", node.span, help=compare_hint(path))
            return
        for value in node.values:
            if ft.kind == "enum":
                if value.kind == "bool" or value.value not in ft.values:
                    shown = ("true" if value.value else "false") if value.kind == "bool" else value.value
                    yield Diagnostic("S205", f"`{shown}` is not a value of `{path}`", value.span,
                                     help=did_you_mean(str(value.value), ft.values)
                                     or f"`{path}` is one of: {', '.join(ft.values)}")
            elif ft.kind == "bool":
                if value.kind != "bool":
                    yield Diagnostic("S206", f"`{path}` is yes/no; compare it with `true` or `false`", value.span)
            elif value.kind == "bool":
                yield Diagnostic("S206", f"`{path}` holds text, not yes/no", value.span,
                                 help=f'write the value in quotes: `{path} is "…"`')

    def compile(self, node: Compare, env: Any) -> Compiled:
        out: Compiled = {"op": "in", "field": node.path.dotted, "values": [v.value for v in node.values]}
        return {"op": "not", "arg": out} if node.negated else out

    def print(self, node: Compare, printer: Callable[[Any, int], str], context: int) -> str:
        path = node.path.dotted
        if node.is_list:
            values = "[" + ", ".join(print_value(v) for v in node.values) + "]"
            return f"{path} {'not in' if node.negated else 'in'} {values}"
        return f"{path} is {'not ' if node.negated else ''}{print_value(node.values[0])}"

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        path = c["field"]
        wanted = c["values"]
        folds = not all(isinstance(v, bool) for v in wanted)
        wanted_set = {fold(v) for v in wanted}
        values_of = checker.accessor(path)

        def compare(ctx: Any, ev: list[Evidence] | None) -> bool:
            for where, value in values_of(ctx.post):
                key = value.casefold() if folds and isinstance(value, str) else value
                if key in wanted_set:
                    if ev is not None:
                        ev.append({"field": where, "value": value})
                    return True
            return False

        return compare

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        return [frozenset(("field", c["field"], fold(v)) for v in c["values"])]

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        universe.add_field(c["field"], c["values"])

    def encode(self, c: Compiled, side: Any) -> Any:
        return side.u.field_in(c["field"], c["values"])
