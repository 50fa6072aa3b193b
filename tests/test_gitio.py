"""Policies read from git revisions, `--git-range`, and the git set-up (textconv, workflow).

Every test works in a throw-away repository made in ``tmp_path``, with the
author set in the environment and the user's and system's git configuration
ignored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ROOT

from toolkit import api
from toolkit.cli import cli
from toolkit.gitio import GitError, GitReader, Repo, header_id, parse_range, parse_spec

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2

WORDS = 'lexicon parties "Parties" { "Alpha Party", "Beta Party" }\n'
TOPICS = 'topic neutrality "Neutrality"\n'


def policy(pid: str, outcome: str = "prohibited", extra: str = "") -> str:
    return (
        f'# The {pid} policy.\npolicy {pid} {{ title "Policy {pid}" }}\n\n'
        'include "../common/words.policy"\ninclude "../common/topics.policy"\n'
        f"{extra}\n"
        'section politics "Politics" {\n'
        f'    clause naming "Naming a party" {{ topic neutrality text "Do not name parties." outcome {outcome}\n'
        "        when text mentions parties }\n}\n"
    )


class Git:
    """A throw-away repository: write files, commit, run git."""

    def __init__(self, root: Path):
        self.root = root
        self("init", "-q", "-b", "main")

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True)
        return out.stdout

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, message: str, **files: str | None) -> None:
        for path, text in files.items():
            path = path.replace("__", "/").replace("_DOT_", ".")
            if text is None:
                self("rm", "-q", path)
            else:
                self.write(path, text)
        self("add", "-A")
        self("commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Git:
    for key, value in {
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.org",
        "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.org",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(tmp_path / "no-global-config"),
        "HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(key, value)
    root = tmp_path / "repo"
    root.mkdir()
    repo = Git(root)
    repo.commit(
        "first",
        policies__in__a_DOT_policy=policy("a"),
        policies__uk__b_DOT_policy=policy("b", "advisory"),
        policies__common__words_DOT_policy=WORDS,
        policies__common__topics_DOT_policy=TOPICS,
        README_DOT_md="A repository of policies.\n",
    )
    monkeypatch.chdir(root)
    return repo


def diff(runner: CliRunner, *args: str) -> object:
    return runner.invoke(cli, ["diff", *args], catch_exceptions=False)


# ---------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------


def test_a_path_on_disk_is_a_file(git: Git) -> None:
    spec = parse_spec("policies/in/a.policy")
    assert spec.rev is None and spec.path == "policies/in/a.policy"


def test_rev_path_reads_through_git_with_includes_at_the_same_revision(git: Git, runner: CliRunner) -> None:
    git.commit("more parties", policies__common__words_DOT_policy=WORDS.replace(' }', ', "Gamma Party" }'))
    # The working tree changes again; the revisions must not see it.
    git.write("policies/common/words.policy", 'lexicon parties { "Delta Party" }\n')
    result = diff(runner, "HEAD~1:policies/in/a.policy", "HEAD:policies/in/a.policy", "--format", "json")
    assert result.exit_code == EXIT_FINDINGS, result.output
    data = json.loads(result.stdout)
    assert (data["old"], data["new"]) == ("HEAD~1:policies/in/a.policy", "HEAD:policies/in/a.policy")
    (decl,) = data["declarations"]
    assert decl["changes"] == [{"what": "entries added", "old": None, "new": "Gamma Party"}]
    assert data["clauses"][0]["via"] == ["lexicon parties"]
    assert data["verdict"]["stricter_witness"]["post"]["text"] == "Gamma Party"


def test_a_revision_against_the_working_tree(git: Git, runner: CliRunner) -> None:
    git.write("policies/in/a.policy", policy("a", "advisory"))
    result = diff(runner, "HEAD:policies/in/a.policy", "policies/in/a.policy")
    assert result.exit_code == EXIT_FINDINGS
    assert result.stdout.splitlines()[:2] == [
        "a: HEAD:policies/in/a.policy → policies/in/a.policy",
        "verdict: looser (some posts get a weaker outcome than before, none a stronger one)"]


def test_paths_relative_to_the_working_directory_and_the_index(git: Git, monkeypatch: pytest.MonkeyPatch,
                                                                runner: CliRunner) -> None:
    git.write("policies/in/a.policy", policy("a", "advisory"))
    git("add", "policies/in/a.policy")
    monkeypatch.chdir(git.root / "policies" / "in")
    spec = parse_spec("HEAD:./a.policy")
    assert (spec.rev, spec.path) == ("HEAD", "policies/in/a.policy")
    result = diff(runner, "HEAD:./a.policy", ":policies/in/a.policy")
    assert result.exit_code == EXIT_FINDINGS, result.output
    assert "outcome: prohibited → advisory" in result.stdout


def test_reading_never_applies_a_textconv(git: Git) -> None:
    git.write(".gitattributes", "*.policy diff=govpost\n")
    git("config", "diff.govpost.textconv", "false")
    git.commit("attributes")
    reader = GitReader(Repo.find(), "HEAD")
    assert reader.read("policies/in/a.policy").startswith("# The a policy.")
    assert reader.display("policies/in/../in/a.policy") == "HEAD:policies/in/a.policy"
    assert reader.read_paths == ["policies/in/a.policy"]


def test_unknown_revision(git: Git, runner: CliRunner) -> None:
    result = diff(runner, "mian:policies/in/a.policy", "policies/in/a.policy")
    assert result.exit_code == EXIT_INVALID
    assert result.stderr == f"error: unknown revision `mian` in the repository at `{git.root}`; did you mean `main`?\n"


def test_file_missing_at_a_revision(git: Git, runner: CliRunner) -> None:
    result = diff(runner, "HEAD:policies/a.policy", "policies/in/a.policy")
    assert result.exit_code == EXIT_INVALID
    assert result.stderr == ("error: `policies/a.policy` does not exist at revision `HEAD` (paths after the colon are "
                             "relative to the repository root); did you mean `policies/in/a.policy`?\n")


def test_missing_include_at_a_revision(git: Git, runner: CliRunner) -> None:
    git.commit("drop the words", policies__common__words_DOT_policy=None)
    result = diff(runner, "HEAD~1:policies/in/a.policy", "HEAD:policies/in/a.policy")
    assert result.exit_code == EXIT_INVALID
    assert ("HEAD:policies/in/a.policy:4:1: error[S212]: cannot read included file `../common/words.policy`: "
            "no such file at revision `HEAD`") in result.stderr
    assert "Traceback" not in result.output


def test_not_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = diff(runner, "HEAD:a.policy", "HEAD:b.policy")
    assert result.exit_code == EXIT_INVALID
    assert result.stderr == f"error: `{outside}` is not inside a git repository, so revisions cannot be read\n"
    result = diff(runner, "--git-range", "main..HEAD")
    assert result.exit_code == EXIT_INVALID and "is not inside a git repository" in result.stderr


def test_git_not_installed(git: Git, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(git.root / "no-such-bin"))
    with pytest.raises(GitError, match="git is not installed or not on the PATH"):
        parse_spec("HEAD:policies/in/a.policy")


def test_a_directory_is_not_a_policy(git: Git) -> None:
    with pytest.raises(GitError, match="is a directory"):
        parse_spec("policies")


def test_parse_range() -> None:
    assert parse_range("origin/main..HEAD") == ("origin/main", "HEAD", False)
    assert parse_range("main...feature") == ("main", "feature", True)
    assert parse_range("main") == ("main", "HEAD", False)
    assert parse_range("..HEAD~1") == ("HEAD", "HEAD~1", False)
    with pytest.raises(GitError, match="not a range"):
        parse_range("--all")


def test_header_id() -> None:
    assert header_id(policy("x-1")) == "x-1"
    assert header_id(WORDS) is None
    assert header_id('# policy commented { }\ntopic t "T"\n') is None


# ---------------------------------------------------------------------------
# --git-range
# ---------------------------------------------------------------------------


def range_json(runner: CliRunner, spec: str) -> tuple[int, dict[str, object]]:
    result = diff(runner, "--git-range", spec, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_a_changed_include_reports_every_policy_that_includes_it(git: Git, runner: CliRunner) -> None:
    git.commit("more parties", policies__common__words_DOT_policy=WORDS.replace(' }', ', "Gamma Party" }'))
    code, data = range_json(runner, "HEAD~1..HEAD")
    assert code == EXIT_FINDINGS
    assert data["format"] == "govpost.diff-report" and data["verdict"] == "stricter"
    assert [(f["status"], f["old"], f["new"], f["verdict"]) for f in data["files"]] == [
        ("changed", "HEAD~1:policies/in/a.policy", "HEAD:policies/in/a.policy", "stricter"),
        ("changed", "HEAD~1:policies/uk/b.policy", "HEAD:policies/uk/b.policy", "stricter"),
    ]
    from test_diff import schema_errors

    assert schema_errors(data) == []


def test_only_the_policies_a_range_touches(git: Git, runner: CliRunner) -> None:
    git.commit("reword a", policies__in__a_DOT_policy=policy("a").replace("Do not name", "Never name"),
               README_DOT_md="Changed.\n")
    code, data = range_json(runner, "HEAD~1..HEAD")
    assert code == EXIT_OK  # a rewording
    assert [(f["old"], f["verdict"]) for f in data["files"]] == [("HEAD~1:policies/in/a.policy", "equivalent")]
    clause = data["files"][0]["diff"]["clauses"][0]
    assert clause["changes"][0]["what"] == "text"


def test_an_include_mentioned_only_in_a_comment_does_not_count(git: Git, runner: CliRunner) -> None:
    git.write("policies/common/other.policy", 'lexicon other { "x" }\n')
    git.commit("c", policies__in__a_DOT_policy='# see include "../common/other.policy"\n' + policy("a"))
    git.commit("d", policies__common__other_DOT_policy='lexicon other { "y" }\n')
    code, data = range_json(runner, "HEAD~1..HEAD")
    assert (code, data["files"]) == (EXIT_OK, [])


def test_added_removed_and_renamed_policies(git: Git, runner: CliRunner) -> None:
    git.commit("c", policies__in__c_DOT_policy=policy("c"))
    git("mv", "policies/uk/b.policy", "policies/uk/b-renamed.policy")
    git.commit("rename b, remove c, add d", policies__in__c_DOT_policy=None, policies__in__d_DOT_policy=policy("d"))
    code, data = range_json(runner, "HEAD~1..HEAD")
    assert code == EXIT_FINDINGS
    assert [(f["status"], f["old"], f["new"]) for f in data["files"]] == [
        ("removed", "HEAD~1:policies/in/c.policy", None),
        ("added", None, "HEAD:policies/in/d.policy"),
        ("renamed", "HEAD~1:policies/uk/b.policy", "HEAD:policies/uk/b-renamed.policy"),
    ]
    assert data["files"][1]["policy"] == {"id": "d", "title": "Policy d", "clauses": 1}
    assert data["files"][2]["verdict"] == "equivalent"
    text = diff(runner, "--git-range", "HEAD~1..HEAD").stdout
    assert text.splitlines()[0] == "govpost diff HEAD~1..HEAD: equivalent (3 policies: 1 renamed, 1 added, 1 removed)"
    assert "HEAD:policies/in/d.policy: added: policy `d` (Policy d), 1 clauses" in text


def test_an_invalid_policy_in_the_range(git: Git, runner: CliRunner, tmp_path: Path) -> None:
    git.commit("break a", policies__in__a_DOT_policy=policy("a").replace("topic neutrality", "topic neutral"))
    out = tmp_path / "report.md"
    result = diff(runner, "--git-range", "HEAD~1..HEAD", "--format", "markdown", "-o", str(out))
    assert result.exit_code == EXIT_INVALID
    assert "error[S210]: unknown topic `neutral`" in result.stderr
    assert "error: a policy in the range has errors; the report shows them" in result.stderr
    report = out.read_text(encoding="utf-8")
    assert report.splitlines()[0].startswith("**govpost diff: equivalent** · 1 policy: 1 invalid")
    assert "**invalid**: `policies/in/a.policy` has errors; fix them first" in report
    assert "unknown topic `neutral`" in report


def test_three_dots_diff_from_the_merge_base(git: Git, runner: CliRunner) -> None:
    git("checkout", "-q", "-b", "feature")
    git.commit("feature: a advisory", policies__in__a_DOT_policy=policy("a", "advisory"))
    git("checkout", "-q", "main")
    git.commit("main: b permitted", policies__uk__b_DOT_policy=policy("b", "permitted"))
    _, two = range_json(runner, "main..feature")
    _, three = range_json(runner, "main...feature")
    assert {f["new"] for f in two["files"]} == {"feature:policies/in/a.policy", "feature:policies/uk/b.policy"}
    assert [f["new"] for f in three["files"]] == ["feature:policies/in/a.policy"]
    assert three["base"] == "main"


def test_an_empty_range(git: Git, runner: CliRunner) -> None:
    result = diff(runner, "--git-range", "HEAD..HEAD", "--format", "markdown")
    assert result.exit_code == EXIT_OK
    assert result.stdout.splitlines()[0] == "**govpost diff: equivalent** · no policy changed between `HEAD` and `HEAD`"


def test_the_markdown_report_of_a_range(git: Git, runner: CliRunner) -> None:
    git.commit("stricter b", policies__uk__b_DOT_policy=policy("b", "prohibited"))
    result = diff(runner, "--git-range", "HEAD~1..HEAD", "--format", "markdown")
    lines = result.stdout.splitlines()
    assert result.exit_code == EXIT_FINDINGS
    assert lines[0] == "**govpost diff: stricter** · 1 policy: 1 changed between `HEAD~1` and `HEAD`"
    assert lines[2:5] == ["| policy | file | verdict | clauses |", "|---|---|---|---|",
                          "| `b` | `policies/uk/b.policy` | **stricter** | 1 changed |"]
    assert "### `policies/uk/b.policy`: stricter" in lines


# ---------------------------------------------------------------------------
# The git set-up: textconv, .gitattributes, the workflow
# ---------------------------------------------------------------------------


def test_git_diff_through_the_textconv(git: Git) -> None:
    git.write(".gitattributes", "*.policy diff=govpost\n")
    git("config", "diff.govpost.textconv", f"{sys.executable} -m toolkit textconv")
    git.commit("attributes")
    reformatted = policy("a").replace("# The a policy.", "# Reformatted.").replace("    clause", "  clause   ")
    git.commit("reformat", policies__in__a_DOT_policy=reformatted)
    assert git("diff", "HEAD~1", "HEAD", "--", "policies/in/a.policy").count("\n-") == 0
    git.commit("change", policies__in__a_DOT_policy=policy("a", "advisory"))
    out = git("diff", "HEAD~1", "HEAD", "--", "policies/in/a.policy")
    changed = [line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-        outcome prohibited", "+        outcome advisory"]


def test_the_repository_declares_the_diff_driver() -> None:
    assert "*.policy diff=govpost" in (ROOT / ".gitattributes").read_text(encoding="utf-8").splitlines()


def test_the_workflow_runs_the_documented_command() -> None:
    workflow = (ROOT / "docs" / "github-workflow.yml").read_text(encoding="utf-8")
    assert "fetch-depth: 0" in workflow
    assert 'govpost diff --git-range "origin/${BASE_REF}..HEAD" --format markdown' in workflow
    assert "BASE_REF: ${{ github.base_ref }}" in workflow
    assert "<!-- govpost-diff -->" in workflow
    assert "actions/github-script" in workflow and "pull-requests: write" in workflow
    assert "\t" not in workflow


def test_api_reports_git_errors_as_git_errors(git: Git) -> None:
    with pytest.raises(GitError):
        api.diff_sources("nope:policies/in/a.policy", "policies/in/a.policy")
    with pytest.raises(api.InvalidInput):
        git.write("broken.policy", "policy broken {")
        api.diff_sources("broken.policy", "policies/in/a.policy")
