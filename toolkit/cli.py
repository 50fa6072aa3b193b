"""The `govpost` command. Thin: it parses options, calls :mod:`toolkit.api`, prints, exits.

Exit codes, the same for every command:

====  ==========================================================
0     success: valid, passing, nothing at the fail level
1     findings: a post at the fail level, a failing example, …
2     invalid input: syntax or semantic errors, unreadable files, bad records
3     internal error (a bug in govpost: please report it)
====  ==========================================================
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .diagnostics import Diagnostic, render_json, render_text, summary_line

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3
OUTCOME_CHOICES = ("permitted", "advisory", "requires_sanction", "prohibited")


class Failure(click.ClickException):
    """A handled failure: its message is printed as is and the command exits with its code."""

    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.exit_code = code

    def show(self, file: Any = None) -> None:
        if self.message:
            click.echo(self.message, err=True)


def _color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def _print_diagnostics(diags: list[Diagnostic], fmt: str) -> None:
    if fmt == "json":
        click.echo(render_json(diags))
        return
    if diags:
        click.echo(render_text(diags, color=_color(sys.stderr)), err=True)
        click.echo(err=True)


def _write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never a half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_ruleset(target: str, fmt: str = "text") -> dict[str, Any]:
    """A rule set from a compiled ``.json`` file or by compiling a ``.policy`` file."""
    from . import api

    if target.endswith(".json"):
        from .rules import RuleSetError

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


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(policies: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check policies for errors: syntax, names, types, citations, regexes, dates, examples."""
    from . import api

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
    from .rules import dumps

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
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write JUnit XML to this file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=0, show_default=True,
              help="Fail when fewer than this percentage of clauses decide an example.")
@click.option("-v", "--verbose", is_flag=True, help="List passing examples too.")
def test(policies: tuple[str, ...], junit: str | None, fmt: str, min_coverage: float, verbose: bool) -> None:
    """Run every worked example of policies and report clause coverage."""
    from .testing import junit_xml, run_examples

    reports = []
    code = EXIT_OK
    for path in policies:
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
    color = _color(sys.stdout)
    ok = click.style("ok", fg="green") if color else "ok"
    fail = click.style("FAIL", fg="red", bold=True) if color else "FAIL"
    click.echo(f"{path}: {len(report.results)} examples")
    for r in report.results:
        if r.passed and not verbose:
            continue
        where = f"{r.source.get('file')}:{r.source.get('line')}"
        click.echo(f"  {ok if r.passed else fail}  {r.clause}: {r.title}  ({where})")
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
# check
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("target", metavar="POLICY|RULES", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--text", "text", help="Check one post with this text (instead of input files).")
@click.option("--platform", type=click.Choice(["x", "facebook", "instagram", "linkedin", "youtube", "whatsapp",
                                               "telegram", "threads", "blog", "other"]))
@click.option("--account", "account", type=click.Choice(["personal", "official", "anonymous"]))
@click.option("--action", type=click.Choice(["post", "reply", "share", "like", "comment", "profile_update"]))
@click.option("--audience", type=click.Choice(["public", "followers", "group", "private"]))
@click.option("--posted-at", help="ISO 8601 date and time with offset, e.g. 2029-04-01T10:00+05:30.")
@click.option("--shared-from", type=click.Choice(["political_party", "government", "media", "individual", "other"]),
              help="For a share: whose content it is.")
@click.option("--shared-text", help="For a share: the words of the shared content.")
@click.option("--bio", help="The account's profile text.")
@click.option("--service", help="The author's service (IAS, IPS, IFoS, …).")
@click.option("--grade", help="The author's grade.")
@click.option("--label", "labels", multiple=True, help="A label of the post (repeatable).")
@click.option("--sanction", "sanctioned", is_flag=True, help="Prior sanction was obtained.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default=None,
              help="Output: a readable report (default for one post on a terminal), JSON, or JSON Lines.")
@click.option("--fail-on", type=click.Choice([*OUTCOME_CHOICES, "never"]), default="prohibited", show_default=True,
              help="Exit 1 when a post's outcome is at least this.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False),
              help="Also write malformed records (line, reason) to this file as JSON Lines.")
def check(target: str, inputs: tuple[str, ...], fmt: str | None, fail_on: str, errors_path: str | None,
          **options: Any) -> None:
    """Check posts against a policy or a compiled rule set.

    Posts come from INPUTS (JSON Lines, or a JSON array; `-` for standard
    input) or, for one post, from --text and the other options. Every
    record is reported: a malformed one with its line number and reason,
    and the others are still checked.

    \b
    Examples:
      govpost check policies/in/ais-social-media.policy --text "Vote BJP!" --platform x
      govpost check output/ais-social-media.rules.json posts.jsonl --format jsonl
    """
    from . import api

    ruleset = _load_ruleset(target)
    checker = api.checker(ruleset)
    single = _single_post(options)
    if single is not None and inputs:
        raise Failure(EXIT_INVALID, "error: give either input files or --text, not both")
    if single is None and not inputs:
        if sys.stdin.isatty():
            raise Failure(EXIT_INVALID, "error: no posts to check: give input files, `-` for standard input, or --text")
        inputs = ("-",)
    fmt = fmt or ("text" if single is not None or sys.stdout.isatty() else "jsonl")
    threshold = OUTCOME_CHOICES.index(fail_on) if fail_on != "never" else len(OUTCOME_CHOICES)
    counts = {o: 0 for o in OUTCOME_CHOICES}
    invalid = 0
    at_fail = 0
    collected: list[dict[str, Any]] = []
    errors_out = open(errors_path, "w", encoding="utf-8") if errors_path else None  # noqa: SIM115
    color = _color(sys.stdout)
    try:
        for name, record in _records(inputs, single):
            if record.error is None:
                verdict, problems = checker.check(record.value)
            else:
                verdict, problems = None, [record.error]
            if verdict is None:
                invalid += 1
                err = {
                    "input": name, "record": record.index, "line": record.line,
                    "errors": [{"code": p.code, "field": p.path, "message": p.message, **({"help": p.help} if p.help else {})}
                               for p in problems],
                }
                if errors_out:
                    errors_out.write(json.dumps(err, ensure_ascii=False) + "\n")
                for p in problems:
                    loc = f"{name}:{record.line}"
                    hint = f" ({p.help})" if p.help else ""
                    click.echo(f"{loc}: error[{p.code}]: record {record.index}: {p.message}{hint}", err=True)
                if fmt == "jsonl":
                    click.echo(json.dumps(err, ensure_ascii=False))
                elif fmt == "json":
                    collected.append(err)
                continue
            counts[verdict.outcome] += 1
            if OUTCOME_CHOICES.index(verdict.outcome) >= threshold:
                at_fail += 1
            out = {"input": name, "record": record.index, "line": record.line, **verdict.to_json()}
            if single is not None:
                out = verdict.to_json()
            if fmt == "jsonl":
                click.echo(json.dumps(out, ensure_ascii=False))
            elif fmt == "json":
                collected.append(out)
            else:
                post = record.value if isinstance(record.value, dict) else {}
                click.echo(_render_verdict(verdict, post, color, name if single is None else None, record.index))
    finally:
        if errors_out:
            errors_out.close()
    if fmt == "json":
        click.echo(json.dumps(collected, ensure_ascii=False, indent=2))
    total = sum(counts.values()) + invalid
    if fmt == "text" and single is None:
        parts = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in counts.items() if n)
        bad = f", {invalid} malformed" if invalid else ""
        click.echo(f"{total} posts: {parts or 'none checked'}{bad}")
    if invalid:
        raise SystemExit(EXIT_INVALID)
    raise SystemExit(EXIT_FINDINGS if at_fail else EXIT_OK)


def _single_post(options: dict[str, Any]) -> dict[str, Any] | None:
    if options.get("text") is None:
        given = [k for k, v in options.items() if v not in (None, (), False)]
        if given:
            raise Failure(EXIT_INVALID, f"error: --{given[0].replace('_', '-')} describes a post given with --text; "
                                        "add --text")
        return None
    post: dict[str, Any] = {"id": "post", "text": options["text"]}
    for key in ("platform", "action", "audience", "posted_at"):
        if options.get(key):
            post[key] = options[key]
    account = {}
    if options.get("account"):
        account["kind"] = options["account"]
    if options.get("bio"):
        account["bio"] = options["bio"]
    if account:
        post["account"] = account
    author = {k: options[k] for k in ("service", "grade") if options.get(k)}
    if author:
        post["author"] = author
    if options.get("shared_from") or options.get("shared_text"):
        shared = {}
        if options.get("shared_from"):
            shared["kind"] = options["shared_from"]
        if options.get("shared_text"):
            shared["text"] = options["shared_text"]
        post["shared_from"] = shared
        post.setdefault("action", "share")
    if options.get("labels"):
        post["labels"] = list(options["labels"])
    if options.get("sanctioned"):
        post["sanction"] = {"obtained": True}
    return post


def _records(inputs: tuple[str, ...], single: dict[str, Any] | None) -> Iterator[tuple[str, Any]]:
    from .posts import Record, read_records

    if single is not None:
        yield "<options>", Record(1, 1, single)
        return
    for name in inputs:
        if name == "-":
            stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="strict")
            yield from (("<stdin>", r) for r in read_records(stream, "<stdin>"))
            continue
        try:
            fh = open(name, encoding="utf-8-sig")  # noqa: SIM115
        except OSError as exc:
            raise Failure(EXIT_INVALID, f"error[I501]: cannot read `{name}`: {exc.strerror or exc}") from None
        with fh:
            try:
                yield from ((name, r) for r in read_records(fh, name))
            except UnicodeDecodeError as exc:
                raise Failure(EXIT_INVALID, f"error[I502]: `{name}` is not UTF-8 text: {exc.reason}") from None


_OUTCOME_STYLE = {
    "permitted": ("PERMITTED", "green"),
    "advisory": ("ADVISORY", "yellow"),
    "requires_sanction": ("REQUIRES PRIOR SANCTION", "magenta"),
    "prohibited": ("PROHIBITED", "red"),
}


def _render_verdict(verdict: Any, post: dict[str, Any], color: bool, name: str | None, index: int) -> str:
    def style(s: str, **kw: Any) -> str:
        return click.style(s, **kw) if color else s

    label, fg = _OUTCOME_STYLE[verdict.outcome]
    if name is None:
        head = "outcome"
    else:
        head = f"{name} #{index}" + (f" (post {verdict.id})" if verdict.id is not None else "")
    lines = [f"{head}: {style(label, fg=fg, bold=True)}"]
    if not verdict.findings:
        lines.append("  no clause applies")
    for f in verdict.findings:
        flabel, ffg = _OUTCOME_STYLE[f["outcome"]]
        decides = " (decides)" if f["clause"] in verdict.deciding else ""
        lines.append(f"  {f['number']} {f['clause']}: {f['title']} — {style(flabel.lower(), fg=ffg)}{decides}")
        if f.get("authority"):
            lines.append(f"      sanction of: {f['authority']['title']}")
        if f["citations"]:
            lines.append(f"      cites: {'; '.join(f['citations'])}")
        for field_name, shown in _evidence_lines(f["evidence"], post, color):
            lines.append(f"      {field_name}: {shown}")
    for e in verdict.excepted:
        lines.append(f"  {e['number']} {e['clause']} does not apply: {e['exception']}")
    return "\n".join(lines)


def _evidence_lines(evidence: list[dict[str, Any]], post: dict[str, Any], color: bool) -> Iterator[tuple[str, str]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for ev in evidence:
        if "start" in ev:
            spans.setdefault(ev["field"], []).append((ev["start"], ev["end"]))
        else:
            extra = f" (period {ev['period']})" if "period" in ev else ""
            value = ev["value"] if isinstance(ev["value"], str) else json.dumps(ev["value"])
            yield ev["field"], f"{value}{extra}"
    for field_name, ranges in spans.items():
        value = _lookup(post, field_name)
        if not isinstance(value, str):
            continue
        yield field_name, _highlight(value, ranges, color)


def _lookup(post: dict[str, Any], where: str) -> Any:
    import re

    cur: Any = post
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
        if part.startswith("["):
            idx = int(part[1:-1])
            cur = cur[idx] if isinstance(cur, list) and idx < len(cur) else None
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def _highlight(text: str, ranges: list[tuple[int, int]], color: bool) -> str:
    merged: list[list[int]] = []
    for s, e in sorted(ranges):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out = []
    pos = 0
    for s, e in merged:
        out.append(text[pos:s])
        word = text[s:e]
        out.append(click.style(word, fg="red", bold=True, underline=True) if color else f"[{word}]")
        pos = e
    out.append(text[pos:])
    shown = "".join(out)
    return shown if len(text) <= 400 else shown[:400] + "…"


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("which", type=click.Choice(["post", "rules"]))
def schema(which: str) -> None:
    """Print the JSON Schema of a post or of a compiled rule set."""
    if which == "post":
        from .postschema import json_schema

        click.echo(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    else:
        from .resources import schemas_dir

        click.echo((schemas_dir() / "rules.schema.json").read_text(encoding="utf-8"), nl=False)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI; an unexpected exception is a bug and exits 3."""
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
