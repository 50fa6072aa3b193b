"""`govpost lsp`: the language server, for editors."""

from __future__ import annotations

import logging
import sys

import click

from .app import EXIT_INVALID, Failure, cli


@cli.command()
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default; editors often pass it).")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Write the server's log here instead of to stderr.")
@click.option("-v", "--verbose", count=True, help="Log more: -v requests, -vv every protocol message.")
def lsp(stdio: bool, log_file: str | None, verbose: int) -> None:
    """Run the govpost language server (LSP over stdio) for .policy files.

    Editors start it themselves: diagnostics as you type, hover, go to definition,
    completion, formatting and an outline of sections and clauses. See
    docs/editors.md for VS Code, Neovim, Helix and Emacs.
    """
    try:
        from .. import lsp as language_server  # pygls is imported only here, so `govpost` starts fast
    except ImportError as exc:
        raise Failure(EXIT_INVALID, f"error: the language server needs pygls ({exc.name} is missing): "
                                    "pip install 'govpost[lsp]'") from None
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if verbose < 2:
        logging.getLogger("pygls").setLevel(max(level, logging.WARNING))
    language_server.serve()
