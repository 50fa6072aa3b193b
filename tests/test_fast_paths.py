"""The fast paths of the hot loop agree with the slow, careful ones.

Validation has a fast path for well-formed records that falls back to the
full validator on anything irregular, and JSON Lines are decoded by orjson
with the standard library as the fallback. Both must give exactly what the
careful path gives, for any input.
"""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import posts
from toolkit.postschema import ACCOUNT_KINDS, ACTIONS, MEDIA_KINDS, PLATFORMS

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
VALUE = st.one_of(
    JSON,
    st.sampled_from([*PLATFORMS, *ACTIONS, *ACCOUNT_KINDS, *MEDIA_KINDS, "twitter", "", "2026-04-01T10:00+05:30",
                     "2026-04-01T10:00:00Z", "2026-02-30T10:00Z", "2026-04-01"]),
)
KEYS = st.sampled_from(["id", "text", "platform", "action", "audience", "posted_at", "links", "labels",
                        "account", "author", "shared_from", "media", "sanction", "kind", "handle", "bio",
                        "service", "obtained", "description", "unknown"])
RECORD = st.recursive(
    st.dictionaries(KEYS, VALUE, max_size=6),
    lambda inner: st.dictionaries(KEYS, st.one_of(VALUE, inner, st.lists(inner, max_size=2)), max_size=6),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None)
@given(RECORD)
def test_fast_validation_agrees_with_the_full_validator(record: dict) -> None:
    fast = posts._fast(record)
    slow, problems = posts._validate(record)
    if fast is None:
        return  # the fast path gave up: validate() used the full validator
    assert problems == []
    assert fast == slow


class _NoOrjson:
    JSONDecodeError = ValueError

    @staticmethod
    def loads(_text: str) -> None:
        raise ValueError("disabled")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(JSON.map(json.dumps), st.text(max_size=20)), max_size=6))
def test_orjson_decoding_agrees_with_the_standard_library(lines: list[str]) -> None:
    text = "".join(line.replace("\n", " ") + "\n" for line in lines)
    fast = list(posts.read_records(io.StringIO(text)))
    real = posts.orjson
    posts.orjson = _NoOrjson  # type: ignore[assignment]
    try:
        careful = list(posts.read_records(io.StringIO(text)))
    finally:
        posts.orjson = real
    assert fast == careful
