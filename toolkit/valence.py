"""The published valence lexicon that stance operators start from: VADER.

VADER (Hutto and Gilbert, 2014; the ``vaderSentiment`` package, MIT
licence) rates about 7,500 English words and phrases of social media from
-4 (most negative) to +4, and lists negations and intensifiers. The
compiler copies what a policy needs of it into the rule set, so that the
checker never reads the package and a rule set means the same wherever it
is checked. A policy's own ``valence`` lexicons add to it and override it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.resources
import re
from typing import Any

from .morph import (
    BOOST,
    NEGATION_AFTER_WINDOW,
    NEGATION_SCALE,
    NEGATION_WINDOW,
    NEGATORS_AFTER,
    NEGATORS_BEFORE,
    STANCE_THRESHOLD,
    STANCE_WINDOW,
)

NAME = "VADER"
_WORDS = re.compile(r"[a-z][a-z'\- ]*[a-z]")


@functools.lru_cache(maxsize=1)
def vader() -> dict[str, Any]:
    """VADER's words (letters only: emoticons are left out), negations and intensifiers."""
    text = (importlib.resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(encoding="utf-8")
    entries: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not _WORDS.fullmatch(parts[0]):
            continue
        entries[parts[0]] = float(parts[1])
    from vaderSentiment import vaderSentiment as vs

    return {
        "name": NAME,
        "version": importlib.metadata.version("vaderSentiment"),
        "licence": "MIT",
        "entries": dict(sorted(entries.items())),
        "boosters": dict(sorted(vs.BOOSTER_DICT.items())),
    }


def matching_block(uses_stance: bool, base: str) -> dict[str, Any]:
    """The rule set's ``matching`` block: negators, windows and, for stance, intensifiers and the base lexicon."""
    block: dict[str, Any] = {
        "negators_before": list(NEGATORS_BEFORE),
        "negators_after": list(NEGATORS_AFTER),
        "negation_window": NEGATION_WINDOW,
        "negation_after_window": NEGATION_AFTER_WINDOW,
    }
    if uses_stance:
        v = vader()
        block.update({
            "negation_scale": NEGATION_SCALE,
            "stance_threshold": STANCE_THRESHOLD,
            "stance_window": STANCE_WINDOW,
            "boosters": {w: (BOOST if a > 0 else -BOOST) for w, a in v["boosters"].items()},
            "valence": ({"name": v["name"], "version": v["version"], "licence": v["licence"],
                         "entries": v["entries"]} if base == "vader" else None),
        })
    return block
