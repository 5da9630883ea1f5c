"""Order-value bands (订单金额区间): how orders, customers, revenue and profit spread.

Definition (CONTRACT.md section 3, Buckets): with edges ``e0 < e1 < ... < ek`` band ``i``
holds the orders with ``e_i <= value < e_{i+1}``; the last band holds ``value >= e_k``.
Per band: ``orders``, ``customers`` (distinct customers with at least one order in the
band), ``revenue`` (sum of order values), ``gross_profit``, ``order_share`` and
``revenue_share`` (of all banded orders), plus average lines and units per order.
Orders below ``e0`` belong to no band and are counted apart (``unbanded_orders``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from .. import calendar
from ..errors import InvalidOptionError
from ..io.inputs import Inputs, collect
from ..io.orders import Period, has_cost, orders_frame
from ..money import exact_sum, money, round_money
from ..result import Result, Table

DEFAULT_EDGES = (0.0, 50.0, 100.0, 500.0, 1000.0, 5000.0)
TRENDS = ("month", "week")


def parse_edges(text: str) -> tuple[float, ...]:
    """Parse ``0,50,100`` into strictly increasing, finite edges from 0 up.

    A negative edge is refused: a band of negative order values (refund adjustments) would
    make the revenue shares leave [0, 1]; such orders are counted as below the first edge.
    """
    try:
        edges = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        msg = f"--edges {text!r} must be numbers separated by commas"
        raise InvalidOptionError(msg, hint="--edges 0,50,100,500,1000,5000") from None
    if not all(math.isfinite(e) for e in edges):
        msg = f"--edges {text!r} must be finite amounts (not nan or inf)"
        raise InvalidOptionError(msg, hint="the last band is open: --edges 0,50,100,500,1000,5000")
    if edges and edges[0] < 0:
        msg = f"--edges {text!r} starts below 0"
        raise InvalidOptionError(
            msg, hint="orders of negative value are counted below the first edge; start at 0")
    if not edges or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        msg = f"--edges {text!r} must be strictly increasing"
        raise InvalidOptionError(msg, hint="--edges 0,50,100,500,1000,5000")
    return edges


def _fmt(x: float) -> str:
    return f"{x:g}" if x != int(x) else f"{int(x)}"


def band_labels(edges: tuple[float, ...]) -> list[str]:
    """``0-50``, ``50-100``, ..., ``5000+``."""
    labels = [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(edges, edges[1:], strict=False)]
    return [*labels, f"{_fmt(edges[-1])}+"]


def band_expr(value: pl.Expr, edges: tuple[float, ...]) -> pl.Expr:
    """Index of the band of ``value`` (0-based), or null below the first edge."""
    index = pl.lit(None, dtype=pl.Int32)
    for i, edge in enumerate(edges):
        index = pl.when(value >= edge).then(pl.lit(i, dtype=pl.Int32)).otherwise(index)
    return index


def bands_frame(edges: tuple[float, ...]) -> pl.DataFrame:
    """One row per band: ``band``, ``label``, ``lower``, ``upper`` (null when open)."""
    return pl.DataFrame(
        {
            "band": list(range(len(edges))),
            "label": band_labels(edges),
            "lower": list(edges),
            "upper": [*edges[1:], None],
        },
        schema={"band": pl.Int32, "label": pl.String, "lower": pl.Float64, "upper": pl.Float64},
    )


def band_figures(orders: pl.LazyFrame, edges: tuple[float, ...], by: list[str]) -> pl.LazyFrame:
    """Per band (and per ``by`` group): orders, customers, revenue, gross profit, averages."""
    return (
        orders.with_columns(band_expr(pl.col("value"), edges).alias("band"))
        .filter(pl.col("band").is_not_null())
        .group_by(*by, "band")
        .agg(
            pl.len().alias("orders"),
            pl.col("customer_id").n_unique().alias("customers"),
            exact_sum(pl.col("value")).alias("revenue"),
            exact_sum(pl.col("gross_profit")).alias("gross_profit"),
            # The value of the orders whose gross profit is known: the margin's denominator.
            exact_sum(pl.when(pl.col("gross_profit").is_not_null()).then(pl.col("value")))
            .alias("revenue_with_cost"),
            pl.col("lines").mean().alias("avg_lines"),
            pl.col("units").mean().alias("avg_units"),
        )
    )


@dataclass(frozen=True, kw_only=True)
class BucketsResult(Result):
    """Order-value bands, optionally with their trend over time."""

    command: ClassVar[str] = "segment buckets"
    buckets: pl.DataFrame
    trend: pl.DataFrame | None
    totals: dict[str, Any]
    cost_known: bool

    def payload(self) -> dict[str, Any]:
        """``buckets`` as in the contract, ``totals``, and ``trend`` when asked."""
        doc: dict[str, Any] = {"buckets": self.buckets, "totals": self.totals}
        if self.trend is not None:
            doc["trend"] = self.trend
        return doc

    def tables(self) -> list[Table]:
        """The bands, then the trend."""
        shown = self.buckets.drop("lower", "upper")
        tables = [
            Table(
                "buckets",
                "Order-value bands (订单金额区间)",
                shown,
                money=("revenue", "gross_profit"),
                shares=("order_share", "revenue_share", "gross_margin"),
                bar="order_share",
            )
        ]
        if self.trend is not None:
            tables.append(
                Table(
                    "trend",
                    "Band mix by period",
                    self.trend,
                    money=("revenue",),
                    # The change of the order share, in percentage points (was 0.05 under %).
                    shares=("order_share", "revenue_share", "order_share_change"),
                )
            )
        return tables

    def notes(self) -> list[str]:
        """Caveats: no cost column, orders below the first edge, no orders at all."""
        notes = []
        if not self.totals["orders"] and not self.totals["unbanded_orders"]:
            notes.append("No paid orders in the selected period: every figure is 0.")
        if not self.cost_known:
            notes.append("The orders export has no cost column: gross profit is not available.")
        elif self.totals.get("orders_without_cost"):
            notes.append(
                f"{self.totals['orders_without_cost']} orders have a line without cost; "
                "their gross profit is left out of gross_profit."
            )
        if self.totals.get("unbanded_orders"):
            notes.append(
                f"{self.totals['unbanded_orders']} orders are below the first edge and in no band."
            )
        return notes


def bucket_orders(
    inputs: Inputs,
    *,
    edges: tuple[float, ...] = DEFAULT_EDGES,
    period: Period | None = None,
    trend: str | None = None,
) -> BucketsResult:
    """Spread paid orders over order-value bands (see the module docstring)."""
    source = inputs.get("orders")
    orders = orders_frame(source, (period or Period()).ended_by_as_of()).cache()
    per_band = band_figures(orders, edges, [])
    # Totals of the banded orders, like the bands' figures and shares; the orders below the
    # first edge are counted apart.
    banded = pl.col("value") >= edges[0]
    totals_plan = orders.select(
        pl.col("customer_id").filter(banded).n_unique().alias("customers"),
        exact_sum(pl.col("value").filter(banded)).alias("revenue"),
        exact_sum(pl.col("gross_profit").filter(banded)).alias("gross_profit"),
        (~banded).sum().alias("unbanded_orders"),
        exact_sum(pl.col("value").filter(~banded)).alias("unbanded_revenue"),
        (pl.col("gross_profit").is_null() & banded).sum().alias("orders_without_cost"),
        pl.col("order_time").min().alias("first_order_time"),
        pl.col("order_time").max().alias("last_order_time"),
    )
    plans = [per_band, totals_plan]
    if trend is not None:
        if trend not in TRENDS:
            msg = f"--trend {trend!r} is not a period"
            raise InvalidOptionError(msg, hint="use --trend month or --trend week")
        with_period = orders.with_columns(
            calendar.start_expr(trend, pl.col("order_time")).alias("period")
        )
        plans.append(band_figures(with_period, edges, ["period"]))
    frames, report = collect(plans, [source])
    cost_known = has_cost(source)
    buckets = _finish(bands_frame(edges), frames[0], cost_known)
    tot = frames[1].row(0, named=True)
    banded_orders = int(buckets["orders"].sum())
    totals = {
        "orders": banded_orders,
        "customers": int(tot["customers"]),
        "revenue": round_money(float(tot["revenue"] or 0.0)),
        "gross_profit": round_money(float(tot["gross_profit"])) if cost_known else None,
        "unbanded_orders": int(tot["unbanded_orders"]),
        "unbanded_revenue": round_money(float(tot["unbanded_revenue"] or 0.0)),
        "orders_without_cost": int(tot["orders_without_cost"]) if cost_known else None,
        "first_order_time": tot["first_order_time"],
        "last_order_time": tot["last_order_time"],
    }
    trend_frame = _trend(frames[2], edges) if trend is not None else None
    return BucketsResult(
        input=report, buckets=buckets, trend=trend_frame, totals=totals, cost_known=cost_known
    )


def _finish(bands: pl.DataFrame, figures: pl.DataFrame, cost_known: bool) -> pl.DataFrame:
    out = bands.join(figures, on="band", how="left").with_columns(
        pl.col("orders", "customers").fill_null(0).cast(pl.Int64),
        pl.col("revenue").fill_null(0.0),
        (
            pl.col("gross_profit").fill_null(0.0)
            if cost_known
            else pl.lit(None, dtype=pl.Float64).alias("gross_profit")
        ),
    )
    total_orders = out["orders"].sum()
    total_revenue = out["revenue"].sum()
    return out.select(
        "label",
        "lower",
        "upper",
        "orders",
        "customers",
        money(pl.col("revenue")).alias("revenue"),
        money(pl.col("gross_profit")).alias("gross_profit"),
        (pl.col("orders") / total_orders if total_orders else pl.lit(0.0)).alias("order_share"),
        (pl.col("revenue") / total_revenue if total_revenue else pl.lit(0.0)).alias(
            "revenue_share"
        ),
        # Over the orders with a known gross profit only: an order without cost adds its
        # value to revenue but nothing to gross profit, and would dilute the margin.
        pl.when(pl.col("revenue_with_cost") != 0)
        .then(pl.col("gross_profit") / pl.col("revenue_with_cost"))
        .alias("gross_margin"),
        pl.col("avg_lines").round(3),
        pl.col("avg_units").round(3),
    )


def _trend(figures: pl.DataFrame, edges: tuple[float, ...]) -> pl.DataFrame:
    """Per period and band: orders, revenue, shares, and the share change vs the period before."""
    bands = bands_frame(edges).select("band", "label")
    periods = figures.select("period").unique().sort("period")
    grid = periods.join(bands, how="cross")
    out = grid.join(figures, on=["period", "band"], how="left").with_columns(
        pl.col("orders").fill_null(0).cast(pl.Int64), pl.col("revenue").fill_null(0.0)
    )
    out = out.with_columns(
        (pl.col("orders") / pl.col("orders").sum().over("period")).alias("order_share"),
        (pl.col("revenue") / pl.col("revenue").sum().over("period")).alias("revenue_share"),
    ).sort("period", "band")
    return out.with_columns(
        (
            pl.col("order_share") - pl.col("order_share").shift(1).over("band", order_by="period")
        ).alias("order_share_change"),
    ).select(
        "period",
        "label",
        "orders",
        money(pl.col("revenue")).alias("revenue"),
        "order_share",
        "revenue_share",
        "order_share_change",
    )
