"""Files → one policy: read a policy and its includes, merge, read the header.

Reading goes through a :class:`Reader`, so a policy can be loaded from the
file system or from a git revision (for diffs) alike. Includes are resolved
relative to the including file; a cycle is an error, and a file included
twice by different routes is read once.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import model as m
from .confine import PolicyFileError, configured_or_marked_root, policy_root, read_policy_bytes, refusal
from .diagnostics import Diagnostic, DiagnosticError, has_errors
from .lower import LoweredFile, lower
from .metadata import read_metadata
from .source import Source, Span
from .syntax import Comment, parse_source


class Reader:
    """Reads policy files by path; paths use `/` and are relative to a root or absolute."""

    def read(self, path: str) -> str:
        raise NotImplementedError

    def read_included(self, path: str) -> str:
        """A file a policy names (an include, ``compare_with``), after :meth:`refuse` let it through."""
        return self.read(path)

    def refuse(self, path: str, main: str, suffix: str = ".policy") -> PolicyFileError | None:
        """Why the file ``path``, named in the policy ``main``, may not be read; None when it may.

        Paths are names in the reader's own tree: one that is absolute or leaves
        the tree (``../`` from its top) is refused, and so is a name that does not
        end in ``suffix`` (``.policy``; ``.tsv`` for a lexicon's data file).
        """
        norm = posixpath.normpath(path)
        if not norm.endswith(suffix):
            return PolicyFileError("S226", f"only `{suffix}` files can be named here", path)
        if posixpath.isabs(norm) or norm == ".." or norm.startswith("../"):
            return PolicyFileError("S225", "it lies outside the files the policy is read from", path)
        return None

    def refuse_main(self, path: str) -> PolicyFileError | None:
        """Why the policy file ``path`` itself may not be read (a link out of its repository), or None."""
        return None

    def root_of(self, main: str) -> Path | None:
        """The folder on disk the files of the policy ``main`` lie in, if it is read from disk."""
        return None

    def display(self, path: str) -> str:
        """How a path is shown in messages."""
        return path


class FileReader(Reader):
    """Reads from the file system, confined to the policy's root (:mod:`toolkit.confine`).

    ``root``: the folder every named file must lie in (default: the policy's
    repository, found from the main file). ``regular_only``: refuse a main file
    that is not a regular file as well (a policy read because another names it).
    """

    def __init__(self, root: str | Path | None = None, *, regular_only: bool = False):
        self.root = None if root is None else Path(root).resolve()
        self.regular_only = regular_only

    def read(self, path: str) -> str:
        refused = self.refuse_main(path)
        if refused is not None:
            raise refused
        return read_policy_bytes(path, regular_only=self.regular_only).decode("utf-8-sig")

    def read_included(self, path: str) -> str:
        return read_policy_bytes(path, regular_only=True).decode("utf-8-sig")

    def refuse(self, path: str, main: str, suffix: str = ".policy") -> PolicyFileError | None:
        return refusal(path, self.root_of(main), suffix=suffix)

    def refuse_main(self, path: str) -> PolicyFileError | None:
        root = self.root or configured_or_marked_root(path)
        return None if root is None else refusal(path, root, named=False)

    def root_of(self, main: str) -> Path:
        return self.root or policy_root(main)


class CallableReader(Reader):
    """A reader backed by a function (for git revisions and tests)."""

    def __init__(self, fn: Callable[[str], str], prefix: str = ""):
        self.fn = fn
        self.prefix = prefix

    def read(self, path: str) -> str:
        return self.fn(path)

    def display(self, path: str) -> str:
        return f"{self.prefix}{path}"


@dataclass
class Loaded:
    """The result of loading: a policy if there were no errors, and everything found."""

    policy: m.Policy | None
    diagnostics: list[Diagnostic]
    sources: list[Source] = field(default_factory=list)
    comments: dict[str, tuple[Comment, ...]] = field(default_factory=dict)
    content_hash: str = ""
    #: The folder on disk the policy's files lie in (its repository), when read from disk.
    root: Path | None = None

    @property
    def ok(self) -> bool:
        return self.policy is not None and not has_errors(self.diagnostics)


def load_text(text: str, name: str = "<text>", reader: Reader | None = None) -> Loaded:
    """Load a policy from text; includes are read through ``reader`` relative to ``name``."""
    return _Loader(reader or FileReader(), name).load_main(name, text)


def load_file(path: str | Path, reader: Reader | None = None) -> Loaded:
    """Load a policy file and everything it includes."""
    rd = reader or FileReader()
    name = str(path)
    try:
        text = rd.read(name)
    except UnicodeDecodeError as exc:
        return Loaded(None, [not_utf8(rd.display(name), exc)])
    except PolicyFileError as exc:
        return Loaded(None, [Diagnostic("I504" if exc.code == "I504" else "I501",
                                        f"cannot read `{rd.display(name)}`: {exc.reason}")])
    except OSError as exc:
        return Loaded(None, [Diagnostic("I501", f"cannot read `{rd.display(name)}`: {exc.strerror or exc}")])
    return _Loader(rd, name).load_main(name, text)


def not_utf8(name: str, exc: UnicodeDecodeError) -> Diagnostic:
    """I502 at the first byte that is not UTF-8, its line shown with the byte as `�`."""
    data = bytes(exc.object)
    text = data.decode("utf-8-sig", "replace")
    offset = len(data[: exc.start].decode("utf-8-sig", "replace"))
    return Diagnostic("I502", f"`{name}` is not UTF-8 text: {exc.reason} (byte 0x{data[exc.start]:02x})",
                      Span(Source(name, text), offset, offset + 1),
                      help="save the file as UTF-8; a policy is text in UTF-8 only")


class _Loader:
    def __init__(self, reader: Reader, main: str):
        self.reader = reader
        self.main = main
        self.diags: list[Diagnostic] = []
        self.sources: list[Source] = []
        self.comments: dict[str, tuple[Comment, ...]] = {}
        self.done: set[str] = set()
        self.data_sources: list[Source] = []

    def load_main(self, name: str, text: str) -> Loaded:
        source = Source(self.reader.display(name), text)
        lowered = self._parse(source)
        if lowered is None:
            return self._result(None)
        self.done.add(posixpath.normpath(name))
        items = self._expand(lowered, name, [posixpath.normpath(name)])
        header = lowered.header
        if header is None:
            self.diags.append(
                Diagnostic(
                    "S224",
                    "this file has no `policy` header",
                    Span(source, 0, 0),
                    help="start the file with `policy ID { title \"…\" }`; "
                    "files that only hold shared declarations are included by a policy",
                )
            )
            return self._result(None)
        meta, meta_diags = read_metadata(header)
        self.diags.extend(meta_diags)
        if meta.compare_with:
            self._confine_compare_with(name, meta.compare_with, header)
        policy = _assemble(header.id, meta, items, header.span)
        return self._result(policy)

    def _result(self, policy: m.Policy | None) -> Loaded:
        digest = hashlib.sha256()
        for src in [*self.sources, *self.data_sources]:
            # The hash covers what the policy says, not where it lies: file
            # names are left out so a moved checkout hashes the same.
            digest.update(hashlib.sha256(src.text.encode("utf-8")).digest())
        # The policy is kept even when its header or a clause has errors, so
        # that the semantic checks still run and every error is reported at
        # once; `Loaded.ok` says whether it may be used.
        return Loaded(
            policy,
            self.diags,
            self.sources,
            self.comments,
            "sha256:" + digest.hexdigest(),
            self.reader.root_of(self.main),
        )

    def _confine_compare_with(self, name: str, other: str, header: object) -> None:
        """``compare_with`` must name a policy the build may read: the same rules as an include."""
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), other))
        refused = self.reader.refuse(target, self.main)
        if refused is None:
            return
        span = next((sp for key, _values, sp in getattr(header, "entries", ()) if key == "compare_with"), None)
        self.diags.append(Diagnostic(refused.code, f"`compare_with` cannot name `{other}`: {refused.reason}", span,
                                     help=_CONFINED_HELP))

    def _parse(self, source: Source) -> LoweredFile | None:
        self.sources.append(source)
        try:
            result = parse_source(source)
        except DiagnosticError as exc:
            self.diags.extend(exc.diagnostics)
            return None
        self.comments[source.name] = result.comments
        lowered = lower(result.tree, source)
        self.diags.extend(lowered.diagnostics)
        return lowered

    def _expand(self, lowered: LoweredFile, name: str, stack: list[str]) -> list[object]:
        out: list[object] = []
        for item in lowered.items:
            if isinstance(item, m.Lexicon) and item.source is not None:
                out.append(self._gazetteer(item, name))
                continue
            if not isinstance(item, m.Include):
                out.append(item)
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), item.path))
            if target in stack:
                chain = " → ".join(self.reader.display(p) for p in [*stack[stack.index(target):], target])
                self.diags.append(
                    Diagnostic("S211", f"`{item.path}` includes itself: {chain}", item.span,
                               help="remove one of the includes in the cycle")
                )
                continue
            if target in self.done:
                continue
            self.done.add(target)
            refused = self.reader.refuse(target, self.main)
            if refused is not None:
                self.diags.append(Diagnostic(refused.code, f"cannot include `{item.path}`: {refused.reason}",
                                             item.span, help=_CONFINED_HELP))
                continue
            try:
                text = self.reader.read_included(target)
            except UnicodeDecodeError as exc:
                self.diags.append(not_utf8(self.reader.display(target), exc))
                continue
            except PolicyFileError as exc:
                self.diags.append(Diagnostic(exc.code, f"cannot include `{item.path}`: {exc.reason}", item.span,
                                             help=_CONFINED_HELP))
                continue
            except (OSError, KeyError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                self.diags.append(
                    Diagnostic("S212", f"cannot read included file `{item.path}`: {reason}", item.span,
                               help=f"the path is relative to `{self.reader.display(name)}`")
                )
                continue
            child = self._parse(Source(self.reader.display(target), text))
            if child is None:
                continue
            if child.header is not None:
                self.diags.append(
                    Diagnostic("S220", f"included file `{item.path}` has a `policy` header", child.header.span,
                               help="an included file holds shared declarations only; remove its header")
                )
            out.extend(self._expand(child, target, [*stack, target]))
        return out


    def _gazetteer(self, lex: m.Lexicon, name: str) -> m.Lexicon:
        """A lexicon whose entries are rows of a data file beside the policy (``lexicon X from "file"``)."""
        assert lex.source is not None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), lex.source))
        # A data file is confined as an include is (toolkit.confine): its rows are quoted in errors.
        refused = self.reader.refuse(target, self.main, suffix=GAZETTEER_SUFFIX)
        if refused is not None:
            self.diags.append(Diagnostic(refused.code, f"cannot read the data file `{lex.source}` of lexicon "
                                                       f"`{lex.id}`: {refused.reason}", lex.span,
                                         help=_CONFINED_HELP.replace("`.policy` files", "`.tsv` data files")))
            return lex
        try:
            text = self.reader.read_included(target)
        except PolicyFileError as exc:
            self.diags.append(Diagnostic(exc.code, f"cannot read the data file `{lex.source}` of lexicon "
                                                   f"`{lex.id}`: {exc.reason}", lex.span,
                                         help=_CONFINED_HELP.replace("`.policy` files", "`.tsv` data files")))
            return lex
        except (OSError, UnicodeDecodeError, KeyError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.diags.append(Diagnostic("S233", f"cannot read the data file `{lex.source}` of lexicon `{lex.id}`: "
                                                 f"{reason}", lex.span,
                                         help=f"the path is relative to `{self.reader.display(name)}`"))
            return lex
        source = Source(self.reader.display(target), text)
        self.data_sources.append(source)
        entries, diags = read_gazetteer(source)
        self.diags.extend(diags)
        return replace(lex, entries=tuple(entries))


GAZETTEER_COLUMNS = ("entry", "mode")
#: The ending of a lexicon's data file.
GAZETTEER_SUFFIX = ".tsv"


def read_gazetteer(source: Source) -> tuple[list[m.LexiconEntry], list[Diagnostic]]:
    """The entries of a tab-separated data file: a header row naming an ``entry`` column, then a row an entry.

    Lines starting with ``#`` and blank lines are comments. An optional
    ``mode`` column gives an entry's mode (exact, inflected, spelling; empty
    for the lexicon's). Other columns (source, country, note, …) document
    the row and are kept in the file only.
    """
    entries: list[m.LexiconEntry] = []
    diags: list[Diagnostic] = []
    header: list[str] | None = None
    offset = 0
    for line in source.text.splitlines(keepends=True):
        start = offset
        offset += len(line)
        row = line.rstrip("\r\n")
        if not row.strip() or row.lstrip().startswith("#"):
            continue
        cells = row.split("\t")
        if header is None:
            header = [c.strip().casefold() for c in cells]
            if "entry" not in header:
                diags.append(Diagnostic("S233", "the data file has no `entry` column", Span(source, start, start + len(row)),
                                        help="the first row names the columns, separated by tabs: entry, then "
                                             "optional mode and columns that document the row (source, note)"))
                return [], diags
            continue
        values = dict(zip(header, cells))
        entry = values.get("entry", "").strip()
        col = row.find(entry) if entry else 0
        span = Span(source, start + max(col, 0), start + max(col, 0) + len(entry))
        if not entry:
            diags.append(Diagnostic("S233", "a row of the data file has an empty `entry`", Span(source, start, start + len(row))))
            continue
        mode = values.get("mode", "").strip() or None
        if mode is not None and mode not in m.LEXICON_MODES:
            at = start + row.find(mode, col + len(entry))
            diags.append(Diagnostic("S233", f"`{mode}` is not a mode", Span(source, at, at + len(mode)),
                                    help="the mode is exact, inflected or spelling, or empty for the lexicon's"))
            mode = None
        entries.append(m.LexiconEntry(entry, span, mode))
    if header is None:
        diags.append(Diagnostic("S233", "the data file has no rows", Span(source, 0, 0),
                                help="the first row names the columns (entry, …); each row after it is an entry"))
    return entries, diags
_CONFINED_HELP = ("a policy may name only regular `.policy` files of at most 1 MiB inside its root "
                  "(its repository, or `GOVPOST_ROOT`); see docs/security.md")


def _assemble(policy_id: str, meta: m.Metadata, items: list[object], span: Span) -> m.Policy:
    def of(kind: type) -> tuple:  # type: ignore[type-arg]
        return tuple(i for i in items if isinstance(i, kind))

    return m.Policy(
        id=policy_id,
        meta=meta,
        topics=of(m.Topic),
        labels=of(m.Label),
        authorities=of(m.Authority),
        instruments=of(m.Instrument),
        terms=of(m.Term),
        lexicons=of(m.Lexicon),
        patterns=of(m.Pattern),
        signals=of(m.Signal),
        periods=of(m.Period),
        sections=of(m.Section),
        span=span,
    )
