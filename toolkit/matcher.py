"""Every lexicon of a rule set, found in one pass over a text.

A text is cut into words (:mod:`toolkit.text`) and written out as up to
three **streams** of word keys (:mod:`toolkit.morph`): surface forms, stems
and spelling skeletons, each with its own separator so that a key of one
stream can only match in that stream. All three go through one
Aho-Corasick automaton that holds every key of every lexicon entry, the
fixed parts of entries with slots, the valence words and the negators.

An entry is a small phrase language (docs/language.md, "Lexicons"):

- words, matched as the entry's mode says (``exact``, ``inflected``, ``spelling``);
- ``*`` one word, ``*N`` one to N words;
- ``{lexicon}`` a slot filled by any entry of another lexicon;
- ``(a|b c)`` alternatives and ``(word)?`` an optional part; parentheses
  that hold no ``|`` and are not followed by ``?`` are punctuation, as in
  "CPI(M)".

A hit is a range of word positions ``[t0, t1)`` in the text; its evidence
span is worked out from the words' places in the original text only when a
clause needs it. Proximity (``near``) and stance (``disparages``,
``praises``) are decided from the hits and their positions, never by
scanning the text again.

This module reads compiled lexicons only: it imports nothing from the parser.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ahocorasick

from .morph import (
    KEY_CACHE,
    KEY_OF,
    MODE_STREAM,
    SPELLING,
    STEM,
    SURFACE,
    sentence_breaks,
)
from .text import hashtag_key, hashtags, normalized_words, tokens, word_spans

SEPARATORS = (" ", "\x01", "\x02")

# On ASCII text a word is [A-Za-z0-9]+, lowered (toolkit.text): everything else separates words.
_ASCII_FOLD = bytes(
    (c | 0x20) if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_CLOSING = ")]}.'\"’"

# Kinds of owner of an automaton key.
_ENTRY, _PART, _VALENCE, _NEGATOR, _BOOSTER = range(5)

MAX_EXPANSIONS = 64


class EntryError(ValueError):
    """An entry whose phrase syntax cannot be read (the front end reports it with its place)."""


# ---------------------------------------------------------------------------
# The phrase language of entries
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Words:
    words: tuple[str, ...]  # folded words of the text tokeniser
    raw: str  # as written, for the keys of abbreviations and hyphenated words


@dataclass(frozen=True, slots=True)
class Gap:
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Slot:
    lexicon: str


@dataclass(frozen=True, slots=True)
class Choice:
    """``(a|b c)`` or ``( … )?`` of plain words: one part with several word sequences (none, when optional)."""

    options: tuple[Words, ...]
    optional: bool


Part = Words | Gap | Slot | Choice
_SLOT_NAME = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\s*\}")
_SYNTAX = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\s*\}|\*(\d*)|\\([*{}()|?\\])|[()|?]")


def has_syntax(entry: str) -> bool:
    """Whether an entry uses the phrase syntax (slots, gaps, groups), not only words."""
    return any(c in entry for c in "{*\\") or ("(" in entry and _group_spans(entry) != [])


def _group_spans(entry: str) -> list[tuple[int, int]]:
    """The (open, close) positions of parentheses that group: holding `|` or followed by `?`."""
    out = []
    stack: list[int] = []
    for i, ch in enumerate(entry):
        if ch == "\\":
            continue
        if ch == "(" and (i == 0 or entry[i - 1] != "\\"):
            stack.append(i)
        elif ch == ")" and stack and entry[i - 1] != "\\":
            start = stack.pop()
            inner = entry[start + 1 : i]
            optional = i + 1 < len(entry) and entry[i + 1] == "?"
            if optional or _top_level_bar(inner):
                out.append((start, i))
    return out


def _top_level_bar(inner: str) -> bool:
    depth = 0
    for i, ch in enumerate(inner):
        if ch == "\\" or (i and inner[i - 1] == "\\"):
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def expand(entry: str) -> list[tuple[Part, ...]]:
    """The alternatives an entry stands for, each a sequence of parts.

    Raises:
        EntryError: unbalanced groups, an empty alternative, a gap of zero
            words, or more than MAX_EXPANSIONS alternatives.
    """
    groups = {start: end for start, end in _group_spans(entry)}
    alternatives = _expand_range(entry, 0, len(entry), groups)
    out = []
    for alt in alternatives:
        parts = _merge(alt)
        while parts and isinstance(parts[0], Gap):
            parts = parts[1:]
        while parts and isinstance(parts[-1], Gap):
            parts = parts[:-1]
        if not parts:
            continue
        if parts not in out:
            out.append(parts)
    return out


def _expand_range(s: str, i: int, end: int, groups: dict[int, int]) -> list[list[Any]]:
    seqs: list[list[Any]] = [[]]
    literal: list[str] = []

    def flush() -> None:
        if literal:
            text = "".join(literal)
            literal.clear()
            for seq in seqs:
                seq.append(text)

    while i < end:
        if i in groups:
            flush()
            close = groups[i]
            inner = _split_bar(s, i + 1, close)
            options: list[list[Any]] = []
            for a, b in inner:
                options.extend(_expand_range(s, a, b, groups))
            optional = close + 1 < end and s[close + 1] == "?"
            if all(all(isinstance(x, str) for x in opt) for opt in options):
                # Plain words in every alternative: one part that matches any of them, not a phrase each.
                words = [w for w in (_words("".join(opt)) for opt in options) if w is not None]
                if not words:
                    raise EntryError("a group `( … )` holds no words")
                choice = Choice(tuple(dict.fromkeys(words)), optional)
                seqs = [seq + [choice] for seq in seqs]
                i = close + (2 if optional else 1)
                continue
            if optional:
                options.append([])
            seqs = [seq + opt for seq in seqs for opt in options]
            if len(seqs) > MAX_EXPANSIONS:
                raise EntryError(f"stands for more than {MAX_EXPANSIONS} phrases")
            i = close + (2 if optional else 1)
            continue
        mt = _SYNTAX.match(s, i)
        if mt is not None and mt.group() not in "()|?":
            flush()
            if mt.group(1) is not None:
                for seq in seqs:
                    seq.append(Slot(mt.group(1)))
            elif mt.group(3) is not None:
                literal.append(mt.group(3))
            else:
                n = int(mt.group(2)) if mt.group(2) else 1
                if n < 1:
                    raise EntryError("`*0` matches no word; write `*` for one word or `*N` for one to N")
                for seq in seqs:
                    seq.append(Gap(1, n))
            i = mt.end()
            continue
        ch = s[i]
        if ch in "|" and not _escaped(s, i):
            raise EntryError("`|` separates alternatives only inside `( … )`")
        literal.append(ch)
        i += 1
    flush()
    return seqs


def _escaped(s: str, i: int) -> bool:
    return i > 0 and s[i - 1] == "\\"


def _split_bar(s: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    depth = 0
    a = start
    for i in range(start, end):
        ch = s[i]
        if _escaped(s, i):
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append((a, i))
            a = i + 1
    out.append((a, end))
    for a, b in out:
        if not s[a:b].strip():
            raise EntryError("an alternative in `( … )` is empty; mark an optional part with `( … )?`")
    return out


def _words(text: str) -> Words | None:
    words = tuple(t for t, _s, _e in tokens(text))
    return Words(words, text) if words else None


def _merge(seq: list[Any]) -> tuple[Part, ...]:
    out: list[Part] = []
    for item in seq:
        if isinstance(item, str):
            words = tuple(t for t, _s, _e in tokens(item))
            if not words:
                continue
            if out and isinstance(out[-1], Words):
                prev = out[-1]
                out[-1] = Words(prev.words + words, prev.raw + " " + item)
            else:
                out.append(Words(words, item))
        elif isinstance(item, Gap) and out and isinstance(out[-1], Gap):
            out[-1] = Gap(out[-1].low + item.low, out[-1].high + item.high)
        else:
            out.append(item)
    return tuple(out)


def _options(part: Words | Choice) -> tuple[Words, ...]:
    return part.options if isinstance(part, Choice) else (part,)


def word_variants(part: Words) -> list[tuple[str, ...]]:
    """The word sequences a literal part is searched as: as written, and abbreviations and hyphens joined.

    ``"B.J.P."`` and ``"BJP"`` both give ``bjp`` and ``b j p``;
    ``"anti-national"`` gives ``anti national`` and ``antinational``.
    """
    words = part.words
    out = [words]
    raw = part.raw.strip()
    if len(words) > 1 and all(len(w) == 1 for w in words):
        out.append(("".join(words),))
    elif len(words) == 1 and 2 <= len(words[0]) <= 5 and raw.isupper() and words[0].isalpha():
        out.append(tuple(words[0]))
    if len(words) > 1 and re.search(r"\w-\w", raw):
        out.append(("".join(words),))
    return out


def sample(parts: tuple[Part, ...], samples: dict[str, str]) -> str:
    """A short text that an alternative matches: slots filled with a sample of their lexicon."""
    out = []
    for part in parts:
        if isinstance(part, Choice):
            out.append(" ".join(part.options[0].words))
        elif isinstance(part, Words):
            out.append(" ".join(part.words))
        elif isinstance(part, Gap):
            out.append(" ".join(["this"] * part.low))
        else:
            out.append(samples.get(part.lexicon, part.lexicon))
    return " ".join(out)


# ---------------------------------------------------------------------------
# The matcher
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Program:
    lexicon: int
    entry: str
    parts: tuple[tuple[Any, ...], ...]  # ("w", index, optional) | ("gap", lo, hi) | ("lex", index)
    words: tuple[int, ...] = ()  # the words parts it cannot do without
    slots: tuple[int, ...] = ()  # the lexicons its slots need


class LexiconMatcher:
    """Every entry of a set of lexicons, found in one pass over a text.

    Args:
        lexicons: compiled lexicons (rule-set format: ``entries`` of
            ``{"text", "mode"}``, optional ``negatable``, ``valence``,
            ``role``); entries given as plain strings are exact.
        matching: the rule set's ``matching`` block (negators, boosters,
            the valence base) or None for none.
    """

    def __init__(self, lexicons: dict[str, dict[str, Any]], matching: dict[str, Any] | None = None,
                 needed: set[str] | None = None):
        matching = matching or {}
        self.names = list(lexicons)
        index = {name: i for i, name in enumerate(self.names)}
        reported = self._reported(lexicons, needed)
        self._negatable = [bool(lex.get("negatable")) for lex in lexicons.values()]
        self.valence_of = [lex.get("valence") for lex in lexicons.values()]
        keys: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        self._hashtags: dict[str, list[tuple[int, str]]] = {}
        self._programs: list[_Program] = []
        self._part_words: list[tuple[int, str]] = []  # (stream, key) of each words part of a program
        programs_of: dict[int, list[int]] = {}
        deps: dict[int, set[int]] = {}

        def add(stream: int, words: tuple[str, ...], owner: tuple[Any, ...]) -> None:
            sep = SEPARATORS[stream]
            key_of = KEY_OF[stream]
            key = sep + sep.join(key_of(w) for w in words) + sep
            keys.setdefault((stream, key), []).append(owner)

        negators_before: list[str] = list(matching.get("negators_before", ()))
        for li, (name, lex) in enumerate(lexicons.items()):
            default_mode = lex.get("mode", "exact")
            role = lex.get("role", "terms")
            for raw_entry in lex["entries"]:
                text, mode = (raw_entry, "exact") if isinstance(raw_entry, str) else (
                    raw_entry["text"], raw_entry.get("mode", default_mode))
                if role == "negation":
                    negators_before.append(text)
                    continue
                if li not in reported:
                    # No condition needs this lexicon's hits: its words count only for their valence.
                    if lex.get("valence") is not None and not has_syntax(text):
                        stream = MODE_STREAM[mode]
                        for parts in expand(text):
                            if len(parts) == 1 and isinstance(parts[0], (Words, Choice)):
                                for words in _options(parts[0]):
                                    for variant in word_variants(words):
                                        add(stream, variant, (_VALENCE, float(lex["valence"]), li, len(variant)))
                    continue
                tag = hashtag_key(text)
                if tag is not None:
                    self._hashtags.setdefault(tag, []).append((li, text))
                    continue
                stream = MODE_STREAM[mode]
                for parts in expand(text):
                    if len(parts) == 1 and isinstance(parts[0], (Words, Choice)):
                        for words in _options(parts[0]):
                            for variant in word_variants(words):
                                add(stream, variant, (_ENTRY, li, text, len(variant)))
                        continue
                    prog_index = len(self._programs)
                    compiled: list[tuple[Any, ...]] = []
                    for part in parts:
                        if isinstance(part, (Words, Choice)):
                            part_index = len(self._part_words)
                            self._part_words.append((stream, ""))
                            for words in _options(part):
                                for variant in word_variants(words):
                                    add(stream, variant, (_PART, prog_index, part_index, len(variant)))
                            compiled.append(("w", part_index, isinstance(part, Choice) and part.optional))
                        elif isinstance(part, Gap):
                            compiled.append(("gap", part.low, part.high))
                        else:
                            target = index.get(part.lexicon)
                            if target is None:
                                raise EntryError(f"the slot `{{{part.lexicon}}}` names no lexicon")
                            deps.setdefault(li, set()).add(target)
                            compiled.append(("lex", target))
                    self._programs.append(_Program(
                        li, text, tuple(compiled),
                        tuple(p[1] for p in compiled if p[0] == "w" and not p[2]),
                        tuple(sorted({p[1] for p in compiled if p[0] == "lex"}))))
                    programs_of.setdefault(li, []).append(prog_index)
        # Valence words: the policy's own lexicons override the base (VADER).
        base = (matching.get("valence") or {}).get("entries") or {}
        own_valence: set[tuple[int, str]] = set()
        for li, lex in enumerate(lexicons.values()):
            if lex.get("valence") is None:
                continue
            for (stream, key), owners in keys.items():
                if any(o[0] == _ENTRY and o[1] == li for o in owners):
                    own_valence.add((stream, key))
        for word, score in base.items():
            words = tuple(t for t, _s, _e in tokens(word))
            if not words:
                continue
            key = " " + " ".join(words) + " "
            if (SURFACE, key) in own_valence:
                continue
            keys.setdefault((SURFACE, key), []).append((_VALENCE, float(score), -1, len(words)))
        for li, lex in enumerate(lexicons.values()):
            if lex.get("valence") is None:
                continue
            score = float(lex["valence"])
            for (stream, key), owners in keys.items():
                for o in list(owners):
                    if o[0] == _ENTRY and o[1] == li:
                        owners.append((_VALENCE, score, li, o[3]))
        after = set(matching.get("negators_after", ()))
        for negator in dict.fromkeys([*negators_before, *after]):
            words = tuple(t for t, _s, _e in tokens(negator))
            if words:
                keys.setdefault((SURFACE, " " + " ".join(words) + " "), []).append(
                    (_NEGATOR, negator in negators_before, negator in after, len(words)))
        for word, amount in (matching.get("boosters") or {}).items():
            words = tuple(t for t, _s, _e in tokens(word))
            if words:
                keys.setdefault((SURFACE, " " + " ".join(words) + " "), []).append(
                    (_BOOSTER, float(amount), 0, len(words)))

        # Each program waits on one of its required parts (its anchor): the one least likely to occur
        # (words of its own, not "the" or "is"). A text is looked at for a program's other parts only
        # when it holds the anchor; a program with no words part waits on a slot's lexicon instead.
        self._by_part: dict[int, list[int]] = {}
        self._by_slot: dict[int, list[int]] = {}
        part_words: dict[int, list[tuple[str, ...]]] = {}
        for (stream, key), owners in keys.items():
            for o in owners:
                if o[0] == _PART:
                    part_words.setdefault(o[2], []).append(tuple(w for w in key.split(SEPARATORS[stream]) if w))
        anchors: set[int] = set()
        odds = _Odds(keys, lexicons, index)
        for pi, prog in enumerate(self._programs):
            # The part least likely to occur in a text (a word of its own rather than "the" or "is"; a
            # slot whose lexicon is rare rather than a choice of everyday words); at equal odds the later
            # one, as phrases end in their own words more often. Which part it is changes only how fast
            # a text is matched, never what matches.
            required = [p for p in prog.parts if p[0] == "w" and not p[2] or p[0] == "lex"]
            best = min(reversed(required), key=lambda p: odds.of_part(p, part_words))
            if best[0] == "w":
                self._by_part.setdefault(best[1], []).append(pi)
                anchors.add(best[1])
            else:
                self._by_slot.setdefault(best[1], []).append(pi)
        # The automaton holds the entries and the anchors: what a text is scanned for. The other parts
        # of programs are looked up among the text's words when an anchor wakes their program; valence
        # words, negators and intensifiers are in an automaton of their own, run on the same streams
        # only when a stance or a negation asks.
        self._automaton = ahocorasick.Automaton()
        self._aux_automaton = ahocorasick.Automaton()
        self._streams = [False, False, False]
        self._part_forms: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        placed = 0
        has_aux = False
        for (stream, key), owners in keys.items():
            eager = tuple(o for o in owners if o[0] == _ENTRY or o[0] == _PART and o[2] in anchors)
            aux = tuple(o for o in owners if o[0] not in (_ENTRY, _PART))
            for o in owners:
                if o[0] == _PART and o[2] not in anchors:
                    form = (stream, tuple(w for w in key.split(SEPARATORS[stream]) if w))
                    self._part_forms.setdefault(o[2], []).append(form)
                    self._streams[stream] = True
            if eager:
                self._automaton.add_word(key, (len(key), stream, eager))
                self._streams[stream] = True
                placed += 1
            if aux:
                self._aux_automaton.add_word(key, (len(key), stream, aux))
                self._streams[stream] = True
                has_aux = True
        # For each looked-up part, the first words of its forms by stream: a text without any of them
        # cannot hold the part, which a set test tells without looking for places.
        self._part_first: dict[int, tuple[tuple[int, frozenset[str]], ...]] = {}
        for part_index, part_forms in self._part_forms.items():
            by_stream: dict[int, set[str]] = {}
            for stream, words in part_forms:
                by_stream.setdefault(stream, set()).add(words[0])
            self._part_first[part_index] = tuple((st, frozenset(ws)) for st, ws in sorted(by_stream.items()))
        self._has_words = bool(placed)
        if placed:
            self._automaton.make_automaton()
        self._has_aux = has_aux
        if has_aux:
            self._aux_automaton.make_automaton()
        # Lexicons in an order in which every slot's lexicon comes first.
        self._order = _topological([i for i in range(len(self.names))], deps)
        self._position = {li: i for i, li in enumerate(self._order)}
        self._programs_of = programs_of
        self.negation_window = int(matching.get("negation_window", 3))
        self.negation_after_window = int(matching.get("negation_after_window", 3))
        self.negation_scale = float(matching.get("negation_scale", -0.74))
        self.stance_threshold = float(matching.get("stance_threshold", 1.5))
        self.stance_window = int(matching.get("stance_window", 5))
        self.needs_negation = any(self._negatable)

    @staticmethod
    def _reported(lexicons: dict[str, dict[str, Any]], needed: set[str] | None) -> set[int]:
        """The lexicons whose hits are placed: those needed and, through their slots, those that fill them."""
        names = list(lexicons)
        if needed is None:
            return set(range(len(names)))
        index = {name: i for i, name in enumerate(names)}
        out: set[int] = set()
        todo = [index[n] for n in needed if n in index]
        while todo:
            li = todo.pop()
            if li in out:
                continue
            out.add(li)
            for e in lexicons[names[li]]["entries"]:
                text = e if isinstance(e, str) else e["text"]
                if "{" in text:
                    for mt in _SLOT_NAME.finditer(text):
                        if mt.group(1) in index:
                            todo.append(index[mt.group(1)])
        return out

    def __bool__(self) -> bool:
        return self._has_words or bool(self._hashtags)

    # -- scanning ---------------------------------------------------------

    def scan(self, value: str, *, reference: bool = False) -> TextHits | None:
        """The hits of every lexicon in a text, or None when no lexicon matches it.

        ``reference`` cuts the text into words the plain way (:func:`toolkit.text.tokens`)
        rather than by the fast paths, which must give the same words (a test holds them to it).
        """
        toks: list[tuple[str, int, int]] | None = None
        if reference:
            toks = tokens(value)
            words = [t for t, _s, _e in toks]
        elif value.isascii() and "#" not in value and "@" not in value:
            words = value.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split()
        elif "#" in value or "@" in value:
            toks = tokens(value)
            words = [t for t, _s, _e in toks]
        else:
            joined = normalized_words(value)
            words = joined.split(" ") if joined else []
        tags = hashtags(value) if self._hashtags and "#" in value else ()
        if not words and not tags:
            return None
        segments: list[str] = []
        starts = [0, 0, 0]
        keyed_streams: list[list[str] | None] = [None, None, None]
        pos = 0
        streams = self._streams
        if words and (self._has_words or self._has_aux):
            for stream in (SURFACE, STEM, SPELLING):
                if not streams[stream]:
                    continue
                sep = SEPARATORS[stream]
                if stream == SURFACE:
                    keyed = words
                else:
                    # Keys of words seen before come from the cache in one C-level pass.
                    try:
                        keyed = list(map(KEY_CACHE[stream].__getitem__, words))
                    except KeyError:
                        key_of = KEY_OF[stream]
                        keyed = [key_of(w) for w in words]
                keyed_streams[stream] = keyed
                seg = sep + sep.join(keyed) + sep
                starts[stream] = pos
                segments.append(seg)
                pos += len(seg)
        combined = "".join(segments)
        hits = list(self._automaton.iter(combined)) if combined and self._has_words else []
        if not hits and not tags:
            return None
        th = TextHits(self, value, words, toks)
        th.combined = combined
        th.starts = starts
        th.keyed = keyed_streams
        lex = th.lex
        parts: dict[int, list[tuple[int, int]]] = {}
        for end, (length, stream, eager) in hits:
            t0 = combined.count(SEPARATORS[stream], starts[stream], end - length + 1)
            for owner in eager:
                if owner[0] == _ENTRY:
                    lex.setdefault(owner[1], []).append((t0, t0 + owner[3], owner[2]))
                else:
                    parts.setdefault(owner[2], []).append((t0, t0 + owner[3]))
        if tags:
            # A hashtag entry (`#ad`) matches a hashtag only: its words are found among the text's words.
            first = [s for s, _e in th.spans()]
            for tag, s, e in tags:
                owners = self._hashtags.get(tag)
                if not owners:
                    continue
                t0 = bisect.bisect_left(first, s + 1)
                t1 = bisect.bisect_left(first, e)
                if t0 >= t1:
                    continue
                for li, entry in owners:
                    th.tag_spans[(t0, t1, entry)] = (s, e)
                    lex.setdefault(li, []).append((t0, t1, entry))
        if self.needs_negation:
            for li in list(lex):
                if self._negatable[li]:
                    self._drop_negated(th, li)
        if parts or self._by_slot and lex:
            self._programs_for(th, parts, len(words))
        if not lex:
            return None
        for li, hits in lex.items():
            if len(hits) > 1:
                hits.sort()
        return th

    def _drop_negated(self, th: TextHits, li: int) -> None:
        kept = [h for h in th.lex[li] if not th.negated(h[0], h[1])]
        if kept:
            th.lex[li] = kept
        else:
            del th.lex[li]

    def _programs_for(self, th: TextHits, parts: dict[int, list[tuple[int, int]]], n: int) -> None:
        """Assemble the programs whose anchor the text holds, slot fillers before the phrases they fill."""
        lex = th.lex
        position = self._position
        queue: list[tuple[int, int]] = []
        seen: set[int] = set()

        programs = self._programs
        forms = self._part_forms
        first_words = self._part_first
        looked: set[int] = set()
        keys = th.key_sets()

        def find(part_index: int) -> bool:
            """Whether a part occurs in the text, its hits placed in ``parts`` the first time it is asked."""
            if part_index in parts:
                return True
            if part_index in looked or part_index not in forms:
                return False
            looked.add(part_index)
            found = th.find_words(forms[part_index])
            if found:
                parts[part_index] = found
                return True
            return False

        def wake(pis: list[int]) -> None:
            for pi in pis:
                if pi in seen:
                    continue
                seen.add(pi)
                prog = programs[pi]
                # Every words part it needs must be there (slots may still be filled by programs):
                # first a set test of the parts' first words, then their places.
                for w in prog.words:
                    if w not in parts:
                        for stream, first in first_words.get(w, ()):
                            if not keys[stream].isdisjoint(first):
                                break
                        else:
                            break
                else:
                    for w in prog.words:
                        if not find(w):
                            break
                    else:
                        for p in prog.parts:
                            if p[0] == "w" and p[2]:
                                find(p[1])  # an optional part, placed if it is there
                        heapq.heappush(queue, (position[prog.lexicon], pi))

        by_part = self._by_part
        for part_index in list(parts):  # the anchors found; waking a program looks up more parts
            woken = by_part.get(part_index)
            if woken:
                wake(woken)
        by_slot = self._by_slot
        for li in list(lex):
            woken = by_slot.get(li)
            if woken:
                wake(woken)
        while queue:
            _pos, pi = heapq.heappop(queue)
            prog = programs[pi]
            if any(slot not in lex for slot in prog.slots):
                continue
            found = self._assemble(prog, parts, lex, n)
            if not found:
                continue
            li = prog.lexicon
            had = li in lex
            bucket = lex.setdefault(li, [])
            for t0, t1 in found:
                if (t0, t1, prog.entry) not in bucket:
                    bucket.append((t0, t1, prog.entry))
            if self._negatable[li]:
                self._drop_negated(th, li)
            if not had and li in lex:
                wake(self._by_slot.get(li, ()))

    def _assemble(self, prog: _Program, parts: dict[int, list[tuple[int, int]]],
                  lex: dict[int, list[tuple[int, int, str]]], n: int) -> list[tuple[int, int]]:
        """The ranges of words where every part of a program matches in turn (optional parts may be left out)."""
        def hits_of(part: tuple[Any, ...]) -> list[tuple[int, int]]:
            if part[0] == "w":
                return parts.get(part[1]) or []
            found = lex.get(part[1])
            return [(a, b) for a, b, _e in found] if found else []

        for part in prog.parts:
            if part[0] == "lex" and not hits_of(part) or part[0] == "w" and not part[2] and not hits_of(part):
                return []
        # Partial matches as (start, end); (-1, -1) while no part has matched yet.
        state: set[tuple[int, int]] = {(-1, -1)}
        for part in prog.parts:
            nxt: set[tuple[int, int]] = set()
            if part[0] == "gap":
                for s, e in state:
                    if s < 0:
                        nxt.add((s, e))
                    else:
                        nxt.update((s, e + g) for g in range(part[1], part[2] + 1) if e + g <= n)
            else:
                found = hits_of(part)
                for s, e in state:
                    if s < 0:
                        nxt.update(found)
                    else:
                        nxt.update((s, b) for a, b in found if a == e)
                if part[0] == "w" and part[2]:
                    nxt |= state
            state = nxt
            if not state:
                return []
        # The longest match ending at each word: an optional leading part is taken when it is there.
        longest: dict[int, int] = {}
        for a, b in state:
            if a >= 0 and (b not in longest or a < longest[b]):
                longest[b] = a
        return sorted((a, b) for b, a in longest.items())

    # -- for the analysis and the linter ---------------------------------------

    def find(self, value: str) -> Iterator[tuple[str, str, int, int]]:
        """(lexicon, entry, start, end) for every hit in a text, spans in characters."""
        th = self.scan(value)
        if th is None:
            return
        for li, hits in sorted(th.lex.items()):
            for t0, t1, entry in hits:
                s, e = th.span(t0, t1, entry)
                yield self.names[li], entry, s, e


# The commonest words of posts in English and Hindi written in Roman letters: a poor anchor for a phrase.
_COMMON = frozenset(
    "a an the of to for in on at by with from is are was were be been am and or not no it its this that these those "
    "my our your his her their i we you he she they me us him them do does did will would can could shall should "
    "has have had new all every one more most just very so up out now then there here when what who why how as if "
    "but about after before over into only also any some such other own same than too today ko ka ki ke hai hain "
    "se ne par pe ye yeh wo woh aur bhi toh to hi".split()
)


class _Odds:
    """A rough chance that a word, a part of a phrase or a lexicon occurs in a text, for choosing anchors.

    The commonest words of posts are likely; among the others, a word that many entries of the rule
    set use is a word of the domain ("office", "government") and likelier than one only one entry
    uses; short words are likelier than long ones. A part is as likely as its options together,
    a lexicon as its entries together.
    """

    def __init__(self, keys: dict[tuple[int, str], list[tuple[Any, ...]]], lexicons: dict[str, dict[str, Any]],
                 index: dict[str, int]):
        self.uses: dict[str, int] = {}
        for (stream, key), _owners in keys.items():
            for w in key.split(SEPARATORS[stream]):
                if w:
                    self.uses[w] = self.uses.get(w, 0) + 1
        self.lexicons = lexicons
        self.names = list(lexicons)
        self._lexicon: dict[int, float] = {}

    def of_word(self, word: str) -> float:
        if word in _COMMON:
            return 0.05
        base = 0.004 if len(word) <= 3 else 0.001 if len(word) <= 5 else 0.0005
        return min(0.05, base * (1 + self.uses.get(word, 0)) ** 0.5)

    def of_words(self, words: tuple[str, ...]) -> float:
        out = 1.0
        for w in words:
            out *= self.of_word(w)
        return out

    def of_part(self, part: tuple[Any, ...], part_words: dict[int, list[tuple[str, ...]]]) -> float:
        if part[0] == "w":
            return min(1.0, sum(self.of_words(words) for words in part_words.get(part[1], [])))
        return self.of_lexicon(part[1])

    def of_lexicon(self, li: int) -> float:
        if li not in self._lexicon:
            self._lexicon[li] = 1.0  # a lexicon that fills its own slots through others: assume common
            total = 0.0
            lex = self.lexicons[self.names[li]]
            for e in lex["entries"]:
                text = e if isinstance(e, str) else e["text"]
                if "{" in text or "*" in text or "(" in text:
                    total += 0.01
                else:
                    total += self.of_words(tuple(t for t, _s, _e in tokens(text)))
                if total >= 1.0:
                    break
            self._lexicon[li] = min(1.0, total)
        return self._lexicon[li]


def _topological(nodes: list[int], deps: dict[int, set[int]]) -> list[int]:
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(n: int) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise EntryError("lexicons fill each other's slots in a cycle")
        state[n] = 1
        for d in sorted(deps.get(n, ())):
            visit(d)
        state[n] = 2
        order.append(n)

    for n in nodes:
        visit(n)
    return order


class TextHits:
    """The hits of the lexicons in one text, with what proximity and stance need, computed on demand."""

    __slots__ = ("matcher", "value", "words", "_toks", "lex", "combined", "starts", "keyed", "tag_spans",
                 "_spans", "_sentence", "_aux", "_negators", "_valence", "_index")

    def __init__(self, matcher: LexiconMatcher, value: str, words: list[str],
                 toks: list[tuple[str, int, int]] | None):
        self.matcher = matcher
        self.value = value
        self.words = words
        self._toks = toks
        self.lex: dict[int, list[tuple[int, int, str]]] = {}
        # The streams as scanned (valence words, negators and intensifiers are found in them on first use)
        # and the keys of the words in each stream (for the parts of phrases).
        self.combined = ""
        self.starts = [0, 0, 0]
        self.keyed: list[list[str] | None] = [None, None, None]
        self._index: list[set[str] | None] = [None, None, None]  # the keys of each stream, as a set
        self._aux: list[tuple[int, int, tuple[Any, ...]]] | None = None
        self.tag_spans: dict[tuple[int, str, int], tuple[int, int]] = {}
        self._spans: list[tuple[int, int]] | None = None
        self._sentence: list[int] | None = None
        self._negators: list[tuple[int, int, bool, bool]] | None = None
        self._valence: list[tuple[int, int, float, int]] | None = None

    # -- places -------------------------------------------------------------

    def spans(self) -> list[tuple[int, int]]:
        """The character span of every word, in order."""
        if self._spans is None:
            if self._toks is not None:
                self._spans = [(s, e) for _t, s, e in self._toks]
            elif self.value.isascii() and "@" not in self.value:
                self._spans = [mt.span() for mt in _ASCII_WORD.finditer(self.value)]
            else:
                self._spans = word_spans(self.value)
        return self._spans

    def span(self, t0: int, t1: int, entry: str = "") -> tuple[int, int]:
        """The characters of words [t0, t1); a hashtag entry's span includes its `#`,
        and an entry that ends in punctuation ("CPI(M)") takes the same punctuation
        when the text has it straight after the last word."""
        if self.tag_spans:
            tag = self.tag_spans.get((t0, t1, entry))
            if tag is not None:
                return tag
        spans = self.spans()
        start, end = spans[t0][0], spans[t1 - 1][1]
        tail = len(entry) - len(entry.rstrip(_CLOSING))
        if tail:
            closing = entry[len(entry) - tail:]
            if self.value.startswith(closing, end):
                end += tail
        return start, end

    def sentence_of(self, t: int) -> int:
        """The number of the sentence a word is in."""
        if self._sentence is None:
            breaks = sentence_breaks(self.value)
            self._sentence = [bisect.bisect_right(breaks, s) for s, _e in self.spans()]
        return self._sentence[t]

    # -- negation -----------------------------------------------------------

    def key_sets(self) -> list[set[str]]:
        """The keys of the text's words in each stream, as sets."""
        present = self._index
        for stream, keyed in enumerate(self.keyed):
            if present[stream] is None:
                present[stream] = set(keyed) if keyed is not None else set()
        return present  # type: ignore[return-value]

    def find_words(self, forms: list[tuple[int, tuple[str, ...]]]) -> list[tuple[int, int]]:
        """The ranges [t0, t1) where any of the word sequences occurs, each in its stream's keys."""
        out: list[tuple[int, int]] = []
        present = self._index
        for stream, words in forms:
            keys = present[stream]
            if keys is None:
                keyed = self.keyed[stream]
                if keyed is None:
                    continue
                keys = present[stream] = set(keyed)
            first = words[0]
            if first not in keys:
                continue
            keyed = self.keyed[stream]
            assert keyed is not None
            n = len(words)
            if n == 1:
                out.extend([(t, t + 1) for t, key in enumerate(keyed) if key == first])
            elif all(w in keys for w in words):
                rest = list(words[1:])
                out.extend([(t, t + n) for t, key in enumerate(keyed) if key == first and keyed[t + 1 : t + n] == rest])
        if len(out) > 1 and len(forms) > 1:
            out = sorted(set(out))
        return out

    @property
    def aux(self) -> list[tuple[int, int, tuple[Any, ...]]]:
        """(t0, t1, owner) of every valence word, negator and intensifier in the text."""
        if self._aux is None:
            out = []
            combined, starts = self.combined, self.starts
            if combined and self.matcher._has_aux:
                for end, (length, stream, owners) in self.matcher._aux_automaton.iter(combined):
                    t0 = combined.count(SEPARATORS[stream], starts[stream], end - length + 1)
                    for owner in owners:
                        out.append((t0, t0 + owner[3], owner))
            self._aux = out
        return self._aux

    def negators(self) -> list[tuple[int, int, bool, bool]]:
        if self._negators is None:
            self._negators = sorted((t0, t1, o[1], o[2]) for t0, t1, o in self.aux if o[0] == _NEGATOR)
        return self._negators

    def negated(self, t0: int, t1: int) -> bool:
        """Whether the words [t0, t1) are negated: a negator just before them, or a Hindi one just after."""
        m = self.matcher
        found = self.negators()
        if not found:
            return False
        sentence = None
        for n0, n1, before, after in found:
            if before and n1 <= t0 and t0 - n1 < m.negation_window:
                pass
            elif after and n0 >= t1 and n0 - t1 < m.negation_after_window:
                pass
            else:
                continue
            if sentence is None:
                sentence = self.sentence_of(t0)
            if self.sentence_of(n0) == sentence:
                return True
        return False

    # -- valence ------------------------------------------------------------

    def valence(self) -> list[tuple[int, int, float, int]]:
        """(t0, t1, score, lexicon or -1 for the base) of every valence word, the longest where they overlap,
        with negation and intensifiers applied."""
        if self._valence is None:
            found = [(t0, t1, o[1], o[2]) for t0, t1, o in self.aux if o[0] == _VALENCE]
            # The longest phrase wins over the words inside it; a policy's word over the base's.
            found.sort(key=lambda v: (v[0], -(v[1] - v[0]), v[3] < 0))
            kept: list[tuple[int, int, float, int]] = []
            for v in found:
                if any(k[0] < v[1] and v[0] < k[1] for k in kept):
                    continue
                kept.append(v)
            boosts = [(t0, t1, o[1]) for t0, t1, o in self.aux if o[0] == _BOOSTER]
            out = []
            for t0, t1, score, src in kept:
                if not score:
                    continue  # a neutral word: it only kept a rated word inside it from counting
                for b0, b1, amount in boosts:
                    if b1 <= t0 and t0 - b1 < 2:
                        score += amount if score > 0 else -amount
                if self._negated_valence(t0, t1):
                    score *= self.matcher.negation_scale
                out.append((t0, t1, score, src))
            self._valence = out
        return self._valence

    def _negated_valence(self, t0: int, t1: int) -> bool:
        # A negator inside the valence phrase ("no shame") is part of its meaning, not a negation of it.
        return self.negated(t0, t1)

    def stance(self, li: int, sign: int, within: int | None) -> list[tuple[tuple[int, int, str],
                                                                      list[tuple[int, int, float, int]]]]:
        """Each hit of lexicon ``li`` that words of the given sign surround: (target, contributing words)."""
        targets = self.lex.get(li)
        if not targets:
            return []
        m = self.matcher
        window = m.stance_window if within is None else within
        valence = self.valence()
        if not valence:
            return []
        out = []
        threshold = m.stance_threshold
        sentences: list[int] | None = None
        for t0, t1, entry in targets:
            near = [
                v for v in valence
                if (v[1] <= t0 and t0 - v[1] <= window or v[0] >= t1 and v[0] - t1 <= window)
                # A word inside another name of the target ("party" in "Congress party") names, not judges.
                and not any(a < v[1] and v[0] < b for a, b, _e in targets)
            ]
            # Words of the other sign only take away: without those of this sign enough, no stance
            # (and the sentences need not be worked out).
            if sum(v[2] for v in near if v[2] * sign > 0) * sign < threshold:
                continue
            if sentences is None:
                self.sentence_of(0)
                sentences = self._sentence
                assert sentences is not None
            sentence = sentences[t0]
            near = [v for v in near if sentences[v[0]] == sentence]
            total = sum(v[2] for v in near)
            if total * sign >= threshold:
                out.append(((t0, t1, entry), [v for v in near if v[2] * sign > 0]))
        return out

    def near(self, a: int, b: int, within: int | None) -> list[tuple[tuple[int, int, str], tuple[int, int, str]]]:
        """Pairs of hits of lexicons ``a`` and ``b`` in one sentence, apart, with at most ``within`` words between."""
        first = self.lex.get(a)
        second = self.lex.get(b)
        if not first or not second:
            return []
        out = []
        for x in first:
            for y in second:
                if x[0] < y[1] and y[0] < x[1]:
                    continue
                gap = y[0] - x[1] if y[0] >= x[1] else x[0] - y[1]
                if within is not None and gap > within:
                    continue
                if self.sentence_of(x[0]) != self.sentence_of(y[0]):
                    continue
                out.append((x, y))
        return out


__all__ = ["Choice", "LexiconMatcher", "TextHits", "EntryError", "Gap", "Slot", "Words", "expand", "has_syntax",
           "sample", "word_variants"]
