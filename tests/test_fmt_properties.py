"""Properties of the formatter on generated policies with comments in every position.

The policies come from the round-trip generator (every construct of the
language); their text is then scrambled: comments are put between tokens,
on the line of the token before them or on lines of their own, and the white
space between tokens is replaced with other white space. Formatting must
give back the same model, every comment in order, and be a fixed point.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_roundtrip import _no_files, policies
from toolkit import model as m
from toolkit.formatter import format_source, token_stream
from toolkit.load import CallableReader, load_text
from toolkit.printer import print_policy

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fmt"

COMMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12
).map(lambda s: "#" + s.rstrip())
SPACE = st.sampled_from([" ", "  ", "\n", "\n\n", "\n\t  ", "\n\n\n        "])
INSERTION = st.tuples(st.floats(0, 1), st.sampled_from(["trailing", "own-line"]), COMMENT, SPACE)


def comments(text: str) -> list[str]:
    return [t.text for t in token_stream(text)[1] if t.comment]


def scramble(
    text: str, insertions: list[tuple[float, str, str, str]], spaces: list[tuple[float, str]]
) -> tuple[str, list[str]]:
    """``text`` with comments and other white space put between its tokens; the comments in order."""
    _, stream = token_stream(text)
    gaps = [""] * (len(stream) + 1)
    for where, space in spaces:
        gaps[int(where * len(stream))] = space
    placed: list[tuple[int, str]] = []
    for where, kind, comment, space in insertions:
        i = int(where * len(stream))
        if kind == "trailing" and i > 0:
            gaps[i] += f" {comment}\n{space.lstrip(' ')}"
        else:
            gaps[i] += f"\n{space.lstrip(' ')}{comment}\n"
        placed.append((i, comment))
    out = []
    previous = 0
    for i, tok in enumerate(stream):
        original = text[previous:tok.start]
        out.append(gaps[i] or original or " ")
        out.append(text[tok.start:tok.end])
        previous = tok.end
    out.append(gaps[len(stream)] or "\n")
    return "".join(out), [c for _, c in sorted(placed, key=lambda p: p[0])]


def everywhere(text: str, kind: str) -> str:
    """``text`` with a comment in every gap between tokens (and at both ends)."""
    _, stream = token_stream(text)
    out = []
    for i, tok in enumerate(stream):
        out.append(f" # t{i}\n" if kind == "trailing" and i else f"\n# o{i}\n")
        out.append(text[tok.start:tok.end])
    out.append(" # end\n" if kind == "trailing" else "\n# end\n")
    return "".join(out)


def assert_formatted_well(source: str, expected_comments: list[str], policy: m.Policy | None) -> None:
    out = format_source(source, "generated.policy")  # includes the soundness check
    assert comments(out) == expected_comments, out
    assert format_source(out, "generated.policy") == out, out
    if policy is not None:
        loaded = load_text(out, "generated.policy", CallableReader(_no_files))
        assert loaded.policy == policy, out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policies(), st.lists(INSERTION, max_size=8), st.lists(st.tuples(st.floats(0, 1), SPACE), max_size=12))
def test_scrambled_policies_format_to_the_same_policy_with_every_comment(
    policy: m.Policy, insertions: list, spaces: list
) -> None:
    text = print_policy(policy)
    source, placed = scramble(text, insertions, spaces)
    # Comments in the same gap keep the order they were written in.
    assert sorted(comments(source)) == sorted(placed)
    assert_formatted_well(source, comments(source), policy)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policies(), st.sampled_from(["trailing", "own-line"]))
def test_a_comment_in_every_gap(policy: m.Policy, kind: str) -> None:
    source = everywhere(print_policy(policy), kind)
    assert_formatted_well(source, comments(source), policy)


def test_a_comment_in_every_gap_of_the_golden_inputs() -> None:
    for case in sorted(FIXTURES.iterdir()):
        text = (case / "input.policy").read_text(encoding="utf-8")
        for kind in ("trailing", "own-line"):
            source = everywhere(text, kind)
            assert_formatted_well(source, comments(source), None)
