"""Hostile input: what govpost trusts, what it confines, and how it fails.

Each test here backs a sentence of docs/security.md (the document names the
test); ``test_every_test_named_by_the_security_model_exists`` keeps the two in
step. The inputs are the ones an attacker or a careless user would give:
templates that reach for Python, links out of a folder, devices, deep
nesting, broken records, full disks and a language-server client that lies.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import FIXTURES, ROOT

from toolkit.cli import cli

BUILD = FIXTURES / "build"
CIRCULAR = BUILD / "circular.policy"


def custom_template(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "document.html").write_text(body, encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------
# Templates run in a sandbox and read only their own folders
# ---------------------------------------------------------------------------

#: Ways out of an unsandboxed Jinja2 template into the operating system.
ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('touch MARK') }}",
    "{{ lipsum.__globals__['os'].popen('touch MARK').read() }}",
    "{{ joiner.__init__.__globals__.os.system('touch MARK') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch MARK') }}",
]


@pytest.mark.parametrize("payload", ESCAPES, ids=["cycler", "lipsum", "joiner", "mro", "self"])
def test_a_template_cannot_run_code(runner: CliRunner, tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "MARK"
    folder = custom_template(tmp_path / "evil", "<p>{{ document.id }}</p>\n" + payload.replace("MARK", str(marker)))
    result = runner.invoke(cli, ["build", str(CIRCULAR), "--template", str(folder), "--no-pdf",
                                 "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "error[B604]" in result.stderr
    assert "document.html` line 2: the sandbox refused it" in result.stderr
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_a_template_cannot_change_the_data(tmp_path: Path) -> None:
    from toolkit.build import BuildError, BuildOptions, build_artifacts

    folder = custom_template(tmp_path / "t", "{{ sections.append(1) }}{{ document.update({'id': 'x'}) }}")
    with pytest.raises(BuildError, match="the sandbox refused it"):
        build_artifacts(CIRCULAR, BuildOptions(pdf=False, template=str(folder)))


def test_a_template_linked_out_of_its_folder_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret line", encoding="utf-8")
    folder = custom_template(tmp_path / "t", "<p>{% include 'part.html' %}</p>\n")
    (folder / "part.html").symlink_to(secret)
    out = tmp_path / "out"
    result = runner.invoke(cli, ["build", str(CIRCULAR), "--template", str(folder), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "error[B604]: template `t`: `part.html` is a link to a file outside the template folder" in result.stderr
    assert "the secret line" not in result.output
    assert not out.exists()


def test_the_entry_point_linked_out_of_its_folder_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("<p>the secret line</p>", encoding="utf-8")
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "document.html").symlink_to(secret)
    result = runner.invoke(cli, ["build", str(CIRCULAR), "--template", str(folder), "--no-pdf",
                                 "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "`document.html` is a link to a file outside the template folder" in result.stderr
    assert "the secret line" not in result.output


def test_a_link_inside_the_template_folder_is_followed(tmp_path: Path) -> None:
    from toolkit.build import BuildOptions, build_artifacts

    folder = custom_template(tmp_path / "t", "<p>{% include 'alias.html' %}</p>\n")
    (folder / "part.html").write_text("{{ document.id }} from a part", encoding="utf-8")
    (folder / "alias.html").symlink_to(folder / "part.html")
    files, result = build_artifacts(CIRCULAR, BuildOptions(pdf=False, template=str(folder)))
    assert "test-circular from a part" in files[f"{result.policy_id}.html"].decode("utf-8")


def test_bundled_templates_render_in_the_sandbox() -> None:
    from toolkit import render

    env = render.environment(render.resolve_template("india"))
    import jinja2.sandbox

    assert isinstance(env, jinja2.sandbox.ImmutableSandboxedEnvironment)
    assert isinstance(env.loader, render.ConfinedLoader)


# ---------------------------------------------------------------------------
# A comment ends at every line break, and fmt never changes what a policy means
# ---------------------------------------------------------------------------

HIDDEN = (
    'policy p {{ title "P" }}\n'
    'topic t "T"\n'
    'lexicon w {{ "forbidden word" }}\n'
    'section s "S" {{\n'
    '    clause c "C" {{\n'
    '        topic t\n'
    '        text "No."\n'
    '        outcome prohibited\n'
    '        when text mentions w  # on personal accounts{brk}        and account.kind is personal\n'
    '        example "official" {{ text: "forbidden word", account.kind: official }} expect permitted\n'
    '    }}\n'
    '}}\n'
)
BREAKS = {"cr": "\r", "vt": "\x0b", "ff": "\x0c", "fs": "\x1c", "nel": "\x85", "ls": "\u2028", "ps": "\u2029"}


@pytest.mark.parametrize("brk", list(BREAKS.values()), ids=list(BREAKS))
def test_a_line_break_inside_a_comment_ends_it(brk: str) -> None:
    from toolkit import api

    result = api.check_text(HIDDEN.format(brk=brk), "p.policy")
    assert result.ok, result.diagnostics
    when = api.compile_result(result)["clauses"][0]["when"]
    assert when == {"all": [{"field": "text", "mentions": "w"},
                            {"field": "account.kind", "in": ["personal"]}]}
    from toolkit.testing import run_examples

    assert not run_examples(api.compile_result(result)).failed


@pytest.mark.parametrize("brk", list(BREAKS.values()), ids=list(BREAKS))
def test_fmt_keeps_the_compiled_rules_of_a_policy_with_odd_line_breaks(runner: CliRunner, tmp_path: Path,
                                                                        brk: str) -> None:
    from toolkit import api
    from toolkit.rules import dumps

    def rules(path: Path) -> str:
        data = api.compile_result(api.check_file(path))
        data["content_hash"] = ""
        for item in (*data["clauses"], *data["examples"]):
            item["source"] = {}
        return dumps(data)

    path = tmp_path / "p.policy"
    path.write_bytes(HIDDEN.format(brk=brk).encode("utf-8"))
    before = rules(path)
    result = runner.invoke(cli, ["fmt", str(path)])
    assert result.exit_code == 0, result.output
    after = path.read_text(encoding="utf-8")
    assert "# on personal accounts\n                and account.kind is personal" in after
    assert rules(path) == before


def test_the_soundness_check_compares_compiled_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit import formatter

    before = HIDDEN.format(brk="\n")
    after = formatter.layout(before).replace("and account.kind is personal", "and account.kind is official")
    # Even if the comparison of the models missed a change, the rule sets' bytes do not.
    monkeypatch.setattr(formatter, "_model", lambda text, name: ())
    monkeypatch.setattr(formatter, "_signature", lambda stream: [])
    with pytest.raises(formatter.UnsoundFormat, match="would change its compiled rules"):
        formatter.check_sound(before, after, "p.policy")


def test_the_soundness_check_reads_the_text_as_given() -> None:
    from toolkit import formatter

    # A text the layout normalised (CR made LF) is compared with what was read, not with its own input.
    seen: list[str] = []
    real = formatter.check_sound

    def spy(before: str, after: str, name: str = "<input>") -> None:
        seen.append(before)
        real(before, after, name)

    text = HIDDEN.format(brk="\r")
    import unittest.mock

    with unittest.mock.patch.object(formatter, "check_sound", spy):
        formatter.format_source(text, "p.policy")
    assert seen == [text]


def test_lines_end_at_a_lone_carriage_return() -> None:
    from toolkit import api

    result = api.check_text('policy p { title "P" }\rtopic t "T"\rlexicon w { "x" }\rsignal s means text mentons w\r',
                            "p.policy")
    [error] = result.errors
    assert (error.span.line, error.span.col) == (4, 21)
    assert error.span.snippet() == "signal s means text mentons w\n" + " " * 20 + "^~~~~~~"


def test_an_invisible_line_break_outside_a_comment_is_named() -> None:
    from toolkit import api

    result = api.check_text('policy p { title "P" }\u2028topic t "T"\n', "p.policy")
    [error] = result.errors
    assert error.code == "P102"
    assert error.message.startswith("unexpected character `U+2028`")
    assert "invisible line or page break" in (error.help or "")
    assert "\u2028" not in error.span.snippet()
