"""`govpost fmt`: rewrite policy files in the canonical layout, every comment kept."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from ..diagnostics import Diagnostic, DiagnosticError
from ..terminal import paint
from .app import (
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_OK,
    Failure,
    _color,
    _print_diagnostics,
    _write_atomic,
    cli,
)


def policy_files(paths: tuple[str, ...]) -> Iterator[Path]:
    """The ``.policy`` files named by ``paths``: files as given, directories searched recursively.

    Directories whose names start with a dot (``.git``, ``.venv``) are skipped.
    Each file is listed once, directories' files in sorted order.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*.policy")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
        else:
            found = [path]
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                yield p


def read_policy_text(path: Path) -> str:
    """A file's text (UTF-8, an initial byte-order mark dropped); raises DiagnosticError when unreadable.

    It must be a regular file of at most 1 MiB, and a link must not lead out of
    its repository (toolkit.confine): fmt writes back where it reads.
    """
    from ..load import FileReader, not_utf8

    try:
        return FileReader(regular_only=True).read(str(path))
    except UnicodeDecodeError as exc:
        raise DiagnosticError([not_utf8(str(path), exc)]) from None
    except OSError as exc:
        code = "I504" if getattr(exc, "code", None) == "I504" else "I501"
        raise DiagnosticError([Diagnostic(code, f"cannot read `{path}`: {exc.strerror or exc}")]) from None


def _diff(before: str, after: str, name: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"{name} (original)", f"{name} (formatted)"
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


@cli.command(name="fmt")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Write nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of the changes.")
def fmt_cmd(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite policy files in the canonical layout, keeping every comment.

    PATHS are .policy files or directories (searched recursively for *.policy;
    the current directory when none is given). `-` formats standard input to
    standard output.

    Before anything is written the result is parsed again and compared with the
    original: the same policy, the same tokens, the same comments in the same
    places. Files are replaced atomically.

    \b
    Exit codes: 0 formatted (or, with --check, nothing to change); 1 with
    --check, some files would change; 2 a file has a syntax error or cannot
    be read; 3 the formatter would have changed a policy (a bug; nothing is
    written for that file).
    """
    from ..formatter import UnsoundFormat, format_source

    code = EXIT_OK
    if paths == ("-",):
        before = sys.stdin.read()
        try:
            after = format_source(before, "<stdin>")
        except DiagnosticError as exc:
            _print_diagnostics(exc.diagnostics, "text")
            raise SystemExit(EXIT_INVALID) from None
        except UnsoundFormat as exc:
            click.echo(f"internal error: {exc}; nothing was written", err=True)
            raise SystemExit(EXIT_INTERNAL) from None
        if show_diff:
            click.echo(_diff(before, after, "<stdin>"), nl=False)
        elif not check:
            click.echo(after, nl=False)
        raise SystemExit(EXIT_FINDINGS if check and after != before else EXIT_OK)
    if "-" in paths:
        click.echo("error: `-` (standard input) cannot be mixed with paths", err=True)
        raise SystemExit(EXIT_INVALID)

    changed = unchanged = failed = 0
    for path in policy_files(paths or (".",)):
        try:
            before = read_policy_text(path)
            after = format_source(before, str(path))
        except DiagnosticError as exc:
            _print_diagnostics(exc.diagnostics, "text")
            why = "syntax error" if any(d.code.startswith("P") for d in exc.diagnostics) else "cannot be read"
            click.echo(f"{path}: not formatted ({why})", err=True)
            code = max(code, EXIT_INVALID)
            failed += 1
            continue
        except UnsoundFormat as exc:
            click.echo(f"internal error: {exc}; `{path}` was left as it is", err=True)
            code = EXIT_INTERNAL
            failed += 1
            continue
        if after == before:
            unchanged += 1
            continue
        changed += 1
        if show_diff:
            click.echo(_diff(before, after, str(path)), nl=False)
        if check:
            click.echo(f"would reformat {path}")
            code = max(code, EXIT_FINDINGS)
        elif not show_diff:
            try:
                # A link is formatted where it points: the link stays a link.
                _write_atomic(path.resolve(), after)
            except Failure as exc:
                click.echo(exc.message, err=True)
                code = max(code, EXIT_INVALID)
                changed -= 1
                failed += 1
                continue
            click.echo(f"reformatted {path}", err=True)
    verb = "would be reformatted" if check or show_diff else "reformatted"
    summary = f"{changed} file{'s' if changed != 1 else ''} {verb}, {unchanged} unchanged"
    if failed:
        summary += f", {failed} not formatted"
    color = _color(sys.stderr)
    click.echo(paint(summary, "bold", color), err=True, color=color)
    raise SystemExit(code)
