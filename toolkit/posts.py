"""Posts: validating records against the post schema, and reading inputs.

A record that breaks the schema yields :class:`Problem` values, never an
exception: the checker reports it with its line number and goes on with
the next record. Validation is hand-written over :mod:`toolkit.postschema`
rather than run through a JSON Schema engine, because it sits on the
checker's hot path.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from .postschema import FIELDS, GROUPS, LIST_FIELDS, META

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


# A run of 19 digits: a number orjson may not hold exactly (it reads integers
# beyond 64 bits as floats); such lines go to the standard library's decoder.
_LONG_NUMBER = re.compile(r"\d{19}")
_LONG_NUMBER_BYTES = re.compile(rb"\d{19}")


#: The longest record the checker reads (1 MiB of text): a JSON Lines line, a CSV row, an
#: element of a JSON array, or the strings of one post. A longer one is malformed (R312):
#: checking a 50 MB post would take a quarter of a minute and tell a reviewer nothing.
MAX_RECORD_CHARS = 1 << 20

_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(data: str | bytes) -> Any:
    """One JSON value, decoded by orjson, but with every integer exact, however large.

    Raises orjson.JSONDecodeError (a json.JSONDecodeError) for text that is not one JSON value.
    """
    long_number = _LONG_NUMBER_BYTES if isinstance(data, bytes) else _LONG_NUMBER
    if long_number.search(data) is None:  # type: ignore[arg-type]
        return orjson.loads(data)
    try:
        return json_loads(data)
    except json.JSONDecodeError as exc:
        raise orjson.JSONDecodeError(exc.msg, exc.doc, exc.pos) from None


def json_loads(text: str | bytes) -> Any:
    """The standard library's ``json.loads``, with what it cannot hold a decoding error.

    Python's decoder recurses once per level (past its limit it would raise
    ``RecursionError``) and refuses integers of more than 4,300 digits
    (``ValueError``); either would say nothing about the record and stop the run.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:  # ValueError: an integer of more than 4,300 digits
        doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
        what = "the value is nested too deeply" if isinstance(exc, RecursionError) else "a number is too long"
        raise json.JSONDecodeError(what, doc, 0) from None


def unreadable(post: dict[str, Any]) -> Problem | None:
    """Why a well-formed post still cannot be checked, or None: text that is not Unicode, or too much of it.

    A lone surrogate (``"\\ud800"`` in JSON, or a byte that is not UTF-8 given on
    the command line) is not a character: no text matcher can read it (R311).
    More than :data:`MAX_RECORD_CHARS` characters of text in one post is R312.
    """
    total = 0
    stack: list[tuple[str, Any]] = [("", post)]
    while stack:
        path, value = stack.pop()
        kind = type(value)
        if kind is str:
            total += len(value)
            if not value.isascii():
                bad = _SURROGATE.search(value)
                if bad is not None:
                    return _not_unicode(path, bad.group())
        elif kind is dict:
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in value.items() if k != "_ts")
        elif kind is list:
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    if total > MAX_RECORD_CHARS:
        return Problem("R312", "", f"the post holds {total:,} characters of text; govpost checks at most "
                                   f"{MAX_RECORD_CHARS:,} in one record", "split the text into several posts")
    return None


def _not_unicode(path: str, char: str) -> Problem:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # how Python keeps a byte that is not UTF-8 (a command-line argument)
        return Problem("R311", path, f"`{path}` is not valid UTF-8: it holds the byte 0x{code - 0xDC00:02x}",
                       "give the text in UTF-8")
    return Problem("R311", path, f"`{path}` holds `\\u{code:04x}`, half of a surrogate pair, which is not a "
                                 "character", "a character beyond U+FFFF is written as a pair: `\\ud83d\\ude4f`")


def too_large(size: int, what: str) -> Problem:
    """R312: a record or a post longer than :data:`MAX_RECORD_CHARS`."""
    return Problem("R312", "", f"{what} is {size:,} characters long; govpost checks at most "
                               f"{MAX_RECORD_CHARS:,} in one record", "split the text into several posts")


# Names people use for enumeration values, so the hint can name the value meant.
_ALIASES = {"twitter": "x", "tweet": "post", "retweet": "share", "repost": "share", "fb": "facebook",
            "insta": "instagram", "ig": "instagram", "yt": "youtube", "wa": "whatsapp", "private_account": "private"}


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a record: a code (R3xx), the field path, a message and a hint."""

    code: str
    path: str
    message: str
    help: str | None = None

    def __post_init__(self) -> None:
        if len(self.message) > 160 or (self.help is not None and len(self.help) > 160):
            from .diagnostics import shorten  # a long value quoted from the record is cut short

            object.__setattr__(self, "message", shorten(self.message))
            if self.help is not None:
                object.__setattr__(self, "help", shorten(self.help))


def _suggest(name: str, options: Iterable[str]) -> str | None:
    from .diagnostics import did_you_mean

    return did_you_mean(name, options)


def parse_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 date-time with an offset, or None."""
    if not _DATETIME.match(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_TOP_LEAVES = {p: ft for p, ft in FIELDS.items() if "." not in p}
_GROUP_LEAVES = {
    g: {p.split(".", 1)[1]: ft for p, ft in FIELDS.items() if p.startswith(g + ".")} for g in GROUPS
}


def validate(record: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Check a decoded JSON value against the post schema.

    Returns the post with defaults filled in and ``posted_at`` as a UTC
    timestamp under the key ``_ts`` (None when absent), or None with the
    problems found.
    """
    post = _fast(record)
    if post is None:
        post, problems = _validate(record)
        if post is None:
            return None, problems
    problem = unreadable(post)
    return (None, [problem]) if problem is not None else (post, [])


# -- the fast path: a well-formed record, with plain type checks ------------
#
# Most records are well formed. _fast accepts exactly the records _validate
# accepts and builds the same post, but gives up (returns None) at the first
# irregularity, leaving _validate to find and word every problem.

_STR, _BOOL, _TIME, _STRLIST = "str", "bool", "time", "strlist"


def _kind(ft: Any) -> Any:
    if ft.kind == "enum":
        return frozenset(ft.values)
    if ft.kind == "bool":
        return _BOOL
    if ft.kind == "datetime":
        return _TIME
    return _STR


_FAST_TOP: dict[str, Any] = {
    key: (_STRLIST if key in LIST_FIELDS else _kind(ft)) for key, ft in _TOP_LEAVES.items()
}
_FAST_GROUP: dict[str, dict[str, Any]] = {
    g: {k: (_STRLIST if g == "media" and k == "labels" else _kind(ft)) for k, ft in leaves.items()}
    for g, leaves in _GROUP_LEAVES.items()
}
_DEFAULTS = {key: ft.default for key, ft in _TOP_LEAVES.items() if key not in LIST_FIELDS}


def _ok(kind: Any, value: Any) -> bool:
    if kind is _STR:
        return type(value) is str
    if kind is _BOOL:
        return type(value) is bool
    if kind is _TIME:
        return type(value) is str and parse_datetime(value) is not None
    if kind is _STRLIST:
        return type(value) is list and all(type(v) is str for v in value)
    return type(value) is str and value in kind  # an enumeration


def _fast_group(group: str, value: Any) -> dict[str, Any] | None:
    if type(value) is not dict:
        return None
    kinds = _FAST_GROUP[group]
    out = {}
    for key, sub in value.items():
        if sub is None:
            continue
        kind = kinds.get(key)
        if kind is None or not _ok(kind, sub):
            return None
        out[key] = sub
    return out


_EMPTY_POST = {**_DEFAULTS, "links": [], "labels": [], "media": [], "account": None, "author": None,
               "shared_from": None, "sanction": None}

# posted_at → its UTC timestamp (None: not a valid date and time), for the dates seen lately:
# many posts of an export share their date and time to the minute.
_TS_CACHE: dict[str, float | None] = {}


def _timestamp(value: str) -> float | None:
    ts = _TS_CACHE.get(value, False)
    if ts is False:
        when = parse_datetime(value)
        ts = when.timestamp() if when is not None else None
        if len(_TS_CACHE) >= 16384:
            _TS_CACHE.clear()
        _TS_CACHE[value] = ts
    return ts  # type: ignore[return-value]


def _fast_group_alias(kinds: dict[str, Any], value: Any) -> bool:
    """Whether a group object is well formed and has no null member (so it can be used as it is)."""
    if type(value) is not dict:
        return False
    for key, sub in value.items():
        kind = kinds.get(key)
        if kind is _STR:
            if type(sub) is not str:
                return False
        elif kind is None or sub is None:
            return False
        elif type(kind) is frozenset:  # an enumeration
            if type(sub) is not str or sub not in kind:
                return False
        elif not _ok(kind, sub):
            return False
    return True


_ACCOUNT_KINDS = _FAST_GROUP["account"]
_MEDIA_KINDS = _FAST_GROUP["media"]
_SANCTION_KINDS = _FAST_GROUP["sanction"]


def _fast(record: Any) -> dict[str, Any] | None:
    """The post of a well-formed record, or None to leave the record to the full validator.

    It builds no more than it must: a record without nulls is merged over the
    defaults in one C-level operation, and its objects are used as they are
    (never modified) when they need no default.
    """
    if type(record) is not dict:
        return None
    ts = None
    for key, value in record.items():
        kind = _FAST_TOP.get(key)
        if kind is _STR:
            if type(value) is not str:
                return _fast_copy(record) if value is None else None
        elif kind is None:
            if value is None:
                return _fast_copy(record)
            if key == "media":
                if type(value) is not list:
                    return None
                for item in value:
                    if not _fast_group_alias(_MEDIA_KINDS, item):
                        return _fast_copy(record)
            elif key in _FAST_GROUP:
                if not _fast_group_alias(_FAST_GROUP[key], value):
                    return _fast_copy(record)
            elif key == META:
                if type(value) is not dict:
                    return None
            else:
                return None
        elif value is None:
            return _fast_copy(record)
        elif kind is _TIME:
            if type(value) is not str:
                return None
            ts = _timestamp(value)
            if ts is None:
                return None
        elif kind is _STRLIST or kind is _BOOL:
            if not _ok(kind, value):
                return None
        elif type(value) is not str or value not in kind:
            return None
    post = _EMPTY_POST | record
    if "links" not in record:
        post["links"] = []
    if "labels" not in record:
        post["labels"] = []
    if "media" not in record:
        post["media"] = []
    account = post["account"]
    if account is None:
        post["account"] = {"kind": "personal"}
    elif "kind" not in account:
        post["account"] = {**account, "kind": "personal"}
    sanction = post["sanction"]
    if sanction is None:
        post["sanction"] = {"obtained": False}
    elif "obtained" not in sanction:
        post["sanction"] = {**sanction, "obtained": False}
    post["_ts"] = ts
    return post


def _fast_copy(record: dict[str, Any]) -> dict[str, Any] | None:
    """The fast path for a record with nulls (a null is an absent field): the post is built a field at a time."""
    post: dict[str, Any] = _EMPTY_POST.copy()
    post["links"] = []
    post["labels"] = []
    post["media"] = []
    ts = None
    for key, value in record.items():
        if value is None:
            continue
        kind = _FAST_TOP.get(key)
        if kind is not None:
            # The checks of _ok, inlined: this loop runs for every field of every post.
            if kind is _STR:
                if type(value) is not str:
                    return None
            elif kind is _TIME:
                ts = _timestamp(value) if type(value) is str else None
                if ts is None:
                    return None
            elif kind is _STRLIST or kind is _BOOL:
                if not _ok(kind, value):
                    return None
            elif type(value) is not str or value not in kind:
                return None
            post[key] = value
        elif key == "media":
            if type(value) is not list:
                return None
            items = []
            for item in value:
                checked = _fast_group("media", item)
                if checked is None:
                    return None
                items.append(checked)
            post["media"] = items
        elif key in _FAST_GROUP:
            checked = _fast_group(key, value)
            if checked is None:
                return None
            post[key] = checked
        elif key == META:
            if type(value) is not dict:
                return None
            post[key] = value
        else:
            return None
    account = post["account"] or {}
    account.setdefault("kind", "personal")
    post["account"] = account
    sanction = post["sanction"] or {}
    sanction.setdefault("obtained", False)
    post["sanction"] = sanction
    post["_ts"] = ts
    return post


def _validate(record: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    if not isinstance(record, dict):
        return None, [Problem("R302", "", f"a post is a JSON object, not {_json_type(record)}")]
    problems: list[Problem] = []
    post: dict[str, Any] = {}
    for key, value in record.items():
        if value is None:
            continue  # null is the same as absent: the field takes its default
        if key in _TOP_LEAVES:
            if key in LIST_FIELDS:
                _check_list(key, value, problems)
            else:
                _check_leaf(key, _TOP_LEAVES[key], value, problems)
            post[key] = value
        elif key in GROUPS:
            is_list = GROUPS[key][1]
            if is_list:
                if not isinstance(value, list):
                    problems.append(Problem("R304", key, f"`{key}` must be a list, not {_json_type(value)}"))
                    continue
                items = []
                for i, item in enumerate(value):
                    items.append(_check_group(key, f"{key}[{i}]", item, problems))
                post[key] = items
            else:
                post[key] = _check_group(key, key, value, problems)
        elif key == META:
            if isinstance(value, dict):
                post[key] = value  # never looked into: the post's own annotations
            else:
                problems.append(Problem("R304", key, f"`{key}` must be an object, not {_json_type(value)}",
                                        "`meta` holds the post's own annotations as a JSON object"))
        else:
            problems.append(
                Problem("R303", key, f"unknown field `{key}`",
                        _suggest(key, [*_TOP_LEAVES, *GROUPS, META]) or "see schemas/post.schema.json")
            )
    if problems:
        return None, problems
    # Defaults for absent fields, so conditions never meet a missing key.
    for key, ft in _TOP_LEAVES.items():
        if key not in post:
            post[key] = [] if key in LIST_FIELDS else ft.default
    for group, (_desc, is_list) in GROUPS.items():
        if group not in post or post[group] is None:
            post[group] = [] if is_list else None
    account = post["account"] or {}
    account.setdefault("kind", "personal")
    post["account"] = account
    sanction = post["sanction"] or {}
    sanction.setdefault("obtained", False)
    post["sanction"] = sanction
    ts = None
    if post.get("posted_at"):
        when = parse_datetime(post["posted_at"])
        ts = when.timestamp() if when else None
    post["_ts"] = ts
    return post, []


def _check_group(group: str, where: str, value: Any, problems: list[Problem]) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.append(Problem("R304", where, f"`{where}` must be an object, not {_json_type(value)}"))
        return {}
    leaves = _GROUP_LEAVES[group]
    value = {k: v for k, v in value.items() if v is not None}
    for key, sub in value.items():
        path = f"{where}.{key}"
        if key in leaves:
            if leaves[key].many and group == "media" and key == "labels":
                _check_list(path, sub, problems)
            else:
                _check_leaf(path, leaves[key], sub, problems)
        else:
            problems.append(Problem("R303", path, f"unknown field `{path}`",
                                    _suggest(key, leaves) and f"did you mean `{where}.{_best(key, leaves)}`?"))
    return value


def _best(name: str, options: Iterable[str]) -> str:
    import difflib

    return (difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.6) or [""])[0]


def _check_list(path: str, value: Any, problems: list[Problem]) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem("R304", path, f"`{path}` must be a list of strings"))


def _check_leaf(path: str, ft: Any, value: Any, problems: list[Problem]) -> None:
    if value is None:
        return
    if ft.kind == "bool":
        if not isinstance(value, bool):
            problems.append(Problem("R304", path, f"`{path}` must be true or false, not {_json_type(value)}"))
        return
    if not isinstance(value, str):
        problems.append(Problem("R304", path, f"`{path}` must be a string, not {_json_type(value)}"))
        return
    if ft.kind == "enum" and value not in ft.values:
        alias = _ALIASES.get(value.casefold())
        hint = f"did you mean `{alias}`?" if alias in ft.values else _suggest(value, ft.values)
        problems.append(
            Problem("R305", path, f"`{value}` is not a valid `{path}`", hint or f"one of: {', '.join(ft.values)}")
        )
    elif ft.kind == "datetime" and parse_datetime(value) is None:
        problems.append(
            Problem("R306", path, f"`{value}` is not an ISO 8601 date and time with an offset",
                    "write it as 2026-04-10T09:15:00+05:30 (or Z for UTC)")
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def from_literal(fields: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Turn an example's ``(dotted path, value)`` pairs into a JSON post."""
    post: dict[str, Any] = {}
    for path, value in fields:
        head, _, rest = path.partition(".")
        if rest:
            group = post.setdefault(head, {})
            if isinstance(group, dict):
                group[rest] = value
        else:
            post[head] = value
    return post


# ---------------------------------------------------------------------------
# Reading inputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: where it came from and the decoded value, or why it could not be decoded."""

    index: int  # 1-based position in the input
    line: int  # 1-based line where the record starts
    value: Any
    error: Problem | None = None


def read_records(stream: IO[str], name: str = "<stdin>") -> Iterator[Record]:
    """Yield the records of a JSON Lines stream, or of a JSON array or object.

    The form is decided by the first non-blank character: ``[`` is an array
    of posts, otherwise each non-blank line is one post (a single JSON object
    spread over several lines is read whole too).
    """
    first_chunk = stream.read(4096)
    stripped = first_chunk.lstrip()
    if stripped.startswith("["):
        text = first_chunk + stream.read()
        yield from _read_array(text)
        return
    yield from _read_lines(_chain(first_chunk, stream))


def _chain(first: str, stream: IO[str]) -> Iterator[str]:
    rest = stream.readline()
    buf = first + rest
    lines = buf.split("\n")
    tail = lines.pop()
    yield from (line + "\n" for line in lines)
    pending = tail
    for line in stream:
        yield pending + line
        pending = ""
    if pending:
        yield pending


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"


def _read_lines(lines: Iterable[str]) -> Iterator[Record]:
    for index, lineno, value, problem in frame_json_lines(lines):
        yield Record(index, lineno, value, problem)


def _broken(first: str) -> Problem:
    """The problem of a record whose first line starts no JSON value the following lines complete."""
    try:
        json_loads(first.rstrip("\r\n"))
        message = "not valid JSON"
    except json.JSONDecodeError as own:
        message = _json_error(own)
    return Problem("R301", "", message)


def frame_json_lines(lines: Iterable[str], first_line_no: int = 1, first_record_no: int = 1,
                     final: bool = True) -> Iterator[tuple[int, int, Any, Problem | None]]:
    """``(record number, line number, value, problem)`` of each record of JSON Lines text.

    Blank lines are skipped; a record may spread over several lines (an object
    printed with indentation); a line that starts no value the following lines
    complete is one broken record (R301), and the lines after it are read again.
    ``lines`` may be a whole input (``final``) or a chunk of one.

    When a chunk that is not the last ends inside an unfinished record, the
    next chunk starts with a line that is a whole JSON object (see
    :func:`toolkit.inputs.jsonl_chunks`), which no unfinished record can
    continue: the record is broken, as the whole input would find.
    """
    index = first_record_no - 1
    pending: list[tuple[int, str]] = []
    # Each line with its line break, so that lines joined into one record keep their tokens apart.
    queue = iter(enumerate((t if t.endswith("\n") else t + "\n" for t in lines), first_line_no))
    replay: list[tuple[int, str]] = []
    while True:
        if replay:
            lineno, line = replay.pop(0)
        else:
            nxt = next(queue, None)
            if nxt is None:
                if not pending:
                    break
                index += 1
                if final:
                    yield (index, pending[0][0], None,
                           Problem("R301", "", "not valid JSON: the input ended inside a record"))
                    break
                yield (index, pending[0][0], None, _broken(pending[0][1]))
                replay = pending[1:]
                pending = []
                continue
            lineno, line = nxt
        if not pending and not line.strip():
            continue
        if not pending and len(line) > MAX_RECORD_CHARS:
            index += 1
            yield (index, lineno, None, too_large(len(line) - 1, "the line"))
            continue
        pending.append((lineno, line))
        if len(pending) == 1:
            try:
                value = loads(line)
            except orjson.JSONDecodeError:
                pass
            else:
                index += 1
                yield (index, lineno, value, None)
                pending = []
                continue
        text = "".join(t for _n, t in pending)
        try:
            value = json_loads(text)
        except json.JSONDecodeError as exc:
            unfinished = (
                text.lstrip().startswith("{")
                and exc.msg.startswith(("Expecting", "Unterminated"))
                and exc.pos >= len(text.rstrip()) - 1
                and len(pending) < 1000
                and len(text) <= MAX_RECORD_CHARS
            )
            if unfinished:
                continue
            index += 1
            yield (index, pending[0][0], None, _broken(pending[0][1]))
            replay = pending[1:] + replay
            pending = []
            continue
        index += 1
        yield (index, pending[0][0], value, None)
        pending = []


def _read_array(text: str) -> Iterator[Record]:
    try:
        data = json_loads(text)
    except json.JSONDecodeError as exc:
        msg = exc.msg.removesuffix(" at")
        where = f"at line {exc.lineno}, column {exc.colno}"
        yield Record(1, exc.lineno, None, Problem("R301", "", f"not valid JSON: {msg} {where}"))
        return
    # Line numbers of the elements of an array: find where each one starts.
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    for index, value in enumerate(data, 1):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        line = text.count("\n", 0, pos) + 1
        try:
            _, end = decoder.raw_decode(text, pos)
            pos = end
        except json.JSONDecodeError:
            pass
        yield Record(index, line, value)
