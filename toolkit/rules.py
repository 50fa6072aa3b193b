"""The compiled rule set: the machine-checkable form of a policy, as JSON.

A rule set is plain JSON data (documented in docs/rules-format.md, with a
JSON Schema in schemas/rules.schema.json). The checker reads nothing else,
so this module imports nothing from the parser or the model.

Conditions are small JSON trees, each node named by its operator
(:mod:`toolkit.operators`)::

    {"op": "all", "args": [C, ...]}   {"op": "any", "args": [C, ...]}   {"op": "not", "arg": C}
    {"op": "signal", "signal": NAME}
    {"op": "in", "field": PATH, "values": [VALUE, ...]}
    {"op": "mentions", "field": PATH, "lexicon": LEXICON}
    {"op": "near", "field": PATH, "lexicon": A, "near": B, "within": N or null}
    {"op": "stance", "field": PATH, "lexicon": T, "polarity": "negative" | "positive", "within": N or null}
    {"op": "matches", "field": PATH, "pattern": PATTERN}
    {"op": "labelled", "label": LABEL}
    {"op": "during", "period": PERIOD}
    {"op": "posted_before", "instant": INSTANT}   {"op": "posted_after", "instant": INSTANT}   # UTC

Version 1 rule sets (conditions told apart by their keys, lexicon entries as
plain strings matched exactly) are read and migrated in memory by
:func:`migrate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMAT = "govpost.rules"
VERSION = 2
OUTCOMES = ("permitted", "advisory", "requires_sanction", "prohibited")


class RuleSetError(ValueError):
    """A file that is not a rule set this version of govpost can read."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def dumps(ruleset: dict[str, Any]) -> str:
    """Serialise deterministically: same rule set, same bytes."""
    return json.dumps(ruleset, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


#: How deeply the JSON of a rule set may nest. A condition that nests as deeply as a policy may
#: (toolkit.syntax.MAX_NESTING) takes about 70 levels; the checker builds each condition
#: recursively, and this bound keeps it far from Python's recursion limit.
MAX_JSON_DEPTH = 160


def loads(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleSetError("C401", f"not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise RuleSetError("C401", "not a govpost rule set: its JSON is nested too deeply") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuleSetError("C401", "not a govpost rule set (its `format` is not `govpost.rules`)")
    # INVARIANT: the depth is checked before anything walks the conditions (migrate and the checker recurse).
    if _too_deep(data):
        raise RuleSetError("C401", f"not a govpost rule set: it is nested more than {MAX_JSON_DEPTH} levels deep")
    if data.get("version") == 1:
        return migrate(data)
    if data.get("version") != VERSION:
        raise RuleSetError(
            "C402",
            f"rule-set version {data.get('version')!r} is not supported (this govpost reads versions 1 and "
            f"{VERSION}); compile the policy again with this version",
        )
    return data


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 rule set as version 2: the same meaning, in the current format.

    Version 1 named no operator (a condition was told apart by its keys) and
    matched every lexicon entry exactly; both are kept as they were meant.
    """

    def cond(c: dict[str, Any]) -> dict[str, Any]:
        if "all" in c:
            return {"op": "all", "args": [cond(a) for a in c["all"]]}
        if "any" in c:
            return {"op": "any", "args": [cond(a) for a in c["any"]]}
        if "not" in c:
            return {"op": "not", "arg": cond(c["not"])}
        if "signal" in c:
            return {"op": "signal", "signal": c["signal"]}
        if "mentions" in c:
            return {"op": "mentions", "field": c["field"], "lexicon": c["mentions"]}
        if "matches" in c:
            return {"op": "matches", "field": c["field"], "pattern": c["matches"]}
        if "field" in c and "in" in c:
            return {"op": "in", "field": c["field"], "values": c["in"]}
        if "labelled" in c:
            return {"op": "labelled", "label": c["labelled"]}
        if "during" in c:
            return {"op": "during", "period": c["during"]}
        if "posted_before" in c:
            return {"op": "posted_before", "instant": c["posted_before"]}
        if "posted_after" in c:
            return {"op": "posted_after", "instant": c["posted_after"]}
        raise RuleSetError("C401", f"a version 1 condition with unknown keys {sorted(c)}")

    out = dict(data)
    out["version"] = VERSION
    out["lexicons"] = {
        name: {"description": lex.get("description"), "mode": "exact", "valence": None, "negatable": False,
               "role": "terms", "source": None,
               "entries": [{"text": e, "mode": "exact"} for e in lex["entries"]]}
        for name, lex in data["lexicons"].items()
    }
    out["matching"] = {}
    out["signals"] = {k: {**v, "when": cond(v["when"])} for k, v in data["signals"].items()}
    out["clauses"] = [
        {**c, "when": cond(c["when"]), "unless": [{**e, "when": cond(e["when"])} for e in c["unless"]]}
        for c in data["clauses"]
    ]
    return out


def _too_deep(data: dict[str, Any]) -> bool:
    """Whether any value of the rule set nests more than :data:`MAX_JSON_DEPTH` deep (found without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


def load(path: str | Path) -> dict[str, Any]:
    return loads(Path(path).read_text(encoding="utf-8"))


def is_ruleset_path(path: str | Path) -> bool:
    return str(path).endswith(".json")
