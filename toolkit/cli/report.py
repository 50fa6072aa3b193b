"""`govpost report`: the audit summary of check results already written."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import IO, Any

import click
import orjson

from .app import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, OUTCOME_CHOICES, Failure, _color, cli, emit

# How many unreadable lines are listed before the command gives up listing them.
_MAX_PROBLEMS = 20


class _Problems:
    """Lines of a results file that are not check results; listed, then the command exits 2."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, name: str, line: int, message: str) -> None:
        self.count += 1
        if self.count <= _MAX_PROBLEMS:
            click.echo(f"{name}:{line}: error: {message}", err=True)


def _open(name: str) -> IO[str]:
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="strict")
    try:
        return open(name, encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise Failure(EXIT_INVALID, f"error[I501]: cannot read `{name}`: {exc.strerror or exc}") from None


def _read(name: str, problems: _Problems, *, errors_only: bool) -> Iterator[dict[str, Any]]:
    """The records of a results (or errors) file, one JSON object a line; blank lines skipped."""
    shown = "<stdin>" if name == "-" else name
    fh = _open(name)
    try:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                problems.add(shown, lineno, "not valid JSON: a results file has one JSON object a line")
                continue
            if not isinstance(value, dict):
                problems.add(shown, lineno, "not a check result: a line must be a JSON object")
            elif "errors" in value and "outcome" not in value:
                if isinstance(value["errors"], list):
                    yield value
                else:
                    problems.add(shown, lineno, "not a malformed-record entry: `errors` must be a list")
            elif errors_only:
                problems.add(shown, lineno, "not a malformed-record entry (as `govpost check --errors` writes)")
            elif value.get("outcome") not in OUTCOME_CHOICES:
                problems.add(shown, lineno, "not a check result (as `govpost check --format jsonl` writes): "
                                            "no valid `outcome`")
            elif not isinstance(value.get("findings", []), list):
                problems.add(shown, lineno, "not a check result: `findings` must be a list")
            else:
                yield value
    except UnicodeDecodeError as exc:
        raise Failure(EXIT_INVALID, f"error[I502]: `{shown}` is not UTF-8 text: {exc.reason}") from None
    finally:
        if name != "-":
            fh.close()


@cli.command()
@click.argument("results", nargs=-1, required=True)
@click.option("--errors", "errors_paths", multiple=True, type=click.Path(dir_okay=False),
              help="A file of malformed records written by `govpost check --errors` (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="text for a terminal, json for tools, html for a self-contained report with charts.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("--title", default="Audit of social-media posts", show_default=True,
              help="The title of the HTML report.")
@click.option("--top", "top_posts", type=click.IntRange(0, 10000), default=20, show_default=True,
              help="How many posts at the highest outcome to list.")
@click.option("--max-errors", type=click.IntRange(0, 100000), default=100, show_default=True,
              help="How many malformed records to list (all are counted).")
@click.option("--fail-on", type=click.Choice([*OUTCOME_CHOICES, "never"]), default="never", show_default=True,
              help="Exit 1 when a post's outcome is at least this.")
@click.option("--color/--no-color", "color", default=None,
              help="Colour the text report (default: when writing to a terminal).")
def report(results: tuple[str, ...], errors_paths: tuple[str, ...], fmt: str, output: str | None, title: str,
           top_posts: int, max_errors: int, fail_on: str, color: bool | None) -> None:
    """Summarise check results: counts per outcome, clause, topic, account and month.

    RESULTS are JSON Lines files written by `govpost check --format jsonl`
    (`-` for standard input). Malformed records in them, and in the files
    given with --errors, are counted once each, so the counts add up to the
    records checked.

    \b
    Examples:
      govpost check rules.json posts.jsonl --format jsonl --errors bad.jsonl > results.jsonl
      govpost report results.jsonl
      govpost report results.jsonl --errors bad.jsonl --format html -o audit.html
    """
    from ..summary import Summary, render_summary_text

    summary = Summary(top_posts=top_posts, max_errors=max_errors)
    problems = _Problems()
    seen_errors: set[tuple[Any, Any]] = set()
    for name in results:
        for record in _read(name, problems, errors_only=False):
            if "errors" in record and "outcome" not in record:
                seen_errors.add((record.get("input"), record.get("record")))
            summary.add(record)
    for name in errors_paths:
        for record in _read(name, problems, errors_only=True):
            key = (record.get("input"), record.get("record"))
            if key in seen_errors:
                continue  # already in a results file: `check --format jsonl` writes errors in both
            seen_errors.add(key)
            summary.add_error(record)
    if problems.count:
        more = f" ({problems.count - _MAX_PROBLEMS} more not shown)" if problems.count > _MAX_PROBLEMS else ""
        what = ("1 line is not a check result" if problems.count == 1
                else f"{problems.count} lines are not check results")
        raise Failure(EXIT_INVALID, f"error: {what}{more}; no report written")

    use_color = fmt == "text" and not output and _color(sys.stdout, color)
    if fmt == "json":
        import json

        text = json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n"
    elif fmt == "html":
        from ..render_report import ReportError, render_html

        try:
            text = render_html(summary.to_dict(), title=title)
        except ReportError as exc:
            raise Failure(EXIT_INVALID, f"error: {exc}") from None
    else:
        text = render_summary_text(summary, color=use_color)
    emit(text, output, use_color)
    threshold = OUTCOME_CHOICES.index(fail_on) if fail_on != "never" else len(OUTCOME_CHOICES)
    flagged = any(summary.outcomes[i] for i in range(threshold, len(OUTCOME_CHOICES)))
    raise SystemExit(EXIT_FINDINGS if flagged else EXIT_OK)
