"""ABC (Pareto) classes of customers by profit contribution, and loss-making customers.

Contribution of a customer over the analysed period:

* gross profit (毛利) of their paid orders, or revenue when the export has no ``cost``
  column (the output says which);
* minus the discounts the shop gave them, only with ``subtract_discounts``: the contract
  defines ``amount`` as paid *after* discounts, so gross profit already carries them, and
  subtracting them again would count every coupon twice. Use it when your ``amount`` is
  the price before a subsidy the shop pays separately;
* minus ``service_cost`` from the customers export, when it has that column.

Customers with a negative contribution are loss-making and reported apart; the others
are ranked by contribution (ties by customer id) and classed:

* ``method="share"`` (default, cutoffs 0.8 and 0.95): a customer is in A when the
  cumulative share of the customers ranked *above* them is below 0.8, in B when it is
  below 0.95, else in C. So the customer who crosses 80% is still in A, and A is the
  smallest set of top customers holding at least 80% of the positive contribution.
  Shares are of the total contribution of the classed (non-negative) customers.
* ``method="rank"`` (ranks 0.2 and 0.5): the first ceil(0.2 n) customers by rank are A,
  up to ceil(0.5 n) are B, the rest C.
* ``weights``: a score replaces the single measure for the ranking (then classes are by
  rank): the weighted sum of standardised factors (z-scores over the classed customers:
  ``gross_profit`` = the contribution, ``revenue``, ``orders``, ``recency`` = minus the
  days since the last order, ``margin`` = gross margin).

"B to A candidates" are the top 20% by growth of the class-B customers with a history:
at least ``min_orders`` orders (2) and a first order at least ``growth_days`` before the
analysis date (so a brand-new customer, whose growth is all of their first order, is not
one). Growth is the contribution in the last ``growth_days`` up to the analysis date minus
the contribution in the ``growth_days`` before.
A, B and C with the loss-making customers partition the customers who ordered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from ..errors import InvalidOptionError
from ..io.inputs import InputReport, Inputs, collect
from ..io.loader import Source
from ..io.orders import Period, has_cost, orders_frame
from ..money import exact_sum, money
from ..result import Result, Table

CLASSES = ("A", "B", "C")
FACTORS = ("gross_profit", "revenue", "orders", "recency", "margin")


PAIR_DEFAULTS = {"--cutoffs": "0.8,0.95", "--ranks": "0.2,0.5"}


def parse_pair(text: str, option: str) -> tuple[float, float]:
    """Parse ``0.8,0.95`` into two increasing fractions in (0, 1]."""
    example = PAIR_DEFAULTS.get(option, "0.8,0.95")
    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError:
        msg = f"{option} {text!r} must be two fractions, e.g. {example}"
        raise InvalidOptionError(msg, hint=f"{option} {example}") from None
    if not 0 < a < b <= 1:
        msg = f"{option} {text!r} must satisfy 0 < first < second <= 1"
        raise InvalidOptionError(msg, hint=f"{option} {example} (the default)")
    return a, b


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``gross_profit=0.6,orders=0.2,recency=0.2``."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in FACTORS:
            msg = f"--weight: unknown factor {name!r}"
            raise InvalidOptionError(msg, hint=f"factors: {', '.join(FACTORS)}")
        try:
            weights[name] = float(value)
        except ValueError:
            msg = f"--weight {part!r} needs a number after '='"
            raise InvalidOptionError(msg, hint="--weight gross_profit=0.6,orders=0.2") from None
    if not any(weights.values()):
        msg = "--weight needs at least one non-zero weight"
        raise InvalidOptionError(msg, hint="--weight gross_profit=0.6,orders=0.2,recency=0.2")
    return weights


@dataclass(frozen=True, kw_only=True)
class AbcResult(Result):
    """Classes, loss-making customers, B-to-A candidates and the member list."""

    command: ClassVar[str] = "segment abc"
    classes: pl.DataFrame
    loss_making: dict[str, Any]
    members: pl.DataFrame
    b_to_a: pl.DataFrame
    settings: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """``classes`` and ``loss_making`` per contract, plus candidates and settings."""
        return {
            "classes": self.classes,
            "loss_making": self.loss_making,
            "b_to_a_candidates": self.b_to_a,
            "settings": self.settings,
        }

    def tables(self) -> list[Table]:
        """Class summary, loss-making line, candidates."""
        loss = pl.DataFrame([{"class": "loss-making", **self.loss_making}])
        return [
            Table(
                "classes",
                "ABC classes by contribution",
                self.classes,
                money=("value",),
                shares=("value_share", "customer_share"),
                bar="value_share",
            ),
            Table("loss_making", "Loss-making customers", loss, money=("value",)),
            Table(
                "b_to_a",
                "B to A candidates (fastest growing B customers)",
                self.b_to_a,
                money=("contribution", "recent", "previous", "growth"),
            ),
        ]

    def export_table(self) -> pl.DataFrame:
        """One row per customer for the sales team."""
        return self.members

    def notes(self) -> list[str]:
        """Which measure was used, and how classes were cut."""
        s = self.settings
        notes = [f"Contribution = {s['contribution']}."]
        if "min_orders" in s:
            notes.append(
                f"B to A candidates: B customers with at least {s['min_orders']} orders, the "
                f"first at least {s['growth_days']} days ago; growth = the last "
                f"{s['growth_days']} days' contribution minus the {s['growth_days']} days before."
            )
        if s["measure"] == "revenue":
            notes.append("No cost column: contribution uses revenue instead of gross profit.")
        elif s.get("orders_without_cost"):
            notes.append(
                f"{s['orders_without_cost']} orders have a line without cost: their gross profit "
                "is unknown and adds 0 to their customer's contribution."
            )
        return notes


def classify_customers(inputs: Inputs, **options: Any) -> AbcResult:
    """Rank customers by contribution and class them A/B/C (see the module docstring).

    ``options`` are :func:`abc_plan`'s (period, method, cutoffs, ranks, weights,
    subtract_discounts, growth_days, min_orders).
    """
    plan = abc_plan(inputs, **options)
    (frame,), report = collect([plan.per_customer], plan.sources)
    return plan.finish(frame, report)


@dataclass(frozen=True)
class AbcPlan:
    """The per-customer contribution plan and what finishing it needs.

    Another analysis that wants the classes too (``cust clv``) collects ``per_customer``
    with its own plans, in one pass over the export, and calls :meth:`finish`.
    """

    per_customer: pl.LazyFrame
    sources: list[Source]
    method: str
    cutoffs: tuple[float, float]
    ranks: tuple[float, float]
    weights: dict[str, float] | None
    subtract_discounts: bool
    growth_days: int
    min_orders: int
    measure: str
    cost_known: bool
    service: bool

    def finish(self, frame: pl.DataFrame, report: InputReport) -> AbcResult:
        """Class the collected per-customer frame."""
        return _finish(self, frame, report)


def abc_plan(
    inputs: Inputs,
    *,
    period: Period | None = None,
    method: str = "share",
    cutoffs: tuple[float, float] = (0.8, 0.95),
    ranks: tuple[float, float] = (0.2, 0.5),
    weights: dict[str, float] | None = None,
    subtract_discounts: bool = False,
    growth_days: int = 90,
    min_orders: int = 2,
) -> AbcPlan:
    """The lazy per-customer contributions of :func:`classify_customers`, not collected."""
    if method not in ("share", "rank"):
        msg = f"--method {method!r} is not a method"
        raise InvalidOptionError(msg, hint="use --method share or --method rank")
    if growth_days < 1:
        msg = "--growth-days must be at least 1"
        raise InvalidOptionError(msg, hint="--growth-days 90")
    if min_orders < 1:
        msg = "--min-orders must be at least 1"
        raise InvalidOptionError(msg, hint="--min-orders 2")
    period = (period or Period()).ended_by_as_of()
    source = inputs.get("orders")
    customers = inputs.optional("customers")
    cost_known = has_cost(source)
    measure = "gross_profit" if cost_known else "revenue"
    orders = orders_frame(source, period)
    base = pl.col("gross_profit").fill_null(0.0) if cost_known else pl.col("value")
    if subtract_discounts:
        base = base - pl.col("discount")
    as_of = period.as_of_expr("order_time")
    orders = orders.with_columns(
        base.alias("contribution"),
        (as_of - pl.col("order_time").dt.date()).dt.total_days().alias("age_days"),
    ).filter(pl.col("age_days") >= 0)
    recent = pl.col("age_days") < growth_days
    previous = (pl.col("age_days") >= growth_days) & (pl.col("age_days") < 2 * growth_days)
    # The growth windows' contributions are columns summed by the group-by, not filters
    # inside the aggregation, which Polars evaluates group by group (slow on 1M customers).
    orders = orders.with_columns(
        pl.when(recent).then(pl.col("contribution")).otherwise(0.0).alias("recent"),
        pl.when(previous).then(pl.col("contribution")).otherwise(0.0).alias("previous"),
    )
    per_customer = orders.group_by("customer_id").agg(
        exact_sum(pl.col("contribution")).alias("contribution"),
        exact_sum(pl.col("value")).alias("revenue"),
        exact_sum(pl.col("gross_profit")).alias("gross_profit"),
        pl.len().alias("orders"),
        pl.col("age_days").min().alias("days_since_last"),
        pl.col("age_days").max().alias("days_since_first"),
        exact_sum(pl.col("recent")).alias("recent"),
        exact_sum(pl.col("previous")).alias("previous"),
        pl.col("gross_profit").is_null().sum().alias("orders_without_cost"),
    )
    service = customers if customers is not None and customers.has("service_cost") else None
    if service is not None:
        costs = service.valid.group_by("customer_id").agg(
            exact_sum(pl.col("service_cost")).alias("service_cost")
        )
        per_customer = per_customer.join(costs, on="customer_id", how="left").with_columns(
            pl.col("contribution") - pl.col("service_cost").fill_null(0.0)
        )
    sources = [source] + ([service] if service is not None else [])
    return AbcPlan(per_customer, sources, method, cutoffs, ranks, weights, subtract_discounts,
                   growth_days, min_orders, measure, cost_known, service is not None)


def _finish(plan: AbcPlan, frame: pl.DataFrame, report: InputReport) -> AbcResult:
    method, cutoffs, ranks, weights = plan.method, plan.cutoffs, plan.ranks, plan.weights
    subtract_discounts, growth_days = plan.subtract_discounts, plan.growth_days
    min_orders = plan.min_orders
    measure, cost_known, service = plan.measure, plan.cost_known, plan.service
    # Money sums are exact (money.py), and ranked by their value to the cent, so ties rank
    # the same (by customer id) on every run.
    frame = frame.with_columns(money(pl.col(c)).alias(c) for c in (
        "contribution", "recent", "previous"))
    members = _classify(frame, method, cutoffs, ranks, weights)
    classes, loss = _summaries(members)
    b_to_a = _b_to_a(members, growth_days=growth_days, min_orders=min_orders)
    parts = [measure.replace("_", " ")]
    if subtract_discounts:
        parts.append("discounts")
    if service:
        parts.append("service cost")
    settings = {
        "measure": measure,
        "contribution": " minus ".join(parts),
        "method": "rank" if weights else method,
        "cutoffs": list(cutoffs),
        "ranks": list(ranks),
        "weights": weights or {},
        "subtract_discounts": subtract_discounts,
        "growth_days": growth_days,
        "min_orders": min_orders,
        # Orders with a line without cost: their gross profit is unknown and adds 0.
        "orders_without_cost": int(frame["orders_without_cost"].sum()) if cost_known else None,
    }
    export = members.select(
        "customer_id",
        "class",
        money(pl.col("contribution")).alias("contribution"),
        "rank",
        "cumulative_share",
        *(["score"] if weights else []),
        "orders",
        money(pl.col("revenue")).alias("revenue"),
    )
    return AbcResult(
        input=report,
        classes=classes,
        loss_making=loss,
        members=export,
        b_to_a=b_to_a,
        settings=settings,
    )


def _ceil(fraction: float, n: int) -> int:
    return math.ceil(round(fraction * n, 9))


def _classify(
    frame: pl.DataFrame,
    method: str,
    cutoffs: tuple[float, float],
    ranks: tuple[float, float],
    weights: dict[str, float] | None,
) -> pl.DataFrame:
    """Add ``rank``, ``cumulative_share``, ``class`` (and ``score``) per customer."""
    loss = frame.filter(pl.col("contribution") < 0)
    ranked = frame.filter(pl.col("contribution") >= 0)
    if weights:
        factors = {
            "gross_profit": pl.col("contribution"),
            "revenue": pl.col("revenue"),
            "orders": pl.col("orders").cast(pl.Float64),
            "recency": -pl.col("days_since_last").cast(pl.Float64),
            "margin": pl.when(pl.col("revenue") != 0)
            .then(pl.col("gross_profit") / pl.col("revenue"))
            .otherwise(0.0),
        }
        score = pl.sum_horizontal(w * _zscore(factors[name]) for name, w in weights.items() if w)
        ranked = ranked.with_columns(score.alias("score")).sort(
            ["score", "customer_id"], descending=[True, False]
        )
    else:
        ranked = ranked.sort(["contribution", "customer_id"], descending=[True, False])
    n = ranked.height
    total = ranked["contribution"].sum()
    ranked = ranked.with_columns(
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("rank"),
        (pl.col("contribution").cum_sum() / total if total else pl.lit(0.0)).alias(
            "cumulative_share"
        ),
    )
    before = pl.col("cumulative_share") - (pl.col("contribution") / total if total else 0.0)
    if method == "share" and not weights:
        cls = (
            pl.when(before < cutoffs[0] - 1e-12)
            .then(pl.lit("A"))
            .when(before < cutoffs[1] - 1e-12)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
        )
        if not total:  # nobody contributes anything: no Pareto head to speak of
            cls = pl.lit("C")
    else:
        a, b = _ceil(ranks[0], n), _ceil(ranks[1], n)
        cls = (
            pl.when(pl.col("rank") <= a)
            .then(pl.lit("A"))
            .when(pl.col("rank") <= b)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
        )
    ranked = ranked.with_columns(cls.alias("class"))
    loss = loss.sort(["contribution", "customer_id"]).with_columns(
        pl.lit("loss").alias("class"),
        pl.lit(None, dtype=pl.Int64).alias("rank"),
        pl.lit(None, dtype=pl.Float64).alias("cumulative_share"),
        *([pl.lit(None, dtype=pl.Float64).alias("score")] if weights else []),
    )
    return pl.concat([ranked, loss.select(ranked.columns)], how="vertical")


def _zscore(expr: pl.Expr) -> pl.Expr:
    std = expr.std(ddof=0)
    return pl.when(std > 0).then((expr - expr.mean()) / std).otherwise(0.0)


def _summaries(members: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    classed = members.filter(pl.col("class") != "loss")
    total = classed["contribution"].sum()
    n = classed.height
    grid = pl.DataFrame({"class": list(CLASSES)})
    classes = grid.join(
        classed.group_by("class").agg(
            pl.len().alias("customers"), exact_sum(pl.col("contribution")).alias("value")
        ),
        on="class",
        how="left",
    ).with_columns(pl.col("customers").fill_null(0).cast(pl.Int64), pl.col("value").fill_null(0.0))
    classes = classes.with_columns(
        (pl.col("value") / total if total else pl.lit(0.0)).alias("value_share"),
        (pl.col("customers") / n if n else pl.lit(0.0)).alias("customer_share"),
        money(pl.col("value")).alias("value"),
    )
    losers = members.filter(pl.col("class") == "loss")
    value = losers.select(money(exact_sum(pl.col("contribution")))).item()
    loss = {"customers": losers.height, "value": value}
    return classes, loss


def _b_to_a(members: pl.DataFrame, *, growth_days: int, min_orders: int) -> pl.DataFrame:
    b = members.filter(
        (pl.col("class") == "B")
        & (pl.col("orders") >= min_orders)
        & (pl.col("days_since_first") >= growth_days)
    ).with_columns(
        (pl.col("recent") - pl.col("previous")).alias("growth")
    )
    top = _ceil(0.2, b.height)
    return (
        b.sort(["growth", "customer_id"], descending=[True, False])
        .head(top)
        .select(
            "customer_id",
            *(money(pl.col(c)).alias(c) for c in ("contribution", "recent", "previous", "growth")),
        )
    )
