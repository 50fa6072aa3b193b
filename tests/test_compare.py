"""`govpost compare A B`: two policies topic by topic, exactly, with witnesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import ROOT, SCHEMAS

from toolkit import api
from toolkit.analysis import LEVEL, Witness
from toolkit.cli import cli
from toolkit.compare import compare_rulesets
from toolkit.diff_render import MARKER, render_comparison
from toolkit.evaluate import Checker

AIS = str(ROOT / "policies" / "in" / "ais-social-media.policy")
UK = str(ROOT / "policies" / "uk" / "civil-service-social-media.policy")
RELATIONS = {"equivalent", "stricter", "looser", "mixed", "only_a", "only_b"}
SWAP = {"stricter": "looser", "looser": "stricter", "mixed": "mixed", "equivalent": "equivalent",
        "only_a": "only_b", "only_b": "only_a"}

TOPICS = """
topic same "Same rule"
topic strict "Stricter in A"
topic loose "Looser in A"
topic both "Mixed"
topic only_a "Only in A"
topic only_b "Only in B"
lexicon w { "forbidden word" }
"""


def policy(pid: str, *clauses: tuple[str, str, str, str]) -> str:
    body = "\n".join(
        f'    clause {cid} "Clause {cid}" {{ topic {topic} text "Text." outcome {outcome} when {when} }}'
        for cid, topic, outcome, when in clauses)
    return f'policy {pid} {{ title "Policy {pid.upper()}" }}\n{TOPICS}\nsection s "S" {{\n{body}\n}}\n'


A_TEXT = policy(
    "a",
    ("a-same", "same", "prohibited", "platform is x"),
    ("a-strict", "strict", "prohibited", "text mentions w"),
    ("a-loose", "loose", "advisory", "account.kind is anonymous"),
    ("a-both", "both", "prohibited", "platform is facebook"),
    ("a-only", "only_a", "advisory", "platform is blog"),
)
B_TEXT = policy(
    "b",
    ("b-same", "same", "prohibited", "platform is x"),
    ("b-strict", "strict", "advisory", "text mentions w"),
    ("b-loose", "loose", "prohibited", "account.kind is anonymous"),
    ("b-both", "both", "prohibited", "platform is instagram"),
    ("b-only", "only_b", "advisory", "platform is youtube"),
)


def rules(text: str) -> dict[str, Any]:
    result = api.check_text(text)
    assert result.ok, result.diagnostics
    return api.compile_result(result)


@pytest.fixture(scope="module")
def small() -> tuple[dict[str, Any], dict[str, Any]]:
    return rules(A_TEXT), rules(B_TEXT)


@pytest.fixture(scope="module")
def bundled() -> tuple[dict[str, Any], dict[str, Any]]:
    return api.load_side(AIS).rules, api.load_side(UK).rules


def confirm(w: Witness, a: dict[str, Any], b: dict[str, Any], direction: int, topic: str | None = None) -> None:
    """The witness really disagrees: A's outcome is above (below) B's, as the report says."""
    def outcome(rs: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        verdict, problems = Checker(rs).check(w.post)
        assert verdict is not None, problems
        if topic is None:
            return verdict.outcome, tuple(verdict.deciding)
        found = [f for f in verdict.findings if f["topic"] == topic]
        if not found:
            return "permitted", ()
        top = max(LEVEL[f["outcome"]] for f in found)
        return (next(f["outcome"] for f in found if LEVEL[f["outcome"]] == top),
                tuple(f["clause"] for f in found if LEVEL[f["outcome"]] == top))

    got_a, got_b = outcome(a), outcome(b)
    assert got_a == (w.right.outcome, w.right.deciding)
    assert got_b == (w.left.outcome, w.left.deciding)
    assert (LEVEL[got_a[0]] - LEVEL[got_b[0]]) * direction > 0


def test_every_relation(small: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = small
    cmp = compare_rulesets(a, b)
    assert {t.topic: t.relation for t in cmp.topics} == {
        "same": "equivalent", "strict": "stricter", "loose": "looser", "both": "mixed",
        "only_a": "only_a", "only_b": "only_b"}
    assert cmp.overall.verdict == "mixed"
    for t in cmp.topics:
        assert (t.stricter is not None) == (t.relation in ("stricter", "mixed"))
        assert (t.looser is not None) == (t.relation in ("looser", "mixed"))
        if t.stricter:
            confirm(t.stricter, a, b, +1, t.topic)
        if t.looser:
            confirm(t.looser, a, b, -1, t.topic)


def test_a_policy_compared_with_itself_is_equivalent(small: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, _ = small
    cmp = compare_rulesets(a, a)
    assert cmp.overall.verdict == "equivalent"
    assert {t.relation for t in cmp.topics} == {"equivalent"}


def test_swapping_a_and_b_swaps_the_relations(small: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = small
    ab, ba = compare_rulesets(a, b), compare_rulesets(b, a)
    assert {t.topic: SWAP[t.relation] for t in ab.topics} == {t.topic: t.relation for t in ba.topics}
    assert SWAP[ab.overall.verdict] == ba.overall.verdict


def test_ais_against_uk(bundled: tuple[dict[str, Any], dict[str, Any]]) -> None:
    ais, uk = bundled
    cmp = compare_rulesets(ais, uk)
    assert cmp.a.id == "ais-social-media" and cmp.b.id == "uk-civil-service-social-media"
    assert {t.relation for t in cmp.topics} <= RELATIONS
    assert len(cmp.topics) == len({t.topic for t in cmp.topics}) >= 20
    for t in cmp.topics:
        assert bool(t.a_clauses) == (t.relation != "only_b") and bool(t.b_clauses) == (t.relation != "only_a")
        if t.stricter:
            confirm(t.stricter, ais, uk, +1, t.topic)
        if t.looser:
            confirm(t.looser, ais, uk, -1, t.topic)
    for direction, w in ((+1, cmp.overall.stricter), (-1, cmp.overall.looser)):
        if w is not None:
            confirm(w, ais, uk, direction)


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("compare")
    (folder / "a.policy").write_text(A_TEXT, encoding="utf-8")
    (folder / "b.policy").write_text(B_TEXT, encoding="utf-8")
    return str(folder / "a.policy"), str(folder / "b.policy")


def test_cli_text(runner: CliRunner, files: tuple[str, str]) -> None:
    result = runner.invoke(cli, ["compare", *files])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"govpost compare: A = a ({files[0]}), B = b ({files[1]})"
    assert lines[1].startswith("overall: mixed (")
    assert "  strict  stricter    A: 1(b)  B: 1(b)" in lines  # an aligned table (toolkit.terminal)
    assert "  only_b  only in B   A: -     B: 1(e)" in lines
    assert "      A: prohibited by 1(b) a-strict" in lines
    assert "      B: advisory by 1(b) b-strict" in lines


def test_cli_json(runner: CliRunner, files: tuple[str, str]) -> None:
    from test_diff import schema_errors

    result = runner.invoke(cli, ["compare", *files, "--format", "json"])
    data = json.loads(result.stdout)
    assert schema_errors(data) == []
    assert (data["format"], data["version"], data["sources"]) == ("govpost.compare", 1, {"a": files[0], "b": files[1]})
    strict = next(t for t in data["topics"] if t["topic"] == "strict")
    assert strict["stricter_witness"]["a"] == {"outcome": "prohibited", "deciding": ["a-strict"], "numbers": ["1(b)"]}
    assert strict["stricter_witness"]["b"] == {"outcome": "advisory", "deciding": ["b-strict"], "numbers": ["1(b)"]}


def test_cli_markdown_and_html(runner: CliRunner, files: tuple[str, str], tmp_path: Path) -> None:
    md = runner.invoke(cli, ["compare", *files, "--format", "markdown"]).stdout
    lines = md.splitlines()
    assert lines[0].startswith("**govpost compare: mixed** · A = `a`")
    assert "| `only_a` Only in A | **only in A** | 1(e) | — |" in lines
    assert lines[-1] == MARKER and md.count("<details>") == md.count("</details>")
    out = tmp_path / "cmp.html"
    result = runner.invoke(cli, ["compare", *files, "--format", "html", "-o", str(out)])
    assert result.exit_code == 1 and result.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="topic-strict"' in page


def test_cli_equivalent_exits_0(runner: CliRunner, files: tuple[str, str]) -> None:
    result = runner.invoke(cli, ["compare", files[0], files[0]])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1] == "overall: equivalent (A and B give every post the same outcome)"


def test_cli_errors(runner: CliRunner, files: tuple[str, str], tmp_path: Path) -> None:
    result = runner.invoke(cli, ["compare", files[0], str(tmp_path / "missing.policy")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    bad = tmp_path / "bad.policy"
    bad.write_text(A_TEXT.replace("topic same", "topic same same"), encoding="utf-8")
    result = runner.invoke(cli, ["compare", str(bad), files[1]])
    assert result.exit_code == 2 and "error[" in result.stderr and "fix them first" in result.stderr


def test_rendering_is_deterministic(bundled: tuple[dict[str, Any], dict[str, Any]]) -> None:
    from toolkit.diff_render import ComparisonReport

    ais, uk = bundled
    numbers = ({c["id"]: c["number"] for c in ais["clauses"]}, {c["id"]: c["number"] for c in uk["clauses"]})
    outs = [render_comparison(ComparisonReport(compare_rulesets(ais, uk), "A", "B", *numbers), fmt)
            for fmt in ("text", "json") for _ in range(2)]
    assert outs[0] == outs[1] and outs[2] == outs[3]
    assert SCHEMAS.exists()
