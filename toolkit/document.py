"""Policy → the plain data that document templates receive (the view-model).

Templates never see the policy model, the rule set or a report: they get one
dictionary of strings, numbers, booleans, lists and dictionaries, already
numbered, sorted and worded (``json.dumps`` of it works; the tests check
so). Every key is documented in ``docs/circulars.md`` (*The template data
contract*); a key added here is added there.

Three shapes recur:

- a **text** (``Text`` in the docs) is ``{"text": str, "versions": [...],
  "missing": [...]}``. ``text`` is the main language, plain; ``versions``
  holds one entry per language the policy declares and the text carries, in
  the order of the header's ``languages``: ``{"lang", "primary", "text",
  "runs"}``, where ``runs`` splits the text at defined terms: ``{"text",
  "term"}`` with ``term`` the glossary anchor or ``None``. Templates render
  runs, so a ``{term}`` reference never shows its braces.
- a **date** is ``{"iso", "long", "dmy", "gov", "hi"}``:
  ``2026-06-15``, ``15th June, 2026``, ``15.06.2026``, ``15 June 2026``,
  ``15 जून, 2026``.
- an **outcome** is ``{"key", "label", "modal", "marker", "authority"}``.

Nothing here imports Jinja2 or WeasyPrint: this is data, and
:mod:`toolkit.render` turns it into HTML and PDF.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from . import model as m
from .check import term_references
from .postschema import FIELDS as _POST_FIELDS

# ---------------------------------------------------------------------------
# Fixed wording
# ---------------------------------------------------------------------------

KIND_LABELS = {
    "circular": "Circular",
    "office_memorandum": "Office Memorandum",
    "guidance": "Guidance",
}

LANGUAGE_NAMES = {"en": ("English", "English"), "hi": ("Hindi", "हिन्दी"), "mr": ("Marathi", "मराठी")}

#: The fixed wording the Indian templates print in a policy's second language, by language:
#: the kind of document, the outcome labels, the headings and labels, the closing sentence
#: (``{effective}`` and ``{expires}`` are dates in that language). A second language not here
#: stops the build of the ``india`` template with B608, naming the language.
WORDING: dict[str, dict[str, str]] = {
    "hi": {
        "circular": "परिपत्र", "office_memorandum": "कार्यालय ज्ञापन", "guidance": "मार्गदर्शन",
        "prohibited": "निषिद्ध", "requires_sanction": "पूर्व स्वीकृति से ही", "advisory": "परामर्शी",
        "permitted": "अनुमत",
        "subject": "विषय", "contents": "विषय-सूची", "definitions": "परिभाषाएं", "rules": "नियम", "dated": "दिनांक",
        "takes_effect": "ये दिशानिर्देश {effective} से प्रभावी होंगे।",
        "takes_effect_until": "ये दिशानिर्देश {effective} से प्रभावी होंगे और {expires} तक लागू रहेंगे।",
    },
    "mr": {
        "circular": "परिपत्रक", "office_memorandum": "कार्यालयीन ज्ञापन", "guidance": "मार्गदर्शन",
        "prohibited": "निषिद्ध", "requires_sanction": "केवळ पूर्वमंजुरीने", "advisory": "सल्लात्मक",
        "permitted": "अनुज्ञेय",
        "subject": "विषय", "contents": "अनुक्रमणिका", "definitions": "व्याख्या", "rules": "नियम", "dated": "दिनांक",
        "takes_effect": "ही मार्गदर्शक तत्त्वे {effective} पासून अंमलात येतील.",
        "takes_effect_until": "ही मार्गदर्शक तत्त्वे {effective} पासून अंमलात येतील व {expires} पर्यंत लागू राहतील.",
    },
}

#: The Union government, the issuer when the header names none and the jurisdiction is India.
UNION_GOVERNMENT = {"en": "Government of India", "hi": "भारत सरकार", "mr": "भारत सरकार"}

_OUTCOMES = {
    "prohibited": ("Prohibited", "shall not"),
    "requires_sanction": ("Requires prior sanction", "only with the prior sanction of"),
    "advisory": ("Advisory", "should"),
    "permitted": ("Permitted", "may"),
}

_MONTHS_HI = ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्तूबर",
              "नवंबर", "दिसंबर")
_MONTHS_MR = ("जानेवारी", "फेब्रुवारी", "मार्च", "एप्रिल", "मे", "जून", "जुलै", "ऑगस्ट", "सप्टेंबर", "ऑक्टोबर",
              "नोव्हेंबर", "डिसेंबर")

_PLATFORMS = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn",
              "youtube": "YouTube", "whatsapp": "WhatsApp", "telegram": "Telegram", "threads": "Threads",
              "blog": "a blog", "other": "another platform"}

_SHARED_KINDS = {"political_party": "a political party", "government": "a Government account",
                 "media": "a media outlet", "individual": "an individual", "other": "another account"}

#: The account kind a post has when it names none (``account.kind``'s default in the post schema).
ACCOUNT_FIELD_DEFAULT = _POST_FIELDS["account.kind"].default

# The order in which the fields of a post are shown; anything else follows, sorted.
_POST_ORDER = ("text", "platform", "action", "account", "audience", "shared_from", "media", "links",
               "posted_at", "author", "sanction", "labels")


# ---------------------------------------------------------------------------
# Small formatters
# ---------------------------------------------------------------------------


def ordinal(n: int) -> str:
    """1 → 1st, 2 → 2nd, 11 → 11th, 23 → 23rd."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def roman(n: int) -> str:
    """1 → I, 4 → IV, 14 → XIV: the numbering of Indian annexures."""
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += numeral
            n -= value
    return out


def letter(n: int) -> str:
    """1 → A, 26 → Z, 27 → AA: the lettering of UK annexes."""
    return m.clause_letter(n).upper()


def date_view(day: dt.date | None) -> dict[str, str] | None:
    """A date in every form the templates use."""
    if day is None:
        return None
    month = day.strftime("%B")
    return {
        "iso": day.isoformat(),
        "long": f"{ordinal(day.day)} {month}, {day.year}",
        "dmy": f"{day.day:02d}.{day.month:02d}.{day.year}",
        "gov": f"{day.day} {month} {day.year}",
        "hi": f"{day.day} {_MONTHS_HI[day.month - 1]}, {day.year}",
        "mr": f"{day.day} {_MONTHS_MR[day.month - 1]}, {day.year}",
    }


def slug(value: str) -> str:
    """An ASCII anchor fragment: ``member of the Service`` → ``member-of-the-service``."""
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def short_hash(content_hash: str) -> str:
    """``sha256:`` and the first 12 hex digits: enough to trace a printed page to its source."""
    algo, _, digest = content_hash.partition(":")
    return f"{algo}:{digest[:12]}" if digest else content_hash[:12]


def with_article(place: str) -> str:
    """``United Kingdom`` → ``the United Kingdom``; ``India`` stays as it is."""
    first = place.split()[0] if place.split() else ""
    if first in {"United", "Republic", "Kingdom", "Commonwealth", "Federal"} or place.endswith(" Islands"):
        return f"the {place}"
    return place


# ---------------------------------------------------------------------------
# Texts with defined terms
# ---------------------------------------------------------------------------


class _Terms:
    """Glossary anchors by term (case-insensitive), unique within the document."""

    def __init__(self, terms: Iterable[m.Term]):
        self.anchors: dict[str, str] = {}
        used: set[str] = set()
        for i, term in enumerate(terms, 1):
            base = f"term-{slug(term.term) or i}"
            anchor, n = base, 2
            while anchor in used:
                anchor, n = f"{base}-{n}", n + 1
            used.add(anchor)
            self.anchors[term.term.casefold()] = anchor

    def runs(self, value: str) -> list[dict[str, Any]]:
        """A text split at its ``{term}`` references, braces dropped.

        A term run carries its ``tail``: the characters glued to it up to the
        next space (``,`` or ``।``), moved out of the following run. Templates
        keep term and tail in one inline box; WeasyPrint otherwise may break
        the line badly before punctuation that follows an inline element.
        """
        out: list[dict[str, Any]] = []
        pos = 0
        for term, shown, start, end in term_references(value):
            if start > pos:
                out.append({"text": value[pos:start], "term": None, "tail": ""})
            tail = re.match(r"[^\s{}]*", value[end:])
            glued = tail.group() if tail else ""
            out.append({"text": shown.strip(), "term": self.anchors.get(term.casefold()), "tail": glued})
            pos = end + len(glued)
        if pos < len(value):
            out.append({"text": value[pos:], "term": None, "tail": ""})
        return out


def _plain(runs: list[dict[str, Any]]) -> str:
    return "".join(r["text"] + r["tail"] for r in runs)


class _Texts:
    def __init__(self, languages: tuple[str, ...], terms: _Terms):
        self.languages = languages
        self.terms = terms

    def __call__(self, text: m.Text | None) -> dict[str, Any] | None:
        if text is None:
            return None
        versions = []
        missing = []
        for i, lang in enumerate(self.languages):
            value = text.value if i == 0 else text.get(lang)
            if value is None:
                missing.append(lang)
                continue
            runs = self.terms.runs(value)
            versions.append({"lang": lang, "primary": i == 0, "text": _plain(runs), "runs": runs})
        return {"text": versions[0]["text"], "versions": versions, "missing": missing}

    def plain(self, value: str) -> dict[str, Any]:
        """A text the policy gives in one language only (an exception's description, say)."""
        runs = self.terms.runs(value)
        plain = _plain(runs)
        lang = self.languages[0]
        return {"text": plain, "versions": [{"lang": lang, "primary": True, "text": plain, "runs": runs}],
                "missing": list(self.languages[1:])}


# ---------------------------------------------------------------------------
# Outcomes and posts
# ---------------------------------------------------------------------------


def outcome_view(key: str, authority: str | None = None) -> dict[str, Any]:
    """The wording of an outcome, matching the drafting language of a clause.

    ``marker`` is the label line printed under a clause: "Prohibited: shall
    not", "Only with the prior sanction of <authority>", "Advisory: should",
    "Permitted: may".
    """
    label, modal = _OUTCOMES[key]
    if key == "requires_sanction":
        marker = f"Only with the prior sanction of {authority}" if authority else "Only with prior sanction"
    else:
        marker = f"{label}: {modal}"
    return {"key": key, "label": label, "modal": modal, "marker": marker, "authority": authority}


def _words(value: str) -> str:
    return value.replace("_", " ")


def _when(value: str) -> str:
    """``2024-06-20T21:15+01:00`` → ``20 June 2024, 21:15 (UTC+01:00)``."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    offset = moment.strftime("%z")
    zone = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return f"{moment.day} {moment.strftime('%B %Y, %H:%M')}{zone}"


def post_view(post: dict[str, Any]) -> list[dict[str, Any]]:
    """A post as lines a reader can take in: ``{"field", "value", "quoted"}``.

    URLs and handles stay plain text: the templates never turn them into links.
    """
    lines: list[dict[str, Any]] = []

    def add(name: str, value: str, quoted: bool = False) -> None:
        lines.append({"field": name, "value": value, "quoted": quoted})

    keys = [k for k in _POST_ORDER if k in post] + sorted(k for k in post if k not in _POST_ORDER and k != "id")
    for key in keys:
        value = post[key]
        if key == "text":
            if value:
                add("Text", value, quoted=True)
        elif key == "platform":
            add("Platform", _PLATFORMS.get(value, str(value)))
        elif key == "action":
            add("Action", _words(value))
        elif key == "audience":
            add("Audience", _words(value))
        elif key == "account" and isinstance(value, dict):
            # A post without `account.kind` is checked as from a personal account (the schema's
            # default), so it is shown as one: "personal account", "official account @DM_Sitapur".
            kind = value.get("kind") or ACCOUNT_FIELD_DEFAULT
            desc = f"{_words(str(kind))} account"
            if value.get("handle"):
                desc += f" {value['handle']}"
            add("Account", desc)
            if value.get("bio"):
                add("Profile", value["bio"], quoted=True)
        elif key == "shared_from" and isinstance(value, dict):
            whose = _SHARED_KINDS.get(value.get("kind", ""), "another account")
            add("Shares", f"content from {whose}")
            if value.get("text"):
                add("Shared text", value["text"], quoted=True)
        elif key == "media" and isinstance(value, list):
            for item in value:
                desc = item.get("kind", "item")
                if item.get("description"):
                    desc += f": “{item['description']}”"
                if item.get("labels"):
                    desc += f" (labelled {', '.join(_words(lb) for lb in item['labels'])})"
                add("Attached", desc)
        elif key == "links" and isinstance(value, list):
            add("Links", ", ".join(str(v) for v in value))
        elif key == "posted_at":
            add("Posted", _when(str(value)))
        elif key == "author" and isinstance(value, dict):
            add("Author", ", ".join(f"{_words(k)} {v}" for k, v in value.items()))
        elif key == "sanction" and isinstance(value, dict):
            parts = ["obtained" if value.get("obtained") else "not obtained"]
            parts += [f"{k} {v}" for k, v in value.items() if k != "obtained"]
            add("Prior sanction", ", ".join(parts))
        elif key == "labels" and isinstance(value, list):
            add("Labels", ", ".join(_words(lb) for lb in value))
        else:
            add(_words(key).capitalize(), str(value))
    if not lines:
        add("Post", "an empty post with no text")
    return lines


# ---------------------------------------------------------------------------
# The view-model
# ---------------------------------------------------------------------------


def circular_view(
    policy: m.Policy,
    *,
    content_hash: str,
    ruleset: dict[str, Any],
    report: Any = None,
    comparison: Any = None,
    generator: str,
    modified: dt.datetime | None = None,
) -> dict[str, Any]:
    """The data every document template receives.

    Args:
        policy: a policy that passed its checks.
        content_hash: the hash of its sources (``CheckResult.content_hash``).
        ruleset: its compiled rule set (numbers and citations are taken from
            it, so the document and the rule set cannot disagree).
        report: the :class:`toolkit.testing.TestReport` of its examples, for
            the illustrative cases; ``None`` leaves that annex out.
        comparison: a :class:`toolkit.compare.Comparison` of this policy (A)
            with the one it names in ``compare_with`` (B); ``None`` leaves the
            comparison annex out.
        generator: the tool and version, e.g. ``govpost 0.1.0``.
        modified: when this rendition was made (``SOURCE_DATE_EPOCH``), or
            ``None``; never the clock, so that output is reproducible.

    Returns:
        Plain data, as documented in ``docs/circulars.md``.
    """
    meta = policy.meta
    languages = tuple(dict.fromkeys(meta.languages)) or ("en",)
    terms = _Terms(policy.terms)
    T = _Texts(languages, terms)
    rs_clauses = {c["id"]: c for c in ruleset["clauses"]}
    topics = {t.id: t for t in policy.topics}
    authorities = {a.id: a for a in policy.authorities}

    def clause_ref(cid: str) -> dict[str, Any]:
        c = rs_clauses[cid]
        return {"id": cid, "number": c["number"], "title": c["title"], "anchor": f"clause-{cid}"}

    # Annexes first: the body refers to them (a clause names its illustrative cases).
    annexes: list[dict[str, Any]] = []

    def annex(key: str, title: str) -> dict[str, Any]:
        n = len(annexes) + 1
        entry = {"key": key, "index": n, "letter": letter(n), "roman": roman(n), "anchor": f"annex-{key}",
                 "title": title}
        annexes.append(entry)
        return entry

    comparison_view = None
    if comparison is not None:
        comparison_view = _comparison(comparison, policy, T, annex)
    cases_view, cases_by_clause = (None, {})
    if report is not None and report.results:
        cases_view, cases_by_clause = _cases(policy, report, ruleset["examples"], T, clause_ref, annex)
    index_annex = annex("rule-index", "Rule index")
    rule_index = {
        "annex": index_annex,
        "rows": [
            {
                **clause_ref(c["id"]),
                "topic": c["topic"],
                "topic_title": ruleset["topics"].get(c["topic"], c["topic"]),
                "outcome": outcome_view(c["outcome"], (c["authority"] or {}).get("title")),
                "citations": [ct["text"] for ct in c["citations"]],
                "new_guidance": c["new_guidance"],
            }
            for c in ruleset["clauses"]
        ],
    }

    # The body: sections and clauses, numbered as the rule set numbers them.
    numbers = {id(s): n for s, n in policy.numbered_sections()}

    def section_view(section: m.Section, depth: int) -> dict[str, Any]:
        level = min(depth + 1, 6)
        children: list[dict[str, Any]] = []
        for child in section.children:
            if isinstance(child, m.Section):
                children.append(section_view(child, depth + 1))
            else:
                children.append(clause_view(child, min(level + 1, 6)))
        number = numbers[id(section)]
        title = T(section.title)
        return {"kind": "section", "id": section.id, "number": number, "depth": depth, "heading_level": level,
                "anchor": f"section-{section.id}", "title": title, "intro": T(section.intro),
                "bookmark": f"{number}. {title['text']}" if title else number, "children": children}

    def clause_view(clause: m.Clause, level: int) -> dict[str, Any]:
        c = rs_clauses[clause.id]
        authority = None
        if clause.authority is not None and clause.authority in authorities:
            authority = authorities[clause.authority].title.value
        described = [{"label": f"({roman(i).lower()})", "text": T.plain(e.description)}
                     for i, e in enumerate((e for e in clause.unless if e.description), 1)]
        topic = topics.get(clause.topic or "")
        return {
            "kind": "clause",
            "id": clause.id,
            "number": c["number"],
            "letter": c["number"][c["number"].index("("):] if "(" in c["number"] else c["number"],
            "heading_level": level,
            "anchor": f"clause-{clause.id}",
            "title": T(clause.title),
            "text": T(clause.text),
            "topic": {"id": clause.topic, "title": T(topic.title) if topic else None},
            "outcome": outcome_view(c["outcome"], authority),
            "exceptions": described,
            "unnamed_exceptions": len(clause.unless) - len(described),
            "citations": [
                {"text": ct["text"], "instrument": ct["instrument"], "provision": ct["provision"],
                 "provision_title": _provision_title(policy, ct["instrument"], ct["provision"])}
                for ct in c["citations"]
            ],
            "citation_groups": _citation_groups(policy, clause),
            "new_guidance": clause.is_new_guidance,
            "new_guidance_note": T(clause.new_guidance),
            "rationale": T(clause.rationale),
            "note": T(clause.note),
            "cases": cases_by_clause.get(clause.id, []),
        }

    sections = [section_view(s, 1) for s in policy.sections]

    def toc_entries(items: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for item in items:
            if item["kind"] == "section":
                yield {"number": item["number"], "title": item["title"], "anchor": item["anchor"],
                       "depth": item["depth"]}
                yield from toc_entries(item["children"])

    glossary = sorted(
        ({"term": t.term, "anchor": terms.anchors[t.term.casefold()], "definition": T(t.definition)}
         for t in policy.terms),
        key=lambda g: (g["term"].casefold(), g["term"]),
    )
    for i, entry in enumerate(glossary, 1):
        entry["label"] = f"({roman(i).lower()})"
    document = _document(policy, content_hash, ruleset, T, generator, modified, languages)
    return {
        "generator": generator,
        "document": document,
        "glossary": glossary,
        "sections": sections,
        "toc": list(toc_entries(sections)),
        "annexes": annexes,
        "comparison": comparison_view,
        "cases": cases_view,
        "rule_index": rule_index,
    }


def _citation_groups(policy: m.Policy, clause: m.Clause) -> list[dict[str, Any]]:
    """A clause's citations grouped by instrument, in the order cited: "AIS (Conduct) Rules, rules 5(1), 7"."""
    instruments = {i.id: i for i in policy.instruments}
    groups: dict[str, dict[str, Any]] = {}
    for cite in clause.citations:
        inst = instruments.get(cite.instrument)
        if inst is None:  # pragma: no cover - the checker rejects undeclared instruments
            continue
        group = groups.setdefault(cite.instrument, {
            "instrument": cite.instrument,
            "name": (inst.short or inst.title).value,
            "title": inst.title.value,
            "provisions": [],
        })
        provision = inst.provision(cite.ref)
        unit = f"{inst.unit} " if inst.unit else ""
        group["provisions"].append({"ref": cite.ref, "text": f"{unit}{cite.ref}",
                                    "title": provision.title.value if provision else None})
    return list(groups.values())


def _provision_title(policy: m.Policy, instrument: str, ref: str) -> str | None:
    for inst in policy.instruments:
        if inst.id == instrument:
            p = inst.provision(ref)
            return p.title.value if p else None
    return None


def _document(policy: m.Policy, content_hash: str, ruleset: dict[str, Any], T: _Texts, generator: str,
              modified: dt.datetime | None, languages: tuple[str, ...]) -> dict[str, Any]:
    meta = policy.meta
    title = T(meta.title) or T.plain(policy.id)
    issuer = next((x for x in (meta.department, meta.ministry, meta.jurisdiction) if x is not None), None)

    # The instruments the clauses cite, in declaration order, with the provisions cited.
    cited: dict[str, list[str]] = {}
    for c in ruleset["clauses"]:
        for ct in c["citations"]:
            refs = cited.setdefault(ct["instrument"], [])
            if ct["provision"] not in refs:
                refs.append(ct["provision"])
    references = []
    for inst in policy.instruments:
        if inst.id in cited:
            unit = f"{inst.unit} " if inst.unit else ""
            references.append({"label": f"({roman(len(references) + 1).lower()})", "id": inst.id,
                               "title": T(inst.title), "short": inst.short.value if inst.short else None,
                               "provisions": [f"{unit}{ref}" for ref in cited[inst.id]]})

    created = None
    if meta.issued is not None:
        import zoneinfo

        tz = zoneinfo.ZoneInfo(meta.timezone)
        created = dt.datetime.combine(meta.issued, dt.time(0, 0), tzinfo=tz).isoformat()
    elif modified is not None:
        created = modified.isoformat()
    topic_titles = []
    used_topics = {c["topic"] for c in ruleset["clauses"]}
    for t in policy.topics:
        if t.id in used_topics and t.title.value not in topic_titles:
            topic_titles.append(t.title.value)
    keywords = [x for x in ("social media", "conduct rules", meta.jurisdiction.value if meta.jurisdiction else None,
                            *meta.services) if x]
    signatory = meta.signatory
    number = meta.number
    version = meta.version
    running = " · ".join(x for x in (number, f"Version {version}" if version else None) if x) or title["text"]
    second = languages[1] if len(languages) > 1 else None
    wording = {"lang": second, **WORDING[second]} if second in WORDING else None
    return {
        "id": policy.id,
        "kind": meta.kind,
        "kind_label": KIND_LABELS.get(meta.kind, meta.kind.replace("_", " ").title()),
        "title": title,
        "subject": T(meta.subject),
        "jurisdiction": meta.jurisdiction.value if meta.jurisdiction else None,
        "government": _government(meta, T, languages),
        "wording": wording,
        "ministry": T(meta.ministry),
        "department": T(meta.department),
        "division": T(meta.division),
        "issuer": issuer.value if issuer else None,
        "number": number,
        "version": version,
        "running_head": running,
        "issued": date_view(meta.issued),
        "effective": date_view(meta.effective),
        "expires": date_view(meta.expires),
        "updated": date_view(meta.updated),
        "place": T(meta.place),
        "supersedes": [T(s) for s in meta.supersedes],
        "references": references,
        "services": list(meta.services),
        "grades": list(meta.grades),
        "signatory": {"name": T(signatory.name), "designation": T(signatory.designation),
                      "contact": T(signatory.contact)},
        "to": [T(x) for x in meta.to],
        "copy_to": [T(x) for x in meta.copy_to],
        "opening": T(meta.opening),
        "lang": languages[0],
        "languages": [{"code": code, "name": LANGUAGE_NAMES.get(code, (code, code))[0],
                       "native": LANGUAGE_NAMES.get(code, (code, code))[1], "primary": i == 0}
                      for i, code in enumerate(languages)],
        "bilingual": len(languages) > 1,
        "content_hash": content_hash,
        "short_hash": short_hash(content_hash),
        "metadata": {
            "title": title["text"],
            "author": issuer.value if issuer else generator,
            "subject": (T(meta.subject) or title)["text"],
            "keywords": keywords + topic_titles,
            "created": created,
            "modified": modified.isoformat() if modified is not None else created,
        },
    }


def _government(meta: m.Metadata, T: _Texts, languages: tuple[str, ...]) -> dict[str, Any] | None:
    """The issuing government as a Text: the header's `government`; else the Union's when the
    jurisdiction is India (or none is given); else none (a State's name is the drafter's to give)."""
    if meta.government is not None:
        return T(meta.government)
    if meta.jurisdiction is not None and meta.jurisdiction.value != "India":
        return None
    versions = [{"lang": lang, "primary": i == 0, "text": UNION_GOVERNMENT[lang],
                 "runs": [{"text": UNION_GOVERNMENT[lang], "term": None, "tail": ""}]}
                for i, lang in enumerate(languages) if lang in UNION_GOVERNMENT]
    if not versions or not versions[0]["primary"]:
        return None
    return {"text": versions[0]["text"], "versions": versions,
            "missing": [lang for lang in languages if lang not in UNION_GOVERNMENT]}


_RELATIONS = {
    "stricter": ("Stricter", "Some posts get a stronger outcome here than under {other}, none a weaker one."),
    "looser": ("Looser", "Some posts get a weaker outcome here than under {other}, none a stronger one."),
    "mixed": ("Mixed", "Some posts get a stronger outcome here than under {other}, others a weaker one."),
    "equivalent": ("Equivalent", "Every post gets the same outcome here as under {other}."),
    "only_a": ("No counterpart in {other}", "{Other} has no provision on this topic."),
    "only_b": ("Only in {other}", "Only {other} has provisions on this topic."),
}


def _comparison(comparison: Any, policy: m.Policy, T: _Texts, annex: Any) -> dict[str, Any]:
    other_place = comparison.b.jurisdiction
    other = with_article(other_place) if other_place else f"“{comparison.b.title}”"
    short = {"the United Kingdom": "the UK"}.get(other, other)

    def relation(key: str) -> dict[str, str]:
        label, desc = _RELATIONS[key]
        fill = {"other": short, "Other": short[:1].upper() + short[1:]}
        return {"key": key, "label": label.format(**fill), "description": desc.format(**fill)}

    notes_by_topic: dict[str, list[dict[str, Any]]] = {}
    for clause, number in policy.numbered_clauses():
        if clause.note is not None and clause.topic:
            notes_by_topic.setdefault(clause.topic, []).append({"clause": number, "text": T(clause.note)})

    def refs(clauses: Iterable[Any]) -> list[dict[str, Any]]:
        return [{"id": c.id, "number": c.number, "title": c.title, "outcome": outcome_view(c.outcome),
                 "citations": list(c.citations)} for c in clauses]

    def side(result: Any, clauses: Iterable[Any]) -> dict[str, Any]:
        by_id = {c.id: c for c in clauses}
        return {"outcome": outcome_view(result.outcome),
                "deciding": [{"id": d, "number": by_id[d].number if d in by_id else "",
                              "title": by_id[d].title if d in by_id else d} for d in result.deciding]}

    rows = []
    counts: dict[str, int] = {}
    for tc in comparison.topics:
        counts[tc.relation] = counts.get(tc.relation, 0) + 1
        witnesses = []
        for direction, w in (("stricter", tc.stricter), ("looser", tc.looser)):
            if w is None:
                continue
            witnesses.append({
                "direction": direction,
                "heading": ("A post treated more strictly here" if direction == "stricter"
                            else "A post treated less strictly here"),
                "post": post_view({k: v for k, v in w.post.items() if k != "id"}),
                "this": side(w.right, tc.a_clauses),
                "other": side(w.left, tc.b_clauses),
            })
        rows.append({
            "topic": tc.topic,
            "title": tc.title,
            "anchor": f"compare-{tc.topic}",
            "relation": relation(tc.relation),
            "this_clauses": refs(tc.a_clauses),
            "other_clauses": refs(tc.b_clauses),
            "witnesses": witnesses,
            "notes": notes_by_topic.get(tc.topic, []),
        })
    order = ("stricter", "looser", "mixed", "equivalent", "only_a", "only_b")
    return {
        "annex": annex("comparison", f"Comparison with {other}"),
        "this": {"id": comparison.a.id, "title": comparison.a.title, "jurisdiction": comparison.a.jurisdiction},
        "other": {"id": comparison.b.id, "title": comparison.b.title, "jurisdiction": other_place,
                  "name": other, "short": short},
        "overall": relation(comparison.overall.verdict),
        "counts": [{**relation(k), "count": counts[k]} for k in order if k in counts],
        "rows": rows,
    }


def _cases(policy: m.Policy, report: Any, examples: list[dict[str, Any]], T: _Texts, clause_ref: Any, annex: Any
           ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    # INVARIANT: report.results are in the order of the rule set's examples (run_examples keeps it).
    entry = annex("cases", "Illustrative cases")
    # The top-level section of every clause: cases are grouped by it.
    top_of: dict[str, int] = {}
    for clause, number in policy.numbered_clauses():
        top_of[clause.id] = int(re.match(r"\d+", number).group())  # type: ignore[union-attr]
    by_section: dict[int, dict[str, Any]] = {}
    for i, section in enumerate(policy.sections, 1):
        title = T(section.title)
        by_section[i] = {"number": str(i), "title": title, "anchor": f"cases-{section.id}", "cases": []}
    by_clause: dict[str, list[dict[str, Any]]] = {}
    for n, r in enumerate(report.results, 1):
        verdict = r.verdict
        case = {
            "number": n,
            "label": f"{entry['roman']}.{n}",
            "anchor": f"case-{n}",
            "title": r.title,
            "clause": clause_ref(r.clause),
            "post": post_view(examples[n - 1]["post"]),
            "outcome": outcome_view(verdict.outcome if verdict else r.expected_outcome),
            "deciding": [clause_ref(d) for d in (verdict.deciding if verdict else [])],
        }
        by_section[top_of[r.clause]]["cases"].append(case)
        by_clause.setdefault(r.clause, []).append({"number": n, "label": case["label"], "anchor": case["anchor"]})
    groups = [g for g in by_section.values() if g["cases"]]
    return {"annex": entry, "groups": groups, "count": len(report.results)}, by_clause
