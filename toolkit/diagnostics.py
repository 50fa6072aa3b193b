"""Diagnostics: one type, stable codes, rendered at the edge.

Every problem govpost reports about a policy, a rule set or a post is a
:class:`Diagnostic` with a code from :data:`CODES`. Passes return lists of
them; only the command line turns them into text and exit codes.

Messages follow one style: lowercase, no final period, no line breaks,
user text in backticks. Details go in ``help``.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .source import Span


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


#: The registry of diagnostic codes. A code never changes meaning once
#: released; a retired code is never reused. P: parse, S: semantic,
#: R: records (posts), C: compiled rule sets, I: input/output, W: the web application.
#: Two families are not diagnostics and keep their own registries beside the
#: code that raises them: the build's errors (B6xx, ``toolkit.build.BUILD_CODES``,
#: listed in docs/circulars.md) and the lint rules (L0xx, ``toolkit.lint``).
CODES: dict[str, str] = {
    # Parse errors
    "P101": "unexpected token",
    "P102": "unexpected character",
    "P103": "unexpected end of file",
    "P104": "unterminated string",
    "P105": "nesting too deep",
    # Structure of the policy
    "S201": "undefined name",
    "S202": "duplicate identifier",
    "S203": "unknown provision in a citation",
    "S204": "unknown field of a post",
    "S205": "value outside an enumeration",
    "S206": "type error in a condition",
    "S207": "invalid regular expression",
    "S208": "invalid date",
    "S209": "dates in the wrong order",
    "S210": "unknown topic",
    "S211": "include cycle",
    "S212": "included file cannot be read",
    "S213": "invalid example post",
    "S214": "unknown metadata key",
    "S215": "invalid metadata value",
    "S216": "missing required item",
    "S217": "item given more than once",
    "S218": "undefined term in clause text",
    "S219": "signal defined in terms of itself",
    "S220": "policy header in an included file",
    "S221": "missing translation",
    "S222": "empty lexicon or lexicon entry",
    "S223": "outcome that cannot be expected of a clause",
    "S224": "no policy header",
    "S225": "file outside the policy's root",
    "S226": "file that is not a policy",
    # Lexicons: attributes, phrase syntax, slots and data files
    "S230": "lexicon attribute given more than once",
    "S231": "invalid phrase in a lexicon entry",
    "S232": "lexicons fill each other's slots in a cycle",
    "S233": "lexicon data file cannot be read or has a bad row",
    # Posts given to the checker
    "R301": "record is not valid JSON",
    "R302": "record is not a JSON object",
    "R303": "unknown field in a post",
    "R304": "field of the wrong type",
    "R305": "value outside an enumeration",
    "R306": "invalid date and time",
    "R308": "label the policy does not declare",
    "R309": "record is not a result of govpost check",
    "R310": "result that its rule set does not give",
    "R311": "text that is not valid Unicode",
    "R312": "record too large",
    # Compiled rule sets
    "C401": "not a govpost rule set",
    "C402": "unsupported rule-set version",
    # Files and input
    "I501": "file cannot be read",
    "I502": "file is not valid UTF-8",
    "I503": "request or upload too large",
    "I504": "file too large",
    "I505": "file cannot be written",
    # The web application (govpost serve)
    "W701": "too many requests",
    "W702": "form token missing or wrong",
    "W703": "case decided by another reviewer meanwhile",
    "W704": "review database cannot be opened",
    "W705": "invalid draft or decision",
    "W706": "user cannot be created",
}


@dataclass(frozen=True)
class Diagnostic:
    """A problem at a place, with a stable code and an optional hint."""

    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    help: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # INVARIANT: every code in use is registered, so documentation and
        # tests can enumerate them.
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")
        # Text quoted from the input is cut short: a megabyte-long name prints a line, not a megabyte.
        object.__setattr__(self, "message", shorten(self.message))
        if self.help is not None:
            object.__setattr__(self, "help", shorten(self.help))
        object.__setattr__(self, "notes", tuple(shorten(n) for n in self.notes))

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        line, col = self.span.source.line_col(self.span.start)
        return (self.span.source.name, line, col, self.code)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.span is not None:
            line, col = self.span.source.line_col(self.span.start)
            end_line, end_col = self.span.source.line_col(self.span.end)
            out.update(
                file=self.span.source.name,
                line=line,
                column=col,
                end_line=end_line,
                end_column=end_col,
            )
        if self.help:
            out["help"] = self.help
        if self.notes:
            out["notes"] = list(self.notes)
        return out


#: The most characters of quoted input (between backticks) a message keeps, and the longest message.
MAX_QUOTED = 80
MAX_MESSAGE = 1000
_QUOTED = re.compile(rf"`([^`]{{{MAX_QUOTED + 1},}})`")


def shorten(message: str) -> str:
    """``message`` with each quoted text over :data:`MAX_QUOTED` characters cut (``…``), at most :data:`MAX_MESSAGE`."""
    if len(message) <= 2 * MAX_QUOTED:
        return message
    message = _QUOTED.sub(lambda mt: f"`{mt.group(1)[: MAX_QUOTED - 1]}…`", message)
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


class DiagnosticError(Exception):
    """Raised when a stage cannot go on; carries everything found so far."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sort_diagnostics(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics[:3]))


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by file, line and column; drop exact repeats."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (d.sort_key(), d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def render_text(diagnostics: Iterable[Diagnostic], *, color: bool = False) -> str:
    """Render for people: ``file:line:col: error[S201]: message``, the line, a caret, the hint."""

    from .terminal import paint

    blocks = []
    for d in diagnostics:
        where = d.span.location() + ": " if d.span is not None else ""
        sev = paint(d.severity.value, "bold red" if d.is_error else "bold yellow", color)
        lines = [f"{where}{sev}[{d.code}]: {d.message}"]
        if d.span is not None and d.span.source.text:
            for i, line in enumerate(d.span.snippet().split("\n")):
                lines.append("    " + (paint(line, "bold green", color) if i == 1 else line))
        if d.help:
            lines.append(f"  = help: {d.help}")
        for note in d.notes:
            lines.append(f"  = note: {note}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def summary_line(diagnostics: list[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) if parts else "no problems"


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if one is close enough."""
    import difflib

    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return f"did you mean `{matches[0]}`?" if matches else None
