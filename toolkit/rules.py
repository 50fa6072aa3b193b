"""The compiled rule set: the machine-checkable form of a policy, as JSON.

A rule set is plain JSON data (documented in docs/rules-format.md, with a
JSON Schema in schemas/rules.schema.json). The checker reads nothing else,
so this module imports nothing from the parser or the model.

Conditions are small JSON trees::

    {"all": [C, ...]}   {"any": [C, ...]}   {"not": C}
    {"signal": NAME}
    {"field": PATH, "in": [VALUE, ...]}          # is / in (negated with "not")
    {"field": PATH, "mentions": LEXICON}
    {"field": PATH, "matches": PATTERN}
    {"labelled": LABEL}
    {"during": PERIOD}
    {"posted_before": INSTANT}   {"posted_after": INSTANT}   # UTC, ISO 8601
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMAT = "govpost.rules"
VERSION = 1
OUTCOMES = ("permitted", "advisory", "requires_sanction", "prohibited")


class RuleSetError(ValueError):
    """A file that is not a rule set this version of govpost can read."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def dumps(ruleset: dict[str, Any]) -> str:
    """Serialise deterministically: same rule set, same bytes."""
    return json.dumps(ruleset, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def loads(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleSetError("C401", f"not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuleSetError("C401", "not a govpost rule set (its `format` is not `govpost.rules`)")
    if data.get("version") != VERSION:
        raise RuleSetError(
            "C402",
            f"rule-set version {data.get('version')!r} is not supported (this govpost reads version {VERSION}); "
            "compile the policy again with this version",
        )
    return data


def load(path: str | Path) -> dict[str, Any]:
    return loads(Path(path).read_text(encoding="utf-8"))


def is_ruleset_path(path: str | Path) -> bool:
    return str(path).endswith(".json")
