"""The linter: drafting problems in a valid policy, named by clause number and id.

A policy that validates can still be badly drafted: a clause that can never
apply, two clauses of one topic that disagree about the same post, prose that
says "may" in a prohibition, a lexicon entry that can never add a match. Each
such rule has a stable code (``L001``…), a one-line rationale, a page under
``docs/lint/``, a default severity, and is enabled by default or opt-in.

Configuration comes from ``pyproject.toml``::

    [tool.govpost.lint]
    enable = ["L012"]            # opt-in rules to run ("all" runs every rule)
    disable = ["L015"]           # rules not to run
    fail-on = "warning"          # the level at which `govpost lint` exits 1
    max-sentence-words = 35      # L015
    check-included = true        # L009 also for declarations in included files
    today = 2026-07-01           # L014: the date "expired" is judged against

    [tool.govpost.lint.severity]
    L004 = "error"

A finding is silenced with a comment that names its code and says why, on the
line before the clause or declaration it concerns or anywhere inside it::

    # govpost: ignore L003 -- the narrower clause is meant to outrank this one

``# govpost: ignore-file L009 -- reason`` silences a code for a whole file (in
the main policy file: for every finding of the policy). A suppression with no
reason is itself a finding (L016).

The behavioural rules (L001–L003) are decided exactly by the analysis engine
of :mod:`toolkit.analysis` on the compiled rule set; every witness post they
print is confirmed by the checker.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from . import model as m
from .diagnostics import CODES, Diagnostic, has_errors
from .operators import for_node, walk
from .source import Span

SEVERITIES = ("note", "warning", "error")


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    code: str
    name: str
    rationale: str
    severity: str  # "error" | "warning" | "note"
    default: bool  # enabled unless configured otherwise
    page: str | None = None  # its documentation, when not docs/lint/CODE.md

    @property
    def docs(self) -> str:
        return self.page or f"docs/lint/{self.code}.md"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "rationale": self.rationale, "severity": self.severity,
                "default": self.default, "docs": self.docs}


_RULES = (
    Rule("L001", "unsatisfiable-clause",
         "A clause whose condition no post can meet never applies: it is dead text that misleads readers.",
         "error", True),
    Rule("L002", "never-decides",
         "A clause that is always outranked by a stronger clause never decides a post's outcome.",
         "warning", True),
    Rule("L003", "conflicting-clauses",
         "Two clauses of one topic that give the same post different outcomes leave the reader to guess "
         "which one governs.",
         "warning", False),
    Rule("L004", "missing-citation",
         "Every clause should rest on a provision it cites, or say that it is new guidance.",
         "warning", True),
    Rule("L005", "one-sided-examples",
         "Worked examples on both sides of a clause's line show where the line is.",
         "warning", True),
    Rule("L006", "modal-contradiction",
         "Prose that says \"may\" in a prohibition or \"shall not\" in a permission contradicts the outcome "
         "posts get.",
         "warning", True),
    Rule("L007", "unlinked-term",
         "A defined term used in prose without `{…}` does not tell the reader that it is defined.",
         "note", False),
    Rule("L008", "unused-term",
         "A term that is defined but never used clutters the glossary.",
         "warning", True),
    Rule("L009", "unused-declaration",
         "A lexicon, pattern, signal or period that no clause uses is dead weight, or a clause is missing.",
         "warning", True),
    Rule("L010", "redundant-lexicon-entry",
         "A lexicon entry repeated, or containing another entry of the same lexicon, can never add a match.",
         "warning", True),
    Rule("L011", "topic-without-clause",
         "A declared topic with no clause is a promise the policy does not keep.",
         "warning", True),
    Rule("L012", "provision-matrix-gap",
         "A topic of the provision matrix that the policy does not address may be a gap in coverage.",
         "note", False),
    Rule("L013", "suspicious-characters",
         "Invisible, bidirectional-control or mixed-script characters make text that reads one way and "
         "matches another.",
         "error", True),
    Rule("L014", "contradictory-dates",
         "Dates that contradict each other (an expired policy, a period outside the policy's life) are "
         "drafting mistakes.",
         "error", True),
    Rule("L015", "long-sentence",
         "Long sentences are hard to read; plain-language drafting keeps them short.",
         "warning", True),
    Rule("L016", "unjustified-suppression",
         "A suppression must name known rules and say why, so that reviewers can judge it.",
         "warning", True),
    Rule("L017", "never-matches",
         "A text condition that no post's words can meet (a lexicon no text can match, a stance with no "
         "word of its feeling) makes its clause or signal rest on nothing.",
         "warning", True),
)

#: The catalogue: code → rule.
RULES: dict[str, Rule] = {r.code: r for r in _RULES}


def diagnostic_rule(code: str) -> Rule:
    """The rule a validation diagnostic (``P1xx`` syntax, ``S2xx`` semantics, ``I5xx`` files) is reported under.

    A policy that does not validate is not linted, but its diagnostics are
    still reported in every format (SARIF, GitHub annotations, JSON), so that
    code scanning shows a broken policy as broken, never as clean.
    """
    description = CODES[code]
    name = re.sub(r"[^a-z0-9]+", "-", description.lower()).strip("-")
    return Rule(code, name, description[0].upper() + description[1:] + ": the policy does not validate.",
                "error", True, page="docs/language.md")

#: The rows of the provision matrix (shared/DOMAIN.md §5) as topic ids: what L012 looks for.
PROVISION_MATRIX: tuple[tuple[str, str], ...] = (
    ("political_neutrality", "Political neutrality / party endorsement"),
    ("criticism_of_government", "Criticism of Government policy/action"),
    ("attacks_on_colleagues", "Attacks on colleagues/superiors"),
    ("official_information", "Disclosure of official/confidential information"),
    ("designation_and_uniform", "Designation/logo/uniform on personal account"),
    ("official_accounts", "Official account creation & operation"),
    ("citizen_engagement", "Responding to citizens / moderation"),
    ("self_promotion", "Self-promotion / personal branding"),
    ("commercial_endorsement", "Commercial endorsement"),
    ("sub_judice", "Sub-judice / legal proceedings"),
    ("communal_content", "Communal / hate content"),
    ("harassment_and_privacy", "Harassment / abuse / others' privacy"),
    ("election_period", "Election-period restrictions"),
    ("media_contact", "Media interviews / press contact"),
    ("anonymity", "Anonymity / pseudonyms"),
    ("vindication", "Vindication via media/courts"),
    ("disclaimers", "Disclaimers (\"views personal\")"),
    ("likes_and_shares", "Likes/shares as endorsement"),
    ("records_and_rti", "Records retention / RTI"),
    ("account_security", "Cybersecurity / account security"),
    ("official_resources", "Office-hours / official resources"),
    ("misinformation", "Misinformation / AI or unverified content"),
    ("grievances", "Grievance / whistleblowing channel"),
)


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One lint finding: a rule, where, which clause, and (for L003) a witness post."""

    code: str
    severity: str
    message: str
    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    clause: str | None = None  # clause id
    clause_number: str | None = None  # 2.1(b)
    witness: dict[str, Any] | None = None
    help: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def rule(self) -> Rule:
        return RULES.get(self.code) or diagnostic_rule(self.code)

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two findings the same one: a finding in an included file, met through two policies, is one."""
        return (self.file, self.line, self.col, self.end_line, self.end_col, self.code, self.message)

    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.rule.name,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "clause": self.clause,
            "clause_number": self.clause_number,
            "witness": self.witness,
            "help": self.help,
            "docs": self.rule.docs,
        }


def finding_of(diagnostic: Diagnostic, file: str) -> Finding:
    """A validation diagnostic as a finding, for the reports of ``govpost lint``.

    ``file`` is the policy being linted: a diagnostic without a place (a file
    that cannot be read) is reported at its first line.
    """
    span = diagnostic.span
    if span is None or not span.source.text:
        where, line, col, end_line, end_col = (span.source.name if span else file), 1, 1, 1, 1
    else:
        where = span.source.name
        line, col = span.source.line_col(span.start)
        end_line, end_col = span.source.line_col(max(span.start, span.end))
    hint = "; ".join(part for part in (diagnostic.help, *diagnostic.notes) if part) or None
    return Finding(diagnostic.code, "error" if diagnostic.is_error else "warning", diagnostic.message, where,
                   line, col, end_line, end_col, help=hint, span=span)


def unique_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings with repeats dropped, in file order: each once, however many policies include its file."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in sorted(findings, key=_order):
        if f.key not in seen:
            seen.add(f.key)
            out.append(f)
    return out


def _finding(code: str, message: str, span: Span | None, *, clause: tuple[m.Clause, str] | None = None,
             witness: dict[str, Any] | None = None, help: str | None = None) -> Finding:  # noqa: A002
    if span is None or not span.source.text:
        file, line, col, end_line, end_col = (span.source.name if span else "<policy>"), 1, 1, 1, 1
    else:
        file = span.source.name
        line, col = span.source.line_col(span.start)
        end_line, end_col = span.source.line_col(max(span.start, span.end))
    prefix = ""
    if clause is not None:
        prefix = f"clause {clause[1]} `{clause[0].id}`: "
    return Finding(code, RULES[code].severity, prefix + message, file, line, col, end_line, end_col,
                   clause[0].id if clause else None, clause[1] if clause else None, witness, help, span)


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


class ConfigError(ValueError):
    """The `[tool.govpost.lint]` table is malformed."""


_CONFIG_KEYS = {"enable", "disable", "severity", "fail-on", "max-sentence-words", "check-included", "today"}


@dataclass(frozen=True)
class LintConfig:
    """Which rules run, at what severity, with which options."""

    enabled: frozenset[str] = frozenset(r.code for r in _RULES if r.default)
    severity: Mapping[str, str] = field(default_factory=dict)
    fail_on: str = "error"
    max_sentence_words: int = 40
    check_included: bool = False
    today: dt.date | None = None  # None: the day the linter runs
    source: str | None = None  # the file the configuration came from

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], source: str | None = None) -> LintConfig:
        """Read a ``[tool.govpost.lint]`` table. Raises :class:`ConfigError`."""
        where = f" in `{source}`" if source else ""
        unknown = sorted(set(table) - _CONFIG_KEYS)
        if unknown:
            raise ConfigError(f"unknown key `{unknown[0]}` in [tool.govpost.lint]{where}; "
                              f"known keys: {', '.join(sorted(_CONFIG_KEYS))}")

        def codes(key: str) -> set[str]:
            value = table.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"`{key}` must be a list of rule codes{where}")
            out = set()
            for v in value:
                if v == "all":
                    out |= set(RULES)
                elif v.upper() in RULES:
                    out.add(v.upper())
                else:
                    raise ConfigError(f"`{key}` names unknown rule `{v}`{where}; rules are L001–L{len(RULES):03d}")
            return out

        enabled = (set(cls().enabled) | codes("enable")) - codes("disable")
        severity_table = table.get("severity", {})
        if not isinstance(severity_table, dict):
            raise ConfigError(f"`severity` must be a table of rule code = level{where}")
        severity = {}
        for code, level in severity_table.items():
            if code.upper() not in RULES:
                raise ConfigError(f"`severity` names unknown rule `{code}`{where}")
            if level not in SEVERITIES:
                raise ConfigError(f"severity of `{code}` must be one of {', '.join(SEVERITIES)}{where}")
            severity[code.upper()] = level
        fail_on = table.get("fail-on", "error")
        if fail_on not in SEVERITIES + ("never",):
            raise ConfigError(f"`fail-on` must be one of {', '.join(SEVERITIES)}, never{where}")
        words = table.get("max-sentence-words", 40)
        if not isinstance(words, int) or isinstance(words, bool) or words < 1:
            raise ConfigError(f"`max-sentence-words` must be a positive whole number{where}")
        included = table.get("check-included", False)
        if not isinstance(included, bool):
            raise ConfigError(f"`check-included` must be true or false{where}")
        today = table.get("today")
        if today is not None and not (isinstance(today, dt.date) and not isinstance(today, dt.datetime)):
            raise ConfigError(f"`today` must be a date (YYYY-MM-DD){where}")
        return cls(frozenset(enabled), severity, fail_on, words, included, today, source)

    def severity_of(self, code: str) -> str:
        return self.severity.get(code, RULES[code].severity)


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, start: Path | None = None) -> LintConfig:
    """The lint configuration from ``path``, or from the nearest ``pyproject.toml`` above ``start``.

    A ``pyproject.toml`` without a ``[tool.govpost.lint]`` table gives the defaults.
    Raises :class:`ConfigError` for a malformed file or table.
    """
    if path is None:
        path = find_pyproject(start or Path.cwd())
        if path is None:
            return LintConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read `{path}`: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"`{path}` is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("govpost", {}).get("lint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.govpost.lint] in `{path}` must be a table")
    return LintConfig.from_mapping(table, str(path))


# ---------------------------------------------------------------------------
# Suppressions
# ---------------------------------------------------------------------------

_SUPPRESS = re.compile(
    r"#\s*govpost:\s*(?P<kind>ignore-file|ignore)\b(?P<codes>[^-\n]*?)(?:\s*--\s*(?P<reason>.*\S)?)?\s*$"
)


@dataclass(frozen=True)
class Suppression:
    codes: frozenset[str]
    file_wide: bool
    reason: str | None
    span: Span


def suppressions(comments: Mapping[str, Iterable[Any]]) -> tuple[list[Suppression], list[Finding]]:
    """The suppression comments of every file, and L016 findings for malformed ones."""
    out: list[Suppression] = []
    bad: list[Finding] = []
    for _name, items in comments.items():
        for comment in items:
            mt = _SUPPRESS.match(comment.text)
            if mt is None:
                continue
            codes = [c.upper() for c in re.findall(r"[A-Za-z]\d{3}", mt.group("codes"))]
            unknown = [c for c in codes if c not in RULES]
            if not codes:
                bad.append(_finding("L016", "this suppression names no rule", comment.span,
                                    help="write `# govpost: ignore L003 -- why the finding does not apply`"))
                continue
            if unknown:
                bad.append(_finding("L016", f"this suppression names unknown rule `{unknown[0]}`", comment.span,
                                    help=f"rules are L001–L{len(RULES):03d}; see docs/lint/"))
            if not mt.group("reason"):
                bad.append(_finding("L016", "this suppression gives no reason", comment.span,
                                    help="add `-- ` and the reason, so that reviewers can judge it"))
            out.append(Suppression(frozenset(c for c in codes if c in RULES), mt.group("kind") == "ignore-file",
                                   mt.group("reason"), comment.span))
    return out, bad


_COMMENT_RUN = re.compile(r"[ \t]*(?:\n[ \t]*#[^\n]*)*\n[ \t]*")


def _suppressed(f: Finding, scope: Span | None, sups: list[Suppression], main: str | None) -> bool:
    for s in sups:
        if f.code not in s.codes:
            continue
        name = s.span.source.name
        if s.file_wide:
            if name == f.file or name == main:
                return True
            continue
        if scope is None or scope.source.name != name:
            continue
        if scope.start <= s.span.start < scope.end:
            return True
        # On the line just before the clause or declaration, or in the run of comments right before it.
        if s.span.end <= scope.start and _COMMENT_RUN.fullmatch(scope.source.text, s.span.end, scope.start):
            return True
    return False


# ---------------------------------------------------------------------------
# The rules that read the model
# ---------------------------------------------------------------------------


@dataclass
class _Context:
    policy: m.Policy
    config: LintConfig
    main: str | None
    numbers: dict[str, str]
    ruleset: dict[str, Any] | None
    findings: list[tuple[Finding, Span | None]] = field(default_factory=list)

    def add(self, finding: Finding, scope: Span | None) -> None:
        self.findings.append((finding, scope))

    def clause_ref(self, clause: m.Clause) -> tuple[m.Clause, str]:
        return clause, self.numbers.get(clause.id, "?")


def _texts_of_clause(c: m.Clause) -> Iterator[m.Text]:
    for t in (c.title, c.text, c.rationale, c.note, c.new_guidance):
        if t is not None:
            yield t


def _all_texts(policy: m.Policy) -> Iterator[m.Text]:
    meta = policy.meta
    for t in (meta.title, meta.subject, meta.opening):
        if t is not None:
            yield t
    for section, _ in policy.numbered_sections():
        yield section.title
        if section.intro is not None:
            yield section.intro
    for c in policy.clauses():
        yield from _texts_of_clause(c)
    for term in policy.terms:
        yield term.definition


def _conditions(node: m.Condition) -> Iterator[m.Condition]:
    return walk(node)


def rule_missing_citation(ctx: _Context) -> None:
    for c in ctx.policy.clauses():
        if not c.citations and not c.is_new_guidance:
            ctx.add(_finding("L004", "no citation and not marked as new guidance", c.span, clause=ctx.clause_ref(c),
                             help="add `cites INSTRUMENT PROVISION`, or `new guidance \"why the rules are silent\"`"),
                    c.span)


_PERMISSIVE = re.compile(r"\b(?:may(?!\s+not\b)|(?:is|are) (?:free|permitted|allowed) to)\b", re.IGNORECASE)
_PROHIBITIVE = re.compile(
    r"\b(?:shall not|shall never|must not|must never|may not|(?:is|are) (?:prohibited|forbidden|not permitted)"
    r"|(?:is|are) not allowed)\b",
    re.IGNORECASE,
)


def _prohibitive(text: str) -> bool:
    return bool(_PROHIBITIVE.search(text) or _NEGATIVE.search(text))


def _permissive(text: str) -> bool:
    return any(_PERMISSIVE.search(s) and not _NEGATIVE.search(s) for s in sentences(text))


_NEGATIVE = re.compile(r"(?:^|[.;:]\s+)(?:No|Nothing|Neither|None)\b|\bshall\s+(?:\w+\s+)?no\b|\bnot\b|\bnever\b")


def rule_modal_contradiction(ctx: _Context) -> None:
    for c in ctx.policy.clauses():
        if c.text is None or c.outcome is None:
            continue
        if c.outcome is m.Outcome.PROHIBITED:
            pattern, says = _PERMISSIVE, "permits"
        elif c.outcome is m.Outcome.PERMITTED:
            pattern, says = _PROHIBITIVE, "forbids"
        else:
            continue
        text = c.text.value
        mt = pattern.search(text)
        # Prose that states the other modality too ("may vote, but shall give no
        # indication…") describes both sides of the line: no contradiction.
        other = _permissive(text) if pattern is _PROHIBITIVE else _prohibitive(text)
        if mt and not other:
            ctx.add(_finding("L006", f"the text says `{mt.group()}`, which {says}, but the outcome is "
                                     f"`{c.outcome.label}`", c.text.span, clause=ctx.clause_ref(c),
                             help="reword the prose, or change the outcome, so that they say the same"), c.span)


def _term_uses(policy: m.Policy) -> set[str]:
    from .check import term_references

    used = set()
    for t in _all_texts(policy):
        for value in (t.value, *(v for _l, v in t.translations)):
            used.update(term.casefold() for term, _s, _a, _b in term_references(value))
    return used


def rule_unused_term(ctx: _Context) -> None:
    used = _term_uses(ctx.policy)
    for term in ctx.policy.terms:
        if term.term.casefold() not in used and _own(ctx, term.span):
            ctx.add(_finding("L008", f"term `{term.term}` is defined but never used", term.span,
                             help=f"refer to it as `{{{term.term}}}` in clause text, or remove the definition"),
                    term.span)


def rule_unlinked_term(ctx: _Context) -> None:
    from .check import term_references

    for c in ctx.policy.clauses():
        if c.text is None:
            continue
        linked = {term.casefold() for term, _s, _a, _b in term_references(c.text.value)}
        plain = re.sub(r"\{[^{}]*\}", " ", c.text.value)
        for term in ctx.policy.terms:
            if term.term.casefold() in linked:
                continue
            if re.search(r"(?<!\w)" + re.escape(term.term) + r"(?!\w)", plain, re.IGNORECASE):
                ctx.add(_finding("L007", f"the text uses the defined term `{term.term}` without `{{…}}`",
                                 c.text.span, clause=ctx.clause_ref(c),
                                 help=f"write `{{{term.term}}}` at its first use in the clause"), c.span)


def _own(ctx: _Context, span: Span) -> bool:
    return ctx.config.check_included or ctx.main is None or span.source.name == ctx.main


def rule_unused_declaration(ctx: _Context) -> None:
    policy = ctx.policy
    signals = {s.id: s for s in policy.signals}
    used: dict[str, set[str]] = {"lexicon": set(), "pattern": set(), "signal": set(), "period": set()}
    pending: list[m.Condition] = []
    for c in policy.clauses():
        if c.when is not None:
            pending.append(c.when)
        pending.extend(e.condition for e in c.unless)
    while pending:
        for node in _conditions(pending.pop()):
            for kind, name, _span in for_node(node).references(node):
                if kind == "signal":
                    if name in signals and name not in used["signal"]:
                        used["signal"].add(name)
                        pending.append(signals[name].condition)
                elif kind in used:
                    used[kind].add(name)
    # A lexicon that fills a slot of a used lexicon's entry is used too; negators are used by the checker.
    by_id = {lex.id: lex for lex in policy.lexicons}
    frontier = list(used["lexicon"])
    while frontier:
        lex = by_id.get(frontier.pop())
        if lex is None:
            continue
        for entry in lex.entries:
            for name in _SLOT.findall(entry.text):
                if name not in used["lexicon"]:
                    used["lexicon"].add(name)
                    frontier.append(name)
    used["lexicon"].update(lex.id for lex in policy.lexicons if lex.role == "negation" or lex.valence is not None)
    for kind, items in (("lexicon", policy.lexicons), ("pattern", policy.patterns),
                        ("signal", policy.signals), ("period", policy.periods)):
        for item in items:
            if item.id not in used[kind] and _own(ctx, item.span):
                ctx.add(_finding("L009", f"{kind} `{item.id}` is not used by any clause", item.span,
                                 help="use it in a clause's condition, or remove it"), item.span)


def rule_redundant_lexicon_entry(ctx: _Context) -> None:
    from .text import hashtag_key, tokens

    for lex in ctx.policy.lexicons:
        if not _own(ctx, lex.span) and not ctx.config.check_included and ctx.main is not None:
            continue
        keyed = []
        for entry in lex.entries:
            tag = hashtag_key(entry.text)
            words = [w for w, _s, _e in tokens(entry.text)]
            keyed.append((entry, "#" + tag if tag else (" " + " ".join(words) + " " if words else "")))
        first: dict[str, m.LexiconEntry] = {}
        for entry, key in keyed:
            if not key:
                continue
            if key in first:
                ctx.add(_finding("L010", f"lexicon `{lex.id}`: entry \"{entry.text}\" repeats "
                                         f"\"{first[key].text}\"", entry.span, help="remove the repetition"),
                        lex.span)
                continue
            first[key] = entry
        for entry, key in keyed:
            if not key or key.startswith("#") or first.get(key) is not entry:
                continue
            for other, other_key in keyed:
                if other_key.startswith("#") or first.get(other_key) is not other or other_key == key:
                    continue
                if key in other_key:
                    # `entry` is found in every text `other` is found in: `other` adds nothing.
                    ctx.add(_finding("L010", f"lexicon `{lex.id}`: entry \"{other.text}\" contains entry "
                                             f"\"{entry.text}\" and can never add a match", other.span,
                                     help=f"remove \"{other.text}\"; \"{entry.text}\" already matches it"),
                            lex.span)


def rule_topic_without_clause(ctx: _Context) -> None:
    covered = {c.topic for c in ctx.policy.clauses()}
    for topic in ctx.policy.topics:
        if topic.id not in covered:
            ctx.add(_finding("L011", f"topic `{topic.id}` has no clause", topic.span,
                             help="add a clause on it, or remove the topic; a shared topic list can be "
                                  "silenced for one policy with `# govpost: ignore-file L011 -- reason`"),
                    topic.span)


def rule_matrix_gap(ctx: _Context) -> None:
    covered = {c.topic for c in ctx.policy.clauses()}
    for topic, row in PROVISION_MATRIX:
        if topic not in covered:
            ctx.add(_finding("L012", f"the policy does not address `{topic}` ({row}), a topic of the "
                                     "provision matrix", ctx.policy.span,
                             help="add a clause with this topic, or record why the policy is silent on it"),
                    ctx.policy.span)


_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = set("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u3164")
_JOINERS = set("\u200c\u200d")
_CONFUSABLE_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}


def _script(ch: str) -> str | None:
    try:
        return unicodedata.name(ch).split(" ")[0]
    except ValueError:
        return None


def suspicious(value: str) -> str | None:
    """Why a string holds characters that read one way and match another, or None."""
    for ch in value:
        if ch in _BIDI:
            return f"a bidirectional control character (U+{ord(ch):04X} {unicodedata.name(ch, '')})"
        if ch in _INVISIBLE:
            return f"an invisible character (U+{ord(ch):04X} {unicodedata.name(ch, '')})"
    for i, ch in enumerate(value):
        if ch in _JOINERS:
            near = [_script(c) for c in value[max(0, i - 1):i + 2] if c.isalpha()]
            if not near or all(s in _CONFUSABLE_SCRIPTS for s in near):
                return f"a zero-width joiner (U+{ord(ch):04X}) outside a script that uses it"
    for word in re.findall(r"\w+", value):
        scripts = {_script(c) for c in word if c.isalpha()} & _CONFUSABLE_SCRIPTS
        if len(scripts) > 1:
            return f"the word `{word}` mixes {' and '.join(sorted(s.title() for s in scripts))} letters " \
                   "(confusable characters)"
    return None


def rule_suspicious_characters(ctx: _Context) -> None:
    policy = ctx.policy
    for lex in policy.lexicons:
        for entry in lex.entries:
            why = suspicious(entry.text)
            if why:
                ctx.add(_finding("L013", f"lexicon `{lex.id}`: entry \"{entry.text}\" contains {why}", entry.span,
                                 help="retype the entry in one script, without invisible characters"), lex.span)
    for term in policy.terms:
        why = suspicious(term.term)
        if why:
            ctx.add(_finding("L013", f"term `{term.term}` contains {why}", term.span), term.span)
    for c in policy.clauses():
        for t in _texts_of_clause(c):
            for value in (t.value, *(v for _l, v in t.translations)):
                why = suspicious(value)
                if why:
                    ctx.add(_finding("L013", f"the text contains {why}", t.span, clause=ctx.clause_ref(c),
                                     help="retype the text without invisible or direction-changing characters"),
                            c.span)
                    break


def rule_dates(ctx: _Context) -> None:
    meta = ctx.policy.meta
    span = ctx.policy.span
    today = ctx.config.today or dt.date.today()
    start = meta.effective or meta.issued
    if meta.expires and meta.expires < today:
        ctx.add(_finding("L014", f"the policy expired on {meta.expires.isoformat()}", span,
                         help="update `expires`, or withdraw the policy"), span)
    for period in ctx.policy.periods:
        if period.start is None or period.end is None:
            continue
        if start and period.end < start:
            ctx.add(_finding("L014", f"period `{period.id}` ends ({period.end}) before the policy takes effect "
                                     f"({start})", period.span, help="no post within the policy's life falls in it"),
                    period.span)
        elif meta.expires and period.start > meta.expires:
            ctx.add(_finding("L014", f"period `{period.id}` starts ({period.start}) after the policy expires "
                                     f"({meta.expires})", period.span,
                             help="no post within the policy's life falls in it"), period.span)
    for c in ctx.policy.clauses():
        conds = ([c.when] if c.when is not None else []) + [e.condition for e in c.unless]
        for cond in conds:
            for node in _conditions(cond):
                if isinstance(node, m.PostedBefore) and start and node.date <= start:
                    ctx.add(_finding("L014", f"`posted before {node.date}` is not after the policy takes effect "
                                             f"({start})", node.span, clause=ctx.clause_ref(c)), c.span)
                elif isinstance(node, m.PostedAfter) and meta.expires and node.date >= meta.expires:
                    ctx.add(_finding("L014", f"`posted after {node.date}` is not before the policy expires "
                                             f"({meta.expires})", node.span, clause=ctx.clause_ref(c)), c.span)


_SLOT = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\s*\}")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9{])")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def sentences(text: str) -> list[str]:
    """The sentences of prose, term references shown as their words."""
    plain = re.sub(r"\{([^{}|]*)(?:\|[^{}]*)?\}", r"\1", text)
    return [s for s in _SENTENCE_END.split(plain) if s.strip()]


def rule_long_sentence(ctx: _Context) -> None:
    limit = ctx.config.max_sentence_words
    for c in ctx.policy.clauses():
        if c.text is None:
            continue
        for sentence in sentences(c.text.value):
            words = len(_WORD.findall(sentence))
            if words > limit:
                start = " ".join(sentence.split()[:6])
                ctx.add(_finding("L015", f"a sentence of {words} words (more than {limit}): \"{start} …\"",
                                 c.text.span, clause=ctx.clause_ref(c),
                                 help="split it; `max-sentence-words` in [tool.govpost.lint] sets the limit"),
                        c.span)


# ---------------------------------------------------------------------------
# The rules that read the compiled rule set (exact, through the analysis engine)
# ---------------------------------------------------------------------------


def _analysis_rules(ctx: _Context, codes: set[str]) -> None:
    from .analysis import Analyzer
    from .evaluate import Checker

    assert ctx.ruleset is not None
    import z3

    analyzer = Analyzer(ctx.ruleset, ctx.ruleset)
    checker = Checker(ctx.ruleset)
    clauses = {c.id: c for c in ctx.policy.clauses()}
    ids = [c["id"] for c in ctx.ruleset["clauses"]]

    def sat(*parts: Any) -> dict[str, Any] | None:
        return analyzer.satisfiable(0, lambda s: z3.And([p(s) for p in parts], s.u.ctx))

    def applies(cid: str) -> Any:
        return lambda s: s.applies[cid]

    def not_applies(cid: str) -> Any:
        return lambda s: z3.Not(s.applies[cid])

    if "L017" in codes:
        _never_matches(ctx, analyzer)
    level = analyzer.sides[0].level
    dead: set[str] = set()
    for cid in ids:
        c = clauses[cid]
        if sat(applies(cid)) is None:
            dead.add(cid)
            if "L001" in codes:
                ctx.add(_finding("L001", "no post can meet its condition (with its exceptions): it never applies",
                                 c.span, clause=ctx.clause_ref(c),
                                 help="look for a condition and its negation, values a field cannot have "
                                      "together, or an exception that covers the whole condition"), c.span)
    if "L002" in codes:
        for cid in ids:
            if cid in dead:
                continue
            stronger = [d for d in ids if level[d] > level[cid] and d not in dead]
            if not stronger or sat(applies(cid), *[not_applies(d) for d in stronger]) is not None:
                continue
            c = clauses[cid]
            alone = [d for d in stronger if sat(applies(cid), not_applies(d)) is None]
            if alone:
                names = alone[:1]
            else:
                names = [d for d in stronger if sat(applies(cid), applies(d)) is not None]
            shown = ", ".join(f"{ctx.numbers.get(d, '?')} `{d}` ({ctx.ruleset and _outcome_of(ctx.ruleset, d)})"
                              for d in names)
            which = "clause" if len(names) == 1 else "clauses"
            ctx.add(_finding("L002", f"it never decides a post: whenever it applies, {which} {shown} "
                                     "applies with a stronger outcome", c.span, clause=ctx.clause_ref(c),
                             help="narrow the stronger clause, or remove or merge this one"), c.span)
    if "L003" in codes:
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                ca, cb = clauses[a], clauses[b]
                if a in dead or b in dead or ca.topic != cb.topic or level[a] == level[b]:
                    continue
                post = sat(applies(a), applies(b))
                if post is None:
                    continue
                witness = _shrink(post, {a, b}, checker, analyzer) if _both(post, {a, b}, checker) else None
                ctx.add(_finding(
                    "L003",
                    f"it and clause {ctx.numbers.get(b, '?')} `{b}` of the same topic `{ca.topic}` both apply to "
                    f"some posts, with different outcomes ({_outcome_of(ctx.ruleset, a)} and "
                    f"{_outcome_of(ctx.ruleset, b)})",
                    ca.span, clause=ctx.clause_ref(ca), witness=witness,
                    help="make the conditions exclusive (an `unless`), or say in the prose which one governs"),
                    ca.span)


_TEXT_OPERATORS = ("mentions", "near", "stance")


def _never_matches(ctx: _Context, analyzer: Any) -> None:
    """L017: each text condition is asked alone of the analysis engine; one no post can meet is reported."""
    from .compiler import compile_condition

    assert ctx.ruleset is not None
    seen: set[tuple[Any, ...]] = set()
    owners: list[tuple[Any, Any, Span]] = [(s.condition, None, s.span) for s in ctx.policy.signals]
    for c in ctx.policy.clauses():
        if c.when is not None:
            owners.append((c.when, c, c.span))
        owners.extend((e.condition, c, c.span) for e in c.unless)
    for cond, clause, scope in owners:
        for node in _conditions(cond):
            compiled = compile_condition(ctx.policy, node) if for_node(node).op in _TEXT_OPERATORS else None
            if compiled is None:
                continue
            key = tuple(sorted((k, str(v)) for k, v in compiled.items()))
            if key in seen:
                continue
            seen.add(key)
            try:
                possible = analyzer.satisfiable(0, lambda side, c=compiled: side.enc(c)) is not None
            except KeyError:  # in a signal no clause uses: L009 reports that
                continue
            if possible:
                continue
            what = node.span.text if node.span is not None and node.span.text else compiled["op"]
            if compiled["op"] == "stance":
                help_ = ("no valence word of that feeling can stand beside it: give a lexicon with a `valence`, "
                         "or keep the header's `valence vader`")
            elif compiled["op"] == "near":
                help_ = "one of the two lexicons can match no text, or the two can never stand apart in one sentence"
            else:
                help_ = "no entry of the lexicon can be matched: check its phrases and the lexicons its slots name"
            ctx.add(_finding("L017", f"`{' '.join(what.split())}` can never hold: no post's words meet it",
                             node.span, clause=ctx.clause_ref(clause) if clause is not None else None,
                             help=help_), scope)


def _both(post: dict[str, Any], wanted: set[str], checker: Any) -> bool:
    verdict, _ = checker.check(post)
    return verdict is not None and wanted <= {f["clause"] for f in verdict.findings}


def _shrink(post: dict[str, Any], wanted: set[str], checker: Any, analyzer: Any) -> dict[str, Any]:
    """The post without every part that both clauses applying does not need."""
    from .analysis import _reductions

    changed = True
    while changed:
        changed = False
        for smaller in _reductions(post, analyzer.u.separator):
            if _both(smaller, wanted, checker):
                post, changed = smaller, True
                break
    return post


def _outcome_of(ruleset: dict[str, Any], cid: str) -> str:
    for c in ruleset["clauses"]:
        if c["id"] == cid:
            return str(c["outcome"]).replace("_", " ")
    return "?"


def rule_one_sided_examples(ctx: _Context) -> None:
    from .evaluate import Checker

    assert ctx.ruleset is not None
    checker = Checker(ctx.ruleset)
    sides: dict[str, set[bool]] = {}
    for ex in ctx.ruleset["examples"]:
        verdict, _ = checker.check(ex["post"])
        if verdict is None:
            continue
        applied = {f["clause"] for f in verdict.findings}
        sides.setdefault(ex["clause"], set()).add(ex["clause"] in applied)
    for c in ctx.policy.clauses():
        seen = sides.get(c.id, set())
        if True not in seen:
            what = "no worked example that it applies to"
        elif False not in seen:
            what = "no worked example on the other side of its line (a post it does not apply to)"
        else:
            continue
        ctx.add(_finding("L005", what, c.span, clause=ctx.clause_ref(c),
                         help="add an example post just inside and one just outside the clause"), c.span)


_MODEL_RULES = {
    "L004": rule_missing_citation,
    "L006": rule_modal_contradiction,
    "L007": rule_unlinked_term,
    "L008": rule_unused_term,
    "L009": rule_unused_declaration,
    "L010": rule_redundant_lexicon_entry,
    "L011": rule_topic_without_clause,
    "L012": rule_matrix_gap,
    "L013": rule_suspicious_characters,
    "L014": rule_dates,
    "L015": rule_long_sentence,
}


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def lint_policy(
    policy: m.Policy,
    *,
    ruleset: dict[str, Any] | None = None,
    comments: Mapping[str, Iterable[Any]] | None = None,
    config: LintConfig | None = None,
    main_file: str | None = None,
) -> list[Finding]:
    """Every finding for a policy that passed validation, suppressions applied, in file order.

    Args:
        policy: the loaded policy (includes merged).
        ruleset: its compiled rule set; compiled here when not given (the
            behavioural rules L001–L003 and L005 need it).
        comments: the comments of each file (``Loaded.comments``), for suppressions.
        config: which rules run and how; the defaults when None.
        main_file: the name of the policy's own file as its spans show it;
            declarations elsewhere are included files.
    """
    config = config or LintConfig()
    if ruleset is None:
        from .compiler import compile_policy

        ruleset = compile_policy(policy, content_hash="", generator=f"govpost {__version__}")
    numbers = {c.id: n for c, n in policy.numbered_clauses()}
    ctx = _Context(policy, config, main_file, numbers, ruleset)
    enabled = set(config.enabled)
    for code, rule in _MODEL_RULES.items():
        if code in enabled:
            rule(ctx)
    if "L005" in enabled:
        rule_one_sided_examples(ctx)
    behavioural = enabled & {"L001", "L002", "L003", "L017"}
    if behavioural:
        _analysis_rules(ctx, behavioural)
    sups, bad = suppressions(comments or {})
    out: list[Finding] = []
    for finding, scope in ctx.findings:
        if not _suppressed(finding, scope, sups, main_file):
            out.append(finding)
    if "L016" in enabled:
        out.extend(bad)
    out = [replace(f, severity=config.severity_of(f.code)) for f in out]
    seen = set()
    unique = []
    for f in sorted(out, key=_order):
        key = (f.code, f.message, f.file, f.line, f.col)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _order(f: Finding) -> tuple[Any, ...]:
    return (f.file, f.line, f.col, f.code, f.message)


@dataclass
class LintResult:
    """Lint findings for one policy file, and its validation diagnostics.

    A policy with errors is not linted: ``findings`` is empty and
    ``diagnostics`` holds its errors (and warnings). A valid policy's
    ``diagnostics`` are its validation warnings (a missing translation).
    """

    name: str
    findings: list[Finding]
    diagnostics: list[Diagnostic]

    @property
    def linted(self) -> bool:
        return not has_errors(self.diagnostics)


def lint_source(text: str, name: str, reader: Any = None, config: LintConfig | None = None) -> LintResult:
    """Lint a policy held in memory (an editor's buffer); includes are read through ``reader``.

    A file without a ``policy`` header (an included fragment) is checked for
    syntax only and has no findings of its own: it is linted through the
    policies that include it.
    """
    from . import api
    from .load import FileReader

    result = api.check_text(text, name, reader)
    if result.diagnostics and all(d.code == "S224" for d in result.diagnostics):
        return LintResult(name, [], [])
    return _lint_result(result, name, config, main_file=_display(reader or FileReader(), name))


def lint_file(path: str | Path, config: LintConfig | None = None, reader: Any = None) -> LintResult:
    """Lint a policy file and what it includes."""
    from .load import FileReader

    rd = reader or FileReader()
    name = str(path)
    try:
        text = rd.read(name)
    except UnicodeDecodeError as exc:
        from .load import not_utf8

        return LintResult(name, [], [not_utf8(name, exc)])
    except OSError as exc:
        code = "I504" if getattr(exc, "code", None) == "I504" else "I501"
        return LintResult(name, [], [Diagnostic(code, f"cannot read `{name}`: {exc.strerror or exc}")])
    return lint_source(text, name, rd, config)


def _display(reader: Any, name: str) -> str:
    display = getattr(reader, "display", None)
    return display(name) if callable(display) else name


def _lint_result(result: Any, name: str, config: LintConfig | None, main_file: str) -> LintResult:
    from . import api

    if not result.ok:
        return LintResult(name, [], result.diagnostics)
    ruleset = api.compile_result(result)
    findings = lint_policy(result.policy, ruleset=ruleset, comments=result.comments, config=config,
                           main_file=main_file)
    return LintResult(name, findings, result.warnings)


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """Whether any finding is at or above the level ``fail_on`` (``never``: none is)."""
    if fail_on == "never":
        return False
    floor = SEVERITIES.index(fail_on)
    return any(SEVERITIES.index(f.severity) >= floor for f in findings)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def render_text(findings: Iterable[Finding], *, color: bool = False) -> str:
    """``file:line:col: warning[L004]: clause 1(a) `id`: message``, the line with a caret, hint, witness."""

    from .terminal import paint

    colours = {"error": "bold red", "warning": "bold yellow", "note": "bold cyan"}
    blocks = []
    for f in findings:
        head = f"{f.location()}: {paint(f'{f.severity}[{f.code}]', colours[f.severity], color)}: {f.message}"
        lines = [head]
        if f.span is not None and f.span.source.text:
            lines.extend("        " + line for line in f.span.snippet().split("\n"))
        if f.help:
            lines.append(f"  = help: {f.help}")
        if f.witness is not None:
            lines.append(f"  = witness: {json.dumps(f.witness, ensure_ascii=False, sort_keys=False)}")
        if f.code in RULES:
            lines.append(f"  = see {f.rule.docs} ({f.rule.name})")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def render_json(findings: Iterable[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings], ensure_ascii=False, indent=2)


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/:._-~")


def render_sarif(findings: Iterable[Finding], config: LintConfig | None = None) -> str:
    """A SARIF 2.1.0 log with one run, loadable by GitHub code scanning."""
    config = config or LintConfig()
    findings = list(findings)
    # The lint rules, then the validation codes the findings use (a policy that does not validate).
    catalogue = list(RULES.values()) + [diagnostic_rule(c) for c in sorted({f.code for f in findings} - set(RULES))]
    index = {r.code: i for i, r in enumerate(catalogue)}
    level = {"error": "error", "warning": "warning", "note": "note"}
    rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.rationale},
            "fullDescription": {"text": r.rationale},
            "help": {"text": f"{r.rationale} See {r.docs}."},
            "defaultConfiguration": (
                {"enabled": r.code in config.enabled, "level": level[config.severity_of(r.code)]}
                if r.code in RULES else {"enabled": True, "level": "error"}),
            "properties": {"tags": ["policy", "drafting" if r.code in RULES else "validation"]},
        }
        for r in catalogue
    ]
    results = []
    for f in findings:
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(f.file)},
                "region": {"startLine": f.line, "startColumn": f.col, "endLine": f.end_line,
                           "endColumn": max(f.end_col, f.col + 1) if f.end_line == f.line else f.end_col},
            }
        }
        if f.clause is not None:
            location["logicalLocations"] = [
                {"name": f.clause, "fullyQualifiedName": f"{f.clause_number} {f.clause}", "kind": "member"}
            ]
        text = f.message + (f"\nHelp: {f.help}" if f.help else "")
        if f.witness is not None:
            text += "\nWitness post: " + json.dumps(f.witness, ensure_ascii=False)
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": level[f.severity],
            "message": {"text": text},
            "locations": [location],
            "partialFingerprints": {"govpostFinding/v1": f"{f.code}:{f.clause or ''}:{f.message}"},
        }
        props: dict[str, Any] = {}
        if f.clause is not None:
            props["clause"] = f.clause
            props["clauseNumber"] = f.clause_number
        if f.witness is not None:
            props["witness"] = f.witness
        if props:
            result["properties"] = props
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "govpost",
                        "semanticVersion": __version__,
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Iterable[Finding]) -> str:
    """GitHub Actions workflow commands: ``::warning file=…,line=…,col=…,title=…::message``."""
    kind = {"error": "error", "warning": "warning", "note": "notice"}
    lines = []
    for f in findings:
        props = (f"file={_escape_property(f.file)},line={f.line},col={f.col},endLine={f.end_line},"
                 f"title={_escape_property(f'{f.code} {f.rule.name}')}")
        message = f.message + (f" (help: {f.help})" if f.help else "")
        if f.witness is not None:
            message += "\nwitness: " + json.dumps(f.witness, ensure_ascii=False)
        lines.append(f"::{kind[f.severity]} {props}::{_escape_data(message)}")
    return "\n".join(lines)
