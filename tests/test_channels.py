"""The header's `channels`: where posts on a topic should go instead of social media."""

from __future__ import annotations

from toolkit import api
from toolkit.printer import print_policy

HEADER = '''policy p {
    title "P" @hi "पी"
    languages en, hi
    channels {
        grievances "A representation through proper channel" @hi "उचित माध्यम से अभ्यावेदन"
        %s
    }
}
topic grievances "Grievances"
section s "S" @hi "एस" { clause c "C" @hi "सी" { topic grievances text "No." @hi "नहीं।" outcome prohibited
    when text mentions w } }
lexicon w { "grievance" }
'''


def test_channels_are_read_by_topic_with_translations() -> None:
    result = api.check_text(HEADER % "")
    assert result.ok, result.diagnostics
    (channel,) = result.policy.meta.channels
    assert channel.topic == "grievances"
    assert channel.text.value == "A representation through proper channel"
    assert channel.text.get("hi") == "उचित माध्यम से अभ्यावेदन"


def test_channels_name_declared_topics() -> None:
    result = api.check_text(HEADER % 'grievance "typo"')
    assert [(d.code, d.message) for d in result.errors] == [("S210", "unknown topic `grievance` in `channels`")]
    assert result.errors[0].help == "did you mean `grievances`?"


def test_a_channel_is_given_once_and_is_one_text() -> None:
    result = api.check_text(HEADER % 'grievances "again"\n        records 2026-01-01')
    codes = sorted(d.code for d in result.errors)
    assert codes == ["S215", "S217"]


def test_a_channel_without_its_translation_is_a_warning() -> None:
    assert api.check_text(HEADER % "").warnings == []
    warned = api.check_text((HEADER % "").replace(' @hi "उचित माध्यम से अभ्यावेदन"', ""))
    assert [d.message for d in warned.warnings] == ["header `channels` for `grievances` has no `@hi` translation"]


def test_channels_print_and_read_back() -> None:
    policy = api.check_text(HEADER % "").policy
    assert policy is not None
    again = api.check_text(print_policy(policy))
    assert again.ok, again.diagnostics
    assert again.policy.meta.channels == policy.meta.channels
