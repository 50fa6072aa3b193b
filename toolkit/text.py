"""Word-level normalisation shared by lexicon compilation and the checker.

A text becomes a sequence of tokens: runs of letters, combining marks and
digits (so Devanagari words with vowel signs stay whole), case-folded.
Everything else (spaces, punctuation, hyphens, apostrophes, `#`, `@`)
separates tokens. The normalised form is the tokens joined by single spaces
and padded with one space at each end, so a lexicon entry ``" vote for "``
found in it always starts and ends on word boundaries. Each token remembers
where it stood in the original text, which makes evidence spans exact.

Camel-case hashtags are split into words (``#VoteForChange`` → ``vote for
change``); abbreviations with dots (``B.J.P.``) become single-letter tokens,
and lexicon entries are expanded to match both spellings.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator


def _word_class() -> str:
    # Python's \w leaves out combining marks (Devanagari vowel signs are Mc/Mn),
    # which would cut words apart. Build the class of marks once, as ranges.
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, min(sys.maxunicode, 0x1FFFF) + 1):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    marks = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    )
    # Zero-width joiner and non-joiner occur inside Indic words.
    return rf"[^\W_]|[{marks}\u200c\u200d]", rf"[\w{marks}\u200c\u200d]"


_WORD, _WORD_OR_UNDERSCORE = _word_class()
# The same tokens as TOKEN in a text whose `_` were made spaces (`_` is never part of a word,
# so the spans do not move): one character class, which the regex engine runs much faster.
_TOKEN_FAST = re.compile(rf"{_WORD_OR_UNDERSCORE}+")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_TOKEN_BMP: list[re.Pattern[str]] = []


def _token_bmp() -> re.Pattern[str]:
    """TOKEN for a text without characters beyond U+FFFF, as one class of explicit ranges.

    Python's regex engine tests such a class with one bitmap lookup per
    character, where TOKEN's categories and ranges of marks take a scan.
    Built on first use (about 20 ms), from TOKEN itself.
    """
    if not _TOKEN_BMP:
        bmp = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
        ranges = [(ord(mt.group()[0]), ord(mt.group()[-1])) for mt in TOKEN.finditer(bmp)]
        cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
        _TOKEN_BMP.append(re.compile(f"[{cls}]+"))
    return _TOKEN_BMP[0]


def _finditer(text: str) -> Iterator[re.Match[str]]:
    """TOKEN.finditer(text), fast: the same matches (spans and words)."""
    if text.isascii():
        return _ASCII_WORD.finditer(text)
    if _ASTRAL.search(text) is None:
        return _token_bmp().finditer(text)
    return _TOKEN_FAST.finditer(text.replace("_", " ") if "_" in text else text)


def _findall(text: str) -> list[str]:
    """TOKEN.findall(text), fast."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    if _ASTRAL.search(text) is None:
        return _token_bmp().findall(text)
    return _TOKEN_FAST.findall(text.replace("_", " ") if "_" in text else text)
TOKEN = re.compile(rf"(?:{_WORD})+")
_HASHTAG_IN_TEXT = re.compile(rf"#((?:{_WORD})+)")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^A-Za-z\d]+")


class Normalized:
    """A normalised text; the original span of a match is worked out on demand.

    Most texts match nothing, so the token positions needed to map a match
    back to the original are computed only when first asked for.
    """

    __slots__ = ("text", "source", "_spans")

    def __init__(self, text: str, source: str):
        self.text = text  # " tok tok tok "
        self.source = source
        self._spans: list[tuple[int, int]] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` (whole tokens, without the padding) back to the original."""
        if self._spans is None:
            src = self.source
            if src.isascii() and "#" not in src and "@" not in src:
                # Same tokens as the fast path of `normalize`, with positions.
                self._spans = [mt.span() for mt in _ASCII_WORD.finditer(src)]
            else:
                self._spans = [(s, e) for _t, s, e in tokens(src)]
        # INVARIANT: token k starts after the (k+1)-th space of the padded text.
        first = self.text.count(" ", 0, start) - 1
        last = self.text.count(" ", 0, end) - 1
        return self._spans[first][0], self._spans[last][1]


def fold(word: str) -> str:
    """Compatibility-normalise and case-fold a word (NFKC, then case folding, then NFKC).

    The same word typed differently compares equal: a precomposed ``é`` and
    ``e`` + combining acute, Devanagari ``ज़`` as one character or as ``ज`` +
    nukta, full-width ``ＢＪＰ`` and ``BJP``. Folding a token at a time keeps
    the token's span in the original text exact. In Devanagari the nukta is
    dropped and a candrabindu becomes an anusvara, as readers write either.
    """
    if word.isascii():
        return word.lower()
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", word).casefold())
    if "\u093c" in folded or "\u0901" in folded:
        # Devanagari written with or without the nukta, with a candrabindu or an anusvara:
        # the same word to a reader searching for it ("ज़रूरी" = "जरूरी", "हँसी" = "हंसी").
        folded = folded.replace("\u093c", "").replace("\u0901", "\u0902")
    return folded


def _add(out: list[tuple[str, int, int]], word: str, start: int, end: int) -> None:
    if word.isascii():  # an ASCII word folds to one word: itself, lowered
        out.append((word.lower(), start, end))
        return
    folded = fold(word)
    pieces = TOKEN.findall(folded)
    if len(pieces) == 1 and pieces[0] == folded:
        out.append((folded, start, end))
        return
    # NFKC can turn one character into several words or put punctuation
    # inside a word (`¼` → `1⁄4`, `㈱` → `(株)`): split the folded form as a
    # text would be split, each piece keeping the original word's span, so
    # that normalising a normalised text changes nothing.
    out.extend((piece, start, end) for piece in pieces)


# A word (not after `#`) → its folded form, the pieces joined by spaces ("" for none): words repeat
# across posts, so each is folded once (bounded, cleared when full).
_FOLDED: dict[str, str] = {}


def _fold_word(word: str) -> str:
    out: list[tuple[str, int, int]] = []
    _add(out, word, 0, 0)
    folded = " ".join(t for t, _s, _e in out)
    if len(_FOLDED) >= 50_000:
        _FOLDED.clear()
    _FOLDED[word] = folded
    return folded


def normalized_words(text: str) -> str:
    """``" ".join`` of the folded tokens of a text (what :func:`tokens` gives), fast.

    Tokens are found by one C-level regex pass and each distinct word is
    folded once per process; a word NFKC splits into several gives its pieces.
    """
    if "#" in text or "@" in text:
        return _normalized_with_hashtags(text)
    cache = _FOLDED
    words = _findall(text)
    folded = [cache.get(w) for w in words]
    if None in folded:
        folded = [cache.get(w) or _fold_word(w) for w in words]
    return " ".join([w for w in folded if w]) if folded else ""


def _normalized_with_hashtags(text: str) -> str:
    # `#` and `@` separate words, so each part after one starts with the hashtag's or handle's word
    # (if any): the word a camel-case hashtag or handle is cut into as `tokens` cuts it.
    out: list[str] = []
    cache = _FOLDED
    for i, part in enumerate(_TAG_MARK.split(text)):
        words = _findall(part)
        if not words:
            continue
        start = 0
        if i and part.startswith(words[0]):
            first = words[0]
            start = 1
            if _camel_case(first):
                for piece in _CAMEL.finditer(first):
                    if piece.group().strip():
                        folded = cache.get(piece.group())
                        out.append(folded if folded is not None else _fold_word(piece.group()))
            else:
                folded = cache.get(first)
                out.append(folded if folded is not None else _fold_word(first))
        for w in words[start:]:
            folded = cache.get(w)
            out.append(folded if folded is not None else _fold_word(w))
    return " ".join([w for w in out if w])


def word_spans(text: str) -> list[tuple[int, int]]:
    """The spans of the tokens of a text without `#` or `@`, as :func:`tokens` gives them (fast)."""
    cache = _FOLDED
    words = _findall(text)
    folded = [cache.get(w) for w in words]
    if None not in folded and all(folded) and " ".join(folded).count(" ") == len(folded) - 1:
        # The common case: every word folds to one token.
        return [mt.span() for mt in _finditer(text)]
    out: list[tuple[int, int]] = []
    for mt in _finditer(text):
        folded = cache.get(mt.group())
        if folded is None:
            folded = _fold_word(mt.group())
        if folded:
            out.extend([mt.span()] * (folded.count(" ") + 1))
    return out


def _camel_case(word: str) -> bool:
    """Whether a hashtag's or handle's word is cut at its capitals: Latin letters in mixed case
    (``VoteForChange``). Other scripts are kept whole: ``Straße`` is one word, not ``Stra`` + ``ße``."""
    return word.isascii() and not word.islower() and not word.isupper()


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokens of a text: (folded token, start, end) in the original."""
    out: list[tuple[str, int, int]] = []
    for mt in _finditer(text):
        word, start, end = mt.group(), mt.start(), mt.end()
        if start > 0 and text[start - 1] in "#@" and _camel_case(word):
            # A camel-case hashtag or handle (#VoteForChange, @ArvindKejriwal): each capitalised part is a word.
            for part in _CAMEL.finditer(word):
                if part.group().strip():
                    _add(out, part.group(), start + part.start(), start + part.end())
            continue
        _add(out, word, start, end)
    return out


_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_HASHTAG = re.compile(r"[#@]([A-Za-z0-9]+)")
_TAG_MARK = re.compile(r"[#@]")


def _split_hashtag(mt: re.Match[str]) -> str:
    word = mt.group(1)
    if word.islower() or word.isupper():
        return " " + word
    return " " + " ".join(p.group() for p in _CAMEL.finditer(word))


def normalize(text: str) -> Normalized:
    if text.isascii():
        # Fast path, same tokens as `tokens` (on ASCII a word is [A-Za-z0-9]+
        # and case folding is lowering), built with C-level operations.
        prepared = _HASHTAG.sub(_split_hashtag, text) if "#" in text or "@" in text else text
        words = _ASCII_TOKEN.findall(prepared.lower())
    else:
        words = [t for t, _s, _e in tokens(text)]
    return Normalized(" " + " ".join(words) + " " if words else " ", text)


def hashtag_key(entry: str) -> str | None:
    """For an entry written as a hashtag (``#ad``), the folded tag it matches; else None.

    Such an entry matches that hashtag and nothing else: ``#ad`` matches
    "#Ad" but not the word "ad" in "ad hoc".
    """
    mt = _HASHTAG_IN_TEXT.fullmatch(entry.strip())
    return fold(mt.group(1)) if mt else None


def hashtags(text: str) -> list[tuple[str, int, int]]:
    """The hashtags of a text: (folded tag without `#`, start, end), the span including `#`."""
    return [(fold(mt.group(1)), mt.start(), mt.end()) for mt in _HASHTAG_IN_TEXT.finditer(text)]


def entry_keys(entry: str) -> list[str]:
    """The normalised forms under which a lexicon entry is searched.

    ``"B.J.P."`` and ``"BJP"`` both yield ``" bjp "`` and ``" b j p "``;
    ``"anti-national"`` yields ``" anti national "`` and ``" antinational "``.
    An entry with no word characters yields nothing.
    """
    words = [t for t, _s, _e in tokens(entry)]
    if not words:
        return []
    keys = {" " + " ".join(words) + " "}
    if len(words) > 1 and all(len(w) == 1 for w in words):
        keys.add(" " + "".join(words) + " ")
    elif len(words) == 1 and 2 <= len(words[0]) <= 5 and entry.strip().isupper() and words[0].isalpha():
        keys.add(" " + " ".join(words[0]) + " ")
    if len(words) > 1 and re.search(r"\w-\w", entry):
        keys.add(" " + "".join(words) + " ")
    return sorted(keys)
