"""Every HTML file govpost writes shows its Hindi text on a machine without a Devanagari font.

Debian's chromium, headless, driven by Playwright, runs with a fontconfig configuration that lists
one Latin font and nothing else (Chromium needs one font to start laying out text at all; it has no
Devanagari), so any Devanagari glyph on the screen comes from the page itself. For the AIS circular
(`govpost build`), a bilingual redline (`govpost diff --format html`) and an audit report of Hindi
posts (`govpost report --format html`):

- without the fonts govpost embeds, every Devanagari letter is the same empty box (the control: this
  machine really has no Devanagari font);
- with them, the Hindi text is drawn with govpost's own face (Chromium's CSS.getPlatformFontsForNode
  names it, a web font), conjuncts are shaped (क्ष is one glyph, narrower than two boxes) and letters
  have their own widths;
- the screenshots of the two differ where the Hindi is. They are saved as PNG test artefacts in
  output/test-artifacts/ (or $GOVPOST_ARTIFACTS).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.htmlfonts import STYLE_ID

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("GOVPOST_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("GOVPOST_ARTIFACTS", ROOT / "output" / "test-artifacts"))
AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
BILINGUAL = ROOT / "tests" / "fixtures" / "diff" / "bilingual"
DEVANAGARI = re.compile("[\u0900-\u097f]")

HINDI_POSTS = [
    {"id": "h1", "text": "भाजपा को वोट दें! भाजपा ज़िंदाबाद", "platform": "x",
     "posted_at": "2029-04-02T10:00:00+05:30", "account": {"kind": "personal", "handle": "@adhikari"}},
    {"id": "h2", "text": "आज ज़िले में बारिश हुई, सभी सुरक्षित रहें।", "platform": "facebook",
     "posted_at": "2029-04-03T10:00:00+05:30", "account": {"kind": "personal", "handle": "@adhikari"}},
    {"id": "h3", "text": "यह सरकार किसानों के लिए विफल रही है। जनविरोधी नीति!", "platform": "x",
     "posted_at": "2029-05-01T10:00:00+05:30", "account": {"kind": "personal", "handle": "@collector"}},
]


def _latin_font() -> Path:
    """A font with no Devanagari: the system's DejaVu Sans if there is one, else govpost's Latin Noto Sans."""
    for candidate in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                      ROOT / "templates" / "fonts" / "NotoSans-Regular.ttf"):
        if candidate.is_file():
            return candidate
    pytest.skip("no Latin font to give Chromium")


@pytest.fixture(scope="module")
def no_devanagari(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a machine whose fontconfig knows one Latin font and no Devanagari one."""
    from fontTools.ttLib import TTFont

    base = tmp_path_factory.mktemp("fontconfig")
    fonts = base / "fonts"
    fonts.mkdir()
    font = shutil.copy(_latin_font(), fonts)
    with TTFont(font, lazy=True) as tt:
        assert not any(0x0900 <= c <= 0x097F for c in tt.getBestCmap()), "the Latin font has Devanagari"
    conf = base / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    f"  <dir>{fonts}</dir>\n  <cachedir>{base / 'cache'}</cachedir>\n</fontconfig>\n",
                    encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list"], env=env, capture_output=True, text=True, check=True).stdout
        assert len(listed.strip().splitlines()) == 1, listed  # the one font, no system font
        hindi = subprocess.run(["fc-list", ":lang=hi"], env=env, capture_output=True, text=True, check=True).stdout
        assert hindi.strip() == "", hindi
    return env


@pytest.fixture(scope="module")
def browser(no_devanagari: dict[str, str]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium (the README's system packages)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (it is in the test extra)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True, env=no_devanagari)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three HTML files, written by the commands a user runs."""
    out = tmp_path_factory.mktemp("html")
    runner = CliRunner()
    built = runner.invoke(cli, ["build", str(AIS), "-o", str(out / "build"), "--no-pdf"])
    assert built.exit_code == 0, built.output
    redline = runner.invoke(cli, ["diff", str(BILINGUAL / "old.policy"), str(BILINGUAL / "new.policy"),
                                  "--format", "html", "-o", str(out / "redline.html")])
    assert redline.exit_code == 1, redline.output  # the change is stricter
    posts = out / "hindi.jsonl"
    posts.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in HINDI_POSTS), encoding="utf-8")
    checked = runner.invoke(cli, ["check", str(AIS), str(posts), "--format", "jsonl", "-o", str(out / "results.jsonl")])
    assert checked.exit_code == 1, checked.output  # two posts are prohibited
    report = runner.invoke(cli, ["report", str(out / "results.jsonl"), "--format", "html",
                                 "-o", str(out / "report.html")])
    assert report.exit_code == 0, report.output
    return {"circular": out / "build" / "ais-social-media.html", "redline": out / "redline.html",
            "report": out / "report.html"}


def _without_fonts(page: Path) -> Path:
    """The same page with the fonts govpost embeds taken out: what a page that only names its fonts shows."""
    text = page.read_text(encoding="utf-8")
    stripped, n = re.subn(rf'<style id="{STYLE_ID}">.*?</style>\n', "", text, flags=re.DOTALL)
    assert n == 1, "the page carries no embedded fonts"
    control = page.with_name(page.stem + "-without-fonts.html")
    control.write_text(stripped, encoding="utf-8")
    return control


# The element whose Hindi text is measured and photographed, per page.
SELECTORS = {"circular": "header [lang=hi]", "redline": "del", "report": "td"}

_MEASURE = """async (selector) => {
    await document.fonts.ready;
    const isHindi = el => /[\\u0900-\\u097f]/.test(el.textContent);
    const el = [...document.querySelectorAll(selector)].find(isHindi);
    el.scrollIntoView({block: "center"});
    el.setAttribute("data-probe", "1");
    const family = getComputedStyle(el).fontFamily;
    const c = document.createElement("canvas").getContext("2d");
    c.font = `32px ${family}`;
    const w = t => c.measureText(t).width;
    // The page's own letters (the fonts are subset to them) and its first conjunct (consonant, virama, consonant).
    const text = document.body.textContent;
    const letters = [...new Set(text.match(/[\\u0915-\\u0939]/g))].slice(0, 12);
    const conjunct = (text.match(/[\\u0915-\\u0939]\\u094d[\\u0915-\\u0939]/) || [null])[0];
    return {text: el.textContent.trim().slice(0, 60), family: family,
            box: w("\\u0e01"),  // Thai: no font here has it, so it is the empty box
            letters: letters, widths: letters.map(w), conjunct: conjunct, conjunctWidth: conjunct && w(conjunct)};
}"""


def _platform_fonts(page: Any) -> list[dict[str, Any]]:
    """The fonts Chromium drew the probed element's text with (DevTools' CSS.getPlatformFontsForNode)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-probe]"})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return fonts


def _look(browser: Any, path: Path, name: str, selector: str) -> tuple[dict[str, Any], list[dict[str, Any]], bytes]:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(path.as_uri())
        measured = page.evaluate(_MEASURE, selector)
        fonts = _platform_fonts(page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        element = page.locator("[data-probe]").screenshot()
    finally:
        page.close()
    return measured, fonts, element


@pytest.mark.parametrize("which", ["circular", "redline", "report"])
def test_hindi_is_drawn_with_the_fonts_the_page_carries(browser: Any, pages: dict[str, Path], which: str) -> None:
    page = pages[which]
    assert DEVANAGARI.search(page.read_text(encoding="utf-8"))
    # The control: the same page without its fonts shows boxes, every letter as wide as the next.
    bare, bare_fonts, bare_shot = _look(browser, _without_fonts(page), f"html-fonts-{which}-without-fonts",
                                        SELECTORS[which])
    assert len(bare["letters"]) >= 4, bare
    assert set(bare["widths"]) == {bare["box"]}, bare  # every letter is the same box
    if bare["conjunct"]:
        assert bare["conjunctWidth"] >= 3 * bare["box"] - 0.5, bare  # three boxes: nothing is shaped
    assert not any(f["isCustomFont"] for f in bare_fonts), bare_fonts
    # The page as govpost wrote it.
    got, fonts, shot = _look(browser, page, f"html-fonts-{which}", SELECTORS[which])
    used = {f["familyName"]: f for f in fonts}
    devanagari = [f for f in fonts if f["isCustomFont"] and "Devanagari" in f["familyName"]]
    assert devanagari and devanagari[0]["glyphCount"] > 0, used  # drawn with govpost's own face
    assert len(set(got["widths"])) > 1, got  # letters of their own widths, not one box each
    if which != "report":  # the circular and the redline have conjuncts (the report's terms may not)
        assert got["conjunct"], got
    if got["conjunct"]:
        assert got["conjunctWidth"] < 2 * got["box"], got  # क्ष is one shaped glyph, not three boxes
    assert shot != bare_shot  # and the picture is not the boxes'


def test_the_embedded_fonts_are_subset_and_fetch_nothing(pages: dict[str, Path]) -> None:
    for which, page in pages.items():
        text = page.read_text(encoding="utf-8")
        style = re.search(rf'<style id="{STYLE_ID}">(.*?)</style>', text, flags=re.DOTALL)
        assert style is not None, which
        faces = re.findall(r'font-family: "([^"]+)"', style.group(1))
        assert "Govpost Devanagari Serif" in faces or "Govpost Devanagari Sans" in faces, (which, faces)
        assert re.findall(r"src: url\(([a-z]+):", style.group(1)) == ["data"] * len(faces)
        assert not re.search(r"""url\(\s*['"]?(?!data:|#)""", text), which  # no font or image fetched
        assert len(text.encode("utf-8")) < 1_500_000, which  # subsets, not the 5 MB of font files


def test_an_english_page_carries_no_devanagari_face(tmp_path: Path) -> None:
    reworded = ROOT / "tests" / "fixtures" / "diff" / "reworded"
    out = tmp_path / "english.html"
    result = CliRunner().invoke(cli, ["diff", str(reworded / "old.policy"), str(reworded / "new.policy"),
                                      "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    faces = re.findall(r'@font-face \{ font-family: "([^"]+)"', out.read_text(encoding="utf-8"))
    assert faces and not any("Devanagari" in f for f in faces), faces


def test_embedding_is_deterministic(pages: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "redline.html"
    CliRunner().invoke(cli, ["diff", str(BILINGUAL / "old.policy"), str(BILINGUAL / "new.policy"),
                             "--format", "html", "-o", str(again)])
    assert again.read_bytes() == pages["redline"].read_bytes()
    # In another process too (no state of this one in the bytes).
    code = ("import sys; from click.testing import CliRunner; from toolkit.cli import cli; "
            f"r = CliRunner().invoke(cli, ['diff', {str(BILINGUAL / 'old.policy')!r}, "
            f"{str(BILINGUAL / 'new.policy')!r}, '--format', 'html']); sys.stdout.write(r.stdout)")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert other.stdout == pages["redline"].read_text(encoding="utf-8")
