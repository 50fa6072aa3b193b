"""The checker: a rule set × a post → an outcome, the deciding clauses, the evidence.

It reads only the compiled rule set (never the parser or the model). At
load time every lexicon of the rule set goes into one matcher
(:class:`toolkit.matcher.LexiconMatcher`: one Aho-Corasick automaton), every
pattern into one RE2 set, and every condition becomes a Python closure built
by its operator (:mod:`toolkit.operators`); checking a post then makes one
matching pass per searched text field and evaluates the closures.

Meaning (docs/semantics.md): a clause applies when its condition holds and
none of its exceptions does; a post's outcome is the strongest outcome of
the clauses that apply, or the policy's default when none does; every
applying clause is reported, with the evidence that made it apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .matcher import LexiconMatcher, TextHits
from .operators import Compiled, Evidence, Fn, for_op, instant, label_field, trigger_cost, uses, walk_compiled
from .posts import Problem, validate
from .rules import OUTCOMES

PATTERN_FLAGS = {"i": "(?i)", "s": "(?s)", "m": "(?m)"}
_RANK = {name: i for i, name in enumerate(OUTCOMES)}

TextList = list[tuple[str, str, TextHits]]


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

    __slots__ = ("post", "labels", "ts", "texts", "pat", "signals")

    def __init__(self, post: dict[str, Any]):
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
        self.texts: dict[str, TextList] = {}
        self.pat: dict[str, dict[str, list[Evidence]]] = {}
        self.signals: dict[str, bool] = {}


# ---------------------------------------------------------------------------
# Reading fields of a post
# ---------------------------------------------------------------------------


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


def accessor(path: str) -> Callable[[dict[str, Any]], list[tuple[str, Any]]]:
    """A function giving (display path, value) for every value a path holds in a post; lists fan out."""
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


def _direct(path: str) -> tuple[str | None, str | None]:
    """(group, name) of a single-valued field read directly, or (None, None)."""
    if path not in _ACCESSORS:
        return None, None
    head, _, rest = path.partition(".")
    return (head, rest) if rest else (None, head)


# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------


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

        # Only the lexicons some condition names have their hits placed; the others (valence words)
        # are looked at only by a stance.
        needed = {name for cond in self._all_conditions() for kind, name in uses(cond) if kind == "lexicon"}
        self.matcher = LexiconMatcher(ruleset["lexicons"], ruleset.get("matching"), needed)
        self._lex_index = {name: i for i, name in enumerate(self.matcher.names)}
        base = (ruleset.get("matching") or {}).get("valence") or {}
        self._valence_source = base.get("name", "base")

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
        # The set's own Match (on UTF-8 bytes), without the wrapper's checks, when the binding has one.
        raw_set = getattr(self._set, "_set", None)
        self._raw_set = raw_set is not None
        self._set_match = raw_set.Match if raw_set is not None else self._set.Match

        self.periods = {pid: (instant(p["start"]), instant(p["end"])) for pid, p in ruleset["periods"].items()}
        self._signal_fns: dict[str, Fn] = {}
        for sid, sig in ruleset["signals"].items():
            self._signal_fns[sid] = self.compile(sig["when"])
        self._clauses = []
        for clause in ruleset["clauses"]:
            self._clauses.append(
                (
                    clause,
                    self.compile(clause["when"]),
                    [(e["description"], self.compile(e["when"])) for e in clause["unless"]],
                    sorted(set(self.necessary(clause["when"])), key=lambda t: (trigger_cost(t), sorted(t)))
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
        atoms = {atom for _c, _w, _u, trig in self._clauses for t in trig for atom in t}
        # Every field some condition searches, with whether lexicons and/or patterns are searched
        # there: one matching pass per field fills the post's matches before any clause is looked at.
        searched: dict[str, list[bool]] = {}
        for cond in self._all_conditions():
            for node in walk_compiled(cond):
                for path, kind in for_op(node).searched(node):
                    searched.setdefault(path, [False, False])[0 if kind == "lex" else 1] = True
        self._trigger_values = sorted({a[1] for a in atoms if a[0] == "field"})
        self._trigger_getters = [(path, accessor(path)) for path in self._trigger_values]
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
            group, name = _direct(path)
            self._value_bits.append((table, group, name, accessor(path), {}))
        self._period_bits = [(*self.periods[p], bit_of[("period", p)]) for p in self._trigger_periods]
        # The searched fields, a single-valued one read directly: (path, group, name, get, lexicons, patterns).
        self._text_fields = []
        for path, (lexicons, patterns) in sorted(searched.items()):
            group, name = _direct(path)
            self._text_fields.append((path, group, name, accessor(path), lexicons, patterns))
        # Trigger bits of lexicon hits, by field and lexicon index.
        self._lex_bits: dict[str, dict[int, int]] = {}
        for a, b in bit_of.items():
            if a[0] == "lex":
                self._lex_bits.setdefault(a[1], {})[self._lex_index[a[2]]] = b
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

    # -- what operators use ---------------------------------------------------

    def compile(self, c: Compiled) -> Fn:
        """A closure that evaluates a compiled condition on a post."""
        return for_op(c).evaluator(c, self)

    def signal_fn(self, name: str) -> Fn:
        return self._signal_fns[name]

    accessor = staticmethod(accessor)

    def lexicon_index(self, name: str) -> int:
        return self._lex_index[name]

    def text_hits(self, ctx: _Ctx, path: str) -> TextList:
        """The lexicon hits in every text a field holds (computed once per post and field)."""
        found = ctx.texts.get(path)
        if found is not None:
            return found
        out: TextList = []
        if self.matcher:
            scan = self.matcher.scan
            for where, value in accessor(path)(ctx.post):
                if isinstance(value, str) and value:
                    th = scan(value)
                    if th is not None:
                        out.append((where, value, th))
        ctx.texts[path] = out
        return out

    def hit_evidence(self, where: str, value: str, th: TextHits, li: int, hit: tuple[int, int, str],
                     role: str | None = None) -> Evidence:
        s, e = th.span(hit[0], hit[1], hit[2])
        out = {"field": where, "start": s, "end": e, "text": value[s:e], "lexicon": self.matcher.names[li],
               "entry": hit[2]}
        if role is not None:
            out["role"] = role
        return out

    def lexicon_evidence(self, where: str, value: str, th: TextHits, li: int) -> list[Evidence]:
        return [self.hit_evidence(where, value, th, li, hit) for hit in th.lex[li]]

    def valence_evidence(self, where: str, value: str, th: TextHits, v: tuple[int, int, float, int]) -> Evidence:
        s, e = th.span(v[0], v[1])
        source = self.matcher.names[v[3]] if v[3] >= 0 else self._valence_source
        return {"field": where, "start": s, "end": e, "text": value[s:e], "valence": round(v[2], 3),
                "source": source, "role": "negative" if v[2] < 0 else "positive"}

    def pattern_hits(self, ctx: _Ctx, path: str) -> dict[str, list[Evidence]]:
        hits = ctx.pat.get(path)
        if hits is None:
            hits = ctx.pat[path] = self._scan_patterns(accessor(path)(ctx.post))
        return hits

    # -- triggers ---------------------------------------------------------

    def necessary(self, c: Compiled, seen: frozenset[str] = frozenset()) -> list[frozenset[tuple[Any, ...]]]:
        """Necessary conditions of a condition, as sets of trigger atoms: each set must have an atom that holds.

        Only lexicon, pattern, label, period and field-value atoms are used.
        INVARIANT: if the condition holds then every returned set contains
        an atom that holds (an empty list says nothing).
        """
        if c["op"] == "signal":
            name = c["signal"]
            if name in seen:
                return []
            return self.necessary(self.ruleset["signals"][name]["when"], seen | {name})
        return for_op(c).triggers(c, lambda sub: self.necessary(sub, seen))

    def _fired(self, ctx: _Ctx) -> set[tuple[Any, ...]]:
        """Every trigger atom that holds for the post, after one matching pass per field."""
        fired: set[tuple[Any, ...]] = {("label", label) for label in ctx.labels} if ctx.labels else set()
        post = ctx.post
        for path, get_values in self._trigger_getters:
            for _where, value in get_values(post):
                fired.add(("field", path, value.casefold() if type(value) is str else value))
        ts = ctx.ts
        if ts is not None:
            for period in self._trigger_periods:
                start, end = self.periods[period]
                if start <= ts < end:
                    fired.add(("period", period))
        names = self.matcher.names
        for path, _group, _name, _get, lexicons, patterns in self._text_fields:
            if lexicons:
                for _where, _value, th in self.text_hits(ctx, path):
                    for li in th.lex:
                        fired.add(("lex", path, names[li]))
            if patterns:
                for pat in self.pattern_hits(ctx, path):
                    fired.add(("pat", path, pat))
        return fired

    def _all_conditions(self) -> Iterator[Compiled]:
        for sig in self.ruleset["signals"].values():
            yield sig["when"]
        for clause in self.ruleset["clauses"]:
            yield clause["when"]
            for exc in clause["unless"]:
                yield exc["when"]

    # -- checking ---------------------------------------------------------

    def _warnings(self, ctx: _Ctx) -> list[dict[str, Any]]:
        from .diagnostics import did_you_mean

        declared = self.ruleset["labels"]
        out = []
        for label in sorted(ctx.labels - declared.keys()):
            warning = {"code": "R308", "field": label_field(ctx.post, label),
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

    def _scan_patterns(self, values: list[tuple[str, Any]]) -> dict[str, list[Evidence]]:
        """Every match of every pattern in a field's values."""
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
            ctx: _Ctx | None = _Ctx(post)
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
        texts: dict[str, TextList] = {}
        patmap: dict[str, dict[str, list[Evidence]]] = {}
        scan = self.matcher.scan if self.matcher else None
        set_match = self._set_match if self._patterns else None
        raw = self._raw_set
        lex_bits = self._lex_bits
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
                    values = []
                elif type(value) is not str or not value:
                    values = [(path, value)]
                else:
                    # The common case, one text: matched here, and nothing built when nothing matches.
                    if lexicons:
                        th = scan(value) if scan is not None else None
                        if th is not None:
                            texts[path] = [(path, value, th)]
                            field_bits = lex_bits.get(path)
                            if field_bits:
                                for li in th.lex:
                                    bits |= field_bits.get(li, 0)
                        else:
                            texts[path] = _NO_TEXTS
                    if patterns:
                        if set_match is not None and (set_match(value.encode("utf-8")) if raw else set_match(value)):
                            hits = patmap[path] = self._scan_patterns([(path, value)])
                            for pat in hits:
                                bits |= self._pat_bits.get((path, pat), 0)
                        else:
                            patmap[path] = _NONE
                    continue
            if lexicons:
                found: TextList = []
                if scan is not None:
                    for where, value in values:
                        if isinstance(value, str) and value:
                            th = scan(value)
                            if th is not None:
                                found.append((where, value, th))
                                field_bits = lex_bits.get(path)
                                if field_bits:
                                    for li in th.lex:
                                        bits |= field_bits.get(li, 0)
                texts[path] = found if found else _NO_TEXTS
            if patterns:
                hits = patmap[path] = self._scan_patterns(values) if values else _NONE
                for pat in hits:
                    bits |= self._pat_bits.get((path, pat), 0)
        candidates = self._candidates.get(bits)
        if candidates is None:
            candidates = self._clauses_for(bits)
        if not candidates:
            return Verdict(post.get("id"), self.default_outcome, [], [], [], warnings) if warnings else None
        if ctx is None:
            ctx = _Ctx(post)
        ctx.texts = texts
        ctx.pat = patmap
        findings = []
        excepted = []
        best = -1
        clauses = self._clauses
        statics = self._finding_parts
        for i in candidates:
            clause, when, unless, _trigger = clauses[i]
            # Decided first without evidence (signals are then computed once per post); the evidence
            # is gathered only for a clause that holds. A condition's truth does not depend on whether
            # evidence is gathered.
            if not when(ctx, None):
                continue
            evidence: list[Evidence] = []
            when(ctx, evidence)
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
        ctx = _Ctx(post)
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
_NO_TEXTS: TextList = []  # shared, never written: no lexicon hits in a field
_NO_LABELS: frozenset[str] = frozenset()


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    if len(evidence) == 1:
        return evidence
    seen: set[tuple[Any, ...]] = set()
    out: list[Evidence] = []
    words: dict[tuple[Any, ...], int] = {}
    for item in evidence:
        if "lexicon" in item and "start" in item:
            # The same words found by several entries of one lexicon ("सरकार" by "सरकार", "सरकारी" and a
            # slot) are one piece of evidence: the entry written as the words are, else the first.
            place = (item["field"], item["start"], item["end"], item["lexicon"], item.get("role"))
            at = words.get(place)
            if at is None:
                words[place] = len(out)
                out.append(item)
            elif out[at]["entry"].casefold() != out[at]["text"].casefold() \
                    and item["entry"].casefold() == item["text"].casefold():
                out[at] = item
            continue
        # Every kind of evidence is built by one piece of code, so its keys always come in one
        # order: the keys in order and the values as text identify an item.
        key = (*item, *map(str, item.values()))
        if key not in seen:
            seen.add(key)
            out.append(item)
    out.sort(key=lambda e: (e.get("field", ""), e.get("start", -1), e.get("end", -1)))
    return out


__all__ = ["Checker", "LexiconMatcher", "Verdict", "accessor"]
