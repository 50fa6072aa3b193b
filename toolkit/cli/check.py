"""The check command: posts against a policy or a compiled rule set."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import click

from ..batch import default_jobs, error_record, iter_framed, run_ordered
from ..inputs import ColumnMap, InputError, read_chunks
from .app import (
    EXIT_FINDINGS,
    EXIT_INVALID,
    EXIT_OK,
    OUTCOME_CHOICES,
    Failure,
    _color,
    _load_ruleset,
    cannot_write,
    cli,
)

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
              help="Also write malformed records (input, record, line, reasons) to this file as JSON Lines.")
@click.option("--input-format", type=click.Choice(["jsonl", "json", "csv", "parquet"]), default=None,
              help="The format of every input (default: by extension; `.json` and `-` are sniffed).")
@click.option("--csv-map", metavar="FIELD=COLUMN,…",
              help="Columns of CSV and Parquet inputs holding fields whose header is not the field's name, "
                   "e.g. text=body,account.kind=account_type.")
@click.option("--csv-list-separator", default="|", show_default=True, metavar="SEP",
              help="Separator of the values of list fields (labels, links) in one CSV cell.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, metavar="N",
              help="Worker processes (default 0: one per core; 1: check in this process).")
@click.option("--summary", "summary", is_flag=True,
              help="Print the audit summary (outcomes, clauses, topics, accounts, months) instead of one result "
                   "per post; with --output, write the results there too.")
@click.option("--output", "-o", "output_path", type=click.Path(allow_dash=True),
              help="Write the results (JSON Lines) to this file instead of standard output; with --engine dask, "
                   "the folder of part files (created if missing, or an existing one).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Check on this machine, or on a Dask cluster (results written as part files to --output DIR).")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --engine dask: the address of a running scheduler (default: a local cluster of --jobs "
                   "workers).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (there is one only when standard error is a "
                                                   "terminal).")
def check(target: str, inputs: tuple[str, ...], fmt: str | None, fail_on: str, errors_path: str | None,
          input_format: str | None, csv_map: str | None, csv_list_separator: str, jobs: int, summary: bool,
          output_path: str | None, engine: str, scheduler: str | None, quiet: bool, **options: Any) -> None:
    """Check posts against a policy or a compiled rule set.

    Posts come from INPUTS (JSON Lines, a JSON array, CSV or Parquet; `-`
    for standard input) or, for one post, from --text and the other
    options. Inputs are read in constant memory and checked by --jobs
    worker processes; results come out in input order. Every record is
    reported: a malformed one with its line number and reason (on standard
    error, in --errors FILE, and in the results), and the others are still
    checked.

    \b
    Examples:
      govpost check policies/in/ais-social-media.policy --text "Vote BJP!" --platform x
      govpost check output/ais-social-media.rules.json posts.jsonl --format jsonl
      govpost check output/ais-social-media.rules.json big.jsonl -j 4 -o results.jsonl --errors bad.jsonl
      govpost check output/ais-social-media.rules.json posts.csv --csv-map text=body --summary
    """
    from .. import api

    ruleset = _load_ruleset(target)
    checker = api.checker(ruleset)
    single = _single_post(options)
    if single is not None and inputs:
        raise Failure(EXIT_INVALID, "error: give either input files or --text, not both")
    if single is None and not inputs:
        if sys.stdin.isatty():
            raise Failure(EXIT_INVALID, "error: no posts to check: give input files, `-` for standard input, or --text")
        inputs = ("-",)
    threshold = OUTCOME_CHOICES.index(fail_on) if fail_on != "never" else len(OUTCOME_CHOICES)
    if single is not None:
        _check_single(checker, single, fmt or "text", threshold)
    to_file = output_path not in (None, "-")
    if fmt is None:
        fmt = "text" if sys.stdout.isatty() and not to_file and not summary else "jsonl"
    if summary and fmt == "text":
        raise Failure(EXIT_INVALID, "error: --summary prints the summary; give --format jsonl or json with --output "
                                    "for the results too")
    try:
        columns = ColumnMap.parse(csv_map, csv_list_separator)
    except ValueError as exc:
        raise Failure(EXIT_INVALID, f"error: --csv-map: {exc}") from None
    if engine == "dask":
        _check_dask(ruleset, inputs, input_format, columns, jobs, scheduler, output_path, errors_path, summary,
                    threshold)
    if scheduler:
        raise Failure(EXIT_INVALID, "error: --scheduler is an option of --engine dask")
    if to_file and os.path.isdir(output_path or ""):
        raise Failure(EXIT_INVALID, f"error: `{output_path}` is a folder; --output names the file the results go to "
                                    "(a folder of part files is for --engine dask)")
    run = _Run(checker, fmt, threshold, errors_path, output_path if to_file else None, summary, quiet)
    try:
        run.go(inputs, input_format, columns, jobs or default_jobs())
    except BaseException:
        run.close(complete=False)  # the files named by --output and --errors keep what they held
        raise
    run.close(complete=True)
    if summary:
        from ..summary import render_summary_text

        color = _color(sys.stdout)
        click.echo(render_summary_text(run.summary, color=color), color=color)
    if run.invalid:
        raise SystemExit(EXIT_INVALID)
    raise SystemExit(EXIT_FINDINGS if run.at_fail else EXIT_OK)


def _check_dask(ruleset: dict[str, Any], inputs: tuple[str, ...], input_format: str | None, columns: ColumnMap,
                jobs: int, scheduler: str | None, output_path: str | None, errors_path: str | None, summary: bool,
                threshold: int) -> None:
    """The same check on a Dask cluster (toolkit.dask_engine): part files in --output DIR, then the summary."""
    from ..dask_engine import DaskEngineError, check_with_dask
    from ..summary import render_summary_text

    if not output_path or output_path == "-":
        raise Failure(EXIT_INVALID, "error: --engine dask writes part files: give the folder with --output DIR")
    if "-" in inputs:
        raise Failure(EXIT_INVALID, "error: --engine dask reads files that every worker can read, not standard input")
    try:
        result = check_with_dask(ruleset, inputs, output_path, scheduler=scheduler, n_workers=jobs or None,
                                 input_format=input_format, columns=columns, errors_path=errors_path,
                                 on_errors=_print_errors)
    except DaskEngineError as exc:
        raise Failure(EXIT_INVALID, f"error: {exc}") from None
    except InputError as exc:
        raise Failure(EXIT_INVALID, f"error[{exc.code}]: {exc}") from None
    except OSError as exc:  # the part files cannot be written (a full disk, a folder that is not one)
        raise Failure(EXIT_INVALID, cannot_write(getattr(exc, "filename", None) or output_path, exc)) from None
    if summary:
        color = _color(sys.stdout)
        click.echo(render_summary_text(result, color=color), color=color)
    if result.error_records:
        raise SystemExit(EXIT_INVALID)
    raise SystemExit(EXIT_FINDINGS if sum(result.outcomes[threshold:]) else EXIT_OK)


def _check_single(checker: Any, post: dict[str, Any], fmt: str, threshold: int) -> None:
    """One post from --text and the options: its verdict, or why it is malformed."""
    verdict, problems = checker.check(post)
    if verdict is None:
        for p in problems:
            hint = f" ({p.help})" if p.help else ""
            click.echo(f"<options>:1: error[{p.code}]: record 1: {p.message}{hint}", err=True)
        err = error_record("<options>", 1, 1, problems)
        if fmt == "jsonl":
            click.echo(json.dumps(err, ensure_ascii=False))
        elif fmt == "json":
            click.echo(json.dumps([err], ensure_ascii=False, indent=2))
        raise SystemExit(EXIT_INVALID)
    out = verdict.to_json()
    if fmt == "jsonl":
        click.echo(json.dumps(out, ensure_ascii=False))
    elif fmt == "json":
        click.echo(json.dumps([out], ensure_ascii=False, indent=2))
    else:
        color = _color(sys.stdout)
        click.echo(_render_verdict(verdict, post, color, None, 1), color=color)
    at_fail = OUTCOME_CHOICES.index(verdict.outcome) >= threshold
    raise SystemExit(EXIT_FINDINGS if at_fail else EXIT_OK)


class _Run:
    """One check of input files: reading, checking in order, writing results, errors, counts and progress."""

    def __init__(self, checker: Any, fmt: str, threshold: int, errors_path: str | None, output_path: str | None,
                 summary: bool, quiet: bool):
        self.checker = checker
        self.fmt = fmt
        self.threshold = threshold
        self.counts = [0] * len(OUTCOME_CHOICES)
        self.invalid = 0
        self.records = 0
        self.collected: list[Any] = []
        self.want_summary = summary
        self.summary: Any = None
        self.errors_out = _open_out(errors_path) if errors_path else None
        self.results_out = _open_out(output_path) if output_path else None
        # Results on standard output unless they go to --output or the summary is printed there.
        self.stdout = None if summary or output_path else sys.stdout.buffer
        from ..terminal import ProgressLine

        self.progress = ProgressLine(enabled=not quiet and _is_terminal(sys.stderr), color=_color(sys.stderr))
        self.color = _color(sys.stdout)

    @property
    def at_fail(self) -> int:
        return sum(self.counts[self.threshold:])

    def close(self, complete: bool) -> None:
        """Put the output files in place when the run is complete; otherwise leave the earlier ones as they were."""
        self.progress.finish()
        for fh in (self.errors_out, self.results_out):
            if fh is None:
                continue
            if not complete:
                fh.abort()
                continue
            try:
                fh.commit()
            except OSError as exc:
                for other in (self.errors_out, self.results_out):
                    if other is not None:
                        other.abort()
                raise Failure(EXIT_INVALID, cannot_write(fh.path, exc)) from None

    def _write(self, out: Any, data: bytes) -> None:
        try:
            out.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise Failure(EXIT_INVALID, cannot_write(getattr(out, "path", "standard output"), exc)) from None

    def go(self, inputs: tuple[str, ...], input_format: str | None, columns: ColumnMap, jobs: int) -> None:
        if self.fmt == "text":
            self._text(inputs, input_format, columns)
        else:
            # Files of JSON Lines by byte offsets: each worker reads its own chunks.
            chunks = self._chunks(inputs, input_format, columns, by_offset=True)
            try:
                for _chunk, result in run_ordered(chunks, self.checker, jobs=jobs, summary=self.want_summary):
                    self._take(result)
            except InputError as exc:  # a chunk read by offsets that is not UTF-8
                raise Failure(EXIT_INVALID, f"error[{exc.code}]: {exc}") from None
            if self.fmt == "json" and self.stdout is not None:
                self.stdout.write((json.dumps(self.collected, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
                self.stdout.flush()
        if self.want_summary and self.summary is None:
            from ..summary import Summary

            self.summary = Summary()

    def _chunks(self, inputs: tuple[str, ...], input_format: str | None, columns: ColumnMap,
                by_offset: bool = False) -> Iterator[Any]:
        stdin = None
        for name in inputs:
            if name == "-":
                stdin = stdin or sys.stdin.buffer
            try:
                yield from read_chunks(name, input_format, stream=stdin, columns=columns, note=self._note,
                                       by_offset=by_offset)
            except InputError as exc:
                raise Failure(EXIT_INVALID, f"error[{exc.code}]: {exc}") from None

    def _note(self, text: str) -> None:
        self.progress.clear()
        click.echo(f"note: {text}", err=True)

    def _take(self, result: Any) -> None:
        for i, n in enumerate(result.counts):
            self.counts[i] += n
        self.records += result.records
        if result.errors:
            self._errors(result.errors)
        if result.summary is not None:
            self.summary = result.summary if self.summary is None else self.summary.merge(result.summary)
        data = result.output
        if data:
            if self.results_out is not None:
                self._write(self.results_out, data)
            if self.stdout is not None:
                if self.fmt == "jsonl":
                    self.progress.clear()
                    self._write(self.stdout, data)
                    self.stdout.flush()
                else:
                    self.collected.extend(json.loads(line) for line in data.splitlines())
        self.progress.update(self.records)

    def _errors(self, errors: list[dict[str, Any]]) -> None:
        self.invalid += len(errors)
        self.progress.clear()
        for err in errors:
            if self.errors_out is not None:
                self._write(self.errors_out, json.dumps(err, ensure_ascii=False).encode("utf-8") + b"\n")
        _print_errors(errors)

    def _text(self, inputs: tuple[str, ...], input_format: str | None, columns: ColumnMap) -> None:
        """A readable report per post: checked in this process, as it needs each post and verdict."""
        for name, index, line, value, problem in self._framed(inputs, input_format, columns):
            verdict, problems = (None, [problem]) if problem is not None else self.checker.check(value)
            self.records += 1
            if verdict is None:
                self._errors([error_record(name, index, line, problems)])
                continue
            self.counts[OUTCOME_CHOICES.index(verdict.outcome)] += 1
            post = value if isinstance(value, dict) else {}
            self.progress.clear()
            if self.results_out is not None:  # --format text with --output: the report goes to the file
                self.results_out.write((_render_verdict(verdict, post, False, name, index) + "\n").encode("utf-8"))
            else:
                click.echo(_render_verdict(verdict, post, self.color, name, index), color=self.color)
            self.progress.update(self.records)
        total = sum(self.counts) + self.invalid
        parts = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in zip(OUTCOME_CHOICES, self.counts, strict=True) if n)
        bad = f", {self.invalid} malformed" if self.invalid else ""
        line = f"{total} posts: {parts or 'none checked'}{bad}"
        if self.results_out is not None:
            self.results_out.write((line + "\n").encode("utf-8"))
        else:
            click.echo(line)

    def _framed(self, inputs: tuple[str, ...], input_format: str | None,
                columns: ColumnMap) -> Iterator[tuple[str, int, int, Any, Any]]:
        for chunk in self._chunks(inputs, input_format, columns):
            for index, line, value, problem in iter_framed([chunk]):
                yield chunk.source, index, line, value, problem


def _print_errors(errors: list[dict[str, Any]]) -> None:
    """Malformed records on standard error, one line per problem: ``posts.jsonl:10: error[R301]: record 10: …``."""
    for err in errors:
        for p in err["errors"]:
            hint = f" ({p['help']})" if p.get("help") else ""
            click.echo(f"{err['input']}:{err['line']}: error[{p['code']}]: record {err['record']}: "
                       f"{p['message']}{hint}", err=True)


def _open_out(path: str) -> Any:
    """The file named by --output or --errors, written beside it and put in place when the run is complete."""
    from pathlib import Path

    from ..atomic import open_stream

    try:
        return open_stream(Path(path))
    except OSError as exc:
        raise Failure(EXIT_INVALID, cannot_write(path, exc)) from None


def _is_terminal(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


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


_OUTCOME_STYLE = {
    "permitted": ("PERMITTED", "green"),
    "advisory": ("ADVISORY", "yellow"),
    "requires_sanction": ("REQUIRES PRIOR SANCTION", "magenta"),
    "prohibited": ("PROHIBITED", "red"),
}


def _render_verdict(verdict: Any, post: dict[str, Any], color: bool, name: str | None, index: int) -> str:
    from ..terminal import paint

    def style(s: str, fg: str, bold: bool = False) -> str:
        return paint(s, f"bold {fg}" if bold else fg, color)

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
        lines.append(f"  {f['number']} {f['clause']}: {f['title']} — {style(flabel.lower(), ffg)}{decides}")
        if f.get("authority"):
            lines.append(f"      sanction of: {f['authority']['title']}")
        if f["citations"]:
            lines.append(f"      cites: {'; '.join(f['citations'])}")
        for field_name, shown in _evidence_lines(f["evidence"], post, color):
            lines.append(f"      {field_name}: {shown}")
    for e in verdict.excepted:
        lines.append(f"  {e['number']} {e['clause']} does not apply: {e['exception']}")
    for w in verdict.warnings:
        hint = f" ({w['help']})" if w.get("help") else ""
        lines.append(f"  {style('warning', 'yellow')}[{w['code']}]: {w['field']}: {w['message']}{hint}")
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
    cur: Any = post
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
        if part.startswith("["):
            idx = int(part[1:-1])
            cur = cur[idx] if isinstance(cur, list) and idx < len(cur) else None
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def _highlight(text: str, ranges: list[tuple[int, int]], color: bool) -> str:
    from ..terminal import paint

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
        out.append(paint(word, "bold underline red") if color else f"[{word}]")
        pos = e
    out.append(text[pos:])
    shown = "".join(out)
    return shown if len(text) <= 400 else shown[:400] + "…"


