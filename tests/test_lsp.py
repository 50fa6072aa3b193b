"""The language server, through the real protocol.

One `python -m toolkit lsp` process per module, driven over stdio by pygls's
language client (JSON-RPC, exactly as an editor would). The client runs on
its own event loop in a background thread so that the tests read plainly.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import BaseLanguageClient  # noqa: E402

SHARED = """\
# Shared declarations: no header.
topic political_neutrality "Political neutrality"
label official_capacity "The post was made in the discharge of official duties"
lexicon political_parties "Political parties" { "BJP", "भाजपा", "Congress party" }
"""

MAIN = """\
# A small policy for the language server's tests.
policy lsp-test {
    title "Test policy" @hi "परीक्षण नीति"
    issued 2026-01-01
    languages en, hi
}

include "shared.policy"

instrument aiscr "All India Services (Conduct) Rules, 1968" {
    short "AIS (Conduct) Rules"
    unit "rule"
    provision 7 "Criticism of Government"
    provision 3(1A)(ii) "Political neutrality"
}

authority state_government "the Government of the State" @hi "राज्य सरकार"

define "personal account" means "an account held in a private capacity" @hi "निजी खाता"

pattern file_number "A Government file number" /\\b\\d{4,5}\\/\\d+\\/\\d{4}/

signal party_content "mentions a political party" means text mentions political_parties

period mcc_2029 "Model Code of Conduct, 2029" from 2029-03-10 to 2029-06-04

section neutrality "Political neutrality" @hi "राजनीतिक तटस्थता" {
    clause party-endorsement "Endorsing a political party" @hi "दल का समर्थन" {
        topic political_neutrality
        text "A member shall not, on a {personal account}, endorse a party."
             @hi "सदस्य {personal account} पर किसी दल का समर्थन नहीं करेगा।"
        outcome prohibited
        when party_content and account.kind is personal
        unless "made in official capacity" labelled official_capacity
        cites aiscr 3(1A)(ii), aiscr 7
        example "Praising a party" { text: "Vote BJP! 🙏", platform: x }
            expect prohibited by party-endorsement
        example "Neutral" { text: "The weather is fine." }
            expect permitted
    }
    section elections "Elections" @hi "चुनाव" {
        clause election-files "File numbers in election time" @hi "चुनाव में फ़ाइल संख्या" {
            topic political_neutrality
            text "No file numbers during the election period." @hi "चुनाव अवधि में फ़ाइल संख्या नहीं।"
            outcome requires sanction of state_government
            when posted during mcc_2029 and text matches file_number
            new guidance
            example "A file number" { text: "See F. No. 12345/1/2029", posted_at: 2029-04-01T10:00+05:30 }
                expect requires sanction by election-files
        }
    }
    clause hindi-greeting "Greetings in Hindi" @hi "हिन्दी में अभिवादन" {
        topic political_neutrality
        text "Greetings are permitted." @hi "अभिवादन की अनुमति है।"
        outcome permitted
        when text mentions political_parties
        new guidance
    }
}
"""

HEADER = 'policy p {\n    title "P"\n}\ninclude "shared.policy"\n'


def apply_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    """The text after an editor applies LSP edits (ranges of the original text, UTF-16 positions)."""
    lines = text.splitlines(keepends=True) or [""]

    def offset(p: lsp.Position) -> int:
        before = sum(len(line) for line in lines[: p.line])
        line = lines[p.line] if p.line < len(lines) else ""
        units, i = 0, 0
        while i < len(line) and units < p.character:
            units += utf16(line[i])
            i += 1
        return before + i

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def pos(text: str, needle: str, occurrence: int = 1, delta: int = 0) -> lsp.Position:
    """The LSP position (UTF-16) of the n-th occurrence of ``needle``, plus ``delta`` code points."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    at += delta
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    return lsp.Position(line=line, character=utf16(text[start:at]))


class Client:
    """A synchronous face on pygls's asyncio language client."""

    def __init__(self, root: Path, log: Path):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.published: list[lsp.PublishDiagnosticsParams] = []
        self.shown: list[lsp.ShowMessageParams] = []
        self.changed = threading.Condition()
        self.versions: dict[str, int] = {}
        self.lc: BaseLanguageClient = self.run(self._start(log))
        self.result = self.run(self.lc.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(),
            root_uri=root.as_uri(),
            process_id=None,
        )))
        self.lc.initialized(lsp.InitializedParams())

    async def _start(self, log: Path) -> BaseLanguageClient:
        lc = BaseLanguageClient("govpost-tests", "1")

        @lc.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            with self.changed:
                self.published.append(params)
                self.changed.notify_all()

        @lc.feature(lsp.WINDOW_SHOW_MESSAGE)
        def on_message(params: lsp.ShowMessageParams) -> None:
            with self.changed:
                self.shown.append(params)
                self.changed.notify_all()

        @lc.feature(lsp.WINDOW_LOG_MESSAGE)
        def on_log(params: lsp.LogMessageParams) -> None:
            pass

        await lc.start_io(sys.executable, "-m", "toolkit", "lsp", "--log-file", str(log))
        return lc

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.run(self.lc.shutdown_async(None))
        self.lc.exit(None)
        self.run(self.lc.stop())
        server = self.lc._server
        if server is not None:
            transport = getattr(server, "_transport", None)
            if transport is not None:
                transport.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    # -- documents -------------------------------------------------------

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        self.versions[uri] = 1
        self.lc.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=uri, language_id="govpost", version=1,
            text=path.read_text(encoding="utf-8") if text is None else text)))
        return uri

    def change(self, uri: str, text: str, rng: lsp.Range | None = None) -> int:
        self.versions[uri] += 1
        change: Any = (lsp.TextDocumentContentChangeWholeDocument(text=text) if rng is None
                       else lsp.TextDocumentContentChangePartial(range=rng, text=text))
        self.lc.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[change]))
        return self.versions[uri]

    def close(self, uri: str) -> None:
        self.lc.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri)))

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 15) -> list[lsp.Diagnostic]:
        """The diagnostics published for a document's version (default: its latest)."""
        want = self.versions.get(uri) if version is None else version
        with self.changed:
            ok = self.changed.wait_for(
                lambda: any(p.uri == uri and p.version == want for p in self.published), timeout)
            assert ok, f"no diagnostics for {uri} version {want}"
            found = [p for p in self.published if p.uri == uri and p.version == want][0].diagnostics
            # Lint findings arrive in a second publication of their own; these tests are about checks.
            return [d for d in found if d.source == "govpost"]

    # -- requests --------------------------------------------------------

    def doc(self, uri: str) -> lsp.TextDocumentIdentifier:
        return lsp.TextDocumentIdentifier(uri=uri)

    def hover(self, uri: str, at: lsp.Position) -> lsp.Hover | None:
        return self.run(self.lc.text_document_hover_async(lsp.HoverParams(text_document=self.doc(uri), position=at)))

    def definition(self, uri: str, at: lsp.Position) -> Any:
        return self.run(self.lc.text_document_definition_async(
            lsp.DefinitionParams(text_document=self.doc(uri), position=at)))

    def complete(self, uri: str, at: lsp.Position) -> list[str]:
        result = self.run(self.lc.text_document_completion_async(
            lsp.CompletionParams(text_document=self.doc(uri), position=at)))
        items = result.items if isinstance(result, lsp.CompletionList) else result
        return [item.label for item in items]

    def symbols(self, uri: str) -> Any:
        return self.run(self.lc.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=self.doc(uri))))

    def code_actions(self, uri: str, rng: lsp.Range) -> list[lsp.CodeAction]:
        result = self.run(self.lc.text_document_code_action_async(lsp.CodeActionParams(
            text_document=self.doc(uri), range=rng, context=lsp.CodeActionContext(diagnostics=[]))))
        return list(result or [])

    def linted(self, uri: str, version: int | None = None, timeout: float = 20) -> list[lsp.Diagnostic]:
        """The lint findings published for a document's version (they come in a second publication)."""
        want = self.versions.get(uri) if version is None else version

        def found() -> list[lsp.Diagnostic]:
            return [d for p in self.published if p.uri == uri and p.version == want for d in p.diagnostics
                    if d.source == "govpost lint"]

        with self.changed:
            self.changed.wait_for(lambda: bool(found()), timeout)
        return found()

    def format(self, uri: str) -> Any:
        return self.run(self.lc.text_document_formatting_async(lsp.DocumentFormattingParams(
            text_document=self.doc(uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True))))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp")
    (root / "shared.policy").write_text(SHARED, encoding="utf-8")
    (root / "main.policy").write_text(MAIN, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[Client]:
    log = root / "lsp.log"
    c = Client(root, log)
    yield c
    c.stop()
    # Internal errors are logged with their traceback; none may have happened.
    assert "Traceback" not in (log.read_text(encoding="utf-8") if log.exists() else "")


@pytest.fixture(scope="module")
def main(client: Client, root: Path) -> str:
    uri = client.open(root / "main.policy")
    assert client.diagnostics(uri) == []
    return uri


def hover_text(client: Client, uri: str, text: str, needle: str, occurrence: int = 1, delta: int = 1) -> str:
    result = client.hover(uri, pos(text, needle, occurrence, delta))
    assert result is not None, f"no hover on {needle!r}"
    assert isinstance(result.contents, lsp.MarkupContent)
    assert result.contents.kind == lsp.MarkupKind.Markdown
    return result.contents.value


# ---------------------------------------------------------------------------
# Initialisation and diagnostics
# ---------------------------------------------------------------------------


def test_initialize_announces_the_features(client: Client) -> None:
    caps = client.result.capabilities
    assert client.result.server_info.name == "govpost"
    assert caps.hover_provider and caps.definition_provider and caps.document_symbol_provider
    assert caps.document_formatting_provider
    assert caps.completion_provider is not None and "." in caps.completion_provider.trigger_characters
    assert caps.position_encoding in (None, lsp.PositionEncodingKind.Utf16)


def test_a_clean_policy_has_no_diagnostics(main: str) -> None:
    assert main.endswith("main.policy")


def test_syntax_errors_are_reported_each_at_its_token(client: Client, root: Path) -> None:
    text = HEADER + (
        'section s "S" {\n'
        '    clause a "A" { topic political_neutrality text "x" outcome prohibited when = }\n'
        '    clause b "B" { topic political_neutrality text "y" outcome forbidden when text mentions w }\n'
        "}\n"
    )
    uri = client.open(root / "syntax.policy", text)
    diags = client.diagnostics(uri)
    assert [d.code for d in diags] == ["P102", "P101"]
    first, second = diags
    assert first.range.start == pos(text, "= }") and first.range.end == pos(text, "= }", delta=1)
    assert second.range.start == pos(text, "forbidden")
    assert second.range.end == pos(text, "forbidden", delta=len("forbidden"))
    assert first.severity == lsp.DiagnosticSeverity.Error and first.source == "govpost"
    assert "help:" in first.message  # the hint travels with the message
    client.close(uri)


def test_semantic_errors_point_at_the_name(client: Client, root: Path) -> None:
    text = HEADER + (
        'section s "S" {\n'
        "    clause a \"A\" { topic political_neutrality text \"x\" outcome prohibited\n"
        "                   when text mentions no_such_words }\n"
        "}\n"
    )
    uri = client.open(root / "semantic.policy", text)
    diags = client.diagnostics(uri)
    assert [(d.code, d.message.splitlines()[0]) for d in diags] == [("S201", "undefined lexicon `no_such_words`")]
    assert diags[0].range.start == pos(text, "no_such_words")
    assert diags[0].range.end == pos(text, "no_such_words", delta=len("no_such_words"))

    # An incremental edit that fixes the name clears the error.
    start = pos(text, "no_such_words")
    end = pos(text, "no_such_words", delta=len("no_such_words"))
    version = client.change(uri, "political_parties", lsp.Range(start=start, end=end))
    assert client.diagnostics(uri, version) == []

    # And a whole-document change that breaks it again reports it again.
    version = client.change(uri, text.replace("no_such_words", "political_partys"))
    diags = client.diagnostics(uri, version)
    assert [d.code for d in diags] == ["S201"]
    assert "did you mean `political_parties`?" in diags[0].message
    client.close(uri)


def test_a_shared_file_without_header_is_checked_on_its_own(client: Client, root: Path) -> None:
    uri = client.open(root / "shared.policy")
    assert client.diagnostics(uri) == []  # no complaint about the missing `policy` header
    broken = SHARED + 'topic political_neutrality "Again"\n'
    version = client.change(uri, broken)
    diags = client.diagnostics(uri, version)
    assert [d.code for d in diags] == ["S202"]
    assert diags[0].range.start.line == 4
    version = client.change(uri, SHARED)
    assert client.diagnostics(uri, version) == []
    client.close(uri)


def test_includes_are_read_from_open_buffers(client: Client, root: Path) -> None:
    # Opening the shared file with a label renamed, unsaved: the including policy sees the buffer.
    text = HEADER + (
        'section s "S" {\n'
        '    clause a "A" { topic political_neutrality text "x" outcome prohibited\n'
        "                   when labelled official_capacity }\n"
        "}\n"
    )
    policy = client.open(root / "uses-label.policy", text)
    assert client.diagnostics(policy) == []
    shared = client.open(root / "shared.policy", SHARED.replace("official_capacity", "official_role"))
    client.diagnostics(shared)
    # The includer is re-checked after the shared buffer changed; wait for a publication that reports it.
    with client.changed:
        assert client.changed.wait_for(lambda: any(
            p.uri == policy and any(d.code == "S201" for d in p.diagnostics) for p in client.published), 15)
    client.close(shared)
    def clean() -> bool:
        latest = [p for p in client.published if p.uri == policy][-1]
        return not [d for d in latest.diagnostics if d.source == "govpost"]

    with client.changed:
        assert client.changed.wait_for(clean, 15)
    client.close(policy)


def test_errors_in_an_included_file_are_shown_at_the_include(client: Client, root: Path) -> None:
    (root / "broken-shared.policy").write_text('label official_capacity "x"\nlabel oops\n', encoding="utf-8")
    text = 'policy p {\n    title "P"\n}\ninclude "broken-shared.policy"\n'
    uri = client.open(root / "includer.policy", text)
    diags = client.diagnostics(uri)
    assert [d.code for d in diags] == ["P103"]
    assert diags[0].range.start == pos(text, '"broken-shared.policy"')
    assert "broken-shared.policy" in diags[0].message
    assert diags[0].related_information[0].location.uri == (root / "broken-shared.policy").as_uri()
    client.close(uri)


# ---------------------------------------------------------------------------
# Hover
# ---------------------------------------------------------------------------


def test_hover_on_every_kind_of_name(client: Client, main: str) -> None:
    text = MAIN
    term = hover_text(client, main, text, "{personal account}", delta=3)
    assert "an account held in a private capacity" in term and "निजी खाता" in term
    lexicon = hover_text(client, main, text, "political_parties\n")
    assert "**lexicon** `political_parties`" in lexicon and "`shared.policy`, line 4" in lexicon
    assert "`भाजपा`" in lexicon
    pattern = hover_text(client, main, text, "matches file_number", delta=9)
    assert "A Government file number" in pattern and "\\d{4,5}" in pattern
    signal = hover_text(client, main, text, "when party_content", delta=6)
    assert "**signal** `party_content`" in signal and "means text mentions political_parties" in signal
    period = hover_text(client, main, text, "during mcc_2029", delta=8)
    assert "from 2029-03-10 to 2029-06-04" in period
    topic = hover_text(client, main, text, "topic political_neutrality", delta=7)
    assert "**topic** `political_neutrality`" in topic
    label = hover_text(client, main, text, "labelled official_capacity", delta=10)
    assert "discharge of official duties" in label
    authority = hover_text(client, main, text, "of state_government", delta=4)
    assert "the Government of the State" in authority and "राज्य सरकार" in authority
    instrument = hover_text(client, main, text, "cites aiscr", delta=7)
    assert "All India Services (Conduct) Rules, 1968" in instrument
    provision = hover_text(client, main, text, "aiscr 3(1A)(ii)", delta=7)
    assert "**rule 3(1A)(ii)** of *AIS (Conduct) Rules*" in provision and "Political neutrality" in provision
    provision7 = hover_text(client, main, text, "aiscr 7", delta=6)
    assert "**rule 7**" in provision7 and "Criticism of Government" in provision7
    clause = hover_text(client, main, text, "by party-endorsement", delta=4)
    assert "**clause 1(a)** `party-endorsement`" in clause and "outcome: prohibited" in clause
    field = hover_text(client, main, text, "account.kind is", delta=9)
    assert "**post field** `account.kind`" in field and "`anonymous`" in field


def test_hover_range_covers_the_name(client: Client, main: str) -> None:
    result = client.hover(main, pos(MAIN, "mentions political_parties", delta=12))
    assert result is not None
    assert result.range.start == pos(MAIN, "mentions political_parties", delta=9)
    assert result.range.end == pos(MAIN, "mentions political_parties", delta=9 + len("political_parties"))


def test_no_hover_on_prose_or_keywords(client: Client, main: str) -> None:
    assert client.hover(main, pos(MAIN, "endorse a party", delta=2)) is None
    assert client.hover(main, pos(MAIN, "outcome prohibited", delta=2)) is None


# ---------------------------------------------------------------------------
# Go to definition
# ---------------------------------------------------------------------------


def _one(result: Any) -> lsp.Location:
    assert result, "no definition"
    location = result[0] if isinstance(result, list) else result
    assert isinstance(location, lsp.Location)
    return location


def test_definition_in_the_same_file(client: Client, main: str) -> None:
    loc = _one(client.definition(main, pos(MAIN, "when party_content", delta=6)))
    assert loc.uri == main
    assert loc.range.start == pos(MAIN, "signal party_content", delta=7)
    assert loc.range.end == pos(MAIN, "signal party_content", delta=7 + len("party_content"))
    term = _one(client.definition(main, pos(MAIN, "{personal account}", delta=5)))
    assert term.range.start == pos(MAIN, '"personal account" means')
    clause = _one(client.definition(main, pos(MAIN, "by election-files", delta=5)))
    assert clause.range.start == pos(MAIN, "clause election-files", delta=7)
    provision = _one(client.definition(main, pos(MAIN, "aiscr 7", delta=6)))
    assert provision.range.start == pos(MAIN, "provision 7", delta=10)


def test_definition_across_an_include(client: Client, main: str, root: Path) -> None:
    shared_uri = (root / "shared.policy").as_uri()
    loc = _one(client.definition(main, pos(MAIN, "labelled official_capacity", delta=12)))
    assert loc.uri == shared_uri
    assert loc.range.start == pos(SHARED, "official_capacity")
    lexicon = _one(client.definition(main, pos(MAIN, "mentions political_parties", delta=12)))
    assert lexicon.uri == shared_uri and lexicon.range.start == pos(SHARED, "political_parties")
    include = _one(client.definition(main, pos(MAIN, '"shared.policy"', delta=3)))
    assert include.uri == shared_uri and include.range.start == lsp.Position(line=0, character=0)


# ---------------------------------------------------------------------------
# Completion
# ---------------------------------------------------------------------------


def _complete_after(client: Client, root: Path, name: str, text: str, marker: str = "‸") -> list[str]:
    at = text.index(marker)
    clean = text.replace(marker, "")
    uri = client.open(root / name, clean)
    client.diagnostics(uri)
    line = clean.count("\n", 0, at)
    start = clean.rfind("\n", 0, at) + 1
    labels = client.complete(uri, lsp.Position(line=line, character=utf16(clean[start:at])))
    client.close(uri)
    return labels


def test_completion_of_names_by_context(client: Client, main: str) -> None:
    def at(needle: str, delta: int) -> list[str]:
        return client.complete(main, pos(MAIN, needle, delta=delta))

    assert at("mentions political_parties", 9) == ["political_parties"]
    assert at("matches file_number", 8) == ["file_number"]
    assert at("labelled official_capacity", 9) == ["official_capacity"]
    assert at("during mcc_2029", 7) == ["mcc_2029"]
    assert at("of state_government", 3) == ["state_government"]
    assert at("topic political_neutrality\n        text \"A", 6) == ["political_neutrality"]
    assert at("cites aiscr", 6) == ["aiscr"]
    assert at("aiscr 7", 6) == ["3(1A)(ii)", "7"]
    assert sorted(at("by election-files", 3)) == ["election-files", "hindi-greeting", "party-endorsement"]
    assert at("{personal account}, endorse", 1) == ["personal account"]


def test_completion_in_conditions_offers_signals_and_fields(client: Client, root: Path) -> None:
    text = MAIN.replace("when party_content and", "when ‸party_content and")
    labels = _complete_after(client, root, "cond.policy", text)
    assert "party_content" in labels and "account.kind" in labels and "sanction.obtained" in labels
    assert "labelled" in labels

    dotted = MAIN.replace("when party_content and account.kind", "when party_content and account.‸kind")
    labels = _complete_after(client, root, "dotted.policy", dotted)
    assert labels and all(label.startswith("account.") for label in labels)
    assert "account.kind" in labels and "account.bio" in labels

    values = MAIN.replace("account.kind is personal", "account.kind is ‸personal")
    assert _complete_after(client, root, "values.policy", values) == ["anonymous", "official", "personal"]


def test_completion_of_fields_in_example_posts(client: Client, root: Path) -> None:
    text = MAIN.replace('{ text: "The weather is fine." }', '{ text: "The weather is fine.", ‸ }')
    labels = _complete_after(client, root, "post.policy", text)
    assert {"platform", "account.kind", "posted_at", "shared_from.kind"} <= set(labels)
    assert "account" not in labels  # a group is not a key of its own
    value = MAIN.replace('platform: x }', 'platform: ‸x }')
    assert "facebook" in _complete_after(client, root, "post-value.policy", value)


# ---------------------------------------------------------------------------
# Document symbols
# ---------------------------------------------------------------------------


def _names(symbols: list[lsp.DocumentSymbol]) -> list[Any]:
    return [(s.name, _names(s.children)) if s.children else s.name for s in symbols]


def test_document_symbols_carry_clause_numbers(client: Client, main: str) -> None:
    result = client.symbols(main)
    assert all(isinstance(s, lsp.DocumentSymbol) for s in result)
    names = _names(result)
    assert names[0] == "policy lsp-test"
    assert ("instrument aiscr", ["7", "3(1A)(ii)"]) in names
    assert "signal party_content" in names and "term personal account" in names
    section = names[-1]
    assert section == ("1 neutrality", [
        "1(a) party-endorsement",
        ("1.1 elections", ["1.1(a) election-files"]),
        "1(b) hindi-greeting",
    ])
    clause = result[-1].children[0]
    assert clause.detail == "Endorsing a political party"
    assert clause.selection_range.start == pos(MAIN, "clause party-endorsement", delta=7)
    assert clause.range.start == pos(MAIN, "clause party-endorsement")


# ---------------------------------------------------------------------------
# Hindi and emoji: UTF-16 positions
# ---------------------------------------------------------------------------


def test_positions_are_utf16_code_units_after_hindi_and_emoji(client: Client, root: Path) -> None:
    line = '        unless "सदस्य का समर्थन 🙏" labelled no_such_label\n'
    text = HEADER + (
        'section s "S" {\n'
        '    clause a "A" { topic political_neutrality text "x" outcome prohibited\n'
        "        when text mentions political_parties\n" + line + "    }\n}\n"
    )
    uri = client.open(root / "hindi.policy", text)
    diags = client.diagnostics(uri)
    assert [d.code for d in diags] == ["S201"]
    prefix = line[: line.index("labelled")]
    # 8 spaces, `unless "`, 15 Devanagari code points (one unit each), a space, 🙏 (two units), `" `.
    assert utf16(prefix) == len(prefix) + 1
    assert diags[0].range.start.character == utf16(prefix)
    assert diags[0].range.end.character == utf16(line.rstrip("\n"))

    # Hover and completion take UTF-16 positions too: the character after the emoji is the label.
    hover = client.hover(uri, pos(text, "labelled no_such_label", delta=10))
    assert hover is None  # undefined: nothing to show, but it is the right word
    version = client.change(uri, text.replace("no_such_label", "official_capacity"))
    assert client.diagnostics(uri, version) == []
    fixed = text.replace("no_such_label", "official_capacity")
    hover = client.hover(uri, pos(fixed, "labelled official_capacity", delta=10))
    assert hover is not None and "**label** `official_capacity`" in hover.contents.value
    assert hover.range.start == pos(fixed, "official_capacity", occurrence=1)
    client.close(uri)


def test_syntax_error_after_devanagari_on_the_same_line(client: Client, root: Path) -> None:
    text = 'policy p {\n    title "नीति 🙏" @hi "नीति" = "x"\n}\n'
    uri = client.open(root / "hindi-syntax.policy", text)
    diags = client.diagnostics(uri)
    assert [d.code for d in diags] == ["P102"]
    assert diags[0].range.start == pos(text, "=")
    assert diags[0].range.start.character == utf16('    title "नीति 🙏" @hi "नीति" ') == 31
    assert diags[0].range.end.character == 32
    client.close(uri)


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def test_formatting_through_the_formatter(client: Client, root: Path) -> None:
    formatter = pytest.importorskip("toolkit.formatter")
    canonical = formatter.format_source(MAIN, str(root / "messy.policy"))
    messy = canonical.replace("    clause party-endorsement", "clause party-endorsement").replace(
        "topic   political_neutrality\n        text", "topic political_neutrality\n        text", 1)
    assert messy.count("\n") == canonical.count("\n") and messy != canonical
    uri = client.open(root / "messy.policy", messy)
    client.diagnostics(uri)
    edits = client.format(uri)
    expected = formatter.format_source(messy, str(root / "messy.policy"))
    assert expected != messy
    assert apply_edits(messy, edits) == expected
    # The smallest edits, not one that replaces the file: only the two lines the formatter changes.
    assert len(edits) == 2
    assert all(e.range.start.line == e.range.end.line for e in edits)
    assert sum(len(e.new_text) for e in edits) < 20
    client.close(uri)

    broken = client.open(root / "broken-format.policy", MAIN.replace("outcome prohibited", "outcome"))
    client.diagnostics(broken)
    assert not client.format(broken)  # nothing is changed in a file that does not parse
    with client.changed:
        assert client.changed.wait_for(lambda: any("syntax errors" in m.message for m in client.shown), 10)
    client.close(broken)


# ---------------------------------------------------------------------------
# Robustness
# ---------------------------------------------------------------------------


def test_requests_on_unknown_documents_and_far_positions(client: Client, main: str, root: Path) -> None:
    unknown = (root / "never-opened.policy").as_uri()
    assert client.hover(unknown, lsp.Position(line=0, character=0)) is None
    assert client.hover(main, lsp.Position(line=10_000, character=500)) is None
    assert client.complete(main, lsp.Position(line=3, character=10_000)) == []
    # The server is still there.
    assert client.hover(main, pos(MAIN, "during mcc_2029", delta=8)) is not None


def test_internal_errors_become_lsp_errors_without_traceback() -> None:
    from pygls.exceptions import JsonRpcInternalError

    from toolkit.lsp import guarded

    @guarded("hover")
    async def broken(ls: Any, params: Any) -> None:
        raise KeyError("boom")

    with pytest.raises(JsonRpcInternalError) as info:
        asyncio.run(broken(None, None))
    assert "internal error in hover" in info.value.message
    assert info.value.data is None


def test_positions_in_every_encoding_the_client_may_choose() -> None:
    from toolkit.lsp import Positions

    text = 'x\r\n    "नीति 🙏" y\n'
    y = text.index("y")
    for encoding, character in (("utf-16", 14), ("utf-8", 24), ("utf-32", 13)):
        positions = Positions(text, encoding)
        assert positions.position(y) == lsp.Position(line=1, character=character), encoding
        assert positions.offset(lsp.Position(line=1, character=character)) == y, encoding
    utf16 = Positions(text, "utf-16")
    # A position past the end of a line is the end of that line (before `\r\n` too); past the end, the end.
    assert utf16.offset(lsp.Position(line=0, character=99)) == 1
    assert utf16.offset(lsp.Position(line=9, character=0)) == len(text)


def test_lint_findings_follow_the_checks(client: Client, root: Path) -> None:
    pytest.importorskip("toolkit.lint")
    text = HEADER + (
        'section s "S" {\n'
        '    clause a "A" {\n'
        "        topic political_neutrality\n"
        '        text "Members may share party material."\n'
        "        outcome prohibited\n"
        "        when text mentions political_parties\n"
        "    }\n}\n"
    )
    uri = client.open(root / "lint.policy", text)
    assert client.diagnostics(uri) == []  # valid: no errors from the checks

    def linted() -> list[lsp.Diagnostic]:
        return [d for p in client.published if p.uri == uri for d in p.diagnostics if d.source == "govpost lint"]

    with client.changed:
        assert client.changed.wait_for(lambda: bool(linted()), 20)
    codes = {d.code for d in linted()}
    assert {"L004", "L006"} <= codes  # no citation; "may" in a prohibition
    modal = next(d for d in linted() if d.code == "L006")
    assert "clause 1(a) `a`" in modal.message
    assert modal.range.start.line >= 4
    client.close(uri)


# ---------------------------------------------------------------------------
# Terms, quick fixes and the outline of a file that does not parse
# ---------------------------------------------------------------------------


def test_an_undefined_term_is_underlined_at_the_term_not_the_whole_text(client: Client, root: Path) -> None:
    text = MAIN.replace(
        'text "A member shall not, on a {personal account}, endorse a party."',
        'text "A member shall not, on a\n              {personal acount}, endorse a party."')
    uri = client.open(root / "term.policy", text)
    diags = client.diagnostics(uri)
    assert [d.code for d in diags] == ["S218"]
    assert diags[0].range.start == pos(text, "personal acount")
    assert diags[0].range.end == pos(text, "personal acount", delta=len("personal acount"))
    # The quick fix replaces the name, and the error goes.
    actions = client.code_actions(uri, diags[0].range)
    assert [a.title for a in actions] == ["Change `personal acount` to `personal account`"]
    assert actions[0].is_preferred and actions[0].diagnostics[0].code == "S218"
    fixed = apply_edits(text, actions[0].edit.changes[uri])
    assert fixed == MAIN.replace('text "A member shall not, on a {personal account}, endorse a party."',
                                 'text "A member shall not, on a\n              {personal account}, endorse a party."')
    version = client.change(uri, fixed)
    assert client.diagnostics(uri, version) == []
    client.close(uri)


def test_did_you_mean_hints_are_quick_fixes(client: Client, root: Path) -> None:
    text = MAIN.replace("when party_content and account.kind is personal",
                        "when text mentions political_partys and account.kind is personal") \
        .replace("cites aiscr 3(1A)(ii), aiscr 7", "cites aiscr 3(1A)(iii), aiscr 7")
    uri = client.open(root / "hints.policy", text)
    diags = client.diagnostics(uri)
    assert sorted(d.code for d in diags) == ["S201", "S203"]
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=pos(text, "}\n", text.count("}\n")))
    actions = client.code_actions(uri, whole)
    assert sorted(a.title for a in actions) == ["Change `3(1A)(iii)` to `3(1A)(ii)`",
                                                "Change `political_partys` to `political_parties`"]
    edits = [e for a in actions for e in a.edit.changes[uri]]
    version = client.change(uri, apply_edits(text, edits))
    assert client.diagnostics(uri, version) == []
    # Only the problems in the range asked about get actions.
    first_line = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=1, character=0))
    assert client.code_actions(uri, first_line) == []
    client.close(uri)


def test_missing_translation_and_citation_have_quick_fixes(client: Client, root: Path) -> None:
    pytest.importorskip("toolkit.lint")
    text = MAIN.replace('text "Greetings are permitted." @hi "अभिवादन की अनुमति है।"',
                        'text "Greetings are permitted."') \
        .replace("        when text mentions political_parties\n        new guidance\n",
                 "        when text mentions political_parties\n")
    uri = client.open(root / "fixes.policy", text)
    diags = client.diagnostics(uri)
    assert [(d.code, d.severity) for d in diags] == [("S221", lsp.DiagnosticSeverity.Warning)]
    translation = client.code_actions(uri, diags[0].range)
    assert [a.title for a in translation] == ["Add a `@hi` translation (to be written)"]
    linted = client.linted(uri)
    missing = next(d for d in linted if d.code == "L004")
    citation = [a for a in client.code_actions(uri, missing.range) if a.diagnostics[0].code == "L004"]
    titles = [a.title for a in citation]
    # The clauses of the same topic cite these; or the clause is new guidance.
    assert titles == ["Cite `aiscr 3(1A)(ii)`", "Cite `aiscr 7`", "Mark the clause as new guidance"]
    fixed = apply_edits(text, translation[0].edit.changes[uri])
    fixed = apply_edits(fixed, citation[0].edit.changes[uri])
    assert 'text "Greetings are permitted." @hi "…"' in fixed
    assert "        when text mentions political_parties\n        cites aiscr 3(1A)(ii)\n    }" in fixed
    version = client.change(uri, fixed)
    assert client.diagnostics(uri, version) == []
    assert "L004" not in {d.code for d in client.linted(uri, version, timeout=5)}
    client.close(uri)


def test_a_file_that_never_parsed_has_an_outline(client: Client, root: Path) -> None:
    broken = MAIN.replace("outcome prohibited", "outcome forbidden")
    uri = client.open(root / "never-parsed.policy", broken)
    assert [d.code for d in client.diagnostics(uri)] == ["P101"]
    names = _names(client.symbols(uri))
    assert names[0] == "policy lsp-test"
    assert names[-1] == ("1 neutrality", [
        "1(a) party-endorsement",
        ("1.1 elections", ["1.1(a) election-files"]),
        "1(b) hindi-greeting",
    ])
    assert "term personal account" in names and "period mcc_2029" in names
    # Once it parses, the outline comes from the model; broken again, the last good outline stays.
    version = client.change(uri, MAIN)
    assert client.diagnostics(uri, version) == []
    good = _names(client.symbols(uri))
    version = client.change(uri, MAIN.replace("section elections", "section"))
    assert client.diagnostics(uri, version)
    assert _names(client.symbols(uri)) == good
    client.close(uri)


def test_a_half_written_file_has_an_outline_to_its_end(client: Client, root: Path) -> None:
    text = HEADER + 'section s "S" {\n    clause a "A" {\n        topic political_neutrality\n        text "x'
    uri = client.open(root / "half.policy", text)
    assert client.diagnostics(uri)
    result = client.symbols(uri)
    assert _names(result)[-1] == ("1 s", ["1(a) a"])
    end = lsp.Position(line=text.count("\n"), character=utf16(text.rsplit("\n", 1)[1]))
    assert result[-1].range.end == end  # the unclosed section runs to the end of the text
    client.close(uri)


def test_minimal_edits_turn_the_text_into_the_formatted_one() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from toolkit.lsp import minimal_edits

    line = st.builds(lambda body, end: body + end, st.text("ab \t{}\"", max_size=6),
                     st.sampled_from(["\n", "\r\n", "\r", ""]))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(line, max_size=8), st.lists(line, max_size=8))
    def check(a: list[str], b: list[str]) -> None:
        old, new = "".join(a), "".join(b)
        edits = minimal_edits(old, new)
        out = old
        for start, end, text in reversed(edits):
            out = out[:start] + text + out[end:]
        assert out == new
        assert all(e1[1] <= e2[0] for e1, e2 in zip(edits, edits[1:], strict=False))  # in order, apart
        if old == new:
            assert edits == []

    check()
