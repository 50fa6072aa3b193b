"""Loading and lowering: the model says what the text says, whatever its layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from support import check_fixture, clause, policy_text

from toolkit import api
from toolkit import model as m
from toolkit.check import term_references
from toolkit.load import CallableReader, load_text
from toolkit.model import clause_letter


def test_layout_does_not_change_the_model() -> None:
    compact = 'policy p { title "T" } topic t "T" section s "S" { clause c "C" { topic t text "A  text" ' \
              "outcome prohibited when platform is x or not labelled l } } label l \"L\""
    spread = """
# A comment
policy p {
    title "T"
}
label l "L"
topic t "T"       # another comment
section s "S" {
    clause c "C" {
        when    platform is x
                or not labelled l
        outcome prohibited
        text    "A
                 text"
        topic   t
    }
}
"""
    a, b = api.check_text(compact), api.check_text(spread)
    assert a.ok and b.ok
    # Spans never count: the same policy wherever its text stood (declaration order aside).
    assert a.policy.sections == b.policy.sections
    assert a.policy.meta == b.policy.meta
    assert a.content_hash != b.content_hash


def test_numbering_of_nested_sections_and_clauses() -> None:
    result = check_fixture("policies/full.policy")
    assert [(c.id, n) for c, n in result.policy.numbered_clauses()] == [
        ("party-endorsement", "1(a)"), ("election-posts", "1.1(a)"), ("press-statement", "1.1(b)"),
        ("leaks", "2(a)"), ("official-accounts", "2(b)")]
    assert [(s.id, n) for s, n in result.policy.numbered_sections()] == [
        ("neutrality", "1"), ("elections-section", "1.1"), ("information-section", "2")]


def test_clause_letters() -> None:
    assert [clause_letter(n) for n in (1, 2, 26, 27, 28, 52, 53, 702, 703)] == [
        "a", "b", "z", "aa", "ab", "az", "ba", "zz", "aaa"]


def test_many_clauses_are_lettered_past_z() -> None:
    clauses = [clause(f"c{i}", "advisory", "platform is x") for i in range(28)]
    result = api.check_text(policy_text(*clauses))
    assert [n for _c, n in result.policy.numbered_clauses()][-3:] == ["1(z)", "1(aa)", "1(ab)"]


def test_term_references() -> None:
    assert term_references("a {personal account} and {accounts|personal account}.") == [
        ("personal account", "personal account", 2, 20),
        ("personal account", "accounts", 25, 52),
    ]
    assert term_references("no terms") == []


def test_clause_items_are_lowered() -> None:
    policy = check_fixture("policies/full.policy").policy
    c = {c.id: c for c in policy.clauses()}
    endorse = c["party-endorsement"]
    assert endorse.outcome is m.Outcome.PROHIBITED and endorse.authority is None
    assert [e.description for e in endorse.unless] == ["made in the discharge of official duties", None]
    assert [(x.instrument, x.ref) for x in endorse.citations] == [("cr", "5(1)"), ("cr", "3(1A)(ii)"),
                                                                   ("code", "4.4.1")]
    # Adjacent texts are joined with a space; `\"` is a quote.
    assert endorse.rationale == m.Text('Neutrality is the basis of "trust" in the Service.')
    assert endorse.note == m.Text("Drafted for the tests.")
    assert not endorse.is_new_guidance
    press = c["press-statement"]
    assert press.outcome is m.Outcome.REQUIRES_SANCTION and press.authority == "cadre_controlling"
    assert press.is_new_guidance and press.new_guidance is None
    election = c["election-posts"]
    assert election.is_new_guidance and election.new_guidance == m.Text("The rules are silent on elections.")
    assert election.text.value.startswith("During an election, posts about parties from {personal accounts|")
    (ex,) = election.examples
    assert ex.outcome is m.Outcome.ADVISORY and ex.clause == "election-posts"


def test_header_is_read() -> None:
    meta = check_fixture("policies/full.policy").policy.meta
    assert meta.kind == "office_memorandum"
    assert meta.issued == dt.date(2026, 1, 5) and meta.expires == dt.date(2027, 1, 31)
    assert meta.languages == ("en", "hi")
    assert meta.signatory.name == m.Text("A. Officer", (("hi", "ए. अधिकारी"),))
    assert meta.signatory.contact == m.Text("us-test@example.gov")
    assert meta.services == ("IAS", "IPS")
    assert [t.value for t in meta.supersedes] == ["O.M. No. 1/1/2020-TEST", "O.M. No. 1/1/2021-TEST"]
    assert meta.title.get("hi") == "सोशल मीडिया पर परीक्षण दिशानिर्देश"
    assert meta.title.get("ta") is None


def test_patterns_keep_their_flags_and_slashes() -> None:
    pats = {p.id: p for p in check_fixture("policies/full.policy").policy.patterns}
    assert pats["file_number"].regex == r"\b\d{1,5}/\d+/\d{4}-[A-Z]+"
    assert (pats["file_number"].flags, pats["secret_marking"].flags, pats["multiline_flag"].flags) == ("", "i", "ims")
    assert pats["multiline_flag"].description is None


def test_string_escapes_and_folding() -> None:
    result = api.check_text('policy p { title "A \\"quoted\\"\n   title\\\\ here" }')
    assert result.ok
    assert result.policy.meta.title.value == 'A "quoted" title\\ here'


def test_included_file_read_once_by_two_routes() -> None:
    files = {
        "main.policy": 'policy p { title "T" }\ninclude "a.policy"\ninclude "sub/b.policy"\n',
        "a.policy": 'include "common.policy"\n',
        "sub/b.policy": 'include "../common.policy"\n',
        "common.policy": 'topic t "T"\n',
    }
    result = load_text(files["main.policy"], "main.policy", CallableReader(files.__getitem__))
    assert result.ok, result.diagnostics
    assert [t.id for t in result.policy.topics] == ["t"]
    assert [s.name for s in result.sources] == ["main.policy", "a.policy", "common.policy", "sub/b.policy"]


def test_include_paths_are_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the repository root: includes may reach anywhere inside it
    (tmp_path / "policies" / "in").mkdir(parents=True)
    (tmp_path / "policies" / "common").mkdir()
    (tmp_path / "policies" / "common" / "topics.policy").write_text('topic t "T"\n', encoding="utf-8")
    main = tmp_path / "policies" / "in" / "p.policy"
    main.write_text('policy p { title "T" }\ninclude "../common/topics.policy"\n', encoding="utf-8")
    result = api.check_file(main)
    assert result.ok and [t.id for t in result.policy.topics] == ["t"]
