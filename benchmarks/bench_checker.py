"""Checker throughput on a bundled policy, against a naive baseline, in the same run.

    python benchmarks/bench_checker.py [--policy PATH] [--posts N] [--seed S]

Prints, for deterministic synthetic posts (about 30 words each, a realistic
share of them touching the policy's lexicons):

- parse-and-check time of the policy (load, includes, semantic checks) and
  compile time;
- the checker's throughput, one process, reading JSON Lines and writing JSON
  Lines (records/s), and its throughput on already-decoded posts;
- the naive baseline's throughput on the same posts: each clause's lexicons and
  patterns compiled to separate Python `re` expressions and matched clause by
  clause, signals re-evaluated for every clause.

Figures are wall-clock on this machine; run it twice and read the second.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit import api  # noqa: E402
from toolkit.evaluate import LexiconMatcher  # noqa: E402
from toolkit.posts import read_records, validate  # noqa: E402

FILLER = (
    "the a to of and in for on with at from this that our we is are was today new district office team "
    "meeting farmers students village road water school health camp review visit progress scheme citizens "
    "thanks happy proud great work week morning evening public service field report data training session "
    "local community event programme launch drive awareness support help update details link read more "
    "rain weather festival holiday family friends book music cricket match temple market bridge hospital"
).split()
PLATFORMS = ["x", "facebook", "instagram", "linkedin", "whatsapp", "telegram", "youtube", "threads", "blog"]


def synthetic_posts(ruleset: dict[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """Deterministic posts: ~30 words of filler; about one in five carries 1-2 lexicon entries."""
    rng = random.Random(seed)
    entries = sorted({e for lex in ruleset["lexicons"].values() for e in lex["entries"]})
    # Filler words are neutral: none of them matches a lexicon on its own, so
    # the share of posts touching the policy's words is the share chosen below.
    matcher = LexiconMatcher(ruleset["lexicons"])
    filler = [w for w in FILLER if not any(True for _ in matcher.find(w))]
    posts = []
    for i in range(n):
        words = [rng.choice(filler) for _ in range(rng.randint(18, 42))]
        if entries and rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                words.insert(rng.randrange(len(words) + 1), rng.choice(entries))
        post: dict[str, Any] = {
            "id": f"p{i:07d}",
            "text": " ".join(words).capitalize() + ".",
            "platform": rng.choice(PLATFORMS),
            "account": {"kind": rng.choices(["personal", "official", "anonymous"], [70, 25, 5])[0]},
            "posted_at": f"2029-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:15:00+05:30",
            "author": {"service": rng.choice(["IAS", "IPS", "IFoS"])},
        }
        if rng.random() < 0.1:
            post["action"] = "share"
            post["shared_from"] = {"kind": rng.choice(["political_party", "government", "media", "individual"])}
        if rng.random() < 0.05:
            post["labels"] = [rng.choice(sorted(ruleset["labels"]) or ["x"])]
        posts.append(post)
    return posts


class NaiveChecker:
    """The baseline: every clause matched on its own with Python's re, nothing shared."""

    def __init__(self, ruleset: dict[str, Any]):
        self.rs = ruleset
        self.lex = {
            k: re.compile(r"\b(?:" + "|".join(re.escape(e) for e in v["entries"]) + r")\b", re.IGNORECASE)
            for k, v in ruleset["lexicons"].items()
        }
        self.pat = {
            k: re.compile(v["regex"], re.IGNORECASE if "i" in v["flags"] else 0) for k, v in ruleset["patterns"].items()
        }

    def value(self, post: dict[str, Any], path: str) -> list[Any]:
        head, _, rest = path.partition(".")
        v = post.get(head)
        if not rest:
            return v if isinstance(v, list) else ([] if v is None else [v])
        if isinstance(v, list):
            return [x.get(rest) for x in v if x.get(rest) is not None]
        return [] if v is None or v.get(rest) is None else [v.get(rest)]

    def ev(self, c: dict[str, Any], post: dict[str, Any]) -> bool:
        if "all" in c:
            return all(self.ev(a, post) for a in c["all"])
        if "any" in c:
            return any(self.ev(a, post) for a in c["any"])
        if "not" in c:
            return not self.ev(c["not"], post)
        if "signal" in c:
            return self.ev(self.rs["signals"][c["signal"]]["when"], post)
        if "mentions" in c:
            # Compiled per use, as a clause-by-clause implementation would.
            rx = re.compile(self.lex[c["mentions"]].pattern, re.IGNORECASE)
            return any(isinstance(v, str) and rx.search(v) for v in self.value(post, c["field"]))
        if "matches" in c:
            rx = self.pat[c["matches"]]
            return any(isinstance(v, str) and rx.search(v) for v in self.value(post, c["field"]))
        if "field" in c:
            return any(v in c["in"] for v in self.value(post, c["field"]))
        if "labelled" in c:
            return c["labelled"] in post.get("labels", [])
        return False

    def check(self, post: dict[str, Any]) -> list[str]:
        out = []
        for clause in self.rs["clauses"]:
            if self.ev(clause["when"], post) and not any(self.ev(u["when"], post) for u in clause["unless"]):
                out.append(clause["id"])
        return out


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", default=str(ROOT / "policies/in/ais-social-media.policy"))
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--baseline-posts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    t_check, result = timed(api.check_file, args.policy)
    if not result.ok:
        sys.exit(f"{args.policy} does not validate; run `govpost validate` on it")
    t_compile, ruleset = timed(api.compile_result, result)
    t_load, checker = timed(api.checker, ruleset)
    posts = synthetic_posts(ruleset, args.posts, args.seed)
    jsonl = "".join(json.dumps(p) + "\n" for p in posts)

    def run_jsonl() -> int:
        out = io.BytesIO()
        hits = 0
        for rec in read_records(io.StringIO(jsonl)):
            verdict, _problems = checker.check(rec.value)
            if verdict is not None:
                hits += bool(verdict.findings)
                out.write(orjson.dumps({"record": rec.index, **verdict.to_json()}) + b"\n")
        return hits

    decoded = [validate(p)[0] for p in posts]
    run_jsonl()  # warm-up
    t_jsonl, hits = timed(run_jsonl)
    t_decoded, _ = timed(lambda: [checker.check_post(dict(p, labels=list(p["labels"]))) for p in decoded])
    naive = NaiveChecker(ruleset)
    sample = decoded[: args.baseline_posts]
    t_naive, _ = timed(lambda: [naive.check(p) for p in sample])

    n = len(posts)
    rate = n / t_jsonl
    naive_rate = len(sample) / t_naive
    print(f"policy                      {Path(args.policy).name}: {len(ruleset['clauses'])} clauses, "
          f"{sum(len(v['entries']) for v in ruleset['lexicons'].values())} lexicon entries, "
          f"{len(ruleset['patterns'])} patterns")
    print(f"parse and check             {t_check * 1000:8.1f} ms")
    print(f"compile                     {t_compile * 1000:8.1f} ms")
    print(f"load rule set into checker  {t_load * 1000:8.1f} ms")
    print(f"posts                       {n} synthetic, {hits} with findings ({hits / n:.0%})")
    print(f"checker, JSONL in/out       {rate:10,.0f} posts/s  (one process)")
    print(f"checker, decoded posts      {n / t_decoded:10,.0f} posts/s")
    print(f"naive baseline              {naive_rate:10,.0f} posts/s  (per-clause re, {len(sample)} posts)")
    print(f"speed-up over baseline      {rate / naive_rate:10.1f} x")


if __name__ == "__main__":
    main()
