"""The audit summary of a check: a streaming, mergeable accumulator of results.

**For callers** (``govpost check --summary``, ``govpost report``, the Dask
engine): build a :class:`Summary`, feed it every record the check produces,
then print it::

    from toolkit.summary import Summary, render_summary_text

    summary = Summary()
    for record in results_and_errors:      # in input order
        summary.add(record)                # a check result, or a malformed-record error
    print(render_summary_text(summary))    # for a terminal
    json.dumps(summary.to_dict())          # for tools (format in docs/reports-and-dask.md)

``add(record, post)`` takes the record exactly as ``govpost check --format
jsonl`` writes it: a result (``input``, ``record``, ``line``, ``id``,
``platform``, ``account``, ``posted_at``, ``outcome``, ``deciding``,
``findings``, ``excepted``) or an error (``input``, ``record``, ``line``,
``errors``). The month and the account of a post are read from the record's
own ``posted_at`` and ``account`` keys, so a summary of a results file is the
summary of the check. ``post`` (the post as given) is optional: it is read
for records written before those keys existed, for the account's kind and
for the text of the posts the summary keeps; without it they count as
unknown (kind and text are then null).

Partial summaries combine exactly: ``a.merge(b)``, with ``b`` summarising the
records that come after ``a``'s, equals one summary fed both streams, so
worker processes or Dask partitions each summarise their share and the
parent merges them in input order.

What is kept, and how much:

- exact counts per outcome, per clause (posts it applied to, posts it
  decided), per topic, per account and per month (each by outcome), and per
  evidence term of each clause; the error count per code;
- the first :attr:`Summary.top_posts` posts with findings, highest outcome
  first and then in input order;
- the first :attr:`Summary.max_errors` malformed records (all are counted).

The invariant ``sum(outcomes) + errors == records`` holds by construction:
every record added is either checked or malformed.

This module runs on the checker's side: it reads result records only and
never imports the policy front end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .diagnostics import CODES
from .rules import OUTCOMES

#: The identity and version of :meth:`Summary.to_dict`'s output.
FORMAT = "govpost.summary"
VERSION = 1

_RANK = {name: i for i, name in enumerate(OUTCOMES)}
_MONTH = re.compile(r"^\d{4}-\d{2}")
#: How unknown months and accounts appear in :meth:`Summary.to_dict`.
UNKNOWN = None


def _zero() -> list[int]:
    return [0] * len(OUTCOMES)


def _by_outcome(counts: list[int]) -> dict[str, int]:
    return {o: counts[i] for i, o in enumerate(OUTCOMES)}


def _natural(text: str) -> tuple[Any, ...]:
    """A sort key that puts clause number ``3.10(a)`` after ``3.9(b)``."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", text))


def evidence_term(ev: Mapping[str, Any]) -> str:
    """The term a piece of evidence counts under in a clause's top terms.

    A lexicon match counts as the lexicon entry it matched (``BJP``), a pattern
    match as its pattern (``pattern file_number``: matched text is unbounded),
    a date as the period it fell in, and any other value as ``field = value``.
    Every term is bounded by the rule set, so the counts stay small.
    """
    if "lexicon" in ev:
        return str(ev.get("entry") or ev.get("text"))
    if "pattern" in ev:
        return f"pattern {ev['pattern']}"
    if ev.get("field") == "posted_at":
        return f"posted during {ev['period']}" if "period" in ev else "posting date"
    value = ev.get("value")
    shown = value if isinstance(value, str) else ("true" if value is True else "false" if value is False else value)
    return f"{ev.get('field')} = {shown}"


class Summary:
    """Counts and bounded samples of a stream of check results and errors.

    Args:
        top_posts: how many posts with findings to keep (highest outcome first).
        max_errors: how many malformed records to keep (all are counted).
        top_terms: how many evidence terms per clause :meth:`to_dict` lists
            (all are counted, so merging stays exact).
    """

    __slots__ = ("top_posts", "max_errors", "top_terms", "records", "outcomes", "clauses", "topics",
                 "accounts", "months", "warnings", "error_records", "error_codes", "_errors", "_posts",
                 "_inputs", "_input_index", "_cutoff")

    def __init__(self, *, top_posts: int = 20, max_errors: int = 100, top_terms: int = 10):
        if top_posts < 0 or max_errors < 0 or top_terms < 0:
            raise ValueError("the limits of a summary are counts, zero or more")
        self.top_posts = top_posts
        self.max_errors = max_errors
        self.top_terms = top_terms
        self.records = 0
        self.outcomes = _zero()
        # clause id -> [number, title, topic, outcome, applied, decided, {term: posts}]
        self.clauses: dict[str, list[Any]] = {}
        self.topics: dict[str, list[int]] = {}
        # account handle (None: unknown) -> [kind, counts by outcome]
        self.accounts: dict[str | None, list[Any]] = {}
        self.months: dict[str | None, list[int]] = {}
        self.warnings: dict[str, int] = {}
        self.error_records = 0
        self.error_codes: dict[str, int] = {}
        self._errors: list[tuple[tuple[int, int], dict[str, Any]]] = []  # sorted by position
        self._posts: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
        self._inputs: list[str] = []
        self._input_index: dict[str, int] = {}
        self._cutoff: tuple[int, int, int] | None = None  # the key of the last kept post, once full

    # -- adding ------------------------------------------------------------

    def _position(self, record: Mapping[str, Any]) -> tuple[int, int]:
        name = record.get("input")
        name = "" if name is None else str(name)
        index = self._input_index.get(name)
        if index is None:
            index = self._input_index[name] = len(self._inputs)
            self._inputs.append(name)
        number = record.get("record")
        return index, number if isinstance(number, int) else self.records

    def add(self, record: Mapping[str, Any], post: Mapping[str, Any] | None = None) -> None:
        """Count one record: a check result, or a malformed record (it has ``errors``)."""
        if "errors" in record and "outcome" not in record:
            self.add_error(record)
        else:
            self.add_result(record, post)

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> Summary:
        """Count records in input order; returns the summary."""
        for record in records:
            self.add(record)
        return self

    def add_result(self, result: Mapping[str, Any], post: Mapping[str, Any] | None = None) -> None:
        """Count one check result, with the post it came from when the caller has it."""
        self.records += 1
        rank = _RANK[result["outcome"]]
        self.outcomes[rank] += 1
        # The record's own keys first (every result record has them, null when the post lacks the field);
        # the post only for records written before they existed.
        when = result["posted_at"] if "posted_at" in result else post.get("posted_at") if post is not None else None
        month = when[:7] if isinstance(when, str) and _MONTH.match(when) else UNKNOWN
        counts = self.months.get(month)
        if counts is None:
            counts = self.months[month] = _zero()
        counts[rank] += 1
        handle, kind = _account(result, post)
        entry = self.accounts.get(handle)
        if entry is None:
            entry = self.accounts[handle] = [kind, _zero()]
        elif entry[0] is None and kind is not None:
            entry[0] = kind
        entry[1][rank] += 1
        for w in result.get("warnings") or ():
            self.warnings[w["code"]] = self.warnings.get(w["code"], 0) + 1
        findings = result.get("findings")
        if not findings:
            return
        deciding = result.get("deciding") or ()
        seen_topics = set()
        for f in findings:
            cid = f["clause"]
            c = self.clauses.get(cid)
            if c is None:
                c = self.clauses[cid] = [f.get("number", ""), f.get("title", ""), f.get("topic"), f.get("outcome"),
                                         0, 0, {}]
            c[4] += 1
            if cid in deciding:
                c[5] += 1
            terms = c[6]
            for term in {evidence_term(ev) for ev in f.get("evidence") or ()}:
                terms[term] = terms.get(term, 0) + 1
            topic = f.get("topic")
            if topic is not None and topic not in seen_topics:
                seen_topics.add(topic)
                tc = self.topics.get(topic)
                if tc is None:
                    tc = self.topics[topic] = _zero()
                tc[rank] += 1
        if self.top_posts:
            index, number = self._position(result)
            key = (-rank, index, number)
            if self._cutoff is not None and key >= self._cutoff:
                return
            self._posts.append((key, _sample(result, post, month, handle)))
            if len(self._posts) >= 2 * self.top_posts:
                self._trim_posts()

    def add_error(self, error: Mapping[str, Any]) -> None:
        """Count one malformed record, as ``govpost check --errors`` writes it."""
        self.records += 1
        self.error_records += 1
        problems = error.get("errors") or [{"code": "R301", "field": "", "message": "malformed record"}]
        for code in dict.fromkeys(p.get("code", "") for p in problems):
            self.error_codes[code] = self.error_codes.get(code, 0) + 1
        if self.max_errors:
            key = self._position(error)
            if len(self._errors) >= self.max_errors and key >= self._errors[-1][0]:
                return
            out_of_order = bool(self._errors) and key < self._errors[-1][0]
            self._errors.append((key, {
                "input": error.get("input"),
                "record": error.get("record"),
                "line": error.get("line"),
                "errors": [{"code": p.get("code"), "field": p.get("field"), "message": p.get("message"),
                            **({"help": p["help"]} if p.get("help") else {})} for p in problems],
            }))
            if out_of_order or len(self._errors) > self.max_errors:
                self._errors.sort(key=lambda e: e[0])
                del self._errors[self.max_errors:]

    # -- combining ---------------------------------------------------------

    def merge(self, other: Summary) -> Summary:
        """Add another summary's counts to this one, exactly; returns this summary.

        ``other`` summarises the records that come after this summary's (the
        next partition or chunk), so that kept posts and errors stay in input
        order. The limits of this summary apply.
        """
        remap = [self._input_index.setdefault(name, len(self._input_index)) for name in other._inputs]
        for name in other._inputs:
            if name not in self._inputs:
                self._inputs.append(name)
        self.records += other.records
        self.outcomes = [a + b for a, b in zip(self.outcomes, other.outcomes, strict=True)]
        for cid, oc in other.clauses.items():
            c = self.clauses.get(cid)
            if c is None:
                self.clauses[cid] = [*oc[:6], dict(oc[6])]
                continue
            c[4] += oc[4]
            c[5] += oc[5]
            for term, n in oc[6].items():
                c[6][term] = c[6].get(term, 0) + n
        for table, otable in ((self.topics, other.topics), (self.months, other.months)):
            for key, counts in otable.items():
                mine = table.get(key)
                table[key] = list(counts) if mine is None else [a + b for a, b in zip(mine, counts, strict=True)]
        for handle, (kind, counts) in other.accounts.items():
            entry = self.accounts.get(handle)
            if entry is None:
                self.accounts[handle] = [kind, list(counts)]
            else:
                if entry[0] is None:
                    entry[0] = kind
                entry[1] = [a + b for a, b in zip(entry[1], counts, strict=True)]
        for table, otable in ((self.warnings, other.warnings), (self.error_codes, other.error_codes)):
            for key, n in otable.items():
                table[key] = table.get(key, 0) + n
        self.error_records += other.error_records
        for (index, number), error in other._errors:
            self._errors.append(((remap[index], number), error))
        self._errors.sort(key=lambda e: e[0])
        del self._errors[self.max_errors:]
        for (neg_rank, index, number), sample in other._posts:
            self._posts.append(((neg_rank, remap[index], number), sample))
        self._trim_posts()
        return self

    def _trim_posts(self) -> None:
        self._posts.sort(key=lambda p: p[0])
        del self._posts[self.top_posts:]
        if len(self._posts) == self.top_posts and self.top_posts:
            self._cutoff = self._posts[-1][0]

    # -- reading -----------------------------------------------------------

    @property
    def checked(self) -> int:
        """Records that were checked (every record that was not malformed)."""
        return self.records - self.error_records

    def outcome_counts(self) -> dict[str, int]:
        return _by_outcome(self.outcomes)

    def worst(self) -> str | None:
        """The highest outcome of any post, or None when no post was checked."""
        for i in range(len(OUTCOMES) - 1, -1, -1):
            if self.outcomes[i]:
                return OUTCOMES[i]
        return None

    def kept_posts(self) -> list[dict[str, Any]]:
        self._trim_posts()
        return [sample for _key, sample in self._posts]

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON data (described in docs/reports-and-dask.md); deterministic."""
        clauses = []
        for cid, (number, title, topic, outcome, applied, decided, terms) in sorted(
            self.clauses.items(), key=lambda kv: (_natural(str(kv[1][0])), kv[0])
        ):
            top = sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top_terms]
            clauses.append({
                "clause": cid, "number": number, "title": title, "topic": topic, "outcome": outcome,
                "posts": applied, "deciding": decided,
                "terms": [{"term": t, "posts": n} for t, n in top], "distinct_terms": len(terms),
            })
        topics = [
            {"topic": t, "posts": sum(c), "by_outcome": _by_outcome(c)}
            for t, c in sorted(self.topics.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        ]
        accounts = [
            {"account": h, "kind": kind, "posts": sum(c), "by_outcome": _by_outcome(c)}
            for h, (kind, c) in sorted(
                self.accounts.items(),
                key=lambda kv: ([-n for n in reversed(kv[1][1])], kv[0] is None, kv[0] or ""),
            )
        ]
        months = [
            {"month": m, "posts": sum(c), "by_outcome": _by_outcome(c)}
            for m, c in sorted(self.months.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ]
        errors = [error for _key, error in self._errors]
        return {
            "format": FORMAT,
            "version": VERSION,
            "records": self.records,
            "checked": self.checked,
            "malformed": self.error_records,
            "outcomes": self.outcome_counts(),
            "worst": self.worst(),
            "clauses": clauses,
            "topics": topics,
            "accounts": accounts,
            "months": months,
            "top_posts": self.kept_posts(),
            "top_posts_limit": self.top_posts,
            "errors": {
                "records": self.error_records,
                "by_code": [
                    {"code": code, "description": CODES.get(code, ""), "records": n}
                    for code, n in sorted(self.error_codes.items())
                ],
                "first": errors,
                "limit": self.max_errors,
            },
            "warnings": [{"code": code, "description": CODES.get(code, ""), "posts": n}
                         for code, n in sorted(self.warnings.items())],
            "inputs": list(self._inputs),
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Summary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Summary(records={self.records}, outcomes={self.outcome_counts()}, malformed={self.error_records})"


def _account(result: Mapping[str, Any], post: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """The account's handle and kind: the record's ``account`` (a handle, or an object in older records),
    else the post's; the kind, which a result record does not carry, from the post when at hand."""
    given = post.get("account") if post is not None else None
    given = given if isinstance(given, Mapping) else None
    account = result.get("account", given)
    if isinstance(account, Mapping):
        handle, kind = account.get("handle"), account.get("kind")
    else:
        handle, kind = (account if isinstance(account, str) else None), None
    if kind is None and given is not None and given.get("handle") == handle:
        kind = given.get("kind")
    return (handle if isinstance(handle, str) else None), (kind if isinstance(kind, str) else None)


def _sample(result: Mapping[str, Any], post: Mapping[str, Any] | None, month: str | None,
            handle: str | None) -> dict[str, Any]:
    """What a kept post shows: where it is, what decided it, and the words that did."""
    terms: list[str] = []
    for f in result.get("findings") or ():
        for ev in f.get("evidence") or ():
            term = ev.get("text") if "text" in ev else evidence_term(ev)
            if term not in terms:
                terms.append(term)
    text = (post or {}).get("text") if post is not None else result.get("text")
    if isinstance(text, str) and len(text) > 280:
        text = text[:280] + "…"
    return {
        "input": result.get("input"),
        "record": result.get("record"),
        "line": result.get("line"),
        "id": result.get("id"),
        "outcome": result["outcome"],
        "deciding": list(result.get("deciding") or ()),
        "clauses": [f["clause"] for f in result.get("findings") or ()],
        "terms": terms[:10],
        "month": month,
        "account": handle,
        "text": text if isinstance(text, str) else None,
    }


# ---------------------------------------------------------------------------
# Text for a terminal
# ---------------------------------------------------------------------------

_LABELS = {"permitted": "permitted", "advisory": "advisory", "requires_sanction": "requires sanction",
           "prohibited": "prohibited"}
_SHORT = {"permitted": "permitted", "advisory": "advisory", "requires_sanction": "sanction", "prohibited": "prohibited"}
_STYLE = {"permitted": "green", "advisory": "yellow", "requires_sanction": "magenta", "prohibited": "red"}


def render_summary_text(summary: Summary | Mapping[str, Any], *, color: bool = False, limit: int = 10) -> str:
    """The summary for a terminal: totals, outcomes, clauses, topics, months, accounts, posts, errors.

    ``limit`` bounds the rows of each table (accounts, posts, errors);
    ``color`` colours outcome names. Tables are drawn by :func:`toolkit.terminal.table`.
    """
    from .terminal import table

    data = summary.to_dict() if isinstance(summary, Summary) else summary

    def outcome(o: str) -> tuple[str, str]:
        return (_LABELS[o], _STYLE[o])

    def pct(n: int, total: int) -> str:
        return f"{100 * n / total:.1f}%" if total else "-"

    out: list[str] = []
    total, checked = data["records"], data["checked"]
    out.append(f"{total} records: {checked} checked, {data['malformed']} malformed")
    out.append("")
    out.append("outcomes")
    out += table(([outcome(o), str(data["outcomes"][o]), pct(data["outcomes"][o], checked)] for o in OUTCOMES),
                 [("outcome", "left"), ("posts", "right"), ("share", "right")], header=False, color=color)

    if data["clauses"]:
        out.append("")
        out.append("clauses applied")
        out += table(([f"{c['number']} {c['clause']}", str(c["posts"]), str(c["deciding"]), outcome(c["outcome"]),
                       ", ".join(f"{t['term']} ({t['posts']})" for t in c["terms"][:5])] for c in data["clauses"]),
                     [("clause", "left"), ("posts", "right"), ("deciding", "right"), ("outcome", "left"),
                      ("top terms (posts)", "left")], color=color)

    if data["topics"]:
        out.append("")
        out.append("topics (posts a clause of the topic applied to)")
        out += table(([t["topic"], str(t["posts"])] for t in data["topics"]), [("topic", "left"), ("posts", "right")],
                     header=False, color=color)

    def by_outcome(title: str, rows: list[dict[str, Any]], key: str, unknown: str) -> None:
        if not rows:
            return
        out.append("")
        out.append(title)
        out.extend(table(([unknown if r[key] is None else str(r[key]), str(r["posts"]),
                           *(str(r["by_outcome"][o]) for o in OUTCOMES)] for r in rows[:limit]),
                         [(key, "left"), ("posts", "right"), *((_SHORT[o], "right") for o in OUTCOMES)],
                         color=color))
        if len(rows) > limit:
            out.append(f"  … and {len(rows) - limit} more")

    months = data["months"]
    by_outcome("per month", months if len(months) <= 36 else months[-36:], "month", "(no date)")
    by_outcome("per account (most flagged first)", data["accounts"], "account", "(no handle)")

    posts = data["top_posts"][:limit]
    if posts:
        out.append("")
        out.append("posts at the highest outcome")
        rows = []
        for p in posts:
            where = f"{p['input']}:{p['line']}" if p.get("input") else f"record {p['record']}"
            ident = f" (post {p['id']})" if p.get("id") is not None else ""
            rows.append([outcome(p["outcome"]), f"{where}{ident}: {', '.join(p['deciding'])}"
                         + (f" — {', '.join(p['terms'][:5])}" if p["terms"] else "")])
        out += table(rows, [("outcome", "left"), ("post", "left")], header=False, color=color)

    errors = data["errors"]
    if errors["records"]:
        out.append("")
        out.append(f"malformed records: {errors['records']}")
        for e in errors["by_code"]:
            out.append(f"  {e['code']} {e['description']}: {e['records']}")
        for e in errors["first"][:limit]:
            for p in e["errors"]:
                out.append(f"  {e['input']}:{e['line']}: error[{p['code']}]: record {e['record']}: {p['message']}")
        if errors["records"] > min(limit, len(errors["first"])):
            out.append(f"  … {errors['records'] - min(limit, len(errors['first']))} more not shown")
    if data["warnings"]:
        out.append("")
        out.append("warnings")
        for w in data["warnings"]:
            out.append(f"  {w['code']} {w['description']}: {w['posts']} posts")
    return "\n".join(out) + "\n"


__all__ = ["FORMAT", "VERSION", "Summary", "evidence_term", "render_summary_text"]
