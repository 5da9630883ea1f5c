"""Order lines to orders: the unit of most figures (CONTRACT.md section 1).

Only ``paid`` lines count. An order's value is the sum of ``amount`` over its paid lines;
its gross profit (毛利) is the sum of ``amount - cost`` and is null when the export has no
``cost`` column or any of its paid lines has no cost; its time is the earliest
``order_time`` of its paid lines. An order with no paid line is not an order in any
figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import polars as pl

from ..errors import InvalidOptionError
from ..money import exact_sum, money
from .loader import Source

FIRST_ORDER_PROMO = "first_order"


@dataclass(frozen=True)
class Period:
    """The analysed period: ``--since`` and ``--until`` (inclusive days) and ``--as-of``."""

    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    def __post_init__(self) -> None:
        """Refuse a period that ends before it starts."""
        if self.since and self.until and self.since > self.until:
            msg = f"--since {self.since} is after --until {self.until}"
            raise InvalidOptionError(msg, hint="swap the two dates")

    def filter(self, column: str) -> pl.Expr:
        """True for times inside the period."""
        cond = pl.lit(True)
        if self.since is not None:
            cond = cond & (pl.col(column) >= datetime.combine(self.since, time()))
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time())
            cond = cond & (pl.col(column) < end)
        return cond

    def ended_by_as_of(self) -> Period:
        """The period with ``--as-of`` ending it when it comes before ``--until`` (or none).

        For figures over the orders of a period (bands, promotions, profiles): orders after
        the analysis date are not yet known on that date.
        """
        if self.as_of is None or (self.until is not None and self.until <= self.as_of):
            return self
        if self.since is not None and self.as_of < self.since:
            msg = f"--as-of {self.as_of} is before --since {self.since}"
            raise InvalidOptionError(msg, hint="give an --as-of inside the period")
        return Period(self.since, self.as_of, self.as_of)

    def as_of_expr(self, column: str) -> pl.Expr:
        """The analysis date: ``--as-of``, else the latest date of ``column`` in the period."""
        if self.as_of is not None:
            return pl.lit(self.as_of, dtype=pl.Date)
        return pl.col(column).max().dt.date()


def paid_lines(source: Source) -> pl.LazyFrame:
    """Valid lines with status ``paid`` (all lines when the export has no status)."""
    lines = source.valid
    if source.has("status"):
        lines = lines.filter(pl.col("status") == "paid")
    return lines


def orders_frame(source: Source, period: Period | None = None) -> pl.LazyFrame:
    """One row per paid order inside the period.

    Columns: ``order_id``, ``customer_id``, ``order_time``, ``value``, ``gross_profit``
    (null without cost), ``discount``, ``lines``, ``units`` (null without quantity),
    ``skus`` (distinct part numbers; null without sku), ``first_order_promo`` (a line
    carries the ``first_order`` promo), ``channel`` (null without channel).
    """
    orders = source.per_order if source.per_order is not None else _per_order(source)
    if period is not None:
        orders = orders.filter(period.filter("order_time"))
    return orders


# The row order of :func:`customer_orders`: each customer's orders together, earliest first
# (order ids, which are unique, break ties of time).
CUSTOMER_ORDER = ("customer_id", "order_time", "order_id")


def customer_orders(source: Source, period: Period | None = None) -> pl.LazyFrame:
    """:func:`orders_frame` in :data:`CUSTOMER_ORDER`.

    A customer's first row is their first order, so firsts need no sort of their own
    (and a group-by over customers in this order is about twice as fast). The orders
    cache keeps the frame in this order; other per-order frames are sorted here.
    """
    orders = orders_frame(source, period)
    if source.per_order_sorted_by != CUSTOMER_ORDER:
        orders = orders.sort(CUSTOMER_ORDER)
    return orders


def _per_order(source: Source) -> pl.LazyFrame:
    lines = paid_lines(source)
    aggs: list[pl.Expr] = [
        pl.col("customer_id").first(),
        pl.col("order_time").min(),
        # Summed exactly and rounded to the cent by the one money rule (money.py): summing
        # float amounts leaves noise in the last bits (49.99999 for 50.00) that would move
        # an order across a band edge or promotion threshold depending on the order of the
        # additions, and a float's rounding is neither half up nor half even.
        money(exact_sum(pl.col("amount"))).alias("value"),
        pl.len().alias("lines"),
    ]
    if source.has("cost"):
        gp = pl.when(pl.col("cost").null_count() == 0).then(
            money(exact_sum(pl.col("amount")) - exact_sum(pl.col("cost")))
        )
        aggs.append(gp.alias("gross_profit"))
    else:
        aggs.append(pl.lit(None, dtype=pl.Float64).alias("gross_profit"))
    aggs.append(
        money(exact_sum(pl.col("discount"))).alias("discount")
        if source.has("discount")
        else pl.lit(0.0).alias("discount")
    )
    aggs.append(
        pl.col("quantity").sum().alias("units")
        if source.has("quantity")
        else pl.lit(None, dtype=pl.Int64).alias("units")
    )
    aggs.append(
        # Distinct part numbers counted by 64-bit hash (much faster than by string on
        # millions of lines; two SKUs of one order colliding has odds of about 1e-18).
        pl.col("sku").hash().n_unique().cast(pl.Int64).alias("skus")
        if source.has("sku")
        else pl.lit(None, dtype=pl.Int64).alias("skus")
    )
    aggs.append(
        (pl.col("promo") == FIRST_ORDER_PROMO).any().fill_null(False).alias("first_order_promo")
        if source.has("promo")
        else pl.lit(False).alias("first_order_promo")
    )
    aggs.append(
        pl.col("channel").drop_nulls().first().alias("channel")
        if source.has("channel")
        else pl.lit(None, dtype=pl.String).alias("channel")
    )
    return lines.group_by("order_id").agg(aggs)


def has_cost(source: Source) -> bool:
    """Whether gross profit can be computed at all."""
    return source.has("cost")
