"""The meaning of a policy (docs/semantics.md), one rule per test.

Each test writes a small policy inline, compiles it, and checks posts against
the rule set, as `govpost check` does.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import checker_from_text, clause, policy_text, ruleset_from_text

from toolkit.evaluate import Checker

DECLS = """
authority board "The board"
label official_capacity "Official capacity"
label reviewed "Reviewed"
lexicon parties "Parties" { "BJP", "Labour Party" }
lexicon praise "Praise" { "vote for", "support" }
"""


def check(checker: Checker, post: dict[str, Any]) -> dict[str, Any]:
    verdict, problems = checker.check(post)
    assert verdict is not None, problems
    return verdict.to_json()


def make(*clauses: str, header: str = "", declarations: str = DECLS) -> Checker:
    return checker_from_text(policy_text(*clauses, header=header, declarations=declarations))


# ---------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------

LADDER = make(
    clause("allowed", "permitted", "text mentions parties"),
    clause("careful", "advisory", "text mentions parties"),
    clause("sanction", "requires sanction of board", "text mentions praise"),
    clause("forbidden", "prohibited", "text mentions parties and text mentions praise"),
    clause("also-forbidden", "prohibited", "text mentions praise and platform is x"),
)


@pytest.mark.parametrize(
    ("post", "outcome", "deciding", "applying"),
    [
        ({"text": "The BJP met"}, "advisory", ["careful"], ["allowed", "careful"]),
        ({"text": "support the helpline"}, "requires_sanction", ["sanction"], ["sanction"]),
        ({"text": "Vote for the BJP"}, "prohibited", ["forbidden"], ["allowed", "careful", "sanction", "forbidden"]),
        ({"text": "Vote for the BJP", "platform": "x"}, "prohibited", ["forbidden", "also-forbidden"],
         ["allowed", "careful", "sanction", "forbidden", "also-forbidden"]),
        ({"text": "support", "platform": "x"}, "prohibited", ["also-forbidden"], ["sanction", "also-forbidden"]),
    ],
)
def test_outcome_is_the_strongest_applying_clause(post: dict[str, Any], outcome: str, deciding: list[str],
                                                  applying: list[str]) -> None:
    v = check(LADDER, post)
    assert v["outcome"] == outcome
    # `deciding` is every clause at the top outcome, in document order.
    assert v["deciding"] == deciding
    # Every applying clause is reported, whatever its outcome, in document order.
    assert [f["clause"] for f in v["findings"]] == applying
    assert [f["number"] for f in v["findings"]] == [
        {"allowed": "1(a)", "careful": "1(b)", "sanction": "1(c)", "forbidden": "1(d)", "also-forbidden": "1(e)"}[c]
        for c in applying]


def test_a_permitted_clause_never_lowers_the_outcome() -> None:
    v = check(LADDER, {"text": "Vote for the BJP"})
    assert v["outcome"] == "prohibited"
    assert {f["clause"]: f["outcome"] for f in v["findings"]}["allowed"] == "permitted"


def test_finding_carries_authority_and_citations() -> None:
    checker = make(
        clause("needs", "requires sanction of board", "text mentions praise", "cites code 7, code 3(1A)(ii)"),
        declarations=DECLS + 'instrument code "The Conduct Rules" { short "CR" unit "rule" provision 7 "a" '
        'provision 3(1A)(ii) "b" }',
    )
    (finding,) = check(checker, {"text": "Support"})["findings"]
    assert finding["authority"] == {"id": "board", "title": "The board"}
    assert finding["citations"] == ["CR, rule 7", "CR, rule 3(1A)(ii)"]
    assert finding["topic"] == "t"
    assert finding["title"] == "Clause needs"


# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------

EXCEPTIONS = make(
    clause("endorse", "prohibited", "text mentions parties",
           'unless "made in an official capacity" labelled official_capacity',
           "unless account.kind is official"),
    clause("careful", "advisory", "text mentions parties", 'unless "reviewed" labelled reviewed'),
)


def test_exception_stops_the_clause_and_is_listed() -> None:
    v = check(EXCEPTIONS, {"text": "The BJP", "labels": ["official_capacity"]})
    assert v["outcome"] == "advisory"
    assert [f["clause"] for f in v["findings"]] == ["careful"]
    assert v["excepted"] == [{"clause": "endorse", "number": "1(a)", "exception": "made in an official capacity"}]


def test_exception_without_description() -> None:
    v = check(EXCEPTIONS, {"text": "The BJP", "account": {"kind": "official"}})
    assert v["excepted"] == [{"clause": "endorse", "number": "1(a)", "exception": "an exception applies"}]


def test_first_holding_exception_is_named() -> None:
    v = check(EXCEPTIONS, {"text": "The BJP", "account": {"kind": "official"}, "labels": ["official_capacity"]})
    assert v["excepted"][0]["exception"] == "made in an official capacity"


def test_all_clauses_excepted_gives_the_default() -> None:
    v = check(EXCEPTIONS, {"text": "The BJP", "labels": ["official_capacity", "reviewed"]})
    assert v["outcome"] == "permitted"
    assert v["findings"] == [] and v["deciding"] == []
    assert [e["clause"] for e in v["excepted"]] == ["endorse", "careful"]


def test_exception_is_not_listed_when_the_condition_does_not_hold() -> None:
    v = check(EXCEPTIONS, {"text": "nothing here", "labels": ["official_capacity"]})
    assert v["excepted"] == []


# ---------------------------------------------------------------------------
# Default outcome
# ---------------------------------------------------------------------------


def test_default_outcome_is_permitted() -> None:
    v = check(LADDER, {"text": "Lovely weather"})
    assert v == {"id": None, "outcome": "permitted", "deciding": [], "findings": [], "excepted": []}


def test_default_outcome_advisory() -> None:
    checker = make(clause("ok", "permitted", "account.kind is official"),
                   clause("bad", "prohibited", "text mentions parties"), header="default_outcome advisory")
    assert check(checker, {"id": "1", "text": "Lovely weather"})["outcome"] == "advisory"
    # A permitted clause that applies gives permitted, not the default.
    v = check(checker, {"account": {"kind": "official"}})
    assert (v["outcome"], v["deciding"]) == ("permitted", ["ok"])
    assert check(checker, {"text": "BJP"})["outcome"] == "prohibited"


def test_default_outcome_is_recorded_in_the_rule_set() -> None:
    text = policy_text(clause("a", "advisory", "platform is x"), header="default_outcome advisory")
    assert ruleset_from_text(text)["policy"]["default_outcome"] == "advisory"
    assert ruleset_from_text(policy_text(clause("a", "advisory", "platform is x")))["policy"]["default_outcome"] \
        == "permitted"


# ---------------------------------------------------------------------------
# Conditions: absent fields, lists, case
# ---------------------------------------------------------------------------

FIELDS = make(
    clause("is-ias", "advisory", "author.service is IAS"),
    clause("not-ias", "advisory", "author.service is not IAS"),
    clause("in-services", "advisory", 'author.service in ["IAS", IPS]'),
    clause("not-in-services", "advisory", 'author.service not in ["IAS", IPS]'),
    clause("shared-party", "advisory", "shared_from.kind is political_party"),
    clause("not-shared-party", "advisory", "shared_from.kind is not political_party"),
    clause("video", "advisory", "media.kind is video"),
    clause("no-video", "advisory", "media.kind is not video"),
    clause("av", "advisory", "media.kind in [audio, video]"),
    clause("no-av", "advisory", "media.kind not in [audio, video]"),
    clause("labels-is", "advisory", 'labels is "Reviewed"'),
    clause("link", "advisory", 'links is "https://example.org/a"'),
    clause("media-label", "advisory", 'media.labels is "Scan"'),
    clause("sanctioned", "advisory", "sanction.obtained"),
    clause("not-sanctioned", "advisory", "sanction.obtained is false"),
    clause("personal", "advisory", "account.kind is personal"),
    clause("platform-other", "advisory", "platform is other"),
)


def applying(post: dict[str, Any]) -> set[str]:
    return {f["clause"] for f in check(FIELDS, post)["findings"]}


def test_absent_field_is_not_and_not_in() -> None:
    got = applying({})
    # An atom over a field with no value is false; its negation is true.
    assert not got & {"is-ias", "in-services", "shared-party", "video", "av", "labels-is", "link", "media-label",
                      "sanctioned"}
    assert {"not-ias", "not-in-services", "not-shared-party", "no-video", "no-av"} <= got


def test_defaults_of_absent_fields() -> None:
    got = applying({})
    assert {"not-sanctioned", "personal", "platform-other"} <= got


def test_string_comparison_ignores_case() -> None:
    assert {"is-ias", "in-services"} <= applying({"author": {"service": "ias"}})
    assert {"in-services"} <= applying({"author": {"service": "Ips"}})
    got = applying({"author": {"service": "IFoS"}})
    assert "not-ias" in got and "not-in-services" in got and "is-ias" not in got
    assert "labels-is" in applying({"labels": ["reviewed"]})
    assert "link" in applying({"links": ["HTTPS://EXAMPLE.ORG/A"]})


def test_enumerations_are_exact() -> None:
    verdict, problems = FIELDS.check({"platform": "X"})
    assert verdict is None
    assert [(p.code, p.path) for p in problems] == [("R305", "platform")]
    verdict, problems = FIELDS.check({"shared_from": {"kind": "Political_Party"}})
    assert verdict is None and problems[0].code == "R305"


@pytest.mark.parametrize(
    ("kinds", "expected", "unexpected"),
    [
        ([], {"no-video", "no-av"}, {"video", "av"}),
        (["image"], {"no-video", "no-av"}, {"video", "av"}),
        (["image", "video"], {"video", "av"}, {"no-video", "no-av"}),
        (["audio", "document"], {"av", "no-video"}, {"video", "no-av"}),
    ],
)
def test_list_fields_are_existential(kinds: list[str], expected: set[str], unexpected: set[str]) -> None:
    got = applying({"media": [{"kind": k} for k in kinds]})
    assert expected <= got
    assert not unexpected & got


def test_nested_list_fields_are_existential() -> None:
    assert "media-label" in applying({"media": [{"kind": "image"}, {"kind": "document", "labels": ["x", "scan"]}]})
    assert "media-label" not in applying({"media": [{"kind": "image", "labels": ["x"]}]})
    assert "link" in applying({"links": ["https://other.org", "https://example.org/a"]})


def test_yes_no_fields() -> None:
    got = applying({"sanction": {"obtained": True}})
    assert "sanctioned" in got and "not-sanctioned" not in got


def test_labelled_is_exact() -> None:
    checker = make(clause("l", "advisory", "labelled reviewed"))
    assert check(checker, {"labels": ["reviewed"]})["outcome"] == "advisory"
    assert check(checker, {"labels": ["Reviewed"]})["outcome"] == "permitted"
    assert check(checker, {"labels": []})["outcome"] == "permitted"


def test_precedence_not_and_or() -> None:
    # `a or b and not c` is `a or (b and (not c))`.
    checker = make(clause("p", "advisory", "platform is x or platform is blog and not labelled reviewed"))
    assert check(checker, {"platform": "x", "labels": ["reviewed"]})["outcome"] == "advisory"
    assert check(checker, {"platform": "blog"})["outcome"] == "advisory"
    assert check(checker, {"platform": "blog", "labels": ["reviewed"]})["outcome"] == "permitted"
    grouped = make(clause("p", "advisory", "(platform is x or platform is blog) and not labelled reviewed"))
    assert check(grouped, {"platform": "x", "labels": ["reviewed"]})["outcome"] == "permitted"


def test_signals_nest() -> None:
    decls = DECLS + (
        "signal party means text mentions parties or shared_from.kind is political_party\n"
        "signal campaign means party and text mentions praise\n"
    )
    checker = make(clause("c", "prohibited", "campaign and not labelled official_capacity"), declarations=decls)
    assert check(checker, {"text": "Vote for the BJP"})["outcome"] == "prohibited"
    assert check(checker, {"text": "Vote for change", "action": "share",
                           "shared_from": {"kind": "political_party"}})["outcome"] == "prohibited"
    assert check(checker, {"text": "The BJP met"})["outcome"] == "permitted"


def test_evidence_of_a_satisfied_or_lists_every_true_branch() -> None:
    checker = make(clause("c", "advisory", "text mentions parties or platform is x"))
    (finding,) = check(checker, {"text": "BJP", "platform": "x"})["findings"]
    assert {e["field"] for e in finding["evidence"]} == {"text", "platform"}


# ---------------------------------------------------------------------------
# Periods and dates, in the policy's time zone
# ---------------------------------------------------------------------------

IST = make(
    clause("during", "advisory", "posted during polls"),
    clause("before", "advisory", "posted before 2026-04-01"),
    clause("after", "advisory", "posted after 2026-04-30"),
    header='timezone "Asia/Kolkata"',
    declarations='period polls "Polls" from 2026-04-01 to 2026-04-30',
)


@pytest.mark.parametrize(
    ("posted_at", "clauses"),
    [
        ("2026-03-31T23:59:59+05:30", {"before"}),
        ("2026-03-31T18:29:59Z", {"before"}),
        ("2026-04-01T00:00:00+05:30", {"during"}),
        ("2026-03-31T18:30:00Z", {"during"}),
        ("2026-04-15T12:00:00-07:00", {"during"}),
        ("2026-04-30T23:30+05:30", {"during"}),  # the last day is inside, in IST
        ("2026-04-30T18:29:59.999Z", {"during"}),
        ("2026-04-30T18:30:00Z", {"after"}),
        ("2026-05-01T00:10+05:30", {"after"}),  # the next day is outside
        ("2026-04-30T20:00:00Z", {"after"}),  # still 30 April in UTC, already 1 May in IST
    ],
)
def test_period_covers_both_days_in_the_policy_time_zone(posted_at: str, clauses: set[str]) -> None:
    v = check(IST, {"posted_at": posted_at})
    assert {f["clause"] for f in v["findings"]} == clauses


def test_post_without_time_is_in_no_period() -> None:
    assert check(IST, {"text": "undated"})["findings"] == []


def test_period_evidence_names_the_period() -> None:
    (finding,) = check(IST, {"posted_at": "2026-04-10T10:00+05:30"})["findings"]
    assert finding["evidence"] == [{"field": "posted_at", "value": "2026-04-10T10:00+05:30", "period": "polls"}]


def test_compiled_instants_are_utc_midnights_of_the_policy_time_zone() -> None:
    text = policy_text(
        clause("d", "advisory", "posted during polls or posted before 2026-04-01 or posted after 2026-04-30"),
        header='timezone "Asia/Kolkata"',
        declarations='period polls "Polls" from 2026-04-01 to 2026-04-30',
    )
    rules = ruleset_from_text(text)
    assert rules["periods"]["polls"] == {"description": "Polls", "from": "2026-04-01", "to": "2026-04-30",
                                         "start": "2026-03-31T18:30:00Z", "end": "2026-04-30T18:30:00Z"}
    assert rules["clauses"][0]["when"] == {"op": "any", "args": [
        {"op": "during", "period": "polls"},
        {"op": "posted_before", "instant": "2026-03-31T18:30:00Z"},
        {"op": "posted_after", "instant": "2026-04-30T18:30:00Z"},
    ]}


def test_summer_time_is_taken_into_account() -> None:
    text = policy_text(
        clause("d", "advisory", "posted during summer"),
        header='timezone "Europe/London"',
        declarations='period summer from 2026-03-29 to 2026-10-25\nperiod june from 2026-06-01 to 2026-06-30',
    )
    rules = ruleset_from_text(text)
    assert (rules["periods"]["summer"]["start"], rules["periods"]["summer"]["end"]) == (
        "2026-03-29T00:00:00Z", "2026-10-26T00:00:00Z")
    assert (rules["periods"]["june"]["start"], rules["periods"]["june"]["end"]) == (
        "2026-05-31T23:00:00Z", "2026-06-30T23:00:00Z")


def test_utc_is_the_default_time_zone() -> None:
    checker = make(clause("d", "advisory", "posted during day"), declarations="period day from 2026-01-01 to 2026-01-01")
    assert check(checker, {"posted_at": "2026-01-01T23:59:59Z"})["outcome"] == "advisory"
    assert check(checker, {"posted_at": "2026-01-02T00:00:00Z"})["outcome"] == "permitted"
    assert check(checker, {"posted_at": "2026-01-01T01:00:00+05:30"})["outcome"] == "permitted"


# ---------------------------------------------------------------------------
# Lexicon matching
# ---------------------------------------------------------------------------

WORDS = make(clause("w", "advisory", "text mentions words"),
             declarations='lexicon words exact { "vote for", "BJP", "anti-national", "Straße", "भाजपा" }')


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Vote for change", True),
        ("Vote, for change", True),
        ("vote-for change", True),
        ("voters for change", False),
        ("vote at once for change", False),
        ("B.J.P. rally", True),
        ("BJP's rally", True),
        ("BJP’s rally", True),
        ("#VoteForChange", True),
        ("BJPs", False),
        ("anti national", True),
        ("antinational", True),
        ("STRASSE", True),
        ("भाजपा की रैली", True),
        ("भाजपाई", False),
        ("", False),
    ],
)
def test_lexicon_matching(text: str, matches: bool) -> None:
    assert (check(WORDS, {"text": text})["outcome"] == "advisory") is matches


def test_mentions_searches_the_named_field() -> None:
    checker = make(clause("bio", "advisory", "account.bio mentions parties"),
                   clause("shared", "advisory", "shared_from.text mentions parties"),
                   clause("media", "advisory", "media.description mentions parties"),
                   clause("links", "advisory", "links mentions parties"))
    v = check(checker, {"text": "BJP", "account": {"bio": "BJP worker"}, "links": ["https://bjp.org"],
                        "media": [{"kind": "image"}, {"kind": "image", "description": "a BJP flag"}]})
    assert v["deciding"] == ["bio", "media", "links"]
    evidence = {f["clause"]: [e["field"] for e in f["evidence"]] for f in v["findings"]}
    assert evidence == {"bio": ["account.bio"], "media": ["media[1].description"], "links": ["links[0]"]}


def test_patterns_are_case_sensitive_unless_flagged() -> None:
    checker = make(clause("strict", "advisory", "text matches exact"),
                   clause("loose", "advisory", "text matches nocase"),
                   declarations="pattern exact /SECRET/\npattern nocase /secret/i")
    assert check(checker, {"text": "a secret"})["deciding"] == ["loose"]
    assert check(checker, {"text": "a SECRET"})["deciding"] == ["strict", "loose"]
    assert check(checker, {"text": "nothing"})["deciding"] == []


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------

LABELS = make(clause("l", "advisory", "labelled reviewed"))


def test_a_label_on_an_attached_item_counts() -> None:
    (finding,) = check(LABELS, {"media": [{"kind": "image"}, {"kind": "video", "labels": ["reviewed"]}]})["findings"]
    assert finding["evidence"] == [{"field": "media[1].labels", "value": "reviewed"}]


def test_an_undeclared_label_is_a_warning_with_a_hint() -> None:
    v = check(LABELS, {"labels": ["reviewd", "official_capacity"]})
    assert v["outcome"] == "permitted"
    assert v["warnings"] == [{
        "code": "R308", "field": "labels",
        "message": "`reviewd` is not a label of this policy, so no clause tests it",
        "help": "did you mean `reviewed`?",
    }]
    assert "warnings" not in check(LABELS, {"labels": ["reviewed"]})
