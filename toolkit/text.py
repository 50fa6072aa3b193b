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
    return rf"[^\W_]|[{marks}\u200c\u200d]"


_WORD = _word_class()
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
            if src.isascii() and "#" not in src:
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
    the token's span in the original text exact.
    """
    if word.isascii():
        return word.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", word).casefold())


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


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokens of a text: (folded token, start, end) in the original."""
    out: list[tuple[str, int, int]] = []
    for mt in TOKEN.finditer(text):
        word, start, end = mt.group(), mt.start(), mt.end()
        if start > 0 and text[start - 1] == "#" and not word.islower() and not word.isupper():
            # A camel-case hashtag: each capitalised part is a word.
            for part in _CAMEL.finditer(word):
                if part.group().strip():
                    _add(out, part.group(), start + part.start(), start + part.end())
            continue
        _add(out, word, start, end)
    return out


_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_HASHTAG = re.compile(r"#([A-Za-z0-9]+)")


def _split_hashtag(mt: re.Match[str]) -> str:
    word = mt.group(1)
    if word.islower() or word.isupper():
        return " " + word
    return " " + " ".join(p.group() for p in _CAMEL.finditer(word))


def normalize(text: str) -> Normalized:
    if text.isascii():
        # Fast path, same tokens as `tokens` (on ASCII a word is [A-Za-z0-9]+
        # and case folding is lowering), built with C-level operations.
        prepared = _HASHTAG.sub(_split_hashtag, text) if "#" in text else text
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
