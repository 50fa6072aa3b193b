"""The training handbook (`govpost build --training`): every worked example a question, the checker's answer."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from support import ROOT

from toolkit import api
from toolkit.cli import cli
from toolkit.training import score, training_view

AIS = ROOT / "policies" / "in" / "ais-social-media.policy"


def test_every_worked_example_is_a_question_answered_by_the_checker() -> None:
    ruleset = api.compile_result(api.check_file(AIS))
    checker = api.checker(ruleset)
    training = training_view(ruleset, checker)
    questions = [q for s in training["sections"] for q in s["questions"]]
    assert len(questions) == training["count"] == len(ruleset["examples"])
    for q, example in zip(questions, ruleset["examples"], strict=True):
        assert q["answer"]["key"] == example["expect"]["outcome"]
        assert q["record"] == example["post"]
    part = training["sections"][0]
    right = score(part, {str(q["number"]): q["answer"]["key"] for q in part["questions"]})
    assert right["right"] == right["total"] == len(part["questions"])


def test_build_training_writes_the_handbook(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(AIS), "-o", str(tmp_path), "--no-pdf", "--training"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "ais-social-media-training.html").read_text(encoding="utf-8")
    assert html.count('<div class="question">') == len(api.compile_result(api.check_file(AIS))["examples"])
    assert "Answers to part 1" in html and 'href="#term-' not in html
    again = tmp_path / "again"
    CliRunner().invoke(cli, ["build", str(AIS), "-o", str(again), "--no-pdf", "--training"])
    assert (again / "ais-social-media-training.html").read_bytes() == html.encode("utf-8")
    assert re.search(r"<h1>Training handbook</h1>", html)
