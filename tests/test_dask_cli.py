"""`govpost check --engine dask`: the command line on a Dask cluster, against `--jobs 1`.

One local cluster of two worker processes serves the module (reached with
--scheduler); one run starts its own cluster, as a user's first run does.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("distributed")

from toolkit import api  # noqa: E402
from toolkit.cli import cli  # noqa: E402
from toolkit.rules import dumps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_checker import synthetic_posts  # noqa: E402

AIS = ROOT / "policies/in/ais-social-media.policy"
EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    import distributed

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("dask-cli")
    ruleset = api.compile_result(api.check_file(AIS))
    rules = tmp / "ais.rules.json"
    rules.write_text(dumps(ruleset), encoding="utf-8")
    posts = synthetic_posts(ruleset, 2500, seed=3)
    for i, post in enumerate(posts):
        post["account"]["handle"] = f"@officer{i % 5}"
    lines = [json.dumps(p, ensure_ascii=False) for p in posts]
    lines[4] = json.dumps(posts[4], indent=2)  # one record over several lines, early
    lines[9] = "{not json"
    lines[1200] = json.dumps({"text": "hello", "platform": "twitter"})
    mixed = tmp / "mixed.jsonl"
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    quiet = tmp / "quiet.jsonl"
    quiet.write_text('{"id": "1", "text": "A quiet morning at the district office."}\n'
                     '{"id": "2", "text": "Rain expected in the hills."}\n', encoding="utf-8")
    loud = tmp / "loud.jsonl"
    loud.write_text('{"id": "1", "text": "Vote for the BJP!", "platform": "x"}\n', encoding="utf-8")
    return {"rules": rules, "mixed": mixed, "quiet": quiet, "loud": loud, "tmp": tmp}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["check", *args, "--quiet"])


def parts(folder: Path) -> list[str]:
    return [line for p in sorted(folder.glob("part-*.jsonl")) for line in p.read_text(encoding="utf-8").splitlines()]


def test_dask_cli_matches_one_process(scheduler: str, files: dict[str, Path]) -> None:
    rules, mixed, tmp = str(files["rules"]), str(files["mixed"]), files["tmp"]
    one = invoke(rules, mixed, "--format", "jsonl", "--jobs", "1", "--errors", str(tmp / "one-errors.jsonl"))
    assert one.exit_code == EXIT_INVALID  # malformed records
    one_summary = invoke(rules, mixed, "--summary", "--format", "jsonl", "--jobs", "1")
    out_dir = tmp / "out"
    got = invoke(rules, mixed, "--engine", "dask", "--scheduler", scheduler, "-o", str(out_dir), "--summary",
                 "--errors", str(tmp / "dask-errors.jsonl"))
    assert got.exit_code == EXIT_INVALID, got.output
    assert "Traceback" not in got.output
    assert parts(out_dir) == one.stdout.splitlines()  # record for record, byte for byte
    assert len(parts(out_dir)) == 2500
    assert (tmp / "dask-errors.jsonl").read_bytes() == (tmp / "one-errors.jsonl").read_bytes()
    # The same summary, printed the same way.
    assert got.stdout == one_summary.stdout
    assert got.stdout.startswith("2500 records: 2498 checked, 2 malformed\n")
    assert "@officer0" in got.stdout and "2029-" in got.stdout


def test_dask_cli_exit_codes(scheduler: str, files: dict[str, Path]) -> None:
    rules, tmp = str(files["rules"]), files["tmp"]
    quiet = invoke(rules, str(files["quiet"]), "--engine", "dask", "--scheduler", scheduler, "-o", str(tmp / "q"))
    assert quiet.exit_code == EXIT_OK, quiet.output
    assert quiet.stdout == ""  # the results are in the part files; no summary asked for
    loud = invoke(rules, str(files["loud"]), "--engine", "dask", "--scheduler", scheduler, "-o", str(tmp / "l"))
    assert loud.exit_code == EXIT_FINDINGS, loud.output
    assert json.loads(parts(tmp / "l")[0])["outcome"] == "prohibited"
    never = invoke(rules, str(files["loud"]), "--engine", "dask", "--scheduler", scheduler, "-o", str(tmp / "n"),
                   "--fail-on", "never")
    assert never.exit_code == EXIT_OK


def test_dask_cli_starts_its_own_cluster(files: dict[str, Path]) -> None:
    tmp = files["tmp"]
    got = invoke(str(files["rules"]), str(files["loud"]), str(files["quiet"]), "--engine", "dask", "--jobs", "1",
                 "-o", str(tmp / "own"), "--summary")
    assert got.exit_code == EXIT_FINDINGS, got.output
    inputs = [json.loads(line)["input"] for line in parts(tmp / "own")]
    assert inputs == [str(files["loud"]), str(files["quiet"]), str(files["quiet"])]
    assert got.stdout.startswith("3 records: 3 checked, 0 malformed\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_a_clear_error(files: dict[str, Path]) -> None:
    import dask

    address = f"tcp://127.0.0.1:{_free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        got = invoke(str(files["rules"]), str(files["quiet"]), "--engine", "dask", "--scheduler", address,
                     "-o", str(files["tmp"] / "unreachable"))
    assert got.exit_code == EXIT_INVALID
    assert f"error: cannot reach the Dask scheduler at `{address}`" in got.stderr
    assert "Traceback" not in got.output


def test_missing_dask_is_a_clear_error(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    got = invoke(str(files["rules"]), str(files["quiet"]), "--engine", "dask", "-o", str(files["tmp"] / "nodask"))
    assert got.exit_code == EXIT_INVALID
    assert "error: the Dask engine needs Dask: pip install 'govpost[dask]'" in got.stderr
    assert "Traceback" not in got.output


def test_bad_dask_invocations(files: dict[str, Path]) -> None:
    rules, quiet = str(files["rules"]), str(files["quiet"])
    no_dir = invoke(rules, quiet, "--engine", "dask")
    assert no_dir.exit_code == EXIT_INVALID and "--output DIR" in no_dir.stderr
    missing = invoke(rules, str(files["tmp"] / "missing.jsonl"), "--engine", "dask", "--jobs", "1",
                     "-o", str(files["tmp"] / "m"))
    assert missing.exit_code == EXIT_INVALID and "error[I501]" in missing.stderr
    assert "Traceback" not in missing.output


def test_an_existing_folder_is_the_output_of_a_dask_run(scheduler: str, files: dict[str, Path]) -> None:
    # An empty folder made beforehand, and the same folder again with the parts of a run in it.
    rules, tmp = str(files["rules"]), files["tmp"]
    folder = tmp / "made-before"
    folder.mkdir()
    (folder / "README").write_text("not a part file\n", encoding="utf-8")
    for _ in range(2):
        got = invoke(rules, str(files["loud"]), "--engine", "dask", "--scheduler", scheduler, "-o", str(folder))
        assert got.exit_code == EXIT_FINDINGS, got.output
        assert sorted(p.name for p in folder.iterdir()) == ["README", "part-00000.jsonl"]
        assert json.loads(parts(folder)[0])["outcome"] == "prohibited"


def test_malformed_records_of_a_dask_run_are_printed_on_standard_error(scheduler: str,
                                                                      files: dict[str, Path]) -> None:
    rules, mixed, tmp = str(files["rules"]), str(files["mixed"]), files["tmp"]
    one = invoke(rules, mixed, "--format", "jsonl", "--jobs", "1")
    got = invoke(rules, mixed, "--engine", "dask", "--scheduler", scheduler, "-o", str(tmp / "stderr-run"))
    assert got.exit_code == EXIT_INVALID
    lines = got.stderr.splitlines()
    assert lines == one.stderr.splitlines()  # the lines `--engine local` prints, in the same order
    assert len(lines) == 2
    assert lines[0].startswith(f"{mixed}:") and "error[R301]: record " in lines[0]
    assert "error[R305]" in lines[1] and "twitter" in lines[1]


def test_a_local_run_refuses_a_folder_as_its_output_file(files: dict[str, Path]) -> None:
    got = invoke(str(files["rules"]), str(files["quiet"]), "-o", str(files["tmp"]))
    assert got.exit_code == EXIT_INVALID
    assert "is a folder; --output names the file the results go to" in got.stderr
    assert "Traceback" not in got.output
