"""`govpost serve`: the web application; `govpost review`: the review queue's imports and exports."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

import click

from .app import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, Failure, _print_diagnostics, cli, emit

_DB_HELP = ("The review database: a SQLite file or a postgresql://user@host/db URL. Default: a SQLite file "
            "in $GOVPOST_DATA_DIR, else $XDG_DATA_HOME/govpost, else ~/.local/share/govpost (created on first use).")


class _DefaultToRun(click.Group):
    """A group whose commands are named after it, and which runs `run` when given none."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _needs_web() -> None:
    """A clear error, not a traceback, when the web extra is not installed."""
    import importlib.util

    missing = [m for m in ("starlette", "uvicorn", "sqlalchemy", "alembic", "argon2")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise Failure(EXIT_INVALID, f"error: `govpost serve` needs {', '.join(missing)}: "
                                    "pip install 'govpost[web]'")


def _store(db: str | None) -> Any:
    _needs_web()
    from ..web.store import Store, StoreError

    try:
        return Store(db)
    except StoreError as exc:
        raise Failure(EXIT_INVALID, f"error[W704]: {exc}") from None


def _catalogue(paths: tuple[str, ...]) -> Any:
    from ..web.catalogue import Catalogue, PolicyError, load_policy

    served = []
    for path in paths:
        try:
            served.append(load_policy(path))
        except PolicyError as exc:
            _print_diagnostics(exc.diagnostics, "text")
            raise Failure(EXIT_INVALID, f"{exc}") from None
    try:
        return Catalogue(served)
    except PolicyError as exc:
        raise Failure(EXIT_INVALID, f"error: {exc}") from None


@cli.group(cls=_DefaultToRun)
def serve() -> None:
    """The web application: check a draft, review flagged posts, training.

    \b
    govpost serve POLICY…            run the server (the `run` command)
    govpost serve create-user NAME   add a reviewer or an admin to the review database

    \b
    Examples:
      govpost serve policies/in/ais-social-media.policy
      govpost serve output/ais-social-media.rules.json --port 8080
      govpost serve a.policy b.policy --db postgresql://govpost@localhost/govpost
      govpost serve create-user asha --role admin
    """


@serve.command("run")
@click.argument("policies", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--policy", "more", multiple=True, type=click.Path(dir_okay=False),
              help="A policy or compiled rule set to serve (repeatable; the same as naming it as an argument).")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port to listen on.")
@click.option("--db", help=_DB_HELP)
@click.option("--check-rate", default=240, show_default=True, type=click.IntRange(min=0),
              help="Checks one client address may make in a minute (0: no limit).")
@click.option("--max-upload", default=20, show_default=True, type=click.IntRange(min=1),
              help="The largest upload of results, in MB.")
@click.option("--secure-cookies", is_flag=True,
              help="Mark cookies Secure even over plain HTTP (when a TLS proxy stands in front).")
def run(policies: tuple[str, ...], more: tuple[str, ...], host: str, port: int, db: str | None, check_rate: int,
        max_upload: int, secure_cookies: bool) -> None:
    """Serve the check page, the review queue and the training for POLICY… (.policy or .rules.json).

    Prints the address and serves until interrupted (Ctrl-C). Drafts are not
    stored or logged; the review database is opened when the queue is first used.
    """
    import socket

    _needs_web()
    from ..web.app import Settings, create_app

    paths = tuple(policies) + tuple(more)
    if not paths:
        raise Failure(EXIT_INVALID,
                      "error: name a policy to serve, e.g. govpost serve policies/in/ais-social-media.policy")
    catalogue = _catalogue(paths)
    settings = Settings(db_url=db, check_rate=check_rate, max_upload=max_upload * 1024 * 1024,
                        secure_cookies=secure_cookies)
    store = _store(db)
    app = create_app(catalogue, settings, store)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, so that asyncio turns Nagle's algorithm off on each connection (it checks the
    # protocol), or every response would wait for the client's delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog from the moment the address is printed
    except OSError as exc:
        sock.close()
        raise Failure(EXIT_INVALID, f"error: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    names = ", ".join(p.id for p in catalogue)
    click.echo(f"govpost serve: {names}; review database {store.display_url}")
    click.echo(f"Serving on http://{shown}:{bound}/  (Ctrl-C to stop)")
    sys.stdout.flush()
    from ..web.server import run as run_server

    try:
        run_server(app, sock)
    finally:
        sock.close()
        store.close()
    raise SystemExit(EXIT_OK)


@serve.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["reviewer", "admin"]), default="reviewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.option("--db", help=_DB_HELP)
def create_user(username: str, role: str, password_stdin: bool, db: str | None) -> None:
    """Add a user who may sign in to the review queue (asks for the password twice)."""
    _needs_web()
    from ..web.auth import AuthError
    from ..web.auth import create_user as add

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {username}: ")
        if getpass.getpass("Again: ") != password:
            raise Failure(EXIT_INVALID, "error[W706]: the two passwords differ; nothing was changed")
    store = _store(db)
    try:
        add(store, username, password, role)
    except AuthError as exc:
        raise Failure(EXIT_INVALID, f"error[W706]: {exc}") from None
    finally:
        store.close()
    click.echo(f"created {role} `{username}` in {store.display_url}")


@cli.group()
def review() -> None:
    """The review queue's data: import check results, export decisions.

    \b
    Examples:
      govpost check output/ais-social-media.rules.json posts.jsonl --format jsonl -o results.jsonl
      govpost review import results.jsonl --policy policies/in/ais-social-media.policy
      govpost review export --format csv -o decisions.csv
      govpost review export --format examples -o candidates.policy
    """


@review.command("import")
@click.argument("results", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--policy", "policy_path", required=True, type=click.Path(dir_okay=False),
              help="The policy or rule set the results were checked with.")
@click.option("--posts", "posts_paths", multiple=True, type=click.Path(dir_okay=False),
              help="The posts that were checked (default: the inputs the results name, when they can be read).")
@click.option("--all", "include_permitted", is_flag=True, help="Also queue posts that are permitted.")
@click.option("--db", help=_DB_HELP)
def import_cmd(results: str, policy_path: str, posts_paths: tuple[str, ...], include_permitted: bool,
               db: str | None) -> None:
    """Add the results of `govpost check --format jsonl` to the review queue.

    Importing the same results again adds nothing (cases are keyed by post id
    and rule-set hash). Each result whose post is found is checked again: one
    the rule set decides differently was made by another version of the policy
    and is refused. Exit 2 when a record is malformed or refused (the others are
    still imported).
    """
    _needs_web()
    from ..web import review as rv

    catalogue = _catalogue((policy_path,))
    try:
        text = sys.stdin.read() if results == "-" else Path(results).read_text(encoding="utf-8")
    except OSError as exc:
        raise Failure(EXIT_INVALID, f"error[I501]: cannot read `{results}`: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise Failure(EXIT_INVALID, f"error[I502]: `{results}` is not valid UTF-8") from None
    index = rv.PostIndex()
    base = Path(results).parent if results != "-" else Path.cwd()
    try:
        for name in posts_paths:
            same = [n for n in rv.inputs_named(text) if Path(n).name == Path(name).name]
            index.add_file(name, same[0] if same else name)
        if not posts_paths:
            for named in rv.inputs_named(text):
                for candidate in (Path(named), base / named):
                    if candidate.is_file():
                        index.add_file(candidate, named)
                        break
    except OSError as exc:
        raise Failure(EXIT_INVALID, f"error[I501]: cannot read the posts: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise Failure(EXIT_INVALID, "error[I502]: the posts file is not valid UTF-8") from None
    store = _store(db)
    try:
        report = rv.import_results(store, catalogue.default.ruleset, text, index, include_permitted=include_permitted)
    finally:
        store.close()
    for line, reason in report.malformed + report.mismatched:
        click.echo(f"{results}:{line}: {reason}", err=True)
    for line in report.lines():
        click.echo(line)
    raise SystemExit(EXIT_INVALID if report.malformed or report.mismatched else EXIT_OK)


@review.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "examples"]), default="jsonl", show_default=True,
              help="Decisions as CSV or JSON Lines, or the disagreements as candidate worked examples.")
@click.option("-o", "--output", help="Write to this file (default: standard output).")
@click.option("--db", help=_DB_HELP)
def export_cmd(fmt: str, output: str | None, db: str | None) -> None:
    """Export every decision, oldest first (the same database gives the same bytes)."""
    _needs_web()
    from ..web import review as rv

    store = _store(db)
    try:
        text = {"csv": rv.export_csv, "jsonl": rv.export_jsonl, "examples": rv.export_examples}[fmt](store)
    finally:
        store.close()
    emit(text, output)


__all__ = ["EXIT_FINDINGS", "serve", "review"]
