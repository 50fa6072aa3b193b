"""`govpost lint`: every rule (firing and not), configuration, suppression, output formats, the command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from toolkit.cli import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, cli
from toolkit.lint import (
    PROVISION_MATRIX,
    RULES,
    ConfigError,
    LintConfig,
    fails,
    lint_file,
    lint_source,
    load_config,
    render_github,
    render_json,
    render_sarif,
    render_text,
)
from toolkit.load import CallableReader

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
TODAY = dt.date(2026, 7, 1)

HEADER = """policy lintcase {
    title   "Lint case"
    issued  2026-01-01
    effective 2026-02-01
    expires 2030-12-31
}
"""
DECLARATIONS = """topic politics "Politics"
instrument r "Rules" {
    unit "rule"
    provision 5 "Politics"
}
define "personal account" means "an account held in a private capacity"
lexicon parties "Parties" { "BJP", "Congress party" }
"""
PARTY = """    clause party "Endorsing a party" {
        topic   politics
        text    "A member shall not endorse a party on a {personal account}."
        outcome prohibited
        when    text mentions parties
        cites   r 5
        example "Endorsing" { text: "Vote BJP" } expect prohibited by party
        example "Neutral" { text: "The weather is fine" } expect permitted
    }
"""


def policy(*clauses: str, header: str = HEADER, declarations: str = DECLARATIONS) -> str:
    return header + declarations + 'section s "Section" {\n' + PARTY + "".join(clauses) + "}\n"


def clause(cid: str, outcome: str, when: str, *, text: str | None = None, cites: str = "cites   r 5",
           examples: str | None = None, topic: str = "politics") -> str:
    text = text or f"Text of {cid}."
    if examples is None:
        examples = (f'example "In" {{ text: "Vote BJP", platform: x }} expect {outcome.split(" of")[0]} by {cid}\n'
                    f'        example "Out" {{ text: "Nothing here" }} expect permitted')
    return f"""    clause {cid} "Clause {cid}" {{
        topic   {topic}
        text    "{text}"
        outcome {outcome}
        when    {when}
        {cites}
        {examples}
    }}
"""


def lint(text: str, **options: object) -> list:
    enable = options.pop("enable", [])
    table = {"today": TODAY, "enable": enable, **{k.replace("_", "-"): v for k, v in options.items()}}
    result = lint_source(text, "case.policy", CallableReader(_no_files), LintConfig.from_mapping(table))
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    return result.findings


def _no_files(path: str) -> str:
    raise OSError("no includes here")


def codes(findings: list) -> set[str]:
    return {f.code for f in findings}


def test_the_base_policy_is_clean_under_every_rule_but_the_gap_report() -> None:
    assert lint(policy(), enable=["all"], disable=["L012"]) == []


# ---------------------------------------------------------------------------
# One case per rule: the policy that makes it fire
# ---------------------------------------------------------------------------

CASES: dict[str, tuple[str, dict[str, object]]] = {
    "L001": (policy(clause("dead", "advisory", "text mentions parties and not text mentions parties")), {}),
    "L002": (policy(clause("weak", "advisory", "text mentions parties")), {}),
    "L003": (policy(clause("overlap", "advisory", "platform is x")), {"enable": ["L003"]}),
    "L004": (policy(clause("uncited", "advisory", "platform is x and text mentions parties", cites="")), {}),
    "L005": (policy(clause("onesided", "advisory", "platform is x",
                           examples='example "In" { text: "hi", platform: x } expect advisory by onesided')), {}),
    "L006": (policy(clause("maybe", "prohibited", "platform is youtube", text="A member may post videos.",
                           examples='example "In" { platform: youtube } expect prohibited by maybe\n'
                                    '        example "Out" { platform: x } expect permitted')), {}),
    "L007": (policy(clause("plain", "advisory", "platform is x", text="Take care on a personal account.",
                           examples='example "In" { platform: x } expect advisory by plain\n'
                                    '        example "Out" { platform: facebook } expect permitted')),
             {"enable": ["L007"]}),
    "L008": (policy(declarations=DECLARATIONS + 'define "official account" means "an office\'s account"\n'), {}),
    "L009": (policy(declarations=DECLARATIONS + 'lexicon spare { "unused" }\n'
                    'pattern digits /\\d+/\nsignal idle means platform is x\n'
                    'period p from 2026-03-01 to 2026-04-01\n'), {}),
    "L010": (policy(declarations=DECLARATIONS.replace('"Congress party"', '"Congress party", "BJP rally", "bjp"')),
             {}),
    "L011": (policy(declarations=DECLARATIONS + 'topic spare "Spare"\n'), {}),
    "L012": (policy(), {"enable": ["L012"]}),
    "L013": (policy(declarations=DECLARATIONS.replace('"BJP"', '"BJP", "p\u0430rty"')), {}),
    "L014": (policy(header=HEADER.replace("2030-12-31", "2026-03-01"),
                    declarations=DECLARATIONS + "period early from 2025-01-01 to 2025-02-01\n"), {}),
    "L015": (policy(), {"max_sentence_words": 8}),
    "L016": (policy().replace('    clause party "', '    # govpost: ignore L004\n    clause party "'), {}),
    # With no base valence lexicon and no negative valence word, nothing can disparage the parties.
    "L017": (policy(clause("hostile", "advisory", "text disparages parties"),
                    header=HEADER.replace("policy lintcase {", "policy lintcase {\n    valence none")), {}),
}


def test_every_rule_has_a_case_and_a_docs_page() -> None:
    assert set(CASES) == set(RULES)
    for rule in RULES.values():
        page = ROOT / rule.docs
        assert page.exists(), rule.code
        body = page.read_text(encoding="utf-8")
        assert rule.code in body and rule.name in body and rule.rationale in body


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires(code: str) -> None:
    text, options = CASES[code]
    found = lint(text, **options)
    assert code in codes(found), [f.message for f in found]
    if code != "L012":
        assert code not in codes(lint(policy(), enable=options.get("enable", [])))


@pytest.mark.parametrize("code", sorted(c for c, r in RULES.items() if not r.default))
def test_opt_in_rules_do_not_run_by_default(code: str) -> None:
    text, options = CASES[code]
    options = {k: v for k, v in options.items() if k != "enable"}
    assert code not in codes(lint(text, **options))


def test_unsatisfiable_clause_is_named_by_number_and_id() -> None:
    [f] = [f for f in lint(CASES["L001"][0]) if f.code == "L001"]
    assert f.clause == "dead" and f.clause_number == "1(b)"
    assert f.message.startswith("clause 1(b) `dead`: no post can meet its condition")
    assert f.severity == "error" and (f.file, f.line, f.col) == ("case.policy", 24, 5)


def test_outranked_clause_names_the_clause_that_outranks_it() -> None:
    [f] = [f for f in lint(CASES["L002"][0]) if f.code == "L002"]
    assert "clause 1(a) `party` (prohibited)" in f.message


def test_conflicting_clauses_carry_a_confirmed_witness() -> None:
    from toolkit import api

    text = CASES["L003"][0]
    [f] = [f for f in lint(text, enable=["L003"]) if f.code == "L003"]
    assert "`overlap`" in f.message and f.witness is not None
    ruleset = api.compile_result(api.check_text(text, "case.policy", CallableReader(_no_files)))
    verdict, _ = api.checker(ruleset).check(f.witness)
    assert {"party", "overlap"} <= {x["clause"] for x in verdict.findings}


def test_clauses_of_different_topics_or_equal_outcomes_do_not_conflict() -> None:
    same_outcome = policy(clause("also", "prohibited", "platform is x"))
    assert "L003" not in codes(lint(same_outcome, enable=["L003"]))
    other_topic = policy(clause("elsewhere", "advisory", "platform is x", topic="misc"),
                         declarations=DECLARATIONS + 'topic misc "Misc"\n')
    assert "L003" not in codes(lint(other_topic, enable=["L003"]))


def test_new_guidance_needs_no_citation() -> None:
    text = policy(clause("fresh", "advisory", "platform is x", cites='new guidance "The rules are silent."'))
    assert "L004" not in codes(lint(text))


def test_modal_words_in_both_directions() -> None:
    allowed = clause("allowed", "permitted", "platform is linkedin", text="A member must not post on LinkedIn.",
                     examples='example "In" { platform: linkedin } expect permitted by allowed\n'
                              '        example "Out" { platform: x } expect permitted')
    [f] = [f for f in lint(policy(allowed)) if f.code == "L006"]
    assert "`must not`" in f.message and "`permitted`" in f.message
    both = clause("both", "prohibited", "platform is youtube", text="A member may vote, but shall give no sign.",
                  examples='example "In" { platform: youtube } expect prohibited by both\n'
                           '        example "Out" { platform: x } expect permitted')
    assert "L006" not in codes(lint(policy(both)))


def test_unused_declarations_name_each_kind() -> None:
    messages = [f.message for f in lint(CASES["L009"][0]) if f.code == "L009"]
    assert messages == ["lexicon `spare` is not used by any clause", "pattern `digits` is not used by any clause",
                        "signal `idle` is not used by any clause", "period `p` is not used by any clause"]


def test_declarations_in_included_files_are_checked_only_on_request() -> None:
    shared = 'lexicon spare { "unused" }\n'
    text = policy(declarations=DECLARATIONS + 'include "shared.policy"\n')
    reader = CallableReader(lambda path: shared)
    quiet = lint_source(text, "case.policy", reader, LintConfig(today=TODAY))
    assert "L009" not in codes(quiet.findings)
    loud = lint_source(text, "case.policy", reader, LintConfig.from_mapping({"check-included": True, "today": TODAY}))
    assert [f.file for f in loud.findings if f.code == "L009"] == ["shared.policy"]


def test_redundant_lexicon_entries() -> None:
    messages = sorted(f.message for f in lint(CASES["L010"][0]) if f.code == "L010")
    assert messages == ['lexicon `parties`: entry "BJP rally" contains entry "BJP" and can never add a match',
                        'lexicon `parties`: entry "bjp" repeats "BJP"']


def test_gap_report_lists_the_matrix_topics_not_addressed() -> None:
    found = [f for f in lint(policy(), enable=["L012"]) if f.code == "L012"]
    assert len(found) == len(PROVISION_MATRIX) - 0 - 0 or len(found) == len(PROVISION_MATRIX)
    assert "political_neutrality" in found[0].message or any("political_neutrality" in f.message for f in found)
    covered = policy().replace("topic politics", "topic political_neutrality").replace(
        "topic   politics", "topic   political_neutrality")
    assert not any("`political_neutrality`" in f.message for f in lint(covered, enable=["L012"]))


@pytest.mark.parametrize("entry, why", [
    ("p\u0430rty", "mixes Cyrillic and Latin"),
    ("BJP\u202e", "bidirectional control"),
    ("B\u200bJP", "invisible character"),
    ("vote\u200dnow", "zero-width joiner"),
])
def test_suspicious_characters(entry: str, why: str) -> None:
    text = policy(declarations=DECLARATIONS.replace('"BJP"', f'"BJP", "{entry}"'))
    [f] = [f for f in lint(text) if f.code == "L013"]
    assert why in f.message


def test_joiners_inside_devanagari_are_fine() -> None:
    text = policy(declarations=DECLARATIONS.replace('"BJP"', '"BJP", "क्\u200dष"'))
    assert "L013" not in codes(lint(text))


def test_dates() -> None:
    messages = [f.message for f in lint(CASES["L014"][0]) if f.code == "L014"]
    assert "the policy expired on 2026-03-01" in messages
    assert any("period `early` ends (2025-02-01) before the policy takes effect" in m for m in messages)
    late = policy(clause("late", "advisory", "posted after 2031-01-01 and platform is x"))
    assert any("is not before the policy expires" in f.message for f in lint(late) if f.code == "L014")


def test_long_sentences_respect_the_configured_limit() -> None:
    [f] = [f for f in lint(policy(), max_sentence_words=8) if f.code == "L015"]
    assert "a sentence of 11 words (more than 8)" in f.message
    assert "L015" not in codes(lint(policy(), max_sentence_words=11))


# ---------------------------------------------------------------------------
# Suppression
# ---------------------------------------------------------------------------

UNCITED = CASES["L004"][0]


@pytest.mark.parametrize("where", ["before", "inside", "trailing"])
def test_a_comment_naming_the_code_silences_one_clause(where: str) -> None:
    comment = "# govpost: ignore L004 -- the rule is quoted in the text itself"
    if where == "before":
        text = UNCITED.replace("    clause uncited", f"    {comment}\n    clause uncited")
    elif where == "inside":
        text = UNCITED.replace("        outcome advisory", f"        {comment}\n        outcome advisory")
    else:
        text = UNCITED.replace('clause uncited "Clause uncited" {', f'clause uncited "Clause uncited" {{  {comment}')
    assert "L004" not in codes(lint(text))
    other = text.replace("L004", "L015")
    assert "L004" in codes(lint(other))


def test_a_suppression_does_not_reach_other_clauses() -> None:
    text = UNCITED.replace("    clause uncited", "    # govpost: ignore L004 -- quoted\n\n    clause uncited")
    assert "L004" in codes(lint(text))


def test_file_wide_suppression() -> None:
    text = "# govpost: ignore-file L004, L005 -- a draft: citations come later\n" + UNCITED
    assert not codes(lint(text)) & {"L004", "L005"}


def test_malformed_suppressions_are_findings() -> None:
    found = [f.message for f in lint(policy().replace("    clause party", "    # govpost: ignore L999 -- x\n"
                                                      "    # govpost: ignore\n    clause party")) if f.code == "L016"]
    assert found == ["this suppression names unknown rule `L999`", "this suppression names no rule"]


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


def test_config_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.govpost.lint]\nenable = ["L012"]\ndisable = ["L015"]\nfail-on = "warning"\n'
        'max-sentence-words = 25\ntoday = 2026-07-01\n[tool.govpost.lint.severity]\nL004 = "error"\n',
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    config = load_config(start=tmp_path / "sub")
    assert "L012" in config.enabled and "L015" not in config.enabled
    assert config.fail_on == "warning" and config.max_sentence_words == 25 and config.today == TODAY
    assert config.severity_of("L004") == "error" and config.severity_of("L005") == "warning"
    found = lint_source(UNCITED, "case.policy", CallableReader(_no_files), config).findings
    assert {f.severity for f in found if f.code == "L004"} == {"error"}


def test_config_defaults_without_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_config(start=tmp_path) == LintConfig(source=str(tmp_path / "pyproject.toml")) or \
        load_config(start=tmp_path).enabled == LintConfig().enabled


@pytest.mark.parametrize("table, message", [
    ("colour = 1", "unknown key `colour`"),
    ('enable = ["L099"]', "unknown rule `L099`"),
    ('fail-on = "fatal"', "`fail-on` must be one of"),
    ("max-sentence-words = 0", "positive whole number"),
    ('[tool.govpost.lint.severity]\nL004 = "loud"', "severity of `L004`"),
])
def test_config_errors(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.govpost.lint]\n" + table + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(path)


def test_fails_thresholds() -> None:
    found = lint(UNCITED)
    assert {f.severity for f in found} == {"warning"}
    assert not fails(found, "error") and fails(found, "warning") and fails(found, "note")
    assert not fails(found, "never")


# ---------------------------------------------------------------------------
# Output formats
# ---------------------------------------------------------------------------


def _findings() -> list:
    return lint(CASES["L003"][0] + "", enable=["L003"]) + lint(CASES["L001"][0])


def test_text_output_has_position_caret_help_and_witness() -> None:
    out = render_text(_findings())
    assert "case.policy:24:5: error[L001]: clause 1(b) `dead`: no post can meet its condition" in out
    assert "\n            ^~~" in out
    assert "  = help: " in out and "  = witness: {" in out
    assert "  = see docs/lint/L001.md (unsatisfiable-clause)" in out


def test_json_output() -> None:
    data = json.loads(render_json(_findings()))
    assert {"code", "name", "severity", "message", "file", "line", "col", "end_line", "end_col", "clause",
            "clause_number", "witness", "help", "docs"} == set(data[0])
    assert any(d["witness"] for d in data)


def test_sarif_output_is_valid_sarif_2_1_0() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(render_sarif(_findings()))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    result = next(r for r in run["results"] if r["ruleId"] == "L001")
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 24
    assert result["locations"][0]["logicalLocations"][0]["name"] == "dead"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "L001"
    # An empty run is valid too.
    jsonschema.Draft4Validator(schema).validate(json.loads(render_sarif([])))


def test_github_output() -> None:
    lines = render_github(_findings()).splitlines()
    assert any(line.startswith("::error file=case.policy,line=24,col=5,") and "title=L001 unsatisfiable-clause::"
               in line for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert all("\n" not in line for line in lines)


# ---------------------------------------------------------------------------
# The bundled policies and the command
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["policies/in/ais-social-media.policy", "policies/uk/civil-service-social-media.policy"])
def test_bundled_policies_lint_clean(path: str) -> None:
    config = load_config(ROOT / "pyproject.toml")
    result = lint_file(ROOT / path, config)
    assert result.diagnostics == [] and result.findings == [], render_text(result.findings)


def test_an_included_fragment_has_no_findings_of_its_own() -> None:
    result = lint_file(ROOT / "policies/common/lexicons.policy", LintConfig())
    assert result.findings == [] and result.diagnostics == []


def run(*args: str, cwd: Path | None = None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.govpost.lint]\ntoday = 2026-07-01\n", encoding="utf-8")
    return path


def test_cli_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "clean.policy", policy())
    assert run("lint", "clean.policy").exit_code == EXIT_OK
    _write(tmp_path, "warn.policy", UNCITED)
    result = run("lint", "warn.policy")
    assert result.exit_code == EXIT_OK and "warning[L004]" in result.output
    assert run("lint", "--fail-on", "warning", "warn.policy").exit_code == EXIT_FINDINGS
    _write(tmp_path, "dead.policy", CASES["L001"][0])
    assert run("lint", "dead.policy").exit_code == EXIT_FINDINGS
    assert run("lint", "--disable", "L001", "dead.policy").exit_code == EXIT_OK
    _write(tmp_path, "bad.policy", policy().replace("outcome prohibited", "outcome forbidden"))
    bad = run("lint", "bad.policy")
    assert bad.exit_code == EXIT_INVALID and "bad.policy:" in bad.output and "not linted" in bad.output
    directory = run("lint", ".")
    assert directory.exit_code == EXIT_INVALID and "dead.policy:24:5: error[L001]" in directory.output


def test_cli_formats_and_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "dead.policy", CASES["L001"][0])
    assert json.loads(run("lint", "--format", "json", "dead.policy").stdout)[0]["code"] == "L001"
    assert run("lint", "--format", "github", "dead.policy").stdout.startswith("::error file=dead.policy,line=24")
    result = run("lint", "--format", "sarif", "-o", "out.sarif", "dead.policy")
    assert result.exit_code == EXIT_FINDINGS
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)


def test_cli_config_and_rule_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.govpost.lint]\nenable = ["L012"]\n', encoding="utf-8")
    listing = run("lint", "--list-rules").stdout
    assert "L012  on " in listing and "L003  off" in listing
    assert "L003  on " in run("lint", "--list-rules", "--enable", "L003").stdout
    (tmp_path / "pyproject.toml").write_text("[tool.govpost.lint]\nbogus = 1\n", encoding="utf-8")
    broken = run("lint", "--list-rules")
    assert broken.exit_code == EXIT_INVALID and "unknown key `bogus`" in broken.output
    assert run("lint", "--enable", "L999", "--list-rules").exit_code == EXIT_INVALID


# ---------------------------------------------------------------------------
# Policies that do not validate: reported in every format, a shared file's problems once
# ---------------------------------------------------------------------------

SHARED_BROKEN = 'topic politics "Politics"\npattern bad "An invalid expression" /(unclosed/\n'


def _broken_repository(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.govpost.lint]\ntoday = 2026-07-01\n", encoding="utf-8")
    (tmp_path / "shared.policy").write_text(SHARED_BROKEN, encoding="utf-8")
    decls = DECLARATIONS.replace('topic politics "Politics"\n', 'include "shared.policy"\n')
    for name in ("a", "b"):  # two policies include the same broken file
        text = policy(header=HEADER.replace("lintcase", f"case-{name}"), declarations=decls)
        (tmp_path / f"{name}.policy").write_text(text, encoding="utf-8")
    # A syntax error, and a semantic one, in a policy of its own.
    (tmp_path / "c.policy").write_text(policy().replace("outcome prohibited", "outcome forbidden"), encoding="utf-8")
    (tmp_path / "d.policy").write_text(policy().replace("text mentions parties", "text mentions partys"),
                                       encoding="utf-8")


def test_an_invalid_policy_is_an_error_result_in_sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _broken_repository(tmp_path)
    result = run("lint", "--format", "sarif", "-o", "out.sarif", ".")
    assert result.exit_code == EXIT_INVALID
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)
    run_ = log["runs"][0]
    got = sorted((r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                  r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run_["results"])
    assert got == [("P101", "error", "c.policy", 18), ("S201", "error", "d.policy", 19),
                   ("S207", "error", "shared.policy", 2)]  # the shared file's error once, not once per policy
    rules = run_["tool"]["driver"]["rules"]
    for r in run_["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    s201 = next(r for r in run_["results"] if r["ruleId"] == "S201")
    assert "did you mean `parties`?" in s201["message"]["text"]
    assert rules[s201["ruleIndex"]]["defaultConfiguration"]["level"] == "error"
    assert rules[s201["ruleIndex"]]["name"] == "undefined-name"


def test_an_invalid_policy_is_annotated_in_github_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _broken_repository(tmp_path)
    result = run("lint", "--format", "github", ".")
    assert result.exit_code == EXIT_INVALID
    lines = result.stdout.splitlines()
    assert [line.split("::")[1].split(",title=")[0] for line in lines] == [
        "error file=c.policy,line=18,col=17,endLine=18",
        "error file=d.policy,line=19,col=31,endLine=19",
        "error file=shared.policy,line=2,col=37,endLine=2",
    ]
    assert "title=P101 unexpected-token::" in lines[0] and "title=S201 undefined-name::" in lines[1]
    as_json = json.loads(run("lint", "--format", "json", ".").stdout)
    assert [f["code"] for f in as_json] == ["P101", "S201", "S207"]
    # For people, the errors go to standard error as `govpost validate` prints them, each once.
    text = run("lint", ".")
    assert text.exit_code == EXIT_INVALID
    assert text.stderr.count("error[S207]") == 1 and text.stderr.count("not linted") == 4


def test_a_lint_finding_in_a_shared_file_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.govpost.lint]\ntoday = 2026-07-01\ncheck-included = true\n",
                                             encoding="utf-8")
    (tmp_path / "shared.policy").write_text('topic politics "Politics"\nlexicon unused "Unused" { "x" }\n',
                                            encoding="utf-8")
    decls = DECLARATIONS.replace('topic politics "Politics"\n', 'include "shared.policy"\n')
    for name in ("a", "b"):
        text = policy(header=HEADER.replace("lintcase", f"case-{name}"), declarations=decls)
        (tmp_path / f"{name}.policy").write_text(text, encoding="utf-8")
    sarif = json.loads(run("lint", "--format", "sarif", ".").stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in sarif] == ["L009"]
    assert sum("L009" in line for line in run("lint", "--format", "github", ".").stdout.splitlines()) == 1
    assert [f["code"] for f in json.loads(run("lint", "--format", "json", ".").stdout)] == ["L009"]
    assert run("lint", ".").stdout.count("warning[L009]") == 1
