"""The Dask engine: record for record the single-machine results, and the same summary.

One local cluster of two worker processes serves the whole module.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("distributed")

from toolkit import api  # noqa: E402
from toolkit.batch import iter_framed  # noqa: E402
from toolkit.cli import cli  # noqa: E402
from toolkit.dask_engine import DaskEngineError, check_with_dask, loaded_rule_sets, read_parts  # noqa: E402
from toolkit.inputs import read_chunks  # noqa: E402
from toolkit.rules import dumps  # noqa: E402
from toolkit.summary import Summary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_checker import synthetic_posts  # noqa: E402

AIS = ROOT / "policies/in/ais-social-media.policy"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import distributed

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A compiled rule set and two inputs of synthetic posts (3,000 in all), with malformed records."""
    tmp = tmp_path_factory.mktemp("dask")
    ruleset = api.compile_result(api.check_file(AIS))
    rules = tmp / "ais.rules.json"
    rules.write_text(dumps(ruleset), encoding="utf-8")
    posts = synthetic_posts(ruleset, 3000, seed=11)
    for i, post in enumerate(posts):
        post["account"]["handle"] = f"@officer{i % 7}"
    first = tmp / "first.jsonl"
    lines = [json.dumps(p, ensure_ascii=False) for p in posts[:2000]]
    lines[10] = "{not json"
    lines[500] = json.dumps({"text": "hello", "platform": "twitter"})
    lines.insert(700, "")  # a blank line: line and record numbers part
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = tmp / "second.json"  # a JSON array
    second.write_text(json.dumps(posts[2000:], ensure_ascii=False, indent=1), encoding="utf-8")
    return {"ruleset": ruleset, "rules": rules, "inputs": [str(first), str(second)], "tmp": tmp}


def cli_check(rules: Path, inputs: list[str], errors: Path) -> list[str]:
    """`govpost check --format jsonl --jobs 1 --errors` output lines."""
    out = CliRunner().invoke(cli, ["check", str(rules), *inputs, "--format", "jsonl", "--errors", str(errors),
                                   "--jobs", "1"])
    assert out.exit_code in (0, 1, 2), out.output
    return out.stdout.splitlines()


def summary_of(lines: list[str], inputs: list[str], **limits: int) -> Summary:
    """The summary of result records as written, with the posts they are about (what the engine builds)."""
    summary = Summary(**limits)
    framed = [f for name in inputs for f in iter_framed(read_chunks(name))]
    for line, (_index, _line, value, problem) in zip(lines, framed, strict=True):
        summary.add(json.loads(line), value if problem is None and isinstance(value, dict) else None)
    return summary


def single_machine(corpus: dict[str, Any], **limits: int) -> tuple[list[str], str, Summary]:
    """`govpost check --format jsonl --errors` output, errors file and summary of the single-process path."""
    errors = corpus["tmp"] / "single-errors.jsonl"
    lines = cli_check(corpus["rules"], corpus["inputs"], errors)
    return lines, errors.read_text(encoding="utf-8"), summary_of(lines, corpus["inputs"], **limits)


def test_dask_results_identical_to_single_machine(client: Any, corpus: dict[str, Any]) -> None:
    lines, errors, summary = single_machine(corpus)
    out_dir = corpus["tmp"] / "jsonl-out"
    dask_errors = corpus["tmp"] / "dask-errors.jsonl"
    got = check_with_dask(corpus["rules"], corpus["inputs"], out_dir, client=client, partition_records=400,
                          errors_path=dask_errors)
    parts = sorted(out_dir.glob("part-*.jsonl"))
    assert len(parts) > 4  # really partitioned
    assert [p.name for p in parts] == [f"part-{i:05d}.jsonl" for i in range(len(parts))]
    dask_lines = [line for p in parts for line in p.read_text(encoding="utf-8").splitlines()]
    assert len(dask_lines) == len(lines) == 3000
    assert dask_lines == lines  # record for record, byte for byte, in input order
    assert dask_errors.read_text(encoding="utf-8") == errors
    assert got.to_dict() == summary.to_dict()
    d = got.to_dict()
    assert d["records"] == 3000 and d["malformed"] == 2
    assert sum(d["outcomes"].values()) + d["errors"]["records"] == d["records"]
    assert {a["account"] for a in d["accounts"]} == {f"@officer{i}" for i in range(7)}
    # Each worker built the checker once, for the one rule set it was sent.
    keys = client.run(loaded_rule_sets)
    assert all(len(k) == 1 for k in keys.values()) and len({k[0] for k in keys.values()}) == 1


def test_parquet_parts_hold_the_same_records(client: Any, corpus: dict[str, Any]) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    lines, _errors, _summary = single_machine(corpus)
    out_dir = corpus["tmp"] / "parquet-out"
    check_with_dask(corpus["ruleset"], corpus["inputs"], out_dir, client=client, output_format="parquet",
                    partition_records=1000)
    assert [json.loads(line) for line in lines] == list(read_parts(out_dir))
    table = pq.read_table(sorted(out_dir.glob("part-*.parquet"))[0])
    assert table.column_names[:5] == ["input", "record", "line", "id", "outcome"]
    row = table.slice(0, 1).to_pylist()[0]
    assert row["record"] == 1 and row["json"] == lines[0]


def test_bad_options_and_inputs(client: Any, corpus: dict[str, Any], tmp_path: Path) -> None:
    from toolkit.inputs import InputError
    from toolkit.rules import RuleSetError

    with pytest.raises(DaskEngineError):
        check_with_dask(corpus["ruleset"], corpus["inputs"], tmp_path, client=client, output_format="csv")
    with pytest.raises(RuleSetError):
        check_with_dask(b'{"format": "other"}', corpus["inputs"], tmp_path, client=client)
    with pytest.raises(InputError):
        check_with_dask(corpus["ruleset"], [str(tmp_path / "missing.jsonl")], tmp_path, client=client)


def test_summary_limits_pass_through_and_merge_exactly(client: Any, corpus: dict[str, Any]) -> None:
    _lines, _errors, summary = single_machine(corpus, top_posts=150, max_errors=1, top_terms=3)
    got = check_with_dask(corpus["rules"], corpus["inputs"], corpus["tmp"] / "limits-out", client=client,
                          partition_records=300, top_posts=150, max_errors=1, top_terms=3)
    d = got.to_dict()
    assert d == summary.to_dict()
    assert len(d["top_posts"]) == 150 and len(d["errors"]["first"]) == 1 and d["errors"]["records"] == 2
    with pytest.raises(DaskEngineError):
        check_with_dask(corpus["rules"], corpus["inputs"], corpus["tmp"] / "x", client=client, top_posts=-1)


def _spread(post: dict[str, Any]) -> str:
    """A post written over several lines (as `json.dumps(indent=2)` does), which JSON Lines readers accept."""
    return json.dumps(post, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("partition_records", [300, 1500])
def test_records_spread_over_lines_are_numbered_as_one_machine_numbers_them(
        client: Any, corpus: dict[str, Any], partition_records: int) -> None:
    """A record over several lines in an early partition (and in a later one): later numbers stay right.

    The reader assumes one record per non-blank line; with small partitions
    every later partition (300), or the later chunks of the same partition
    (1500: several chunks a partition), would be numbered from that guess.
    """
    tmp = corpus["tmp"]
    posts = synthetic_posts(corpus["ruleset"], 4000, seed=5)
    lines = [json.dumps(p, ensure_ascii=False) for p in posts]
    lines[3] = _spread(posts[3])  # 20 lines, one record, in the first chunk
    lines[7] = _spread(posts[7])
    lines[2600] = _spread(posts[2600])  # and one in a later chunk
    lines[2601] = "{not json"
    path = tmp / f"spread-{partition_records}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(list(read_chunks(str(path)))) >= 4  # several chunks, so several partitions
    errors = tmp / f"spread-errors-{partition_records}.jsonl"
    expected = cli_check(corpus["rules"], [str(path)], errors)
    assert [json.loads(line)["record"] for line in expected] == list(range(1, 4001))
    out_dir = tmp / f"spread-out-{partition_records}"
    dask_errors = tmp / f"spread-dask-errors-{partition_records}.jsonl"
    got = check_with_dask(corpus["rules"], [str(path)], out_dir, client=client,
                          partition_records=partition_records, errors_path=dask_errors)
    parts = sorted(out_dir.glob("part-*.jsonl"))
    assert len(parts) >= (4 if partition_records == 300 else 2)
    assert [line for p in parts for line in p.read_text(encoding="utf-8").splitlines()] == expected
    assert dask_errors.read_text(encoding="utf-8") == errors.read_text(encoding="utf-8")
    assert got == summary_of(expected, [str(path)])


def test_inputs_from_an_fsspec_url(client: Any, corpus: dict[str, Any]) -> None:
    """The client reads inputs through fsspec; records name the URL, as `govpost check URL` does."""
    fsspec = pytest.importorskip("fsspec")
    first = Path(corpus["inputs"][0])
    url = "memory://govpost-dask/first.jsonl"
    with fsspec.open(url, "wb") as fh:
        fh.write(first.read_bytes())
    expected = cli_check(corpus["rules"], [url], corpus["tmp"] / "url-errors.jsonl")
    assert json.loads(expected[0])["input"] == url
    out_dir = corpus["tmp"] / "url-out"
    check_with_dask(corpus["rules"], [url], out_dir, client=client, partition_records=500)
    assert [json.dumps(r, ensure_ascii=False) for r in read_parts(out_dir)] == expected
    # A file:// URL of a Parquet file, read through fsspec by the client.
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq_path = corpus["tmp"] / "posts.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["Vote for the BJP", "A quiet day"]}), pq_path)
    expected = cli_check(corpus["rules"], [pq_path.as_uri()], corpus["tmp"] / "pq-errors.jsonl")
    check_with_dask(corpus["rules"], [pq_path.as_uri()], corpus["tmp"] / "pq-out", client=client)
    assert [json.dumps(r, ensure_ascii=False) for r in read_parts(corpus["tmp"] / "pq-out")] == expected
