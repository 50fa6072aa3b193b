"""The `govpost` command line (the only part of govpost that imports click).

Exit codes, the same for every command:

====  ==========================================================
0     success: valid, passing, nothing at the fail level
1     findings: a post at the fail level, a failing example, …
2     invalid input: syntax or semantic errors, unreadable files, bad records
3     internal error (a bug in govpost: please report it)
====  ==========================================================
"""

from __future__ import annotations

from . import build, check, diff, fmt, lint, lsp, policy, report, serve  # noqa: F401  (importing registers the commands)
from .app import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, cli, main

__all__ = ["EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_OK", "cli", "main"]
