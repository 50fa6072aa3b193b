"""The audit report as one self-contained HTML page, with charts.

:func:`render_html` takes the JSON data of a :class:`toolkit.summary.Summary`
(``Summary.to_dict()``) and returns the page. It fetches nothing and refers
to nothing outside itself: the CSS is inline and the two charts, outcomes
per month (stacked by outcome) and posts per clause, are drawn by
matplotlib as SVG and inlined, text as outlines, so the page looks the same
offline, in a mail attachment or in an archive years from now.

Each chart is an image with a text alternative (``role="img"``, a caption
and a sentence describing what it shows) followed by a table with the same
figures, for screen readers and for copying.

Output is deterministic: matplotlib's SVG ids come from a fixed
``svg.hashsalt``, its ``Date`` metadata is left out, comments and metadata
are stripped, and every id is prefixed per chart so that two charts never
share one in the page. Same summary, same bytes.

Jinja2 and matplotlib are imported here only (tests/test_architecture.py),
and matplotlib only when a page is rendered. The template is
``templates/report/report.html``; the environment escapes every value and
fails on a name the data lacks.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import jinja2.sandbox

from .resources import templates_dir
from .rules import OUTCOMES

#: Outcome → (label, colour). Colours from the Okabe–Ito palette, told apart with colour-vision deficiencies.
OUTCOME_STYLE = {
    "permitted": ("Permitted", "#009E73"),
    "advisory": ("Advisory", "#E69F00"),
    "requires_sanction": ("Requires prior sanction", "#0072B2"),
    "prohibited": ("Prohibited", "#D55E00"),
}
#: How many accounts the report lists (the JSON summary has them all).
ACCOUNT_ROWS = 50


class ReportError(Exception):
    """The HTML report cannot be drawn (matplotlib is missing)."""


def _environment() -> jinja2.Environment:
    # The same sandbox as the circulars' templates (toolkit.render.environment): summaries carry text from posts.
    return jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "report")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(summary: Mapping[str, Any], *, title: str = "Audit of social-media posts") -> str:
    """The HTML page of a summary's data (``Summary.to_dict()``)."""
    months = list(summary["months"])
    clauses = list(summary["clauses"])
    charts = _charts(months, clauses)
    checked = summary["checked"]
    outcomes = [
        {"outcome": o, "label": OUTCOME_STYLE[o][0], "colour": OUTCOME_STYLE[o][1], "posts": summary["outcomes"][o],
         "share": _share(summary["outcomes"][o], checked)}
        for o in OUTCOMES
    ]
    data = {
        "title": title,
        "summary": summary,
        "outcomes": outcomes,
        "labels": {o: s[0] for o, s in OUTCOME_STYLE.items()},
        "outcome_keys": list(OUTCOMES),
        "months": months,
        "clauses": clauses,
        "accounts": summary["accounts"][:ACCOUNT_ROWS],
        "more_accounts": max(0, len(summary["accounts"]) - ACCOUNT_ROWS),
        "charts": charts,
    }
    from .htmlfonts import embed

    # The fonts govpost ships go into the page: posts in Hindi read on a machine without a Devanagari font.
    return embed(_environment().get_template("report.html").render(data))


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "–"


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------


def _charts(months: Sequence[Mapping[str, Any]], clauses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The SVG and text alternative of each chart; None for a chart with nothing to show."""
    out: dict[str, Any] = {"months": None, "clauses": None}
    if not any(m["posts"] for m in months) and not clauses:
        return out
    try:
        import matplotlib
    except ImportError:
        raise ReportError("the HTML report draws its charts with matplotlib: pip install 'govpost[report]'") from None
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    style = {
        "svg.hashsalt": "govpost-report",
        "svg.fonttype": "path",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.axisbelow": True,
    }
    with matplotlib.rc_context(style), warnings.catch_warnings():
        # A label in a script the bundled font lacks is drawn as boxes; the table beside the chart has the words.
        warnings.simplefilter("ignore")
        if any(m["posts"] for m in months):
            out["months"] = _months_chart(Figure, months)
        if clauses:
            out["clauses"] = _clauses_chart(Figure, clauses)
    return out


def _month_label(month: str | None) -> str:
    return "no date" if month is None else month


#: The width of every chart, in inches: the page scales it to its column, so one width keeps one text size.
CHART_WIDTH = 7.0
#: Months of a time axis filled in with empty bars when no post fell in them (beyond this, left out).
MAX_FILLED_MONTHS = 120


def _filled_months(months: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The months in order with the months between them that had no post, so that the axis is a time axis."""
    dated = [m for m in months if m["month"] is not None]
    undated = [m for m in months if m["month"] is None]
    if not dated:
        return list(months)

    def index(month: str) -> int | None:
        try:
            return int(month[:4]) * 12 + int(month[5:7]) - 1
        except ValueError:
            return None

    first, last = index(dated[0]["month"]), index(dated[-1]["month"])
    if first is None or last is None or last - first + 1 > MAX_FILLED_MONTHS:
        return list(months)
    by_month = {m["month"]: m for m in dated}
    out: list[Mapping[str, Any]] = []
    for i in range(first, last + 1):
        name = f"{i // 12:04d}-{i % 12 + 1:02d}"
        out.append(by_month.pop(name, None) or {"month": name, "posts": 0, "by_outcome": dict.fromkeys(OUTCOMES, 0)})
    out.extend(by_month.values())  # a month written oddly (never from a valid post): kept, at the end
    return out + undated


def _legend_on_top(ax: Any, handles: Any = None) -> None:
    """The legend in one row above the plot, where it covers no bar."""
    kwargs = {"handles": handles} if handles is not None else {}
    ax.legend(**kwargs, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=4, frameon=False, borderaxespad=0.0,
              handlelength=1.2, columnspacing=1.2, fontsize=9)


def _months_chart(figure: Any, months: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    shown = _filled_months(months)
    labels = [_month_label(m["month"]) for m in shown]
    fig = figure(figsize=(CHART_WIDTH, 3.4))
    ax = fig.add_subplot()
    xs = list(range(len(labels)))
    bottom = [0] * len(labels)
    for o in OUTCOMES:
        values = [m["by_outcome"][o] for m in shown]
        ax.bar(xs, values, bottom=bottom, color=OUTCOME_STYLE[o][1], label=OUTCOME_STYLE[o][0], width=0.8,
               edgecolor="white", linewidth=0.3)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    # At most about 24 month labels, so that they stay legible; the table under the chart has every month.
    step = max(1, -(-len(labels) // 24))
    ticks = [x for x in xs if x % step == 0 or labels[x] == "no date"]
    ax.set_xticks(ticks, [labels[x] for x in ticks], rotation=45 if len(ticks) > 6 else 0,
                  ha="right" if len(ticks) > 6 else "center", rotation_mode="anchor")
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel("posts")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.grid(True, color="#dddddd", linewidth=0.6)
    _legend_on_top(ax)
    fig.tight_layout()
    busiest = max(months, key=lambda m: (m["posts"], m["month"] or ""))
    flagged = max(months, key=lambda m: (m["by_outcome"]["prohibited"], m["month"] or ""))
    dated = [m for m in months if m["month"] is not None]
    span = f"from {dated[0]['month']} to {dated[-1]['month']}" if dated else "with no posting dates"
    alt = (f"Stacked bar chart of posts per month by outcome, {len(shown)} bars {span}. "
           f"Most posts: {_month_label(busiest['month'])} ({busiest['posts']}).")
    if flagged["by_outcome"]["prohibited"]:
        alt += (f" Most prohibited posts: {_month_label(flagged['month'])} "
                f"({flagged['by_outcome']['prohibited']}).")
    return {"svg": _svg(fig, "chart-months"), "alt": alt}


def _clauses_chart(figure: Any, clauses: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    names = [f"{c['number']} {c['clause']}" for c in clauses]
    # Bars close enough that 40 clauses fit one printed page with the legend and the axis.
    fig = figure(figsize=(CHART_WIDTH, 0.2 * len(names) + 1.0))
    ax = fig.add_subplot()
    ys = list(range(len(names)))
    ax.barh(ys, [c["posts"] for c in clauses], color=[OUTCOME_STYLE[c["outcome"]][1] for c in clauses], height=0.72)
    ax.set_yticks(ys, names, fontsize=8.5)
    ax.set_ylim(len(names) - 0.5, -0.5)  # the first clause of the policy on top
    ax.tick_params(axis="y", length=0)
    from matplotlib.patches import Patch

    shown = [o for o in OUTCOMES if any(c["outcome"] == o for c in clauses)]
    _legend_on_top(ax, [Patch(color=OUTCOME_STYLE[o][1], label=OUTCOME_STYLE[o][0]) for o in shown])
    ax.set_xlabel("posts the clause applied to (colour: the clause's outcome)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.xaxis.grid(True, color="#dddddd", linewidth=0.6)
    most = max((c["posts"] for c in clauses), default=0)
    ax.set_xlim(0, most * 1.08 + 0.5)  # room for the count at the end of the longest bar
    for y, c in zip(ys, clauses, strict=True):
        ax.annotate(str(c["posts"]), (c["posts"], y), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=8)
    fig.tight_layout()
    top = max(clauses, key=lambda c: c["posts"])
    alt = (f"Horizontal bar chart of the posts each of {len(clauses)} clauses applied to, in the policy's order. "
           f"Most often: {top['number']} {top['clause']} ({top['posts']} posts).")
    return {"svg": _svg(fig, "chart-clauses"), "alt": alt}


_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*")
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(xlink:href="#|href="#|url\(#)([^")]+)')


def _svg(fig: Any, prefix: str) -> str:
    """The figure as SVG fit to inline in HTML: no prolog, metadata or comments; ids unique to the chart."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = _XML_PROLOG.sub("", svg)
    svg = _METADATA.sub("", svg)
    svg = _COMMENT.sub("", svg)
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    # Sized by the page, not by the figure's inches.
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1', svg, count=1)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1).strip()


__all__ = ["ACCOUNT_ROWS", "OUTCOME_STYLE", "ReportError", "render_html"]
