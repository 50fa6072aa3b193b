"""The Dask engine against the single-machine path, on the same synthetic posts.

    python benchmarks/bench_dask.py [--posts N] [--workers W] [--partition-records R] [--seed S]

Writes N deterministic synthetic posts (benchmarks/bench_checker.py's
generator) as JSON Lines into a temporary folder, then times, reading JSON
Lines and writing JSON Lines each time:

- ``govpost check --jobs 1`` (one process, the command line as a user runs it);
- ``govpost check --jobs W`` (W worker processes on this machine);
- :func:`toolkit.dask_engine.check_with_dask` on a local cluster of W worker
  processes: once including the cluster's start-up, once on a cluster
  already running (as on a real cluster, where it is);

and checks that every run wrote the same records. Figures are wall-clock on
this machine; on a shared machine run it twice and read the second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_checker import synthetic_posts  # noqa: E402

from toolkit import api  # noqa: E402
from toolkit.rules import dumps  # noqa: E402


def govpost(*args: str, stdout: Path) -> float:
    exe = Path(sys.executable).with_name("govpost")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "toolkit"]
    start = time.perf_counter()
    with stdout.open("wb") as fh:
        done = subprocess.run([*command, *args], stdout=fh, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"govpost {' '.join(args)} failed ({done.returncode}): {done.stderr.decode()[:500]}")
    return elapsed


def parts_text(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("part-*.jsonl")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", default=str(ROOT / "policies/in/ais-social-media.policy"))
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partition-records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    import distributed

    from toolkit.dask_engine import check_with_dask

    result = api.check_file(args.policy)
    if not result.ok:
        sys.exit(f"{args.policy} does not validate; run `govpost validate` on it")
    ruleset = api.compile_result(result)
    with tempfile.TemporaryDirectory(prefix="govpost-bench-dask-") as tmp_name:
        tmp = Path(tmp_name)
        rules = tmp / "rules.json"
        rules.write_text(dumps(ruleset), encoding="utf-8")
        posts = tmp / "posts.jsonl"
        with posts.open("w", encoding="utf-8") as fh:
            for post in synthetic_posts(ruleset, args.posts, args.seed):
                fh.write(json.dumps(post, ensure_ascii=False) + "\n")
        size = posts.stat().st_size
        n = args.posts
        rows: list[tuple[str, float]] = []

        one = tmp / "one.jsonl"
        rows.append(("govpost check --jobs 1", govpost("check", str(rules), str(posts), "--format", "jsonl",
                                                       "--jobs", "1", "--quiet", stdout=one)))
        many = tmp / "many.jsonl"
        rows.append((f"govpost check --jobs {args.workers}",
                     govpost("check", str(rules), str(posts), "--format", "jsonl", "--jobs", str(args.workers),
                             "--quiet", stdout=many)))
        expected = one.read_bytes()
        assert many.read_bytes() == expected, "--jobs changed the results"

        start = time.perf_counter()
        cold = check_with_dask(rules, [str(posts)], tmp / "dask-cold", n_workers=args.workers,
                               partition_records=args.partition_records)
        rows.append((f"dask, {args.workers} workers, with cluster start", time.perf_counter() - start))
        assert parts_text(tmp / "dask-cold") == expected, "the Dask engine changed the results"

        cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=40)
        with distributed.Client(cluster) as client:
            check_with_dask(rules, [str(posts)], tmp / "dask-warmup", client=client,
                            partition_records=args.partition_records)
            start = time.perf_counter()
            warm = check_with_dask(rules, [str(posts)], tmp / "dask-warm", client=client,
                                   partition_records=args.partition_records)
            rows.append((f"dask, {args.workers} workers, cluster running", time.perf_counter() - start))
        cluster.close()
        assert parts_text(tmp / "dask-warm") == expected
        assert cold == warm

    base = rows[0][1]
    print(f"posts                 {n:,} synthetic ({size / 1e6:.1f} MB of JSON Lines), "
          f"{cold.to_dict()['outcomes']}")
    print(f"machine               {os.cpu_count()} cores; partitions of {args.partition_records:,} records")
    for name, seconds in rows:
        print(f"{name:<38} {seconds:7.2f} s {n / seconds:10,.0f} posts/s  {base / seconds:5.2f} x one process")
    print("results               identical, record for record, in every run")


if __name__ == "__main__":
    main()
