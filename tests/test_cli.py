"""The `govpost` command, through click's runner: every command, its options and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ERRORS, POLICIES, ROOT, SCHEMAS

from toolkit.cli import cli
from toolkit.postschema import json_schema

FULL = str(POLICIES / "full.policy")
MINIMAL = str(POLICIES / "minimal.policy")

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rules_file(runner: CliRunner, tmp_path: Path) -> Path:
    """The full fixture policy compiled into a temporary folder."""
    result = runner.invoke(cli, ["compile", FULL, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / "full-features.rules.json"


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------


def test_validate_ok(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", FULL, MINIMAL])
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.splitlines() == [f"{FULL}: valid (no problems)", f"{MINIMAL}: valid (no problems)"]
    assert result.stderr == ""


def test_validate_errors_exit_2(runner: CliRunner) -> None:
    path = str(ERRORS / "names.policy")
    result = runner.invoke(cli, ["validate", path])
    assert result.exit_code == EXIT_INVALID
    assert "error[S210]: unknown topic `politcs`" in result.stderr
    assert "  = help: did you mean `politics`?" in result.stderr
    assert result.stdout.startswith(f"{path}: invalid (")
    assert " errors)" in result.stdout


def test_validate_worst_of_several_files(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", FULL, str(ERRORS / "syntax-token.policy")])
    assert result.exit_code == EXIT_INVALID
    assert f"{FULL}: valid" in result.stdout
    assert "syntax-token.policy: invalid (1 error)" in result.stdout


def test_validate_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", str(ERRORS / "types.policy"), "--format", "json"])
    assert result.exit_code == EXIT_INVALID
    data = json.loads(result.stdout)
    assert {d["code"] for d in data} == {"S204", "S205", "S206"}
    assert all({"code", "severity", "message", "file", "line", "column"} <= set(d) for d in data)
    assert all(d["file"].endswith("types.policy") for d in data)


def test_validate_json_when_valid(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", FULL, "--format", "json"])
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout) == []


def test_validate_warnings_pass_unless_strict(runner: CliRunner) -> None:
    path = str(ERRORS / "translations.policy")
    result = runner.invoke(cli, ["validate", path])
    assert result.exit_code == EXIT_OK
    assert "warning[S221]" in result.stderr
    assert result.stdout.strip() == f"{path}: valid (5 warnings)"
    strict = runner.invoke(cli, ["validate", "--strict", path])
    assert strict.exit_code == EXIT_INVALID
    assert strict.stdout.strip() == f"{path}: invalid (5 warnings)"


def test_validate_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["validate", str(tmp_path / "nope.policy")])
    assert result.exit_code == EXIT_INVALID
    assert "error[I501]: cannot read" in result.stderr


# ---------------------------------------------------------------------------
# compile
# ---------------------------------------------------------------------------


def test_compile_writes_the_rule_set(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "build" / "rules"
    result = runner.invoke(cli, ["compile", FULL, "-o", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    target = out / "full-features.rules.json"
    assert result.stdout.startswith(f"wrote {target} (5 clauses, sha256:")
    # Only the rule set: no temporary file is left behind.
    assert sorted(p.name for p in out.iterdir()) == ["full-features.rules.json"]
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["format"] == "govpost.rules" and data["policy"]["id"] == "full-features"


def test_compile_twice_is_byte_identical(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner.invoke(cli, ["compile", FULL, "-o", str(out)])
    first = (out / "full-features.rules.json").read_bytes()
    result = runner.invoke(cli, ["compile", FULL, "-o", str(out)])
    assert result.exit_code == EXIT_OK
    assert (out / "full-features.rules.json").read_bytes() == first


def test_compile_to_stdout_is_the_same_bytes(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(cli, ["compile", FULL, "-o", str(tmp_path)])
    result = runner.invoke(cli, ["compile", FULL, "--stdout"])
    assert result.exit_code == EXIT_OK
    assert result.stdout_bytes == (tmp_path / "full-features.rules.json").read_bytes()


def test_failed_compile_leaves_the_output_untouched(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(POLICIES, src)
    out = tmp_path / "out"
    assert runner.invoke(cli, ["compile", str(src / "full.policy"), "-o", str(out)]).exit_code == EXIT_OK
    target = out / "full-features.rules.json"
    before = target.read_bytes()
    # The same policy (same id), broken.
    broken = (src / "full.policy").read_text(encoding="utf-8").replace("outcome advisory", "outcome advisry")
    write(src / "full.policy", broken)
    result = runner.invoke(cli, ["compile", str(src / "full.policy"), "-o", str(out)])
    assert result.exit_code == EXIT_INVALID
    assert "error[P101]" in result.stderr
    assert "fix them first" in result.stderr
    assert target.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["full-features.rules.json"]


def test_compile_is_atomic_when_the_write_fails(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    assert runner.invoke(cli, ["compile", FULL, "-o", str(out)]).exit_code == EXIT_OK
    target = out / "full-features.rules.json"
    write(target, "the previous rule set")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    result = runner.invoke(cli, ["compile", FULL, "-o", str(out)])
    assert result.exit_code != EXIT_OK
    assert target.read_text(encoding="utf-8") == "the previous rule set"
    assert sorted(p.name for p in out.iterdir()) == ["full-features.rules.json"]


def test_compile_invalid_policy(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["compile", str(ERRORS / "names.policy"), "-o", str(tmp_path)])
    assert result.exit_code == EXIT_INVALID
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# check: one post
# ---------------------------------------------------------------------------


def test_check_single_post_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "Vote for the BJP!", "--platform", "x"])
    assert result.exit_code == EXIT_FINDINGS
    assert result.stdout.splitlines() == [
        "outcome: PROHIBITED",
        "  1(a) party-endorsement: Endorsing a party — prohibited (decides)",
        "      cites: Test Rules, rule 5(1); Test Rules, rule 3(1A)(ii); Code of Testing, 4.4.1",
        "      text: [Vote for] the [BJP]!",
    ]


def test_check_single_post_nothing_applies(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "Lovely weather"])
    assert result.exit_code == EXIT_OK
    assert result.stdout.splitlines() == ["outcome: PERMITTED", "  no clause applies"]


def test_check_single_post_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "Vote for the BJP!", "--format", "json"])
    assert result.exit_code == EXIT_FINDINGS
    (verdict,) = json.loads(result.stdout)
    assert verdict["id"] == "post"
    assert verdict["outcome"] == "prohibited"
    assert verdict["deciding"] == ["party-endorsement"]


def test_check_single_post_jsonl(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "Vote for the BJP!", "--format", "jsonl"])
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["outcome"] == "prohibited"


@pytest.mark.parametrize(
    ("options", "outcome", "exit_code"),
    [
        (["--account", "official"], "permitted", EXIT_OK),
        (["--label", "official_capacity"], "permitted", EXIT_OK),
        (["--service", "IFoS"], "permitted", EXIT_OK),
        (["--service", "IAS", "--grade", "Level 10", "--audience", "followers"], "prohibited", EXIT_FINDINGS),
        (["--posted-at", "2026-04-15T10:00+05:30", "--account", "official"], "advisory", EXIT_OK),
        (["--posted-at", "2026-04-15T10:00+05:30", "--account", "official", "--sanction"], "permitted", EXIT_OK),
    ],
)
def test_check_single_post_options(runner: CliRunner, options: list[str], outcome: str, exit_code: int) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "Vote for the BJP!", "--format", "json", *options])
    assert result.exit_code == exit_code, result.output
    assert json.loads(result.stdout)[0]["outcome"] == outcome


def test_check_single_share_needs_sanction(runner: CliRunner) -> None:
    args = ["check", FULL, "--text", "Read this", "--shared-from", "media", "--shared-text", "An interview",
            "--posted-at", "2026-06-01T10:00Z"]
    result = runner.invoke(cli, args)
    assert result.exit_code == EXIT_OK  # below the default fail level, prohibited
    assert result.stdout.splitlines()[:3] == [
        "outcome: REQUIRES PRIOR SANCTION",
        "  1.1(b) press-statement: Statements to the press — requires prior sanction (decides)",
        "      sanction of: the cadre-controlling authority",
    ]
    assert runner.invoke(cli, [*args, "--fail-on", "requires_sanction"]).exit_code == EXIT_FINDINGS
    excepted = runner.invoke(cli, [*args, "--sanction"])
    assert excepted.exit_code == EXIT_OK
    assert "  1.1(b) press-statement does not apply: an exception applies" in excepted.stdout


def test_check_exception_is_shown(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "Vote for the BJP!", "--label", "official_capacity"])
    assert result.stdout.splitlines() == [
        "outcome: PERMITTED",
        "  no clause applies",
        "  1(a) party-endorsement does not apply: made in the discharge of official duties",
    ]


def test_check_post_options_need_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--platform", "x"])
    assert result.exit_code == EXIT_INVALID
    assert "--platform describes a post given with --text" in result.stderr


def test_check_text_and_files_are_exclusive(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "p.jsonl", "{}\n")
    result = runner.invoke(cli, ["check", FULL, str(posts), "--text", "x"])
    assert result.exit_code == EXIT_INVALID
    assert "either input files or --text" in result.stderr


def test_check_bad_option_value(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "--text", "x", "--platform", "twitter"])
    assert result.exit_code == EXIT_INVALID


# ---------------------------------------------------------------------------
# check: files of posts
# ---------------------------------------------------------------------------

MIXED = (
    '{"id": "p1", "text": "Vote for the BJP!"}\n'  # line 1: prohibited
    '{"id": "p2", "text": "Nice weather"}\n'  # line 2: permitted
    "\n"
    '{"id": "p3", "text": broken}\n'  # line 4: R301
    '{"id": "p4", "platfrom": "x"}\n'  # line 5: R303
    '{"id": "p5",\n'
    ' "text": "The Labour Party met", "posted_at": "2026-04-10T10:00+05:30"}\n'  # lines 6-7: advisory
    '["not", "an", "object"]\n'  # line 8: R302
    '{"id": "p6", "posted_at": "10 April"}\n'  # line 9: R306
)


def test_check_jsonl_reports_every_record(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.jsonl", MIXED)
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "jsonl"])
    assert result.exit_code == EXIT_INVALID  # some records are malformed
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["record"], o["line"]) for o in out] == [(1, 1), (2, 2), (3, 4), (4, 5), (5, 6), (6, 8), (7, 9)]
    assert [o.get("outcome") for o in out] == ["prohibited", "permitted", None, None, "advisory", None, None]
    assert [[e["code"] for e in o.get("errors", [])] for o in out] == [[], [], ["R301"], ["R303"], [], ["R302"],
                                                                        ["R306"]]
    assert all(o["input"] == str(posts) for o in out)
    assert out[3]["errors"][0] == {"code": "R303", "field": "platfrom", "message": "unknown field `platfrom`",
                                   "help": "did you mean `platform`?"}
    # Each malformed record on standard error, with its line.
    assert result.stderr.splitlines() == [
        f"{posts}:4: error[R301]: record 3: not valid JSON: Expecting value at column 22",
        f"{posts}:5: error[R303]: record 4: unknown field `platfrom` (did you mean `platform`?)",
        f"{posts}:8: error[R302]: record 6: a post is a JSON object, not a list",
        f"{posts}:9: error[R306]: record 7: `10 April` is not an ISO 8601 date and time with an offset "
        "(write it as 2026-04-10T09:15:00+05:30 (or Z for UTC))",
    ]


def test_check_text_summary(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.jsonl", MIXED)
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "text"])
    assert result.exit_code == EXIT_INVALID
    lines = result.stdout.splitlines()
    assert lines[0] == f"{posts} #1 (post p1): PROHIBITED"
    assert f"{posts} #5 (post p5): ADVISORY" in lines
    assert lines[-1] == "7 posts: 1 permitted, 1 advisory, 1 prohibited, 4 malformed"


def test_check_json_collects_everything(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.jsonl", MIXED)
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "json"])
    assert result.exit_code == EXIT_INVALID
    data = json.loads(result.stdout)
    assert [d["record"] for d in data] == [1, 2, 3, 4, 5, 6, 7]


def test_check_errors_file(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.jsonl", MIXED)
    errors = tmp_path / "errors.jsonl"
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "jsonl", "--errors", str(errors)])
    assert result.exit_code == EXIT_INVALID
    written = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [(w["record"], w["line"], w["errors"][0]["code"]) for w in written] == [
        (3, 4, "R301"), (4, 5, "R303"), (6, 8, "R302"), (7, 9, "R306")]
    assert all(w["input"] == str(posts) for w in written)


def test_check_errors_file_empty_when_all_good(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.jsonl", '{"text": "hello"}\n')
    errors = tmp_path / "errors.jsonl"
    result = runner.invoke(cli, ["check", FULL, str(posts), "--errors", str(errors)])
    assert result.exit_code == EXIT_OK
    assert errors.read_text(encoding="utf-8") == ""


GOOD = (
    '{"id": "a", "text": "Nice weather"}\n'
    '{"id": "b", "text": "The Labour Party met", "posted_at": "2026-04-10T10:00+05:30"}\n'
    '{"id": "c", "action": "share", "shared_from": {"kind": "media"}, "posted_at": "2026-06-01T10:00Z"}\n'
)


@pytest.mark.parametrize(
    ("extra", "fail_on", "exit_code"),
    [
        ("", "prohibited", EXIT_OK),
        ("", "requires_sanction", EXIT_FINDINGS),
        ("", "advisory", EXIT_FINDINGS),
        ("", "permitted", EXIT_FINDINGS),
        ('{"id": "d", "text": "Vote for the BJP"}\n', "prohibited", EXIT_FINDINGS),
        ('{"id": "d", "text": "Vote for the BJP"}\n', "never", EXIT_OK),
    ],
)
def test_check_fail_on(runner: CliRunner, tmp_path: Path, extra: str, fail_on: str, exit_code: int) -> None:
    posts = write(tmp_path / "posts.jsonl", GOOD + extra)
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "jsonl", "--fail-on", fail_on])
    assert result.exit_code == exit_code, result.output


def test_check_malformed_outranks_findings(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.jsonl", '{"text": "Vote for the BJP"}\n{"bad": 1}\n')
    assert runner.invoke(cli, ["check", FULL, str(posts), "--fail-on", "never"]).exit_code == EXIT_INVALID


def test_check_json_array_input(runner: CliRunner, tmp_path: Path) -> None:
    posts = write(tmp_path / "posts.json", '[\n  {"id": "a", "text": "Vote for the BJP"},\n\n  {"id": "b"}\n]\n')
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "jsonl"])
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["record"], o["line"], o["outcome"]) for o in out] == [
        ("a", 1, 2, "prohibited"), ("b", 2, 4, "permitted")]


def test_check_stdin(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", FULL, "-", "--format", "jsonl"], input=GOOD)
    assert result.exit_code == EXIT_OK
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["input"] for o in out] == ["<stdin>"] * 3
    assert [o["outcome"] for o in out] == ["permitted", "advisory", "requires_sanction"]


def test_check_several_inputs(runner: CliRunner, tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", GOOD)
    b = write(tmp_path / "b.jsonl", '{"id": "z"}\n')
    result = runner.invoke(cli, ["check", FULL, str(a), str(b), "--format", "jsonl"])
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["input"], o["record"]) for o in out] == [(str(a), 1), (str(a), 2), (str(a), 3), (str(b), 1)]


def test_check_from_compiled_rules_gives_the_same_verdicts(runner: CliRunner, rules_file: Path, tmp_path: Path
                                                           ) -> None:
    posts = write(tmp_path / "posts.jsonl", MIXED)
    from_policy = runner.invoke(cli, ["check", FULL, str(posts), "--format", "jsonl"])
    from_rules = runner.invoke(cli, ["check", str(rules_file), str(posts), "--format", "jsonl"])
    assert from_rules.exit_code == from_policy.exit_code == EXIT_INVALID
    assert from_rules.stdout == from_policy.stdout


def test_check_from_compiled_rules_single_post(runner: CliRunner, rules_file: Path) -> None:
    result = runner.invoke(cli, ["check", str(rules_file), "--text", "भाजपा की जय हो"])
    assert result.exit_code == EXIT_FINDINGS
    assert "      text: [भाजपा] की [जय हो]" in result.stdout.splitlines()


def test_check_invalid_policy(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", str(ERRORS / "types.policy"), "--text", "x"])
    assert result.exit_code == EXIT_INVALID
    assert "error[S204]" in result.stderr


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{not json", "C401"),
        ('{"format": "other", "version": 1}', "C401"),
        ('{"format": "govpost.rules", "version": 99}', "C402"),
    ],
)
def test_check_bad_rule_set(runner: CliRunner, tmp_path: Path, content: str, code: str) -> None:
    rules = write(tmp_path / "bad.rules.json", content)
    result = runner.invoke(cli, ["check", str(rules), "--text", "x"])
    assert result.exit_code == EXIT_INVALID
    assert result.stderr.startswith(f"{rules}: error[{code}]: ")


def test_check_unreadable_inputs(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(cli, ["check", FULL, str(tmp_path / "missing.jsonl")])
    assert missing.exit_code == EXIT_INVALID
    assert "error[I501]: cannot read" in missing.stderr
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"text": "café"}\n'.encode("latin-1"))
    result = runner.invoke(cli, ["check", FULL, str(latin1)])
    assert result.exit_code == EXIT_INVALID
    assert f"error[I502]: `{latin1}` is not UTF-8 text" in result.stderr


def test_check_accepts_a_byte_order_mark(runner: CliRunner, tmp_path: Path) -> None:
    posts = tmp_path / "bom.jsonl"
    posts.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    result = runner.invoke(cli, ["check", FULL, str(posts), "--format", "jsonl"])
    assert result.exit_code == EXIT_OK, result.output
    assert len(result.stdout.splitlines()) == 3


# ---------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------

FAILING = """
policy failing { title "Failing" }
topic t "T"
lexicon words { "forbidden" }
section s "S" {
    clause c "C" {
        topic t text "x" outcome prohibited when text mentions words
        example "Passes" { text: "a forbidden word" } expect prohibited by c
        example "Fails" { text: "an allowed word" } expect prohibited by c
    }
    clause uncovered "Never decides" {
        topic t text "x" outcome advisory when platform is blog
    }
}
"""


def test_test_passes(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["test", FULL])
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.splitlines() == [
        f"{FULL}: 7 examples",
        "  7 passed, 0 failed; clause coverage 100% (5/5 clauses decide an example)",
    ]


def test_test_searches_directories_and_skips_fragments(runner: CliRunner, tmp_path: Path) -> None:
    shutil.copy(FULL, tmp_path / "a.policy")
    shutil.copytree(Path(FULL).parent / "shared", tmp_path / "shared")
    result = runner.invoke(cli, ["test", str(tmp_path)])
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.splitlines()[0] == f"{tmp_path / 'a.policy'}: 7 examples"
    assert "vocabulary.policy" not in result.output  # a fragment is tested through the policies including it
    # Named on its own, a fragment is an error: it has no header.
    result = runner.invoke(cli, ["test", str(tmp_path / "shared" / "vocabulary.policy")])
    assert result.exit_code == EXIT_INVALID and "S224" in result.output


def test_test_verbose_lists_passing_examples(runner: CliRunner) -> None:
    lines = Path(FULL).read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if 'example "Praising a party"' in text)
    result = runner.invoke(cli, ["test", "-v", FULL])
    # Examples are located as the rule set records them: relative to the policy's repository.
    where = Path(FULL).relative_to(ROOT).as_posix()
    assert f"  ok  party-endorsement: Praising a party  ({where}:{line})" in result.stdout.splitlines()


def test_test_fails(runner: CliRunner, tmp_path: Path) -> None:
    policy = write(tmp_path / "failing.policy", FAILING)
    result = runner.invoke(cli, ["test", str(policy)])
    assert result.exit_code == EXIT_FINDINGS
    lines = result.stdout.splitlines()
    assert f"  FAIL  c: Fails  ({policy.name}:9)" in lines  # outside a repository: relative to its folder
    assert "        expected prohibited by c, got permitted by no clause" in lines
    assert "  1 passed, 1 failed; clause coverage 50% (1/2 clauses decide an example)" in lines
    assert "    not covered: 1(b) uncovered: no example meets its condition" in lines


def test_test_junit(runner: CliRunner, tmp_path: Path) -> None:
    policy = write(tmp_path / "failing.policy", FAILING)
    junit = tmp_path / "reports" / "junit.xml"
    result = runner.invoke(cli, ["test", str(policy), FULL, "--junit", str(junit)])
    assert result.exit_code == EXIT_FINDINGS
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["failing", "full-features"]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("2", "1"), ("7", "0")]
    cases = suites[0].findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("line")) for c in cases] == [
        ("failing.c", "Passes", "8"), ("failing.c", "Fails", "9")]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "expected prohibited by c, got permitted by no clause"
    coverage = suites[0].find("properties/property[@name='clause_coverage']")
    assert coverage is not None and coverage.get("value") == "0.5000"


@pytest.mark.parametrize(("minimum", "exit_code"), [("0", EXIT_OK), ("100", EXIT_FINDINGS)])
def test_test_min_coverage(runner: CliRunner, minimum: str, exit_code: int) -> None:
    # minimal.policy has one clause and no example: coverage 0%.
    result = runner.invoke(cli, ["test", MINIMAL, "--min-coverage", minimum])
    assert result.exit_code == exit_code
    assert "    not covered: 1(a) before-and-after: no example meets its condition" in result.stdout


def test_test_min_coverage_boundary(runner: CliRunner, tmp_path: Path) -> None:
    text = FAILING.replace('example "Fails" { text: "an allowed word" } expect prohibited by c', "")
    policy = write(tmp_path / "half.policy", text)
    assert runner.invoke(cli, ["test", str(policy), "--min-coverage", "50"]).exit_code == EXIT_OK
    assert runner.invoke(cli, ["test", str(policy), "--min-coverage", "50.1"]).exit_code == EXIT_FINDINGS
    assert runner.invoke(cli, ["test", str(policy), "--min-coverage", "101"]).exit_code == EXIT_INVALID


def test_test_json(runner: CliRunner, tmp_path: Path) -> None:
    policy = write(tmp_path / "failing.policy", FAILING)
    result = runner.invoke(cli, ["test", str(policy), "--format", "json"])
    (report,) = json.loads(result.stdout)
    assert report["policy"] == "failing"
    assert (report["passed"], report["failed"]) == (1, 1)
    assert report["coverage"] == {"clauses": 2, "decided": 1, "ratio": 0.5,
                                  "uncovered": [{"clause": "uncovered", "number": "1(b)",
                                                 "reason": "no example meets its condition"}]}
    assert report["examples"][1]["actual"] == {"outcome": "permitted", "deciding": []}


def test_test_invalid_policy(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["test", str(ERRORS / "names.policy"), FULL])
    assert result.exit_code == EXIT_INVALID
    assert "7 passed" in result.stdout  # the valid one is still run


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------


def test_schema_post(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["schema", "post"])
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout) == json_schema()
    assert result.stdout == (SCHEMAS / "post.schema.json").read_text(encoding="utf-8")


def test_schema_rules(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["schema", "rules"])
    assert result.exit_code == EXIT_OK
    assert result.stdout == (SCHEMAS / "rules.schema.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout)["$id"].endswith("/rules.schema.json")


def test_schema_unknown(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["schema", "policy"]).exit_code == EXIT_INVALID


def test_version_and_help(runner: CliRunner) -> None:
    from toolkit import __version__

    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == EXIT_OK and __version__ in result.stdout
    help_text = runner.invoke(cli, ["--help"]).stdout
    for command in ("validate", "compile", "check", "test", "schema"):
        assert command in help_text
