"""Reading inputs in chunks: JSON Lines, JSON arrays, CSV and Parquet, each with good and bad records."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support import POLICIES

from toolkit import inputs
from toolkit.batch import iter_framed
from toolkit.cli import cli
from toolkit.inputs import ColumnMap, InputError, read_chunks
from toolkit.posts import read_records

FULL = str(POLICIES / "full.policy")
EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


def framed(name: str, data: bytes | None = None, **kw: object) -> list[tuple[int, int, object, str | None]]:
    stream = io.BytesIO(data) if data is not None else None
    chunks = list(read_chunks(name, stream=stream, **kw))  # type: ignore[arg-type]
    return [(i, line, v, p.code if p else None) for i, line, v, p in iter_framed(chunks)]


def reference(text: str) -> list[tuple[int, int, object, str | None]]:
    return [(r.index, r.line, r.value, r.error.code if r.error else None) for r in read_records(io.StringIO(text))]


def run(args: list[str], stdin: str | None = None) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(cli, ["check", FULL, "--format", "jsonl", "--jobs", "1", *args], input=stdin)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


# ---------------------------------------------------------------------------
# JSON Lines: chunks read exactly what the whole input reads
# ---------------------------------------------------------------------------

TRICKY = (
    '{"id": "a", "text": "one"}\n'
    "\n"
    '{"id": "b",\n'
    ' "text": "spread over lines"}\n'
    '{"id": "c", "text": broken}\n'
    '{"id": "d"}\r\n'
    '{"id": "e", "media": [\n'
    '  {"kind": "image"}\n'
    "]}\n"
    '{"id": "f",\n'
    '{"id": "g"}\n'
    "   \n"
    '["not an object"]\n'
    '{"id": "h", "unfinished": \n'
)


@pytest.mark.parametrize("chunk_bytes", [1, 7, 30, 64, 1 << 18])
def test_jsonl_chunks_read_what_the_whole_input_reads(chunk_bytes: int) -> None:
    got = framed("-", TRICKY.encode(), fmt="jsonl", chunk_bytes=chunk_bytes)
    assert got == reference(TRICKY.replace("\r\n", "\n"))


LINES = st.lists(st.sampled_from([
    '{"id": "x"}', '{"id": "y", "text": "a b"}', "", "  ", '{"id":', '"text": "t"}', "}", "{", "[1, 2]",
    'not json', '{"a": {"b": 1}', '{"b": 1}}', '{"media": [', '{"kind": "image"}', "]}", "42",
]), max_size=14)


@settings(max_examples=150, deadline=None)
@given(LINES, st.integers(min_value=1, max_value=40))
def test_jsonl_chunking_never_changes_records(lines: list[str], chunk_bytes: int) -> None:
    text = "\n".join(lines) + "\n"
    # (A JSON array is streamed element by element, and keeps the elements before a break: not compared here.)
    assume(not text.lstrip().startswith("["))
    assert framed("-", text.encode(), chunk_bytes=chunk_bytes) == reference(text)


def test_jsonl_without_final_newline_and_with_bom() -> None:
    data = b"\xef\xbb\xbf" + b'{"id": "a"}\n{"id": "b"}'
    assert framed("-", data, fmt="jsonl") == [(1, 1, {"id": "a"}, None), (2, 2, {"id": "b"}, None)]


def test_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"text": "café"}\n'.encode("latin-1"))
    with pytest.raises(InputError) as err:
        framed(str(path))
    assert err.value.code == "I502"


# ---------------------------------------------------------------------------
# JSON arrays, streamed
# ---------------------------------------------------------------------------

ARRAY = '[\n  {"id": "a", "text": "Vote for the BJP"},\n\n  {"id": "b"},\n  7, {"id": "c", "n": 12345678}\n]\n'


@pytest.mark.parametrize("block", [1, 3, 16, 1 << 20])
def test_array_elements_with_their_lines(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(inputs, "_BLOCK", block)
    got = framed("-", ARRAY.encode(), chunk_records=2)
    assert got == [(1, 2, {"id": "a", "text": "Vote for the BJP"}, None), (2, 4, {"id": "b"}, None),
                   (3, 5, 7, None), (4, 5, {"id": "c", "n": 12345678}, None)]


@pytest.mark.parametrize("block", [2, 1 << 20])
def test_broken_array_keeps_the_elements_before_the_break(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(inputs, "_BLOCK", block)
    got = framed("-", b'[{"id": "a"},\n {"id": b}, {"id": "c"}]')
    assert got[0] == (1, 1, {"id": "a"}, None)
    assert got[1][:2] == (2, 2) and got[1][3] == "R301"
    assert len(got) == 2
    message = list(iter_framed(read_chunks("-", stream=io.BytesIO(b'[{"id": "a"} {"id": "b"}]'))))[-1][3].message
    assert message == "not valid JSON: Expecting ',' delimiter at line 1, column 14"


def test_array_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    path.write_text(ARRAY, encoding="utf-8")
    code, out, stderr = run([str(path)])
    assert code == EXIT_INVALID  # 7 is not a post, and `n` is not a field
    assert [(o["record"], o["line"], o.get("outcome"), [e["code"] for e in o.get("errors", [])]) for o in out] == [
        (1, 2, "prohibited", []), (2, 4, "permitted", []), (3, 5, None, ["R302"]), (4, 5, None, ["R303"])]
    assert f"{path}:5: error[R302]: record 3: a post is a JSON object, not a number" in stderr


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

CSV = (
    "id,body,platform,account.kind,posted_at,labels,sanction_obtained,likes\n"
    'a,"Vote for the BJP, today",x,personal,2026-04-10T10:00+05:30,,no,3\n'
    'b,"A post\nover two lines",facebook,official,,official_capacity|other,yes,0\n'
    "\n"
    "c,Nice weather,twitter,personal,,,,1\n"
    "d,Too many cells,x,personal,,,,1,extra\n"
    "e,Flag,x,personal,,,maybe,1\n"
)


def test_csv_records_and_column_map(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(CSV, encoding="utf-8")
    notes: list[str] = []
    got = framed(str(path), columns=ColumnMap.parse("text=body"), note=notes.append)
    assert notes == [f"{path}: columns not read: likes"]
    assert got[0] == (1, 2, {"id": "a", "text": "Vote for the BJP, today", "platform": "x",
                             "account": {"kind": "personal"}, "posted_at": "2026-04-10T10:00+05:30",
                             "sanction": {"obtained": False}}, None)
    assert got[1][:2] == (2, 3)
    assert got[1][2]["labels"] == ["official_capacity", "other"]
    assert got[1][2]["sanction"] == {"obtained": True}
    assert [(i, line, code) for i, line, _v, code in got[2:]] == [(3, 6, None), (4, 7, "R303"), (5, 8, None)]


def test_csv_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(CSV, encoding="utf-8")
    errors = tmp_path / "errors.jsonl"
    code, out, stderr = run([str(path), "--csv-map", "text=body", "--errors", str(errors)])
    assert code == EXIT_INVALID
    assert [(o["record"], o["line"]) for o in out] == [(1, 2), (2, 3), (3, 6), (4, 7), (5, 8)]
    assert out[0]["outcome"] == "prohibited"
    bad = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [(b["record"], b["errors"][0]["code"]) for b in bad] == [(3, "R305"), (4, "R303"), (5, "R304")]
    assert "did you mean `x`?" in bad[0]["errors"][0]["help"]
    assert f"note: {path}: columns not read: likes" in stderr


@pytest.mark.parametrize("spec", ["text", "nosuch=col", "text="])
def test_bad_csv_map(tmp_path: Path, spec: str) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(CSV, encoding="utf-8")
    code, _out, stderr = run([str(path), "--csv-map", spec])
    assert code == EXIT_INVALID
    assert stderr.startswith("error: --csv-map: ")


def test_tsv_and_input_format_override(tmp_path: Path) -> None:
    path = tmp_path / "posts.tsv"
    path.write_text("id\ttext\na\tVote for the BJP\n", encoding="utf-8")
    assert framed(str(path)) == [(1, 2, {"id": "a", "text": "Vote for the BJP"}, None)]
    other = tmp_path / "posts.txt"
    other.write_text("id,text\na,hello\n", encoding="utf-8")
    code, out, _ = run([str(other), "--input-format", "csv"])
    assert code == EXIT_OK and out[0]["id"] == "a"


# ---------------------------------------------------------------------------
# Parquet
# ---------------------------------------------------------------------------


def test_parquet_nested_and_flat_columns(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    table = pa.table({
        "id": ["a", "b", "c"],
        "text": ["Vote for the BJP", "Nice weather", None],
        "account": [{"kind": "personal"}, {"kind": "official"}, {"kind": "nobody"}],
        "author.service": ["IAS", None, "IPS"],
        "posted_at": pa.array([dt.datetime(2026, 4, 10, 10, 0, tzinfo=ist), None, None],
                              pa.timestamp("s", tz="+05:30")),
        "labels": [["official_capacity"], [], None],
        "retweets": [1, 2, 3],
    })
    path = tmp_path / "posts.parquet"
    pq.write_table(table, path, row_group_size=2)
    notes: list[str] = []
    got = framed(str(path), note=notes.append, chunk_records=2)
    assert notes == [f"{path}: columns not read: retweets"]
    assert got[0] == (1, 1, {"id": "a", "text": "Vote for the BJP", "author": {"service": "IAS"},
                             "posted_at": "2026-04-10T10:00:00+05:30", "labels": ["official_capacity"],
                             "account": {"kind": "personal"}}, None)
    code, out, _stderr = run([str(path)])
    assert code == EXIT_INVALID
    assert [(o["record"], o.get("outcome")) for o in out] == [(1, "advisory"), (2, "permitted"), (3, None)]
    assert out[2]["errors"][0]["code"] == "R305"


def test_parquet_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    code, _out, stderr = run([str(bad)])
    assert code == EXIT_INVALID and "error[I501]" in stderr and "is not a Parquet file" in stderr
    code, _out, stderr = run(["-", "--input-format", "parquet"], stdin="")
    assert code == EXIT_INVALID and "Parquet cannot be read from standard input" in stderr


# ---------------------------------------------------------------------------
# URLs (through fsspec) and file objects the caller opens
# ---------------------------------------------------------------------------


def test_jsonl_and_csv_from_an_fsspec_url_keep_the_url_as_the_name() -> None:
    fsspec = pytest.importorskip("fsspec")
    text = '{"id": 1, "text": "a"}\n{"id": 2,\n "text": "b"}\n\n{not json\n'
    with fsspec.open("memory://govpost-test/posts.jsonl", "wb") as fh:
        fh.write(text.encode("utf-8"))
    chunks = list(read_chunks("memory://govpost-test/posts.jsonl"))
    assert {c.source for c in chunks} == {"memory://govpost-test/posts.jsonl"}
    assert framed("memory://govpost-test/posts.jsonl") == reference(text)
    with fsspec.open("memory://govpost-test/posts.csv", "wb") as fh:
        fh.write(b"id,text\n1,hello\n")
    assert framed("memory://govpost-test/posts.csv") == [(1, 2, {"id": "1", "text": "hello"}, None)]


def test_parquet_from_a_url_and_from_a_file_object(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["x", "y"]}), path)
    expected = [(1, 1, {"id": "a", "text": "x"}, None), (2, 2, {"id": "b", "text": "y"}, None)]
    url = path.as_uri()  # file:///…/posts.parquet
    assert framed(url) == expected
    assert {c.source for c in read_chunks(url)} == {url}
    with path.open("rb") as fh:
        chunks = list(read_chunks("s3://bucket/posts.parquet", file=fh))
        assert not fh.closed  # the caller's file is the caller's to close
    assert {c.source for c in chunks} == {"s3://bucket/posts.parquet"}
    assert [(i, v) for i, _l, v, _p in iter_framed(chunks)] == [(e[0], e[2]) for e in expected]


def test_file_object_for_any_name_and_stream_only_for_stdin(tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "from the path"}\n', encoding="utf-8")
    got = list(read_chunks(str(other), file=io.BytesIO(b'{"id": "given"}\n')))
    assert got[0].source == str(other) and '"given"' in got[0].data
    # `stream` is standard input's: a path given with it is still read from the path.
    got = list(read_chunks(str(other), stream=io.BytesIO(b'{"id": "stdin"}\n')))
    assert '"from the path"' in got[0].data


def test_unreadable_urls_are_input_errors(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    with pytest.raises(InputError, match="No such file"):
        list(read_chunks("memory://govpost-test/missing.jsonl"))
    with pytest.raises(InputError, match="cannot read"):
        list(read_chunks("nosuchprotocol://bucket/posts.jsonl"))
    with pytest.raises(InputError, match="No such file"):
        list(read_chunks((tmp_path / "missing.parquet").as_uri()))
    code, _out, stderr = run(["memory://govpost-test/missing.jsonl"])
    assert code == EXIT_INVALID and "error[I501]" in stderr and "Traceback" not in stderr


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\r\n\x0bab{}", max_size=60))
def test_blank_lines_counts_what_a_multiline_regex_counts(text: str) -> None:
    import re

    from toolkit.inputs import blank_lines

    assert blank_lines(text) == len(re.findall(r"^[^\S\n]*\n", text, re.MULTILINE))
