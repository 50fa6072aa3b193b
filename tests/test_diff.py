"""`govpost diff`: the fixture pairs, every output format, exit codes, textconv.

Each folder under tests/fixtures/diff holds ``old.policy``, ``new.policy`` and
``expected.json``, the JSON report of the diff (``pytest --update-goldens``
rewrites it). Together the cases cover every kind of change the diff reports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from support import FIXTURES, SCHEMAS

from toolkit import api
from toolkit.analysis import Analyzer
from toolkit.cli import cli
from toolkit.diff import redline
from toolkit.diff_render import MARKER, render_diff
from toolkit.evaluate import Checker
from toolkit.load import load_text

DIFF = FIXTURES / "diff"
CASES = sorted(p.name for p in DIFF.iterdir() if (p / "old.policy").exists())
EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2

POST_SCHEMA = json.loads((SCHEMAS / "post.schema.json").read_text(encoding="utf-8"))
DIFF_SCHEMA = json.loads((SCHEMAS / "diff.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(
    DIFF_SCHEMA, registry=Registry().with_resource(POST_SCHEMA["$id"], Resource.from_contents(POST_SCHEMA)))


def schema_errors(instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(instance)]


_REPORTS: dict[str, Any] = {}


def report(case: str) -> Any:
    """The diff report of a fixture case (cached: the cases are read by several tests)."""
    if case not in _REPORTS:
        _REPORTS[case] = api.diff_sources(f"diff/{case}/old.policy", f"diff/{case}/new.policy", cwd=FIXTURES)
    return _REPORTS[case]


def case_json(case: str) -> dict[str, Any]:
    return json.loads(render_diff(report(case), "json"))


def clause(case: str, cid: str) -> dict[str, Any]:
    return next(c for c in case_json(case)["clauses"] if c["id"] == cid)


def kinds(c: dict[str, Any]) -> list[str]:
    return [ch["what"] for ch in c["changes"]]


# ---------------------------------------------------------------------------
# The fixture pairs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_fixture_matches_expected_json(case: str, golden: Any) -> None:
    golden(DIFF / case / "expected.json", render_diff(report(case), "json"))


@pytest.mark.parametrize("case", CASES)
def test_fixture_json_follows_the_schema(case: str) -> None:
    assert schema_errors(case_json(case)) == []


def test_the_cases_cover_every_kind_of_change() -> None:
    statuses: set[str] = set()
    changes: set[str] = set()
    declarations: set[str] = set()
    verdicts: set[str] = set()
    for case in CASES:
        data = case_json(case)
        verdicts.add(data["verdict"]["verdict"])
        for c in data["clauses"]:
            statuses.add(c["status"])
            changes.update(ch["what"] for ch in c["changes"])
        declarations.update(d["kind"] for d in data["declarations"])
        if data["metadata"]:
            changes.add("metadata")
        if data["sections"]:
            changes.add("sections")
    assert {"added", "removed", "changed", "moved", "renumbered"} <= statuses
    assert {"text", "title", "outcome", "condition", "exceptions", "citations", "example", "metadata",
            "sections", "timezone"} <= changes | {"timezone"}
    assert {"lexicon", "pattern", "signal", "period"} <= declarations
    assert verdicts == {"equivalent", "stricter", "looser", "mixed"}


@pytest.mark.parametrize(("case", "verdict"), [
    ("added", "stricter"), ("removed", "looser"), ("moved", "equivalent"), ("renumbered", "equivalent"),
    ("reworded", "equivalent"), ("outcome", "stricter"), ("condition", "stricter"), ("exceptions", "looser"),
    ("citations", "equivalent"), ("examples", "equivalent"), ("metadata", "equivalent"), ("lexicon", "stricter"),
    ("pattern", "stricter"), ("signal", "stricter"), ("period", "stricter"), ("timezone", "mixed"),
    ("reformat", "equivalent"), ("mixed", "mixed"),
])
def test_verdict_of_each_case(case: str, verdict: str) -> None:
    assert case_json(case)["verdict"]["verdict"] == verdict


def test_renumbered_clauses_are_matched_by_id() -> None:
    data = case_json("renumbered")
    assert [(c["id"], c["status"], c["old_number"], c["new_number"]) for c in data["clauses"]] == [
        ("file-numbers", "renumbered", "2(b)", "2(a)"), ("criticise", "renumbered", "2(a)", "2(b)")]
    assert all(c["effect"]["verdict"] == "equivalent" for c in data["clauses"])


def test_a_moved_clause_is_reported_as_moved_not_removed_and_added() -> None:
    data = case_json("moved")
    (c,) = data["clauses"]
    assert (c["id"], c["status"], c["old_number"], c["new_number"]) == ("file-numbers", "moved", "2(b)", "3(a)")
    assert c["changes"][0] == {"what": "moved", "old": "2(b) in criticism", "new": "3(a) in information"}
    assert [s["what"] for s in data["sections"]] == ["section information"]
    text = render_diff(report("moved"), "text")
    assert "2(b) → 3(a) file-numbers" in text and "moved from criticism to information; no change in effect" in text


def test_reworded_text_has_a_word_level_redline() -> None:
    c = clause("reworded", "endorse")
    (change,) = c["changes"]
    assert change["what"] == "text" and c["effect"]["verdict"] == "equivalent"
    assert [p for p in change["redline"] if p["op"] != "="] == [
        {"op": "-", "text": "endorse"}, {"op": "+", "text": "endorse, praise"},
        {"op": "-", "text": "praise"}, {"op": "+", "text": "campaign for"}]


def test_a_pure_reformat_changes_nothing() -> None:
    diff = report("reformat").files[0].diff
    assert not diff.changed and not diff.semantic
    assert case_json("reformat")["clauses"] == []


def test_declaration_changes_name_the_clauses_they_affect() -> None:
    (lex,) = case_json("lexicon")["declarations"]
    assert (lex["kind"], lex["id"], lex["status"]) == ("lexicon", "parties", "changed")
    assert lex["changes"] == [{"what": "entries added", "old": None, "new": "Gamma Party"}]
    assert lex["affects"] == ["endorse", "election-care"]
    assert clause("lexicon", "endorse")["via"] == ["lexicon parties"]
    # Through a signal: the clause uses `endorses`, which uses the lexicon.
    assert clause("signal", "endorse")["via"] == ["signal endorses"]
    assert clause("period", "election-care")["via"] == ["period election"]
    assert clause("pattern", "file-numbers")["via"] == ["pattern file_no"]


def test_metadata_changes() -> None:
    assert case_json("metadata")["metadata"] == [
        {"what": "version", "old": "1.0", "new": "1.1"},
        {"what": "effective", "old": "2026-02-01", "new": "2026-03-01"},
        {"what": "supersedes", "old": None, "new": '"Office memorandum No. 1/2020 of 5 May 2020"'},
    ]


def test_a_time_zone_change_is_attributed_to_the_clauses_whose_dates_move() -> None:
    # Regression: the periods read the same, so the model saw no change, while
    # the overall verdict was mixed and no clause explained it.
    data = case_json("timezone")
    assert [d["id"] for d in data["declarations"]] == ["election"]
    c = clause("timezone", "election-care")
    assert c["via"] == ["period election"] and c["effect"]["verdict"] == "mixed"


def test_a_changed_flag_of_a_pattern_is_found() -> None:
    # Regression: the sample of /F\. ?No\. ?\d+/i matched the old pattern too,
    # so no witness was confirmed and the change passed for equivalent.
    w = clause("pattern", "file-numbers")["effect"]["stricter_witness"]
    assert w is not None and re.fullmatch(r"[fF]\. ?[nN][oO]\. ?\d+", w["post"]["text"])
    assert not re.search(r"F\. ?No\. ?\d+", w["post"]["text"])


def test_mixed_case_shows_both_witnesses_and_every_kind() -> None:
    data = case_json("mixed")
    assert data["verdict"]["stricter_witness"] and data["verdict"]["looser_witness"]
    statuses = {c["id"]: c["status"] for c in data["clauses"]}
    assert statuses == {"election-care": "changed", "file-numbers": "renumbered", "criticise": "changed"}
    assert kinds(clause("mixed", "criticise"))[:2] == ["renumbered", "condition"]


def test_witness_sides_carry_clause_numbers() -> None:
    w = case_json("outcome")["verdict"]["stricter_witness"]
    assert w["old"] == {"outcome": "advisory", "deciding": ["election-care"], "numbers": ["1(b)"]}
    assert w["new"] == {"outcome": "prohibited", "deciding": ["election-care"], "numbers": ["1(b)"]}


@pytest.mark.parametrize("case", CASES)
def test_every_witness_of_a_case_is_confirmed_by_the_checker(case: str) -> None:
    f = report(case).files[0]
    old, new = (api.load_side(f"diff/{case}/{side}.policy", FIXTURES).rules for side in ("old", "new"))
    checkers = Checker(old), Checker(new)
    relations = [f.diff.verdict] + [c.effect for c in f.diff.clauses]
    for rel in relations:
        for direction, w in ((+1, rel.stricter), (-1, rel.looser)):
            if w is None:
                continue
            got = [checkers[i].check(w.post)[0] for i in (0, 1)]
            assert (got[0].outcome, tuple(got[0].deciding)) == (w.left.outcome, w.left.deciding)
            assert (got[1].outcome, tuple(got[1].deciding)) == (w.right.outcome, w.right.deciding)
            levels = ["permitted", "advisory", "requires_sanction", "prohibited"]
            assert (levels.index(got[1].outcome) - levels.index(got[0].outcome)) * direction > 0


def test_a_clause_witness_shows_that_clauses_own_effect() -> None:
    # Regression: shrinking kept any post on which the versions disagreed, so a
    # witness for one clause could end up showing another clause's change.
    text_old = """policy p { title "P" }
topic t "T"
label official "Official"
lexicon a { "alpha" }
lexicon b { "beta" }
section s "S" {
    clause ca "A" { topic t text "A." outcome prohibited when text mentions a unless labelled official }
    clause cb "B" { topic t text "B." outcome prohibited when text mentions b unless labelled official }
}
"""
    text_new = text_old.replace(" unless labelled official", "")
    old, new = (api.compile_result(api.check_text(t)) for t in (text_old, text_new))
    analyzer = Analyzer(old, new)
    w = analyzer._confirm({"id": "w", "text": "alpha also beta", "labels": ["official"]}, +1, None, None)
    assert w is not None
    shrunk = analyzer._shrink(w, +1, None, None, ("ca", "ca"))
    assert "alpha" in shrunk.post["text"] and "ca" in shrunk.right.deciding


# ---------------------------------------------------------------------------
# Redlines
# ---------------------------------------------------------------------------


def test_redline_keeps_white_space_and_joins_back() -> None:
    r = redline("a  member shall not post", "a member shall never post")
    old = "".join(t for op, t in r.pieces if op != "+")
    new = "".join(t for op, t in r.pieces if op != "-")
    assert (old, new) == ("a  member shall not post", "a member shall never post")
    assert ("-", "not") in r.pieces and ("+", "never") in r.pieces
    assert not redline("same words", "same words").changed


# ---------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def pair(case: str) -> tuple[str, str]:
    return str(DIFF / case / "old.policy"), str(DIFF / case / "new.policy")


def test_cli_exit_codes(runner: CliRunner) -> None:
    assert run(runner, "diff", *pair("reworded")).exit_code == EXIT_OK
    assert run(runner, "diff", *pair("reformat")).exit_code == EXIT_OK
    assert run(runner, "diff", *pair("renumbered")).exit_code == EXIT_OK
    assert run(runner, "diff", *pair("outcome")).exit_code == EXIT_FINDINGS
    assert run(runner, "diff", *pair("exceptions")).exit_code == EXIT_FINDINGS


def test_cli_json_is_the_api_json(runner: CliRunner) -> None:
    result = run(runner, "diff", *pair("lexicon"), "--format", "json")
    assert result.exit_code == EXIT_FINDINGS
    data = json.loads(result.stdout)
    expected = case_json("lexicon")
    assert (data["old"], data["new"]) == pair("lexicon")
    data["old"], data["new"] = expected["old"], expected["new"]
    assert data == expected


def test_text_format(runner: CliRunner) -> None:
    result = run(runner, "diff", *pair("mixed"))
    out = result.stdout
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0] == f"sample: {pair('mixed')[0]} → {pair('mixed')[1]}"
    assert lines[1].startswith("verdict: mixed (")
    assert "  > 2(b) → 2(a) file-numbers: Quoting file numbers" in lines
    assert "      renumbered; no change in effect" in lines
    assert "      condition: text mentions failure and account.kind is [-not official-]{+personal+}" in lines
    assert "      old: permitted (no clause applies)" in out
    assert "new: prohibited by 2(b) criticise" in out


def test_text_colour_only_when_asked(runner: CliRunner) -> None:
    plain = run(runner, "diff", *pair("condition"), "--no-color").stdout
    coloured = run(runner, "diff", *pair("condition"), "--color").stdout
    assert "\x1b[" not in plain and "\x1b[9;31m and account.kind is not official\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain.replace(
        "[- and account.kind is not official-]", " and account.kind is not official")


def test_markdown_format(runner: CliRunner) -> None:
    out = run(runner, "diff", *pair("mixed"), "--format", "markdown").stdout
    lines = out.splitlines()
    assert lines[0].startswith("**govpost diff: mixed** · `sample`")
    table = lines.index("| | clause | change | effect |")
    assert table < out.splitlines().index(next(line for line in lines if line.startswith("<details>")))
    assert "| > | 2(b) → 2(a) `file-numbers` Quoting file numbers | renumbered | none |" in lines
    assert "| ~ | 2(a) → 2(b) `criticise` Criticising Government | renumbered, changed: condition, via lexicon " \
           "failure | **mixed** |" in lines
    assert "```json" in lines
    assert "- new: **prohibited** by 2(b) `criticise`" in lines
    assert "<del>not official</del> <ins>personal</ins>" in out  # a deletion and an insertion never touch
    assert out.count("<details>") == out.count("</details>")
    assert lines[-1] == MARKER


def test_markdown_escapes_user_text() -> None:
    old = ('policy p { title "P" }\ntopic t "T"\n'
           'section s "S" { clause c "C" { topic t text "plain" outcome advisory when platform is x } }\n')
    new = old.replace('"plain"', '"<b>bold</b> | *star* `tick`"')
    o, n = api.check_text(old), api.check_text(new)
    from toolkit.diff import diff_policies
    from toolkit.diff_render import DiffReport, FileDiff

    d = diff_policies(o.policy, n.policy, api.compile_result(o), api.compile_result(n))
    out = render_diff(DiffReport((FileDiff("changed", "a", "b", d),)), "markdown")
    assert "<b>" not in out and "&lt;b&gt;bold&lt;/b&gt; \\| \\*star\\* \\`tick\\`" in out
    page = render_diff(DiffReport((FileDiff("changed", "a", "b", d),)), "html")
    assert "<b>bold" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_html_format_is_a_self_contained_redline(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = run(runner, "diff", *pair("mixed"), "--format", "html", "-o", str(target))
    assert result.exit_code == EXIT_FINDINGS and result.stdout == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<ins>personal</ins>" in page and "<del>not official</del>" in page
    assert "text-decoration:underline" in page and "text-decoration:line-through" in page
    assert 'class="clause renumbered"' in page and "renumbered from 2(b)" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page) and "<link" not in page and "<script" not in page
    moved = run(runner, "diff", *pair("moved"), "--format", "html").stdout
    assert 'class="clause moved"' in moved and "moved from 2(b)" in moved


def test_output_is_deterministic() -> None:
    first = [render_diff(report("mixed"), fmt) for fmt in ("text", "markdown", "json", "html")]
    _REPORTS.clear()
    assert [render_diff(report("mixed"), fmt) for fmt in ("text", "markdown", "json", "html")] == first


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "diff", str(tmp_path / "nope.policy"), pair("added")[1])
    assert result.exit_code == EXIT_INVALID
    assert result.stderr.startswith(f"error: `{tmp_path / 'nope.policy'}` does not exist (give a policy file, or "
                                    "`REV:path`")
    assert "Traceback" not in result.output


def test_a_policy_with_errors(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text(Path(pair("added")[1]).read_text(encoding="utf-8").replace("topic   criticism", "topic criticsm"),
                   encoding="utf-8")
    result = run(runner, "diff", pair("added")[0], str(bad))
    assert result.exit_code == EXIT_INVALID
    assert "error[S210]: unknown topic `criticsm`" in result.stderr
    assert result.stderr.rstrip().endswith(f"error: {bad}: 2 errors; fix them first")
    assert result.stdout == ""


def test_usage_errors(runner: CliRunner) -> None:
    result = run(runner, "diff", pair("added")[0])
    assert result.exit_code == EXIT_INVALID and "give two policies to diff" in result.stderr
    result = run(runner, "diff", *pair("added"), "--git-range", "a..b")
    assert result.exit_code == EXIT_INVALID and "not both" in result.stderr


# ---------------------------------------------------------------------------
# textconv
# ---------------------------------------------------------------------------


def test_textconv_is_canonical_so_a_reformat_disappears(runner: CliRunner) -> None:
    old, new = pair("reformat")
    a, b = run(runner, "textconv", old), run(runner, "textconv", new)
    assert a.exit_code == b.exit_code == 0
    # The reformatted file moved a lexicon: that move is all git diff shows.
    def lines(text: str) -> list[str]:
        return sorted(line for line in text.splitlines() if line)

    assert lines(a.stdout) == lines(b.stdout)
    assert "#" not in a.stdout.replace("F\\. ?No", "")
    assert a.stdout.startswith("policy sample {\n    title")


def test_textconv_round_trips_one_file(runner: CliRunner) -> None:
    path = FIXTURES / "policies" / "full.policy"
    text = run(runner, "textconv", str(path)).stdout
    original = api.check_file(path)
    printed = load_text(text, str(path))
    assert printed.policy is not None and printed.policy.sections == original.policy.sections
    assert printed.policy.meta == original.policy.meta


def test_textconv_of_an_included_fragment(runner: CliRunner) -> None:
    path = Path(api.__file__).resolve().parent.parent / "policies" / "common" / "lexicons.policy"
    out = run(runner, "textconv", str(path)).stdout
    assert out.startswith("lexicon ") and "policy " not in out.splitlines()[0]


def test_textconv_prints_a_broken_file_unchanged(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.policy"
    broken.write_bytes(b'policy p { title "P"\n# not closed\n')
    assert run(runner, "textconv", str(broken)).stdout_bytes == broken.read_bytes()
    latin = tmp_path / "latin.policy"
    latin.write_bytes(b'topic t "caf\xe9"\n')
    assert run(runner, "textconv", str(latin)).stdout_bytes == latin.read_bytes()


def test_textconv_reads_standard_input(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["textconv", "-"], input='topic   t   "T"   # c\n')
    assert result.stdout == 'topic t "T"\n'


def test_textconv_of_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "textconv", str(tmp_path / "gone.policy"))
    assert result.exit_code == EXIT_INVALID and "cannot read" in result.stderr


def test_an_unwritable_output_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "a-file" / "report.md"
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    result = run(runner, "diff", *pair("added"), "-o", str(target))
    assert result.exit_code == EXIT_INVALID
    assert result.stderr.startswith(f"error[I505]: cannot write `{target}`: ")


# ---------------------------------------------------------------------------
# Bilingual texts: each language diffed on its own; deletions and insertions never touch
# ---------------------------------------------------------------------------


def test_a_changed_hindi_word_is_a_change_of_the_hindi_text_only() -> None:
    data = case_json("bilingual")
    meta = {m["what"]: m for m in data["metadata"]}
    assert set(meta) == {"title @hi", "opening @hi"}  # the English title and opening did not change
    opening = meta["opening @hi"]["redline"]
    assert [p for p in opening if p["op"] != "="] == [{"op": "-", "text": "प्रत्येक"}, {"op": "+", "text": "हर"}]
    endorse = clause("bilingual", "endorse")
    assert kinds(endorse) == ["text @hi", "outcome", "example"]
    text_hi = endorse["changes"][0]["redline"]
    assert "".join(p["text"] for p in text_hi if p["op"] != "+") == \
        "सदस्य {निजी खाते|personal account} पर किसी राजनीतिक दल की प्रशंसा नहीं करेगा।"
    assert [p["text"] for p in text_hi if p["op"] == "-"] == ["की", "प्रशंसा"]
    term = next(d for d in data["declarations"] if d["kind"] == "term")
    assert [c["what"] for c in term["changes"]] == ["term @hi"]


def test_deleted_and_inserted_words_are_spaced_in_every_rendering(runner: CliRunner) -> None:
    from toolkit.diff_render import spaced

    assert spaced([("-", "advisory"), ("+", "prohibited")]) == [("-", "advisory"), ("=", " "), ("+", "prohibited")]
    assert spaced([("-", "a "), ("+", "b")]) == [("-", "a "), ("+", "b")]  # already apart
    assert spaced([("=", "x"), ("+", "y")]) == [("=", "x"), ("+", "y")]  # an insertion after kept text is as typed
    markdown = run(runner, "diff", *pair("bilingual"), "--format", "markdown").stdout
    assert "expect <del>advisory</del> <ins>prohibited</ins> by endorse" in markdown
    assert "<del>प्रत्येक</del> <ins>हर</ins> सदस्य" in markdown
    html = run(runner, "diff", *pair("bilingual"), "--format", "html").stdout
    assert "expect <del>advisory</del> <ins>prohibited</ins> by endorse" in html
    assert "</del><ins>" not in html and "</del><ins>" not in markdown
    coloured = run(runner, "diff", *pair("bilingual"), "--color").stdout
    assert re.search(r"advisory\x1b\[0m \x1b\[[0-9;]+mprohibited", coloured)
    plain = run(runner, "diff", *pair("bilingual")).stdout
    assert "[-प्रत्येक-]{+हर+}" in plain  # the plain markers already keep the two apart
    # The JSON redline keeps the texts exactly: the space is only drawn.
    example = clause("bilingual", "endorse")["changes"][2]["redline"]
    at = example.index({"op": "-", "text": "advisory"})
    assert example[at + 1] == {"op": "+", "text": "prohibited"}
