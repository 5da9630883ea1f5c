r"""Charts for the HTML report: Altair specifications, drawn two ways, offline.

Every chart function returns text for the page: by default an SVG drawn by vl-convert's
embedded engine (no browser, no network, the same input gives the same bytes: the static
edition for mail), or with ``interactive=True`` the Vega-Lite specification as JSON, which
the interactive edition draws in the browser with the inlined Vega scripts (tooltips on
every mark, the chart as wide as the page).

Each chart has a title, a legend and tooltips. Every string of a chart (labels, titles,
the data itself) passes through :func:`cust.pipelines.text.printable` in :func:`_drawn`:
a control character in a category or a scenario name is shown as ``\x1b`` instead of
aborting the renderer (and with it the whole report). Label text never goes into a Vega
expression (where ``\x1b`` would be an escape again): constant legend entries are data
columns.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

WIDTH = 880  # the static edition's charts: the page's width (CSS scales them down)
THIS, BEFORE, RED, ORANGE = "#1f6feb", "#9aa4b2", "#d1242f", "#bc4c00"
FONT = ("-apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
        "'CustCJK', sans-serif")
CONFIG = {
    "font": FONT,
    "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 220},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top", "labelLimit": 300},
    "title": {"fontSize": 14, "anchor": "start", "offset": 8},
    "view": {"stroke": None},
}


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


def _drawn(chart: Any, labels: dict[str, str], interactive: bool) -> str:
    """The chart as inline SVG, or as its Vega-Lite JSON for the browser.

    The JSON goes inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` are
    written as ``\u003c``-style escapes, so no text from the data can close the element.
    """
    from cust.pipelines.text import printable_data

    chart = chart.configure(**CONFIG)
    if not interactive:
        return svg(chart, labels)
    spec = printable_data(chart.to_dict())
    text = json.dumps(spec, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for c in "<>&\u2028\u2029":
        text = text.replace(c, f"\\u{ord(c):04x}")
    return text


def _width(interactive: bool, less: int = 0) -> Any:
    return "container" if interactive else WIDTH - less


def _alt() -> Any:
    import altair as alt

    return alt


def _title(text: str) -> Any:
    return _alt().TitleParams(text=text, anchor="start")


def bands(frame: pl.DataFrame, labels: dict[str, str], *, interactive: bool = False) -> str:
    """Order share per band, this period next to the previous one.

    ``frame``: ``label``, ``edition`` (this/previous label), ``order_share``, ``order``.
    """
    alt = _alt()
    chart = _grouped_bars(
        frame, ("label", labels["band"]), alt.XOffset("edition:N"),
        ("order_share", labels["order_share"]),
        alt.Color("edition:N", scale=alt.Scale(range=[THIS, BEFORE]), title=labels["edition"],
                  sort="descending"),
        [alt.Tooltip("edition:N", title=labels["edition"]),
         alt.Tooltip("label:N", title=labels["band"]),
         alt.Tooltip("order_share:Q", title=labels["order_share"], format=".1%")],
    ).properties(width=_width(interactive), height=240, title=_title(labels["bands"]))
    return _drawn(chart, labels, interactive)


def _grouped_bars(frame: pl.DataFrame, x: tuple[str, str], offset: Any, y: tuple[str, str],
                  color: Any, tooltip: list[Any], **encoding: Any) -> Any:
    """Bars of a share per category, grouped side by side by ``offset``.

    ``x`` and ``y``: (column, title); the categories are sorted by the column ``order``.
    """
    alt = _alt()
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{x[0]}:N", sort=alt.SortField("order"), title=x[1],
                axis=alt.Axis(labelAngle=0)),
        xOffset=offset,
        y=alt.Y(f"{y[0]}:Q", axis=alt.Axis(format="%"), title=y[1]),
        color=color, tooltip=tooltip, **encoding,
    )


def funnel(steps: pl.DataFrame, labels: dict[str, str], *, interactive: bool = False) -> str:
    """Units entering each step, as horizontal bars with the conversion from the first."""
    alt = _alt()
    data = (steps.select("step", "entered", "conversion_from_first").with_row_index("order")
            .with_columns(pl.lit(labels["entered"]).alias("series")))
    base = alt.Chart(data).encode(
        y=alt.Y("step:N", sort=alt.SortField("order"), title=None),
        x=alt.X("entered:Q", title=labels["entered"]),
        tooltip=[alt.Tooltip("step:N", title=labels["step"]),
                 alt.Tooltip("entered:Q", title=labels["entered"], format=","),
                 alt.Tooltip("conversion_from_first:Q", title=labels["from_first"],
                             format=".1%")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color("series:N", scale=alt.Scale(range=[THIS]), title=None))
    text = base.mark_text(align="left", dx=4).encode(
        text=alt.Text("conversion_from_first:Q", format=".1%")
    )
    chart = (bars + text).properties(width=_width(interactive, 80),
                                     height=44 * data.height, title=_title(labels["funnel"]))
    return _drawn(chart, labels, interactive)


def drift(series: pl.DataFrame, title: str, labels: dict[str, str], *,
          interactive: bool = False) -> str:
    """A step's conversion per period with its expected band and the alert periods.

    ``series``: ``period``, ``rate``, ``expected``, ``lower``, ``upper``, ``alert`` (bool).
    The legend names the three layers: the rate, the grey band (what the drift test
    expected, drawn at the periods it judged) and the alerts.
    """
    alt = _alt()
    names = [labels["rate"], labels["band_legend"], labels["alert"]]
    data = series.with_columns(
        *(pl.lit(n).alias(f"s{i}") for i, n in enumerate(names))
    )
    scale = alt.Scale(domain=names, range=[THIS, BEFORE, RED])
    tips = [alt.Tooltip("period:T", title=labels["edition"]),
            alt.Tooltip("rate:Q", title=labels["rate"], format=".1%"),
            alt.Tooltip("expected:Q", title=labels["expected"], format=".1%"),
            alt.Tooltip("lower:Q", title=labels["lower"], format=".1%"),
            alt.Tooltip("upper:Q", title=labels["upper"], format=".1%")]
    base = alt.Chart(data).encode(x=alt.X("period:T", title=None), tooltip=tips)
    # The band is known where the drift test judged a period out of it: a shaded area over
    # a run of alerted periods, and a thick bar (with the expected rate) at each of them.
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("lower:Q", axis=alt.Axis(format="%"), title=labels["rate"]), y2="upper:Q",
        color=alt.Color("s1:N", scale=scale, title=None),
    )
    bars = base.mark_rule(strokeWidth=8, opacity=0.45, color=BEFORE).encode(
        y="lower:Q", y2="upper:Q"
    )
    expected = base.mark_tick(color="#57606a", thickness=2, size=14).encode(y="expected:Q")
    rate = base.mark_line(point=True).encode(
        y="rate:Q", color=alt.Color("s0:N", scale=scale, title=None))
    alerts = base.transform_filter("datum.alert").mark_point(size=90, filled=True).encode(
        y="rate:Q", color=alt.Color("s2:N", scale=scale, title=None))
    chart = (band + bars + expected + rate + alerts).properties(
        width=_width(interactive), height=240, title=_title(title))
    return _drawn(chart, labels, interactive)


def cohort_heatmap(cells: pl.DataFrame, labels: dict[str, str], *,
                   interactive: bool = False) -> str:
    """Retention per cohort (rows) and period index (columns), shaded.

    ``cells``: ``cohort``, ``k``, ``retention``, ``text``.
    """
    alt = _alt()
    base = alt.Chart(cells).encode(
        x=alt.X("k:O", title=labels["period_index"], axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cohort:O", title=None),
        tooltip=[alt.Tooltip("cohort:O", title=labels["cohort"]),
                 alt.Tooltip("k:O", title=labels["period_index"]),
                 alt.Tooltip("retention:Q", title=labels["retention"], format=".1%")],
    )
    rects = base.mark_rect().encode(
        # Six shades with a legend of swatches (a gradient legend would need an SVG
        # ``url(#id)`` whose id changes from run to run).
        color=alt.Color("retention:Q", scale=alt.Scale(type="quantize", scheme="blues",
                                                       domain=[0, 0.6], nice=False),
                        title=labels["retention"], legend=alt.Legend(format=".0%"))
    )
    text = base.mark_text(fontSize=10).encode(
        text="text:N",
        color=alt.condition("datum.retention > 0.4", alt.value("white"), alt.value("black")),
    )
    height = max(140, 22 * cells["cohort"].n_unique())
    chart = (rects + text).properties(width=_width(interactive), height=height,
                                      title=_title(labels["cohorts"]))
    return _drawn(chart, labels, interactive)


def promo(scenarios: pl.DataFrame, labels: dict[str, str], *, interactive: bool = False) -> str:
    """Net gross profit effect per scenario, best first; gains and losses in the legend."""
    alt = _alt()
    data = scenarios.with_columns(
        pl.when(pl.col("net") >= 0).then(pl.lit(labels["gain"]))
        .otherwise(pl.lit(labels["loss"])).alias("outcome"))
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", sort=alt.SortField("rank"), title=None),
            x=alt.X("net:Q", title=labels["net_effect"]),
            color=alt.Color("outcome:N", title=None, scale=alt.Scale(
                domain=[labels["gain"], labels["loss"]], range=[THIS, RED])),
            tooltip=[alt.Tooltip("name:N", title=labels["scenario"]),
                     alt.Tooltip("net:Q", title=labels["net_effect"], format=",.2f"),
                     alt.Tooltip("rank:Q", title=labels["rank"])],
        )
        .properties(width=_width(interactive, 160), height=30 * scenarios.height,
                    title=_title(labels["promo"]))
    )
    return _drawn(chart, labels, interactive)


def trend(periods: pl.DataFrame, labels: dict[str, str], *, interactive: bool = False) -> str:
    """Revenue per edition (bars, this one highlighted) with the order count (line).

    ``periods``: ``label``, ``revenue``, ``orders``, ``current`` (bool), oldest first.
    """
    alt = _alt()
    names = [labels["revenue"], labels["orders"]]
    data = periods.with_row_index("order").with_columns(
        pl.lit(names[0]).alias("s0"), pl.lit(names[1]).alias("s1"))
    scale = alt.Scale(domain=names, range=[THIS, ORANGE])
    base = alt.Chart(data).encode(
        x=alt.X("label:N", sort=alt.SortField("order"), title=None,
                axis=alt.Axis(labelAngle=-45)),
        tooltip=[alt.Tooltip("label:N", title=labels["edition"]),
                 alt.Tooltip("revenue:Q", title=labels["revenue"], format=",.2f"),
                 alt.Tooltip("orders:Q", title=labels["orders"], format=",")],
    )
    bars = base.mark_bar().encode(
        y=alt.Y("revenue:Q", title=labels["revenue"]),
        color=alt.Color("s0:N", scale=scale, title=None),
        opacity=alt.condition("datum.current", alt.value(1.0), alt.value(0.45)),
    )
    line = base.mark_line(point=True).encode(
        y=alt.Y("orders:Q", title=labels["orders"], axis=alt.Axis(titleColor=ORANGE)),
        color=alt.Color("s1:N", scale=scale, title=None),
    )
    chart = alt.layer(bars, line).resolve_scale(y="independent")
    chart = chart.properties(width=_width(interactive), height=220,
                             title=_title(labels["trend"]))
    return _drawn(chart, labels, interactive)


def times_to_convert(hist: pl.DataFrame, labels: dict[str, str], *,
                     interactive: bool = False) -> str:
    """Time to convert per funnel step: the share of converted units per time band.

    ``hist``: ``transition`` ("view → cart"), ``band`` (label), ``order`` (the band's place,
    fastest first), ``units`` and ``share`` (of the step's converted units), ``median``,
    ``p90`` (text), ``about`` (the screen reader's text of a bar).
    """
    alt = _alt()
    steps = hist["transition"].unique(maintain_order=True).to_list()  # the funnel's order
    chart = _grouped_bars(
        hist, ("band", labels["time_band"]), alt.XOffset("transition:N", sort=steps),
        ("share", labels["converted_share"]),
        alt.Color("transition:N", title=labels["step"], sort=steps),
        [alt.Tooltip("transition:N", title=labels["step"]),
         alt.Tooltip("band:N", title=labels["time_band"]),
         alt.Tooltip("units:Q", title=labels["units"], format=","),
         alt.Tooltip("share:Q", title=labels["converted_share"], format=".1%"),
         alt.Tooltip("median:N", title=labels["median"]), alt.Tooltip("p90:N", title="p90")],
        description="about:N",
    ).properties(width=_width(interactive), height=240, title=_title(labels["times"]))
    return _drawn(chart, labels, interactive)


def sankey(paths: list[tuple[list[str], int]], anchor: str, title: str,
           labels: dict[str, str], *, interactive: bool = False) -> str:
    """Paths from ``anchor`` as a Sankey diagram: a column per step, bands by units.

    ``paths``: each path's steps after the anchor and its count (``cust paths --depth``).
    Drawn from layers Vega-Lite has (it has no Sankey mark): the nodes are rectangles and
    the links areas sampled along a smooth curve (:func:`_sankey_layout`).
    """
    alt = _alt()
    nodes, links = _sankey_layout(paths, anchor)
    x_scale = alt.Scale(domain=[0, float(nodes["x2"].max() or 1) + 1.2], nice=False,
                        zero=False)
    y_scale = alt.Scale(reverse=True, nice=False, zero=True)
    tips = [alt.Tooltip("source:N", title=labels["path_from"]),
            alt.Tooltip("target:N", title=labels["path_to"]),
            alt.Tooltip("units:Q", title=labels["path_count"], format=",")]
    # No screen-reader text per mark: the report's table of paths below the chart carries
    # the same figures (and the static page stays within its 300 kB).
    bands = alt.Chart(links).mark_area(opacity=0.35, aria=False).encode(
        x=alt.X("x:Q", axis=None, scale=x_scale), y=alt.Y("y:Q", axis=None, scale=y_scale),
        y2="y2:Q", detail="link:N", color=alt.Color("source:N", title=labels["path_from"]),
        tooltip=tips)
    node_tips = [alt.Tooltip("event:N", title=labels["step"]),
                 alt.Tooltip("units:Q", title=labels["path_count"], format=",")]
    boxes = alt.Chart(nodes).mark_rect(color="#57606a", aria=False).encode(
        x=alt.X("x:Q", axis=None, scale=x_scale), x2="x2:Q",
        y=alt.Y("y:Q", axis=None, scale=y_scale), y2="y2:Q", tooltip=node_tips)
    text = alt.Chart(nodes).mark_text(align="left", dx=4, fontSize=11, aria=False).encode(
        x=alt.X("x2:Q", axis=None, scale=x_scale), y=alt.Y("mid:Q", axis=None, scale=y_scale),
        text="label:N")
    chart = (bands + boxes + text).properties(width=_width(interactive), height=320,
                                              title=_title(title))
    return _drawn(chart, labels, interactive)


NODE_WIDTH, CURVE_POINTS = 0.08, 10


def _sankey_layout(paths: list[tuple[list[str], int]],
                  anchor: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nodes and link bands of a Sankey diagram of ``paths`` (steps after ``anchor``).

    Column i holds the events at step i (the anchor at 0), each node as tall as the count
    of the paths through it, the largest first and a gap between; a link from a node to
    one of the next column is as thick as the paths taking it, stacked at both ends in the
    order of the nodes at the other end (the bands do not cross at a node).
    Returns ``nodes`` (``x``, ``x2``, ``y``, ``y2``, ``mid``, ``event``, ``label``,
    ``units``) and ``links`` (``link``, ``x``, ``y``, ``y2``, ``source``, ``target``,
    ``units``; CURVE_POINTS rows each).
    """
    total = sum(n for _, n in paths)
    value: dict[tuple[int, str], int] = {(0, anchor): total}
    flow: dict[tuple[tuple[int, str], tuple[int, str]], int] = {}
    for steps, n in paths:
        before = (0, anchor)
        for i, step in enumerate(steps, start=1):
            node = (i, step)
            value[node] = value.get(node, 0) + n
            flow[(before, node)] = flow.get((before, node), 0) + n
            before = node
    gap = total * 0.05
    top: dict[tuple[int, str], float] = {}
    for col in sorted({c for c, _ in value}):
        here = sorted((k for k in value if k[0] == col),
                      key=lambda k: (k[1].startswith("("), -value[k], k[1]))
        y = 0.0
        for k in here:
            top[k] = y
            y += value[k] + gap
    out_at = dict(top)
    in_at = dict(top)
    links = []
    for number, ((a, b), n) in enumerate(sorted(flow.items(),
                                                key=lambda f: (top[f[0][0]], top[f[0][1]]))):
        y0, y1 = out_at[a], in_at[b]
        out_at[a] += n
        in_at[b] += n
        x0, x1 = a[0] + NODE_WIDTH, float(b[0])
        for j in range(CURVE_POINTS):
            t = j / (CURVE_POINTS - 1)
            s = t * t * (3 - 2 * t)
            y = y0 + (y1 - y0) * s
            links.append({"link": number, "x": x0 + (x1 - x0) * t, "y": y, "y2": y + n,
                          "source": a[1], "target": b[1], "units": n})
    nodes = pl.DataFrame([
        {"x": float(c), "x2": c + NODE_WIDTH, "y": top[(c, e)], "y2": top[(c, e)] + v,
         "mid": top[(c, e)] + v / 2, "event": e, "label": f"{e} ({v:,})", "units": v}
        for (c, e), v in value.items()
    ])
    return nodes, pl.DataFrame(links)
