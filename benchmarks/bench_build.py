"""Build time of each bundled circular, parse to PDF, and the PDF's page count.

    python benchmarks/bench_build.py [--repeat N] [--no-cold]

For each policy under policies/ with a header, prints the best and the median
of N runs (wall clock, this machine) of:

- **cold**: ``govpost build POLICY -o TMP`` in a fresh process, as a drafter
  runs it (imports, fonts and all);
- **warm**: :func:`toolkit.build.build_artifacts` in this process, with the
  comparison cache emptied before every run, so that each run parses, checks,
  compiles, runs the examples, compares, renders HTML and lays out the PDF;

then the warm run's phases (best of N) and the PDF's page count. The goal is
under 3 seconds per bundled circular; timings on a shared machine are noisy,
so run it more than once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit import api, build, document, render  # noqa: E402
from toolkit.testing import run_examples  # noqa: E402

POLICIES = [ROOT / "policies" / "in" / "ais-social-media.policy",
            ROOT / "policies" / "uk" / "civil-service-social-media.policy"]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return times, value


def cold(policy: Path, repeat: int) -> list[float]:
    govpost = Path(sys.executable).parent / "govpost"
    command = [str(govpost)] if govpost.exists() else [sys.executable, "-m", "toolkit"]
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([*command, "build", str(policy), "-o", out], check=True, capture_output=True,
                           env={**os.environ, "NO_COLOR": "1"})
            times.append(time.perf_counter() - start)
    return times


def phases(policy: Path) -> dict[str, float]:
    """One build, phase by phase (the same steps as toolkit.build.build_artifacts)."""
    from toolkit.compare import compare_rulesets

    marks: dict[str, float] = {}
    t = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        marks[name] = now - t
        t = now

    result = api.check_file(policy)
    ruleset = api.compile_result(result)
    mark("parse, check, compile")
    report = run_examples(ruleset)
    mark("examples")
    other = api.compile_result(api.check_file(policy.parent / result.policy.meta.compare_with))
    comparison = compare_rulesets(ruleset, other)
    mark("comparison (incl. the other policy)")
    view = document.circular_view(result.policy, content_hash=result.content_hash, ruleset=ruleset, report=report,
                                  comparison=comparison, generator="bench")
    template = render.resolve_template(None, kind=result.policy.meta.kind)
    html = render.render_html(view, template)
    mark("view-model and HTML")
    render.render_pdf(html, template)
    mark("PDF (layout and writing)")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-process runs")
    args = parser.parse_args()
    print(f"govpost build, best / median of {args.repeat} runs (seconds)\n")
    for policy in POLICIES:
        name = policy.relative_to(ROOT)
        options = build.BuildOptions(out_dir=Path(tempfile.gettempdir()))

        def once(policy: Path = policy, options: build.BuildOptions = options) -> Any:
            build._COMPARISONS.clear()
            return build.build_artifacts(policy, options)[1]

        warm, result = timed(once, args.repeat)
        print(f"{name}: {result.pages} pages, template {result.template.name}")
        if not args.no_cold:
            c = cold(policy, args.repeat)
            print(f"  cold (fresh process)   {min(c):6.2f} / {statistics.median(c):6.2f}")
        print(f"  warm (in process)      {min(warm):6.2f} / {statistics.median(warm):6.2f}")
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for phase, seconds in phases(policy).items():
                best[phase] = min(seconds, best.get(phase, seconds))
        for phase, seconds in best.items():
            print(f"    {phase:36} {seconds:6.2f}")
        print()


if __name__ == "__main__":
    main()
