"""Rewrite corpus files as posts: each record's expectation, source and reason go into the post's `meta`.

A corpus record used to hold a post beside what is known about it::

    {"id": "d0001", "post": {"id": "d0001", "text": "…"}, "expect": {…}, "source": {…}, "why": "…"}

which `govpost check` cannot read (every record is malformed: `post` and `expect` are not fields of a
post). Stored as posts, with everything else inside the `meta` object that the checker ignores and
copies into each result, the file is checked with the command a user runs::

    {"id": "d0001", "text": "…", "meta": {"expect": {…}, "source": {…}, "why": "…"}}

Every value is kept: the record's keys other than `post` go into `meta` in their order (the record's
`id` only if it is not the post's own). A record that is already a post is left as it is, so running
the script again changes nothing. It refuses to write a file whose records it cannot turn back into
the records it read.

Usage (from the root of the repository)::

    python tests/corpus/to_posts.py tests/corpus/ais-posts.jsonl tests/corpus/dev/dev-set.jsonl …
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def to_post(record: dict[str, Any]) -> dict[str, Any]:
    """The post of a corpus record, with the record's other values in its `meta`."""
    if "post" not in record:
        return record  # already a post
    post = dict(record["post"])
    if "meta" in post:
        raise ValueError(f"post {post.get('id')!r} already has a `meta`")
    meta = {k: v for k, v in record.items() if k != "post" and not (k == "id" and v == post.get("id"))}
    post["meta"] = meta
    return post


def back(post: dict[str, Any], had_id: bool) -> dict[str, Any]:
    """The corpus record a converted post came from (to check that nothing was lost)."""
    meta = dict(post["meta"])
    inner = {k: v for k, v in post.items() if k != "meta"}
    record: dict[str, Any] = {}
    if had_id and "id" not in meta:
        record["id"] = inner.get("id")
    record.update({k: v for k, v in meta.items()})
    record["post"] = inner
    return record


def convert(path: Path) -> int:
    """Rewrite one file in place; the number of records converted."""
    text = path.read_text(encoding="utf-8")
    out = []
    converted = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        post = to_post(record)
        if post is not record:
            restored = back(post, "id" in record)
            if restored != record or sorted(restored) != sorted(record):
                raise SystemExit(f"{path}: record {record.get('id') or record['post'].get('id')} would not round-trip")
            converted += 1
        out.append(json.dumps(post, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return converted


def main(argv: list[str]) -> int:
    for name in argv:
        n = convert(Path(name))
        print(f"{name}: {n} records converted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
