"""Helpers of the web application's tests: paths, CSRF tokens, signing in, importing the examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
UK = ROOT / "policies" / "uk" / "civil-service-social-media.policy"
POSTS = ROOT / "examples" / "posts.jsonl"
PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def form_token(client: Any, path: str = "/check") -> str:
    return csrf_of(client.get(path).text)


def sign_in(client: Any, username: str = "asha", password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": username, "password": password},
                       follow_redirects=False)


def import_examples(store: Any, catalogue: Any, results_text: str) -> Any:
    from toolkit.web import review

    index = review.PostIndex()
    index.add_file(POSTS, "examples/posts.jsonl")
    return review.import_results(store, catalogue.default.ruleset, results_text, index)
