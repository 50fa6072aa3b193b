"""Reading and validating posts: records, line numbers, problems with hints, defaults."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from toolkit.posts import Problem, read_records, validate


def read(text: str) -> list[tuple[int, int, object, str | None]]:
    return [(r.index, r.line, r.value, r.error.code if r.error else None) for r in read_records(io.StringIO(text))]


def test_json_lines_with_blank_lines() -> None:
    assert read('{"a": 1}\n\n  \n{"b": 2}\n') == [(1, 1, {"a": 1}, None), (2, 4, {"b": 2}, None)]


def test_object_spread_over_lines() -> None:
    text = '{"id": "x",\n  "text": "two lines"\n}\n{"id": "y"}\n'
    assert read(text) == [(1, 1, {"id": "x", "text": "two lines"}, None), (2, 4, {"id": "y"}, None)]


def test_broken_line_is_reported_on_its_own() -> None:
    text = '{"id": 1}\n{"id": 2,, }\n{"id": 3}\n'
    assert [(i, line, code) for i, line, _v, code in read(text)] == [(1, 1, None), (2, 2, "R301"), (3, 3, None)]


def test_input_ending_inside_a_record() -> None:
    records = list(read_records(io.StringIO('{"id": 1}\n{"id": 2,\n "text": "no end"\n')))
    assert records[-1].error == Problem("R301", "", "not valid JSON: the input ended inside a record")
    assert records[-1].line == 2


def test_windows_line_endings() -> None:
    assert read('{"a": 1}\r\n{"b": 2}\r\n') == [(1, 1, {"a": 1}, None), (2, 2, {"b": 2}, None)]


def test_long_inputs_keep_line_numbers() -> None:
    lines = [json.dumps({"id": str(i), "text": "x" * (i % 300)}) for i in range(200)]
    records = list(read_records(io.StringIO("\n".join(lines) + "\n")))
    assert [(r.line, r.value["id"]) for r in records] == [(i + 1, str(i)) for i in range(200)]


def test_json_array_with_line_numbers() -> None:
    text = '[\n  {"id": "a"},\n  {"id": "b",\n   "text": "t"},\n\n  {"id": "c"}\n]'
    assert [(r.index, r.line, r.value["id"]) for r in read_records(io.StringIO(text))] == [
        (1, 2, "a"), (2, 3, "b"), (3, 6, "c")]


def test_broken_json_array_is_one_error() -> None:
    (record,) = read_records(io.StringIO('[\n {"id": "a"},\n {"id": }\n]'))
    assert record.error is not None and record.error.code == "R301"
    assert record.line == 3
    assert "line 3" in record.error.message


def test_validate_fills_defaults() -> None:
    post, problems = validate({"id": "p", "posted_at": "2026-04-01T10:00+05:30"})
    assert problems == []
    assert post is not None
    assert (post["text"], post["platform"], post["action"], post["audience"]) == ("", "other", "post", "public")
    assert post["account"] == {"kind": "personal"}
    assert post["sanction"] == {"obtained": False}
    assert (post["labels"], post["links"], post["media"]) == ([], [], [])
    assert post["_ts"] == dt.datetime(2026, 4, 1, 4, 30, tzinfo=dt.timezone.utc).timestamp()


def test_validate_does_not_change_the_record() -> None:
    record = {"account": {"handle": "@a"}, "media": [{"kind": "image"}]}
    snapshot = json.dumps(record, sort_keys=True)
    validate(record)
    assert json.dumps(record, sort_keys=True) == snapshot


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"platfrom": "x"}, [Problem("R303", "platfrom", "unknown field `platfrom`", "did you mean `platform`?")]),
        ({"account": {"kidn": "official"}},
         [Problem("R303", "account.kidn", "unknown field `account.kidn`", "did you mean `account.kind`?")]),
        ({"text": ["a"]}, [Problem("R304", "text", "`text` must be a string, not a list")]),
        ({"sanction": {"obtained": "yes"}},
         [Problem("R304", "sanction.obtained", "`sanction.obtained` must be true or false, not a string")]),
        ({"media": [{"kind": "image"}, "video"]}, [Problem("R304", "media[1]", "`media[1]` must be an object, not a string")]),
        ({"labels": ["a", 1]}, [Problem("R304", "labels", "`labels` must be a list of strings")]),
        ({"audience": "everyone"},
         [Problem("R305", "audience", "`everyone` is not a valid `audience`", "one of: public, followers, group, private")]),
        ({"account": {"kind": "Official"}},
         [Problem("R305", "account.kind", "`Official` is not a valid `account.kind`", "did you mean `official`?")]),
        ({"posted_at": "2026-04-01T10:00"},
         [Problem("R306", "posted_at", "`2026-04-01T10:00` is not an ISO 8601 date and time with an offset",
                  "write it as 2026-04-10T09:15:00+05:30 (or Z for UTC)")]),
        (42, [Problem("R302", "", "a post is a JSON object, not a number")]),
    ],
)
def test_problems(record: object, expected: list[Problem]) -> None:
    assert validate(record) == (None, expected)


def test_every_problem_is_reported() -> None:
    _post, problems = validate({"platform": "tiktok", "text": 1, "colour": "red", "posted_at": "soon"})
    assert sorted(p.code for p in problems) == ["R303", "R304", "R305", "R306"]


def test_integers_beyond_64_bits_stay_exact() -> None:
    # orjson reads such integers as floats; the reader must not lose their digits.
    from toolkit.batch import frame_lines
    from toolkit.posts import loads

    big = -9223372036854775809
    line = json.dumps({"n": big, "m": 10**30})
    assert loads(line) == {"n": big, "m": 10**30}
    assert loads(line.encode()) == {"n": big, "m": 10**30}
    [record] = read_records(io.StringIO(line + "\n"))
    assert record.value == {"n": big, "m": 10**30}
    [framed] = frame_lines([line + "\n"], 1, 0)
    assert framed[2] == {"n": big, "m": 10**30}
