"""Properties of the semantic diff, over generated edits of a fixture policy.

- diff(a, a) is empty and equivalent;
- renumbering (reordering clauses and sections), reformatting (comments,
  blank lines, indentation) and rewording (titles and texts) alone are
  equivalent, and every clause keeps its id;
- swapping old and new swaps stricter and looser, for the whole change and
  for every clause;
- every witness really disagrees: the checker of each side, run on the
  witness post, gives the outcomes and deciding clauses the report shows, in
  the direction it claims; a clause's witness shows that clause's effect.

The edits are made on the model and printed with the canonical printer, so
each generated policy is also a real round trip through the parser.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import FIXTURES, ROOT

from toolkit import api
from toolkit import model as m
from toolkit.analysis import LEVEL, Analyzer, Relation
from toolkit.diff import diff_policies
from toolkit.evaluate import Checker
from toolkit.printer import print_policy

SWAP = {"stricter": "looser", "looser": "stricter", "mixed": "mixed", "equivalent": "equivalent"}
# A third of the profile's examples: each one parses, checks, compiles and analyses two policies.
FAST = settings(max_examples=max(10, settings().max_examples // 3), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _strip_examples(policy: m.Policy) -> m.Policy:
    """Examples pin outcomes; semantic edits would make them fail the checks, so the base has none."""
    return map_clauses(policy, lambda c: dataclasses.replace(c, examples=()))


def map_clauses(policy: m.Policy, fn: Any) -> m.Policy:
    def section(s: m.Section) -> m.Section:
        children = []
        for child in s.children:
            new = section(child) if isinstance(child, m.Section) else fn(child)
            if new is not None:
                children.append(new)
        return dataclasses.replace(s, children=tuple(children))

    return dataclasses.replace(policy, sections=tuple(section(s) for s in policy.sections))


def load(text: str, name: str = "edited.policy") -> api.CheckResult:
    return api.check_text(text, name)


BASE_TEXT = print_policy(_strip_examples(load((FIXTURES / "diff" / "mixed" / "old.policy").read_text("utf-8")).policy))
BASE = load(BASE_TEXT, "base.policy")
assert BASE.ok, BASE.diagnostics
BASE_RULES = api.compile_result(BASE)
CLAUSE_IDS = [c.id for c in BASE.policy.clauses()]


def compiled(text: str) -> tuple[m.Policy, dict[str, Any]]:
    result = load(text)
    assume(result.ok)
    return result.policy, api.compile_result(result)


# ---------------------------------------------------------------------------
# Edits that keep the meaning
# ---------------------------------------------------------------------------

VOCABULARY = "a member shall not post praise any party policy citizens on the account".split()  # noqa: SIM905
WORDS = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8).map(" ".join)


@st.composite
def renumbered(draw: st.DrawFn, policy: m.Policy) -> m.Policy:
    """Sections and the clauses within each section in another order."""
    def shuffle(s: m.Section) -> m.Section:
        children = tuple(shuffle(c) if isinstance(c, m.Section) else c for c in s.children)
        return dataclasses.replace(s, children=tuple(draw(st.permutations(children))))

    sections = tuple(shuffle(s) for s in policy.sections)
    return dataclasses.replace(policy, sections=tuple(draw(st.permutations(sections))))


@st.composite
def reworded(draw: st.DrawFn, policy: m.Policy) -> m.Policy:
    def reword(c: m.Clause) -> m.Clause:
        if draw(st.booleans()):
            c = dataclasses.replace(c, text=m.Text(draw(WORDS)))
        if draw(st.booleans()):
            c = dataclasses.replace(c, title=m.Text(draw(WORDS)))
        return c

    return map_clauses(policy, reword)


@st.composite
def reformatted(draw: st.DrawFn, text: str) -> str:
    """Comments, blank lines and indentation added between and after lines (never inside a text)."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["# a drafter's comment", "", "   ", "#"])))
    for i in draw(st.lists(st.integers(0, len(lines) - 1), max_size=6)):
        lines[i] = "  " + lines[i] + "   # trailing comment"
    return "\n".join(lines) + "\n"


@st.composite
def neutral_edit(draw: st.DrawFn) -> str:
    policy = BASE.policy
    if draw(st.booleans()):
        policy = draw(renumbered(policy))
    if draw(st.booleans()):
        policy = draw(reworded(policy))
    return draw(reformatted(print_policy(policy)))


@FAST
@given(neutral_edit())
def test_renumbering_reformatting_and_rewording_are_equivalent(text: str) -> None:
    policy, rules = compiled(text)
    d = diff_policies(BASE.policy, policy, BASE_RULES, rules)
    assert d.verdict.verdict == "equivalent"
    assert not d.declarations and not d.metadata
    assert {c.id for c in d.clauses} == set(CLAUSE_IDS)
    for c in d.clauses:
        assert c.status in ("unchanged", "renumbered", "moved", "changed")
        assert c.effect.verdict == "equivalent"
        assert set(c.kinds) <= {"renumbered", "moved", "text", "title"}


def test_a_policy_diffed_with_itself_is_empty_and_equivalent() -> None:
    for result in (BASE, api.check_file(ROOT / "policies" / "in" / "ais-social-media.policy")):
        rules = api.compile_result(result)
        d = diff_policies(result.policy, result.policy, rules, rules)
        assert d.verdict == Relation("equivalent")
        assert not d.changed and not d.semantic
        assert d.to_json()["clauses"] == [] and not d.declarations and not d.metadata and not d.sections


# ---------------------------------------------------------------------------
# Edits that change the meaning
# ---------------------------------------------------------------------------

OUTCOMES = [m.Outcome.PERMITTED, m.Outcome.ADVISORY, m.Outcome.PROHIBITED]


@st.composite
def semantic_edit(draw: st.DrawFn) -> str:
    policy = BASE.policy
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["outcome", "drop-exception", "condition", "lexicon", "remove", "period"]))
        target = draw(st.sampled_from(CLAUSE_IDS))
        if kind == "outcome":
            new = draw(st.sampled_from(OUTCOMES))
            policy = map_clauses(policy, lambda c, t=target, o=new: dataclasses.replace(c, outcome=o, authority=None)
                                 if c.id == t else c)
        elif kind == "drop-exception":
            policy = map_clauses(policy, lambda c, t=target: dataclasses.replace(c, unless=()) if c.id == t else c)
        elif kind == "condition":
            extra = draw(st.sampled_from([
                m.Compare(m.FieldPath(("platform",)), (m.Value("x", "name"),), False, False),
                m.Labelled("official_capacity"),
                m.Compare(m.FieldPath(("account", "kind")), (m.Value("anonymous", "name"),), True, False),
            ]))
            combine = draw(st.sampled_from([m.And, m.Or]))
            policy = map_clauses(policy, lambda c, t=target, e=extra, f=combine:
                                 dataclasses.replace(c, when=f((c.when, e))) if c.id == t else c)
        elif kind == "lexicon":
            lex = draw(st.sampled_from([lx.id for lx in policy.lexicons]))
            word = draw(st.sampled_from(["vote for", "Gamma Party", "disgraceful", "has failed us"]))
            policy = dataclasses.replace(policy, lexicons=tuple(
                dataclasses.replace(lx, entries=(*lx.entries, m.LexiconEntry(word))) if lx.id == lex else lx
                for lx in policy.lexicons))
        elif kind == "remove":
            policy = map_clauses(policy, lambda c, t=target: None if c.id == t else c)
        else:
            days = draw(st.integers(-20, 20))
            policy = dataclasses.replace(policy, periods=tuple(
                dataclasses.replace(p, start=p.start + dt.timedelta(days=days)) for p in policy.periods))
    return print_policy(policy)


def confirm(relation: Relation, old: dict[str, Any], new: dict[str, Any], clause: str | None = None) -> None:
    """Each witness of a relation (old → new) really disagrees, as the report says."""
    for direction, w in ((+1, relation.stricter), (-1, relation.looser)):
        if w is None:
            continue
        got_old, _ = Checker(old).check(w.post)
        got_new, _ = Checker(new).check(w.post)
        assert (got_old.outcome, tuple(got_old.deciding)) == (w.left.outcome, w.left.deciding)
        assert (got_new.outcome, tuple(got_new.deciding)) == (w.right.outcome, w.right.deciding)
        assert (LEVEL[got_new.outcome] - LEVEL[got_old.outcome]) * direction > 0
        if clause is not None:
            # The clause's own effect: it applies on the stronger side above the weaker side's outcome.
            stronger, weaker = (got_new, got_old) if direction > 0 else (got_old, got_new)
            assert any(f["clause"] == clause and LEVEL[f["outcome"]] > LEVEL[weaker.outcome]
                       for f in stronger.findings), (clause, w.post)
    assert relation.verdict == {(True, True): "mixed", (True, False): "stricter", (False, True): "looser",
                                (False, False): "equivalent"}[(relation.stricter is not None,
                                                               relation.looser is not None)]


@FAST
@given(semantic_edit())
def test_swapping_old_and_new_swaps_stricter_and_looser(text: str) -> None:
    policy, rules = compiled(text)
    forward = diff_policies(BASE.policy, policy, BASE_RULES, rules)
    backward = diff_policies(policy, BASE.policy, rules, BASE_RULES)
    assert SWAP[forward.verdict.verdict] == backward.verdict.verdict
    effects = {c.id: c.effect.verdict for c in backward.clauses}
    for c in forward.clauses:
        assert SWAP[c.effect.verdict] == effects[c.id], c.id
    # The witnesses swap sides too: a stricter witness one way is a looser one the other way.
    if forward.verdict.stricter is not None:
        w = backward.verdict.looser
        assert w is not None


@FAST
@given(semantic_edit())
def test_every_witness_really_disagrees(text: str) -> None:
    policy, rules = compiled(text)
    d = diff_policies(BASE.policy, policy, BASE_RULES, rules)
    confirm(d.verdict, BASE_RULES, rules)
    for c in d.clauses:
        confirm(c.effect, BASE_RULES, rules, c.id)
    # A change no post notices has no witness; one that some post notices has one.
    assert d.semantic == (Analyzer(BASE_RULES, rules).relation().verdict != "equivalent")


def test_the_generated_policies_are_real_policies() -> None:
    assert re.search(r"^policy sample \{", BASE_TEXT, re.MULTILINE)
    assert len(CLAUSE_IDS) == 4
