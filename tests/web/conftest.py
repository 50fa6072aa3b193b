"""Fixtures of the web application's tests: the AIS policy served once, a fresh SQLite database per
test, a signed-in test client, and (in test_store.py and test_browser.py) a real PostgreSQL server and a
real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import AIS, PASSWORD, POSTS, sign_in


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


@pytest.fixture
def reviewer(store: Any) -> Any:
    from toolkit.web.auth import create_user

    return create_user(store, "asha", PASSWORD, "reviewer")


@pytest.fixture
def signed_in(client: Any, reviewer: Any) -> Any:
    response = sign_in(client)
    assert response.status_code == 303, response.text
    return client
