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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from .posts import Problem, validate
from .rules import OUTCOMES
from .text import Normalized, entry_keys, hashtag_key, hashtags, normalize

PATTERN_FLAGS = {"i": "(?i)", "s": "(?s)", "m": "(?m)"}
_RANK = {name: i for i, name in enumerate(OUTCOMES)}

Evidence = dict[str, Any]
Fn = Callable[["_Ctx", "list[Evidence] | None"], bool]


@dataclass
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
        self.labels = set(post["labels"])
        for item in post["media"]:
            self.labels.update(item.get("labels") or ())
        self.ts = post["_ts"]
        self.lex: dict[str, dict[str, list[Evidence]]] = {}
        self.pat: dict[str, dict[str, list[Evidence]]] = {}
        self.signals: dict[str, bool] = {}
        self.checker = checker


def _field_values(post: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """(display path, value) for every value a path holds in a post; lists fan out."""
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
            norm = normalize(value)
            for end, (length, owners) in self._automaton.iter(norm.text):
                s, e = norm.original_span(end - length + 2, end)
                for lex_id, entry in owners:
                    yield lex_id, entry, s, e
        if self._hashtags and "#" in value:
            for tag, s, e in hashtags(value):
                for lex_id, entry in self._hashtags.get(tag, ()):
                    yield lex_id, entry, s, e


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
                    self._trigger(clause["when"]) if use_triggers else None,
                )
            )
        # Text fields that some trigger needs matched before clauses are looked at.
        self._trigger_fields = sorted(
            {atom[1] for _c, _w, _u, trig in self._clauses if trig for atom in trig if atom[0] != "label"}
        )

    # -- triggers ---------------------------------------------------------

    def _trigger(self, c: dict[str, Any], seen: frozenset[str] = frozenset()) -> frozenset[tuple[str, ...]] | None:
        """Atoms of which at least one must hold for the condition to hold, or None if no such set is known.

        Only lexicon, pattern and label atoms are used: they are what most
        posts lack, so a clause whose trigger atoms all fail is skipped
        without evaluating it. INVARIANT: if the result is a set S, then
        the condition implies "some atom of S holds".
        """
        if "mentions" in c:
            return frozenset({("lex", c["field"], c["mentions"])})
        if "matches" in c:
            return frozenset({("pat", c["field"], c["matches"])})
        if "labelled" in c:
            return frozenset({("label", c["labelled"])})
        if "signal" in c:
            name = c["signal"]
            if name in seen:
                return None
            return self._trigger(self.ruleset["signals"][name]["when"], seen | {name})
        if "any" in c:
            union: set[tuple[str, ...]] = set()
            for arg in c["any"]:
                sub = self._trigger(arg, seen)
                if sub is None:
                    return None
                union |= sub
            return frozenset(union)
        if "all" in c:
            # Any conjunct's trigger is a trigger of the whole; take the smallest.
            subs = [t for t in (self._trigger(arg, seen) for arg in c["all"]) if t is not None]
            return min(subs, key=len) if subs else None
        return None  # not, comparisons, periods: usually true, not worth indexing

    def _fired(self, ctx: _Ctx) -> set[tuple[str, ...]]:
        """Every trigger atom that holds for the post, after one matching pass per field."""
        fired: set[tuple[str, ...]] = {("label", label) for label in ctx.labels}
        for path in self._trigger_fields:
            for lex in self._lexicon_hits(ctx, path):
                fired.add(("lex", path, lex))
            for pat in self._pattern_hits(ctx, path):
                fired.add(("pat", path, pat))
        return fired

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
                found = self._lexicon_hits(ctx, path).get(lex)
                if found and ev is not None:
                    ev.extend(found)
                return bool(found)

            return mentions
        if "matches" in c:
            path, pat = c["field"], c["matches"]

            def matches(ctx: _Ctx, ev: list[Evidence] | None) -> bool:
                found = self._pattern_hits(ctx, path).get(pat)
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

    def check_post(self, post: dict[str, Any]) -> Verdict:
        """Check a post that passed :func:`toolkit.posts.validate`."""
        ctx = _Ctx(post, self)
        warnings = self._warnings(ctx) if ctx.labels else []
        findings = []
        excepted = []
        best = -1
        fired = self._fired(ctx)
        for clause, when, unless, trigger in self._clauses:
            if trigger is not None and trigger.isdisjoint(fired):
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


def _label_field(post: dict[str, Any], label: str) -> str:
    """Where a label was set: the post's labels, or an attached item's."""
    if label in post["labels"]:
        return "labels"
    for i, item in enumerate(post["media"]):
        if label in (item.get("labels") or ()):
            return f"media[{i}].labels"
    return "labels"


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen = set()
    out = []
    for item in evidence:
        key = tuple(sorted((k, str(v)) for k, v in item.items()))
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
