"""The web application through Starlette's test client: pages, guards, the queue, training."""

from __future__ import annotations

import json
import re
from typing import Any

from web_support import PASSWORD, POSTS, csrf_of, form_token, import_examples, sign_in

DRAFT = {"platform": "x", "account": "personal", "action": "post"}


def post_check(client: Any, text: str, fragment: bool = False, **fields: str) -> Any:
    data = {"csrf": form_token(client), "text": text, **DRAFT, **fields}
    return client.post("/check", data=data, headers={"X-Govpost-Fragment": "1"} if fragment else {})


# -- the check page ---------------------------------------------------------


def test_the_check_page_says_drafts_are_not_kept_and_sends_a_strict_csp(client: Any) -> None:
    page = client.get("/check")
    assert page.status_code == 200
    assert "Your draft is not stored or logged" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert "<script src=\"/static/check.js\"" in page.text and "<script>" not in page.text
    assert 'style="' not in page.text  # nothing the CSP would block


def test_a_plain_form_post_checks_the_draft_without_javascript(client: Any) -> None:
    page = post_check(client, "Proud of what the BJP has done for Kerala. Vote BJP on 5 May!")
    assert page.status_code == 200
    assert "Do not post this" in page.text
    assert '<mark class="ev ev-prohibited">' in page.text
    assert "Clause 3.1(a)" in page.text and "Endorsing a political party or candidate" in page.text
    assert "AIS (Conduct) Rules, rule 5(1)" in page.text
    # The words the checker found decide it (the party's name where it is praised, the call to vote).
    assert "Without the words <q>BJP</q>, <q>Vote BJP</q>, this would be: Permitted." in page.text
    assert "<html" in page.text


def test_the_script_gets_only_the_result(client: Any) -> None:
    part = post_check(client, "Denied promotion again while juniors go ahead. Harassed by seniors.", fragment=True,
                      platform="facebook")
    assert part.status_code == 200
    assert "<html" not in part.text
    assert "through proper channel" in part.text  # the policy's channel for grievances


def test_hindi_pages_use_the_policys_translations(client: Any) -> None:
    page = client.get("/check?lang=hi")
    assert '<html lang="hi">' in page.text and "पोस्ट करने से पहले" in page.text
    assert page.cookies.get("govpost_lang") == "hi" or "govpost_lang=hi" in page.headers.get("set-cookie", "")
    result = post_check(client, "भाजपा को वोट दें!", fragment=True, lang="hi")
    assert "इसे पोस्ट न करें" in result.text
    assert "किसी राजनीतिक दल या अभ्यर्थी का समर्थन" in result.text  # the clause title's @hi
    assert "<q>भाजपा को वोट दें</q> शब्दों के बिना इसका परिणाम होगा: अनुमत।" in result.text


def test_draft_text_is_never_markup(client: Any) -> None:
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)> Proud of what the BJP has done "now" & \'then\''
    for fragment in (False, True):
        page = post_check(client, evil, fragment=fragment)
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    rendered = post_check(client, evil, fragment=True).text
    assert re.search(r'name="text" value="&lt;script&gt;alert\(1\)', rendered)  # the save form's copy, escaped


def test_a_form_without_its_token_is_refused(client: Any) -> None:
    client.get("/check")
    page = client.post("/check", data={"text": "hello", **DRAFT})
    assert page.status_code == 403 and "error[W702]" in page.text
    forged = client.post("/check", data={"csrf": "0" * 64, "text": "hello", **DRAFT})
    assert forged.status_code == 403
    other_site = client.post("/check", data={"csrf": form_token(client), "text": "hello", **DRAFT},
                             headers={"origin": "https://evil.example"})
    assert other_site.status_code == 403


def test_drafts_and_uploads_have_size_limits(client: Any) -> None:
    token = form_token(client)
    huge = client.post("/check", data={"csrf": token, "text": "x" * 70_000, **DRAFT})
    assert huge.status_code == 413 and "error[I503]" in huge.text
    long_text = post_check(client, "x" * 20_001)
    assert long_text.status_code == 400 and "error[W705]" in long_text.text and "20,000" in long_text.text


def test_the_check_is_rate_limited(make_client: Any) -> None:
    client = make_client(check_rate=3)
    token = form_token(client)
    codes = [client.post("/check", data={"csrf": token, "text": "hello", **DRAFT}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
    limited = client.post("/check", data={"csrf": token, "text": "hello", **DRAFT})
    assert "error[W701]" in limited.text and int(limited.headers["retry-after"]) >= 1


def test_a_bad_choice_is_a_clear_error(client: Any) -> None:
    page = post_check(client, "hello", platform="twitter")
    assert page.status_code == 400 and "`twitter` is not a platform" in page.text


def test_saving_a_case_puts_it_in_the_queue(client: Any, store: Any, reviewer: Any) -> None:
    token = form_token(client)
    page = client.post("/check/save", data={"csrf": token, "text": "Vote BJP on 5 May!", **DRAFT})
    assert page.status_code == 200 and "Saved for review as case 1" in page.text
    sign_in(client)
    queue = client.get("/review")
    assert "draft-" in queue.text and "1 case" in queue.text


def test_static_files_and_fonts_are_served(client: Any) -> None:
    assert client.get("/static/web.css").status_code == 200
    font = client.get("/fonts/NotoSansDevanagari-Regular.ttf")
    assert font.status_code == 200 and len(font.content) > 100_000
    assert client.get("/fonts/fonts.css").status_code == 404
    assert client.get("/no/such/page").status_code == 404


# -- signing in --------------------------------------------------------------


def test_no_page_of_the_queue_is_reachable_without_signing_in(client: Any) -> None:
    for path in ("/review", "/review/import", "/review/export.csv", "/review/case/1"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next="), path


def test_signing_in_sets_a_strict_session_cookie(client: Any, reviewer: Any) -> None:
    wrong = sign_in(client, password="not the password")
    assert wrong.status_code == 401 and "do not match" in wrong.text
    right = sign_in(client)
    assert right.status_code == 303 and right.headers["location"] == "/review"
    cookie = right.headers["set-cookie"]
    assert "govpost_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/review").status_code == 200
    token = csrf_of(client.get("/review").text)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_signing_in_is_rate_limited(make_client: Any, reviewer: Any) -> None:
    client = make_client(login_rate=2)
    codes = [sign_in(client, password="wrong password!").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_the_redirect_after_signing_in_stays_on_this_server(client: Any, reviewer: Any) -> None:
    token = csrf_of(client.get("/login").text)
    page = client.post("/login", data={"csrf": token, "username": "asha", "password": PASSWORD,
                                       "next": "//evil.example/x"}, follow_redirects=False)
    assert page.headers["location"] == "/review"


# -- the queue ---------------------------------------------------------------


def test_an_uploaded_results_file_is_imported_once(signed_in: Any) -> None:
    from toolkit.web.store import Case  # noqa: F401  (the tables exist)

    results = _results()
    token = csrf_of(signed_in.get("/review/import").text)
    files = {"results": ("results.jsonl", results, "application/json"),
             "posts": ("posts.jsonl", POSTS.read_bytes(), "application/json")}
    first = signed_in.post("/review/import", data={"csrf": token, "policy": "ais-social-media"}, files=files)
    assert first.status_code == 200 and "6 cases added" in first.text
    again = signed_in.post("/review/import", data={"csrf": token, "policy": "ais-social-media"}, files=files)
    assert "0 cases added, 6 already in the queue" in again.text
    queue = signed_in.get("/review")
    outcomes = re.findall(r'badge badge-(\w+)', queue.text)
    assert outcomes == sorted(outcomes, key=["permitted", "advisory", "requires_sanction", "prohibited"].index,
                              reverse=True)


def test_an_upload_too_large_is_refused(make_client: Any, reviewer: Any) -> None:
    client = make_client(max_upload=1000)
    sign_in(client)
    token = csrf_of(client.get("/review/import").text)
    page = client.post("/review/import", data={"csrf": token}, files={"results": ("r.jsonl", b"x" * 5000)})
    assert page.status_code == 413


def _results() -> bytes:
    from click.testing import CliRunner
    from web_support import AIS

    from toolkit.cli import cli

    out = CliRunner().invoke(cli, ["check", str(AIS), str(POSTS), "--format", "jsonl", "--jobs", "1"])
    return out.stdout.replace(str(POSTS), "posts.jsonl").encode()


def test_filters_decisions_conflicts_and_exports(signed_in: Any, store: Any, catalogue: Any, results_text: str,
                                                 make_client: Any) -> None:
    from toolkit.web.auth import create_user

    import_examples(store, catalogue, results_text)
    filtered = signed_in.get("/review?outcome=requires_sanction")
    assert filtered.text.count('badge badge-requires_sanction') == 2 and "badge-prohibited" not in filtered.text
    by_clause = signed_in.get("/review?clause=disclosure")
    assert "1 case." in by_clause.text
    by_topic = signed_in.get("/review?topic=political_neutrality&month=2026-09")
    assert "1 case." in by_topic.text

    case_id = int(re.search(r'href="/review/case/(\d+)"', signed_in.get("/review").text).group(1))
    page = signed_in.get(f"/review/case/{case_id}")
    assert page.status_code == 200 and "<mark" in page.text
    token = csrf_of(page.text)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)

    # Labels are checked again by the case's rule set before anything is recorded.
    rechecked = signed_in.post(f"/review/case/{case_id}", data={
        "csrf": token, "version": version, "action": "recheck", "labels": ["official_capacity"]})
    assert "With the labels official_capacity, the checker gives" in rechecked.text

    # A second reviewer opens the same case, then the first decides.
    create_user(store, "bela", PASSWORD)
    other = make_client()
    sign_in(other, "bela")
    other_page = other.get(f"/review/case/{case_id}")
    done = signed_in.post(f"/review/case/{case_id}", data={
        "csrf": token, "version": version, "action": "decide", "decision": "disagree", "reason": "a quotation",
        "right_outcome": "permitted", "labels": ["official_capacity"], "notes": "see the thread"},
        follow_redirects=False)
    assert done.status_code == 303
    conflict = other.post(f"/review/case/{case_id}", data={
        "csrf": csrf_of(other_page.text), "version": version, "action": "decide", "decision": "agree"})
    assert conflict.status_code == 409 and "error[W703]" in conflict.text and "asha" in conflict.text

    incomplete = signed_in.post(f"/review/case/{case_id}", data={
        "csrf": token, "version": str(int(version) + 1), "action": "decide", "decision": "disagree"})
    assert incomplete.status_code == 400 and "say why you disagree" in incomplete.text

    jsonl = signed_in.get("/review/export.jsonl")
    (row,) = [json.loads(line) for line in jsonl.text.splitlines()]
    assert row["reviewer"] == "asha" and row["choice"] == "disagree" and row["labels"] == ["official_capacity"]
    assert row["rule_set_hash"] == catalogue.default.content_hash and row["outcome_with_labels"] is not None
    assert signed_in.get("/review/export.jsonl").content == jsonl.content  # deterministic
    csv_text = signed_in.get("/review/export.csv").text
    assert csv_text.splitlines()[0].startswith("decision,case,post_id,policy,rule_set_hash,reviewer,at,choice")
    examples = signed_in.get("/review/export.policy").text
    assert "example \"Reviewer disagreement on post" in examples and "expect permitted" in examples


# -- training ------------------------------------------------------------------


def test_training_is_the_worked_examples_with_the_checkers_answers(client: Any, catalogue: Any) -> None:
    index = client.get("/training")
    assert index.status_code == 200
    training = catalogue.default.training()
    assert training["count"] == len(catalogue.default.ruleset["examples"])
    first = training["sections"][0]
    page = client.get(f"/training/{first['number']}")
    assert page.text.count('class="question"') == len(first["questions"])
    token = csrf_of(page.text)
    answers = {f"q{q['number']}": q["answer"]["key"] for q in first["questions"]}
    wrong = first["questions"][0]
    answers[f"q{wrong['number']}"] = "prohibited" if wrong["answer"]["key"] != "prohibited" else "permitted"
    marked = client.post(f"/training/{first['number']}", data={"csrf": token, **answers})
    total = len(first["questions"])
    assert f"You answered {total - 1} of {total} right in this section." in marked.text
    assert "The right answer" in marked.text and "Clause " in marked.text
    score = client.get("/training/score")
    assert f"So far: {total - 1} of {total} right, in 1 of {len(training['sections'])} sections." in score.text
    assert client.get("/training/99").status_code == 404
