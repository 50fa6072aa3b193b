"""Checker throughput on a bundled policy, against a naive baseline, in the same run.

    python benchmarks/bench_checker.py [--policy PATH] [--posts N] [--seed S] [--repeat R] [--jobs N]
    python benchmarks/bench_checker.py --memory [--memory-posts 100000,1000000]

Prints, for deterministic synthetic posts (about 30 words each, a realistic
share of them touching the policy's lexicons):

- parse-and-check time of the policy (load, includes, semantic checks) and
  compile time;
- the checker's throughput reading JSON Lines from a file and writing JSON
  Lines, on the path `govpost check FILE` takes (toolkit.inputs →
  toolkit.batch, output bytes identical to the command's), in one process
  and with `--jobs` worker processes (best and median of `--repeat` runs),
  and its throughput on already-decoded posts;
- the same path on Devanagari posts (Hindi words, a quarter as many), where
  tokenising cannot take the ASCII shortcuts;
- the naive baseline's throughput on the same posts: each clause's lexicons and
  patterns compiled to separate Python `re` expressions and matched clause by
  clause, signals re-evaluated for every clause.

With `--memory`, it writes files of synthetic posts and runs the `govpost
check` command on each (results to /dev/null), printing the peak resident
memory of its largest process (the command or one of its workers).

Figures are wall-clock on this machine; other load on the machine lowers them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit import api  # noqa: E402
from toolkit.batch import run_ordered  # noqa: E402
from toolkit.evaluate import LexiconMatcher  # noqa: E402
from toolkit.inputs import read_chunks  # noqa: E402
from toolkit.posts import validate  # noqa: E402

def _python_regex(regex: str) -> str:
    """An RE2 pattern as Python's `re` reads it: `\\x{1F644}` is a character, `(?i)` at the start only."""
    return re.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: re.escape(chr(int(m.group(1), 16))), regex)


FILLER = (  # noqa: SIM905
    "the a to of and in for on with at from this that our we is are was today new district office team "
    "meeting farmers students village road water school health camp review visit progress scheme citizens "
    "thanks happy proud great work week morning evening public service field report data training session "
    "local community event programme launch drive awareness support help update details link read more "
    "rain weather festival holiday family friends book music cricket match temple market bridge hospital"
).split()
def _text(entry: Any) -> str:
    """A lexicon entry's text (rule-set format 2 gives objects, format 1 strings)."""
    return entry if isinstance(entry, str) else entry["text"]


def _op(c: dict[str, Any]) -> str:
    """A condition's operator (format 2 names it; format 1 is told by its keys)."""
    if "op" in c:
        return str(c["op"])
    return next((k for k in ("all", "any", "not", "signal", "mentions", "matches", "labelled", "during",
                             "posted_before", "posted_after") if k in c), "in")


def realistic_posts(path: str, n: int, seed: int) -> list[dict[str, Any]]:
    """n posts drawn, with replacement and deterministically, from a corpus file (records with a `post`, or posts)."""
    pool = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            post = rec.get("post", rec) if isinstance(rec, dict) else rec
            # A corpus's expectations (`meta`) are not part of a post a user would check.
            pool.append({k: v for k, v in post.items() if k != "meta"} if isinstance(post, dict) else post)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        post = dict(rng.choice(pool))
        post["id"] = f"r{i:07d}"
        out.append(post)
    return out


PLATFORMS = ["x", "facebook", "instagram", "linkedin", "whatsapp", "telegram", "youtube", "threads", "blog"]


def synthetic_posts(ruleset: dict[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """Deterministic posts: ~30 words of filler; about one in five carries 1-2 lexicon entries."""
    rng = random.Random(seed)
    entries = sorted({_text(e) for lex in ruleset["lexicons"].values() for e in lex["entries"] if "{" not in _text(e)})
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


HINDI_FILLER = (  # noqa: SIM905
    "आज जिले में किसानों के साथ बैठक हुई और सड़क पानी स्कूल स्वास्थ्य शिविर की समीक्षा की गई "
    "सभी नागरिकों को धन्यवाद हम गर्व से काम कर रहे हैं सुबह शाम सेवा रिपोर्ट प्रशिक्षण सत्र "
    "स्थानीय समुदाय कार्यक्रम जागरूकता अभियान सहायता विवरण लिंक पढ़ें बारिश मौसम त्योहार परिवार मित्र"
).split()


def synthetic_hindi_posts(ruleset: dict[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """Deterministic Devanagari posts: ~30 words; one in five carries a Hindi lexicon entry, some a hashtag."""
    rng = random.Random(seed)
    entries = sorted({_text(e) for lex in ruleset["lexicons"].values() for e in lex["entries"]
                      if not _text(e).isascii() and "{" not in _text(e)})
    posts = []
    for i in range(n):
        words = [rng.choice(HINDI_FILLER) for _ in range(rng.randint(18, 42))]
        if entries and rng.random() < 0.2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(entries))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), rng.choice(["#Kerala", "district", "Collector", "2029"]))
        posts.append({
            "id": f"h{i:07d}", "text": " ".join(words) + "।", "platform": rng.choice(["x", "facebook"]),
            "account": {"kind": rng.choice(["personal", "official"]), "handle": f"@h{i % 50}"},
            "posted_at": f"2029-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00+05:30",
        })
    return posts


class NaiveChecker:
    """The baseline: every clause matched on its own with Python's re, nothing shared."""

    def __init__(self, ruleset: dict[str, Any]):
        self.rs = ruleset
        self.lex = {
            k: re.compile(r"\b(?:" + "|".join(re.escape(_text(e)) for e in v["entries"]) + r")\b", re.IGNORECASE)
            for k, v in ruleset["lexicons"].items()
        }
        self.pat = {
            k: re.compile(_python_regex(v["regex"]), re.IGNORECASE if "i" in v["flags"] else 0)
            for k, v in ruleset["patterns"].items()
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
        op = _op(c)
        if op in ("all", "any"):
            args = c.get("args", c.get(op, []))
            return all(self.ev(a, post) for a in args) if op == "all" else any(self.ev(a, post) for a in args)
        if op == "not":
            return not self.ev(c.get("arg", c.get("not")), post)
        if op == "signal":
            return self.ev(self.rs["signals"][c["signal"]]["when"], post)
        if op in ("mentions", "near", "stance"):
            # Compiled per use, as a clause-by-clause implementation would.
            rx = re.compile(self.lex[c.get("lexicon", c.get("mentions"))].pattern, re.IGNORECASE)
            return any(isinstance(v, str) and rx.search(v) for v in self.value(post, c["field"]))
        if op == "matches":
            rx = self.pat[c["pattern"] if "pattern" in c else c["matches"]]
            return any(isinstance(v, str) and rx.search(v) for v in self.value(post, c["field"]))
        if op == "in":
            return any(v in c.get("values", c.get("in", [])) for v in self.value(post, c["field"]))
        if op == "labelled":
            return c.get("label", c.get("labelled")) in post.get("labels", [])
        return False

    def check(self, post: dict[str, Any]) -> list[str]:
        out = []
        for clause in self.rs["clauses"]:
            if self.ev(clause["when"], post) and not any(self.ev(u["when"], post) for u in clause["unless"]):
                out.append(clause["id"])
        return out


def write_posts(path: Path, ruleset: dict[str, Any], n: int, seed: int) -> None:
    """n synthetic posts as JSON Lines, generated and written in batches (constant memory)."""
    with path.open("wb") as fh:
        for start in range(0, n, 50_000):
            batch = synthetic_posts(ruleset, min(50_000, n - start), seed + start)
            for i, post in enumerate(batch):
                post["id"] = f"p{start + i:07d}"
            fh.write(b"".join(orjson.dumps(p) + b"\n" for p in batch))


_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mb(args: list[str]) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of the largest process of a command."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, int(out.stdout.strip()) / 1024


def memory(ruleset: dict[str, Any], sizes: list[int], seed: int, jobs: list[int]) -> None:
    govpost = str(Path(sys.executable).with_name("govpost"))
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.json"
        rules.write_text(json.dumps(ruleset), encoding="utf-8")
        for n in sizes:
            posts = Path(tmp) / f"posts-{n}.jsonl"
            write_posts(posts, ruleset, n, seed)
            size = posts.stat().st_size / 1e6
            for j in jobs:
                wall, peak = peak_rss_mb([govpost, "check", str(rules), str(posts), "--format", "jsonl",
                                          "--fail-on", "never", "--jobs", str(j), "--quiet"])
                print(f"memory, {n:>9,} posts ({size:,.0f} MB), --jobs {j}   peak RSS {peak:7.1f} MB   "
                      f"{wall:6.1f} s  ({n / wall:,.0f} posts/s)")
            posts.unlink()


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
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (best and median shown)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the parallel figure")
    parser.add_argument("--memory", action="store_true", help="peak memory of `govpost check` on large inputs")
    parser.add_argument("--memory-posts", default="100000,1000000")
    parser.add_argument("--realistic", default=str(ROOT / "tests/corpus/dev/dev-set.jsonl"),
                        help="a corpus to sample realistic posts from (records with a `post`, or posts)")
    args = parser.parse_args()

    t_check, result = timed(api.check_file, args.policy)
    if not result.ok:
        sys.exit(f"{args.policy} does not validate; run `govpost validate` on it")
    t_compile, ruleset = timed(api.compile_result, result)
    t_load, checker = timed(api.checker, ruleset)
    if args.memory:
        memory(ruleset, [int(n) for n in args.memory_posts.split(",")], args.seed, [1, args.jobs])
        return
    posts = synthetic_posts(ruleset, args.posts, args.seed)
    jsonl = b"".join(orjson.dumps(p) + b"\n" for p in posts)
    tmp = tempfile.TemporaryDirectory()
    files: dict[bytes, str] = {}

    def file_of(data: bytes) -> str:
        # The posts are read from a file, as `govpost check FILE` reads them, in one process
        # and with workers alike.
        path = files.get(data)
        if path is None:
            path = files[data] = os.path.join(tmp.name, f"posts-{len(files)}.jsonl")
            Path(path).write_bytes(data)
        return path

    def run_jsonl(jobs: int, data: bytes = jsonl) -> int:
        out = io.BytesIO()
        hits = 0
        # The command's path (toolkit.cli.check): a file of JSON Lines is cut by byte offsets.
        chunks = read_chunks(file_of(data), "jsonl", by_offset=True)
        for _chunk, res in run_ordered(chunks, checker, jobs=jobs):
            out.write(res.output)
            hits += sum(res.counts[1:])
        return hits

    def runs(fn: Any, *a: Any) -> tuple[float, float, Any]:
        times = []
        value = None
        for _ in range(args.repeat):
            t, value = timed(fn, *a)
            times.append(t)
        return min(times), statistics.median(times), value

    decoded = [validate(p)[0] for p in posts]
    run_jsonl(1)  # warm-up
    best1, med1, hits = runs(run_jsonl, 1)
    bestj, medj, _ = runs(run_jsonl, args.jobs)
    best_dec, med_dec, _ = runs(lambda: [checker.check_post(dict(p, labels=list(p["labels"]))) for p in decoded])
    hindi = b"".join(orjson.dumps(p) + b"\n" for p in synthetic_hindi_posts(ruleset, args.posts // 4, args.seed))
    run_jsonl(1, hindi)  # warm-up
    best_hi, med_hi, _ = runs(run_jsonl, 1, hindi)
    real = b"".join(orjson.dumps(p) + b"\n" for p in realistic_posts(args.realistic, args.posts, args.seed))
    run_jsonl(1, real)  # warm-up
    best_re, med_re, hits_re = runs(run_jsonl, 1, real)
    naive = NaiveChecker(ruleset)
    sample = decoded[: args.baseline_posts]
    t_naive, _ = timed(lambda: [naive.check(p) for p in sample])

    n = len(posts)
    naive_rate = len(sample) / t_naive
    print(f"policy                      {Path(args.policy).name}: {len(ruleset['clauses'])} clauses, "
          f"{sum(len(v['entries']) for v in ruleset['lexicons'].values())} lexicon entries, "
          f"{len(ruleset['patterns'])} patterns")
    print(f"parse and check             {t_check * 1000:8.1f} ms")
    print(f"compile                     {t_compile * 1000:8.1f} ms")
    print(f"load rule set into checker  {t_load * 1000:8.1f} ms")
    print(f"posts                       {n} synthetic, {hits} with an outcome above permitted ({hits / n:.0%})")
    print(f"checker, JSONL in/out       {n / best1:10,.0f} posts/s  (one process; median {n / med1:,.0f})")
    print(f"checker, JSONL, --jobs {args.jobs:<3d} {n / bestj:10,.0f} posts/s  "
          f"({best1 / bestj:.2f} x one process; median {n / medj:,.0f})")
    print(f"checker, decoded posts      {n / best_dec:10,.0f} posts/s  (median {n / med_dec:,.0f})")
    n_hi = args.posts // 4
    print(f"checker, JSONL, Devanagari  {n_hi / best_hi:10,.0f} posts/s  (one process, {n_hi} Hindi posts; "
          f"median {n_hi / med_hi:,.0f})")
    print(f"checker, JSONL, realistic   {n / best_re:10,.0f} posts/s  (one process, {n} posts drawn from "
          f"{Path(args.realistic).name}, {hits_re / n:.0%} above permitted; median {n / med_re:,.0f})")
    print(f"naive baseline              {naive_rate:10,.0f} posts/s  (per-clause re, {len(sample)} posts)")
    print(f"speed-up over baseline      {n / best1 / naive_rate:10.1f} x")
    print(f"load average                {os.getloadavg()[0]:10.2f}      (on {os.cpu_count()} cores)")
    tmp.cleanup()


if __name__ == "__main__":
    main()
