"""Properties, with Hypothesis: the post reader and validator, and text normalisation.

- Any JSON value given to the validator yields a post or problems, never an
  exception; a post it accepts can be checked.
- Any text given to the reader yields records, each decoded or with a reason.
- Normalising a text is stable, the fast path agrees with the general one,
  and every evidence span maps back into the text.
"""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SCHEMAS, assert_exact, compile_fixture

from toolkit.evaluate import Checker
from toolkit.postschema import ACCOUNT_KINDS, ACTIONS, AUDIENCES, MEDIA_KINDS, PLATFORMS, SOURCE_KINDS
from toolkit.posts import read_records, validate
from toolkit.rules import OUTCOMES
from toolkit.text import TOKEN, entry_keys, fold, normalize, tokens

# The number of examples comes from the Hypothesis profile (tests/conftest.py): 100 by default,
# many more with `pytest --hypothesis-profile=thorough`.
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

FULL = compile_fixture("full")
CHECKER = Checker(FULL)
POST_SCHEMA = json.loads((SCHEMAS / "post.schema.json").read_text(encoding="utf-8"))

# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

JSON_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON = st.recursive(
    JSON_SCALAR,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

TOP_KEYS = ["id", "text", "platform", "action", "posted_at", "audience", "links", "labels", "account", "author",
            "shared_from", "media", "sanction", "unknown", "Text"]
SUB_KEYS = ["kind", "handle", "bio", "service", "grade", "cadre", "text", "description", "labels", "obtained",
            "authority", "reference", "other"]
PLAUSIBLE = (
    JSON_SCALAR
    | st.sampled_from([*PLATFORMS, *ACTIONS, *AUDIENCES, *ACCOUNT_KINDS, *SOURCE_KINDS, *MEDIA_KINDS,
                       "2026-04-01T10:00+05:30", "2026-02-30T10:00Z", "Vote for the BJP"])
    | st.lists(st.text(max_size=10), max_size=3)
)
SUB_OBJECT = st.dictionaries(st.sampled_from(SUB_KEYS), PLAUSIBLE, max_size=4)
#: Dicts that look like posts: known keys with plausible and implausible values.
POST_SHAPED = st.dictionaries(
    st.sampled_from(TOP_KEYS),
    PLAUSIBLE | SUB_OBJECT | st.lists(SUB_OBJECT, max_size=3) | JSON,
    max_size=8,
)

WORDS = st.sampled_from(["Vote", "for", "the", "BJP", "B.J.P.", "भाजपा", "जय", "हो", "People’s", "Party", "Labour",
                         "TOP", "SECRET", "12/3/2026-EST", "#VoteForBJP", "support", "café", "İstanbul", "ß"])
SEPARATORS = st.sampled_from([" ", "  ", ", ", "-", "\n", "\t", "’", "'", "#", ".", "\u00a0", "—"])
TEXT = st.lists(st.tuples(WORDS, SEPARATORS), max_size=12).map(lambda parts: "".join(w + s for w, s in parts))
ANY_TEXT = st.text() | TEXT

DATETIME = st.datetimes(
    min_value=__import__("datetime").datetime(2025, 1, 1), max_value=__import__("datetime").datetime(2028, 1, 1)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S")) .flatmap(
    lambda s: st.sampled_from(["Z", "+05:30", "-07:00", "+00:00"]).map(lambda z: s + z))


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


VALID_POST = st.builds(
    lambda **kw: _drop_none(kw),
    id=st.none() | st.text(max_size=8),
    text=st.none() | ANY_TEXT,
    platform=st.none() | st.sampled_from(PLATFORMS),
    action=st.none() | st.sampled_from(ACTIONS),
    audience=st.none() | st.sampled_from(AUDIENCES),
    posted_at=st.none() | DATETIME,
    labels=st.none() | st.lists(st.sampled_from(["official_capacity", "confidential", "other"]), max_size=2),
    links=st.none() | st.lists(TEXT, max_size=2),
    account=st.none() | st.builds(lambda **kw: _drop_none(kw), kind=st.none() | st.sampled_from(ACCOUNT_KINDS),
                                  bio=st.none() | TEXT, handle=st.none() | TEXT),
    author=st.none() | st.builds(lambda **kw: _drop_none(kw), service=st.none() | st.sampled_from(["IAS", "ifos"])),
    shared_from=st.none() | st.builds(lambda **kw: _drop_none(kw), kind=st.none() | st.sampled_from(SOURCE_KINDS),
                                      text=st.none() | TEXT),
    media=st.none() | st.lists(st.builds(lambda **kw: _drop_none(kw), kind=st.sampled_from(MEDIA_KINDS),
                                         description=st.none() | TEXT,
                                         labels=st.none() | st.lists(st.text(max_size=5), max_size=2)), max_size=3),
    sanction=st.none() | st.builds(lambda **kw: _drop_none(kw), obtained=st.none() | st.booleans()),
)


# ---------------------------------------------------------------------------
# The validator
# ---------------------------------------------------------------------------


def _validated(value: Any) -> dict[str, Any] | None:
    post, problems = validate(value)
    if post is None:
        assert problems, "a rejected record must say why"
        assert all(p.code in {"R302", "R303", "R304", "R305", "R306"} for p in problems)
        assert all(isinstance(p.message, str) and p.message for p in problems)
    else:
        assert problems == []
    return post


@SETTINGS
@given(JSON)
def test_any_json_value_gives_a_post_or_problems(value: Any) -> None:
    _validated(value)


@SETTINGS
@given(POST_SHAPED)
def test_post_shaped_values_give_a_post_or_problems_and_accepted_posts_can_be_checked(value: Any) -> None:
    post = _validated(value)
    if post is not None:
        verdict = CHECKER.check_post(post)
        assert verdict.outcome in OUTCOMES


@SETTINGS
@given(VALID_POST)
def test_valid_posts_are_accepted_and_checked_with_exact_evidence(value: dict[str, Any]) -> None:
    jsonschema.validate(value, POST_SCHEMA)
    snapshot = json.dumps(value, sort_keys=True)
    post, problems = validate(value)
    assert problems == [] and post is not None
    verdict, problems = CHECKER.check(value)
    assert verdict is not None and problems == []
    assert verdict.outcome in OUTCOMES
    assert set(verdict.deciding) <= {f["clause"] for f in verdict.findings}
    assert_exact(value, verdict.to_json(), FULL)
    assert json.dumps(value, sort_keys=True) == snapshot, "checking must not change the record"


# ---------------------------------------------------------------------------
# The reader
# ---------------------------------------------------------------------------


@SETTINGS
@given(st.text())
def test_any_text_gives_records(text: str) -> None:
    n_lines = text.count("\n") + 1
    records = list(read_records(io.StringIO(text)))
    assert [r.index for r in records] == list(range(1, len(records) + 1))
    for r in records:
        assert 1 <= r.line <= n_lines
        if r.error is not None:
            assert r.error.code == "R301" and r.value is None


@SETTINGS
@given(st.lists(st.tuples(st.dictionaries(st.text(max_size=5), JSON, max_size=3), st.integers(0, 2)), max_size=8))
def test_json_lines_round_trip_with_line_numbers(items: list[tuple[dict[str, Any], int]]) -> None:
    lines: list[str] = []
    expected = []
    for value, blanks in items:
        lines.extend([""] * blanks)
        lines.append(json.dumps(value, ensure_ascii=False))
        expected.append((len(lines), value))
    records = list(read_records(io.StringIO("\n".join(lines) + "\n")))
    assert [(r.line, r.value) for r in records] == expected
    assert all(r.error is None for r in records)


@SETTINGS
@given(st.lists(st.dictionaries(st.text(max_size=5), JSON, max_size=3), max_size=6))
def test_json_array_round_trip(values: list[dict[str, Any]]) -> None:
    text = "[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in values) + "\n]\n"
    records = list(read_records(io.StringIO(text)))
    assert [r.value for r in records] == values
    assert [r.line for r in records] == list(range(2, len(values) + 2))


# ---------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------


@SETTINGS
@given(ANY_TEXT)
def test_tokens_map_back_into_the_text(text: str) -> None:
    # NFKC can turn one character into several words or put punctuation in
    # a word (`¼` → `1⁄4`, `ﷺ` → four words): such a word yields several
    # tokens, each a word of its folded form, all with the word's span.
    previous = (0, 0)
    for token, start, end in tokens(text):
        assert TOKEN.fullmatch(token)
        assert 0 <= start < end <= len(text)
        assert (start, end) == previous or start >= previous[1]
        folded = fold(text[start:end])
        assert token == folded or token in TOKEN.findall(folded)
        previous = (start, end)


@SETTINGS
@given(ANY_TEXT)
def test_normalising_is_stable(text: str) -> None:
    norm = normalize(text).text
    assert norm.startswith(" ") and norm.endswith(" ")
    assert "  " not in norm
    assert normalize(norm).text == norm
    # The fast path (ASCII) and the general one give the same words.
    words = [t for t, _s, _e in tokens(text)]
    assert norm == (" " + " ".join(words) + " " if words else " ")


@SETTINGS
@given(ANY_TEXT, st.data())
def test_every_run_of_tokens_maps_back_to_its_span(text: str, data: st.DataObject) -> None:
    toks = tokens(text)
    if not toks:
        return
    first = data.draw(st.integers(0, len(toks) - 1))
    last = data.draw(st.integers(first, len(toks) - 1))
    norm = normalize(text)
    # Where the run of tokens stands in the normalised text.
    start = 1 + sum(len(t) + 1 for t, _s, _e in toks[:first])
    end = start + len(" ".join(t for t, _s, _e in toks[first:last + 1]))
    assert norm.text[start:end] == " ".join(t for t, _s, _e in toks[first:last + 1])
    assert norm.original_span(start, end) == (toks[first][1], toks[last][2])


@SETTINGS
@given(st.lists(WORDS, min_size=1, max_size=3).map(" ".join), TEXT)
def test_entry_keys_are_normalised_words(entry: str, text: str) -> None:
    keys = entry_keys(entry)
    for key in keys:
        assert key.startswith(" ") and key.endswith(" ")
        assert normalize(key).text == key
    # An entry is found in itself.
    if keys:
        assert any(key in normalize(entry).text for key in keys)
