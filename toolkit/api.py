"""The public API: every stage of the pipeline, composed.

``text → parse tree → model → { rule set → checker | … }``. This is the
only module that chains stages; the command line is a thin layer over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
                       loaded.sources, loaded.comments)


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
                       loaded.sources, loaded.comments)


def compile_result(result: CheckResult) -> dict[str, Any]:
    """The rule set of a policy that passed its checks."""
    from .compiler import compile_policy

    if result.policy is None:
        raise ValueError("the policy has errors; it cannot be compiled")
    return compile_policy(result.policy, content_hash=result.content_hash, generator=f"govpost {__version__}")


def load_rules(path: str | Path) -> dict[str, Any]:
    """Read a compiled rule set (``*.rules.json``); needs no parser."""
    from .rules import load

    return load(path)


def checker(ruleset: dict[str, Any]) -> Any:
    """A :class:`toolkit.evaluate.Checker` for a rule set."""
    from .evaluate import Checker

    return Checker(ruleset)
