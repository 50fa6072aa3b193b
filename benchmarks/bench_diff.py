"""Time of the exact behavioural analysis behind `govpost diff` and `govpost compare`.

    python benchmarks/bench_diff.py [--repeat N]

Prints, each the best and the median of N runs (wall clock, this machine):

- the semantic diff of the bundled AIS policy against a one-clause edit of it
  (one exception removed from `share-party-material`): the whole diff
  (clause matching, redlines, the verdict of the change and of the clause
  with witnesses), and the analysis alone (the verdict of the whole change);
- the comparison of the AIS policy with the UK policy, topic by topic;
- for each, the number of solver queries (``check`` calls) and of witnesses.

Loading, checking and compiling the policies are timed apart: they are the
same work `govpost validate` and `govpost compile` do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import z3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit import api  # noqa: E402
from toolkit.analysis import Analyzer  # noqa: E402
from toolkit.compare import compare_rulesets  # noqa: E402
from toolkit.diff import diff_policies  # noqa: E402

AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
UK = ROOT / "policies" / "uk" / "civil-service-social-media.policy"
EDIT = (
    '''            when    action in [share, like] and shared_from.kind is political_party
            unless  "made in the discharge of official duties" labelled official_capacity''',
    '''            when    action in [share, like] and shared_from.kind is political_party''',
)

_queries = 0
_check = z3.Solver.check


def _counting_check(self: z3.Solver, *args: Any) -> Any:
    global _queries
    _queries += 1
    return _check(self, *args)


z3.Solver.check = _counting_check  # type: ignore[method-assign]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, int, Any]:
    """(best seconds, median seconds, solver queries per run, last result)."""
    global _queries
    times = []
    result = None
    queries = 0
    for _ in range(repeat):
        _queries = 0
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        queries = _queries
    return min(times), statistics.median(times), queries, result


def witnesses(relations: list[Any]) -> int:
    return sum((r.stricter is not None) + (r.looser is not None) for r in relations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    ais = api.check_file(AIS)
    ais_rules = api.compile_result(ais)
    text = AIS.read_text(encoding="utf-8")
    assert EDIT[0] in text, "the edited clause is no longer in the AIS policy; update EDIT"
    edited = api.check_text(text.replace(EDIT[0], EDIT[1]), str(AIS))
    assert edited.ok, edited.diagnostics
    edited_rules = api.compile_result(edited)
    uk = api.check_file(UK)
    uk_rules = api.compile_result(uk)
    load = time.perf_counter() - start
    print(f"load, check and compile: AIS, its edit and UK: {load:.2f} s (not part of the figures below)")
    print(f"AIS: {len(ais_rules['clauses'])} clauses, {len(ais_rules['lexicons'])} lexicons; "
          f"UK: {len(uk_rules['clauses'])} clauses, {len(uk_rules['lexicons'])} lexicons")
    print()

    best, median, queries, d = timed(
        lambda: diff_policies(ais.policy, edited.policy, ais_rules, edited_rules), args.repeat)
    changed = [c for c in d.clauses if c.status != "unchanged"]
    print(f"{'diff AIS vs one-clause edit, whole diff:':46} best {best * 1000:7.1f} ms, "
          f"median {median * 1000:7.1f} ms, {queries} solver queries, verdict {d.verdict.verdict}, "
          f"{len(changed)} clause changed, "
          f"{witnesses([d.verdict] + [c.effect for c in changed])} witnesses")

    best, median, queries, rel = timed(lambda: Analyzer(ais_rules, edited_rules).relation(), args.repeat)
    print(f"{'diff AIS vs one-clause edit, analysis alone:':46} best {best * 1000:7.1f} ms, "
          f"median {median * 1000:7.1f} ms, {queries} solver queries, verdict {rel.verdict}")

    best, median, queries, rel = timed(lambda: Analyzer(ais_rules, ais_rules).relation(), args.repeat)
    print(f"{'diff AIS vs itself, analysis alone:':46} best {best * 1000:7.1f} ms, median {median * 1000:7.1f} ms, "
          f"{queries} solver queries, verdict {rel.verdict}")

    best, median, queries, cmp = timed(lambda: compare_rulesets(ais_rules, uk_rules), args.repeat)
    relations = {t.relation for t in cmp.topics}
    print(f"{f'compare AIS vs UK, {len(cmp.topics)} topics:':46} best {best * 1000:7.1f} ms, "
          f"median {median * 1000:7.1f} ms, {queries} solver queries, overall {cmp.overall.verdict}, "
          f"{witnesses([cmp.overall] + [t for t in cmp.topics if t.relation not in ('only_a', 'only_b')])} witnesses "
          f"({', '.join(sorted(relations))})")


if __name__ == "__main__":
    main()
