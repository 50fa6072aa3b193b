"""The audit summary: counts add up, partial summaries merge exactly, bounded samples are deterministic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import api
from toolkit.rules import OUTCOMES
from toolkit.summary import FORMAT, Summary, evidence_term, render_summary_text

ROOT = Path(__file__).resolve().parent.parent
AIS = ROOT / "policies/in/ais-social-media.policy"
EXAMPLES = ROOT / "examples/posts.jsonl"


@pytest.fixture(scope="module")
def ais_checker() -> Any:
    return api.checker(api.compile_result(api.check_file(AIS)))


def checked(checker: Any, posts: list[Any], name: str = "posts.jsonl") -> list[tuple[dict[str, Any], Any]]:
    """(record, post) pairs as `govpost check --format jsonl` writes the records."""
    out = []
    for i, post in enumerate(posts, 1):
        verdict, problems = checker.check(post)
        if verdict is None:
            record = {"input": name, "record": i, "line": i,
                      "errors": [{"code": p.code, "field": p.path, "message": p.message} for p in problems]}
        else:
            record = {"input": name, "record": i, "line": i, **verdict.to_json()}
        out.append((record, post))
    return out


def example_posts() -> list[Any]:
    posts: list[Any] = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line]
    posts[1] = dict(posts[1], account={"kind": "official", "handle": "@collector"}, posted_at="2026-10-01T09:00:00Z")
    posts.append({"text": "hello", "platform": "twitter"})  # an unknown enumeration value
    posts.append([1, 2])  # not an object
    posts.append({"text": 5})  # a field of the wrong type
    return posts


def test_counts_add_up_to_the_records_read(ais_checker: Any) -> None:
    pairs = checked(ais_checker, example_posts())
    s = Summary()
    for record, post in pairs:
        s.add(record, post)
    d = s.to_dict()
    assert d["format"] == FORMAT and d["version"] == 1
    assert d["records"] == len(pairs)
    assert sum(d["outcomes"].values()) + d["errors"]["records"] == d["records"]
    assert d["malformed"] == 3 and d["checked"] == len(pairs) - 3
    assert sum(m["posts"] for m in d["months"]) == d["checked"]
    assert sum(a["posts"] for a in d["accounts"]) == d["checked"]
    assert [e["code"] for e in d["errors"]["by_code"]] == ["R302", "R304", "R305"]
    assert [e["record"] for e in d["errors"]["first"]] == [len(pairs) - 2, len(pairs) - 1, len(pairs)]


def test_month_and_account_come_from_the_post_or_the_record() -> None:
    result = {"input": "a", "record": 1, "line": 1, "id": "x", "outcome": "advisory", "deciding": [],
              "findings": [], "excepted": []}
    s = Summary()
    s.add(result, {"posted_at": "2029-03-31T23:30:00+05:30", "account": {"kind": "official", "handle": "@dm"}})
    s.add({**result, "record": 2, "posted_at": "2029-04-01T00:10:00Z", "account": {"handle": "@dm"}})
    s.add({**result, "record": 3})
    d = s.to_dict()
    # The month as written, in the poster's own offset.
    assert [(m["month"], m["posts"]) for m in d["months"]] == [("2029-03", 1), ("2029-04", 1), (None, 1)]
    assert [(a["account"], a["kind"], a["posts"]) for a in d["accounts"]] == [("@dm", "official", 2), (None, None, 1)]
    assert d["months"][0]["by_outcome"] == {"permitted": 0, "advisory": 1, "requires_sanction": 0, "prohibited": 0}


def test_month_and_account_from_the_result_record_alone() -> None:
    """Result records carry `platform`, `account` (the handle) and `posted_at`, null when the post lacks them."""
    base = {"input": "a", "line": 1, "id": "x", "platform": "x", "outcome": "prohibited", "deciding": [],
            "findings": [], "excepted": []}
    s = Summary()
    s.add({**base, "record": 1, "account": "@dm", "posted_at": "2029-03-31T23:30:00+05:30"})
    s.add({**base, "record": 2, "account": "@dm", "posted_at": "2029-04-02T10:00:00Z"})
    s.add({**base, "record": 3, "account": None, "posted_at": None})
    # The record's keys win over the post; the post gives only the kind, which records do not carry.
    s.add({**base, "record": 4, "account": "@sp", "posted_at": "2029-04-05T10:00:00Z"},
          {"posted_at": "2020-01-01T00:00:00Z", "account": {"handle": "@sp", "kind": "official"}, "text": "hi"})
    # A record with null keys is unknown even when a post says otherwise: the record is what was checked.
    s.add({**base, "record": 5, "account": None, "posted_at": None},
          {"posted_at": "2029-04-05T10:00:00Z", "account": {"handle": "@zz"}})
    d = s.to_dict()
    assert [(m["month"], m["posts"]) for m in d["months"]] == [("2029-03", 1), ("2029-04", 2), (None, 2)]
    assert [(a["account"], a["kind"], a["posts"]) for a in d["accounts"]] == [
        ("@dm", None, 2), (None, None, 2), ("@sp", "official", 1)]
    assert sum(m["posts"] for m in d["months"]) == sum(a["posts"] for a in d["accounts"]) == d["checked"] == 5


def test_a_summary_of_records_is_the_summary_of_records_and_posts_for_counts(ais_checker: Any) -> None:
    """Records with the new keys: the counts do not depend on whether the post is at hand."""
    pairs = checked(ais_checker, example_posts())
    with_posts, records_only = Summary(), Summary()
    for record, post in pairs:
        if "outcome" in record:
            account = post.get("account") or {}
            record = {**record, "account": account.get("handle"), "posted_at": post.get("posted_at")}
        with_posts.add(record, post)
        records_only.add(record)
    a, b = with_posts.to_dict(), records_only.to_dict()
    for key in ("records", "outcomes", "clauses", "topics", "months", "errors", "warnings"):
        assert a[key] == b[key], key
    assert [(x["account"], x["posts"]) for x in a["accounts"]] == [(x["account"], x["posts"]) for x in b["accounts"]]
    assert ("2026-10", 1) in [(m["month"], m["posts"]) for m in b["months"]]


def test_clauses_topics_and_terms(ais_checker: Any) -> None:
    posts = [{"text": "Proud of what the BJP has done. The BJP!", "platform": "x"},
             {"text": "Hats off to the BJP. Vote for the BJP and the Congress", "platform": "x"},
             {"text": "A quiet morning at the district office.", "platform": "x"}]
    s = Summary()
    for record, post in checked(ais_checker, posts):
        s.add(record, post)
    d = s.to_dict()
    clause = next(c for c in d["clauses"] if c["clause"] == "party-endorsement")
    assert clause["posts"] == 2 and clause["deciding"] == 2
    terms = {t["term"]: t["posts"] for t in clause["terms"]}
    assert terms["BJP"] == 2  # counted once per post, however often the post says it
    topic = next(t for t in d["topics"] if t["topic"] == "political_neutrality")
    assert topic["posts"] == 2 and topic["by_outcome"]["prohibited"] == 2
    assert d["outcomes"]["permitted"] == 1


def test_evidence_terms_are_bounded_by_the_rule_set() -> None:
    assert evidence_term({"field": "text", "text": "B.J.P.", "lexicon": "parties", "entry": "BJP"}) == "BJP"
    assert evidence_term({"field": "text", "text": "1234/5/2029", "pattern": "file_number"}) == "pattern file_number"
    assert evidence_term({"field": "posted_at", "value": "2029-04-01T00:00:00Z", "period": "mcc"}) == \
        "posted during mcc"
    assert evidence_term({"field": "sanction.obtained", "value": True}) == "sanction.obtained = true"


def test_top_posts_highest_outcome_first_then_input_order() -> None:
    s = Summary(top_posts=3)
    outcomes = ["advisory", "prohibited", "requires_sanction", "prohibited", "advisory", "prohibited", "permitted"]
    for i, outcome in enumerate(outcomes, 1):
        finding = {"clause": f"c-{outcome}", "number": "1(a)", "title": "T", "topic": "t", "outcome": outcome,
                   "evidence": []}
        s.add({"input": "f", "record": i, "line": i, "id": i, "outcome": outcome, "deciding": [finding["clause"]],
               "findings": [finding], "excepted": []})
    assert [(p["outcome"], p["record"]) for p in s.to_dict()["top_posts"]] == [
        ("prohibited", 2), ("prohibited", 4), ("prohibited", 6)]
    s2 = Summary(top_posts=5)
    s2.add_many(r for r in [{"input": "f", "record": 1, "line": 1, "outcome": "permitted", "findings": []}])
    assert s2.to_dict()["top_posts"] == []  # a post with no finding is not an audit sample


def test_errors_first_n_kept_all_counted() -> None:
    s = Summary(max_errors=2)
    for i in (5, 3, 9, 1):
        s.add({"input": "f", "record": i, "line": i * 2, "errors": [{"code": "R301", "field": "", "message": "bad"}]})
    d = s.to_dict()
    assert d["errors"]["records"] == 4
    assert [e["record"] for e in d["errors"]["first"]] == [1, 3]
    assert d["errors"]["by_code"] == [{"code": "R301", "description": "record is not valid JSON", "records": 4}]


def test_to_dict_and_text_are_deterministic(ais_checker: Any) -> None:
    def run() -> tuple[str, str]:
        s = Summary()
        for record, post in checked(ais_checker, example_posts()):
            s.add(record, post)
        return json.dumps(s.to_dict(), sort_keys=False), render_summary_text(s)

    assert run() == run()
    text = run()[1]
    assert text.startswith(f"{len(example_posts())} records: {len(example_posts()) - 3} checked, 3 malformed\n")
    assert "posts at the highest outcome" in text and "malformed records: 3" in text
    assert "\x1b[" not in text


def test_limits_must_be_counts() -> None:
    with pytest.raises(ValueError):
        Summary(top_posts=-1)


# ---------------------------------------------------------------------------
# merge equals one pass
# ---------------------------------------------------------------------------

_evidence = st.one_of(
    st.builds(lambda e: {"field": "text", "start": 0, "end": 1, "text": e.lower(), "lexicon": "l", "entry": e},
              st.sampled_from(["BJP", "strike", "leak"])),
    st.builds(lambda p: {"field": "text", "start": 0, "end": 1, "text": "x", "pattern": p},
              st.sampled_from(["p", "q"])),
    st.just({"field": "account.kind", "value": "personal"}),
)
_finding = st.builds(
    lambda c, o, ev: {"clause": c, "number": {"a": "1(a)", "b": "2(a)", "c": "10(b)"}[c], "title": c.upper(),
                      "topic": {"a": "t1", "b": "t2", "c": "t1"}[c], "outcome": o, "evidence": ev},
    st.sampled_from(["a", "b", "c"]), st.sampled_from(OUTCOMES), st.lists(_evidence, max_size=3),
)


@st.composite
def _records(draw: st.DrawFn) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    n = draw(st.integers(0, 30))
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    files = draw(st.lists(st.sampled_from(["a.jsonl", "b.jsonl", "c.jsonl"]), min_size=1, max_size=3, unique=True))
    per_file = {f: 0 for f in files}
    for _ in range(n):
        name = draw(st.sampled_from(files))
        per_file[name] += 1
        where = {"input": name, "record": per_file[name], "line": per_file[name]}
        if draw(st.integers(0, 5)) == 0:
            code = draw(st.sampled_from(["R301", "R302", "R305"]))
            out.append(({**where, "errors": [{"code": code, "field": "", "message": "m"}]}, None))
            continue
        findings = draw(st.lists(_finding, max_size=3, unique_by=lambda f: f["clause"]))
        outcome = max((f["outcome"] for f in findings), key=OUTCOMES.index, default="permitted")
        post = {
            "posted_at": draw(st.sampled_from([None, "2029-01-05T10:00:00Z", "2029-02-01T00:00:00+05:30"])),
            "account": draw(st.sampled_from([None, {"kind": "personal"}, {"kind": "official", "handle": "@h"}])),
        }
        warnings = draw(st.sampled_from([[], [{"code": "R308", "field": "labels", "message": "m"}]]))
        if draw(st.booleans()):  # a record as written now: the handle and date in the record itself
            account = post["account"]
            where = {**where, "id": None, "platform": "x",
                     "account": account.get("handle") if account else None, "posted_at": post["posted_at"]}
            post = draw(st.sampled_from([None, post]))
        out.append(({"id": None, **where, "outcome": outcome,
                     "deciding": [f["clause"] for f in findings if f["outcome"] == outcome], "findings": findings,
                     "excepted": [], **({"warnings": warnings} if warnings else {})}, post))
    # Records of one file stay in order, files in the order of the run.
    out.sort(key=lambda rp: (files.index(rp[0]["input"]), rp[0]["record"]))
    return out


@settings(max_examples=150, deadline=None)
@given(_records(), st.lists(st.integers(0, 30), max_size=4), st.integers(0, 4), st.integers(0, 3))
def test_merge_equals_one_pass(records: list[Any], cuts: list[int], top: int, max_errors: int) -> None:
    def summary() -> Summary:
        return Summary(top_posts=top, max_errors=max_errors, top_terms=2)

    whole = summary()
    for record, post in records:
        whole.add(record, post)
    bounds = sorted({0, len(records), *(min(c, len(records)) for c in cuts)})
    parts = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        part = summary()
        for record, post in records[lo:hi]:
            part.add(record, post)
        parts.append(part)
    merged = summary()
    for part in parts:
        merged.merge(part)
    assert merged.to_dict() == whole.to_dict()
    assert merged == whole
    d = merged.to_dict()
    assert sum(d["outcomes"].values()) + d["errors"]["records"] == d["records"] == len(records)
    assert len(d["top_posts"]) <= top and len(d["errors"]["first"]) <= max_errors
