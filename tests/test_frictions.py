"""Small frictions a newcomer meets (issue 14): output options, wording, errors, optional extras."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from click.testing import CliRunner
from support import POLICIES

from toolkit.cli import cli
from toolkit.document import post_view

FULL = str(POLICIES / "full.policy")


# ---------------------------------------------------------------------------
# govpost check -o FILE writes the results there, not also to standard output
# ---------------------------------------------------------------------------


def _posts(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "hello", "platform": "x"}) + "\n"
                    + json.dumps({"id": "b", "text": "good morning", "platform": "facebook"}) + "\n",
                    encoding="utf-8")
    return path


def test_check_output_file_instead_of_standard_output(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    result = runner.invoke(cli, ["check", FULL, str(_posts(tmp_path)), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]


def test_check_text_report_to_output_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "results.txt"
    result = runner.invoke(cli, ["check", FULL, str(_posts(tmp_path)), "--format", "text", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text.rstrip().endswith("2 posts: 2 permitted")


def test_check_without_output_prints_results(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["check", FULL, str(_posts(tmp_path)), "--format", "jsonl", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "b"]


# ---------------------------------------------------------------------------
# Illustrative cases show the account as a reader expects
# ---------------------------------------------------------------------------


def _account(post: dict[str, object]) -> str:
    return next(line["value"] for line in post_view(post) if line["field"] == "Account")


def test_account_without_kind_is_a_personal_account() -> None:
    assert _account({"text": "x", "account": {"bio": "IAS 2015 | Collector"}}) == "personal account"


def test_account_kind_and_handle() -> None:
    assert _account({"text": "x", "account": {"kind": "official", "handle": "@DM_Sitapur"}}) \
        == "official account @DM_Sitapur"
    assert _account({"text": "x", "account": {"handle": "@someone"}}) == "personal account @someone"


# ---------------------------------------------------------------------------
# Optional parts: a missing extra is an error naming its pip command
# ---------------------------------------------------------------------------


def test_parquet_without_its_extra(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"text": ["hello"]}), path)
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if `govpost[parquet]` were not installed
    result = runner.invoke(cli, ["check", FULL, str(path), "--jobs", "1"])
    assert result.exit_code == 2, result.output
    assert "pip install 'govpost[parquet]'" in result.stderr and "Traceback" not in result.output


def test_language_server_without_its_extra(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "toolkit.lsp", raising=False)
    monkeypatch.setitem(sys.modules, "pygls", None)
    result = runner.invoke(cli, ["lsp"])
    assert result.exit_code == 2, result.output
    assert "pip install 'govpost[lsp]'" in result.stderr and "Traceback" not in result.output


def test_the_core_needs_no_optional_part() -> None:
    import tomllib

    from support import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = " ".join(project["dependencies"])
    for optional in ("pyarrow", "pygls", "lsprotocol", "dask", "matplotlib", "starlette", "sqlalchemy", "uvicorn"):
        assert optional not in core, optional
    extras = project["optional-dependencies"]
    assert {"parquet", "lsp", "dask", "report", "web"} <= set(extras)
    assert "govpost[dask,report,parquet,lsp,web]" in extras["test"]


# ---------------------------------------------------------------------------
# Missing translations: a warning per text, unless the policy says its translation is partial
# ---------------------------------------------------------------------------


def test_translations_partial_silences_missing_translation_warnings(runner: CliRunner, tmp_path: Path) -> None:
    from support import FIXTURES

    source = (FIXTURES / "build" / "circular.policy").read_text(encoding="utf-8")
    complete = tmp_path / "complete.policy"
    complete.write_text(source.replace('compare_with "guidance.policy"\n', ""), encoding="utf-8")
    partial = tmp_path / "partial.policy"
    partial.write_text(source.replace('compare_with "guidance.policy"\n', "translations partial\n"), encoding="utf-8")
    warned = runner.invoke(cli, ["validate", str(complete)])
    assert "warning[S221]: clause 1.1(b) `self-praise` text has no `@hi` translation" in warned.stderr
    quiet = runner.invoke(cli, ["validate", str(partial)])
    assert quiet.exit_code == 0, quiet.output
    assert "S221" not in quiet.stderr
    bad = tmp_path / "bad.policy"
    bad.write_text(source.replace('compare_with "guidance.policy"\n', "translations some\n"), encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2 and "error[S215]: `some` is not a valid `translations`" in result.stderr
