"""Checked model → rule set (plain JSON data, see :mod:`toolkit.rules`)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from . import model as m
from .check import Symbols, example_post
from .operators import for_node
from .rules import FORMAT, VERSION
from .valence import matching_block

OUTCOME_KEYS = {
    m.Outcome.PERMITTED: "permitted",
    m.Outcome.ADVISORY: "advisory",
    m.Outcome.REQUIRES_SANCTION: "requires_sanction",
    m.Outcome.PROHIBITED: "prohibited",
}


def compile_policy(policy: m.Policy, *, content_hash: str, generator: str) -> dict[str, Any]:
    """Lower a policy that passed its checks to a rule set.

    Args:
        policy: the policy (it must have passed :func:`toolkit.check.check_policy`).
        content_hash: hash of the policy's sources, recorded for traceability.
        generator: the name and version of the tool, recorded in the output.
    """
    symbols = Symbols.of(policy)
    tz = zoneinfo.ZoneInfo(policy.meta.timezone)
    meta = policy.meta

    def instant(day: dt.date) -> str:
        # Midnight at the start of a day in the policy's time zone, in UTC.
        local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
        return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    env = _Env(symbols, instant)
    cond = env.cond

    def text(t: m.Text | None) -> str | None:
        return t.value if t is not None else None

    def citation(c: m.Citation) -> dict[str, Any]:
        inst = symbols.instruments[c.instrument]
        name = (inst.short or inst.title).value
        unit = f"{inst.unit} " if inst.unit else ""
        return {"instrument": c.instrument, "provision": c.ref, "text": f"{name}, {unit}{c.ref}"}

    clauses = []
    examples = []
    for clause, number in policy.numbered_clauses():
        assert clause.outcome is not None and clause.when is not None
        authority = None
        if clause.authority is not None:
            authority = {"id": clause.authority, "title": symbols.authorities[clause.authority].title.value}
        clauses.append(
            {
                "id": clause.id,
                "number": number,
                "title": clause.title.value,
                "topic": clause.topic,
                "outcome": OUTCOME_KEYS[clause.outcome],
                "authority": authority,
                "when": cond(clause.when),
                "unless": [{"description": e.description, "when": cond(e.condition)} for e in clause.unless],
                "citations": [citation(c) for c in clause.citations],
                "new_guidance": clause.is_new_guidance,
                "source": {"file": clause.span.source.name, "line": clause.span.line, "column": clause.span.col},
            }
        )
        for ex in clause.examples:
            examples.append(
                {
                    "clause": clause.id,
                    "title": ex.title,
                    "post": example_post(ex),
                    "expect": {"outcome": OUTCOME_KEYS[ex.outcome], "clause": ex.clause},
                    "source": {"file": ex.span.source.name, "line": ex.span.line, "column": ex.span.col},
                }
            )

    out = {
        "format": FORMAT,
        "version": VERSION,
        "generator": generator,
        "policy": {
            "id": policy.id,
            "title": text(meta.title),
            "kind": meta.kind,
            "jurisdiction": text(meta.jurisdiction),
            "number": meta.number,
            "version": meta.version,
            "issued": meta.issued.isoformat() if meta.issued else None,
            "effective": meta.effective.isoformat() if meta.effective else None,
            "expires": meta.expires.isoformat() if meta.expires else None,
            "timezone": meta.timezone,
            "languages": list(meta.languages),
            "default_outcome": OUTCOME_KEYS[meta.default_outcome],
        },
        "content_hash": content_hash,
        "topics": {t.id: t.title.value for t in policy.topics},
        "labels": {lb.id: lb.description.value for lb in policy.labels},
        "instruments": {
            i.id: {
                "title": i.title.value,
                "short": text(i.short),
                "unit": i.unit,
                "provisions": {p.ref: p.title.value for p in i.provisions},
            }
            for i in policy.instruments
        },
        "lexicons": {
            lx.id: {
                "description": lx.description,
                "mode": lx.mode,
                "valence": lx.valence,
                "negatable": lx.negatable,
                "role": lx.role,
                "source": lx.source,
                "entries": [{"text": e.text, "mode": lx.mode_of(e)} for e in lx.entries],
            }
            for lx in policy.lexicons
        },
        "patterns": {p.id: {"description": p.description, "regex": p.regex, "flags": p.flags} for p in policy.patterns},
        "periods": {
            p.id: {
                "description": p.description,
                "from": p.start.isoformat() if p.start else None,
                "to": p.end.isoformat() if p.end else None,
                # [start, end) in UTC: the last day is included whole.
                "start": instant(p.start) if p.start else None,
                "end": instant(p.end + dt.timedelta(days=1)) if p.end else None,
            }
            for p in policy.periods
        },
        "signals": {s.id: {"description": s.description, "when": cond(s.condition)} for s in policy.signals},
        "clauses": clauses,
        "examples": examples,
    }
    # How words are matched: after the lexicons, decided once every condition is compiled.
    matching = matching_block(env.uses_stance, meta.valence)
    return {k: v for key, value in out.items()
            for k, v in ((key, value), *((("matching", matching),) if key == "lexicons" else ()))}


class _Env:
    """What an operator's ``compile`` may use: the symbols, dates as instants, children."""

    def __init__(self, symbols: Symbols, instant: Any):
        self.symbols = symbols
        self.instant = instant
        self.uses_stance = False

    def cond(self, c: m.Condition) -> dict[str, Any]:
        return for_node(c).compile(c, self)


def compile_condition(policy: m.Policy, node: m.Condition) -> dict[str, Any]:
    """One condition of a checked policy in its compiled form (for tools that ask about a single atom)."""
    tz = zoneinfo.ZoneInfo(policy.meta.timezone)

    def instant(day: dt.date) -> str:
        local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
        return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return _Env(Symbols.of(policy), instant).cond(node)
