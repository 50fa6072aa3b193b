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
from toolkit.batch import run_chunk  # noqa: E402
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


def single_machine(corpus: dict[str, Any]) -> tuple[list[str], str, Summary]:
    """`govpost check --format jsonl --errors` output, and the summary of the single-process path."""
    tmp = corpus["tmp"]
    errors = tmp / "single-errors.jsonl"
    out = CliRunner().invoke(cli, ["check", str(corpus["rules"]), *corpus["inputs"], "--format", "jsonl",
                                   "--errors", str(errors), "--jobs", "1"])
    assert out.exit_code == 2, out.output  # malformed records
    checker = api.checker(corpus["ruleset"])
    summary = Summary()
    for name in corpus["inputs"]:
        for chunk in read_chunks(name):
            summary.merge(run_chunk(checker, chunk, summary=True).summary)
    return out.stdout.splitlines(), errors.read_text(encoding="utf-8"), summary


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
