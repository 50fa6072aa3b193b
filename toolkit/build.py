"""The build: one ``.policy`` file → ``<id>.pdf``, ``<id>.html`` and ``<id>.rules.json``.

::

    check → compile → run the examples → compare (compare_with) → view-model → HTML → PDF → write

Every artefact is made in memory first; only then are they written, as one
set (:func:`toolkit.atomic.write_set`): into a fresh directory, switched in
one rename, under a lock on the output folder. A build that fails at any
step (a failing example, a template error, a full disk, a kill) leaves the
outputs of the previous build as they were, and readers never see a
mixture of two builds.

Output is reproducible: dates come from the policy (``issued``) and from
``SOURCE_DATE_EPOCH`` when it is set, never from the clock, so two builds
of the same sources give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import sys
import threading
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, api, document, htmlfonts, render
from .atomic import write_set
from .diagnostics import Diagnostic
from .rules import dumps

#: The stable codes of the build's own errors (a policy's errors keep their S/P/I codes).
#: A code never changes meaning; ``docs/circulars.md`` lists them with their exit codes.
BUILD_CODES: dict[str, str] = {
    "B601": "the policy has errors",
    "B602": "examples fail",
    "B603": "the policy named by compare_with cannot be used",
    "B604": "the template cannot be used",
    "B605": "invalid SOURCE_DATE_EPOCH",
    "B606": "the output cannot be written",
    "B607": "the PDF renderer is not available",
    "B608": "the template has no wording in a declared language",
    "B699": "a bundled template is broken",
}

#: The exit code of each kind of failure (see :mod:`toolkit.cli.app`).
_KIND_OF = {"B602": "failing", "B699": "internal"}


class BuildError(Exception):
    """A build that cannot go on; nothing was written.

    ``code`` is one of :data:`BUILD_CODES`; ``kind`` says which exit code the
    command line gives: ``invalid`` (2: the policy, its comparator, a custom
    template, the environment or the output folder is wrong), ``failing``
    (1: an example fails) or ``internal`` (3: a bundled template is broken, a
    bug).
    """

    def __init__(self, code: str, message: str, diagnostics: list[Diagnostic] | None = None,
                 report: Any = None):
        assert code in BUILD_CODES, code
        super().__init__(message)
        self.code = code
        self.kind = _KIND_OF.get(code, "invalid")
        self.message = message
        self.diagnostics = diagnostics or []
        self.report = report


@dataclass(frozen=True)
class BuildOptions:
    """What to build and where: keyword-only, with the command line's defaults."""

    out_dir: Path = Path("output")
    template: str | None = None  # "india", "uk", a directory, or None for the policy's default
    pdf_variant: str = render.PDF_VARIANTS[0]
    pdf: bool = True
    training: bool = False  # also the training handbook: <id>-training.pdf and .html


@dataclass
class BuildResult:
    policy_id: str
    template: render.Template
    outputs: list[Path]
    pages: int | None
    warnings: list[Diagnostic]
    report: Any
    compared_with: str | None
    renderer_messages: list[str] = field(default_factory=list)
    refused_urls: list[str] = field(default_factory=list)


def source_date() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as a UTC date and time, or ``None`` when it is not set.

    Raises:
        BuildError: the variable is set but is not a whole number of seconds.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise BuildError("B605", f"SOURCE_DATE_EPOCH must be a number of seconds, not `{value}`") from None


def _check_india_wording(doc: dict[str, Any]) -> None:
    """The `india` template prints its own wording and the issuing government in both languages.

    Raises:
        BuildError: B608, naming the language or the translation that is missing.
    """
    languages = [lang["code"] for lang in doc["languages"]]
    second = languages[1] if len(languages) > 1 else None
    if second is not None and doc["wording"] is None:
        known = ", ".join(f"`{code}` ({document.LANGUAGE_NAMES[code][0]})" for code in document.WORDING)
        raise BuildError("B608", f"the `india` template has no wording in `{second}` (CIRCULAR, the outcomes, the "
                                 f"headings); it has {known}: declare one of them second in `languages`, or build "
                                 "with a template of your own (--template DIR)")
    government = doc["government"]
    if government is None:
        raise BuildError("B608", f"the issuing government of `{doc['jurisdiction']}` is not given: add "
                                 f"`government \"Government of {doc['jurisdiction']}\"` to the `policy` header, "
                                 + (f"with its `@{second}` name" if second else "")
                                 + " (only the Government of India is known without it)")
    if government["missing"]:
        lang = government["missing"][0]
        raise BuildError("B608", f"`government` `{government['text']}` has no `@{lang}` name; the `india` "
                                 f"template prints the issuing government in every declared language: add "
                                 f"`@{lang} \"…\"` to `government` in the header")


def build_artifacts(policy_path: str | Path, options: BuildOptions) -> tuple[dict[str, bytes], BuildResult]:
    """Everything a build writes, in memory, with its report. Writes nothing.

    Raises:
        BuildError: invalid input, failing examples, or a broken template.
    """
    from .testing import run_examples

    policy_path = Path(policy_path)
    result = api.check_file(policy_path)
    if not result.ok or result.policy is None:
        raise BuildError("B601", "the policy has errors; fix them first", result.diagnostics)
    policy = result.policy
    try:
        template = render.resolve_template(options.template, kind=policy.meta.kind)
    except render.RenderError as exc:
        raise BuildError("B604", str(exc)) from None
    ruleset = api.compile_result(result)
    report = run_examples(ruleset)
    if report.failed:
        # INVARIANT: the illustrative cases annex prints only outcomes the checker confirms.
        raise BuildError("B602", f"{report.failed} of {len(report.results)} examples fail; "
                                "a circular whose examples fail is not built", result.warnings, report)

    comparison = None
    compared_with = None
    if policy.meta.compare_with:
        other_path = policy_path.parent / policy.meta.compare_with
        # In a fresh process, load WeasyPrint on this core while the other decides the comparison.
        side = _comparison_on_the_side if options.pdf and _can_overlap() else _comparison_here
        errors, compared_with, comparison = side(result.content_hash, ruleset, other_path, result.root)
        if errors is not None:
            raise BuildError("B603", f"`compare_with` names `{policy.meta.compare_with}`, which cannot be used: "
                                    "it has errors or cannot be read", errors)

    modified = source_date()
    view = document.circular_view(policy, content_hash=result.content_hash, ruleset=ruleset, report=report,
                                  comparison=comparison, generator=f"govpost {__version__}", modified=modified)
    if template.builtin and template.name == "india":
        _check_india_wording(view["document"])
    try:
        html = render.render_html(view, template)
    except render.RenderError as exc:
        raise BuildError("B699" if template.builtin else "B604", str(exc)) from None

    rules_text = dumps(ruleset)
    # The HTML file carries the fonts it uses (the PDF gets them from fonts.css): read anywhere, it shows
    # its Hindi. Subsetting them takes a second or two, made on the side while the PDF is drawn.
    fonts = _fonts_on_the_side(html) if options.pdf else (lambda: htmlfonts.font_face_css(html))
    files = {f"{policy.id}.rules.json": rules_text.encode("utf-8")}
    pages = None
    messages: list[str] = []
    refused: list[str] = []
    if options.pdf:
        attached = render.PdfAttachment(
            name=f"{policy.id}.rules.json",
            data=rules_text.encode("utf-8"),
            description=f"The compiled rule set of {policy.id} (govpost.rules, version {ruleset['version']})",
        )
        try:
            pdf = render.render_pdf(html, template, variant=options.pdf_variant, attachments=[attached],
                                    attachment_date=_issued_instant(policy) or modified)
        except render.RendererMissing as exc:
            fonts()  # the child that makes the fonts is waited for, whatever happens
            raise BuildError("B607", str(exc)) from None
        except BaseException:
            fonts()
            raise
        files[f"{policy.id}.pdf"] = pdf.data
        pages, messages, refused = pdf.pages, pdf.messages, pdf.refused
    files[f"{policy.id}.html"] = htmlfonts.embed(html, css=fonts()).encode("utf-8")
    if options.training:
        files.update(_training(policy.id, ruleset, view, options, attached if options.pdf else None, policy, modified,
                               messages, refused))
    built = BuildResult(policy.id, template, [options.out_dir / name for name in sorted(files)], pages,
                        result.warnings, report, compared_with, messages, refused)
    return files, built


def _training(policy_id: str, ruleset: dict[str, Any], view: dict[str, Any], options: BuildOptions,
              attached: Any, policy: Any, modified: dt.datetime | None, messages: list[str],
              refused: list[str]) -> dict[str, bytes]:
    """The training handbook (toolkit.training): every worked example a question, the checker's verdict its answer."""
    from .resources import templates_dir
    from .training import training_view

    data = {"generator": view["generator"], "document": view["document"],
            "training": training_view(ruleset, api.checker(ruleset), view)}
    template = render.Template("training", templates_dir() / "training", True)
    try:
        html = render.render_html(data, template)
    except render.RenderError as exc:
        raise BuildError("B699", str(exc)) from None
    out = {f"{policy_id}-training.html": htmlfonts.embed(html).encode("utf-8")}
    if options.pdf:
        pdf = render.render_pdf(html, template, variant=options.pdf_variant, attachments=[attached] if attached else [],
                                attachment_date=_issued_instant(policy) or modified)
        out[f"{policy_id}-training.pdf"] = pdf.data
        messages.extend(pdf.messages)
        refused.extend(pdf.refused)
    return out


def build(policy_path: str | Path, options: BuildOptions | None = None) -> BuildResult:
    """Build a policy's circular (PDF), its HTML and its rule set, and write them atomically.

    Raises:
        BuildError: nothing was written; the previous outputs are untouched.
    """
    options = options or BuildOptions()
    files, result = build_artifacts(policy_path, options)
    try:
        # One set: readers see the previous circular or this one, never a mixture (toolkit.atomic).
        write_set(options.out_dir, result.policy_id, files)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise BuildError("B606", f"cannot write to `{options.out_dir}`: {exc.strerror or exc}{where}") from None
    return result


#: Comparisons already computed in this process, by the content hashes of the two policies.
#: Deciding a comparison runs the solver on every topic; a second build of the same sources
#: (a test, a benchmark, a watch loop) reuses it.
_COMPARISONS: dict[tuple[str, str], Any] = {}


def _compare(hash_a: str, ruleset_a: dict[str, Any], hash_b: str, ruleset_b: dict[str, Any]) -> Any:
    from .compare import compare_rulesets

    key = (hash_a, hash_b)
    if key not in _COMPARISONS:
        if len(_COMPARISONS) >= 16:
            _COMPARISONS.clear()
        _COMPARISONS[key] = compare_rulesets(ruleset_a, ruleset_b)
    return _COMPARISONS[key]


def _comparison_here(hash_a: str, ruleset_a: dict[str, Any], other_path: Path,
                     root: Path | None = None) -> tuple[Any, str | None, Any]:
    """``(errors, other policy id, comparison)``: errors (diagnostics) when the other policy cannot be used.

    The other policy is read as an included file is: a regular file inside this policy's root.
    """
    from .load import FileReader

    other = api.check_file(other_path, FileReader(root, regular_only=True))
    if not other.ok:
        return other.errors, None, None
    other_rs = api.compile_result(other)
    comparison = _compare(hash_a, ruleset_a, other.content_hash, other_rs)
    return None, other_rs["policy"]["id"], comparison


def _can_overlap() -> bool:
    """Whether the comparison can run in a forked process while this one loads the PDF renderer.

    Only worth it when WeasyPrint is not loaded yet (a fresh ``govpost build``), and only safe
    with ``fork`` on Linux from a process with a single thread.
    """
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
            and not render.renderer_loaded())


def _comparison_on_the_side(hash_a: str, ruleset_a: dict[str, Any], other_path: Path,
                            root: Path | None = None) -> tuple[Any, str | None, Any]:
    """:func:`_comparison_here` in a forked child, while this process imports WeasyPrint (2 cores).

    Checking, compiling and comparing the other policy (0.3-0.45 s) and importing WeasyPrint
    (about 0.25 s) are independent; a fresh build does both at once. The child sends its answer
    back pickled; if it fails in any way, the comparison is simply made here, so the result,
    and any error, is the same as without the overlap.
    """
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return _comparison_here(hash_a, ruleset_a, other_path, root)
    if pid == 0:  # the child: compute, send, and leave without running any of the parent's exit code
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(_comparison_here(hash_a, ruleset_a, other_path, root), pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    render.preload_renderer()
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return _comparison_here(hash_a, ruleset_a, other_path, root)
    answer: tuple[Any, str | None, Any] = pickle.loads(data)
    return answer


def _fonts_on_the_side(html: str) -> Callable[[], str]:
    """The embedded fonts of a page (:func:`toolkit.htmlfonts.font_face_css`), made in a forked child.

    Returns a function that gives the CSS: the child's answer, read once the caller has drawn the
    PDF (the two are independent, and fontTools and WeasyPrint each keep a core busy), or, if
    there is no child or it fails in any way, the CSS made here. Either way the bytes are the same.
    """
    if not (sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1):
        return lambda: htmlfonts.font_face_css(html)
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return lambda: htmlfonts.font_face_css(html)
    if pid == 0:  # the child: compute, send, and leave without running any of the parent's exit code
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(htmlfonts.font_face_css(html).encode("utf-8"))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)

    def answer() -> str:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            return htmlfonts.font_face_css(html)
        return data.decode("utf-8")

    return answer


def _issued_instant(policy: Any) -> dt.datetime | None:
    issued = policy.meta.issued
    if issued is None:
        return None
    local = dt.datetime.combine(issued, dt.time(0, 0), tzinfo=zoneinfo.ZoneInfo(policy.meta.timezone))
    return local.astimezone(dt.UTC)
