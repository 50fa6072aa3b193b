"""The TextMate grammar of the VS Code extension (editors/vscode).

Editors run it with Oniguruma; its patterns keep to the syntax that Python's
`re` shares with Oniguruma, so they are compiled and run here with `re`. A
small TextMate tokenizer (earliest match wins, the first rule on a tie, an
open block's end before its inner rules) assigns scopes to a sample policy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "govpost.tmLanguage.json"

SAMPLE = r'''# A sample policy.
policy sample {
    title "Sample" @hi "नमूना"
    issued 2026-11-24
    languages en, hi
}
include "shared.policy"
topic neutrality "Neutrality"
label official_capacity "Official duties"
authority state_government "the State Government"
instrument aiscr "All India Services (Conduct) Rules, 1968" {
    short "AIS (Conduct) Rules"
    unit "rule"
    provision 3(1A)(ii) "Political neutrality"
}
define "personal account" means "an account held privately"
lexicon parties "Parties" { "BJP", "भाजपा" }
lexicon slogans "Slogans" exact negatable { "vote (for)? {parties}", spelling "zindabad", inflected "rally" }
lexicon insults "Insults" valence -2.5 { "clueless" }
lexicon extra_negators negation { "kabhi nahi" }
lexicon leaders "Leaders" from "data/leaders.tsv"
pattern file_number "A file number" /\b\d{4,5}\/\d+/i
signal party_content "mentions a party" means text mentions parties or shared_from.kind is political_party
period mcc "Model Code" from 2029-03-10 to 2029-06-04
section neutrality "Neutrality" {
    clause party-endorsement "Endorsing a party" {
        topic neutrality
        text "No endorsement on a {personal account}."
        outcome prohibited
        when party_content and not labelled official_capacity and posted during mcc
             and (text mentions slogans near parties within 3 words or text mentions slogans near leaders
                  in the same sentence or text disparages leaders within 1 word or text praises parties)
        unless "official" sanction.obtained is true
        cites aiscr 3(1A)(ii)
        new guidance
        rationale "Neutrality."
        note "A note."
        example "Praise" { text: "Vote BJP", platform: x, posted_at: 2029-04-01T10:00+05:30 }
            expect prohibited by party-endorsement
    }
    clause ask "Asking first" {
        topic neutrality
        text "Ask."
        outcome requires sanction of state_government
        when posted before 2030-01-01 or posted after 2029-01-01 or platform in [x, facebook]
        example "Asked" { text: "x", sanction.obtained: false } expect requires sanction by ask
        example "Other" { text: "y" } expect advisory
        example "Filed" { text: "z" } expect permitted
        unless account.bio matches file_number
    }
}
'''


def grammar() -> dict[str, Any]:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


def rules(node: Any) -> list[dict[str, Any]]:
    """Every rule object in the grammar, however deeply nested."""
    out = []
    if isinstance(node, dict):
        if any(k in node for k in ("match", "begin")):
            out.append(node)
        for value in node.values():
            out.extend(rules(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(rules(value))
    return out


class Tokenizer:
    """Just enough of TextMate to scope one file: match, begin/end, include, captures, $n in names."""

    def __init__(self, grammar: dict[str, Any]):
        self.repo = grammar["repository"]
        self.root = grammar["patterns"]

    def flat(self, patterns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for p in patterns:
            if "include" in p:
                target = self.repo[p["include"].lstrip("#")]
                out.extend(self.flat(target["patterns"]) if "patterns" in target and not
                           ("match" in target or "begin" in target) else [target])
            else:
                out.append(p)
        return out

    def scopes(self, text: str) -> list[set[str]]:
        per_char: list[set[str]] = [set() for _ in text]
        stack: list[tuple[dict[str, Any], int]] = []  # open begin/end rules and where they began

        def mark(start: int, end: int, name: str | None, mt: re.Match[str] | None = None) -> None:
            if not name:
                return
            if mt is not None:
                name = re.sub(r"\$(\d)", lambda g: mt.group(int(g.group(1))) or "", name)
            for i in range(start, end):
                per_char[i].add(name)

        def captures(rule: dict[str, Any], key: str, mt: re.Match[str], base: int) -> None:
            for index, cap in rule.get(key, {}).items():
                if mt.group(int(index)) is not None:
                    mark(base + mt.start(int(index)), base + mt.end(int(index)), cap.get("name"))

        base = 0
        for line in text.splitlines(keepends=True):
            pos = 0
            while pos <= len(line):
                patterns = self.flat(stack[-1][0].get("patterns", []) if stack else self.root)
                best: tuple[int, int, Any, re.Match[str]] | None = None
                if stack:
                    end = re.compile(stack[-1][0]["end"]).search(line, pos)
                    if end is not None:
                        best = (end.start(), -1, "end", end)
                for order, rule in enumerate(patterns):
                    mt = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
                    if mt is not None and (best is None or mt.start() < best[0]):
                        best = (mt.start(), order, rule, mt)
                if best is None:
                    break
                _start, _order, rule, mt = best
                if rule == "end":
                    opened, began = stack.pop()
                    mark(began, base + mt.end(), opened.get("name"))
                    captures(opened, "endCaptures", mt, base)
                elif "match" in rule:
                    mark(base + mt.start(), base + mt.end(), rule.get("name"), mt)
                    captures(rule, "captures", mt, base)
                else:
                    stack.append((rule, base + mt.start()))
                    captures(rule, "beginCaptures", mt, base)
                if mt.end() == pos and rule != "end" and "begin" not in rule:
                    pos += 1  # an empty match: move on
                else:
                    pos = max(mt.end(), pos if rule == "end" else mt.end())
                if pos >= len(line):
                    break
            base += len(line)
        for opened, began in stack:
            mark(began, len(text), opened.get("name"))
        return per_char


@pytest.fixture(scope="module")
def scoped() -> tuple[str, list[set[str]]]:
    return SAMPLE, Tokenizer(grammar()).scopes(SAMPLE)


def scopes_at(scoped: tuple[str, list[set[str]]], needle: str, occurrence: int = 1, delta: int = 0) -> set[str]:
    text, per_char = scoped
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return per_char[at + delta]


def test_the_extension_files_are_valid_json() -> None:
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    assert package["contributes"]["languages"][0]["extensions"] == [".policy"]
    assert package["contributes"]["grammars"][0]["scopeName"] == grammar()["scopeName"] == "source.govpost"
    assert "govpost.path" in package["contributes"]["configuration"]["properties"]
    config = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert {"open": "\"", "close": "\"", "notIn": ["string", "comment"]} in config["autoClosingPairs"]
    re.compile(config["wordPattern"])


def test_every_pattern_compiles() -> None:
    found = rules(grammar())
    assert len(found) > 20
    for rule in found:
        for key in ("match", "begin", "end"):
            if key in rule:
                re.compile(rule[key])


def test_every_include_resolves() -> None:
    g = grammar()
    text = json.dumps(g)
    for name in re.findall(r'"include": "#([^"]+)"', text):
        assert name in g["repository"], name


def test_every_keyword_of_the_language_is_highlighted(scoped: tuple[str, list[set[str]]]) -> None:
    from toolkit.syntax import keywords

    text, per_char = scoped
    reserved = set(keywords().values())
    # Outside strings and comments, every keyword of the sample gets a keyword or constant scope.
    masked = re.sub(r'#[^\n]*|"(?:[^"\\]|\\.)*"', lambda mt: " " * len(mt.group()), text)
    seen = set()
    for mt in re.finditer(r"(?<![\w.-])[a-z_]+(?![\w.-])", masked):
        if mt.group() in reserved:
            seen.add(mt.group())
            got = per_char[mt.start()]
            assert any(s.startswith(("keyword.", "constant.language.")) for s in got), (mt.group(), got)
    missing = reserved - seen
    assert not missing, f"the sample leaves out keywords: {sorted(missing)}"


@pytest.mark.parametrize(
    ("needle", "delta", "scope"),
    [
        ("# A sample", 2, "comment.line.number-sign.govpost"),
        ('"Sample"', 1, "string.quoted.double.govpost"),
        ("@hi", 1, "entity.other.attribute-name.language.govpost"),
        ("नमूना", 0, "string.quoted.double.govpost"),
        ("{personal account}", 2, "variable.other.term.govpost"),
        ("/\\b\\d", 3, "string.regexp.govpost"),
        ("/i\n", 1, "keyword.other.flags.govpost"),
        ("2026-11-24", 0, "constant.numeric.date.govpost"),
        ("2029-04-01T10:00+05:30", 12, "constant.numeric.date.govpost"),
        ("policy sample", 8, "entity.name.namespace.govpost"),
        ("clause party-endorsement", 12, "entity.name.section.clause-id.govpost"),
        ("by party-endorsement", 5, "entity.name.section.clause-id.govpost"),
        ("by ask", 3, "entity.name.section.clause-id.govpost"),
        ("lexicon parties", 9, "entity.name.type.govpost"),
        ("outcome prohibited", 8, "constant.language.outcome.prohibited.govpost"),
        ("expect advisory", 7, "constant.language.outcome.advisory.govpost"),
        ("requires sanction of", 0, "constant.language.outcome.requires-sanction.govpost"),
        ("of state_government", 3, "entity.name.type.authority.govpost"),
        ("cites aiscr", 6, "entity.name.type.instrument.govpost"),
        ("aiscr 3(1A)(ii)\n", 8, "constant.other.provision.govpost"),
        ("provision 3(1A)(ii)", 12, "constant.other.provision.govpost"),
        ("shared_from.kind", 3, "variable.other.property.field.govpost"),
        ("is true", 3, "constant.language.boolean.govpost"),
        ("    issued", 4, "support.type.property-name.govpost"),
    ],
)
def test_scopes_of_the_sample(scoped: tuple[str, list[set[str]]], needle: str, delta: int, scope: str) -> None:
    assert scope in scopes_at(scoped, needle, delta=delta)


def test_a_bundled_policy_is_scoped_without_running_off(scoped: tuple[str, list[set[str]]]) -> None:
    # Strings that span lines close where they should: the last line of the bundled
    # policy is code, not the inside of a string.
    text = (ROOT / "policies" / "in" / "ais-social-media.policy").read_text(encoding="utf-8")
    per_char = Tokenizer(grammar()).scopes(text)
    last_brace = text.rstrip().rindex("}")
    assert "string.quoted.double.govpost" not in per_char[last_brace]
    assert "punctuation.section.braces.govpost" in per_char[last_brace]


HYPHENATED = '''section not-in-office "Out of office" {
    clause when-in-doubt "When in doubt" {
        topic neutrality
        text "Ask."
        outcome advisory
        when text mentions parties
        cites aiscr 3(1A)(ii),   # the rule on neutrality
              aiscr 7            # and the rule on criticism
        example "A" { text: "Vote BJP" } expect advisory by when-in-doubt, not-in-office
        example "B" { text: "Vote BJP" } expect advisory by
            is-not-in
    }
}
'''


@pytest.mark.parametrize(
    ("needle", "occurrence", "scope"),
    [
        ("not-in-office", 1, "entity.name.section.clause-id.govpost"),
        ("when-in-doubt", 1, "entity.name.section.clause-id.govpost"),
        ("when-in-doubt", 2, "entity.name.section.clause-id.govpost"),
        ("not-in-office", 2, "entity.name.section.clause-id.govpost"),  # the second id after `by`
        ("is-not-in", 1, "variable.other.identifier.govpost"),  # an id on a line of its own
        ("aiscr 7", 1, "entity.name.type.instrument.govpost"),  # a provision after a comment in `cites`
        ("7     ", 1, "constant.other.provision.govpost"),
        ("# and the rule", 1, "comment.line.number-sign.govpost"),
    ],
)
def test_hyphenated_ids_and_citations_after_a_comment(needle: str, occurrence: int, scope: str) -> None:
    per_char = Tokenizer(grammar()).scopes(HYPHENATED)
    at = -1
    for _ in range(occurrence):
        at = HYPHENATED.index(needle, at + 1)
    assert scope in per_char[at]


def test_no_keyword_is_coloured_inside_a_hyphenated_id() -> None:
    per_char = Tokenizer(grammar()).scopes(HYPHENATED)
    for mt in re.finditer(r"[A-Za-z_]\w*(?:-\w+)+", HYPHENATED):
        for i in range(mt.start(), mt.end()):
            assert not any(s.startswith(("keyword.", "constant.language.")) for s in per_char[i]), \
                (mt.group(), HYPHENATED[i], per_char[i])


# ---------------------------------------------------------------------------
# Packaging with `vsce package`, as the extension's README says
# ---------------------------------------------------------------------------


def _npm() -> str:
    import shutil

    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the extension is packaged with vsce from the npm registry")
    import subprocess

    try:
        probe = subprocess.run([npm, "view", "@vscode/vsce", "version"], capture_output=True, text=True,
                               timeout=60, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("npm cannot reach its registry (no answer in 60 s): vsce cannot be installed")
    if probe.returncode != 0:
        pytest.skip(f"npm cannot reach its registry, so vsce cannot be installed: {probe.stderr.strip()[:200]}")
    return npm


@pytest.mark.slow
def test_the_extension_packages_with_vsce(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import zipfile

    npm = _npm()
    work = tmp_path / "vscode"
    shutil.copytree(EXTENSION, work, ignore=shutil.ignore_patterns("node_modules", "*.vsix", "package-lock.json"))
    # The extension's own dependencies and its development dependency vsce, from the registry, without
    # running any package's install scripts.
    install = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"],
                             cwd=work, capture_output=True, text=True, timeout=600, check=False)
    assert install.returncode == 0, install.stderr[-2000:]
    # `vsce package`, as documented (the `package` script of package.json runs it), with nothing to answer.
    packaged = subprocess.run([npm, "run", "package"], cwd=work, capture_output=True, text=True, timeout=300,
                              check=False, stdin=subprocess.DEVNULL)
    output = packaged.stdout + packaged.stderr
    assert packaged.returncode == 0, output[-3000:]
    assert "ERROR" not in output
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    vsix = work / f"{package['name']}-{package['version']}.vsix"
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        readme = z.read("extension/readme.md").decode("utf-8")
        manifest = json.loads(z.read("extension/package.json"))
    assert {"extension/LICENSE.txt", "extension/extension.js", "extension/syntaxes/govpost.tmLanguage.json",
            "extension/language-configuration.json", "extension/node_modules/vscode-languageclient/package.json",
            "extension.vsixmanifest"} <= names
    assert not any(n.startswith("extension/node_modules/@vscode/vsce/") for n in names)  # not a runtime dependency
    assert "](../" not in readme  # no relative link left that the marketplace would break
    assert manifest["repository"]["url"].startswith("https://")


def test_the_readme_says_which_neovim_each_snippet_needs() -> None:
    readme = (EXTENSION / "README.md").read_text(encoding="utf-8")
    new, old = readme.index("**Neovim 0.11 or newer**"), readme.index("**Neovim 0.8 to 0.10**")
    assert new < readme.index("vim.lsp.enable(") < old < readme.index("vim.lsp.start(")
    assert readme.index("vim.lsp.config(") < old  # the 0.11 functions only in the 0.11 snippet
    assert "vim.lsp.config(" not in readme[old:] and "vim.lsp.enable(" not in readme[old:]
