"""Checking posts on a Dask cluster: :func:`check_with_dask`.

The same check as ``govpost check``, with the work spread over the workers
of a Dask cluster (a local one by default)::

    from toolkit.dask_engine import check_with_dask

    summary = check_with_dask("output/ais-social-media.rules.json", ["posts-1.jsonl", "posts-2.jsonl"],
                              "results/", output_format="jsonl", n_workers=4)
    print(summary.to_dict()["outcomes"])

How the work is cut, and what travels:

- The client reads the inputs with :func:`toolkit.inputs.read_chunks` (JSON
  Lines, JSON arrays, CSV, Parquet; ``s3://`` and other URLs through
  fsspec), in constant memory, and groups consecutive chunks of one input
  into **partitions** of about ``partition_records`` records.
- The compiled rule set is sent to every worker **once** (``scatter`` with
  ``broadcast=True``); each worker process builds its checker the first time
  it meets that rule set and keeps it, keyed by the rule set's hash, for
  every later partition.
- One task checks one **whole partition** with :func:`toolkit.batch.run_chunk`
  (the command line's own unit of work, so results are the same bytes),
  writes it to ``out_dir`` as ``part-00000.jsonl`` (or ``.parquet``), and
  returns **one** small value: the partition's :class:`~toolkit.summary.Summary`,
  its counts and its malformed records. No task returns per-record values.
- The task builds its summary from the result records it wrote (with the
  posts, for the accounts' kinds and the kept posts' texts) under the run's
  limits; the client merges the partitions' summaries in input order, so
  the summary equals the one a single pass would give.
- JSON Lines record numbers: the reader assumes one record per non-blank
  line. A task numbers its later chunks from the records it really read;
  the client corrects each partition's first number from the partitions
  before it, and checks again one sent with a wrong number (only inputs with
  records spread over several lines pay), as ``govpost check --jobs`` does.

Part files are numbered in input order: reading ``part-00000.jsonl``,
``part-00001.jsonl``, … in turn gives exactly the lines ``govpost check
--format jsonl`` prints for the same inputs, results and malformed records
alike. Parquet parts hold the same records, one row each (schema in
docs/reports-and-dask.md).

Dask is an optional dependency (``pip install 'govpost[dask]'``), imported
only when :func:`check_with_dask` runs. This module runs on the checker's
side and never imports the policy front end: it takes a compiled rule set.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rules import OUTCOMES, loads
from .summary import Summary

#: The output formats of the part files.
OUTPUT_FORMATS = ("jsonl", "parquet")
#: Records per partition, by default: enough work to make a task's fixed cost small.
PARTITION_RECORDS = 20_000


class DaskEngineError(Exception):
    """The engine cannot run: Dask is not installed, the output folder cannot be written, a bad option."""


@dataclass
class Partition:
    """Consecutive chunks of one input, checked by one task.

    ``first_record`` is the number of its first record. For JSON Lines text
    the reader can only assume one record per non-blank line; the client
    corrects it from the records the partitions before really held (see
    :func:`check_with_dask`), and the task numbers its later chunks itself.
    """

    number: int
    chunks: list[Any]
    records: int = 0  # records, as the reader counts them (non-blank lines of text)
    first_record: int = 1
    assumed_first: int = 1  # the reader's assumption, for JSON Lines text

    @property
    def source(self) -> str:
        return self.chunks[0].source if self.chunks else ""

    @property
    def text(self) -> bool:
        """Whether the chunks are JSON Lines text, whose record numbers the reader assumes."""
        return bool(self.chunks) and isinstance(self.chunks[0].data, str)


@dataclass
class PartitionResult:
    """What a task returns: one value per partition, never one per record."""

    number: int
    path: str
    records: int
    counts: list[int]
    summary: Summary
    errors: list[dict[str, Any]] = field(default_factory=list)
    first_record: int = 1  # the number the task gave its first record


# ---------------------------------------------------------------------------
# On the workers
# ---------------------------------------------------------------------------

# The checkers this worker process has built, by rule-set key: built once, used for every partition.
_CHECKERS: dict[str, Any] = {}


def _checker(key: str, rules_text: str) -> Any:
    checker = _CHECKERS.get(key)
    if checker is None:
        from .evaluate import Checker

        checker = Checker(loads(rules_text))
        _CHECKERS.clear()  # one rule set at a time: a long-lived worker does not accumulate them
        _CHECKERS[key] = checker
    return checker


def loaded_rule_sets() -> list[str]:
    """The keys of the rule sets this process has built a checker for (run it on workers with ``client.run``)."""
    return list(_CHECKERS)


def check_partition(key: str, rules_text: str, partition: Partition, out_dir: str, output_format: str,
                    summary_options: dict[str, Any]) -> PartitionResult:
    """Check one partition on a worker, write its part file, return its summary (the task of the engine).

    The summary is built from the result records as written (what ``govpost
    report`` reads), with the posts for what records do not carry (the
    account's kind, the text of kept posts), under the run's limits.
    """
    import orjson

    from .batch import Chunk, frame_lines, run_chunk, split_lines

    checker = _checker(key, rules_text)
    summary = Summary(**summary_options)
    add = summary.add
    counts = [0] * len(OUTCOMES)
    records = 0
    errors: list[dict[str, Any]] = []
    pieces: list[bytes] = []
    next_record = partition.first_record
    for chunk in partition.chunks:
        if isinstance(chunk.data, str):
            # Numbered from the records really read before: a record spread over lines counts once.
            framed = frame_lines(split_lines(chunk.data), chunk.first_line, next_record, chunk.final)
            chunk = Chunk(chunk.source, framed, chunk.first_line, next_record, chunk.final)
        else:
            framed = chunk.data
        result = run_chunk(checker, chunk)
        pieces.append(result.output)
        lines = result.output.split(b"\n")
        for (_index, _line, value, problem), line in zip(framed, lines, strict=False):
            add(orjson.loads(line), value if problem is None and isinstance(value, dict) else None)
        counts = [a + b for a, b in zip(counts, result.counts, strict=True)]
        records += result.records
        next_record += result.records
        errors.extend(result.errors)
    data = b"".join(pieces)
    path = _join(out_dir, f"part-{partition.number:05d}.{output_format}")
    if output_format == "parquet":
        _write_bytes(path, _parquet_bytes(data))
    else:
        _write_bytes(path, data)
    return PartitionResult(partition.number, path, records, counts, summary, errors, partition.first_record)


# The columns of a Parquet part: where each record is, what it says, and the record itself as JSON.
PARQUET_COLUMNS = ("input", "record", "line", "id", "outcome", "deciding", "clauses", "topics", "errors", "json")


def _parquet_bytes(jsonl: bytes) -> bytes:
    import io

    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: dict[str, list[Any]] = {name: [] for name in PARQUET_COLUMNS}
    for line in jsonl.splitlines():
        rec = orjson.loads(line)
        rows["input"].append(rec.get("input"))
        rows["record"].append(rec.get("record"))
        rows["line"].append(rec.get("line"))
        rows["id"].append(None if rec.get("id") is None else json.dumps(rec["id"], ensure_ascii=False))
        rows["outcome"].append(rec.get("outcome"))
        findings = rec.get("findings") or []
        rows["deciding"].append(rec.get("deciding") or [])
        rows["clauses"].append([f["clause"] for f in findings])
        rows["topics"].append(list(dict.fromkeys(f["topic"] for f in findings)))
        rows["errors"].append([p["code"] for p in rec.get("errors") or []])
        rows["json"].append(line.decode("utf-8"))
    strings = pa.list_(pa.string())
    schema = pa.schema([("input", pa.string()), ("record", pa.int64()), ("line", pa.int64()), ("id", pa.string()),
                        ("outcome", pa.string()), ("deciding", strings), ("clauses", strings), ("topics", strings),
                        ("errors", strings), ("json", pa.string())])
    table = pa.table(rows, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _is_url(path: str) -> bool:
    from .inputs import is_url

    return is_url(path)


def _join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name if _is_url(directory) else str(Path(directory) / name)


def _write_bytes(path: str, data: bytes) -> None:
    if _is_url(path):
        import fsspec

        with fsspec.open(path, "wb") as fh:
            fh.write(data)
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# On the client
# ---------------------------------------------------------------------------


def _chunks(name: str, input_format: str | None, columns: Any) -> Iterator[Any]:
    from .inputs import read_chunks

    yield from read_chunks(name, input_format, columns=columns)  # paths, and URLs through fsspec


def _size(chunk: Any) -> int:
    if isinstance(chunk.data, str):
        return chunk.nonblank
    return len(chunk.data)


def partitions(inputs: Sequence[str], *, input_format: str | None = None, columns: Any = None,
               partition_records: int = PARTITION_RECORDS) -> Iterator[Partition]:
    """The partitions of the inputs, in input order; read lazily, in constant memory."""
    number = 0
    for name in inputs:
        current = Partition(number, [])
        for chunk in _chunks(name, input_format, columns):
            if not current.chunks:
                current.first_record = current.assumed_first = chunk.first_record
            current.chunks.append(chunk)
            current.records += _size(chunk)
            if current.records >= partition_records:
                yield current
                number += 1
                current = Partition(number, [])
        if current.chunks:
            yield current
            number += 1


def _rules_text(rules: Any) -> str:
    if isinstance(rules, dict):
        from .rules import dumps

        return dumps(rules)
    if isinstance(rules, bytes):
        return rules.decode("utf-8")
    text = Path(rules).read_text(encoding="utf-8")
    return text


def check_with_dask(
    rules: dict[str, Any] | str | os.PathLike[str] | bytes,
    inputs: Iterable[str],
    out_dir: str | os.PathLike[str],
    *,
    output_format: str = "jsonl",
    scheduler: str | None = None,
    client: Any = None,
    n_workers: int | None = None,
    input_format: str | None = None,
    columns: Any = None,
    partition_records: int = PARTITION_RECORDS,
    errors_path: str | os.PathLike[str] | None = None,
    on_errors: Callable[[list[dict[str, Any]]], None] | None = None,
    top_posts: int = 20,
    max_errors: int = 100,
    top_terms: int = 10,
    timeout: float | str | None = None,
) -> Summary:
    """Check posts on a Dask cluster; write partitioned results; return the summary.

    Args:
        rules: a compiled rule set: its dict, the path of a ``.rules.json``
            file, or its JSON text as bytes (a ``.policy`` must be compiled
            first: ``govpost compile``).
        inputs: input files (paths on storage every worker and the client
            can read, or fsspec URLs such as ``s3://bucket/posts.jsonl``), in
            the formats ``govpost check`` reads.
        out_dir: where ``part-00000.jsonl`` … (or ``.parquet``) are written:
            a folder (created; part files of an earlier run in it are
            removed) or an fsspec URL that the workers can write.
        output_format: ``jsonl`` (each line as ``govpost check --format
            jsonl`` prints it) or ``parquet``.
        scheduler: the address of a running scheduler (``tcp://host:8786``);
            None starts a local cluster of ``n_workers`` processes.
        client: a ``distributed.Client`` to use instead (it is not closed).
        n_workers: worker processes of the local cluster (default: the cores).
        input_format: the format of every input (default: by its name).
        columns: the column mapping of CSV and Parquet inputs
            (:class:`toolkit.inputs.ColumnMap`).
        partition_records: records per partition (per task).
        errors_path: also write the malformed records here, as ``govpost
            check --errors`` does.
        on_errors: called with the malformed records of each partition, in
            input order, as they are merged (``govpost check`` prints them on
            standard error).
        top_posts, max_errors, top_terms: the limits of the summary
            (:class:`~toolkit.summary.Summary`); every partition's summary
            is built with them, so the merged one is exact.
        timeout: how long to try to reach ``scheduler`` (seconds, or a Dask
            duration such as ``"5s"``; default: Dask's
            ``distributed.comm.timeouts.connect``).

    Returns:
        The :class:`~toolkit.summary.Summary` of every record, merged in input order.

    Raises:
        DaskEngineError: Dask is missing, a bad option, the scheduler cannot
            be reached, or a task failed on a worker.
        toolkit.inputs.InputError: an input cannot be read.
        toolkit.rules.RuleSetError: ``rules`` is not a rule set.
        OSError: ``rules`` or ``out_dir`` cannot be read or written.
    """
    if output_format not in OUTPUT_FORMATS:
        raise DaskEngineError(f"output format `{output_format}` is not one of: {', '.join(OUTPUT_FORMATS)}")
    if partition_records < 1:
        raise DaskEngineError("partitions hold at least one record")
    try:
        import distributed
    except ImportError:
        raise DaskEngineError("the Dask engine needs Dask: pip install 'govpost[dask]'") from None
    summary_options = {"top_posts": top_posts, "max_errors": max_errors, "top_terms": top_terms}
    try:
        Summary(**summary_options)
    except ValueError as exc:
        raise DaskEngineError(str(exc)) from None
    rules_text = _rules_text(rules)
    ruleset = loads(rules_text)  # refuses anything that is not a rule set, before a cluster starts
    key = f"{ruleset.get('content_hash')}/{hashlib.sha256(rules_text.encode('utf-8')).hexdigest()}"
    out = os.fspath(out_dir)
    if not _is_url(out):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("part-*.*"):  # an earlier run's parts would be read as this run's
            if stale.suffix in (".jsonl", ".parquet") and stale.stem[5:].isdigit():
                stale.unlink()

    own_cluster = None
    if client is None:
        if scheduler is not None:
            try:
                client = distributed.Client(scheduler, set_as_default=False,
                                            **({"timeout": timeout} if timeout is not None else {}))
            except (OSError, TimeoutError, ValueError) as exc:
                raise DaskEngineError(f"cannot reach the Dask scheduler at `{scheduler}`: {exc}") from None
        else:
            own_cluster = distributed.LocalCluster(
                n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=40,
            )
            client = distributed.Client(own_cluster, set_as_default=False)
        own_client = client
    else:
        own_client = None
    try:
        return _run(client, distributed, key, rules_text, inputs, out, output_format, input_format, columns,
                    partition_records, errors_path, summary_options, on_errors)
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


class _Numbering:
    """The record numbers of JSON Lines partitions, as :func:`toolkit.batch.run_ordered` keeps them.

    The reader assumes one record per non-blank line. Per input, the client
    knows the number the next record really has once the partitions before
    it are merged, and the correction to the reader's assumption known so
    far, which later partitions get before they are sent. A partition sent
    with a wrong first number (one in flight when a record spread over lines
    was met) is checked again with the right one; only such inputs pay.
    """

    def __init__(self) -> None:
        self.next_record: dict[str, int] = {}
        self.correction: dict[str, int] = {}

    def prepare(self, partition: Partition) -> Partition:
        if partition.text:
            partition.first_record = partition.assumed_first + self.correction.get(partition.source, 0)
        return partition

    def right(self, partition: Partition) -> int:
        """The number the partition's first record really has (once the partitions before it are merged)."""
        return self.next_record.get(partition.source, 1) if partition.text else partition.first_record

    def settle(self, partition: Partition, result: PartitionResult) -> None:
        if partition.text:
            nxt = self.next_record[partition.source] = result.first_record + result.records
            self.correction[partition.source] = nxt - (partition.assumed_first + partition.records)


def _run(client: Any, distributed: Any, key: str, rules_text: str, inputs: Iterable[str], out: str,
         output_format: str, input_format: str | None, columns: Any, partition_records: int,
         errors_path: Any, summary_options: dict[str, Any],
         on_errors: Callable[[list[dict[str, Any]]], None] | None = None) -> Summary:
    # The rule set travels once to every worker; tasks refer to it by its future.
    import uuid

    try:
        rules_future = client.scatter(rules_text, broadcast=True, hash=False)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
    except (OSError, TimeoutError) as exc:
        raise DaskEngineError(f"the Dask cluster cannot be used: {exc}") from None
    run = uuid.uuid4().hex[:12]
    window = 3 * workers  # partitions in flight: the client never holds the whole input
    total = Summary(**summary_options)
    numbering = _Numbering()
    sent: dict[int, Partition] = {}
    done: dict[int, PartitionResult] = {}
    next_merge = 0
    errors_out = open(errors_path, "w", encoding="utf-8") if errors_path else None  # noqa: SIM115
    pending = distributed.as_completed(loop=client.loop)
    reruns = 0

    def submit(partition: Partition, name: str) -> Any:
        return client.submit(check_partition, key, rules_future, partition, out, output_format,
                             summary_options, key=name, pure=False)

    def result_of(future: Any) -> PartitionResult:
        try:
            return future.result()  # type: ignore[no-any-return]
        except (DaskEngineError, MemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a task failed on a worker, or the worker died
            raise DaskEngineError(f"a task failed on the cluster: {type(exc).__name__}: {exc}") from None

    def collect(result: PartitionResult) -> None:
        nonlocal next_merge, reruns
        done[result.number] = result
        while next_merge in done:
            part = done.pop(next_merge)
            partition = sent.pop(next_merge)
            right = numbering.right(partition)
            if part.first_record != right:
                partition.first_record = right
                reruns += 1
                part = result_of(submit(partition, f"govpost-check-{run}-{partition.number:05d}-r{reruns}"))
            numbering.settle(partition, part)
            total.merge(part.summary)
            if errors_out:
                for err in part.errors:
                    errors_out.write(json.dumps(err, ensure_ascii=False) + "\n")
            if on_errors is not None and part.errors:
                on_errors(part.errors)
            next_merge += 1

    try:
        in_flight = 0
        for partition in partitions(list(inputs), input_format=input_format, columns=columns,
                                    partition_records=partition_records):
            sent[partition.number] = numbering.prepare(partition)
            pending.add(submit(partition, f"govpost-check-{run}-{partition.number:05d}"))
            in_flight += 1
            while in_flight >= window:
                collect(result_of(next(pending)))
                in_flight -= 1
        for future in pending:
            collect(result_of(future))
    finally:
        if errors_out:
            errors_out.close()
    return total


def read_parts(out_dir: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every record of a run's part files, in input order (JSON Lines or Parquet parts; a folder or a URL)."""
    import io

    import orjson

    out = os.fspath(out_dir)
    if _is_url(out):
        import fsspec

        fs, root = fsspec.core.url_to_fs(out)
        names = sorted(fs.glob(root.rstrip("/") + "/part-*.*"))

        def read(name: str) -> bytes:
            return fs.cat_file(name)  # type: ignore[no-any-return]
    else:
        names = sorted(str(path) for path in Path(out).glob("part-*.*"))

        def read(name: str) -> bytes:
            return Path(name).read_bytes()
    for name in names:
        if name.endswith(".jsonl"):
            for line in read(name).splitlines():
                yield orjson.loads(line)
        elif name.endswith(".parquet"):
            import pyarrow.parquet as pq

            for value in pq.read_table(io.BytesIO(read(name)), columns=["json"]).column("json").to_pylist():
                yield orjson.loads(value)


__all__ = ["DaskEngineError", "OUTPUT_FORMATS", "PARQUET_COLUMNS", "PartitionResult", "check_partition",
           "check_with_dask", "loaded_rule_sets", "partitions", "read_parts"]
