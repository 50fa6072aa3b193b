"""The JSON Schemas: rules.schema.json describes what the compiler emits; post.schema.json is generated."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from support import POLICIES, POLICY_CASES, ROOT, SCHEMAS, compile_fixture, ruleset_from_text

from toolkit import api
from toolkit.posts import read_records, validate
from toolkit.postschema import FIELDS, json_schema

RULES_SCHEMA = json.loads((SCHEMAS / "rules.schema.json").read_text(encoding="utf-8"))
POST_SCHEMA = json.loads((SCHEMAS / "post.schema.json").read_text(encoding="utf-8"))
REGISTRY = Registry().with_resource(POST_SCHEMA["$id"], Resource.from_contents(POST_SCHEMA))
VALIDATOR = Draft202012Validator(RULES_SCHEMA, registry=REGISTRY)


def errors(instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(instance)]


def test_schemas_are_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(RULES_SCHEMA)
    Draft202012Validator.check_schema(POST_SCHEMA)
    assert RULES_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_post_schema_file_is_generated() -> None:
    assert POST_SCHEMA == json_schema()
    assert (SCHEMAS / "post.schema.json").read_text(encoding="utf-8") == json.dumps(
        json_schema(), ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("case", POLICY_CASES)
def test_fixture_rule_sets_validate(case: str) -> None:
    assert errors(compile_fixture(case)) == []


#: The bundled policies (files with a `policy` header; the others are included fragments).
BUNDLED = sorted(p for p in (ROOT / "policies").rglob("*.policy")
                 if re.search(r"^policy\s+[A-Za-z_]", p.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_rule_sets_validate(path: Path) -> None:
    result = api.check_file(path)
    if not result.ok:
        pytest.skip(f"{path.name} does not validate at the moment")
    assert errors(api.compile_result(result)) == []


def test_every_condition_form_validates() -> None:
    text = """
policy forms { title "Forms" timezone "Asia/Kolkata" }
topic t "T"
label l "L"
lexicon x { "word" }
lexicon y exact negatable { "other (word|thing)", "{x} *2 here" }
lexicon z valence -2 { spelling "bekaar" }
pattern p /a+/i
period d from 2026-01-01 to 2026-01-31
signal s means text mentions x
section sec "S" {
    clause c "C" {
        topic t text "x" outcome prohibited
        when s and account.bio matches p and labelled l and posted during d
             and (posted before 2026-01-01 or posted after 2026-12-31)
             and not (platform in [x, facebook] or sanction.obtained or sanction.obtained is false)
             and author.service not in ["IAS"] and audience is not private
             and (text mentions x near y within 3 words or text disparages x or shared_from.text praises y within 2 words)
    }
}
"""
    rules = ruleset_from_text(text)
    assert errors(rules) == []
    kinds = set()

    def walk(c: dict[str, Any]) -> None:
        kinds.add(c["op"])
        for sub in c.get("args", []):
            walk(sub)
        if "arg" in c:
            walk(c["arg"])

    walk(rules["clauses"][0]["when"])
    walk(rules["signals"]["s"]["when"])
    # Every operator of the registry appears, so the schema is tested on each.
    from toolkit.operators import OPERATORS

    assert kinds == {op.op for op in OPERATORS}


def mutated(change) -> dict[str, Any]:
    rules = copy.deepcopy(compile_fixture("full"))
    change(rules)
    return rules


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(extra=1),
        lambda r: r.update(version=3),
        lambda r: r.update(format="other"),
        lambda r: r.pop("examples"),
        lambda r: r["policy"].update(owner="x"),
        lambda r: r["policy"].update(default_outcome="prohibited"),
        lambda r: r.update(content_hash="md5:abc"),
        lambda r: r["clauses"][0].update(outcome="forbidden"),
        lambda r: r["clauses"][0].update(number="one"),
        lambda r: r["clauses"][0].update(when={"op": "contains", "field": "text", "lexicon": "x"}),
        lambda r: r["clauses"][0].update(when={"field": "text", "mentions": "parties"}),  # version 1's form
        lambda r: r["clauses"][0].update(when={"op": "mentions", "field": "txt", "lexicon": "parties"}),
        lambda r: r["clauses"][0].update(when={"op": "near", "field": "text", "lexicon": "a", "near": "b",
                                               "within": -1}),
        lambda r: r["clauses"][0].update(when={"op": "stance", "field": "text", "lexicon": "a",
                                               "polarity": "hostile", "within": None}),
        lambda r: r["lexicons"]["parties"]["entries"][0].update(mode="fuzzy"),
        lambda r: r["clauses"][0].update(when={"op": "all", "args": []}),
        lambda r: r["clauses"][0].update(when={"op": "signal", "signal": "a", "label": "b"}),
        lambda r: r["clauses"][0].update(when={"op": "posted_before", "instant": "2026-01-01"}),
        lambda r: r["clauses"][0]["unless"].append({"when": {"op": "labelled", "label": "x"}}),
        lambda r: r["clauses"][0]["citations"][0].update(page=3),
        lambda r: r["periods"]["elections"].update(end="2026-04-30T18:30:00+00:00"),
        lambda r: r["patterns"]["file_number"].update(flags="x"),
        lambda r: r["lexicons"]["parties"].update(entries=[]),
        lambda r: r["topics"].update({"bad name": "x"}),
        lambda r: r["examples"][0]["post"].update(platfrom="x"),
        lambda r: r["examples"][0]["expect"].update(outcome="requires sanction"),
        lambda r: r["examples"][0]["source"].update(line=0),
    ],
)
def test_schema_rejects_what_the_compiler_never_writes(change) -> None:
    assert errors(mutated(change)) != []


def test_condition_fields_are_the_fields_of_a_post() -> None:
    assert RULES_SCHEMA["$defs"]["field"]["enum"] == sorted(FIELDS)


def test_rules_format_doc_names_every_key() -> None:
    doc = (ROOT / "docs" / "rules-format.md").read_text(encoding="utf-8")
    keys = set(RULES_SCHEMA["properties"]) | set(RULES_SCHEMA["properties"]["policy"]["properties"])
    for name in ("clause", "example", "source"):
        keys |= set(RULES_SCHEMA["$defs"][name]["properties"])
    for branch in RULES_SCHEMA["$defs"]["condition"]["oneOf"]:
        keys |= set(branch["properties"])
    missing = sorted(k for k in keys if f"`{k}`" not in doc and f"\"{k}\":" not in doc)
    assert missing == []


def test_jsonschema_and_validator_agree_on_fixture_posts() -> None:
    """Every post of the fixtures that the checker accepts is valid by the schema, and the other way round."""
    for posts in sorted(POLICIES.glob("*.posts.jsonl")):
        with posts.open(encoding="utf-8") as fh:
            for rec in read_records(fh):
                if rec.error is not None:
                    continue
                accepted = validate(rec.value)[0] is not None
                valid = not list(Draft202012Validator(POST_SCHEMA).iter_errors(rec.value))
                assert accepted == valid, (posts.name, rec.line)
