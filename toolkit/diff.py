"""Semantic diff of two versions of a policy, for code review.

Clauses are matched by their stable ids, so a clause that moved or was
renumbered is reported as such, not as a removal and an addition. Every
report carries the **behavioural verdict** of the whole change (equivalent,
stricter, looser, mixed) and of each changed clause, decided exactly by
:mod:`toolkit.analysis`, with witness posts that the checker confirmed.

The result is data (:class:`PolicyDiff`); :mod:`toolkit.diff_render` turns
it into text, Markdown, JSON or an HTML redline.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import model as m
from .analysis import Analyzer, Relation
from .metadata import SCHEMA
from .operators import uses
from .printer import condition as print_condition
from .printer import outcome as print_outcome
from .printer import post as print_post
from .printer import text as print_text

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Redline:
    """A word-level diff: (op, text) pieces, op one of ``=``, ``-``, ``+``."""

    pieces: tuple[tuple[str, str], ...]

    @property
    def changed(self) -> bool:
        return any(op != "=" for op, _ in self.pieces)

    def to_json(self) -> list[dict[str, str]]:
        return [{"op": op, "text": t} for op, t in self.pieces]


@dataclass(frozen=True)
class Change:
    """One aspect that changed: ``what`` names it, ``old``/``new`` show it as text."""

    what: str
    old: str | None
    new: str | None
    redline: Redline | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"what": self.what, "old": self.old, "new": self.new}
        if self.redline is not None:
            out["redline"] = self.redline.to_json()
        return out


@dataclass(frozen=True)
class ClauseDiff:
    """What happened to one clause (matched by id) between the versions."""

    id: str
    status: str  # added | removed | changed | moved | renumbered | unchanged
    old_number: str | None
    new_number: str | None
    title: str
    topic: str | None
    changes: tuple[Change, ...]
    effect: Relation
    #: Declarations this clause depends on that changed (lexicons, signals, …).
    via: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(c.what for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "old_number": self.old_number,
            "new_number": self.new_number,
            "title": self.title,
            "topic": self.topic,
            "changes": [c.to_json() for c in self.changes],
            "via": list(self.via),
            "effect": self.effect.to_json("old", "new"),
        }


@dataclass(frozen=True)
class DeclarationDiff:
    """A changed lexicon, pattern, signal, period, term, topic, label, authority or instrument."""

    kind: str
    id: str
    status: str  # added | removed | changed
    changes: tuple[Change, ...]
    affects: tuple[str, ...]  # clause ids (new numbering where the clause exists)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "status": self.status,
                "changes": [c.to_json() for c in self.changes], "affects": list(self.affects)}


@dataclass(frozen=True)
class PolicyDiff:
    old_name: str
    new_name: str
    policy_id: str
    verdict: Relation
    clauses: tuple[ClauseDiff, ...]
    metadata: tuple[Change, ...]
    declarations: tuple[DeclarationDiff, ...]
    sections: tuple[Change, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """Whether anything at all differs (text, structure or behaviour)."""
        return bool(
            self.metadata or self.declarations or self.sections
            or any(c.status != "unchanged" for c in self.clauses)
        )

    @property
    def semantic(self) -> bool:
        """Whether the change alters what any post gets."""
        return self.verdict.verdict != "equivalent"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "govpost.diff",
            "version": 1,
            "old": self.old_name,
            "new": self.new_name,
            "policy": self.policy_id,
            "verdict": self.verdict.to_json("old", "new"),
            "clauses": [c.to_json() for c in self.clauses if c.status != "unchanged"],
            "metadata": [c.to_json() for c in self.metadata],
            "sections": [c.to_json() for c in self.sections],
            "declarations": [d.to_json() for d in self.declarations],
        }


# ---------------------------------------------------------------------------
# Word-level redline
# ---------------------------------------------------------------------------

_WORDS = re.compile(r"\s+|[^\s]+")


def redline(old: str, new: str) -> Redline:
    """A word-level diff of two texts; white space is kept with the words."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("=", "".join(a[i1:i2])))
        else:
            if i2 > i1:
                pieces.append(("-", "".join(a[i1:i2])))
            if j2 > j1:
                pieces.append(("+", "".join(b[j1:j2])))
    return Redline(tuple(pieces))


# ---------------------------------------------------------------------------
# Dependencies: which declarations a clause's behaviour rests on
# ---------------------------------------------------------------------------


def _deps(cond: dict[str, Any], ruleset: dict[str, Any]) -> set[tuple[str, str]]:
    return uses(cond, ruleset["signals"])


def clause_dependencies(clause: dict[str, Any], ruleset: dict[str, Any]) -> set[tuple[str, str]]:
    deps = _deps(clause["when"], ruleset)
    for exc in clause["unless"]:
        deps |= _deps(exc["when"], ruleset)
    if clause.get("authority"):
        deps.add(("authority", clause["authority"]["id"]))
    return deps


# ---------------------------------------------------------------------------
# The diff
# ---------------------------------------------------------------------------


def _section_path(policy: m.Policy) -> dict[str, str]:
    """Clause id → the id path of the section it stands in (``boundaries/neutrality``)."""
    out: dict[str, str] = {}

    def walk(section: m.Section, path: str) -> None:
        here = f"{path}/{section.id}" if path else section.id
        for child in section.children:
            if isinstance(child, m.Section):
                walk(child, here)
            else:
                out.setdefault(child.id, here)

    for s in policy.sections:
        walk(s, "")
    return out


def _t(text: m.Text | None) -> str | None:
    return None if text is None else text.value


def _translations(text: m.Text | None) -> dict[str, str]:
    return dict(text.translations) if text is not None else {}


def _text_change(what: str, old: m.Text | None, new: m.Text | None) -> list[Change]:
    out = []
    if _t(old) != _t(new):
        out.append(Change(what, _t(old), _t(new), redline(_t(old) or "", _t(new) or "")))
    ot, nt = _translations(old), _translations(new)
    for lang in sorted(set(ot) | set(nt)):
        if ot.get(lang) != nt.get(lang):
            out.append(Change(f"{what} @{lang}", ot.get(lang), nt.get(lang),
                              redline(ot.get(lang) or "", nt.get(lang) or "")))
    return out


def _clause_changes(old: m.Clause, new: m.Clause) -> list[Change]:
    changes: list[Change] = []
    changes += _text_change("title", old.title, new.title)
    changes += _text_change("text", old.text, new.text)
    if old.topic != new.topic:
        changes.append(Change("topic", old.topic, new.topic))
    if (old.outcome, old.authority) != (new.outcome, new.authority):
        changes.append(Change(
            "outcome",
            print_outcome(old.outcome, old.authority) if old.outcome is not None else None,
            print_outcome(new.outcome, new.authority) if new.outcome is not None else None,
        ))
    if old.when != new.when:
        o = print_condition(old.when) if old.when is not None else None
        n = print_condition(new.when) if new.when is not None else None
        changes.append(Change("condition", o, n, redline(o or "", n or "")))
    if old.unless != new.unless:
        def show(excs: Iterable[m.Exception_]) -> str:
            return "\n".join(
                (f"\"{e.description}\" " if e.description else "") + print_condition(e.condition) for e in excs
            )
        changes.append(Change("exceptions", show(old.unless) or None, show(new.unless) or None,
                              redline(show(old.unless), show(new.unless))))
    if old.citations != new.citations:
        def cites(cs: Iterable[m.Citation]) -> str:
            return ", ".join(f"{c.instrument} {c.ref}" for c in cs)
        changes.append(Change("citations", cites(old.citations) or None, cites(new.citations) or None))
    if (old.is_new_guidance, old.new_guidance) != (new.is_new_guidance, new.new_guidance):
        changes.append(Change("new guidance",
                              "yes" if old.is_new_guidance else "no", "yes" if new.is_new_guidance else "no"))
    changes += _text_change("rationale", old.rationale, new.rationale)
    changes += _text_change("note", old.note, new.note)
    if old.examples != new.examples:
        old_ex = {e.title: e for e in old.examples}
        new_ex = {e.title: e for e in new.examples}
        for title in [*old_ex, *(t for t in new_ex if t not in old_ex)]:
            o, n = old_ex.get(title), new_ex.get(title)
            if o == n:
                continue
            shown_old, shown_new = _show_example(o), _show_example(n)
            both = shown_old is not None and shown_new is not None
            changes.append(Change("example", shown_old, shown_new,
                                  redline(shown_old, shown_new) if both else None))
    return changes


def _show_example(ex: m.Example | None) -> str | None:
    if ex is None:
        return None
    by = f" by {ex.clause}" if ex.clause else ""
    return f"\"{ex.title}\" {print_post(ex.post)} expect {print_outcome(ex.outcome)}{by}"


def diff_policies(
    old: m.Policy, new: m.Policy, old_rules: dict[str, Any], new_rules: dict[str, Any],
    *, old_name: str = "old", new_name: str = "new",
) -> PolicyDiff:
    """The semantic diff of two versions of a policy.

    Args:
        old, new: the checked models (for text, structure and metadata).
        old_rules, new_rules: their compiled rule sets (for behaviour).
        old_name, new_name: how the two sides are named in reports.
    """
    analyzer = Analyzer(old_rules, new_rules)
    old_num = {c.id: n for c, n in old.numbered_clauses()}
    new_num = {c.id: n for c, n in new.numbered_clauses()}
    old_cl = {c.id: c for c in old.clauses()}
    new_cl = {c.id: c for c in new.clauses()}
    old_sec, new_sec = _section_path(old), _section_path(new)
    old_rc = {c["id"]: c for c in old_rules["clauses"]}
    new_rc = {c["id"]: c for c in new_rules["clauses"]}

    declarations = _declaration_diffs(old, new, old_rules, new_rules)
    changed_decls = {(d.kind, d.id) for d in declarations}

    clauses: list[ClauseDiff] = []
    order = [c.id for c in new.clauses()] + [c.id for c in old.clauses() if c.id not in new_cl]
    for cid in order:
        o, n = old_cl.get(cid), new_cl.get(cid)
        if o is None and n is not None:
            status, changes = "added", [Change("clause", None, new_num[cid])]
        elif n is None and o is not None:
            status, changes = "removed", [Change("clause", old_num[cid], None)]
        else:
            assert o is not None and n is not None
            changes = _clause_changes(o, n)
            moved = old_sec.get(cid) != new_sec.get(cid)
            renumbered = old_num[cid] != new_num[cid]
            if moved:
                changes.insert(0, Change("moved", f"{old_num[cid]} in {old_sec.get(cid)}",
                                         f"{new_num[cid]} in {new_sec.get(cid)}"))
            elif renumbered:
                changes.insert(0, Change("renumbered", old_num[cid], new_num[cid]))
            if changes and any(c.what not in ("moved", "renumbered") for c in changes):
                status = "changed"
            elif moved:
                status = "moved"
            elif renumbered:
                status = "renumbered"
            else:
                status = "unchanged"
        deps = set()
        if cid in old_rc:
            deps |= clause_dependencies(old_rc[cid], old_rules)
        if cid in new_rc:
            deps |= clause_dependencies(new_rc[cid], new_rules)
        via = tuple(sorted(f"{k} {i}" for k, i in deps & changed_decls))
        behaviour_may_differ = (
            status in ("added", "removed")
            or via
            or (cid in old_rc and cid in new_rc and _behaviour(old_rc[cid]) != _behaviour(new_rc[cid]))
        )
        effect = (
            analyzer.relation(clause=(cid if cid in old_rc else None, cid if cid in new_rc else None))
            if behaviour_may_differ
            else Relation("equivalent")
        )
        if status == "unchanged" and via:
            status = "changed"
        if status == "unchanged" and effect.verdict != "equivalent":
            # Same text, different behaviour: its dates are read in another time zone.
            changes.append(Change("timezone", old.meta.timezone, new.meta.timezone))
            status = "changed"
        source = n or o
        assert source is not None
        clauses.append(ClauseDiff(
            cid, status, old_num.get(cid), new_num.get(cid), source.title.value, source.topic,
            tuple(changes), effect, via,
        ))

    return PolicyDiff(
        old_name, new_name, new.id, analyzer.relation(), tuple(clauses),
        tuple(_metadata_changes(old, new)), tuple(declarations), tuple(_section_changes(old, new)),
    )


def _behaviour(clause: dict[str, Any]) -> Any:
    return (clause["when"], [e["when"] for e in clause["unless"]], clause["outcome"])


def _section_changes(old: m.Policy, new: m.Policy) -> list[Change]:
    o = {s.id: (s, n) for s, n in old.numbered_sections()}
    n_ = {s.id: (s, n) for s, n in new.numbered_sections()}
    out: list[Change] = []
    for sid in [*n_, *(s for s in o if s not in n_)]:
        if sid not in o:
            out.append(Change(f"section {sid}", None, f"{n_[sid][1]} {n_[sid][0].title.value}"))
        elif sid not in n_:
            out.append(Change(f"section {sid}", f"{o[sid][1]} {o[sid][0].title.value}", None))
        else:
            (os_, on), (ns, nn) = o[sid], n_[sid]
            if on != nn:
                out.append(Change(f"section {sid} number", on, nn))
            out += [Change(f"section {sid} {c.what}", c.old, c.new, c.redline)
                    for c in _text_change("title", os_.title, ns.title) + _text_change("text", os_.intro, ns.intro)]
    return out


def _meta_value(value: Any) -> str | None:
    if value is None or value == ():
        return None
    if isinstance(value, m.Text):
        return print_text(value)
    if isinstance(value, tuple):
        return ", ".join(_meta_value(v) or "" for v in value)
    if isinstance(value, m.Signatory):
        return "; ".join(f"{k} {print_text(getattr(value, k))}" for k in ("name", "designation", "contact")
                         if getattr(value, k) is not None)
    if isinstance(value, m.Outcome):
        return value.label
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _metadata_changes(old: m.Policy, new: m.Policy) -> list[Change]:
    out = []
    if old.id != new.id:
        out.append(Change("id", old.id, new.id))
    for key in SCHEMA:
        a, b = getattr(old.meta, key), getattr(new.meta, key)
        if isinstance(a, m.Text | None) and isinstance(b, m.Text | None) and (a, b) != (None, None):
            # A bilingual text is compared language by language: one changed Hindi word is one
            # change of `title @hi`, not the whole paragraph in both languages struck and retyped.
            out += _text_change(key, a, b)
            continue
        if isinstance(a, m.Signatory) and isinstance(b, m.Signatory):
            for part in ("name", "designation", "contact"):
                out += _text_change(f"{key} {part}", getattr(a, part), getattr(b, part))
            continue
        o, n = _meta_value(a), _meta_value(b)
        if o != n:
            long = o is not None and n is not None and max(len(o), len(n)) > 40  # a list of addressees, not a date
            out.append(Change(key, o, n, redline(o, n) if long else None))
    return out


def _declaration_diffs(old: m.Policy, new: m.Policy, old_rules: dict[str, Any],
                       new_rules: dict[str, Any]) -> list[DeclarationDiff]:
    def affected(kind: str, ident: str) -> tuple[str, ...]:
        hits = []
        for rules in (new_rules, old_rules):
            for c in rules["clauses"]:
                if (kind, ident) in clause_dependencies(c, rules) and c["id"] not in hits:
                    hits.append(c["id"])
        return tuple(hits)

    out: list[DeclarationDiff] = []

    def compare(kind: str, olds: Iterable[Any], news: Iterable[Any], key: Any, show: Any) -> None:
        o = {key(x): x for x in olds}
        n = {key(x): x for x in news}
        for ident in [*n, *(i for i in o if i not in n)]:
            a, b = o.get(ident), n.get(ident)
            if a == b:
                continue
            if a is None:
                status, changes = "added", [Change(kind, None, _t(show(b)) if kind in _TEXTS else show(b))]
            elif b is None:
                status, changes = "removed", [Change(kind, _t(show(a)) if kind in _TEXTS else show(a), None)]
            else:
                status, changes = "changed", _detail(kind, a, b, show)
            out.append(DeclarationDiff(kind, ident, status, tuple(changes), affected(kind, ident)))

    compare("lexicon", old.lexicons, new.lexicons, lambda x: x.id, lambda x: ", ".join(e.text for e in x.entries))
    compare("pattern", old.patterns, new.patterns, lambda x: x.id, lambda x: f"/{x.regex}/{x.flags}")
    compare("signal", old.signals, new.signals, lambda x: x.id, lambda x: print_condition(x.condition))
    compare("period", old.periods, new.periods, lambda x: x.id,
            lambda x: f"from {x.start} to {x.end}")
    compare("label", old.labels, new.labels, lambda x: x.id, lambda x: x.description)
    compare("topic", old.topics, new.topics, lambda x: x.id, lambda x: x.title)
    compare("authority", old.authorities, new.authorities, lambda x: x.id, lambda x: x.title)
    compare("instrument", old.instruments, new.instruments, lambda x: x.id,
            lambda x: f"{x.title.value}: " + ", ".join(p.ref for p in x.provisions))
    compare("term", old.terms, new.terms, lambda x: x.term, lambda x: x.definition)
    # A period written the same way covers other instants when the policy's
    # time zone changed: that changes what it means, so it is reported too.
    if old.meta.timezone != new.meta.timezone:
        reported = {d.id for d in out if d.kind == "period"}
        for p in new.periods:
            o, n = old_rules["periods"].get(p.id), new_rules["periods"][p.id]
            if p.id in reported or o is None or (o["start"], o["end"]) == (n["start"], n["end"]):
                continue
            span = f"from {p.start} to {p.end}"
            out.append(DeclarationDiff("period", p.id, "changed", (
                Change("period", f"{span} in {old.meta.timezone}", f"{span} in {new.meta.timezone}"),
            ), affected("period", p.id)))
    return out


# Declarations shown by a text of the policy (with its translations): compared language by language.
_TEXTS = ("label", "topic", "authority", "term")


def _detail(kind: str, a: Any, b: Any, show: Any) -> list[Change]:
    if kind in _TEXTS:
        return _text_change(kind, show(a), show(b)) or [Change(kind, _t(show(a)), _t(show(b)))]
    if kind == "lexicon":
        old_entries = [e.text for e in a.entries]
        new_entries = [e.text for e in b.entries]
        added = [e for e in new_entries if e not in old_entries]
        removed = [e for e in old_entries if e not in new_entries]
        out = []
        if removed:
            out.append(Change("entries removed", ", ".join(removed), None))
        if added:
            out.append(Change("entries added", None, ", ".join(added)))
        if a.description != b.description:
            out.append(Change("description", a.description, b.description))
        return out or [Change("lexicon", show(a), show(b))]
    o, n = show(a), show(b)
    return [Change(kind, o, n, redline(o, n))]
