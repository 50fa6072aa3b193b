"""Fixtures of the web application's tests: the AIS policy served once, a fresh SQLite database per
test, a signed-in test client, and (in test_store.py and test_browser.py) a real PostgreSQL server and a
real Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AIS = ROOT / "policies" / "in" / "ais-social-media.policy"
UK = ROOT / "policies" / "uk" / "civil-service-social-media.policy"
POSTS = ROOT / "examples" / "posts.jsonl"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def catalogue() -> Any:
    from toolkit.web.catalogue import Catalogue

    return Catalogue.load([AIS])


@pytest.fixture(scope="session")
def results_text(catalogue: Any) -> str:
    """What `govpost check AIS examples/posts.jsonl --format jsonl` writes."""
    from click.testing import CliRunner

    from toolkit.cli import cli

    out = CliRunner().invoke(cli, ["check", str(AIS), str(POSTS), "--format", "jsonl", "--jobs", "1"])
    assert out.exit_code == 1, out.output
    return out.stdout.replace(str(POSTS), "examples/posts.jsonl")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    from toolkit.web.store import Store

    s = Store(f"sqlite:///{tmp_path / 'review.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def make_client(catalogue: Any, store: Any) -> Any:
    from starlette.testclient import TestClient

    from toolkit.web.app import Settings, create_app

    def make(**settings: Any) -> TestClient:
        return TestClient(create_app(catalogue, Settings(**settings), store))

    return make


@pytest.fixture
def client(make_client: Any) -> Any:
    return make_client()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def form_token(client: Any, path: str = "/check") -> str:
    return csrf_of(client.get(path).text)


@pytest.fixture
def reviewer(store: Any) -> Any:
    from toolkit.web.auth import create_user

    return create_user(store, "asha", PASSWORD, "reviewer")


def sign_in(client: Any, username: str = "asha", password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": username, "password": password},
                       follow_redirects=False)


@pytest.fixture
def signed_in(client: Any, reviewer: Any) -> Any:
    response = sign_in(client)
    assert response.status_code == 303, response.text
    return client


def import_examples(store: Any, catalogue: Any, results_text: str) -> Any:
    from toolkit.web import review

    index = review.PostIndex()
    index.add_file(POSTS, "examples/posts.jsonl")
    return review.import_results(store, catalogue.default.ruleset, results_text, index)
