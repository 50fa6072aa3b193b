"""Checking a draft before it is posted: the verdict, the evidence in the officer's own words,
the advice, and the counterfactual, all computed by the checker.

Nothing here keeps the draft: :func:`check_draft` returns a value and
forgets it. The counterfactual ("without the words *X*, this would be
permitted") is found by checking the draft again with words taken out, never
guessed: the words named are a minimal set (put any one of them back and
the outcome goes up again), and the outcome named is the checker's for the
draft without them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from ..posts import Problem, validate
from ..postschema import ACCOUNT_KINDS, PLATFORMS, SOURCE_KINDS
from ..rules import OUTCOMES
from .catalogue import ServedPolicy

#: The actions the check page offers (a subset of the post schema's).
ACTIONS = ("post", "reply", "share", "like")
#: Fields of a post the officer types, whose evidence can be highlighted and taken out.
TYPED_FIELDS = ("text", "shared_from.text")
#: The longest draft accepted, in characters (a Facebook post may hold 63,206).
MAX_DRAFT_CHARS = 20_000
#: At most this many evidence spans are tried one by one for the counterfactual.
MAX_SPANS = 48

_RANK = {name: i for i, name in enumerate(OUTCOMES)}


class DraftError(ValueError):
    """A draft the form cannot make into a post: the reason, for the page."""


@dataclass
class Draft:
    """What the officer entered."""

    text: str = ""
    platform: str = "x"
    account: str = "personal"
    action: str = "post"
    shared_kind: str = ""
    shared_text: str = ""
    posted_at: str = ""  # a datetime-local value (YYYY-MM-DDTHH:MM) in the policy's time zone, or empty: now

    @classmethod
    def from_form(cls, form: Any) -> Draft:
        """A draft from form fields (missing ones take their defaults); raises :class:`DraftError`."""

        def get(name: str, default: str = "") -> str:
            value = form.get(name, default)
            return value if isinstance(value, str) else default

        draft = cls(text=get("text"), platform=get("platform", "x"), account=get("account", "personal"),
                    action=get("action", "post"), shared_kind=get("shared_kind"), shared_text=get("shared_text"),
                    posted_at=get("posted_at").strip())
        draft.validate()
        return draft

    def validate(self) -> None:
        if len(self.text) > MAX_DRAFT_CHARS or len(self.shared_text) > MAX_DRAFT_CHARS:
            raise DraftError(f"a draft may have at most {MAX_DRAFT_CHARS:,} characters")
        for name, value, allowed in (("platform", self.platform, PLATFORMS), ("account", self.account, ACCOUNT_KINDS),
                                     ("action", self.action, ACTIONS)):
            if value not in allowed:
                raise DraftError(f"`{value}` is not a {name} the check knows")
        if self.shared_kind and self.shared_kind not in SOURCE_KINDS:
            raise DraftError(f"`{self.shared_kind}` is not a kind of shared content the check knows")

    def post(self, timezone: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """The post as the checker reads it; ``posted_at`` is the time given, or now, in the policy's zone."""
        zone = zoneinfo.ZoneInfo(timezone)
        if self.posted_at:
            try:
                moment = dt.datetime.fromisoformat(self.posted_at)
            except ValueError:
                raise DraftError(f"`{self.posted_at}` is not a date and time such as 2026-07-01T10:30") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
        else:
            moment = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
        post: dict[str, Any] = {"text": self.text, "platform": self.platform, "action": self.action,
                                "account": {"kind": self.account},
                                "posted_at": moment.replace(microsecond=0).isoformat()}
        if self.shared_kind or self.shared_text:
            post["shared_from"] = {"kind": self.shared_kind or "other"}
            if self.shared_text:
                post["shared_from"]["text"] = self.shared_text
        return post


@dataclass
class Mark:
    """A stretch of a typed field: plain, or evidence for some clauses."""

    text: str
    clauses: list[str] = field(default_factory=list)  # clause numbers
    outcome: str | None = None  # the strongest outcome among them


@dataclass
class Counterfactual:
    """Words whose removal lowers the outcome, confirmed by the checker."""

    words: list[tuple[str, str]]  # (field, the words as typed)
    outcome: str  # the checker's outcome for the draft without them
    authority: str | None = None


@dataclass
class DraftResult:
    """A checked draft: everything the page shows, nothing kept."""

    policy: ServedPolicy
    post: dict[str, Any]
    verdict: Any  # toolkit.evaluate.Verdict
    marks: dict[str, list[Mark]]  # typed field → its stretches
    other_evidence: list[dict[str, Any]]  # evidence outside the typed fields (labels, dates, accounts)
    counterfactual: Counterfactual | None
    with_sanction: str | None  # the outcome once the sanction the draft needs is obtained
    channels: list[str]  # topics whose channels apply
    findings: list[dict[str, Any]]  # each finding with its clause summary

    @property
    def outcome(self) -> str:
        return str(self.verdict.outcome)

    def facts(self, lang: str) -> list[str]:
        """The evidence outside the typed words, in words: "Account: Personal", "Posted during mcc_2029"."""
        from .i18n import gettext, has_key

        names = {"account.kind": ("check.account", "account."), "action": ("check.action", "action."),
                 "platform": ("check.platform", "platform."), "shared_from.kind": ("check.shared_kind", "shared."),
                 "posted_at": ("check.posted_at", None)}
        out = []
        for ev in self.other_evidence:
            if not isinstance(ev.get("field"), str):
                continue  # a kind of evidence that names no field of the post
            name = ev["field"]
            label, prefix = names.get(name, (None, None))
            value = ev.get("value", "")
            shown = gettext(lang, prefix + str(value)) if prefix and has_key(prefix + str(value)) else str(value)
            if ev.get("period"):
                shown += f" ({ev['period']})"
            out.append(f"{gettext(lang, label).split(' (')[0] if label else name}: {shown}")
        return list(dict.fromkeys(out))

    def found_words(self) -> list[tuple[str, list[str]]]:
        """Each distinct stretch of evidence in the typed fields, with the clauses it counts for."""
        found: dict[str, list[str]] = {}
        for marks in self.marks.values():
            for m in marks:
                if m.clauses:
                    numbers = found.setdefault(m.text, [])
                    numbers.extend(n for n in m.clauses if n not in numbers)
        return list(found.items())

    @property
    def authority(self) -> str | None:
        for f in self.findings:
            if f["outcome"] == self.outcome and f.get("authority"):
                return str(f["authority"].get("title"))
        return None


def check_draft(policy: ServedPolicy, draft: Draft, now: dt.datetime | None = None) -> DraftResult:
    """Check a draft against a served policy.

    Raises:
        DraftError: the draft cannot be made into a valid post (an impossible date, say).
    """
    record = draft.post(policy.timezone, now)
    post, problems = validate(record)
    if post is None:
        raise DraftError(_problem_text(problems))
    checker = policy.checker
    verdict = checker.check_post(post)
    default = policy.default_outcome
    findings = []
    for f in verdict.findings:
        findings.append({**f, "summary": policy.clauses.get(f["clause"])})
    marks = {name: highlight(_value(post, name), _spans(verdict.findings, name)) for name in TYPED_FIELDS
             if _value(post, name)}
    other = [ev for f in verdict.findings for ev in f["evidence"]
             if not _is_span(ev) or ev["field"] not in TYPED_FIELDS]
    counterfactual = None
    with_sanction = None
    if _RANK[verdict.outcome] > _RANK[default]:
        counterfactual = find_counterfactual(checker, post, verdict, default)
        if verdict.outcome == "requires_sanction":
            sanctioned = dict(post, sanction={"obtained": True})
            with_sanction = checker.check_post(sanctioned).outcome
    topics = []
    for f in verdict.findings:
        if _RANK[f["outcome"]] > _RANK[default] and f["topic"] in policy.channels and f["topic"] not in topics:
            topics.append(f["topic"])
    return DraftResult(policy, record, verdict, marks, _unique(other), counterfactual, with_sanction, topics,
                       findings)


def _problem_text(problems: list[Problem]) -> str:
    p = problems[0]
    return f"{p.path}: {p.message}" if p.path else p.message


def _value(post: dict[str, Any], name: str) -> str:
    head, _, rest = name.partition(".")
    value = post.get(head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _is_span(ev: dict[str, Any]) -> bool:
    """Evidence that points into a text: a field and two offsets (any other keys are kept as they are)."""
    return (isinstance(ev.get("field"), str) and isinstance(ev.get("start"), int)
            and isinstance(ev.get("end"), int) and 0 <= ev["start"] < ev["end"])


def _spans(findings: list[dict[str, Any]], name: str) -> list[tuple[int, int, str, str]]:
    out = []
    for f in findings:
        for ev in f["evidence"]:
            if _is_span(ev) and ev["field"] == name:
                out.append((ev["start"], ev["end"], f["number"], f["outcome"]))
    return out


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = set()
    out = []
    for item in items:
        key = tuple(sorted((k, str(v)) for k, v in item.items()))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def highlight(text: str, spans: list[tuple[int, int, str, str]]) -> list[Mark]:
    """A text cut into plain stretches and evidence, overlapping spans merged at their boundaries.

    Each stretch of evidence names the clauses whose evidence covers it and the strongest of their outcomes.
    """
    if not spans:
        return [Mark(text)]
    cuts = sorted({0, len(text), *(min(s, len(text)) for s, _e, _n, _o in spans),
                   *(min(e, len(text)) for _s, e, _n, _o in spans)})
    out: list[Mark] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a == b:
            continue
        covering = [(n, o) for s, e, n, o in spans if s <= a and b <= e]
        numbers = list(dict.fromkeys(n for n, _o in covering))
        outcome = max((o for _n, o in covering), key=_RANK.__getitem__, default=None)
        piece = Mark(text[a:b], numbers, outcome)
        if out and out[-1].clauses == piece.clauses and out[-1].outcome == piece.outcome:
            out[-1].text += piece.text
        else:
            out.append(piece)
    return out


def _without(post: dict[str, Any], spans: list[tuple[str, int, int]]) -> dict[str, Any]:
    """The post with these stretches of its typed fields blanked out (one space each, so words never join)."""
    copy = dict(post)
    by_field: dict[str, list[tuple[int, int]]] = {}
    for name, s, e in spans:
        by_field.setdefault(name, []).append((s, e))
    for name, cuts in by_field.items():
        value = _value(post, name)
        pieces = []
        pos = 0
        for s, e in sorted(cuts):
            if s > pos:
                pieces.append(value[pos:s])
            pieces.append(" ")
            pos = max(pos, e)
        pieces.append(value[pos:])
        text = "".join(pieces)
        head, _, rest = name.partition(".")
        if rest:
            copy[head] = dict(copy[head], **{rest: text})
        else:
            copy[head] = text
    return copy


def find_counterfactual(checker: Any, post: dict[str, Any], verdict: Any, default: str) -> Counterfactual | None:
    """A minimal set of evidence words whose removal lowers the outcome, and the outcome without them.

    All the typed evidence of the findings above the default outcome is taken out and the draft
    checked again; if that lowers the outcome, each stretch is put back in turn and kept out
    only if putting it back raises the outcome again. Every outcome named was computed by the
    checker for the draft without exactly those words. None when taking out every such word
    does not lower the outcome (an account or a date decides it, not words).
    """
    spans: list[tuple[str, int, int]] = []
    for f in verdict.findings:
        if _RANK[f["outcome"]] <= _RANK[default]:
            continue
        for ev in f["evidence"]:
            if _is_span(ev) and ev["field"] in TYPED_FIELDS:
                spans.append((ev["field"], ev["start"], ev["end"]))
    spans = _merge(spans)[:MAX_SPANS]
    if not spans:
        return None
    rank = _RANK[verdict.outcome]
    lowest = checker.check_post(_without(post, spans))
    target = _RANK[lowest.outcome]
    if target >= rank:
        return None
    kept = list(spans)
    for span in list(spans):
        trial = [s for s in kept if s != span]
        if trial and _RANK[checker.check_post(_without(post, trial)).outcome] <= target:
            kept = trial
    final = checker.check_post(_without(post, kept))
    authority = None
    for f in final.findings:
        if f["outcome"] == final.outcome and f.get("authority"):
            authority = f["authority"].get("title")
    words = list(dict.fromkeys((name, _value(post, name)[s:e]) for name, s, e in kept))
    return Counterfactual(words, final.outcome, authority)


def _merge(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Overlapping or touching stretches of one field made one, in order."""
    out: list[tuple[str, int, int]] = []
    for name, s, e in sorted(set(spans)):
        if out and out[-1][0] == name and s <= out[-1][2]:
            out[-1] = (name, out[-1][1], max(e, out[-1][2]))
        else:
            out.append((name, s, e))
    return out
