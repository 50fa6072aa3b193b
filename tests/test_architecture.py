"""The one-way data flow, enforced: which modules may import what.

text → syntax → lower → model → { check → compiler → rules → evaluate | … }.
Only the parsing modules import lark, only the CLI imports click, and the
checker runs from the compiled rule set alone.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"
MODULES = sorted(str(p.relative_to(PACKAGE).with_suffix("")) for p in PACKAGE.rglob("*.py"))


def imports_of(module: str) -> set[str]:
    """Top-level names a module imports: third-party roots and toolkit modules (as `.name`)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    depth = module.count("/")
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level > depth + 1:
                continue
            if node.level:
                if node.level > 1 and not node.module:
                    out.update("." + alias.name for alias in node.names)
                elif node.module:
                    out.add("." + node.module.split(".")[0])
                else:
                    out.update("." + alias.name for alias in node.names)
            elif node.module:
                out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("module", MODULES)
def test_only_parsing_modules_import_lark(module: str) -> None:
    if module in ("syntax", "lower"):
        return
    assert "lark" not in imports_of(module)


@pytest.mark.parametrize("module", MODULES)
def test_only_the_cli_imports_click(module: str) -> None:
    if module.startswith("cli/"):
        return
    assert "click" not in imports_of(module)


@pytest.mark.parametrize("module", MODULES)
def test_only_rendering_and_the_web_application_import_jinja(module: str) -> None:
    if module.startswith("render"):
        return
    if module.startswith("web/"):
        # The web application renders its pages with Jinja2, but never lays out PDFs.
        assert "weasyprint" not in imports_of(module)
        return
    assert not {"jinja2", "weasyprint"} & imports_of(module)


@pytest.mark.parametrize("module", MODULES)
def test_only_the_terminal_module_imports_rich(module: str) -> None:
    # One place decides about colour and draws tables and progress (toolkit/terminal.py).
    if module == "terminal":
        return
    assert "rich" not in imports_of(module)


# The web application's framework, server and database layer: only toolkit/web/ imports them.
WEB_LIBRARIES = {"starlette", "uvicorn", "sqlalchemy", "alembic", "argon2", "psycopg", "multipart", "httpx"}


@pytest.mark.parametrize("module", MODULES)
def test_only_the_web_package_imports_the_web_framework_and_database(module: str) -> None:
    if module.startswith("web/"):
        assert "click" not in imports_of(module)
        return
    assert not WEB_LIBRARIES & imports_of(module), module
    if not module.startswith("cli/"):
        # Only the command line starts the web application (and only inside `govpost serve`).
        assert ".web" not in imports_of(module), module


# The checker's side of the pipeline: nothing here may reach the parser or the model.
CHECKER_SIDE = ("evaluate", "rules", "posts", "postschema", "text", "testing", "batch", "inputs",
                "summary", "dask_engine")
UPSTREAM = {".syntax", ".lower", ".load", ".metadata", ".model", ".check", ".compiler", ".printer", ".api", ".cli"}


@pytest.mark.parametrize("module", CHECKER_SIDE)
def test_checker_side_never_imports_the_front_end(module: str) -> None:
    assert not imports_of(module) & UPSTREAM


@pytest.mark.parametrize("module", CHECKER_SIDE)
def test_checker_side_never_imports_the_web_application(module: str) -> None:
    assert not imports_of(module) & ({".web", "jinja2"} | WEB_LIBRARIES)


def test_checking_from_a_rule_set_loads_no_parser(tmp_path: Path) -> None:
    from toolkit import api
    from toolkit.rules import dumps

    policy = tmp_path / "p.policy"
    policy.write_text(
        'policy p { title "P" }\n'
        'topic t "T"\n'
        'lexicon w { "forbidden word" }\n'
        'section s "S" { clause c "C" { topic t text "No." outcome prohibited when text mentions w } }\n',
        encoding="utf-8",
    )
    rules = tmp_path / "p.rules.json"
    rules.write_text(dumps(api.compile_result(api.check_file(policy))), encoding="utf-8")
    code = (
        "import sys, json\n"
        "from toolkit.rules import load\n"
        "from toolkit.evaluate import Checker\n"
        f"rs = load({str(rules)!r})\n"
        "v, _ = Checker(rs).check({'text': 'a Forbidden-Word here'})\n"
        "assert v.outcome == 'prohibited', v\n"
        "assert 'lark' not in sys.modules, 'the checker imported lark'\n"
        "assert 'toolkit.model' not in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
