"""View-model → HTML (Jinja2) → PDF (WeasyPrint).

The only module that imports Jinja2 and WeasyPrint (``tests/test_architecture.py``
checks it); WeasyPrint is imported inside :func:`render_pdf`, so that the
rest of govpost, and ``govpost build --no-pdf``, never load it.

Templates get the plain data of :mod:`toolkit.document`. The environment is
strict: every ``{{ … }}`` is HTML-escaped (text from a policy can never
become markup) and a name a template uses but the data lacks is an error,
never an empty string. It is Jinja2's sandbox, so a template from elsewhere
cannot reach Python (no ``__globals__``, no ``os``, no file or process), and
its loader reads only files that lie inside the template folders once every
symbolic link is resolved (:class:`ConfinedLoader`).

Rendering fetches nothing from the network and no file outside the template
directory: :class:`LocalFetcher` serves ``file:`` URLs inside the allowed
folders and refuses everything else, whatever a policy or a template says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import mimetypes
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import jinja2.sandbox
from jinja2.loaders import split_template_path

from .resources import templates_dir

#: The built-in templates, by name.
BUILTIN_TEMPLATES = ("india", "uk")
#: The file a template directory must contain: the document's entry point.
ENTRY = "document.html"
#: The PDF variants ``govpost build --pdf-variant`` offers; the first is the default.
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3b")

# The folders of the bundled templates that every template may use: shared
# macros and print CSS (``shared/``) and the fonts (``fonts/``).
_SHARED = "shared"
_FONTS = "fonts"


class RenderError(Exception):
    """A template that cannot be rendered: a syntax error, a missing name, a missing file."""


class RendererMissing(Exception):
    """WeasyPrint (or a system library it needs) cannot be loaded."""


@dataclass(frozen=True)
class Template:
    """A template directory and the folders it may read from."""

    name: str
    directory: Path
    builtin: bool

    @property
    def search_path(self) -> list[Path]:
        """Where Jinja looks for templates: the directory itself, then the shared macros and CSS."""
        return [self.directory, templates_dir() / _SHARED]

    @property
    def allowed_roots(self) -> list[Path]:
        """The only folders the PDF renderer may read files from."""
        root = templates_dir()
        return [self.directory.resolve(), (root / _SHARED).resolve(), (root / _FONTS).resolve()]


def default_template_name(kind: str) -> str:
    """The template a policy gets when none is chosen: ``uk`` for guidance, ``india`` otherwise."""
    return "uk" if kind == "guidance" else "india"


def resolve_template(spec: str | Path | None, *, kind: str = "circular") -> Template:
    """The template named ``india`` or ``uk``, or a directory of one's own.

    Raises:
        RenderError: the directory does not exist or has no ``document.html``.
    """
    if spec is None:
        spec = default_template_name(kind)
    text = str(spec)
    if text in BUILTIN_TEMPLATES:
        return Template(text, templates_dir() / text, True)
    directory = Path(text)
    if not directory.is_dir():
        raise RenderError(f"template `{text}` is neither {' nor '.join(BUILTIN_TEMPLATES)} nor a directory")
    if not (directory / ENTRY).is_file():
        raise RenderError(f"template directory `{text}` has no `{ENTRY}`")
    return Template(directory.name or text, directory.resolve(), False)


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


class TemplateOutside(jinja2.TemplateError):
    """A template file that resolves outside the folders templates are read from (a symbolic link out)."""


class ConfinedLoader(jinja2.FileSystemLoader):
    """Jinja2's file loader, refusing every template file that is not inside its folders.

    A name is looked up in each folder in turn, as :class:`jinja2.FileSystemLoader`
    does (Jinja2 already refuses ``..`` in names); the file found is then resolved,
    symbolic links included, and read only if it still lies inside that folder.
    The file read is the resolved one, so a link changed after the check cannot
    lead elsewhere.
    """

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        pieces = split_template_path(template)
        for folder in self.searchpath:
            candidate = os.path.join(folder, *pieces)
            if not os.path.lexists(candidate):
                continue
            root = os.path.realpath(folder)
            real = os.path.realpath(candidate)
            if os.path.commonpath([root, real]) != root:
                raise TemplateOutside(f"`{template}` is a link to a file outside the template folder")
            if not os.path.isfile(real):
                continue
            with open(real, "rb") as fh:
                contents = fh.read().decode(self.encoding)
            mtime = os.path.getmtime(real)

            def uptodate(real: str = real, mtime: float = mtime) -> bool:
                return os.path.exists(real) and os.path.getmtime(real) == mtime

            return contents, real, uptodate
        raise jinja2.TemplateNotFound(template)


def environment(template: Template) -> jinja2.Environment:
    """The Jinja2 environment for a template directory: sandboxed, autoescaped, strict about undefined names.

    Every template, bundled or not, runs in Jinja2's immutable sandbox: attributes
    that lead to Python internals (``__class__``, ``__globals__``, ``mro``…) are
    refused, and the data cannot be changed while it is rendered.
    """
    return jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=ConfinedLoader([str(p) for p in template.search_path]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(view: dict[str, Any], template: Template) -> str:
    """The document as one HTML file (its CSS inline, nothing else referenced).

    Raises:
        RenderError: naming the template file and line, e.g. a variable the data does not have.
    """
    env = environment(template)
    try:
        html = env.get_template(ENTRY).render(**view)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template `{exc.filename or exc.name}` line {exc.lineno}: {exc.message}") from None
    except TemplateOutside as exc:
        raise RenderError(f"template `{template.name}`: {exc.message}; templates are read only from "
                          f"`{template.directory}` and the shared templates") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template `{template.name}` includes `{exc.name}`, which does not exist") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{_where(exc, template)}: {exc.message}") from None
    except jinja2.sandbox.SecurityError as exc:
        message = str(exc).rstrip(".")
        raise RenderError(f"{_where(exc, template)}: the sandbox refused it: {message}") from None
    except jinja2.TemplateError as exc:  # pragma: no cover - other template errors
        raise RenderError(f"{_where(exc, template)}: {exc}") from None
    # Whitespace left by template logic carries no meaning; a stable form keeps goldens readable.
    return re.sub(r"[ \t]+\n", "\n", html)


def _where(exc: BaseException, template: Template) -> str:
    """``template `document.html` line 12``, from the traceback Jinja rewrites to template lines."""
    tb = exc.__traceback__
    place = f"template `{template.name}`"
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith((".html", ".css", ".j2", ".jinja")):
            place = f"template `{Path(name).name}` line {tb.tb_lineno}"
        tb = tb.tb_next
    return place


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


@dataclass
class PdfAttachment:
    """A file embedded in the PDF (the compiled rule set)."""

    name: str
    data: bytes
    description: str
    relationship: str = "Alternative"


@dataclass
class PdfResult:
    data: bytes
    pages: int
    fetched: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def local_path(url: str, roots: Sequence[Path]) -> Path | None:
    """The file a URL names, if it is a ``file:`` URL to an existing file inside one of ``roots``.

    Symbolic links and ``..`` are resolved first, so neither can lead outside.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_file():
        return None
    if any(path.is_relative_to(root) for root in roots):
        return path
    return None


def render_pdf(
    html: str,
    template: Template,
    *,
    variant: str = PDF_VARIANTS[0],
    attachments: Sequence[PdfAttachment] = (),
    attachment_date: dt.datetime | None = None,
) -> PdfResult:
    """Lay the HTML out in pages and write a PDF.

    Args:
        html: the document, as :func:`render_html` made it.
        template: the template it came from; relative URLs resolve in its directory.
        variant: one of :data:`PDF_VARIANTS`. ``pdf/ua-1`` is tagged and accessible;
            ``pdf/a-3b`` is archival (and tagged as well).
        attachments: files to embed (kept by both variants).
        attachment_date: the creation date recorded for attachments; never the clock.

    Returns:
        The PDF bytes, its page count, and the URLs fetched and refused.
    """
    with without_cyclic_gc():
        return _render_pdf(html, template, variant=variant, attachments=attachments,
                           attachment_date=attachment_date)


def renderer_loaded() -> bool:
    """Whether WeasyPrint is already imported in this process."""
    return "weasyprint" in sys.modules


def preload_renderer() -> bool:
    """Import WeasyPrint now (about half a second), so that a later :func:`render_pdf` does not wait for it.

    Returns whether it loaded; a failure is reported by :func:`render_pdf`, not here.
    """
    with without_cyclic_gc():
        try:
            _import_weasyprint()
        except (ImportError, OSError):
            return False
    return True


def _import_weasyprint() -> Any:
    """The ``weasyprint`` module, imported with the quick library lookup, or else the ordinary one.

    A library that only the ordinary lookup finds (through a compiler's search path, say)
    costs the import its half second but is still found.
    """
    from .render_fonts import quiet_import

    try:
        with _quick_library_lookup(), quiet_import():
            import weasyprint
            import weasyprint.text.fonts
            import weasyprint.urls
    except (ImportError, OSError):
        with quiet_import():
            import weasyprint
            import weasyprint.text.fonts
            import weasyprint.urls
    return weasyprint


@contextlib.contextmanager
def _quick_library_lookup() -> Iterator[None]:
    """While WeasyPrint is first imported, ``ctypes.util.find_library`` asks only the ``ldconfig`` cache.

    WeasyPrint opens Pango, HarfBuzz, fontconfig and GObject by trying several names each
    (``libpango-1.0-0``, ``pango-1.0-0``, ``pango-1.0``, ``libpango-1.0.so.0``, … for
    Linux, macOS and Windows). For every name that ``dlopen`` cannot open directly, cffi
    calls ``find_library``, which on Linux runs ``ldconfig -p`` and then, for a name it
    does not know, a C compiler and the linker. On a machine with gcc installed these
    misses took 0.24 s of the 0.5 s import (22 lookups). The names that ``ldconfig``
    resolves resolve exactly as before; the compiler and linker fallbacks only find
    libraries outside the loader cache (``LD_LIBRARY_PATH``), and those WeasyPrint opens
    anyway by their sonames (``libpango-1.0.so.0``), which ``dlopen`` searches there.
    """
    import ctypes.util

    from_cache = getattr(ctypes.util, "_findSoname_ldconfig", None)
    if not sys.platform.startswith("linux") or from_cache is None or renderer_loaded():
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = from_cache
    try:
        yield
    finally:
        ctypes.util.find_library = original


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (reference counting still frees memory).

    WeasyPrint allocates hundreds of thousands of long-lived objects (boxes, styles, PDF
    objects); each generation-2 collection walks all of them and finds next to nothing
    to free, and together they cost about an eighth of a build's PDF time. Peak memory
    is the same within a few megabytes. The collector is restored as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _render_pdf(html: str, template: Template, *, variant: str, attachments: Sequence[PdfAttachment],
                attachment_date: dt.datetime | None) -> PdfResult:
    try:
        weasyprint = _import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        from . import render_fonts
    except (ImportError, OSError) as exc:  # OSError: Pango or HarfBuzz missing from the system
        raise RendererMissing(f"WeasyPrint cannot be loaded ({exc}); install govpost's dependencies, "
                              "or build with --no-pdf") from None

    if variant not in PDF_VARIANTS:
        raise ValueError(f"unknown PDF variant `{variant}`; choose one of {', '.join(PDF_VARIANTS)}")
    roots = template.allowed_roots
    fetched: list[str] = []
    refused: list[str] = []

    class LocalFetcher(URLFetcher):  # type: ignore[misc]
        """Serves files inside the template folders; refuses every other URL."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            path = local_path(url, roots)
            if path is None:
                refused.append(url)
                raise ValueError(f"govpost fetches nothing outside the template directory: {url}")
            fetched.append(url)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

    fetcher = LocalFetcher(allowed_protocols=("file",), allow_redirects=False)
    messages: list[str] = []
    handler = _Collect(messages)
    logger = logging.getLogger("weasyprint")
    # WeasyPrint prints to standard error by default; the build reports what it says instead.
    saved = logger.handlers[:]
    logger.handlers = [handler]
    try:
        font_config = FontConfiguration()
        fonts_css = templates_dir() / _FONTS / "fonts.css"
        stylesheets = [weasyprint.CSS(filename=str(fonts_css), url_fetcher=fetcher, font_config=font_config)]
        when = attachment_date or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        embedded = [
            weasyprint.Attachment(string=a.data, name=a.name, description=a.description, created=when,
                                  modified=when, relationship=a.relationship, url_fetcher=fetcher)
            for a in attachments
        ]
        options: dict[str, Any] = {"pdf_variant": variant, "pdf_tags": True, "stylesheets": stylesheets,
                                   "attachments": embedded}
        doc = weasyprint.HTML(string=html, base_url=template.directory.resolve().as_uri() + "/", url_fetcher=fetcher)
        # A text layer that extracts as the source text, and font subsets without the clock in them.
        with render_fonts.text_layer(), render_fonts.reproducible_subsets():
            rendered = doc.render(font_config=font_config, **options)
            with warnings.catch_warnings():
                # For PDF/A, WeasyPrint opens its sRGB profile and leaves the file to the garbage
                # collector; the ResourceWarning that follows says nothing about the document.
                warnings.simplefilter("ignore", ResourceWarning)
                data = rendered.write_pdf(**options)
    finally:
        logger.handlers = saved
    return PdfResult(data, len(rendered.pages), fetched, refused, render_fonts.condense_messages(messages))


class _Collect(logging.Handler):
    """Keeps WeasyPrint's warnings and errors (missing glyphs, refused URLs) for the build report."""

    def __init__(self, sink: list[str]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())
