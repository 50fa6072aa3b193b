"""Checking in chunks and in worker processes: the same records, in the same order, with the same bytes."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import POLICIES, ROOT

from toolkit import api
from toolkit.batch import Chunk, check_chunk, run_chunk, run_ordered
from toolkit.cli import cli
from toolkit.inputs import read_chunks

FULL = str(POLICIES / "full.policy")
AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
CORPUS = ROOT / "tests" / "corpus" / "ais-posts.jsonl"
EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


@pytest.fixture(scope="module")
def ais_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "ais.rules.json"
    from toolkit.rules import dumps

    path.write_text(dumps(api.compile_result(api.check_file(AIS))), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def many_posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 MB of posts from the corpus, with malformed ones and one spread over lines: several chunks."""
    corpus = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(7)
    lines = []
    for i in range(3600):
        post = dict(rng.choice(corpus)["post"] if "post" in corpus[0] else rng.choice(corpus))
        post = {k: v for k, v in post.items() if k not in ("expect", "topics", "reason", "note")}
        post["id"] = f"p{i}"
        lines.append(json.dumps(post, ensure_ascii=False))
        if i % 500 == 3:
            lines.append('{"id": "broken", "text": }')
        if i % 700 == 5:
            lines.append("")
        if i == 10:
            lines.append('{"id": "spread",\n "text": "Vote for the BJP"}')
        if i % 900 == 7:
            lines.append('{"id": "typo", "platfrom": "x"}')
    path = tmp_path_factory.mktemp("posts") / "many.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli_run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------------------
# check_chunk: the unit of work of the worker processes and of the Dask engine
# ---------------------------------------------------------------------------

MIXED = (
    '{"id": "p1", "text": "Vote for the BJP!"}\n'
    '{"id": "p2", "text": "Nice weather"}\n'
    "\n"
    '{"id": "p3", "text": broken}\n'
    '{"id": "p4", "platfrom": "x"}\n'
    '{"id": "p5",\n'
    ' "text": "The Labour Party met", "posted_at": "2026-04-10T10:00+05:30"}\n'
)


def test_check_chunk_gives_the_records_the_command_writes(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(MIXED, encoding="utf-8")
    _code, stdout, _ = cli_run(FULL, str(path), "--format", "jsonl", "--jobs", "1")
    written = [json.loads(line) for line in stdout.splitlines()]
    checker = api.checker(api.compile_result(api.check_file(FULL)))
    results, errors = check_chunk(checker, MIXED.splitlines(keepends=True), 1, str(path))
    assert sorted(results + errors, key=lambda r: r["record"]) == written
    assert [e["record"] for e in errors] == [3, 4]
    # Bytes, decoded posts and framed records are accepted too.
    as_bytes = check_chunk(checker, [line.encode() for line in MIXED.splitlines()], 1, str(path))
    assert as_bytes == (results, errors)
    decoded, none = check_chunk(checker, [{"id": "a", "text": "Vote for the BJP"}], 5, "x", first_record_no=9)
    assert none == [] and (decoded[0]["record"], decoded[0]["line"], decoded[0]["outcome"]) == (9, 5, "prohibited")


def test_encoded_output_is_json_dumps_of_the_records(ais_rules: Path) -> None:
    """The hot path writes bytes itself; they are exactly json.dumps(record, ensure_ascii=False)."""
    checker = api.checker(api.load_rules(ais_rules))
    text = CORPUS.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines(keepends=True) if line.strip()]
    records = []
    for line in lines:
        value = json.loads(line)
        post = value.get("post", value)
        post = {k: v for k, v in post.items() if k not in ("expect", "topics", "reason", "note")}
        records.append(json.dumps(post, ensure_ascii=False) + "\n")
    records.append('{"labels": ["undeclared_label"], "text": "x"}\n')
    results, errors = check_chunk(checker, records, 1, "corpus — ü")
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sorted(results + errors,
                                                                                key=lambda r: r["record"]))
    got = run_chunk(checker, Chunk("corpus — ü", "".join(records), 1, 1, True)).output.decode("utf-8")
    assert got == expected
    assert any(r.get("warnings") for r in results) and any(r["findings"] for r in results)


# ---------------------------------------------------------------------------
# Worker processes: the order and the bytes do not depend on --jobs
# ---------------------------------------------------------------------------


def test_jobs_give_identical_output_in_input_order(ais_rules: Path, many_posts: Path, tmp_path: Path) -> None:
    outs = {}
    for jobs in ("1", "2"):
        errors = tmp_path / f"errors-{jobs}.jsonl"
        code, stdout, stderr = cli_run(str(ais_rules), str(many_posts), "--format", "jsonl", "--jobs", jobs,
                                       "--errors", str(errors), "--fail-on", "never")
        assert code == EXIT_INVALID, stderr
        outs[jobs] = (stdout, errors.read_text(encoding="utf-8"), stderr)
    assert outs["1"] == outs["2"]
    stdout, errors_text, _ = outs["2"]
    records = [json.loads(line) for line in stdout.splitlines()]
    # Every record once, in input order; the counts add up.
    assert [r["record"] for r in records] == list(range(1, len(records) + 1))
    lines = [r["line"] for r in records]
    assert lines == sorted(lines)
    bad = [json.loads(line) for line in errors_text.splitlines()]
    good = [r for r in records if "outcome" in r]
    assert len(good) + len(bad) == len(records) == 3600 + 8 + 1 + 4
    assert [r["id"] for r in good][:13] == [f"p{i}" for i in range(11)] + ["spread", "p11"]
    spread = next(r for r in good if r["id"] == "spread")
    assert (spread["record"], spread["line"], spread["outcome"]) == (14, 15, "prohibited")


def test_chunks_after_a_record_spread_over_lines_are_renumbered(ais_rules: Path, many_posts: Path) -> None:
    checker = api.checker(api.load_rules(ais_rules))
    data = many_posts.read_bytes()
    for jobs in (1, 2):
        chunks = read_chunks("-", "jsonl", stream=io.BytesIO(data), chunk_bytes=20_000)
        got = b"".join(res.output for _c, res in run_ordered(chunks, checker, jobs=jobs))
        numbers = [json.loads(line)["record"] for line in got.splitlines()]
        assert numbers == list(range(1, len(numbers) + 1))


def test_summary_counts_add_up(ais_rules: Path, many_posts: Path, tmp_path: Path) -> None:
    from toolkit.summary import Summary

    results = tmp_path / "results.jsonl"
    code, stdout, _ = cli_run(str(ais_rules), str(many_posts), "--summary", "--output", str(results),
                              "--jobs", "2", "--quiet")
    assert code == EXIT_INVALID
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    expected = Summary().add_many(records)
    assert expected.records == len(records) == sum(expected.outcomes) + expected.error_records == 3613
    # The workers' summaries also know each post's month and account, which result records do not carry.
    assert stdout.startswith("3613 records")


def test_summary_from_workers_equals_one_pass(ais_rules: Path, many_posts: Path) -> None:
    checker = api.checker(api.load_rules(ais_rules))
    data = many_posts.read_bytes()
    merged = {}
    for jobs in (1, 2):
        chunks = read_chunks("-", "jsonl", stream=io.BytesIO(data), chunk_bytes=50_000)
        summary = None
        for _c, res in run_ordered(chunks, checker, jobs=jobs, summary=True):
            summary = res.summary if summary is None else summary.merge(res.summary)
        merged[jobs] = summary
    assert merged[1] == merged[2]
    assert merged[1].records == 3613


# ---------------------------------------------------------------------------
# Progress, stdin, exit codes
# ---------------------------------------------------------------------------


def test_no_progress_when_stderr_is_not_a_terminal(ais_rules: Path, many_posts: Path) -> None:
    code, _stdout, stderr = cli_run(str(ais_rules), str(many_posts), "--format", "jsonl", "--jobs", "2")
    assert code == EXIT_INVALID
    assert "records/s" not in stderr
    assert all(": error[R3" in line for line in stderr.splitlines())


def test_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from toolkit.cli import check as check_module

    monkeypatch.setattr(check_module, "_is_terminal", lambda _stream: True)
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "hello"}\n' * 5, encoding="utf-8")
    code, _stdout, stderr = cli_run(FULL, str(path), "--format", "jsonl")
    assert code == EXIT_OK
    assert "5 records" in stderr and "records/s" in stderr
    code, _stdout, stderr = cli_run(FULL, str(path), "--format", "jsonl", "--quiet")
    assert stderr == ""


def test_text_and_json_formats_with_jobs(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(MIXED, encoding="utf-8")
    for fmt in ("text", "json"):
        one = cli_run(FULL, str(path), "--format", fmt, "--jobs", "1")
        two = cli_run(FULL, str(path), "--format", fmt, "--jobs", "2")
        assert one == two
        assert one[0] == EXIT_INVALID


# ---------------------------------------------------------------------------
# Files of JSON Lines by byte offsets: workers read their own chunks
# ---------------------------------------------------------------------------


def _offsets_file(path: Path, many_posts: Path) -> bytes:
    """The many posts, with a byte order mark, records spread over lines, blank lines of all kinds."""
    lines = many_posts.read_text(encoding="utf-8").split("\n")
    out = []
    for i, line in enumerate(lines[:1500]):
        out.append(line)
        if i % 97 == 5:
            out.append(f'{{"id": "multi-{i}",\n  "text": "Vote for the BJP",\n  "platform": "x"}}')
        if i % 89 == 3:  # lines inside a record that start with "{", one of them a whole value
            out.append(f'{{"id": "nest-{i}", "text": "Vote for the BJP", "account":\n{{"kind": "official"}}}}')
            out.append(f'{{"id": "nest2-{i}", "text": "Vote for the BJP", "account":\n{{"kind": "official"}}\n}}')
        if i % 131 == 7:
            out.append("   ")
        if i % 173 == 9:
            out.append("\u00a0")  # blank to the reader, not ASCII white space
        if i % 211 == 11:
            out.append("")
        if i % 157 == 13:
            out.append('{"id": "cut", "text": ')  # broken, and not where a chunk may end
    data = ("\ufeff" + "\n".join(out) + "\n  \n").encode("utf-8")
    path.write_bytes(data)
    return data


def test_files_by_offset_give_what_the_text_reader_gives(ais_rules: Path, many_posts: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.batch import FileSlice
    from toolkit.cli import check as check_module

    path = tmp_path / "offsets.jsonl"
    _offsets_file(path, many_posts)
    chunks = list(read_chunks(str(path), "jsonl", chunk_bytes=2000, by_offset=True))
    assert len(chunks) > 100 and all(isinstance(c.data, FileSlice) for c in chunks)
    assert chunks[0].data.start == 3 and chunks[-1].final  # after the byte order mark
    outs = {}
    for label, by_offset, chunk_bytes, jobs in (("text", False, 1 << 18, "1"), ("one", True, 2000, "1"),
                                                 ("two", True, 2000, "2"), ("two-big", True, 7000, "2")):
        def reader(*a: Any, by_offset: bool = by_offset, chunk_bytes: int = chunk_bytes, **k: Any) -> Any:
            k["by_offset"] = by_offset  # the command asks for offsets; "text" reads the file as text
            return read_chunks(*a, chunk_bytes=chunk_bytes, **k)

        monkeypatch.setattr(check_module, "read_chunks", reader)
        errors = tmp_path / f"errors-{label}.jsonl"
        code, stdout, stderr = cli_run(str(ais_rules), str(path), "--format", "jsonl", "--jobs", jobs,
                                       "--errors", str(errors), "--fail-on", "never")
        assert code == EXIT_INVALID, stderr
        outs[label] = (stdout, errors.read_text(encoding="utf-8"), stderr)
    assert outs["text"] == outs["one"] == outs["two"] == outs["two-big"]
    records = [json.loads(line) for line in outs["two"][0].splitlines()]
    assert [r["record"] for r in records] == list(range(1, len(records) + 1))
    assert sum(1 for r in records if r.get("id", "").startswith(("multi-", "nest"))) == 16 + 2 * 17


def test_a_file_by_offset_that_is_not_utf8_stops_the_run(ais_rules: Path, many_posts: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    data = many_posts.read_bytes()
    path.write_bytes(data[:600_000] + '{"text": "café"}\n'.encode("latin-1") + data[600_000:])
    for jobs in ("1", "2"):
        code, _stdout, stderr = cli_run(str(ais_rules), str(path), "--format", "jsonl", "--jobs", jobs)
        assert code == EXIT_INVALID
        assert f"error[I502]: `{path}` is not UTF-8 text: invalid continuation byte" in stderr


def test_offset_cuts_never_split_a_record(tmp_path: Path) -> None:
    """At every chunk size the chunks by offset read what the whole file reads, records spread over lines too."""
    checker = api.checker(api.compile_result(api.check_file(FULL)))
    parts = []
    for i in range(40):
        parts.append(f'{{"id": "a{i}", "text": "Vote for the BJP"}}\n')
        if i % 3 == 0:
            parts.append(f'{{"id": "n{i}", "text": "x", "account":\n{{"kind": "official"}}}}\n')
        if i % 4 == 1:
            parts.append(f'{{"id": "w{i}", "text": "x", "account":\n{{"kind": "official"}}\n}}\n')
        if i % 5 == 2:
            parts.append("\n \n" if i % 2 else '{"id": "broken", \n')
    path = tmp_path / "cuts.jsonl"
    path.write_text("".join(parts), encoding="utf-8")
    whole = b"".join(res.output for _c, res in run_ordered(read_chunks(str(path), "jsonl"), checker))
    assert whole.count(b"\n") > 60
    for chunk_bytes in range(60, 1200, 13):
        chunks = list(read_chunks(str(path), "jsonl", chunk_bytes=chunk_bytes, by_offset=True))
        assert len(chunks) > 1
        got = b"".join(res.output for _c, res in run_ordered(chunks, checker))
        assert got == whole, chunk_bytes
