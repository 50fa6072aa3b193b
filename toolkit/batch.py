"""Checking posts in chunks: the unit of work of `govpost check`, its worker processes and the Dask engine.

A chunk is a run of consecutive records of one input. :func:`check_chunk`
checks one and returns the result records and the error records, in the
formats documented in docs/checking-at-scale.md:

- a **result record** is ``{"input", "record", "line"}``, the verdict's
  ``id``, the post's identity (``platform``, ``account``: the account's
  handle, ``posted_at``: each as given, or null), then the rest of the
  verdict (``outcome``, ``deciding``, ``findings``, ``excepted``, and
  ``warnings`` when there are any), and last the post's ``meta`` object,
  unchanged, when it has one;
- an **error record** is ``{"input", "record", "line", "errors"}``, where
  ``errors`` lists the problems (``code``, ``field``, ``message``, and
  ``help`` when there is a hint).

:func:`run_chunk` does the same work for the command line, and encodes the
output as JSON Lines bytes directly: this is the hot path, and it writes
exactly the bytes ``json.dumps(record, ensure_ascii=False)`` would.

This module belongs to the checker side: it never imports the parser, the
model or the command line.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from .evaluate import Checker, Verdict
from .posts import MAX_RECORD_CHARS, Problem, Record, _fast, frame_json_lines, loads, unreadable, validate
from .rules import OUTCOMES

# json.dumps(..., ensure_ascii=False) for a string, without the generic encoder's set-up cost.
_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]
_encoder = json.JSONEncoder(ensure_ascii=False)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    # The C encoder json.dumps builds on every call, built once (without the check for
    # circular references, which our records, trees of dicts and lists, never need).
    _iterencode = _c_make_encoder(None, _encoder.default, _quote, None, ": ", ", ", False, False, True)

    def _dumps(value: Any) -> str:
        return _quote(value) if type(value) is str else "".join(_iterencode(value, 0))
else:  # pragma: no cover - CPython always has it
    _dumps = _encoder.encode

# One framed record: (record number, line number, decoded value, problem or None).
Framed = tuple[int, int, Any, "Problem | None"]


def check_chunk(checker: Checker, lines_or_records: Iterable[Any], first_line_no: int = 1,
                source_name: str = "<stdin>", *, first_record_no: int | None = None,
                final: bool = True) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check one chunk of an input; return ``(results, errors)`` in input order.

    Args:
        checker: a :class:`toolkit.evaluate.Checker` (load it once per process
            and reuse it for every chunk).
        lines_or_records: either lines of JSON Lines text (``str`` or ``bytes``,
            with or without their line break; blank lines are skipped, and an
            object spread over several lines is read whole), or records already
            read by :mod:`toolkit.inputs` (:class:`toolkit.posts.Record`), or
            decoded posts (``dict``), numbered from ``first_record_no`` with
            one line each from ``first_line_no``.
        first_line_no: the line number, in the whole input, of the first line.
        source_name: the name reported in every record's ``input``.
        first_record_no: the record number of the first record in the whole
            input; by default ``first_line_no`` (right when every earlier line
            held one record).
        final: whether the chunk ends the input. Within an input, a chunk
            that is not the last must end with a complete line; an object
            left unfinished at its end is reported as the whole input would
            report it.

    Returns:
        ``results``: one result record per well-formed post; ``errors``: one
        error record per malformed record. ``len(results) + len(errors)`` is
        the number of records in the chunk. The two lists can be merged back
        into input order by ``record``.
    """
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, line, value, problem in frame(lines_or_records, first_line_no, first_record_no, final):
        if problem is None:
            post, problems = validate(value)
            if post is not None:
                verdict = checker.check_post(post)
                results.append(result_record(source_name, index, line, verdict, value))
                continue
        else:
            problems = [problem]
        errors.append(error_record(source_name, index, line, problems))
    return results, errors


def identity(record: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The post's platform, account handle and ``posted_at`` as given (each None when absent)."""
    account = record.get("account")
    return (record.get("platform"), account.get("handle") if type(account) is dict else None,
            record.get("posted_at"))


def result_record(source_name: str, index: int, line: int, verdict: Verdict, record: dict[str, Any]) -> dict[str, Any]:
    """The result record of a checked post (``record`` is the post as given, before defaults)."""
    platform, account, posted_at = identity(record)
    out = {"input": source_name, "record": index, "line": line, "id": verdict.id, "platform": platform,
           "account": account, "posted_at": posted_at}
    body = verdict.to_json()
    del body["id"]
    out.update(body)
    meta = record.get("meta")
    if meta is not None:
        out["meta"] = meta  # the post's own annotations, passed through unchanged
    return out


def error_record(source_name: str, index: int, line: int, problems: list[Problem]) -> dict[str, Any]:
    """The error record of a malformed record."""
    return {
        "input": source_name, "record": index, "line": line,
        "errors": [{"code": p.code, "field": p.path, "message": p.message, **({"help": p.help} if p.help else {})}
                   for p in problems],
    }


# ---------------------------------------------------------------------------
# Framing: lines of JSON Lines text → records
# ---------------------------------------------------------------------------


def frame(items: Iterable[Any], first_line_no: int = 1, first_record_no: int | None = None,
          final: bool = True) -> list[Framed]:
    """Records of a chunk as ``(record, line, value, problem)`` tuples; see :func:`check_chunk`."""
    items = items if isinstance(items, list) else list(items)
    if first_record_no is None:
        first_record_no = first_line_no
    if not items:
        return []
    head = items[0]
    if isinstance(head, Record):
        return [(r.index, r.line, r.value, r.error) for r in items]
    if isinstance(head, tuple):
        return items
    if isinstance(head, dict):
        return [(first_record_no + i, first_line_no + i, v, None) for i, v in enumerate(items)]
    if isinstance(head, bytes):
        items = [b.decode("utf-8") for b in items]
    return frame_lines(items, first_line_no, first_record_no, final)


def split_lines(text: str) -> list[str]:
    """The lines of a text whose line breaks are all ``\\n`` (the last one may lack its break)."""
    lines = text.split("\n")
    last = lines.pop()
    if last:
        lines.append(last)
    return lines


def frame_lines(lines: list[str], first_line_no: int, first_record_no: int, final: bool = True) -> list[Framed]:
    """Records of lines of JSON Lines text, exactly as :func:`toolkit.posts.read_records` reads them.

    Every line is first decoded on its own by orjson; only when a line is
    neither blank nor a whole JSON value does the careful reader take over.
    """
    decode = loads
    failed = orjson.JSONDecodeError
    out: list[Framed] = []
    append = out.append
    index = first_record_no
    lineno = first_line_no
    for line in lines:
        try:
            if len(line) > MAX_RECORD_CHARS:
                raise failed("the line is too long", line[:80], 0)  # the careful reader reports it (R312)
            value = decode(line)
        except failed:
            if line.strip():
                return list(frame_json_lines(lines, first_line_no, first_record_no, final))
            lineno += 1
            continue
        append((index, lineno, value, None))
        index += 1
        lineno += 1
    return out


def _frame_plain(lines: list[str], first_line_no: int, first_record_no: int) -> list[Framed] | None:
    """Records of lines that are each one JSON value (the common chunk), or None for any other chunk.

    Integers beyond 64 bits come back as floats: only a record that fails the
    fast validation (no field of a post is a number) is decoded again exactly.
    """
    decode = orjson.loads
    try:
        return [(first_record_no + i, first_line_no + i, decode(line), None) for i, line in enumerate(lines)]
    except orjson.JSONDecodeError:
        return None


# ---------------------------------------------------------------------------
# The command line's unit of work: a chunk in, encoded output out
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Chunk:
    """A run of consecutive records of one input, as sent to a worker.

    ``data`` is JSON Lines text (``str``, whole lines) or a list of framed
    ``(record, line, value, problem)`` tuples.
    """

    source: str
    data: Any
    first_line: int = 1
    first_record: int = 1
    final: bool = True
    lines: int = 0  # lines of text in data (JSON Lines)
    nonblank: int = 0  # of which not blank: the records, when each is on one line


@dataclass(slots=True, frozen=True)
class FileSlice:
    """The text of a chunk as a byte range of a regular file (UTF-8, no carriage return).

    What :func:`toolkit.inputs.read_chunks` gives with ``by_offset``: the
    process that checks the chunk reads it (a few bytes to send to a worker
    instead of the text).
    """

    path: str
    start: int
    end: int

    def read(self, first_line: int | None = None) -> str:
        """The chunk's text; :class:`toolkit.inputs.InputError` (I502) when it is not UTF-8.

        ``first_line``: the line the slice starts on, for the error's line and column.
        """
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            data = fh.read(self.end - self.start)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            from .inputs import InputError, where_in

            where = f" {where_in(exc, first_line)}" if first_line is not None else ""
            raise InputError("I502", f"`{self.path}` is not UTF-8 text: {exc.reason}{where}") from None


def _is_text(data: Any) -> bool:
    return isinstance(data, (str, FileSlice))


@dataclass(slots=True)
class ChunkResult:
    """What checking a chunk gives the command line."""

    output: bytes  # result and error records, one JSON document a line, in input order
    errors: list[dict[str, Any]]  # the error records
    counts: list[int]  # posts per outcome, in the order of OUTCOMES
    records: int  # records read: results + errors
    summary: Any = None  # a toolkit.summary.Summary of the chunk, when asked for
    results: list[dict[str, Any]] = field(default_factory=list)  # kept only when asked for


class Encoder:
    """Writes result records as ``json.dumps(record, ensure_ascii=False)`` would, from the verdict's parts.

    The parts of a finding that depend only on its clause are encoded once.
    """

    def __init__(self, checker: Checker):
        self._clause: dict[str, str] = {}
        for clause in checker.ruleset["clauses"]:
            static = {
                "clause": clause["id"], "number": clause["number"], "title": clause["title"],
                "topic": clause["topic"], "outcome": clause["outcome"], "authority": clause["authority"],
                "citations": [c["text"] for c in clause["citations"]],
            }
            self._clause[clause["id"]] = _dumps(static)[:-1] + ', "evidence": '
        self._prefix: dict[str, str] = {}
        self._quiet = (f', "outcome": "{checker.default_outcome}", "deciding": [], "findings": [], '
                       '"excepted": []}')

    def prefix(self, source: str) -> str:
        p = self._prefix.get(source)
        if p is None:
            p = self._prefix[source] = '{"input": ' + _quote(source) + ', "record": '
        return p

    def result(self, prefix: str, index: int, line: int, v: Verdict | None, record: dict[str, Any] | None = None,
               ident: Any = None) -> str:
        line_text = self._result(prefix, index, line, v, record, ident)
        meta = record.get("meta") if record is not None else None
        if meta is not None:  # the post's own annotations, last, unchanged
            return line_text[:-1] + ', "meta": ' + _dumps(meta) + "}"
        return line_text

    def _result(self, prefix: str, index: int, line: int, v: Verdict | None, record: dict[str, Any] | None,
                ident: Any) -> str:
        """The line of a result record (``record``: the post as given, for its identity).

        ``v`` None is the verdict :meth:`toolkit.evaluate.Checker.check_post_or_none` leaves out:
        the default outcome, nothing applies, no warnings (then ``ident`` is the post's id).
        """
        if v is not None:
            ident = v.id
        if ident is None:
            id_text = "null"
        elif type(ident) is str:
            id_text = _quote(ident)
        else:
            id_text = _dumps(ident)
        if record is None:
            identity = ', "platform": null, "account": null, "posted_at": null'
        else:
            # A platform is a validated enumeration value, a date and time matched the ISO 8601
            # pattern: neither has a character JSON escapes.
            platform = record.get("platform")
            account = record.get("account")
            handle = account.get("handle") if account else None
            posted_at = record.get("posted_at")
            identity = (', "platform": ' + ("null" if platform is None else '"' + platform + '"')
                        + ', "account": ' + ("null" if handle is None else _quote(handle))
                        + ', "posted_at": ' + ("null" if posted_at is None else '"' + posted_at + '"'))
        if v is None:
            return f'{prefix}{index}, "line": {line}, "id": {id_text}{identity}{self._quiet}'
        if v.findings:
            clause = self._clause
            findings = "[" + ", ".join(
                clause[f["clause"]] + _dumps(f["evidence"]) + "}" for f in v.findings
            ) + "]"
            deciding = _dumps(v.deciding)
        elif not v.excepted and not v.warnings:
            # The common case: nothing applies.
            return (f'{prefix}{index}, "line": {line}, "id": {id_text}{identity}, "outcome": "{v.outcome}", '
                    '"deciding": [], "findings": [], "excepted": []}')
        else:
            findings = deciding = "[]"
        excepted = _dumps(v.excepted) if v.excepted else "[]"
        tail = f', "warnings": {_dumps(v.warnings)}}}' if v.warnings else "}"
        return (f'{prefix}{index}, "line": {line}, "id": {id_text}{identity}, "outcome": "{v.outcome}", '
                f'"deciding": {deciding}, "findings": {findings}, "excepted": {excepted}{tail}')

    def identity(self, record: dict[str, Any]) -> str:
        """``, "platform": …, "account": …, "posted_at": …`` of a post as given (validated)."""
        platform = record.get("platform")
        account = record.get("account")
        handle = account.get("handle") if account else None
        posted_at = record.get("posted_at")
        # A platform is a validated enumeration value, a date and time matched the ISO 8601
        # pattern: neither has a character JSON escapes.
        return (', "platform": ' + ("null" if platform is None else '"' + platform + '"')
                + ', "account": ' + ("null" if handle is None else _quote(handle))
                + ', "posted_at": ' + ("null" if posted_at is None else '"' + posted_at + '"'))


_ENCODERS: dict[int, Encoder] = {}


def encoder_for(checker: Checker) -> Encoder:
    enc = _ENCODERS.get(id(checker))
    if enc is None:
        enc = _ENCODERS[id(checker)] = Encoder(checker)
    return enc


def run_chunk(checker: Checker, chunk: Chunk, *, summary: bool = False, keep_results: bool = False,
              encode: bool = True) -> ChunkResult:
    """Check a chunk for the command line: encoded JSON Lines, error records and counts.

    Gives exactly what :func:`check_chunk` gives, encoded: the output line
    of a record is ``json.dumps(record, ensure_ascii=False)``. With
    ``summary``, also a :class:`toolkit.summary.Summary` of the chunk, which
    the caller merges in input order.
    """
    lines: list[str] | None = None
    data = chunk.data
    if type(data) is FileSlice:
        data = data.read(chunk.first_line)
    if isinstance(data, str):
        lines = split_lines(data)
        # INVARIANT: the fast paths decode with orjson (which refuses lone surrogates) only chunks whose
        # every line is short enough (no line of a chunk is longer than the chunk), so they need not look
        # for what `unreadable` finds.
        short = len(data) <= MAX_RECORD_CHARS
        if short and not summary and not keep_results and encode:
            fast = _run_plain(checker, chunk, lines)
            if fast is not None:
                return fast
        framed = _frame_plain(lines, chunk.first_line, chunk.first_record) if short else None
        if framed is None:
            framed = frame_lines(lines, chunk.first_line, chunk.first_record, chunk.final)
            lines = None
    else:
        framed = data
    enc = encoder_for(checker)
    prefix = enc.prefix(chunk.source)
    name = chunk.source
    rank = {o: i for i, o in enumerate(OUTCOMES)}
    counts = [0] * len(OUTCOMES)
    out: list[str] = []
    errors: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    acc = None
    if summary:
        from .summary import Summary

        acc = Summary()
    check_post = checker.check_post_or_none
    result = enc.result
    default = checker.default_outcome
    default_rank = rank[default]
    for index, line, value, problem in framed:
        if problem is None:
            post = _fast(value)
            if post is not None and lines is None and unreadable(post) is not None:
                post = None  # decoded by the standard library, or read from CSV or Parquet: validate says why
            if post is None:
                if lines is not None:
                    # Decoded without the check for integers beyond 64 bits: decode it exactly.
                    with contextlib.suppress(orjson.JSONDecodeError):
                        value = loads(lines[index - chunk.first_record])
                post, problems = validate(value)
            if post is not None:
                v = check_post(post)
                if v is None:
                    counts[default_rank] += 1
                    if encode:
                        out.append(result(prefix, index, line, None, value, post.get("id")))
                    if acc is None and not keep_results:
                        continue
                    v = Verdict(post.get("id"), default, [], [], [], [])
                else:
                    counts[rank[v.outcome]] += 1
                    if encode:
                        out.append(result(prefix, index, line, v, value))
                if acc is not None or keep_results:
                    rec = result_record(name, index, line, v, value)
                    if acc is not None:
                        acc.add(rec, post)
                    if keep_results:
                        results.append(rec)
                continue
        else:
            problems = [problem]
        err = error_record(name, index, line, problems)
        errors.append(err)
        if acc is not None:
            acc.add_error(err)
        if encode:
            out.append(_dumps(err))
    data = ("\n".join(out) + "\n").encode("utf-8") if out else b""
    return ChunkResult(data, errors, counts, len(framed), acc, results)


def _run_plain(checker: Checker, chunk: Chunk, lines: list[str]) -> ChunkResult | None:
    """:func:`run_chunk` of a chunk whose every line is one JSON value, in one loop; None for any other chunk.

    The command's hot path: each line is decoded, validated, checked and
    encoded in turn. A record the fast validation refuses is decoded again
    exactly (integers beyond 64 bits) and validated fully.
    """
    enc = encoder_for(checker)
    prefix = enc.prefix(chunk.source)
    rank = {o: i for i, o in enumerate(OUTCOMES)}
    counts = [0] * len(OUTCOMES)
    default_rank = rank[checker.default_outcome]
    out: list[str] = []
    append = out.append
    errors: list[dict[str, Any]] = []
    check_post = checker.check_post_or_none
    result = enc.result
    decode = orjson.loads
    fast = _fast
    index = chunk.first_record
    line = chunk.first_line
    try:
        for text in lines:
            value = decode(text)
            post = fast(value)
            if post is not None:
                v = check_post(post)
                if v is None:
                    counts[default_rank] += 1
                    append(result(prefix, index, line, None, value, post.get("id")))
                else:
                    counts[rank[v.outcome]] += 1
                    append(result(prefix, index, line, v, value))
            else:
                with contextlib.suppress(orjson.JSONDecodeError):
                    value = loads(text)
                post, problems = validate(value)
                if post is not None:
                    v = checker.check_post(post)
                    counts[rank[v.outcome]] += 1
                    append(result(prefix, index, line, v, value))
                else:
                    err = error_record(chunk.source, index, line, problems)
                    errors.append(err)
                    append(_dumps(err))
            index += 1
            line += 1
    except orjson.JSONDecodeError:
        return None  # a blank line, or a record that is not one line: the careful framing reads the chunk
    data = ("\n".join(out) + "\n").encode("utf-8") if out else b""
    return ChunkResult(data, errors, counts, len(lines), None, [])


def iter_framed(chunks: Iterable[Chunk]) -> Iterator[Framed]:
    """Every record of a sequence of chunks, framed, in order (for tools that want the decoded posts)."""
    next_record: dict[str, int] = {}
    for chunk in chunks:
        if _is_text(chunk.data):
            text = chunk.data.read(chunk.first_line) if isinstance(chunk.data, FileSlice) else chunk.data
            # Numbered from the records really read before, not from the reader's assumption.
            framed = frame_lines(split_lines(text), chunk.first_line, next_record.get(chunk.source, 1),
                                 chunk.final)
            next_record[chunk.source] = next_record.get(chunk.source, 1) + len(framed)
            yield from framed
        else:
            yield from chunk.data


# ---------------------------------------------------------------------------
# Worker processes: the rule set is loaded once per process
# ---------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def worker_init(ruleset: dict[str, Any], summary: bool = False) -> None:
    """Initializer of a worker process: compile the rule set once.

    A worker forked by :func:`run_ordered` takes the parent's compiled
    checker (the same rule set object) instead, with the caches it has
    warmed: its clause lookups, its folded words.
    """
    inherited = _WORKER.pop("parent", None)
    _WORKER["checker"] = inherited if inherited is not None and inherited.ruleset is ruleset else Checker(ruleset)
    _WORKER["summary"] = summary


def worker_run(chunk: Chunk) -> ChunkResult:
    """Check one chunk in a worker process started with :func:`worker_init`."""
    return run_chunk(_WORKER["checker"], chunk, summary=_WORKER["summary"])


def default_jobs() -> int:
    """All the cores this process may run on."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_ordered(chunks: Iterable[Chunk], checker: Checker, *, jobs: int = 1, summary: bool = False,
                in_flight: int | None = None) -> Iterator[tuple[Chunk, ChunkResult]]:
    """Check chunks, in worker processes when ``jobs`` > 1; yield their results in input order.

    At most ``in_flight`` chunks (default: twice the workers) are read ahead
    of the one being written, so memory stays flat however long the input.
    Workers are started only when the input has more than one chunk; forked
    ones take this process's compiled checker, others load the rule set once
    each.

    Record numbers of JSON Lines chunks are given on the assumption that
    every non-blank line is one record; a chunk with records spread over
    lines makes the numbers of the chunks after it wrong, and those are
    checked again here with the right numbers (which only such inputs pay).
    """
    it = iter(chunks)
    first = next(it, None)
    if first is None:
        return
    second = next(it, None)
    if second is None or jobs <= 1:
        rest: Iterable[Chunk] = [first] if second is None else _chain_chunks(first, second, it)
        yield from _renumbered(rest, checker, summary, None)
        return
    import multiprocessing as mp
    import sys
    from collections import deque

    ctx = mp.get_context("fork" if sys.platform == "linux" else "spawn")
    # Forked workers find the compiled checker in their copy of this module (see worker_init).
    _WORKER["parent"] = checker
    try:
        pool = _pool_class()(jobs, initializer=worker_init, initargs=(checker.ruleset, summary), context=ctx)
    finally:
        _WORKER.pop("parent", None)
    queue: deque[tuple[Chunk, int, Any]] = deque()
    finished = False
    try:
        yield from _renumbered(_chain_chunks(first, second, it), checker, summary,
                               (pool, queue, in_flight or 2 * jobs))
        finished = True
    finally:
        _shut_down(pool, queue, finished)


def _shut_down(pool: Any, queue: Any, finished: bool) -> None:
    """Stop a pool of :func:`run_ordered`, also when the run stopped early.

    ``Pool.terminate`` can hang for ever: when the pool's result thread stops
    while a worker is writing a large result, that worker keeps the queue's
    write lock and terminate waits for it. So the chunks already handed out
    (a few) are let finish, and the pool is closed normally; terminate is
    the last resort, for workers that do not finish.
    """
    if not finished:
        for _chunk, _assumed, pending in queue:
            pending.wait(60)
        if not all(pending.ready() for _c, _a, pending in queue):
            pool.terminate()
            pool.join()
            return
    pool.close()
    pool.join()


_POOL: list[Any] = []


def _pool_class() -> Any:
    """:class:`multiprocessing.pool.Pool`, whose thread that watches the workers sleeps while results come in.

    That thread waits on the workers' ends (a worker that dies), the pool's
    notices and, in the standard pool, the pipe of results as well: it wakes
    and loops for as long as a result is waiting to be read, which cost this
    process more than the reading itself. Here it waits on the first two only,
    as :class:`multiprocessing.pool.ThreadPool` does.
    """
    if not _POOL:
        from multiprocessing.pool import Pool

        class _QuietPool(Pool):
            def _get_sentinels(self) -> list[Any]:
                notifier = getattr(self, "_change_notifier", None)
                if notifier is None:  # a Python whose pool is built otherwise: its own choice
                    return super()._get_sentinels()  # type: ignore[misc]
                return [notifier._reader]

        # The pool's private hook; where it is missing, the standard pool is used as it is.
        _POOL.append(_QuietPool if hasattr(Pool, "_get_sentinels") else Pool)
    return _POOL[0]


def _chain_chunks(first: Chunk, second: Chunk, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield first
    yield second
    yield from rest


def _renumbered(chunks: Iterable[Chunk], checker: Checker, summary: bool,
                parallel: Any) -> Iterator[tuple[Chunk, ChunkResult]]:
    # Per input: the number the next record really has, and the correction
    # known so far to the numbers the reader assumed.
    next_record: dict[str, int] = {}
    correction: dict[str, int] = {}

    def prepare(chunk: Chunk) -> tuple[Chunk, int]:
        assumed = chunk.first_record
        if _is_text(chunk.data):
            chunk.first_record = assumed + correction.get(chunk.source, 0)
        return chunk, assumed

    def settle(chunk: Chunk, assumed: int, result: ChunkResult) -> ChunkResult:
        if _is_text(chunk.data):
            true_first = next_record.get(chunk.source, 1)
            if chunk.first_record != true_first:
                chunk.first_record = true_first
                result = run_chunk(checker, chunk, summary=summary)
            next_record[chunk.source] = true_first + result.records
            correction[chunk.source] = next_record[chunk.source] - (assumed + chunk.nonblank)
        return result

    if parallel is None:
        for chunk in chunks:
            chunk, assumed = prepare(chunk)
            yield chunk, settle(chunk, assumed, run_chunk(checker, chunk, summary=summary))
        return
    pool, queue, limit = parallel
    for chunk in chunks:
        chunk, assumed = prepare(chunk)
        queue.append((chunk, assumed, pool.apply_async(worker_run, (chunk,))))
        while len(queue) >= limit:
            done, was, pending = queue.popleft()
            yield done, settle(done, was, pending.get())
    while queue:
        done, was, pending = queue.popleft()
        yield done, settle(done, was, pending.get())
