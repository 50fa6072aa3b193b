"""Helpers shared by the tests: fixture paths, loading, compiling, checking, dumping.

Fixture policies are loaded through :class:`FixtureReader`, which names every
file by its path relative to ``tests/fixtures`` (``policies/full.policy``), so
goldens do not depend on where the checkout lies or on the working directory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
from pathlib import Path
from typing import Any

from toolkit import api
from toolkit.diagnostics import Diagnostic
from toolkit.load import Reader
from toolkit.posts import read_records
from toolkit.rules import dumps

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
POLICIES = FIXTURES / "policies"
ERRORS = FIXTURES / "errors"
SCHEMAS = ROOT / "schemas"

#: The policy cases: every ``*.policy`` directly in fixtures/policies (fragments live in subfolders).
POLICY_CASES = sorted(p.stem for p in POLICIES.glob("*.policy"))
#: The broken policies: every ``*.policy`` directly in fixtures/errors.
ERROR_CASES = sorted(p.stem for p in ERRORS.glob("*.policy"))


class FixtureReader(Reader):
    """Reads ``policies/x.policy`` from tests/fixtures and shows it by that relative name."""

    def read(self, path: str) -> str:
        return (FIXTURES / path).read_bytes().decode("utf-8-sig")


def check_fixture(relative: str) -> api.CheckResult:
    """Load and check a fixture policy, e.g. ``policies/full.policy``."""
    return api.check_file(relative, FixtureReader())


def compile_fixture(case: str) -> dict[str, Any]:
    result = check_fixture(f"policies/{case}.policy")
    assert result.ok, render(result.diagnostics)
    return api.compile_result(result)


def render(diagnostics: list[Diagnostic]) -> str:
    from toolkit.diagnostics import render_text

    return render_text(diagnostics)


def codes(diagnostics: list[Diagnostic]) -> set[str]:
    return {d.code for d in diagnostics}


# ---------------------------------------------------------------------------
# Policies written inline in tests
# ---------------------------------------------------------------------------


def ruleset_from_text(text: str, name: str = "<test>") -> dict[str, Any]:
    """Compile a policy held in a string; fails the test on any error."""
    result = api.check_text(text, name)
    assert result.ok, render(result.diagnostics)
    return api.compile_result(result)


def checker_from_text(text: str) -> Any:
    return api.checker(ruleset_from_text(text))


def policy_text(*clauses: str, header: str = "", declarations: str = "") -> str:
    """A policy with one topic `t`, the given declarations, and the clauses in one section."""
    return (
        f'policy test {{ title "Test" {header} }}\n'
        'topic t "Topic"\n'
        f"{declarations}\n"
        'section s "Section" {\n' + "\n".join(clauses) + "\n}\n"
    )


def clause(cid: str, outcome: str, when: str, *extra: str) -> str:
    """A clause in topic `t`; ``extra`` items (unless, cites…) are added as written."""
    items = "\n        ".join(extra)
    return (
        f'    clause {cid} "Clause {cid}" {{\n'
        f'        topic t\n        text "Text of {cid}."\n        outcome {outcome}\n        when {when}\n'
        f"        {items}\n    }}"
    )


# ---------------------------------------------------------------------------
# Stage outputs as text, for goldens
# ---------------------------------------------------------------------------


def dump_model(value: Any, width: int = 100) -> str:
    """A stable, readable dump of a model value: spans and other non-compared fields left out."""
    return _dump(value, 0, width) + "\n"


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _dump(value: Any, indent: int, width: int) -> str:
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    pad = "  " * (indent + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare]
        flat = f"{name}(" + ", ".join(f"{k}={_dump(v, 0, 10**9)}" for k, v in items) + ")"
        if len(flat) + 2 * indent <= width and "\n" not in flat:
            return flat
        inner = ",\n".join(f"{pad}{k}={_dump(v, indent + 1, width)}" for k, v in items)
        return f"{name}(\n{inner},\n{'  ' * indent})"
    if isinstance(value, (tuple, list)):
        if not value:
            return "[]"
        flat = "[" + ", ".join(_dump(v, 0, 10**9) for v in value) + "]"
        if len(flat) + 2 * indent <= width and "\n" not in flat:
            return flat
        inner = ",\n".join(f"{pad}{_dump(v, indent + 1, width)}" for v in value)
        return f"[\n{inner},\n{'  ' * indent}]"
    raise TypeError(f"cannot dump {type(value).__name__}")  # pragma: no cover


def rules_text(ruleset: dict[str, Any]) -> str:
    return dumps(ruleset)


def verdict_lines(ruleset: dict[str, Any], posts_file: Path) -> str:
    """One JSON line per input record: its verdict, or the problems that kept it from being checked."""
    checker = api.checker(ruleset)
    lines = []
    with posts_file.open(encoding="utf-8") as fh:
        for record in read_records(fh, posts_file.name):
            head = {"record": record.index, "line": record.line}
            if record.error is not None:
                problems = [record.error]
                verdict = None
            else:
                verdict, problems = checker.check(record.value)
            if verdict is None:
                body: dict[str, Any] = {"errors": [dataclasses.asdict(p) for p in problems]}
            else:
                body = verdict.to_json()
            lines.append(json.dumps({**head, **body}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Evidence
# ---------------------------------------------------------------------------

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def lookup(post: dict[str, Any], where: str) -> Any:
    """The value at an evidence path such as ``media[1].description`` or ``links[0]``."""
    cur: Any = post
    for name, index in _PART.findall(where):
        cur = cur[int(index)] if index else cur[name]
    return cur


_MATCHERS: dict[int, Any] = {}


def _matcher(ruleset: dict[str, Any]) -> Any:
    from toolkit.matcher import LexiconMatcher

    key = id(ruleset)
    if key not in _MATCHERS:
        _MATCHERS[key] = LexiconMatcher(ruleset["lexicons"], None)
    return _MATCHERS[key]


def assert_exact(post: dict[str, Any], verdict: dict[str, Any], ruleset: dict[str, Any]) -> int:
    """Check every span of a verdict; return how many were checked."""
    import re2

    from toolkit.matcher import has_syntax
    from toolkit.text import TOKEN, entry_keys, fold, hashtag_key, tokens

    checked = 0
    for finding in verdict["findings"]:
        for ev in finding["evidence"]:
            if "start" not in ev:
                continue  # a value, not a span (platform, labels, posted_at, …)
            value = lookup(post, ev["field"])
            start, end = ev["start"], ev["end"]
            assert 0 <= start < end <= len(value)
            assert value[start:end] == ev["text"], (value, ev)
            toks = tokens(value)
            if "lexicon" in ev and hashtag_key(ev["entry"]) is not None:
                # An entry written as a hashtag: the span is the whole hashtag, `#` included.
                assert ev["text"].startswith("#")
                assert fold(ev["text"][1:]) == hashtag_key(ev["entry"])
                assert TOKEN.match(value, end) is None  # the whole hashtag, not a prefix of it
            elif "lexicon" in ev:
                # The span starts and ends on word boundaries and holds exactly the entry's words;
                # an entry ending in punctuation ("CPI(M)") may take that punctuation too.
                tail = len(ev["entry"]) - len(ev["entry"].rstrip(")]}.'\"\u2019"))
                closing = ev["entry"][len(ev["entry"]) - tail:]
                word_end = end - tail if tail and value[:end].endswith(closing) else end
                assert start in {s for _t, s, _e in toks} and word_end in {e for _t, _s, e in toks}
                entries = {e["text"]: e["mode"] for e in ruleset["lexicons"][ev["lexicon"]]["entries"]}
                assert ev["entry"] in entries
                words = [t for t, s, e in toks if start <= s and e <= end]
                if entries[ev["entry"]] == "exact" and not has_syntax(ev["entry"]):
                    assert " " + " ".join(words) + " " in entry_keys(ev["entry"]), (words, ev)
                else:
                    # Inflected, spelling or phrase entries: the span alone is matched by that entry, whole.
                    piece = value[start:end]
                    if start > 0 and value[start - 1] in "#@":
                        # A camel-case hashtag or handle is cut into words only after its `#` or `@`.
                        piece = value[start - 1] + piece
                    th = _matcher(ruleset).scan(piece)
                    assert th is not None, ev
                    li = _matcher(ruleset).names.index(ev["lexicon"])
                    assert (0, len(words), ev["entry"]) in th.lex.get(li, []), (words, ev)
            elif "valence" in ev:
                assert ev["role"] in ("negative", "positive")
                assert (ev["valence"] < 0) == (ev["role"] == "negative")
            else:
                pat = ruleset["patterns"][ev["pattern"]]
                prefix = "".join(f"(?{f})" for f in pat["flags"])
                spans = [(m.start(), m.end()) for m in re2.compile(prefix + pat["regex"]).finditer(value)]
                assert (start, end) in spans
            checked += 1
    return checked
