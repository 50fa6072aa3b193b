"""Condition operators, each defined once for every stage (see :mod:`toolkit.operators.base`).

A new operator is one class in a module here (registered with
:func:`register`), its grammar alias in grammar/policy.lark, its model node
in :data:`toolkit.model.Condition`, and its documentation; docs/contributing.md
has the list.
"""

from __future__ import annotations

from . import fields, logic, events, words  # noqa: F401  (registers the operators)
from .base import (
    OPERATORS,
    PREC_AND,
    PREC_ATOM,
    PREC_NOT,
    PREC_OR,
    Compiled,
    Evidence,
    FieldPath,
    Fn,
    Operator,
    Value,
    for_node,
    for_op,
    register,
    rule_operators,
    uses,
    walk,
    walk_compiled,
)
from .events import During, Labelled, PostedAfter, PostedBefore, instant, label_field
from .fields import Compare
from .logic import And, Not, Or, Ref, trigger_cost
from .words import Matches, Mentions, Near, Stance

__all__ = [
    "OPERATORS", "PREC_AND", "PREC_ATOM", "PREC_NOT", "PREC_OR", "Compiled", "Evidence", "FieldPath", "Fn",
    "Operator", "Value", "for_node", "for_op", "register", "rule_operators", "uses", "walk", "walk_compiled",
    "During", "Labelled", "PostedAfter", "PostedBefore", "instant", "label_field", "Compare", "And", "Not", "Or",
    "Ref", "trigger_cost", "Matches", "Mentions", "Near", "Stance",
]
