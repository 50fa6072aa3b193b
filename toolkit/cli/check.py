"""The check command: posts against a policy or a compiled rule set."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import click

from .app import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, OUTCOME_CHOICES, Failure, _color, _load_ruleset, cli

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
    from ..posts import Record, read_records

    if single is not None:
        yield "<options>", Record(1, 1, single)
        return
    for name in inputs:
        if name == "-":
            stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="strict")
            try:
                yield from (("<stdin>", r) for r in read_records(stream, "<stdin>"))
            except UnicodeDecodeError as exc:
                raise Failure(EXIT_INVALID, f"error[I502]: standard input is not UTF-8 text: {exc.reason}") from None
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
    for w in verdict.warnings:
        hint = f" ({w['help']})" if w.get("help") else ""
        lines.append(f"  {style('warning', fg='yellow')}[{w['code']}]: {w['field']}: {w['message']}{hint}")
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


