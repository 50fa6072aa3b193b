"""The checker's hot path agrees with its plain, reference path, for any post.

`Checker.check_post` works with trigger atoms as bits, a cache of the
clauses to evaluate per set of atoms, one evaluation per clause and
`LexiconMatcher.scan`; `Checker.check_post_reference` is the plain
implementation. Tokenising has fast paths (one character class, a cache of
folded words, spans worked out only on a match). The command writes result
records from templates. Each is held here to the slow path it replaces.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ROOT, compile_fixture

from toolkit import api, posts, text
from toolkit.batch import Chunk, _dumps, check_chunk, run_chunk
from toolkit.evaluate import Checker
from toolkit.postschema import ACCOUNT_KINDS, ACTIONS, AUDIENCES, MEDIA_KINDS, PLATFORMS, SOURCE_KINDS

AIS = ROOT / "policies" / "in" / "ais-social-media.policy"


@cache
def _ruleset(name: str) -> dict[str, Any]:
    if name == "ais":
        return api.compile_result(api.check_file(AIS))
    return compile_fixture(name)


@cache
def _checker(name: str) -> Checker:
    return Checker(_ruleset(name))


@cache
def _entries(name: str) -> list[str]:
    return sorted({e["text"] for lex in _ruleset(name)["lexicons"].values() for e in lex["entries"]})


def _labels(name: str) -> list[str]:
    return sorted(_ruleset(name)["labels"]) + ["undeclared_label"]


# Pieces of text: words of the policies (in several spellings), Devanagari, marks, astral
# letters that NFKC folds, separators, hashtags, underscores.
NOISE = ["the", "a", "district", "Meeting", "पानी", "किसानों", "ज़िला", "é", "e\u0301", "ＢＪＰ", "¼", "㈱",
         "𝐁𝐉𝐏", "😀", "_", "__", "#", "#VoteForChange", "#ad", "B.J.P.", "anti-national", "don't", "\u200d",
         " ", "  ", ",", ".", "\t", "\n", "İ", "ß", "ﬁ", "x_y"]


def _texts(name: str) -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(_entries(name)),
        st.sampled_from(_entries(name)).map(str.upper),
        st.sampled_from(_entries(name)).map(lambda e: "#" + e.replace(" ", "")),
        st.sampled_from(NOISE),
        st.text(max_size=4),
    )
    return st.lists(piece, max_size=12).map(" ".join) | st.lists(piece, max_size=8).map("".join)


def _posts(name: str) -> st.SearchStrategy[dict[str, Any]]:
    texts = _texts(name)
    when = st.sampled_from(["2029-03-20T10:15:00+05:30", "2029-05-01T00:00:00Z", "2026-04-10T09:15:00+05:30",
                            "2030-01-01T00:00:00+00:00", "2024-04-19T08:00:00+05:30"])
    media = st.fixed_dictionaries({}, optional={"kind": st.sampled_from(MEDIA_KINDS), "description": texts,
                                                "labels": st.lists(st.sampled_from(_labels(name)), max_size=2)})
    return st.fixed_dictionaries(
        {"text": texts},
        optional={
            "id": st.text(max_size=6),
            "platform": st.sampled_from(PLATFORMS),
            "action": st.sampled_from(ACTIONS),
            "audience": st.sampled_from(AUDIENCES),
            "posted_at": when,
            "labels": st.lists(st.sampled_from(_labels(name)), max_size=3),
            "links": st.lists(st.sampled_from(["https://example.org", "https://bjp.org/vote"]), max_size=2),
            "account": st.fixed_dictionaries({}, optional={"kind": st.sampled_from(ACCOUNT_KINDS), "bio": texts,
                                                           "handle": st.text(max_size=6)}),
            "author": st.fixed_dictionaries({}, optional={"service": st.sampled_from(["IAS", "IPS", "IFoS"])}),
            "shared_from": st.fixed_dictionaries({}, optional={"kind": st.sampled_from(SOURCE_KINDS), "text": texts}),
            "media": st.lists(media, max_size=2),
            "sanction": st.fixed_dictionaries({}, optional={"obtained": st.booleans(),
                                                             "authority": st.text(max_size=4)}),
        },
    )


def _agree(name: str, record: dict[str, Any]) -> None:
    post, problems = posts.validate(record)
    assert post is not None, problems
    checker = _checker(name)
    assert checker.check_post(post).to_json() == checker.check_post_reference(post).to_json()


@settings(max_examples=300, deadline=None)
@given(_posts("ais"))
def test_check_post_agrees_with_the_reference_on_the_ais_policy(record: dict[str, Any]) -> None:
    _agree("ais", record)


@settings(max_examples=200, deadline=None)
@given(_posts("full"))
def test_check_post_agrees_with_the_reference_on_the_full_fixture(record: dict[str, Any]) -> None:
    _agree("full", record)


def test_check_post_agrees_with_the_reference_without_triggers() -> None:
    plain = Checker(_ruleset("ais"), use_triggers=False)
    for line in (ROOT / "tests" / "corpus" / "ais-posts.jsonl").read_text(encoding="utf-8").splitlines():
        post, _ = posts.validate(json.loads(line))  # a post, its expectation in `meta`
        assert post is not None
        assert plain.check_post(post).to_json() == _checker("ais").check_post_reference(post).to_json()


@settings(max_examples=400, deadline=None)
@given(_texts("ais"))
def test_lexicon_scan_fast_paths_find_what_plain_tokens_find(value: str) -> None:
    matcher = _checker("ais").matcher
    fast = matcher.scan(value)
    plain = matcher.scan(value, reference=True)
    assert (fast is None) == (plain is None)
    if fast is not None and plain is not None:
        assert fast.lex == plain.lex
        assert fast.spans() == plain.spans()


# ---------------------------------------------------------------------------
# Tokenising
# ---------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(NOISE) | st.text(max_size=5), max_size=10).map("".join))
def test_fast_tokenising_agrees_with_token(value: str) -> None:
    assert [m.span() for m in text._finditer(value)] == [m.span() for m in text.TOKEN.finditer(value)]
    assert text._findall(value) == text.TOKEN.findall(value)
    toks = text.tokens(value)
    assert text.normalized_words(value) == " ".join(t for t, _s, _e in toks)
    if "#" not in value and "@" not in value:  # word_spans is for texts without hashtags and handles
        assert text.word_spans(value) == [(s, e) for _t, s, e in toks]


def test_tokens_match_the_definition() -> None:
    """tokens() runs on the fast tokeniser: compare it with TOKEN.finditer, as it was written."""

    def reference(value: str) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        for mt in text.TOKEN.finditer(value):
            word, start, end = mt.group(), mt.start(), mt.end()
            if start > 0 and value[start - 1] in "#@" and word.isascii() and not word.islower() and not word.isupper():
                for part in text._CAMEL.finditer(word):
                    if part.group().strip():
                        text._add(out, part.group(), start + part.start(), start + part.end())
                continue
            text._add(out, word, start, end)
        return out

    for value in ["#VoteForChange now_then", "पानी_ज़िला #किसानों", "𝐁𝐉𝐏 ¼ ㈱ x_y", "e\u0301 ﬁ İ ß", "", "@Aß @Straße"]:
        assert text.tokens(value) == reference(value)


def test_the_bmp_character_class_is_token() -> None:
    # Every character of the Basic Multilingual Plane, in runs: the class built from TOKEN matches alike.
    bmp = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
    assert [m.span() for m in text._token_bmp().finditer(bmp)] == [m.span() for m in text.TOKEN.finditer(bmp)]


# ---------------------------------------------------------------------------
# Validation, decoding and encoding
# ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(_posts("ais"))
def test_fast_validation_builds_the_full_validators_post_and_leaves_the_record(record: dict[str, Any]) -> None:
    before = json.dumps(record)
    fast = posts._fast(record)
    assert json.dumps(record) == before
    assert fast == posts._validate(record)[0]


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=8))
def test_the_encoder_writes_json_dumps(value: Any) -> None:
    assert _dumps(value) == json.dumps(value, ensure_ascii=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(_posts("ais") | st.just({"id": 10**30, "text": "Vote for BJP"}) | st.just({"n": -2**70}), min_size=1,
                max_size=6))
def test_run_chunk_writes_the_records_of_check_chunk(records: list[dict[str, Any]]) -> None:
    checker = _checker("ais")
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
    results, errors = check_chunk(checker, lines, 1, "in — ü")
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n"
                       for r in sorted(results + errors, key=lambda r: r["record"]))
    assert run_chunk(checker, Chunk("in — ü", "".join(lines), 1, 1, True)).output.decode("utf-8") == expected


def test_result_records_carry_the_posts_identity() -> None:
    checker = _checker("ais")
    lines = [
        '{"id": "a", "text": "Vote for the BJP", "platform": "x", "account": {"handle": "@dm\\"x", "kind": "official"},'
        ' "posted_at": "2029-04-01T10:00:00+05:30"}',
        '{"id": "b", "text": "nice weather"}',
        '{"id": "c", "text": "hello", "account": {"kind": "personal"}}',
    ]
    results, errors = check_chunk(checker, lines, 1, "posts.jsonl")
    assert errors == []
    assert [list(r)[:7] for r in results] == [["input", "record", "line", "id", "platform", "account", "posted_at"]] * 3
    assert [(r["platform"], r["account"], r["posted_at"]) for r in results] == [
        ("x", '@dm"x', "2029-04-01T10:00:00+05:30"), (None, None, None), (None, None, None)]
    out = run_chunk(checker, Chunk("posts.jsonl", "\n".join(lines) + "\n", 1, 1, True)).output.decode("utf-8")
    assert [json.loads(line) for line in out.splitlines()] == results


@pytest.mark.parametrize("line", ['{"id": "a", "n": 123456789012345678901234567890}', '{"id": 12345678901234567890123}',
                                  '{"id": "a", "text": NaN}', '{"id": "a", "x": 1e400}'])
def test_records_with_numbers_are_reported_as_the_careful_reader_reports_them(line: str) -> None:
    checker = _checker("ais")
    results, errors = check_chunk(checker, [line + "\n"], 1, "x")
    out = run_chunk(checker, Chunk("x", line + "\n", 1, 1, True)).output.decode("utf-8")
    assert out == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results + errors)
    assert re.fullmatch(r"\{.*\}\n", out)
