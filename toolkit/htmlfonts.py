"""The fonts govpost ships, embedded in the HTML files it writes.

A circular, an audit report or a redline is read in a browser on any machine,
and many machines have no Devanagari font: the Hindi text of a page that
names only its font families would show as empty boxes. So every HTML file
govpost writes (``build``'s circular and training handbook, ``report
--format html``, ``diff`` and ``compare --format html``) carries the fonts it
uses, inside itself: :func:`embed` adds one ``<style>`` of ``@font-face``
rules whose sources are ``data:`` URLs, so the page stays one self-contained
file that fetches nothing (docs/security.md).

The families and their files are those of ``templates/fonts/fonts.css``, the
stylesheet the PDF renderer uses, so a page and its PDF are set in the same
faces. A face is embedded only if the page names its family and uses a
character it has, and only with those characters (fontTools' subsetter, all
OpenType layout features kept, so that Devanagari conjuncts and vowel signs
still shape), compressed as WOFF: the AIS circular carries about 0.3 MB of
fonts instead of the 5 MB of the font files.

Same page, same bytes: the subsets keep their source's timestamps, and faces
are written in the order of ``fonts.css``.
"""

from __future__ import annotations

import base64
import functools
import html as html_module
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .resources import templates_dir

#: The ``id`` of the ``<style>`` element :func:`embed` adds.
STYLE_ID = "govpost-fonts"

# Characters every face that has them keeps, whatever the page's text: printable ASCII (CSS
# may generate numbers and punctuation), and what a Devanagari shaper inserts (the dotted
# circle of a mark without its base, the zero-width joiners).
_ALWAYS = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\u00a0", "\u200c", "\u200d", "\u25cc"}

# A page that sets nothing in italic needs no italic face.
_ITALIC = re.compile(r"italic|<(?:em|i|cite|var|dfn|address)\b", re.IGNORECASE)
_FACE = re.compile(r"@font-face\s*\{([^}]*)\}")
_PROPERTY = re.compile(r"([a-z-]+)\s*:\s*([^;]+);?")
_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


@dataclass(frozen=True)
class Face:
    """One ``@font-face`` of ``fonts.css``: a family, its weight and style, and the file."""

    family: str
    weight: str
    style: str
    path: Path


@functools.cache
def faces() -> tuple[Face, ...]:
    """The faces govpost ships, in the order of ``templates/fonts/fonts.css``."""
    folder = templates_dir() / "fonts"
    css = re.sub(r"/\*.*?\*/", "", (folder / "fonts.css").read_text(encoding="utf-8"), flags=re.DOTALL)
    out = []
    for block in _FACE.finditer(css):
        props = {k: v.strip() for k, v in _PROPERTY.findall(block.group(1))}
        url = _URL.search(props.get("src", ""))
        if url is None:
            continue
        out.append(Face(props["font-family"].strip("\"'"), props.get("font-weight", "400"),
                        props.get("font-style", "normal"), folder / url.group(1)))
    return tuple(out)


@functools.cache
def _cmap(path: Path) -> frozenset[str]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return frozenset(chr(c) for c in font.getBestCmap())


@functools.lru_cache(maxsize=64)
def _subset(path: Path, chars: frozenset[str]) -> bytes:
    """The font at ``path`` cut down to ``chars`` (and what shaping them needs), as WOFF.

    WOFF (zlib) rather than WOFF2 (Brotli): a fifth larger, but written in a third of the
    time, and every browser reads it.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]  # every GSUB/GPOS feature: conjuncts, half forms, mark positions
    options.notdef_outline = True  # a character the face lacks still shows as a box
    options.hinting = False  # browsers on screens do not need it; the subsets are a third smaller
    options.name_IDs = ["*"]  # the copyright and licence strings stay with the font (OFL)
    options.name_languages = ["*"]
    options.recalc_timestamp = False
    font = TTFont(str(path), recalcTimestamp=False)
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(ord(c) for c in chars))
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff"
        font.save(out)
    finally:
        font.close()
    return out.getvalue()


def _families_named(page: str) -> set[str]:
    """The font families a page's CSS names (in ``font-family`` and the ``font`` shorthand)."""
    named = set()
    for declaration in re.findall(r"font(?:-family)?\s*:\s*([^;}]+)", page):
        named.update(name.strip().strip("\"'") for name in declaration.split(","))
    return named


def font_face_css(page: str, *, families: Iterable[str] | None = None) -> str:
    """The ``@font-face`` rules (sources as ``data:`` URLs) for the shipped faces a page uses.

    Args:
        page: the HTML (or just its text and CSS).
        families: the families to embed; by default those the page's CSS names.

    Returns:
        CSS text, empty if the page uses none of the shipped faces.
    """
    wanted = set(families) if families is not None else _families_named(page)
    own = frozenset(html_module.unescape(page))
    rules = []
    for face in faces():
        if face.family not in wanted:
            continue
        cmap = _cmap(face.path)
        covered = own & cmap
        if "a" not in cmap and not covered - _ALWAYS:
            continue  # a face for another script or for symbols, none of which the page has
        if face.style == "italic" and not _ITALIC.search(page):
            continue
        used = covered | (_ALWAYS & cmap)
        data = base64.b64encode(_subset(face.path, frozenset(used))).decode("ascii")
        rules.append(f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
                     f"font-style: {face.style}; font-display: block;\n"
                     f'  src: url(data:font/woff;base64,{data}) format("woff"); }}')
    return "\n".join(rules)


def embed(page: str, *, families: Iterable[str] | None = None, css: str | None = None) -> str:
    """``page`` with the shipped faces it uses embedded, in a ``<style id="govpost-fonts">`` at the end of its head.

    A page with no ``</head>`` gets the style at its start; a page that uses no
    shipped face is returned unchanged. ``css``: the rules, if already made by
    :func:`font_face_css` for this page.
    """
    if css is None:
        css = font_face_css(page, families=families)
    if not css:
        return page
    style = f'<style id="{STYLE_ID}">\n/* The fonts govpost ships (SIL Open Font License), subset to this page. */\n' \
            f"{css}\n</style>\n"
    head = re.search(r"</head\s*>", page, re.IGNORECASE)
    if head is None:
        return style + page
    return page[: head.start()] + style + page[head.start():]


def strip_fonts(page: str) -> str:
    """``page`` with every embedded font's data replaced by ``…``: what a golden file compares."""
    return re.sub(r"(data:font/woff;base64,)[A-Za-z0-9+/=]+", r"\1…", page)
