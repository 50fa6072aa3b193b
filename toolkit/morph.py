"""Word forms: inflection (stems), spelling variants, sentences and negation.

Shared by the compilation of lexicons and by the checker, so that an entry
and a text are always reduced the same way. A word (a token of
:mod:`toolkit.text`, already folded) has three keys:

- its **surface** form: the word itself (``exact`` entries);
- its **stem**: the Snowball stem of the word in its script's language
  (English for Latin script, Hindi for Devanagari; ``inflected`` entries),
  from PyStemmer, so that "criticised", "criticising" and "criticises"
  share one key, as do "party" and "parties", "सरकार" and "सरकारों";
- its **spelling skeleton** (``spelling`` entries): a key that does not
  change between the common Roman spellings of a Hindi word ("sarkar",
  "sarkaar", "sirkar" is another word), nor with its plural or oblique
  ending ("netaon", "mantriyon"), computed by the rules in :func:`skeleton`.

Negators ("not", "never", "don't", "नहीं", "nahi") and the sentence
boundaries of a text decide where a lexicon marked ``negatable`` does not
match and how valence words count for a stance.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import Stemmer

SURFACE, STEM, SPELLING = 0, 1, 2
MODES = ("exact", "inflected", "spelling")
MODE_STREAM = {"exact": SURFACE, "inflected": STEM, "spelling": SPELLING}

_STEMMERS: dict[str, Stemmer.Stemmer] = {}
_STEMS: dict[str, str] = {}
_SKELETONS: dict[str, str] = {}
_CACHE_LIMIT = 100_000


def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmer = _STEMMERS.get(language)
    if stemmer is None:
        stemmer = _STEMMERS[language] = Stemmer.Stemmer(language)
    return stemmer


def _is_devanagari(word: str) -> bool:
    return "\u0900" <= word[0] <= "\u097f"


#: Words whose Snowball stem would join them to words of another meaning here ("office" and
#: "officer" share "offic", "government" and "governance" share "govern"): each keeps a stem of its own.
STEM_EXCEPTIONS = {
    "office": "office", "offices": "office", "officer": "officer", "officers": "officer",
    "government": "government", "governments": "government", "governance": "governance",
    "university": "university", "universities": "university", "universe": "universe",
    "general": "general", "generally": "generally", "organ": "organ", "organs": "organ",
    "organisation": "organisation", "organisations": "organisation", "organization": "organisation",
    "organizations": "organisation", "party": "party", "parties": "party", "partying": "partying",
    "news": "news", "new": "new", "communication": "communication", "communications": "communication",
    "community": "community", "communities": "community", "minister": "minister", "ministers": "minister",
    "ministry": "ministry", "ministries": "ministry", "police": "police", "policy": "policy", "policies": "policy",
    # A collectorate is the Collector's office, not the Collector.
    "collectorate": "collectorate", "collectorates": "collectorate",
}


def stem(word: str) -> str:
    """The stem of a folded word: Snowball English for Latin script, Hindi for Devanagari.

    Words with digits, of three letters or fewer, and words of other scripts are their own stem.
    """
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    if word.isascii():
        # Words of three letters or fewer are their own stem: most are abbreviations ("IFS" is not "if").
        out = STEM_EXCEPTIONS.get(word) or (
            _stemmer("english").stemWord(word) if word.isalpha() and len(word) > 3 else word)
    elif _is_devanagari(word):
        out = _stemmer("hindi").stemWord(word) or word
    else:
        out = word
    if len(_STEMS) >= _CACHE_LIMIT:
        _STEMS.clear()
    _STEMS[word] = out
    return out


# Roman-script Hindi: long vowels written doubled or as ee/oo, w for v,
# z for j, ph for f, q for k, sh for s, and doubled consonants, all vary
# between writers. The skeleton keeps what does not.
_SKELETON_STEPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ee|ii|ie(?=[^aeiou]|$)"), "i"),
    (re.compile(r"oo|uu"), "u"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"w"), "v"),
    (re.compile(r"z"), "j"),
    (re.compile(r"q"), "k"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"sh"), "s"),
    (re.compile(r"([a-z]h)\1+"), r"\1"),
    (re.compile(r"(.)\1+"), r"\1"),
)
# Hindi plural and oblique endings written in Roman letters: "netaon", "mantriyon", "sarkaron".
_HINDI_OBLIQUE = re.compile(r"(?<=[a-z]{3})(?:(?<=i)yon|on)$")
# The masculine ending of a Hindi adjective or participle, singular -a and plural or oblique -e
# ("nikamma", "nikamme"; "jhootha", "jhoothe"), after a consonant, in words long enough that what
# is left is not an English word of its own.
_HINDI_GENDER = re.compile(r"(?<=[a-z]{4}[bcdfghjklmnpqrstvxyz])[ae]$")


def skeleton(word: str) -> str:
    """The spelling key of a folded word (Roman-script Hindi variants collapse; other words are kept)."""
    cached = _SKELETONS.get(word)
    if cached is not None:
        return cached
    out = word
    if word.isascii() and word.isalpha():
        for pattern, repl in _SKELETON_STEPS:
            out = pattern.sub(repl, out)
        out = _HINDI_OBLIQUE.sub("", out)
        out = _HINDI_GENDER.sub("", out)
    if len(_SKELETONS) >= _CACHE_LIMIT:
        _SKELETONS.clear()
    _SKELETONS[word] = out
    return out


KEY_OF: tuple[Callable[[str], str], ...] = (lambda w: w, stem, skeleton)
#: The caches behind KEY_OF, by stream (the surface needs none): a word seen before is looked up directly.
KEY_CACHE: tuple[dict[str, str], ...] = ({}, _STEMS, _SKELETONS)


# ---------------------------------------------------------------------------
# Negation and intensity
# ---------------------------------------------------------------------------

#: Negators that act on the words after them (within NEGATION_WINDOW words), as the
#: tokeniser splits them ("don't" is "don t"). From VADER's list of negations,
#: with the Roman and Devanagari Hindi ones that are written before the verb.
NEGATORS_BEFORE: tuple[str, ...] = (
    "not", "no", "never", "nor", "neither", "none", "nothing", "nobody", "nowhere", "without",
    "cannot", "cant", "can t", "don t", "dont", "doesn t", "doesnt", "didn t", "didnt", "isn t", "isnt",
    "aren t", "arent", "wasn t", "wasnt", "weren t", "werent", "won t", "wont", "wouldn t", "wouldnt",
    "shouldn t", "shouldnt", "couldn t", "couldnt", "haven t", "havent", "hasn t", "hasnt", "hadn t",
    "hadnt", "mustn t", "mustnt", "needn t", "neednt", "ain t", "aint", "shan t", "shant", "rarely",
    "seldom", "hardly", "refuse to", "refused to",
    "nahi", "nahin", "mat", "kabhi nahi",
    "नहीं", "नही", "मत", "न", "कभी नहीं",
)
#: Negators that also act on the words just before them: Hindi puts them after the verb
#: ("support nahi karta", "vote mat do", "समर्थन नहीं करता").
NEGATORS_AFTER: tuple[str, ...] = ("nahi", "nahin", "mat", "नहीं", "नही", "मत")
NEGATION_WINDOW = 3
NEGATION_AFTER_WINDOW = 3
#: How a negated valence counts (VADER's N_SCALAR).
NEGATION_SCALE = -0.74
#: What an intensifier before a valence word adds to its strength (VADER's B_INCR).
BOOST = 0.293
#: A stance is taken when the valence near the target reaches this strength.
STANCE_THRESHOLD = 1.5
#: Words on each side of a target that a stance looks at, unless a condition says otherwise.
STANCE_WINDOW = 8


# ---------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------

_BOUNDARY = re.compile(r"[.!?;।॥\n\u2026]+")
#: Dots after these do not end a sentence. "No." ("No. 5") is left out: a dot before a digit never
#: ends one anyway, and "I said no. Join …" is two sentences.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr shri smt sri st sr jr govt dept hon ble prof col gen lt capt maj sgt insp "
    "vs etc eg ie ltd co inc av esp approx".split()
)


def sentence_breaks(text: str) -> list[int]:
    """Character offsets at which a new sentence starts, in order.

    A sentence ends at `.`, `!`, `?`, `;`, `।`, `॥`, `…` or a line break; a
    dot after a single letter or a common abbreviation ("Dr.", "Govt.",
    "B.J.P."), or before a lower-case letter or a digit, does not end one.
    """
    out: list[int] = []
    for mt in _BOUNDARY.finditer(text):
        mark = mt.group()
        if mark == ".":
            start = mt.start()
            j = start
            while j > 0 and text[j - 1].isalnum():
                j -= 1
            before = text[j:start].casefold()
            if len(before) == 1 or before in _ABBREVIATIONS:
                continue
            k = mt.end()
            while k < len(text) and text[k] == " ":
                k += 1
            if k < len(text) and (text[k].islower() or text[k].isdigit()):
                continue
        out.append(mt.end())
    return out
