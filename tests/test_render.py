"""The document data and its templates: view-model, HTML goldens, strict and escaped templates.

These tests render HTML only (no PDF, so they are fast); the PDF is tested in
test_build.py. Goldens are the HTML of two small fixture policies under
tests/fixtures/build/, one per bundled template.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from support import FIXTURES

from toolkit import api, document, render
from toolkit.build import BuildError, BuildOptions, build_artifacts
from toolkit.htmlfonts import strip_fonts
from toolkit.resources import templates_dir

BUILD = FIXTURES / "build"
CIRCULAR = BUILD / "circular.policy"
GUIDANCE = BUILD / "guidance.policy"


def html_only(policy: Path, **options: Any) -> tuple[str, Any]:
    """The HTML a build writes, its embedded fonts' data left out (``data:font/woff;base64,…``)."""
    files, result = build_artifacts(policy, BuildOptions(pdf=False, **options))
    return strip_fonts(files[f"{result.policy_id}.html"].decode("utf-8")), result


@pytest.fixture(scope="module")
def circular_view() -> dict[str, Any]:
    from toolkit.compare import compare_rulesets
    from toolkit.testing import run_examples

    result = api.check_file(CIRCULAR)
    ruleset = api.compile_result(result)
    other = api.compile_result(api.check_file(GUIDANCE))
    return document.circular_view(result.policy, content_hash=result.content_hash, ruleset=ruleset,
                                  report=run_examples(ruleset), comparison=compare_rulesets(ruleset, other),
                                  generator="govpost test")


# ---------------------------------------------------------------------------
# The view-model
# ---------------------------------------------------------------------------


def test_view_is_plain_data(circular_view: dict[str, Any]) -> None:
    # Templates get strings, numbers, lists and dicts only: it round-trips through JSON.
    assert json.loads(json.dumps(circular_view)) == circular_view


def test_view_numbers_and_wording(circular_view: dict[str, Any]) -> None:
    conduct = circular_view["sections"][0]
    assert conduct["number"] == "1"
    clause = conduct["children"][0]
    assert (clause["number"], clause["letter"]) == ("1(a)", "(a)")
    assert clause["outcome"]["marker"] == "Prohibited: shall not"
    assert clause["citations"][0]["text"] == "TO (Conduct) Rules, rule 5(1)"
    information = conduct["children"][1]
    assert information["number"] == "1.1"
    secret, praise = information["children"]
    assert secret["number"] == "1.1(a)"
    assert secret["outcome"]["marker"] == "Only with the prior sanction of the head of the department"
    assert praise["outcome"]["marker"] == "Advisory: should"
    assert praise["text"]["missing"] == ["hi"]
    assert [v["lang"] for v in secret["text"]["versions"]] == ["en", "hi"]


def test_view_terms_become_runs(circular_view: dict[str, Any]) -> None:
    clause = circular_view["sections"][0]["children"][0]
    runs = clause["text"]["versions"][0]["runs"]
    assert [r["term"] for r in runs] == [None, "term-personal-account", None]
    assert runs[1]["text"] == "personal account" and runs[1]["tail"] == ","
    assert "{" not in clause["text"]["text"]


def test_view_annexes(circular_view: dict[str, Any]) -> None:
    assert [(a["key"], a["roman"], a["letter"]) for a in circular_view["annexes"]] == [
        ("comparison", "I", "A"), ("cases", "II", "B"), ("rule-index", "III", "C")]
    rows = {r["topic"]: r["relation"]["key"] for r in circular_view["comparison"]["rows"]}
    assert rows == {"neutrality": "mixed", "secrets": "looser", "praise": "only_a"}
    assert [r["id"] for r in circular_view["rule_index"]["rows"]] == ["party-support", "secret-documents",
                                                                      "self-praise"]
    assert circular_view["cases"]["count"] == 4


def test_formatters() -> None:
    assert [document.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
    assert [document.roman(n) for n in (1, 4, 9, 14, 40)] == ["I", "IV", "IX", "XIV", "XL"]
    assert [document.letter(n) for n in (1, 26, 27)] == ["A", "Z", "AA"]
    day = document.date_view(dt.date(2026, 6, 15))
    assert day == {"iso": "2026-06-15", "long": "15th June, 2026", "dmy": "15.06.2026", "gov": "15 June 2026",
                   "hi": "15 जून, 2026", "mr": "15 जून, 2026"}
    assert document.date_view(dt.date(2026, 7, 1))["mr"] == "1 जुलै, 2026"
    assert document.short_hash("sha256:" + "ab" * 32) == "sha256:abababababab"
    assert document.outcome_view("requires_sanction")["marker"] == "Only with prior sanction"


# ---------------------------------------------------------------------------
# Goldens
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "template"), [(CIRCULAR, "india"), (GUIDANCE, "uk")])
def test_html_golden(policy: Path, template: str, golden: Any) -> None:
    html, result = html_only(policy)
    assert result.template.name == template  # the default: india for a circular, uk for guidance
    golden(BUILD / f"{policy.stem}.html", html)


def test_uk_template_shows_last_updated_only_when_given(tmp_path: Path) -> None:
    html, _ = html_only(GUIDANCE)
    assert "<dt>Published</dt><dd>20 October 2014</dd>" in html and "Last updated" not in html
    for name in ("circular.policy", "guidance.policy"):
        (tmp_path / name).write_text((BUILD / name).read_text(encoding="utf-8"), encoding="utf-8")
    policy = tmp_path / "guidance.policy"
    issued = "    issued       2014-10-20\n"
    policy.write_text(policy.read_text(encoding="utf-8").replace(issued, issued + "    updated 2016-03-01\n"),
                      encoding="utf-8")
    html, _ = html_only(policy)
    assert ("<div><dt>Published</dt><dd>20 October 2014</dd></div>\n"
            "<div><dt>Last updated</dt><dd>1 March 2016</dd></div>") in html


def test_template_can_be_chosen(tmp_path: Path) -> None:
    html, result = html_only(CIRCULAR, template="uk")
    assert result.template.name == "uk"
    assert "Annex A: Comparison with the United Kingdom" in html
    assert "Annexure-I" not in html


# ---------------------------------------------------------------------------
# Strict and escaped templates
# ---------------------------------------------------------------------------


def custom_template(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "document.html").write_text(body, encoding="utf-8")
    return folder


def test_missing_variable_fails_loudly(tmp_path: Path) -> None:
    folder = custom_template(tmp_path, "<p>{{ document.title.text }}</p>\n<p>{{ document.no_such_key }}</p>\n")
    with pytest.raises(BuildError) as info:
        html_only(CIRCULAR, template=str(folder))
    assert info.value.code == "B604"
    assert "document.html` line 2" in info.value.message
    assert "no_such_key" in info.value.message


def test_undefined_name_fails_even_when_only_tested(tmp_path: Path) -> None:
    folder = custom_template(tmp_path, "{% for x in no_such_list %}{{ x }}{% endfor %}")
    with pytest.raises(BuildError, match="no_such_list"):
        html_only(CIRCULAR, template=str(folder))


def test_template_syntax_error_names_the_line(tmp_path: Path) -> None:
    folder = custom_template(tmp_path, "ok\n{% if %}\n")
    with pytest.raises(BuildError, match=r"document.html` line 2"):
        html_only(CIRCULAR, template=str(folder))


def test_template_directory_must_exist_and_have_an_entry(tmp_path: Path) -> None:
    with pytest.raises(render.RenderError, match="neither india nor uk nor a directory"):
        render.resolve_template(str(tmp_path / "absent"))
    with pytest.raises(render.RenderError, match="has no `document.html`"):
        render.resolve_template(str(tmp_path))


def test_custom_template_may_use_the_shared_macros(tmp_path: Path) -> None:
    folder = custom_template(tmp_path, '{% import "_macros.html" as g %}'
                                       "{% for s in sections %}{{ g.spans(s.title, true) }}{% endfor %}")
    html, _ = html_only(CIRCULAR, template=str(folder))
    assert '<span lang="hi" class="v-hi secondary">आचरण</span>' in html


def test_policy_text_is_escaped(tmp_path: Path) -> None:
    source = CIRCULAR.read_text(encoding="utf-8").replace(
        '"Officers remain officers online."',
        '"Officers <script>alert(1)</script> & <img src=\\"file:///etc/passwd\\"> remain officers online."')
    (tmp_path / "circular.policy").write_text(source, encoding="utf-8")
    (tmp_path / "guidance.policy").write_text(GUIDANCE.read_text(encoding="utf-8"), encoding="utf-8")
    html, _ = html_only(tmp_path / "circular.policy")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


# ---------------------------------------------------------------------------
# What the renderer may read
# ---------------------------------------------------------------------------


def test_local_path_allows_only_files_under_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    inside = root / "a.css"
    inside.write_text("p {}", encoding="utf-8")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    (root / "link.txt").symlink_to(outside)
    assert render.local_path(inside.as_uri(), [root]) == inside.resolve()
    assert render.local_path(outside.as_uri(), [root]) is None
    assert render.local_path((root / "link.txt").as_uri(), [root]) is None  # a symbolic link out is refused
    assert render.local_path(root.as_uri() + "/../secret.txt", [root]) is None
    assert render.local_path("http://127.0.0.1/a.css", [root]) is None
    assert render.local_path("file://otherhost" + str(inside), [root]) is None
    assert render.local_path("data:text/css,p{}", [root]) is None


def test_bundled_templates_and_fonts_ship() -> None:
    root = templates_dir()
    for name in ("india/document.html", "uk/document.html", "shared/_macros.html", "shared/print.css",
                 "fonts/fonts.css", "fonts/OFL.txt", "fonts/NotoSerifDevanagari-Regular.ttf"):
        assert (root / name).is_file(), name
    # Every font the stylesheet names is there, and nothing refers outside the fonts folder.
    css = (root / "fonts" / "fonts.css").read_text(encoding="utf-8")
    import re

    for url in re.findall(r"url\(([^)]+)\)", css):
        assert "/" not in url and (root / "fonts" / url).is_file(), url
    assert os.sep not in render.ENTRY
