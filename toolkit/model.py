"""The typed policy model: what a policy says, independent of its layout.

Every class is a frozen dataclass. Spans are kept for messages but take no
part in equality, so ``a == b`` means "the same policy" however the text
was laid out. Conditions are a closed union (:data:`Condition`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Union

from .source import Span, no_span


def _span() -> Span:
    return field(default_factory=no_span, compare=False, repr=False)  # type: ignore[return-value]


class Outcome(enum.IntEnum):
    """The four outcomes, in the order of their strength."""

    PERMITTED = 0
    ADVISORY = 1
    REQUIRES_SANCTION = 2
    PROHIBITED = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Outcome:
        return cls[label.upper()]


OUTCOME_WORDS = {
    Outcome.PERMITTED: "permitted",
    Outcome.ADVISORY: "advisory",
    Outcome.REQUIRES_SANCTION: "requires sanction",
    Outcome.PROHIBITED: "prohibited",
}


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A text in the policy's main language with optional translations."""

    value: str
    translations: tuple[tuple[str, str], ...] = ()
    span: Span = _span()

    def get(self, lang: str | None) -> str | None:
        for code, value in self.translations:
            if code == lang:
                return value
        return None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.translations)


# ---------------------------------------------------------------------------
# Conditions: each node class is defined with its operator (toolkit.operators)
# ---------------------------------------------------------------------------

from .operators import (  # noqa: E402  (re-exported: the model's condition nodes)
    And,
    Compare,
    During,
    FieldPath,
    Labelled,
    Matches,
    Mentions,
    Near,
    Not,
    Or,
    PostedAfter,
    PostedBefore,
    Ref,
    Stance,
    Value,
)

Condition = Union[
    And, Or, Not, Ref, Compare, Mentions, Near, Stance, Matches, Labelled, During, PostedBefore, PostedAfter
]


# ---------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Include:
    path: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: Text
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    description: Text
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Authority:
    id: str
    title: Text
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Provision:
    ref: str
    title: Text
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    title: Text
    short: Text | None
    unit: str | None
    provisions: tuple[Provision, ...]
    span: Span = _span()

    def provision(self, ref: str) -> Provision | None:
        for p in self.provisions:
            if p.ref == ref:
                return p
        return None


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    definition: Text
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """A word, a phrase or a phrase with slots (docs/language.md); ``mode`` None takes the lexicon's."""

    text: str
    span: Span = _span()
    mode: str | None = None


#: How a lexicon's words are compared with a text's (toolkit.morph).
LEXICON_MODES = ("exact", "inflected", "spelling")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A named list of entries.

    ``mode``: how entries match (``inflected`` by default); ``valence``: a
    strength of feeling each entry carries, for ``disparages``/``praises``;
    ``negatable``: an entry does not count where a negator governs it;
    ``role``: ``terms``, or ``negation`` for a lexicon of negators;
    ``source``: the data file its entries were read from, if any.
    """

    id: str
    description: str | None
    entries: tuple[LexiconEntry, ...]
    span: Span = _span()
    mode: str = "inflected"
    valence: float | None = None
    negatable: bool = False
    role: str = "terms"
    source: str | None = None

    def mode_of(self, entry: LexiconEntry) -> str:
        return entry.mode or self.mode


@dataclass(frozen=True, slots=True)
class Pattern:
    id: str
    description: str | None
    regex: str
    flags: str
    span: Span = _span()
    regex_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Signal:
    id: str
    description: str | None
    condition: Condition
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    description: str | None
    start: dt.date | None
    end: dt.date | None
    span: Span = _span()


# ---------------------------------------------------------------------------
# Sections, clauses, examples
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Citation:
    instrument: str
    ref: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Exception_:
    """``unless ["description"] condition``: the clause does not apply when it holds."""

    condition: Condition
    description: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal value in an example post, as written."""

    value: str | bool
    kind: str  # "string" | "name" | "date" | "datetime" | "bool"
    span: Span = _span()


#: A value in an example post: a literal, a list of values, or a nested post part.
LitValue = Union[Lit, tuple["LitValue", ...], "PostLiteral"]


@dataclass(frozen=True, slots=True)
class PostLiteral:
    """A post as written in an example: ``(dotted path, value)`` pairs, as written."""

    fields: tuple[tuple[str, LitValue], ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Example:
    title: str
    post: PostLiteral
    outcome: Outcome
    clause: str | None
    span: Span = _span()
    clause_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    title: Text
    topic: str | None
    text: Text | None
    outcome: Outcome | None
    authority: str | None
    when: Condition | None
    unless: tuple[Exception_, ...]
    citations: tuple[Citation, ...]
    new_guidance: Text | None
    is_new_guidance: bool
    rationale: Text | None
    note: Text | None
    examples: tuple[Example, ...]
    span: Span = _span()
    topic_span: Span = _span()
    authority_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: Text
    intro: Text | None
    children: tuple[Section | Clause, ...]
    span: Span = _span()


# ---------------------------------------------------------------------------
# Metadata and the policy
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signatory:
    name: Text | None = None
    designation: Text | None = None
    contact: Text | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """Where posts on a topic should go instead of social media (a grievance portal, the PIO)."""

    topic: str
    text: Text
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Metadata:
    """The header of a policy, after its keys and values were checked."""

    kind: str = "circular"
    title: Text | None = None
    subject: Text | None = None
    jurisdiction: Text | None = None
    government: Text | None = None
    ministry: Text | None = None
    department: Text | None = None
    division: Text | None = None
    number: str | None = None
    version: str | None = None
    issued: dt.date | None = None
    effective: dt.date | None = None
    expires: dt.date | None = None
    updated: dt.date | None = None
    supersedes: tuple[Text, ...] = ()
    services: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    place: Text | None = None
    signatory: Signatory = field(default_factory=Signatory)
    to: tuple[Text, ...] = ()
    copy_to: tuple[Text, ...] = ()
    languages: tuple[str, ...] = ("en",)
    translations: str = "complete"
    timezone: str = "UTC"
    opening: Text | None = None
    compare_with: str | None = None
    default_outcome: Outcome = Outcome.PERMITTED
    valence: str = "vader"
    channels: tuple[Channel, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole policy, its includes already merged in."""

    id: str
    meta: Metadata
    topics: tuple[Topic, ...] = ()
    labels: tuple[Label, ...] = ()
    authorities: tuple[Authority, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    terms: tuple[Term, ...] = ()
    lexicons: tuple[Lexicon, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    signals: tuple[Signal, ...] = ()
    periods: tuple[Period, ...] = ()
    sections: tuple[Section, ...] = ()
    span: Span = _span()

    def clauses(self) -> list[Clause]:
        """Every clause, in document order."""
        return [c for c, _ in self.numbered_clauses()]

    def numbered_clauses(self) -> list[tuple[Clause, str]]:
        """Every clause with its display number (``4.2(b)``), in document order."""
        out: list[tuple[Clause, str]] = []
        for i, section in enumerate(self.sections, 1):
            _number(section, str(i), out)
        return out

    def numbered_sections(self) -> list[tuple[Section, str]]:
        out: list[tuple[Section, str]] = []

        def walk(section: Section, number: str) -> None:
            out.append((section, number))
            subs = [c for c in section.children if isinstance(c, Section)]
            for j, sub in enumerate(subs, 1):
                walk(sub, f"{number}.{j}")

        for i, section in enumerate(self.sections, 1):
            walk(section, str(i))
        return out


def clause_letter(n: int) -> str:
    """1 → a, 26 → z, 27 → aa: the lettering of clauses within a section."""
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


def _number(section: Section, number: str, out: list[tuple[Clause, str]]) -> None:
    # Display numbers are derived from position alone: sections 1, 1.2, ...;
    # clauses lettered within their innermost section, 1.2(b). Stable ids
    # are what other things refer to, so renumbering breaks nothing.
    sub = 0
    letter = 0
    for child in section.children:
        if isinstance(child, Section):
            sub += 1
            _number(child, f"{number}.{sub}", out)
        else:
            letter += 1
            out.append((child, f"{number}({clause_letter(letter)})"))
