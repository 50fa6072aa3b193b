"""Rendering semantic diffs and comparisons: terminal text, Markdown, JSON, HTML.

The inputs are data: a :class:`DiffReport` (one or more policy files, each a
:class:`~toolkit.diff.PolicyDiff` or an added, removed or invalid file) and a
:class:`ComparisonReport` (a :class:`~toolkit.compare.Comparison`). Both
carry the clause numbers of each side, so that a witness can say which
numbered clause decides it.

- **text**: for a terminal; ANSI colour only when asked (``color=True``).
- **markdown**: fit to paste as a pull-request comment: the verdict in the
  first line, a summary table, then the details folded in ``<details>``.
- **json**: the versioned envelope documented in ``docs/diff.md`` and
  ``schemas/diff.schema.json``.
- **html**: a self-contained redline page (insertions underlined, deletions
  struck through, moved clauses marked; CSS inline, no external resources).

Every function here is pure: data in, text out; output is deterministic.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .analysis import Relation, SideResult, Witness
from .compare import Comparison, TopicComparison
from .diagnostics import Diagnostic, render_text
from .diff import Change, ClauseDiff, DeclarationDiff, PolicyDiff
from .terminal import paint, table

REPORT_VERSION = 1
#: The marker a CI job looks for to update its pull-request comment instead of adding one.
MARKER = "<!-- govpost-diff -->"
FORMATS = ("text", "markdown", "json", "html")

# ---------------------------------------------------------------------------
# The data rendered
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicySummary:
    """An added or removed policy: what it is, in brief."""

    id: str
    title: str
    clauses: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "clauses": self.clauses}


@dataclass(frozen=True)
class FileDiff:
    """One policy in a diff report.

    ``status`` is ``changed`` (both versions, same path), ``renamed`` (same
    policy id, another path), ``added``, ``removed`` or ``invalid`` (a side
    has errors; ``diagnostics`` says which).
    """

    status: str
    old: str | None
    new: str | None
    diff: PolicyDiff | None = None
    old_numbers: Mapping[str, str] = field(default_factory=dict)
    new_numbers: Mapping[str, str] = field(default_factory=dict)
    policy: PolicySummary | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    #: The file's path in the repository at each end (for a git range), shown as its title.
    old_path: str | None = None
    new_path: str | None = None

    @property
    def title(self) -> str:
        old, new = self.old_path or self.old, self.new_path or self.new
        if self.status == "renamed" and old and new:
            return f"{old} → {new}"
        return new or old or ""

    @property
    def verdict(self) -> str:
        """The diff's verdict, or ``added``, ``removed``, ``invalid``."""
        if self.diff is not None:
            return self.diff.verdict.verdict
        return self.status

    @property
    def semantic(self) -> bool:
        return self.verdict != "equivalent"


@dataclass(frozen=True)
class DiffReport:
    """The diff of one pair of files, or of every policy a git range changed."""

    files: tuple[FileDiff, ...]
    base: str | None = None
    head: str | None = None

    @property
    def is_range(self) -> bool:
        return self.base is not None

    @property
    def verdict(self) -> str:
        """The behavioural verdict over every diffed policy (added and removed ones aside)."""
        verdicts = [f.diff.verdict.verdict for f in self.files if f.diff is not None]
        stricter = any(v in ("stricter", "mixed") for v in verdicts)
        looser = any(v in ("looser", "mixed") for v in verdicts)
        return _verdict(stricter, looser)

    @property
    def exit_code(self) -> int:
        """2 if a policy is invalid; 1 if behaviour changed or a policy was added or removed; else 0."""
        if any(f.status == "invalid" for f in self.files):
            return 2
        if any(f.semantic for f in self.files):
            return 1
        return 0


@dataclass(frozen=True)
class ComparisonReport:
    """A comparison with the names and clause numbers of both policies."""

    comparison: Comparison
    a_name: str
    b_name: str
    a_numbers: Mapping[str, str] = field(default_factory=dict)
    b_numbers: Mapping[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 0 if self.comparison.overall.verdict == "equivalent" else 1


def _verdict(stricter: bool, looser: bool) -> str:
    return {(True, True): "mixed", (True, False): "stricter", (False, True): "looser"}.get(
        (stricter, looser), "equivalent")


def render_diff(report: DiffReport, fmt: str, *, color: bool = False) -> str:
    if fmt == "text":
        return _Text(color).report(report)
    if fmt == "markdown":
        return markdown_report(report)
    if fmt == "json":
        return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return html_report(report)
    raise ValueError(f"unknown format {fmt!r}")


def render_comparison(report: ComparisonReport, fmt: str, *, color: bool = False) -> str:
    if fmt == "text":
        return _Text(color).comparison(report)
    if fmt == "markdown":
        return markdown_comparison(report)
    if fmt == "json":
        return json.dumps(comparison_json(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return html_comparison(report)
    raise ValueError(f"unknown format {fmt!r}")


# ---------------------------------------------------------------------------
# Words shared by every format
# ---------------------------------------------------------------------------

DIFF_VERDICTS = {
    "equivalent": "no post gets a different outcome",
    "stricter": "some posts get a stronger outcome than before, none a weaker one",
    "looser": "some posts get a weaker outcome than before, none a stronger one",
    "mixed": "some posts get a stronger outcome than before and others a weaker one",
}
COMPARE_VERDICTS = {
    "equivalent": "A and B give every post the same outcome",
    "stricter": "A gives some posts a stronger outcome than B, none a weaker one",
    "looser": "A gives some posts a weaker outcome than B, none a stronger one",
    "mixed": "A gives some posts a stronger outcome than B and others a weaker one",
    "only_a": "only A has clauses on this topic",
    "only_b": "only B has clauses on this topic",
}
RELATION_LABELS = {"only_a": "only in A", "only_b": "only in B"}

#: How each kind of clause change is named in summaries.
CHANGE_LABELS = {
    "text": "text reworded",
    "title": "title",
    "topic": "topic",
    "outcome": "outcome",
    "condition": "condition",
    "exceptions": "exceptions",
    "citations": "citations",
    "example": "example",
    "new guidance": "new guidance",
    "rationale": "rationale",
    "note": "note",
    "timezone": "time zone",
}


def _change_label(what: str) -> str:
    base, _, lang = what.partition(" @")
    label = CHANGE_LABELS.get(base, base)
    return f"{label} ({lang})" if lang else label


def _kinds(clause: ClauseDiff) -> list[str]:
    """The kinds of change of a clause, named for people, in order, without repeats."""
    out: list[str] = []
    for c in clause.changes:
        if c.what in ("moved", "renumbered", "clause"):
            continue
        label = _change_label(c.what)
        if label not in out:
            out.append(label)
    if clause.via:
        out.append("via " + ", ".join(clause.via))
    return out


def _numbers(clause: ClauseDiff) -> str:
    if clause.status == "added":
        return clause.new_number or ""
    if clause.status == "removed":
        return clause.old_number or ""
    if clause.old_number != clause.new_number:
        return f"{clause.old_number} → {clause.new_number}"
    return clause.new_number or ""


def _effect(relation: Relation) -> str:
    return "no change in effect" if relation.verdict == "equivalent" else relation.verdict


def _status_line(clause: ClauseDiff) -> str:
    """``renumbered, no change in effect``; ``changed: outcome; stricter``."""
    parts: list[str] = []
    if clause.status in ("added", "removed"):
        parts.append(clause.status)
    else:
        moved = next((c for c in clause.changes if c.what == "moved"), None)
        if moved is not None:
            parts.append(f"moved from {_section_of(moved.old)} to {_section_of(moved.new)}")
        elif any(c.what == "renumbered" for c in clause.changes):
            parts.append("renumbered")
        kinds = _kinds(clause)
        if kinds:
            parts.append("changed: " + ", ".join(kinds))
    return ", ".join(parts) + "; " + _effect(clause.effect) if parts else _effect(clause.effect)


def _section_of(text: str | None) -> str:
    """``4.2(b) in boundaries/likes`` → ``boundaries/likes``."""
    return (text or "").partition(" in ")[2] or (text or "")


def _outcome(outcome: str) -> str:
    return outcome.replace("_", " ")


def _clause_ref(cid: str, numbers: Mapping[str, str]) -> str:
    number = numbers.get(cid)
    return f"{number} {cid}" if number else cid


def _post(post: Mapping[str, Any]) -> str:
    """A witness post as compact JSON, without its placeholder id."""
    shown = {k: v for k, v in post.items() if not (k == "id" and v == "witness")}
    return json.dumps(shown, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class _SideView:
    """What one side says of a witness: its outcome and the deciding clauses (number, id)."""

    name: str
    outcome: str
    deciding: tuple[tuple[str | None, str], ...]
    none: str

    @property
    def words(self) -> str:
        """``prohibited by 3.2(a) share-party-material``; ``permitted (no clause applies)``."""
        if not self.deciding:
            return f"{_outcome(self.outcome)} ({self.none})"
        return f"{_outcome(self.outcome)} by " + ", ".join(f"{n} {c}" if n else c for n, c in self.deciding)

    @property
    def markdown(self) -> str:
        head = f"**{_md(_outcome(self.outcome))}**"
        if not self.deciding:
            return f"{head} ({_md(self.none)})"
        return f"{head} by " + ", ".join(f"{_md(n)} {_code(c)}" if n else _code(c) for n, c in self.deciding)


def _side(name: str, side: SideResult, numbers: Mapping[str, str], none: str = "no clause applies") -> _SideView:
    return _SideView(name, side.outcome, tuple((numbers.get(c), c) for c in side.deciding), none)


@dataclass(frozen=True)
class _WitnessView:
    """A witness ready to show: what it shows, the post, and what each side says of it."""

    heading: str
    post: str
    sides: tuple[_SideView, ...]


def _diff_witnesses(relation: Relation, numbers: tuple[Mapping[str, str], Mapping[str, str]],
                    old: str = "old", new: str = "new") -> list[_WitnessView]:
    out = []
    for heading, w in (("stricter: a post the new version treats more strictly", relation.stricter),
                       ("looser: a post the new version treats more leniently", relation.looser)):
        if w is not None:
            out.append(_WitnessView(heading, _post(w.post), (
                _side(old, w.left, numbers[0]), _side(new, w.right, numbers[1]))))
    return out


def _compare_witnesses(stricter: Witness | None, looser: Witness | None, report: ComparisonReport,
                       topic: bool = False) -> list[_WitnessView]:
    none = "no clause on this topic applies" if topic else "no clause applies"
    out = []
    for heading, w in (("A stricter than B: a post A treats more strictly", stricter),
                       ("A looser than B: a post A treats more leniently", looser)):
        if w is not None:
            # The analyser's left side is B and its right side is A.
            out.append(_WitnessView(heading, _post(w.post), (
                _side("A", w.right, report.a_numbers, none), _side("B", w.left, report.b_numbers, none))))
    return out


def spaced(pieces: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Redline pieces with a space between a deletion and an insertion that would touch.

    ``[("-", "advisory"), ("+", "prohibited")]`` is drawn ~~advisory~~ prohibited, not
    ~~advisory~~prohibited: struck and underlined words side by side read as one word.
    The space is for the eye only; the JSON redline keeps the texts as they are.
    """
    out: list[tuple[str, str]] = []
    for op, t in pieces:
        if out and op != "=" and out[-1][0] not in ("=", op) and t and out[-1][1] \
                and not out[-1][1][-1].isspace() and not t[0].isspace():
            out.append(("=", " "))
        out.append((op, t))
    return out


def _long(change: Change) -> bool:
    """Whether a change is better shown as a redline than as `old → new` (a paragraph, not a version number)."""
    return change.redline is not None and max(len(change.old or ""), len(change.new or "")) > 40


def _redline_pieces(change: Change) -> list[tuple[str, str]]:
    """The (op, text) pieces of a change: its redline, or the old text struck and the new inserted."""
    if change.redline is not None:
        return list(change.redline.pieces)
    pieces = []
    if change.old is not None:
        pieces.append(("-", change.old))
    if change.new is not None:
        if pieces:
            pieces.append(("=", " "))
        pieces.append(("+", change.new))
    return pieces


def _declaration_summary(d: DeclarationDiff) -> str:
    parts = []
    for c in d.changes:
        if c.what == "entries added":
            parts.append(f"entries added: {c.new}")
        elif c.what == "entries removed":
            parts.append(f"entries removed: {c.old}")
        elif d.status == "added":
            parts.append(f"added: {c.new}")
        elif d.status == "removed":
            parts.append(f"removed: {c.old}")
        else:
            parts.append(f"{c.what}: {c.old} → {c.new}")
    return "; ".join(parts)


def _affects(d: DeclarationDiff, f: FileDiff) -> str:
    numbers = {**f.old_numbers, **f.new_numbers}
    return ", ".join(_clause_ref(c, numbers) for c in d.affects)


def _visible(diff: PolicyDiff) -> list[ClauseDiff]:
    return [c for c in diff.clauses if c.status != "unchanged"]


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

# Styles of the text report (toolkit.terminal): a deletion struck through in red, an insertion underlined in green.
_STYLES = {"bold": "bold", "dim": "dim", "red": "red", "green": "green", "yellow": "yellow", "cyan": "cyan",
           "del": "strike red", "ins": "underline green"}
_VERDICT_STYLE = {"equivalent": "green", "stricter": "red", "looser": "yellow", "mixed": "red",
                  "added": "cyan", "removed": "cyan", "invalid": "red", "only_a": "cyan", "only_b": "cyan"}
_MARKS = {"added": "+", "removed": "-", "changed": "~", "moved": ">", "renumbered": ">"}


class _Text:
    def __init__(self, color: bool):
        self.color = color

    def paint(self, s: str, style: str) -> str:
        return paint(s, _STYLES[style], self.color)

    def verdict(self, v: str) -> str:
        return self.paint(RELATION_LABELS.get(v, v), _VERDICT_STYLE.get(v, "bold"))

    def redline(self, pieces: Iterable[tuple[str, str]]) -> str:
        out = []
        for op, t in (spaced(pieces) if self.color else pieces):
            if op == "=":
                out.append(t)
            elif self.color:
                out.append(self.paint(t, "del" if op == "-" else "ins"))
            else:
                out.append(f"[-{t}-]" if op == "-" else f"{{+{t}+}}")
        return "".join(out).replace("\n", " / ")

    def witnesses(self, views: Sequence[_WitnessView], indent: str) -> list[str]:
        lines = []
        for v in views:
            lines.append(f"{indent}{self.paint(v.heading, 'bold')}")
            lines.append(f"{indent}  {v.post}")
            lines.extend(f"{indent}    {side.name}: {side.words}" for side in v.sides)
        return lines

    # -- diff ---------------------------------------------------------------

    def report(self, report: DiffReport) -> str:
        lines: list[str] = []
        if report.is_range:
            counts = _file_counts(report)
            lines.append(f"{self.paint('govpost diff', 'bold')} {report.base}..{report.head}: "
                         f"{self.verdict(report.verdict)} ({counts})")
            for f in report.files:
                lines.append(f"  {f.title}: {self.verdict(f.verdict)}")
            for f in report.files:
                lines.append("")
                lines.append(self.paint("=" * 3 + f" {f.title} " + "=" * 3, "bold"))
                lines.extend(self.file(f))
        else:
            for f in report.files:
                lines.extend(self.file(f))
        return "\n".join(lines).rstrip() + "\n"

    def file(self, f: FileDiff) -> list[str]:
        if f.status == "invalid":
            text = render_text(list(f.diagnostics)).rstrip() if f.diagnostics else ""
            return [f"{f.title}: {self.verdict('invalid')}: the policy has errors; fix them first",
                    *(["", text] if text else [])]
        if f.status in ("added", "removed") or f.diff is None:
            p = f.policy
            what = f"policy `{p.id}` ({p.title}), {p.clauses} clauses" if p else "a policy"
            where = f.new if f.status == "added" else f.old
            return [f"{where}: {self.verdict(f.status)}: {what}"]
        d, numbers = f.diff, (f.old_numbers, f.new_numbers)
        lines = [f"{self.paint(d.policy_id, 'bold')}: {d.old_name} → {d.new_name}",
                 f"verdict: {self.verdict(d.verdict.verdict)} ({DIFF_VERDICTS[d.verdict.verdict]})"]
        if not d.changed:
            lines.append("nothing changed but comments and layout")
        lines.extend(self.witnesses(_diff_witnesses(d.verdict, numbers), "  "))
        clauses = _visible(d)
        if clauses:
            lines += ["", self.paint(f"clauses ({_clause_counts(clauses)})", "bold")]
            for c in clauses:
                lines.extend(self.clause(c, numbers))
        if d.sections:
            lines += ["", self.paint("sections", "bold")]
            lines.extend(f"  {c.what}: {self.change_value(c)}" for c in d.sections)
        if d.metadata:
            lines += ["", self.paint("metadata", "bold")]
            lines.extend(f"  {c.what}: " + (self.redline(c.redline.pieces) if _long(c) else
                                             f"{c.old if c.old is not None else '(none)'} → "
                                             f"{c.new if c.new is not None else '(none)'}") for c in d.metadata)
        if d.declarations:
            lines += ["", self.paint("declarations", "bold")]
            for decl in d.declarations:
                lines.append(f"  {_MARKS.get(decl.status, '~')} {decl.kind} {decl.id} ({decl.status}): "
                             f"{_declaration_summary(decl)}")
                if decl.affects:
                    lines.append(f"      affects {_affects(decl, f)}")
        return lines

    def change_value(self, c: Change) -> str:
        if c.redline is not None:
            return self.redline(c.redline.pieces)
        return f"{c.old if c.old is not None else '(none)'} → {c.new if c.new is not None else '(none)'}"

    def clause(self, c: ClauseDiff, numbers: tuple[Mapping[str, str], Mapping[str, str]]) -> list[str]:
        mark = _MARKS.get(c.status, "~")
        effect = c.effect.verdict
        status = _status_line(c)
        if effect != "equivalent":
            status = status[: -len(effect)] + self.verdict(effect)
        lines = [f"  {self.paint(mark, _VERDICT_STYLE.get(c.status, 'bold'))} {_numbers(c)} "
                 f"{self.paint(c.id, 'bold')}: {c.title}", f"      {status}"]
        for ch in c.changes:
            if ch.what in ("moved", "renumbered", "clause"):
                continue
            if ch.what == "example" and ch.redline is None:
                if ch.old is not None:
                    lines.append(f"      example {self.paint('- ' + ch.old, 'red')}")
                if ch.new is not None:
                    lines.append(f"      example {self.paint('+ ' + ch.new, 'green')}")
                continue
            lines.append(f"      {_change_label(ch.what)}: {self.change_value(ch)}")
        lines.extend(self.witnesses(_diff_witnesses(c.effect, numbers), "      "))
        return lines

    # -- comparison -----------------------------------------------------------

    def comparison(self, report: ComparisonReport) -> str:
        cmp = report.comparison
        lines = [
            f"{self.paint('govpost compare', 'bold')}: A = {cmp.a.id} ({report.a_name}), "
            f"B = {cmp.b.id} ({report.b_name})",
            f"overall: {self.verdict(cmp.overall.verdict)} ({COMPARE_VERDICTS[cmp.overall.verdict]})",
        ]
        lines.extend(self.witnesses(_compare_witnesses(cmp.overall.stricter, cmp.overall.looser, report), "  "))
        lines += ["", self.paint(f"topics ({_topic_counts(cmp.topics)})", "bold")]
        rows = [[t.topic, (RELATION_LABELS.get(t.relation, t.relation),
                           _STYLES[_VERDICT_STYLE.get(t.relation, "bold")]),
                 f"A: {' '.join(c.number for c in t.a_clauses) or '-'}",
                 f"B: {' '.join(c.number for c in t.b_clauses) or '-'}"] for t in cmp.topics]
        lines += table(rows, [("topic", "left"), ("relation", "left"), ("A", "left"), ("B", "left")], header=False,
                       color=self.color)
        for t in cmp.topics:
            views = _compare_witnesses(t.stricter, t.looser, report, topic=True)
            if not views:
                continue
            lines += ["", f"{self.paint(t.topic, 'bold')} ({t.title}): {self.verdict(t.relation)}"]
            lines.extend(self.witnesses(views, "  "))
        return "\n".join(lines).rstrip() + "\n"


def _clause_counts(clauses: Sequence[ClauseDiff]) -> str:
    order = ("added", "removed", "changed", "moved", "renumbered")
    counts = {s: sum(1 for c in clauses if c.status == s) for s in order}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def _topic_counts(topics: Sequence[TopicComparison]) -> str:
    order = ("stricter", "looser", "mixed", "equivalent", "only_a", "only_b")
    counts = {s: sum(1 for t in topics if t.relation == s) for s in order}
    return ", ".join(f"{n} {RELATION_LABELS.get(s, s)}" for s, n in counts.items() if n)


def _file_counts(report: DiffReport) -> str:
    if not report.files:
        return "no policy changed"
    order = ("changed", "renamed", "added", "removed", "invalid")
    counts = {s: sum(1 for f in report.files if f.status == s) for s in order}
    total = len(report.files)
    return f"{total} polic{'y' if total == 1 else 'ies'}: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def _number_sides(obj: Any, numbers: Mapping[str, Mapping[str, str]]) -> Any:
    """Add ``numbers`` (the deciding clauses' numbers) next to ``deciding`` in every witness side."""
    if isinstance(obj, dict):
        out = {k: _number_sides(v, numbers) for k, v in obj.items()}
        for side, nums in numbers.items():
            value = out.get(side)
            if isinstance(value, dict) and "deciding" in value and "outcome" in value and "post" in out:
                value["numbers"] = [nums.get(c) for c in value["deciding"]]
        return out
    if isinstance(obj, list):
        return [_number_sides(v, numbers) for v in obj]
    return obj


def diff_json(f: FileDiff) -> dict[str, Any]:
    """One policy diff: the ``govpost.diff`` object, with clause numbers under each witness side."""
    assert f.diff is not None
    out: dict[str, Any] = _number_sides(f.diff.to_json(), {"old": f.old_numbers, "new": f.new_numbers})
    return out


def _file_json(f: FileDiff) -> dict[str, Any]:
    out: dict[str, Any] = {"status": f.status, "old": f.old, "new": f.new, "verdict": f.verdict}
    out["diff"] = diff_json(f) if f.diff is not None else None
    out["policy"] = f.policy.to_json() if f.policy is not None else None
    out["diagnostics"] = [d.to_json() for d in f.diagnostics]
    return out


def report_json(report: DiffReport) -> dict[str, Any]:
    """A single diff is a ``govpost.diff`` object; a git range is a ``govpost.diff-report``."""
    if not report.is_range and len(report.files) == 1 and report.files[0].diff is not None:
        return diff_json(report.files[0])
    return {
        "format": "govpost.diff-report",
        "version": REPORT_VERSION,
        "base": report.base,
        "head": report.head,
        "verdict": report.verdict,
        "exit_code": report.exit_code,
        "files": [_file_json(f) for f in report.files],
    }


def comparison_json(report: ComparisonReport) -> dict[str, Any]:
    body = _number_sides(report.comparison.to_json(), {"a": report.a_numbers, "b": report.b_numbers})
    return {"format": "govpost.compare", "version": REPORT_VERSION,
            "sources": {"a": report.a_name, "b": report.b_name}, **body}


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def _md(s: str | None) -> str:
    """User text made inert in Markdown and HTML (tables included)."""
    if s is None:
        return "—"
    s = html.escape(s, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\n", "<br>")


def _code(s: str) -> str:
    """Inline code that survives backticks in the text and stays inside a table cell."""
    s = s.replace("|", "\\|").replace("\n", " ")
    fence = "`" * (max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _fenced(s: str, lang: str = "") -> list[str]:
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    return [f"{fence}{lang}", s, fence]


def _md_redline(pieces: Iterable[tuple[str, str]]) -> str:
    out = []
    for op, t in spaced(pieces):
        e = _md(t)
        if op == "=":
            out.append(e)
        elif t.strip():
            out.append(f"<del>{e}</del>" if op == "-" else f"<ins>{e}</ins>")
        else:
            out.append(e if op == "+" else "")
    return "".join(out)


def _md_verdict(v: str) -> str:
    return f"**{RELATION_LABELS.get(v, v)}**"


def _md_witnesses(views: Sequence[_WitnessView]) -> list[str]:
    lines: list[str] = []
    for v in views:
        lines += [f"<details><summary>Witness, {html.escape(v.heading)}</summary>", ""]
        lines += _fenced(v.post, "json")
        lines += [""] + [f"- {side.name}: {side.markdown}" for side in v.sides] + ["", "</details>", ""]
    return lines


def markdown_report(report: DiffReport) -> str:
    lines: list[str] = []
    if report.is_range:
        lines.append(f"**govpost diff: {RELATION_LABELS.get(report.verdict, report.verdict)}** · "
                     f"{_md(_file_counts(report))} between {_code(report.base or '')} and {_code(report.head or '')}")
        lines.append("")
        if report.files:
            lines += ["| policy | file | verdict | clauses |", "|---|---|---|---|"]
            for f in report.files:
                ident = f.diff.policy_id if f.diff else (f.policy.id if f.policy else "")
                n = _clause_counts(_visible(f.diff)) if f.diff else ""
                lines.append(f"| {_code(ident) if ident else '—'} | {_code(f.title)} | {_md_verdict(f.verdict)} "
                             f"| {_md(n) if n else '—'} |")
            lines.append("")
        for f in report.files:
            lines += [f"### {_code(f.title)}: {RELATION_LABELS.get(f.verdict, f.verdict)}", ""]
            lines += _md_file(f, heading=False)
    else:
        for f in report.files:
            lines += _md_file(f, heading=True)
    lines.append(MARKER)
    return "\n".join(lines) + "\n"


def _md_file(f: FileDiff, heading: bool) -> list[str]:
    lines: list[str] = []
    if f.status == "invalid":
        lines += [f"**invalid**: {_code(f.title)} has errors; fix them first", ""]
        if f.diagnostics:
            lines += ["<details><summary>Errors</summary>", ""]
            lines += _fenced(render_text(list(f.diagnostics)).rstrip()) + ["", "</details>", ""]
        return lines
    if f.diff is None:
        p = f.policy
        what = f"policy {_code(p.id)} ({_md(p.title)}), {p.clauses} clauses" if p else "a policy"
        return [f"**{f.status}**: {what}", ""]
    d, numbers = f.diff, (f.old_numbers, f.new_numbers)
    v = d.verdict.verdict
    if heading:
        lines.append(f"**govpost diff: {v}** · {_code(d.policy_id)} · {_code(d.old_name)} → {_code(d.new_name)}")
        lines.append("")
    lines += [f"{_md(DIFF_VERDICTS[v]).capitalize()}." if v != "equivalent" else
              "No post gets a different outcome" + ("." if d.changed else ": nothing changed but comments and layout."),
              ""]
    clauses = _visible(d)
    if clauses:
        lines += ["| | clause | change | effect |", "|---|---|---|---|"]
        for c in clauses:
            kinds = _status_line(c).rpartition("; ")[0] or c.status
            effect = _md_verdict(c.effect.verdict) if c.effect.verdict != "equivalent" else "none"
            lines.append(f"| {_MARKS.get(c.status, '~')} | {_md(_numbers(c))} {_code(c.id)} {_md(c.title)} "
                         f"| {_md(kinds)} | {effect} |")
        lines.append("")
    if d.declarations:
        lines += ["| declaration | change | affects |", "|---|---|---|"]
        for decl in d.declarations:
            lines.append(f"| {decl.kind} {_code(decl.id)} | {decl.status}: {_md(_declaration_summary(decl))} "
                         f"| {_md(_affects(decl, f)) or '—'} |")
        lines.append("")
    if d.metadata or d.sections:
        lines += ["| metadata | change |", "|---|---|"]
        for change in (*d.metadata, *d.sections):
            shown = (_md_redline(_redline_pieces(change)) if _long(change) else
                     f"{_md(change.old) or '(none)'} → {_md(change.new) or '(none)'}")
            lines.append(f"| {_md(change.what)} | {shown} |")
        lines.append("")
    lines += _md_witnesses(_diff_witnesses(d.verdict, numbers))
    for c in clauses:
        summary = f"{html.escape(_numbers(c))} <code>{html.escape(c.id)}</code>: {html.escape(_status_line(c))}"
        lines += [f"<details><summary>{summary}</summary>", "", f"**{_md(c.title)}**", ""]
        for ch in c.changes:
            if ch.what in ("moved", "renumbered", "clause"):
                continue
            if ch.what == "example" and ch.redline is None:
                if ch.old is not None:
                    lines.append(f"- example removed: <del>{_md(ch.old)}</del>")
                if ch.new is not None:
                    lines.append(f"- example added: <ins>{_md(ch.new)}</ins>")
                continue
            lines.append(f"- {_md(_change_label(ch.what))}: {_md_redline(_redline_pieces(ch))}")
        if c.via:
            lines.append(f"- behaviour rests on changed {_md(', '.join(c.via))}")
        lines.append("")
        lines += _md_witnesses(_diff_witnesses(c.effect, numbers))
        lines += ["</details>", ""]
    return lines


def markdown_comparison(report: ComparisonReport) -> str:
    cmp = report.comparison
    v = cmp.overall.verdict
    lines = [
        f"**govpost compare: {v}** · A = {_code(cmp.a.id)} ({_code(report.a_name)}) · "
        f"B = {_code(cmp.b.id)} ({_code(report.b_name)})",
        "",
        f"{_md(COMPARE_VERDICTS[v])}. Topics: {_md(_topic_counts(cmp.topics))}.",
        "",
        "| topic | A vs B | A clauses | B clauses |",
        "|---|---|---|---|",
    ]
    for t in cmp.topics:
        lines.append(f"| {_code(t.topic)} {_md(t.title)} | {_md_verdict(t.relation)} "
                     f"| {_md(' '.join(c.number for c in t.a_clauses)) or '—'} "
                     f"| {_md(' '.join(c.number for c in t.b_clauses)) or '—'} |")
    lines.append("")
    lines += _md_witnesses(_compare_witnesses(cmp.overall.stricter, cmp.overall.looser, report))
    for t in cmp.topics:
        lines += [f"<details><summary><code>{html.escape(t.topic)}</code>: "
                  f"{html.escape(RELATION_LABELS.get(t.relation, t.relation))}</summary>", "",
                  f"**{_md(t.title)}**: {_md(COMPARE_VERDICTS[t.relation])}.", ""]
        for side, clauses in (("A", t.a_clauses), ("B", t.b_clauses)):
            for c in clauses:
                lines.append(f"- {side} {_md(c.number)} {_code(c.id)} {_md(c.title)}: **{_md(_outcome(c.outcome))}**")
        lines.append("")
        lines += _md_witnesses(_compare_witnesses(t.stricter, t.looser, report, topic=True))
        lines += ["</details>", ""]
    lines.append(MARKER)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# HTML: a self-contained redline page
# ---------------------------------------------------------------------------

_CSS = """
body{font:15px/1.5 "Govpost Sans","Govpost Devanagari Sans","Govpost Symbols",system-ui,sans-serif;
margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f23;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #d0d7de}
h3{font-size:1rem;margin:0}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",
"Govpost Sans","Govpost Devanagari Sans","Govpost Symbols",monospace}
pre{background:#f6f8fa;padding:.5rem .75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
ins{text-decoration:underline;text-decoration-thickness:2px;background:#dafbe1;color:#116329}
del{text-decoration:line-through;background:#ffebe9;color:#82071e}
.verdict{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.85em}
.equivalent{background:#dafbe1;color:#116329}.stricter,.mixed,.invalid{background:#ffebe9;color:#82071e}
.looser{background:#fff8c5;color:#7d4e00}.added,.removed,.only_a,.only_b,.renamed,.changed{background:#ddf4ff;color:#0a3069}
.clause{border:1px solid #d0d7de;border-radius:.4rem;padding:.75rem 1rem;margin:1rem 0}
.clause.moved,.clause.renumbered{border-left:.4rem solid #0969da}
.clause.added{border-left:.4rem solid #1a7f37}.clause.removed{border-left:.4rem solid #cf222e}
.clause.changed{border-left:.4rem solid #9a6700}
.badge{font-size:.8em;border:1px solid #0969da;color:#0969da;border-radius:.3rem;padding:0 .3rem;margin-left:.4rem}
.witness{margin:.5rem 0 .5rem 1rem}.witness p{margin:.2rem 0}.meta{color:#57606a}
dl{margin:.5rem 0}dt{font-weight:600;margin-top:.4rem}dd{margin:0 0 0 1rem}
""".strip()


def _h(s: str | None) -> str:
    return html.escape(s or "", quote=True)


def _h_redline(pieces: Iterable[tuple[str, str]]) -> str:
    out = []
    for op, t in spaced(pieces):
        e = _h(t).replace("\n", "<br>")
        out.append(e if op == "=" else (f"<del>{e}</del>" if op == "-" else f"<ins>{e}</ins>"))
    return "".join(out)


def _h_verdict(v: str) -> str:
    return f'<span class="verdict {_h(v)}">{_h(RELATION_LABELS.get(v, v))}</span>'


def _h_witnesses(views: Sequence[_WitnessView]) -> str:
    out = []
    for v in views:
        sides = "".join(f"<p><b>{_h(side.name)}</b>: {_h(side.words)}</p>" for side in v.sides)
        out.append(f'<div class="witness"><p>{_h(v.heading)}</p><pre>{_h(v.post)}</pre>{sides}</div>')
    return "".join(out)


def _page(title: str, body: str) -> str:
    from .htmlfonts import embed

    # The fonts govpost ships go into the page, so Hindi reads on a machine without a Devanagari font.
    return embed('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                 '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                 f"<title>{_h(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def html_report(report: DiffReport) -> str:
    parts: list[str] = []
    if report.is_range:
        title = f"govpost diff {report.base}..{report.head}"
        parts.append(f"<h1>govpost diff {_h_verdict(report.verdict)}</h1>")
        parts.append(f'<p class="meta">{_h(_file_counts(report))} between <code>{_h(report.base)}</code> and '
                     f"<code>{_h(report.head)}</code></p>")
        if report.files:
            rows = "".join(f"<tr><td><code>{_h(f.title)}</code></td><td>{_h_verdict(f.verdict)}</td></tr>"
                           for f in report.files)
            parts.append(f"<table><tr><th>file</th><th>verdict</th></tr>{rows}</table>")
        for f in report.files:
            parts.append(f"<h2><code>{_h(f.title)}</code> {_h_verdict(f.verdict)}</h2>")
            parts.append(_h_file(f))
    else:
        first = report.files[0] if report.files else None
        title = f"govpost diff {first.diff.policy_id}" if first is not None and first.diff is not None \
            else "govpost diff"
        for f in report.files:
            if f.diff is not None:
                parts.append(f"<h1><code>{_h(f.diff.policy_id)}</code> {_h_verdict(f.verdict)}</h1>")
                parts.append(f'<p class="meta"><code>{_h(f.old)}</code> → <code>{_h(f.new)}</code></p>')
            parts.append(_h_file(f))
    return _page(title, "\n".join(parts) + "\n")


def _h_file(f: FileDiff) -> str:
    if f.status == "invalid":
        text = render_text(list(f.diagnostics)).rstrip() if f.diagnostics else ""
        return "<p>The policy has errors; fix them first.</p>" + (f"<pre>{_h(text)}</pre>" if text else "")
    if f.diff is None:
        p = f.policy
        return f"<p>{_h(f.status)}: " + (f"policy <code>{_h(p.id)}</code> ({_h(p.title)}), {p.clauses} clauses"
                                         if p else "a policy") + "</p>"
    d, numbers = f.diff, (f.old_numbers, f.new_numbers)
    v = d.verdict.verdict
    out = [f"<p>{_h(DIFF_VERDICTS[v].capitalize())}.</p>"]
    if not d.changed:
        out.append("<p>Nothing changed but comments and layout.</p>")
    out.append(_h_witnesses(_diff_witnesses(d.verdict, numbers)))
    clauses = _visible(d)
    if clauses:
        rows = "".join(
            f'<tr><td>{_h(_numbers(c))}</td><td><a href="#clause-{_h(c.id)}"><code>{_h(c.id)}</code></a> '
            f"{_h(c.title)}</td><td>{_h(_status_line(c).rpartition('; ')[0] or c.status)}</td>"
            f"<td>{_h_verdict(c.effect.verdict)}</td></tr>" for c in clauses)
        out.append("<h2>Clauses</h2><table><tr><th>number</th><th>clause</th><th>change</th><th>effect</th></tr>"
                   f"{rows}</table>")
        for c in clauses:
            out.append(_h_clause(c, numbers))
    if d.declarations:
        rows = "".join(
            f"<tr><td>{_h(decl.kind)} <code>{_h(decl.id)}</code></td><td>{_h(decl.status)}</td><td>"
            + "<br>".join(f"{_h(ch.what)}: {_h_redline(_redline_pieces(ch))}" for ch in decl.changes)
            + f"</td><td>{_h(_affects(decl, f))}</td></tr>" for decl in d.declarations)
        out.append("<h2>Declarations</h2><table><tr><th>declaration</th><th>status</th><th>change</th>"
                   f"<th>affects</th></tr>{rows}</table>")
    if d.metadata or d.sections:
        rows = "".join(f"<tr><td>{_h(c.what)}</td><td>{_h_redline(_redline_pieces(c))}</td></tr>"
                       for c in (*d.metadata, *d.sections))
        out.append(f"<h2>Metadata and sections</h2><table><tr><th>what</th><th>change</th></tr>{rows}</table>")
    return "\n".join(out)


def _h_clause(c: ClauseDiff, numbers: tuple[Mapping[str, str], Mapping[str, str]]) -> str:
    badges = ""
    if c.status in ("moved", "renumbered") or any(ch.what in ("moved", "renumbered") for ch in c.changes):
        moved = any(ch.what == "moved" for ch in c.changes)
        badges = f'<span class="badge">{"moved" if moved else "renumbered"} from {_h(c.old_number)}</span>'
    items = []
    for ch in c.changes:
        if ch.what in ("renumbered", "clause"):
            continue
        if ch.what == "moved":
            items.append(f"<dt>moved</dt><dd>from {_h(ch.old)} to {_h(ch.new)}</dd>")
            continue
        items.append(f"<dt>{_h(_change_label(ch.what))}</dt><dd>{_h_redline(_redline_pieces(ch))}</dd>")
    if c.via:
        items.append(f"<dt>rests on changed</dt><dd>{_h(', '.join(c.via))}</dd>")
    return (f'<div class="clause {_h(c.status)}" id="clause-{_h(c.id)}"><h3>{_h(_numbers(c))} '
            f"<code>{_h(c.id)}</code> {_h(c.title)}{badges}</h3>"
            f'<p class="meta">{_h(c.status)}; effect {_h_verdict(c.effect.verdict)}</p>'
            + (f"<dl>{''.join(items)}</dl>" if items else "")
            + _h_witnesses(_diff_witnesses(c.effect, numbers)) + "</div>")


def html_comparison(report: ComparisonReport) -> str:
    cmp = report.comparison
    v = cmp.overall.verdict
    rows = "".join(
        f'<tr><td><a href="#topic-{_h(t.topic)}"><code>{_h(t.topic)}</code></a> {_h(t.title)}</td>'
        f"<td>{_h_verdict(t.relation)}</td><td>{_h(' '.join(c.number for c in t.a_clauses))}</td>"
        f"<td>{_h(' '.join(c.number for c in t.b_clauses))}</td></tr>" for t in cmp.topics)
    parts = [
        f"<h1>govpost compare {_h_verdict(v)}</h1>",
        f'<p class="meta">A = <code>{_h(cmp.a.id)}</code> {_h(cmp.a.title)} (<code>{_h(report.a_name)}</code>)<br>'
        f"B = <code>{_h(cmp.b.id)}</code> {_h(cmp.b.title)} (<code>{_h(report.b_name)}</code>)</p>",
        f"<p>{_h(COMPARE_VERDICTS[v])}.</p>",
        _h_witnesses(_compare_witnesses(cmp.overall.stricter, cmp.overall.looser, report)),
        "<h2>Topics</h2><table><tr><th>topic</th><th>A vs B</th><th>A clauses</th><th>B clauses</th></tr>"
        f"{rows}</table>",
    ]
    for t in cmp.topics:
        clauses = "".join(f"<li>{side} {_h(c.number)} <code>{_h(c.id)}</code> {_h(c.title)}: "
                          f"<b>{_h(_outcome(c.outcome))}</b></li>"
                          for side, cs in (("A", t.a_clauses), ("B", t.b_clauses)) for c in cs)
        parts.append(f'<div class="clause" id="topic-{_h(t.topic)}"><h3><code>{_h(t.topic)}</code> {_h(t.title)} '
                     f"{_h_verdict(t.relation)}</h3><p>{_h(COMPARE_VERDICTS[t.relation])}.</p><ul>{clauses}</ul>"
                     + _h_witnesses(_compare_witnesses(t.stricter, t.looser, report, topic=True)) + "</div>")
    return _page(f"govpost compare {cmp.a.id} with {cmp.b.id}", "\n".join(parts) + "\n")


__all__ = [
    "FORMATS", "MARKER", "ComparisonReport", "DiffReport", "FileDiff", "PolicySummary",
    "comparison_json", "diff_json", "render_comparison", "render_diff", "report_json",
]
