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
from ..money import from_micro, micro, money
from .loader import (
    FILE_INDEX,
    IN_LATER_FILE,
    ODD_DAY,
    ODD_FIRST,
    ODD_LAST,
    REASON,
    FrameT,
    Source,
    odd_day,
)

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
    # An export of one file: its lines as parsed, the mixed-customer check made by the
    # group-by itself. Several files: the lines after the checks across files.
    return final_orders(order_pass(source, _lines(source)))


def _lines(source: Source) -> pl.LazyFrame:
    """The lines :func:`order_pass` groups: checked across rows only when several files."""
    marked = source.marked
    if marked is None or FILE_INDEX in marked.collect_schema():
        return source.checked
    return marked


# Columns :func:`order_pass` adds to an order's figures: the checks across its lines.
CUST_MIN, CUST_MAX = "__cust_min", "__cust_max"  # customer hashes of its accepted lines
ACCEPTED, ODD = "__accepted", "__odd"  # its accepted lines, those of a suspicious time
FILE_MIN, FILE_MAX = "__file_min", "__file_max"  # files holding its accepted lines
ORDER_COLUMNS = ("order_id", "customer_id", "order_time", "value", "lines", "gross_profit",
                 "discount", "units", "skus", "first_order_promo", "channel")
_PAID = "__paid"


def order_pass(source: Source, lines: pl.LazyFrame, *, by_file: bool = False) -> pl.LazyFrame:
    """One row per order id of the accepted ``lines``: its figures and its checks.

    The figures (:data:`ORDER_COLUMNS`) are over the order's paid lines; the checks are
    over all its accepted lines: the range of its customers' hashes (an order naming two
    customers is rejected as ``mixed_customers``: CONTRACT.md section 2), its lines and
    those of a suspicious time (for the rows' tally), and, over several files, the files
    that hold them. One group-by does the check across rows and the grouping into orders
    (a window over the lines for the check alone cost more than the grouping).
    ``by_file``: one row per file and order id instead, each file's orders as if it were
    read alone (the per-file cache, :mod:`.by_file`).

    Each paid-line figure is a column masked to the paid lines before the group-by, so
    the group-by's aggregations stay plain (a filter inside an aggregation is evaluated
    group by group: 2x slower on 10M lines).
    """
    paid = pl.col(_PAID)

    def of_paid(expr: pl.Expr) -> pl.Expr:
        return pl.when(paid).then(expr)

    line: dict[str, pl.Expr] = {
        _PAID: (pl.col("status") == "paid") if source.has("status") else pl.lit(True),
        "__cust": pl.col("customer_id").hash(seed=3),
        "__odd_line": odd_day(pl.col("order_time")).is_not_null(),
    }
    prep = {"__time": of_paid(pl.col("order_time")), "__value": of_paid(micro(pl.col("amount")))}
    value = from_micro(pl.col("__value").sum())
    aggs: list[pl.Expr] = [
        # An order's accepted lines name one customer unless it is rejected as mixed.
        pl.col("customer_id").first(),
        pl.col("__time").min().alias("order_time"),
        # Summed exactly and rounded to the cent by the one money rule (money.py): summing
        # float amounts leaves noise in the last bits (49.99999 for 50.00) that would move
        # an order across a band edge or promotion threshold depending on the order of the
        # additions, and a float's rounding is neither half up nor half even.
        money(value).alias("value"),
        paid.sum().cast(pl.UInt32).alias("lines"),
    ]
    if source.has("cost"):
        prep["__cost"] = of_paid(micro(pl.col("cost")))
        prep["__no_cost"] = paid & pl.col("cost").is_null()
        gp = pl.when(pl.col("__no_cost").sum() == 0).then(
            money(value - from_micro(pl.col("__cost").sum()))
        )
        aggs.append(gp.alias("gross_profit"))
    else:
        aggs.append(pl.lit(None, dtype=pl.Float64).alias("gross_profit"))
    if source.has("discount"):
        prep["__discount"] = of_paid(micro(pl.col("discount")))
        aggs.append(money(from_micro(pl.col("__discount").sum())).alias("discount"))
    else:
        aggs.append(pl.lit(0.0).alias("discount"))
    if source.has("quantity"):
        prep["__units"] = of_paid(pl.col("quantity"))
        aggs.append(pl.col("__units").sum().alias("units"))
    else:
        aggs.append(pl.lit(None, dtype=pl.Int64).alias("units"))
    if source.has("sku"):
        # Distinct part numbers counted by 64-bit hash (much faster than by string on
        # millions of lines; two SKUs of one order colliding has odds of about 1e-18). The
        # lines that are not paid are null here: that null is not a part number.
        prep["__sku"] = of_paid(pl.col("sku").hash())
        unpaid = (paid.sum() < pl.len()).cast(pl.Int64)
        aggs.append((pl.col("__sku").n_unique().cast(pl.Int64) - unpaid).alias("skus"))
    else:
        aggs.append(pl.lit(None, dtype=pl.Int64).alias("skus"))
    if source.has("promo"):
        prep["__first"] = of_paid(pl.col("promo") == FIRST_ORDER_PROMO)
        aggs.append(pl.col("__first").any().fill_null(False).alias("first_order_promo"))
    else:
        aggs.append(pl.lit(False).alias("first_order_promo"))
    if source.has("channel"):
        prep["__channel"] = of_paid(pl.col("channel"))
        aggs.append(pl.col("__channel").first(ignore_nulls=True).alias("channel"))
    else:
        aggs.append(pl.lit(None, dtype=pl.String).alias("channel"))
    aggs += [
        pl.col("__cust").min().alias(CUST_MIN),
        pl.col("__cust").max().alias(CUST_MAX),
        pl.len().alias(ACCEPTED),
        pl.col("__odd_line").sum().alias(ODD),
    ]
    keys = [FILE_INDEX, "order_id"] if by_file else ["order_id"]
    if FILE_INDEX in lines.collect_schema() and not by_file:
        aggs += [pl.col(FILE_INDEX).min().alias(FILE_MIN), pl.col(FILE_INDEX).max().alias(FILE_MAX)]
    accepted = lines.filter(pl.col(REASON).is_null())
    return accepted.with_columns(**line).with_columns(**prep).group_by(keys).agg(aggs)


def _mixed() -> pl.Expr:
    return pl.col(CUST_MIN) != pl.col(CUST_MAX)


def final_orders(grouped: FrameT) -> FrameT:
    """The orders of :func:`order_pass`: one customer and at least one paid line."""
    return grouped.filter(~_mixed() & (pl.col("lines") > 0)).select(ORDER_COLUMNS)


def rows_apart(source: Source, *, by_file: bool = False) -> pl.LazyFrame:
    """The tally (:meth:`.loader.Source.tally`) of the rows :func:`order_pass` cannot count.

    The rejected lines and the accepted ones of a suspicious time: few, so this pass is
    cheap. :func:`settle` adds the other accepted lines from the orders' counts.
    ``by_file``: per file (a :data:`.loader.FILE_INDEX` key), as :func:`order_pass`.
    """
    marked = source.marked
    if marked is None:
        msg = "rows_apart needs the source's lines as parsed (Source.marked)"
        raise ValueError(msg)
    when = pl.col("order_time")
    odd = odd_day(when)
    keys = [pl.col(REASON)]
    if by_file:
        keys.append(pl.col(FILE_INDEX))
    elif FILE_INDEX in marked.collect_schema():
        keys.append(pl.lit(False).alias(IN_LATER_FILE))
    keys.append(odd.alias(ODD_DAY))
    return (
        marked.filter(pl.col(REASON).is_not_null() | odd.is_not_null())
        .group_by(keys)
        .agg(pl.len().alias("rows"), when.min().alias(ODD_FIRST), when.max().alias(ODD_LAST))
    )


def settle(grouped: pl.DataFrame, apart: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The orders and the rows' tally from :func:`order_pass` and :func:`rows_apart`.

    The accepted lines of an order naming two customers become ``mixed_customers``.
    None when the one pass cannot say it exactly, which the lines' own checks then do:
    an order held by two files of the export (whether a later file holds it too, and
    ``--dedupe``, are about lines), or a mixed order with a line of a suspicious time
    (whose day the tally keeps).
    """
    mixed = _mixed()
    shared = (pl.col(FILE_MIN) != pl.col(FILE_MAX)) if FILE_MIN in grouped.columns else None
    accepted, in_mixed, apart_needed = grouped.select(
        pl.when(~mixed).then(pl.col(ACCEPTED) - pl.col(ODD)).sum().alias("accepted"),
        pl.when(mixed).then(pl.col(ACCEPTED)).sum().alias("mixed"),
        ((mixed & (pl.col(ODD) > 0)) | (pl.lit(False) if shared is None else shared))
        .any()
        .alias("apart"),
    ).row(0)
    if apart_needed:
        return None
    rows = [(None, accepted), ("mixed_customers", in_mixed)]
    extra = pl.DataFrame(
        [r for r in rows if r[1]], schema={REASON: pl.String, "rows": pl.UInt32}, orient="row"
    )
    extra = extra.with_columns(
        *((pl.lit(False).alias(IN_LATER_FILE),) if IN_LATER_FILE in apart.columns else ()),
        pl.lit(None, dtype=pl.Date).alias(ODD_DAY),
        pl.lit(None, dtype=apart.schema[ODD_FIRST]).alias(ODD_FIRST),
        pl.lit(None, dtype=apart.schema[ODD_LAST]).alias(ODD_LAST),
    ).select(apart.columns)
    tally = pl.concat([apart.with_columns(pl.col("rows").cast(pl.UInt32)), extra])
    return final_orders(grouped), tally


def has_cost(source: Source) -> bool:
    """Whether gross profit can be computed at all."""
    return source.has("cost")
