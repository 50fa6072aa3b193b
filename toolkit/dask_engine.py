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
- The client merges the partitions' summaries in input order, so the
  summary equals the one a single pass would give.

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
from collections.abc import Iterable, Iterator, Sequence
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
    """Consecutive chunks of one input, checked by one task."""

    number: int
    chunks: list[Any]
    records: int = 0


@dataclass
class PartitionResult:
    """What a task returns: one value per partition, never one per record."""

    number: int
    path: str
    records: int
    counts: list[int]
    summary: Summary
    errors: list[dict[str, Any]] = field(default_factory=list)


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
    """Check one partition on a worker, write its part file, return its summary (the task of the engine)."""
    from .batch import run_chunk

    checker = _checker(key, rules_text)
    summary = Summary(**summary_options)
    counts = [0] * len(OUTCOMES)
    records = 0
    errors: list[dict[str, Any]] = []
    pieces: list[bytes] = []
    for chunk in partition.chunks:
        result = run_chunk(checker, chunk, summary=True)
        pieces.append(result.output)
        summary.merge(result.summary)
        counts = [a + b for a, b in zip(counts, result.counts, strict=True)]
        records += result.records
        errors.extend(result.errors)
    data = b"".join(pieces)
    path = _join(out_dir, f"part-{partition.number:05d}.{output_format}")
    if output_format == "parquet":
        _write_bytes(path, _parquet_bytes(data))
    else:
        _write_bytes(path, data)
    return PartitionResult(partition.number, path, records, counts, summary, errors)


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
    return "://" in path


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
    from .inputs import format_of, read_chunks

    if not _is_url(name):
        yield from read_chunks(name, input_format, columns=columns)
        return
    import fsspec

    fmt = format_of(name, input_format)
    if fmt == "parquet":
        raise DaskEngineError(f"`{name}`: Parquet inputs are read from a path, not a URL; copy the file locally "
                              "or convert it to JSON Lines")
    with fsspec.open(name, "rb") as fh:
        for chunk in read_chunks("-", fmt, stream=fh, columns=columns):
            chunk.source = name
            yield chunk


def _size(chunk: Any) -> int:
    if isinstance(chunk.data, str):
        return chunk.nonblank or chunk.data.count("\n") or 1
    return len(chunk.data)


def partitions(inputs: Sequence[str], *, input_format: str | None = None, columns: Any = None,
               partition_records: int = PARTITION_RECORDS) -> Iterator[Partition]:
    """The partitions of the inputs, in input order; read lazily, in constant memory."""
    number = 0
    for name in inputs:
        current = Partition(number, [])
        for chunk in _chunks(name, input_format, columns):
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
    top_terms: int = 10,
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
            a folder (created) or an fsspec URL that the workers can write.
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
        top_terms: how many evidence terms per clause the summary lists.
            The other limits are the defaults of :class:`~toolkit.summary.Summary`
            (the chunks' summaries are built with them).

    Returns:
        The :class:`~toolkit.summary.Summary` of every record, merged in input order.

    Raises:
        DaskEngineError: Dask is missing, or a bad option.
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
    rules_text = _rules_text(rules)
    ruleset = loads(rules_text)  # refuses anything that is not a rule set, before a cluster starts
    key = f"{ruleset.get('content_hash')}/{hashlib.sha256(rules_text.encode('utf-8')).hexdigest()}"
    out = os.fspath(out_dir)
    if not _is_url(out):
        Path(out).mkdir(parents=True, exist_ok=True)
    summary_options = {"top_terms": top_terms}

    own_cluster = None
    if client is None:
        if scheduler is not None:
            client = distributed.Client(scheduler)
        else:
            own_cluster = distributed.LocalCluster(
                n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=40,
            )
            client = distributed.Client(own_cluster)
        own_client = client
    else:
        own_client = None
    try:
        return _run(client, distributed, key, rules_text, inputs, out, output_format, input_format, columns,
                    partition_records, errors_path, summary_options)
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


def _run(client: Any, distributed: Any, key: str, rules_text: str, inputs: Iterable[str], out: str,
         output_format: str, input_format: str | None, columns: Any, partition_records: int,
         errors_path: Any, summary_options: dict[str, Any]) -> Summary:
    # The rule set travels once to every worker; tasks refer to it by its future.
    import uuid

    rules_future = client.scatter(rules_text, broadcast=True, hash=False)
    run = uuid.uuid4().hex[:12]
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = 3 * workers  # partitions in flight: the client never holds the whole input
    total = Summary(**summary_options)
    done: dict[int, PartitionResult] = {}
    next_merge = 0
    errors_out = open(errors_path, "w", encoding="utf-8") if errors_path else None  # noqa: SIM115
    pending = distributed.as_completed()

    def collect(result: PartitionResult) -> None:
        nonlocal next_merge
        done[result.number] = result
        while next_merge in done:
            part = done.pop(next_merge)
            total.merge(part.summary)
            if errors_out:
                for err in part.errors:
                    errors_out.write(json.dumps(err, ensure_ascii=False) + "\n")
            next_merge += 1

    try:
        in_flight = 0
        for partition in partitions(list(inputs), input_format=input_format, columns=columns,
                                    partition_records=partition_records):
            future = client.submit(check_partition, key, rules_future, partition, out, output_format,
                                   summary_options, key=f"govpost-check-{run}-{partition.number:05d}")
            pending.add(future)
            in_flight += 1
            while in_flight >= window:
                collect(next(pending).result())
                in_flight -= 1
        for future in pending:
            collect(future.result())
    finally:
        if errors_out:
            errors_out.close()
    return total


def read_parts(out_dir: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every record of a run's part files, in input order (JSON Lines or Parquet parts)."""
    import orjson

    folder = Path(out_dir)
    for path in sorted(folder.glob("part-*.*")):
        if path.suffix == ".jsonl":
            with path.open("rb") as fh:
                for line in fh:
                    yield orjson.loads(line)
        elif path.suffix == ".parquet":
            import pyarrow.parquet as pq

            for value in pq.read_table(path, columns=["json"]).column("json").to_pylist():
                yield orjson.loads(value)


__all__ = ["DaskEngineError", "OUTPUT_FORMATS", "PARQUET_COLUMNS", "PartitionResult", "check_partition",
           "check_with_dask", "loaded_rule_sets", "partitions", "read_parts"]
