"""What a policy may read: its repository, regular ``.policy`` files, a megabyte each.

A policy names other files (``include "…"``, ``compare_with "…"``), and a
policy may come from anyone (a pull request, a download). govpost therefore
reads a named file only if

- its name ends in ``.policy``, before and after symbolic links are resolved
  (so no other file's content can ever be echoed in an error message);
- it lies inside the policy's **root** once every symbolic link is resolved:
  the folder named by ``GOVPOST_ROOT`` when that is set, else the nearest
  folder above the policy that holds ``.git`` (a git work tree) or a
  ``pyproject.toml`` with a ``[tool.govpost]`` table, else the policy's own
  folder;
- it is a regular file (not a device such as ``/dev/zero``, a FIFO or a
  directory), checked on the opened file so that it cannot change in between;
- it holds at most :data:`MAX_POLICY_BYTES` bytes.

A policy file named on the command line is the user's choice: it may be a
pipe (``<(…)``) but is read only up to the same size, and a symbolic link in
a repository that leads out of it is refused as an include would be.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from pathlib import Path

#: The largest policy file govpost reads (1 MiB): the bundled AIS policy is an eighth of that.
MAX_POLICY_BYTES = 1 << 20
#: The environment variable that sets the root explicitly.
ROOT_ENV = "GOVPOST_ROOT"
#: The ending of every file a policy may name.
SUFFIX = ".policy"


class PolicyFileError(OSError):
    """A policy file govpost will not read, with the diagnostic code that says why.

    An :class:`OSError`, so callers that report unreadable files report these
    too; ``strerror`` is the reason, worded for a message.
    """

    def __init__(self, code: str, reason: str, filename: str | None = None):
        super().__init__(errno.EPERM if code != "I504" else errno.EFBIG, reason, filename)
        self.code = code
        self.reason = reason


def policy_root(policy: str | Path) -> Path:
    """The folder a policy's includes and ``compare_with`` must lie in (resolved; see the module docstring)."""
    root = configured_or_marked_root(policy)
    return root if root is not None else Path(os.path.realpath(Path(os.path.abspath(policy)).parent))


def configured_or_marked_root(policy: str | Path) -> Path | None:
    """``GOVPOST_ROOT``, or the nearest folder above ``policy`` marked as a repository; None if neither."""
    configured = os.environ.get(ROOT_ENV)
    if configured:
        return Path(os.path.realpath(configured))
    start = Path(os.path.abspath(policy)).parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or _govpost_project(folder / "pyproject.toml"):
            return Path(os.path.realpath(folder))
    return None


def _govpost_project(pyproject: Path) -> bool:
    try:
        if not pyproject.is_file() or pyproject.stat().st_size > MAX_POLICY_BYTES:
            return False
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "govpost" in tool


def refusal(path: str | Path, root: Path, *, named: bool = True, suffix: str = SUFFIX) -> PolicyFileError | None:
    """Why the file ``path`` may not be read for a policy whose root is ``root``, or None.

    ``named``: the path was written in a policy (an include, ``compare_with``, a
    lexicon's data file), so it must end in ``suffix``. Whether it is a regular file
    is checked when it is opened (:func:`read_policy_bytes`).
    """
    shown = str(path)
    if named and not shown.endswith(suffix):
        return PolicyFileError("S226", f"only `{suffix}` files can be named here", shown)
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(root):
        lexical = Path(os.path.abspath(path))
        how = (f"it is a link to `{real}`, outside" if lexical.is_relative_to(root) else "it lies outside")
        return PolicyFileError("S225", f"{how} the policy's root `{root}`", shown)
    if named and real.suffix != suffix:
        return PolicyFileError("S226", f"it is a link to `{real.name}`, which is not a `{suffix}` file", shown)
    return None


def read_policy_bytes(path: str | Path, *, regular_only: bool = True) -> bytes:
    """The bytes of a policy file: a regular file (unless not ``regular_only``) of at most :data:`MAX_POLICY_BYTES`.

    The file is opened without blocking (a FIFO cannot hold the read up) and
    checked on the open descriptor, then read to at most one byte past the limit.

    Raises:
        PolicyFileError: not a regular file (``S226``) or too large (``I504``).
        OSError: the file cannot be opened or read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | (os.O_NONBLOCK if regular_only else 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if regular_only and not stat.S_ISREG(mode):
            raise PolicyFileError("S226", f"it is {_kind(mode)}, not a regular file", str(path))
        if stat.S_ISREG(mode) and os.fstat(fd).st_size > MAX_POLICY_BYTES:
            raise too_large(path)
        if regular_only:
            os.set_blocking(fd, True)
        chunks = []
        size = 0
        while size <= MAX_POLICY_BYTES:
            chunk = os.read(fd, MAX_POLICY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_POLICY_BYTES:
            raise too_large(path)
        return b"".join(chunks)
    finally:
        os.close(fd)


def too_large(path: str | Path) -> PolicyFileError:
    return PolicyFileError("I504", f"it is larger than {MAX_POLICY_BYTES:,} bytes, the most a policy file may hold",
                           str(path))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"
