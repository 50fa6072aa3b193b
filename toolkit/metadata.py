"""The `policy { … }` header → :class:`toolkit.model.Metadata`.

Header entries are parsed generically (``key value, value``) and checked
here against :data:`SCHEMA`, so that a misspelt key gets a did-you-mean
hint instead of a parse error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import model as m
from .diagnostics import Diagnostic, did_you_mean
from .source import Span

# key → (type, help). Types: text, texts, string, strings, date, name, names, signatory, channels.
SCHEMA: dict[str, tuple[str, str]] = {
    "kind": ("name", "circular, office_memorandum or guidance"),
    "title": ("text", "the title of the document"),
    "subject": ("text", "the Subject line"),
    "jurisdiction": ("text", "the country or State"),
    "government": ("text", "the issuing government, in every declared language (default: the Government of India)"),
    "ministry": ("text", "the issuing ministry"),
    "department": ("text", "the issuing department"),
    "division": ("text", "the issuing division or section"),
    "number": ("string", "the file or document number"),
    "version": ("string", "the version, such as \"1.0\""),
    "issued": ("date", "the date of issue"),
    "effective": ("date", "the date it takes effect"),
    "expires": ("date", "the last day it is valid"),
    "updated": ("date", "the date it was last updated (not before `issued`)"),
    "supersedes": ("texts", "the orders it replaces"),
    "services": ("strings", "the services it applies to"),
    "grades": ("strings", "the grades it applies to"),
    "place": ("text", "the place of issue"),
    "signatory": ("signatory", "name, designation and contact of the signing officer"),
    "to": ("texts", "the addressees"),
    "copy_to": ("texts", "the copy-to list"),
    "languages": ("names", "language codes, main language first"),
    "translations": ("name", "complete (a warning for each text without a translation) or partial (none)"),
    "timezone": ("string", "an IANA time zone such as \"Asia/Kolkata\""),
    "opening": ("text", "the opening paragraph"),
    "compare_with": ("string", "the path of the policy to compare with"),
    "default_outcome": ("name", "permitted or advisory"),
    "valence": ("name", "vader (the published VADER lexicon) or none: the words `disparages` and `praises` "
                        "weigh, besides the policy's own `valence` lexicons"),
    "channels": ("channels", "a record: topic → where such posts go instead (a grievance portal, the PIO)"),
}

KINDS = ("circular", "office_memorandum", "guidance")
SIGNATORY_KEYS = ("name", "designation", "contact")


def read_metadata(header: Any) -> tuple[m.Metadata, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    fields: dict[str, Any] = {}
    seen: dict[str, Span] = {}
    suggested: set[str] = set()
    for key, values, span in header.entries:
        if key not in SCHEMA:
            hint = did_you_mean(key, SCHEMA)
            if hint:
                suggested.add(hint.split("`")[1])
            diags.append(
                Diagnostic("S214", f"unknown header key `{key}`", span,
                           help=hint or "see the header table in docs/language.md")
            )
            continue
        if key in seen:
            diags.append(Diagnostic("S217", f"header key `{key}` given more than once", span))
            continue
        seen[key] = span
        kind, what = SCHEMA[key]
        value = _convert(key, kind, what, values, span, diags)
        if value is not None:
            fields[key] = value
    meta = m.Metadata()
    if "signatory" in fields:
        fields["signatory"] = m.Signatory(**fields["signatory"])
    if "default_outcome" in fields:
        fields["default_outcome"] = m.Outcome.from_label(fields["default_outcome"])
    meta = replace(meta, **fields)
    if meta.title is None and "title" not in suggested:
        diags.append(Diagnostic("S216", "the policy has no `title`", header.span,
                                help='add `title "…"` to the `policy` block'))
    _check_timezone(meta, seen, diags)
    _check_dates(meta, seen, diags)
    return meta, diags


def _convert(key: str, kind: str, what: str, values: list[Any], span: Span, diags: list[Diagnostic]) -> Any:
    def bad(message: str, where: Span) -> None:
        diags.append(Diagnostic("S215", message, where, help=f"`{key}` takes {what}"))

    def one() -> Any:
        if len(values) != 1:
            bad(f"`{key}` takes one value, not {len(values)}", span)
            return None
        return values[0]

    def as_text(v: Any) -> m.Text | None:
        if isinstance(v, m.Text):
            return v
        bad(f"`{key}` needs a quoted text", v[2] if isinstance(v, tuple) else span)
        return None

    def as_string(v: Any) -> str | None:
        t = as_text(v)
        if t is None:
            return None
        if t.translations:
            bad(f"`{key}` is not translated", t.span)
        return t.value

    if kind == "text":
        v = one()
        return as_text(v) if v is not None else None
    if kind == "texts":
        out = [as_text(v) for v in values]
        return tuple(t for t in out if t is not None)
    if kind == "string":
        v = one()
        return as_string(v) if v is not None else None
    if kind == "strings":
        strs = [as_string(v) for v in values]
        return tuple(s for s in strs if s is not None)
    if kind == "date":
        v = one()
        if v is None:
            return None
        if not (isinstance(v, tuple) and v[0] == "date"):
            bad(f"`{key}` needs a date such as 2026-11-24", _where(v, span))
            return None
        return v[1]
    if kind in ("name", "names"):
        names = []
        for v in values:
            if isinstance(v, tuple) and v[0] == "name":
                names.append(v[1])
            else:
                bad(f"`{key}` needs a bare name", _where(v, span))
        allowed = {"kind": KINDS, "default_outcome": ("permitted", "advisory"), "valence": ("vader", "none"),
                   "translations": ("complete", "partial")}.get(key)
        for n, v in zip(names, values):
            if allowed and n not in allowed:
                diags.append(Diagnostic("S215", f"`{n}` is not a valid `{key}`", _where(v, span),
                                        help=did_you_mean(n, allowed) or f"use one of: {', '.join(allowed)}"))
                return None
        if kind == "name":
            if len(names) != 1:
                return None
            return names[0]
        return tuple(names)
    if kind == "signatory":
        v = one()
        if v is None:
            return None
        if not (isinstance(v, tuple) and v[0] == "record"):
            bad("`signatory` needs a record: { name \"…\" designation \"…\" contact \"…\" }", _where(v, span))
            return None
        out: dict[str, m.Text] = {}
        for sub_key, sub_values, sub_span in v[1]:
            if sub_key not in SIGNATORY_KEYS:
                diags.append(Diagnostic("S214", f"unknown signatory key `{sub_key}`", sub_span,
                                        help=did_you_mean(sub_key, SIGNATORY_KEYS) or "use name, designation, contact"))
                continue
            if len(sub_values) == 1 and isinstance(sub_values[0], m.Text):
                out[sub_key] = sub_values[0]
            else:
                bad(f"signatory `{sub_key}` needs one quoted text", sub_span)
        return out
    if kind == "channels":
        v = one()
        if v is None:
            return None
        if not (isinstance(v, tuple) and v[0] == "record"):
            bad('`channels` needs a record: { TOPIC "where such posts go" … }', _where(v, span))
            return None
        channels: list[m.Channel] = []
        for sub_key, sub_values, sub_span in v[1]:
            if any(c.topic == sub_key for c in channels):
                diags.append(Diagnostic("S217", f"channel for topic `{sub_key}` given more than once", sub_span))
            elif len(sub_values) == 1 and isinstance(sub_values[0], m.Text):
                channels.append(m.Channel(sub_key, sub_values[0], sub_span))
            else:
                bad(f"channel `{sub_key}` needs one quoted text", sub_span)
        return tuple(channels)
    raise AssertionError(kind)  # pragma: no cover


def _where(v: Any, span: Span) -> Span:
    if isinstance(v, m.Text):
        return v.span
    if isinstance(v, tuple) and len(v) == 3 and isinstance(v[2], Span):
        return v[2]
    return span


def _check_timezone(meta: m.Metadata, seen: dict[str, Span], diags: list[Diagnostic]) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(meta.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        diags.append(Diagnostic("S215", f"`{meta.timezone}` is not a known time zone", seen.get("timezone"),
                                help='use an IANA name such as "Asia/Kolkata" or "Europe/London"'))


def _check_dates(meta: m.Metadata, seen: dict[str, Span], diags: list[Diagnostic]) -> None:
    if meta.issued and meta.effective and meta.effective < meta.issued:
        diags.append(Diagnostic("S209", f"the policy takes effect ({meta.effective}) before it is issued ({meta.issued})",
                                seen["effective"]))
    if meta.issued and meta.updated and meta.updated < meta.issued:
        diags.append(Diagnostic("S209", f"the policy is updated ({meta.updated}) before it is issued ({meta.issued})",
                                seen["updated"]))
    start = meta.effective or meta.issued
    if start and meta.expires and meta.expires <= start:
        diags.append(Diagnostic("S209", f"the policy expires ({meta.expires}) before it takes effect ({start})",
                                seen["expires"]))
