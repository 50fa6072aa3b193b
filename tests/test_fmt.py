"""`govpost fmt`: golden layouts, the bundled policies, the soundness check and the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Golden
from toolkit import formatter
from toolkit.cli import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, cli
from toolkit.diagnostics import DiagnosticError
from toolkit.formatter import UnsoundFormat, check_sound, format_source, token_stream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fmt"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "input.policy").exists())
BUNDLED = sorted((ROOT / "policies").rglob("*.policy"))


def comments(text: str) -> list[str]:
    return [t.text for t in token_stream(text)[1] if t.comment]


@pytest.mark.parametrize("case", CASES)
def test_golden_layout(case: str, golden: Golden) -> None:
    source = (FIXTURES / case / "input.policy").read_text(encoding="utf-8")
    out = format_source(source, f"{case}/input.policy")
    golden(FIXTURES / case / "expected.policy", out)
    assert format_source(out) == out  # idempotent
    assert comments(out) == comments(source)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_policies_are_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(text, str(path)) == text


def test_comments_keep_their_kind_and_order() -> None:
    source = 'topic a "A"   # trailing\n# own line\ntopic b "B"\n'
    assert format_source(source) == 'topic a "A"  # trailing\n# own line\ntopic b "B"\n'


def test_windows_line_endings_and_byte_order_mark() -> None:
    source = '\ufefftopic a "A"\r\n\r\n\r\ntopic b "B"\r\n'
    assert format_source(source) == 'topic a "A"\n\ntopic b "B"\n'


def test_empty_and_comment_only_files() -> None:
    assert format_source("") == ""
    assert format_source("\n\n") == ""
    assert format_source("  # only a comment   \n\n\n# and another") == "# only a comment\n\n# and another\n"


def test_escaped_trailing_space_inside_a_text_is_kept() -> None:
    source = 'topic a "one\\ \n   two"\n'
    out = format_source(source)
    assert out == 'topic a "one\\ \n         two"\n'
    assert format_source(out) == out


def test_syntax_error_raises_every_diagnostic() -> None:
    with pytest.raises(DiagnosticError) as info:
        format_source('topic a "A"\nlexicon x { "a" "b" }\nlexicon y { "c" "d" }\n', "bad.policy")
    assert [d.span.location() for d in info.value.diagnostics] == ["bad.policy:2:17", "bad.policy:3:17"]


def test_soundness_check_refuses_a_lost_comment() -> None:
    with pytest.raises(UnsoundFormat, match="token or comment"):
        check_sound('topic a "A" # c\n', 'topic a "A"\n')


def test_soundness_check_refuses_a_changed_model() -> None:
    with pytest.raises(UnsoundFormat):
        check_sound('topic a "A"\n', 'topic a "B"\n')
    with pytest.raises(UnsoundFormat, match="does not parse"):
        check_sound('topic a "A"\n', "topic a\n")


def test_soundness_check_accepts_refolded_text() -> None:
    check_sound('topic a "A  long\n   title"\n', 'topic a "A long\n         title"\n')


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------

MESSY = 'topic   a   "A"  # the first\n\n\n\ntopic b "B"\n'
TIDY = 'topic a "A"  # the first\n\ntopic b "B"\n'


def run(*args: str, input: str | None = None):  # noqa: A002
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_fmt_rewrites_files_and_directories_recursively(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    one, two, hidden = tmp_path / "one.policy", tmp_path / "sub" / "two.policy", tmp_path / ".hidden" / "h.policy"
    for p in (one, two, hidden):
        p.write_text(MESSY, encoding="utf-8")
    (tmp_path / "notes.txt").write_text(MESSY, encoding="utf-8")
    result = run("fmt", str(tmp_path))
    assert result.exit_code == EXIT_OK, result.output
    assert one.read_text(encoding="utf-8") == TIDY
    assert two.read_text(encoding="utf-8") == TIDY
    assert hidden.read_text(encoding="utf-8") == MESSY
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == MESSY
    assert "2 files reformatted" in result.output
    again = run("fmt", str(tmp_path))
    assert again.exit_code == EXIT_OK and "0 files reformatted, 2 unchanged" in again.output


def test_fmt_check_lists_files_and_writes_nothing(tmp_path: Path) -> None:
    messy, tidy = tmp_path / "messy.policy", tmp_path / "tidy.policy"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    result = run("fmt", "--check", str(messy), str(tidy))
    assert result.exit_code == EXIT_FINDINGS
    assert f"would reformat {messy}" in result.output
    assert str(tidy) not in result.output.replace("would reformat", "")
    assert messy.read_text(encoding="utf-8") == MESSY
    assert run("fmt", "--check", str(tidy)).exit_code == EXIT_OK


def test_fmt_diff_prints_a_unified_diff(tmp_path: Path) -> None:
    messy = tmp_path / "messy.policy"
    messy.write_text(MESSY, encoding="utf-8")
    result = run("fmt", "--diff", str(messy))
    assert result.exit_code == EXIT_OK
    assert f"--- {messy} (original)" in result.output and f"+++ {messy} (formatted)" in result.output
    assert '-topic   a   "A"  # the first' in result.output
    assert '+topic a "A"  # the first' in result.output
    assert messy.read_text(encoding="utf-8") == MESSY
    assert run("fmt", "--diff", "--check", str(messy)).exit_code == EXIT_FINDINGS


def test_fmt_standard_input() -> None:
    result = run("fmt", "-", input=MESSY)
    assert result.exit_code == EXIT_OK and result.stdout == TIDY
    assert run("fmt", "--check", "-", input=MESSY).exit_code == EXIT_FINDINGS
    assert run("fmt", "--check", "-", input=TIDY).exit_code == EXIT_OK
    assert run("fmt", "-", "x.policy").exit_code == EXIT_INVALID


def test_fmt_syntax_error_is_reported_and_the_file_left_alone(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.policy", tmp_path / "good.policy"
    bad.write_text('topic a "A"\ntopic b = "B"\n', encoding="utf-8")
    good.write_text(MESSY, encoding="utf-8")
    result = run("fmt", str(tmp_path))
    assert result.exit_code == EXIT_INVALID
    assert f"{bad}:2:9: error[P102]" in result.output
    assert "^" in result.output
    assert bad.read_text(encoding="utf-8") == 'topic a "A"\ntopic b = "B"\n'
    assert good.read_text(encoding="utf-8") == TIDY  # the other files are still formatted


def test_fmt_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "latin1.policy").write_bytes(b'topic a "caf\xe9"\n')
    result = run("fmt", str(tmp_path / "latin1.policy"), str(tmp_path / "missing.policy"))
    assert result.exit_code == EXIT_INVALID
    assert "error[I502]" in result.output and "error[I501]" in result.output


def test_fmt_refuses_to_write_when_unsound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.policy"
    path.write_text('topic a "A"  # keep me\n', encoding="utf-8")
    monkeypatch.setattr(formatter, "layout", lambda text, name="<input>": 'topic a "A"\n')
    result = run("fmt", str(path))
    assert result.exit_code == EXIT_INTERNAL
    assert "internal error" in result.output
    assert path.read_text(encoding="utf-8") == 'topic a "A"  # keep me\n'
