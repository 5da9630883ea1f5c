"""HTML rendering: one safe Jinja2 environment, templates fed plain dicts.

Autoescaping is on for every template and undefined variables are errors, so a value
from the data (a customer id like ``<script>``) can only ever appear as text; its control
characters (a U+202E that would turn the text around) are shown as escapes, like the
terminal and the charts show them (:func:`cust.pipelines.text.printable`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from cust.pipelines.result import SIGNIFICANT
from cust.pipelines.text import printable

from .format import format_cell  # the one cell formatter, shared with the terminal


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment of ``cust`` (autoescape on, strict undefined)."""
    env = Environment(
        loader=PackageLoader("cust.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        finalize=_shown,
    )
    env.filters["cell"] = format_cell
    return env


def _shown(value: Any) -> Any:
    """What ``{{ value }}`` prints: text with its control characters escaped.

    Markup (an SVG chart, a table built by :func:`_table`) is printed as it is.
    """
    from markupsafe import Markup

    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def render_result(result: Any) -> str:
    """Render any result's tables, notes and input summary as one HTML page."""
    tables = []
    for t in result.tables():
        kinds = {c: t.kind(c) for c in t.frame.columns}
        tables.append(
            {
                "title": t.title,
                "columns": [{"name": c, "kind": kinds.get(c, "")} for c in t.frame.columns],
                "rows": t.frame.rows(),
                "numeric": [dtype.is_numeric() for dtype in t.frame.dtypes],
            }
        )
    inputs = [
        {"source": name, "rows_read": s.rows_read, "rows_rejected": s.rows_rejected}
        for name, s in result.input.sources.items()
    ]
    page = environment().get_template("result.html")
    return page.render(command=result.command, tables=tables, notes=result.notes(), inputs=inputs)


def _raw(value: Any) -> str:
    """A cell's exact value for ``data-value`` (what tests compare with the JSON)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT}g}"
    return str(value)


LABEL_COLUMNS = frozenset({"segment", "group", "dimension", "class", "source"})


def _table(table: Any, lang: str = "en") -> Any:
    """One ``Table`` as an escaped, sortable HTML table (Markup, safe to inline).

    Numeric cells carry their exact value in ``data-value`` and every cell its column's
    JSON key in ``data-col``, so the figures on the page can be checked against the JSON
    (and the interactive edition sorts by them). Values of a fixed vocabulary (an RFM
    segment, a customer type) are shown in ``lang``; values from the data stay as they are.
    """
    from markupsafe import Markup, escape

    from .labels import column_label, value_label

    kinds = {c: table.kind(c) for c in table.frame.columns}
    numeric = [d.is_numeric() for d in table.frame.dtypes]
    head = "".join(
        f'<th class="{"num" if n else ""}" data-col="{escape(c)}">'
        f"{escape(printable(column_label(c, lang)))}</th>"
        for c, n in zip(table.frame.columns, numeric, strict=True)
    )

    def text(c: str, v: Any) -> str:
        shown = format_cell(v, kinds.get(c, ""))
        return value_label(shown, lang) if c in LABEL_COLUMNS and isinstance(v, str) else shown

    body = []
    for values in table.frame.rows():
        cells = "".join(
            f'<td class="num" data-col="{escape(c)}" data-value="{escape(_raw(v))}">'
            f"{escape(format_cell(v, kinds.get(c, '')))}</td>"
            if n else
            f'<td data-col="{escape(c)}">'
            f"{escape(printable(text(c, v)))}</td>"
            for c, n, v in zip(table.frame.columns, numeric, values, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return Markup(
        f'<div class="scroll"><table class="sortable" data-table="{escape(table.key)}">'
        f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def _sparkline(values: list[float | None]) -> Any:
    """A small inline SVG line of a figure's last periods (the KPI cards), no text."""
    from markupsafe import Markup

    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return Markup("")
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    w, h, n = 120.0, 28.0, max(len(values) - 1, 1)
    xy = [(2 + (w - 4) * i / n, h - 3 - (h - 6) * (v - low) / span) for i, v in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    x, y = xy[-1]
    return Markup(
        f'<svg class="spark" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" '
        f'aria-hidden="true"><polyline points="{line}" fill="none" stroke="#1f6feb" '
        f'stroke-width="1.5"/><circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f6feb"/></svg>'
    )


def _series(trend: list[dict[str, Any]], metric: str) -> list[float | None]:
    """A headline figure over the trend's periods (margin and AOV from their sums)."""
    def ratio(a: Any, b: Any) -> float | None:
        return a / b if a is not None and b else None

    if metric == "gross_margin":
        return [ratio(p["gross_profit"], p["revenue"]) for p in trend]
    if metric == "aov":
        return [ratio(p["revenue"], p["orders"]) for p in trend]
    return [p.get(metric) for p in trend]


def render_weekly(report: Any, *, static: bool = False) -> str:
    """The weekly report as one self-contained HTML page that opens offline.

    Interactive by default: charts drawn in the browser by the inlined Vega scripts
    (tooltips on every mark), sortable tables, alert breakdowns. ``static=True``: the
    edition for mail, charts as inline SVG and no script at all.
    """
    import json

    from markupsafe import Markup

    from . import fonts, interactive
    from .labels import LABELS, segment_label, value_label
    from .weekly import figures, latest_alerts

    t = LABELS[report.lang]
    lang = report.lang

    def pct(x: Any) -> str:
        return "—" if x is None else f"{x:+.1%}"

    headline = []
    for r in report.headline:
        share = r["metric"] in ("gross_margin", "conversion")
        kind = "share" if share else ("money" if r["metric"] in (
            "revenue", "gross_profit", "aov") else "")
        headline.append({
            "metric": r["metric"],
            "current": format_cell(r["current"], kind),
            "current_raw": "" if r["current"] is None else f"{r['current']:.{SIGNIFICANT}g}",
            "previous": format_cell(r["previous"], kind),
            "average_4": format_cell(r["average_4"], kind),
            "change": pct(r["change"]),
            "change_vs_average": pct(r["change_vs_average"]),
            "change_class": _trend(r["change"]),
            "avg_class": _trend(r["change_vs_average"]),
            "alert": r.get("alert") or "",
            "alert_mark": {"down": "↓", "up": "↑"}.get(r.get("alert") or "", ""),
            "spark": _sparkline(_series(report.trend, r["metric"]))
            if r["metric"] != "conversion" else Markup(""),
        })
    tables = {
        "bands": _table(report.bands.tables()[0], lang),
        "payback": _table(report.cohorts.tables()[-1], lang),
        "abc": _table(report.abc.tables()[0], lang),
        "rfm": _table(report.rfm.tables()[0], lang),
    }
    if report.funnel is not None:
        tables["funnel"] = _table(report.funnel.tables()[0], lang)
    if report.paths is not None:
        tables["paths"] = _table(report.paths.tables()[0], lang)
    if report.promo is not None:
        tables["promo"] = _table(report.promo.tables()[0], lang)
    if report.profile is not None:
        tables["profile"] = _table(report.profile.tables()[0], lang)
    if report.clv is not None:
        for key, table in zip(("clv", "clv_b_to_a", "clv_at_risk"), report.clv_tables(),
                              strict=True):
            tables[key] = _table(table, lang)
    explanations = {
        (e["step"], tuple(sorted(e["segment"].items())), e["since"]): e
        for e in (report.funnel.explanations if report.funnel is not None else [])
    }
    alerts = []
    for n, a in enumerate(latest_alerts(report.alerts), start=1):
        e = explanations.get((a["step"], tuple(sorted(a["segment"].items())), a["since"]), {})
        rises = e.get("price_rises") or []
        alerts.append({
            "id": f"alert-{n}",
            "from_step": a["from_step"], "step": a["step"],
            "segment": segment_label(a["segment"], lang),
            "rate": f"{a['window_rate']:.1%}", "expected": f"{a['expected']:.1%}",
            "since": a["since"],
            "rises": ", ".join(
                f"{r['sku']} {r['change']:+.0%} ({str(r['changed_at'])[:10]})" for r in rises[:5]
            ) + (f" … ({e['price_rises_total']})" if e.get("price_rises_total", 0) > 5 else ""),
            "facts": [
                (t["rate"], f"{a['window_rate']:.1%}"), (t["expected"], f"{a['expected']:.1%}"),
                (t["band_range"], f"{a['lower']:.1%} – {a['upper']:.1%}"),
                (t["units"], f"{a['window_units']:,}"), ("z", f"{a['z']:.2f}"),
                (t["p_value"], f"{a['p_value']:.2g}"),
                (t["breakdown"], value_label(a.get("breakdown") or "—", lang)),
            ],
            "contributors": [
                {"segment": segment_label(c["segment"], lang)
                 if isinstance(c.get("segment"), dict)
                 else str(c.get("value", c)), "rate": c.get("rate"), "units": c.get("units")}
                for c in e.get("contributors") or []
            ],
            "price_rises": [
                {"sku": r["sku"], "change": f"{r['change']:+.1%}",
                 "old": f"{r['old_price']:,.2f}", "new": f"{r['new_price']:,.2f}",
                 "at": str(r["changed_at"])[:10], "views": r.get("views")}
                for r in rises[:10]
            ],
        })
    quality = [
        {"source": value_label(name, lang), "rows_read": f"{s.rows_read:,}",
         "rows_rejected": f"{s.rows_rejected:,}",
         "rows_read_raw": s.rows_read, "rows_rejected_raw": s.rows_rejected,
         "reasons": ", ".join(f"{k}: {v}" for k, v in s.reasons.items()) or "—"}
        for name, s in report.input.sources.items()
    ]
    figs = figures(report, interactive=not static)
    charts = {k: Markup(v["chart"]) for k, v in figs.items()}  # SVG, or JSON with <>& escaped
    readings = {k: v["reading"] for k, v in figs.items()}
    scripts = None
    if not static:
        import vl_convert

        locale = t["locale"]
        head = (f"window.CUST_FORMAT={json.dumps(vl_convert.get_format_locale(locale))};"
                f"window.CUST_TIME={json.dumps(vl_convert.get_time_format_locale(locale))};")
        scripts = {"vega": Markup(interactive.vega_bundle()),
                   "boot": Markup(head.replace("<", "\\u003c") + interactive.BOOT)}
    page = environment().get_template("weekly.html")
    html = page.render(
        t=t, lang=report.lang, edition=report.edition, headline=headline, tables=tables,
        charts=charts, readings=readings, alerts=alerts, static=static,
        quality=quality, left_out=report.left_out, builtin_promo=report.builtin_promo,
        csp=interactive.STATIC_CSP if static else interactive.CSP, scripts=scripts,
    )
    # Chinese text gets an embedded subset font (only the page's own characters: the
    # libraries' code is left out of the count).
    own = html if static else html.replace(str(scripts["vega"]), "")
    return fonts.with_font_of(html, own)


def _trend(x: Any) -> str:
    if x is None or x == 0:
        return ""
    return "up" if x > 0 else "down"
