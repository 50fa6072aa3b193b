"""The pre-commit hooks, run for real by pre-commit in a throw-away git repository.

The hooks of `.pre-commit-hooks.yaml` are installed by pre-commit from this
repository in a policy repository's configuration. Here the same hooks (id,
entry, file pattern, filename passing) are run as `language: system` hooks
of a local repository, with the `govpost` of this environment on the PATH,
so that the test needs no network and no fresh install of govpost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.formatter import format_source

clientlib = pytest.importorskip("pre_commit.clientlib")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"

POLICY = """policy tiny {
    title   "Tiny"
    issued  2026-01-01
}
include "common.policy"
section s "Section" {
    clause party "Endorsing a party" {
        topic   politics
        text    "A member shall not endorse a party."
        outcome prohibited
        when    text mentions parties
        cites   r 5
        example "Endorsing" { text: "Vote BJP" } expect prohibited by party
        example "Neutral" { text: "Fine weather" } expect permitted
    }
}
"""
COMMON = """topic politics "Politics"  # the one topic
instrument r "Rules" {
    provision 5 "Politics"
}
lexicon parties { "BJP" }
"""


def test_the_hooks_file_is_a_valid_manifest() -> None:
    hooks = clientlib.load_manifest(str(MANIFEST))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"govpost-fmt", "govpost-lint", "govpost-test"}
    for hook in hooks:
        assert hook["language"] == "python" and hook["files"] == r"\.policy$"
        assert hook["entry"].startswith("govpost ")
    assert by_id["govpost-test"]["pass_filenames"] is False


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _pre_commit(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hooks_run_in_a_policy_repository(tmp_path: Path) -> None:
    repo = tmp_path / "policies"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "tiny.policy").write_text(POLICY.replace("    title   ", "  title ").replace("cites   r 5", "cites r 5"),
                                      encoding="utf-8")
    (repo / "common.policy").write_text(COMMON, encoding="utf-8")
    hooks = []
    for hook in clientlib.load_manifest(str(MANIFEST)):
        local = {k: hook[k] for k in ("id", "name", "entry", "files", "pass_filenames")}
        local["language"] = "system"
        if hook["id"] == "govpost-test":
            local["args"] = ["tiny.policy"]
        hooks.append(local)
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}

    first = _pre_commit(repo, env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "govpost fmt" in first.stdout and "files were modified by this hook" in first.stdout
    assert (repo / "tiny.policy").read_text(encoding="utf-8") == format_source(POLICY)
    assert "# the one topic" in (repo / "common.policy").read_text(encoding="utf-8")

    _git(repo, "add", ".")
    second = _pre_commit(repo, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("Passed") == 3

    # A clause that can never apply is an error-level lint finding: the commit is stopped.
    dead = format_source(POLICY).replace("when    text mentions parties",
                                         "when    text mentions parties and not text mentions parties")
    (repo / "tiny.policy").write_text(dead, encoding="utf-8")
    _git(repo, "add", ".")
    third = _pre_commit(repo, env)
    assert third.returncode == 1
    assert "error[L001]" in third.stdout and "clause 1(a) `party`" in third.stdout
