"""Writing output files atomically: a reader sees the old file or the new one, never a half.

One helper for every command that writes an artefact (``compile``, ``diff
-o``, ``build``): each file is written to a temporary file beside its target,
flushed to disk, given the mode an ordinary write would give it, and moved
into place with :func:`os.replace`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


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


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write several files into ``out_dir`` together: all are replaced, or none is.

    Every file is first written in full to a temporary file in ``out_dir``;
    only when all are written are they moved into place, in name order. On
    an error before that point the temporary files are removed and the
    targets are left as they were.

    Returns:
        The paths written, in name order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[str, Path]] = []
    try:
        for name, data in sorted(files.items()):
            target = out_dir / name
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
            pending.append((tmp, target))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, _mode(target))  # mkstemp makes files private; outputs are ordinary files
        for tmp, target in pending:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in pending:
            Path(tmp).unlink(missing_ok=True)
        raise
    return [target for _, target in pending]


def write_file(path: Path, data: bytes) -> Path:
    """Write one file atomically (see :func:`write_files`)."""
    return write_files(path.parent, {path.name: data})[0]
