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
        kinds = {c: "money" for c in t.money} | {c: "share" for c in t.shares}
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


def _table(table: Any, lang: str = "en") -> Any:
    """One ``Table`` as an escaped HTML table (Markup, safe to inline).

    Numeric cells carry their exact value in ``data-value`` and every cell its column's
    JSON key in ``data-col``, so the figures on the page can be checked against the JSON.
    """
    from markupsafe import Markup, escape

    from .labels import column_label

    kinds = {c: "money" for c in table.money} | {c: "share" for c in table.shares}
    numeric = [d.is_numeric() for d in table.frame.dtypes]
    head = "".join(
        f'<th class="{"num" if n else ""}" data-col="{escape(c)}">'
        f"{escape(printable(column_label(c, lang)))}</th>"
        for c, n in zip(table.frame.columns, numeric, strict=True)
    )
    body = []
    for values in table.frame.rows():
        cells = "".join(
            f'<td class="num" data-col="{escape(c)}" data-value="{escape(_raw(v))}">'
            f"{escape(format_cell(v, kinds.get(c, '')))}</td>"
            if n else
            f'<td data-col="{escape(c)}">'
            f'{escape(printable(format_cell(v, kinds.get(c, ""))))}</td>'
            for c, n, v in zip(table.frame.columns, numeric, values, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return Markup(
        f'<div class="scroll"><table data-table="{escape(table.key)}"><tr>{head}</tr>'
        f'{"".join(body)}</table></div>'
    )


def render_weekly(report: Any) -> str:
    """The weekly report as one self-contained HTML page (inline SVG, no scripts)."""
    from markupsafe import Markup

    from .labels import LABELS

    t = LABELS[report.lang]

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
        })
    lang = report.lang
    tables = {
        "bands": _table(report.bands.tables()[0], lang),
        "payback": _table(report.cohorts.tables()[-1], lang),
        "abc": _table(report.abc.tables()[0], lang),
        "rfm": _table(report.rfm.tables()[0], lang),
    }
    if report.funnel is not None:
        tables["funnel"] = _table(report.funnel.tables()[0], lang)
    if report.promo is not None:
        tables["promo"] = _table(report.promo.tables()[0], lang)
    if report.profile is not None:
        tables["profile"] = _table(report.profile.tables()[0], lang)
    explanations = {
        (e["step"], tuple(sorted(e["segment"].items())), e["since"]): e
        for e in (report.funnel.explanations if report.funnel is not None else [])
    }
    from cust.pipelines.funnel import segment_text

    from .weekly import latest_alerts

    alerts = []
    for a in latest_alerts(report.alerts):
        e = explanations.get((a["step"], tuple(sorted(a["segment"].items())), a["since"]), {})
        rises = e.get("price_rises") or []
        alerts.append({
            "from_step": a["from_step"], "step": a["step"], "segment": segment_text(a["segment"]),
            "rate": f"{a['window_rate']:.1%}", "expected": f"{a['expected']:.1%}",
            "since": a["since"],
            "rises": ", ".join(
                f"{r['sku']} {r['change']:+.0%} ({str(r['changed_at'])[:10]})" for r in rises[:5]
            ) + (f" … ({e['price_rises_total']})" if e.get("price_rises_total", 0) > 5 else ""),
        })
    quality = [
        {"source": name, "rows_read": f"{s.rows_read:,}", "rows_rejected": f"{s.rows_rejected:,}",
         "rows_read_raw": s.rows_read, "rows_rejected_raw": s.rows_rejected,
         "reasons": ", ".join(f"{k}: {v}" for k, v in s.reasons.items()) or "—"}
        for name, s in report.input.sources.items()
    ]
    page = environment().get_template("weekly.html")
    return page.render(
        t=t, lang=report.lang, edition=report.edition, headline=headline, tables=tables,
        charts={k: Markup(v) for k, v in report.charts.items()}, alerts=alerts,
        quality=quality, left_out=report.left_out,
    )


def _trend(x: Any) -> str:
    if x is None or x == 0:
        return ""
    return "up" if x > 0 else "down"
