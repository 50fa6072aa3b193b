"""Golden files per stage.

For every policy in tests/fixtures/policies: the model (a dump without spans),
the compiled rule set, and the verdicts on the posts next to it. For every
broken policy in tests/fixtures/errors: the diagnostics, rendered as text.
Run ``pytest --update-goldens`` to rewrite them after an intended change.
"""

from __future__ import annotations

import pytest
from support import (
    ERROR_CASES,
    ERRORS,
    POLICIES,
    POLICY_CASES,
    check_fixture,
    compile_fixture,
    dump_model,
    render,
    rules_text,
    verdict_lines,
)


def test_there_are_cases() -> None:
    assert {"full", "london", "minimal"} <= set(POLICY_CASES)
    assert len(ERROR_CASES) >= 15


@pytest.mark.parametrize("case", POLICY_CASES)
def test_policy_is_clean(case: str) -> None:
    result = check_fixture(f"policies/{case}.policy")
    assert result.ok
    assert result.diagnostics == [], render(result.diagnostics)


@pytest.mark.parametrize("case", POLICY_CASES)
def test_model_golden(case: str, golden) -> None:
    result = check_fixture(f"policies/{case}.policy")
    assert result.policy is not None, render(result.diagnostics)
    golden(POLICIES / f"{case}.model.txt", dump_model(result.policy))


@pytest.mark.parametrize("case", POLICY_CASES)
def test_rules_golden(case: str, golden) -> None:
    golden(POLICIES / f"{case}.rules.json", rules_text(compile_fixture(case)))


@pytest.mark.parametrize("case", POLICY_CASES)
def test_verdicts_golden(case: str, golden) -> None:
    posts = POLICIES / f"{case}.posts.jsonl"
    assert posts.exists(), f"every fixture policy comes with posts: {posts.name} is missing"
    golden(POLICIES / f"{case}.verdicts.jsonl", verdict_lines(compile_fixture(case), posts))


@pytest.mark.parametrize("case", ERROR_CASES)
def test_diagnostics_golden(case: str, golden) -> None:
    result = check_fixture(f"errors/{case}.policy")
    assert result.diagnostics, "an error fixture must produce diagnostics"
    golden(ERRORS / f"{case}.diagnostics", render(result.diagnostics) + "\n")


@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_block_the_policy(case: str) -> None:
    """A policy with errors yields no model; one with warnings only is still usable."""
    result = check_fixture(f"errors/{case}.policy")
    if result.errors:
        assert result.policy is None and not result.ok
    else:
        assert result.policy is not None and result.ok and result.warnings
