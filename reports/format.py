"""One cell formatter and one set of column headers for every result table shown to a person.

The terminal tables (:mod:`cust.cli.tables`) and the HTML result tables
(:mod:`cust.reports.html`) both call :func:`format_cell`, so a figure reads the same in
both: money to the cent with thousands separators, shares as a percent with one decimal,
other decimals (ratios, averages) with two, counts with thousands separators, yes/no for a
flag. JSON and CSV keep the raw values and the contract's keys; only what a person reads
goes through here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# Human headers for the JSON keys of the result tables. A key not listed is shown with its
# underscores as spaces and its first letter upper case ("rank" -> "Rank").
HEADERS: dict[str, str] = {
    "label": "Band",
    "orders": "Orders",
    "customers": "Customers",
    "revenue": "Revenue",
    "gross_profit": "Gross profit",
    "order_share": "Orders %",
    "revenue_share": "Revenue %",
    "value_share": "Value %",
    "customer_share": "Customers %",
    "gross_profit_share": "Gross profit %",
    "gross_margin": "Margin",
    "margin": "Margin",
    "avg_lines": "Lines / order",
    "avg_units": "Units / order",
    "rows_read": "Rows",
    "rows_rejected": "Rejected",
    "rejected_share": "Rejected %",
    "suspicious_times": "Suspicious times",
    "cumulative_share": "Cumulative %",
    "order_share_change": "Δ orders %",
    "qualifying_orders": "Qualifying orders",
    "qualifying_share": "Qualifying %",
    "subsidy_cost": "Cost",
    "subsidy_share_of_revenue": "Cost % of revenue",
    "customers_near": "Customers near",
    "incremental_revenue": "Extra revenue",
    "net_gross_profit_effect": "Net gross profit",
    "roi": "ROI",
    "break_even_uptake": "Break-even uptake",
    "one_order_share": "1 order %",
    "payback_period": "Payback (periods)",
    "payback_ratio": "Payback ratio",
    "repeat_share": "Repeat %",
    "repeat_gross_profit": "Repeat gross profit",
    "offer_cost": "Offer cost",
    "aov": "AOV",
    "orders_per_customer_month": "Orders / customer / month",
    "orders_per_customer": "Orders / customer",
    "skus_per_order": "SKUs / order",
    "avg_days_since_last": "Days since last (avg)",
    "avg_orders": "Orders (avg)",
    "avg_monetary": "Value (avg)",
    "min_points": "Min. points",
    "customer_id": "Customer",
    "user_id": "User",
    "abc_class": "ABC class",
    "rfm_segment": "RFM segment",
    "mean_p_alive": "P(alive) (avg)",
    "p_alive": "P(alive)",
    "mean_expected_purchases": "Expected purchases (avg)",
    "expected_purchases": "Expected purchases",
    "expected_contribution": "Expected contribution",
    "mean_clv": "CLV (avg)",
    "clv": "CLV",
    "a_threshold": "A threshold",
    "days_since_last": "Days since last",
    "days_to_second_order": "Days to 2nd order",
    "conversion_from_previous": "From previous %",
    "conversion_from_first": "From first %",
    "drop_off": "Drop-off",
    "click_through": "Click-through",
    "window_rate": "Window rate",
    "rate": "Rate",
    "change_in_units": "Δ units",
    "lower": "From",
    "upper": "To",
    "qualifies": "Qualifies",
}


def header(name: str) -> str:
    """The header a person reads for the column ``name`` (a JSON key)."""
    if name in HEADERS:
        return HEADERS[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


# A retention heatmap cell: whole percent, then a shade glyph (light to dark), ``*`` when
# the period is not complete yet. Terminals are often 80 columns wide: 12 periods fit when a
# cell is 3-5 characters.
SHADES = ((0.5, "█"), (0.25, "▓"), (0.1, "▒"), (0.0, "░"))


def heat_cell(retention: float, complete: bool) -> str:
    """``45▓`` (45 %, over a quarter), ``8░*`` (8 %, period not complete).

    >>> heat_cell(0.45, True), heat_cell(0.08, False), heat_cell(0.0, True)
    ('45▓', '8░*', '0 ')
    """
    shade = next((glyph for floor, glyph in SHADES if retention > floor), " ")
    return f"{retention * 100:.0f}{shade}{'' if complete else '*'}"


def format_cell(value: Any, kind: str = "") -> str:
    """One table cell as text.

    ``kind`` is ``"money"`` (to the cent, the one money rule, with separators),
    ``"share"`` (a fraction shown as a percent with one decimal) or ``""`` (by type: a
    decimal with two places, a count with separators, a flag as yes/no, a date as ISO).

    >>> format_cell(1234.5, "money"), format_cell(0.1234, "share"), format_cell(9.265)
    ('1,234.50', '12.3%', '9.27')
    >>> format_cell(1234567), format_cell(True), format_cell(None)
    ('1,234,567', 'yes', '—')
    """
    if value is None:
        return "—"
    if kind == "heat" and isinstance(value, dict):
        return heat_cell(value["retention"], value["complete"])
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "share" and isinstance(value, int | float):
        return f"{value:.1%}"
    if kind == "money" and isinstance(value, int | float):
        from cust.pipelines.money import round_money  # one rule: half up, exact decimal

        return f"{round_money(value):,.2f}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if (value.hour or value.minute)
            else f"{value:%Y-%m-%d}"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(format_cell(v, kind) for v in value)
    return str(value)


_FIGURE = r"^[-+]?[\d,]*\.?\d+%?$"


def formatted_figures(column: Any) -> bool:
    """Whether a text column holds figures already formatted.

    A headline mixes money, counts and percents in one column: a table right-aligns it
    like numbers.
    """
    import polars as pl

    if column.dtype != pl.String or column.null_count() == column.len():
        return False
    return bool(column.drop_nulls().str.contains(_FIGURE).all())
