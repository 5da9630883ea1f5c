r"""Charts for the HTML report: Altair specifications rendered to SVG offline.

vl-convert renders Vega-Lite to SVG with its own embedded engine: no browser, no network,
and the same input gives the same bytes. The SVG escapes text from the data (a label
``<script>`` becomes ``&lt;script&gt;``), and it is inlined in the page, so the report needs
no JavaScript at all.

Every string of a chart (labels, titles, the data itself) passes through
:func:`cust.pipelines.text.printable` in :func:`svg`, the one function every chart is
rendered by: a control character in a category or a scenario name is shown as ``\x1b``
instead of aborting the renderer (and with it the whole report).
"""

from __future__ import annotations

from typing import Any

import polars as pl

WIDTH = 560
THIS, BEFORE = "#1f6feb", "#9aa4b2"


def svg(chart: Any, labels: dict[str, str] | None = None) -> str:
    """Render an Altair chart to an SVG string, offline.

    ``allowed_base_urls=[]`` forbids any data URL, so rendering can never reach the
    network; the labels' ``locale`` gives month names and number formats (``zh-CN``).
    """
    import vl_convert

    from cust.pipelines.text import printable, printable_data

    locale = (labels or {}).get("locale", "en-US")
    spec = printable_data(chart.to_dict())
    drawn = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[],
                                       format_locale=locale, time_format_locale=locale)
    # Vega reads a field's title as an expression string, where "\\x1b" is an escape
    # again: its aria-label would carry the raw character. The SVG itself has none.
    return printable(drawn)


def _alt() -> Any:
    import altair as alt

    return alt


def bands(frame: pl.DataFrame, labels: dict[str, str]) -> str:
    """Order share per band, this period next to the previous one.

    ``frame``: ``label``, ``edition`` (this/previous label), ``order_share``, ``order``.
    """
    alt = _alt()
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=alt.SortField("order"), title=labels["band"]),
            xOffset=alt.XOffset("edition:N"),
            y=alt.Y("order_share:Q", axis=alt.Axis(format="%"), title=labels["order_share"]),
            color=alt.Color("edition:N", scale=alt.Scale(range=[THIS, BEFORE]), title=None,
                            sort="descending"),
        )
        .properties(width=WIDTH, height=220)
    )
    return svg(chart, labels)


def funnel(steps: pl.DataFrame, labels: dict[str, str]) -> str:
    """Units entering each step, as horizontal bars with the conversion from the first."""
    alt = _alt()
    data = steps.select("step", "entered", "conversion_from_first").with_row_index("order")
    base = alt.Chart(data).encode(
        y=alt.Y("step:N", sort=alt.SortField("order"), title=None),
        x=alt.X("entered:Q", title=labels["entered"]),
    )
    bars = base.mark_bar(color=THIS)
    text = base.mark_text(align="left", dx=4).encode(
        text=alt.Text("conversion_from_first:Q", format=".1%")
    )
    return svg((bars + text).properties(width=WIDTH - 80, height=40 * data.height), labels)


def drift(series: pl.DataFrame, title: str, labels: dict[str, str]) -> str:
    """A step's conversion per period with its expected band and the alert periods.

    ``series``: ``period``, ``rate``, ``expected``, ``lower``, ``upper``, ``alert`` (bool).
    """
    alt = _alt()
    base = alt.Chart(series).encode(x=alt.X("period:T", title=None))
    # The band is known where the drift test judged a period out of it: a shaded area over
    # a run of alerted periods, and a thick bar (with the expected rate) at each of them.
    band = base.mark_area(opacity=0.25, color=BEFORE).encode(
        y=alt.Y("lower:Q", axis=alt.Axis(format="%"), title=labels["rate"]), y2="upper:Q"
    )
    bars = base.mark_rule(strokeWidth=8, opacity=0.45, color=BEFORE).encode(
        y="lower:Q", y2="upper:Q"
    )
    expected = base.mark_tick(color="#57606a", thickness=2, size=14).encode(y="expected:Q")
    rate = base.mark_line(color=THIS, point=True).encode(y="rate:Q")
    alerts = base.transform_filter("datum.alert").mark_point(
        color="#d1242f", size=90, filled=True
    ).encode(y="rate:Q")
    chart = (band + bars + expected + rate + alerts).properties(width=WIDTH, height=220,
                                                                title=title)
    return svg(chart, labels)


def cohort_heatmap(cells: pl.DataFrame, labels: dict[str, str]) -> str:
    """Retention per cohort (rows) and period index (columns), shaded.

    ``cells``: ``cohort``, ``k``, ``retention``, ``text``.
    """
    alt = _alt()
    base = alt.Chart(cells).encode(
        x=alt.X("k:O", title=labels["period_index"]),
        y=alt.Y("cohort:O", title=None),
    )
    rects = base.mark_rect().encode(
        color=alt.Color("retention:Q", scale=alt.Scale(scheme="blues", domain=[0, 0.6]),
                        legend=None)
    )
    text = base.mark_text(fontSize=9).encode(
        text="text:N",
        color=alt.condition("datum.retention > 0.4", alt.value("white"), alt.value("black")),
    )
    height = max(120, 18 * cells["cohort"].n_unique())
    return svg((rects + text).properties(width=WIDTH, height=height), labels)


def promo(scenarios: pl.DataFrame, labels: dict[str, str]) -> str:
    """Net gross profit effect per scenario, best first."""
    alt = _alt()
    chart = (
        alt.Chart(scenarios)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", sort=alt.SortField("rank"), title=None),
            x=alt.X("net:Q", title=labels["net_effect"]),
            color=alt.condition("datum.net >= 0", alt.value(THIS), alt.value("#d1242f")),
        )
        .properties(width=WIDTH - 120, height=24 * scenarios.height)
    )
    return svg(chart, labels)


def trend(periods: pl.DataFrame, labels: dict[str, str]) -> str:
    """Revenue per edition (bars, this one highlighted) with the order count (line).

    ``periods``: ``label``, ``revenue``, ``orders``, ``current`` (bool), oldest first.
    """
    alt = _alt()
    data = periods.with_row_index("order")
    base = alt.Chart(data).encode(
        x=alt.X("label:N", sort=alt.SortField("order"), title=None,
                axis=alt.Axis(labelAngle=-45)),
    )
    bars = base.mark_bar().encode(
        y=alt.Y("revenue:Q", title=labels["revenue"]),
        color=alt.condition("datum.current", alt.value(THIS), alt.value(BEFORE)),
    )
    line = base.mark_line(color="#bc4c00", point=True).encode(
        y=alt.Y("orders:Q", title=labels["orders"], axis=alt.Axis(titleColor="#bc4c00")),
    )
    chart = alt.layer(bars, line).resolve_scale(y="independent")
    return svg(chart.properties(width=WIDTH, height=200), labels)
