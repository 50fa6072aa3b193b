"""The build command: a policy → its circular (PDF), HTML and rule set."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, NoReturn

import click

from ..diagnostics import summary_line
from .app import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, Failure, _print_diagnostics, cli

_VARIANTS = ("pdf/ua-1", "pdf/a-3b")  # the same as toolkit.render.PDF_VARIANTS, without importing Jinja2 here


@cli.command()
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="Directory to write <policy-id>.pdf, .html and .rules.json into.")
@click.option("--template", metavar="india|uk|DIR",
              help="The document template: india (Government of India circular), uk (GOV.UK guidance), "
                   "or a directory with a document.html of your own. Default: uk for `kind guidance`, "
                   "india otherwise.")
@click.option("--pdf-variant", type=click.Choice(_VARIANTS), default=_VARIANTS[0], show_default=True,
              help="pdf/ua-1: tagged and accessible; pdf/a-3b: archival. Both are tagged and embed the rule set.")
@click.option("--no-pdf", "no_pdf", is_flag=True, help="Write the HTML and the rule set only (no WeasyPrint).")
@click.option("--training", is_flag=True,
              help="Also write the training handbook, <id>-training.pdf and .html: every worked example a question.")
def build(policy: str, out_dir: str, template: str | None, pdf_variant: str, no_pdf: bool, training: bool) -> None:
    """Build a policy's circular: <id>.pdf, <id>.html and <id>.rules.json.

    The worked examples run first: a circular whose examples fail is not
    built (exit 1). The three files are written together or not at all; a
    failed build leaves earlier outputs untouched. Building twice gives
    byte-identical files (dates come from the policy and SOURCE_DATE_EPOCH).

    \b
    Examples:
      govpost build policies/in/ais-social-media.policy
      govpost build policies/uk/civil-service-social-media.policy -o output
      govpost build my.policy --template ./my-templates --pdf-variant pdf/a-3b
      govpost build policies/in/ais-social-media.policy --training
    """
    from ..build import BuildError, BuildOptions
    from ..build import build as run_build
    from . import app

    if app.ONE_SHOT:
        # One build, then the process ends. WeasyPrint leaves some 300,000 objects in reference
        # cycles (a 38-page circular); collecting them costs 0.2-0.3 s that the operating system
        # does for free at exit. Files are written and closed explicitly before this matters.
        gc.disable()
    options = BuildOptions(out_dir=Path(out_dir), template=template, pdf_variant=pdf_variant, pdf=not no_pdf,
                           training=training)
    try:
        result = run_build(policy, options)
    except BuildError as exc:
        _report_failure(policy, exc)  # exits
        raise AssertionError("unreachable") from None  # pragma: no cover
    except OSError as exc:  # reading the policy's folder or the templates failed midway
        raise Failure(EXIT_INVALID, f"{policy}: error[B606]: cannot build: {exc.strerror or exc}"
                      f"{f' ({exc.filename})' if exc.filename else ''}; nothing was written") from None

    if result.warnings:
        _print_diagnostics(result.warnings, "text")
    for message in result.renderer_messages:
        click.echo(f"warning: renderer: {message}", err=True)
    for url in result.refused_urls:
        click.echo(f"warning: renderer: refused to fetch `{url}` (only files in the template directory are read)",
                   err=True)
    report = result.report
    compared = f", compared with {result.compared_with}" if result.compared_with else ""
    examples = f"{len(report.results)} examples pass" if report.results else "no examples"
    click.echo(f"{policy}: {examples}; template {result.template.name}{compared}")
    for path in result.outputs:
        detail = ""
        if path.suffix == ".pdf" and result.pages is not None:
            detail = f" ({result.pages} pages, {pdf_variant})"
        click.echo(f"wrote {path}{detail}")
    if no_pdf and (Path(out_dir) / f"{result.policy_id}.pdf").exists():
        click.echo(f"note: {Path(out_dir) / f'{result.policy_id}.pdf'} is from an earlier build (--no-pdf)", err=True)
    if app.ONE_SHOT:
        gc.freeze()  # and keep the interpreter's exit from collecting them either
    raise SystemExit(EXIT_OK)


def _report_failure(policy: str, exc: Any) -> NoReturn:
    """Print why a build failed (with its stable code) and exit 1, 2 or 3."""
    if exc.diagnostics:
        _print_diagnostics(exc.diagnostics, "text")
    if exc.kind == "failing":
        for r in exc.report.results:
            if not r.passed:
                where = f"{r.source.get('file')}:{r.source.get('line')}"
                click.echo(f"  FAIL  {r.clause}: {r.title}  ({where})\n        {r.failure()}", err=True)
        raise Failure(EXIT_FINDINGS, f"{policy}: error[{exc.code}]: {exc.message}; nothing was written")
    if exc.kind == "internal":
        click.echo(f"{policy}: internal error[{exc.code}]: {exc.message}\n"
                   "this is a bug in govpost; please report it", err=True)
        raise SystemExit(EXIT_INTERNAL)
    summary = f" ({summary_line(exc.diagnostics)})" if exc.diagnostics else ""
    raise Failure(EXIT_INVALID, f"{policy}: error[{exc.code}]: {exc.message}{summary}; nothing was written")
