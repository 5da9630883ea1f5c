"""New-customer cohorts: retention by period of the first paid order, and offer payback.

Definitions (CONTRACT.md section 3):

- A customer's **cohort** is the period (calendar month, or ISO week starting Monday) of
  their first paid order in the whole export. A first order that was refunded or cancelled
  is not an order, so the cohort is that of the first *paid* order. ``--since``/``--until``
  choose which cohorts are shown; they do not move a customer's first order.
- The **period index** ``k`` of an order is the number of whole periods between the cohort
  period and the order's period (months: ``12 * years + months``; weeks: days / 7).
- ``active[k]`` = distinct cohort customers with a paid order in period ``k``;
  ``retention[k] = active[k] / size`` (so ``retention[0] = 1``). With ``--cumulative`` a
  customer counts as active in ``k`` when they order in ``k`` *or later* ("on or after").
- A period is **complete** when it ends on or before the analysis date (``--as-of``, else
  the date of the last paid order); orders after the analysis date are left out. Periods
  that start after the analysis date are not listed.
- ``--metric revenue|gross_profit`` adds, per ``k``, the cohort's order value or gross profit
  in that period and its ratio to period 0.

Offer payback. A customer *took the offer* when their first paid order carries the
``first_order`` promo (``--offer promo``, the default when the export has a promo column) or
any discount (``--offer discount``, the default otherwise), or either (``--offer either``).
The offer's cost is the discount on those first orders. ``amount`` is paid after discounts
(contract), so the first orders' gross profit is already net of the offer. The question the
operators ask is whether the customers who *stay* earn the offer back: per cohort and group,
``repeat_gross_profit[k]`` is the cumulative gross profit of every order after each
customer's first one, up to period ``k``, and ``payback_period`` is the first ``k`` where it
covers the offer's cost (null while it has not; only for the offer group).
``cumulative_gross_profit[k]`` includes the first orders too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import polars as pl

from .errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from .inputs import Inputs, collect
from .orders import Period, has_cost, orders_frame
from .result import Result, Table

PERIODS = ("month", "week")
METRICS = ("customers", "revenue", "gross_profit")
OFFERS = ("promo", "discount", "either")
SPLITS = ("promo", "channel", "customer_type", "industry")
OFFER, NO_OFFER = "offer", "no_offer"
# Days to the second order, in bands a campaign planner uses.
SECOND_ORDER_BANDS = ((0, 7, "0-7 days"), (8, 30, "8-30 days"), (31, 90, "31-90 days"))


def _index(period: str, start: pl.Expr, when: pl.Expr) -> pl.Expr:
    """Whole periods from the period starting ``start`` to the period starting ``when``."""
    if period == "month":
        return (when.dt.year() - start.dt.year()) * 12 + (
            when.dt.month().cast(pl.Int32) - start.dt.month().cast(pl.Int32)
        )
    return ((when - start).dt.total_days() // 7).cast(pl.Int32)


def _truncate(period: str, expr: pl.Expr) -> pl.Expr:
    return expr.dt.truncate("1mo" if period == "month" else "1w").dt.date()


def _shift(period: str, start: date, k: int) -> date:
    """The first day of the period ``k`` periods after the one starting on ``start``."""
    if period == "week":
        return start + timedelta(weeks=k)
    months = start.year * 12 + start.month - 1 + k
    return date(months // 12, months % 12 + 1, 1)


def _label(period: str, start: date) -> str:
    if period == "month":
        return start.strftime("%Y-%m")
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True, kw_only=True)
class CohortResult(Result):
    """The retention matrix, its split, one-and-done figures and the offer's payback."""

    command: ClassVar[str] = "cohort"
    period: str
    metric: str
    cumulative: bool
    offer_rule: str
    as_of: date
    cohorts: list[dict[str, Any]]
    splits: list[dict[str, Any]]
    split_by: str | None
    payback: list[dict[str, Any]]
    second_order: dict[str, Any]
    cost_known: bool
    discount_known: bool

    def payload(self) -> dict[str, Any]:
        """``cohorts`` as in the contract, then splits, payback and second-order timing."""
        doc: dict[str, Any] = {
            "period": self.period,
            "as_of": self.as_of,
            "cumulative": self.cumulative,
            "metric": self.metric,
            "cohorts": self.cohorts,
        }
        if self.split_by:
            doc["split_by"] = self.split_by
            doc["splits"] = self.splits
        doc["offer_rule"] = self.offer_rule
        doc["payback"] = self.payback
        doc["second_order"] = self.second_order
        return doc

    def tables(self) -> list[Table]:
        """Retention heatmap (one column per period index), payback, second orders."""
        width = max((len(c["retention"]) for c in self.cohorts), default=0)
        rows = []
        for c in self.cohorts:
            row: dict[str, Any] = {"cohort": c["cohort"], "size": c["size"]}
            row["one_order_share"] = c["one_order_share"]
            for k in range(width):
                ret = c["retention"]
                value = ret[k] if k < len(ret) else None
                mark = "" if k >= len(ret) or c["complete"][k] else "*"
                row[f"m{k}" if self.period == "month" else f"w{k}"] = (
                    None if value is None else f"{value:.1%}{mark}"
                )
            rows.append(row)
        heat = pl.DataFrame(rows) if rows else pl.DataFrame({"cohort": []})
        payback = pl.DataFrame(
            [
                {
                    "cohort": p["cohort"],
                    "group": p["group"],
                    "customers": p["customers"],
                    "offer_cost": p["offer_cost"],
                    "repeat_gross_profit": p["repeat_gross_profit"][-1]
                    if p["repeat_gross_profit"]
                    else None,
                    "payback_period": p["payback_period"],
                }
                for p in self.payback
            ]
        ) if self.payback else pl.DataFrame({"cohort": []})
        tables = [
            Table("cohorts", "Retention by cohort (* = period not complete)", heat,
                  shares=("one_order_share",)),
        ]
        if self.split_by:
            split_rows = [
                {
                    "cohort": s["cohort"],
                    self.split_by: s["group"],
                    "size": s["size"],
                    "retention_1": s["retention"][1] if len(s["retention"]) > 1 else None,
                    "retention_last": s["retention"][-1],
                }
                for s in self.splits
            ]
            tables.append(
                Table("splits", f"Retention by {self.split_by}", pl.DataFrame(split_rows),
                      shares=("retention_1", "retention_last"))
            )
        tables.append(
            Table(
                "payback",
                "First-order offer: its cost and the gross profit of later orders",
                payback,
                money=("offer_cost", "repeat_gross_profit"),
            )
        )
        return tables

    def notes(self) -> list[str]:
        """How the offer is recognised, missing columns, and the incomplete marker."""
        notes = [f"Offer customers: first paid order {self.offer_rule}."]
        if not self.cost_known:
            notes.append("No cost column: gross profit and payback are not available.")
        if not self.discount_known:
            notes.append("No discount column: the offer's cost is taken as 0.")
        notes.append(f"Periods ending after {self.as_of} are marked incomplete.")
        return notes


def cohort_retention(
    inputs: Inputs,
    *,
    period: Period | None = None,
    unit: str = "month",
    max_periods: int | None = None,
    metric: str = "customers",
    cumulative: bool = False,
    split: str | None = None,
    offer: str | None = None,
) -> CohortResult:
    """Retention by cohort, one-and-done share, days to second order, offer payback.

    Raises
    ------
    InvalidOptionError
        An unknown period, metric, split or offer rule, or ``max_periods < 1``.
    MissingColumnError
        ``metric="gross_profit"`` without cost, or a split that needs a missing column.
    EmptySelectionError
        No paid order (before ``--as-of``) in the selected cohorts.
    """
    period = period or Period()
    _check_choice("--period", unit, PERIODS)
    _check_choice("--metric", metric, METRICS)
    if split is not None:
        _check_choice("--split", split, SPLITS)
    if max_periods is not None and max_periods < 1:
        msg = f"--max-periods {max_periods} is below 1"
        raise InvalidOptionError(msg, hint="give a whole number of periods, e.g. --max-periods 12")
    source = inputs.get("orders")
    cost_known, discount_known = has_cost(source), source.has("discount")
    if metric == "gross_profit" and not cost_known:
        msg = "--metric gross_profit needs a cost column in the orders export"
        raise MissingColumnError(msg, hint="map it with --map cost=<header> (成本)")
    offer = offer or ("promo" if source.has("promo") else "discount")
    _check_choice("--offer", offer, OFFERS)
    offer_rule = {
        "promo": "carries the first_order promo",
        "discount": "has a discount",
        "either": "carries the first_order promo or has a discount",
    }[offer]

    orders = orders_frame(source, None)
    as_of = period.as_of_expr("order_time")
    orders = orders.filter(pl.col("order_time").dt.date() <= as_of).cache()
    firsts = (
        orders.sort("order_time", "order_id")
        .group_by("customer_id")
        .agg(
            pl.col("order_time").first().alias("first_time"),
            pl.col("order_time").get(1, null_on_oob=True).alias("second_time"),
            pl.len().alias("orders"),
            pl.col("first_order_promo").first().alias("first_promo"),
            pl.col("discount").first().alias("first_discount"),
            pl.col("channel").first().alias("first_channel"),
            pl.col("gross_profit").first().alias("first_gross_profit"),
        )
        .with_columns(_truncate(unit, pl.col("first_time")).alias("cohort"))
        .filter(period.filter("first_time"))
    )
    took = {
        "promo": pl.col("first_promo"),
        "discount": pl.col("first_discount") > 0,
        "either": pl.col("first_promo") | (pl.col("first_discount") > 0),
    }[offer]
    firsts = firsts.with_columns(
        pl.when(took.fill_null(False)).then(pl.lit(OFFER)).otherwise(pl.lit(NO_OFFER))
        .alias("offer_group"),
        pl.when(took.fill_null(False)).then(pl.col("first_discount")).otherwise(0.0)
        .alias("offer_cost"),
    )
    sources = [source]
    group_expr = _group_expr(split, inputs, sources)
    if split in ("customer_type", "industry"):
        customers = inputs.get("customers")
        attrs = customers.valid.select("customer_id", split).unique("customer_id", keep="first")
        firsts = firsts.join(attrs, on="customer_id", how="left")
    firsts = firsts.with_columns(group_expr.alias("group")).cache()

    dated = orders.join(
        firsts.select("customer_id", "cohort", "group"), on="customer_id", how="inner"
    ).with_columns(
        _index(unit, pl.col("cohort"), _truncate(unit, pl.col("order_time"))).alias("k")
    ).cache()
    cells = dated.group_by("cohort", "group", "k").agg(
        pl.col("customer_id").n_unique().alias("active"),
        pl.col("value").sum().alias("revenue"),
        pl.col("gross_profit").sum().alias("gross_profit"),
    )
    last_k = dated.group_by("customer_id").agg(
        pl.col("cohort").first(), pl.col("group").first(), pl.col("k").max().alias("last_k")
    ).group_by("cohort", "group", "last_k").agg(pl.len().alias("customers"))
    sizes = firsts.group_by("cohort", "group", "offer_group").agg(
        pl.len().alias("size"),
        (pl.col("orders") == 1).sum().alias("one_order"),
        pl.col("offer_cost").sum().alias("offer_cost"),
        pl.col("first_gross_profit").sum().alias("first_gross_profit"),
    )
    gp_by_offer = dated.join(
        firsts.select("customer_id", "offer_group"), on="customer_id"
    ).group_by("cohort", "offer_group", "k").agg(pl.col("gross_profit").sum())
    # Calendar days, as people count them: Monday evening to Tuesday morning is 1 day.
    days = (pl.col("second_time").dt.date() - pl.col("first_time").dt.date()).dt.total_days()
    second = firsts.select(
        pl.len().alias("customers"),
        pl.col("second_time").is_not_null().sum().alias("with_second"),
        days.median().alias("median_days"),
        days.quantile(0.25, "nearest").alias("p25_days"),
        days.quantile(0.75, "nearest").alias("p75_days"),
        *[days.is_between(lo, hi).sum().alias(name) for lo, hi, name in SECOND_ORDER_BANDS],
        (days > SECOND_ORDER_BANDS[-1][1]).sum().alias("over_90"),
    )
    as_of_frame = orders.select(as_of.alias("as_of"))
    frames, report = collect(
        [cells, last_k, sizes, gp_by_offer, second, as_of_frame], sources
    )
    cells_df, last_df, sizes_df, gp_df, second_df, as_of_df = frames
    if sizes_df.height == 0 or as_of_df["as_of"][0] is None:
        msg = "no paid order in the selected cohorts"
        raise EmptySelectionError(
            msg, hint="check --since/--until/--as-of against the order dates (cust check)"
        )
    end: date = as_of_df["as_of"][0]
    grid = _Grid(unit, end, max_periods)
    cohorts = grid.rows(cells_df, last_df, sizes_df, metric, cumulative, by_group=False)
    splits = (
        grid.rows(cells_df, last_df, sizes_df, metric, cumulative, by_group=True)
        if split else []
    )
    payback = grid.payback(gp_df, sizes_df) if cost_known else []
    return CohortResult(
        input=report,
        period=unit,
        metric=metric,
        cumulative=cumulative,
        offer_rule=offer_rule,
        as_of=end,
        cohorts=cohorts,
        splits=splits,
        split_by=split,
        payback=payback,
        second_order=_second_order(second_df),
        cost_known=cost_known,
        discount_known=discount_known,
    )


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        msg = f"{option} {value!r} is not one of {', '.join(choices)}"
        raise InvalidOptionError(msg, hint=f"use {option} {choices[0]}")


def _group_expr(split: str | None, inputs: Inputs, sources: list) -> pl.Expr:
    if split is None:
        return pl.lit("all")
    if split == "promo":
        return pl.col("offer_group")
    if split == "channel":
        return pl.col("first_channel").fill_null("unknown")
    customers = inputs.optional("customers")
    if customers is None or not customers.has(split):
        msg = f"--split {split} needs a customers export with a {split} column"
        raise MissingColumnError(msg, hint="give it with --customers customers.csv")
    sources.append(customers)
    return pl.col(split).fill_null("unknown")


class _Grid:
    """Turns the small aggregated frames into per-cohort lists over period indexes."""

    def __init__(self, unit: str, end: date, max_periods: int | None) -> None:
        self.unit, self.end, self.max_periods = unit, end, max_periods

    def indexes(self, cohort: date) -> list[int]:
        """Period indexes whose period starts on or before the analysis date."""
        ks, k = [], 0
        while _shift(self.unit, cohort, k) <= self.end:
            ks.append(k)
            k += 1
            if self.max_periods is not None and k >= self.max_periods:
                break
        return ks

    def complete(self, cohort: date, k: int) -> bool:
        """The period ends (its last day) on or before the analysis date."""
        return _shift(self.unit, cohort, k + 1) - timedelta(days=1) <= self.end

    def rows(
        self,
        cells: pl.DataFrame,
        last: pl.DataFrame,
        sizes: pl.DataFrame,
        metric: str,
        cumulative: bool,
        *,
        by_group: bool,
    ) -> list[dict[str, Any]]:
        keys = ["cohort", "group"] if by_group else ["cohort"]
        size_df = sizes.group_by(keys).agg(pl.col("size").sum(), pl.col("one_order").sum())
        cell = {
            (tuple(r[k] for k in keys), r["k"]): r
            for r in cells.group_by([*keys, "k"])
            .agg(pl.col("active").sum(), pl.col("revenue").sum(), pl.col("gross_profit").sum())
            .to_dicts()
        }
        lasts: dict[tuple, dict[int, int]] = {}
        for r in last.group_by([*keys, "last_k"]).agg(pl.col("customers").sum()).to_dicts():
            lasts.setdefault(tuple(r[k] for k in keys), {})[r["last_k"]] = r["customers"]
        out = []
        for r in size_df.sort(keys).to_dicts():
            key = tuple(r[k] for k in keys)
            ks = self.indexes(r["cohort"])
            if cumulative:
                tail = lasts.get(key, {})
                active = [sum(n for lk, n in tail.items() if lk >= k) for k in ks]
            else:
                active = [cell[(key, k)]["active"] if (key, k) in cell else 0 for k in ks]
            row: dict[str, Any] = {"cohort": _label(self.unit, r["cohort"])}
            if by_group:
                row["group"] = r["group"]
            row.update(
                cohort_start=r["cohort"],
                size=r["size"],
                active=active,
                retention=[a / r["size"] for a in active],
                complete=[self.complete(r["cohort"], k) for k in ks],
                one_order_share=r["one_order"] / r["size"],
            )
            if metric != "customers":
                amounts = [
                    round(cell[(key, k)][metric] or 0.0, 2) if (key, k) in cell else 0.0
                    for k in ks
                ]
                row[metric] = amounts
                base = amounts[0] if amounts else 0.0
                row[f"{metric}_retention"] = [a / base if base else None for a in amounts]
            out.append(row)
        return out

    def payback(self, gp: pl.DataFrame, sizes: pl.DataFrame) -> list[dict[str, Any]]:
        per = {
            (r["cohort"], r["offer_group"], r["k"]): r["gross_profit"] or 0.0
            for r in gp.to_dicts()
        }
        groups = sizes.group_by("cohort", "offer_group").agg(
            pl.col("size").sum(), pl.col("offer_cost").sum(), pl.col("first_gross_profit").sum()
        )
        out = []
        for r in groups.sort("cohort", "offer_group").to_dicts():
            ks = self.indexes(r["cohort"])
            running, cum = 0.0, []
            for k in ks:
                running += per.get((r["cohort"], r["offer_group"], k), 0.0)
                cum.append(round(running, 2))
            cost = round(r["offer_cost"] or 0.0, 2)
            first = r["first_gross_profit"] or 0.0
            repeat = [round(c - first, 2) for c in cum]
            payback = next((k for k, g in zip(ks, repeat, strict=True) if g >= cost), None)
            out.append(
                {
                    "cohort": _label(self.unit, r["cohort"]),
                    "group": r["offer_group"],
                    "customers": r["size"],
                    "offer_cost": cost,
                    "first_order_gross_profit": round(first, 2),
                    "cumulative_gross_profit": cum,
                    "repeat_gross_profit": repeat,
                    "payback_period": payback if r["offer_group"] == OFFER else None,
                }
            )
        return out


def _second_order(frame: pl.DataFrame) -> dict[str, Any]:
    r = frame.row(0, named=True)
    n, with_second = r["customers"], r["with_second"]
    bands = {name: r[name] for _, _, name in SECOND_ORDER_BANDS}
    bands["over 90 days"] = r["over_90"]
    return {
        "customers": n,
        "with_second_order": with_second,
        "one_order_share": (n - with_second) / n if n else None,
        "median_days": r["median_days"],
        "p25_days": r["p25_days"],
        "p75_days": r["p75_days"],
        "days_to_second_order": bands,
    }
