"""Same input, same bytes: compiling and checking are deterministic, also across processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import FIXTURES, POLICIES, POLICY_CASES, ROOT, compile_fixture, rules_text, verdict_lines

from toolkit import api
from toolkit.rules import dumps, loads


@pytest.mark.parametrize("case", POLICY_CASES)
def test_compiling_twice_gives_identical_bytes(case: str) -> None:
    assert rules_text(compile_fixture(case)) == rules_text(compile_fixture(case))


@pytest.mark.parametrize("case", POLICY_CASES)
def test_checking_twice_gives_identical_json(case: str) -> None:
    ruleset = compile_fixture(case)
    posts = POLICIES / f"{case}.posts.jsonl"
    assert verdict_lines(ruleset, posts) == verdict_lines(ruleset, posts)
    # A rule set read back from its bytes checks the same.
    assert verdict_lines(loads(dumps(ruleset)), posts) == verdict_lines(ruleset, posts)


_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from support import compile_fixture, rules_text, verdict_lines, POLICIES
rules = compile_fixture("full")
sys.stdout.write(rules_text(rules))
sys.stdout.write(verdict_lines(rules, POLICIES / "full.posts.jsonl"))
"""


def test_output_does_not_depend_on_hash_seed() -> None:
    """Sets and dicts iterate differently under another PYTHONHASHSEED; the output must not."""
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _SCRIPT.format(tests=str(ROOT / "tests"))], env=env,
                              capture_output=True, text=True, check=False, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_content_hash_ignores_where_the_files_are(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "policies", tmp_path / "elsewhere")
    here = api.check_file(POLICIES / "full.policy")
    there = api.check_file(tmp_path / "elsewhere" / "full.policy")
    assert here.ok and there.ok
    assert here.content_hash == there.content_hash
    assert here.content_hash.startswith("sha256:") and len(here.content_hash) == 7 + 64


def test_content_hash_covers_included_files(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "policies", tmp_path / "copy")
    before = api.check_file(tmp_path / "copy" / "full.policy").content_hash
    fragment = tmp_path / "copy" / "shared" / "vocabulary.policy"
    fragment.write_text(fragment.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    after = api.check_file(tmp_path / "copy" / "full.policy").content_hash
    assert before != after


def test_content_hash_is_recorded() -> None:
    result = api.check_file(POLICIES / "minimal.policy")
    assert api.compile_result(result)["content_hash"] == result.content_hash


def test_rule_set_keys_are_in_a_fixed_order() -> None:
    rules = json.loads(rules_text(compile_fixture("full")))
    assert list(rules) == ["format", "version", "generator", "policy", "content_hash", "topics", "labels",
                           "instruments", "lexicons", "matching", "patterns", "periods", "signals", "clauses", "examples"]
    # Declarations keep their order in the source, includes at the place of their `include`.
    assert list(rules["topics"]) == ["politics", "information", "conduct"]
    assert [c["id"] for c in rules["clauses"]] == ["party-endorsement", "election-posts", "press-statement",
                                                   "leaks", "official-accounts"]
