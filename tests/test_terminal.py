"""Terminal output through one library (toolkit/terminal.py, rich): colour, tables, the progress line, completion.

Colour is decided the same way for every command: `--color`/`--no-color` first, then NO_COLOR, then
FORCE_COLOR (which colours output into a pipe too), then whether the stream is a terminal. The
commands run here as a user runs them: real processes, their output a pipe, or a pseudo-terminal.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.terminal import paint, table, wants_color

ROOT = Path(__file__).resolve().parent.parent
AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
DIFF = ROOT / "tests" / "fixtures" / "diff" / "bilingual"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
GOVPOST = [sys.executable, "-m", "toolkit"]


def env(**changes: str | None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


def run(*args: str, **environ: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOVPOST, *args], capture_output=True, text=True, env=env(**environ), cwd=ROOT,
                          check=False)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_colour_decision() -> None:
    pipe, tty = io.StringIO(), _Tty()
    assert not wants_color(pipe, environ={}) and wants_color(tty, environ={})
    assert wants_color(pipe, environ={"FORCE_COLOR": "1"})  # forced into a pipe
    assert not wants_color(tty, environ={"NO_COLOR": "1"})
    assert not wants_color(pipe, environ={"NO_COLOR": "1", "FORCE_COLOR": "1"})  # NO_COLOR wins
    assert wants_color(tty, environ={"NO_COLOR": ""})  # set but empty: as if unset
    assert not wants_color(pipe, environ={"FORCE_COLOR": ""})
    assert not wants_color(tty, environ={"TERM": "dumb"})
    assert wants_color(pipe, True, environ={"NO_COLOR": "1"}) and not wants_color(tty, False, environ={})


def test_styles_and_tables() -> None:
    assert paint("error", "bold red") == "\x1b[1;31merror\x1b[0m"
    assert paint("x", "strike red") == "\x1b[9;31mx\x1b[0m" and paint("x", "red", False) == "x"
    lines = table([["a", "1", ("permitted", "green")], ["longer", "22", ("prohibited", "red")]],
                  [("name", "left"), ("posts", "right"), ("outcome", "left")])
    assert lines == ["  name    posts  outcome", "  a           1  permitted", "  longer     22  prohibited"]
    coloured = table([["a", ("b", "red")]], [("x", "left"), ("y", "left")], header=False, color=True)
    assert coloured == ["  a  \x1b[31mb\x1b[0m"]
    wide = table([["x" * 500, "1"]], [("a", "left"), ("b", "right")], header=False)
    assert wide == ["  " + "x" * 500 + "  1"]  # never wrapped, whatever the terminal's width


@pytest.fixture(scope="module")
def lint_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lint-colour")
    (folder / "pyproject.toml").write_text("[tool.govpost]\n", encoding="utf-8")
    (folder / "p.policy").write_text(
        'policy p { title "P" }\ntopic t "T"\nlexicon w "W" { "x" }\n'
        'section s "S" { clause c "C" { topic t text "No." outcome prohibited when text mentions w\n'
        '    example "In" { text: "x" } expect prohibited by c\n    example "Out" { text: "y" } expect permitted } }\n',
        encoding="utf-8")
    return folder


def test_lint_text_is_coloured_when_colour_is_wanted(lint_case: Path) -> None:
    args = ("lint", str(lint_case / "p.policy"))
    forced = run(*args, FORCE_COLOR="1")
    assert "\x1b[1;33mwarning[L004]\x1b[0m" in forced.stdout  # into a pipe, because FORCE_COLOR says so
    plain = run(*args)
    assert "warning[L004]" in plain.stdout and not ANSI.search(plain.stdout)
    assert ANSI.sub("", forced.stdout) == plain.stdout
    assert not ANSI.search(run(*args, FORCE_COLOR="1", NO_COLOR="1").stdout)


@pytest.mark.parametrize("args", [
    ("diff", str(DIFF / "old.policy"), str(DIFF / "new.policy")),
    ("compare", str(DIFF / "old.policy"), str(DIFF / "new.policy")),
    ("check", str(AIS), "--text", "Vote BJP on 5 May!", "--platform", "x"),
    ("test", "--verbose", str(DIFF / "new.policy")),
], ids=["diff", "compare", "check", "test"])
def test_force_color_reaches_a_pipe_and_no_color_stops_it(args: tuple[str, ...]) -> None:
    forced, plain, none = run(*args, FORCE_COLOR="1"), run(*args), run(*args, FORCE_COLOR="1", NO_COLOR="1")
    assert ANSI.search(forced.stdout), forced.stdout
    assert not ANSI.search(plain.stdout) and not ANSI.search(none.stdout)
    assert plain.stdout == none.stdout  # (without colour, redlines and evidence show as [-…-] and […])
    if args[0] == "diff":  # an explicit flag beats the environment
        assert ANSI.search(run(*args, "--color", NO_COLOR="1").stdout)
        assert not ANSI.search(run(*args, "--no-color", FORCE_COLOR="1").stdout)


def test_summaries_and_reports_are_aligned_tables(tmp_path: Path) -> None:
    posts = ROOT / "examples" / "posts.jsonl"
    results = tmp_path / "r.jsonl"
    run("check", str(AIS), str(posts), "--format", "jsonl", "-o", str(results))
    report = run("report", str(results), FORCE_COLOR="1")
    text = ANSI.sub("", report.stdout).splitlines()
    outcomes = text[text.index("outcomes") + 1: text.index("outcomes") + 5]
    # Counts and shares right-aligned, one column each.
    assert len({len(line) for line in outcomes}) == 1, outcomes
    assert "\x1b[31mprohibited\x1b[0m" in report.stdout
    head = next(line for line in text if line.startswith("  clause "))
    assert re.match(r"  clause +posts  deciding  outcome +top terms \(posts\)$", head)


def _on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run govpost with standard error on a pseudo-terminal: (exit code, stdout, what the terminal showed)."""
    import tempfile

    leader, follower = pty.openpty()
    results = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, once the process has written it
    proc = subprocess.Popen([*GOVPOST, *args], stdout=results, stderr=follower, stdin=subprocess.DEVNULL,
                            env=env(TERM="xterm"), cwd=ROOT)
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the process closed its end
            break
        if not data:
            break
        shown += data
    code = proc.wait(60)
    os.close(leader)
    results.seek(0)
    out = results.read()
    results.close()
    return code, out.decode("utf-8"), shown.decode("utf-8", "replace")


def test_the_progress_line_on_a_terminal(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "A quiet morning at the district office."}\n' * 20000, encoding="utf-8")
    code, out, shown = _on_a_terminal("check", str(AIS), str(posts), "--format", "jsonl", "--jobs", "1")
    assert code == 0
    assert len(out.splitlines()) == 20000  # the results are untouched by the line on standard error
    final = shown.replace("\r", "\n").split("\n")
    last = [line for line in final if "records/s" in line][-1]
    assert re.search(r"20,000 records\s+[\d,]+ records/s\s+0:00:\d\d", ANSI.sub("", last)), shown[-500:]
    assert "20,000 records" in ANSI.sub("", shown)[-200:]  # the last count stays on the screen
    quiet = _on_a_terminal("check", str(AIS), str(posts), "--format", "jsonl", "--jobs", "1", "--quiet")
    assert "records/s" not in quiet[2]


def test_shell_completion_is_click_s() -> None:
    script = subprocess.run([*GOVPOST], capture_output=True, text=True, cwd=ROOT, check=False,
                            env=env(_GOVPOST_COMPLETE="bash_source")).stdout
    assert "_govpost_completion()" in script and "complete -o nosort -F _govpost_completion govpost" in script
    formats = subprocess.run([*GOVPOST], capture_output=True, text=True, cwd=ROOT, check=False,
                             env=env(_GOVPOST_COMPLETE="bash_complete", COMP_WORDS="govpost lint --format ",
                                     COMP_CWORD="3")).stdout
    assert formats.split() == ["plain,text", "plain,json", "plain,sarif", "plain,github"]
    for shell in ("zsh", "fish"):
        source = subprocess.run([*GOVPOST], capture_output=True, text=True, cwd=ROOT, check=False,
                                env=env(_GOVPOST_COMPLETE=f"{shell}_source")).stdout
        assert "govpost" in source and "_GOVPOST_COMPLETE" in source
