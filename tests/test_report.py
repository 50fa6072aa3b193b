"""`govpost report`: text, JSON and a self-contained, deterministic HTML report from check results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
AIS = str(ROOT / "policies/in/ais-social-media.policy")
EXAMPLES = ROOT / "examples/posts.jsonl"

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """Results and errors of `govpost check` on the example posts plus three malformed records."""
    tmp = tmp_path_factory.mktemp("report")
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    dated = [json.loads(line) for line in lines]
    for i, post in enumerate(dated):
        post["posted_at"] = f"2026-{(i % 3) + 8:02d}-1{i % 10}T10:00:00+05:30"
        post.setdefault("account", {})["handle"] = f"@officer{i % 2}"
    posts = tmp / "posts.jsonl"
    body = [json.dumps(p) for p in dated] + ['{"text": "hi", "platform": "twitter"}', "{not json", "[1]"]
    posts.write_text("\n".join(body) + "\n", encoding="utf-8")
    runner = CliRunner()
    rules = tmp / "out"
    assert runner.invoke(cli, ["compile", AIS, "-o", str(rules)]).exit_code == 0
    results, errors = tmp / "results.jsonl", tmp / "errors.jsonl"
    out = runner.invoke(cli, ["check", str(rules / "ais-social-media.rules.json"), str(posts), "--format", "jsonl",
                              "--errors", str(errors)])
    assert out.exit_code == EXIT_INVALID, out.output
    # Result records may carry the post's `posted_at` and `account` (as the summary documents): months and
    # accounts are then counted from them.
    by_record = dict(enumerate(dated, 1))
    lines_out = []
    for line in out.stdout.splitlines():
        record = json.loads(line)
        post = by_record.get(record["record"])
        if "outcome" in record and post is not None:
            record.update(posted_at=post["posted_at"], account=post["account"])
        lines_out.append(json.dumps(record, ensure_ascii=False))
    results.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    (tmp / "plain.jsonl").write_text(out.stdout, encoding="utf-8")
    return results, errors, len(body)


def test_older_results_count_months_and_accounts_as_unknown(checked: tuple[Path, Path, int], tmp_path: Path) -> None:
    """Results written before records carried `platform`, `account` and `posted_at`."""
    results, _errors, n = checked
    older = tmp_path / "older.jsonl"
    records = [json.loads(line) for line in (results.parent / "plain.jsonl").read_text(encoding="utf-8").splitlines()]
    older.write_text("".join(json.dumps({k: v for k, v in r.items() if k not in ("platform", "account", "posted_at")})
                             + "\n" for r in records), encoding="utf-8")
    out = CliRunner().invoke(cli, ["report", str(older), "--format", "json"])
    data = json.loads(out.stdout)
    assert [(m["month"], m["posts"]) for m in data["months"]] == [(None, n - 3)]
    assert [(a["account"], a["posts"]) for a in data["accounts"]] == [(None, n - 3)]


def test_text_report(checked: tuple[Path, Path, int]) -> None:
    results, errors, n = checked
    out = CliRunner().invoke(cli, ["report", str(results), "--errors", str(errors)])
    assert out.exit_code == EXIT_OK, out.output
    assert out.stdout.startswith(f"{n} records: {n - 3} checked, 3 malformed\n")
    assert "per month" in out.stdout and "2026-08" in out.stdout
    assert "@officer0" in out.stdout
    assert "R305 value outside an enumeration: 1" in out.stdout


def test_json_report_counts_add_up(checked: tuple[Path, Path, int]) -> None:
    results, errors, n = checked
    # Errors appear both in the results (as `check --format jsonl` writes them) and in --errors: counted once.
    out = CliRunner().invoke(cli, ["report", str(results), "--errors", str(errors), "--format", "json"])
    assert out.exit_code == EXIT_OK, out.output
    data = json.loads(out.stdout)
    assert data["records"] == n
    assert sum(data["outcomes"].values()) + data["errors"]["records"] == n
    assert data["errors"]["records"] == 3
    assert sum(m["posts"] for m in data["months"]) == n - 3
    assert [m["month"] for m in data["months"]] == ["2026-08", "2026-09", "2026-10"]
    assert data["top_posts"][0]["outcome"] == "prohibited"


def test_errors_file_alone_and_results_without_errors(checked: tuple[Path, Path, int], tmp_path: Path) -> None:
    results, errors, n = checked
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(line + "\n" for line in results.read_text(encoding="utf-8").splitlines()
                             if '"errors"' not in line), encoding="utf-8")
    out = CliRunner().invoke(cli, ["report", str(clean), "--errors", str(errors), "--format", "json"])
    assert json.loads(out.stdout)["records"] == n


def test_fail_on(checked: tuple[Path, Path, int]) -> None:
    results, _errors, _n = checked
    assert CliRunner().invoke(cli, ["report", str(results), "--fail-on", "prohibited"]).exit_code == EXIT_FINDINGS
    assert CliRunner().invoke(cli, ["report", str(results)]).exit_code == EXIT_OK


def test_bad_input_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"outcome": "forbidden"}\nnot json\n[1]\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["report", str(bad)])
    assert out.exit_code == EXIT_INVALID
    assert f"{bad}:1: error: not a check result" in out.stderr
    assert f"{bad}:2: error: not valid JSON" in out.stderr
    assert "3 lines are not check results" in out.stderr
    assert "Traceback" not in out.output
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "missing.jsonl")])
    assert missing.exit_code == EXIT_INVALID and "error[I501]" in missing.stderr
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"outcome": "permitted", "findings": [], "id": "\xe9"}\n')
    assert CliRunner().invoke(cli, ["report", str(latin)]).exit_code == EXIT_INVALID
    results_as_errors = CliRunner().invoke(cli, ["report", str(bad), "--errors", str(bad)])
    assert results_as_errors.exit_code == EXIT_INVALID


def test_output_file(checked: tuple[Path, Path, int], tmp_path: Path) -> None:
    results, _errors, _n = checked
    target = tmp_path / "sub" / "summary.json"
    out = CliRunner().invoke(cli, ["report", str(results), "--format", "json", "-o", str(target)])
    assert out.exit_code == EXIT_OK and out.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "govpost.summary"


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


def test_html_report_is_self_contained_and_deterministic(checked: tuple[Path, Path, int], tmp_path: Path) -> None:
    results, errors, n = checked
    pages = []
    for name in ("a.html", "b.html"):
        target = tmp_path / name
        out = CliRunner().invoke(cli, ["report", str(results), "--errors", str(errors), "--format", "html",
                                       "-o", str(target), "--title", "Audit <Kerala> & co"])
        assert out.exit_code == EXIT_OK, out.output
        pages.append(target.read_bytes())
    assert pages[0] == pages[1]
    page = pages[0].decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Audit &lt;Kerala&gt; &amp; co" in page
    # Nothing is fetched: no http(s) source or link, no external script or stylesheet.
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page
    # Two charts, each drawn as inline SVG with a text alternative and a table with the same figures.
    assert page.count("<svg") == 2
    assert page.count('role="img"') == 2
    assert page.count("aria-labelledby=") >= 2
    assert "Outcomes per month" in page and "Posts per clause" in page
    assert "2026-08" in page and "party-endorsement" in page
    assert f"{n} records" in page


def test_html_report_without_findings_or_dates(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text('{"input": "p", "record": 1, "line": 1, "id": 1, "outcome": "permitted", "deciding": [], '
                       '"findings": [], "excepted": []}\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["report", str(results), "--format", "html"])
    assert out.exit_code == EXIT_OK, out.output
    assert "No clause applied to any post" in out.stdout


def test_only_the_report_renderer_imports_matplotlib_and_only_the_engine_imports_dask() -> None:
    from test_architecture import MODULES, imports_of

    for module in MODULES:
        if module != "render_report":
            assert "matplotlib" not in imports_of(module), module
        if module != "dask_engine":
            assert not {"dask", "distributed"} & imports_of(module), module


def _new_record(record: int, outcome: str, account: str | None, posted_at: str | None) -> str:
    """A result record as `govpost check` writes it now: platform, account (the handle) and posted_at after id."""
    return json.dumps({"input": "p.jsonl", "record": record, "line": record, "id": f"p{record}", "platform": "x",
                       "account": account, "posted_at": posted_at, "outcome": outcome, "deciding": [],
                       "findings": [], "excepted": []})


def test_report_counts_months_and_accounts_from_result_records(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text("\n".join([
        _new_record(1, "permitted", "@dm", "2029-01-31T23:30:00+05:30"),
        _new_record(2, "advisory", "@dm", "2029-04-01T09:00:00+05:30"),
        _new_record(3, "permitted", None, None),
    ]) + "\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["report", str(results), "--format", "json"])
    assert out.exit_code == EXIT_OK, out.output
    data = json.loads(out.stdout)
    assert [(m["month"], m["posts"]) for m in data["months"]] == [("2029-01", 1), ("2029-04", 1), (None, 1)]
    assert [(a["account"], a["posts"]) for a in data["accounts"]] == [("@dm", 2), (None, 1)]
    html = CliRunner().invoke(cli, ["report", str(results), "--format", "html"])
    assert html.exit_code == EXIT_OK, html.output
    # The month axis is a time axis: February and March are drawn as empty bars, the gap shows.
    assert "5 bars from 2029-01 to 2029-04" in html.stdout
    # The table lists the months that have posts.
    assert html.stdout.count('<th scope="row">2029-0') == 2


def test_html_charts_fit_the_page(checked: tuple[Path, Path, int]) -> None:
    from toolkit.render_report import CHART_WIDTH

    results, errors, _n = checked
    page = CliRunner().invoke(cli, ["report", str(results), "--errors", str(errors), "--format", "html"]).stdout
    # Both charts are drawn at one width (so one text size once scaled), without fixed sizes in the page.
    widths = re.findall(r'<svg [^>]*viewBox="0 0 ([\d.]+) [\d.]+"', page)
    assert len(widths) == 2 and all(abs(float(w) - CHART_WIDTH * 72) < 0.15 * CHART_WIDTH * 72 for w in widths)
    assert "@page" in page and "table-layout: fixed" in page
