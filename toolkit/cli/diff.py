"""Commands on two policies: diff (versions of one policy), compare (two policies), textconv (for git)."""

from __future__ import annotations

import sys

import click

from .app import EXIT_INVALID, Failure, _color, _print_diagnostics, cli, emit

FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools, html for a redline page.")
OUTPUT_OPTION = click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True),
                             help="Write the report to this file instead of standard output.")
COLOR_OPTION = click.option("--color/--no-color", "color", default=None,
                            help="Colour the text report (default: when writing to a terminal).")


def _use_color(color: bool | None, fmt: str, output: str | None) -> bool:
    if fmt != "text" or output:
        return bool(color) and fmt == "text"
    return _color(sys.stdout, color)


def _invalid(exc: Exception) -> Failure:
    """A handled failure for input that cannot be diffed: its diagnostics first, then the message."""
    diags = getattr(exc, "diagnostics", None)
    if diags:
        _print_diagnostics(diags, "text")
    return Failure(EXIT_INVALID, f"error: {exc}")


# ---------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--git-range", "git_range", metavar="BASE..HEAD",
              help="Diff every policy changed between two commits (its text or an included file), "
                   "in one report. BASE...HEAD diffs from their merge base.")
@FORMAT_OPTION
@OUTPUT_OPTION
@COLOR_OPTION
def diff(old: str | None, new: str | None, git_range: str | None, fmt: str, output: str | None,
         color: bool | None) -> None:
    """What a change to a policy does: clauses added, removed, moved, reworded, and whether it got stricter.

    OLD and NEW are policy files or files at a git revision, REV:path (read
    through git without a checkout; includes are read at the same revision;
    the path is relative to the repository root).

    The verdict is decided exactly: equivalent (no post gets another
    outcome), stricter, looser or mixed, each shown with a post on which
    the versions disagree.

    \b
    Examples:
      govpost diff main:policies/in/ais-social-media.policy policies/in/ais-social-media.policy
      govpost diff HEAD~1:policies/in/ais-social-media.policy HEAD:policies/in/ais-social-media.policy
      govpost diff --git-range origin/main..HEAD --format markdown -o report.md

    \b
    Exit codes: 0 no post gets another outcome (a rewording, a reordering),
    1 the behaviour changed (or a policy was added or removed), 2 invalid
    input (a policy with errors, an unknown revision, a missing file).
    """
    from .. import api
    from ..diff_render import render_diff
    from ..gitio import GitError

    if git_range is not None and (old or new):
        raise Failure(EXIT_INVALID, "error: give either OLD and NEW or --git-range, not both")
    if git_range is None and not (old and new):
        raise Failure(EXIT_INVALID, "error: give two policies to diff, OLD and NEW (each a file or REV:path), "
                                    "or --git-range BASE..HEAD")
    try:
        report = api.diff_git_range(git_range) if git_range is not None else api.diff_sources(old, new)  # type: ignore[arg-type]
    except (api.InvalidInput, GitError) as exc:
        raise _invalid(exc) from None
    for f in report.files:
        if f.status == "invalid" and fmt != "text":
            _print_diagnostics(list(f.diagnostics), "text")
    use_color = _use_color(color, fmt, output)
    emit(render_diff(report, fmt, color=use_color), output, use_color)
    if report.exit_code == EXIT_INVALID:
        click.echo("error: a policy in the range has errors; the report shows them", err=True)
    raise SystemExit(report.exit_code)


# ---------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("a")
@click.argument("b")
@FORMAT_OPTION
@OUTPUT_OPTION
@COLOR_OPTION
def compare(a: str, b: str, fmt: str, output: str | None, color: bool | None) -> None:
    """Compare policy A with policy B topic by topic: stricter, looser, equivalent, mixed, only in A or B.

    A and B are policy files or REV:path. Each topic's relation is decided
    exactly over that topic's clauses and shown with a post on which the
    policies disagree; "stricter" means A gives some post a stronger outcome
    than B and none a weaker one.

    \b
    Example:
      govpost compare policies/in/ais-social-media.policy policies/uk/civil-service-social-media.policy

    \b
    Exit codes: 0 the policies give every post the same outcome, 1 they
    differ, 2 invalid input.
    """
    from .. import api
    from ..diff_render import render_comparison
    from ..gitio import GitError

    try:
        report = api.compare_files(a, b)
    except (api.InvalidInput, GitError) as exc:
        raise _invalid(exc) from None
    use_color = _use_color(color, fmt, output)
    emit(render_comparison(report, fmt, color=use_color), output, use_color)
    raise SystemExit(report.exit_code)


# ---------------------------------------------------------------------------
# textconv
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def textconv(file: str) -> None:
    """Print one policy file in canonical form, for git diff (a textconv filter).

    \b
    Set it up once per clone (the repository's .gitattributes already says
    `*.policy diff=govpost`):
      git config diff.govpost.textconv "govpost textconv"

    The file is read alone (includes are not followed) and printed in the
    canonical layout, without comments, so that `git diff` shows what
    changed in content. A file with syntax errors is printed unchanged.
    """
    from .. import api

    try:
        with click.open_file(file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise Failure(EXIT_INVALID, f"error[I501]: cannot read `{file}`: {exc.strerror or exc}") from None
    click.echo(api.textconv(data, file), nl=False)
