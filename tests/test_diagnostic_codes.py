"""Every diagnostic code in the registry is exercised.

:data:`HOW` maps each code of :data:`toolkit.diagnostics.CODES` to the inputs
that must produce it: fixture policies, records given to the post validator
and reader, and command lines run through click's runner. A code that no input
can produce is listed in :data:`UNREACHABLE` with the reason; a test makes sure
that it really is used nowhere, so the list cannot go stale.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ERROR_CASES, POLICIES, ROOT, check_fixture, codes

from toolkit import api
from toolkit.cli import cli
from toolkit.diagnostics import CODES
from toolkit.posts import read_records, validate

Producer = Callable[[Path], set[str]]

_CODE_IN_TEXT = re.compile(r"\b(?:error|warning)\[([A-Z]\d{3})\]")


def fixture(case: str) -> Producer:
    """The codes of a policy in tests/fixtures/errors."""
    assert case in ERROR_CASES, case

    def run(tmp_path: Path) -> set[str]:
        return codes(check_fixture(f"errors/{case}.policy").diagnostics)

    run.__name__ = f"fixture errors/{case}.policy"
    return run


def policy_bytes(data: bytes) -> Producer:
    """The codes of checking a policy file with these bytes (or a missing file, for None)."""

    def run(tmp_path: Path) -> set[str]:
        path = tmp_path / "p.policy"
        path.write_bytes(data)
        return codes(api.check_file(path).diagnostics)

    run.__name__ = f"policy file {data[:20]!r}"
    return run


def missing_policy(tmp_path: Path) -> set[str]:
    return codes(api.check_file(tmp_path / "does-not-exist.policy").diagnostics)


def record(value: object) -> Producer:
    """The codes of validating one decoded JSON value as a post."""

    def run(tmp_path: Path) -> set[str]:
        post, problems = validate(value)
        assert (post is None) == bool(problems)
        return {p.code for p in problems}

    run.__name__ = f"validate({value!r})"
    return run


def lines(text: str) -> Producer:
    """The codes of reading a JSON Lines text and validating its records."""

    def run(tmp_path: Path) -> set[str]:
        out = set()
        for rec in read_records(io.StringIO(text)):
            if rec.error is not None:
                out.add(rec.error.code)
            else:
                out.update(p.code for p in validate(rec.value)[1])
        return out

    run.__name__ = f"read_records({text!r})"
    return run


def cli_check_lines(text: str) -> Producer:
    """The codes `govpost check` reports for a JSON Lines file (and exit code 2)."""

    def run(tmp_path: Path) -> set[str]:
        posts = tmp_path / "posts.jsonl"
        posts.write_text('{"text": "a good record"}\n' + text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["check", str(POLICIES / "minimal.policy"), str(posts), "--format", "jsonl"])
        assert result.exit_code == 2, result.output
        found = set(_CODE_IN_TEXT.findall(result.stderr))
        for line in result.stdout.splitlines():
            found.update(e["code"] for e in json.loads(line).get("errors", []))
        return found

    run.__name__ = f"govpost check on {text!r}"
    return run


def verdict_warnings(post: dict) -> Producer:
    """The codes of the warnings on a verdict, checking the post against full.policy."""

    def run(tmp_path: Path) -> set[str]:
        from support import compile_fixture

        verdict, problems = api.checker(compile_fixture("full")).check(post)
        assert verdict is not None, problems
        return {w["code"] for w in verdict.warnings}

    run.__name__ = f"verdict warnings of {post!r}"
    return run


def cli_check_single(*args: str) -> Producer:
    """The codes `govpost check` reports for one post given with --text and options."""

    def run(tmp_path: Path) -> set[str]:
        result = CliRunner().invoke(cli, ["check", str(POLICIES / "full.policy"), "--text", "hello", *args])
        assert result.exit_code == 0, result.output
        return set(_CODE_IN_TEXT.findall(result.output))

    run.__name__ = f"govpost check --text hello {' '.join(args)}"
    return run


def cli_check_rules(content: bytes | None) -> Producer:
    """The codes `govpost check` reports for a rule-set file with this content (None: missing)."""

    def run(tmp_path: Path) -> set[str]:
        rules = tmp_path / "x.rules.json"
        if content is not None:
            rules.write_bytes(content)
        result = CliRunner().invoke(cli, ["check", str(rules), "--text", "hello"])
        assert result.exit_code == 2, result.output
        return set(_CODE_IN_TEXT.findall(result.output))

    run.__name__ = f"govpost check on a rule set {content!r}"
    return run


def cli_input_bytes(data: bytes | None) -> Producer:
    """The codes `govpost check` reports for an input file with these bytes (None: missing)."""

    def run(tmp_path: Path) -> set[str]:
        posts = tmp_path / "posts.jsonl"
        if data is not None:
            posts.write_bytes(data)
        result = CliRunner().invoke(cli, ["check", str(POLICIES / "minimal.policy"), str(posts)])
        assert result.exit_code == 2, result.output
        return set(_CODE_IN_TEXT.findall(result.output))

    run.__name__ = f"govpost check on input {data!r}"
    return run


def cli_validate_bytes(data: bytes | None) -> Producer:
    def run(tmp_path: Path) -> set[str]:
        path = tmp_path / "p.policy"
        if data is not None:
            path.write_bytes(data)
        result = CliRunner().invoke(cli, ["validate", str(path)])
        assert result.exit_code == 2, result.output
        return set(_CODE_IN_TEXT.findall(result.output))

    run.__name__ = f"govpost validate on {data!r}"
    return run


def _web(tmp_path: Path, **settings: object) -> tuple[object, object]:
    """A test client of `govpost serve` over minimal.policy, with its own SQLite database."""
    from starlette.testclient import TestClient

    from toolkit.web.app import Settings, create_app
    from toolkit.web.catalogue import Catalogue
    from toolkit.web.store import Store

    store = Store(f"sqlite:///{tmp_path / 'codes.sqlite3'}")
    client = TestClient(create_app(Catalogue.load([POLICIES / "minimal.policy"]), Settings(**settings), store))
    return client, store


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


def web_check(text: str = "hello", **settings: object) -> Producer:
    """The codes the check page reports, checking one draft (after `repeat` checks with a tight limit)."""

    def run(tmp_path: Path) -> set[str]:
        client, store = _web(tmp_path, **settings)
        token = _token(client.get("/check").text)  # type: ignore[attr-defined]
        found: set[str] = set()
        for csrf in (token, token, "0" * 64):
            page = client.post("/check", data={"csrf": csrf, "text": text, "platform": "x"})  # type: ignore[attr-defined]
            found.update(_CODE_IN_TEXT.findall(page.text))
        store.close()  # type: ignore[attr-defined]
        return found

    run.__name__ = f"the check page on {text[:20]!r} with {settings}"
    return run


def web_review(what: str) -> Producer:
    """The codes of the review queue: importing results (R309, R310) or a decision conflict (W703)."""

    def run(tmp_path: Path) -> set[str]:
        from toolkit.web import auth, review

        client, store = _web(tmp_path)
        ruleset = api.compile_result(api.check_file(POLICIES / "minimal.policy"))
        checker = api.checker(ruleset)
        verdict, _ = checker.check({"id": "p1", "text": "vote for the party"})
        result = {"input": "posts.jsonl", "record": 1, "line": 1, **verdict.to_json()}
        index = review.PostIndex()
        index.add_text("posts.jsonl", '{"id": "p1", "text": "vote for the party"}\n')
        found: set[str] = set()
        if what == "import":
            lies = dict(result, outcome="advisory" if result["outcome"] != "advisory" else "prohibited")
            text = "not a result\n" + json.dumps({"errors": []}) + "\n" + json.dumps(lies) + "\n"
            report = review.import_results(store, ruleset, text, index, include_permitted=True)  # type: ignore[arg-type]
            for _line, reason in report.malformed + report.mismatched:
                found.update(_CODE_IN_TEXT.findall(reason))
        else:
            review.import_results(store, ruleset, json.dumps(result) + "\n", index, include_permitted=True)  # type: ignore[arg-type]
            auth.create_user(store, "asha", "a long password")  # type: ignore[arg-type]
            token = _token(client.get("/login").text)  # type: ignore[attr-defined]
            client.post("/login", data={"csrf": token, "username": "asha", "password": "a long password"})  # type: ignore[attr-defined]
            page = client.get("/review/case/1")  # type: ignore[attr-defined]
            token = _token(page.text)
            for _ in range(2):
                answer = client.post("/review/case/1", data={"csrf": token, "version": "1", "decision": "agree"})  # type: ignore[attr-defined]
                found.update(_CODE_IN_TEXT.findall(answer.text))
        store.close()  # type: ignore[attr-defined]
        return found

    run.__name__ = f"the review queue: {what}"
    return run


def cli_web(*args: str, stdin: str = "") -> Producer:
    """The codes `govpost serve` and `govpost review` commands report (exit 2)."""

    def run(tmp_path: Path) -> set[str]:
        result = CliRunner().invoke(cli, [a.replace("{tmp}", str(tmp_path)) for a in args], input=stdin)
        assert result.exit_code == 2, result.output
        return set(_CODE_IN_TEXT.findall(result.output))

    run.__name__ = f"govpost {' '.join(args)}"
    return run


def cli_write_under_a_file(*args: str) -> Producer:
    """The codes a command reports when its output would go under a file (not a folder), with exit code 2."""

    def run(tmp_path: Path) -> set[str]:
        (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
        out = str(tmp_path / "a-file" / "out")
        result = CliRunner().invoke(cli, [a.replace("OUT", out) for a in args])
        assert result.exit_code == 2, result.output
        return set(_CODE_IN_TEXT.findall(result.output))

    run.__name__ = f"govpost {' '.join(args)} with OUT under a file"
    return run


GOOD_RULES = (POLICIES / "minimal.rules.json").read_text(encoding="utf-8")

#: code → every input that must produce it.
HOW: dict[str, list[Producer]] = {
    "P101": [fixture("syntax-token"), fixture("syntax-two-clauses")],
    "P102": [fixture("syntax-character"), fixture("syntax-two-clauses")],
    "P103": [fixture("syntax-eof")],
    "P104": [fixture("syntax-string")],
    "P105": [policy_bytes(b'policy p { title "P" }\nsignal s means ' + b"not " * 40 + b"text mentions w\n"),
             cli_validate_bytes(b'policy p { title "P" }\n' + b'section s "S" {\n' * 40 + b"}\n" * 40)],
    "S201": [fixture("names")],
    "S202": [fixture("names")],
    "S203": [fixture("names")],
    "S204": [fixture("types")],
    "S205": [fixture("types")],
    "S206": [fixture("types")],
    "S207": [fixture("patterns")],
    "S208": [fixture("dates")],
    "S209": [fixture("date-order")],
    "S210": [fixture("names")],
    "S211": [fixture("include-cycle")],
    "S212": [fixture("include-missing")],
    "S213": [fixture("examples")],
    "S214": [fixture("header")],
    "S215": [fixture("header")],
    "S216": [fixture("clauses")],
    "S217": [fixture("clauses"), fixture("header")],
    "S218": [fixture("examples"), fixture("names")],
    "S219": [fixture("signals")],
    "S220": [fixture("include-header")],
    "S221": [fixture("translations")],
    "S222": [fixture("lexicons")],
    "S223": [fixture("examples")],
    "S224": [fixture("no-header")],
    "S230": [fixture("phrases")],
    "S231": [fixture("phrases")],
    "S232": [fixture("phrases")],
    "S233": [fixture("phrases")],
    "S225": [policy_bytes(b'policy p { title "P" }\ninclude "../outside.policy"\n'),
             policy_bytes(b'policy p { title "P" compare_with "/etc/other.policy" }\n')],
    "S226": [policy_bytes(b'policy p { title "P" }\ninclude "/etc/passwd"\n'),
             policy_bytes(b'policy p { title "P" compare_with "/dev/zero" }\n')],
    "R301": [lines('{"text": "a"\n'), lines("not json\n"), cli_check_lines("{oops}\n")],
    "R302": [record([1, 2]), record("text"), record(None), cli_check_lines("[1, 2]\n")],
    "R303": [record({"platfrom": "x"}), record({"account": {"name": "a"}}), cli_check_lines('{"txt": "a"}\n')],
    "R304": [record({"text": 1}), record({"labels": "a"}), record({"media": {}}), cli_check_lines('{"text": true}\n')],
    "R305": [record({"platform": "twitter"}), record({"media": [{"kind": "photo"}]}),
             cli_check_lines('{"audience": "everyone"}\n')],
    "R306": [record({"posted_at": "2026-04-01"}), record({"posted_at": "2026-02-30T10:00Z"}),
             cli_check_lines('{"posted_at": "yesterday"}\n')],
    "R311": [record({"text": "a\ud800b"}), cli_check_lines('{"text": "a\\udc00b"}\n')],
    "R312": [record({"text": "x" * (1 << 20) + "x"}), cli_check_lines('{"text": "' + "x" * (1 << 20) + '"}\n')],
    "R308": [verdict_warnings({"labels": ["oficial_capacity"]}),
             verdict_warnings({"media": [{"kind": "image", "labels": ["in_uniform"]}]}),
             cli_check_single("--label", "official-capacity")],
    "C401": [cli_check_rules(b"not json"), cli_check_rules(b'{"format": "something else", "version": 1}'),
             cli_check_rules(b"[]")],
    "C402": [cli_check_rules(GOOD_RULES.replace('"version": 2,', '"version": 99,', 1).encode())],
    "I501": [missing_policy, cli_validate_bytes(None), cli_check_rules(None), cli_input_bytes(None)],
    "I502": [policy_bytes(b'policy p { title "caf\xe9" }\n'), cli_validate_bytes(b"\xff\xfe\x00p"),
             cli_input_bytes(b'{"text": "caf\xe9"}\n')],
    "R309": [web_review("import")],
    "R310": [web_review("import")],
    "I503": [web_check("x" * 80_000)],
    "W701": [web_check(check_rate=2)],
    "W702": [web_check()],
    "W703": [web_review("conflict")],
    "W704": [cli_web("review", "export", "--db", "mysql://nowhere/db")],
    "W705": [web_check("x" * 20_001)],
    "W706": [cli_web("serve", "create-user", "asha", "--password-stdin", "--db", "{tmp}/u.sqlite3", stdin="short\n")],
    "I504": [policy_bytes(b"# " + b"x" * (1 << 20) + b"\n"), cli_validate_bytes(b"#" * ((1 << 20) + 1))],
    "I505": [cli_write_under_a_file("compile", str(POLICIES / "minimal.policy"), "-o", "OUT"),
             cli_write_under_a_file("diff", str(POLICIES / "minimal.policy"), str(POLICIES / "minimal.policy"),
                                    "-o", "OUT")],
}

#: Codes no input can produce, and why. Reported to the lead developer.
UNREACHABLE: dict[str, str] = {}


def test_every_code_is_accounted_for() -> None:
    assert set(HOW) | set(UNREACHABLE) == set(CODES)
    assert not set(HOW) & set(UNREACHABLE)


@pytest.mark.parametrize(
    ("code", "producer"),
    [pytest.param(code, p, id=f"{code}-{i}") for code, ps in sorted(HOW.items()) for i, p in enumerate(ps)],
)
def test_code_is_produced(code: str, producer: Producer, tmp_path: Path) -> None:
    found = producer(tmp_path)
    assert code in found, f"{producer.__name__} gave {sorted(found)}, not {code}"


def test_unreachable_codes_are_used_nowhere() -> None:
    for code in sorted(UNREACHABLE):
        users = [
            p.name
            for p in sorted((ROOT / "toolkit").rglob("*.py"))
            if p.name != "diagnostics.py" and code in p.read_text(encoding="utf-8")
        ]
        assert users == [], f"{code} is now used in {users}: add an input that produces it to HOW"


def test_codes_used_in_the_toolkit_are_registered() -> None:
    used: set[str] = set()
    for path in (ROOT / "toolkit").rglob("*.py"):
        used.update(re.findall(r"""["'\[]([PSRCI]\d{3})["'\]]""", path.read_text(encoding="utf-8")))
    assert used <= set(CODES), sorted(used - set(CODES))
