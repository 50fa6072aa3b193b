"""Training from the worked examples: the plain data of the training module and handbook.

Every question is a worked example of the policy, and its answer is what
the checker decides for the example's post, so the training can never
disagree with the rules: a changed clause changes the answers, and an
example that fails is reported by ``govpost test`` before anyone trains on
it. Nothing here is typed in.

The data has the shapes of :mod:`toolkit.document` (*Text*, *Outcome*,
*Post line*; docs/circulars.md): ``govpost build --training`` renders it
with the ``training`` template, and ``govpost serve`` shows it one section
a page.
"""

from __future__ import annotations

import re
from typing import Any

from .document import outcome_view, post_view

#: The outcomes a trainee chooses from, weakest first.
CHOICES = ("permitted", "advisory", "requires_sanction", "prohibited")


def plain_text(value: str, lang: str = "en") -> dict[str, Any]:
    """A *Text* in one language, for a rule set that carries no translations."""
    runs = [{"text": value, "term": None, "tail": ""}]
    return {"text": value, "versions": [{"lang": lang, "primary": True, "text": value, "runs": runs}],
            "missing": []}


def clause_summaries(ruleset: dict[str, Any], view: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every clause by id: number, title, prose, outcome, exceptions and citations.

    From the circular's view-model when there is one (the prose and its
    translations as the circular prints them), else from the rule set alone
    (titles and citations; a rule set carries no prose).
    """
    out: dict[str, dict[str, Any]] = {}
    lang = (ruleset["policy"].get("languages") or ["en"])[0]
    if view is not None:
        for top, clause in _clauses_of(view["sections"]):
            out[clause["id"]] = {
                "id": clause["id"], "number": clause["number"], "title": clause["title"], "text": clause["text"],
                "outcome": clause["outcome"], "topic": clause["topic"], "exceptions": clause["exceptions"],
                "citations": clause["citations"], "anchor": clause["anchor"], "section": top,
            }
        return out
    for c in ruleset["clauses"]:
        authority = (c.get("authority") or {}).get("title")
        out[c["id"]] = {
            "id": c["id"], "number": c["number"], "title": plain_text(c["title"], lang), "text": None,
            "outcome": outcome_view(c["outcome"], authority),
            "topic": {"id": c["topic"], "title": plain_text(ruleset["topics"].get(c["topic"], c["topic"]), lang)},
            "exceptions": [{"label": f"({i})", "text": plain_text(e["description"], lang)}
                           for i, e in enumerate((e for e in c.get("unless", ()) if e.get("description")), 1)],
            "citations": [{"text": ct["text"], "provision_title": _provision_title(ruleset, ct)}
                          for ct in c.get("citations", ())],
            "anchor": f"clause-{c['id']}", "section": _top_number(c["number"]),
        }
    return out


def _clauses_of(sections: list[dict[str, Any]], top: str | None = None) -> Any:
    for item in sections:
        if item["kind"] == "section":
            yield from _clauses_of(item["children"], top or item["number"])
        else:
            yield top or "", item


def _top_number(number: str) -> str:
    found = re.match(r"\d+", number)
    return found.group() if found else number


def _provision_title(ruleset: dict[str, Any], citation: dict[str, Any]) -> str | None:
    instrument = ruleset.get("instruments", {}).get(citation.get("instrument"), {})
    title = instrument.get("provisions", {}).get(citation.get("provision"))
    return title if isinstance(title, str) else None


def training_view(ruleset: dict[str, Any], checker: Any, view: dict[str, Any] | None = None) -> dict[str, Any]:
    """The training: one part per top-level section with worked examples, each example a question.

    Args:
        ruleset: the compiled rule set (its ``examples`` are the questions).
        checker: a :class:`toolkit.evaluate.Checker` for it: it gives every answer.
        view: the circular's view-model (:func:`toolkit.document.circular_view`), for
            section titles and clause prose; ``None`` for a rule set served alone.

    Returns:
        ``{"policy": {id, title}, "choices": [Outcome], "count": n, "sections": [...]}``; a section
        is ``{id, number, title (Text), anchor, questions}`` and a question ``{number, label, anchor,
        title, clause (the clause it is written under), post ([Post line]), record (the post as
        JSON), answer (Outcome), deciding ([clause summary])}``.
    """
    from .posts import validate

    clauses = clause_summaries(ruleset, view)
    lang = (ruleset["policy"].get("languages") or ["en"])[0]
    sections: dict[str, dict[str, Any]] = {}
    if view is not None:
        for s in view["sections"]:
            sections[s["number"]] = {"id": s["id"], "number": s["number"], "title": s["title"],
                                     "anchor": f"training-{s['id']}", "questions": []}
    count = 0
    for example in ruleset["examples"]:
        clause = clauses.get(example["clause"])
        if clause is None:  # pragma: no cover - a rule set's examples name its clauses
            continue
        post, _problems = validate(example["post"])
        if post is None:  # pragma: no cover - examples are checked when the policy is
            continue
        verdict = checker.check_post(post)
        top = clause["section"]
        section = sections.setdefault(top, {"id": f"section-{top}", "number": top,
                                            "title": plain_text(f"Section {top}", lang),
                                            "anchor": f"training-section-{top}", "questions": []})
        count += 1
        answer = clauses_outcome(verdict, clauses)
        section["questions"].append({
            "number": count,
            "label": f"{section['number']}.{len(section['questions']) + 1}",
            "anchor": f"question-{count}",
            "title": example["title"],
            "clause": clause,
            "post": post_view({k: v for k, v in example["post"].items() if k != "id"}),
            "record": example["post"],
            "answer": answer,
            "deciding": [clauses[d] for d in verdict.deciding if d in clauses],
        })
    parts = [s for s in sections.values() if s["questions"]]
    return {
        "policy": {"id": ruleset["policy"]["id"], "title": ruleset["policy"]["title"]},
        "choices": [outcome_view(key) for key in CHOICES],
        "count": count,
        "sections": parts,
    }


def clauses_outcome(verdict: Any, clauses: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The outcome of a verdict in words, naming the sanctioning authority of its deciding clause."""
    authority = None
    if verdict.outcome == "requires_sanction":
        for d in verdict.deciding:
            authority = (clauses.get(d) or {}).get("outcome", {}).get("authority") or authority
    return outcome_view(verdict.outcome, authority)


def score(section: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """How a trainee did on one section: ``answers`` maps question number (as text) to an outcome key."""
    marked = []
    right = 0
    for q in section["questions"]:
        given = answers.get(str(q["number"]))
        ok = given == q["answer"]["key"]
        right += ok
        marked.append({"question": q, "given": outcome_view(given) if given in CHOICES else None, "right": ok})
    return {"right": right, "total": len(section["questions"]), "marked": marked}
