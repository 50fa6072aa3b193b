"""`govpost build`: PDF structure read back with pypdf, determinism, atomicity, security, the CLI.

PDF rendering is slow, so each bundled policy is built once per session
(``ais`` and ``uk`` fixtures) and every structural check reads that one
build. The small fixture policies (tests/fixtures/build/) are used for the
tests that build more than once.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from support import FIXTURES, ROOT

from toolkit import api
from toolkit.build import BUILD_CODES, BuildError, BuildOptions, BuildResult, build
from toolkit.compare import compare_rulesets
from toolkit.rules import dumps

BUILD = FIXTURES / "build"
AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
UK = ROOT / "policies" / "uk" / "civil-service-social-media.policy"


@dataclass
class Built:
    result: BuildResult
    out: Path
    pdf: PdfReader
    pages: list[str]
    checked: api.CheckResult  # the policy as it was when built

    @property
    def ruleset(self) -> dict[str, Any]:
        return api.compile_result(self.checked)

    def file(self, suffix: str) -> Path:
        return self.out / f"{self.result.policy_id}{suffix}"

    def outline(self) -> list[tuple[int, str, int]]:
        """(depth, label, page number) of every bookmark."""
        found: list[tuple[int, str, int]] = []

        def walk(items: list[Any], depth: int) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item, depth + 1)
                else:
                    found.append((depth, item.title, self.pdf.get_destination_page_number(item) + 1))

        walk(self.pdf.outline, 0)
        return found


def make(policy: Path, out: Path, **options: Any) -> Built:
    checked = api.check_file(policy)
    result = build(policy, BuildOptions(out_dir=out, **options))
    reader = PdfReader(out / f"{result.policy_id}.pdf")
    return Built(result, out, reader, [p.extract_text() for p in reader.pages], checked)


@pytest.fixture(scope="session")
def ais(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return make(AIS, tmp_path_factory.mktemp("ais"))


@pytest.fixture(scope="session")
def uk(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return make(UK, tmp_path_factory.mktemp("uk"))


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return make(BUILD / "circular.policy", tmp_path_factory.mktemp("small"))


def copy_fixtures(tmp_path: Path) -> Path:
    for name in ("circular.policy", "guidance.policy"):
        shutil.copy(BUILD / name, tmp_path / name)
    return tmp_path / "circular.policy"


# ---------------------------------------------------------------------------
# The AIS circular, read back from the PDF
# ---------------------------------------------------------------------------


def outputs(folder: Path) -> dict[str, bytes]:
    """The files a reader of the output folder sees, and nothing left over in the folder of sets."""
    for home in (folder / ".govpost").iterdir():
        assert sorted(p.name for p in home.iterdir()) == sorted(["current", os.readlink(home / "current")])
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".govpost"}


def test_outputs_and_rule_set(ais: Built) -> None:
    # The three files are links into the current set (toolkit.atomic.write_set), kept in `.govpost/`.
    assert sorted(p.name for p in ais.out.iterdir()) == [
        ".govpost", "ais-social-media.html", "ais-social-media.pdf", "ais-social-media.rules.json"]
    # The rule set is the one `govpost compile` writes, and the PDF carries it as an attachment.
    compiled = dumps(ais.ruleset)
    assert ais.file(".rules.json").read_text(encoding="utf-8") == compiled
    assert ais.pdf.attachments == {"ais-social-media.rules.json": [compiled.encode("utf-8")]}
    assert ais.result.pages == len(ais.pdf.pages)


def test_header_as_an_indian_circular(ais: Built) -> None:
    first = ais.pages[0]
    for text in ("F. No. 11017/07/2026-AIS-III (Model)", "Government of India", "भारत सरकार",
                 "Ministry of Personnel, Public Grievances and Pensions", "Department of Personnel and Training",
                 "North Block, New Delhi-110001", "Dated the 15th June, 2026", "CIRCULAR", "Subject:",
                 "Ref.:", "All India Services (Conduct) Rules, 1968"):
        assert text in first, text


def test_running_head_and_footer_on_every_page(ais: Built) -> None:
    digest = ais.checked.content_hash
    short = f"sha256:{digest.removeprefix('sha256:')[:12]}"
    total = len(ais.pages)
    for n, text in enumerate(ais.pages, 1):
        assert f"Page {n} of {total}" in text
        assert f"Source {short}" in text
        if n > 1:  # the first page has the full header instead
            assert "F. No. 11017/07/2026-AIS-III (Model) · Version 1.0" in text


def test_every_clause_with_number_text_and_outcome(ais: Built) -> None:
    text = re.sub(r"\s+", " ", " ".join(ais.pages))
    for clause in ais.ruleset["clauses"]:
        letter = clause["number"][clause["number"].index("("):]
        assert f"{letter} " in text
        assert clause["title"] in text, clause["id"]
        # The rule index row: number, stable id (ids may wrap at a hyphen in the narrow column).
        assert clause["id"].split("-")[0] in text
    for marker in ("Prohibited: shall not", "Advisory: should", "Permitted: may",
                   "Only with the prior sanction of"):
        assert marker in text, marker
    assert "Rules: AIS (Conduct) Rules, rule" in text  # citations beside the clause
    assert "(Ravindra S. Kulkarni)" in text and "Copy to:" in text and "Guard file" in text


def test_toc_page_numbers_match_the_pages(ais: Built) -> None:
    toc = {}
    for page in ais.pages[:3]:
        for line in page.splitlines():
            m = re.match(r"^(.+?)[ .]*\. (\d+)$", line.strip())
            if m and " . ." in line:
                toc[m.group(1).strip().rstrip(". ")] = int(m.group(2))
    outline = {label: page for _, label, page in ais.outline()}
    assert len(toc) >= 20
    for label, page in toc.items():
        assert outline.get(label) == page, label
        heading = label.split(". ", 1)[-1].split(": ", 1)[-1]
        assert heading.upper() in ais.pages[page - 1].upper(), (label, page)


def test_bookmarks_for_sections_and_annexes(ais: Built) -> None:
    labels = [(depth, label) for depth, label, _ in ais.outline()]
    assert (0, "1. Scope and acceptable use") in labels
    assert (1, "2.1. Official accounts") in labels
    assert [label for _, label in labels if label.startswith("Annexure")] == [
        "Annexure-I: Comparison with the United Kingdom", "Annexure-II: Illustrative cases",
        "Annexure-III: Rule index"]


def test_comparison_annex_is_computed(ais: Built) -> None:
    comparison = compare_rulesets(ais.ruleset, api.compile_result(api.check_file(UK)))
    start = next(i for i, p in enumerate(ais.pages) if "COMPARISON WITH THE UNITED KINGDOM" in p)
    annex = re.sub(r"\s+", " ", " ".join(ais.pages[start:]))
    labels = {"stricter": "Stricter", "looser": "Looser", "mixed": "Mixed", "equivalent": "Equivalent",
              "only_a": "No counterpart in the UK", "only_b": "Only in the UK"}
    for n, topic in enumerate(comparison.topics, 1):
        assert f"{n}. {topic.title} {labels[topic.relation]}" in annex, topic.topic
    assert f"Overall relation: {labels[comparison.overall.verdict]}" in annex


def test_illustrative_cases_annex(ais: Built) -> None:
    text = re.sub(r"\s+", " ", " ".join(ais.pages))
    report_count = len(ais.result.report.results)
    assert f"every one of the {report_count} cases" in text
    assert "II.1 A monsoon poem on Instagram" in text
    assert f"II.{report_count} " in text


def test_metadata_and_pdf_ua(ais: Built) -> None:
    meta = ais.pdf.metadata
    assert meta.title == "Model guidelines on the use of social media by members of the All India Services"
    assert meta.author == "Department of Personnel and Training"
    assert meta.subject.startswith("Model guidelines on the use of social media")
    assert "social media" in meta["/Keywords"]
    assert meta["/CreationDate"].startswith("D:20260615")
    root = ais.pdf.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert b'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data()


def test_hindi_is_set_with_the_shipped_font(ais: Built) -> None:
    fonts = set()
    for page in ais.pdf.pages[:3]:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("Govpost-Devanagari-Serif" in f for f in fonts), fonts
    assert "अखिल भारतीय" in ais.pages[0]


def test_uk_policy_gets_the_uk_template(uk: Built) -> None:
    assert uk.result.template.name == "uk"
    text = re.sub(r"\s+", " ", " ".join(uk.pages))
    assert "Published 20 October 2014" in uk.pages[0]
    assert "Annex A: Comparison with India" in text
    assert "Annex C: Rule index" in text
    assert [label for _, label, _ in uk.outline() if label.startswith("Annex")] == [
        "Annex A: Comparison with India", "Annex B: Illustrative cases", "Annex C: Rule index"]


# ---------------------------------------------------------------------------
# Determinism, variants, atomicity
# ---------------------------------------------------------------------------


def test_building_twice_is_byte_identical(small: Built, tmp_path: Path) -> None:
    again = build(BUILD / "circular.policy", BuildOptions(out_dir=tmp_path))
    for path in again.outputs:
        assert path.read_bytes() == (small.out / path.name).read_bytes(), path.name


def test_a_fresh_process_builds_the_same_bytes(tmp_path: Path) -> None:
    # `govpost build` as its own process takes the fast path: the comparison in a forked child
    # while WeasyPrint loads, no garbage collection. The files must not differ by a byte from
    # a build in this process, where WeasyPrint is loaded already.
    policy = copy_fixtures(tmp_path)
    build(policy, BuildOptions(out_dir=tmp_path / "here"))
    run = subprocess.run([sys.executable, "-m", "toolkit", "build", str(policy), "-o", str(tmp_path / "fresh")],
                         capture_output=True, text=True, check=False,
                         env={k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"})
    assert run.returncode == 0, run.stderr
    assert "compared with test-guidance" in run.stdout
    for suffix in (".pdf", ".html", ".rules.json"):
        name = f"test-circular{suffix}"
        assert (tmp_path / "fresh" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), suffix


def test_source_date_epoch_is_honoured(small: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # 2026-05-28T20:26:40Z
    first = make(BUILD / "circular.policy", tmp_path / "a")
    second = make(BUILD / "circular.policy", tmp_path / "b")
    assert first.file(".pdf").read_bytes() == second.file(".pdf").read_bytes()
    assert first.pdf.metadata["/ModDate"].startswith("D:20260528202640")
    assert first.pdf.metadata["/CreationDate"].startswith("D:20260615")  # the date of issue
    assert 'content="2026-05-28T20:26:40+00:00"' in first.file(".html").read_text(encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(BuildError) as info:
        build(BUILD / "circular.policy", BuildOptions(out_dir=tmp_path / "c"))
    assert info.value.code == "B605"


def test_pdf_a_3b_embeds_the_rule_set(tmp_path: Path) -> None:
    built = make(BUILD / "circular.policy", tmp_path, pdf_variant="pdf/a-3b")
    root = built.pdf.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in xmp and b"pdfaid:conformance" in xmp
    rules = built.file(".rules.json").read_bytes()
    assert built.pdf.attachments == {"test-circular.rules.json": [rules]}
    spec = root["/Names"]["/EmbeddedFiles"]["/Names"][1].get_object()
    assert spec["/AFRelationship"] == "/Alternative"
    assert "/AF" in root
    assert "/StructTreeRoot" in root  # tagged as well


def test_failing_examples_leave_earlier_outputs_intact(tmp_path: Path) -> None:
    policy = copy_fixtures(tmp_path)
    out = tmp_path / "out"
    first = build(policy, BuildOptions(out_dir=out))
    before = {p.name: p.read_bytes() for p in first.outputs}
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace('"Reporting a rally" { text: "The Purple Party held a rally today.", '
                                   'platform: x }\n            expect permitted',
                                   '"Reporting a rally" { text: "The Purple Party held a rally today.", '
                                   'platform: x }\n            expect prohibited'), encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(policy, BuildOptions(out_dir=out))
    assert (info.value.code, info.value.kind) == ("B602", "failing")
    assert outputs(out) == before  # no temporary files left either


def test_a_failed_write_leaves_earlier_outputs_intact(small: Built, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    shutil.copytree(small.out, out, symlinks=True)
    before = outputs(out)
    import toolkit.atomic

    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(toolkit.atomic.os, "fsync", full_disk)
    with pytest.raises(BuildError) as info:
        build(BUILD / "circular.policy", BuildOptions(out_dir=out, template="uk"))
    assert info.value.code == "B606" and "No space left on device" in info.value.message
    assert outputs(out) == before


# ---------------------------------------------------------------------------
# Security: nothing is fetched from outside the template directory
# ---------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_urls_in_policy_text_are_not_fetched(tmp_path: Path, http_server: tuple[str, list[str]]) -> None:
    url, requests = http_server
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    policy = copy_fixtures(tmp_path)
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        '"Officers remain officers online."',
        f'"See <img src=\\"{url}/a.png\\"> and <img src=\\"{secret.as_uri()}\\"> and {url}/b.png '
        f'and {secret.as_uri()}."'), encoding="utf-8")
    result = build(policy, BuildOptions(out_dir=tmp_path / "out"))
    assert requests == []
    assert result.refused_urls == []  # escaped text is text: nothing even asks for them
    html = (tmp_path / "out" / "test-circular.html").read_text(encoding="utf-8")
    assert f"&lt;img src=&#34;{url}/a.png&#34;&gt;" in html


def test_urls_in_a_template_are_refused(tmp_path: Path, http_server: tuple[str, list[str]]) -> None:
    url, requests = http_server
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }", encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "local.css").write_text("p { margin: 0 }", encoding="utf-8")
    (folder / "document.html").write_text(
        f'<html lang="en"><head><title>{{{{ document.title.text }}}}</title>'
        f'<link rel="stylesheet" href="{url}/remote.css"><link rel="stylesheet" href="{secret.as_uri()}">'
        f'<link rel="stylesheet" href="local.css"><link rel="stylesheet" href="../secret.css"></head>'
        f'<body><img src="{url}/i.png" alt=""><p>{{{{ document.title.text }}}}</p></body></html>',
        encoding="utf-8")
    result = build(copy_fixtures(tmp_path), BuildOptions(out_dir=tmp_path / "out", template=str(folder)))
    assert requests == []
    assert sorted(result.refused_urls) == sorted([f"{url}/remote.css", secret.as_uri(), secret.as_uri(),
                                                  f"{url}/i.png"])


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_cli_builds_and_reports(runner: CliRunner, tmp_path: Path) -> None:
    from toolkit.cli import cli

    policy = copy_fixtures(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(cli, ["build", str(policy), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert "4 examples pass; template india, compared with test-guidance" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [".govpost", "test-circular.html", "test-circular.rules.json"]
    # A missing translation is a warning that names the clause.
    assert "warning[S221]: clause 1.1(b) `self-praise` text has no `@hi` translation" in result.stderr


def test_cli_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    from toolkit.cli import cli

    missing = runner.invoke(cli, ["build", str(tmp_path / "absent.policy"), "-o", str(tmp_path)])
    assert missing.exit_code == 2 and "error[B601]" in missing.stderr and "Traceback" not in missing.output
    policy = copy_fixtures(tmp_path)
    bad_template = runner.invoke(cli, ["build", str(policy), "--template", str(tmp_path / "none")])
    assert bad_template.exit_code == 2 and "error[B604]" in bad_template.stderr
    variant = runner.invoke(cli, ["build", str(policy), "--pdf-variant", "pdf/a-1b"])
    assert variant.exit_code == 2
    (tmp_path / "guidance.policy").write_text("policy broken {", encoding="utf-8")
    comparator = runner.invoke(cli, ["build", str(policy), "-o", str(tmp_path / "out"), "--no-pdf"])
    assert comparator.exit_code == 2 and "error[B603]" in comparator.stderr
    policy.write_text(policy.read_text(encoding="utf-8").replace("expect advisory by self-praise",
                                                                 "expect prohibited"), encoding="utf-8")
    failing = runner.invoke(cli, ["build", str(policy), "-o", str(tmp_path / "out"), "--no-pdf"])
    assert failing.exit_code == 1
    assert "FAIL  self-praise: Claiming credit" in failing.stderr and "error[B602]" in failing.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_renderer_is_b607_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = copy_fixtures(tmp_path)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` now fails
    with pytest.raises(BuildError) as info:
        build(policy, BuildOptions(out_dir=tmp_path / "out"))
    assert (info.value.code, info.value.kind) == ("B607", "invalid")
    assert "--no-pdf" in info.value.message and not (tmp_path / "out").exists()
    build(policy, BuildOptions(out_dir=tmp_path / "out", pdf=False))  # what the message suggests works


def test_a_broken_bundled_template_is_b699_exit_3(runner: CliRunner, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit import render
    from toolkit.cli import cli

    policy = copy_fixtures(tmp_path)
    monkeypatch.setattr(render, "ENTRY", "no-such-entry.html")  # as if india/document.html were lost
    result = runner.invoke(cli, ["build", str(policy), "-o", str(tmp_path / "out"), "--no-pdf"])
    assert result.exit_code == 3 and "internal error[B699]" in result.stderr and "bug in govpost" in result.stderr
    assert not (tmp_path / "out").exists()


def test_every_build_code_is_exercised() -> None:
    tests = (Path(__file__).read_text(encoding="utf-8")
             + (Path(__file__).parent / "test_render.py").read_text(encoding="utf-8"))
    for code in BUILD_CODES:
        assert re.search(rf"""(["']|error\[){code}(["']|\])""", tests.replace(f'"{code}": ', "")), code


def test_the_comparison_made_in_a_forked_process_is_the_same(tmp_path: Path) -> None:
    from toolkit import build as building

    policy = copy_fixtures(tmp_path)
    checked = api.check_file(policy)
    ruleset = api.compile_result(checked)
    other = tmp_path / "guidance.policy"
    building._COMPARISONS.clear()
    here = building._comparison_here(checked.content_hash, ruleset, other)
    building._COMPARISONS.clear()
    side = building._comparison_on_the_side(checked.content_hash, ruleset, other)
    assert here[0] is None and here[1] == "test-guidance"
    assert side == here
    other.write_text("policy broken {", encoding="utf-8")
    errors, compared, comparison = building._comparison_on_the_side(checked.content_hash, ruleset, other)
    assert compared is None and comparison is None
    assert [e.code for e in errors] == [e.code for e in building._comparison_here(checked.content_hash, ruleset,
                                                                                   other)[0]]


def test_cli_variants_match_the_renderer() -> None:
    from toolkit import render
    from toolkit.cli import build as cli_build

    assert cli_build._VARIANTS == render.PDF_VARIANTS
    assert set(BUILD_CODES) == {f"B60{n}" for n in range(1, 9)} | {"B699"}


# ---------------------------------------------------------------------------
# The text layer: what search, copy and screen readers get from the PDF
# ---------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _shown(text: str) -> str:
    """A policy text as printed: ``{shown|term}`` and ``{term}`` references without their braces."""
    from toolkit.check import term_references

    out, pos = [], 0
    for _term, shown, start, end in term_references(text):
        out += [text[pos:start], shown.strip()]
        pos = end
    return "".join([*out, text[pos:]])


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _hindi_texts(checked: api.CheckResult) -> list[str]:
    """The Hindi subject (the circular's title line), and the Hindi title and text of its first clause."""
    policy = checked.policy
    assert policy is not None
    clause = next(c for c in policy.clauses() if c.text.get("hi"))
    return [_shown(t) for t in (policy.meta.subject.get("hi"), clause.title.get("hi"), clause.text.get("hi"))]


@pytest.mark.parametrize("reader", ["pdftotext", "pypdf"])
def test_devanagari_extracts_as_its_source(ais: Built, small: Built, reader: str) -> None:
    for built in (ais, small):
        extracted = _squash(_pdftotext(built.file(".pdf")) if reader == "pdftotext" else " ".join(built.pages))
        for expected in _hindi_texts(built.checked):
            assert _squash(expected) in extracted, expected


def test_words_that_reorder_or_join_glyphs_extract_whole(small: Built) -> None:
    # A vowel sign drawn before its consonant (नि), a conjunct (त्र), a mark over its base (ं):
    # the same glyphs stand for different text in different words.
    text = _squash(_pdftotext(small.file(".pdf")))
    for word in ("परीक्षण", "अधिकारियों", "मंत्रालय", "दिशानिर्देश", "निदेश"):
        assert word in text, word


# ---------------------------------------------------------------------------
# Without HarfBuzz's subsetting library (fonts subset by fontTools)
# ---------------------------------------------------------------------------

# Runs `govpost ARGS…` in a process where cffi cannot open libharfbuzz-subset, as on a machine
# without the package, with warnings turned into errors as the test suite turns them.
_WITHOUT_HB_SUBSET = """
import sys, cffi
_dlopen = cffi.FFI.dlopen
def dlopen(self, name, *args, **kwargs):
    if "harfbuzz-subset" in str(name):
        raise OSError(f"cannot load library {name!r}: hidden by the test")
    return _dlopen(self, name, *args, **kwargs)
cffi.FFI.dlopen = dlopen
from toolkit.cli import main
sys.argv[0] = "govpost"
main()
"""


def _font_timestamps(pdf: Path) -> dict[str, int]:
    """``head.modified`` of every font embedded in a PDF, by font name."""
    import io

    from fontTools.ttLib import TTFont

    found = {}
    for page in PdfReader(pdf).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if "/DescendantFonts" not in font:
                continue
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            data = descriptor["/FontFile2"].get_object().get_data()
            found[str(font["/BaseFont"])] = TTFont(io.BytesIO(data))["head"].modified
    return found


def _bundled_font_timestamps() -> set[int]:
    from fontTools.ttLib import TTFont

    return {TTFont(path)["head"].modified for path in (ROOT / "templates" / "fonts").glob("*.ttf")}


def test_fonts_keep_the_timestamps_of_the_bundled_fonts(small: Built) -> None:
    stamps = _font_timestamps(small.file(".pdf"))
    assert stamps and set(stamps.values()) <= _bundled_font_timestamps(), stamps


def test_without_harfbuzz_subset_the_build_is_reproducible(tmp_path: Path) -> None:
    from toolkit.render_fonts import FONTTOOLS_NOTE

    policy = copy_fixtures(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    outputs = []
    for name in ("first", "second"):
        run = subprocess.run([sys.executable, "-W", "error", "-c", _WITHOUT_HB_SUBSET, "build", str(policy),
                              "-o", str(tmp_path / name)], capture_output=True, text=True, check=False, env=env,
                             cwd=ROOT)
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr and "DeprecationWarning" not in run.stderr
        # WeasyPrint's warning per font is one line of govpost's.
        assert run.stderr.count("fontTools") == 1 and FONTTOOLS_NOTE in run.stderr, run.stderr
        outputs.append((tmp_path / name / "test-circular.pdf").read_bytes())
    assert outputs[0] == outputs[1]
    stamps = _font_timestamps(tmp_path / "first" / "test-circular.pdf")
    assert stamps and set(stamps.values()) <= _bundled_font_timestamps(), stamps
    # The text layer does not depend on the subsetter.
    text = _squash(_pdftotext(tmp_path / "first" / "test-circular.pdf"))
    assert "परीक्षण अधिकारियों द्वारा सोशल मीडिया का उपयोग" in text


# ---------------------------------------------------------------------------
# A State government's circular, in English and Marathi
# ---------------------------------------------------------------------------


def test_a_state_circular_is_headed_by_its_own_government_in_its_own_language(tmp_path: Path) -> None:
    built = make(BUILD / "maharashtra.policy", tmp_path)
    first = _squash(_pdftotext(built.file(".pdf")).split("\f")[0])
    for expected in ("महाराष्ट्र शासन Government of Maharashtra सामान्य प्रशासन विभाग General Administration Department",
                     "दिनांक 28 जुलै, 2025 Dated the 28th July, 2025", "परिपत्रक / CIRCULAR",
                     "विषय: शासकीय कर्मचाऱ्यांनी समाजमाध्यमांचा वापर करण्याबाबत.",
                     "अनुक्रमणिका / Contents", "निषिद्ध / Prohibited: shall not",
                     "केवळ पूर्वमंजुरीने / Only with the prior sanction of the head of the office",
                     "नियम / Rules: MCS (Conduct) Rules, rule 8"):
        assert expected in first, expected
    whole = _squash(_pdftotext(built.file(".pdf")))
    assert "Government of India" not in whole and "भारत सरकार" not in whole and "परिपत्र /" not in whole
    assert "ही मार्गदर्शक तत्त्वे 1 ऑगस्ट, 2025 पासून अंमलात येतील." in whole
    assert '<p lang="mr" class="govt v-mr secondary">महाराष्ट्र शासन</p>' in built.file(".html").read_text("utf-8")


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "variant.policy"
    text = (BUILD / "maharashtra.policy").read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("languages    en, mr", "languages    en, ta",
     "the `india` template has no wording in `ta` (CIRCULAR, the outcomes, the headings); it has `hi` (Hindi), "
     "`mr` (Marathi)"),
    ('    government   "Government of Maharashtra" @mr "महाराष्ट्र शासन"\n', "",
     "the issuing government of `Maharashtra` is not given: add `government \"Government of Maharashtra\"`"),
    ('"Government of Maharashtra" @mr "महाराष्ट्र शासन"', '"Government of Maharashtra"',
     "`government` `Government of Maharashtra` has no `@mr` name"),
])
def test_missing_wording_or_government_is_b608(runner: CliRunner, tmp_path: Path, old: str, new: str,
                                               message: str) -> None:
    from toolkit.cli import cli

    result = runner.invoke(cli, ["build", str(_variant(tmp_path, old, new)), "-o", str(tmp_path / "out"),
                                 "--no-pdf"])
    assert result.exit_code == 2, result.output
    assert "error[B608]: " + message in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
