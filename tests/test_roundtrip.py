"""Property: printing any policy model and parsing the text gives the same model.

Hypothesis builds random models (names, texts with translations, nested
conditions, sections, examples, lexicons, patterns, periods); the canonical
printer writes them out; the parser and lowering must read back an equal
model. This covers the grammar, string escaping, condition precedence and
the lowering of every construct.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import model as m
from toolkit.load import CallableReader, load_text
from toolkit.printer import print_policy
from toolkit.syntax import keywords

KEYWORDS = set(keywords().values())
IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}(-[A-Za-z0-9_]{1,5})?", fullmatch=True).filter(
    lambda s: s not in KEYWORDS and not keyword.iskeyword(s)
)
PROVREF = st.from_regex(r"[0-9A-Za-z]{1,3}([.\-][0-9A-Za-z]{1,3})?(\([0-9A-Za-z]{1,3}\)){0,2}", fullmatch=True)


def folded(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


# Texts as the model holds them: white space folded, no control characters.
PLAIN = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).map(folded).filter(bool)
LANG = st.sampled_from(["hi", "ta", "cy"])
TEXT = st.builds(
    m.Text,
    PLAIN,
    st.lists(st.tuples(LANG, PLAIN), max_size=2, unique_by=lambda t: t[0]).map(tuple),
)
DATE = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
PATH = st.lists(IDENT, min_size=1, max_size=3).map(lambda parts: m.FieldPath(tuple(parts)))
VALUE = st.one_of(
    st.builds(m.Value, IDENT, st.just("name")),
    st.builds(m.Value, PLAIN, st.just("string")),
    st.builds(m.Value, st.booleans(), st.just("bool")),
)

ATOM = st.one_of(
    st.builds(m.Ref, PATH),
    st.builds(lambda p, v, n: m.Compare(p, (v,), n, False), PATH, VALUE, st.booleans()),
    st.builds(lambda p, vs, n: m.Compare(p, tuple(vs), n, True), PATH, st.lists(VALUE, min_size=1, max_size=3),
              st.booleans()),
    st.builds(m.Mentions, PATH, IDENT),
    st.builds(m.Matches, PATH, IDENT),
    st.builds(m.Labelled, IDENT),
    st.builds(m.During, IDENT),
    st.builds(m.PostedBefore, DATE),
    st.builds(m.PostedAfter, DATE),
)
CONDITION = st.recursive(
    ATOM,
    lambda inner: st.one_of(
        st.builds(lambda xs: m.And(tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: m.Or(tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(m.Not, inner),
    ),
    max_leaves=8,
)

LIT = st.one_of(
    st.builds(m.Lit, PLAIN, st.just("string")),
    st.builds(m.Lit, IDENT, st.just("name")),
    st.builds(m.Lit, st.booleans(), st.just("bool")),
    st.builds(m.Lit, DATE.map(dt.date.isoformat), st.just("date")),
    st.builds(m.Lit, st.just("2026-04-01T10:30+05:30"), st.just("datetime")),
)
FIELD_NAME = st.lists(IDENT, min_size=1, max_size=2).map(".".join)
POST = st.builds(
    lambda fields: m.PostLiteral(tuple(fields)),
    st.lists(
        st.tuples(
            FIELD_NAME,
            st.one_of(
                LIT,
                st.lists(LIT, max_size=3).map(tuple),
                st.lists(st.builds(lambda fs: m.PostLiteral(tuple(fs)), st.lists(st.tuples(FIELD_NAME, LIT), max_size=2)),
                         min_size=1, max_size=2).map(tuple),
            ),
        ),
        max_size=4,
    ),
)
OUTCOME = st.sampled_from(list(m.Outcome))
EXAMPLE = st.builds(
    m.Example, PLAIN, POST, OUTCOME, st.one_of(st.none(), IDENT)
)


@st.composite
def clauses(draw: st.DrawFn) -> m.Clause:
    outcome = draw(OUTCOME)
    authority = draw(IDENT) if outcome is m.Outcome.REQUIRES_SANCTION else None
    new_guidance = draw(st.booleans())
    return m.Clause(
        id=draw(IDENT),
        title=draw(TEXT),
        topic=draw(IDENT),
        text=draw(TEXT),
        outcome=outcome,
        authority=authority,
        when=draw(CONDITION),
        unless=tuple(draw(st.lists(st.builds(m.Exception_, CONDITION, st.one_of(st.none(), PLAIN)), max_size=2))),
        citations=tuple(draw(st.lists(st.builds(m.Citation, IDENT, PROVREF), max_size=3))),
        new_guidance=draw(st.one_of(st.none(), TEXT)) if new_guidance else None,
        is_new_guidance=new_guidance,
        rationale=draw(st.one_of(st.none(), TEXT)),
        note=draw(st.one_of(st.none(), TEXT)),
        examples=tuple(draw(st.lists(EXAMPLE, max_size=2))),
    )


SECTION = st.recursive(
    st.builds(lambda i, t, intro, cs: m.Section(i, t, intro, tuple(cs)), IDENT, TEXT, st.one_of(st.none(), TEXT),
              st.lists(clauses(), max_size=2)),
    lambda inner: st.builds(
        lambda i, t, intro, kids: m.Section(i, t, intro, tuple(kids)),
        IDENT, TEXT, st.one_of(st.none(), TEXT), st.lists(st.one_of(inner, clauses()), max_size=3),
    ),
    max_leaves=4,
)


@st.composite
def policies(draw: st.DrawFn) -> m.Policy:
    issued = draw(st.one_of(st.none(), DATE))
    meta = m.Metadata(
        kind=draw(st.sampled_from(["circular", "office_memorandum", "guidance"])),
        title=draw(TEXT),
        subject=draw(st.one_of(st.none(), TEXT)),
        number=draw(st.one_of(st.none(), PLAIN)),
        issued=issued,
        services=tuple(draw(st.lists(PLAIN, max_size=3))),
        signatory=m.Signatory(name=draw(st.one_of(st.none(), TEXT)), designation=draw(st.one_of(st.none(), TEXT))),
        to=tuple(draw(st.lists(TEXT, max_size=2))),
        languages=tuple(draw(st.lists(LANG, min_size=1, max_size=2, unique=True))),
        default_outcome=draw(st.sampled_from([m.Outcome.PERMITTED, m.Outcome.ADVISORY])),
    )
    return m.Policy(
        id=draw(IDENT),
        meta=meta,
        topics=tuple(draw(st.lists(st.builds(m.Topic, IDENT, TEXT), max_size=3))),
        labels=tuple(draw(st.lists(st.builds(m.Label, IDENT, TEXT), max_size=2))),
        authorities=tuple(draw(st.lists(st.builds(m.Authority, IDENT, TEXT), max_size=2))),
        instruments=tuple(draw(st.lists(
            st.builds(m.Instrument, IDENT, TEXT, st.one_of(st.none(), TEXT), st.one_of(st.none(), PLAIN),
                      st.lists(st.builds(m.Provision, PROVREF, TEXT), max_size=3).map(tuple)),
            max_size=2))),
        terms=tuple(draw(st.lists(st.builds(m.Term, PLAIN, TEXT), max_size=2))),
        lexicons=tuple(draw(st.lists(
            st.builds(m.Lexicon, IDENT, st.one_of(st.none(), PLAIN),
                      st.lists(st.builds(m.LexiconEntry, PLAIN), max_size=4).map(tuple)),
            max_size=2))),
        patterns=tuple(draw(st.lists(
            st.builds(m.Pattern, IDENT, st.one_of(st.none(), PLAIN),
                      st.from_regex(r"[a-z/\\.()\[\]+*?|^$ ]{1,12}", fullmatch=True).filter(
                          # Canonical regexes only: `\/` is the same RE2 regex as `/`.
                          lambda r: not r.endswith("\\") and "\n" not in r and "\\/" not in r.replace("\\\\", "")),
                      st.sampled_from(["", "i", "is", "m"])),
            max_size=2))),
        signals=tuple(draw(st.lists(st.builds(m.Signal, IDENT, st.one_of(st.none(), PLAIN), CONDITION), max_size=2))),
        periods=tuple(draw(st.lists(st.builds(m.Period, IDENT, st.one_of(st.none(), PLAIN), DATE, DATE), max_size=2))),
        sections=tuple(draw(st.lists(SECTION, max_size=2))),
    )


def _no_files(path: str) -> str:
    raise OSError("no includes in generated policies")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policies())
def test_print_then_parse_gives_the_same_model(policy: m.Policy) -> None:
    text = print_policy(policy)
    loaded = load_text(text, "generated.policy", CallableReader(_no_files))
    syntax = [d for d in loaded.diagnostics if d.code.startswith("P")]
    assert not syntax, (text, [d.message for d in syntax])
    lowered_diags = [d for d in loaded.diagnostics if d.code not in ("S209",)]
    assert not lowered_diags, [d.message for d in lowered_diags]
    assert loaded.policy == policy, text


@settings(max_examples=100, deadline=None)
@given(policies())
def test_printing_is_a_fixed_point(policy: m.Policy) -> None:
    text = print_policy(policy)
    loaded = load_text(text, "generated.policy", CallableReader(_no_files))
    if loaded.policy is not None:
        assert print_policy(loaded.policy) == text
