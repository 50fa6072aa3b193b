"""`govpost serve` and `govpost review` on the command line: users, imports, exports, the server itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from web_support import AIS, PASSWORD, POSTS, ROOT

from toolkit.cli import cli


def run(*args: str, stdin: str = "") -> Any:
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_create_user_import_decide_export(tmp_path: Path, results_text: str) -> None:
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    made = run("serve", "create-user", "asha", "--role", "admin", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert made.exit_code == 0 and "created admin `asha`" in made.output
    again = run("serve", "create-user", "asha", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert again.exit_code == 2 and "error[W706]: user `asha` already exists" in again.output
    results = tmp_path / "results.jsonl"
    results.write_text(results_text, encoding="utf-8")
    first = run("review", "import", str(results), "--policy", str(AIS), "--posts", str(POSTS), "--db", db)
    assert first.exit_code == 0, first.output
    assert "10 records read: 6 cases added, 0 already in the queue, 4 permitted (not queued)" in first.output
    second = run("review", "import", str(results), "--policy", str(AIS), "--posts", str(POSTS), "--db", db)
    assert "0 cases added, 6 already in the queue" in second.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n" + results_text.splitlines()[0] + "\n", encoding="utf-8")
    refused = run("review", "import", str(bad), "--policy", str(AIS), "--db", db)
    assert refused.exit_code == 2 and "bad.jsonl:1: error[R309]" in refused.output
    exported = run("review", "export", "--format", "jsonl", "--db", db)
    assert exported.exit_code == 0 and exported.output == ""
    missing = run("review", "import", str(tmp_path / "none.jsonl"), "--policy", str(AIS), "--db", db)
    assert missing.exit_code == 2 and "error[I501]" in missing.output


def test_serve_prints_the_address_and_serves(tmp_path: Path) -> None:
    env = {**os.environ, "GOVPOST_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", str(AIS), "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        assert first.startswith("govpost serve: ais-social-media; review database sqlite:///")
        address = re.match(r"Serving on (http://127\.0\.0\.1:\d+/)", second)
        assert address, second
        with urllib.request.urlopen(address.group(1) + "healthz", timeout=10) as response:
            assert response.read() == b"ok\n"
        assert (tmp_path / "govpost.sqlite3").exists()  # created on first run under the data directory
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_serve_refuses_bad_input_clearly(tmp_path: Path) -> None:
    nothing = run("serve")
    assert nothing.exit_code == 2 and "name a policy to serve" in nothing.output
    broken = tmp_path / "broken.policy"
    broken.write_text("policy p {", encoding="utf-8")
    assert run("serve", str(broken), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}").exit_code == 2
    bad_db = run("serve", "create-user", "x", "--password-stdin", "--db", "oracle://db", stdin="a long password\n")
    assert bad_db.exit_code == 2 and "error[W704]" in bad_db.output
    assert "Traceback" not in nothing.output + bad_db.output


def test_export_formats_on_the_command_line(tmp_path: Path, store: Any, catalogue: Any, results_text: str) -> None:
    from web_support import import_examples

    from toolkit.web import auth, review

    import_examples(store, catalogue, results_text)
    user = auth.create_user(store, "asha", PASSWORD)
    review.decide(store, 1, 1, user, "disagree", reason="satire", right_outcome="permitted")
    out = tmp_path / "d.csv"
    assert run("review", "export", "--format", "csv", "-o", str(out), "--db", store.url).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("decision,case,post_id")
    lines = run("review", "export", "--db", store.url).output.splitlines()
    assert json.loads(lines[0])["choice"] == "disagree"
    examples = run("review", "export", "--format", "examples", "--db", store.url).output
    assert "expect permitted" in examples


def test_without_the_web_extra_the_commands_say_what_to_install(monkeypatch: Any, tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "starlette" else real(name, *a))
    for args in (["serve", str(AIS)], ["serve", "create-user", "x", "--password-stdin"],
                 ["review", "export", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}"]):
        result = run(*args, stdin="a long password\n")
        assert result.exit_code == 2, (args, result.output)
        assert "pip install 'govpost[web]'" in result.output and "Traceback" not in result.output
