"""Semantic checks of a loaded policy: names, types, citations, regexes, dates, examples.

Each check is a function ``(policy, symbols) -> Iterator[Diagnostic]``
registered in :data:`CHECKS`; :func:`check_policy` runs them all and
collects every diagnostic, so a drafter sees all problems in one run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from . import model as m
from . import posts
from .diagnostics import Diagnostic, Severity, did_you_mean
from .operators import for_node, walk
from .postschema import FIELDS, GROUPS
from .source import Span


@dataclass
class Symbols:
    """Name → declaration tables for one policy (the model stays immutable)."""

    topics: dict[str, m.Topic] = field(default_factory=dict)
    labels: dict[str, m.Label] = field(default_factory=dict)
    authorities: dict[str, m.Authority] = field(default_factory=dict)
    instruments: dict[str, m.Instrument] = field(default_factory=dict)
    terms: dict[str, m.Term] = field(default_factory=dict)
    lexicons: dict[str, m.Lexicon] = field(default_factory=dict)
    patterns: dict[str, m.Pattern] = field(default_factory=dict)
    signals: dict[str, m.Signal] = field(default_factory=dict)
    periods: dict[str, m.Period] = field(default_factory=dict)
    clauses: dict[str, m.Clause] = field(default_factory=dict)
    sections: dict[str, m.Section] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: m.Policy) -> Symbols:
        """Tables of the first declaration of each name (duplicates are reported by a check)."""
        s = cls()
        for table, items in (
            (s.topics, policy.topics),
            (s.labels, policy.labels),
            (s.authorities, policy.authorities),
            (s.instruments, policy.instruments),
            (s.lexicons, policy.lexicons),
            (s.patterns, policy.patterns),
            (s.signals, policy.signals),
            (s.periods, policy.periods),
            (s.clauses, policy.clauses()),
            (s.sections, [sec for sec, _ in policy.numbered_sections()]),
        ):
            for item in items:
                table.setdefault(item.id, item)  # type: ignore[attr-defined]
        for term in policy.terms:
            s.terms.setdefault(term.term.casefold(), term)
        return s


Check = Callable[[m.Policy, Symbols], Iterable[Diagnostic]]


def check_policy(policy: m.Policy) -> list[Diagnostic]:
    """Run every registered check; return all diagnostics found."""
    symbols = Symbols.of(policy)
    out: list[Diagnostic] = []
    for check in CHECKS:
        out.extend(check(policy, symbols))
    return out


# ---------------------------------------------------------------------------
# Duplicates
# ---------------------------------------------------------------------------


def check_duplicates(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    groups: list[tuple[str, Iterable[object]]] = [
        ("topic", policy.topics),
        ("label", policy.labels),
        ("authority", policy.authorities),
        ("instrument", policy.instruments),
        ("lexicon", policy.lexicons),
        ("pattern", policy.patterns),
        ("signal", policy.signals),
        ("period", policy.periods),
        ("clause", policy.clauses()),
        ("section", [s for s, _ in policy.numbered_sections()]),
    ]
    for kind, items in groups:
        first: dict[str, Span] = {}
        for item in items:
            ident = item.id  # type: ignore[attr-defined]
            span = item.span  # type: ignore[attr-defined]
            if ident in first:
                yield Diagnostic("S202", f"{kind} `{ident}` is declared more than once", span,
                                 notes=(f"first declared at {first[ident].location()}",))
            else:
                first[ident] = span
    seen_terms: dict[str, Span] = {}
    for term in policy.terms:
        key = term.term.casefold()
        if key in seen_terms:
            yield Diagnostic("S202", f"term `{term.term}` is defined more than once", term.span,
                             notes=(f"first defined at {seen_terms[key].location()}",))
        else:
            seen_terms[key] = term.span
    for inst in policy.instruments:
        refs: dict[str, Span] = {}
        for prov in inst.provisions:
            if prov.ref in refs:
                yield Diagnostic("S202", f"provision `{prov.ref}` of `{inst.id}` is declared more than once",
                                 prov.span, notes=(f"first declared at {refs[prov.ref].location()}",))
            else:
                refs[prov.ref] = prov.span


# ---------------------------------------------------------------------------
# Clauses: topics, authorities, citations, terms
# ---------------------------------------------------------------------------


def check_clause_references(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    for clause in policy.clauses():
        if clause.topic is not None and clause.topic not in symbols.topics:
            yield Diagnostic("S210", f"unknown topic `{clause.topic}`", clause.topic_span,
                             help=did_you_mean(clause.topic, symbols.topics) or "declare it with `topic NAME \"title\"`")
        if clause.authority is not None and clause.authority not in symbols.authorities:
            yield Diagnostic("S201", f"undefined authority `{clause.authority}`", clause.authority_span,
                             help=did_you_mean(clause.authority, symbols.authorities)
                             or "declare it with `authority NAME \"…\"`")
        for cite in clause.citations:
            inst = symbols.instruments.get(cite.instrument)
            if inst is None:
                yield Diagnostic("S201", f"undefined instrument `{cite.instrument}`", cite.span,
                                 help=did_you_mean(cite.instrument, symbols.instruments)
                                 or "declare it with `instrument NAME \"title\" { provision … }`")
            elif inst.provision(cite.ref) is None:
                refs = [p.ref for p in inst.provisions]
                # `9(1)` of a declared `9`: the provision it is part of, not the nearest spelling (`5(1)`).
                parent = max((r for r in refs if cite.ref.startswith(r + "(")), key=len, default=None)
                hint = (f"did you mean `{parent}`? or declare `provision {cite.ref} \"…\"` in `{inst.id}`"
                        if parent else did_you_mean(cite.ref, refs))
                yield Diagnostic("S203", f"`{inst.id}` has no provision `{cite.ref}`", cite.span,
                                 help=hint or f"declared provisions: {', '.join(refs) or 'none'}")


_TERM_REF = re.compile(r"\{([^{}|]*)(?:\|([^{}]*))?\}")


def term_references(text: str) -> list[tuple[str, str, int, int]]:
    """``{term}`` / ``{shown|term}`` references in a text: (term, shown, start, end)."""
    out = []
    for mt in _TERM_REF.finditer(text):
        shown, term = mt.group(1), mt.group(2)
        out.append(((term if term is not None else shown).strip(), shown, mt.start(), mt.end()))
    return out


def check_channels(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    """The header's `channels` name declared topics."""
    for channel in policy.meta.channels:
        if channel.topic not in symbols.topics:
            hint = did_you_mean(channel.topic, symbols.topics) or 'declare it with `topic NAME "title"`'
            yield Diagnostic("S210", f"unknown topic `{channel.topic}` in `channels`", channel.span, help=hint)


def _header_texts(meta: m.Metadata) -> Iterator[m.Text]:
    """The texts of a policy's header, in the order of :class:`toolkit.model.Metadata`."""
    for value in (getattr(meta, f.name) for f in dataclasses.fields(meta)):
        if isinstance(value, m.Signatory):
            value = (value.name, value.designation, value.contact)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, m.Text):
                yield item


def check_terms(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    def texts() -> Iterator[m.Text]:
        for section, _ in policy.numbered_sections():
            if section.intro is not None:
                yield section.intro
        for clause in policy.clauses():
            for t in (clause.text, clause.rationale, clause.note, clause.new_guidance):
                if t is not None:
                    yield t
        for term in policy.terms:
            yield term.definition
        # Every text of the header: the circular prints each with its `{term}` references
        # linked, so an undefined one must be an error here, not dropped there.
        yield from _header_texts(policy.meta)
        for section, _ in policy.numbered_sections():
            if section.title is not None:
                yield section.title
        for clause in policy.clauses():
            yield clause.title

    for text in texts():
        written = _written_terms(text)
        for value in (text.value, *(v for _lang, v in text.translations)):
            for term, _shown, _s, _e in term_references(value):
                if term.casefold() not in symbols.terms:
                    yield Diagnostic("S218", f"`{{{term}}}` refers to a term that is not defined",
                                     _take_written(written, term) or text.span,
                                     help=did_you_mean(term, [t.term for t in policy.terms])
                                     or f'define it with `define "{term}" means "…"`')


# A `{term}` or `{shown|term}` as written in the source (inside a quoted text, possibly over lines).
_WRITTEN_REF = re.compile(r"\{([^{}|\"]*)(?:\|([^{}\"]*))?\}")


def _written_terms(text: m.Text) -> list[tuple[str, Span]]:
    """Each term reference of a text where it is written: (the term, folded, and the span of its name).

    The span covers the term's name inside the braces (``personal account`` in
    ``{personal account}``, ``post`` in ``{पोस्ट|post}``), so that an editor underlines
    the reference, not the whole text, and a correction can replace just the name.
    """
    span = text.span
    if span is None or not span.source.text:
        return []
    out = []
    for mt in _WRITTEN_REF.finditer(span.source.text, span.start, span.end):
        group = 2 if mt.group(2) is not None else 1
        start, end = mt.start(group), mt.end(group)
        name = mt.group(group)
        start += len(name) - len(name.lstrip())
        end -= len(name) - len(name.rstrip())
        out.append((" ".join(name.split()).casefold(), Span(span.source, start, end)))
    return out


def _take_written(written: list[tuple[str, Span]], term: str) -> Span | None:
    """The first written reference to ``term`` not yet reported (references are met in source order)."""
    key = " ".join(term.split()).casefold()
    for i, (name, where) in enumerate(written):
        if name == key:
            del written[i]
            return where
    return None


# ---------------------------------------------------------------------------
# Conditions: names and types
# ---------------------------------------------------------------------------


def check_conditions(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    for signal in policy.signals:
        yield from _check_condition(signal.condition, symbols)
    for clause in policy.clauses():
        if clause.when is not None:
            yield from _check_condition(clause.when, symbols)
        for exc in clause.unless:
            yield from _check_condition(exc.condition, symbols)


def _check_condition(cond: m.Condition, symbols: Symbols) -> Iterator[Diagnostic]:
    for node in walk(cond):
        yield from for_node(node).check(node, symbols)


def check_signal_cycles(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    deps: dict[str, set[str]] = {}
    for signal in policy.signals:
        deps[signal.id] = {
            n.path.dotted for n in walk(signal.condition)
            if isinstance(n, m.Ref) and len(n.path.parts) == 1 and n.path.dotted in symbols.signals
        }
    reported: set[frozenset[str]] = set()
    for start in deps:
        stack = [(start, [start])]
        while stack:
            node, route = stack.pop()
            for nxt in sorted(deps.get(node, ())):
                if nxt == start:
                    cycle = frozenset(route)
                    if cycle not in reported:
                        reported.add(cycle)
                        chain = " → ".join([*route, start])
                        yield Diagnostic("S219", f"signal `{start}` is defined in terms of itself: {chain}",
                                         symbols.signals[start].span)
                elif nxt not in route:
                    stack.append((nxt, [*route, nxt]))


# ---------------------------------------------------------------------------
# Lexicons, patterns, periods, translations
# ---------------------------------------------------------------------------


def check_lexicons(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    from .matcher import Choice, EntryError, Slot, Words, expand

    slots: dict[str, set[str]] = {}
    for lex in policy.lexicons:
        if not lex.entries and lex.source is None:
            yield Diagnostic("S222", f"lexicon `{lex.id}` has no entries", lex.span)
        for entry in lex.entries:
            try:
                alternatives = expand(entry.text)
            except EntryError as exc:
                yield Diagnostic("S231", f"cannot read the phrase `{entry.text}`: {exc}", entry.span,
                                 help="an entry is words, `*` or `*N` for one to N words, `{lexicon}` for a slot, "
                                      "`(a|b)` for alternatives and `( … )?` for an optional part")
                continue
            if not alternatives or not any(isinstance(p, (Words, Slot, Choice)) for alt in alternatives for p in alt):
                yield Diagnostic("S222", f"lexicon entry `{entry.text}` has no letters or digits to match",
                                 entry.span, help="lexicon entries are words and phrases")
                continue
            for alt in alternatives:
                for part in alt:
                    if isinstance(part, Slot):
                        slots.setdefault(lex.id, set()).add(part.lexicon)
                        if part.lexicon not in symbols.lexicons:
                            yield Diagnostic("S201", f"undefined lexicon `{part.lexicon}` in the slot of "
                                             f"`{entry.text}`", entry.span,
                                             help=did_you_mean(part.lexicon, symbols.lexicons)
                                             or "a slot `{NAME}` names a declared lexicon")
            if lex.role == "negation" and any(not isinstance(p, Words) for alt in alternatives for p in alt):
                yield Diagnostic("S231", f"negator `{entry.text}` has slots or gaps; negators are plain words",
                                 entry.span)
    reported: set[frozenset[str]] = set()
    for start in sorted(slots):
        # The shortest way back to `start`, breadth first: each lexicon is visited once, so a policy
        # whose lexicons all fill each other cannot make this take exponential time.
        came_from: dict[str, str] = {}
        queue = [start]
        found = None
        while queue and found is None:
            node = queue.pop(0)
            for nxt in sorted(slots.get(node, ())):
                if nxt == start:
                    found = node
                    break
                if nxt not in came_from and nxt in symbols.lexicons:
                    came_from[nxt] = node
                    queue.append(nxt)
        if found is None:
            continue
        route = [found]
        while route[-1] != start:
            route.append(came_from[route[-1]])
        route.reverse()
        cycle = frozenset(route)
        if cycle not in reported:
            reported.add(cycle)
            chain = " → ".join([*route, start])
            yield Diagnostic("S232", f"lexicon `{start}` is filled by its own entries: {chain}",
                             symbols.lexicons[start].span,
                             help="a slot `{NAME}` must not lead back to the lexicon it is in")


PATTERN_FLAGS = {"i": "(?i)", "s": "(?s)", "m": "(?m)"}


def compile_pattern(regex: str, flags: str) -> tuple[object | None, str | None]:
    """Compile a pattern with RE2: (compiled, None) or (None, error message)."""
    import re2

    prefix = "".join(PATTERN_FLAGS[f] for f in flags if f in PATTERN_FLAGS)
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(prefix + regex, options), None
    except re2.error as exc:
        return None, _re2_message(exc)


# RE2's own words for the commonest mistakes → the words and help of a diagnostic.
_RE2_ERRORS = (
    ("missing )", "a `(` has no matching `)`", "close the group with `)`, or write `\\(` to match a parenthesis"),
    ("unexpected )", "a `)` has no matching `(`", "write `\\)` to match a parenthesis"),
    ("missing ]", "a `[` has no matching `]`", "close the set with `]`, or write `\\[` to match a bracket"),
)


def _re2_message(exc: Exception) -> str:
    """RE2's error as text: it comes as the bytes ``b'missing ): (abc'``."""
    arg = exc.args[0] if exc.args else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    what, _, where = text.partition(": ")
    for prefix, words, _help in _RE2_ERRORS:
        if what == prefix:
            return f"{words} in `{where}`" if where else words
    return f"{what} in `{where}`" if where else what


def _re2_help(message: str) -> str | None:
    return next((help_ for _p, words, help_ in _RE2_ERRORS if message.startswith(words)), None)


def check_patterns(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    for pat in policy.patterns:
        bad = sorted(set(pat.flags) - set(PATTERN_FLAGS))
        if bad:
            yield Diagnostic("S207", f"unknown flag `{bad[0]}` on pattern `{pat.id}`", pat.regex_span,
                             help="the flags are i (ignore case), s (dot matches newline), m (multi-line)")
            continue
        compiled, error = compile_pattern(pat.regex, pat.flags)
        if compiled is None:
            hint = _re2_help(error or "") or "patterns use RE2 syntax, which runs in linear time"
            if re.search(r"\\[1-9]|\(\?[=!<]", pat.regex):
                hint = "RE2 has no backreferences or look-around; they can make matching slow"
            yield Diagnostic("S207", f"invalid regular expression in `{pat.id}`: {error}", pat.regex_span, help=hint)
        elif compiled.search("") is not None:  # type: ignore[attr-defined]
            yield Diagnostic("S207", f"pattern `{pat.id}` matches empty text, so it would match every post",
                             pat.regex_span, help="require at least one character, e.g. `+` instead of `*`")


def check_periods(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    for period in policy.periods:
        if period.start and period.end and period.end < period.start:
            yield Diagnostic("S209", f"period `{period.id}` ends ({period.end}) before it starts ({period.start})",
                             period.span, help="swap the dates")


def check_translations(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    languages = policy.meta.languages
    extra = languages[1:]
    if not extra:
        return

    def texts() -> Iterator[tuple[str, m.Text]]:
        meta = policy.meta
        for name in ("title", "subject", "government", "ministry", "department", "opening"):
            value = getattr(meta, name)
            if value is not None:
                yield f"header `{name}`", value
        for section, number in policy.numbered_sections():
            yield f"section {number} `{section.id}` title", section.title
            if section.intro is not None:
                yield f"section {number} `{section.id}` text", section.intro
        for channel in meta.channels:
            yield f"header `channels` for `{channel.topic}`", channel.text
        for clause, number in policy.numbered_clauses():
            yield f"clause {number} `{clause.id}` title", clause.title
            if clause.text is not None:
                yield f"clause {number} `{clause.id}` text", clause.text
        for term in policy.terms:
            yield f"definition of `{term.term}`", term.definition

    for where, text in texts():
        for lang in text.languages:
            if lang not in languages:
                yield Diagnostic("S221", f"{where} has a translation `@{lang}`, but `{lang}` is not in `languages`",
                                 text.span, severity=Severity.WARNING,
                                 help=f"add `{lang}` to `languages` in the header, or remove the translation")
        missing = [lang for lang in extra if text.get(lang) is None]
        if missing and policy.meta.translations != "partial":  # `translations partial`: the drafter knows
            yield Diagnostic("S221", f"{where} has no `@{missing[0]}` translation", text.span,
                             severity=Severity.WARNING,
                             help=f"the header declares languages {', '.join(languages)}")


# ---------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------


def check_examples(policy: m.Policy, symbols: Symbols) -> Iterator[Diagnostic]:
    for clause in policy.clauses():
        for ex in clause.examples:
            yield from _check_example_post(ex, symbols)
            if ex.clause is None:
                continue
            target = symbols.clauses.get(ex.clause)
            if target is None:
                yield Diagnostic("S201", f"undefined clause `{ex.clause}`", ex.clause_span,
                                 help=did_you_mean(ex.clause, symbols.clauses))
            elif target.outcome is not None and target.outcome != ex.outcome:
                yield Diagnostic(
                    "S223",
                    f"clause `{ex.clause}` is {m.OUTCOME_WORDS[target.outcome]}, so it cannot decide "
                    f"`{m.OUTCOME_WORDS[ex.outcome]}`",
                    ex.clause_span,
                    help=f"expect {m.OUTCOME_WORDS[target.outcome]} by {ex.clause}, or name another clause",
                )


def _literal_spans(fields: Iterable[tuple[str, object]], prefix: str = "") -> dict[str, Span]:
    out: dict[str, Span] = {}
    for path, value in fields:
        full = f"{prefix}{path}"
        if isinstance(value, m.Lit):
            out[full] = value.span
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, m.PostLiteral):
                    out.update(_literal_spans(item.fields, f"{full}[{i}]."))
                    out.setdefault(f"{full}[{i}]", item.span)
                elif isinstance(item, m.Lit):
                    out.setdefault(full, item.span)
        elif isinstance(value, m.PostLiteral):
            out[full] = value.span
    return out


def example_post(ex: m.Example) -> dict[str, object]:
    """The JSON post an example stands for."""
    from .lower import literal_value

    return posts.from_literal((path, literal_value(v)) for path, v in ex.post.fields)


def _check_example_post(ex: m.Example, symbols: Symbols) -> Iterator[Diagnostic]:
    spans = _literal_spans(ex.post.fields)
    keys = [path for path, _ in ex.post.fields]
    for path in {k for k in keys if keys.count(k) > 1}:
        yield Diagnostic("S213", f"field `{path}` is given twice in example `{ex.title}`", spans.get(path, ex.post.span))
    for path, value in ex.post.fields:
        if "." in path and path.split(".", 1)[0] in keys:
            yield Diagnostic("S213", f"`{path}` and `{path.split('.', 1)[0]}` are both given in example `{ex.title}`",
                             spans.get(path, ex.post.span))
        if path not in FIELDS and path not in GROUPS and path not in ("media",):
            continue
        if isinstance(value, m.Lit) and value.kind == "name":
            ft = FIELDS.get(path)
            if ft is not None and ft.kind not in ("enum",) and ft.kind != "bool":
                # Bare names are fine for strings (`author.service: IAS`).
                pass
    _post, problems = posts.validate(example_post(ex))
    for problem in problems:
        span = spans.get(problem.path) or spans.get(problem.path.split(".", 1)[0]) or ex.post.span
        yield Diagnostic("S213", f"example `{ex.title}`: {problem.message}", span, help=problem.help)
    if not problems:
        for path, value in ex.post.fields:
            if path == "labels" and isinstance(value, tuple):
                for item in value:
                    if isinstance(item, m.Lit) and item.value not in symbols.labels:
                        yield Diagnostic("S201", f"undefined label `{item.value}` in example `{ex.title}`", item.span,
                                         help=did_you_mean(str(item.value), symbols.labels))


#: The checks, in the order they run. Order matters only for reading the
#: output (diagnostics are sorted by position afterwards): duplicates first,
#: then references, then types, then the examples that rely on all of them.
CHECKS: tuple[Check, ...] = (
    check_duplicates,
    check_clause_references,
    check_channels,
    check_terms,
    check_conditions,
    check_signal_cycles,
    check_lexicons,
    check_patterns,
    check_periods,
    check_translations,
    check_examples,
)
