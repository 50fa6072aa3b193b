"""Writing output files atomically: a reader sees the old file or the new one, never a half.

The one writer of every artefact govpost makes (``compile``, ``fmt``, ``check
-o``, ``diff -o``, ``build``):

- :func:`write_file`: one file, written to a temporary file beside its target,
  flushed to disk, given the mode an ordinary write would give it, and moved
  into place with :func:`os.replace`.
- :func:`open_stream`: the same for a file written a piece at a time (the
  results of ``govpost check -o``); it replaces the target only when the
  writer says it is complete.
- :func:`write_set`: several files that belong together (a circular's PDF,
  HTML and rule set). They are written into a fresh directory, and the set is
  switched in one rename: each file's name in the output folder is a
  symbolic link through ``.govpost/<set>/current``, and that one link is
  replaced. A reader sees the old set or the new one whole, even if the
  writer is killed at any point.

Every write into a folder holds a lock on it (:func:`fcntl.flock` on the
folder), so two builds into one folder take turns; and under that lock the
temporary files and unfinished sets that a killed writer left behind are
removed. A temporary file that a writer is still streaming into is locked by
that writer and left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: no locks, no cleaning of what others left
    fcntl = None  # type: ignore[assignment]

#: The hidden folder, inside an output folder, that holds the sets written by :func:`write_set`.
SETS = ".govpost"
_CURRENT = "current"
# Temporary files: `.<name>.<random>.tmp` (files) and `.<name>.<random>.link` (links), as mkstemp names them.
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.(tmp|link)$")


def _make_folder(folder: Path) -> None:
    """Create an output folder (and its parents) if it is missing; a file in its place is ``ENOTDIR``."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    folder.mkdir(parents=True, exist_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode(target: Path) -> int:
    """The mode of the file being replaced, or the one a plain ``open(…, "w")`` would give."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the lock of an output folder (exclusive; it waits for the writer that holds it)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - a folder that cannot be opened is reported by the write itself
        yield
        return
    try:
        with contextlib.suppress(OSError):  # a file system without locks: write without one
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def clean(folder: Path) -> list[str]:
    """Remove what killed writers left in ``folder``; call it holding :func:`locked`. Returns the names removed.

    A temporary file is removed only if no process holds its lock (a stream
    being written holds it; a killed process holds nothing). Unfinished sets
    (generations that ``current`` does not name) are removed whole.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if _TEMPORARY.match(entry.name) and _unowned(entry):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
    sets = folder / SETS
    if sets.is_dir() and not sets.is_symlink():
        for home in sets.iterdir():
            if home.is_dir() and not home.is_symlink():
                removed.extend(f"{SETS}/{home.name}/{name}" for name in _clean_generations(home))
    return removed


def _unowned(entry: os.DirEntry[str]) -> bool:
    if entry.is_symlink() or fcntl is None:
        return True
    try:
        fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _clean_generations(home: Path) -> list[str]:
    try:
        current = os.readlink(home / _CURRENT)
    except OSError:
        current = None
    removed = []
    for entry in home.iterdir():
        if entry.name == _CURRENT or entry.name == current:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry.name)
    return removed


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every system can open a folder to flush it
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temporary(folder: Path, name: str, data: bytes, mode: int) -> str:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes files private; outputs are ordinary files
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_file(path: Path, data: bytes) -> Path:
    """Write one file atomically: readers see the old content or the new, never a part.

    Raises:
        OSError: nothing was replaced (the temporary file is removed).
    """
    folder = path.parent
    _make_folder(folder)
    with locked(folder):
        clean(folder)
        tmp = _write_temporary(folder, path.name, data, _mode(path))
        try:
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write several independent files into ``out_dir``, each atomically (for a set, see :func:`write_set`).

    Every file is written in full to a temporary file first; only when all are
    written are they moved into place, in name order. On an error before that
    point the temporary files are removed and the targets are left as they were.

    Returns:
        The paths written, in name order.
    """
    _make_folder(out_dir)
    pending: list[tuple[str, Path]] = []
    with locked(out_dir):
        clean(out_dir)
        try:
            for name, data in sorted(files.items()):
                target = out_dir / name
                pending.append((_write_temporary(out_dir, name, data, _mode(target)), target))
            for tmp, target in pending:
                os.replace(tmp, target)
        except BaseException:
            for tmp, _ in pending:
                Path(tmp).unlink(missing_ok=True)
            raise
    return [target for _, target in pending]


def write_set(out_dir: Path, set_name: str, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` into ``out_dir`` as one set that readers see whole, old or new.

    The files go into a fresh directory ``out_dir/.govpost/<set_name>/g-…``;
    ``out_dir/<name>`` is a symbolic link to ``.govpost/<set_name>/current/<name>``;
    the set is switched by replacing the link ``current`` (one rename). A file
    already at ``out_dir/<name>`` that is not that link (an earlier govpost, a
    ``govpost compile``) is first moved into the current set unchanged, so no
    reader ever sees a mixture. Files of the current set that ``files`` does not
    replace are carried over into the new one, as a plain write into the folder
    would leave them (the PDF of a ``--no-pdf`` build, a training handbook built
    earlier). Where symbolic links cannot be made, the files are replaced one by
    one (:func:`write_files`).

    Returns:
        The paths of ``files`` in the output folder, in name order.

    Raises:
        OSError: nothing changed for readers; the unfinished set is removed.
    """
    _make_folder(out_dir)
    if not _links_work(out_dir):  # pragma: no cover - symbolic links are refused here (some Windows set-ups)
        return write_files(out_dir, files)
    home = out_dir / SETS / set_name
    with locked(out_dir):
        clean(out_dir)
        home.mkdir(parents=True, exist_ok=True)
        previous = _current(home)
        generation = _fresh(home)
        try:
            names = set(files)
            for name, data in files.items():
                _write_in(generation, name, data, _mode(out_dir / name))
            for old in sorted(previous.iterdir()) if previous is not None else ():
                if old.name not in names and not old.name.startswith(".") and old.is_file():
                    _carry(old, generation / old.name)
                    names.add(old.name)
            _fsync_dir(generation)
            for name in sorted(names):
                _stable_link(out_dir, home, set_name, name)
            _point(home, generation.name)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        # INVARIANT: `current` names the new generation; the old one is no one's any more.
        _clean_generations(home)
    return [out_dir / name for name in sorted(files)]


def _links_work(folder: Path) -> bool:
    if not hasattr(os, "symlink"):  # pragma: no cover
        return False
    probe = folder / f".govpost-probe.{os.getpid()}.link"
    try:
        os.symlink("probe", probe)
    except (OSError, NotImplementedError):  # pragma: no cover
        return False
    probe.unlink()
    return True


def _fresh(home: Path) -> Path:
    """A new, empty generation folder, readable as an ordinary folder is (mkdtemp makes it private)."""
    folder = Path(tempfile.mkdtemp(prefix="g-", dir=home))
    os.chmod(folder, 0o777 & ~_umask())
    return folder


def _current(home: Path) -> Path | None:
    try:
        target = os.readlink(home / _CURRENT)
    except OSError:
        return None
    folder = home / target
    return folder if folder.is_dir() else None


def _write_in(folder: Path, name: str, data: bytes, mode: int) -> None:
    path = folder / name
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, mode)


def _carry(source: Path, target: Path) -> None:
    """``source`` into another generation: a hard link if the file system makes one, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _point(home: Path, generation: str) -> None:
    """Switch the set: replace the link ``current`` with one to ``generation``, in one rename."""
    tmp = home / f".{_CURRENT}.{os.urandom(4).hex()}.link"
    os.symlink(generation, tmp)
    try:
        os.replace(tmp, home / _CURRENT)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(home)


def _stable_link(out_dir: Path, home: Path, set_name: str, name: str) -> None:
    """Make ``out_dir/name`` the link through ``current``, without changing what a reader of it sees."""
    link = out_dir / name
    wanted = f"{SETS}/{set_name}/{_CURRENT}/{name}"
    with contextlib.suppress(OSError):
        if os.readlink(link) == wanted:
            return
    if link.is_file():
        # Adopt the file that is there: the current set holds it first, so the link shows the same bytes.
        current = _current(home)
        if current is None:
            current = _fresh(home)
            _point(home, current.name)
        held = current / f".{name}.{os.urandom(4).hex()}.tmp"
        _carry(link, held)
        os.replace(held, current / name)
    tmp = out_dir / f".{name}.{os.urandom(4).hex()}.link"
    os.symlink(wanted, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class AtomicStream:
    """A file written a piece at a time that replaces its target only when :meth:`commit` is called.

    Until then the target keeps its old content; :meth:`abort` (or leaving
    the ``with`` block with an exception) throws the new content away. The
    temporary file is locked while it is written, so a writer cleaning the
    folder leaves it alone.
    """

    def __init__(self, path: Path):
        self.path = path
        folder = path.parent
        with locked(folder):
            clean(folder)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
            if fcntl is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_EX)
        self.tmp = tmp
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self.done = False

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def commit(self) -> None:
        """Flush the file to disk and move it into place."""
        if self.done:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            os.chmod(self.tmp, _mode(self.path))
            with locked(self.path.parent):
                os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self.done = True
        self.file.close()

    def abort(self) -> None:
        """Forget the new content; the target is left as it was."""
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):
            self.file.close()
        Path(self.tmp).unlink(missing_ok=True)

    def __enter__(self) -> AtomicStream:
        return self

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def open_stream(path: Path) -> AtomicStream:
    """An :class:`AtomicStream` to ``path`` (its folder must exist).

    Raises:
        OSError: the temporary file cannot be made.
    """
    return AtomicStream(path)
