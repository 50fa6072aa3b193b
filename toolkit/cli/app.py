"""The `govpost` command group, its shared helpers and its exit codes.

Each group of commands lives in its own module of this package and is
registered on :data:`cli` when the package is imported. The commands are
thin: they parse options, call :mod:`toolkit.api`, print, and exit.

Exit codes, the same for every command:

====  ==========================================================
0     success: valid, passing, nothing at the fail level
1     findings: a post at the fail level, a failing example, …
2     invalid input: syntax or semantic errors, unreadable files, bad records
3     internal error (a bug in govpost: please report it)
====  ==========================================================
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from .. import __version__
from ..diagnostics import Diagnostic, render_json, render_text, summary_line

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3

#: True when the command runs as the `govpost` process itself (:func:`main`), which ends when the
#: command does; False when the CLI is invoked inside a longer-lived process (tests, CliRunner).
#: A command may then leave memory to the operating system instead of freeing it (see `build`).
ONE_SHOT = False

OUTCOME_CHOICES = ("permitted", "advisory", "requires_sanction", "prohibited")


class Failure(click.ClickException):
    """A handled failure: its message is printed as is and the command exits with its code."""

    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.exit_code = code

    def show(self, file: Any = None) -> None:
        if self.message:
            click.echo(self.message, err=True)


def _color(stream: Any, flag: bool | None = None) -> bool:
    """Whether to colour what goes to ``stream``: --color/--no-color, NO_COLOR, FORCE_COLOR, a terminal."""
    from ..terminal import wants_color

    return wants_color(stream, flag)


def _print_diagnostics(diags: list[Diagnostic], fmt: str) -> None:
    if fmt == "json":
        click.echo(render_json(diags))
        return
    if diags:
        color = _color(sys.stderr)
        click.echo(render_text(diags, color=color), err=True, color=color)
        click.echo(err=True)


def _write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never a half.

    Raises:
        Failure: exit code 2 (``I505``) when it cannot be written; the earlier file is kept.
    """
    from ..atomic import write_file

    try:
        write_file(path, text.encode("utf-8"))
    except OSError as exc:
        raise Failure(EXIT_INVALID, cannot_write(path, exc)) from None


def cannot_write(path: str | Path, exc: OSError) -> str:
    """The message of an output that cannot be written (a full disk, a read-only folder…)."""
    return (f"error[I505]: cannot write `{path}`: {exc.strerror or exc}; nothing was written "
            "(an earlier file of that name is kept)")


def emit(text: str, output: str | None, color: bool = False) -> None:
    """A report to ``output`` (written atomically) or, without one, to standard output.

    ``color``: the report was styled because colour was wanted (FORCE_COLOR, --color), so its
    styles are kept even into a pipe; click.echo would otherwise strip them there.
    """
    if output:
        _write_atomic(Path(output), text)
    else:
        click.echo(text, nl=False, color=color)


def _load_ruleset(target: str, fmt: str = "text") -> dict[str, Any]:
    """A rule set from a compiled ``.json`` file or by compiling a ``.policy`` file."""
    from .. import api

    if target.endswith(".json"):
        from ..rules import RuleSetError

        try:
            return api.load_rules(target)
        except OSError as exc:
            raise Failure(EXIT_INVALID, f"error[I501]: cannot read `{target}`: {exc.strerror or exc}") from None
        except RuleSetError as exc:
            raise Failure(EXIT_INVALID, f"{target}: error[{exc.code}]: {exc}") from None
    result = api.check_file(target)
    if not result.ok:
        _print_diagnostics(result.diagnostics, fmt)
        raise Failure(EXIT_INVALID, f"{target}: {summary_line(result.diagnostics)}; fix them first")
    return api.compile_result(result)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="govpost")
def cli() -> None:
    """govpost: social-media conduct rules for civil servants, as code.

    Write guidelines once as .policy files; validate and test them, compile
    them to a machine-checkable rule set, and check posts against it.

    \b
    Exit codes: 0 ok, 1 findings (a post at the fail level, a failing
    example), 2 invalid input, 3 internal error.
    """


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI; an unexpected exception is a bug and exits 3."""
    global ONE_SHOT
    ONE_SHOT = True
    try:
        cli.main(args=argv, prog_name="govpost")
    except SystemExit:
        raise
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:  # pragma: no cover - a bug, by definition
        if os.environ.get("GOVPOST_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "this is a bug in govpost; please report it with the command you ran "
            "(set GOVPOST_DEBUG=1 to see the traceback)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK)
