"""Comparing two different policies topic by topic (the AIS policy against the UK's).

Returns data, not text: the command line renders it, and the circular's
comparison annex is built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .analysis import Analyzer, Relation, Witness


@dataclass(frozen=True)
class ClauseRef:
    id: str
    number: str
    title: str
    outcome: str
    citations: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "title": self.title, "outcome": self.outcome,
                "citations": list(self.citations)}


@dataclass(frozen=True)
class PolicyRef:
    id: str
    title: str
    jurisdiction: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "jurisdiction": self.jurisdiction}


@dataclass(frozen=True)
class TopicComparison:
    """One topic: each policy's clauses on it, and how A relates to B there.

    ``relation`` is ``stricter`` (A gives some post a stronger outcome than B
    and none a weaker one), ``looser``, ``mixed``, ``equivalent``,
    ``only_a`` or ``only_b``. Witnesses show a post on which they differ;
    ``stricter`` is a post A treats more strictly than B.
    """

    topic: str
    title: str
    a_clauses: tuple[ClauseRef, ...]
    b_clauses: tuple[ClauseRef, ...]
    relation: str
    stricter: Witness | None = None
    looser: Witness | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "title": self.title,
            "relation": self.relation,
            "a_clauses": [c.to_json() for c in self.a_clauses],
            "b_clauses": [c.to_json() for c in self.b_clauses],
            "stricter_witness": self.stricter.to_json("b", "a") if self.stricter else None,
            "looser_witness": self.looser.to_json("b", "a") if self.looser else None,
        }


@dataclass(frozen=True)
class Comparison:
    a: PolicyRef
    b: PolicyRef
    overall: Relation
    topics: tuple[TopicComparison, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "overall": self.overall.to_json("b", "a"),
            "topics": [t.to_json() for t in self.topics],
        }


def _policy(rs: dict[str, Any]) -> PolicyRef:
    p = rs["policy"]
    return PolicyRef(p["id"], p["title"], p.get("jurisdiction"))


def _clauses(rs: dict[str, Any], topic: str) -> tuple[ClauseRef, ...]:
    return tuple(
        ClauseRef(c["id"], c["number"], c["title"], c["outcome"], tuple(ct["text"] for ct in c["citations"]))
        for c in rs["clauses"]
        if c["topic"] == topic
    )


def compare_rulesets(a: dict[str, Any], b: dict[str, Any]) -> Comparison:
    """Compare policy A with policy B, topic by topic, exactly.

    Topics are matched by id; their order is A's declaration order, then B's.
    Within a topic only that topic's clauses count, and a post no clause of
    the topic applies to counts as permitted.
    """
    analyzer = Analyzer(b, a)  # the reference (left) is B: relations read "A is stricter than B"
    titles: dict[str, str] = {}
    for rs in (a, b):
        for tid, title in rs["topics"].items():
            titles.setdefault(tid, title)
    used = [t for t in titles if _clauses(a, t) or _clauses(b, t)]
    topics = []
    for tid in used:
        ac, bc = _clauses(a, tid), _clauses(b, tid)
        if not bc:
            topics.append(TopicComparison(tid, titles[tid], ac, bc, "only_a"))
            continue
        if not ac:
            topics.append(TopicComparison(tid, titles[tid], ac, bc, "only_b"))
            continue
        rel = analyzer.relation([c.id for c in bc], [c.id for c in ac])
        topics.append(TopicComparison(tid, titles[tid], ac, bc, rel.verdict, rel.stricter, rel.looser))
    return Comparison(_policy(a), _policy(b), analyzer.relation(), tuple(topics))
