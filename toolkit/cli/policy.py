"""Commands on policies: validate, compile, test, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..diagnostics import Diagnostic, render_json, summary_line
from .app import (
    EXIT_FINDINGS,
    EXIT_INVALID,
    EXIT_OK,
    Failure,
    _color,
    _load_ruleset,
    _print_diagnostics,
    _write_atomic,
    cli,
)

# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(policies: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check policies for errors: syntax, names, types, citations, regexes, dates, examples."""
    from .. import api

    worst = EXIT_OK
    all_diags: list[Diagnostic] = []
    for path in policies:
        result = api.check_file(path)
        all_diags.extend(result.diagnostics)
        failed = not result.ok or (strict and result.warnings)
        if fmt == "text":
            _print_diagnostics(result.diagnostics, fmt)
            status = "invalid" if failed else "valid"
            click.echo(f"{path}: {status} ({summary_line(result.diagnostics)})")
        if failed:
            worst = EXIT_INVALID
    if fmt == "json":
        click.echo(render_json(all_diags))
    raise SystemExit(worst)


# ---------------------------------------------------------------------------
# compile
# ---------------------------------------------------------------------------


@cli.command(name="compile")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="Directory to write <policy-id>.rules.json into.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the rule set instead of writing a file.")
def compile_cmd(policy: str, out_dir: str, to_stdout: bool) -> None:
    """Compile a policy to its machine-checkable rule set (<policy-id>.rules.json)."""
    from ..rules import dumps

    ruleset = _load_ruleset(policy)
    text = dumps(ruleset)
    if to_stdout:
        click.echo(text, nl=False)
        return
    target = Path(out_dir) / f"{ruleset['policy']['id']}.rules.json"
    _write_atomic(target, text)
    click.echo(f"wrote {target} ({len(ruleset['clauses'])} clauses, {ruleset['content_hash'][:19]})")


# ---------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path())
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write JUnit XML to this file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=0, show_default=True,
              help="Fail when fewer than this percentage of clauses decide an example.")
@click.option("-v", "--verbose", is_flag=True, help="List passing examples too.")
def test(policies: tuple[str, ...], junit: str | None, fmt: str, min_coverage: float, verbose: bool) -> None:
    """Run every worked example of policies and report clause coverage.

    POLICIES are .policy files or directories, searched recursively; in a
    directory, files without a `policy` header (fragments that policies
    include) are skipped.
    """
    from .. import api
    from ..testing import junit_xml, run_examples
    from .fmt import policy_files

    reports = []
    code = EXIT_OK
    named = {Path(p).resolve() for p in policies if not Path(p).is_dir()}
    for file in policy_files(policies):
        path = str(file)
        if file.resolve() not in named and file.is_file():
            found = api.check_file(path).diagnostics
            if found and all(d.code == "S224" for d in found):
                continue  # an included fragment: tested through the policies that include it
        try:
            ruleset = _load_ruleset(path, fmt)
        except Failure as exc:
            exc.show()
            code = EXIT_INVALID
            continue
        report = run_examples(ruleset)
        reports.append(report)
        if report.failed or report.coverage * 100 < min_coverage:
            code = max(code, EXIT_FINDINGS)
        if fmt == "text":
            _print_test_report(path, report, verbose)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
    if junit:
        _write_atomic(Path(junit), junit_xml(reports))
    raise SystemExit(code)


def _print_test_report(path: str, report: Any, verbose: bool) -> None:
    from ..terminal import paint

    color = _color(sys.stdout)
    ok = paint("ok", "green", color)
    fail = paint("FAIL", "bold red", color)
    click.echo(f"{path}: {len(report.results)} examples")
    for r in report.results:
        if r.passed and not verbose:
            continue
        where = f"{r.source.get('file')}:{r.source.get('line')}"
        click.echo(f"  {ok if r.passed else fail}  {r.clause}: {r.title}  ({where})", color=color)
        if not r.passed:
            click.echo(f"        {r.failure()}")
    cov = f"{report.coverage * 100:.0f}%"
    click.echo(
        f"  {report.passed} passed, {report.failed} failed; clause coverage {cov} "
        f"({len(report.clauses) - len(report.uncovered)}/{len(report.clauses)} clauses decide an example)"
    )
    for gap in report.uncovered:
        click.echo(f"    not covered: {gap.number} {gap.clause}: {gap.reason}")


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("which", type=click.Choice(["post", "rules"]))
def schema(which: str) -> None:
    """Print the JSON Schema of a post or of a compiled rule set."""
    if which == "post":
        from ..postschema import json_schema

        click.echo(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    else:
        from ..resources import schemas_dir

        click.echo((schemas_dir() / "rules.schema.json").read_text(encoding="utf-8"), nl=False)


