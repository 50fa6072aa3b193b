"""The public API: every stage of the pipeline, composed.

``text → parse tree → model → { rule set → checker | … }``. This is the
only module that chains stages; the command line is a thin layer over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .model import Policy


@dataclass
class CheckResult:
    """A policy after loading and checking, with everything found."""

    policy: Policy | None
    diagnostics: list[Diagnostic]
    content_hash: str = ""
    sources: list[Any] = field(default_factory=list)
    comments: dict[str, Any] = field(default_factory=dict)
    #: The folder on disk the policy's files lie in (its repository), when read from disk.
    root: Path | None = None

    @property
    def ok(self) -> bool:
        return self.policy is not None and not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def check_file(path: str | Path, reader: Any = None) -> CheckResult:
    """Load a policy file with its includes and run every semantic check."""
    from .check import check_policy
    from .load import load_file

    loaded = load_file(path, reader)
    diags = list(loaded.diagnostics)
    policy = loaded.policy
    if policy is not None:
        diags.extend(check_policy(policy))
    diags = sort_diagnostics(diags)
    return CheckResult(policy if not has_errors(diags) else None, diags, loaded.content_hash,
                       loaded.sources, loaded.comments, loaded.root)


def check_text(text: str, name: str = "<text>", reader: Any = None) -> CheckResult:
    """Like :func:`check_file`, for a policy held in memory."""
    from .check import check_policy
    from .load import load_text

    loaded = load_text(text, name, reader)
    diags = list(loaded.diagnostics)
    if loaded.policy is not None:
        diags.extend(check_policy(loaded.policy))
    diags = sort_diagnostics(diags)
    return CheckResult(loaded.policy if not has_errors(diags) else None, diags, loaded.content_hash,
                       loaded.sources, loaded.comments, loaded.root)


def compile_result(result: CheckResult) -> dict[str, Any]:
    """The rule set of a policy that passed its checks."""
    from .compiler import compile_policy

    if result.policy is None:
        raise ValueError("the policy has errors; it cannot be compiled")
    ruleset = compile_policy(result.policy, content_hash=result.content_hash, generator=f"govpost {__version__}")
    if result.root is not None:
        # Files are named relative to the policy's root, never as the path was typed: the same policy
        # compiles to the same bytes from any working directory, and no builder's layout is recorded.
        for item in (*ruleset["clauses"], *ruleset["examples"]):
            item["source"]["file"] = _relative(item["source"]["file"], result.root)
    return ruleset


def _relative(name: str, root: Path) -> str:
    import os

    real = Path(os.path.realpath(name))
    return real.relative_to(root).as_posix() if real.is_relative_to(root) else real.name


def load_rules(path: str | Path) -> dict[str, Any]:
    """Read a compiled rule set (``*.rules.json``); needs no parser."""
    from .rules import load

    return load(path)


def checker(ruleset: dict[str, Any]) -> Any:
    """A :class:`toolkit.evaluate.Checker` for a rule set."""
    from .evaluate import Checker

    return Checker(ruleset)


# ===========================================================================
# Semantic diff and comparison (`govpost diff`, `compare`, `textconv`)
#
# Each side is a file on disk or `REV:path` read through git (toolkit.gitio);
# the engine is toolkit.diff / toolkit.compare / toolkit.analysis, and the
# results are rendered by toolkit.diff_render.
# ===========================================================================

if TYPE_CHECKING:
    from .diff_render import ComparisonReport, DiffReport, FileDiff


class InvalidInput(Exception):
    """An input that cannot be diffed or compared (exit code 2).

    ``diagnostics`` holds the errors of a policy that does not validate; the
    message says which side it is.
    """

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


@dataclass
class LoadedSide:
    """One side of a diff or comparison: its name, checked policy and rule set."""

    name: str
    result: CheckResult
    rules: dict[str, Any]
    read_paths: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> dict[str, str]:
        return {c["id"]: c["number"] for c in self.rules["clauses"]}


def _check_side(name: str, path: str, reader: Any) -> LoadedSide:
    result = check_file(path, reader)
    if not result.ok:
        raise InvalidInput(f"{name}: {_summary(result.diagnostics)}; fix them first", result.diagnostics)
    return LoadedSide(name, result, compile_result(result), list(getattr(reader, "read_paths", [])))


def _summary(diags: list[Diagnostic]) -> str:
    from .diagnostics import summary_line

    return summary_line(diags)


def load_side(spec: str, cwd: str | Path | None = None) -> LoadedSide:
    """Check and compile one side: a policy file, or ``REV:path`` (includes read at that revision).

    Raises:
        InvalidInput: the policy has errors.
        toolkit.gitio.GitError: the spec names no file, or git cannot read it.
    """
    from .gitio import parse_spec

    parsed = parse_spec(spec, cwd)
    return _check_side(spec, parsed.path, parsed.reader)


def diff_sides(old: LoadedSide, new: LoadedSide) -> FileDiff:
    """The :class:`toolkit.diff_render.FileDiff` of two loaded versions of a policy."""
    from .diff import diff_policies
    from .diff_render import FileDiff

    assert old.result.policy is not None and new.result.policy is not None
    d = diff_policies(old.result.policy, new.result.policy, old.rules, new.rules,
                      old_name=old.name, new_name=new.name)
    return FileDiff("changed", old.name, new.name, d, old.numbers, new.numbers)


def diff_sources(old: str, new: str, cwd: str | Path | None = None) -> DiffReport:
    """``govpost diff OLD NEW``: a :class:`toolkit.diff_render.DiffReport` of one policy file.

    Each side is a file path or ``REV:path``. Raises :class:`InvalidInput` or
    :class:`toolkit.gitio.GitError` for input that cannot be diffed.
    """
    from .diff_render import DiffReport

    return DiffReport((diff_sides(load_side(old, cwd), load_side(new, cwd)),))


def diff_git_range(spec: str, cwd: str | Path | None = None) -> DiffReport:
    """``govpost diff --git-range BASE..HEAD``: every policy the commits changed, in one report.

    A policy is reported when its own text or a file it includes changed;
    added and removed policies are reported as such (a removed and an added
    file with the same policy id as one renamed policy). ``BASE...HEAD``
    diffs from the merge base. A policy with errors at either end is
    reported as ``invalid`` with its diagnostics, not raised.
    """
    from .diff_render import DiffReport, FileDiff, PolicySummary
    from .gitio import GitReader, Repo, parse_range, range_entries

    base, head, three_dot = parse_range(spec)
    repo = Repo.find(cwd)
    repo.resolve(base)
    repo.resolve(head)
    base_rev = repo.merge_base(base, head) if three_dot else base
    entries, changed = range_entries(repo, base_rev, head)
    files = []
    for entry in entries:
        old_name = f"{base}:{entry.old_path}" if entry.old_path else None
        new_name = f"{head}:{entry.new_path}" if entry.new_path else None
        sides: list[LoadedSide | None] = []
        invalid: list[Diagnostic] = []
        for rev, path, name in ((base_rev, entry.old_path, old_name), (head, entry.new_path, new_name)):
            if path is None or name is None:
                sides.append(None)
                continue
            reader = GitReader(repo, rev, label=name.rpartition(":")[0] if rev != base_rev else base)
            try:
                sides.append(_check_side(name, path, reader))
            except InvalidInput as exc:
                invalid.extend(exc.diagnostics)
                sides.append(None)
        if invalid:
            files.append(FileDiff("invalid", old_name, new_name, diagnostics=tuple(invalid),
                                  old_path=entry.old_path, new_path=entry.new_path))
            continue
        old, new = sides
        if old is not None and new is not None:
            if entry.status == "changed" and not (set(old.read_paths) | set(new.read_paths)) & changed:
                continue  # an `include` matched in a comment or text, not a file it really reads
            fd = diff_sides(old, new)
            files.append(FileDiff(entry.status, old.name, new.name, fd.diff, fd.old_numbers, fd.new_numbers,
                                  old_path=entry.old_path, new_path=entry.new_path))
        else:
            side = new if new is not None else old
            assert side is not None and side.result.policy is not None
            p = side.result.policy
            summary = PolicySummary(p.id, p.meta.title.value if p.meta.title else p.id, len(side.rules["clauses"]))
            files.append(FileDiff(entry.status, old_name, new_name, policy=summary,
                                  old_path=entry.old_path, new_path=entry.new_path))
    return DiffReport(tuple(files), base=base, head=head)


def compare_files(a: str, b: str, cwd: str | Path | None = None) -> ComparisonReport:
    """``govpost compare A B``: policy A against policy B, topic by topic (a ComparisonReport).

    Each side is a file path or ``REV:path``.
    """
    from .compare import compare_rulesets
    from .diff_render import ComparisonReport

    sa, sb = load_side(a, cwd), load_side(b, cwd)
    return ComparisonReport(compare_rulesets(sa.rules, sb.rules), a, b, sa.numbers, sb.numbers)


def textconv(data: bytes, name: str = "<file>") -> bytes:
    """The canonical text of one policy file, for git's ``textconv``.

    The file alone is parsed and lowered (includes are not read) and printed
    in the canonical layout, so that ``git diff`` shows changes of content,
    not of layout. Comments are not part of the canonical text. A file that
    cannot be read as a policy (syntax errors, not UTF-8) is returned as it
    is, so that ``git diff`` still works on it.
    """
    from .diagnostics import DiagnosticError
    from .lower import lower
    from .metadata import read_metadata
    from .printer import print_file
    from .source import Source
    from .syntax import parse_source

    try:
        text = data.decode("utf-8-sig")
        source = Source(name, text)
        lowered = lower(parse_source(source).tree, source)
    except (UnicodeDecodeError, DiagnosticError):
        return data
    if has_errors(lowered.diagnostics):
        return data
    if lowered.header is None:
        return print_file(lowered.items).encode("utf-8")
    meta, diags = read_metadata(lowered.header)
    if any(d.is_error and d.code != "S216" for d in diags):  # S216: no title, harmless here
        return data
    return print_file(lowered.items, lowered.header.id, meta).encode("utf-8")
