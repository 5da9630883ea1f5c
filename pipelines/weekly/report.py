"""The weekly (or monthly) edition: which days it covers, and its headline figures.

An *edition* is an ISO week (Monday to Sunday) or a calendar month. By default it is the
last complete one in the data: the week ending on the last Sunday on or before the last
paid order's date (the month ending on the last day of a month on or before it); with
``--as-of`` it is the week (month) containing that date.

Headline figures per edition, for this edition, the previous one and the average of the
four before this one: paid orders, customers (distinct buyers), new customers (whose first
paid order in the whole export falls in the edition), revenue, gross profit, gross margin
(gross profit / revenue of the orders with cost; gross profit is absent, not zero, when
no order has a cost), average order value, and conversion (sessions reaching the last
funnel step / sessions entering the first, from the weekly funnel, when events are given;
a monthly edition takes the ISO weeks starting in the month). The 4-period average of a
ratio is the mean of the periods that have one (weeks without orders have no margin).

Orders, new customers, revenue, gross profit and average order value are also judged
against the :data:`BASELINE` editions before (:func:`.drift.level_alerts`: a robust median
and scale, Holm over the five): a row gains ``expected``, ``lower``, ``upper``, ``z``,
``p_value`` and ``alert`` (``down``, ``up`` or None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from .. import calendar
from ..errors import EmptySelectionError, InvalidOptionError
from ..funnel.drift import level_alerts
from ..io.inputs import InputReport, Inputs, collect
from ..io.loader import plausible
from ..io.orders import has_cost, orders_frame
from ..money import exact_sum, money

KINDS = ("week", "month")
HISTORY = 4
BASELINE = 8  # editions of history for the headline's alerts (as the funnel's 8 weeks)
JUDGED = ("orders", "new_customers", "revenue", "gross_profit", "aov")  # headline alerts
COUNTS = ("orders", "customers", "new_customers")
TREND = 13  # editions in the trend chart: this one and the 12 before


@dataclass(frozen=True)
class Edition:
    """One report period: ``start`` to ``end`` inclusive."""

    kind: str
    start: date

    def __post_init__(self) -> None:
        """Only weeks and months."""
        if self.kind not in KINDS:
            msg = f"--period {self.kind!r} is not week or month"
            raise InvalidOptionError(msg, hint="use --period week or --period month")

    @classmethod
    def containing(cls, day: date, kind: str) -> Edition:
        """The edition that contains ``day``."""
        return cls(kind, calendar.start_of(kind, day))

    @classmethod
    def last_complete(cls, last_day: date, kind: str) -> Edition:
        """The last edition that ends on or before ``last_day``."""
        here = cls.containing(last_day, kind)
        return here if here.end <= last_day else here.shift(-1)

    @property
    def end(self) -> date:
        """The last day."""
        return self.shift(1).start - timedelta(days=1)

    def shift(self, n: int) -> Edition:
        """The edition ``n`` periods later (earlier when negative)."""
        return Edition(self.kind, calendar.shift(self.kind, self.start, n))

    @property
    def label(self) -> str:
        """``2026-W43`` or ``2026-10``."""
        return calendar.label(self.kind, self.start)


METRICS = ("orders", "customers", "new_customers", "revenue", "gross_profit", "gross_margin",
           "aov", "conversion")


def order_days(inputs: Inputs) -> tuple[date, date]:
    """The dates of the first and the last paid order (one small query).

    Times that ``cust check`` warns about (before 1970, or more than a year after the day of
    the run: a 2204 typed for 2024) do not choose the edition when others are plausible.
    """
    when = pl.col("order_time")
    fine = when.filter(plausible(when))
    frames, _ = collect(
        [orders_frame(inputs.get("orders")).select(
            pl.coalesce(fine.min(), when.min()).alias("first"),
            pl.coalesce(fine.max(), when.max()).alias("last"),
        )], []
    )
    first, last = frames[0].row(0)
    if last is None:
        msg = "the orders export has no paid order"
        raise EmptySelectionError(msg, hint="check the status column (cust check)")
    return first.date(), last.date()


def default_edition(first: date, last: date, kind: str) -> Edition:
    """The last complete edition; the one holding the last order when none is complete."""
    edition = Edition.last_complete(last, kind)
    return edition if edition.end >= first else Edition.containing(last, kind)


def headline(inputs: Inputs, edition: Edition) -> tuple[list[dict[str, Any]], InputReport]:
    """Rows ``metric``, ``current``, ``previous``, ``average_4``, with changes (no conversion).

    Conversion is added by the report from the funnel, so events are read once.
    """
    rows, _, report = headline_and_trend(inputs, edition, periods=HISTORY + 1)
    return rows, report


def headline_and_trend(
    inputs: Inputs, edition: Edition, *, periods: int = TREND
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], InputReport]:
    """The headline rows (see :func:`headline`) and the last ``periods`` editions' figures.

    The trend is one dict per edition, oldest first: ``period`` (its first day), ``label``,
    ``orders``, ``customers``, ``new_customers``, ``revenue``, ``gross_profit``,
    ``gross_margin``, ``aov``; all from one scan of the orders.
    """
    source = inputs.get("orders")
    orders = orders_frame(source)
    first = edition.shift(-max(HISTORY, BASELINE, periods - 1))
    firsts = orders.group_by("customer_id").agg(pl.col("order_time").min().alias("first_time"))
    dated = orders.join(firsts, on="customer_id").with_columns(
        calendar.start_expr(edition.kind, pl.col("order_time")).alias("edition"),
        calendar.start_expr(edition.kind, pl.col("first_time")).alias("first_edition"),
    ).filter(pl.col("edition").is_between(first.start, edition.start))
    known = pl.col("gross_profit").is_not_null()
    per = dated.group_by("edition").agg(
        pl.len().alias("orders"),
        pl.col("customer_id").n_unique().alias("customers"),
        pl.col("customer_id").filter(pl.col("edition") == pl.col("first_edition"))
        .n_unique().alias("new_customers"),
        # Summed exactly and rounded to the cent by the one money rule (money.py).
        money(exact_sum(pl.col("value"))).alias("revenue"),
        money(exact_sum(pl.col("gross_profit"))).alias("gross_profit"),
        money(exact_sum(pl.col("value").filter(known))).alias("revenue_with_cost"),
        known.sum().alias("orders_with_cost"),
    )
    start = orders.select(
        calendar.start_expr(edition.kind, pl.col("order_time").min()).alias("start")
    )
    frames, report = collect([per, start], [source])
    rows = {r["edition"]: r for r in frames[0].to_dicts()}
    data_start = frames[1]["start"][0]
    costed = has_cost(source)

    def figures(e: Edition) -> dict[str, float | None]:
        if data_start is None or e.start < data_start:
            # Before the first order of the export: no figure, not zero (it would pull the
            # 4-period average down in the data's first weeks).
            return dict.fromkeys(METRICS[:-1])
        r = rows.get(e.start)
        if r is None:
            return {m: 0 for m in METRICS if m != "conversion"} | {
                "revenue": 0.0, "gross_profit": 0.0 if costed else None,
                "gross_margin": None, "aov": None}
        return {
            "orders": r["orders"],
            "customers": r["customers"],
            "new_customers": r["new_customers"],
            "revenue": r["revenue"],
            # No order with a known cost: gross profit is absent, not zero (CONTRACT 1).
            "gross_profit": r["gross_profit"] if r["orders_with_cost"] else None,
            "gross_margin": r["gross_profit"] / r["revenue_with_cost"]
            if r["revenue_with_cost"] else None,
            "aov": r["revenue"] / r["orders"] if r["orders"] else None,
        }

    now, before = figures(edition), figures(edition.shift(-1))
    history = [figures(edition.shift(-i)) for i in range(1, HISTORY + 1)]
    out = []
    for metric in METRICS[:-1]:
        values = [v for h in history if (v := h[metric]) is not None]
        out.append(row(metric, now[metric], before[metric],
                       sum(values) / len(values) if values else None))
    baseline = [figures(edition.shift(-i)) for i in range(1, BASELINE + 1)]
    judged = [{"metric": m, "current": now[m], "history": [b[m] for b in baseline],
               "count": m in COUNTS} for m in JUDGED]
    level_alerts(judged)
    by_metric = {j["metric"]: j for j in judged}
    for r in out:
        j = by_metric.get(r["metric"])
        if j is not None:
            r.update({k: j[k] for k in ("expected", "lower", "upper", "z", "p_value",
                                        "alert")})
    trend = [
        {"period": e.start, "label": e.label, **figures(e)}
        for e in (edition.shift(-i) for i in range(periods - 1, -1, -1))
        if data_start is not None and e.start >= data_start or e == edition
    ]
    return out, trend, report


def row(metric: str, current: Any, previous: Any, average: Any) -> dict[str, Any]:
    """One headline row with its relative changes."""
    def change(a: Any, b: Any) -> float | None:
        return (a - b) / abs(b) if a is not None and b not in (None, 0) else None

    return {
        "metric": metric,
        "current": current,
        "previous": previous,
        "change": change(current, previous),
        "average_4": average,
        "change_vs_average": change(current, average),
    }
