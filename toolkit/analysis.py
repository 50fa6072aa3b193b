"""Exact behavioural analysis: on which posts do two rule sets disagree?

Both rule sets are encoded as formulas over one set of **atoms** that
describe a post, and an SMT solver (z3) decides whether a post exists on
which one gives a stronger outcome than the other. The atoms are exact
abstractions of a post:

- a single-valued field (``platform``, ``account.kind``, ``author.service``)
  has exactly one value: one of its enumeration values, or for strings one
  of the constants the policies mention or "something else", or none;
- a many-valued field (``labels``, ``media.kind``, ``links``) holds any
  combination of values;
- a text holds any combination of lexicon entries. Entries are grouped into
  **units** by the lexicons a text consisting of that entry alone matches
  (``"vote for BJP"`` matches a campaign lexicon and a party lexicon): the
  lexicons a text matches are exactly a union of units, because every
  sub-phrase of an entry found in a text is found in it too;
- a time falls in one segment of the time line cut at every period and date
  boundary of both policies, or is absent.

Patterns are treated as independent facts about a text. Every answer that
says two policies differ carries a **witness**: a concrete post built from
the solver's model, confirmed by running both checkers on it, and shrunk to
the parts that matter. A model that the checkers do not confirm (a pattern
sample that also contains a lexicon word, say) is excluded and the solver
asked again, so every witness printed is real.

The analysis reads compiled rule sets only (no parser, no model).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from .evaluate import Checker
from .matcher import LexiconMatcher
from .operators import for_op, walk_compiled
from .postschema import FIELDS, GROUPS
from .rules import OUTCOMES

LEVEL = {name: i for i, name in enumerate(OUTCOMES)}
_OTHER = "\x00other"  # a string value no policy mentions
_ABSENT = None
_MAX_RETRIES = 25

# Readable words to separate the parts of a witness text: the first that
# occurs in no lexicon entry is used, so no entry can span two parts.
_SEPARATORS = ("also", "then", "moreover", "next", "meanwhile", "furthermore", "separately", "zq")


@dataclass(frozen=True)
class SideResult:
    """What one rule set says of a post."""

    outcome: str
    deciding: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "deciding": list(self.deciding)}


@dataclass(frozen=True)
class Witness:
    """A post on which two rule sets disagree, and what each says of it."""

    post: dict[str, Any]
    left: SideResult
    right: SideResult

    def to_json(self, left: str = "left", right: str = "right") -> dict[str, Any]:
        return {"post": self.post, left: self.left.to_json(), right: self.right.to_json()}


@dataclass(frozen=True)
class Relation:
    """How the right rule set relates to the left one.

    ``verdict`` is ``equivalent``, ``stricter`` (some post gets a stronger
    outcome on the right, none a weaker one), ``looser`` or ``mixed``.
    """

    verdict: str
    stricter: Witness | None = None
    looser: Witness | None = None

    def to_json(self, left: str = "left", right: str = "right") -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "stricter_witness": self.stricter.to_json(left, right) if self.stricter else None,
            "looser_witness": self.looser.to_json(left, right) if self.looser else None,
        }


def _verdict(stricter: bool, looser: bool) -> str:
    if stricter and looser:
        return "mixed"
    if stricter:
        return "stricter"
    if looser:
        return "looser"
    return "equivalent"


# ---------------------------------------------------------------------------
# The universe of atoms shared by the rule sets
# ---------------------------------------------------------------------------


def _conditions(ruleset: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for clause in ruleset["clauses"]:
        yield clause["when"]
        for exc in clause["unless"]:
            yield exc["when"]


def _instant(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class _TextField:
    """The lexicon units of one text field, and the z3 variable of each."""

    path: str
    units: list[tuple[frozenset[tuple[int, str]], str]] = field(default_factory=list)  # (lexicons hit, sample)
    vars: list[z3.BoolRef] = field(default_factory=list)
    #: Sentences written to show relations (a target this many words from a word of feeling, two
    #: lexicons this far apart): (text, the units whose samples it holds, its variable).
    sentences: list[tuple[str, list[int], z3.BoolRef]] = field(default_factory=list)


@dataclass
class _Relation:
    """An atom decided from word positions (``near``, a stance): its variable, and how a witness shows it.

    In the posts the analysis builds, every unit's sample is a sentence of its
    own, and the field may also carry sentences written to show relations: two
    lexicons' samples some words apart, a target some words from a word of
    feeling. The relation holds exactly when some unit's sample shows it alone
    (``by_units``) or some written sentence of its field does (``by_sentences``),
    each decided by the side's own matcher, so a change of distance between
    two versions shows as a sentence one side reads and the other does not.
    """

    side: int
    node: dict[str, Any]
    var: z3.BoolRef
    by_units: list[int] = field(default_factory=list)  # unit indices in the field
    by_sentences: list[int] = field(default_factory=list)  # sentence indices in the field


def _relation_key(side: int, c: dict[str, Any]) -> tuple[Any, ...]:
    return (side, c["op"], c["field"], c["lexicon"], c.get("near"), c.get("polarity"), c.get("within"))


class _Universe:
    def __init__(self, rulesets: Sequence[dict[str, Any]], matchers: Sequence[Any]):
        self.rulesets = rulesets
        self.matchers = matchers
        # Every analyser has its own z3 context: the solver's choices depend on
        # the terms created before, so a shared context would make witnesses
        # depend on what the process analysed earlier.
        self.ctx = z3.Context()
        ctx = self.ctx
        self.single: dict[str, list[Any]] = {}
        self.single_var: dict[str, z3.ArithRef] = {}
        self.many: dict[tuple[str, Any], z3.BoolRef] = {}
        self._constants: dict[str, set[Any]] = {}
        # How a folded string was first written, so witnesses read naturally.
        self.spelling: dict[Any, Any] = {}
        self.labels: dict[str, z3.BoolRef] = {}
        self._lexicons_on: dict[str, set[tuple[int, str]]] = {}
        self.patterns: dict[tuple[str, str, str], z3.BoolRef] = {}
        self._cuts: set[float] = set()
        self.relations: dict[tuple[Any, ...], _Relation] = {}
        for side, rs in enumerate(rulesets):
            for cond in _conditions(rs):
                for node in walk_compiled(cond, rs["signals"]):
                    for_op(node).collect(node, side, self)
        # -- single- and many-valued fields ---------------------------------
        for path, values in sorted(self._constants.items()):
            ft = FIELDS[path]
            if ft.many:
                for v in sorted(values, key=str):
                    self.many[(path, v)] = z3.Bool(f"{path}={v}", ctx)
                continue
            if ft.kind == "bool":
                domain: list[Any] = [False, True]
            elif ft.kind == "enum":
                domain = list(ft.values)
            else:
                domain = sorted(v for v in values if isinstance(v, str)) + [_OTHER]
            if ft.default is None and ft.kind != "bool":
                domain.append(_ABSENT)
            self.single[path] = domain
            self.single_var[path] = z3.Int(f"field:{path}", ctx)
        # -- texts: lexicon units -------------------------------------------
        self.texts: dict[str, _TextField] = {}
        all_words: set[str] = set()
        for path, used in sorted(self._lexicons_on.items()):
            tf = _TextField(path)
            lexicons = {_qualify(side, lex): rulesets[side]["lexicons"][lex] for side, lex in sorted(used)}
            # Slots name lexicons of their own rule set: give the matcher all of them, under side-qualified names.
            for side, rs in enumerate(rulesets):
                for name, lex in rs["lexicons"].items():
                    lexicons.setdefault(_qualify(side, name), lex)
            matcher = LexiconMatcher(_qualified(lexicons), None)
            wanted = {_qualify(side, lex) for side, lex in used}
            samples = _lexicon_samples(lexicons)
            groups: dict[frozenset[tuple[int, str]], str] = {}
            for name in sorted(wanted):
                for entry in lexicons[name]["entries"]:
                    text = entry if isinstance(entry, str) else entry["text"]
                    for sample in _entry_samples(text, samples):
                        all_words.update(w.casefold() for w in sample.replace("#", " ").split())
                        hit = frozenset(
                            _unqualify(n)
                            for n, *_ in matcher.find(sample) if n in wanted
                        )
                        if not hit:
                            continue
                        best = groups.get(hit)
                        # The sample shown in witnesses: prefer plain Latin-script words, then short.
                        key = (not sample.isascii(), len(sample), sample)
                        if best is None or key < (not best.isascii(), len(best), best):
                            groups[hit] = sample
            for i, (hit, sample) in enumerate(sorted(groups.items(), key=lambda kv: (kv[1], sorted(kv[0])))):
                tf.units.append((hit, sample))
                tf.vars.append(z3.Bool(f"text:{path}:{i}", ctx))
            self.texts[path] = tf
        self.separator = next(s for s in _SEPARATORS if s not in all_words)
        # -- relations: near and stance ------------------------------------
        self.constraints: list[z3.BoolRef] = []
        ordered = [rel for _key, rel in sorted(self.relations.items(), key=lambda kv: repr(kv[0]))]
        for path in sorted({rel.node["field"] for rel in ordered}):
            self._write_sentences(self.texts[path], [rel for rel in ordered if rel.node["field"] == path])
        for rel in ordered:
            self._settle(rel)
        # -- time -----------------------------------------------------------
        self.cuts = sorted(self._cuts)
        self.time = z3.Int("time", ctx) if self.cuts else None  # -1 absent; i: segment i
        for path, domain in self.single.items():
            var = self.single_var[path]
            self.constraints.append(z3.And(var >= 0, var < len(domain)))
        if self.time is not None:
            self.constraints.append(z3.And(self.time >= -1, self.time <= len(self.cuts)))

    # -- registration (operators' collect) -----------------------------------

    def add_field(self, path: str, values: Sequence[Any]) -> None:
        self._constants.setdefault(path, set()).update(_fold(v) for v in values)
        for v in values:
            self.spelling.setdefault(_fold(v), v)

    def add_label(self, label: str) -> None:
        if label not in self.labels:
            self.labels[label] = z3.Bool(f"label:{label}", self.ctx)

    def add_lexicon(self, side: int, path: str, lexicon: str) -> None:
        self._lexicons_on.setdefault(path, set()).add((side, lexicon))

    def add_pattern(self, side: int, path: str, pattern: str) -> None:
        pat = self.rulesets[side]["patterns"][pattern]
        key = (path, pat["regex"], pat["flags"])
        self.patterns.setdefault(key, z3.Bool(f"pattern:{path}:{pat['regex']}/{pat['flags']}", self.ctx))

    def add_cut(self, at: float) -> None:
        self._cuts.add(at)

    def add_relation(self, side: int, c: dict[str, Any]) -> None:
        key = _relation_key(side, c)
        if key not in self.relations:
            self.relations[key] = _Relation(side, c, z3.Bool(f"rel:{len(self.relations)}", self.ctx))

    # -- relations ----------------------------------------------------------------

    def _holds(self, rel: _Relation, text: str) -> bool:
        """Whether a text shows the relation, by the side's own matcher."""
        c = rel.node
        matcher = self.matchers[rel.side]
        th = matcher.scan(text)
        if th is None:
            return False
        li = matcher.names.index(c["lexicon"])
        if c["op"] == "near":
            return bool(th.near(li, matcher.names.index(c["near"]), c["within"]))
        return bool(th.stance(li, -1 if c["polarity"] == "negative" else 1, c["within"]))

    def _unit_of(self, tf: _TextField, side: int, lexicon: str) -> int | None:
        """The simplest unit that is a hit of the lexicon: fewest lexicons hit, then the shortest sample."""
        options = [i for i, (hit, _s) in enumerate(tf.units) if (side, lexicon) in hit]
        return min(options, key=lambda i: (len(tf.units[i][0]), len(tf.units[i][1]), i)) if options else None

    def _write_sentences(self, tf: _TextField, relations: list[_Relation]) -> None:
        """The sentences that can show the field's relations: for each, its lexicons' samples at no
        distance and at every distance some relation of the field names, and one word more."""
        filler = self.separator
        gaps_near = {0}
        gaps_stance = {1}
        for rel in relations:
            c = rel.node
            window = c["within"]
            if window is None and c["op"] == "stance":
                window = (self.rulesets[rel.side].get("matching") or {}).get("stance_window", 8)
            if window is not None:
                (gaps_near if c["op"] == "near" else gaps_stance).update({window, window + 1})
        seen: dict[str, int] = {}

        def write(text: str, needs: list[int]) -> None:
            if text not in seen:
                seen[text] = len(tf.sentences)
                tf.sentences.append((text, needs, z3.Bool(f"sentence:{tf.path}:{len(tf.sentences)}", self.ctx)))

        for rel in relations:
            c = rel.node
            first = self._unit_of(tf, rel.side, c["lexicon"])
            if first is None:
                continue
            if c["op"] == "near":
                second = self._unit_of(tf, rel.side, c["near"])
                if second is None:
                    continue
                for gap in sorted(gaps_near):
                    text = " ".join([tf.units[first][1], *[filler] * gap, tf.units[second][1]])
                    if gap == 0 and not self._holds(rel, text):
                        break
                    write(text, sorted({first, second}))
                continue
            for word in _stance_words(self.rulesets[rel.side], c["polarity"]):
                if self._holds(rel, f"{tf.units[first][1]} is {word}"):
                    for gap in sorted(gaps_stance):
                        words = ["is", *[filler] * (gap - 1)] if gap else []
                        write(" ".join([tf.units[first][1], *words, word]), [first])
                    break
        for _text, needs, var in tf.sentences:
            for i in needs:
                self.constraints.append(z3.Implies(var, tf.vars[i]))

    def _settle(self, rel: _Relation) -> None:
        tf = self.texts[rel.node["field"]]
        rel.by_units = [i for i, (_hit, sample) in enumerate(tf.units) if self._holds(rel, sample)]
        rel.by_sentences = [i for i, (text, _needs, _var) in enumerate(tf.sentences) if self._holds(rel, text)]
        options = [tf.vars[i] for i in rel.by_units] + [tf.sentences[i][2] for i in rel.by_sentences]
        self.constraints.append(rel.var == z3.Or(options, self.ctx))

    # -- atoms as formulas --------------------------------------------------

    def field_in(self, path: str, values: Sequence[Any]) -> z3.BoolRef:
        wanted = {_fold(v) for v in values}
        if FIELDS[path].many:
            return z3.Or([self.many[(path, v)] for v in sorted(wanted, key=str)], self.ctx)
        domain = self.single[path]
        var = self.single_var[path]
        return z3.Or([var == i for i, v in enumerate(domain) if v in wanted and v is not _ABSENT], self.ctx)

    def mentions(self, side: int, path: str, lexicon: str) -> z3.BoolRef:
        tf = self.texts[path]
        return z3.Or([var for (hit, _s), var in zip(tf.units, tf.vars) if (side, lexicon) in hit], self.ctx)

    def relation(self, side: int, c: dict[str, Any]) -> z3.BoolRef:
        return self.relations[_relation_key(side, c)].var

    def matches(self, side: int, path: str, pattern: str) -> z3.BoolRef:
        pat = self.rulesets[side]["patterns"][pattern]
        return self.patterns[(path, pat["regex"], pat["flags"])]

    def segment_range(self, start: float | None, end: float | None) -> z3.BoolRef:
        """The time lies in [start, end) (either bound may be open)."""
        assert self.time is not None
        # Segment i is [cuts[i-1], cuts[i]) with cuts[-1] = -inf, cuts[n] = +inf.
        inside = []
        for i in range(len(self.cuts) + 1):
            lo = self.cuts[i - 1] if i > 0 else float("-inf")
            hi = self.cuts[i] if i < len(self.cuts) else float("inf")
            if (start is None or lo >= start) and (end is None or hi <= end):
                inside.append(self.time == i)
        return z3.Or(inside, self.ctx)

    def segment_instant(self, i: int) -> float:
        n = len(self.cuts)
        if i == 0:
            return self.cuts[0] - 86400
        if i == n:
            return self.cuts[-1] + 86400
        lo, hi = self.cuts[i - 1], self.cuts[i]
        # Noon of the first day of the segment, or its middle if shorter than a day.
        return lo + min(12 * 3600, (hi - lo) / 2)


def _qualify(side: int, name: str) -> str:
    """A lexicon's name qualified by its side, still a name a slot can hold (`s0_parties`)."""
    return f"s{side}_{name}"


def _unqualify(qualified: str) -> tuple[int, str]:
    return int(qualified[1]), qualified[3:]


def _qualified(lexicons: dict[str, Any]) -> dict[str, Any]:
    """Lexicons renamed side-qualified, their slots renamed to match (`{x}` of side 0 is `{s0_x}`)."""
    import re

    out = {}
    for name, lex in lexicons.items():
        side = _unqualify(name)[0]
        entries = []
        for e in lex["entries"]:
            text, mode = (e, "exact") if isinstance(e, str) else (e["text"], e.get("mode", "exact"))
            text = re.sub(r"\{\s*([A-Za-z_][\w-]*)\s*\}", lambda mt: "{" + _qualify(side, mt.group(1)) + "}", text)
            entries.append({"text": text, "mode": mode})
        out[name] = {**lex, "entries": entries}
    return out


def _lexicon_samples(lexicons: dict[str, Any]) -> dict[str, str]:
    """A short plain sample of each lexicon, to fill the slots of other entries' samples."""
    from .matcher import Choice, Words, expand

    out: dict[str, str] = {}
    for name, lex in lexicons.items():
        best = None
        for e in lex["entries"]:
            text = e if isinstance(e, str) else e["text"]
            try:
                alternatives = expand(text)
            except ValueError:
                continue
            for alt in alternatives:
                if len(alt) == 1 and isinstance(alt[0], (Words, Choice)) and "#" not in text:
                    plain = len(alternatives) == 1 and isinstance(alt[0], Words)
                    first = alt[0].options[0] if isinstance(alt[0], Choice) else alt[0]
                    sample = _readable(text) if plain else " ".join(first.words)
                    key = (not sample.isascii(), len(sample), sample)
                    if best is None or key < best[0]:
                        best = (key, sample)
        if best is not None:
            out[_unqualify(name)[1]] = best[1]
    return out


def _entry_samples(text: str, samples: dict[str, str]) -> list[str]:
    """Texts an entry matches: the entry as written when it is plain, else each alternative with slots filled."""
    from .matcher import expand, has_syntax, sample

    if not has_syntax(text):
        return [_readable(text)]
    try:
        alternatives = expand(text)
    except ValueError:
        return []
    return [sample(alt, samples) for alt in alternatives]


def _readable(text: str) -> str:
    # A sample is one sentence of a witness: marks that end a sentence would cut it in two.
    import re

    return re.sub(r"\s+", " ", re.sub(r"[.!?;।॥\u2026]", "", text)).strip() or text


def _stance_words(ruleset: dict[str, Any], polarity: str) -> list[str]:
    """Words of the valence the stance needs, strongest first: the policy's own lexicons, then the base."""
    sign = -1 if polarity == "negative" else 1
    threshold = (ruleset.get("matching") or {}).get("stance_threshold", 1.5)
    found: list[tuple[float, str]] = []
    for lex in ruleset["lexicons"].values():
        if lex.get("valence") is not None and lex["valence"] * sign >= threshold:
            for e in lex["entries"]:
                text = e if isinstance(e, str) else e["text"]
                if "{" not in text and "*" not in text:
                    found.append((-abs(lex["valence"]), _readable(text)))
    found.sort()
    # Then the base's: words a reader knows (letters only, four or more; not "aml" or ":-("), strongest first.
    base = ((ruleset.get("matching") or {}).get("valence") or {}).get("entries") or {}
    words = sorted((-abs(score), word) for word, score in base.items()
                   if score * sign >= threshold + 0.5 and word.isalpha() and len(word) >= 4)
    return [w for _s, w in (found + words)[:40]]


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


# ---------------------------------------------------------------------------
# Encoding a rule set
# ---------------------------------------------------------------------------


class _Side:
    def __init__(self, universe: _Universe, side: int):
        self.u = universe
        self.side = side
        self.rs = universe.rulesets[side]
        self._signals: dict[str, z3.BoolRef] = {}
        self.applies: dict[str, z3.BoolRef] = {}
        self.level: dict[str, int] = {}
        for clause in self.rs["clauses"]:
            when = self.enc(clause["when"])
            unless = [self.enc(e["when"]) for e in clause["unless"]]
            self.applies[clause["id"]] = z3.And(when, z3.Not(z3.Or(unless, universe.ctx))) if unless else when
            self.level[clause["id"]] = LEVEL[clause["outcome"]]
        self.default = LEVEL[self.rs["policy"]["default_outcome"]]

    def enc(self, c: dict[str, Any]) -> z3.BoolRef:
        return for_op(c).encode(c, self)  # type: ignore[no-any-return]

    def signal(self, name: str) -> z3.BoolRef:
        if name not in self._signals:
            self._signals[name] = self.enc(self.rs["signals"][name]["when"])
        return self._signals[name]

    def at_least(self, k: int, clauses: Iterable[str] | None = None) -> z3.BoolRef:
        """The outcome is at least level k (counting only the given clauses, if any)."""
        ids = list(self.applies) if clauses is None else list(clauses)
        default = self.default if clauses is None else 0
        if default >= k:
            return z3.BoolVal(True, self.u.ctx)
        return z3.Or([self.applies[c] for c in ids if self.level[c] >= k], self.u.ctx)

    def effect_at_least(self, clause: str | None, k: int) -> z3.BoolRef:
        """The clause applies with an outcome of at least level k (false for a missing clause)."""
        if clause is None or clause not in self.applies or self.level[clause] < k:
            return z3.BoolVal(False, self.u.ctx)
        return self.applies[clause]


# ---------------------------------------------------------------------------
# The analyser
# ---------------------------------------------------------------------------


class Analyzer:
    """Answers exactly how one rule set relates to another, with witnesses.

    Args:
        left: the reference rule set (the old version, or policy B of a comparison).
        right: the rule set compared with it (the new version, or policy A).
    """

    def __init__(self, left: dict[str, Any], right: dict[str, Any]):
        self.rulesets = (left, right)
        self.checkers = (Checker(left), Checker(right))
        self.u = _Universe([left, right], [c.matcher for c in self.checkers])
        self.sides = (_Side(self.u, 0), _Side(self.u, 1))

    # -- queries ------------------------------------------------------------

    def relation(
        self,
        left_clauses: Iterable[str] | None = None,
        right_clauses: Iterable[str] | None = None,
        *,
        clause: tuple[str | None, str | None] | None = None,
    ) -> Relation:
        """How the right side relates to the left, over all posts.

        Args:
            left_clauses, right_clauses: count only these clauses (a topic's, say);
                None counts all clauses and the default outcome.
            clause: (left id, right id) of one clause: only posts on which that
                clause's own effect differs in the same direction count, so the
                change is attributed to it.
        """
        lc = None if left_clauses is None else list(left_clauses)
        rc = None if right_clauses is None else list(right_clauses)
        stricter = self._find(+1, lc, rc, clause)
        looser = self._find(-1, lc, rc, clause)
        return Relation(_verdict(stricter is not None, looser is not None), stricter, looser)

    def satisfiable(self, side: int, formula_of: Any) -> dict[str, Any] | None:
        """A post for which ``formula_of(encoded side)`` holds, or None (for the linter)."""
        solver = self._solver()
        solver.add(formula_of(self.sides[side]))
        if solver.check() != z3.sat:
            return None
        return self._post(solver.model())

    # -- internals ------------------------------------------------------------

    def _solver(self) -> z3.Solver:
        solver = z3.Solver(ctx=self.u.ctx)
        solver.set("random_seed", 0)  # deterministic models, so witnesses are stable
        solver.add(self.u.constraints)
        return solver

    def _differs(self, direction: int, lc: list[str] | None, rc: list[str] | None,
                 clause: tuple[str | None, str | None] | None) -> z3.BoolRef:
        left, right = self.sides
        stronger, weaker = (right, left) if direction > 0 else (left, right)
        s_cl, w_cl = (rc, lc) if direction > 0 else (lc, rc)
        options = []
        for k in range(1, len(OUTCOMES)):
            cond = [stronger.at_least(k, s_cl), z3.Not(weaker.at_least(k, w_cl))]
            if clause is not None:
                s_id, w_id = (clause[1], clause[0]) if direction > 0 else (clause[0], clause[1])
                cond += [stronger.effect_at_least(s_id, k), z3.Not(weaker.effect_at_least(w_id, k))]
            options.append(z3.And(cond, self.u.ctx))
        return z3.Or(options, self.u.ctx)

    def _find(self, direction: int, lc: list[str] | None, rc: list[str] | None,
              clause: tuple[str | None, str | None] | None) -> Witness | None:
        solver = self._solver()
        solver.add(self._differs(direction, lc, rc, clause))
        # Readable witnesses first: words in the post's own text rather than
        # in a bio or an image description, when such a witness exists.
        plain = [z3.Not(v) for path, tf in self.u.texts.items() if path != "text" for v in tf.vars]
        for _ in range(_MAX_RETRIES):
            if plain and solver.check(*plain) == z3.sat:
                pass
            elif solver.check() != z3.sat:
                return None
            model = solver.model()
            post = self._post(model)
            witness = self._confirm(post, direction, lc, rc, clause)
            if witness is not None:
                return self._shrink(witness, direction, lc, rc, clause)
            # The checkers did not confirm this model (a pattern sample that
            # also matched a lexicon, say): exclude it and ask again.
            solver.add(z3.Not(z3.And([d() == model[d] for d in model.decls() if d.arity() == 0])))
        return None

    def _outcome(self, side: int, post: dict[str, Any], clauses: list[str] | None) -> SideResult | None:
        verdict, _problems = self.checkers[side].check(post)
        if verdict is None:
            return None
        if clauses is None:
            return SideResult(verdict.outcome, tuple(verdict.deciding))
        wanted = set(clauses)
        found = [f for f in verdict.findings if f["clause"] in wanted]
        if not found:
            return SideResult("permitted", ())
        top = max(LEVEL[f["outcome"]] for f in found)
        return SideResult(OUTCOMES[top], tuple(f["clause"] for f in found if LEVEL[f["outcome"]] == top))

    def _confirm(self, post: dict[str, Any], direction: int, lc: list[str] | None,
                 rc: list[str] | None, clause: tuple[str | None, str | None] | None = None) -> Witness | None:
        left = self._outcome(0, post, lc)
        right = self._outcome(1, post, rc)
        if left is None or right is None:
            return None
        diff = LEVEL[right.outcome] - LEVEL[left.outcome]
        if diff * direction <= 0:
            return None
        if clause is not None:
            # A witness of one clause's effect must show that clause's effect:
            # the clause applies on the stronger side above the weaker side's
            # outcome (then it cannot apply that strongly on the weaker side).
            side = 1 if direction > 0 else 0
            cid = clause[side]
            weaker = (left if direction > 0 else right).outcome
            verdict, _ = self.checkers[side].check(post)
            if cid is None or verdict is None or not any(
                f["clause"] == cid and LEVEL[f["outcome"]] > LEVEL[weaker] for f in verdict.findings
            ):
                return None
        return Witness(post, left, right)

    def _shrink(self, witness: Witness, direction: int, lc: list[str] | None, rc: list[str] | None,
                clause: tuple[str | None, str | None] | None = None) -> Witness:
        """Drop every part of the post that the disagreement does not need."""
        post = witness.post
        changed = True
        while changed:
            changed = False
            for smaller in _reductions(post, self.u.separator):
                w = self._confirm(smaller, direction, lc, rc, clause)
                if w is not None:
                    post, witness, changed = smaller, w, True
                    break
        return witness

    # -- building a post from a model -----------------------------------------

    def _post(self, model: z3.ModelRef) -> dict[str, Any]:
        u = self.u
        post: dict[str, Any] = {"id": "witness"}

        def put(path: str, value: Any) -> None:
            head, _, rest = path.partition(".")
            if rest:
                post.setdefault(head, {})[rest] = value
            else:
                post[head] = value

        for path, domain in u.single.items():
            value = domain[model.eval(u.single_var[path], model_completion=True).as_long()]
            ft = FIELDS[path]
            if value is _ABSENT or value == ft.default:
                continue
            if value == _OTHER:
                value = _fresh_value(path, domain)
            put(path, u.spelling.get(value, value) if ft.kind != "enum" else value)
        media: list[dict[str, Any]] = []
        for (path, value), var in u.many.items():
            if not z3.is_true(model.eval(var, model_completion=True)):
                continue
            value = u.spelling.get(value, value)
            if path == "labels":
                post.setdefault("labels", []).append(value)
            elif path == "links":
                post.setdefault("links", []).append(value)
            elif path == "media.kind":
                media.append({"kind": value})
            elif path == "media.labels":
                media.append({"labels": [value]})
            elif path == "media.description":
                media.append({"description": value})
        for label, var in u.labels.items():
            if z3.is_true(model.eval(var, model_completion=True)) and label not in post.get("labels", []):
                post.setdefault("labels", []).append(label)
        texts: dict[str, list[str]] = {}
        for path, tf in u.texts.items():
            for (_hit, sample), var in zip(tf.units, tf.vars):
                if z3.is_true(model.eval(var, model_completion=True)):
                    texts.setdefault(path, []).append(sample)
        # The written sentences the model wants (their units' samples, which they hold, are dropped
        # where they would repeat them).
        for path, tf in u.texts.items():
            for sentence, needs, var in tf.sentences:
                if z3.is_true(model.eval(var, model_completion=True)):
                    parts = texts.setdefault(path, [])
                    for i in needs:
                        if tf.units[i][1] in parts:
                            parts.remove(tf.units[i][1])
                    if sentence not in parts:
                        parts.append(sentence)
        # A pattern the model wants matched gets a sample text that matches
        # none of the field's patterns the model wants unmatched (a pattern
        # and its edited version often share their shortest sample).
        unmatched: dict[str, list[tuple[str, str]]] = {}
        for (path, regex, flags), var in u.patterns.items():
            if not z3.is_true(model.eval(var, model_completion=True)):
                unmatched.setdefault(path, []).append((regex, flags))
        for (path, regex, flags), var in u.patterns.items():
            if z3.is_true(model.eval(var, model_completion=True)):
                sample = _sample_for(regex, flags, unmatched.get(path, ()))
                if sample is not None:
                    texts.setdefault(path, []).append(sample)
        for path, parts in texts.items():
            text = _marker(u.separator).join(parts)
            if path == "media.description":
                media.append({"description": text})
            elif path == "links":
                post.setdefault("links", []).extend(parts)
            else:
                put(path, text)
        if media:
            post["media"] = media
        if u.time is not None:
            seg = model.eval(u.time, model_completion=True).as_long()
            if seg >= 0:
                tz = zoneinfo.ZoneInfo(self.rulesets[1]["policy"].get("timezone") or "UTC")
                when = dt.datetime.fromtimestamp(u.segment_instant(seg), tz)
                post["posted_at"] = when.isoformat(timespec="minutes")
        if "text" not in post:
            post["text"] = ""
        if post.get("sanction") == {}:
            del post["sanction"]
        return _ordered(post)


def _fresh_value(path: str, domain: list[Any]) -> str:
    taken = {v for v in domain if isinstance(v, str)}
    for candidate in ("other", "unspecified", "none given"):
        if candidate not in taken:
            return candidate
    return next(f"other-{i}" for i in itertools.count() if f"other-{i}" not in taken)


_ORDER = ["id", "text", "platform", "action", "account", "author", "posted_at", "audience", "shared_from",
          "media", "links", "sanction", "labels"]


def _ordered(post: dict[str, Any]) -> dict[str, Any]:
    return {k: post[k] for k in sorted(post, key=lambda k: (_ORDER.index(k) if k in _ORDER else 99, k))}


def _marker(separator: str) -> str:
    """What joins the parts of a witness text: a sentence break and a word that is in no entry.

    The break keeps ``near`` and stances from reaching from one part to the
    next; the word keeps a phrase from running across the break (a lexicon
    entry ignores punctuation).
    """
    return f". {separator.capitalize()} "


def _reductions(post: dict[str, Any], separator: str) -> Iterable[dict[str, Any]]:
    """Smaller posts: one field, one list item or one part of a text removed."""
    marker = _marker(separator)
    for key in list(post):
        if key in ("id",):
            continue
        value = post[key]
        if key == "text":
            parts = value.split(marker) if value else []
            for i in range(len(parts)):
                yield _ordered({**post, "text": marker.join(parts[:i] + parts[i + 1 :])})
            continue
        yield {k: v for k, v in post.items() if k != key}
        if isinstance(value, list) and len(value) > 1:
            for i in range(len(value)):
                yield _ordered({**post, key: value[:i] + value[i + 1 :]})
        if isinstance(value, dict) and len(value) > 1:
            for sub in value:
                yield _ordered({**post, key: {k: v for k, v in value.items() if k != sub}})


def _sample_for(regex: str, flags: str, avoid: Iterable[tuple[str, str]] = ()) -> str | None:
    """A short text the pattern matches, found by walking the regex.

    Several texts are tried (other alternatives, one more repetition, other
    letter cases, other members of a class): the first that the pattern
    matches and none of the ``avoid`` patterns matches is returned, else the
    shortest one.
    """
    import re
    import re._parser as sre_parse

    try:
        parsed = sre_parse.parse(regex, re.IGNORECASE if "i" in flags else 0)
    except (re.error, RecursionError):
        return None
    samples: list[str] = []
    for style in _STYLES:
        try:
            sample = _emit(parsed, style)
        except _CannotEmit:
            return None
        if style.case == "lower":
            sample = sample.lower()
        elif style.case == "upper":
            sample = sample.upper()
        elif style.case == "swap":
            sample = sample.swapcase()
        if sample not in samples:
            samples.append(sample)
    if not samples:
        return None
    others = [(o, f) for o, f in avoid]
    for sample in samples:
        if _re_search(regex, flags, sample) and not any(_re_search(o, f, sample) for o, f in others):
            return sample
    return samples[0]


def _re_search(regex: str, flags: str, text: str) -> bool:
    import re

    bits = (re.IGNORECASE if "i" in flags else 0) | (re.DOTALL if "s" in flags else 0) | (
        re.MULTILINE if "m" in flags else 0)
    try:
        return re.search(regex, text, bits) is not None
    except (re.error, RecursionError):
        return False


@dataclass(frozen=True)
class _Style:
    """How to walk a regex into a sample: which alternative, how many extra repeats, which class member."""

    branch: int = 0
    extra: int = 0
    member: int = 0
    case: str = "keep"


_STYLES = tuple(
    _Style(branch, extra, member, case)
    for case in ("keep", "swap", "lower", "upper")
    for extra in (0, 1)
    for branch in (0, 1, 2)
    for member in (0, -1)
)


class _CannotEmit(Exception):
    pass


def _emit(parsed: Any, style: _Style = _Style()) -> str:
    import re._constants as c

    out = []
    for op, arg in parsed:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append("x" if chr(arg) != "x" else "y")
        elif op is c.ANY:
            out.append("x")
        elif op is c.IN:
            out.append(_emit_class(arg, style.member))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            lo, hi, sub = arg
            n = min(lo + style.extra, hi) if hi is not c.MAXREPEAT else lo + style.extra
            out.append(_emit(sub, style) * n)  # the shortest text: the fewest repeats
        elif op is c.SUBPATTERN:
            out.append(_emit(arg[-1], style))
        elif op is c.BRANCH:
            alternatives = arg[1]
            out.append(_emit(alternatives[min(style.branch, len(alternatives) - 1)], style))
        elif op in (c.AT,):
            continue
        else:
            raise _CannotEmit(op)
    return "".join(out)


def _emit_class(items: Any, member: int = 0) -> str:
    import re._constants as c

    negate = False
    chars: list[str] = []
    for op, arg in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL and not negate:
            chars.append(chr(arg))
        elif op is c.RANGE and not negate:
            chars.extend((chr(arg[0]), chr(arg[1])))
        elif op is c.CATEGORY and not negate:
            chars.append({c.CATEGORY_DIGIT: "7", c.CATEGORY_SPACE: " ", c.CATEGORY_WORD: "a"}.get(arg, "a"))
    if chars:
        return chars[0] if member == 0 else chars[member]
    if negate:
        return "~"
    raise _CannotEmit("class")
