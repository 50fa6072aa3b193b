"""Evidence is exact: a span slices the post's field to the reported text and the matched words.

For every evidence item with ``start``/``end``, ``field_value[start:end]``
equals the evidence ``text``; for a lexicon hit, the words inside the span are
the entry's words (or its other spelling: ``B.J.P.`` for ``BJP``); for a
pattern hit, the pattern matches exactly that span.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import POLICIES, POLICY_CASES, assert_exact, checker_from_text, clause, compile_fixture, policy_text

from toolkit.evaluate import Checker
from toolkit.posts import read_records

DECLS = """
lexicon parties { "BJP", "People's Party", "भाजपा", "Indian National Congress", "Straße" }
lexicon praise { "vote for", "जय हो", "anti-national", "well done", "#ad" }
pattern file_number /\\b\\d{1,5}\\/\\d+\\/\\d{4}(?:-[A-Za-z]+)?/
pattern marking /top\\s+secret/i
"""

CHECKER = checker_from_text(policy_text(
    clause("parties", "advisory",
           "text mentions parties or shared_from.text mentions parties or account.bio mentions parties "
           "or media.description mentions parties or links mentions parties or account.handle mentions parties"),
    clause("praise", "advisory", "text mentions praise or shared_from.text mentions praise"),
    clause("files", "prohibited", "text matches file_number or text matches marking or media.description matches marking"),
    declarations=DECLS,
))

def run(post: dict[str, Any]) -> dict[str, Any]:
    verdict, problems = CHECKER.check(post)
    assert verdict is not None, problems
    out = verdict.to_json()
    assert_exact(post, out, CHECKER.ruleset)
    return out


def texts(verdict: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["text"]) for f in verdict["findings"] for e in f["evidence"] if "text" in e]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("भाजपा की जय हो", ["भाजपा", "जय हो"]),
        ("मैं भाजपा को वोट दूँगा, जय हो!", ["भाजपा", "जय हो"]),
        ("The People’s Party and the People's Party", ["People’s Party", "People's Party"]),
        ("B.J.P. and BJP and b.j.p", ["B.J.P", "BJP", "b.j.p"]),
        ("BJP's manifesto; BJP’s too", ["BJP", "BJP"]),
        ("#VoteForBJP", ["VoteFor", "BJP"]),
        ("#WellDone team, #VoteFor the #IndianNationalCongress", ["WellDone", "VoteFor", "IndianNationalCongress"]),
        ("Vote\u00a0for the BJP", ["Vote\u00a0for", "BJP"]),
        ("vote-for anti national, antinational, anti-national", ["vote-for", "anti national", "antinational",
                                                                  "anti-national"]),
        ("STRASSE and straße", ["STRASSE", "straße"]),
        ("Ｂ Ｊ Ｐ and ＢＪＰ", ["Ｂ Ｊ Ｐ", "ＢＪＰ"]),
        ("Great product #Ad, an ad hoc note, #adventure", ["#Ad"]),
        ("😀 vote for 😀 BJP 😀", ["vote for", "BJP"]),
        ("\ttabs\tvote\tfor\tBJP\n", ["vote\tfor", "BJP"]),
    ],
)
def test_text_evidence(text: str, expected: list[str]) -> None:
    got = [t for field, t in texts(run({"text": text})) if field == "text"]
    assert sorted(got) == sorted(expected)


def test_evidence_in_every_text_field() -> None:
    post = {
        "text": "File 123/4/2026-Est, TOP  SECRET",
        "account": {"handle": "@BJP4India", "bio": "Worker of the भाजपा"},
        "shared_from": {"kind": "individual", "text": "Vote for the People's Party"},
        "media": [{"kind": "image", "description": "no party here"},
                  {"kind": "document", "description": "A top secret BJP note"}],
        "links": ["https://example.org/bjp-news", "https://example.org/other"],
    }
    v = run(post)
    assert sorted(texts(v)) == sorted([
        ("account.bio", "भाजपा"),
        ("account.handle", "BJP"),
        ("shared_from.text", "People's Party"),
        ("shared_from.text", "Vote for"),
        ("media[1].description", "BJP"),
        ("media[1].description", "top secret"),
        ("links[0]", "bjp"),
        ("text", "123/4/2026-Est"),
        ("text", "TOP  SECRET"),
    ])


def test_handles_are_cut_into_words_like_hashtags() -> None:
    # `@BJP4India` is cut at its capitals and digits, as `#BJP4India` would be: it names the BJP.
    assert texts(run({"account": {"handle": "@BJP4India"}})) == [("account.handle", "BJP")]
    assert texts(run({"account": {"handle": "@BJP_India"}})) == [("account.handle", "BJP")]
    # A handle in lower case is one word: `bjpfan` does not contain the word BJP.
    assert run({"account": {"handle": "@bjpfan"}})["findings"] == []
    assert texts(run({"text": "Thank you @IndianNationalCongress for nothing"})) == [("text", "IndianNationalCongress")]


def test_the_same_word_twice_gives_two_spans() -> None:
    v = run({"text": "BJP, BJP"})
    assert [(e["start"], e["end"]) for e in v["findings"][0]["evidence"]] == [(0, 3), (5, 8)]


def test_offsets_count_code_points() -> None:
    # Offsets are Python string indices (code points), also after astral characters.
    v = run({"text": "𝕏 😀 BJP"})
    (ev,) = v["findings"][0]["evidence"]
    assert (ev["start"], ev["end"]) == (4, 7)


@pytest.mark.parametrize("case", POLICY_CASES)
def test_evidence_of_fixture_verdicts_is_exact(case: str) -> None:
    ruleset = compile_fixture(case)
    checker = Checker(ruleset)
    checked = 0
    with (POLICIES / f"{case}.posts.jsonl").open(encoding="utf-8") as fh:
        for rec in read_records(fh):
            if rec.error is not None:
                continue
            verdict, _ = checker.check(rec.value)
            if verdict is not None:
                checked += assert_exact(rec.value, verdict.to_json(), ruleset)
    if case == "full":
        assert checked >= 15


def test_evidence_of_the_golden_verdicts_is_exact() -> None:
    """The goldens themselves hold exact spans (so a reviewer can trust them)."""
    ruleset = compile_fixture("full")
    with (POLICIES / "full.posts.jsonl").open(encoding="utf-8") as fh:
        posts = {r.index: r.value for r in read_records(fh) if r.error is None}
    for line in (POLICIES / "full.verdicts.jsonl").read_text(encoding="utf-8").splitlines():
        verdict = json.loads(line)
        if "errors" not in verdict:
            assert_exact(posts[verdict["record"]], verdict, ruleset)
