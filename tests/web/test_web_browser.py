"""End to end in a real browser: Debian's chromium, headless, driven by Playwright (never a downloaded browser).

`govpost serve` runs as a user runs it (a subprocess, its own SQLite database); a reviewer is created
and results imported with the command line. One browser serves every test. Screenshots are saved as
test artefacts in output/test-artifacts/ (or $GOVPOST_ARTIFACTS).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import AIS, PASSWORD, POSTS, ROOT

CHROMIUM = Path(os.environ.get("GOVPOST_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("GOVPOST_ARTIFACTS", ROOT / "output" / "test-artifacts"))
GOVPOST = [sys.executable, "-m", "toolkit"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium (the README's system packages)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (it is in the test extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), args=FLAGS,
                                                       headless=True, viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`govpost serve` on a free port with a fresh database, a reviewer, and the example results imported."""
    base = tmp_path_factory.mktemp("serve")
    db = f"sqlite:///{base / 'review.sqlite3'}"
    env = {**os.environ, "GOVPOST_DATA_DIR": str(base)}
    subprocess.run([*GOVPOST, "serve", "create-user", "asha", "--password-stdin", "--db", db], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True, env=env, cwd=ROOT)
    results = base / "results.jsonl"
    subprocess.run([*GOVPOST, "check", str(AIS), str(POSTS), "--format", "jsonl", "-o", str(results)],
                   capture_output=True, check=False, env=env, cwd=ROOT)
    subprocess.run([*GOVPOST, "review", "import", str(results), "--policy", str(AIS), "--posts", str(POSTS),
                    "--db", db], check=True, capture_output=True, env=env, cwd=ROOT)
    proc = subprocess.Popen([*GOVPOST, "serve", str(AIS), "--port", "0", "--db", db], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        address = None
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"Serving on (http://\S+/)", line)
            if found:
                address = found.group(1)
                break
        if address is None:
            pytest.fail(f"govpost serve printed no address: {proc.stderr.read() if proc.stderr else ''}")
        yield address.rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def contrast(page: Any, selector: str) -> float:
    """The WCAG contrast ratio of an element's text colour against its background."""
    return float(page.eval_on_selector(selector, """el => {
        const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        const lum = c => { const [r, g, b] = c.map(lin);
                           return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        let bg = el; let back = getComputedStyle(bg).backgroundColor;
        while (back === 'rgba(0, 0, 0, 0)' && bg.parentElement) {
            bg = bg.parentElement; back = getComputedStyle(bg).backgroundColor;
        }
        if (back === 'rgba(0, 0, 0, 0)') back = 'rgb(255, 255, 255)';
        const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(back));
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }"""))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    p = browser.new_page()
    yield p
    p.close()


def test_an_english_draft_is_checked_as_it_is_typed(page: Any, server: str) -> None:
    page.goto(f"{server}/check?lang=en")
    page.fill("#text", "Proud of what the BJP has done for Kerala. Vote BJP on 5 May!")
    page.wait_for_selector("#result[data-checked] .verdict-prohibited")
    assert page.inner_text("#outcome-status").strip() == "Do not post this"
    assert page.locator("mark.ev").count() >= 2
    counterfactual = page.inner_text(".counterfactual")
    assert counterfactual == "Without the words BJP, Vote BJP, this would be: Permitted."
    assert "Clause 3.1(a)" in page.inner_text("#result")
    assert page.inner_text("#announce") == "Do not post this"
    assert contrast(page, ".verdict .words") >= 4.5 and contrast(page, "mark.ev") >= 4.5
    shot(page, "check-en")


def test_a_hindi_draft_on_the_hindi_page(page: Any, server: str) -> None:
    page.goto(f"{server}/check?lang=hi")
    assert page.get_attribute("html", "lang") == "hi"
    page.fill("#text", "भाजपा को वोट दें! मोदी जी जिंदाबाद")
    page.wait_for_selector("#result[data-checked] .verdict-prohibited")
    assert page.inner_text("#outcome-status").strip() == "इसे पोस्ट न करें"
    assert "किसी राजनीतिक दल या अभ्यर्थी का समर्थन" in page.inner_text("#result")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"Govpost Devanagari Sans\"', 'हिन्दी')")
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any("Devanagari" in f for f in loaded)  # served by govpost, so Hindi never shows as boxes
    shot(page, "check-hi")


def test_the_check_page_on_a_phone_and_by_keyboard(browser: Any, server: str) -> None:
    phone = browser.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.goto(f"{server}/check?lang=en")
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.activeElement.className") == "skip"
        outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        phone.focus("#text")
        phone.keyboard.type("Denied promotion again while juniors go ahead. Harassed by seniors.")
        phone.keyboard.press("Tab")  # to the platform
        phone.keyboard.press("Tab")  # to the account
        assert phone.evaluate("document.activeElement.id") == "account"
        phone.select_option("#platform", "facebook")
        phone.wait_for_selector("#result[data-checked] .advice")
        assert "proper channel" in phone.inner_text(".advice")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        shot(phone, "check-phone")
    finally:
        phone.close()


def test_without_javascript_the_form_still_checks(browser: Any, server: str) -> None:
    plain = browser.new_page()
    try:
        plain.route("**/static/check.js", lambda route: route.abort())
        plain.goto(f"{server}/check?lang=en")
        plain.fill("#text", "Use my code GOVPOST10 for 10% off these running shoes! #ad")
        plain.click("button.primary")
        plain.wait_for_load_state()
        assert plain.inner_text("#outcome-status").startswith("Needs prior sanction of the Government")
        assert "Ask the Government" in plain.inner_text(".advice")
    finally:
        plain.close()


def test_a_reviewer_signs_in_and_decides_three_posts(page: Any, server: str) -> None:
    page.goto(f"{server}/review")
    assert "/login" in page.url
    page.fill("#username", "asha")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/review$"))
    assert "6 cases" in page.inner_text("main")
    shot(page, "queue")
    for decision in ("agree", "disagree", "escalate"):
        page.goto(f"{server}/review?status=open")
        page.click("table.queue tbody tr:first-child a")
        page.check(f"#d-{decision}")
        if decision == "disagree":
            page.select_option("#right_outcome", "advisory")
            page.fill("#reason", "a quotation of a news report, not the officer's view")
        page.click("button[value=decide]")
        page.wait_for_selector("p.saved")
        assert decision in page.inner_text("table.queue")
        if decision == "disagree":
            shot(page, "case")
    page.goto(f"{server}/review?status=decided")
    assert "2 cases" in page.inner_text("main")
    response = page.request.get(f"{server}/review/export.jsonl")
    assert len(response.text().splitlines()) == 3


def test_the_training_module(page: Any, server: str) -> None:
    page.goto(f"{server}/training?lang=en")
    page.click("ol.sections li:first-child a")
    questions = page.locator("section.question")
    count = questions.count()
    assert count >= 2
    for i in range(count):
        questions.nth(i).locator("input[value=permitted]").check()
    page.click("button.primary")
    score = page.inner_text("p.score")
    assert re.match(rf"You answered \d+ of {count} right in this section\.", score)
    assert page.locator(".answer .clause").count() >= count
    shot(page, "training")
    page.goto(f"{server}/training/score")
    assert "So far:" in page.inner_text("main")
