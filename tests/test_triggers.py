"""The trigger prefilter is exact: skipping clauses changes no verdict."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from toolkit import api
from toolkit.evaluate import Checker

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ["policies/in/ais-social-media.policy", "policies/uk/civil-service-social-media.policy"]


@pytest.mark.parametrize("policy", POLICIES)
def test_triggers_change_no_verdict(policy: str) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_checker import synthetic_posts
    finally:
        sys.path.pop(0)
    ruleset = api.compile_result(api.check_file(ROOT / policy))
    fast, slow = Checker(ruleset), Checker(ruleset, use_triggers=False)
    posts = synthetic_posts(ruleset, 3000, seed=7)
    # The worked examples are near the lines the clauses draw: the hardest cases.
    posts += [ex["post"] for ex in ruleset["examples"]]
    rng = random.Random(3)
    labels = sorted(ruleset["labels"])
    for post in posts[:500]:
        post = dict(post, labels=rng.sample(labels, k=rng.randint(0, 3)))
        posts.append(post)
    for post in posts:
        a, _ = fast.check(post)
        b, _ = slow.check(post)
        assert a is not None and b is not None
        assert json.dumps(a.to_json(), sort_keys=True) == json.dumps(b.to_json(), sort_keys=True), post
