"""What every condition operator defines, and the registry that walkers use.

An operator is one class (one module per family of operators) that gives
every stage what it needs of it:

===================  =====================================================
front end            ``rules`` (grammar aliases it lowers), ``lower``,
                     ``children``, ``check``, ``compile``, ``print``,
                     ``references``
compiled rules       ``op`` (the name in the rule set), ``args``,
                     ``uses``, ``searched``
checker              ``evaluator``, ``triggers``
analysis (z3)        ``collect``, ``encode``
editors              ``keywords``, ``summary``
===================  =====================================================

The model node classes live with their operator; :mod:`toolkit.model`
re-exports them. Nothing here imports the parser, the model module, z3 or
the checker at import time, so the checker can use the registry without
loading the front end (tests/test_architecture.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..source import Span, no_span

if TYPE_CHECKING:  # pragma: no cover
    from ..diagnostics import Diagnostic

Compiled = dict[str, Any]
Evidence = dict[str, Any]
#: A compiled condition as the checker runs it: (per-post context, evidence or None) -> holds.
Fn = Callable[[Any, "list[Evidence] | None"], bool]


def span_field() -> Any:
    return field(default_factory=no_span, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FieldPath:
    parts: tuple[str, ...]
    span: Span = span_field()

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Value:
    """A literal in a condition: a bare name (enumeration value), string or boolean."""

    value: str | bool
    kind: str  # "name" | "string" | "bool"
    span: Span = span_field()


# Binding strength, for printing: or < and < not < atom.
PREC_OR, PREC_AND, PREC_NOT, PREC_ATOM = 1, 2, 3, 4


class Operator:
    """One condition operator. Subclasses fill in what applies to them; the defaults suit an atom."""

    #: Its name in a compiled rule set (``{"op": NAME, ...}``).
    op: ClassVar[str] = ""
    #: Other names it compiles to or reads (an operator of the model may compile to several ``op``s).
    ops: ClassVar[tuple[str, ...]] = ()
    #: The model node classes it owns.
    nodes: ClassVar[tuple[type, ...]] = ()
    #: The grammar aliases (``-> name_atom``) it lowers.
    rules: ClassVar[tuple[str, ...]] = ()
    #: Words that start or continue it, for completion in editors.
    keywords: ClassVar[tuple[str, ...]] = ()
    #: One line for hover and the operator table in docs/contributing.md.
    summary: ClassVar[str] = ""
    #: A rough cost of deciding it on a post, relative to a field comparison (1): the checker decides
    #: the cheap parts of an `and` or an `or` first, so a costly stance is often never computed.
    cost: ClassVar[int] = 1

    # -- front end ------------------------------------------------------------

    def lower(self, lowerer: Any, rule: str, meta: Any, children: list[Any]) -> Any:
        raise NotImplementedError(rule)

    def children(self, node: Any) -> tuple[Any, ...]:
        """The sub-conditions of a model node."""
        return ()

    def check(self, node: Any, symbols: Any) -> Iterator[Diagnostic]:
        """Semantic diagnostics of a model node (its own, not its children's)."""
        return iter(())

    def compile(self, node: Any, env: Any) -> Compiled:
        """The node in the rule set; ``env.cond`` compiles a child, ``env.instant`` a date."""
        raise NotImplementedError(type(node).__name__)

    def print(self, node: Any, printer: Callable[[Any, int], str], context: int) -> str:
        """Canonical text of the node; ``printer(child, precedence)`` prints a child."""
        raise NotImplementedError(type(node).__name__)

    def references(self, node: Any) -> Iterator[tuple[str, str, Span]]:
        """Declarations the node names: (kind, name, span of the name)."""
        return iter(())

    # -- compiled rules ------------------------------------------------------

    def args(self, c: Compiled) -> tuple[Compiled, ...]:
        """The sub-conditions of a compiled node."""
        return ()

    def uses(self, c: Compiled) -> Iterator[tuple[str, str]]:
        """Declarations of the rule set the compiled node rests on: (kind, name)."""
        return iter(())

    def searched(self, c: Compiled) -> Iterator[tuple[str, str]]:
        """Text fields the node searches: (path, "lex" | "pat")."""
        return iter(())

    # -- checker ---------------------------------------------------------------

    def evaluator(self, c: Compiled, checker: Any) -> Fn:
        raise NotImplementedError(c["op"])

    def triggers(self, c: Compiled, sub: Callable[[Compiled], list[frozenset[tuple[Any, ...]]]]
                 ) -> list[frozenset[tuple[Any, ...]]]:
        """Necessary sets of trigger atoms: if the node holds, each set has an atom that holds."""
        return []

    # -- analysis -----------------------------------------------------------------

    def collect(self, c: Compiled, side: int, universe: Any) -> None:
        """Register the atoms the node needs in the analysis universe."""

    def encode(self, c: Compiled, side: Any) -> Any:
        """The node as a z3 formula; ``side.enc`` encodes a child."""
        raise NotImplementedError(c["op"])


_BY_OP: dict[str, Operator] = {}
_BY_NODE: dict[type, Operator] = {}
_BY_RULE: dict[str, Operator] = {}
OPERATORS: list[Operator] = []


def register(cls: type[Operator]) -> type[Operator]:
    """Class decorator: add an operator to the registry."""
    op = cls()
    OPERATORS.append(op)
    for name in (cls.op, *cls.ops):
        if name:
            if name in _BY_OP:
                raise AssertionError(f"two operators compile to `{name}`")
            _BY_OP[name] = op
    for node in cls.nodes:
        _BY_NODE[node] = op
    for rule in cls.rules:
        _BY_RULE[rule] = op
    return cls


def for_op(c: Compiled) -> Operator:
    """The operator of a compiled condition."""
    try:
        return _BY_OP[c["op"]]
    except KeyError:
        raise ValueError(f"unknown condition operator {c.get('op')!r}") from None


def for_node(node: Any) -> Operator:
    """The operator of a model node."""
    return _BY_NODE[type(node)]


def rule_operators() -> dict[str, Operator]:
    """Grammar alias → operator, for the lowering."""
    return dict(_BY_RULE)


def walk(node: Any) -> Iterator[Any]:
    """A model condition and every sub-condition, depth first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(for_node(n).children(n)))


def cost(c: Compiled, signals: dict[str, Any], memo: dict[str, int] | None = None) -> int:
    """The rough cost of deciding a compiled condition: its operators' costs summed, a signal's
    definition counted once (the checker remembers a signal's value for the post)."""
    memo = {} if memo is None else memo
    if c["op"] == "signal":
        name = c["signal"]
        if name not in memo:
            memo[name] = 1  # a signal that refers to itself cannot occur; this only guards the recursion
            memo[name] = cost(signals[name]["when"], signals, memo) if name in signals else 1
        return memo[name]
    op = for_op(c)
    return op.cost + sum(cost(a, signals, memo) for a in op.args(c))


def walk_compiled(c: Compiled, signals: dict[str, Any] | None = None) -> Iterator[Compiled]:
    """A compiled condition and every sub-condition; with ``signals``, through the signals it uses (once each)."""
    stack = [c]
    seen: set[str] = set()
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(for_op(n).args(n)))
        if signals is not None and n["op"] == "signal" and n["signal"] not in seen:
            seen.add(n["signal"])
            stack.append(signals[n["signal"]]["when"])


def uses(c: Compiled, signals: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    """Every declaration a compiled condition rests on (through signals, when given)."""
    out: set[tuple[str, str]] = set()
    for n in walk_compiled(c, signals):
        out.update(for_op(n).uses(n))
    return out
