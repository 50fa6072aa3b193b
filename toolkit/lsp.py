"""The govpost language server (``govpost lsp``): the language in an editor.

It speaks the Language Server Protocol over stdio (pygls) and offers, for
``.policy`` files:

- diagnostics as the drafter types: syntax errors (every one the parser's
  recovery finds), semantic errors of the whole policy with its includes, and
  lint findings;
- hover on a defined term, lexicon, pattern, signal, period, topic, label,
  authority, instrument, cited provision, clause, section or post field;
- go to definition, also into included files;
- completion of names where the grammar expects them, and of post fields;
- document formatting through :mod:`toolkit.formatter`;
- document symbols: sections and clauses with their display numbers.

The open document is analysed from the editor's buffer, not from disk; its
includes are read from other open buffers first and from disk otherwise
(:class:`OverlayReader`). A file that holds only shared declarations (no
``policy`` header) is checked as if a policy included it.

Positions: govpost counts columns in code points (Python string offsets);
LSP counts in UTF-16 code units unless the client negotiated another
encoding. :class:`Positions` converts between them. Devanagari is in the
Basic Multilingual Plane (one UTF-16 unit, three UTF-8 bytes per code
point); an emoji in an example post is two UTF-16 units.

Everything that parses runs on one worker thread: the parser is shared and
collects comments through a module-level sink, so two parses must never
overlap. Requests read the latest analysis, waiting for a pending one first.
"""

from __future__ import annotations

import asyncio
import bisect
import difflib
import functools
import json
import logging
import posixpath
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from . import __version__
from . import model as m
from .check import Symbols, check_policy
from .confine import MAX_POLICY_BYTES
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .load import FileReader, Reader, load_text
from .lower import unquote
from .postschema import FIELDS, GROUPS
from .source import Source, Span

logger = logging.getLogger("govpost.lsp")

#: Seconds to wait after a change before re-analysing, so that a burst of
#: keystrokes is analysed once. Requests never see a stale analysis: they wait.
DEBOUNCE_SECONDS = 0.25

# ---------------------------------------------------------------------------
# Positions: code-point offsets ↔ LSP line/character in the negotiated units
# ---------------------------------------------------------------------------


_LINE_END = re.compile(r"\r\n?|\n")


def _units(encoding: str) -> Callable[[str], int]:
    if encoding == lsp.PositionEncodingKind.Utf8:
        return lambda s: len(s.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return len
    return lambda s: len(s.encode("utf-16-le", "surrogatepass")) // 2


class Positions:
    """Converts offsets in one text to LSP positions and back."""

    def __init__(self, text: str, encoding: str = lsp.PositionEncodingKind.Utf16):
        self.text = text
        self.units = _units(encoding)
        # `\n`, `\r\n` and a lone `\r` end a line (the protocol's rule, and toolkit.source.Source's).
        self.starts = [0]
        self.starts.extend(m.end() for m in _LINE_END.finditer(text))

    def position(self, offset: int) -> lsp.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return lsp.Position(line=line, character=self.units(self.text[self.starts[line] : offset]))

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(start), end=self.position(max(start, end)))

    def offset(self, position: lsp.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[max(0, position.line)]
        end = _LINE_END.search(self.text, start)
        line = self.text[start:] if end is None else self.text[start : end.start()]
        count = 0
        for i, ch in enumerate(line):
            if count >= position.character:
                return start + i
            count += self.units(ch)
        return start + len(line)


# ---------------------------------------------------------------------------
# Reading files: open buffers first, then the disk
# ---------------------------------------------------------------------------


def _norm(path: str) -> str:
    return posixpath.normpath(path)


class OverlayReader(Reader):
    """Reads a file from the editor's open buffer if there is one, else from disk.

    What a document may include is confined as on the command line (toolkit.confine):
    an open buffer is no exception, so the editor shows the errors `govpost validate` gives.
    """

    def __init__(self, buffers: dict[str, str]):
        self.buffers = {_norm(k): v for k, v in buffers.items()}
        self.disk = FileReader()

    def read(self, path: str) -> str:
        text = self.buffers.get(_norm(path))
        if text is not None:
            return text
        return self.disk.read(path)

    def read_included(self, path: str) -> str:
        text = self.buffers.get(_norm(path))
        if text is not None:
            return text
        return self.disk.read_included(path)

    def refuse(self, path: str, main: str, suffix: str = ".policy") -> Any:
        return self.disk.refuse(path, main, suffix)

    def root_of(self, main: str) -> Path:
        return self.disk.root_of(main)


def document_name(uri: str) -> str:
    """The name a document's spans carry: its file path (with `/`), or the URI itself."""
    if uri.startswith("file:"):
        path = to_fs_path(uri)
        if path:
            return _norm(Path(path).as_posix())
    return uri


def name_uri(name: str) -> str:
    """The URI of a span's source name (the inverse of :func:`document_name`)."""
    if name.startswith("/") or re.match(r"^[A-Za-z]:/", name):
        return Path(name).as_uri()
    return name


# ---------------------------------------------------------------------------
# Analysis of one document
# ---------------------------------------------------------------------------


@dataclass
class Analysis:
    """What govpost knows about one version of one document."""

    uri: str
    name: str
    version: int | None
    text: str
    diagnostics: list[Diagnostic]
    policy: m.Policy | None = None
    symbols: Symbols | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    section_numbers: dict[str, str] = field(default_factory=dict)
    #: Lint findings (code, severity, message, span, help): added once the linter has run.
    findings: list[Any] = field(default_factory=list)


_WRAPPER = "__govpost_shared__.policy"


def analyse(uri: str, text: str, version: int | None, buffers: dict[str, str]) -> Analysis:
    """Parse, load (with includes) and check a document (linting is a second step: :func:`lint_findings`)."""
    name = document_name(uri)
    if len(text) > MAX_POLICY_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        # The limit of a policy file (toolkit.confine) holds for an editor's buffer too.
        too_large = Diagnostic("I504", f"this document is larger than {MAX_POLICY_BYTES:,} bytes, the most a "
                                       "policy file may hold", Span(Source(name, text), 0, 0))
        return Analysis(uri, name, version, text, [too_large])
    reader = OverlayReader({**buffers, name: text})
    loaded = load_text(text, name, reader)
    diags = list(loaded.diagnostics)
    policy = loaded.policy
    sources = list(loaded.sources)
    if policy is None and any(d.code == "S224" for d in diags):
        # Shared declarations (topics, labels, lexicons) have no header: check
        # them as a policy that includes this file would see them.
        wrapper = posixpath.join(posixpath.dirname(name), _WRAPPER)
        base = posixpath.basename(name).replace("\\", "\\\\").replace('"', '\\"')
        stand_in = f'policy shared {{ title "shared declarations" }}\ninclude "{base}"\n'
        loaded = load_text(stand_in, wrapper, reader)
        diags = [d for d in loaded.diagnostics if d.span is None or d.span.source.name != wrapper]
        policy = loaded.policy
        sources = [s for s in loaded.sources if s.name != wrapper]
    if policy is not None:
        diags.extend(d for d in check_policy(policy) if d.span is None or not d.span.source.name.endswith(_WRAPPER))
    analysis = Analysis(uri, name, version, text, sort_diagnostics(diags), policy,
                        sources={s.name: s for s in sources})
    if policy is not None:
        analysis.symbols = Symbols.of(policy)
        analysis.numbers = {c.id: n for c, n in policy.numbered_clauses()}
        analysis.section_numbers = {s.id: n for s, n in policy.numbered_sections()}
    return analysis


def linter() -> Callable[..., Any] | None:
    """The linter's in-memory entry point, if this installation has the linter."""
    try:
        from . import lint
    except ImportError:
        return None
    return getattr(lint, "lint_source", None)


def lint_findings(analysis: Analysis) -> list[Any]:
    """The lint findings of an analysed document, read from the same texts the analysis read.

    The configuration is the ``[tool.govpost.lint]`` table of the nearest
    ``pyproject.toml`` above the file, as for ``govpost lint``. A policy with
    errors is not linted (its errors are already shown).
    """
    run = linter()
    if run is None or analysis.policy is None or has_errors(analysis.diagnostics):
        return []
    from . import lint

    config = None
    if analysis.name.startswith("/") or re.match(r"^[A-Za-z]:/", analysis.name):
        try:
            config = lint.load_config(start=Path(analysis.name).parent)
        except lint.ConfigError as exc:
            logger.warning("lint configuration ignored: %s", exc)
    reader = OverlayReader({name: src.text for name, src in analysis.sources.items()})
    return list(run(analysis.text, analysis.name, reader, config).findings)


# ---------------------------------------------------------------------------
# Tokens around the cursor
# ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*)  # to any line break, as toolkit.syntax reads it
  | (?P<string>"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z))  # unrolled: constant memory (see grammar/policy.lark)
  | (?P<regex>/(?!/)[^/\\\n]*(?:\\.[^/\\\n]*)*/[a-z]*)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<word>[A-Za-z0-9_]+(?:[.\-][A-Za-z0-9_]+)*(?:\([0-9A-Za-z]+\))*)
  | (?P<punct>[{}\[\](),:@])
  | (?P<ws>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    start: int
    end: int
    text: str

    @property
    def closed(self) -> bool:
        return self.kind != "string" or (len(self.text) > 1 and self.text.endswith('"'))


def tokenize(text: str) -> list[Token]:
    """The significant tokens of a text (no white space, no comments)."""
    out = []
    for mt in _TOKEN.finditer(text):
        kind = mt.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, mt.start(), mt.end(), mt.group()))
    return out


_TERM_REF = re.compile(r"\{([^{}|]*)(?:\|([^{}]*))?\}")
_WS = re.compile(r"\s+")

#: The kind of name a word stands for, by the keyword before it.
_AFTER_KEYWORD = {
    "mentions": "lexicon",
    "near": "lexicon",
    "disparages": "lexicon",
    "praises": "lexicon",
    "matches": "pattern",
    "labelled": "label",
    "during": "period",
    "by": "clause",
    "topic": "topic",
    "label": "label",
    "authority": "authority",
    "instrument": "instrument",
    "lexicon": "lexicon",
    "pattern": "pattern",
    "signal": "signal",
    "period": "period",
    "clause": "clause",
    "section": "section",
}

#: Kinds looked up for a bare word, in this order.
_LOOKUP_ORDER = ("signal", "lexicon", "pattern", "period", "label", "topic", "authority", "instrument",
                 "clause", "section")


@dataclass(frozen=True)
class Target:
    """A name under the cursor: what kind of thing it names, and where it stands."""

    kind: str  # term lexicon pattern signal period topic label authority instrument provision clause section field include
    name: str
    start: int
    end: int
    instrument: str | None = None


def _cites_role(toks: list[Token], i: int) -> tuple[str, str | None] | None:
    """Whether word ``i`` is an instrument or a provision in a `cites` list."""
    if i >= 1 and toks[i - 1].text in ("cites", ","):
        role, instrument, k = "instrument", None, i
    elif i >= 2 and toks[i - 1].kind == "word" and toks[i - 2].text in ("cites", ","):
        role, instrument, k = "provision", toks[i - 1].text, i - 1
    else:
        return None
    # Walk back over `INSTR PROV ,` groups to the `cites` keyword.
    while k >= 1 and toks[k - 1].text == ",":
        if k >= 3 and toks[k - 2].kind == "word" and toks[k - 3].kind == "word":
            k -= 3
        else:
            return None
    return (role, instrument) if k >= 1 and toks[k - 1].text == "cites" else None


def _enclosing_instrument(toks: list[Token], i: int) -> str | None:
    for j in range(i - 1, 0, -1):
        if toks[j - 1].text == "instrument" and toks[j].kind == "word":
            return toks[j].text
    return None


def _token_at(toks: list[Token], offset: int) -> int | None:
    starts = [t.start for t in toks]
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and toks[i].start <= offset < toks[i].end:
        return i
    # The cursor just after a word still points at it.
    if i >= 0 and toks[i].end == offset and toks[i].kind == "word":
        return i
    return None


def _fold(text: str) -> str:
    return _WS.sub(" ", text).strip()


def target_at(text: str, offset: int, symbols: Symbols | None) -> Target | None:
    """The name at ``offset``, classified by the words around it."""
    toks = tokenize(text)
    i = _token_at(toks, offset)
    if i is None:
        return None
    tok = toks[i]
    prev = toks[i - 1].text if i >= 1 else ""
    if tok.kind == "string":
        if prev == "define":
            return Target("term", unquote(tok.text), tok.start, tok.end)
        if prev == "include":
            return Target("include", unquote(tok.text), tok.start, tok.end)
        if _in_lexicon(toks, i):
            # In a lexicon entry, `{name}` is a slot filled by another lexicon.
            for mt in _SLOT.finditer(tok.text):
                if tok.start + mt.start() <= offset < tok.start + mt.end():
                    return Target("lexicon", mt.group(1), tok.start + mt.start(1), tok.start + mt.end(1))
            return None
        for mt in _TERM_REF.finditer(tok.text):
            if tok.start + mt.start() <= offset < tok.start + mt.end():
                term = _fold(mt.group(2) if mt.group(2) is not None else mt.group(1))
                return Target("term", term, tok.start + mt.start(), tok.start + mt.end())
        return None
    if tok.kind != "word":
        return None
    word = tok.text
    if word in _OPERATOR_KEYWORDS and _brace_depth(toks[:i]) > 0 and prev not in _AFTER_KEYWORD:
        return Target("keyword", word, tok.start, tok.end)
    kind = _AFTER_KEYWORD.get(prev)
    if prev == "of" and i >= 2 and toks[i - 2].text == "sanction":
        kind = "authority"
    if prev == "provision":
        return Target("provision", word, tok.start, tok.end, _enclosing_instrument(toks, i))
    role = _cites_role(toks, i)
    if role is not None:
        return Target(role[0], word, tok.start, tok.end, role[1])
    if kind is not None:
        return Target(kind, word, tok.start, tok.end)
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if (word in FIELDS or word in GROUPS) and not (nxt is not None and nxt.kind == "string"):
        if not (symbols is not None and word in symbols.signals):
            return Target("field", word, tok.start, tok.end)
    if symbols is not None:
        for kind in _LOOKUP_ORDER:
            if word in _table(symbols, kind):
                return Target(kind, word, tok.start, tok.end)
    return None


def _table(symbols: Symbols, kind: str) -> dict[str, Any]:
    return {
        "signal": symbols.signals, "lexicon": symbols.lexicons, "pattern": symbols.patterns,
        "period": symbols.periods, "label": symbols.labels, "topic": symbols.topics,
        "authority": symbols.authorities, "instrument": symbols.instruments, "clause": symbols.clauses,
        "section": symbols.sections, "term": symbols.terms,
    }[kind]


# ---------------------------------------------------------------------------
# Declarations: what a target names, and where
# ---------------------------------------------------------------------------

_DECL_KEYWORD = {
    "topic": "topic", "label": "label", "authority": "authority", "instrument": "instrument",
    "lexicon": "lexicon", "pattern": "pattern", "signal": "signal", "period": "period",
    "clause": "clause", "section": "section", "provision": "provision",
}


def declaration(symbols: Symbols, target: Target) -> Any | None:
    """The model object a target names, if it is declared."""
    if target.kind == "term":
        return symbols.terms.get(_fold(target.name).casefold())
    if target.kind == "provision":
        inst = symbols.instruments.get(target.instrument or "")
        return inst.provision(target.name) if inst is not None else None
    if target.kind in ("field", "include"):
        return None
    return _table(symbols, target.kind).get(target.name)


def name_span(decl: Any, kind: str) -> Span:
    """The span of the declared name inside a declaration (the whole declaration if not found)."""
    span: Span = decl.span
    text = span.source.text
    if kind == "term":
        mt = re.compile(r'define\s+("(?:[^"\\]|\\.)*")').match(text, span.start)
        if mt:
            return Span(span.source, mt.start(1), mt.end(1))
        return span
    keyword = _DECL_KEYWORD.get(kind)
    name = decl.ref if kind == "provision" else decl.id
    if keyword is not None:
        mt = re.compile(rf"{keyword}\s+({re.escape(name)})(?![\w(.-])").match(text, span.start)
        if mt:
            return Span(span.source, mt.start(1), mt.end(1))
    return span


# ---------------------------------------------------------------------------
# Hover texts (markdown)
# ---------------------------------------------------------------------------


def _md_text(text: m.Text | None) -> str:
    if text is None:
        return ""
    out = text.value
    for lang, value in text.translations:
        out += f"\n\n*{lang}*: {value}"
    return out


def _where(span: Span, here: str) -> str:
    line, _col = span.source.line_col(span.start)
    if span.source.name == here:
        return f"line {line}"
    return f"`{posixpath.basename(span.source.name)}`, line {line}"


def _code(text: str) -> str:
    return f"```govpost\n{text.strip()}\n```"


def _outcome_words(clause: m.Clause) -> str:
    if clause.outcome is None:
        return "no outcome"
    if clause.outcome is m.Outcome.REQUIRES_SANCTION:
        return f"requires sanction of `{clause.authority}`"
    return m.OUTCOME_WORDS[clause.outcome]


def hover_markdown(analysis: Analysis, target: Target) -> str | None:
    """The hover text for a target, or None if it names nothing known."""
    if target.kind == "field":
        return _field_markdown(target.name)
    if target.kind == "keyword":
        return "\n\n".join(f"**{op.op}** — {op.summary}" for op in _OPERATOR_KEYWORDS[target.name])
    symbols = analysis.symbols
    if symbols is None:
        return None
    decl = declaration(symbols, target)
    if decl is None:
        return None
    where = _where(decl.span, analysis.name)
    if target.kind == "term":
        return f"**term** \"{decl.term}\" — defined at {where}\n\n{_md_text(decl.definition)}"
    if target.kind == "lexicon":
        entries = [e.text for e in decl.entries]
        shown = ", ".join(f"`{e}`" for e in entries[:12])
        more = f", … ({len(entries)} entries)" if len(entries) > 12 else ""
        head = f"**lexicon** `{decl.id}` — {where}"
        desc = f"\n\n{decl.description}" if decl.description else ""
        return f"{head}{desc}\n\n{shown}{more}"
    if target.kind == "pattern":
        desc = f"\n\n{decl.description}" if decl.description else ""
        flags = f" (flags `{decl.flags}`)" if decl.flags else ""
        return f"**pattern** `{decl.id}` — {where}{desc}\n\n```regex\n{decl.regex}\n```{flags}"
    if target.kind == "signal":
        desc = f"\n\n{decl.description}" if decl.description else ""
        return f"**signal** `{decl.id}` — {where}{desc}\n\n{_code(decl.span.text)}"
    if target.kind == "period":
        desc = f"\n\n{decl.description}" if decl.description else ""
        tz = analysis.policy.meta.timezone if analysis.policy is not None else "UTC"
        return (f"**period** `{decl.id}` — {where}{desc}\n\n"
                f"from {decl.start} to {decl.end}, both days included ({tz})")
    if target.kind == "topic":
        return f"**topic** `{decl.id}` — {where}\n\n{_md_text(decl.title)}"
    if target.kind == "label":
        return f"**label** `{decl.id}` — {where}\n\n{_md_text(decl.description)}"
    if target.kind == "authority":
        return f"**authority** `{decl.id}` — {where}\n\n{_md_text(decl.title)}"
    if target.kind == "instrument":
        short = f" ({decl.short.value})" if decl.short is not None else ""
        unit = decl.unit or "provision"
        text = f"**instrument** `{decl.id}` — {where}\n\n{_md_text(decl.title)}{short}\n\n"
        text += f"{len(decl.provisions)} {unit}{'s' if len(decl.provisions) != 1 else ''} declared"
        return text
    if target.kind == "provision":
        inst = symbols.instruments[target.instrument or ""]
        unit = inst.unit or "provision"
        title = inst.short.value if inst.short is not None else inst.title.value
        return f"**{unit} {decl.ref}** of *{title}* — {where}\n\n{_md_text(decl.title)}"
    if target.kind == "clause":
        number = analysis.numbers.get(decl.id, "")
        parts = [f"**clause {number}** `{decl.id}` — {where}", f"**{decl.title.value}**"]
        facts = [f"outcome: {_outcome_words(decl)}"]
        if decl.topic:
            facts.append(f"topic: `{decl.topic}`")
        parts.append(" · ".join(facts))
        if decl.text is not None:
            parts.append(decl.text.value)
        return "\n\n".join(parts)
    if target.kind == "section":
        number = analysis.section_numbers.get(decl.id, "")
        return f"**section {number}** `{decl.id}` — {where}\n\n{_md_text(decl.title)}"
    return None


def _field_markdown(path: str) -> str:
    if path in GROUPS:
        description, is_list = GROUPS[path]
        inner = sorted(p for p in FIELDS if p.startswith(path + "."))
        kind = "a list of objects" if is_list else "a group of fields"
        return f"**post field** `{path}` — {kind}\n\n{description}\n\nfields: " + ", ".join(f"`{p}`" for p in inner)
    ft = FIELDS[path]
    kinds = {"text": "text", "string": "string", "enum": "enumeration", "bool": "yes/no", "datetime": "date and time"}
    out = f"**post field** `{path}` — {kinds.get(ft.kind, ft.kind)}{' (many)' if ft.many else ''}\n\n{ft.description}"
    if ft.values:
        out += "\n\nvalues: " + ", ".join(f"`{v}`" for v in ft.values)
    if ft.default is not None:
        default = ("true" if ft.default else "false") if isinstance(ft.default, bool) else ft.default
        out += f"\n\ndefault: `{default}`" if default != "" else "\n\ndefault: empty"
    return out


# ---------------------------------------------------------------------------
# Completion
# ---------------------------------------------------------------------------

_KIND_ITEM = {
    "term": lsp.CompletionItemKind.Text,
    "lexicon": lsp.CompletionItemKind.Enum,
    "pattern": lsp.CompletionItemKind.Constant,
    "signal": lsp.CompletionItemKind.Function,
    "period": lsp.CompletionItemKind.Event,
    "topic": lsp.CompletionItemKind.Module,
    "label": lsp.CompletionItemKind.Property,
    "authority": lsp.CompletionItemKind.Class,
    "instrument": lsp.CompletionItemKind.Reference,
    "provision": lsp.CompletionItemKind.EnumMember,
    "clause": lsp.CompletionItemKind.Reference,
    "field": lsp.CompletionItemKind.Field,
    "value": lsp.CompletionItemKind.Value,
    "keyword": lsp.CompletionItemKind.Keyword,
}

_CONDITION_STARTS = {"when", "unless", "and", "or", "not", "(", "means"}
_CONDITION_KEYWORDS = ("labelled", "posted", "not", "mentions", "matches", "disparages", "praises")
#: Words that name a text operator after a field (or alone, for the post's text).
_TEXT_OPERATORS = ("mentions", "matches", "disparages", "praises")


def _operator_keywords() -> dict[str, list[Any]]:
    from .operators import OPERATORS

    out: dict[str, list[Any]] = {}
    for op in OPERATORS:
        for word in op.keywords:
            out.setdefault(word, []).append(op)
    return out


_OPERATOR_KEYWORDS = _operator_keywords()
_SLOT = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\s*\}")


def _in_lexicon(toks: list[Token], i: int) -> bool:
    """Whether token i sits between the braces of a `lexicon` declaration."""
    depth = 0
    for j in range(i - 1, -1, -1):
        t = toks[j].text
        if t == "}":
            depth += 1
        elif t == "{":
            if depth == 0:
                k = j - 1
                while k >= 0 and toks[k].text not in ("lexicon", "}", "{"):
                    k -= 1
                return k >= 0 and toks[k].text == "lexicon"
            depth -= 1
    return False


@dataclass(frozen=True)
class Suggestion:
    label: str
    kind: str
    detail: str = ""
    insert: str | None = None


def _describe(kind: str, decl: Any) -> str:
    if kind == "term":
        return decl.definition.value
    for attr in ("title", "description"):
        value = getattr(decl, attr, None)
        if isinstance(value, m.Text):
            return value.value
        if isinstance(value, str):
            return value
    return ""


def _names(symbols: Symbols | None, kind: str) -> list[Suggestion]:
    if symbols is None:
        return []
    if kind == "term":
        return [Suggestion(t.term, "term", _describe("term", t)) for t in symbols.terms.values()]
    return [Suggestion(name, kind, _describe(kind, decl)) for name, decl in _table(symbols, kind).items()]


def _fields(prefix: str, only_bool: bool = False) -> list[Suggestion]:
    out = []
    group = prefix.rsplit(".", 1)[0] + "." if "." in prefix else ""
    for path, ft in FIELDS.items():
        if (only_bool and ft.kind != "bool") or not path.startswith(group):
            continue
        out.append(Suggestion(path, "field", ft.description))
    if "." not in prefix:
        out.extend(Suggestion(g, "field", desc) for g, (desc, _l) in GROUPS.items() if not only_bool)
    return out


def _values(path: str) -> list[Suggestion]:
    ft = FIELDS.get(path)
    if ft is None:
        return []
    if ft.kind == "enum":
        return [Suggestion(v, "value", f"a value of `{path}`") for v in ft.values]
    if ft.kind == "bool":
        return [Suggestion("true", "value"), Suggestion("false", "value")]
    return []


def _open_brace(toks: list[Token]) -> int | None:
    depth = 0
    for j in range(len(toks) - 1, -1, -1):
        if toks[j].text in ("}", "]"):
            depth += 1
        elif toks[j].text in ("{", "["):
            if depth == 0:
                return j
            depth -= 1
    return None


def _in_post_literal(toks: list[Token]) -> bool:
    """Whether the innermost open `{` belongs to an example's post."""
    j = _open_brace(toks)
    while j is not None:
        tok = toks[j]
        if tok.text == "{" and j >= 2 and toks[j - 1].kind == "string" and toks[j - 2].text == "example":
            return True
        if tok.text in ("{", "[") and j >= 1 and toks[j - 1].text in (":", "[", ","):
            j = _open_brace(toks[:j])
            continue
        return False
    return False


def _brace_depth(toks: list[Token]) -> int:
    return sum(1 if t.text == "{" else -1 if t.text == "}" else 0 for t in toks)


def suggestions(text: str, offset: int, symbols: Symbols | None) -> tuple[int, list[Suggestion]]:
    """What may be written at ``offset``: the start of the text to replace, and the candidates."""
    before = text[:offset]
    toks = tokenize(before)
    if toks and toks[-1].kind == "string" and not toks[-1].closed and toks[-1].end == offset:
        # Inside a text: `{` starts a reference to a defined term.
        mt = re.search(r"\{(?:[^{}|]*\|)?([^{}|]*)$", toks[-1].text)
        if mt is None:
            return offset, []
        start = toks[-1].start + mt.start(1)
        close = "" if text[offset : offset + 1] == "}" else "}"
        return start, [Suggestion(s.label, s.kind, s.detail, s.label + close) for s in _names(symbols, "term")]
    mt = re.search(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*$", before)
    prefix = mt.group(0) if mt else ""
    start = offset - len(prefix)
    if prefix:
        toks = tokenize(text[:start])
    prev = toks[-1].text if toks else ""
    prev2 = toks[-2].text if len(toks) >= 2 else ""
    kind = {"mentions": "lexicon", "matches": "pattern", "labelled": "label", "during": "period",
            "by": "clause", "near": "lexicon", "disparages": "lexicon", "praises": "lexicon"}.get(prev)
    if kind is not None:
        return start, _names(symbols, kind)
    if prev2 == "mentions" and toks and toks[-1].kind == "word":
        return start, [Suggestion(w, "keyword") for w in ("near", "and", "or")]
    if prev2 in ("near", "disparages", "praises") and toks and toks[-1].kind == "word":
        return start, [Suggestion(w, "keyword") for w in ("within", "and", "or")]
    if prev == "within":
        return start, [Suggestion("5 words", "keyword", "at most 5 words between the two")]
    if prev == "topic" and _brace_depth(toks) > 0:
        return start, _names(symbols, "topic")
    if prev == "of" and prev2 == "sanction":
        return start, _names(symbols, "authority")
    if prev == "posted":
        return start, [Suggestion(w, "keyword") for w in ("during", "before", "after")]
    if prev in ("cites", ","):
        role = _cites_role([*toks, Token("word", start, offset, prefix or "x")], len(toks))
        if role is not None:
            return start, _names(symbols, "instrument")
    if toks and toks[-1].kind == "word":
        role = _cites_role([*toks, Token("word", start, offset, prefix or "x")], len(toks))
        if role is not None and role[0] == "provision" and symbols is not None:
            inst = symbols.instruments.get(role[1] or "")
            if inst is not None:
                unit = inst.unit or "provision"
                return start, [Suggestion(p.ref, "provision", f"{unit} {p.ref}: {p.title.value}")
                               for p in inst.provisions]
            return start, []
    if _in_post_literal(toks):
        if prev in ("{", ","):
            return start, [s for s in _fields(prefix) if s.label not in GROUPS]
        if prev == ":" and len(toks) >= 2:
            return start, _values(prev2)
        return start, []
    if prev == "is" and prev2 in FIELDS:
        return start, _values(prev2)
    if prev == "not" and prev2 == "is" and len(toks) >= 3:
        return start, _values(toks[-3].text)
    if prev in ("[", ",") and _open_brace(toks) is not None:
        j = _open_brace(toks)
        assert j is not None
        if j >= 2 and toks[j - 1].text == "in":
            path = toks[j - 2].text if toks[j - 2].text != "not" else (toks[j - 3].text if j >= 3 else "")
            return start, _values(path)
    if prev in _CONDITION_STARTS or (prev2 == "unless" and toks[-1].kind == "string"):
        items = _names(symbols, "signal") + _fields(prefix)
        items += [Suggestion(w, "keyword") for w in _CONDITION_KEYWORDS if w not in ("mentions", "matches")]
        items += [Suggestion("mentions", "keyword", "the post's text mentions a lexicon")]
        if "." in prefix:
            items = [s for s in items if s.kind == "field"]
        return start, items
    if toks and toks[-1].kind == "word" and toks[-1].text in FIELDS:
        words = ("is", "in", "not", *_TEXT_OPERATORS) if FIELDS[toks[-1].text].kind != "bool" else ("and", "or")
        return start, [Suggestion(w, "keyword") for w in words]
    if "." in prefix:
        return start, _fields(prefix)
    return start, []


# ---------------------------------------------------------------------------
# Document symbols
# ---------------------------------------------------------------------------

_DECL_SYMBOL = (
    ("topics", "topic", lsp.SymbolKind.EnumMember),
    ("labels", "label", lsp.SymbolKind.Property),
    ("authorities", "authority", lsp.SymbolKind.Class),
    ("instruments", "instrument", lsp.SymbolKind.Class),
    ("terms", "term", lsp.SymbolKind.Key),
    ("lexicons", "lexicon", lsp.SymbolKind.Array),
    ("patterns", "pattern", lsp.SymbolKind.String),
    ("signals", "signal", lsp.SymbolKind.Function),
    ("periods", "period", lsp.SymbolKind.Event),
)


def document_symbols(analysis: Analysis, positions: Positions) -> list[lsp.DocumentSymbol]:
    policy = analysis.policy
    if policy is None:
        return []
    here = analysis.name

    def mine(span: Span) -> bool:
        return span.source.name == here

    def sym(name: str, detail: str, kind: lsp.SymbolKind, span: Span, sel: Span,
            children: list[lsp.DocumentSymbol] | None = None) -> lsp.DocumentSymbol:
        return lsp.DocumentSymbol(name=name, detail=detail or None, kind=kind,
                                  range=positions.range(span.start, span.end),
                                  selection_range=positions.range(sel.start, sel.end),
                                  children=children or None)

    def section(sec: m.Section) -> lsp.DocumentSymbol:
        kids = []
        for child in sec.children:
            if isinstance(child, m.Section):
                kids.append(section(child))
            else:
                number = analysis.numbers.get(child.id, "")
                kids.append(sym(f"{number} {child.id}", child.title.value, lsp.SymbolKind.Method,
                                child.span, name_span(child, "clause")))
        number = analysis.section_numbers.get(sec.id, "")
        return sym(f"{number} {sec.id}", sec.title.value, lsp.SymbolKind.Namespace, sec.span,
                   name_span(sec, "section"), kids)

    found: list[tuple[int, lsp.DocumentSymbol]] = []
    if mine(policy.span) and policy.span.end > policy.span.start:
        title = policy.meta.title.value if policy.meta.title is not None else ""
        found.append((policy.span.start, sym(f"policy {policy.id}", title, lsp.SymbolKind.Module,
                                             policy.span, policy.span)))
    for attr, kind, sk in _DECL_SYMBOL:
        for decl in getattr(policy, attr):
            if not mine(decl.span):
                continue
            label = decl.term if kind == "term" else decl.id
            kids = None
            if kind == "instrument":
                kids = [sym(p.ref, p.title.value, lsp.SymbolKind.EnumMember, p.span, name_span(p, "provision"))
                        for p in decl.provisions]
            found.append((decl.span.start, sym(f"{kind} {label}", _describe(kind, decl), sk, decl.span,
                                               name_span(decl, kind), kids)))
    for sec in policy.sections:
        if mine(sec.span):
            found.append((sec.span.start, section(sec)))
    return [s for _start, s in sorted(found, key=lambda pair: pair[0])]


def lexical_symbols(text: str, positions: Positions) -> list[lsp.DocumentSymbol]:
    """The outline of a text that has never parsed, read from its words and braces alone.

    Sections and clauses (numbered as the circular numbers them, from their
    order in this file), the ``policy`` header and the top-level declarations,
    each from its keyword to its closing brace, or to the end of the text if
    the brace is missing. Better than an empty outline while a new file is
    being written; once the text parses, the outline comes from the model.
    """
    toks = tokenize(text)
    top: list[lsp.DocumentSymbol] = []
    stack: list[_Open] = []  # the blocks open at this point, innermost last

    def close(block: _Open, end: int) -> None:
        sym = lsp.DocumentSymbol(name=block.name, detail=block.detail or None, kind=block.kind,
                                 range=positions.range(block.start, end),
                                 selection_range=positions.range(*block.selection),
                                 children=block.children or None)
        owner = next((b for b in reversed(stack) if b.kind is not None), None)
        (owner.children if owner is not None else top).append(sym)

    i = 0
    while i < len(toks):
        tok, word = toks[i], toks[i].text
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        owner = next((b for b in reversed(stack) if b.kind is not None), None)
        if tok.kind == "word" and nxt is not None and nxt.kind == "word" and (
                (word == "section" and (owner is None or owner.role == "section"))
                or (word == "clause" and owner is not None and owner.role == "section")):
            title, j = _lexical_title(toks, i + 2)
            if word == "section":
                if owner is None:
                    owner_count = sum(1 for sym in top if sym.kind == lsp.SymbolKind.Namespace) + 1
                    number = str(owner_count)
                else:
                    owner.sections += 1
                    number = f"{owner.number}.{owner.sections}"
            else:
                assert owner is not None
                owner.clauses += 1
                number = f"{owner.number}({m.clause_letter(owner.clauses)})"
            block = _Open(f"{number} {nxt.text}", title, lsp.SymbolKind.Namespace if word == "section"
                          else lsp.SymbolKind.Method, tok.start, (nxt.start, nxt.end), word, number)
            if j < len(toks) and toks[j].text == "{":
                stack.append(block)
                i = j + 1
            else:
                close(block, toks[j - 1].end)
                i = j
            continue
        if tok.kind == "word" and owner is None and not stack and word in _LEXICAL_DECLARATIONS \
                and nxt is not None and nxt.kind in ("word", "string"):
            kind = "term" if word == "define" else word
            label = _fold(unquote(nxt.text)) if nxt.kind == "string" and nxt.text.endswith('"') else nxt.text
            title, _ = _lexical_title(toks, i + 2) if nxt.kind == "word" else ("", i)
            block = _Open(f"{kind} {label}", title, _LEXICAL_DECLARATIONS[word], tok.start, (nxt.start, nxt.end),
                          kind, "")
            k = i + 2
            while k < len(toks) and toks[k].text != "{" and not (toks[k].kind == "word" and toks[k].text in
                                                                   _LEXICAL_STARTS):
                k += 1
            if k < len(toks) and toks[k].text == "{":
                stack.append(block)
                i = k + 1
            else:
                close(block, toks[k - 1].end)
                i = k
            continue
        if tok.kind == "punct" and word == "{":
            stack.append(_Open("", "", None, tok.start, (tok.start, tok.start), "brace", ""))
        elif tok.kind == "punct" and word == "}" and stack:
            block = stack.pop()
            if block.kind is not None:
                close(block, tok.end)
        i += 1
    while stack:  # blocks never closed run to the end of the text
        block = stack.pop()
        if block.kind is not None:
            close(block, len(text))
    return top


@dataclass
class _Open:
    """A block of the lexical outline whose closing brace has not been met yet."""

    name: str
    detail: str
    kind: lsp.SymbolKind | None  # None: a brace that opens no symbol (an example post, a lexicon's entries)
    start: int
    selection: tuple[int, int]
    role: str
    number: str
    sections: int = 0
    clauses: int = 0
    children: list[lsp.DocumentSymbol] = field(default_factory=list)


_LEXICAL_DECLARATIONS = {
    "policy": lsp.SymbolKind.Module, "topic": lsp.SymbolKind.EnumMember, "label": lsp.SymbolKind.Property,
    "authority": lsp.SymbolKind.Class, "instrument": lsp.SymbolKind.Class, "define": lsp.SymbolKind.Key,
    "lexicon": lsp.SymbolKind.Array, "pattern": lsp.SymbolKind.String, "signal": lsp.SymbolKind.Function,
    "period": lsp.SymbolKind.Event,
}


#: Words that start a new top-level item: a declaration without braces ends before them.
_LEXICAL_STARTS = frozenset(_LEXICAL_DECLARATIONS) | {"section", "include"}


def _lexical_title(toks: list[Token], i: int) -> tuple[str, int]:
    """The title after a declaration's name (its first quoted text) and the index after its translations."""
    title = ""
    j = i
    if j < len(toks) and toks[j].kind == "string":
        raw = toks[j].text
        title = _fold(unquote(raw)) if toks[j].closed else _fold(raw.lstrip('"'))
        j += 1
        while j + 2 < len(toks) and toks[j].text == "@" and toks[j + 2].kind == "string":
            j += 3  # a translation: `@hi "…"`
    return title, j


# ---------------------------------------------------------------------------
# Code actions: the hints of diagnostics as quick fixes
# ---------------------------------------------------------------------------

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_MISSING_TRANSLATION = re.compile(r"has no `@([A-Za-z0-9-]+)` translation")
#: The placeholder a quick fix writes for a translation still to be written: seen in the circular until it is.
TRANSLATION_PLACEHOLDER = "…"


@dataclass(frozen=True)
class Fix:
    """A quick fix: a title and the edits (offsets in the document's text) that make it."""

    title: str
    edits: tuple[tuple[int, int, str], ...]
    preferred: bool = False


def quick_fixes(analysis: Analysis, problem: Any) -> list[Fix]:
    """The fixes of one diagnostic or lint finding of a document (none for a problem in another file)."""
    span = getattr(problem, "span", None)
    if span is None or span.source.name != analysis.name or span.source.text != analysis.text:
        return []
    text = analysis.text
    fixes: list[Fix] = []
    hint = getattr(problem, "help", None) or ""
    for suggestion in _DID_YOU_MEAN.findall(hint):
        start, end = _misspelt(text, span.start, span.end, suggestion)
        written = text[start:end]
        # Only a name is replaced: never a whole text, a line, or anything holding quotes or braces.
        if written and written != suggestion and len(written) <= 200 and not re.search(r'["{}\n\r#]', written):
            fixes.append(Fix(f"Change `{written}` to `{suggestion}`", ((start, end, suggestion),), True))
    missing = _MISSING_TRANSLATION.search(problem.message) if problem.code == "S221" else None
    if missing is not None and span.end > span.start:
        lang = missing.group(1)
        fixes.append(Fix(f"Add a `@{lang}` translation (to be written)",
                         ((span.end, span.end, f' @{lang} "{TRANSLATION_PLACEHOLDER}"'),)))
    if problem.code == "L004" and analysis.policy is not None:
        clause = next((c for c in analysis.policy.clauses() if c.id == getattr(problem, "clause", None)), None)
        if clause is not None and clause.span.source.name == analysis.name:
            fixes.extend(_citation_fixes(analysis, clause))
    return fixes


def _misspelt(text: str, start: int, end: int, suggestion: str) -> tuple[int, int]:
    """The word of a diagnostic's span that its suggestion replaces.

    A span may cover more than the name (``aiscr 3(1A)(iii)`` for an unknown provision,
    whose hint names the provision ``3(1A)(ii)``): the word closest to the suggestion is
    the one replaced.
    """
    words = [(mt.start(), mt.end()) for mt in re.finditer(r"\S+", text[start:end])]
    if len(words) <= 1 or re.search(r"\s", suggestion):  # a name of several words (a term) is replaced whole
        return start, end
    best = max(words, key=lambda w: difflib.SequenceMatcher(a=text[start + w[0]:start + w[1]], b=suggestion).ratio())
    return start + best[0], start + best[1]


def _citation_fixes(analysis: Analysis, clause: m.Clause) -> list[Fix]:
    """`cites …` (what the clauses of the same topic cite) or `new guidance`, as a line of the clause."""
    policy = analysis.policy
    assert policy is not None
    at, indent = _item_insertion(analysis.text, clause)
    cited: list[str] = []
    for other in policy.clauses():
        if other.topic == clause.topic and other.id != clause.id:
            for c in other.citations:
                ref = f"{c.instrument} {c.ref}"
                if ref not in cited:
                    cited.append(ref)
    if not cited:  # no clause of the topic cites anything: offer each instrument's first provision
        cited = [f"{i.id} {i.provisions[0].ref}" for i in policy.instruments if i.provisions]
    fixes = [Fix(f"Cite `{ref}`", ((at, at, f"{indent}cites {ref}\n"),)) for ref in cited[:3]]
    fixes.append(Fix("Mark the clause as new guidance", ((at, at, f"{indent}new guidance\n"),)))
    return fixes


def _item_insertion(text: str, clause: m.Clause) -> tuple[int, str]:
    """Where a new item of a clause goes (a line of its own before its rationale, note or first example,
    else before its closing brace) and the indentation of the clause's items."""
    later = [t.span.start for t in (clause.rationale, clause.note) if t is not None]
    later += [e.span.start for e in clause.examples]
    body = text[clause.span.start:clause.span.end]
    brace = clause.span.start + body.rindex("}") if "}" in body else clause.span.end
    target = min(later) if later else brace
    line_start = text.rfind("\n", 0, target) + 1
    clause_line = text.rfind("\n", 0, clause.span.start) + 1
    clause_indent = re.match(r"[ \t]*", text[clause_line:]).group()  # type: ignore[union-attr]
    first_item = re.search(r"\n([ \t]+)\S", text[clause.span.start:target])
    indent = first_item.group(1) if first_item else clause_indent + "    "
    if text[line_start:target].strip():  # something precedes it on its line: break the line there
        return target, "\n" + indent  # (the inserted text then ends with a line break before `target`)
    return line_start, indent


# ---------------------------------------------------------------------------
# Formatting as the smallest edits
# ---------------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def minimal_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """Edits (start, end, replacement; offsets into ``old``) that turn ``old`` into ``new``.

    Lines are matched first (a formatter moves and re-indents lines); within each
    changed run of lines only what differs is replaced (common leading and trailing
    characters are kept), so an editor keeps the cursor, folds and marks of every
    line the formatter did not touch. Edits are in document order and never overlap.
    """
    a, b = _LINE.findall(old), _LINE.findall(new)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # Lines changed one for one (re-indented, re-aligned) are edited each on its own line.
        if i2 - i1 == j2 - j1:
            runs = [(i, j, i + 1, j + 1) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
        else:
            runs = [(i1, j1, i2, j2)]
        for a1, b1, a2, b2 in runs:
            start, end = starts[a1], starts[a2]
            was, now = old[start:end], "".join(b[b1:b2])
            if was == now:
                continue
            head = 0
            while head < min(len(was), len(now)) and was[head] == now[head]:
                head += 1
            tail = 0
            while tail < min(len(was), len(now)) - head and was[-1 - tail] == now[-1 - tail]:
                tail += 1
            edits.append((start + head, end - tail, now[head:len(now) - tail]))
    return edits


# ---------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------

_INCLUDE = re.compile(r'^[ \t]*include[ \t]+("(?:[^"\\\n]|\\.)*")', re.MULTILINE)


def _include_routes(analysis: Analysis) -> list[tuple[int, int, set[str]]]:
    """Each `include` of the document: its offsets and every file it brings in, directly or not."""
    def direct(name: str, text: str) -> list[tuple[int, int, str]]:
        return [(mt.start(1), mt.end(1), _norm(posixpath.join(posixpath.dirname(name), unquote(mt.group(1)))))
                for mt in _INCLUDE.finditer(text)]

    texts = {name: src.text for name, src in analysis.sources.items()}
    routes = []
    for start, end, target in direct(analysis.name, analysis.text):
        seen, todo = set(), [target]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in texts:
                todo.extend(t for _s, _e, t in direct(name, texts[name]))
        routes.append((start, end, seen))
    return routes


_SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
    "information": lsp.DiagnosticSeverity.Information,
    "note": lsp.DiagnosticSeverity.Information,
    "hint": lsp.DiagnosticSeverity.Hint,
}


_DOCS = Path(__file__).resolve().parent.parent / "docs" / "lint"


def _docs_link(code: str) -> lsp.CodeDescription | None:
    """A link to a lint rule's page, where the documentation is installed (a checkout)."""
    page = _DOCS / f"{code}.md"
    return lsp.CodeDescription(href=page.as_uri()) if code.startswith("L") and page.is_file() else None


def lsp_diagnostics(analysis: Analysis, positions: Positions, encoding: str) -> list[lsp.Diagnostic]:
    """The analysis's diagnostics in LSP form; those in included files point at the `include`."""
    routes: list[tuple[int, int, set[str]]] | None = None
    out = []
    tagged = [(d, "govpost") for d in analysis.diagnostics] + [(f, "govpost lint") for f in analysis.findings]
    for d, source in tagged:
        message = d.message
        if getattr(d, "help", None):
            message += f"\nhelp: {d.help}"
        for note in getattr(d, "notes", ()) or ():
            message += f"\nnote: {note}"
        witness = getattr(d, "witness", None)
        if witness:
            message += "\nfor example this post: " + json.dumps(witness, ensure_ascii=False, sort_keys=True)
        related = None
        if d.span is None:
            rng = positions.range(0, 0)
        elif d.span.source.name == analysis.name:
            rng = positions.range(d.span.start, d.span.end)
        else:
            if routes is None:
                routes = _include_routes(analysis)
            where = next(((s, e) for s, e, files in routes if d.span.source.name in files), (0, 0))
            rng = positions.range(*where)
            line, col = d.span.source.line_col(d.span.start)
            message = f"in `{posixpath.basename(d.span.source.name)}` (line {line}): {message}"
            other = Positions(d.span.source.text, encoding)
            related = [lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=name_uri(d.span.source.name),
                                      range=other.range(d.span.start, d.span.end)),
                message=d.message)]
        severity = getattr(d.severity, "value", d.severity)
        out.append(lsp.Diagnostic(
            range=rng,
            message=message,
            severity=_SEVERITY.get(str(severity).lower(), lsp.DiagnosticSeverity.Error),
            code=d.code,
            code_description=_docs_link(d.code),
            source=source,
            related_information=related,
        ))
    return out


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


@dataclass
class DocState:
    uri: str
    name: str
    analysis: Analysis | None = None
    #: The latest analysis that produced a model, for features while the text does not parse.
    model: Analysis | None = None
    pending: asyncio.Task[None] | None = None
    linting: asyncio.Task[None] | None = None


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def guarded(what: str) -> Callable[[F], F]:
    """Turn an unexpected exception in a request into a logged LSP error; the server keeps running."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        async def run(ls: GovpostServer, params: Any) -> Any:
            try:
                return await fn(ls, params)
            except JsonRpcException:
                raise
            except Exception as exc:
                logger.exception("internal error in %s", what)
                raise JsonRpcInternalError(
                    message=f"govpost: internal error in {what}: {type(exc).__name__}: {exc} "
                    "(a bug in govpost; the server log has the details)"
                ) from None

        return run  # type: ignore[return-value]

    return wrap


# ---------------------------------------------------------------------------
# The protocol: every request gets an answer, and no message can exhaust memory
# ---------------------------------------------------------------------------

#: The longest message the server reads (16 MiB): a policy is at most 1 MiB (toolkit.confine).
MAX_MESSAGE_BYTES = 16 << 20
#: The longest header line read at once.
_MAX_HEADER_LINE = 4096
_REFUSED = "govpost/refusedMessage"


@dataclass(frozen=True)
class _Unreadable:
    """A request whose parameters do not fit its method (or whose method is unknown): answered with an error."""

    id: Any
    error: JsonRpcException


class GovpostProtocol(LanguageServerProtocol):
    """pygls's protocol, answering every request it cannot take with a JSON-RPC error.

    pygls reads a request's parameters while it decodes the message; parameters
    that do not fit (a negative position, a missing field, no ``params`` at all)
    made it log the problem and never answer, so the editor waited forever.
    Here such a request is answered: ``-32601`` for a method the server does not
    have, ``-32602`` for parameters that do not fit.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if not (isinstance(data, dict) and "jsonrpc" in data and "id" in data and "method" in data):
                raise
            method = data["method"]
            try:
                self._get_handler(method)
            except JsonRpcMethodNotFound as unknown:
                return _Unreadable(data["id"], unknown)
            except Exception:  # pragma: no cover - a name that is not a method at all
                return _Unreadable(data["id"], JsonRpcInvalidRequest())
            return _Unreadable(data["id"], JsonRpcInvalidParams(
                f"Invalid Params: the parameters of `{method}` do not fit it: {_what_failed(exc)}"))

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Unreadable):
            self._send_response(message.id, None, message.error.to_response_error())
            return
        super().handle_message(message)


def _what_failed(exc: BaseException) -> str:
    """Where the parameters went wrong (``invalid value for type, expected int @ $.params.position.line``)."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    try:
        from cattrs import transform_error

        found = transform_error(cause)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - the detail is a courtesy; the error is answered either way
        found = []
    return _short(Exception("; ".join(found))) if found else _short(cause)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


class CappedInput:
    """Standard input for the server, read so that no message can exhaust memory.

    A header line is read at most 4 KiB at a time. A message whose
    ``Content-Length`` exceeds :data:`MAX_MESSAGE_BYTES` is read and thrown away
    in small pieces (so the stream stays in step) and replaced by a notification
    that makes the server tell the client; a length of 99,999,999,999 costs no
    memory, only the wait for bytes that never come.
    """

    def __init__(self, stream: Any):
        self.stream = stream

    def readline(self) -> bytes:
        line: bytes = self.stream.readline(_MAX_HEADER_LINE)
        return line

    def read(self, size: int) -> bytes:
        if size <= MAX_MESSAGE_BYTES:
            data: bytes = self.stream.read(size)
            return data
        left = size
        while left > 0:
            piece = self.stream.read(min(left, 1 << 16))
            if not piece:
                return b""  # the client went away: the server stops, as at any end of input
            left -= len(piece)
        return json.dumps({"jsonrpc": "2.0", "method": _REFUSED, "params": {"bytes": size}}).encode("utf-8")


class GovpostServer(LanguageServer):
    def __init__(self, debounce: float = DEBOUNCE_SECONDS) -> None:
        super().__init__("govpost", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                         protocol_cls=GovpostProtocol)
        self.docs: dict[str, DocState] = {}
        self.debounce = debounce
        # One thread for everything that parses: the parser is shared state.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govpost-parse")

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A message that is not JSON is answered as JSON-RPC says: a parse error, with no id."""
        if isinstance(error, (ValueError, UnicodeDecodeError)) and not isinstance(error, JsonRpcException):
            logger.error("a message that is not JSON: %s", error)
            self.protocol._send_response(None, None, JsonRpcParseError(  # type: ignore[arg-type]
                f"Parse Error: the message is not JSON: {_short(error)}").to_response_error())
            return
        super().report_server_error(error, source)

    def positions(self, text: str) -> Positions:
        return Positions(text, self.encoding)

    # -- analysis ------------------------------------------------------------

    def buffers(self) -> dict[str, str]:
        out = {}
        for state in self.docs.values():
            doc = self.workspace.get_text_document(state.uri)
            out[state.name] = doc.source
        return out

    def schedule(self, uri: str, delay: float) -> None:
        state = self.docs.get(uri)
        if state is None:
            return
        for task in (state.pending, state.linting):
            if task is not None and not task.done():
                task.cancel()
        state.pending = asyncio.ensure_future(self._analyse(state, delay))

    def dependants(self, name: str) -> list[str]:
        """Open documents whose last analysis read the file ``name``."""
        return [s.uri for s in self.docs.values()
                if s.name != name and s.analysis is not None and name in s.analysis.sources]

    async def _analyse(self, state: DocState, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = self.workspace.get_text_document(state.uri)
        text, version = doc.source, doc.version
        buffers = self.buffers()
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.worker, analyse, state.uri, text, version, buffers)
        except Exception as exc:  # a bug: report it on the document, keep serving
            logger.exception("internal error while analysing %s", state.uri)
            diag = lsp.Diagnostic(
                range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
                message=f"govpost could not check this file: internal error {type(exc).__name__}: {exc} "
                "(a bug in govpost; the server log has the details)",
                severity=lsp.DiagnosticSeverity.Error, source="govpost")
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=state.uri, diagnostics=[diag], version=version))
            return
        if self.docs.get(state.uri) is not state:
            return  # closed meanwhile
        state.analysis = result
        if result.policy is not None:
            state.model = result
        self.publish(state, result)
        # Lint second, as a task of its own: the drafter sees errors at once, lint
        # findings when they are ready, and requests never wait for the linter.
        if result.policy is not None and linter() is not None:
            state.linting = asyncio.ensure_future(self._lint(state, result))

    async def _lint(self, state: DocState, result: Analysis) -> None:
        def run() -> list[Any] | None:
            # Skipped if the document changed while the job waited for the worker.
            return lint_findings(result) if state.analysis is result else None

        try:
            findings = await asyncio.get_running_loop().run_in_executor(self.worker, run)
        except Exception:
            logger.exception("internal error while linting %s", state.uri)
            return
        if findings is not None and state.analysis is result and self.docs.get(state.uri) is state:
            result.findings = findings
            self.publish(state, result)

    def publish(self, state: DocState, result: Analysis) -> None:
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=state.uri,
            diagnostics=lsp_diagnostics(result, self.positions(result.text), self.encoding),
            version=result.version,
        ))

    async def current(self, uri: str) -> DocState | None:
        """The document's state once every pending analysis of it has finished."""
        state = self.docs.get(uri)
        while state is not None and state.pending is not None and not state.pending.done():
            await asyncio.wait([state.pending])
        return state

    async def in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)


server = GovpostServer()


def _text_and_offset(ls: GovpostServer, uri: str, position: lsp.Position) -> tuple[str, int]:
    text = ls.workspace.get_text_document(uri).source
    return text, ls.positions(text).offset(position)


# -- document synchronisation ------------------------------------------------


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: GovpostServer, params: lsp.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    state = DocState(uri, document_name(uri))
    ls.docs[uri] = state
    ls.schedule(uri, 0)
    for other in ls.dependants(state.name):
        ls.schedule(other, ls.debounce)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: GovpostServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri not in ls.docs:
        return
    ls.schedule(uri, ls.debounce)
    for other in ls.dependants(ls.docs[uri].name):
        ls.schedule(other, ls.debounce)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: GovpostServer, params: lsp.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri in ls.docs:
        ls.schedule(uri, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: GovpostServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    state = ls.docs.pop(uri, None)
    if state is None:
        return
    for task in (state.pending, state.linting):
        if task is not None and not task.done():
            task.cancel()
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    # Documents that included it now read it from disk.
    for other in ls.dependants(state.name):
        ls.schedule(other, 0)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def watched_files_changed(ls: GovpostServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    # A file changed on disk (outside the editor): re-check the open documents that read it.
    for change in params.changes:
        for uri in ls.dependants(document_name(change.uri)):
            ls.schedule(uri, ls.debounce)


# -- features ----------------------------------------------------------------


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
@guarded("hover")
async def hover(ls: GovpostServer, params: lsp.HoverParams) -> lsp.Hover | None:
    state = await ls.current(params.text_document.uri)
    if state is None:
        return None
    text, offset = _text_and_offset(ls, state.uri, params.position)
    known = state.model
    target = target_at(text, offset, known.symbols if known else None)
    if target is None:
        return None
    if known is None:
        if target.kind != "field":
            return None
        known = Analysis(state.uri, state.name, None, text, [])
    markdown = hover_markdown(known, target)
    if markdown is None:
        return None
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown),
        range=ls.positions(text).range(target.start, target.end),
    )


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
@guarded("go to definition")
async def definition(ls: GovpostServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
    state = await ls.current(params.text_document.uri)
    if state is None:
        return None
    text, offset = _text_and_offset(ls, state.uri, params.position)
    known = state.model
    target = target_at(text, offset, known.symbols if known else None)
    if target is None:
        return None
    if target.kind == "include":
        path = _norm(posixpath.join(posixpath.dirname(state.name), target.name))
        if not Path(path).exists() and path not in {s.name for s in ls.docs.values()}:
            return None
        if FileReader().refuse(path, state.name) is not None:
            return None  # not a file the policy may include: its diagnostic says why
        origin = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
        return [lsp.Location(uri=_uri_for(ls, path), range=origin)]
    if known is None or known.symbols is None:
        return None
    decl = declaration(known.symbols, target)
    if decl is None:
        return None
    span = name_span(decl, target.kind)
    positions = ls.positions(span.source.text)
    return [lsp.Location(uri=_uri_for(ls, span.source.name), range=positions.range(span.start, span.end))]


def _uri_for(ls: GovpostServer, name: str) -> str:
    for state in ls.docs.values():
        if state.name == name:
            return state.uri
    return name_uri(name)


@server.feature(
    lsp.TEXT_DOCUMENT_COMPLETION,
    lsp.CompletionOptions(trigger_characters=[" ", ".", "{", ",", "[", ":"]),
)
@guarded("completion")
async def completion(ls: GovpostServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    state = await ls.current(params.text_document.uri)
    if state is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    text, offset = _text_and_offset(ls, state.uri, params.position)
    known = state.model
    start, found = suggestions(text, offset, known.symbols if known else None)
    positions = ls.positions(text)
    rng = positions.range(start, offset)
    items = []
    seen = set()
    for s in sorted(found, key=lambda s: (s.kind == "keyword", s.label)):
        if s.label in seen:
            continue
        seen.add(s.label)
        items.append(lsp.CompletionItem(
            label=s.label,
            kind=_KIND_ITEM.get(s.kind),
            detail=f"{s.kind}: {s.detail}" if s.detail else s.kind,
            filter_text=s.label,
            text_edit=lsp.TextEdit(range=rng, new_text=s.insert if s.insert is not None else s.label),
        ))
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded("document symbols")
async def symbols(ls: GovpostServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    state = await ls.current(params.text_document.uri)
    if state is None:
        return []
    if state.model is None:
        # Never parsed yet: an outline read from the words, not an empty one.
        text = ls.workspace.get_text_document(state.uri).source
        return lexical_symbols(text, ls.positions(text))
    # The last version that parsed (the drafter may be in the middle of an edit that does not).
    return document_symbols(state.model, ls.positions(state.model.text))


def _format(text: str, name: str) -> str:
    from .formatter import format_source

    return format_source(text, name)


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
@guarded("formatting")
async def formatting(ls: GovpostServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    from .diagnostics import DiagnosticError

    state = await ls.current(params.text_document.uri)
    if state is None:
        return None
    text = ls.workspace.get_text_document(state.uri).source
    try:
        formatted = await ls.in_worker(_format, text, state.name)
    except ImportError:
        ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Warning, message="govpost: this installation has no formatter"))
        return None
    except DiagnosticError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        where = f" (line {first.span.line}: {first.message})" if first is not None and first.span else ""
        ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Warning,
            message=f"govpost: the file has syntax errors and was not formatted{where}"))
        return None
    except RuntimeError as exc:  # the formatter's soundness check refused its own result
        logger.error("formatting %s refused: %s", state.uri, exc)
        ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Error, message=f"govpost: the file was left unformatted: {exc}"))
        return None
    if formatted == text:
        return []
    positions = ls.positions(text)
    return [lsp.TextEdit(range=positions.range(start, end), new_text=replacement)
            for start, end, replacement in minimal_edits(text, formatted)]


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
)
@guarded("code actions")
async def code_actions(ls: GovpostServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    """Quick fixes for the problems in the requested range: every "did you mean" hint, a missing
    translation, a missing citation."""
    state = await ls.current(params.text_document.uri)
    if state is None or state.analysis is None:
        return None
    analysis = state.analysis
    text = ls.workspace.get_text_document(state.uri).source
    if text != analysis.text:
        return None  # the analysis is of another version; the editor asks again
    positions = ls.positions(text)
    lo, hi = positions.offset(params.range.start), positions.offset(params.range.end)
    published = lsp_diagnostics(analysis, positions, ls.encoding)
    actions = []
    for problem, shown in zip([*analysis.diagnostics, *analysis.findings], published, strict=True):
        span = getattr(problem, "span", None)
        if span is None or span.source.name != analysis.name or span.end < lo or span.start > hi:
            continue
        if params.context.only and lsp.CodeActionKind.QuickFix not in params.context.only:
            continue
        for fix in quick_fixes(analysis, problem):
            edits = [lsp.TextEdit(range=positions.range(start, end), new_text=new) for start, end, new in fix.edits]
            actions.append(lsp.CodeAction(
                title=fix.title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[shown],
                is_preferred=fix.preferred or None,
                edit=lsp.WorkspaceEdit(changes={state.uri: edits})))
    return actions


@server.feature(_REFUSED)
def refused_message(ls: GovpostServer, params: Any) -> None:
    """A message too long to read (see :class:`CappedInput`): its request cannot be known, so say so."""
    size = params.bytes if hasattr(params, "bytes") else "?"
    text = f"govpost: a message of {size:,} bytes was refused; the server reads at most {MAX_MESSAGE_BYTES:,}" \
        if isinstance(size, int) else "govpost: a message too long to read was refused"
    logger.error("%s", text)
    ls.protocol._send_response(None, None, JsonRpcInvalidRequest(text).to_response_error())  # type: ignore[arg-type]
    ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=text))


def serve() -> None:
    """Run the server over stdio until the client says `exit`."""
    import sys

    server.start_io(stdin=CappedInput(sys.stdin.buffer))  # type: ignore[arg-type]


__all__ = ["Analysis", "GovpostServer", "Positions", "analyse", "serve", "server", "suggestions", "target_at",
           "tokenize"]
