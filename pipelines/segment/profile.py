"""Customer profiles: figures by customer type, role, industry, tier and channel.

Each dimension of ``--by`` is broken down on its own (dimensions are not crossed). The
unit is a paid order inside the analysed period; an order's group is its customer's
attribute in the customers export:

- ``customer_type``, ``role``, ``industry``: the columns of the customers export;
- ``tier``: the level of the customer's loyalty ``points`` on the ladder of
  :mod:`.tiers` (``[tiers]`` in ``cust.toml``); every level of the ladder is shown,
  lowest first, even without buyers;
- ``channel``: the customer's ``channel`` in the customers export; where that is absent
  (no such column, no customers row, or a blank cell) the order's own ``channel``.

Customers with orders but no row in the customers export, and blank attributes, are in
group ``unknown``. Per group:

- ``customers``: distinct buying customers (at least one paid order in the period);
- ``orders``, ``revenue`` (sum of order values), ``revenue_share`` (of the dimension);
- ``gross_profit`` (sum over the orders whose cost is known) and ``gross_margin`` =
  gross profit / revenue of those same orders (null without cost);
- ``aov`` = revenue / orders;
- ``orders_per_customer_month`` = orders / customers / months, with months = days of the
  period / 30.44. The period runs from ``--since`` (else the first order date in the
  analysed period) to ``--until`` (else the last order date), both days included;
  ``--as-of`` before ``--until`` ends the period there (later orders are not counted);
- ``skus_per_order``: mean number of distinct part numbers per order (null without sku).

Key accounts vs sample buyers, the comparison operators make: key accounts are the top
``--top`` customers by gross profit in the period (by revenue when there is no cost;
ties broken by revenue, then customer id); sample buyers are the customers with at least
``--sample-min-orders`` orders and a median order value below ``--sample-max-median``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import polars as pl

from ..errors import EmptySelectionError, InputFileError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.loader import Source
from ..io.orders import Period, has_cost, orders_frame
from ..money import exact_sum, money
from ..result import Result, Table
from .tiers import DEFAULT_LADDER, Ladder, ladder_frame, tier_expr

DIMENSIONS = ("customer_type", "role", "industry", "tier", "channel")
DEFAULT_BY = ("customer_type", "role", "industry", "tier")
CUSTOMER_DIMENSIONS = ("customer_type", "role", "industry", "tier")
UNKNOWN = "unknown"
DAYS_PER_MONTH = 30.44
KEY_ACCOUNTS = "key_accounts"
SAMPLE_BUYERS = "sample_buyers"


def parse_by(text: str) -> tuple[str, ...]:
    """Parse ``--by customer_type,tier`` into known dimensions, in the order given."""
    names = [x.strip().lower().replace("-", "_") for x in text.split(",") if x.strip()]
    unknown = [n for n in names if n not in DIMENSIONS]
    if not names or unknown:
        what = f"unknown dimension {unknown[0]!r}" if unknown else "no dimension"
        msg = f"--by {text!r}: {what}"
        raise InvalidOptionError(msg, hint=f"use some of: {','.join(DIMENSIONS)}")
    return tuple(dict.fromkeys(names))


def _column_of(dimension: str) -> str:
    return "points" if dimension == "tier" else dimension


def _with_costed(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with the columns the group-bys sum for gross profit and costed revenue.

    Sums of columns computed before the group-by run on Polars' fast path; a filter or a
    when/then inside the aggregation is evaluated group by group.
    """
    known = pl.col("gross_profit").is_not_null()
    return frame.with_columns(
        known.alias("_known"), pl.when(known).then(pl.col("value")).alias("_costed")
    )


def _known_gross_profit(grouped: pl.LazyFrame) -> pl.LazyFrame:
    """Gross profit null where no order of the group has it (Polars sums all-null to 0)."""
    return grouped.with_columns(
        pl.when(pl.col("_known") > 0).then(pl.col("gross_profit")).alias("gross_profit")
    ).drop("_known")


def _money_or_null(expr: pl.Expr, known: bool) -> pl.Expr:
    return money(expr) if known else pl.lit(None, dtype=pl.Float64)


def group_figures(frame: pl.LazyFrame, group: pl.Expr, dimension: str) -> pl.LazyFrame:
    """Per group of ``group``: customers, orders, revenue, gross profit, costed revenue, skus."""
    grouped = _with_costed(frame).group_by(group.alias("group")).agg(
        pl.col("customer_id").n_unique().cast(pl.Int64).alias("customers"),
        pl.len().cast(pl.Int64).alias("orders"),
        exact_sum(pl.col("value")).alias("revenue"),
        exact_sum(pl.col("gross_profit")).alias("gross_profit"),
        exact_sum(pl.col("_costed")).alias("costed_revenue"),
        pl.col("skus").mean().alias("skus_per_order"),
        pl.col("_known").sum(),
    )
    return _known_gross_profit(grouped).with_columns(
        pl.lit(dimension, dtype=pl.String).alias("dimension")
    )


def customer_figures(orders: pl.LazyFrame) -> pl.LazyFrame:
    """One row per buying customer: orders, revenue, gross profit, median order value, skus."""
    grouped = _with_costed(orders).group_by("customer_id").agg(
        pl.len().cast(pl.Int64).alias("orders"),
        exact_sum(pl.col("value")).alias("revenue"),
        exact_sum(pl.col("gross_profit")).alias("gross_profit"),
        exact_sum(pl.col("_costed")).alias("costed_revenue"),
        pl.col("value").median().alias("median_order_value"),
        pl.col("skus").sum().alias("skus"),
        pl.col("skus").is_not_null().sum().alias("orders_with_skus"),
        pl.col("_known").sum(),
    )
    return _known_gross_profit(grouped)


@dataclass(frozen=True, kw_only=True)
class ProfileResult(Result):
    """Figures by customer attribute, and key accounts vs sample buyers.

    Attributes
    ----------
    groups
        One row per dimension and group: ``dimension``, ``group``, ``customers``,
        ``orders``, ``revenue``, ``revenue_share``, ``gross_profit``, ``gross_margin``,
        ``aov``, ``orders_per_customer_month``, ``skus_per_order``.
    comparison
        Two rows, ``key_accounts`` and ``sample_buyers``: ``group``, ``definition``,
        ``customers``, ``orders``, ``revenue``, ``revenue_share``, ``gross_profit``,
        ``gross_profit_share``, ``gross_margin``, ``aov``, ``orders_per_customer``,
        ``skus_per_order``.
    ladder
        The tier ladder used.
    period
        ``start``, ``end`` (dates), ``days`` and ``months`` of the period.
    """

    command: ClassVar[str] = "segment profile"
    groups: pl.DataFrame
    comparison: pl.DataFrame
    ladder: Ladder
    dimensions: tuple[str, ...]
    period: dict[str, Any]
    cost_known: bool
    orders_without_cost: int
    customers_without_row: int | None
    skipped: tuple[str, ...] = ()
    overlap: int = 0

    def payload(self) -> dict[str, Any]:
        """``groups``, ``comparison``, ``tiers`` (the ladder), ``dimensions``, ``period``."""
        return {
            "dimensions": list(self.dimensions),
            "period": self.period,
            "groups": self.groups,
            "comparison": self.comparison,
            "tiers": ladder_frame(self.ladder),
        }

    def tables(self) -> list[Table]:
        """The groups, the comparison, then the tier ladder when tier is shown."""
        shares = ("revenue_share", "gross_margin")
        tables = [
            Table(
                "groups",
                f"Customers by {', '.join(self.dimensions)} "
                f"({self.period['start']} to {self.period['end']})",
                self.groups,
                money=("revenue", "gross_profit", "aov"),
                shares=shares,
                bar="revenue_share",
                shown=("dimension", "group", "customers", "revenue_share", "gross_margin",
                       "aov", "orders_per_customer_month", "revenue", "gross_profit",
                       "orders", "skus_per_order"),
            ),
            Table(
                "comparison",
                "Key accounts vs sample buyers",
                self.comparison.drop("definition"),
                money=("revenue", "gross_profit", "aov"),
                shares=("revenue_share", "gross_profit_share", "gross_margin"),
                shown=("group", "customers", "revenue_share", "gross_profit_share",
                       "gross_margin", "aov", "orders_per_customer", "revenue",
                       "gross_profit", "orders", "skus_per_order"),
            ),
        ]
        if "tier" in self.dimensions:
            tables.append(Table("tiers", "Tier ladder (minimum points)", ladder_frame(self.ladder)))
        return tables

    def notes(self) -> list[str]:
        """Caveats: cost, customers without a customers row, skipped dimensions, overlap."""
        notes = [
            f"{row['group']}: {row['definition']}."
            for row in self.comparison.select("group", "definition").iter_rows(named=True)
        ]
        if not self.cost_known:
            notes.append(
                "The orders export has no cost column: gross profit and margin are not "
                "available, and key accounts are the top customers by revenue."
            )
        elif self.orders_without_cost:
            notes.append(
                f"{self.orders_without_cost} orders have a line without cost; they are left "
                "out of gross_profit and of the revenue gross_margin is taken on."
            )
        if self.customers_without_row:
            notes.append(
                f"{self.customers_without_row} buying customers have no row in the customers "
                f"export: their attributes are '{UNKNOWN}'."
            )
        for dim in self.skipped:
            notes.append(
                f"The customers export has no {_column_of(dim)} column: {dim} is left out."
            )
        if self.overlap:
            notes.append(f"{self.overlap} customers are both key accounts and sample buyers.")
        return notes


def profile_customers(
    inputs: Inputs,
    *,
    by: Sequence[str] | None = None,
    period: Period | None = None,
    ladder: Ladder = DEFAULT_LADDER,
    top: int = 20,
    sample_min_orders: int = 3,
    sample_max_median: float = 100.0,
) -> ProfileResult:
    """Break paid orders down by customer attributes (see the module docstring).

    ``by=None`` means :data:`DEFAULT_BY`, whose dimensions are left out (with a note) when
    the customers export lacks their column; dimensions asked for explicitly must exist.

    Raises
    ------
    InputFileError
        A customer attribute is asked for and no customers export was given.
    MissingColumnError
        An explicitly asked dimension has no column to come from.
    InvalidOptionError
        An unknown dimension or a threshold out of range.
    EmptySelectionError
        No paid order in the period.
    """
    explicit = by is not None
    dims = tuple(by) if by is not None else DEFAULT_BY
    _check_options(dims, top, sample_min_orders, sample_max_median)
    period = (period or Period()).ended_by_as_of()
    source = inputs.get("orders")
    customers = _customers_source(inputs, dims)
    dims, skipped = _available(dims, explicit, source, customers)
    cost_known = has_cost(source)

    joined = orders_frame(source, period)
    if customers is not None:
        joined = joined.join(_attributes(customers, ladder), on="customer_id", how="left")
    # One pass over the files gives one row per order with its customer's attributes; the
    # breakdowns below work on that small in-memory frame instead of re-reading the lines.
    frames, report = collect([joined], [source] + ([customers] if customers is not None else []))
    table = frames[0].lazy()
    frames = pl.collect_all(
        [
            pl.concat([group_figures(table, _group(d, customers), d) for d in dims]),
            table.select(
                pl.len().alias("orders"),
                pl.col("order_time").min().dt.date().alias("first"),
                pl.col("order_time").max().dt.date().alias("last"),
                pl.col("gross_profit").is_null().sum().alias("no_cost"),
                (
                    pl.col("customer_id").filter(pl.col("_known").is_null()).n_unique()
                    if customers is not None
                    else pl.lit(None, dtype=pl.UInt32)
                ).alias("without_row"),
            ),
            customer_figures(table),
        ]
    )
    totals = frames[1].row(0, named=True)
    if not totals["orders"]:
        msg = "no paid orders in the analysed period"
        hint = "check --since/--until/--as-of against the dates in the orders export (cust check)"
        raise EmptySelectionError(msg, hint=hint)
    start = period.since or totals["first"]
    end = period.until or totals["last"]
    days, months = period_bounds(start, end)
    groups = _finish_groups(frames[0], dims, ladder, months, cost_known)
    comparison, overlap = _compare(frames[2], cost_known, top, sample_min_orders, sample_max_median)
    return ProfileResult(
        input=report,
        groups=groups,
        comparison=comparison,
        ladder=ladder,
        dimensions=dims,
        period={"start": start, "end": end, "days": days, "months": round(months, 3)},
        cost_known=cost_known,
        orders_without_cost=int(totals["no_cost"]) if cost_known else 0,
        customers_without_row=totals["without_row"],
        skipped=skipped,
        overlap=overlap,
    )


def _check_options(dims: Sequence[str], top: int, min_orders: int, max_median: float) -> None:
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown or not dims:
        msg = f"unknown dimension {unknown[0]!r}" if unknown else "no dimension to break down by"
        raise InvalidOptionError(msg, hint=f"use some of: --by {','.join(DIMENSIONS)}")
    if top < 1:
        msg = f"--top {top}: the number of key accounts must be at least 1"
        raise InvalidOptionError(msg, hint="--top 20")
    if min_orders < 1:
        msg = f"--sample-min-orders {min_orders} must be at least 1"
        raise InvalidOptionError(msg, hint="--sample-min-orders 3")
    if not max_median > 0:
        msg = f"--sample-max-median {max_median} must be a positive amount"
        raise InvalidOptionError(msg, hint="--sample-max-median 100")


def _customers_source(inputs: Inputs, dims: Sequence[str]) -> Source | None:
    customers = inputs.optional("customers")
    needs = [d for d in dims if d in CUSTOMER_DIMENSIONS]
    if customers is None and needs:
        msg = (
            f"--by {needs[0]} needs the customers export ({_column_of(needs[0])} comes from "
            "it), and none was given"
        )
        hint = "add --customers PATH, or break down by the orders' own channel: --by channel"
        raise InputFileError(msg, hint=hint)
    return customers


def _available(
    dims: tuple[str, ...], explicit: bool, orders: Source, customers: Source | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The dimensions that can be computed, and the defaults left out for want of a column."""
    keep, skipped = [], []
    for d in dims:
        if d == "channel":
            if orders.has("channel") or (customers is not None and customers.has("channel")):
                keep.append(d)
                continue
            msg = "--by channel: neither the orders nor the customers export has a channel column"
            hint = "map the header with --map channel=<header> (渠道), or leave channel out of --by"
            raise MissingColumnError(msg, hint=hint)
        assert customers is not None  # checked by _customers_source
        column = _column_of(d)
        if customers.has(column):
            keep.append(d)
        elif explicit:
            files = ", ".join(str(f.path) for f in customers.files)
            msg = (
                f"--by {d} needs a {column} column in the customers export ({files}); "
                f"columns found: {', '.join(customers.columns)}"
            )
            hint = f"map the header with --map customers.{column}=<header>, or leave {d} out"
            raise MissingColumnError(msg, hint=hint)
        else:
            skipped.append(d)
    if not keep:
        msg = "none of the default dimensions has a column in the customers export"
        hint = f"choose with --by, e.g. --by channel; dimensions: {','.join(DIMENSIONS)}"
        raise MissingColumnError(msg, hint=hint)
    return tuple(keep), tuple(skipped)


def _attributes(customers: Source, ladder: Ladder) -> pl.LazyFrame:
    """One row per customer of the export: its attributes, tier, and ``_known``."""
    cols: list[pl.Expr] = [pl.col("customer_id"), pl.lit(True).alias("_known")]
    for column in ("customer_type", "role", "industry"):
        if customers.has(column):
            cols.append(pl.col(column))
    if customers.has("points"):
        cols.append(tier_expr(pl.col("points"), ladder).alias("tier"))
    if customers.has("channel"):
        cols.append(pl.col("channel").alias("customer_channel"))
    return customers.valid.select(cols)


def _group(dimension: str, customers: Source | None) -> pl.Expr:
    if dimension == "channel":
        parts = [pl.col("channel")]
        if customers is not None and customers.has("channel"):
            parts.insert(0, pl.col("customer_channel"))
        return pl.coalesce(*parts, pl.lit(UNKNOWN))
    return pl.col(dimension).fill_null(UNKNOWN)


def _finish_groups(
    figures: pl.DataFrame, dims: Sequence[str], ladder: Ladder, months: float, cost_known: bool
) -> pl.DataFrame:
    parts = []
    for rank, d in enumerate(dims):
        part = figures.filter(pl.col("dimension") == d).drop("dimension")
        if d == "tier":
            levels = [name for name, _ in ladder] + [UNKNOWN]
            order = pl.DataFrame({"group": levels, "_order": list(range(len(levels)))})
            part = order.join(part, on="group", how="full", coalesce=True).with_columns(
                pl.col("customers", "orders").fill_null(0),
                pl.col("revenue", "costed_revenue").fill_null(0.0),
            )
            part = part.filter(
                (pl.col("group") != UNKNOWN) | (pl.col("orders") > 0)
            ).sort("_order").drop("_order")
        else:
            part = part.sort(
                pl.col("group") == UNKNOWN, "revenue", "group", descending=[False, True, False]
            )
        parts.append(part.with_columns(pl.lit(d).alias("dimension"), pl.lit(rank).alias("_dim")))
    out = pl.concat(parts, how="diagonal_relaxed")
    total = pl.col("revenue").sum().over("_dim")
    return out.select(
        "dimension",
        "group",
        "customers",
        "orders",
        money(pl.col("revenue")).alias("revenue"),
        pl.when(total != 0).then(pl.col("revenue") / total).otherwise(0.0).alias("revenue_share"),
        _money_or_null(pl.col("gross_profit"), cost_known).alias("gross_profit"),
        _margin(cost_known),
        money(_ratio(pl.col("revenue"), pl.col("orders"))).alias("aov"),
        _ratio(pl.col("orders"), pl.col("customers") * months).round(4).alias(
            "orders_per_customer_month"
        ),
        pl.col("skus_per_order").round(3),
    )


def _ratio(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(b != 0).then(a / b)


def _margin(cost_known: bool) -> pl.Expr:
    if not cost_known:
        return pl.lit(None, dtype=pl.Float64).alias("gross_margin")
    return _ratio(pl.col("gross_profit"), pl.col("costed_revenue")).alias("gross_margin")


def _compare(
    per_customer: pl.DataFrame,
    cost_known: bool,
    top: int,
    min_orders: int,
    max_median: float,
) -> tuple[pl.DataFrame, int]:
    """The key-accounts and sample-buyers rows, and how many customers are in both."""
    rank_by = "gross_profit" if cost_known else "revenue"
    key = per_customer.sort(
        [rank_by, "revenue", "customer_id"], descending=[True, True, False], nulls_last=True
    ).head(top)
    sample = per_customer.filter(
        (pl.col("orders") >= min_orders) & (pl.col("median_order_value") < max_median)
    )
    overlap = key.join(sample, on="customer_id", how="semi").height
    total_revenue = float(per_customer["revenue"].sum())
    total_gp = float(per_customer["gross_profit"].sum())
    definitions = {
        KEY_ACCOUNTS: f"top {top} customers by {rank_by.replace('_', ' ')}",
        SAMPLE_BUYERS: f">= {min_orders} orders and median order value < {max_median:g}",
    }
    rows = []
    for name, members in ((KEY_ACCOUNTS, key), (SAMPLE_BUYERS, sample)):
        rows.append(
            members.select(
                pl.lit(name).alias("group"),
                pl.lit(definitions[name]).alias("definition"),
                pl.len().cast(pl.Int64).alias("customers"),
                pl.col("orders").sum().cast(pl.Int64).alias("orders"),
                exact_sum(pl.col("revenue")).alias("revenue"),
                exact_sum(pl.col("gross_profit")).alias("gross_profit"),
                exact_sum(pl.col("costed_revenue")).alias("costed_revenue"),
                pl.col("skus").sum().alias("skus"),
                pl.col("orders_with_skus").sum().alias("orders_with_skus"),
            )
        )
    both = pl.concat(rows)
    return both.select(
        "group",
        "definition",
        "customers",
        "orders",
        money(pl.col("revenue")).alias("revenue"),
        (pl.col("revenue") / total_revenue if total_revenue else pl.lit(0.0)).alias(
            "revenue_share"
        ),
        _money_or_null(pl.col("gross_profit"), cost_known).alias("gross_profit"),
        (
            pl.col("gross_profit") / total_gp
            if cost_known and total_gp
            else pl.lit(None, dtype=pl.Float64)
        ).alias("gross_profit_share"),
        _margin(cost_known),
        money(_ratio(pl.col("revenue"), pl.col("orders"))).alias("aov"),
        _ratio(pl.col("orders"), pl.col("customers")).round(3).alias("orders_per_customer"),
        _ratio(pl.col("skus"), pl.col("orders_with_skus")).round(3).alias("skus_per_order"),
    ), overlap


def period_bounds(start: date, end: date) -> tuple[int, float]:
    """Days (both ends included) and months (days / 30.44) from ``start`` to ``end``."""
    days = (end - start).days + 1
    return days, days / DAYS_PER_MONTH
