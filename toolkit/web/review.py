"""The review queue: importing check results, listing cases, recording decisions, exporting them.

A case is one checked post under one rule set; importing the same results
twice adds nothing (cases are keyed by post id and rule-set hash). A
decision is written with the version of the case the reviewer saw: when
another reviewer decided first, the second gets a :class:`Conflict`, never a
lost update. Labels a reviewer sets are checked again by the case's own rule
set, so the outcome shown with them is the checker's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from ..posts import frame_json_lines, validate
from ..rules import OUTCOMES
from .store import DECISIONS, STATUS_AFTER, Case, CaseFinding, Decision, RuleSet, Store, User, utcnow

_RANK = {name: i for i, name in enumerate(OUTCOMES)}
#: Cases on one page of the queue.
PAGE = 50


class ReviewError(ValueError):
    """Input the queue cannot take: ``code`` (registered in toolkit.diagnostics.CODES) and the reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Conflict(Exception):
    """Another reviewer decided the case after this one was shown; ``latest`` is their decision."""

    def __init__(self, case_id: int, latest: Decision | None):
        super().__init__(f"case {case_id} was decided by another reviewer while you were looking at it")
        self.case_id = case_id
        self.latest = latest


# ---------------------------------------------------------------------------
# Rule sets and checkers
# ---------------------------------------------------------------------------

_CHECKERS: dict[str, Any] = {}


def checker_for(ruleset: dict[str, Any]) -> Any:
    """A checker for a stored rule set, made once per process."""
    from ..evaluate import Checker

    key = str(ruleset["content_hash"])
    if key not in _CHECKERS:
        if len(_CHECKERS) > 32:
            _CHECKERS.clear()
        _CHECKERS[key] = Checker(ruleset)
    return _CHECKERS[key]


def ensure_rule_set(store: Store, ruleset: dict[str, Any]) -> str:
    """Store a rule set once, by its content hash; returns the hash."""
    key = str(ruleset["content_hash"])
    with store.session() as s:
        if s.get(RuleSet, key) is None:
            s.add(RuleSet(hash=key, policy_id=ruleset["policy"]["id"], title=ruleset["policy"]["title"],
                          body=ruleset, added_at=utcnow()))
            try:
                s.commit()
            except IntegrityError:  # stored by another process meanwhile
                s.rollback()
    return key


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


class PostIndex:
    """The posts that results refer to, by id and by (input, line)."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_place: dict[tuple[str, int], dict[str, Any]] = {}
        self.read: set[str] = set()

    def add_text(self, name: str, text: str) -> None:
        """Index the posts of one JSON Lines text (malformed lines are left out: the results name them)."""
        self.read.add(name)
        for _index, line, value, problem in frame_json_lines(text.splitlines(keepends=True)):
            if problem is None and isinstance(value, dict):
                self.by_place[(name, line)] = value
                if value.get("id") is not None:
                    self.by_id.setdefault(str(value["id"]), value)

    def add_file(self, path: str | Path, name: str | None = None) -> None:
        path = Path(path)
        self.add_text(name or str(path), path.read_text(encoding="utf-8"))

    def find(self, result: dict[str, Any]) -> dict[str, Any] | None:
        place = (str(result.get("input")), result.get("line"))
        if place in self.by_place:  # type: ignore[comparison-overlap]
            return self.by_place[place]  # type: ignore[index]
        if result.get("id") is not None:
            return self.by_id.get(str(result["id"]))
        return None


def inputs_named(results_text: str) -> list[str]:
    """The inputs a results file names (its records' ``input``), in order of appearance."""
    names: dict[str, None] = {}
    for line in results_text.splitlines():
        match = re.search(r'"input":\s*"((?:[^"\\]|\\.)*)"', line)
        if match:
            names.setdefault(json.loads(f'"{match.group(1)}"'), None)
    return list(names)


@dataclass
class ImportReport:
    """What an import did, record by record."""

    read: int = 0
    added: int = 0
    already: int = 0
    permitted: int = 0
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    without_post: int = 0
    mismatched: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def lines(self) -> list[str]:
        out = [f"{self.read} records read: {self.added} cases added, {self.already} already in the queue, "
               f"{self.permitted} permitted (not queued)"]
        if self.without_post:
            out.append(f"{self.without_post} cases without their post (give the posts file with --posts): "
                       "their evidence is shown without the text, and labels cannot be re-checked")
        return out


def post_key(result: dict[str, Any], post: dict[str, Any] | None) -> str:
    """What identifies a post in the queue: its id; else a hash of the post; else its input and record number."""
    if result.get("id") is not None:
        return str(result["id"])[:255]
    if post is not None:
        digest = hashlib.sha256(json.dumps(post, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return f"sha256:{digest}"
    return f"{result.get('input')}#{result.get('record')}"[:255]


def _result_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "not a JSON object"
    if "errors" in value and "outcome" not in value:
        return "an error record of a malformed post"
    if value.get("outcome") not in OUTCOMES:
        return "no `outcome` of a check result"
    if not isinstance(value.get("findings"), list) or not isinstance(value.get("deciding"), list):
        return "no `findings` and `deciding` of a check result"
    for f in value["findings"]:
        if not isinstance(f, dict) or not isinstance(f.get("clause"), str) or f.get("outcome") not in OUTCOMES:
            return "a finding without its `clause` and `outcome`"
    return None


def import_results(store: Store, ruleset: dict[str, Any], results_text: str, posts: PostIndex, *,
                   include_permitted: bool = False, source: str = "import") -> ImportReport:
    """Add the results of ``govpost check`` (JSON Lines) to the queue, as cases under ``ruleset``.

    A result whose post is known is checked again with the rule set: a different outcome means the
    results came from another rule set, and the record is refused (R310). Error records (malformed
    posts) and lines that are not results are reported (R309), and the others still imported.
    """
    rule_set_hash = ensure_rule_set(store, ruleset)
    checker = checker_for(ruleset)
    report = ImportReport()
    default_rank = _RANK[ruleset["policy"]["default_outcome"]]
    rows: list[Case] = []
    for _index, line, value, problem in frame_json_lines(results_text.splitlines(keepends=True)):
        report.read += 1
        if problem is not None:
            report.malformed.append((line, f"error[R309]: {problem.message}"))
            continue
        reason = _result_problem(value)
        if reason is not None:
            report.malformed.append((line, f"error[R309]: {reason}"))
            continue
        if _RANK[value["outcome"]] <= default_rank and not include_permitted:
            report.permitted += 1
            continue
        post = posts.find(value)
        if post is not None:
            checked, problems = validate(post)
            if checked is None:
                report.mismatched.append((line, f"error[R310]: its post is not valid: {problems[0].message}"))
                continue
            again = checker.check_post(checked)
            if again.outcome != value["outcome"] or again.deciding != value["deciding"]:
                report.mismatched.append((line, f"error[R310]: the rule set `{ruleset['policy']['id']}` gives "
                                               f"`{again.outcome}`, not `{value['outcome']}`: the results come "
                                               "from another version of the policy"))
                continue
        else:
            report.without_post += 1
        rows.append(_case(rule_set_hash, value, post, source))
    with store.session() as s:
        keys = [c.post_key for c in rows]
        present = set()
        for start in range(0, len(keys), 500):
            present.update(s.scalars(select(Case.post_key).where(
                Case.rule_set_hash == rule_set_hash, Case.post_key.in_(keys[start:start + 500]))))
        for case in rows:
            if case.post_key in present:
                report.already += 1
                continue
            present.add(case.post_key)
            s.add(case)
            report.added += 1
        s.commit()
    return report


def _case(rule_set_hash: str, result: dict[str, Any], post: dict[str, Any] | None, source: str) -> Case:
    posted_at = result.get("posted_at") or (post or {}).get("posted_at")
    account = result.get("account")
    if account is None and post is not None:
        account = ((post.get("account") or {}).get("handle"))
    now = utcnow()
    keep = {k: result.get(k) for k in ("id", "outcome", "deciding", "findings", "excepted", "warnings")
            if k in result}
    case = Case(rule_set_hash=rule_set_hash, post_key=post_key(result, post), post=post, result=keep,
                outcome=result["outcome"], rank=_RANK[result["outcome"]],
                account=str(account)[:255] if account is not None else None,
                platform=result.get("platform") or (post or {}).get("platform"),
                posted_at=str(posted_at) if posted_at else None,
                month=str(posted_at)[:7] if posted_at and re.match(r"\d{4}-\d{2}", str(posted_at)) else None,
                source=source, status="open", version=1, created_at=now, updated_at=now)
    case.findings = [CaseFinding(clause=f["clause"], number=str(f.get("number", "")), topic=str(f.get("topic", "")),
                                 outcome=f["outcome"]) for f in result["findings"]]
    return case


def save_draft(store: Store, ruleset: dict[str, Any], post: dict[str, Any], verdict: Any) -> int:
    """A draft the officer asked to keep, as a case of the queue; returns its number."""
    rule_set_hash = ensure_rule_set(store, ruleset)
    result = verdict.to_json()
    record = {k: v for k, v in post.items() if k != "id"}
    case = _case(rule_set_hash, {**result, "id": None}, record, "saved")
    case.post_key = f"draft-{secrets.token_hex(8)}"
    with store.session() as s:
        s.add(case)
        s.commit()
        return case.id


# ---------------------------------------------------------------------------
# The queue
# ---------------------------------------------------------------------------


@dataclass
class Filters:
    """What the queue shows: every filter optional."""

    outcome: str = ""
    topic: str = ""
    clause: str = ""
    account: str = ""
    month: str = ""
    status: str = "open"  # open, decided, all
    page: int = 1

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        def get(name: str, default: str = "") -> str:
            value = query.get(name, default)
            return value[:200] if isinstance(value, str) else default

        try:
            page = max(1, min(10_000, int(get("page", "1") or 1)))
        except ValueError:
            page = 1
        status = get("status", "open")
        return cls(get("outcome"), get("topic"), get("clause"), get("account"), get("month"),
                   status if status in ("open", "decided", "all") else "open", page)

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {**self.__dict__, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)})


def list_cases(store: Store, filters: Filters) -> tuple[list[Case], int]:
    """One page of the queue, highest outcome first (then the latest post first), and how many match."""
    conditions = []
    if filters.outcome in OUTCOMES:
        conditions.append(Case.outcome == filters.outcome)
    if filters.account:
        conditions.append(Case.account == filters.account)
    if filters.month:
        conditions.append(Case.month == filters.month)
    if filters.status == "open":
        conditions.append(Case.status.in_(("open", "escalated")))
    elif filters.status == "decided":
        conditions.append(Case.status.in_(("agreed", "disagreed")))
    if filters.topic or filters.clause:
        sub = select(CaseFinding.case_id)
        if filters.topic:
            sub = sub.where(CaseFinding.topic == filters.topic)
        if filters.clause:
            sub = sub.where(CaseFinding.clause == filters.clause)
        conditions.append(Case.id.in_(sub))
    where = and_(*conditions) if conditions else None
    with store.session() as s:
        count_q = select(func.count(Case.id))
        page_q = select(Case).order_by(Case.rank.desc(), Case.posted_at.desc(), Case.id)
        if where is not None:
            count_q = count_q.where(where)
            page_q = page_q.where(where)
        total = s.scalar(count_q) or 0
        cases = list(s.scalars(page_q.offset((filters.page - 1) * PAGE).limit(PAGE)))
        for c in cases:
            _ = c.findings  # loaded while the session is open
    return cases, total


def facets(store: Store) -> dict[str, list[str]]:
    """The values the filters offer: topics, clauses, accounts and months present in the queue."""
    with store.session() as s:
        return {
            "topic": sorted(t for t in s.scalars(select(CaseFinding.topic).distinct()) if t),
            "clause": sorted(t for t in s.scalars(select(CaseFinding.clause).distinct()) if t),
            "account": sorted(t for t in s.scalars(select(Case.account).distinct()) if t)[:500],
            "month": sorted((t for t in s.scalars(select(Case.month).distinct()) if t), reverse=True),
        }


def get_case(store: Store, case_id: int) -> Case | None:
    with store.session() as s:
        case = s.get(Case, case_id)
        if case is not None:
            _ = case.findings, case.decisions, case.rule_set
        return case


def recheck(case: Case, labels: list[str]) -> Any:
    """The case's post checked again by its rule set with these labels added; None without the post."""
    if case.post is None:
        return None
    record = dict(case.post)
    record["labels"] = sorted(set(record.get("labels") or []) | set(labels))
    post, _problems = validate(record)
    if post is None:
        return None
    return checker_for(case.rule_set.body).check_post(post)


def decide(store: Store, case_id: int, seen_version: int, user: User, decision: str, *, reason: str = "",
           right_outcome: str = "", labels: Iterable[str] = (), notes: str = "") -> Decision:
    """Record a decision on a case, as seen at ``seen_version``.

    Raises:
        ReviewError: the decision is incomplete (a disagreement needs a reason and the right outcome)
            or names labels the rule set does not declare.
        Conflict: the case changed since it was shown.
    """
    if decision not in DECISIONS:
        raise ReviewError("W705", f"`{decision}` is not a decision: choose agree, disagree or escalate")
    reason, notes = reason.strip()[:4000], notes.strip()[:4000]
    if decision == "disagree" and not reason:
        raise ReviewError("W705", "say why you disagree")
    if decision == "disagree" and right_outcome not in OUTCOMES:
        raise ReviewError("W705", "choose the outcome the post should have")
    case = get_case(store, case_id)
    if case is None:
        raise ReviewError("W705", f"there is no case {case_id}")
    declared = case.rule_set.body["labels"]
    chosen = sorted(set(labels))
    unknown = [lb for lb in chosen if lb not in declared]
    if unknown:
        raise ReviewError("W705", f"`{unknown[0]}` is not a label of this policy")
    rechecked = recheck(case, chosen) if chosen else None
    with store.session() as s:
        changed = s.execute(
            update(Case).where(Case.id == case_id, Case.version == seen_version)
            .values(version=Case.version + 1, status=STATUS_AFTER[decision], updated_at=utcnow())
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            latest = s.scalars(select(Decision).where(Decision.case_id == case_id).order_by(Decision.id.desc())
                               ).first()
            raise Conflict(case_id, latest)
        record = Decision(case_id=case_id, username=user.username, at=utcnow(), decision=decision,
                          reason=reason or None, right_outcome=right_outcome if decision == "disagree" else None,
                          labels=chosen, outcome_with_labels=rechecked.outcome if rechecked is not None else None,
                          notes=notes or None, rule_set_hash=case.rule_set_hash, case_version=seen_version)
        s.add(record)
        s.commit()
        return record


# ---------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------

EXPORT_FIELDS = ("decision", "case", "post_id", "policy", "rule_set_hash", "reviewer", "at", "choice", "reason",
                 "right_outcome", "labels", "outcome_with_labels", "notes", "checker_outcome", "deciding")


def _decisions(store: Store) -> Iterator[tuple[Decision, Case]]:
    with store.session() as s:
        rows = s.execute(select(Decision, Case).join(Case, Decision.case_id == Case.id).order_by(Decision.id))
        for d, c in rows:
            _ = c.rule_set
            yield d, c


def _row(d: Decision, c: Case) -> dict[str, Any]:
    return {
        "decision": d.id, "case": c.id, "post_id": c.post_key, "policy": c.rule_set.policy_id,
        "rule_set_hash": d.rule_set_hash, "reviewer": d.username, "at": d.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "choice": d.decision, "reason": d.reason, "right_outcome": d.right_outcome, "labels": list(d.labels),
        "outcome_with_labels": d.outcome_with_labels, "notes": d.notes, "checker_outcome": c.outcome,
        "deciding": list(c.result.get("deciding") or []),
    }


def export_jsonl(store: Store) -> str:
    """Every decision, oldest first, one JSON object a line (the same database gives the same bytes)."""
    return "".join(json.dumps(_row(d, c), ensure_ascii=False, sort_keys=False) + "\n" for d, c in _decisions(store))


def export_csv(store: Store) -> str:
    """Every decision, oldest first, as CSV with a header; lists joined with `|`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for d, c in _decisions(store):
        row = _row(d, c)
        row["labels"] = "|".join(row["labels"])
        row["deciding"] = "|".join(row["deciding"])
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$")


def _literal(value: Any, bare: bool = False) -> str:
    from ..printer import quote

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, bare) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v, k in _BARE)}" for k, v in value.items() if v is not None) + "}"
    text = " ".join(str(value).split())
    if bare and _NAME.match(text):
        return text
    if re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$", text):
        return text
    return quote(text)


# Fields whose values are names of the language (enumerations and labels), written bare.
_BARE = {"platform", "action", "audience", "kind", "labels"}


def post_literal(post: dict[str, Any]) -> str:
    """A post in the example syntax of the policy language: ``{ text: "…", platform: x, account.kind: personal }``."""
    parts = []
    for key, value in post.items():
        if value is None or key == "id" or value == []:
            continue
        if isinstance(value, dict) and key != "media":
            for sub, v in value.items():
                if v is not None:
                    parts.append(f"{key}.{sub}: {_literal(v, sub in _BARE)}")
        else:
            parts.append(f"{key}: {_literal(value, key in _BARE)}")
    return "{ " + ", ".join(parts) + " }"


def _expect(outcome: str) -> str:
    return "requires sanction" if outcome == "requires_sanction" else outcome


def export_examples(store: Store) -> str:
    """Every disagreement as a candidate worked example, in the policy's example syntax, for the drafters.

    The example expects the outcome the reviewer gave; its comment says what the checker decided and
    why the reviewer disagreed. A case without its post cannot become an example and is listed as a
    comment.
    """
    out = ["# Candidate worked examples from reviewers' disagreements (govpost review export --format examples).",
           "# Each expects the outcome the reviewer gave; paste it into the clause it belongs to.", ""]
    for d, c in _decisions(store):
        if d.decision != "disagree":
            continue
        deciding = ", ".join(c.result.get("deciding") or []) or "no clause"
        out.append(f"# Case {c.id}, post {c.post_key}, rule set {d.rule_set_hash[:19]}; "
                   f"{d.username} on {d.at.strftime('%Y-%m-%d')}:")
        out.append(f"# the checker gave {c.outcome} ({deciding}); the reviewer: {' '.join((d.reason or '').split())}")
        if c.post is None:
            out.append("# (the post was not imported, so it cannot be written as an example)")
            out.append("")
            continue
        record = dict(c.post)
        if d.labels:
            record["labels"] = sorted(set(record.get("labels") or []) | set(d.labels))
        from ..printer import quote

        out.append(f"example {quote(f'Reviewer disagreement on post {c.post_key}')}")
        out.append(f"    {post_literal(record)}")
        out.append(f"    expect {_expect(d.right_outcome or 'permitted')}")
        out.append("")
    return "\n".join(out)
