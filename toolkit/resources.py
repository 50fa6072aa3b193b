"""Where the grammar and templates live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # An installed wheel carries the folders under toolkit/_data/; a checkout
    # (or an editable install) has them at the top of the repository.
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"govpost cannot find its `{name}` folder; reinstall the package")


def grammar_file() -> Path:
    return _find("grammar") / "policy.lark"


def templates_dir() -> Path:
    return _find("templates")


def schemas_dir() -> Path:
    return _find("schemas")
