"""The labelled corpus of AIS posts, and the checker's accuracy on it.

The corpus (tests/corpus/ais-posts.jsonl) records what a careful compliance
officer applying the AIS policy would decide about each post, not what the
checker says; tests/corpus/evaluate.py measures how far the checker agrees.
Each record is a post, as `govpost check` reads it, with the expectation in
its `meta` (which the checker ignores and copies into the post's result), so
the corpus is checked with the command a user runs; so are the two bounded
corpora (tests/corpus/dev, tests/corpus/validation).
These tests keep the corpus well formed, check that the measurement counts
every record, and put a floor under the measured figures so that a change to
the policy, its lexicons or the checker that loses accuracy is noticed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from toolkit import api
from toolkit.posts import validate
from toolkit.rules import OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "ais-posts.jsonl"
POLICY = ROOT / "policies" / "in" / "ais-social-media.policy"
TOPICS_FILE = ROOT / "policies" / "common" / "topics.policy"

MIN_RECORDS = 160
MIN_POSITIVES_PER_TOPIC = 4

# Floors a few points below the figures measured when the corpus was written
# (policy and lexicons as committed in ee49504, 246 records): outcome accuracy
# 79.7% (196/246); topics micro-averaged precision 88.9% and recall 67.5%
# (112 TP, 14 FP, 54 FN); flagged-at-all precision 92.7%, recall 71.8%.
# Raise them when the checker improves; lower them only with a reason.
ACCURACY_FLOOR = 0.75
MICRO_RECALL_FLOOR = 0.63


def _load_evaluate():
    path = ROOT / "tests" / "corpus" / "evaluate.py"
    spec = importlib.util.spec_from_file_location("corpus_evaluate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


evaluate = _load_evaluate()


def _records() -> list[tuple[int, dict]]:
    out = []
    with open(CORPUS, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                out.append((lineno, json.loads(line)))
    return out


RECORDS = _records()


@pytest.fixture(scope="module")
def declared_topics() -> set[str]:
    return set(re.findall(r"^\s*topic\s+([A-Za-z_][\w-]*)", TOPICS_FILE.read_text(encoding="utf-8"), re.M))


@pytest.fixture(scope="module")
def ruleset() -> dict:
    result = api.check_file(POLICY)
    assert result.ok, "\n".join(str(d) for d in result.errors)
    return api.compile_result(result)


@pytest.fixture(scope="module")
def report():
    return evaluate.evaluate(POLICY, CORPUS)


# ---------------------------------------------------------------------------
# (a) The corpus is well formed
# ---------------------------------------------------------------------------


def test_corpus_is_large_enough():
    assert len(RECORDS) >= MIN_RECORDS


@pytest.mark.parametrize(("lineno", "record"), RECORDS, ids=[r.get("id", str(n)) for n, r in RECORDS])
def test_record_is_well_formed(lineno, record, declared_topics):
    post, problems = validate(record)  # the record is a post
    assert post is not None, f"line {lineno}: invalid post: {problems}"
    assert isinstance(record.get("id"), str) and record["id"], f"line {lineno}: no id"
    meta = record["meta"]
    assert set(meta) == {"expect", "why"}, f"line {lineno}: unexpected keys {sorted(meta)}"

    expect = meta["expect"]
    assert set(expect) == {"outcome", "topics"}
    assert expect["outcome"] in OUTCOMES
    topics = expect["topics"]
    assert isinstance(topics, list) and len(topics) == len(set(topics))
    unknown = set(topics) - declared_topics
    assert not unknown, f"line {lineno}: topics not in topics.policy: {sorted(unknown)}"
    # A harmless post names no topic; a post above permitted names at least one.
    assert (expect["outcome"] == "permitted") == (not topics), f"line {lineno}: outcome and topics disagree"

    assert isinstance(meta["why"], str) and len(meta["why"].split()) >= 5


def test_posts_match_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "schemas" / "post.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = {r.get("id"): e.message for _n, r in RECORDS for e in validator.iter_errors(r)}
    assert not errors


def test_ids_are_unique():
    ids = Counter(r["id"] for _n, r in RECORDS)
    assert not [i for i, n in ids.items() if n > 1]


def test_every_covered_topic_has_enough_positives(ruleset):
    above_permitted = set(OUTCOMES[1:])
    covered = {c["topic"] for c in ruleset["clauses"] if c["outcome"] in above_permitted}
    positives = Counter(t for _n, r in RECORDS for t in r["meta"]["expect"]["topics"])
    short = {t: positives[t] for t in sorted(covered) if positives[t] < MIN_POSITIVES_PER_TOPIC}
    assert not short, f"topics with fewer than {MIN_POSITIVES_PER_TOPIC} positive posts: {short}"


def test_corpus_is_balanced():
    outcomes = Counter(r["meta"]["expect"]["outcome"] for _n, r in RECORDS)
    share = outcomes["permitted"] / len(RECORDS)
    assert 0.3 <= share <= 0.5, f"permitted posts are {share:.0%} of the corpus"
    assert all(outcomes[o] for o in OUTCOMES), outcomes


# ---------------------------------------------------------------------------
# (b) The evaluation counts every record
# ---------------------------------------------------------------------------


def test_evaluation_counts_add_up(report):
    n = len(RECORDS)
    assert report.total == n
    matrix = report.confusion()
    assert sum(sum(row.values()) for row in matrix.values()) == n
    expected = Counter(r["meta"]["expect"]["outcome"] for _n, r in RECORDS)
    assert {o: sum(row.values()) for o, row in matrix.items() if sum(row.values())} == dict(expected)
    assert report.correct == sum(matrix[o][o] for o in OUTCOMES)
    assert report.correct + sum(not c.outcome_ok for c in report.cases) == n

    scores = report.topic_scores()
    support = Counter(t for _n, r in RECORDS for t in r["meta"]["expect"]["topics"])
    for s in scores:
        assert s.support == support[s.topic]
        assert s.tp + s.fn == s.support
    micro = report.micro()
    assert micro.support == sum(support.values())
    assert micro.tp + micro.fn == micro.support
    # Every record whose outcome or topics differ is listed among the misses.
    assert {c.id for c in report.misses} == {
        c.id for c in report.cases if not c.outcome_ok or c.missing_topics or c.extra_topics
    }


def test_invalid_records_are_counted_not_skipped(tmp_path):
    corpus = tmp_path / "mixed.jsonl"
    lines = [
        {"id": "ok1", "text": "Happy Diwali!", "platform": "x",
         "meta": {"expect": {"outcome": "permitted", "topics": []}, "why": "a greeting"}},
        {"id": "bad1", "text": "Vote for us", "platform": "myspace",
         "meta": {"expect": {"outcome": "prohibited", "topics": ["political_neutrality"]}, "why": "invalid platform"}},
    ]
    corpus.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n", encoding="utf-8")
    rep = evaluate.evaluate(POLICY, corpus)
    assert rep.total == 3
    assert {c.id for c in rep.invalid} == {"bad1", "line 3"}
    assert {"bad1", "line 3"} <= {c.id for c in rep.misses}
    bad = next(c for c in rep.cases if c.id == "bad1")
    assert bad.actual == evaluate.INVALID and bad.problems
    neutrality = next(s for s in rep.topic_scores() if s.topic == "political_neutrality")
    assert neutrality.support == 1 and neutrality.fn == 1  # counted as missed, not dropped
    assert "bad1" in evaluate.format_text(rep)


def test_report_formats(report):
    text = evaluate.format_text(report)
    assert "outcome accuracy" in text and "Confusion matrix" in text and "Misses" in text
    md = evaluate.format_markdown(report)
    assert md.startswith("| measure | value |")
    assert "| **micro-average** |" in md


# ---------------------------------------------------------------------------
# (c) Floors on the measured figures
# ---------------------------------------------------------------------------


def test_outcome_accuracy_floor(report):
    assert report.accuracy >= ACCURACY_FLOOR, evaluate.format_text(report)


def test_micro_recall_floor(report):
    recall = report.micro().recall
    assert recall is not None and recall >= MICRO_RECALL_FLOOR, evaluate.format_text(report)


# ---------------------------------------------------------------------------
# (d) Every corpus is a file of posts: `govpost check` reads every record
# ---------------------------------------------------------------------------

BOUNDED = [ROOT / "tests" / "corpus" / "dev" / "dev-set.jsonl",
           ROOT / "tests" / "corpus" / "validation" / "validation-set.jsonl"]


@pytest.mark.parametrize("corpus", [CORPUS, *BOUNDED], ids=lambda p: p.name)
def test_govpost_check_reads_every_record_of_a_corpus(corpus, tmp_path):
    from click.testing import CliRunner

    from toolkit.cli import cli

    lines = [line for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(cli, ["check", str(POLICY), str(corpus), "--format", "jsonl", "-o", str(out),
                                      "--fail-on", "never", "--quiet"])
    assert result.exit_code == 0, result.output  # no malformed record (that would be exit 2)
    assert result.stderr == ""
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == len(lines)
    assert not [r for r in results if "errors" in r]
    # Each result carries its post's `meta` unchanged: the expectation beside the outcome.
    for line, res in zip(lines, results, strict=True):
        post = json.loads(line)
        assert res["id"] == post["id"] and res["meta"] == post["meta"]
        assert "expect" in res["meta"] and "outcome" in res


@pytest.mark.parametrize("corpus", BOUNDED, ids=lambda p: p.name)
def test_the_bounded_corpora_are_posts_with_their_bounds_in_meta(corpus):
    bounds_spec = importlib.util.spec_from_file_location("corpus_bounds", ROOT / "tests" / "corpus" / "bounds.py")
    assert bounds_spec is not None and bounds_spec.loader is not None
    bounds = importlib.util.module_from_spec(bounds_spec)
    sys.modules[bounds_spec.name] = bounds
    bounds_spec.loader.exec_module(bounds)
    cases = bounds.read(corpus)
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(cases) == len(records) > 100
    for case, rec in zip(cases, records, strict=True):
        assert "post" not in rec and set(rec["meta"]) >= {"expect", "source", "why"}
        assert case.id == rec["id"] and case.post is rec or case.post == rec
        assert case.kind in ("incident", "benign")
        post, problems = validate(rec)
        assert post is not None, (rec["id"], problems)


def test_a_meta_object_is_ignored_by_the_checker_and_passed_through(ruleset):
    from toolkit.evaluate import Checker

    checker = Checker(ruleset)
    plain = {"id": "m1", "text": "Vote BJP on 5 May!", "platform": "x"}
    annotated = {**plain, "meta": {"expect": {"outcome": "prohibited"}, "nested": [{"a": None}, 1.5, "भाजपा"]}}
    a, _ = checker.check(plain)
    b, _ = checker.check(annotated)
    assert a is not None and b is not None and a.to_json() == b.to_json()  # meta changes nothing
    post, problems = validate({**plain, "meta": "not an object"})
    assert post is None and [p.code for p in problems] == ["R304"]
    assert validate({**plain, "meta": None})[0] is not None  # null is absent, as for every field
