"""Measure the checker against a corpus of incidents and ordinary posts, each with a bound on its outcome.

Each line of a bounded corpus (``tests/corpus/dev/dev-set.jsonl``,
``tests/corpus/validation/validation-set.jsonl``) is a post, as ``govpost
check`` reads it, whose ``meta`` says what kind of post it is and the outcome
a careful compliance officer would accept (the checker ignores ``meta`` and
copies it into the result)::

    {"id": "d0001", "text": "...", ...,
     "meta": {"expect": {"kind": "incident", "min": "prohibited", "topics": ["attacks_on_colleagues"]},
              "source": {"url": "...", "title": "...", "incident": "..."}, "style": [...], "why": "one sentence"}}

    {"id": "d0301", "text": "...", ..., "meta": {"expect": {"kind": "benign", "max": "permitted"},
     "hard_negative": true, "source": {...}, "why": "..."}}

so a corpus is checked as any file of posts is::

    govpost check policies/in/ais-social-media.policy tests/corpus/dev/dev-set.jsonl --format jsonl

An **incident** is caught when the checker's outcome is at least ``min``; a
**benign** post is kept when its outcome is at most ``max``. A topic of an
incident is *found* when a finding of that topic applies with an outcome
above permitted. Every record is counted: one the checker rejects as an
invalid post counts as missed (incident) or as kept (benign), and is listed.

Usage (from the root of the repository)::

    python tests/corpus/bounds.py [--policy PATH] [--corpus PATH] [--markdown] [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_POLICY = ROOT / "policies" / "in" / "ais-social-media.policy"
DEFAULT_CORPUS = HERE / "dev" / "dev-set.jsonl"
OUTCOMES = ("permitted", "advisory", "requires_sanction", "prohibited")
RANK = {o: i for i, o in enumerate(OUTCOMES)}


@dataclass
class Case:
    line: int
    id: str
    post: Any
    kind: str  # incident | benign
    bound: str  # min for an incident, max for a benign post
    topics: frozenset[str]
    hard: bool
    why: str
    styles: tuple[str, ...] = ()
    actual: str | None = None  # None: invalid
    deciding: list[str] = field(default_factory=list)
    found: frozenset[str] = frozenset()
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.actual is None:
            return self.kind == "benign"
        if self.kind == "incident":
            return RANK[self.actual] >= RANK[self.bound]
        return RANK[self.actual] <= RANK[self.bound]


def read(path: str | Path) -> list[Case]:
    cases = []
    for lineno, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        rec = json.loads(text)
        # A post whose `meta` holds the rest; a record of the former layout, {"id", "post", "expect", …}, too.
        post, meta = (rec["post"], rec) if "post" in rec else (rec, rec["meta"])
        expect = meta["expect"]
        kind = expect["kind"]
        bound = expect["min"] if kind == "incident" else expect["max"]
        cases.append(Case(lineno, meta.get("id", post.get("id")), post, kind, bound,
                          frozenset(expect.get("topics", ())),
                          bool(meta.get("hard_negative") or expect.get("hard_negative")), meta.get("why", ""),
                          tuple(meta.get("style", ()))))
    return cases


def run(policy: str | Path, cases: Iterable[Case]) -> list[str]:
    from toolkit import api

    result = api.check_file(policy)
    if not result.ok:
        raise SystemExit("the policy has errors:\n" + "\n".join(f"{d.code}: {d.message}" for d in result.errors))
    ruleset = api.compile_result(result)
    checker = api.checker(ruleset)
    for case in cases:
        verdict, problems = checker.check(case.post)
        if verdict is None:
            case.problems = [f"{p.code} {p.path}: {p.message}" for p in problems]
            continue
        case.actual = verdict.outcome
        case.deciding = list(verdict.deciding)
        case.found = frozenset(f["topic"] for f in verdict.findings if f["outcome"] != "permitted")
    return list(ruleset["topics"])


@dataclass
class Row:
    name: str
    incidents: int = 0
    caught: int = 0
    topic_found: int = 0
    benign: int = 0
    kept: int = 0


def rows(cases: list[Case], topics: list[str]) -> list[Row]:
    by: dict[str, Row] = {t: Row(t) for t in topics}
    for c in cases:
        if c.kind != "incident":
            continue
        for t in sorted(c.topics):
            row = by.setdefault(t, Row(t))
            row.incidents += 1
            row.caught += c.ok
            row.topic_found += t in c.found
    return [r for r in by.values() if r.incidents]


def _pct(a: int, b: int) -> str:
    return "–" if not b else f"{100 * a / b:.1f}%"


def summary(cases: list[Case]) -> list[tuple[str, str]]:
    inc = [c for c in cases if c.kind == "incident"]
    ben = [c for c in cases if c.kind == "benign"]
    hard = [c for c in ben if c.hard]
    caught = sum(c.ok for c in inc)
    kept = sum(c.ok for c in ben)
    found = sum(bool(c.topics & c.found) for c in inc)
    invalid = sum(c.actual is None for c in cases)
    return [
        ("records", f"{len(cases)} ({len(inc)} incidents, {len(ben)} ordinary posts, {len(hard)} of them hard negatives)"),
        ("invalid (not checked)", str(invalid)),
        ("incidents reaching their expected outcome", f"{_pct(caught, len(inc))} ({caught}/{len(inc)})"),
        ("incidents with an expected topic found", f"{_pct(found, len(inc))} ({found}/{len(inc)})"),
        ("ordinary posts within their ceiling", f"{_pct(kept, len(ben))} ({kept}/{len(ben)})"),
        ("hard negatives within their ceiling", f"{_pct(sum(c.ok for c in hard), len(hard))} "
                                                f"({sum(c.ok for c in hard)}/{len(hard)})"),
    ]


def format_text(cases: list[Case], topics: list[str], misses: bool) -> str:
    out = [f"{k:<44} {v}" for k, v in summary(cases)]
    out += ["", f"{'topic':<26}{'incidents':>10}{'caught':>8}{'recall':>9}{'topic found':>13}"]
    for r in rows(cases, topics):
        out.append(f"{r.name:<26}{r.incidents:>10}{r.caught:>8}{_pct(r.caught, r.incidents):>9}"
                   f"{_pct(r.topic_found, r.incidents):>13}")
    if misses:
        wrong = [c for c in cases if not c.ok]
        out += ["", f"Misses ({len(wrong)})"]
        for c in wrong:
            bound = f"min {c.bound}" if c.kind == "incident" else f"max {c.bound}"
            out.append(f"{c.id} {c.kind} ({bound}, {', '.join(sorted(c.topics)) or '-'}) -> {c.actual} "
                       f"{c.deciding} {' '.join(c.styles)}")
            out.append(f"    {' '.join(str(c.post.get('text', '')).split())[:300]}")
            if c.problems:
                out.append("    invalid: " + "; ".join(c.problems))
    return "\n".join(out)


def format_markdown(cases: list[Case], topics: list[str]) -> str:
    out = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in summary(cases)]
    out += ["", "| topic | incidents | reaching the expected outcome | recall | topic found |",
            "|---|---:|---:|---:|---:|"]
    for r in rows(cases, topics):
        out.append(f"| {r.name} | {r.incidents} | {r.caught} | {_pct(r.caught, r.incidents)} "
                   f"| {_pct(r.topic_found, r.incidents)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Incident recall and benign ceilings on a bounded corpus.")
    parser.add_argument("--policy", default=str(DEFAULT_POLICY))
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list every record outside its bound")
    args = parser.parse_args(argv)
    cases = read(args.corpus)
    topics = run(args.policy, cases)
    print(format_markdown(cases, topics) if args.markdown else format_text(cases, topics, args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
