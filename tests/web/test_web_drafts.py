"""Checking a draft: the verdict, highlighted evidence, channels, sanction and the counterfactual."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from toolkit.web.drafts import Draft, DraftError, check_draft, highlight

NOW = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC)


def check(catalogue: Any, text: str, **fields: Any) -> Any:
    return check_draft(catalogue.default, Draft(text=text, **fields), now=NOW)


def test_a_party_endorsement_is_prohibited_with_its_words_highlighted(catalogue: Any) -> None:
    result = check(catalogue, "Proud of what the BJP has done for Kerala. Vote BJP on 5 May!")
    assert result.outcome == "prohibited"
    assert result.verdict.deciding == ["party-endorsement"]
    marked = [(m.text, m.clauses) for m in result.marks["text"] if m.clauses]
    assert ("BJP", ["3.1(a)"]) in marked
    assert "".join(m.text for m in result.marks["text"]) == result.post["text"]
    summary = result.findings[0]["summary"]
    assert summary["number"] == "3.1(a)" and summary["text"]["versions"][1]["lang"] == "hi"


def test_the_counterfactual_is_confirmed_by_the_checker(catalogue: Any) -> None:
    result = check(catalogue, "Proud of what the BJP has done for Kerala. Vote BJP on 5 May!")
    cf = result.counterfactual
    assert cf is not None and cf.outcome == "permitted"
    # The party's name where the post praises it, and the call to vote for it.
    assert cf.words == [("text", "BJP"), ("text", "Vote BJP")]
    # Checked again: the draft without those words is permitted, and each of them is needed.
    text = result.post["text"]
    assert check(catalogue, text.replace("Vote BJP", " ").replace("BJP", " ")).outcome == "permitted"
    assert check(catalogue, text.replace("Vote BJP", " ")).outcome == "prohibited"
    assert check(catalogue, text.replace("the BJP", "the ")).outcome == "prohibited"


def test_a_service_grievance_names_the_policys_channels(catalogue: Any) -> None:
    result = check(catalogue, "Denied promotion again while juniors go ahead. Harassed by seniors for three years.",
                   platform="facebook")
    assert result.outcome == "prohibited"
    assert result.channels == ["grievances"]
    channel = catalogue.default.channels["grievances"]
    assert "proper channel" in channel["text"]
    assert [v["lang"] for v in channel["versions"]] == ["en", "hi"]


def test_sanction_names_who_grants_it_and_what_it_changes(catalogue: Any) -> None:
    result = check(catalogue, "Use my code GOVPOST10 for 10% off these running shoes! #ad", platform="instagram")
    assert result.outcome == "requires_sanction"
    assert result.authority is not None and result.authority.startswith("the Government")
    assert result.with_sanction is not None
    assert result.with_sanction != "requires_sanction"


def test_a_hindi_draft_is_checked_and_highlighted(catalogue: Any) -> None:
    result = check(catalogue, "भाजपा को वोट दें! मोदी जी जिंदाबाद")
    assert result.outcome == "prohibited"
    assert any(m.clauses and "भाजपा" in m.text for m in result.marks["text"])
    assert result.counterfactual is not None and result.counterfactual.outcome == "permitted"


def test_a_permitted_draft_has_no_advice(catalogue: Any) -> None:
    result = check(catalogue, "Lovely photography! The flamingos at Thol are back this monsoon.")
    assert result.outcome == "permitted"
    assert result.counterfactual is None and result.channels == []


def test_an_outcome_not_decided_by_words_has_no_counterfactual(catalogue: Any) -> None:
    result = check(catalogue, "", action="share", shared_kind="political_party")
    assert result.outcome == "prohibited"
    assert result.counterfactual is None
    assert {ev["field"] for ev in result.other_evidence} >= {"action", "shared_from.kind"}


def test_evidence_of_a_new_kind_is_highlighted_when_it_points_into_the_text() -> None:
    # Evidence items may gain keys (a `target` span, `near` pairs): any item with field/start/end counts.
    marks = highlight("abc def ghi", [(0, 3, "1(a)", "advisory"), (2, 7, "2(b)", "prohibited")])
    assert [(m.text, m.clauses, m.outcome) for m in marks] == [
        ("ab", ["1(a)"], "advisory"), ("c", ["1(a)", "2(b)"], "prohibited"), (" def", ["2(b)"], "prohibited"),
        (" ghi", [], None)]


@pytest.mark.parametrize(("fields", "message"), [
    ({"platform": "twitter"}, "`twitter` is not a platform"),
    ({"account": "shared"}, "`shared` is not a account"),
    ({"text": "x" * 20_001}, "at most 20,000 characters"),
    ({"posted_at": "yesterday"}, "`yesterday` is not a date and time"),
])
def test_a_draft_the_form_cannot_make_is_refused(catalogue: Any, fields: dict[str, str], message: str) -> None:
    with pytest.raises(DraftError, match=message):
        draft = Draft.from_form(fields)
        check_draft(catalogue.default, draft, now=NOW)


def test_the_date_given_is_read_in_the_policys_time_zone(catalogue: Any) -> None:
    post = Draft(text="x", posted_at="2029-04-01T10:00").post("Asia/Kolkata")
    assert post["posted_at"] == "2029-04-01T10:00:00+05:30"
