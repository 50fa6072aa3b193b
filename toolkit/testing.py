"""Running a policy's worked examples, with clause coverage and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from .evaluate import Checker, Verdict


@dataclass
class ExampleResult:
    clause: str  # the clause the example is written in
    title: str
    expected_outcome: str
    expected_clause: str | None
    source: dict[str, Any]
    verdict: Verdict | None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        v = self.verdict
        if v is None:
            return False
        if v.outcome != self.expected_outcome:
            return False
        return self.expected_clause is None or self.expected_clause in v.deciding

    def failure(self) -> str | None:
        if self.passed:
            return None
        if self.verdict is None:
            return "; ".join(self.problems)
        got = self.verdict.outcome.replace("_", " ")
        by = ", ".join(self.verdict.deciding) or "no clause"
        want = self.expected_outcome.replace("_", " ")
        if self.expected_clause:
            want += f" by {self.expected_clause}"
        return f"expected {want}, got {got} by {by}"


@dataclass
class CoverageGap:
    clause: str
    number: str
    reason: str


@dataclass
class TestReport:
    policy_id: str
    results: list[ExampleResult]
    clauses: list[tuple[str, str]]  # (id, number)
    uncovered: list[CoverageGap]

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def coverage(self) -> float:
        if not self.clauses:
            return 1.0
        return 1 - len(self.uncovered) / len(self.clauses)

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy_id,
            "passed": self.passed,
            "failed": self.failed,
            "examples": [
                {
                    "clause": r.clause,
                    "title": r.title,
                    "passed": r.passed,
                    "expected": {"outcome": r.expected_outcome, "clause": r.expected_clause},
                    "actual": None if r.verdict is None else {"outcome": r.verdict.outcome, "deciding": r.verdict.deciding},
                    "failure": r.failure(),
                    "source": r.source,
                }
                for r in self.results
            ],
            "coverage": {
                "clauses": len(self.clauses),
                "decided": len(self.clauses) - len(self.uncovered),
                "ratio": round(self.coverage, 4),
                "uncovered": [{"clause": g.clause, "number": g.number, "reason": g.reason} for g in self.uncovered],
            },
        }


def run_examples(ruleset: dict[str, Any], checker: Checker | None = None) -> TestReport:
    """Check every worked example of a rule set and measure clause coverage."""
    checker = checker or Checker(ruleset)
    results = []
    for ex in ruleset["examples"]:
        verdict, problems = checker.check(ex["post"])
        results.append(
            ExampleResult(
                clause=ex["clause"],
                title=ex["title"],
                expected_outcome=ex["expect"]["outcome"],
                expected_clause=ex["expect"]["clause"],
                source=ex["source"],
                verdict=verdict,
                problems=[p.message for p in problems],
            )
        )
    decided: set[str] = set()
    applied: set[str] = set()
    excepted: set[str] = set()
    for r in results:
        if r.verdict is None:
            continue
        decided.update(r.verdict.deciding)
        applied.update(f["clause"] for f in r.verdict.findings)
        excepted.update(e["clause"] for e in r.verdict.excepted)
    uncovered = []
    clauses = [(c["id"], c["number"]) for c in ruleset["clauses"]]
    for cid, number in clauses:
        if cid in decided:
            continue
        if cid in applied:
            reason = "applies to examples but is always outranked by a stronger clause"
        elif cid in excepted:
            reason = "its condition holds in examples, but an exception always applies"
        else:
            reason = "no example meets its condition"
        uncovered.append(CoverageGap(cid, number, reason))
    return TestReport(ruleset["policy"]["id"], results, clauses, uncovered)


def junit_xml(reports: list[TestReport]) -> str:
    """JUnit XML for CI systems: a test suite per policy, a test case per example."""
    root = ET.Element("testsuites")
    for report in reports:
        suite = ET.SubElement(
            root, "testsuite", name=report.policy_id, tests=str(len(report.results)),
            failures=str(report.failed), errors="0", skipped="0",
        )
        # The JUnit schema puts <properties> before the test cases.
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="clause_coverage", value=f"{report.coverage:.4f}")
        for r in report.results:
            case = ET.SubElement(
                suite, "testcase", classname=f"{report.policy_id}.{r.clause}", name=r.title,
                file=str(r.source.get("file", "")), line=str(r.source.get("line", "")),
            )
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=r.failure() or "failed")
                failure.text = r.failure()
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
