"""Hostile input: what govpost trusts, what it confines, and how it fails.

Each test here backs a sentence of docs/security.md (the document names the
test); ``test_every_test_named_by_the_security_model_exists`` keeps the two in
step. The inputs are the ones an attacker or a careless user would give:
templates that reach for Python, links out of a folder, devices, deep
nesting, broken records, full disks and a language-server client that lies.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
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
    import jinja2.sandbox

    from toolkit import render, render_report
    from toolkit.web.app import Settings, Web
    from toolkit.web.catalogue import Catalogue

    env = render.environment(render.resolve_template("india"))
    assert isinstance(env, jinja2.sandbox.ImmutableSandboxedEnvironment)
    assert isinstance(env.loader, render.ConfinedLoader)
    assert isinstance(render_report._environment(), jinja2.sandbox.ImmutableSandboxedEnvironment)
    web = Web(Catalogue.load([FIXTURES / "policies" / "minimal.policy"]), Settings())
    assert isinstance(web.env, jinja2.sandbox.ImmutableSandboxedEnvironment)


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
    # The same condition as when the comment ends at an ordinary line break.
    plain = api.check_text(HIDDEN.format(brk="\n"), "p.policy")
    assert when == api.compile_result(plain)["clauses"][0]["when"]
    assert "account.kind" in str(when)
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


# ---------------------------------------------------------------------------
# `include` and `compare_with` read only regular .policy files inside the root
# ---------------------------------------------------------------------------

HEADER = 'policy p {{ title "P"{extra} }}\n'
SECRET = "SECRET-LINE the first line of a file that is not a policy"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A policy repository (it has `.git`) inside a folder that holds a secret."""
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "secret.policy").write_text(SECRET + "\n", encoding="utf-8")
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "policies" / "topics.policy").write_text('topic t "T"\n', encoding="utf-8")
    return root


def validate(runner: CliRunner, root: Path, body: str, extra: str = "") -> tuple[int, str]:
    path = root / "policies" / "p.policy"
    path.write_text(HEADER.format(extra=extra) + body, encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize(("include", "code", "reason"), [
    ("/etc/passwd", "S226", "only `.policy` files can be named here"),
    ("../../secret.txt", "S226", "only `.policy` files can be named here"),
    ("../../secret.policy", "S225", "it lies outside the policy's root"),
    ("/proc/self/environ", "S226", "only `.policy` files can be named here"),
], ids=["absolute", "up-not-policy", "up-policy", "environ"])
def test_include_cannot_leave_the_root_or_read_other_files(runner: CliRunner, repo: Path, include: str, code: str,
                                                          reason: str) -> None:
    status, output = validate(runner, repo, f'include "{include}"\n')
    assert status == 2
    assert f"error[{code}]: cannot include `{include}`: {reason}" in output
    assert "SECRET-LINE" not in output and "root:" not in output and "PATH=" not in output


def test_include_of_a_link_out_of_the_root_is_refused(runner: CliRunner, repo: Path) -> None:
    (repo / "policies" / "env.policy").symlink_to("/proc/self/environ")
    (repo / "policies" / "up.policy").symlink_to(repo.parent / "secret.policy")
    (repo / "policies" / "dotenv.policy").symlink_to(repo / ".env")
    (repo / ".env").write_text("TOKEN=SECRET-LINE\n", encoding="utf-8")
    status, output = validate(runner, repo, 'include "env.policy"\ninclude "up.policy"\ninclude "dotenv.policy"\n')
    assert status == 2
    assert "error[S225]: cannot include `env.policy`: it is a link to `/proc/" in output
    assert "error[S225]: cannot include `up.policy`: it is a link to" in output
    assert ("error[S226]: cannot include `dotenv.policy`: it is a link to `.env`, which is not a `.policy` file"
            in output)
    assert "SECRET-LINE" not in output and "PATH=" not in output


def test_include_inside_the_root_still_works(runner: CliRunner, repo: Path) -> None:
    (repo / "policies" / "in").mkdir()
    (repo / "policies" / "in" / "p.policy").write_text(
        HEADER.format(extra="") + 'include "../topics.policy"\n', encoding="utf-8")
    (repo / "policies" / "alias.policy").symlink_to(repo / "policies" / "topics.policy")
    assert runner.invoke(cli, ["validate", str(repo / "policies" / "in" / "p.policy")]).exit_code == 0
    status, output = validate(runner, repo, 'include "alias.policy"\n')
    assert status == 0, output


def test_a_lexicon_data_file_is_confined_like_an_include(runner: CliRunner, repo: Path) -> None:
    (repo / "policies" / "words.tsv").write_text("entry\nforbidden word\n", encoding="utf-8")
    (repo / "policies" / "link.tsv").symlink_to(repo.parent / "secret.txt")
    status, output = validate(runner, repo, 'lexicon a "A" from "/etc/passwd"\nlexicon b "B" from "../../secret.txt"\n'
                                            'lexicon c "C" from "link.tsv"\nlexicon d "D" from "words.tsv"\n')
    assert status == 2
    assert "error[S226]: cannot read the data file `/etc/passwd` of lexicon `a`: only `.tsv` files" in output
    assert "error[S226]: cannot read the data file `../../secret.txt` of lexicon `b`" in output
    assert "error[S225]: cannot read the data file `link.tsv` of lexicon `c`: it is a link to" in output
    assert "lexicon `d`" not in output
    assert "SECRET-LINE" not in output and "root:" not in output


def test_a_configured_root_confines_includes(runner: CliRunner, repo: Path) -> None:
    (repo / "policies" / "in").mkdir()
    path = repo / "policies" / "in" / "p.policy"
    path.write_text(HEADER.format(extra="") + 'include "../topics.policy"\n', encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(path)], env={"GOVPOST_ROOT": str(repo / "policies" / "in")})
    assert result.exit_code == 2
    assert "error[S225]: cannot include `../topics.policy`: it lies outside the policy's root" in result.output
    # Outside any repository, the root is the policy's own folder.
    loose = repo.parent / "loose"
    (loose / "in").mkdir(parents=True)
    (loose / "topics.policy").write_text('topic t "T"\n', encoding="utf-8")
    (loose / "in" / "p.policy").write_text(HEADER.format(extra="") + 'include "../topics.policy"\n',
                                           encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(loose / "in" / "p.policy")])
    assert result.exit_code == 2 and "error[S225]" in result.output


@pytest.mark.parametrize(("other", "code"), [("/etc/passwd", "S226"), ("../../secret.policy", "S225"),
                                            ("/dev/zero", "S226")])
def test_compare_with_is_confined_like_an_include(runner: CliRunner, repo: Path, other: str, code: str) -> None:
    status, output = validate(runner, repo, "", extra=f' compare_with "{other}"')
    assert status == 2
    assert f"error[{code}]: `compare_with` cannot name `{other}`" in output
    assert "SECRET-LINE" not in output and "root:" not in output
    result = runner.invoke(cli, ["build", str(repo / "policies" / "p.policy"), "--no-pdf",
                                 "-o", str(repo / "out")])
    assert result.exit_code == 2 and f"error[{code}]" in result.output


def test_the_language_server_confines_includes(repo: Path) -> None:
    from toolkit.lsp import analyse

    path = repo / "policies" / "p.policy"
    text = HEADER.format(extra="") + 'include "/etc/passwd"\ninclude "../../secret.policy"\n'
    analysis = analyse(path.as_uri(), text, 1, {})
    found = {(d.code, d.message) for d in analysis.diagnostics}
    assert ("S226", "cannot include `/etc/passwd`: only `.policy` files can be named here") in found
    assert any(code == "S225" for code, _ in found)
    assert not any("root:" in m or "SECRET-LINE" in m for _, m in found)


def test_a_policy_linked_out_of_its_repository_is_refused(runner: CliRunner, repo: Path) -> None:
    (repo / "policies" / "evil.policy").symlink_to("/proc/self/environ")
    result = runner.invoke(cli, ["validate", str(repo / "policies" / "evil.policy")])
    assert result.exit_code == 2
    assert "error[I501]: cannot read" in result.output and "outside the policy's root" in result.output
    assert "PATH=" not in result.output


# ---------------------------------------------------------------------------
# Devices, pipes and huge files are refused, never read
# ---------------------------------------------------------------------------


def run_govpost(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`govpost ARGS` in a process of its own: a hang is a timeout, not a frozen test run."""
    return subprocess.run([sys.executable, "-m", "toolkit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_include_of_a_pipe_or_a_folder_is_refused_without_reading(repo: Path) -> None:
    os.mkfifo(repo / "policies" / "fifo.policy")
    (repo / "policies" / "dir.policy").mkdir()
    path = repo / "policies" / "p.policy"
    path.write_text(HEADER.format(extra="") + 'include "fifo.policy"\ninclude "dir.policy"\n', encoding="utf-8")
    for command in ("validate", "lint"):
        done = run_govpost(command, str(path), cwd=repo)
        assert done.returncode == 2, done.stderr
        output = done.stdout + done.stderr
        assert "error[S226]: cannot include `fifo.policy`: it is a pipe, not a regular file" in output
        assert "error[S226]: cannot include `dir.policy`: it is a folder, not a regular file" in output


def test_include_of_a_device_is_refused(repo: Path) -> None:
    device = repo / "policies" / "zero.policy"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's device numbers
    except OSError:
        pytest.skip("this machine does not let the tests make a device node")
    path = repo / "policies" / "p.policy"
    path.write_text(HEADER.format(extra="") + 'include "zero.policy"\n', encoding="utf-8")
    done = run_govpost("validate", str(path), cwd=repo)
    assert done.returncode == 2
    assert "error[S226]: cannot include `zero.policy`: it is a device, not a regular file" in done.stdout + done.stderr


def test_a_policy_file_is_at_most_a_mebibyte(runner: CliRunner, repo: Path) -> None:
    from toolkit.confine import MAX_POLICY_BYTES

    big = repo / "policies" / "big.policy"
    big.write_text("# " + "x" * MAX_POLICY_BYTES + "\n", encoding="utf-8")
    status, output = validate(runner, repo, 'include "big.policy"\n')
    assert status == 2
    assert "error[I504]: cannot include `big.policy`: it is larger than 1,048,576 bytes" in output
    result = runner.invoke(cli, ["validate", str(big)])
    assert result.exit_code == 2
    assert "error[I504]: cannot read" in result.output


def test_validating_dev_zero_stops_at_the_limit(tmp_path: Path) -> None:
    done = run_govpost("validate", "/dev/zero", cwd=tmp_path)
    assert done.returncode == 2
    assert "error[I504]: cannot read `/dev/zero`: it is larger than 1,048,576 bytes" in done.stderr + done.stdout


def test_build_with_compare_with_a_device_ends(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(HEADER.format(extra=' compare_with "/dev/zero"'), encoding="utf-8")
    done = run_govpost("build", "p.policy", "--no-pdf", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert "error[S226]: `compare_with` cannot name `/dev/zero`" in done.stderr + done.stdout


# ---------------------------------------------------------------------------
# Deep nesting is a located error, never a crash
# ---------------------------------------------------------------------------


def nested_policy(kind: str, depth: int) -> str:
    """A policy whose `kind` (not, andor, sections, post, header) nests `depth` levels."""
    when = "text mentions w"
    example = 'example "a" { text: "forbidden word" } expect prohibited'
    header = 'title "P"'
    if kind == "not":
        when = "not " * (depth - depth % 2) + when + (" and not text mentions v" if depth % 2 else "")
    elif kind == "andor":
        for i in range(depth):
            when = f"text mentions w {'and' if i % 2 else 'or'} ({when})"
    elif kind == "post":
        example = 'example "a" { text: "forbidden word", labels: ' + "[" * (depth - 1) + '"x"' + "]" * (depth - 1)
        example += " } expect prohibited"
    elif kind == "header":
        header += " signatory " + "{ name " * depth + '"x"' + " }" * depth
    clause = (f'clause c "C" {{ topic t text "No." outcome prohibited when {when}\n'
              f'    {example} }}')
    body = clause
    for i in range(depth if kind == "sections" else 1):
        body = f'section s{i} "S" {{\n{body}\n}}'
    return (f'policy p {{ {header} }}\ntopic t "T"\nlexicon w {{ "forbidden word" }}\nlexicon v {{ "other" }}\n'
            f"{body}\n")


def every_command(runner: CliRunner, path: Path, tmp_path: Path) -> dict[str, int]:
    codes = {}
    for name, args in {
        "validate": ["validate", str(path)],
        "lint": ["lint", str(path)],
        "test": ["test", str(path)],
        "textconv": ["textconv", str(path)],
        "fmt": ["fmt", "--check", str(path)],
        "diff": ["diff", str(path), str(path)],
        "compare": ["compare", str(path), str(path)],
        "compile": ["compile", str(path), "-o", str(tmp_path / "out")],
        "build": ["build", str(path), "--no-pdf", "-o", str(tmp_path / "out")],
        "check": ["check", str(path), "--text", "forbidden word"],
    }.items():
        result = runner.invoke(cli, args)
        assert "Traceback" not in result.output and "internal error" not in result.output, (name, result.output)
        assert not isinstance(result.exception, RecursionError), name
        codes[name] = result.exit_code
    return codes


@pytest.mark.parametrize("kind", ["not", "andor", "sections", "post", "header"])
def test_the_deepest_nesting_allowed_works_everywhere(runner: CliRunner, tmp_path: Path, kind: str) -> None:
    from toolkit.lsp import analyse
    from toolkit.syntax import MAX_NESTING

    path = tmp_path / "p.policy"
    path.write_text(nested_policy(kind, MAX_NESTING), encoding="utf-8")
    codes = every_command(runner, path, tmp_path)
    if kind in ("not", "andor", "sections"):
        assert set(codes.values()) <= {0, 1}, codes
    else:  # the values are not valid posts or header values: errors, reported as errors
        assert codes["validate"] == 2 and 3 not in codes.values(), codes
    analyse(path.as_uri(), path.read_text(encoding="utf-8"), 1, {})


@pytest.mark.parametrize(("kind", "depth", "what"), [
    ("not", 33, "condition"), ("not", 500, "condition"), ("andor", 1000, "condition"),
    ("sections", 33, "section"), ("sections", 1000, "section"), ("post", 1000, "example post"),
    ("header", 1000, "header value"),
])
def test_nesting_too_deep_is_a_located_error(runner: CliRunner, tmp_path: Path, kind: str, depth: int,
                                             what: str) -> None:
    from toolkit.lsp import analyse

    path = tmp_path / "p.policy"
    text = nested_policy(kind, depth)
    path.write_text(text, encoding="utf-8")
    codes = every_command(runner, path, tmp_path)
    assert codes["textconv"] == 0  # it prints a file it cannot read as it is
    assert {c for name, c in codes.items() if name != "textconv"} == {2}, codes
    result = runner.invoke(cli, ["validate", str(path)])
    assert re.search(rf"p\.policy:\d+:\d+: error\[P105\]: this {what} is nested more than 32 levels deep",
                     result.output), result.output
    assert any(d.code == "P105" for d in analyse(path.as_uri(), text, 1, {}).diagnostics)


@pytest.mark.parametrize("depth", [200, 5000])
def test_a_rule_set_nested_too_deeply_is_refused(runner: CliRunner, tmp_path: Path, depth: int) -> None:
    import json

    from support import POLICIES

    rules = json.loads((POLICIES / "minimal.rules.json").read_text(encoding="utf-8"))
    text = json.dumps(rules)
    deep = '{"not": ' * depth + '{"labelled": "x"}' + "}" * depth
    first_when = json.dumps(rules["clauses"][0]["when"])
    path = tmp_path / "deep.rules.json"
    path.write_text(text.replace(first_when, deep, 1), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path), "--text", "hello"])
    assert result.exit_code == 2, result.output
    assert "error[C401]: not a govpost rule set" in result.output


def test_a_rule_set_compiled_from_the_deepest_policy_is_read(tmp_path: Path) -> None:
    from toolkit import api, rules
    from toolkit.syntax import MAX_NESTING

    when = "text mentions v"
    for i in range(MAX_NESTING):
        when = f"text mentions v {'and' if i % 2 else 'or'} ({when})"
    # An exception's condition sits deepest in the rule set's JSON.
    text = nested_policy("andor", MAX_NESTING).replace("outcome prohibited when",
                                                        f'outcome prohibited unless "u" {when} when', 1)
    result = api.check_text(text, "p.policy")
    assert result.ok, result.diagnostics
    rules.loads(rules.dumps(api.compile_result(result)))


# ---------------------------------------------------------------------------
# One bad record is reported, and the run goes on
# ---------------------------------------------------------------------------

PATTERN_POLICY = (
    'policy p { title "P" }\ntopic t "T"\npattern num /\\d{5}/\nlexicon w { "forbidden word" }\n'
    'section s "S" {\n'
    '    clause c "C" { topic t text "No." outcome prohibited when text matches num or text mentions w }\n}\n'
)


@pytest.fixture
def pattern_policy(tmp_path: Path) -> Path:
    path = tmp_path / "pattern.policy"
    path.write_text(PATTERN_POLICY, encoding="utf-8")
    return path


def check_records(runner: CliRunner, policy: Path, path: Path, *args: str) -> tuple[int, list[dict], str]:
    import json

    result = runner.invoke(cli, ["check", str(policy), str(path), "--format", "jsonl", *args])
    assert "internal error" not in result.output, result.output
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bad_json_lines_are_reported_and_the_run_goes_on(runner: CliRunner, tmp_path: Path, pattern_policy: Path,
                                                         jobs: str) -> None:
    lines = [
        '{"text": "file 12345"}',
        "[" * 1025 + "]" * 1025,
        '{"text": "' + "{" * 0 + '", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"text": "a lone \\ud800 surrogate 12345"}',
        '{"text": "a lone low \\udc00 surrogate"}',
        '{"text": "forbidden word", "n": ' + "9" * 5000 + "}",
        '{"text": "' + "x" * (1 << 20) + '"}',
        '{"text": "last 12345"}',
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, records, stderr = check_records(runner, pattern_policy, path, "--jobs", jobs)
    assert status == 2
    assert [r["record"] for r in records] == list(range(1, 9))
    assert [r.get("outcome") or r["errors"][0]["code"] for r in records] == [
        "prohibited", "R301", "R301", "R311", "R311", "R301", "R312", "prohibited"]
    assert "nested too deeply" in records[1]["errors"][0]["message"]
    assert "`text` holds `\\ud800`, half of a surrogate pair" in records[3]["errors"][0]["message"]
    assert "a number is too long" in records[5]["errors"][0]["message"]
    assert "posts.jsonl:7: error[R312]: record 7: the line is 1,048,588 characters long" in stderr


def test_bad_elements_of_a_json_array_are_reported_and_the_rest_read(runner: CliRunner, tmp_path: Path,
                                                                    pattern_policy: Path) -> None:
    elements = [
        '{"text": "file 12345"}',
        "[" * 3000 + "]" * 3000,
        '{"text": "a \\ud800 b"}',
        '{"text": "' + 'q\\"' * 400_000 + '"}',
        "1" * 5000,
        '{"text": "last 12345"}',
    ]
    path = tmp_path / "posts.json"
    path.write_text("[\n" + ",\n".join(elements) + "\n]\n", encoding="utf-8")
    status, records, _ = check_records(runner, pattern_policy, path)
    assert status == 2
    assert [(r["record"], r["line"]) for r in records] == [(i, i + 1) for i in range(1, 7)]
    assert [r.get("outcome") or r["errors"][0]["code"] for r in records] == [
        "prohibited", "R301", "R311", "R312", "R301", "prohibited"]


def test_a_parquet_text_that_is_not_utf8_is_one_bad_record(runner: CliRunner, tmp_path: Path,
                                                           pattern_policy: Path) -> None:
    import struct

    import pyarrow as pa
    import pyarrow.parquet as pq

    data = [b"file 12345", b"bad \xff byte", b"last 12345"]
    offsets = [0]
    for d in data:
        offsets.append(offsets[-1] + len(d))
    column = pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(struct.pack(f"<{len(offsets)}i",
                                                                                           *offsets)),
                                                            pa.py_buffer(b"".join(data))])
    path = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"text": column}), path)
    status, records, _ = check_records(runner, pattern_policy, path)
    assert status == 2
    assert [r.get("outcome") or r["errors"][0]["code"] for r in records] == ["prohibited", "R311", "prohibited"]


def test_text_that_is_not_utf8_on_the_command_line_is_a_bad_record(runner: CliRunner, pattern_policy: Path) -> None:
    # Python hands a command-line byte that is not UTF-8 to the program as a lone surrogate (U+DC80-U+DCFF).
    result = runner.invoke(cli, ["check", str(pattern_policy), "--text", "a\udcffb 12345"])
    assert result.exit_code == 2
    assert "<options>:1: error[R311]: record 1: `text` is not valid UTF-8: it holds the byte 0xff" in result.stderr
    done = subprocess.run([sys.executable, "-m", "toolkit", "check", str(pattern_policy), "--text", b"a\xffb 12345"],
                          capture_output=True, check=False, timeout=60)
    assert done.returncode == 2
    assert b"error[R311]" in done.stderr and b"internal error" not in done.stderr


def test_a_post_longer_than_a_mebibyte_is_a_bad_record(runner: CliRunner, pattern_policy: Path,
                                                       tmp_path: Path) -> None:
    result = runner.invoke(cli, ["check", str(pattern_policy), "--text", "word " * 300_000])
    assert result.exit_code == 2
    assert "error[R312]: record 1: the post holds 1,500,0" in result.stderr
    path = tmp_path / "posts.csv"
    path.write_text("text\nfile 12345\n\"" + "word " * 300_000 + "\"\nlast 12345\n", encoding="utf-8")
    status, records, _ = check_records(runner, pattern_policy, path)
    assert status == 2
    assert [r.get("outcome") or r["errors"][0]["code"] for r in records] == ["prohibited", "R312", "prohibited"]


# ---------------------------------------------------------------------------
# A CSV quote that is never closed loses no record
# ---------------------------------------------------------------------------


def test_an_unterminated_csv_quote_is_reported_and_the_rows_after_it_read(runner: CliRunner, tmp_path: Path,
                                                                        pattern_policy: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text('text,platform\nfile 12345,x\n"never closed 12345,x\nsecond 12345,x\na cell,x\n'
                    'last 12345,x\n', encoding="utf-8")
    status, records, stderr = check_records(runner, pattern_policy, path)
    assert status == 2
    assert [(r["record"], r["line"], r.get("outcome") or r["errors"][0]["code"]) for r in records] == [
        (1, 2, "prohibited"), (2, 3, "R301"), (3, 4, "prohibited"), (4, 5, "permitted"), (5, 6, "prohibited")]
    assert ("posts.csv:3: error[R301]: record 2: not a valid CSV row: the quote it opens is never closed; "
            "the 3 lines after it are read again as rows") in stderr


def test_a_quoted_cell_over_several_lines_is_one_record(runner: CliRunner, tmp_path: Path,
                                                        pattern_policy: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text('text\nfirst\n"two\nlines 12345"\nlast\n', encoding="utf-8")
    status, records, _ = check_records(runner, pattern_policy, path)
    assert status == 1
    assert [(r["line"], r["outcome"]) for r in records] == [(2, "permitted"), (3, "prohibited"), (5, "permitted")]


def test_a_csv_row_longer_than_a_record_is_reported_and_skipped(runner: CliRunner, tmp_path: Path,
                                                               pattern_policy: Path) -> None:
    path = tmp_path / "posts.csv"
    # A line of 3 million characters, then a quoted cell of 1,200 lines of 1,000 characters.
    path.write_text("text\nfirst 12345\n" + "x" * 3_000_000 + "\n\"" + ("y" * 1000 + "\n") * 1200
                    + "\"\nlast 12345\n", encoding="utf-8")
    status, records, _ = check_records(runner, pattern_policy, path)
    assert status == 2
    found = [(r["line"], r.get("outcome") or r["errors"][0]["code"]) for r in records]
    assert found[:3] == [(2, "prohibited"), (3, "R312"), (4, "R312")]
    # The lines after the start of the cell that was too long are rows again; the last `"` opens a quote
    # that is never closed, and the line after it is read again.
    assert found[-2:] == [(1204, "R301"), (1205, "prohibited")]
    assert len({line for line, _ in found}) == len(found)  # every line is in one record only


# ---------------------------------------------------------------------------
# A write that fails (full disk, not a folder) is exit 2 and keeps what was there
# ---------------------------------------------------------------------------


def full_disk_run(args: list[str], cwd: Path, limit: int = 300) -> subprocess.CompletedProcess[str]:
    """`govpost ARGS` where no file may grow past `limit` bytes: every larger write fails as on a full disk."""
    import resource
    import signal

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "toolkit", *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=limited, timeout=120, check=False)


def visible(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary files and unfinished sets anywhere under an output folder."""
    out = [str(p.relative_to(folder)) for p in folder.rglob("*") if re.search(r"\.(tmp|link)$", p.name)]
    for home in (folder / ".govpost").glob("*"):
        current = os.readlink(home / "current") if (home / "current").is_symlink() else None
        out += [str(g.relative_to(folder)) for g in home.iterdir() if g.name not in ("current", current)]
    return out


def test_every_writing_command_fails_cleanly_on_a_full_disk(tmp_path: Path) -> None:
    import json

    shutil.copy(BUILD / "circular.policy", tmp_path / "circular.policy")
    shutil.copy(BUILD / "guidance.policy", tmp_path / "guidance.policy")
    (tmp_path / "posts.jsonl").write_text(json.dumps({"text": "Vote for the Purple Party!"}) * 0
                                          + '{"text": "x"}\n' * 40 + "oops\n", encoding="utf-8")
    (tmp_path / "messy.policy").write_text(
        (tmp_path / "guidance.policy").read_text(encoding="utf-8").replace("\n", "\n\n\n"), encoding="utf-8")
    commands = {
        "compile": (["compile", "circular.policy", "-o", "out"], ["out/test-circular.rules.json"]),
        "check": (["check", "circular.policy", "posts.jsonl", "-o", "out/results.jsonl", "--errors", "out/bad.jsonl"],
                  ["out/results.jsonl", "out/bad.jsonl"]),
        "test": (["test", "circular.policy", "--junit", "out/junit.xml"], ["out/junit.xml"]),
        "diff": (["diff", "circular.policy", "guidance.policy", "-o", "out/diff.txt"], ["out/diff.txt"]),
        "compare": (["compare", "circular.policy", "guidance.policy", "-o", "out/compare.txt"], ["out/compare.txt"]),
        "lint": (["lint", "circular.policy", "--format", "json", "-o", "out/lint.json"], ["out/lint.json"]),
        "fmt": (["fmt", "messy.policy"], ["messy.policy"]),
        "build": (["build", "circular.policy", "--no-pdf", "-o", "out"],
                  ["out/test-circular.html", "out/test-circular.rules.json"]),
    }
    (tmp_path / "out").mkdir()
    for name, (args, outputs) in commands.items():
        for output in outputs:
            if name != "fmt":
                (tmp_path / output).write_text(f"earlier {output}\n", encoding="utf-8")
        before = {o: (tmp_path / o).read_bytes() for o in outputs}
        done = full_disk_run(args, tmp_path)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, name
        code = "B606" if name == "build" else "I505"
        assert f"error[{code}]" in done.stderr, (name, done.stderr)
        assert "File too large" in done.stderr, name
        assert {o: (tmp_path / o).read_bytes() for o in outputs} == before, name
        assert leftovers(tmp_path / "out") == [], name


def test_an_output_that_is_not_a_folder_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder", encoding="utf-8")
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "x"}\n', encoding="utf-8")
    for args in (["compile", str(CIRCULAR), "-o", str(tmp_path / "file" / "out")],
                 ["check", str(CIRCULAR), str(posts), "-o", str(tmp_path / "file" / "r.jsonl")],
                 ["diff", str(CIRCULAR), str(CIRCULAR), "-o", str(tmp_path / "file" / "d.txt")]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error[I505]: cannot write" in result.stderr and "Not a directory" in result.stderr


# ---------------------------------------------------------------------------
# A build's outputs are one set: all old or all new, whatever happens
# ---------------------------------------------------------------------------


def two_versions(folder: Path) -> tuple[Path, Path]:
    """The same policy (same id, so the same output names) in two versions, A and B."""
    text = (BUILD / "circular.policy").read_text(encoding="utf-8")
    shutil.copy(BUILD / "guidance.policy", folder / "guidance.policy")
    a, b = folder / "a.policy", folder / "b.policy"
    a.write_text(text.replace('"Guidelines on social', '"VERSION-A guidelines on social', 1), encoding="utf-8")
    b.write_text(text.replace('"Guidelines on social', '"VERSION-B guidelines on social', 1), encoding="utf-8")
    assert a.read_text(encoding="utf-8") != b.read_text(encoding="utf-8")
    return a, b


def versions_seen(out: Path) -> set[str]:
    """Which version each visible output comes from (a consistent set gives one)."""
    seen = set()
    for path in out.iterdir():
        if path.is_file():
            data = path.read_bytes()
            seen |= {v for v in ("VERSION-A", "VERSION-B") if v.encode() in data}
    return seen


KILL_AT = """
import os, signal, sys
real = os.replace
count = [0]
def replace(*args, **kwargs):
    count[0] += 1
    if sys.argv[2] == "before" and count[0] == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    real(*args, **kwargs)
    if sys.argv[2] == "after" and count[0] == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from toolkit.cli import main
main(sys.argv[3:])
"""


@pytest.mark.slow  # up to twenty builds in processes of their own: about 2-4 s
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("earlier", ["set", "files"])
def test_a_build_killed_at_any_rename_leaves_one_whole_set(tmp_path: Path, when: str, earlier: str) -> None:
    a, b = two_versions(tmp_path)
    out = tmp_path / "out"
    assert run_govpost("build", str(a), "--no-pdf", "-o", str(out), cwd=tmp_path).returncode == 0
    if earlier == "files":  # outputs as an earlier govpost wrote them: plain files
        files = visible(out)
        shutil.rmtree(out)
        out.mkdir()
        for name, data in files.items():
            (out / name).write_bytes(data)
    assert versions_seen(out) == {"VERSION-A"}
    kills = 0
    for kill_at in range(1, 20):
        done = subprocess.run([sys.executable, "-c", KILL_AT, str(kill_at), when, "build", str(b), "--no-pdf", "-o",
                               str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert len(versions_seen(out)) == 1, (kill_at, versions_seen(out))
        assert sorted(visible(out)) == ["test-circular.html", "test-circular.rules.json"]
        if done.returncode == 0:
            break
        assert done.returncode == -9, done.stderr
        kills += 1
    assert kills >= 1
    assert done.returncode == 0 and versions_seen(out) == {"VERSION-B"}
    # What the killed builds left is gone after the next build.
    assert run_govpost("build", str(a), "--no-pdf", "-o", str(out), cwd=tmp_path).returncode == 0
    assert leftovers(out) == []
    assert versions_seen(out) == {"VERSION-A"}


SLOW = """
import os, sys, time
real = os.replace
def replace(*args, **kwargs):
    time.sleep(0.05)
    return real(*args, **kwargs)
os.replace = replace
from toolkit.cli import main
main(sys.argv[1:])
"""


def test_concurrent_builds_into_one_folder_take_turns(tmp_path: Path) -> None:
    a, b = two_versions(tmp_path)
    out = tmp_path / "out"
    for _round in range(1):
        procs = [subprocess.Popen([sys.executable, "-c", SLOW, "build", str(p), "--no-pdf", "-o", str(out)],
                                  cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for p in (a, b, a, b)]
        for proc in procs:
            assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
        assert len(versions_seen(out)) == 1
        assert leftovers(out) == []


def waiting(pid: int) -> bool:
    """Whether process `pid` waits for a lock (the kernel lists waiters with `->` in /proc/locks)."""
    return any(line.split()[1:2] == ["->"] and f" {pid} " in f" {line} "
               for line in Path("/proc/locks").read_text(encoding="ascii").splitlines())


def test_a_build_waits_for_the_lock_of_its_output_folder(tmp_path: Path) -> None:
    import fcntl
    import time

    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as another build writing into the folder holds it
    try:
        proc = subprocess.Popen([sys.executable, "-m", "toolkit", "build", str(CIRCULAR), "--no-pdf", "-o", str(out)],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not waiting(proc.pid):
            time.sleep(0.05)  # the build makes its circular, then waits for the folder
        assert proc.poll() is None, "the build wrote into a folder another writer held"
        assert waiting(proc.pid)
        assert visible(out) == {}
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert proc.wait(timeout=60) == 0
    assert sorted(visible(out)) == ["test-circular.html", "test-circular.rules.json"]


def test_outputs_are_links_into_the_current_set(tmp_path: Path) -> None:
    from toolkit.build import BuildOptions, build

    out = tmp_path / "out"
    build(CIRCULAR, BuildOptions(out_dir=out, pdf=False))
    link = out / "test-circular.html"
    assert os.readlink(link) == ".govpost/test-circular/current/test-circular.html"
    assert link.is_file() and stat.S_IMODE(link.stat().st_mode) == 0o666 & ~_umask()
    assert stat.S_IMODE((out / ".govpost" / "test-circular" / "current").stat().st_mode) == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_files_from_an_earlier_layout_are_adopted_unchanged(tmp_path: Path) -> None:
    from toolkit.build import BuildOptions, build

    out = tmp_path / "out"
    out.mkdir()
    (out / "test-circular.html").write_text("an older build's html", encoding="utf-8")
    (out / "test-circular.rules.json").write_text("compiled by govpost compile", encoding="utf-8")
    (out / "notes.txt").write_text("not ours", encoding="utf-8")
    build(CIRCULAR, BuildOptions(out_dir=out, pdf=False))
    assert (out / "notes.txt").read_text(encoding="utf-8") == "not ours"
    assert "<html" in (out / "test-circular.html").read_text(encoding="utf-8")
    assert leftovers(out) == []


def test_a_stale_temporary_file_is_cleaned_and_a_live_one_kept(tmp_path: Path) -> None:
    from toolkit import atomic

    stale = tmp_path / ".results.jsonl.abcd1234.tmp"
    stale.write_text("left by a killed writer", encoding="utf-8")
    live = atomic.open_stream(tmp_path / "other.jsonl")
    live.write(b"being written")
    atomic.write_file(tmp_path / "x.json", b"{}")
    assert not stale.exists()
    assert Path(live.tmp).exists()
    live.commit()
    assert (tmp_path / "other.jsonl").read_bytes() == b"being written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.jsonl", "x.json"]


# ---------------------------------------------------------------------------
# fmt formats what a link points to, and keeps the link
# ---------------------------------------------------------------------------


def test_fmt_on_a_link_formats_its_target(runner: CliRunner, repo: Path) -> None:
    target = repo / "policies" / "real.policy"
    target.write_text('policy p {  title   "P" }\ntopic t   "T"\n', encoding="utf-8")
    link = repo / "policies" / "link.policy"
    link.symlink_to("real.policy")
    result = runner.invoke(cli, ["fmt", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "real.policy"
    assert target.read_text(encoding="utf-8") == 'policy p {\n    title "P"\n}\n\ntopic t "T"\n'


def test_fmt_never_writes_through_a_link_out_of_the_repository(runner: CliRunner, repo: Path) -> None:
    outside = repo.parent / "outside.policy"
    outside.write_text('policy p {  title   "P" }\n', encoding="utf-8")
    (repo / "policies" / "out.policy").symlink_to(outside)
    result = runner.invoke(cli, ["fmt", str(repo / "policies")])
    assert result.exit_code == 2
    assert "error[I501]: cannot read" in result.stderr and "outside the policy's root" in result.stderr
    assert outside.read_text(encoding="utf-8") == 'policy p {  title   "P" }\n'


# ---------------------------------------------------------------------------
# Built files do not depend on how the policy's path was typed
# ---------------------------------------------------------------------------


def test_built_files_are_the_same_from_any_working_directory(tmp_path: Path) -> None:
    relative = CIRCULAR.relative_to(ROOT)
    runs = {
        "from the root": (ROOT, str(relative)),
        "from a subfolder": (ROOT / "tests", str(CIRCULAR.relative_to(ROOT / "tests"))),
        "absolute, from elsewhere": (tmp_path, str(CIRCULAR)),
    }
    built = {}
    for name, (cwd, path) in runs.items():
        out = tmp_path / name.replace(" ", "-").replace(",", "")
        done = run_govpost("build", path, "-o", str(out), cwd=cwd, timeout=120)
        assert done.returncode == 0, done.stderr
        built[name] = visible(out)
    first, *others = built.values()
    assert all(other == first for other in others)
    rules = first["test-circular.rules.json"].decode("utf-8")
    assert f'"file": "{relative.as_posix()}"' in rules
    assert str(ROOT) not in rules and str(tmp_path) not in rules
    assert str(ROOT).encode() not in first["test-circular.pdf"]


# ---------------------------------------------------------------------------
# The language server answers every request and caps what it reads
# ---------------------------------------------------------------------------


class RawClient:
    """`govpost lsp` in a process of its own, spoken to in raw JSON-RPC frames (as a careless client would)."""

    def __init__(self, cwd: Path):
        import queue
        import threading

        self.proc = subprocess.Popen([sys.executable, "-m", "toolkit", "lsp"], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        import json

        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line in (b"\r\n", b"\n"):
                    break
            self.messages.put(json.loads(out.read(length or 0)))

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict | bytes) -> None:
        import json

        body = message if isinstance(message, bytes) else json.dumps(message).encode("utf-8")
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def answer(self, msg_id: object, timeout: float = 20) -> dict:
        """The response to request `msg_id` (other messages are skipped)."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                message = self.messages.get(timeout=max(0.01, end - time.monotonic()))
            except Exception:  # noqa: BLE001 - queue.Empty: no answer in time
                break
            if "method" not in message and message.get("id") == msg_id:
                return message
        raise AssertionError(f"no answer to request {msg_id!r}")

    def start(self, uri: str, text: str) -> None:
        self.send({"jsonrpc": "2.0", "id": "init", "method": "initialize",
                   "params": {"capabilities": {}, "processId": None, "rootUri": None}})
        self.answer("init")
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        self.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "govpost", "version": 1, "text": text}}})

    def close(self) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        err = self.proc.stderr.read().decode("utf-8", "replace")
        self.proc.stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code, err


@pytest.fixture
def raw(tmp_path: Path) -> Iterator[RawClient]:
    client = RawClient(tmp_path)
    yield client
    if client.proc.poll() is None:
        client.proc.kill()
        client.proc.wait()
    for stream in (client.proc.stdin, client.proc.stdout, client.proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()


def test_the_language_server_answers_unknown_methods(raw: RawClient, tmp_path: Path) -> None:
    raw.send({"jsonrpc": "2.0", "id": 0, "method": "govpost/unknown"})  # before initialize, without params
    assert raw.answer(0)["error"]["code"] == -32601
    raw.start((tmp_path / "p.policy").as_uri(), 'policy p { title "P" }\n')
    for msg_id, message in enumerate(({"method": "foo/bar"}, {"method": "foo/bar", "params": {}},
                                      {"method": "textDocument/nothing", "params": [1, 2]}), 1):
        raw.send({"jsonrpc": "2.0", "id": msg_id, **message})
        error = raw.answer(msg_id)["error"]
        assert error["code"] == -32601 and error["message"] == f"Method Not Found: {message['method']}"


@pytest.mark.parametrize(("position", "where"), [
    ({"line": -1, "character": 0}, "$.params.position"),
    ({"line": 0, "character": "x"}, "$.params.position.character"),
    (None, "$.params.position"),
])
def test_the_language_server_answers_bad_positions_with_an_error(raw: RawClient, tmp_path: Path, position: dict,
                                                                  where: str) -> None:
    uri = (tmp_path / "p.policy").as_uri()
    raw.start(uri, 'policy p { title "P" }\n')
    for msg_id, method in enumerate(("textDocument/hover", "textDocument/definition", "textDocument/completion")):
        params: dict = {"textDocument": {"uri": uri}}
        if position is not None:
            params["position"] = position
        raw.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        error = raw.answer(msg_id)["error"]
        assert error["code"] == -32602, error
        assert error["message"].startswith(f"Invalid Params: the parameters of `{method}` do not fit it")
        assert where in error["message"]
    # Far positions in a good shape are no error: there is nothing there.
    raw.send({"jsonrpc": "2.0", "id": "far", "method": "textDocument/hover",
              "params": {"textDocument": {"uri": uri}, "position": {"line": 99999, "character": 99999}}})
    assert raw.answer("far")["result"] is None


def test_a_message_that_is_not_json_gets_a_parse_error(raw: RawClient, tmp_path: Path) -> None:
    raw.start((tmp_path / "p.policy").as_uri(), 'policy p { title "P" }\n')
    raw.send(b"{not json")
    answer = raw.answer(None)
    assert answer["error"]["code"] == -32700
    raw.send({"jsonrpc": "2.0", "id": "after", "method": "shutdown"})
    assert "result" in raw.answer("after")


def test_a_message_over_the_limit_is_refused_and_the_server_goes_on(raw: RawClient, tmp_path: Path) -> None:
    from toolkit.lsp import MAX_MESSAGE_BYTES

    raw.start((tmp_path / "p.policy").as_uri(), 'policy p { title "P" }\n')
    size = MAX_MESSAGE_BYTES + 1
    raw.send_bytes(b"Content-Length: %d\r\n\r\n" % size + b"x" * size)
    refused = raw.answer(None)
    assert refused["error"]["code"] == -32600
    assert f"a message of {size:,} bytes was refused" in refused["error"]["message"]
    raw.send({"jsonrpc": "2.0", "id": "after", "method": "shutdown"})
    assert "result" in raw.answer("after")


def test_a_huge_content_length_costs_no_memory(raw: RawClient) -> None:
    raw.send_bytes(b"Content-Length: 99999999999\r\n\r\n" + b"x" * 100_000)
    code, err = raw.close()
    assert code == 0, err
    assert "MemoryError" not in err and "internal error" not in err


def test_the_language_server_refuses_a_document_over_the_limit(tmp_path: Path) -> None:
    from toolkit.lsp import analyse

    text = 'policy p { title "P" }\n' + "# " + "x" * (1 << 20) + "\n"
    [diag] = analyse((tmp_path / "p.policy").as_uri(), text, 1, {}).diagnostics
    assert diag.code == "I504"


def test_the_language_server_counts_a_lone_carriage_return_as_a_line_end() -> None:
    from toolkit.lsp import Positions

    positions = Positions("a\rb\r\nc\nd")
    assert [(p.line, p.character) for p in map(positions.position, (0, 2, 5, 7))] == [(0, 0), (1, 0), (2, 0),
                                                                                        (3, 0)]
    from lsprotocol import types as lsp

    assert positions.offset(lsp.Position(line=1, character=5)) == 3  # the end of `b`, before the `\r\n`


# ---------------------------------------------------------------------------
# Smaller: errors that say where, excerpts that stay short, memory that stays flat
# ---------------------------------------------------------------------------


def test_not_utf8_is_located_at_its_byte(runner: CliRunner, repo: Path) -> None:
    path = repo / "policies" / "p.policy"
    path.write_bytes(b'policy p { title "P" }\ntopic t "caf\xe9 au lait"\n')
    (repo / "policies" / "inc.policy").write_bytes(b'policy q { title "Q" }\ninclude "p2.policy"\n')
    (repo / "policies" / "p2.policy").write_bytes(b'topic t "T"\n\n  # \xff\n')
    expected = {
        "validate": f"{path}:2:13: error[I502]: `{path}` is not UTF-8 text: invalid continuation byte (byte 0xe9)",
        "lint": f"{path}:2:13: error[I502]",
        "fmt": f"{path}:2:13: error[I502]",
    }
    for command, line in expected.items():
        result = runner.invoke(cli, [command, str(path)])
        assert result.exit_code == 2
        assert line in result.output, (command, result.output)
        assert '    topic t "caf\ufffd au lait"\n                ^' in result.output
    result = runner.invoke(cli, ["validate", str(repo / "policies" / "inc.policy")])
    assert f"{repo / 'policies' / 'p2.policy'}:3:5: error[I502]" in result.output


def test_posts_that_are_not_utf8_are_located(runner: CliRunner, tmp_path: Path, pattern_policy: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": "b"}\n{"text": "caf\xe9"}\n')
    for jobs in ("1", "2"):
        result = runner.invoke(cli, ["check", str(pattern_policy), str(path), "--jobs", jobs])
        assert result.exit_code == 2
        assert "is not UTF-8 text: invalid continuation byte at line 3, column 14 (byte 0xe9)" in result.stderr


def test_an_error_on_a_huge_line_prints_a_short_excerpt(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "p.policy"
    path.write_text('policy p { title "P" }\nsignal s means text mentions w ' + "?" * 450_000 + "\n"
                    + 'topic ' + "t" * 450_000 + ' "T" oops\n', encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert len(result.output) < 3000, len(result.output)
    assert "error[P102]: unexpected character `?`" in result.output
    assert "…" in result.output


def test_a_ten_megabyte_text_is_refused_and_a_one_megabyte_text_takes_little_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.policy"
    big.write_text('policy p { title "' + "word " * 2_000_000 + '" }\n', encoding="utf-8")
    done = run_govpost("validate", str(big), cwd=tmp_path)
    assert done.returncode == 2 and "error[I504]" in done.stdout + done.stderr
    text = tmp_path / "text.policy"
    text.write_text('policy p { title "' + "word " * 200_000 + '" }\n', encoding="utf-8")
    peak = subprocess.run([sys.executable, "-c", PEAK, "validate", str(text)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert peak.returncode == 0, peak.stderr
    # Python's regex engine took about 130 MB for each megabyte of a quoted text; now it is the text's copies.
    assert int(peak.stderr.strip().splitlines()[-1]) < 120_000, peak.stderr


# The peak resident memory of this process in KiB: VmHWM (ru_maxrss would count the parent's pages from before exec).
PEAK = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status", encoding="ascii").read()
    print(re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
atexit.register(peak)
from toolkit.cli import main
main(sys.argv[1:])
"""


def test_terms_in_header_texts_and_titles_are_checked(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "p.policy"
    path.write_text(
        'policy p {\n    title "A {bogus} title"\n    signatory { name "{nobody}" }\n    to "the {office}"\n}\n'
        'define "personal account" means "an account held in a private capacity"\ntopic t "T"\n'
        'lexicon w { "x" }\n'
        'section s "On a {personal account} and {secret}" {\n'
        '    clause c "The {missing} clause" { topic t text "No." outcome prohibited when text mentions w }\n}\n',
        encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    for term in ("bogus", "nobody", "office", "secret", "missing"):
        assert f"error[S218]: `{{{term}}}` refers to a term that is not defined" in result.output, term
    assert "`{personal account}`" not in result.output


def test_a_pattern_cannot_make_checking_slow(tmp_path: Path) -> None:
    # `(a+)+$` takes Python's `re` about 2^n steps on n letters `a` and a `b`; RE2 takes n.
    path = tmp_path / "p.policy"
    path.write_text('policy p { title "P" }\ntopic t "T"\npattern evil /(a+)+$/\n'
                    'section s "S" { clause c "C" { topic t text "No." outcome advisory when text matches evil } }\n',
                    encoding="utf-8")
    done = run_govpost("check", str(path), "--text", "a" * 60 + "b", "--format", "jsonl", cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"outcome": "permitted"' in done.stdout


# ---------------------------------------------------------------------------
# docs/security.md and these tests
# ---------------------------------------------------------------------------


def test_every_test_named_by_the_security_model_exists() -> None:
    import ast

    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:(test_\w+\.py)::)?(test_\w+)`", text))
    assert len(named) > 40
    defined: dict[str, set[str]] = {}
    for module in {m or "test_security.py" for m, _ in named}:
        tree = ast.parse((ROOT / "tests" / module).read_text(encoding="utf-8"))
        defined[module] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    missing = sorted(f"{m or 'test_security.py'}::{t}" for m, t in named if t not in defined[m or "test_security.py"])
    assert missing == []
    # And every test of this module backs a sentence of the page.
    here = {n.name for n in ast.parse(Path(__file__).read_text(encoding="utf-8")).body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    unnamed = sorted(here - {t for m, t in named if m in ("", "test_security.py")}
                     - {"test_every_test_named_by_the_security_model_exists"})
    assert unnamed == []


def test_lexicons_that_all_fill_each_other_are_checked_at_once(tmp_path: Path) -> None:
    # Every lexicon a slot of every other: the search for cycles used to try every route (20! of them).
    names = [f"l{i}" for i in range(20)]
    lexicons = "".join(f'lexicon {a} {{ {", ".join(f""""w {{{b}}}" """.strip() for b in names if b != a)} }}\n'
                       for a in names)
    path = tmp_path / "p.policy"
    path.write_text('policy p { title "P" }\ntopic t "T"\n' + lexicons
                    + 'section s "S" { clause c "C" { topic t text "No." outcome advisory when text mentions l0 } }\n',
                    encoding="utf-8")
    done = run_govpost("validate", str(path), cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "error[S232]: lexicon `l0` is filled by its own entries: l0 → l1 → l0" in done.stdout + done.stderr
