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
