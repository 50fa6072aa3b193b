"""Shared fixtures and the ``--update-goldens`` option.

Golden files hold the expected output of each stage (model dump, rule set,
verdicts, diagnostics). A test compares what the code produces with its
golden; ``pytest --update-goldens`` rewrites the goldens instead, after which
``git diff`` shows exactly what changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property tests stay fast by default; `pytest --hypothesis-profile=thorough` searches harder.
settings.register_profile("default", max_examples=100)
settings.register_profile("thorough", max_examples=3000)
settings.load_profile("default")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite the golden files under tests/fixtures with the current output instead of comparing.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


Golden = Callable[[Path, str], None]


@pytest.fixture
def golden(update_goldens: bool) -> Golden:
    """``golden(path, actual)``: compare ``actual`` with the file, or rewrite the file with it."""

    def check(path: Path, actual: str) -> None:
        if update_goldens:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != actual:
                path.write_text(actual, encoding="utf-8", newline="\n")
            return
        if not path.exists():
            pytest.fail(f"golden file {path.name} is missing; run pytest --update-goldens to create it")
        expected = path.read_text(encoding="utf-8")
        if expected != actual:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    fromfile=f"{path.name} (golden)",
                    tofile=f"{path.name} (actual)",
                )
            )
            pytest.fail(f"output differs from {path.name}; if the change is intended, run "
                        f"pytest --update-goldens\n{diff}", pytrace=False)

    return check


@pytest.fixture
def runner() -> CliRunner:
    """A click runner with colour off, whatever the environment says."""
    return CliRunner(env={"NO_COLOR": "1", "FORCE_COLOR": None, "GOVPOST_DEBUG": None})
