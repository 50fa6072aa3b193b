"""The review database against SQLite and a real PostgreSQL server the test starts itself.

PostgreSQL runs from Debian's packages (`initdb`, `pg_ctl`) in a temporary directory, on a free port
of the loopback address, as an unprivileged user (created when the tests run as root); the tests
skip, saying why, when no server can be started.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from web_support import PASSWORD, POSTS, import_examples

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "govpost-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", PG_USER, "--", *cmd]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL is not installed ({PG_BIN / 'initdb'} is missing): apt-get install postgresql")
    if os.geteuid() == 0:
        known = subprocess.run(["id", "-u", PG_USER], capture_output=True, check=False).returncode == 0
        if not known and subprocess.run(["useradd", "--system", "--no-create-home", PG_USER],
                                        capture_output=True, check=False).returncode != 0:
            pytest.skip(f"cannot create the unprivileged user `{PG_USER}` to run PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="govpost-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, PG_USER)
    port = _free_port()
    init = subprocess.run(_as_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "govpost", "--auth=trust",
                                    "--encoding=UTF8", "--locale=C"]), capture_output=True, text=True, check=False)
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    start = subprocess.run(_as_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                     str(base / "log"), "-w", "-t", "30", "start"]),
                           capture_output=True, text=True, check=False)
    if start.returncode != 0:
        log = (base / "log").read_text(errors="replace")[-300:] if (base / "log").exists() else start.stderr
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {log.strip()}")
    try:
        yield f"postgresql://govpost@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    from toolkit.web.store import Store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = Store(url)
    try:
        yield store
    finally:
        with store.engine.begin() as c:  # leave the shared PostgreSQL database empty for the next test
            if store.engine.dialect.name == "postgresql":
                c.execute(text("DROP SCHEMA public CASCADE"))
                c.execute(text("CREATE SCHEMA public"))
        store.close()


def test_migrations_make_the_schema_and_run_again_harmlessly(database: Any) -> None:
    from toolkit.web.store import Store, migrate

    migrate(database.engine)
    with database.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    Store(database.url).close()


def test_import_is_idempotent_by_post_and_rule_set(database: Any, catalogue: Any, results_text: str) -> None:
    first = import_examples(database, catalogue, results_text)
    assert (first.added, first.already, first.permitted, first.without_post) == (6, 0, 4, 0)
    again = import_examples(database, catalogue, results_text)
    assert (again.added, again.already) == (0, 6)


def test_the_queue_filters_and_orders(database: Any, catalogue: Any, results_text: str) -> None:
    from toolkit.web import review

    import_examples(database, catalogue, results_text)
    cases, total = review.list_cases(database, review.Filters())
    assert total == 6
    assert [c.rank for c in cases] == sorted((c.rank for c in cases), reverse=True)
    assert review.list_cases(database, review.Filters(topic="official_information"))[1] == 1
    assert review.list_cases(database, review.Filters(clause="vindication"))[1] == 1
    assert review.list_cases(database, review.Filters(account="@anil_k"))[1] == 1
    assert review.list_cases(database, review.Filters(month="2026-09"))[1] == 2
    assert review.facets(database)["month"] == ["2026-09"]


def test_decisions_are_an_append_only_audit_trail(database: Any, catalogue: Any, results_text: str) -> None:
    from toolkit.web import auth, review
    from toolkit.web.store import Decision

    import_examples(database, catalogue, results_text)
    user = auth.create_user(database, "asha", PASSWORD)
    record = review.decide(database, 1, 1, user, "escalate", notes="ask the legal cell")
    assert (record.username, record.decision) == ("asha", "escalate")
    assert record.rule_set_hash == catalogue.default.content_hash
    assert record.at.tzinfo is not None and abs(record.at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    with pytest.raises(Exception, match="append-only"), database.engine.begin() as c:
        c.execute(text("UPDATE decisions SET decision = 'agree'"))
    with pytest.raises(Exception, match="append-only"), database.engine.begin() as c:
        c.execute(text("DELETE FROM decisions"))
    with database.session() as s:
        assert [d.decision for d in s.query(Decision)] == ["escalate"]


def test_two_reviewers_deciding_one_case_get_a_conflict(database: Any, catalogue: Any, results_text: str) -> None:
    from toolkit.web import auth, review

    import_examples(database, catalogue, results_text)
    asha = auth.create_user(database, "asha", PASSWORD)
    bela = auth.create_user(database, "bela", PASSWORD)
    seen = review.get_case(database, 2).version
    review.decide(database, 2, seen, asha, "agree")
    with pytest.raises(review.Conflict) as caught:
        review.decide(database, 2, seen, bela, "disagree", reason="satire", right_outcome="permitted")
    assert caught.value.latest is not None and caught.value.latest.username == "asha"
    assert [d.username for d in review.get_case(database, 2).decisions] == ["asha"]


def test_exports_are_deterministic_and_disagreements_become_examples(database: Any, catalogue: Any,
                                                                     results_text: str, tmp_path: Path) -> None:
    from toolkit import api
    from toolkit.web import auth, review

    import_examples(database, catalogue, results_text)
    user = auth.create_user(database, "asha", PASSWORD)
    cases, _ = review.list_cases(database, review.Filters())
    review.decide(database, cases[0].id, 1, user, "agree")
    review.decide(database, cases[1].id, 1, user, "disagree", reason="it quotes a news report",
                  right_outcome="advisory", labels=["official_capacity"])
    jsonl = review.export_jsonl(database)
    assert jsonl == review.export_jsonl(database)
    rows = [json.loads(line) for line in jsonl.splitlines()]
    assert [r["choice"] for r in rows] == ["agree", "disagree"]
    assert rows[1]["labels"] == ["official_capacity"] and rows[1]["right_outcome"] == "advisory"
    assert review.export_csv(database).count("\n") == 3
    examples = review.export_examples(database)
    assert examples.count("\nexample ") == 1 and "expect advisory" in examples
    # The candidate example is valid policy syntax: it parses inside a clause of a policy.
    fragment = "\n".join(line for line in examples.splitlines() if not line.startswith("#"))
    policy = (POSTS.parent.parent / "tests" / "fixtures" / "policies" / "minimal.policy").read_text(encoding="utf-8")
    path = tmp_path / "candidate.policy"
    idx = policy.rindex("}")
    clause_end = policy.rindex("}", 0, idx)
    path.write_text(policy[:clause_end] + fragment + "\n" + policy[clause_end:], encoding="utf-8")
    diags = api.check_file(path).diagnostics
    assert not [d for d in diags if d.code.startswith("P")], [d.message for d in diags]


def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    from toolkit.web.store import Store, StoreError

    with pytest.raises(StoreError, match="not a supported database"):
        Store("mysql://somewhere/db")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the data directory"):
        Store(f"sqlite:///{blocker / 'sub' / 'db.sqlite3'}")
    with pytest.raises(StoreError, match="cannot prepare the database"):
        Store(f"postgresql://nobody@127.0.0.1:{_free_port()}/none?connect_timeout=2")
    time.sleep(0)
