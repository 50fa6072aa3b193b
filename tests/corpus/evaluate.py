"""Measure the checker against the labelled corpus of All India Services posts.

Each line of ``ais-posts.jsonl`` is a post, as ``govpost check`` reads it, whose
``meta`` holds what a careful compliance officer applying the AIS policy would
decide about it (the checker ignores ``meta`` and copies it into the result)::

    {"id": "c001", "text": "...", ...,
     "meta": {"expect": {"outcome": "prohibited", "topics": ["political_neutrality"]}, "why": "one sentence"}}

so the file is checked as any file of posts is::

    govpost check policies/in/ais-social-media.policy tests/corpus/ais-posts.jsonl --format jsonl

This script checks every post with the policy through the public API and
reports how far the checker agrees:

- outcome accuracy: exact match of the four-level outcome;
- a confusion matrix of expected against actual outcomes;
- per topic: support, true and false positives, false negatives, precision
  and recall. A topic is *expected* for a post when it is listed in
  ``expect.topics``, and *predicted* when a finding of that topic has an
  outcome above permitted;
- the misses: every record whose outcome or topics differ.

Every record is counted. A record that cannot be read, or that the checker
rejects as an invalid post, gets the actual outcome ``invalid``: it is
listed among the misses and lowers accuracy and recall; it is never skipped.

Usage (from the root of the repository)::

    python tests/corpus/evaluate.py [--policy PATH] [--corpus PATH] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_POLICY = ROOT / "policies" / "in" / "ais-social-media.policy"
DEFAULT_CORPUS = HERE / "ais-posts.jsonl"

OUTCOMES = ("permitted", "advisory", "requires_sanction", "prohibited")
INVALID = "invalid"  # the actual outcome of a record the checker could not check


@dataclass
class Case:
    """One corpus record: what is expected, and what the checker said."""

    line: int
    id: str
    post: Any
    expected: str
    expected_topics: frozenset[str]
    why: str
    actual: str = INVALID
    actual_topics: frozenset[str] = frozenset()
    deciding: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def outcome_ok(self) -> bool:
        return self.actual == self.expected

    @property
    def missing_topics(self) -> frozenset[str]:
        return self.expected_topics - self.actual_topics

    @property
    def extra_topics(self) -> frozenset[str]:
        return self.actual_topics - self.expected_topics

    @property
    def is_miss(self) -> bool:
        return not self.outcome_ok or bool(self.missing_topics) or bool(self.extra_topics)


@dataclass
class TopicScore:
    topic: str
    support: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)


@dataclass
class Report:
    """The measurement over a whole corpus."""

    policy: str
    corpus: str
    cases: list[Case]
    topics: list[str]  # the policy's topics, in declaration order

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def correct(self) -> int:
        return sum(c.outcome_ok for c in self.cases)

    @property
    def invalid(self) -> list[Case]:
        return [c for c in self.cases if c.actual == INVALID]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def misses(self) -> list[Case]:
        return [c for c in self.cases if c.is_miss]

    def confusion(self) -> dict[str, Counter[str]]:
        """expected outcome → Counter of actual outcomes (including ``invalid``)."""
        matrix: dict[str, Counter[str]] = {o: Counter() for o in OUTCOMES}
        for c in self.cases:
            matrix.setdefault(c.expected, Counter())[c.actual] += 1
        return matrix

    def topic_scores(self) -> list[TopicScore]:
        """One score per topic of the policy, then any other topic the corpus or checker names."""
        names = list(self.topics)
        for c in self.cases:
            for t in sorted(c.expected_topics | c.actual_topics):
                if t not in names:
                    names.append(t)
        scores = {t: TopicScore(t) for t in names}
        for c in self.cases:
            for t in c.expected_topics:
                scores[t].support += 1
                if t in c.actual_topics:
                    scores[t].tp += 1
                else:
                    scores[t].fn += 1
            for t in c.extra_topics:
                scores[t].fp += 1
        return [scores[t] for t in names]

    def micro(self) -> TopicScore:
        total = TopicScore("micro")
        for s in self.topic_scores():
            total.support += s.support
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    def macro(self) -> tuple[float | None, float | None]:
        """Mean precision and recall over the topics with support or predictions."""
        ps = [s.precision for s in self.topic_scores() if s.precision is not None]
        rs = [s.recall for s in self.topic_scores() if s.recall is not None]
        return (sum(ps) / len(ps) if ps else None, sum(rs) / len(rs) if rs else None)

    def flagging(self) -> TopicScore:
        """Whether a post is flagged at all (any outcome above permitted), as one binary class."""
        score = TopicScore("flagged")
        for c in self.cases:
            expected = c.expected != "permitted"
            actual = c.actual not in ("permitted", INVALID)
            score.support += expected
            score.tp += expected and actual
            score.fp += actual and not expected
            score.fn += expected and not actual
        return score


# ---------------------------------------------------------------------------
# Loading and checking
# ---------------------------------------------------------------------------


class PolicyError(Exception):
    """The policy could not be loaded; the message lists its errors."""


def load_checker(policy: str | Path) -> tuple[Any, list[str]]:
    """A checker for a policy file, through the public API, and the policy's topics."""
    from toolkit import api

    result = api.check_file(policy)
    if not result.ok:
        raise PolicyError("\n".join(f"{d.code}: {d.message}" for d in result.errors) or f"{policy}: cannot be loaded")
    ruleset = api.compile_result(result)
    return api.checker(ruleset), list(ruleset["topics"])


def read_corpus(path: str | Path) -> list[Case]:
    """Every non-blank line of a corpus file as a :class:`Case`; unreadable lines become invalid cases."""
    cases = []
    with open(path, encoding="utf-8") as f:
        for lineno, text in enumerate(f, 1):
            if not text.strip():
                continue
            cases.append(_case(lineno, text))
    return cases


def _case(lineno: int, text: str) -> Case:
    fallback_id = f"line {lineno}"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return Case(lineno, fallback_id, None, "?", frozenset(), "", problems=[f"not valid JSON: {exc.msg}"])
    if not isinstance(record, dict):
        return Case(lineno, fallback_id, None, "?", frozenset(), "", problems=["a record is a JSON object"])
    problems = []
    # A post whose `meta` holds the expectation; a record of the former layout, {"post", "expect", "why"}, too.
    post = record.get("post") if "post" in record else record
    meta = record.get("meta") if "post" not in record else record
    meta = meta if isinstance(meta, dict) else {}
    expect = meta.get("expect") if isinstance(meta.get("expect"), dict) else {}
    if not expect:
        problems.append("no `meta.expect` object")
    expected = expect.get("outcome", "?")
    if expected not in OUTCOMES:
        problems.append(f"expected outcome {expected!r} is not one of {', '.join(OUTCOMES)}")
    topics = expect.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        problems.append("`meta.expect.topics` must be a list of topic names")
        topics = []
    pid = post.get("id") if isinstance(post, dict) and isinstance(post.get("id"), str) else fallback_id
    return Case(lineno, pid, post, str(expected), frozenset(topics), str(meta.get("why", "")), problems=problems)


def run(checker: Any, cases: Iterable[Case]) -> None:
    """Check each case's post and fill in what the checker said."""
    from toolkit.rules import OUTCOMES as RANKED

    above_permitted = set(RANKED[1:])
    for case in cases:
        if case.problems:  # the record itself is malformed: nothing to check
            continue
        verdict, problems = checker.check(case.post)
        if verdict is None:
            case.actual = INVALID
            case.problems = [f"{p.code} {p.path}: {p.message}".replace(" :", ":") for p in problems]
            continue
        case.actual = verdict.outcome
        case.deciding = list(verdict.deciding)
        case.actual_topics = frozenset(f["topic"] for f in verdict.findings if f["outcome"] in above_permitted)


def evaluate(policy: str | Path = DEFAULT_POLICY, corpus: str | Path = DEFAULT_CORPUS) -> Report:
    checker, topics = load_checker(policy)
    cases = read_corpus(corpus)
    run(checker, cases)
    return Report(str(policy), str(corpus), cases, topics)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _topics(ts: Iterable[str]) -> str:
    return ", ".join(sorted(ts)) or "–"


def _summary_rows(report: Report) -> list[tuple[str, str]]:
    micro = report.micro()
    macro_p, macro_r = report.macro()
    flag = report.flagging()
    return [
        ("records", str(report.total)),
        ("invalid (not checked)", str(len(report.invalid))),
        ("outcome accuracy", f"{_pct(report.accuracy)} ({report.correct}/{report.total})"),
        ("flagged above permitted: precision / recall",
         f"{_pct(flag.precision)} / {_pct(flag.recall)} ({flag.tp} TP, {flag.fp} FP, {flag.fn} FN)"),
        ("topics, micro-averaged: precision / recall",
         f"{_pct(micro.precision)} / {_pct(micro.recall)} ({micro.tp} TP, {micro.fp} FP, {micro.fn} FN)"),
        ("topics, macro-averaged: precision / recall", f"{_pct(macro_p)} / {_pct(macro_r)}"),
    ]


def _columns(report: Report) -> list[str]:
    matrix = report.confusion()
    cols = list(OUTCOMES)
    if any(row[INVALID] for row in matrix.values()):
        cols.append(INVALID)
    return cols


def format_text(report: Report) -> str:
    out = [f"policy: {report.policy}", f"corpus: {report.corpus}", ""]
    width = max(len(k) for k, _ in _summary_rows(report))
    out += [f"{k:<{width}}  {v}" for k, v in _summary_rows(report)]

    out += ["", "Confusion matrix (rows: expected, columns: actual)"]
    cols = _columns(report)
    matrix = report.confusion()
    head = f"{'':<18}" + "".join(f"{c:>18}" for c in cols) + f"{'total':>8}"
    out.append(head)
    for expected, row in matrix.items():
        out.append(f"{expected:<18}" + "".join(f"{row[c]:>18}" for c in cols) + f"{sum(row.values()):>8}")

    out += ["", "Per topic (predicted = a finding of the topic with an outcome above permitted)"]
    out.append(f"{'topic':<26}{'support':>8}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>9}")
    for s in report.topic_scores():
        out.append(f"{s.topic:<26}{s.support:>8}{s.tp:>5}{s.fp:>5}{s.fn:>5}{_pct(s.precision):>11}{_pct(s.recall):>9}")
    m = report.micro()
    out.append(f"{'(micro)':<26}{m.support:>8}{m.tp:>5}{m.fp:>5}{m.fn:>5}{_pct(m.precision):>11}{_pct(m.recall):>9}")

    misses = report.misses
    out += ["", f"Misses ({len(misses)} of {report.total} records)"]
    for c in misses:
        outcome = f"{c.expected} -> {c.actual}" if not c.outcome_ok else f"{c.expected} (outcome ok)"
        parts = [f"{c.id:<6} {outcome}"]
        if c.missing_topics:
            parts.append(f"missed: {_topics(c.missing_topics)}")
        if c.extra_topics:
            parts.append(f"extra: {_topics(c.extra_topics)}")
        if c.problems:
            parts.append("invalid: " + "; ".join(c.problems))
        out.append("  ".join(parts))
        out.append(f"       why: {_short(c.why)}")
    return "\n".join(out)


def format_markdown(report: Report) -> str:
    out = ["| measure | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in _summary_rows(report)]

    cols = _columns(report)
    out += ["", "| expected ↓ / actual → | " + " | ".join(cols) + " | total |",
            "|---|" + "---:|" * (len(cols) + 1)]
    for expected, row in report.confusion().items():
        out.append(f"| {expected} | " + " | ".join(str(row[c]) for c in cols) + f" | {sum(row.values())} |")

    out += ["", "| topic | support | TP | FP | FN | precision | recall |", "|---|---:|---:|---:|---:|---:|---:|"]
    for s in report.topic_scores():
        out.append(f"| {s.topic} | {s.support} | {s.tp} | {s.fp} | {s.fn} | {_pct(s.precision)} | {_pct(s.recall)} |")
    m = report.micro()
    out.append(f"| **micro-average** | {m.support} | {m.tp} | {m.fp} | {m.fn} "
               f"| {_pct(m.precision)} | {_pct(m.recall)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure the govpost checker against the labelled AIS corpus.")
    parser.add_argument("--policy", default=str(DEFAULT_POLICY), help="policy file (default: the bundled AIS policy)")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="labelled corpus, JSON Lines")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables fit for the README")
    args = parser.parse_args(argv)
    try:
        report = evaluate(args.policy, args.corpus)
    except PolicyError as exc:
        print(f"evaluate.py: the policy has errors:\n{exc}", file=sys.stderr)
        return 2
    print(format_markdown(report) if args.markdown else format_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
