"""The checker needs no parser: a compiled rule set is checked without importing Lark."""

from __future__ import annotations

import subprocess
import sys

from support import POLICIES, ROOT

CODE = """
import json, sys
import toolkit.evaluate, toolkit.rules, toolkit.posts

ruleset = toolkit.rules.load({rules!r})
checker = toolkit.evaluate.Checker(ruleset)
verdict, problems = checker.check({{"text": "Vote for the BJP!", "platform": "x"}})
assert problems == [], problems
print(json.dumps(verdict.to_json(), ensure_ascii=False))
with open({posts!r}, encoding="utf-8") as fh:
    for record in toolkit.posts.read_records(fh):
        if record.error is None:
            checker.check(record.value)
print(json.dumps(sorted(m for m in sys.modules if m == "lark" or m.startswith(("lark.", "toolkit.")))))
"""


def test_checking_from_a_rule_set_imports_no_parser() -> None:
    code = CODE.format(rules=str(POLICIES / "full.rules.json"), posts=str(POLICIES / "full.posts.jsonl"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    verdict_line, modules_line = done.stdout.splitlines()
    assert '"outcome": "prohibited"' in verdict_line
    modules = __import__("json").loads(modules_line)
    assert "lark" not in modules
    assert not [m for m in modules if m.startswith("lark.")]
    # Nor any part of the front end.
    for front in ("toolkit.syntax", "toolkit.lower", "toolkit.load", "toolkit.model", "toolkit.check",
                  "toolkit.compiler", "toolkit.metadata"):
        assert front not in modules
