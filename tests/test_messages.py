"""The quality of error messages: where, what, the line, a caret, a hint; and all of them at once."""

from __future__ import annotations

import json

from support import check_fixture, codes, policy_text, render

from toolkit import api
from toolkit.diagnostics import Diagnostic, Severity, did_you_mean, render_json, render_text, summary_line
from toolkit.source import Source, Span


def test_undefined_lexicon_full_rendering() -> None:
    text = policy_text(
        '    clause c "C" {\n        topic t\n        text "x"\n        outcome prohibited\n'
        "        when text mentions partys\n    }",
        declarations='lexicon parties "Parties" { "BJP" }',
    )
    result = api.check_text(text, "policies/neutrality.policy")
    assert render(result.diagnostics) == (
        "policies/neutrality.policy:9:28: error[S201]: undefined lexicon `partys`\n"
        "            when text mentions partys\n"
        "                               ^~~~~~\n"
        "  = help: did you mean `parties`?"
    )


def test_misspelt_keyword_full_rendering() -> None:
    assert render(check_fixture("errors/syntax-token.policy").diagnostics) == (
        "errors/syntax-token.policy:9:9: error[P101]: unexpected `outcom`; expected one of `cites`, `example`, "
        "`new`, `note`, `outcome`, `rationale`, `text`, `topic`, …\n"
        "            outcom  prohibited\n"
        "            ^~~~~~\n"
        "  = help: did you mean `outcome`?"
    )


def test_unknown_header_key_full_rendering() -> None:
    result = api.check_text('policy p {\n    titel "T"\n}\n', "p.policy")
    assert render(result.diagnostics) == (
        "p.policy:2:5: error[S214]: unknown header key `titel`\n"
        '        titel "T"\n'
        "        ^~~~~\n"
        "  = help: did you mean `title`?"
    )


def test_unterminated_text_points_at_the_opening_quote() -> None:
    assert render(check_fixture("errors/syntax-string.policy").diagnostics) == (
        "errors/syntax-string.policy:3:16: error[P104]: this text has no closing quote\n"
        '    topic politics "Politics\n'
        "                   ^\n"
        '  = help: end the text with `"`; write `\\"` for a quote inside it'
    )


def test_caret_keeps_tabs_so_it_lines_up() -> None:
    source = Source("t.policy", "a\n\t\twhen x is y\n")
    span = Span(source, source.offset(2, 8), source.offset(2, 9))
    rendered = render_text([Diagnostic("S204", "posts have no field `x`", span)])
    assert rendered.splitlines()[1:] == ["    \t\twhen x is y", "    \t\t     ^"]


def test_caret_spans_the_whole_token() -> None:
    result = check_fixture("errors/types.policy")
    d = next(d for d in result.diagnostics if "shared_from.txt" in d.message)
    caret = render([d]).splitlines()[2]
    assert caret.strip() == "^" + "~" * (len("shared_from.txt") - 1)


def test_syntax_errors_in_two_clauses_are_all_reported() -> None:
    result = check_fixture("errors/syntax-two-clauses.policy")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("P101", 9), ("P102", 16)]
    assert "`forbidden`" in result.diagnostics[0].message
    assert "`=`" in result.diagnostics[1].message
    assert result.diagnostics[1].help == "write `is` to compare a field with a value, `means` to define a signal"


def test_many_semantic_errors_are_all_reported() -> None:
    result = check_fixture("errors/names.policy")
    diags = result.diagnostics
    assert len(diags) >= 15
    assert codes(diags) == {"S201", "S202", "S203", "S210", "S218"}
    # Sorted by position, each at its own place.
    keys = [(d.span.line, d.span.col) for d in diags]
    assert keys == sorted(keys)
    # The same kind of mistake in one condition is reported once per name.
    undefined = [d.message for d in diags if d.code == "S201"]
    for name in ("partys", "official_capacty", "election", "file_numbr", "party_signal", "cadre_authority",
                 "rules", "endorsee", "unknown_label"):
        assert any(f"`{name}`" in m for m in undefined), name


def test_header_and_clause_errors_are_reported_together() -> None:
    text = policy_text(
        '    clause c "C" {\n        topic t\n        text "x"\n        outcome prohibited\n'
        "        when platfrom is x\n    }",
        header="timezone \"Mars/Olympus\"",
    )
    result = api.check_text(text, "p.policy")
    assert codes(result.diagnostics) == {"S215", "S204"}


def test_did_you_mean_hints() -> None:
    diags = {d.message: d.help for d in check_fixture("errors/names.policy").diagnostics}
    assert diags["unknown topic `politcs`"] == "did you mean `politics`?"
    assert diags["undefined period `election`"] == "did you mean `elections`?"
    assert diags["undefined lexicon `file_number`"] == "that is a pattern: use `matches`"
    assert diags["undefined signal `official_capacity`"] == "that is a label: write `labelled official_capacity`"
    assert diags["`cr` has no provision `5(2)`"] == "did you mean `5(1)`?"
    assert did_you_mean("Titel", ["title"]) == "did you mean `title`?"
    assert did_you_mean("zzz", ["title"]) is None


def test_duplicate_points_at_the_first_declaration() -> None:
    d = next(d for d in check_fixture("errors/names.policy").diagnostics if d.message.startswith("topic "))
    assert d.notes == ("first declared at errors/shared/topics.policy:1:1",)
    assert "  = note: first declared at errors/shared/topics.policy:1:1" in render([d])


def test_messages_follow_the_style() -> None:
    """Lowercase, no final period, no line breaks, Python never shows through."""
    for case in ("names", "types", "examples", "header", "clauses", "patterns", "dates", "signals"):
        for d in check_fixture(f"errors/{case}.policy").diagnostics:
            assert d.message[0].islower() or d.message[0] in "`{", d.message
            assert not d.message.endswith("."), d.message
            assert "\n" not in d.message
            for python in ("None", "True", "False", "Traceback", "<class"):
                assert python not in d.message, d.message


def test_json_rendering() -> None:
    diags = check_fixture("errors/names.policy").diagnostics
    data = json.loads(render_json(diags))
    assert len(data) == len(diags)
    first = next(item for item in data if item["message"] == "unknown topic `politcs`")
    assert first == {
        "code": "S210",
        "severity": "error",
        "message": "unknown topic `politcs`",
        "file": "errors/names.policy",
        "line": 17,
        "column": 17,
        "end_line": 17,
        "end_column": 24,
        "help": "did you mean `politics`?",
    }


def test_warnings_render_as_warnings() -> None:
    diags = check_fixture("errors/translations.policy").diagnostics
    assert diags and all(d.severity is Severity.WARNING for d in diags)
    assert render(diags).count("warning[S221]") == len(diags)
    assert summary_line(diags) == f"{len(diags)} warnings"


def test_colour_only_when_asked() -> None:
    diags = check_fixture("errors/syntax-token.policy").diagnostics
    assert "\x1b[" not in render_text(diags)
    coloured = render_text(diags, color=True)
    assert "\x1b[1;31merror\x1b[0m[P101]" in coloured


def test_summary_line() -> None:
    s = Span(Source("f", "x"), 0, 1)
    err = Diagnostic("S201", "a", s)
    warn = Diagnostic("S221", "b", s, severity=Severity.WARNING)
    assert summary_line([]) == "no problems"
    assert summary_line([err]) == "1 error"
    assert summary_line([err, err, warn]) == "2 errors, 1 warning"


def test_unregistered_code_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="unregistered"):
        Diagnostic("X999", "nope")
