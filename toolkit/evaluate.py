"""The checker: a rule set × a post → an outcome, the deciding clauses, the evidence.

It reads only the compiled rule set (never the parser or the model). At
load time every lexicon of the rule set goes into one Aho-Corasick automaton
and every pattern into one RE2 set, and every condition becomes a Python
closure; checking a post then makes one matching pass per text field and
evaluates the closures.

Meaning (docs/semantics.md): a clause applies when its condition holds and
none of its exceptions does; a post's outcome is the strongest outcome of
the clauses that apply, or the policy's default when none does; every
applying clause is reported, with the evidence that made it apply.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from .posts import Problem, validate
from .rules import OUTCOMES
from .text import Normalized, entry_keys, hashtag_key, hashtags, normalized_words, tokens, word_spans

# On ASCII text a word is [A-Za-z0-9]+, lowered (toolkit.text): everything else separates words.
_ASCII_FOLD = bytes(
    (c | 0x20) if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)

_SPACES = re.compile(rb"  +")

PATTERN_FLAGS = {"i": "(?i)", "s": "(?s)", "m": "(?m)"}
_RANK = {name: i for i, name in enumerate(OUTCOMES)}

Evidence = dict[str, Any]
Fn = Callable[["_Ctx", "list[Evidence] | None"], bool]


@dataclass(slots=True)
class Verdict:
    """The result of checking one post."""

    id: Any
    outcome: str
    deciding: list[str]
    findings: list[dict[str, Any]]
    excepted: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "outcome": self.outcome,
            "deciding": self.deciding,
            "findings": self.findings,
            "excepted": self.excepted,
        }
        if self.warnings:
            out["warnings"] = self.warnings
        return out


class _Ctx:
    """Per-post state: the post, and matches computed on first use."""

    __slots__ = ("post", "labels", "ts", "lex", "pat", "signals", "checker")

    def __init__(self, post: dict[str, Any], checker: Checker):
        self.post = post
        # A label set on an attached item counts as a label of the post.
        media = post["media"]
        if media:
            self.labels = set(post["labels"])
            for item in media:
                self.labels.update(item.get("labels") or ())
        else:
            labels = post["labels"]
            self.labels = set(labels) if labels else _NO_LABELS
        self.ts = post["_ts"]
        self.lex: dict[str, dict[str, list[Evidence]]] = {}
        self.pat: dict[str, dict[str, list[Evidence]]] = {}
        self.signals: dict[str, bool] = {}
        self.checker = checker


def _field_values(post: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """(display path, value) for every value a path holds in a post; lists fan out."""
    return _ACCESSORS[path](post) if path in _ACCESSORS else _field_values_slow(post, path)


def _accessor(path: str) -> Callable[[dict[str, Any]], list[tuple[str, Any]]]:
    if path in _ACCESSORS:
        return _ACCESSORS[path]
    head = path.partition(".")[0]

    def get(post: dict[str, Any]) -> list[tuple[str, Any]]:
        # Most posts have no media, no links, no labels: nothing to fan out.
        value = post.get(head)
        if value is None or (type(value) is list and not value):
            return []
        return _field_values_slow(post, path)

    return get


def _scalar(name: str) -> Callable[[dict[str, Any]], list[tuple[str, Any]]]:
    def get(post: dict[str, Any]) -> list[tuple[str, Any]]:
        value = post.get(name)
        return [] if value is None else [(name, value)]

    return get


def _member(group: str, name: str) -> Callable[[dict[str, Any]], list[tuple[str, Any]]]:
    path = f"{group}.{name}"

    def get(post: dict[str, Any]) -> list[tuple[str, Any]]:
        obj = post.get(group)
        if not obj:
            return []
        value = obj.get(name)
        return [] if value is None else [(path, value)]

    return get


# The common single-valued fields, read without parsing their path each time.
_ACCESSORS = {
    name: _scalar(name) for name in ("id", "text", "platform", "action", "audience", "posted_at")
} | {
    f"{g}.{n}": _member(g, n)
    for g, names in (("account", ("kind", "handle", "bio")), ("author", ("service", "grade", "cadre")),
                     ("shared_from", ("kind", "text")), ("sanction", ("obtained", "authority", "reference")))
    for n in names
}


def _field_values_slow(post: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    head, _, rest = path.partition(".")
    if not rest:
        value = post.get(head)
        if isinstance(value, list):
            return [(f"{head}[{i}]", v) for i, v in enumerate(value)]
        return [] if value is None else [(head, value)]
    group = post.get(head)
    if group is None:
        return []
    if isinstance(group, list):
        out = []
        for i, item in enumerate(group):
            value = item.get(rest)
            if isinstance(value, list):
                out.extend((f"{head}[{i}].{rest}[{j}]", v) for j, v in enumerate(value))
            elif value is not None:
                out.append((f"{head}[{i}].{rest}", value))
        return out
    value = group.get(rest)
    if isinstance(value, list):
        return [(f"{path}[{j}]", v) for j, v in enumerate(value)]
    return [] if value is None else [(path, value)]


class LexiconMatcher:
    """Every entry of a set of lexicons, found in one pass over a text.

    Word entries go into one Aho-Corasick automaton over normalised text;
    entries written as hashtags (`#ad`) are looked up among the text's
    hashtags.
    """

    def __init__(self, lexicons: dict[str, dict[str, Any]]):
        self._automaton = ahocorasick.Automaton()
        keys: dict[str, list[tuple[str, str]]] = {}
        self._hashtags: dict[str, list[tuple[str, str]]] = {}
        for lex_id, lex in lexicons.items():
            for entry in lex["entries"]:
                tag = hashtag_key(entry)
                if tag is not None:
                    self._hashtags.setdefault(tag, []).append((lex_id, entry))
                    continue
                for key in entry_keys(entry):
                    keys.setdefault(key, []).append((lex_id, entry))
        for key, owners in keys.items():
            # The key is padded with one space each side; store its length to find its start.
            self._automaton.add_word(key, (len(key), tuple(owners)))
        self._has_words = bool(keys)
        if keys:
            self._automaton.make_automaton()

    def __bool__(self) -> bool:
        return self._has_words or bool(self._hashtags)

    def find(self, value: str) -> Iterator[tuple[str, str, int, int]]:
        """(lexicon, entry, start, end) for every occurrence of every entry in a text."""
        if self._has_words:
            if value.isascii() and "#" not in value:
                # The common case, normalised as `normalize` does it, in one C-level pass;
                # the token positions are worked out only for a text that matches.
                words = b" ".join(value.encode("ascii").translate(_ASCII_FOLD).split())
                text = " " + words.decode("ascii") + " " if words else " "
                hits = self._automaton.iter(text)
                first = next(hits, None)
                if first is not None:
                    norm = Normalized(text, value)
                    for end, (length, owners) in itertools.chain((first,), hits):
                        s, e = norm.original_span(end - length + 2, end)
                        for lex_id, entry in owners:
                            yield lex_id, entry, s, e
            else:
                # Tokenised once: the same tokens give the normalised text and, on a match, the spans.
                toks = tokens(value)
                norm = Normalized(" " + " ".join(t for t, _s, _e in toks) + " " if toks else " ", value)
                norm._spans = [(s, e) for _t, s, e in toks]
                for end, (length, owners) in self._automaton.iter(norm.text):
                    s, e = norm.original_span(end - length + 2, end)
                    for lex_id, entry in owners:
                        yield lex_id, entry, s, e
        if self._hashtags and "#" in value:
            for tag, s, e in hashtags(value):
                for lex_id, entry in self._hashtags.get(tag, ()):
                    yield lex_id, entry, s, e

    def scan(self, value: str) -> list[tuple[str, str, int, int]]:
        """``list(self.find(value))``, with no generator and no span work for a text that matches nothing."""
        if not self._has_words:
            return list(self.find(value))
        hashtag = "#" in value
        ascii = not hashtag and value.isascii()
        if ascii:
            # Words joined by single spaces and padded: runs of separators made one space, by C-level passes.
            folded = value.encode("ascii").translate(_ASCII_FOLD)
            words = _SPACES.sub(b" ", folded).strip(b" ") if b"  " in folded else folded.strip(b" ")
            text = " " + words.decode("ascii") + " " if words else " "
        else:
            words_text = normalized_words(value)
            text = " " + words_text + " " if words_text else " "
        hits = self._automaton.iter(text)
        first = next(hits, None)
        if first is None:
            return self._hashtag_hits(value, []) if hashtag else []
        out: list[tuple[str, str, int, int]] = []
        if ascii:
            # The folded text keeps the original's positions; the normalised one is it with its
            # leading spaces dropped and each run of spaces made one. A position maps back by
            # adding the spaces dropped before it: the leading ones and those of each run.
            lead = len(folded) - len(folded.lstrip(b" "))
            runs: list[tuple[int, int]] = []  # (position of a run's space in `words`, spaces dropped up to it)
            if b"  " in folded:
                dropped = 0
                for mt in _SPACES.finditer(folded, lead):
                    runs.append((mt.start() - lead - dropped, dropped + mt.end() - mt.start() - 1))
                    dropped = runs[-1][1]
            for end, (length, owners) in itertools.chain((first,), hits):
                # In `words`, the match covers [end - length + 1, end - 1): text is " " + words + " ".
                q = end - length + 1
                r = end - 2  # its last character
                s = q + lead
                e = r + lead + 1
                for at, total in runs:
                    if at >= r:
                        break
                    if at < q:
                        s = q + lead + total
                    e = r + lead + total + 1
                for lex_id, entry in owners:
                    out.append((lex_id, entry, s, e))
            return out
        norm = Normalized(text, value)
        norm._spans = [(s, e) for _t, s, e in tokens(value)] if hashtag else word_spans(value)
        for end, (length, owners) in itertools.chain((first,), hits):
            s, e = norm.original_span(end - length + 2, end)
            for lex_id, entry in owners:
                out.append((lex_id, entry, s, e))
        return self._hashtag_hits(value, out) if hashtag else out

    def _hashtag_hits(self, value: str, out: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
        """The entries written as hashtags found in a text, after ``out`` (as :meth:`find` gives them)."""
        if self._hashtags:
            for tag, s, e in hashtags(value):
                for lex_id, entry in self._hashtags.get(tag, ()):
                    out.append((lex_id, entry, s, e))
        return out


class Checker:
    """Checks posts against one compiled rule set."""

    def __init__(self, ruleset: dict[str, Any], *, use_triggers: bool = True):
        """Compile a rule set for checking.

        Args:
            ruleset: a rule set as :func:`toolkit.rules.loads` returns it.
            use_triggers: skip clauses none of whose trigger words occur
                (exact; turned off only to test that it is exact).
        """
        import re2

        self.ruleset = ruleset
        self.policy = ruleset["policy"]
        self.default_outcome = self.policy["default_outcome"]

        self._lexicons = LexiconMatcher(ruleset["lexicons"])

        # One RE2 set for every pattern; the set says which match, then only
        # those run again to find their spans.
        options = re2.Options()
        options.log_errors = False
        self._pattern_ids: list[str] = []
        self._patterns: list[Any] = []
        self._set = re2.Set.SearchSet(options)
        for pat_id, pat in ruleset["patterns"].items():
            prefix = "".join(PATTERN_FLAGS[f] for f in pat["flags"])
            self._set.Add(prefix + pat["regex"])
            self._patterns.append(re2.compile(prefix + pat["regex"], options))
            self._pattern_ids.append(pat_id)
        if self._patterns:
            self._set.Compile()

        self._periods = {
            pid: (_instant(p["start"]), _instant(p["end"])) for pid, p in ruleset["periods"].items()
        }
        self._signals: dict[str, Fn] = {}
        for sid, sig in ruleset["signals"].items():
            self._signals[sid] = self._compile(sig["when"])
        self._clauses = []
        for clause in ruleset["clauses"]:
            self._clauses.append(
                (
                    clause,
                    self._compile(clause["when"]),
                    [(e["description"], self._compile(e["when"])) for e in clause["unless"]],
                    sorted(set(self._trigger(clause["when"])), key=lambda t: (_trigger_cost(t), sorted(t)))
                    if use_triggers else [],
                )
            )
        # Clauses by trigger atom: a post visits only the clauses some of whose
        # atoms fired (and those without a trigger), in document order.
        self._by_atom: dict[tuple[str, ...], list[int]] = {}
        self._untriggered: list[int] = []
        for i, (_c, _w, _u, trig) in enumerate(self._clauses):
            if not trig:
                self._untriggered.append(i)
            else:
                # Indexed by the rarest necessary set; the others are checked on visit.
                for atom in trig[0]:
                    self._by_atom.setdefault(atom, []).append(i)
        # What must be looked at in a post to know which trigger atoms hold.
        atoms = {atom for _c, _w, _u, trig in self._clauses for t in trig for atom in t}
        # Every field some condition searches, with whether lexicons and/or
        # patterns are searched there: one matching pass per field fills the
        # post's match cache before any clause is looked at.
        searched: dict[str, list[bool]] = {}
        for cond in self._all_conditions():
            for node in _nodes(cond):
                if "mentions" in node:
                    searched.setdefault(node["field"], [False, False])[0] = True
                if "matches" in node:
                    searched.setdefault(node["field"], [False, False])[1] = True
        self._trigger_fields = [(path, _accessor(path), lx, pt) for path, (lx, pt) in sorted(searched.items())]
        self._trigger_values = sorted({a[1] for a in atoms if a[0] == "field"})
        self._trigger_getters = [(path, _accessor(path)) for path in self._trigger_values]
        self._trigger_periods = sorted({a[1] for a in atoms if a[0] == "period"})

        # The hot path (check_post): every trigger atom is one bit, the atoms
        # that hold for a post one int, and a clause is evaluated only when
        # each of its necessary sets (a mask) shares a bit with the post's.
        bit_of = {atom: 1 << i for i, atom in enumerate(sorted(atoms, key=repr))}
        self._clause_masks = [[sum(bit_of[a] for a in t) for t in trig] for _c, _w, _u, trig in self._clauses]
        self._label_bits = {a[1]: b for a, b in bit_of.items() if a[0] == "label"}
        self._value_bits = []
        for path in self._trigger_values:
            table = {a[2]: b for a, b in bit_of.items() if a[0] == "field" and a[1] == path}
            head, _, rest = path.partition(".")
            if path in _ACCESSORS:
                group, name = (head, rest) if rest else (None, head)
            else:
                group = name = None
            self._value_bits.append((table, group, name, _accessor(path), {}))
        self._period_bits = [(*self._periods[p], bit_of[("period", p)]) for p in self._trigger_periods]
        # The searched fields, a single-valued one read directly: (path, group, name, get, lexicons, patterns).
        self._text_fields = []
        for path, get, lexicons, patterns in self._trigger_fields:
            head, _, rest = path.partition(".")
            if path in _ACCESSORS:
                group, name = (head, rest) if rest else (None, head)
            else:
                group = name = None
            self._text_fields.append((path, group, name, get, lexicons, patterns))
        # The set's own Match (on UTF-8 bytes), without the wrapper's checks, when the binding has one.
        raw_set = getattr(self._set, "_set", None)
        self._raw_set = raw_set is not None
        self._set_match = raw_set.Match if raw_set is not None else self._set.Match
        self._lex_bits = {(a[1], a[2]): b for a, b in bit_of.items() if a[0] == "lex"}
        self._pat_bits = {(a[1], a[2]): b for a, b in bit_of.items() if a[0] == "pat"}
        # What a finding of each clause holds besides its evidence (its citations list is shared).
        self._finding_parts = [
            (_RANK[c["outcome"]], {"clause": c["id"], "number": c["number"], "title": c["title"], "topic": c["topic"],
                                   "outcome": c["outcome"], "authority": c["authority"],
                                   "citations": [x["text"] for x in c["citations"]]})
            for c, _w, _u, _t in self._clauses
        ]
        # The clauses to evaluate, by the set of atoms that hold (bounded; exact whatever its size).
        self._candidates: dict[int, list[int]] = {}

    # -- triggers ---------------------------------------------------------

    def _trigger(self, c: dict[str, Any], seen: frozenset[str] = frozenset()) -> list[frozenset[tuple[str, ...]]]:
        """Necessary conditions of a condition, as sets of atoms: each set must have an atom that holds.

        Only lexicon, pattern, label, period and field-value atoms are used.
        INVARIANT: if the condition holds then every returned set contains
        an atom that holds (an empty list says nothing).
        """
        if "mentions" in c:
            return [frozenset({("lex", c["field"], c["mentions"])})]
        if "matches" in c:
            return [frozenset({("pat", c["field"], c["matches"])})]
        if "labelled" in c:
            return [frozenset({("label", c["labelled"])})]
        if "during" in c:
            return [frozenset({("period", c["during"])})]
        if "field" in c and "in" in c:
            return [frozenset(("field", c["field"], _fold(v)) for v in c["in"])]
        if "signal" in c:
            name = c["signal"]
            if name in seen:
                return []
            return self._trigger(self.ruleset["signals"][name]["when"], seen | {name})
        if "all" in c:
            # Every conjunct's necessary sets are necessary for the whole.
            return [t for arg in c["all"] for t in self._trigger(arg, seen)]
        if "any" in c:
            # Some disjunct holds, so the union of one necessary set of each is necessary.
            union: set[tuple[str, ...]] = set()
            for arg in c["any"]:
                sub = self._trigger(arg, seen)
                if not sub:
                    return []
                union |= min(sub, key=_trigger_cost)
            return [frozenset(union)]
        return []  # negations and dates: usually true, not worth indexing

    def _fired(self, ctx: _Ctx) -> set[tuple[str, ...]]:
        """Every trigger atom that holds for the post, after one matching pass per field."""
        fired: set[tuple[str, ...]] = {("label", label) for label in ctx.labels} if ctx.labels else set()
        post = ctx.post
        for path, get_values in self._trigger_getters:
            for _where, value in get_values(post):
                fired.add(("field", path, value.casefold() if type(value) is str else value))
        ts = ctx.ts
        if ts is not None:
            for period in self._trigger_periods:
                start, end = self._periods[period]
                if start <= ts < end:
                    fired.add(("period", period))
        for path, get, lexicons, patterns in self._trigger_fields:
            if not get(post):
                # Most posts have no bio, no shared text, no media.
                ctx.lex[path] = _NONE
                ctx.pat[path] = _NONE
                continue
            if lexicons:
                for lex in self._lexicon_hits(ctx, path):
                    fired.add(("lex", path, lex))
            if patterns:
                for pat in self._pattern_hits(ctx, path):
                    fired.add(("pat", path, pat))
        return fired

    def _all_conditions(self) -> Iterator[dict[str, Any]]:
        for sig in self.ruleset["signals"].values():
            yield sig["when"]
        for clause in self.ruleset["clauses"]:
            yield clause["when"]
            for exc in clause["unless"]:
                yield exc["when"]

    # -- matching -------------------------------------------------------

    def _lexicon_hits(self, ctx: _Ctx, path: str) -> dict[str, list[Evidence]]:
        hits = ctx.lex.get(path)
        if hits is not None:
            return hits
        hits = {}
        if self._lexicons:
            for where, value in _field_values(ctx.post, path):
                if not isinstance(value, str) or not value:
                    continue
                for lex_id, entry, s, e in self._lexicons.find(value):
                    hits.setdefault(lex_id, []).append(
                        {"field": where, "start": s, "end": e, "text": value[s:e], "lexicon": lex_id, "entry": entry}
                    )
        ctx.lex[path] = hits
        return hits

    def _pattern_hits(self, ctx: _Ctx, path: str) -> dict[str, list[Evidence]]:
        hits = ctx.pat.get(path)
        if hits is not None:
            return hits
        hits = {}
        if self._patterns:
            for where, value in _field_values(ctx.post, path):
                if not isinstance(value, str) or not value:
                    continue
                for index in sorted(self._set.Match(value) or ()):
                    pat_id = self._pattern_ids[index]
                    for mt in self._patterns[index].finditer(value):
                        if mt.end() == mt.start():
                            continue
                        hits.setdefault(pat_id, []).append(
                            {"field": where, "start": mt.start(), "end": mt.end(), "text": mt.group(),
                             "pattern": pat_id}
                        )
        ctx.pat[path] = hits
        return hits

    # -- compiling conditions to closures --------------------------------

    def _compile(self, c: dict[str, Any]) -> Fn:
        if "all" in c:
            parts = [self._compile(a) for a in c["all"]]

            def all_(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                if ev is None:
                    return all(p(ctx, None) for p in parts)
                local: list[Evidence] = []
                for p in parts:
                    if not p(ctx, local):
                        return False
                ev.extend(local)
                return True

            return all_
        if "any" in c:
            parts = [self._compile(a) for a in c["any"]]

            def any_(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                if ev is None:
                    return any(p(ctx, None) for p in parts)
                found = False
                for p in parts:
                    local: list[Evidence] = []
                    if p(ctx, local):
                        found = True
                        ev.extend(local)
                return found

            return any_
        if "not" in c:
            inner = self._compile(c["not"])
            return lambda ctx, ev: not inner(ctx, None)
        if "signal" in c:
            name = c["signal"]

            def signal(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                if ev is None:
                    cached = ctx.signals.get(name)
                    if cached is None:
                        cached = ctx.signals[name] = self._signals[name](ctx, None)
                    return cached
                return self._signals[name](ctx, ev)

            return signal
        if "mentions" in c:
            path, lex = c["field"], c["mentions"]

            def mentions(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                hits = ctx.lex.get(path)
                found = (hits if hits is not None else self._lexicon_hits(ctx, path)).get(lex)
                if found and ev is not None:
                    ev.extend(found)
                return bool(found)

            return mentions
        if "matches" in c:
            path, pat = c["field"], c["matches"]

            def matches(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                hits = ctx.pat.get(path)
                found = (hits if hits is not None else self._pattern_hits(ctx, path)).get(pat)
                if found and ev is not None:
                    ev.extend(found)
                return bool(found)

            return matches
        if "field" in c:
            path = c["field"]
            wanted = c["in"]
            fold = not all(isinstance(v, bool) for v in wanted)
            wanted_set = {v.casefold() if isinstance(v, str) else v for v in wanted}

            def compare(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                for where, value in _field_values(ctx.post, path):
                    key = value.casefold() if fold and isinstance(value, str) else value
                    if key in wanted_set:
                        if ev is not None:
                            ev.append({"field": where, "value": value})
                        return True
                return False

            return compare
        if "labelled" in c:
            label = c["labelled"]

            def labelled(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                if label in ctx.labels:
                    if ev is not None:
                        ev.append({"field": _label_field(ctx.post, label), "value": label})
                    return True
                return False

            return labelled
        if "during" in c:
            period = c["during"]
            start, end = self._periods[period]

            def during(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                ts = ctx.ts
                if ts is not None and start <= ts < end:
                    if ev is not None:
                        ev.append({"field": "posted_at", "value": ctx.post["posted_at"], "period": period})
                    return True
                return False

            return during
        if "posted_before" in c or "posted_after" in c:
            before = "posted_before" in c
            limit = _instant(c["posted_before" if before else "posted_after"])

            def posted(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                ts = ctx.ts
                ok = ts is not None and (ts < limit if before else ts >= limit)
                if ok and ev is not None:
                    ev.append({"field": "posted_at", "value": ctx.post["posted_at"]})
                return ok

            return posted
        raise ValueError(f"unknown condition {sorted(c)}")

    # -- checking ---------------------------------------------------------

    def _warnings(self, ctx: _Ctx) -> list[dict[str, Any]]:
        from .diagnostics import did_you_mean

        declared = self.ruleset["labels"]
        out = []
        for label in sorted(ctx.labels - declared.keys()):
            warning = {"code": "R308", "field": _label_field(ctx.post, label),
                       "message": f"`{label}` is not a label of this policy, so no clause tests it"}
            hint = did_you_mean(label, declared)
            if hint:
                warning["help"] = hint
            out.append(warning)
        return out

    def _clauses_for(self, bits: int) -> list[int]:
        """The clauses each of whose necessary sets has an atom among ``bits``, in document order."""
        found = [i for i, masks in enumerate(self._clause_masks) if all(m & bits for m in masks)]
        if len(self._candidates) >= 4096:
            self._candidates.clear()
        self._candidates[bits] = found
        return found

    def _scan_lexicons(self, values: list[tuple[str, Any]]) -> dict[str, list[Evidence]]:
        """What :meth:`_lexicon_hits` finds, from a field's values."""
        hits: dict[str, list[Evidence]] = {}
        if self._lexicons:
            scan = self._lexicons.scan
            for where, value in values:
                if not isinstance(value, str) or not value:
                    continue
                for lex_id, entry, s, e in scan(value):
                    hits.setdefault(lex_id, []).append(
                        {"field": where, "start": s, "end": e, "text": value[s:e], "lexicon": lex_id, "entry": entry}
                    )
        return hits if hits else _NONE

    def _scan_patterns(self, values: list[tuple[str, Any]]) -> dict[str, list[Evidence]]:
        """What :meth:`_pattern_hits` finds, from a field's values."""
        hits: dict[str, list[Evidence]] = {}
        if self._patterns:
            match = self._set.Match
            for where, value in values:
                if not isinstance(value, str) or not value:
                    continue
                found = match(value)
                if not found:
                    continue
                for index in sorted(found):
                    pat_id = self._pattern_ids[index]
                    for mt in self._patterns[index].finditer(value):
                        if mt.end() == mt.start():
                            continue
                        hits.setdefault(pat_id, []).append(
                            {"field": where, "start": mt.start(), "end": mt.end(), "text": mt.group(),
                             "pattern": pat_id}
                        )
        return hits if hits else _NONE

    def check_post(self, post: dict[str, Any]) -> Verdict:
        """Check a post that passed :func:`toolkit.posts.validate`.

        The same verdict as :meth:`check_post_reference`, computed with the
        trigger atoms as bits and the clauses to evaluate looked up by them.
        """
        verdict = self.check_post_or_none(post)
        if verdict is None:
            return Verdict(post.get("id"), self.default_outcome, [], [], [], [])
        return verdict

    def check_post_or_none(self, post: dict[str, Any]) -> Verdict | None:
        """:meth:`check_post`, but None for the commonest verdict: the default, nothing applies, no warnings."""
        if post["labels"] or post["media"]:
            ctx: _Ctx | None = _Ctx(post, self)
            labels = ctx.labels  # type: ignore[union-attr]
        else:
            ctx = None
            labels = _NO_LABELS
        bits = 0
        if labels:
            warnings = self._warnings(ctx)  # type: ignore[arg-type]
            label_bits = self._label_bits
            for label in labels:
                bits |= label_bits.get(label, 0)
        else:
            warnings = []
        for table, group, name, get, seen in self._value_bits:
            if name is None:
                for _where, value in get(post):
                    bits |= table.get(value.casefold() if type(value) is str else value, 0)
                continue
            if group is None:
                value = post.get(name)
            else:
                obj = post.get(group)
                value = obj.get(name) if obj else None
            if value is not None:
                bit = seen.get(value)
                if bit is None:
                    # The bit of a value as given, remembered (a field holds few distinct values).
                    bit = table.get(value.casefold() if type(value) is str else value, 0)
                    if len(seen) < 1024:
                        seen[value] = bit
                bits |= bit
        ts = post["_ts"]
        if ts is not None:
            for start, end, bit in self._period_bits:
                if start <= ts < end:
                    bits |= bit
        lexmap: dict[str, dict[str, list[Evidence]]] = {}
        patmap: dict[str, dict[str, list[Evidence]]] = {}
        scan = self._lexicons.scan if self._lexicons else None
        set_match = self._set_match if self._patterns else None
        raw = self._raw_set
        for path, group, name, get, lexicons, patterns in self._text_fields:
            if name is None:
                values = get(post)
            else:
                if group is None:
                    value = post.get(name)
                else:
                    obj = post.get(group)
                    value = obj.get(name) if obj else None
                if value is None:
                    values = None
                elif type(value) is not str or not value:
                    values = [(path, value)]
                else:
                    # The common case, one text: matched here, and nothing built when nothing matches.
                    if lexicons:
                        found = scan(value) if scan is not None else None
                        if found:
                            hits = lexmap[path] = {}
                            for lex_id, entry, s, e in found:
                                hits.setdefault(lex_id, []).append(
                                    {"field": path, "start": s, "end": e, "text": value[s:e], "lexicon": lex_id,
                                     "entry": entry}
                                )
                            for lex in hits:
                                bits |= self._lex_bits.get((path, lex), 0)
                        else:
                            lexmap[path] = _NONE
                    if patterns:
                        if set_match is not None and (set_match(value.encode("utf-8")) if raw else set_match(value)):
                            hits = patmap[path] = self._scan_patterns([(path, value)])
                            for pat in hits:
                                bits |= self._pat_bits.get((path, pat), 0)
                        else:
                            patmap[path] = _NONE
                    continue
            if not values:
                lexmap[path] = _NONE
                patmap[path] = _NONE
                continue
            if lexicons:
                hits = lexmap[path] = self._scan_lexicons(values)
                for lex in hits:
                    bits |= self._lex_bits.get((path, lex), 0)
            if patterns:
                hits = patmap[path] = self._scan_patterns(values)
                for pat in hits:
                    bits |= self._pat_bits.get((path, pat), 0)
        candidates = self._candidates.get(bits)
        if candidates is None:
            candidates = self._clauses_for(bits)
        if not candidates:
            return Verdict(post.get("id"), self.default_outcome, [], [], [], warnings) if warnings else None
        if ctx is None:
            ctx = _Ctx(post, self)
        ctx.lex = lexmap
        ctx.pat = patmap
        findings = []
        excepted = []
        best = -1
        clauses = self._clauses
        statics = self._finding_parts
        for i in candidates:
            clause, when, unless, _trigger = clauses[i]
            # Evaluated once, with its evidence: a condition's truth does not depend on whether
            # evidence is gathered.
            evidence: list[Evidence] = []
            if not when(ctx, evidence):
                continue
            blocked = next((desc or "an exception applies" for desc, fn in unless if fn(ctx, None)), None)
            if blocked is not None:
                excepted.append({"clause": clause["id"], "number": clause["number"], "exception": blocked})
                continue
            rank, static = statics[i]
            if rank > best:
                best = rank
            finding = static.copy()
            finding["evidence"] = _dedupe(evidence)
            findings.append(finding)
        if best < 0:
            if not excepted and not warnings:
                return None
            return Verdict(post.get("id"), self.default_outcome, [], [], excepted, warnings)
        outcome = OUTCOMES[best]
        deciding = [f["clause"] for f in findings if f["outcome"] == outcome]
        return Verdict(post.get("id"), outcome, deciding, findings, excepted, warnings)

    def check_post_reference(self, post: dict[str, Any]) -> Verdict:
        """Check a post that passed :func:`toolkit.posts.validate`: the plain path, which tests hold the fast one to."""
        ctx = _Ctx(post, self)
        warnings = self._warnings(ctx) if ctx.labels else []
        findings = []
        excepted = []
        best = -1
        by_atom = self._by_atom
        candidates = set(self._untriggered)
        fired = self._fired(ctx)
        for atom in fired:
            hit = by_atom.get(atom)
            if hit:
                candidates.update(hit)
        clauses = self._clauses
        for i in sorted(candidates):
            clause, when, unless, trigger = clauses[i]
            if any(t.isdisjoint(fired) for t in trigger[1:]):
                continue
            if not when(ctx, None):
                continue
            blocked = next((desc or "an exception applies" for desc, fn in unless if fn(ctx, None)), None)
            if blocked is not None:
                excepted.append({"clause": clause["id"], "number": clause["number"], "exception": blocked})
                continue
            evidence: list[Evidence] = []
            when(ctx, evidence)
            rank = _RANK[clause["outcome"]]
            best = max(best, rank)
            findings.append(
                {
                    "clause": clause["id"],
                    "number": clause["number"],
                    "title": clause["title"],
                    "topic": clause["topic"],
                    "outcome": clause["outcome"],
                    "authority": clause["authority"],
                    "citations": [c["text"] for c in clause["citations"]],
                    "evidence": _dedupe(evidence),
                }
            )
        if best < 0:
            return Verdict(post.get("id"), self.default_outcome, [], [], excepted, warnings)
        outcome = OUTCOMES[best]
        deciding = [f["clause"] for f in findings if f["outcome"] == outcome]
        return Verdict(post.get("id"), outcome, deciding, findings, excepted, warnings)

    def check(self, record: Any) -> tuple[Verdict | None, list[Problem]]:
        """Validate a decoded JSON record and check it."""
        post, problems = validate(record)
        if post is None:
            return None, problems
        return self.check_post(post), []


_NONE: dict[str, list[Evidence]] = {}  # shared, never written: no matches in a field
_NO_LABELS: frozenset[str] = frozenset()


def _nodes(cond: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield cond
    for key in ("all", "any"):
        for arg in cond.get(key, ()):
            yield from _nodes(arg)
    if "not" in cond:
        yield from _nodes(cond["not"])


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _trigger_cost(trigger: frozenset[tuple[str, ...]]) -> int:
    return sum(10 if atom[0] == "field" else 1 for atom in trigger)


def _label_field(post: dict[str, Any], label: str) -> str:
    """Where a label was set: the post's labels, or an attached item's."""
    if label in post["labels"]:
        return "labels"
    for i, item in enumerate(post["media"]):
        if label in (item.get("labels") or ()):
            return f"media[{i}].labels"
    return "labels"


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    if len(evidence) == 1:
        return evidence
    seen = set()
    out = []
    for item in evidence:
        # Every kind of evidence is built by one piece of code, so its keys always come in one
        # order: the keys in order and the values as text identify an item.
        key = (*item, *map(str, item.values()))
        if key not in seen:
            seen.add(key)
            out.append(item)
    out.sort(key=lambda e: (e.get("field", ""), e.get("start", -1), e.get("end", -1)))
    return out


def _instant(value: str | None) -> float:
    if value is None:
        return float("nan")
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


__all__ = ["Checker", "LexiconMatcher", "Verdict", "Normalized"]
