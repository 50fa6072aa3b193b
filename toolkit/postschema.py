"""The shape of a post: the fields a condition may name, and their types.

This is the single source of truth for posts. The JSON Schema shipped in
``schemas/post.schema.json`` is generated from it (``govpost schema post``),
the semantic checks type conditions against it, and the checker validates
records with it. It imports nothing from the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PLATFORMS = ("x", "facebook", "instagram", "linkedin", "youtube", "whatsapp", "telegram",
             "threads", "blog", "other")
ACTIONS = ("post", "reply", "share", "like", "comment", "profile_update")
ACCOUNT_KINDS = ("personal", "official", "anonymous")
AUDIENCES = ("public", "followers", "group", "private")
SOURCE_KINDS = ("political_party", "government", "media", "individual", "other")
MEDIA_KINDS = ("image", "video", "audio", "document", "other")


@dataclass(frozen=True)
class FieldType:
    """The type of one field.

    ``kind`` is one of ``text`` (free text that lexicons and patterns search),
    ``string`` (a short value compared whole), ``enum``, ``bool`` or
    ``datetime``. ``many`` marks a field that holds a list, or that sits
    inside a list (``media.kind``): a condition on it holds when it holds
    for any one of the values.
    """

    kind: str
    description: str
    values: tuple[str, ...] = ()
    many: bool = False
    default: Any = None


#: Every field a condition or an example may name, by dotted path.
FIELDS: dict[str, FieldType] = {
    "id": FieldType("string", "An identifier of the post, unique within an input"),
    "text": FieldType("text", "The words of the post", default=""),
    "platform": FieldType("enum", "Where it was posted", PLATFORMS, default="other"),
    "action": FieldType("enum", "What the author did", ACTIONS, default="post"),
    "account.kind": FieldType("enum", "The account it came from", ACCOUNT_KINDS, default="personal"),
    "account.handle": FieldType("text", "The account's handle or name"),
    "account.bio": FieldType("text", "The account's profile text"),
    "author.service": FieldType("string", "The author's service (IAS, IPS, IFoS, …)"),
    "author.grade": FieldType("string", "The author's grade or pay level"),
    "author.cadre": FieldType("string", "The author's cadre (a State, or a joint cadre)"),
    "posted_at": FieldType("datetime", "When it was posted, ISO 8601 with a UTC offset"),
    "audience": FieldType("enum", "Who can see it", AUDIENCES, default="public"),
    "shared_from.kind": FieldType("enum", "Whose content was shared", SOURCE_KINDS),
    "shared_from.text": FieldType("text", "The words of the shared content"),
    "media.kind": FieldType("enum", "The kind of an attached item", MEDIA_KINDS, many=True),
    "media.description": FieldType("text", "A description of an attached item", many=True),
    "media.labels": FieldType("string", "Labels of an attached item", many=True),
    "links": FieldType("text", "Addresses linked from the post", many=True),
    "sanction.obtained": FieldType("bool", "Prior sanction was obtained", default=False),
    "sanction.authority": FieldType("string", "The authority that granted sanction"),
    "sanction.reference": FieldType("string", "The number or date of the sanction"),
    "labels": FieldType("string", "Facts set by a reviewer or an upstream classifier", many=True),
}

#: Objects and lists of objects, and the fields inside them.
GROUPS: dict[str, tuple[str, bool]] = {
    # name: (description, is a list of objects)
    "account": ("The account it was posted from", False),
    "author": ("The member of the Service who posted it", False),
    "shared_from": ("What was shared or quoted, for a share", False),
    "media": ("Attached images, videos, documents", True),
    "sanction": ("Prior sanction for the post", False),
}

#: Top-level fields that hold lists of plain values.
LIST_FIELDS = ("links", "labels")

#: The one field a post may carry for its own purposes: any JSON object (an annotation: an
#: expected outcome, where the post came from, a reviewer's note). The checker never reads it,
#: no condition may name it, and it is passed through unchanged into the post's result record.
META = "meta"
META_DESCRIPTION = ("Annotations for the post's own purposes (an expected outcome, a source, a note): any JSON "
                    "object. The checker ignores it and copies it unchanged into the post's result.")


def field_names() -> list[str]:
    return sorted(FIELDS)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    # null is accepted everywhere and means the same as an absent field.
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    schema["type"] = [schema["type"], "null"]
    return schema


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a post, generated from :data:`FIELDS`."""

    def leaf(ft: FieldType) -> dict[str, Any]:
        out: dict[str, Any]
        if ft.kind == "enum":
            out = {"type": "string", "enum": list(ft.values)}
        elif ft.kind == "bool":
            out = {"type": "boolean"}
        elif ft.kind == "datetime":
            out = {
                "type": "string",
                "format": "date-time",
                "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
            }
        else:
            out = {"type": "string"}
        out["description"] = ft.description
        if ft.default is not None:
            out["default"] = ft.default
        return _nullable(out)

    props: dict[str, Any] = {}
    for name, (description, is_list) in GROUPS.items():
        inner = {
            path.split(".", 1)[1]: leaf(ft)
            for path, ft in FIELDS.items()
            if path.startswith(name + ".")
        }
        if name == "media":
            inner["labels"] = {"type": "array", "items": {"type": "string"},
                               "description": FIELDS["media.labels"].description}
        obj = {"type": "object", "additionalProperties": False, "properties": inner,
               "description": description}
        props[name] = _nullable({"type": "array", "items": obj, "description": description} if is_list else obj)
    props[META] = {"type": ["object", "null"], "description": META_DESCRIPTION}
    for path, ft in FIELDS.items():
        if "." in path:
            continue
        if path in LIST_FIELDS:
            props[path] = _nullable({"type": "array", "items": {"type": "string"}, "description": ft.description})
        else:
            props[path] = leaf(ft)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://govpost.example/schemas/post.schema.json",
        "title": "govpost post",
        "description": "A social-media post as the govpost checker reads it. Every field is optional; "
        "absent fields, and fields given as null, take the defaults shown.",
        "type": "object",
        "additionalProperties": False,
        "properties": dict(sorted(props.items())),
    }
