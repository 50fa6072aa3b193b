"""Policies at a git revision, read without a checkout.

``govpost diff`` takes each side as a file on disk or as ``REV:path`` (read
from git, includes resolved at the same revision), and ``--git-range
BASE..HEAD`` diffs every policy that a range of commits touched. Everything
here runs ``git`` as a subprocess, with an argument list and no shell, on
paths relative to the root of the repository, and reads blobs with
``git cat-file`` (plumbing: a ``textconv`` configured for ``*.policy`` never
applies to it).

Failures (not a repository, an unknown revision, a file missing at a
revision, git not installed) raise :class:`GitError`, whose message is meant
for the user as it is.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .confine import MAX_POLICY_BYTES, too_large
from .diagnostics import did_you_mean
from .load import FileReader, Reader


class GitError(Exception):
    """A git operation failed; the message says why, in the user's terms."""


# A policy file has a `policy ID {` header at the start of a line (the
# formatter puts it there); included fragments have none.
_HEADER = re.compile(r"^[ \t]*policy[ \t\r\n]+([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\s*\{", re.MULTILINE)
# `include "path"`, anywhere (comments and texts too): an over-approximation
# of what a file includes, used only to skip policies a range cannot touch.
_INCLUDE = re.compile(r'\binclude(?:\s|#[^\n]*)*"((?:[^"\\]|\\.)*)"')


def header_id(text: str) -> str | None:
    """The id in a policy file's header, or None for an included fragment."""
    match = _HEADER.search(text)
    return match.group(1) if match else None


class Repo:
    """A git repository: the working directory's, found with ``git rev-parse``."""

    def __init__(self, root: Path, prefix: str = ""):
        self.root = root
        #: The working directory relative to the root (``policies/in/``), for ``REV:./file``.
        self.prefix = prefix
        self._blobs: dict[tuple[str, str], bytes | None] = {}
        self._commits: dict[str, str | None] = {}

    # -- running git --------------------------------------------------------

    @staticmethod
    def _git(args: list[str], cwd: Path, stdin: bytes | None = None, check: bool = True) -> bytes:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            proc = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=False)
        except FileNotFoundError:
            raise GitError("git is not installed or not on the PATH; it is needed to read revisions") from None
        if check and proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"`git {' '.join(args)}` failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
        return proc.stdout

    def git(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        return self._git(list(args), self.root, stdin, check)

    @classmethod
    def find(cls, cwd: str | Path | None = None) -> Repo:
        """The repository that holds ``cwd`` (default: the working directory)."""
        where = Path(cwd) if cwd is not None else Path.cwd()
        try:
            out = cls._git(["rev-parse", "--show-toplevel", "--show-prefix"], where)
        except GitError as exc:
            if "git is not installed" in str(exc):
                raise
            raise GitError(f"`{where}` is not inside a git repository, so revisions cannot be read") from None
        lines = out.decode("utf-8").splitlines()
        if not lines or not lines[0]:
            raise GitError(f"`{where}` is not inside a git work tree, so revisions cannot be read")
        return cls(Path(lines[0]), lines[1] if len(lines) > 1 else "")

    # -- revisions ------------------------------------------------------------

    def commit(self, rev: str) -> str | None:
        """The commit a revision names, or None if it names none."""
        if rev not in self._commits:
            if rev.startswith("-") or not rev:
                self._commits[rev] = None
            else:
                out = self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
                               check=False)
                sha = out.decode("ascii", "replace").strip()
                self._commits[rev] = sha or None
        return self._commits[rev]

    def resolve(self, rev: str) -> str:
        """The commit a revision names; a clear :class:`GitError` if none."""
        sha = self.commit(rev)
        if sha is None:
            refs = self.refs()
            hint = did_you_mean(rev, refs) if refs else None
            raise GitError(f"unknown revision `{rev}` in the repository at `{self.root}`"
                           + (f"; {hint}" if hint else ""))
        return sha

    def refs(self) -> list[str]:
        out = self.git("for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes", "refs/tags",
                       check=False)
        return [line for line in out.decode("utf-8", "replace").splitlines() if line] + ["HEAD"]

    # -- files at a revision ----------------------------------------------------

    def files(self, rev: str) -> list[str]:
        """Every file at a revision (paths from the root, ``/``-separated)."""
        out = self.git("ls-tree", "-r", "-z", "--name-only", "--full-tree", self.resolve(rev))
        return sorted(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)

    def read(self, rev: str, path: str) -> bytes:
        """A file's bytes at a revision; :class:`FileNotFoundError` if it is not there."""
        key = (self.resolve(rev), path)
        if key not in self._blobs:
            self.prefetch(rev, [path])
        data = self._blobs[key]
        if data is None:
            raise FileNotFoundError(2, f"no such file at revision `{rev}`", path)
        return data

    def prefetch(self, rev: str, paths: Iterable[str]) -> None:
        """Read many files at a revision in one ``git cat-file --batch``."""
        sha = self.resolve(rev)
        wanted = [p for p in dict.fromkeys(paths) if (sha, p) not in self._blobs]
        if not wanted:
            return
        batchable = [p for p in wanted if "\n" not in p and p]
        for p in wanted:
            if p not in batchable:
                self._blobs[(sha, p)] = None
        if not batchable:
            return
        request = "".join(f"{sha}:{p}\n" for p in batchable).encode("utf-8", "surrogateescape")
        out = self.git("cat-file", "--batch", stdin=request)
        pos = 0
        for p in batchable:
            end = out.index(b"\n", pos)
            head = out[pos:end].split()
            pos = end + 1
            if len(head) == 3 and head[1] == b"blob":
                size = int(head[2])
                self._blobs[(sha, p)] = out[pos : pos + size]
                pos += size + 1
            elif len(head) == 3:  # a tree or a submodule: not a file
                pos += int(head[2]) + 1
                self._blobs[(sha, p)] = None
            else:  # "<object> missing"
                self._blobs[(sha, p)] = None

    def changed(self, base: str, head: str) -> list[str]:
        """Paths that differ between two commits (renames as a removal and an addition)."""
        out = self.git("diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv",
                       self.resolve(base), self.resolve(head), "--")
        return sorted(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)

    def merge_base(self, a: str, b: str) -> str:
        out = self.git("merge-base", self.resolve(a), self.resolve(b), check=False).decode("ascii").strip()
        if not out:
            raise GitError(f"`{a}` and `{b}` have no common ancestor")
        return out


class GitReader(Reader):
    """Reads policy files at one revision; includes resolve at the same revision.

    Paths are relative to the root of the repository. Every path read is
    recorded in :attr:`read_paths`, so a caller knows which files a policy
    rests on.
    """

    def __init__(self, repo: Repo, rev: str, label: str | None = None):
        self.repo = repo
        self.rev = rev
        self.label = rev if label is None else label
        self.read_paths: list[str] = []

    def read(self, path: str) -> str:
        norm = posixpath.normpath(path)
        if norm.startswith("../") or norm == ".." or posixpath.isabs(norm):
            raise FileNotFoundError(2, "the path leaves the repository", path)
        self.read_paths.append(norm)
        data = self.repo.read(self.rev, norm)
        if len(data) > MAX_POLICY_BYTES:
            raise too_large(self.display(norm))
        return data.decode("utf-8-sig")

    def display(self, path: str) -> str:
        return f"{self.label}:{posixpath.normpath(path)}"


class RecordingFileReader(FileReader):
    """Reads from the file system and records the paths read."""

    def __init__(self) -> None:
        super().__init__()
        self.read_paths: list[str] = []

    def read(self, path: str) -> str:
        self.read_paths.append(path)
        return super().read(path)

    def read_included(self, path: str) -> str:
        self.read_paths.append(path)
        return super().read_included(path)


# ---------------------------------------------------------------------------
# Specs: a file, or REV:path
# ---------------------------------------------------------------------------


@dataclass
class Spec:
    """One side of a diff: a file on disk, or a file at a git revision."""

    text: str  #: as the user wrote it
    path: str  #: the file path (on disk), or the path from the repository root
    rev: str | None = None
    repo: Repo | None = None
    reader: Reader = field(default_factory=FileReader)

    @property
    def is_git(self) -> bool:
        return self.rev is not None


def parse_spec(text: str, cwd: str | Path | None = None) -> Spec:
    """A file path, or ``REV:path`` read through git.

    A path that exists on disk is a file. Otherwise ``REV:path`` names the
    file at a revision, ``path`` relative to the repository root (or to the
    working directory when it starts with ``./`` or ``../``, as in git);
    ``:path`` is the version staged in the index.
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    on_disk = Path(text) if Path(text).is_absolute() else base / text
    if on_disk.is_file():
        return Spec(text, str(on_disk) if cwd is not None else text, reader=RecordingFileReader())
    if on_disk.is_dir():
        raise GitError(f"`{text}` is a directory; give a policy file, or `REV:path` for a file at a revision")
    rev, colon, path = text.partition(":")
    if not colon or not path or (len(rev) == 1 and rev.isalpha() and path.startswith(("\\", "/"))):
        raise GitError(f"`{text}` does not exist (give a policy file, or `REV:path` for a file at a git revision, "
                       "e.g. `HEAD~1:policies/in/ais-social-media.policy`)")
    repo = Repo.find(base)
    if path.startswith(("./", "../")):
        path = posixpath.normpath(posixpath.join(repo.prefix, path))
    path = path.lstrip("/")
    if rev == "":
        return _index_spec(text, path, repo)
    repo.resolve(rev)
    try:
        repo.read(rev, path)
    except FileNotFoundError:
        hint = _path_hint(path, [p for p in repo.files(rev) if p.endswith(".policy")])
        raise GitError(f"`{path}` does not exist at revision `{rev}` (paths after the colon are relative to "
                       f"the repository root)" + (f"; {hint}" if hint else "")) from None
    return Spec(text, path, rev, repo, GitReader(repo, rev))


def _path_hint(path: str, candidates: list[str]) -> str | None:
    """A did-you-mean for a missing path: the same name elsewhere, or a close name in the same folder."""
    name, folder = posixpath.basename(path), posixpath.dirname(path)
    same_name = [p for p in candidates if posixpath.basename(p) == name]
    if same_name:
        return f"did you mean `{same_name[0]}`?"
    siblings = {posixpath.basename(p): p for p in candidates if posixpath.dirname(p) == folder}
    hint = did_you_mean(name, siblings)
    if hint is not None:
        return f"did you mean `{siblings[hint.split('`')[1]]}`?"
    return did_you_mean(path, candidates)


class _IndexReader(GitReader):
    """Reads the versions staged in the index (``:path``)."""

    def read(self, path: str) -> str:
        norm = posixpath.normpath(path)
        if norm.startswith("../") or norm == "..":
            raise FileNotFoundError(2, "the path leaves the repository", path)
        self.read_paths.append(norm)
        out = self.repo.git("cat-file", "blob", f":{norm}", check=False)
        if not out and not self.repo.git("ls-files", "--cached", "--", norm, check=False).strip():
            raise FileNotFoundError(2, "not in the index", path)
        return out.decode("utf-8-sig")

    def display(self, path: str) -> str:
        return f":{posixpath.normpath(path)}"


def _index_spec(text: str, path: str, repo: Repo) -> Spec:
    reader = _IndexReader(repo, "", "")
    try:
        reader.read(path)
    except FileNotFoundError:
        raise GitError(f"`{path}` is not in the index (`:path` names the staged version of a file)") from None
    reader.read_paths.clear()
    return Spec(text, path, "", repo, reader)


# ---------------------------------------------------------------------------
# --git-range: the policies a range of commits changed
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeEntry:
    """A policy a range touched: its path at BASE and at HEAD (None where it does not exist)."""

    old_path: str | None
    new_path: str | None

    @property
    def status(self) -> str:
        if self.old_path is None:
            return "added"
        if self.new_path is None:
            return "removed"
        return "renamed" if self.old_path != self.new_path else "changed"


def parse_range(text: str) -> tuple[str, str, bool]:
    """``BASE..HEAD`` → (base, head, False); ``BASE...HEAD`` → (base, head, True): diff from the merge base.

    An empty side means HEAD, as in git; ``BASE`` alone means ``BASE..HEAD``.
    """
    if "..." in text:
        base, _, head = text.partition("...")
        three = True
    elif ".." in text:
        base, _, head = text.partition("..")
        three = False
    else:
        base, head, three = text, "", False
    base, head = base or "HEAD", head or "HEAD"
    if not text.strip() or base.startswith("-") or head.startswith("-"):
        raise GitError(f"`{text}` is not a range; write `BASE..HEAD`, e.g. `origin/main..HEAD`")
    return base, head, three


def _includes(repo: Repo, rev: str, path: str) -> set[str]:
    """Every path a file may include, transitively (an over-approximation, see _INCLUDE)."""
    seen = {path}
    todo = [path]
    while todo:
        current = todo.pop()
        try:
            text = repo.read(rev, current).decode("utf-8", "replace")
        except FileNotFoundError:
            continue
        for match in _INCLUDE.finditer(text):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(current), match.group(1)))
            if target not in seen and not target.startswith(".."):
                seen.add(target)
                todo.append(target)
    return seen


def _policies(repo: Repo, rev: str) -> dict[str, str]:
    """The policy files at a revision (``.policy`` with a header): path → policy id."""
    paths = [p for p in repo.files(rev) if p.endswith(".policy")]
    repo.prefetch(rev, paths)
    out = {}
    for p in paths:
        ident = header_id(repo.read(rev, p).decode("utf-8", "replace"))
        if ident is not None:
            out[p] = ident
    return out


def range_entries(repo: Repo, base: str, head: str) -> tuple[list[RangeEntry], set[str]]:
    """The policies whose text, or an included file's, changed between two commits.

    Returns the entries (changed, added, removed; a removed and an added
    file with the same policy id form one renamed entry) and the set of
    changed paths, so that a caller can tell, once it has loaded a policy
    exactly, whether what it really includes changed.
    """
    changed = set(repo.changed(base, head))
    if not changed:
        return [], changed
    old, new = _policies(repo, base), _policies(repo, head)
    entries: list[RangeEntry] = []
    added = [p for p in new if p not in old]
    removed = [p for p in old if p not in new]
    for path in sorted(set(old) & set(new)):
        if (_includes(repo, base, path) | _includes(repo, head, path)) & changed:
            entries.append(RangeEntry(path, path))
    renamed_from: dict[str, str] = {}
    for path in removed:
        twin = next((a for a in added if new[a] == old[path] and a not in renamed_from.values()), None)
        if twin is not None:
            renamed_from[path] = twin
            entries.append(RangeEntry(path, twin))
        else:
            entries.append(RangeEntry(path, None))
    entries.extend(RangeEntry(None, p) for p in added if p not in renamed_from.values())
    entries.sort(key=lambda e: (e.new_path or e.old_path or ""))
    return entries, changed
