"""Worked examples: every fixture policy's examples pass, and coverage gaps say why."""

from __future__ import annotations

import pytest
from support import POLICY_CASES, clause, compile_fixture, policy_text, ruleset_from_text

from toolkit.testing import junit_xml, run_examples


@pytest.mark.parametrize("case", POLICY_CASES)
def test_fixture_examples_pass(case: str) -> None:
    report = run_examples(compile_fixture(case))
    assert report.failed == 0, [r.failure() for r in report.results if not r.passed]


def test_coverage_gap_reasons() -> None:
    text = policy_text(
        clause("strong", "prohibited", "text mentions w",
               'example "strong decides" { text: "bad" } expect prohibited by strong'),
        clause("outranked", "advisory", "text mentions w"),
        clause("excepted", "advisory", "platform is x", "unless labelled ok",
               'example "excepted" { platform: x, labels: [ok] } expect permitted'),
        clause("unmet", "advisory", "platform is blog"),
        declarations='lexicon w { "bad" }\nlabel ok "OK"',
    )
    report = run_examples(ruleset_from_text(text))
    assert report.failed == 0
    assert [(g.clause, g.number, g.reason) for g in report.uncovered] == [
        ("outranked", "1(b)", "applies to examples but is always outranked by a stronger clause"),
        ("excepted", "1(c)", "its condition holds in examples, but an exception always applies"),
        ("unmet", "1(d)", "no example meets its condition"),
    ]
    assert report.coverage == 0.25


def test_expectation_by_one_of_several_deciding_clauses_passes() -> None:
    text = policy_text(
        clause("a", "advisory", "platform is x",
               'example "decided by b too" { platform: x } expect advisory by a'),
        clause("b", "advisory", "platform is x"),
    )
    report = run_examples(ruleset_from_text(text))
    assert report.passed == 1
    assert report.results[0].verdict.deciding == ["a", "b"]


def test_failure_messages() -> None:
    text = policy_text(
        clause("a", "advisory", "platform is x",
               'example "wrong outcome" { platform: blog } expect advisory by a',
               'example "wrong clause" { platform: x } expect advisory by b'),
        clause("b", "advisory", "platform is blog"),
    )
    report = run_examples(ruleset_from_text(text))
    assert [r.failure() for r in report.results] == [
        "expected advisory by a, got advisory by b",
        "expected advisory by b, got advisory by a",
    ]


def test_an_example_post_the_checker_rejects_fails() -> None:
    rules = ruleset_from_text(policy_text(clause("a", "advisory", "platform is x",
                                                 'example "e" { platform: x } expect advisory')))
    rules["examples"][0]["post"] = {"platform": "twitter"}
    (result,) = run_examples(rules).results
    assert not result.passed
    assert result.failure() == "`twitter` is not a valid `platform`"


def test_junit_is_well_formed_and_escapes() -> None:
    import xml.etree.ElementTree as ET

    text = policy_text(clause("a", "advisory", "platform is x",
                              'example "quotes \\" & <tags>" { platform: blog } expect advisory'))
    xml = junit_xml([run_examples(ruleset_from_text(text))])
    root = ET.fromstring(xml)
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == 'quotes " & <tags>'
    assert case.find("failure") is not None
