"""Model → canonical policy text.

The printer writes any model back as policy source in one canonical layout,
such that parsing the output gives an equal model. It knows nothing of
comments (the model has none): it serves round-trip tests and a canonical
text for reviewing changes; the formatter builds on it and keeps comments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from . import model as m
from .metadata import SCHEMA
from .operators import for_node

INDENT = "    "
WIDTH = 100


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def text(t: m.Text) -> str:
    out = quote(t.value)
    for lang, value in t.translations:
        out += f" @{lang} {quote(value)}"
    return out


def regex(pattern: m.Pattern) -> str:
    # Escape bare slashes only; an escape pair such as `\d` or `\\` stays as it is.
    body = re.sub(r"\\.|/", lambda mt: "\\/" if mt.group() == "/" else mt.group(), pattern.regex)
    return "/" + body + "/" + pattern.flags


def condition(c: m.Condition, context: int = 0) -> str:
    """The canonical text of a condition, parenthesised as its context needs (toolkit.operators)."""
    return for_node(c).print(c, condition, context)


def value(v: m.Value) -> str:
    if v.kind == "bool":
        return "true" if v.value else "false"
    if v.kind == "name":
        return str(v.value)
    return quote(str(v.value))


def literal(v: m.LitValue) -> str:
    if isinstance(v, m.Lit):
        if v.kind == "string":
            return quote(str(v.value))
        if v.kind == "bool":
            return "true" if v.value else "false"
        return str(v.value)
    if isinstance(v, m.PostLiteral):
        return post(v)
    return "[" + ", ".join(literal(x) for x in v) + "]"


def post(p: m.PostLiteral) -> str:
    return "{ " + ", ".join(f"{k}: {literal(v)}" for k, v in p.fields) + " }" if p.fields else "{ }"


def outcome(o: m.Outcome, authority: str | None = None) -> str:
    if o is m.Outcome.REQUIRES_SANCTION:
        return f"requires sanction of {authority}" if authority else "requires sanction"
    return o.label


def _header(policy: m.Policy) -> list[str]:
    return _header_of(policy.id, policy.meta)


def _header_of(policy_id: str, meta: m.Metadata) -> list[str]:
    default = m.Metadata()
    lines = [f"policy {policy_id} {{"]
    width = max(len(k) for k in SCHEMA)
    for key in SCHEMA:
        val = getattr(meta, key)
        if val == getattr(default, key):
            continue
        if key == "signatory":
            parts = [f"{k} {text(getattr(val, k))}" for k in ("name", "designation", "contact") if getattr(val, k)]
            rendered = "{ " + " ".join(parts) + " }"
        elif key == "default_outcome":
            rendered = val.label
        elif key == "channels":
            rendered = "{ " + " ".join(f"{c.topic} {text(c.text)}" for c in val) + " }"
        elif isinstance(val, m.Text):
            rendered = text(val)
        elif isinstance(val, dt.date):
            rendered = val.isoformat()
        elif isinstance(val, tuple):
            if key == "languages":
                rendered = ", ".join(val)
            else:
                rendered = ", ".join(text(v) if isinstance(v, m.Text) else quote(v) for v in val)
        elif key in ("kind", "valence", "translations"):
            rendered = val
        else:
            rendered = quote(str(val))
        lines.append(f"{INDENT}{key.ljust(width)} {rendered}".rstrip())
    lines.append("}")
    return lines


def _wrap_list(head: str, items: Iterable[str], indent: str) -> list[str]:
    items = list(items)
    one_line = f"{indent}{head} {{ {', '.join(items)} }}"
    if len(one_line) <= WIDTH or not items:
        return [one_line if items else f"{indent}{head} {{ }}"]
    lines = [f"{indent}{head} {{"]
    current = indent + INDENT
    for item in items:
        piece = item + ","
        if current.strip() and len(current) + 1 + len(piece) > WIDTH:
            lines.append(current.rstrip())
            current = indent + INDENT
        current += ("" if not current.strip() else " ") + piece
    if current.strip():
        lines.append(current.rstrip())
    lines.append(f"{indent}}}")
    return lines


def _clause(c: m.Clause, indent: str) -> list[str]:
    inner = indent + INDENT
    lines = [f"{indent}clause {c.id} {text(c.title)} {{"]
    if c.topic is not None:
        lines.append(f"{inner}topic {c.topic}")
    if c.text is not None:
        lines.append(f"{inner}text {text(c.text)}")
    if c.outcome is not None:
        lines.append(f"{inner}outcome {outcome(c.outcome, c.authority)}")
    if c.when is not None:
        lines.append(f"{inner}when {condition(c.when)}")
    for exc in c.unless:
        desc = f"{quote(exc.description)} " if exc.description is not None else ""
        lines.append(f"{inner}unless {desc}{condition(exc.condition)}")
    if c.citations:
        lines.append(f"{inner}cites " + ", ".join(f"{ct.instrument} {ct.ref}" for ct in c.citations))
    if c.is_new_guidance:
        lines.append(f"{inner}new guidance" + (f" {text(c.new_guidance)}" if c.new_guidance else ""))
    if c.rationale is not None:
        lines.append(f"{inner}rationale {text(c.rationale)}")
    if c.note is not None:
        lines.append(f"{inner}note {text(c.note)}")
    for ex in c.examples:
        lines.append("")
        lines.append(f"{inner}example {quote(ex.title)}")
        lines.append(f"{inner}{INDENT}{post(ex.post)}")
        by = f" by {ex.clause}" if ex.clause else ""
        lines.append(f"{inner}{INDENT}expect {outcome(ex.outcome)}{by}")
    lines.append(f"{indent}}}")
    return lines


def _section(s: m.Section, indent: str) -> list[str]:
    inner = indent + INDENT
    lines = [f"{indent}section {s.id} {text(s.title)} {{"]
    if s.intro is not None:
        lines.append(f"{inner}text {text(s.intro)}")
    for child in s.children:
        lines.append("")
        lines.extend(_section(child, inner) if isinstance(child, m.Section) else _clause(child, inner))
    lines.append(f"{indent}}}")
    return lines


def _instrument(inst: m.Instrument) -> list[str]:
    lines = [f"instrument {inst.id} {text(inst.title)} {{"]
    if inst.short is not None:
        lines.append(f"{INDENT}short {text(inst.short)}")
    if inst.unit is not None:
        lines.append(f"{INDENT}unit {quote(inst.unit)}")
    lines.extend(f"{INDENT}provision {p.ref} {text(p.title)}" for p in inst.provisions)
    lines.append("}")
    return lines


def _lexicon(lex: m.Lexicon) -> list[str]:
    head = f"lexicon {lex.id}" + (f" {quote(lex.description)}" if lex.description is not None else "")
    attrs = []
    if lex.mode != "inflected":
        attrs.append(lex.mode)
    if lex.negatable:
        attrs.append("negatable")
    if lex.role == "negation":
        attrs.append("negation")
    if lex.valence is not None:
        attrs.append(f"valence {number(lex.valence)}")
    if attrs:
        head += " " + " ".join(attrs)
    if lex.source is not None:
        return [f"{head} from {quote(lex.source)}"]
    return _wrap_list(head, ((f"{e.mode} " if e.mode else "") + quote(e.text) for e in lex.entries), "")


def number(value: float) -> str:
    """A valence as written: no trailing zeros (``-2``, ``1.5``)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pattern(p: m.Pattern) -> str:
    return f"pattern {p.id}" + (f" {quote(p.description)}" if p.description is not None else "") + f" {regex(p)}"


def _signal(sig: m.Signal) -> list[str]:
    desc = f" {quote(sig.description)}" if sig.description is not None else ""
    return [f"signal {sig.id}{desc} means", f"{INDENT}{condition(sig.condition)}"]


def _period(p: m.Period) -> str:
    return (f"period {p.id}" + (f" {quote(p.description)}" if p.description is not None else "")
            + f" from {p.start.isoformat() if p.start else ''} to {p.end.isoformat() if p.end else ''}")


def print_policy(policy: m.Policy) -> str:
    """The canonical text of a policy (includes already merged in)."""
    blocks: list[list[str]] = [_header(policy)]
    simple = [
        [f"topic {t.id} {text(t.title)}" for t in policy.topics],
        [f"label {lb.id} {text(lb.description)}" for lb in policy.labels],
        [f"authority {a.id} {text(a.title)}" for a in policy.authorities],
    ]
    blocks.extend(b for b in simple if b)
    for inst in policy.instruments:
        blocks.append(_instrument(inst))
    if policy.terms:
        blocks.append([f"define {quote(t.term)} means {text(t.definition)}" for t in policy.terms])
    for lex in policy.lexicons:
        blocks.append(_lexicon(lex))
    if policy.patterns:
        blocks.append([_pattern(p) for p in policy.patterns])
    for sig in policy.signals:
        blocks.append(_signal(sig))
    if policy.periods:
        blocks.append([_period(p) for p in policy.periods])
    for section in policy.sections:
        blocks.append(_section(section, ""))
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


def _one_line(item: object) -> str | None:
    """The one-line form of a short declaration, or None for a declaration that takes a block."""
    if isinstance(item, m.Include):
        return f"include {quote(item.path)}"
    if isinstance(item, m.Topic):
        return f"topic {item.id} {text(item.title)}"
    if isinstance(item, m.Label):
        return f"label {item.id} {text(item.description)}"
    if isinstance(item, m.Authority):
        return f"authority {item.id} {text(item.title)}"
    if isinstance(item, m.Term):
        return f"define {quote(item.term)} means {text(item.definition)}"
    if isinstance(item, m.Pattern):
        return _pattern(item)
    if isinstance(item, m.Period):
        return _period(item)
    return None


def print_file(items: Iterable[object], policy_id: str | None = None, meta: m.Metadata | None = None) -> str:
    """The canonical text of one file, includes not merged: its header (if any) and its declarations.

    Declarations keep the file's order, each in the canonical layout; one-line
    declarations of the same kind that follow each other form one block. This
    is the text ``govpost textconv`` shows to ``git diff``.

    Args:
        items: the file's declarations in order (``include``, topics, lexicons, sections, …).
        policy_id, meta: the header, for a policy file; None for an included fragment.
    """
    blocks: list[list[str]] = []
    if policy_id is not None:
        blocks.append(_header_of(policy_id, meta if meta is not None else m.Metadata()))
    previous: type | None = None
    for item in items:
        line = _one_line(item)
        if line is not None:
            if previous is type(item) and blocks:
                blocks[-1].append(line)
            else:
                blocks.append([line])
            previous = type(item)
            continue
        previous = None
        if isinstance(item, m.Instrument):
            blocks.append(_instrument(item))
        elif isinstance(item, m.Lexicon):
            blocks.append(_lexicon(item))
        elif isinstance(item, m.Signal):
            blocks.append(_signal(item))
        elif isinstance(item, m.Section):
            blocks.append(_section(item, ""))
        else:  # pragma: no cover - every declaration is handled above
            raise AssertionError(item)
    return "\n\n".join("\n".join(b) for b in blocks) + "\n" if blocks else ""
