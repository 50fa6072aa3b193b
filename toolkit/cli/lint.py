"""`govpost lint`: drafting problems in policies, by clause number and id."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from .app import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, _color, _print_diagnostics, cli, emit
from .fmt import policy_files


@cli.command(name="lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="text for people, json for tools, sarif for code scanning, "
                                      "github for GitHub Actions annotations.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "note", "never"]), default=None,
              help="Exit 1 when a finding is at this level or above [default: error, or `fail-on` in "
                   "[tool.govpost.lint]].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True),
              help="A pyproject.toml to read [tool.govpost.lint] from [default: the nearest above the "
                   "current directory].")
@click.option("--enable", "enable", multiple=True, metavar="CODE", help="Also run this rule (repeatable; `all`).")
@click.option("--disable", "disable", multiple=True, metavar="CODE", help="Do not run this rule (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--list-rules", is_flag=True, help="Print the rule catalogue and exit.")
def lint_cmd(paths: tuple[str, ...], fmt: str, fail_on: str | None, config_path: str | None,
             enable: tuple[str, ...], disable: tuple[str, ...], output: str | None, list_rules: bool) -> None:
    """Find drafting problems in policies: dead or outranked clauses, missing citations and examples,
    prose that contradicts the outcome, unused declarations, suspicious characters, dates, long sentences.

    PATHS are .policy files or directories (searched recursively; the current
    directory when none is given). Files without a `policy` header are linted
    through the policies that include them.

    A finding is silenced for one clause or declaration with a comment naming
    its code and the reason, on the line before it or inside it:
    `# govpost: ignore L005 -- reason`. Rules, their defaults and options:
    `govpost lint --list-rules` and docs/lint/.

    \b
    Exit codes: 0 nothing at the fail level; 1 a finding at or above
    --fail-on (default: error); 2 a policy is invalid (run `govpost validate`)
    or the configuration is malformed.
    """
    from .. import lint

    try:
        config = lint.load_config(Path(config_path) if config_path else None)
        if enable or disable:
            extra = lint.LintConfig.from_mapping({"enable": list(enable), "disable": list(disable)})
            added = (extra.enabled - lint.LintConfig().enabled) | set(config.enabled)
            removed = lint.LintConfig().enabled - extra.enabled
            config = replace(config, enabled=frozenset(added - removed))
    except lint.ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_INVALID) from None
    if list_rules:
        from ..terminal import table

        rows = [[rule.code, "on" if rule.code in config.enabled else "off", config.severity_of(rule.code), rule.name,
                 rule.rationale] for rule in lint.RULES.values()]
        for line in table(rows, [("code", "left"), ("state", "left"), ("severity", "left"), ("name", "left"),
                                 ("rationale", "left")], header=False, indent=0):
            click.echo(line)
        raise SystemExit(EXIT_OK)

    code = EXIT_OK
    findings: list[lint.Finding] = []
    shown: set[tuple[object, ...]] = set()  # a shared file's problems are reported once, not per policy
    for path in policy_files(paths or (".",)):
        result = lint.lint_file(path, config)
        if not result.linted:
            code = EXIT_INVALID
        reported = [lint.finding_of(d, str(path)) for d in result.diagnostics]
        if fmt == "text" and not result.linted:
            # For people: the errors as `govpost validate` prints them, on standard error.
            fresh = [d for d, f in zip(result.diagnostics, reported, strict=True) if f.key not in shown]
            shown.update(f.key for f in reported)
            if fresh:
                _print_diagnostics(fresh, "text")
            click.echo(f"{path}: not linted: the policy is invalid (see `govpost validate`)", err=True)
            continue
        # Every diagnostic, syntax and semantic too, is a result of the report (SARIF, GitHub, JSON):
        # code scanning must see a broken policy as broken, not as clean.
        findings.extend(reported)
        findings.extend(result.findings)
    findings = lint.unique_findings(findings)

    color = fmt == "text" and output is None and _color(sys.stdout)
    if fmt == "text":
        report = lint.render_text(findings, color=color)
        counts = {s: sum(1 for f in findings if f.severity == s) for s in lint.SEVERITIES}
        summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in reversed(counts.items()) if n)
        report = (report + "\n\n" if report else "") + f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" \
            + (f" ({summary})" if summary else "")
    elif fmt == "json":
        report = lint.render_json(findings)
    elif fmt == "sarif":
        report = lint.render_sarif(findings, config)
    else:
        report = lint.render_github(findings)
    emit(report + "\n" if report else "", output, color)
    if code == EXIT_OK and lint.fails(findings, fail_on or config.fail_on):
        code = EXIT_FINDINGS
    raise SystemExit(code)
