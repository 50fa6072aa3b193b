"""Reading inputs of posts in constant memory: JSON Lines, JSON arrays, CSV and Parquet.

Every reader yields :class:`toolkit.batch.Chunk` values: runs of consecutive
records of one input, small enough to hand to a worker process, so that
memory stays flat however large the input. Every record keeps the name of
its input and its record and line numbers, for its result or its error.

- **JSON Lines** (``.jsonl``, ``.ndjson``): read in blocks; chunks hold whole
  lines of text, decoded in the worker. Chunks are cut only between two lines
  that are each a whole JSON value, so that an object spread over several
  lines is never split.
- **JSON** (``.json``, standard input, any other name): a file whose first
  character is ``[`` is an array, read element by element with the standard
  library's decoder (which says where each element starts, for its line
  number); otherwise it is JSON Lines.
- **CSV** (``.csv``, ``.tsv``): one post per row; columns are mapped to
  fields by their header (see :class:`ColumnMap` and docs/checking-at-scale.md).
- **Parquet** (``.parquet``, ``.pq``): read batch by batch through pyarrow;
  nested columns (structs, lists) or flat columns named like ``account.kind``.

An input is a path, ``-`` (standard input), or a URL that fsspec opens
(``s3://bucket/posts.jsonl``, ``file:///…``, ``memory://…``: install fsspec
and the package of the storage); a caller that opens its own file passes it
as ``file=`` and the name to report.

This module belongs to the checker side: it never imports the parser, the
model or the command line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

import orjson

from .batch import Chunk
from .posts import MAX_RECORD_CHARS, Problem, too_large
from .postschema import FIELDS, GROUPS, LIST_FIELDS

FORMATS = ("jsonl", "json", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv",
               ".parquet": "parquet", ".pq": "parquet"}

#: Bytes of text per JSON Lines chunk, and records per chunk for the other formats.
CHUNK_BYTES = 1 << 18
CHUNK_RECORDS = 1000
_BLOCK = 1 << 20


class InputError(Exception):
    """An input that cannot be read at all (I5xx): the run stops with exit code 2."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:  # raised in a worker process, sent back whole
        return (InputError, (self.code, str(self)))


def format_of(name: str, override: str | None = None) -> str:
    """The format of an input: the override, else its extension; ``json`` (sniffed) otherwise."""
    if override:
        return override
    lower = name.lower()
    for ext, fmt in _EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    return "json"


#: A URL of a file system fsspec knows (``s3://``, ``gs://``, ``file://``, ``memory://`` …).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(name: str) -> bool:
    """Whether an input's name is a URL (read through fsspec) rather than a path."""
    return bool(_URL.match(name))


def read_chunks(name: str, fmt: str | None = None, *, stream: BinaryIO | None = None, file: BinaryIO | None = None,
                columns: ColumnMap | None = None, chunk_bytes: int = CHUNK_BYTES,
                chunk_records: int = CHUNK_RECORDS, note: Callable[[str], None] | None = None,
                by_offset: bool = False) -> Iterator[Chunk]:
    """The chunks of one input.

    Args:
        name: the path, a URL (``s3://bucket/posts.jsonl``: read through
            fsspec, with the package of that storage installed), or ``-``
            for ``stream`` (standard input). It is the name every record
            reports (``<stdin>`` for ``-``), and decides the format.
        fmt: one of :data:`FORMATS`, or None to decide by the name.
        stream: the binary stream to read for ``-`` (default: standard
            input); ignored for any other name.
        file: a binary file object to read instead of opening ``name``,
            which is then only the name reported: for storage the caller
            opens itself. It is not closed. Parquet needs it seekable.
        columns: the column mapping of CSV and Parquet inputs.
        note: called with a note for the user (columns of a CSV or Parquet
            input that hold no field).
        by_offset: for a regular file of JSON Lines (larger than one chunk,
            without carriage returns), give chunks whose ``data`` is a
            :class:`toolkit.batch.FileSlice` (the path and byte offsets of the
            chunk's text) rather than the text: a worker process reads and
            decodes its own chunk, and this process only finds where chunks
            end. A chunk that is not UTF-8 raises :class:`InputError` (I502)
            where it is checked.
    Raises:
        InputError: the input cannot be opened, is not UTF-8, or is not
            a CSV or Parquet file at all.
    """
    source = "<stdin>" if name == "-" else name
    fmt = format_of("" if name == "-" else name, fmt)
    columns = columns or ColumnMap()
    note = note or (lambda _text: None)
    given = file
    if given is None and name == "-":
        given = stream if stream is not None else _stdin()
    if fmt == "parquet":
        if name == "-" and file is None:
            raise InputError("I501", "Parquet cannot be read from standard input: give the file's path")
        raw_pq = given if given is not None else (_open(name) if is_url(name) else None)
        try:
            yield from _parquet_chunks(source, raw_pq if raw_pq is not None else name, columns, chunk_records, note)
        finally:
            if raw_pq is not None and raw_pq is not given:
                raw_pq.close()
        return
    if by_offset and given is None and fmt in ("jsonl", "json") and not is_url(name):
        sliced = _offset_chunks(name, source, fmt, chunk_bytes)
        if sliced is not None:
            yield from sliced
            return
    raw = given if given is not None else _open(name)
    try:
        blocks = _text_blocks(raw, source)
        if fmt == "csv":
            yield from _csv_chunks(blocks, source, columns, chunk_records, name.lower().endswith(".tsv"), note)
            return
        first = next(blocks, "")
        while not first.strip():  # the form is decided by the first character that is not blank
            more = next(blocks, None)
            if more is None:
                break
            first += more
        rest = _prepend(first, blocks)
        if fmt == "json" and first.lstrip().startswith("["):
            yield from _array_chunks(rest, source, chunk_records)
        else:
            yield from _jsonl_chunks(rest, source, chunk_bytes)
    finally:
        if raw is not given:
            raw.close()


def _stdin() -> BinaryIO:
    import sys

    return sys.stdin.buffer


def _open(name: str) -> BinaryIO:
    if is_url(name):
        return _open_url(name)
    try:
        return open(name, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError("I501", f"cannot read `{name}`: {exc.strerror or exc}") from None


def _open_url(name: str) -> BinaryIO:
    """A URL's file through fsspec; every failure to open it is an :class:`InputError`."""
    try:
        import fsspec
    except ImportError:
        raise InputError("I501", f"cannot read `{name}`: reading URLs needs fsspec (pip install fsspec, and the "
                                 "package of the storage, such as s3fs or gcsfs)") from None
    try:
        return fsspec.open(name, "rb").open()  # type: ignore[no-any-return]
    except FileNotFoundError:
        raise InputError("I501", f"cannot read `{name}`: No such file or directory") from None
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its package is not installed
        raise InputError("I501", f"cannot read `{name}`: {exc}") from None
    except OSError as exc:
        raise InputError("I501", f"cannot read `{name}`: {exc.strerror or exc}") from None


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _text_blocks(raw: IO[bytes], source: str) -> Iterator[str]:
    """UTF-8 text in blocks, without a byte order mark, with every line break turned into ``\\n``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    carriage = False
    lines = 0  # line breaks in the blocks decoded so far
    while True:
        data = raw.read(_BLOCK)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            what = "standard input is" if source == "<stdin>" else f"`{source}` is"
            raise InputError("I502", f"{what} not UTF-8 text: {exc.reason} {where_in(exc, lines + 1)}") from None
        lines += data.count(b"\n")
        if carriage and text.startswith("\n"):
            text = text[1:]
        if text:
            carriage = text.endswith("\r")
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            yield text
        if not data:
            return


def where_in(exc: UnicodeDecodeError, first_line: int) -> str:
    """``at line L, column C (byte 0xff)`` for the first byte that is not UTF-8 (the column in bytes)."""
    data = bytes(exc.object)
    line = first_line + data.count(b"\n", 0, exc.start)
    start = data.rfind(b"\n", 0, exc.start) + 1
    column = f", column {exc.start - start + 1}" if start or first_line == 1 else ""
    return f"at line {line}{column} (byte 0x{data[exc.start]:02x})"


# ---------------------------------------------------------------------------
# JSON Lines
# ---------------------------------------------------------------------------

_BLANK_AFTER_NEWLINE = re.compile(r"\n[^\S\n]*(?=\n)")
_BLANK_FIRST = re.compile(r"[^\S\n]*\n")


def blank_lines(text: str) -> int:
    """How many lines of ``text`` ending in a newline hold nothing but spaces.

    The same count as ``len(re.findall(r"^[^\\S\\n]*\\n", text, re.MULTILINE))``, at a
    tenth of its cost: a multi-line ``^`` is tried at every position of the text.
    """
    return len(_BLANK_AFTER_NEWLINE.findall(text)) + (_BLANK_FIRST.match(text) is not None)


def _whole(line: str) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _cut(buf: str, stop: int) -> int:
    """Where to end a chunk in ``buf[:stop]`` (just after a ``\\n``), or 0 for nowhere.

    The line before the cut and the line after it must each be a whole JSON
    value, and the line after must start with ``{``: then no record spread
    over several lines can straddle the cut (nothing can follow a whole
    value but ``,``, ``}`` or ``]``), and reading either side alone gives
    exactly what reading the input whole gives.
    """
    end = buf.rfind("\n", 0, stop)  # the line after the cut must be complete: it ends here
    for _ in range(64):
        if end <= 0:
            return 0
        cut = buf.rfind("\n", 0, end) + 1  # start of the line after the cut
        if cut <= 0:
            return 0
        after = buf[cut:end]
        before = buf[buf.rfind("\n", 0, cut - 1) + 1:cut - 1]
        if after.lstrip().startswith("{") and _whole(after) and _whole(before):
            return cut
        end = cut - 1
    return 0


def _jsonl_chunks(blocks: Iterator[str], source: str, chunk_bytes: int) -> Iterator[Chunk]:
    line = record = 1
    buf = ""
    for text in blocks:
        buf += text
        while len(buf) >= chunk_bytes:
            nl = buf.find("\n", chunk_bytes)
            cut = _cut(buf, nl + 1 if nl >= 0 else len(buf)) or _cut(buf, len(buf))
            if cut == 0:
                break  # no safe place yet: read on
            body, buf = buf[:cut], buf[cut:]
            lines = body.count("\n")
            nonblank = lines - blank_lines(body)
            yield Chunk(source, body, line, record, False, lines, nonblank)
            line += lines
            record += nonblank
    tail_blank = not buf[buf.rfind("\n") + 1:].strip()
    lines = buf.count("\n") + (0 if tail_blank else 1)
    nonblank = lines - blank_lines(buf)
    yield Chunk(source, buf, line, record, True, lines, nonblank)


# ---------------------------------------------------------------------------
# JSON Lines of a regular file, by byte offsets
# ---------------------------------------------------------------------------

_BLANK_BYTES_AFTER_NEWLINE = re.compile(rb"\n[^\S\n]*(?=\n)")
_BLANK_BYTES_FIRST = re.compile(rb"[^\S\n]*\n")
_BOM = codecs.BOM_UTF8


def _offset_chunks(name: str, source: str, fmt: str, chunk_bytes: int) -> Iterator[Chunk] | None:
    """The chunks of a regular file of JSON Lines as byte ranges, or None when the text path must read it.

    Only a file larger than one chunk and without a carriage return is read
    this way (any other is read as text, as before): then the text of a byte
    range is exactly the text the block reader gives for it. Chunks are cut
    by the rule of :func:`_cut`, on the bytes; the process that checks a
    chunk decodes it, and a chunk that is not UTF-8 stops the run with the
    block reader's error (I502), raised where that chunk's results would be.
    """
    import mmap
    import os
    import stat

    from .batch import FileSlice

    try:
        fh = open(name, "rb")  # noqa: SIM115
    except OSError:
        return None  # the text path reports it
    mm = None
    try:
        st = os.fstat(fh.fileno())
        size = st.st_size
        if not stat.S_ISREG(st.st_mode) or size <= chunk_bytes:
            return None
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        for lo in range(0, size, _SCAN_BYTES):
            found = mm.find(b"\r", lo, lo + _SCAN_BYTES)
            _release(mm, lo, lo + _SCAN_BYTES)
            if found >= 0:
                return None
        start = 3 if mm[:3] == _BOM else 0
        if fmt == "json":
            # The form is decided by the first character that is not blank.
            pos = start
            while pos < size and mm[pos] in b" \t\n\x0b\x0c":
                pos += 1
            if pos >= size or mm[pos] >= 0x80 or mm[pos] in b"[\x1c\x1d\x1e\x1f":
                return None
        cuts = _offset_cuts(mm, fh, name, source, start, size, chunk_bytes, FileSlice)
        mm = fh = None  # the generator closes them
        return cuts
    finally:
        if mm is not None:
            mm.close()
        if fh is not None:
            fh.close()


_SCAN_BYTES = 16 << 20


def _release(mm: Any, lo: int, hi: int) -> None:
    """Let the pages of ``mm[lo:hi]`` that are read go from this process's resident memory.

    A mapped file's pages count as the process's own once touched; reading a
    large file through the mapping would make the command's memory grow with
    its input. They stay in the page cache, and a later read maps them again.
    """
    import mmap

    advice = getattr(mmap, "MADV_DONTNEED", None)
    if advice is None:
        return
    start = lo - lo % mmap.PAGESIZE
    end = min(hi, len(mm))
    end -= end % mmap.PAGESIZE
    if end > start:
        mm.madvise(advice, start, end - start)


def _cut_bytes(mm: Any, lo: int, stop: int) -> int:
    """:func:`_cut` on the bytes of ``mm[lo:stop]``: an offset just after a ``\\n``, or 0 for nowhere."""
    end = mm.rfind(b"\n", lo, stop)
    for _ in range(64):
        if end <= lo:
            return 0
        cut = mm.rfind(b"\n", lo, end) + 1
        if cut <= lo:
            return 0
        after = mm[cut:end]
        prev = mm.rfind(b"\n", lo, cut - 1)
        before = mm[(prev + 1 if prev >= 0 else lo):cut - 1]
        if after.lstrip().startswith(b"{") and _whole_bytes(after) and _whole_bytes(before):
            return cut
        end = cut - 1
    return 0


def _whole_bytes(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _blank_bytes(data: bytes) -> int:
    """:func:`blank_lines` of ASCII blank lines (a line of other white space counts as a record: the
    numbering is then corrected by :func:`toolkit.batch.run_ordered`)."""
    return len(_BLANK_BYTES_AFTER_NEWLINE.findall(data)) + (_BLANK_BYTES_FIRST.match(data) is not None)


def _offset_cuts(mm: Any, fh: Any, name: str, source: str, pos: int, size: int, chunk_bytes: int,
                 make: Any) -> Iterator[Chunk]:
    try:
        yield from _offset_cut(mm, name, source, pos, size, chunk_bytes, make)
    finally:
        mm.close()
        fh.close()


def _offset_cut(mm: Any, name: str, source: str, pos: int, size: int, chunk_bytes: int,
                make: Any) -> Iterator[Chunk]:
    line = record = 1
    while size - pos >= chunk_bytes:
        cut = 0
        target = pos + chunk_bytes
        while not cut and target < size:
            nl = mm.find(b"\n", target)
            stop = nl + 1 if nl >= 0 else size
            cut = _cut_bytes(mm, pos, stop)
            target = stop + chunk_bytes
        if not cut:
            break  # no safe place in the rest: it is the last chunk
        body = mm[pos:cut]
        lines = body.count(b"\n")
        nonblank = lines - _blank_bytes(body)
        del body
        _release(mm, pos, cut)
        yield Chunk(source, make(name, pos, cut), line, record, False, lines, nonblank)
        line += lines
        record += nonblank
        pos = cut
    body = mm[pos:size]
    tail_blank = not body[body.rfind(b"\n") + 1:].strip()
    lines = body.count(b"\n") + (0 if tail_blank else 1)
    nonblank = lines - _blank_bytes(body)
    yield Chunk(source, make(name, pos, size), line, record, True, lines, nonblank)


# ---------------------------------------------------------------------------
# JSON arrays
# ---------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
# How the end of a value that is not decoded is found: inside a text the next quote or
# escape, outside it the next quote or bracket; a number or literal ends at `,`, `]` or a space.
_TEXT_PART = re.compile(r'["\\]')
_STRUCTURE = re.compile(r'["\[\]{}]')
_SCALAR_END = re.compile(r"[,\]\s]")


def _array_chunks(blocks: Iterator[str], source: str, per_chunk: int) -> Iterator[Chunk]:
    """Elements of a JSON array one by one, each with the line it starts on.

    The buffer holds the unread rest of the text and the next block: an
    element cut by the end of the buffer is decoded again once more text is
    in, and one that fails the same way with more text is broken. The
    elements before a break are checked; the break is reported as an error
    record, and the rest of the input cannot be read.
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    base = 0  # the offset in the input of buf[0]
    counted_to = 0  # lines are counted up to here in buf
    line = 1  # the line at counted_to
    line_start = 0  # the offset in the input where that line starts
    eof = False
    batch: list[tuple[int, int, Any, Problem | None]] = []
    index = 0

    def line_at(at: int) -> int:
        nonlocal line, counted_to, line_start
        breaks = buf.count("\n", counted_to, at)
        if breaks:
            line += breaks
            line_start = base + buf.rfind("\n", counted_to, at) + 1
        counted_to = at
        return line

    def more() -> bool:
        nonlocal buf, pos, base, counted_to, eof
        if eof:
            return False
        text = next(blocks, None)
        if text is None:
            eof = True
            return False
        line_at(pos)
        base += pos
        buf = buf[pos:] + text
        pos = counted_to = 0
        return True

    def skip() -> None:
        nonlocal pos
        while True:
            pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
            if pos < len(buf) or not more():
                return

    def broken(at: int, msg: str) -> tuple[int, int, Any, Problem]:
        ln = line_at(at)
        col = base + at - line_start + 1
        return (index + 1, ln, None, Problem("R301", "", f"not valid JSON: {msg} at line {ln}, column {col}"))

    def skip_value(problem: Problem) -> tuple[int, Problem, int]:
        """Past a value that is not decoded (too deep, too long): ``(the line it starts on, problem, its end)``.

        Only the unread text stays in memory, so a value of any size is passed block by block.
        """
        nonlocal pos
        start_line = line_at(pos)
        opening = buf[pos]
        at, depth, in_text = pos + 1, 1, opening == '"'
        scalar = opening not in '[{"'
        while True:
            found = (_SCALAR_END if scalar else _TEXT_PART if in_text else _STRUCTURE).search(buf, at)
            if found is None or (in_text and found.group() == "\\" and found.end() == len(buf)):
                if eof or not more_from(found.start() if found is not None else len(buf)):
                    return start_line, problem, len(buf)
                at = 0
                continue
            ch = found.group()
            at = found.end()
            if scalar:
                return start_line, problem, found.start()
            if in_text:
                if ch == '"':
                    in_text = False
                    if opening == '"':
                        return start_line, problem, at
                else:
                    at += 1  # an escape: the character after the backslash is passed too
                continue
            if ch == '"':
                in_text = True
            else:
                depth += 1 if ch in "[{" else -1
                if depth == 0:
                    return start_line, problem, at

    def more_from(at: int) -> bool:
        """Read the next block, forgetting the text before ``at`` (already passed)."""
        nonlocal pos
        pos = at
        return more()

    skip()
    pos += 1  # the "[" that decided the format
    first = True
    while True:
        skip()
        if pos >= len(buf):
            batch.append(broken(pos, "the input ended inside the array"))
            break
        ch = buf[pos]
        if ch == "]":
            pos += 1
            skip()
            if pos < len(buf):
                batch.append(broken(pos, "Extra data"))
            break
        if not first:
            if ch != ",":
                batch.append(broken(pos, "Expecting ',' delimiter"))
                break
            pos += 1
            skip()
        first = False
        last_error: tuple[int, str] | None = None
        skipped: tuple[int, Problem, int] | None = None
        while True:
            if len(buf) - pos > MAX_RECORD_CHARS:
                skipped = skip_value(Problem("R312", "", f"the element is longer than {MAX_RECORD_CHARS:,} "
                                                         "characters, the most govpost checks in one record",
                                             "split the text into several posts"))
                break
            try:
                value, end = decoder.raw_decode(buf, pos)
            except RecursionError:
                skipped = skip_value(Problem("R301", "", "not valid JSON: the value is nested too deeply"))
                break
            except json.JSONDecodeError as exc:
                error = (exc.pos - pos, exc.msg)
                if (error != last_error or exc.msg.startswith("Unterminated string")) and more():
                    last_error = error
                    continue
                batch.append(broken(exc.pos, exc.msg))
                end = -1
                break
            except ValueError:  # an integer of more than 4,300 digits
                skipped = skip_value(Problem("R301", "", "not valid JSON: a number is too long"))
                break
            if end >= len(buf) and more():
                continue  # a number or a literal may go on in the next block
            break
        if skipped is not None:
            index += 1
            start_line, problem, pos = skipped
            batch.append((index, start_line, None, problem))
        else:
            if end < 0:
                break
            index += 1
            big = too_large(end - pos, "the element") if end - pos > MAX_RECORD_CHARS else None
            batch.append((index, line_at(pos), None if big else value, big))
            pos = end
        if len(batch) >= per_chunk:
            yield Chunk(source, batch, final=False)
            batch = []
    yield Chunk(source, batch, final=True)


# ---------------------------------------------------------------------------
# CSV and Parquet: columns to fields
# ---------------------------------------------------------------------------

_LEAVES = {path for path in FIELDS if not path.startswith("media.")}
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass
class ColumnMap:
    """Which column holds which field of a post.

    By default a column whose header is a field's path (``account.kind``) or
    that path with ``_`` for ``.`` (``account_kind``) holds that field;
    ``explicit`` maps fields to other headers (``--csv-map text=body``).
    Lists (``labels``, ``links``) are one cell, values joined by ``separator``.
    """

    explicit: dict[str, str] = field(default_factory=dict)
    separator: str = "|"

    @classmethod
    def parse(cls, spec: str | None, separator: str = "|") -> ColumnMap:
        """From ``field=column,field=column``; raises ValueError with a message for a bad one."""
        explicit: dict[str, str] = {}
        for part in (spec or "").split(","):
            if not part.strip():
                continue
            key, eq, column = part.partition("=")
            key, column = key.strip(), column.strip()
            if not eq or not key or not column:
                raise ValueError(f"`{part.strip()}` is not FIELD=COLUMN")
            if key not in _LEAVES:
                raise ValueError(f"`{key}` is not a field of a post that a column can hold "
                                 f"(one of: {', '.join(sorted(_LEAVES))})")
            explicit[key] = column
        return cls(explicit, separator)

    def plan(self, header: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
        """``(column index, field path)`` for every column read, and the headers not read."""
        by_header: dict[str, str] = {}
        for path in sorted(_LEAVES):
            by_header.setdefault(path, path)
            by_header.setdefault(path.replace(".", "_"), path)
        explicit_columns = {column: path for path, column in self.explicit.items()}
        used: list[tuple[int, str]] = []
        ignored: list[str] = []
        taken: set[str] = set()
        for i, name in enumerate(header):
            path = explicit_columns.get(name)
            if path is None:
                path = by_header.get(name.strip())
                if path in self.explicit:  # mapped to another column explicitly
                    path = None
            if path is None or path in taken:
                ignored.append(name)
                continue
            taken.add(path)
            used.append((i, path))
        return used, ignored

    def post(self, cells: dict[str, Any]) -> dict[str, Any]:
        """A post from ``{field path: value}``: empty cells are absent, lists split, flags read."""
        post: dict[str, Any] = {}
        for path, value in cells.items():
            if value is None or value == "":
                continue
            if isinstance(value, str):
                if path in LIST_FIELDS:
                    value = [v.strip() for v in value.split(self.separator) if v.strip()]
                elif FIELDS[path].kind == "bool":
                    value = _BOOLS.get(value.strip().casefold(), value)
            head, _, rest = path.partition(".")
            if rest:
                post.setdefault(head, {})[rest] = value
            else:
                post[head] = value
        return post


def _csv_chunks(blocks: Iterator[str], source: str, columns: ColumnMap, per_chunk: int,
                tsv: bool, note: Callable[[str], None]) -> Iterator[Chunk]:
    """One post per row. A row that cannot be read is one malformed record, and reading goes on after it.

    A row is broken when the csv module refuses it, when it is longer than
    :data:`toolkit.posts.MAX_RECORD_CHARS`, or when a quote it opens is never
    closed (the csv module would read the rest of the input into that one
    cell). It is reported at the line it starts on, and the lines after that
    line are read again as rows, so no record is lost.
    """
    lines = _Lines(blocks)
    dialect = "excel-tab" if tsv else "excel"
    if csv.field_size_limit() <= MAX_RECORD_CHARS:
        csv.field_size_limit(MAX_RECORD_CHARS + 1)  # the row's own limit (R312) is the one that counts
    reader = csv.reader(lines, dialect=dialect)
    lines.start_row()
    try:
        header = next(reader)
    except StopIteration:
        yield Chunk(source, [], final=True)
        return
    except (csv.Error, _RowTooLong) as exc:
        raise InputError("I501", f"`{source}` is not a CSV file: {exc}") from None
    if lines.ended:
        raise InputError("I501", f"`{source}` is not a CSV file: a quote in its header is never closed")
    plan, ignored = columns.plan(header)
    if ignored:
        note(f"{source}: columns not read: {', '.join(ignored)}")
    width = len(header)
    batch: list[tuple[int, int, Any, Problem | None]] = []
    index = 0
    while True:
        lines.start_row()
        problem: Problem | None = None
        try:
            row = next(reader)
        except StopIteration:
            break
        except _RowTooLong:
            problem = Problem("R312", "", f"the row is longer than {MAX_RECORD_CHARS:,} characters, the most "
                                          "govpost checks in one record", "split the text into several posts")
        except csv.Error as exc:
            problem = Problem("R301", "", f"not a valid CSV row: {exc}")
        else:
            if lines.ended and len(lines.row) > 1:
                after = len(lines.row) - 1
                problem = Problem("R301", "", f"not a valid CSV row: the quote it opens is never closed; the "
                                              f"{after} line{'s' if after != 1 else ''} after it "
                                              f"{'are' if after != 1 else 'is'} read again as rows",
                                  'close the quote, or write a quote inside a cell as `""`')
        start = lines.row[0][0] if lines.row else lines.count
        if problem is not None:
            index += 1
            batch.append((index, start, None, problem))
            lines.replay(lines.row[1:])
            reader = csv.reader(lines, dialect=dialect)  # a fresh reader: the broken row's state is gone
        elif not row or (len(row) == 1 and not row[0].strip() and width > 1):
            continue  # a blank line
        else:
            index += 1
            if len(row) > width:
                batch.append((index, start, None, Problem(
                    "R303", "", f"the row has {len(row)} cells but the header names {width} columns")))
            else:
                batch.append((index, start, columns.post({path: row[i] for i, path in plan if i < len(row)}),
                              None))
        if len(batch) >= per_chunk:
            yield Chunk(source, batch, final=False)
            batch = []
    yield Chunk(source, batch, final=True)


class _RowTooLong(Exception):
    """Raised through the csv module when the row being read passes the limit of one record."""

    def __str__(self) -> str:
        return f"a row is longer than {MAX_RECORD_CHARS:,} characters"


class _Lines:
    """Lines of text blocks, each with its ``\\n``, for the csv module; numbered, and kept for the current row.

    :meth:`start_row` begins a row; then :attr:`row` holds ``(line number, line)``
    of every line the csv module took for it, :attr:`ended` says whether it asked
    for a line past the end of the input (a quote that is never closed), and a
    row longer than a record may be raises :class:`_RowTooLong`. :meth:`replay`
    gives lines again, with their numbers, before any new one.
    """

    def __init__(self, blocks: Iterator[str]):
        self._blocks = blocks
        self._lines: list[str] = []
        self._pos = 0
        self._tail = ""
        self._again: list[tuple[int, str]] = []  # to give again, last first
        self._dropping = False
        self.count = 0  # lines read from the blocks
        self.row: list[tuple[int, str]] = []
        self.chars = 0
        self.ended = False

    def start_row(self) -> None:
        self.row = []
        self.chars = 0
        self.ended = False

    def replay(self, items: list[tuple[int, str]]) -> None:
        self._again.extend(reversed(items))

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        item = self._again.pop() if self._again else self._read()
        if item is None:
            self.ended = True
            raise StopIteration
        self.row.append(item)
        self.chars += len(item[1])
        if self.chars > MAX_RECORD_CHARS:
            raise _RowTooLong
        return item[1]

    def _read(self) -> tuple[int, str] | None:
        while self._pos >= len(self._lines):
            text = next(self._blocks, None)
            if text is None:
                if self._tail:
                    tail, self._tail = self._tail, ""
                    self.count += 1
                    return self.count, tail
                return None
            if self._dropping:  # the rest of a line longer than a record: it is never read
                cut = text.find("\n")
                if cut < 0:
                    continue
                self._dropping = False
                text = text[cut + 1 :]
            parts = (self._tail + text).split("\n")
            self._tail = parts.pop()
            if len(self._tail) > MAX_RECORD_CHARS:
                # One line longer than a record: keep just enough of it to be reported (R312).
                parts.append(self._tail[: MAX_RECORD_CHARS + 1])
                self._tail = ""
                self._dropping = True
            self._lines = [p + "\n" for p in parts]
            self._pos = 0
        line = self._lines[self._pos]
        self._pos += 1
        self.count += 1
        return self.count, line


def _parquet_chunks(name: str, where: str | BinaryIO, columns: ColumnMap, per_chunk: int,
                    note: Callable[[str], None]) -> Iterator[Chunk]:
    """Chunks of a Parquet file: ``where`` is its path or a seekable binary file; ``name`` is reported."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # the `parquet` extra is not installed
        raise InputError("I501", "reading Parquet needs pyarrow: pip install 'govpost[parquet]'") from None
    if not isinstance(where, str) and not getattr(where, "seekable", lambda: False)():
        raise InputError("I501", f"`{name}` is Parquet, which is read from a seekable file, not a stream")
    try:
        pf = pq.ParquetFile(where)
    except FileNotFoundError:
        raise InputError("I501", f"cannot read `{name}`: No such file or directory") from None
    except OSError as exc:
        raise InputError("I501", f"cannot read `{name}`: {exc}") from None
    except Exception as exc:  # pyarrow raises its own errors for files that are not Parquet
        raise InputError("I501", f"`{name}` is not a Parquet file: {exc}") from None
    header = pf.schema_arrow.names
    plan, ignored = columns.plan(header)
    mapped = {header[i] for i, _p in plan}
    nested = [n for n in header if n in GROUPS and n not in mapped]
    ignored = [n for n in ignored if n not in nested]
    if ignored:
        note(f"{name}: columns not read: {', '.join(ignored)}")
    index = 0
    for batch in pf.iter_batches(batch_size=per_chunk):
        try:
            rows: list[Any] = batch.to_pylist()
        except UnicodeDecodeError:  # a string cell that is not UTF-8: find the rows, keep the others
            rows = [_row_or_problem(batch, i) for i in range(batch.num_rows)]
        out: list[tuple[int, int, Any, Problem | None]] = []
        for row in rows:
            index += 1
            if isinstance(row, Problem):
                out.append((index, index, None, row))
                continue
            post = columns.post({path: _plain(row[header[i]]) for i, path in plan})
            for group in nested:
                value = _plain(row[group])
                if value is not None:
                    post[group] = _drop_nulls(value)
            out.append((index, index, post, None))
        yield Chunk(name, out, final=False)
    yield Chunk(name, [], final=True)


def _row_or_problem(batch: Any, i: int) -> Any:
    """Row ``i`` of a Parquet batch as a mapping, or R311 when one of its texts is not UTF-8."""
    try:
        return batch.slice(i, 1).to_pylist()[0]
    except UnicodeDecodeError as exc:
        return Problem("R311", "", f"a text of the row is not valid UTF-8: {exc.reason}",
                       "write the file's texts in UTF-8")


def _plain(value: Any) -> Any:
    """A Parquet value as JSON would give it: instants as ISO 8601 text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()  # without a time zone it has no offset: reported as R306
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
