"""What govpost adds to WeasyPrint's handling of fonts: a true text layer and reproducible subsets.

Imported by :mod:`toolkit.render` only, and only once WeasyPrint is loaded.

**The text layer.** A PDF says which characters a glyph stands for in the
font's ToUnicode map, one entry per glyph code. WeasyPrint gives every glyph
one code (its glyph id) and maps it to the text of the first cluster it was
drawn in. In Devanagari that cannot work: a vowel sign is drawn before the
consonant it follows (``नि`` is drawn ``ि`` + ``न``), a conjunct is one glyph
for three characters, and the same glyph stands for different text in
different words. Text extracted from such a PDF, by a search, a copy or a
screen reader, loses and reorders letters (``नियम`` came out ``नयम``).
:func:`text_layer` fixes it:

- every glyph gets a code whose ToUnicode entry is right *where it is drawn*:
  the text of a cluster of glyphs is spread over its glyphs in drawing order,
  so reading the codes in order gives the cluster's text, and a glyph drawn
  with two meanings gets a second code (codes from 0xFFFE downwards, sent to
  the same glyph by the font's CIDToGIDMap). Tools that read only ToUnicode
  (pypdf, pdf.js) and those that honour ActualText (poppler, Acrobat) alike
  then get the source text;
- a mark drawn back over its base gets a code whose advance is the distance
  it is moved back, so that no move is left after it that a reader would take
  for a space inside the word (``प्रकृ ति``);
- what neither covers, a right-to-left run or a mark moved forward, is wrapped
  in a marked-content span whose ``/ActualText`` is the line's text.

Latin text draws exactly as before: one glyph per character, no span.

**Reproducible subsets.** Without HarfBuzz's subsetting library, WeasyPrint
subsets fonts with fontTools, whose saved fonts record the clock in
``head.modified``; :func:`reproducible_subsets` keeps the source font's
timestamp instead, which is what HarfBuzz's subsetter keeps, so the PDF is
byte-identical from build to build on either path. WeasyPrint's warning that
the library is missing is replaced by one line of govpost's (see
:data:`FONTTOOLS_NOTE`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

#: The renderer message that stands for WeasyPrint's per-font "Using fontTools" warnings.
FONTTOOLS_NOTE = ("fonts subset with fontTools: HarfBuzz's subsetting library is not installed "
                  "(Debian and Ubuntu: `apt-get install libharfbuzz-subset0`); the PDF is the same from build "
                  "to build, but building is slower")

# WeasyPrint's messages that FONTTOOLS_NOTE replaces: one import warning, one log line per font.
_HB_SUBSET_IMPORT_WARNING = r"HarfBuzz-Subset will be required"
_HB_SUBSET_LOG_PREFIX = "Using fontTools instead of HarfBuzz-Subset"

# Codes for glyphs drawn with a second meaning are taken from here downwards. WeasyPrint
# numbers the codes of missing glyphs upwards from the font's glyph count.
_TOP_CODE = 0xFFFE


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """Import WeasyPrint without its DeprecationWarning about a missing HarfBuzz subsetting library.

    The build reports the missing library itself (:data:`FONTTOOLS_NOTE`); the warning would
    otherwise stop a test run that turns warnings into errors.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_HB_SUBSET_IMPORT_WARNING, category=DeprecationWarning)
        yield


def subsetting_library_loaded() -> bool:
    """Whether WeasyPrint found HarfBuzz's subsetting library (``libharfbuzz-subset``)."""
    from weasyprint.text import ffi

    return getattr(ffi, "harfbuzz_subset", None) is not None


def condense_messages(messages: list[str]) -> list[str]:
    """The renderer's messages with its per-font fontTools warnings folded into :data:`FONTTOOLS_NOTE`."""
    out: list[str] = []
    for message in messages:
        if message.startswith(_HB_SUBSET_LOG_PREFIX):
            if FONTTOOLS_NOTE not in out:
                out.append(FONTTOOLS_NOTE)
        else:
            out.append(message)
    return out


@contextlib.contextmanager
def reproducible_subsets() -> Iterator[None]:
    """While rendering, fonts that fontTools saves keep their source's ``head.modified``."""
    from fontTools.ttLib import TTFont
    from weasyprint.pdf import fonts

    class SourceTimestampTTFont(TTFont):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("recalcTimestamp", False)
            super().__init__(*args, **kwargs)

    original = fonts.TTFont
    fonts.TTFont = SourceTimestampTTFont
    try:
        yield
    finally:
        fonts.TTFont = original


# ---------------------------------------------------------------------------
# The text layer
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def text_layer() -> Iterator[None]:
    """While rendering, glyph codes mapped to the text they show where drawn, and ActualText spans.

    Falls back to WeasyPrint's own drawing when its internals are not the ones this was
    written for (they are not a public interface).
    """
    from weasyprint.draw import text as draw_text
    from weasyprint.pdf import fonts

    if not (hasattr(draw_text, "draw_first_line") and hasattr(fonts, "_build_vector_font_dictionary")):
        yield  # pragma: no cover - another WeasyPrint
        return
    original_line = draw_text.draw_first_line
    original_font = fonts._build_vector_font_dictionary

    def draw_first_line(stream: Any, textbox: Any, text_overflow: Any, block_ellipsis: Any, matrix: Any) -> Any:
        actual = None
        # An ellipsis makes WeasyPrint lay the line out again, after this has run.
        if text_overflow != "ellipsis" and block_ellipsis == "none" and textbox.text.strip():
            actual = _assign_codes(stream, textbox)
        if actual is None:
            return original_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        import pydyf

        stream.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String(actual)}))
        try:
            return original_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        finally:
            stream.end_marked_content()

    def build_vector_font_dictionary(font_dictionary: Any, pdf: Any, font: Any, widths: Any, *rest: Any) -> Any:
        cids: dict[int, int] = getattr(font, "govpost_cids", {})
        if not cids:
            return original_font(font_dictionary, pdf, font, widths, *rest)
        # The codes stay CIDs (Identity-H, which every reader decodes as two-byte codes, with
        # the widths WeasyPrint writes by code); a CIDToGIDMap sends each to its glyph, and
        # the codes of missing glyphs to .notdef, which WeasyPrint's encoding CMap would do.
        first_new = len(pdf.objects)
        saved, font.missing = font.missing, {}
        try:
            result = original_font(font_dictionary, pdf, font, widths, *rest)
        finally:
            font.missing = saved
        compress = rest[0] if rest else True
        for obj in pdf.objects[first_new:]:
            if isinstance(obj, dict) and obj.get("Subtype") == "/CIDFontType2":
                obj["CIDToGIDMap"] = _cid_to_gid_map(pdf, font, cids, compress).reference
        return result

    draw_text.draw_first_line = draw_first_line
    fonts._build_vector_font_dictionary = build_vector_font_dictionary
    try:
        yield
    finally:
        draw_text.draw_first_line = original_line
        fonts._build_vector_font_dictionary = original_font


def _assign_codes(stream: Any, textbox: Any) -> str | None:
    """Give each glyph of the line a code mapped to its text here; the line's text if it needs ActualText.

    Runs just before WeasyPrint draws the line: it writes the codes into the line's glyph
    string and fills the font's ``to_unicode`` and ``widths`` for them, so that WeasyPrint's
    own loop draws the codes and never assigns a mapping itself.
    """
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango

    layout = textbox.pango_layout
    # WeasyPrint sets this before drawing; set here first, so that it does not lay the line out again.
    pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
    line, _ = layout.get_first_line()
    utf8 = layout.text.encode()
    needs_span = False
    run = line.runs
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        item = glyph_item.item
        font, font_size = stream.add_font(item.analysis.font)
        if font.bitmap or font.png or font.svg or getattr(font, "colr", False):
            continue
        if item.analysis.level % 2:  # right to left: WeasyPrint's mapping, but the line's text as ActualText
            needs_span = True
            continue
        if pango.pango_version() < 14802:  # the font size WeasyPrint uses for widths there
            font_size = textbox.style["font_size"]
        glyphs = glyph_item.glyphs
        count = glyphs.num_glyphs
        infos = glyphs.glyphs
        clusters = glyphs.log_clusters
        start = 0
        while start < count:
            end = start + 1
            while end < count and clusters[end] == clusters[start]:
                end += 1
            stop = clusters[end] if end < count else item.length
            text = utf8[item.offset + clusters[start]:item.offset + stop].decode("utf-8", "replace")
            members = [k for k in range(start, end) if _drawn(infos[k].glyph, pango)]
            for k, meaning in zip(members, _spread(text, len(members)), strict=True):
                geometry = infos[k].geometry
                width = None
                if geometry.x_offset < 0:
                    # A mark moved back over its base: WeasyPrint moves left, draws it with its own
                    # advance (none) and moves right again, and readers take that move for a space
                    # inside the word. A code whose advance is the distance moved back needs no move.
                    offset = geometry.x_offset / font_size
                    width = round(geometry.width * 1000 * FROM_UNITS / font_size - offset)
                elif geometry.x_offset > 0:  # moved forward: the move is a gap to readers; ActualText says
                    needs_span = True
                infos[k].glyph = _code_for(font, infos[k].glyph, meaning, width, pango_font=item.analysis.font,
                                           font_size=font_size, ffi=ffi, pango=pango, from_units=FROM_UNITS)
            start = end
    if not needs_span:
        return None
    return utf8[line.start_index:line.start_index + line.length].decode("utf-8", "replace")


def _drawn(glyph: int, pango: Any) -> bool:
    """A glyph WeasyPrint draws as itself (not an empty glyph, not a missing one)."""
    return glyph != pango.PANGO_GLYPH_EMPTY and not glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG


def _spread(text: str, glyphs: int) -> list[str]:
    """A cluster's text over its glyphs in drawing order: one character each, the rest on the last.

    Read in order, the glyphs give the cluster's text whatever order they are drawn in; a
    glyph gets an empty mapping only when the cluster has more glyphs than characters.
    """
    if glyphs == 0:
        return []
    head = [text[i] if i < len(text) else "" for i in range(glyphs - 1)]
    return [*head, text[glyphs - 1:]]


def _code_for(font: Any, glyph: int, meaning: str, width: int | None, *, pango_font: Any, font_size: float,
              ffi: Any, pango: Any, from_units: float) -> int:
    """The code to draw ``glyph`` with where it stands for ``meaning``: the glyph id, or a second code.

    ``width``, when given, is the advance the code must have in the PDF (see :func:`_assign_codes`).
    """
    mapped = font.to_unicode.get(glyph)
    if mapped is None:  # the glyph id itself is kept in the font's subset through this entry
        font.to_unicode[glyph] = mapped = meaning
    if font.type == "otf":  # a CFF font has no CIDToGIDMap: WeasyPrint's mapping it is
        return glyph
    if mapped == meaning and width is None:
        return glyph
    codes: dict[tuple[int, str, int | None], int] = font.__dict__.setdefault("govpost_codes", {})
    cids: dict[int, int] = font.__dict__.setdefault("govpost_cids", {})
    key = (glyph, meaning, width)
    code = codes.get(key)
    if code is not None:
        return code
    code = _TOP_CODE - len(cids)
    if code <= font.glyph_count + len(font.missing) + 256:  # pragma: no cover - no room left
        return glyph
    if width is None:
        if glyph not in font.widths:  # as WeasyPrint measures it
            ink, logical = ffi.new("PangoRectangle *"), ffi.new("PangoRectangle *")
            pango.pango_font_get_glyph_extents(pango_font, glyph, ink, logical)
            font.widths[glyph] = round(logical.width * 1000 * from_units / font_size)
        width = font.widths[glyph]
    font.widths[code] = width
    font.to_unicode[code] = meaning
    codes[key] = code
    cids[code] = glyph
    return code


def _cid_to_gid_map(pdf: Any, font: Any, cids: dict[int, int], compress: bool) -> Any:
    """The CIDToGIDMap stream of a font with second codes, added to ``pdf``: two bytes per CID."""
    import pydyf

    size = max(cids) + 1
    table = bytearray(2 * size)
    for gid in range(min(font.glyph_count, size)):
        table[2 * gid:2 * gid + 2] = gid.to_bytes(2, "big")
    for code in font.missing.values():  # drawn as .notdef
        if code < size:
            table[2 * code:2 * code + 2] = b"\0\0"
    for code, gid in cids.items():
        table[2 * code:2 * code + 2] = gid.to_bytes(2, "big")
    stream = pydyf.Stream([bytes(table)], compress=compress)
    pdf.add_object(stream)
    return stream
