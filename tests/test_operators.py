"""The matching operators of issue 10, one behaviour per test: modes, phrases, negation, near, stances,
data-file lexicons, and that every operator is defined once for every stage.

Each test writes a small policy inline and checks posts against its compiled rule set, as
`govpost check` does; evidence spans are checked exact (tests/support.py `assert_exact`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import assert_exact, checker_from_text, clause, policy_text, ruleset_from_text

from toolkit import api
from toolkit.analysis import Analyzer
from toolkit.evaluate import Checker
from toolkit.operators import OPERATORS, walk_compiled
from toolkit.rules import dumps, loads, migrate

DECLS = """
lexicon parties "Parties" { "BJP", "Labour Party", "Conservative" }
lexicon short_names "Short names" { exact "Liberal", exact "Labour" }
lexicon campaign "Campaign" {
    "vote (for|to)? (the)? {parties}", "vote {short_names}", "don't let (the)? {parties} back",
    "shame on * government", "{communities}-free", "ban *2 rally", "CPI(M)", "(please)? vote wisely",
}
lexicon communities "Communities" { "Muslim", "Hindu" }
lexicon criticise "Criticism" { "criticise" }
lexicon exact_words exact { "voted for" }
lexicon hinglish spelling { "sarkar", "neta", "nikamma" }
lexicon hindi { "सरकार" }
lexicon joining negatable { "join the bandh", "support the strike" }
lexicon targets "Targets" { "government", "Chief Minister", "Congress party" }
lexicon insults valence -3 { "clueless", "no shame" }
lexicon mild valence 0 { "flood relief" }
lexicon pronouns { exact "you", "he" }
lexicon abuse { "idiot", "moron" }
"""


def make(*clauses: str, header: str = "", declarations: str = DECLS) -> Checker:
    return checker_from_text(policy_text(*clauses, header=header, declarations=declarations))


def run(checker: Checker, text: str, **fields: Any) -> dict[str, Any]:
    post = {"text": text, **fields}
    verdict, problems = checker.check(post)
    assert verdict is not None, problems
    out = verdict.to_json()
    assert_exact(post, out, checker.ruleset)
    return out


def hits(checker: Checker, text: str) -> list[str]:
    """The words of every evidence span, in order."""
    out = run(checker, text)
    return [e["text"] for f in out["findings"] for e in f["evidence"] if "text" in e]


MENTIONS = make(*(clause(name, "advisory", f"text mentions {name}") for name in
                  ("campaign", "criticise", "exact_words", "hinglish", "hindi", "joining", "parties")))


def fired(text: str) -> list[str]:
    return run(MENTIONS, text)["deciding"]


# ---------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lexicon", "matches"), [
    ("She criticised the order", "criticise", True),  # inflected by default
    ("criticising again", "criticise", True),
    ("a fair criticism", "criticise", False),  # derived words are other words
    ("The Conservatives will lose", "parties", True),  # plural of an inflected entry
    ("I voted for change", "exact_words", True),
    ("Vote for change", "exact_words", False),  # exact: "voted for" is not "vote for"
    ("Sarkaar kuch nahi karti", "hinglish", True),  # spelling: doubled vowels
    ("sarkaron ki baat", "hinglish", True),  # spelling: the oblique plural
    ("netaon ka kya", "hinglish", True),
    ("the sirkar of old", "hinglish", False),  # another word: give it as an entry of its own
    ("sab nikamme hain", "hinglish", True),  # spelling: the masculine plural of an adjective
    ("nikammi sarkar", "hinglish", True),  # (sarkar; the feminine -i is an entry of its own)
    ("the net result", "hinglish", False),  # a short word keeps its vowel: "neta" is not "net"
    ("सरकारों ने कहा", "hindi", True),  # Hindi stems
    ("The IFS officer", "parties", False),
])
def test_modes(text: str, lexicon: str, matches: bool) -> None:
    assert (lexicon in fired(text)) is matches


def test_words_of_three_letters_are_their_own_stem() -> None:
    checker = make(clause("c", "advisory", "text mentions services"),
                   declarations='lexicon services { "IFS", "IAS" }')
    assert run(checker, "if you go")["deciding"] == []
    assert run(checker, "an IFS officer")["deciding"] == ["c"]


# ---------------------------------------------------------------------------
# Phrases: gaps, slots, alternatives, optional parts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "matches", "span"), [
    ("Vote for the BJP!", True, "Vote for the BJP"),
    ("vote BJP now", True, "vote BJP"),  # optional words left out
    ("Vote to the Labour Party", True, "Vote to the Labour Party"),
    ("Vote Liberal on Monday", True, "Vote Liberal"),
    ("a liberal arts college", False, None),  # a short name counts only inside the phrase
    ("Don't let the Conservatives back in", True, "Don't let the Conservatives back"),
    ("Shame on this government", True, "Shame on this government"),
    ("Shame on government", False, None),  # `*` is exactly one word
    ("Shame on this useless government", False, None),
    ("We want a Muslim-free India", True, "Muslim-free"),
    ("ban the big rally", True, "ban the big rally"),  # *2: one or two words
    ("ban rally", False, None),
    ("ban the very big rally", False, None),
    ("CPI(M) cadres", True, "CPI(M)"),  # parentheses without `|` or `?` are punctuation
    ("vote wisely", True, "vote wisely"),
])
def test_phrases(text: str, matches: bool, span: str | None) -> None:
    out = run(MENTIONS, text)
    found = [e["text"] for f in out["findings"] if f["clause"] == "campaign" for e in f["evidence"]]
    assert bool(found) is matches
    if span is not None:
        assert span in found


def test_slots_fill_in_dependency_order_and_phrases_nest() -> None:
    checker = make(clause("c", "advisory", "text mentions outer"), declarations="""
        lexicon inner { "{base} party" }
        lexicon base { "Blue" }
        lexicon outer { "vote (for)? (the)? {inner}" }
    """)
    assert hits(checker, "Vote for the Blue party today") == ["Vote for the Blue party"]
    assert run(checker, "Vote for the Blue team")["deciding"] == []


def test_a_phrase_that_cannot_be_read_is_an_error() -> None:
    result = api.check_text(policy_text(clause("c", "advisory", "text mentions bad"),
                                        declarations='lexicon bad { "(a|", "x *0 y" }'))
    assert {d.code for d in result.diagnostics} >= {"S231"}


# ---------------------------------------------------------------------------
# Negation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "matches"), [
    ("Everyone join the bandh tomorrow!", True),
    ("Please do not join the bandh", False),
    ("Please don't join the bandh", False),
    ("Never join the bandh", False),
    ("Strike ko support nahi karenge", False),  # "support the strike" is not written here
    ("support the strike nahi karenge", False),  # a Hindi negator after the words
    ("I said no. Join the bandh!", True),  # a negator in another sentence does not count
])
def test_negatable_lexicons(text: str, matches: bool) -> None:
    assert ("joining" in fired(text)) is matches


def test_calls_to_vote_are_not_negatable() -> None:
    # "Don't vote for the BJP" campaigns as much as "vote for the BJP" does.
    assert "campaign" in fired("Don't vote for the BJP")


# ---------------------------------------------------------------------------
# near
# ---------------------------------------------------------------------------

NEAR = make(clause("close", "advisory", "text mentions pronouns near abuse within 2 words"),
            clause("sentence", "advisory", "text mentions pronouns near abuse"))


@pytest.mark.parametrize(("text", "deciding"), [
    ("You idiot", ["close", "sentence"]),
    ("you are an idiot", ["close", "sentence"]),  # two words between
    ("you are such a big idiot", ["sentence"]),  # four words between: same sentence only
    ("You did well. What an idiot he was not", ["close", "sentence"]),  # "he" is near "idiot" in sentence 2
    ("You did well. The idiot left.", []),  # different sentences
    ("idiot", []),
])
def test_near(text: str, deciding: list[str]) -> None:
    assert run(NEAR, text)["deciding"] == deciding


def test_near_gives_both_spans_as_evidence() -> None:
    out = run(NEAR, "Honestly, you are an idiot")
    evidence = out["findings"][0]["evidence"]
    assert [(e["text"], e["lexicon"]) for e in evidence] == [("you", "pronouns"), ("idiot", "abuse")]


# ---------------------------------------------------------------------------
# Stances
# ---------------------------------------------------------------------------

STANCE = make(clause("hostile", "prohibited", "text disparages targets"),
              clause("warm", "advisory", "text praises targets"),
              clause("tight", "advisory", "text disparages targets within 1 word"))


@pytest.mark.parametrize(("text", "deciding"), [
    ("The government is useless", ["hostile", "tight"]),  # VADER: useless -1.8, one word away
    ("Our clueless Chief Minister", ["hostile", "tight"]),  # the policy's own valence
    ("The Chief Minister has no shame", ["hostile", "tight"]),  # the longer phrase wins over "no" + "shame"
    ("The government is not useless", []),  # a negated word turns round, weaker: too weak for praise
    ("The government is great", ["warm"]),
    ("The government is very good", ["warm"]),
    ("The government office was flooded", []),
    ("Flood relief by the government", []),  # valence 0: "relief" here names a programme
    ("The government is fine. Useless weather though", []),  # another sentence
    ("Great turnout for the Congress party rally", ["warm"]),
])
def test_stances(text: str, deciding: list[str]) -> None:
    assert [f["clause"] for f in run(STANCE, text)["findings"]] == deciding


def test_a_stance_names_its_target_and_the_words_of_its_feeling() -> None:
    out = run(STANCE, "Our useless Chief Minister has no shame.")
    hostile = next(f for f in out["findings"] if f["clause"] == "hostile")
    roles = [(e["text"], e.get("role"), e.get("source")) for e in hostile["evidence"]]
    assert roles == [("useless", "negative", "VADER"), ("Chief Minister", "target", None),
                     ("no shame", "negative", "insults")]
    assert all(e["valence"] < 0 for e in hostile["evidence"] if e.get("role") == "negative")


def test_a_word_inside_a_target_is_not_a_judgement_of_it() -> None:
    # VADER rates "party" (a celebration) positively; in "Congress party" it only names the party.
    assert run(STANCE, "The Congress party met today")["deciding"] == []


def test_without_the_base_lexicon_only_the_policys_valence_counts() -> None:
    checker = make(clause("hostile", "prohibited", "text disparages targets"), header="valence none")
    assert run(checker, "The government is useless")["deciding"] == []
    assert run(checker, "The clueless government")["deciding"] == ["hostile"]
    assert checker.ruleset["matching"]["valence"] is None


def test_the_valence_base_is_in_the_rule_set_only_when_a_stance_needs_it() -> None:
    plain = ruleset_from_text(policy_text(clause("c", "advisory", "text mentions parties"), declarations=DECLS))
    assert "valence" not in plain["matching"]
    stance = STANCE.ruleset["matching"]
    assert stance["valence"]["name"] == "VADER" and stance["valence"]["licence"] == "MIT"
    assert stance["valence"]["entries"]["useless"] == -1.8


# ---------------------------------------------------------------------------
# Data-file lexicons
# ---------------------------------------------------------------------------


def test_a_lexicon_is_read_from_a_data_file_and_hashed(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "data").mkdir()
    data = tmp_path / "data" / "leaders.tsv"
    data.write_text("# Leaders\nentry\tmode\tsource\nNarendra Modi\t\thttps://example.org\nModi ji\texact\t-\n",
                    encoding="utf-8")
    policy = tmp_path / "p.policy"
    policy.write_text(policy_text(clause("c", "advisory", "text mentions leaders"),
                                  declarations='lexicon leaders "Leaders" from "data/leaders.tsv"'),
                      encoding="utf-8")
    result = api.check_file(policy)
    assert result.ok, result.diagnostics
    rules = api.compile_result(result)
    assert rules["lexicons"]["leaders"]["source"] == "data/leaders.tsv"
    assert rules["lexicons"]["leaders"]["entries"] == [{"text": "Narendra Modi", "mode": "inflected"},
                                                       {"text": "Modi ji", "mode": "exact"}]
    before = result.content_hash
    data.write_text(data.read_text(encoding="utf-8") + "Rahul Gandhi\t\t-\n", encoding="utf-8")
    assert api.check_file(policy).content_hash != before


# ---------------------------------------------------------------------------
# One definition per operator
# ---------------------------------------------------------------------------

ALL_OPERATORS = policy_text(
    clause("every", "prohibited",
           "(text mentions parties near campaign within 3 words or text disparages targets "
           "or shared_from.text praises targets within 2 words or account.bio matches digits)"
           " and not labelled reviewed and (posted during polls or posted before 2026-01-01 "
           "or posted after 2026-12-31) and account.kind in [personal, anonymous] and s"),
    declarations=DECLS + 'label reviewed "Reviewed"\npattern digits /\\d+/\n'
    "period polls from 2026-04-01 to 2026-04-30\nsignal s means text mentions campaign\n",
)


def test_every_operator_is_compiled_printed_checked_and_encoded() -> None:
    from toolkit import load, printer

    ruleset = ruleset_from_text(ALL_OPERATORS)
    ops = {node["op"] for c in ruleset["clauses"] for node in walk_compiled(c["when"], ruleset["signals"])}
    assert ops == {op.op for op in OPERATORS}
    # Printed canonically and read back: the same rule set.
    loaded = load.load_text(ALL_OPERATORS, "<ops>")
    assert loaded.policy is not None
    again = ruleset_from_text(printer.print_policy(loaded.policy))
    def placeless(clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k != "source"} for c in clauses]

    assert placeless(again["clauses"]) == placeless(ruleset["clauses"]) and again["signals"] == ruleset["signals"]
    # Checked, and encoded for the analysis engine, which finds a post for the clause.
    checker = Checker(ruleset)
    post = {"text": "Vote for the BJP. The useless government", "posted_at": "2026-04-02T10:00:00+05:30"}
    assert checker.check(post)[0].deciding == ["every"]
    analyzer = Analyzer(ruleset, ruleset)
    witness = analyzer.satisfiable(0, lambda side: side.applies["every"])
    assert witness is not None and checker.check(witness)[0].deciding == ["every"]


def test_near_and_stance_are_exact_in_the_analysis() -> None:
    old = ruleset_from_text(policy_text(clause("c", "prohibited", "text mentions pronouns near abuse"),
                                        declarations=DECLS))
    new = ruleset_from_text(policy_text(clause("c", "prohibited", "text mentions pronouns near abuse within 1 word"),
                                        declarations=DECLS))
    relation = Analyzer(old, new).relation()
    assert relation.verdict == "looser"
    witness = relation.looser
    assert witness is not None
    assert Checker(old).check(witness.post)[0].outcome == "prohibited"
    assert Checker(new).check(witness.post)[0].outcome == "permitted"
    assert Analyzer(new, new).relation().verdict == "equivalent"


def test_version_1_rule_sets_are_migrated() -> None:
    v1 = {
        "format": "govpost.rules", "version": 1, "generator": "govpost 0.1.0", "policy": {"default_outcome": "permitted"},
        "lexicons": {"p": {"description": None, "entries": ["BJP"]}}, "patterns": {}, "periods": {},
        "signals": {"s": {"description": None, "when": {"field": "text", "mentions": "p"}}},
        "clauses": [{"id": "c", "number": "1(a)", "title": "C", "topic": "t", "outcome": "prohibited",
                     "authority": None, "when": {"all": [{"signal": "s"}, {"not": {"field": "platform", "in": ["x"]}}]},
                     "unless": [], "citations": [], "new_guidance": False,
                     "source": {"file": "p.policy", "line": 1, "column": 1}}],
    }
    migrated = loads(json.dumps(v1))
    assert migrated["version"] == 2
    assert migrated["clauses"][0]["when"] == {"op": "all", "args": [
        {"op": "signal", "signal": "s"}, {"op": "not", "arg": {"op": "in", "field": "platform", "values": ["x"]}}]}
    assert migrated["lexicons"]["p"]["entries"] == [{"text": "BJP", "mode": "exact"}]
    checker = Checker(migrated)
    assert checker.check({"text": "the BJP", "platform": "facebook"})[0].outcome == "prohibited"
    assert checker.check({"text": "the BJPs", "platform": "facebook"})[0].outcome == "permitted"  # exact, as v1
    assert migrate(v1) == migrated
    assert loads(dumps(migrated)) == migrated


# ---------------------------------------------------------------------------
# Operators as soft keywords
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("condition", [
    "campaigning or praises",  # a signal named before `praises` was an operator
    "praises or campaigning",
    "praises and not campaigning",
    "(campaigning or praises)",
    "not praises",
])
def test_an_operator_word_with_no_name_after_it_is_a_name(condition: str) -> None:
    decls = DECLS + 'signal praises "acclaims" means text mentions campaign\n' \
                    'signal campaigning "campaigns" means text mentions parties\n'
    checker = make(clause("c", "advisory", condition), declarations=decls)
    assert run(checker, "vote wisely")["deciding"] == ([] if condition == "not praises" else ["c"])


def test_an_operator_word_before_a_name_is_the_operator() -> None:
    decls = DECLS + 'signal praises "acclaims" means text mentions campaign\n'
    checker = make(clause("c", "advisory", "praises targets"), declarations=decls)
    assert run(checker, "The government is great")["deciding"] == ["c"]
    assert run(checker, "vote wisely")["deciding"] == []


def test_keywords_of_the_word_operators_are_names_where_no_keyword_can_stand() -> None:
    decls = DECLS + 'lexicon words { "idiot" }\nlexicon sentence { "you" }\n'
    checker = make(clause("c", "advisory", "text mentions sentence near words within 1 word"), declarations=decls)
    assert run(checker, "you idiot")["deciding"] == ["c"]


def test_a_stance_over_a_lexicon_of_slots_is_satisfiable_for_the_linter() -> None:
    from toolkit.lint import lint_source

    decls = DECLS + 'lexicon party_targets "Party targets" { "{parties}" }\n'
    text = policy_text(clause("c", "prohibited", "text disparages party_targets or text mentions party_targets "
                                                 "near insults"), declarations=decls)
    codes = {d.code for d in lint_source(text, "<ops>").findings}
    assert not codes & {"L001", "L017"}, codes
