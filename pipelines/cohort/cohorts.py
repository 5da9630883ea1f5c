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
- A period is **complete** when its last day is on or before the analysis date (``--as-of``,
  else the date of the last paid order on or before ``--until``); orders after the analysis
  date are left out, so an export ending on the last day of a month completes that month.
  Periods that start after the analysis date are not listed.
- ``--metric revenue|gross_profit`` adds, per ``k``, the cohort's order value or gross profit
  in that period (with ``--cumulative``: in that period and later) and its ratio to period 0;
  the table then shades that ratio instead of customer retention.
- Refunded and cancelled orders count nowhere (not in ``active``, money or payback).

Offer payback. A customer *took the offer* when their first paid order carries the
``first_order`` promo (``--offer promo``, the default when the export has a promo column) or
any discount (``--offer discount``, the default otherwise), or either (``--offer either``).
The offer's cost is the discount on those first orders. ``amount`` is paid after discounts
(contract), so the first orders' gross profit is already net of the offer. The offer
customers split into *one-order* customers (bargain hunters: no second paid order by the
analysis date) and *repeat* customers (they came back); only repeat customers have later
orders. The question the operators ask is whether the customers who *stay* earn the offer
back: per cohort (and split group), ``repeat_gross_profit[k]`` is the cumulative gross profit
of every order after each customer's first one, up to period ``k``; ``net_gross_profit[k]``
is that minus the offer's cost; ``payback_period`` is the first ``k`` where it is >= 0 (null
while it is not; only for the offer group; counted over all periods up to the analysis date
even when ``--max-periods`` shortens the lists). ``payback_ratio`` is the later orders'
gross profit to date over the offer's cost. ``cumulative_gross_profit[k]`` includes the
first orders too. Without a cost column the gross-profit figures are null; without a
discount column the offer's cost is unknown (null), and so are the ratio and the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import polars as pl

from .. import calendar
from ..errors import ConfigError, EmptySelectionError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.orders import Period, customer_orders, has_cost
from ..money import MICRO, exact_sum, round_money, sum_money
from ..result import Result, Table
from ..settings import Config

PERIODS = ("month", "week")
METRICS = ("customers", "revenue", "gross_profit")
OFFERS = ("promo", "discount", "either")
SPLITS = ("promo", "channel", "customer_type", "industry")
OFFER, NO_OFFER = "offer", "no_offer"
# Days to the second order, in bands a campaign planner uses: (low, high, JSON key, table
# label); keys are snake_case (CONTRACT.md section 4).
SECOND_ORDER_BANDS = (
    (0, 7, "days_0_to_7", "0-7 days"),
    (8, 30, "days_8_to_30", "8-30 days"),
    (31, 90, "days_31_to_90", "31-90 days"),
)
OVER_LAST_BAND = "over_90_days"
SECOND_ORDER_LABELS = {key: label for _, _, key, label in SECOND_ORDER_BANDS} | {
    OVER_LAST_BAND: "over 90 days"
}
@dataclass(frozen=True, kw_only=True)
class CohortResult(Result):
    """The retention matrix, its split, one-and-done figures and the offer's payback."""

    command: ClassVar[str] = "cohort"
    period: str
    metric: str
    cumulative: bool
    offer_rule: str
    as_of: date
    data_start: date
    cohorts: list[dict[str, Any]]
    splits: list[dict[str, Any]]
    split_by: str | None
    payback: list[dict[str, Any]]
    payback_total: list[dict[str, Any]]
    second_order: dict[str, Any]
    cost_known: bool
    discount_known: bool

    def payload(self) -> dict[str, Any]:
        """``cohorts`` as in the contract, then splits, payback and second-order timing."""
        doc: dict[str, Any] = {
            "period": self.period,
            "as_of": self.as_of,
            "data_start": self.data_start,
            "cumulative": self.cumulative,
            "metric": self.metric,
            "cohorts": self.cohorts,
        }
        if self.split_by:
            doc["split_by"] = self.split_by
            doc["splits"] = self.splits
        doc["offer_rule"] = self.offer_rule
        doc["gross_profit_known"] = self.cost_known
        doc["offer_cost_known"] = self.discount_known
        doc["payback"] = self.payback
        doc["payback_total"] = self.payback_total
        doc["second_order"] = self.second_order
        return doc

    def _shown(self, row: dict[str, Any]) -> list[float | None]:
        """The retention list the heatmap shows: customers, or the chosen money metric."""
        if self.metric == "customers":
            return row["retention"]
        return row[f"{self.metric}_retention"]

    def tables(self) -> list[Table]:
        """Retention heatmap (one column per period index), splits, then payback (last)."""
        width = max((len(c["retention"]) for c in self.cohorts), default=0)
        prefix = "m" if self.period == "month" else "w"
        rows = []
        for c in self.cohorts:
            row: dict[str, Any] = {"cohort": c["cohort"], "size": c["size"]}
            row["one_order_share"] = c["one_order_share"]
            shown = self._shown(c)
            for k in range(width):
                row[f"{prefix}{k}"] = (
                    {"retention": shown[k], "complete": c["complete"][k]}
                    if k < len(shown) and shown[k] is not None else None
                )
            rows.append(row)
        heat = pl.DataFrame(rows) if rows else pl.DataFrame({"cohort": []})
        what = {"customers": "Retention", "revenue": "Revenue retention",
                "gross_profit": "Gross-profit retention"}[self.metric]
        mode = " on or after each period" if self.cumulative else ""
        tables = [
            Table("cohorts", f"{what} by cohort{mode}, % (* = not complete)", heat,
                  shares=("one_order_share",),
                  heat=tuple(f"{prefix}{k}" for k in range(width))),
        ]
        if self.split_by:
            split_rows = [
                {
                    "cohort": s["cohort"],
                    self.split_by: s["group"],
                    "size": s["size"],
                    "one_order_share": s["one_order_share"],
                    "retention_1": s["retention"][1] if len(s["retention"]) > 1 else None,
                    "retention_last": s["retention"][-1],
                }
                for s in self.splits
            ]
            tables.append(
                Table("splits", f"Retention by {self.split_by}", pl.DataFrame(split_rows),
                      shares=("one_order_share", "retention_1", "retention_last"))
            )
        tables.append(self._second_order_table())
        tables.append(self._payback_table())
        return tables

    def _second_order_table(self) -> Table:
        s = self.second_order
        counts = s["days_to_second_order"]
        rows = [{"days_to_second_order": "no second order yet",
                 "customers": s["customers"] - s["with_second_order"]}]
        rows += [{"days_to_second_order": SECOND_ORDER_LABELS[band], "customers": n}
                 for band, n in counts.items()]
        frame = pl.DataFrame(rows).with_columns(
            (pl.col("customers") / max(s["customers"], 1)).alias("share")
        )
        median = "" if s["median_days"] is None else f" (median {s['median_days']:g})"
        return Table("second_order", f"Days to the second order{median}",
                     frame, shares=("share",), bar="share")

    def _payback_table(self) -> Table:
        by = self.split_by if self.split_by not in (None, "promo") else None
        rows = []
        for p in self.payback:
            row: dict[str, Any] = {"cohort": p["cohort"]}
            if by:
                row[by] = p["split_group"]
            row.update(
                group=p["group"],
                customers=p["customers"],
                repeat_share=p["repeat_share"],
                offer_cost=p["offer_cost"],
                repeat_gross_profit=p["repeat_gross_profit_to_date"],
                payback_ratio=p["payback_ratio"],
                payback_period=p["payback_period"],
            )
            rows.append(row)
        frame = pl.DataFrame(rows) if rows else pl.DataFrame({"cohort": []})
        return Table(
            "payback",
            "First-order offer: its cost and the gross profit of later orders (to date)",
            frame,
            money=("offer_cost", "repeat_gross_profit"),
            shares=("repeat_share",),
        )

    def export_table(self) -> pl.DataFrame:
        """The matrix in long form for CSV and Parquet: one row per cohort and period."""
        extra = [] if self.metric == "customers" else [self.metric, f"{self.metric}_retention"]
        rows = [
            {
                "cohort": c["cohort"],
                "cohort_start": c["cohort_start"],
                "size": c["size"],
                "k": k,
                "active": c["active"][k],
                "retention": c["retention"][k],
                "complete": c["complete"][k],
                **{name: c[name][k] for name in extra},
            }
            for c in self.cohorts
            for k in range(len(c["active"]))
        ]
        schema: dict[str, Any] = {
            "cohort": pl.String, "cohort_start": pl.Date, "size": pl.Int64, "k": pl.Int64,
            "active": pl.Int64, "retention": pl.Float64, "complete": pl.Boolean,
            **{name: pl.Float64 for name in extra},
        }
        return pl.DataFrame(rows, schema=schema, orient="row" if not rows else None)

    def notes(self) -> list[str]:
        """How the offer is recognised, missing columns, payback to date, incomplete marker."""
        notes = [f"Offer customers: first paid order {self.offer_rule}."]
        if not self.cost_known:
            notes.append("No cost column: gross profit is unknown, so payback is not available.")
        if not self.discount_known:
            notes.append("No discount column: the offer's cost is unknown, so payback is not "
                         "available.")
        totals = {t["group"]: t for t in self.payback_total}
        offer, rest = totals.get(OFFER), totals.get(NO_OFFER)
        if offer is not None:
            text = (f"Offer customers: {offer['customers']:,}, of whom "
                    f"{offer['repeat_share']:.1%} ordered again")
            if rest is not None:
                text += f" (non-offer customers: {rest['repeat_share']:.1%})"
            if offer["payback_ratio"] is not None:
                text += (f"; later orders' gross profit {offer['repeat_gross_profit_to_date']:,.2f}"
                         f" = {offer['payback_ratio']:.2f}x the offer's cost "
                         f"{offer['offer_cost']:,.2f}")
            notes.append(text + ".")
        notes.append(f"Periods ending after {self.as_of} are marked incomplete (*). "
                     "Shades: █ over 50 %, ▓ over 25 %, ▒ over 10 %, ░ above 0.")
        first = self.cohorts[0]["cohort_start"] if self.cohorts else None
        if first is not None and first <= self.data_start < calendar.shift(self.period, first, 1):
            notes.append(f"The export starts on {self.data_start}: customers who ordered "
                         f"before that look new in cohort {self.cohorts[0]['cohort']}.")
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
    config: Config | None = None,
) -> CohortResult:
    """Retention by cohort, one-and-done share, days to second order, offer payback.

    Figures as defined in CONTRACT.md section 3 ("Cohorts") and this module's docstring.
    ``offer`` (who took the first-order offer) defaults to ``offer`` in the ``[cohort]``
    table of ``cust.toml``, else ``promo`` when the export has a promo column, else
    ``discount``.

    Raises
    ------
    InvalidOptionError
        An unknown period, metric, split or offer rule, or ``max_periods < 1``.
    MissingColumnError
        ``metric="gross_profit"`` without cost, or a split that needs a missing column.
    ConfigError
        ``[cohort] offer`` in ``cust.toml`` is not one of the offer rules.
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
    config = config or Config()
    configured = config.section("cohort").get("offer")
    if offer is None and configured is not None and configured not in OFFERS:
        msg = f"{config.path}: [cohort] offer = {configured!r} is not one of {', '.join(OFFERS)}"
        raise ConfigError(msg, hint='write it as offer = "promo"')
    offer = offer or configured or ("promo" if source.has("promo") else "discount")
    _check_choice("--offer", offer, OFFERS)
    offer_rule = {
        "promo": "carries the first_order promo",
        "discount": "has a discount",
        "either": "carries the first_order promo or has a discount",
    }[offer]

    # In customer order, a customer's first row is their first order (ties: order id).
    orders = customer_orders(source)
    as_of = _as_of(period)
    orders = orders.filter(pl.col("order_time").dt.date() <= as_of).cache()
    firsts = (
        orders.group_by("customer_id")
        .agg(
            pl.col("order_time").first().alias("first_time"),
            pl.col("order_time").get(1, null_on_oob=True).alias("second_time"),
            pl.col("order_time").last().alias("last_time"),
            pl.len().alias("orders"),
            pl.col("first_order_promo").first().alias("first_promo"),
            pl.col("discount").first().alias("first_discount"),
            pl.col("channel").first().alias("first_channel"),
            pl.col("gross_profit").first().alias("first_gross_profit"),
        )
        .with_columns(calendar.start_expr(unit, pl.col("first_time")).alias("cohort"))
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
    # A small integer per customer: distinct counts on it are exact and faster than on text.
    firsts = firsts.with_columns(group_expr.alias("group")).with_row_index("cid").cache()

    dated = orders.join(
        firsts.select("customer_id", "cid", "cohort", "group", "offer_group"),
        on="customer_id", how="inner",
    ).with_columns(
        calendar.periods_between(
            unit, pl.col("cohort"), calendar.start_expr(unit, pl.col("order_time"))
        ).alias("k")
    )
    # Per offer group too: the matrix sums over them (each customer is in one, so the
    # distinct counts add up), the payback reads them apart; one group-by of the orders.
    cells = dated.group_by("cohort", "group", "offer_group", "k").agg(
        pl.col("cid").n_unique().alias("active"),
        exact_sum(pl.col("value")).alias("revenue"),
        exact_sum(pl.col("gross_profit")).alias("gross_profit"),
    )
    # The period index of each customer's last order ("on or after" retention).
    last_k = firsts.with_columns(
        calendar.periods_between(
            unit, pl.col("cohort"), calendar.start_expr(unit, pl.col("last_time"))
        ).alias("last_k")
    ).group_by("cohort", "group", "last_k").agg(pl.len().alias("customers"))
    one = pl.col("orders") == 1
    sizes = firsts.group_by("cohort", "group", "offer_group").agg(
        pl.len().alias("size"),
        one.sum().alias("one_order"),
        exact_sum(pl.col("offer_cost")).alias("offer_cost"),
        exact_sum(pl.col("offer_cost").filter(one)).alias("one_order_cost"),
        exact_sum(pl.col("first_gross_profit")).alias("first_gross_profit"),
    )
    # Calendar days, as people count them: Monday evening to Tuesday morning is 1 day.
    days = (pl.col("second_time").dt.date() - pl.col("first_time").dt.date()).dt.total_days()
    second = firsts.select(
        pl.len().alias("customers"),
        pl.col("second_time").is_not_null().sum().alias("with_second"),
        days.median().alias("median_days"),
        days.quantile(0.25, "nearest").alias("p25_days"),
        days.quantile(0.75, "nearest").alias("p75_days"),
        *[days.is_between(lo, hi).sum().alias(key) for lo, hi, key, _ in SECOND_ORDER_BANDS],
        (days > SECOND_ORDER_BANDS[-1][1]).sum().alias(OVER_LAST_BAND),
    )
    as_of_frame = orders.select(
        as_of.alias("as_of"), pl.col("order_time").min().dt.date().alias("start")
    )
    frames, report = collect([cells, last_k, sizes, second, as_of_frame], sources)
    cells_df, last_df, sizes_df, second_df, as_of_df = frames
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
    payback = grid.payback(
        cells_df, sizes_df, by_split=split not in (None, "promo"),
        cost_known=cost_known, discount_known=discount_known,
    )
    return CohortResult(
        input=report,
        period=unit,
        metric=metric,
        cumulative=cumulative,
        offer_rule=offer_rule,
        as_of=end,
        data_start=as_of_df["start"][0],
        cohorts=cohorts,
        splits=splits,
        split_by=split,
        payback=payback,
        payback_total=_payback_total(payback),
        second_order=_second_order(second_df),
        cost_known=cost_known,
        discount_known=discount_known,
    )


def _as_of(period: Period) -> pl.Expr:
    """``--as-of``, else the date of the last paid order on or before ``--until``."""
    if period.as_of is None and period.until is not None:
        end = datetime.combine(period.until + timedelta(days=1), time())
        return pl.col("order_time").filter(pl.col("order_time") < end).max().dt.date()
    return period.as_of_expr("order_time")


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        msg = f"{option} {value!r} is not one of {', '.join(choices)}"
        raise InvalidOptionError(msg, hint=f"use {option} {choices[0]}")


def _group_expr(split: str | None, inputs: Inputs, sources: list[Any]) -> pl.Expr:
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


def _cents(value: float | None) -> float | None:
    return None if value is None else round_money(value)


class _Grid:
    """Turns the small aggregated frames into per-cohort lists over period indexes."""

    def __init__(self, unit: str, end: date, max_periods: int | None) -> None:
        self.unit, self.end, self.max_periods = unit, end, max_periods

    def indexes(self, cohort: date, *, capped: bool = True) -> list[int]:
        """Period indexes whose period starts on or before the analysis date."""
        ks, k = [], 0
        while calendar.shift(self.unit, cohort, k) <= self.end:
            ks.append(k)
            k += 1
            if capped and self.max_periods is not None and k >= self.max_periods:
                break
        return ks

    def complete(self, cohort: date, k: int) -> bool:
        """The period ends (its last day) on or before the analysis date."""
        return calendar.shift(self.unit, cohort, k + 1) - timedelta(days=1) <= self.end

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
            .agg(pl.col("active").sum(), exact_sum(pl.col("revenue")).alias("revenue"),
                 exact_sum(pl.col("gross_profit")).alias("gross_profit"))
            .to_dicts()
        }
        lasts: dict[tuple[Any, ...], dict[int, int]] = {}
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
            row: dict[str, Any] = {"cohort": calendar.label(self.unit, r["cohort"])}
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
                    round_money(cell[(key, k)][metric] or 0.0) if (key, k) in cell else 0.0
                    for k in ks
                ]
                if cumulative:  # "on or after": the money of period k and every later one
                    amounts = [round_money(sum_money(amounts[i:])) for i in range(len(amounts))]
                row[metric] = amounts
                base = amounts[0] if amounts else 0.0
                row[f"{metric}_retention"] = [a / base if base else None for a in amounts]
            out.append(row)
        return out

    def payback(
        self,
        gp: pl.DataFrame,
        sizes: pl.DataFrame,
        *,
        by_split: bool,
        cost_known: bool,
        discount_known: bool,
    ) -> list[dict[str, Any]]:
        keys = ["cohort", "group", "offer_group"] if by_split else ["cohort", "offer_group"]
        per = {
            (tuple(r[k] for k in keys), r["k"]): r["gross_profit"] or 0.0
            for r in gp.group_by([*keys, "k"]).agg(exact_sum(pl.col("gross_profit"))).to_dicts()
        }
        groups = sizes.group_by(keys).agg(
            pl.col("size").sum(), pl.col("one_order").sum(),
            *(exact_sum(pl.col(c)).alias(c) for c in (
                "offer_cost", "one_order_cost", "first_gross_profit")),
        )
        out = []
        for r in groups.sort(keys).to_dicts():
            key = tuple(r[k] for k in keys)
            is_offer = r["offer_group"] == OFFER
            ks = self.indexes(r["cohort"], capped=False)
            shown = len(self.indexes(r["cohort"]))
            running, cum = 0, []
            for k in ks:
                running += round(per.get((key, k), 0.0) * MICRO)  # exact: micro-units
                cum.append(round_money(running / MICRO))
            first = round_money(r["first_gross_profit"] or 0.0)
            repeat = [round_money(c - first) for c in cum]
            cost = round_money(r["offer_cost"] or 0.0) if discount_known else None
            net = (
                [round_money(g - cost) for g in repeat]
                if is_offer and cost_known and cost is not None else None
            )
            payback = (
                next((k for k, n in zip(ks, net, strict=True) if n >= 0), None) if net else None
            )
            to_date = repeat[-1] if cost_known and repeat else None
            size, one_order = r["size"], r["one_order"]
            ratio = to_date / cost if is_offer and to_date is not None and cost else None
            row: dict[str, Any] = {"cohort": calendar.label(self.unit, r["cohort"])}
            if by_split:
                row["split_group"] = r["group"]
            row.update(
                group=r["offer_group"],
                customers=size,
                one_order_customers=one_order,
                repeat_customers=size - one_order,
                repeat_share=(size - one_order) / size,
                offer_cost=cost,
                offer_cost_one_order=_cents(r["one_order_cost"] or 0.0) if cost is not None
                else None,
                first_order_gross_profit=first if cost_known else None,
                cumulative_gross_profit=cum[:shown] if cost_known else None,
                repeat_gross_profit=repeat[:shown] if cost_known else None,
                net_gross_profit=net[:shown] if net is not None else None,
                repeat_gross_profit_to_date=to_date,
                net_gross_profit_to_date=round_money(to_date - cost)
                if net is not None and to_date is not None and cost is not None else None,
                payback_ratio=ratio,
                payback_period=payback,
                # How many customers' offers one repeat customer's later orders pay for.
                offers_paid_per_repeat_customer=ratio * size / (size - one_order)
                if ratio is not None and size > one_order else None,
            )
            out.append(row)
        return out


def _payback_total(payback: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Offer and non-offer customers over every listed cohort, to date."""
    out = []
    for group in (NO_OFFER, OFFER):
        rows = [p for p in payback if p["group"] == group]
        if not rows:
            continue
        customers = sum(p["customers"] for p in rows)
        repeat = sum(p["repeat_customers"] for p in rows)
        costs = [p["offer_cost"] for p in rows]
        cost = None if None in costs else round_money(sum_money(costs))
        profits = [p["repeat_gross_profit_to_date"] for p in rows]
        profit = None if None in profits else round_money(sum_money(profits))
        is_offer = group == OFFER
        out.append({
            "group": group,
            "customers": customers,
            "one_order_customers": customers - repeat,
            "repeat_customers": repeat,
            "repeat_share": repeat / customers,
            "offer_cost": cost,
            "repeat_gross_profit_to_date": profit,
            "net_gross_profit_to_date": round_money(profit - cost)
            if is_offer and profit is not None and cost is not None else None,
            "payback_ratio": profit / cost
            if is_offer and profit is not None and cost else None,
        })
    return out


def _second_order(frame: pl.DataFrame) -> dict[str, Any]:
    r = frame.row(0, named=True)
    n, with_second = r["customers"], r["with_second"]
    bands = {key: r[key] for _, _, key, _ in SECOND_ORDER_BANDS}
    bands[OVER_LAST_BAND] = r[OVER_LAST_BAND]
    return {
        "customers": n,
        "with_second_order": with_second,
        "one_order_share": (n - with_second) / n if n else None,
        "median_days": r["median_days"],
        "p25_days": r["p25_days"],
        "p75_days": r["p75_days"],
        "days_to_second_order": bands,
    }
