"""Threshold promotions (满减, 每满减, 满赠, lottery, points): what-if on the shop's own orders.

A scenario is a threshold ``X`` and one reward (CONTRACT.md section 3). The orders are the
paid orders placed inside ``--since/--until`` (the baseline window), one row per order, its
value ``v`` the sum of its paid lines' ``amount`` (refunded and cancelled lines never count).
An order qualifies when ``v >= X`` (exactly ``X`` qualifies). Reward per qualifying order:

============== ============================== ==============================================
reward         option                         cost per qualifying order
============== ============================== ==============================================
满减           ``--reward-amount Y``          ``min(Y, v)``, once per order
每满减         ``--reward-amount Y``          ``floor(v / X) * Y``, at most ``v``
               ``--per-multiple``
percent off    ``--reward-percent P``         ``v * P / 100``
满赠 (gift)    ``--gift-cost G``              ``G`` (the gift at purchase cost)
tiers          ``--tiers 100:10,500:60``      the reward of the highest tier reached
lottery        ``--lottery-prize-cost E``     ``E`` per threshold reached: ``floor(v/X)*E``
               (E = win probability x prize cost, the expected cost of one draw)
points         ``--points-rate r``            ``v * r * point_value`` (points are a debt)
               ``--point-value p``
============== ============================== ==============================================

Money rewards (amount, per multiple, percent, tiers; ``cost_kind`` ``money_off``) lower
revenue and gross profit; a gift, lottery prizes and points cost gross profit only.
``subsidy_cost`` is the sum of the rewards, also given as a share of revenue and of gross
profit before the campaign. ``customers_near`` counts distinct customers with an order
within ``reach`` below X: the audience a campaign can move.

Response models. ``none`` (default): the exact replay of history, nobody changes their
basket. ``fixed``: each order with ``X - reach <= v < X`` tops up to ``X`` with probability
``uptake`` (expected values, no randomness): incremental revenue ``uptake * (X - v)`` at
the order's own gross margin (the period's margin for an order of value 0), and the reward on
the topped-up order. ``bunching``: the same model with the uptake estimated from a past
threshold campaign in the shop's own history (:mod:`cust.pipelines.promo.bunching`).
``net_gross_profit_effect`` = incremental gross profit - subsidy cost (rewards on orders
that qualified anyway plus expected rewards on topped-up orders); ``roi`` = net effect /
subsidy cost; ``break_even_uptake`` is the uptake at which the net effect is 0 (null when no
uptake in [0, 1] reaches it). Published field studies find 12-28 % of just-below-threshold
orders padded; the default ``uptake`` of 0.2 sits in that range and the output always
states reach and uptake. Without a cost column the effects are counted in revenue.

Every scenario of a run (one, a ``--sweep`` of thresholds, or a TOML file of scenarios) is
evaluated in one pass: each scenario is a handful of aggregate expressions over the orders,
all computed by one ``collect`` together with the histogram, the bunching bins and the
input counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import polars as pl

from ..errors import InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.orders import Period, has_cost, orders_frame
from ..io.schema import CUSTOMERS
from ..money import exact_sum, round_money
from ..result import Result, Table
from ..segment.tiers import DEFAULT_LADDER, Ladder, tier_expr
from . import bunching as promo_bunching
from .rules import (
    Scenario,
    parse_campaign,
)

RESPONSES = ("none", "fixed", "bunching")
DEFAULT_UPTAKE = 0.2
DEFAULT_REACH_SHARE = 0.1  # reach defaults to 10 % of the threshold (20 % for bunching)
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class Response:
    """How customers react to a threshold.

    ``none``; ``fixed`` (``reach`` in yuan below X, ``uptake`` 0-1); or ``bunching`` (the
    uptake estimated from the past campaign ``campaign``, optionally ``CODE:THRESHOLD``).
    """

    model: str = "none"
    reach: float | None = None
    uptake: float = DEFAULT_UPTAKE
    campaign: str | None = None

    def __post_init__(self) -> None:
        """Validate the model and its parameters."""
        if self.model not in RESPONSES:
            msg = f"--response {self.model!r} is not a model"
            raise InvalidOptionError(
                msg, hint="use --response none, --response fixed or --response bunching"
            )
        if not 0 <= self.uptake <= 1:
            msg = f"--uptake {self.uptake} is not a probability"
            raise InvalidOptionError(msg, hint="e.g. --uptake 0.2")
        if self.reach is not None and not self.reach >= 0:
            msg = f"--reach {self.reach} is negative"
            raise InvalidOptionError(msg, hint="give yuan below the threshold, e.g. --reach 500")
        parse_campaign(self.campaign)

    def reach_for(self, scenario: Scenario, share: float | None = None) -> float:
        """Reach in yuan for ``scenario`` (default 10 % of its entry threshold).

        With ``share`` (the bunching model), the reach is that share of each threshold.
        """
        if share is not None:
            return share * scenario.entry
        return self.reach if self.reach is not None else DEFAULT_REACH_SHARE * scenario.entry

    @property
    def moves(self) -> bool:
        """Whether some orders top up (fixed or bunching)."""
        return self.model != "none"


@dataclass(frozen=True, kw_only=True)
class PromoResult(Result):
    """Figures of one or more scenarios, ranked by net gross profit effect."""

    command: ClassVar[str] = "promo simulate"
    scenarios: list[dict[str, Any]]
    response: Response
    histogram: pl.DataFrame
    customers_near: int
    cost_known: bool
    targeting: list[str] = field(default_factory=list)
    bunching: dict[str, Any] | None = None
    assumptions: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The contract's keys for the first scenario given, then every scenario ranked."""
        main = next(s for s in self.scenarios if s["input_index"] == 0)
        doc = {k: main[k] for k in (
            "scenario", "qualifying_orders", "subsidy_cost", "revenue_before", "revenue_after",
            "gross_profit_before", "gross_profit_after")}
        doc.update(
            {k: v for k, v in main.items() if k not in doc and k not in ("rank", "input_index")}
        )
        doc["response"] = {
            "model": self.response.model,
            "uptake": self.response.uptake if self.response.moves else 0.0,
            "reach": main.get("reach"),
        }
        if self.bunching is not None:
            doc["bunching"] = self.bunching
        doc["customers_near_threshold"] = self.customers_near
        doc["histogram"] = self.histogram
        doc["targeting"] = self.targeting
        doc["assumptions"] = self.assumptions
        if len(self.scenarios) > 1:
            doc["scenarios"] = self.scenarios
            doc["best"] = next(s["scenario"]["name"] for s in self.scenarios if s["best"])
        return doc

    def export_table(self) -> pl.DataFrame:
        """The scenarios as CSV and Parquet write them: every figure as computed."""
        cols = ["rank", "name", "qualifying_orders", "qualifying_share", "subsidy_cost",
                "subsidy_share_of_revenue", "customers_near", "incremental_revenue",
                "net_gross_profit_effect", "roi", "break_even_uptake"]
        frame = pl.DataFrame(
            [{c: s["scenario"]["name"] if c == "name" else s.get(c) for c in cols}
             for s in self.scenarios],
            schema_overrides={"roi": pl.Float64, "break_even_uptake": pl.Float64,
                              "subsidy_share_of_revenue": pl.Float64},
        )
        if len(self.scenarios) > 1:
            frame = frame.with_columns(
                pl.when(pl.col("rank") == 1).then(pl.lit("best")).otherwise(pl.lit(""))
                .alias("best")
            )
        return frame

    def tables(self) -> list[Table]:
        """Scenarios ranked, then the order-value histogram around the threshold.

        As a person reads them: "best" only for a scenario that pays back, and the ROI
        column not shown by default when nobody responds to the offer (it is -1 by
        construction; ``--wide`` shows it).
        """
        frame = self.export_table()
        if "best" in frame.columns:
            frame = frame.with_columns(
                pl.when((pl.col("best") == "best") & (pl.col("net_gross_profit_effect") > 0))
                .then(pl.lit("best")).otherwise(pl.lit("")).alias("best")
            )
        tables = [
            Table("scenarios", "Threshold promotion what-if", frame,
                  money=("subsidy_cost", "incremental_revenue", "net_gross_profit_effect"),
                  shares=("qualifying_share", "subsidy_share_of_revenue"),
                  shown=("rank", "name", "net_gross_profit_effect",
                         *(("roi",) if self.response.moves else ()), "best",
                         "qualifying_orders", "qualifying_share", "subsidy_cost",
                         "break_even_uptake", "incremental_revenue")),
            Table("histogram", "Orders by value around the threshold", self.histogram,
                  shares=("order_share",), bar="order_share", bar_to_max=True),
        ]
        if self.bunching is not None:
            tables.append(Table(
                "bunching", "Past campaign: orders by list value, observed vs counterfactual",
                self.bunching["bins"]))
        return tables

    def _ranking(self) -> str:
        """How the scenarios are ranked, and which pays back (none is "best" at a loss)."""
        top = min(self.scenarios, key=lambda s: s["rank"])
        if (top.get("net_gross_profit_effect") or 0.0) > 0:
            return "Scenarios ranked by net gross profit effect; the best is marked."
        return ("Scenarios ranked by net gross profit effect; none pays back (every net "
                f"effect is 0 or a loss; the smallest loss: {top['scenario']['name']}).")

    def notes(self) -> list[str]:
        """Assumptions of the response model, targeting, missing cost, an empty history."""
        empty = not self.scenarios[0]["history_orders"]
        return self.assumptions + self.targeting + (
            [self._ranking()] if len(self.scenarios) > 1 else []
        ) + ([] if self.response.moves else [
            "ROI is not shown: with --response none nobody tops up a basket, so a promotion "
            "can only cost (ROI -1 by construction); --response fixed --uptake U or "
            "--response bunching estimate a return."
        ]) + (["No paid orders in the selected history: every figure is 0."] if empty else [])


def simulate(
    inputs: Inputs,
    scenarios: Sequence[Scenario],
    *,
    period: Period | None = None,
    response: Response | None = None,
    segment: dict[str, str] | None = None,
    new_customers: bool = False,
    tier: str | None = None,
    abc: str | None = None,
    clv_top: float | None = None,
    p_alive_below: float | None = None,
    ladder: Ladder = DEFAULT_LADDER,
    bootstrap: int = 0,
    seed: int = 0,
) -> PromoResult:
    """Evaluate ``scenarios`` on the paid orders in ``period`` in one pass (module doc).

    Targeting keeps only some customers' orders: ``segment`` (customers-export columns),
    ``tier`` (customer level by points, on ``ladder``), ``abc`` (classes of ``segment abc``
    over the same period, e.g. ``"A"`` or ``"A,B"``), ``new_customers`` (first paid orders
    only), ``clv_top`` (the share of customers with the highest CLV of ``cust clv`` fitted up
    to the period's end, ties by customer id) and ``p_alive_below`` (customers whose chance of
    still being active is below it); given together, both must hold. ``segment`` values of a
    categorical column (``customer_type``, ``role``) go through
    the same aliases as the export's cells, so ``customer_type=企业`` is ``enterprise``.
    ``bootstrap`` resamples customers for a 95 % interval of every scenario's net effect (the
    same resamples for all; with the bunching model, each resample also draws the uptake).
    """
    if not scenarios:
        msg = "no scenario to simulate"
        raise InvalidOptionError(msg, hint="e.g. --threshold 5000 --reward-amount 500")
    if bootstrap < 0 or bootstrap > 10_000:
        msg = f"--bootstrap {bootstrap} is out of range"
        raise InvalidOptionError(msg, hint="use 0 (off) to 10000 resamples, e.g. --bootstrap 200")
    response = response or Response()
    period = (period or Period()).ended_by_as_of()
    source = inputs.get("orders")
    cost_known = has_cost(source)
    sources = [source]
    first = scenarios[0]
    share = None
    if response.model == "bunching":
        share = promo_bunching.effective_share(
            response.reach / first.entry if response.reach is not None
            else promo_bunching.DEFAULT_REACH_SHARE
        )
    all_orders = orders_frame(source, None)
    orders = all_orders.filter(period.filter("order_time"))
    orders, targeting, extra = _target(
        inputs, orders, all_orders, period, segment=segment, new_customers=new_customers,
        tier=tier, abc=abc, clv_top=clv_top, p_alive_below=p_alive_below, ladder=ladder,
    )
    sources.extend(s for s in extra if s not in sources)
    value, gp = pl.col("value"), pl.col("gross_profit")
    margin_all = (gp.sum() / value.sum()).fill_nan(0.0)
    margin = pl.when(value > 0).then(gp / value).otherwise(margin_all).fill_null(0.0)
    if not cost_known:  # without cost, effects are counted in revenue (said in the notes)
        margin = pl.lit(1.0)
    base = orders.with_columns(
        margin.alias("margin"), pl.col("customer_id").hash().alias("ckey")
    ).cache()
    totals_plan = base.select(
        pl.len().alias("orders"),
        exact_sum(value).alias("revenue"),
        exact_sum(gp).alias("gross_profit"),
        gp.is_null().sum().alias("orders_without_cost"),
    )
    aggs: list[pl.Expr] = []
    for i, s in enumerate(scenarios):
        aggs.extend(_scenario_aggs(i, s, response.reach_for(s, share)))
    # An order below a scenario's entry minus its reach neither qualifies nor could top up,
    # so it adds 0 to every figure of the scenario: the scenarios read only the orders at
    # or above the lowest such value (few, when most orders are small: a warm 20-threshold
    # sweep of 3M orders 0.78 -> 0.27 s).
    floor = min(s.entry - response.reach_for(s, share) for s in scenarios)
    reached = base.filter(value >= floor)
    x = first.entry
    width = x / HISTOGRAM_BINS
    hist = (
        base.filter((value >= x - x / 2) & (value < x + x / 2))
        .with_columns(((value - (x - x / 2)) / width).floor().cast(pl.Int64).alias("bin"))
        .group_by("bin")
        .agg(pl.len().alias("orders"))
    )
    # A customer qualifies at X when their largest order does: one group-by serves every
    # threshold of a sweep.
    largest = base.filter(value >= min(s.entry for s in scenarios)).group_by("ckey").agg(
        value.max().alias("largest")
    )
    aggs_c = [(pl.col("largest") >= s.entry).sum().alias(f"s{i}_qualifying_customers")
              for i, s in enumerate(scenarios)]
    plans = [
        totals_plan.join(reached.select(aggs), how="cross")
        .join(largest.select(aggs_c), how="cross"),
        hist,
    ]
    if bootstrap:
        # Sorted, so a seed draws the same customers every run (a group-by's order is not).
        plans.append(base.group_by("customer_id").agg(
            expr for i, s in enumerate(scenarios)
            for expr in _components(i, s, response.reach_for(s, share))
        ).sort("customer_id"))
    n_main = len(plans)
    code, campaign_x = parse_campaign(response.campaign)
    if response.model == "bunching":
        plans.extend(promo_bunching.plans(source, x, code, campaign_x))
    frames, report = collect(plans, sources)
    bunching = None
    if response.model == "bunching":
        assert share is not None  # set above for this model
        bunching = promo_bunching.estimate(
            frames[n_main:], share=share, campaign=code,
            resamples=promo_bunching.DEFAULT_RESAMPLES, seed=seed,
        )
        response = replace(response, uptake=bunching.uptake)
    u = response.uptake if response.moves else 0.0
    totals = frames[0].row(0, named=True)
    rows = [
        _figures(i, s, u, response.reach_for(s, share), totals, cost_known)
        for i, s in enumerate(scenarios)
    ]
    if bunching is not None:
        for row in rows:
            gain, cost0 = row.pop("_gain"), row.pop("_cost0")
            ends = sorted(round_money(u_end * gain - cost0) for u_end in (
                min(max(bunching.lower, 0.0), 1.0), min(max(bunching.upper, 0.0), 1.0)))
            row["net_gross_profit_effect_range"] = {
                "lower": ends[0],
                "upper": ends[1],
                "from": "the uptake's 95% interval",
            }
    for row in rows:
        row.pop("_gain", None)
        row.pop("_cost0", None)
    if bootstrap:
        draws = bunching.replicates if bunching is not None else None
        intervals = _bootstrap(frames[2], len(rows), bootstrap, seed, u, draws)
        for row, interval in zip(rows, intervals, strict=True):
            row["net_gross_profit_effect_interval"] = interval
    order = sorted(range(len(rows)), key=lambda i: -(rows[i]["net_gross_profit_effect"] or 0.0))
    for rank, i in enumerate(order, start=1):
        rows[i]["input_index"] = i
        rows[i]["rank"] = rank
        rows[i]["best"] = rank == 1
    if len(rows) > 1:
        rows = [rows[i] for i in order]
    histogram = _histogram(frames[1], x, width, int(totals["orders"]))
    main = next(r for r in rows if r["input_index"] == 0)
    return PromoResult(
        input=report,
        scenarios=rows,
        response=response,
        histogram=histogram,
        customers_near=main["customers_near"],
        cost_known=cost_known,
        targeting=targeting,
        bunching=None if bunching is None else bunching.doc,
        assumptions=_assumptions(response, main["reach"], cost_known, bunching,
                                 without_cost=int(totals["orders_without_cost"])),
    )


def _target(
    inputs: Inputs,
    orders: pl.LazyFrame,
    all_orders: pl.LazyFrame,
    period: Period,
    *,
    segment: dict[str, str] | None,
    new_customers: bool,
    tier: str | None,
    abc: str | None,
    clv_top: float | None,
    p_alive_below: float | None,
    ladder: Ladder,
) -> tuple[pl.LazyFrame, list[str], list[Any]]:
    """Keep the targeted customers' orders; say who they are; the extra sources read."""
    targeting: list[str] = []
    extra: list[Any] = []
    if new_customers:
        first = all_orders.group_by("customer_id").agg(
            pl.col("order_id").sort_by("order_time", "order_id").first().alias("first_id")
        )
        orders = orders.join(first, left_on="order_id", right_on="first_id", how="semi")
        targeting.append("Only new customers' first paid orders count.")
    if segment or tier:
        wanted = {k: _segment_value(k, v) for k, v in (segment or {}).items()}
        customers = inputs.optional("customers")
        missing = [k for k in wanted if customers is None or not customers.has(k)]
        if tier and (customers is None or not customers.has("points")):
            missing.append("points")
        if missing:
            option = "--tier" if missing == ["points"] and tier else "--segment"
            msg = f"{option} needs a customers export with the column {', '.join(missing)}"
            raise MissingColumnError(msg, hint="give it with --customers customers.csv")
        assert customers is not None  # for the type checker; checked just above
        extra.append(customers)
        cond = pl.lit(True)
        for key, value in wanted.items():
            cond = cond & (pl.col(key).cast(pl.String).str.to_lowercase() == value.lower())
        if tier:
            names = [n.lower() for n, _ in ladder]
            chosen_tiers = [t.strip().lower() for t in tier.split(",") if t.strip()]
            unknown = [t for t in chosen_tiers if t not in names]
            if unknown or not chosen_tiers:
                msg = f"--tier {tier!r}: unknown level {', '.join(unknown) or '(none)'}"
                raise InvalidOptionError(msg, hint=f"levels: {', '.join(n for n, _ in ladder)}")
            level = tier_expr(pl.col("points"), ladder).str.to_lowercase()
            cond = cond & level.is_in(chosen_tiers)
            targeting.append(f"Only customers on level {', '.join(chosen_tiers)} (by points).")
        chosen = customers.valid.filter(cond).select("customer_id").unique()
        orders = orders.join(chosen, on="customer_id", how="semi")
        if wanted:
            targeting.append(
                "Only customers with " + ", ".join(f"{k} = {v}" for k, v in wanted.items()) + "."
            )
    if abc:
        from ..segment.abc import classify_customers

        classes = sorted({c.strip().upper() for c in abc.split(",") if c.strip()})
        if not classes or set(classes) - {"A", "B", "C", "LOSS"}:
            msg = f"--abc {abc!r} is not a list of classes"
            raise InvalidOptionError(msg, hint="e.g. --abc A or --abc A,B (classes A, B, C, loss)")
        members = classify_customers(inputs, period=period).members
        chosen_ids = members.filter(pl.col("class").str.to_uppercase().is_in(classes)).select(
            "customer_id"
        )
        orders = orders.join(chosen_ids.lazy(), on="customer_id", how="semi")
        targeting.append(
            f"Only ABC class {', '.join(classes)} customers (segment abc, same period)."
        )
    if clv_top is not None or p_alive_below is not None:
        chosen_ids, said = _by_clv(inputs, period, clv_top, p_alive_below)
        orders = orders.join(chosen_ids.lazy(), on="customer_id", how="semi")
        targeting.append(said)
    return orders, targeting, extra


def _by_clv(
    inputs: Inputs, period: Period, top: float | None, below: float | None
) -> tuple[pl.DataFrame, str]:
    """The customers of ``--clv-top`` / ``--p-alive-below``, and the sentence saying so."""
    if top is not None and not (0 < top <= 1 and math.isfinite(top)):
        msg = f"--clv-top {top:g} is not a share of customers"
        raise InvalidOptionError(msg, hint="e.g. --clv-top 20% (or 0.2)")
    if below is not None and not (0 < below <= 1 and math.isfinite(below)):
        msg = f"--p-alive-below {below:g} is not a probability"
        raise InvalidOptionError(msg, hint="e.g. --p-alive-below 0.3")
    from ..clv import clv as clv_fit  # scipy only when this targeting is asked for

    members = clv_fit(inputs, period=period).members.sort(
        ["clv", "customer_id"], descending=[True, False], nulls_last=True
    )
    words = []
    if top is not None:
        members = members.head(math.ceil(top * members.height))
        words.append(f"among the {top:.0%} with the highest CLV")
    if below is not None:
        members = members.filter(pl.col("p_alive") < below)
        words.append(f"with p_alive below {below:g}")
    said = f"Only customers {' and '.join(words)} (cust clv, fitted to the period's end)."
    return members.select("customer_id"), said


def parse_share(text: str | None) -> float | None:
    """``20%`` or ``0.2`` to 0.2; None stays None."""
    if text is None:
        return None
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value <= 1):
        msg = f"--clv-top {text!r} is not a share of customers"
        raise InvalidOptionError(msg, hint="e.g. --clv-top 20% (or 0.2)")
    return value


def _segment_value(column: str, value: str) -> str:
    """``value`` as the loader reads a cell of ``column``: through its aliases, any case."""
    spec = next((c for c in CUSTOMERS if c.name == column), None)
    folded = value.strip().casefold()
    for canonical, aliases in spec.values if spec is not None else ():
        if folded in {a.casefold() for a in aliases}:
            return canonical
    return value


def _scenario_aggs(i: int, s: Scenario, reach: float) -> list[pl.Expr]:
    value, gp, margin = pl.col("value"), pl.col("gross_profit"), pl.col("margin")
    reward = s.reward(value)
    x = s.entry
    qualifies = value >= x
    aggs = [
        qualifies.sum().alias(f"s{i}_qualifying"),
        exact_sum(reward).alias(f"s{i}_cost"),
        exact_sum(pl.when(qualifies).then(value).otherwise(0.0)).alias(
            f"s{i}_qualifying_revenue"),
        exact_sum(gp.filter(qualifies)).alias(f"s{i}_qualifying_gp"),
    ]
    # Orders that could top up: per unit of uptake, their extra revenue, extra gross profit
    # and the reward they would then get.
    below = (value >= x - reach) & (value < x)
    gap = pl.when(below).then(x - value).otherwise(0.0)
    aggs += [
        below.sum().alias(f"s{i}_reachable"),
        pl.col("ckey").filter(below).n_unique().alias(f"s{i}_near"),
        gap.sum().alias(f"s{i}_gap_revenue"),
        (gap * margin).sum().alias(f"s{i}_gap_gp"),
        pl.when(below).then(s.reward(pl.lit(x, dtype=pl.Float64))).otherwise(0.0).sum()
        .alias(f"s{i}_gap_reward"),
    ]
    return aggs


def _components(i: int, s: Scenario, reach: float) -> list[pl.Expr]:
    """Per customer: rewards on their orders, and the gain per unit of uptake (scenario i)."""
    value, margin = pl.col("value"), pl.col("margin")
    x = s.entry
    below = (value >= x - reach) & (value < x)
    gain = pl.when(below).then((x - value) * margin - s.reward(pl.lit(x, pl.Float64)))
    return [s.reward(value).sum().alias(f"s{i}_cost"),
            gain.otherwise(0.0).sum().alias(f"s{i}_gain")]


def _figures(
    i: int, s: Scenario, u: float, reach: float, t: dict[str, Any], cost_known: bool
) -> dict[str, Any]:
    cost0 = float(t[f"s{i}_cost"] or 0.0)
    gap_rev, gap_gp = float(t[f"s{i}_gap_revenue"] or 0.0), float(t[f"s{i}_gap_gp"] or 0.0)
    gap_reward = float(t[f"s{i}_gap_reward"] or 0.0)
    cost = cost0 + u * gap_reward
    money_off = cost if s.lowers_revenue else 0.0
    revenue_before = float(t["revenue"] or 0.0)
    inc_revenue = u * gap_rev
    gp_before = float(t["gross_profit"]) if cost_known and t["gross_profit"] is not None else None
    inc_gp = u * gap_gp if cost_known else None
    # Without cost, the net effect is counted in revenue (stated in the notes).
    gain_per_uptake = (gap_gp if cost_known else gap_rev) - gap_reward
    net = (u * gain_per_uptake) - cost0
    break_even = cost0 / gain_per_uptake if gain_per_uptake > 0 else None
    if break_even is not None and break_even > 1:
        break_even = None
    orders = int(t["orders"])
    return {
        "scenario": s.describe(),
        "history_orders": orders,  # paid orders in the simulated history (after targeting)
        "qualifying_orders": int(t[f"s{i}_qualifying"]),
        "qualifying_share": int(t[f"s{i}_qualifying"]) / orders if orders else 0.0,
        "qualifying_customers": int(t[f"s{i}_qualifying_customers"]),
        "subsidy_cost": round_money(cost),
        "cost_kind": s.cost_kind,
        "subsidy_share_of_revenue": cost / revenue_before if revenue_before else None,
        "subsidy_share_of_gross_profit": cost / gp_before if gp_before else None,
        "revenue_before": round_money(revenue_before),
        "revenue_after": round_money(revenue_before + inc_revenue - money_off),
        "gross_profit_before": None if gp_before is None else round_money(gp_before),
        "gross_profit_after": None
        if gp_before is None
        else round_money(gp_before + (inc_gp or 0.0) - cost),
        "reachable_orders": int(t[f"s{i}_reachable"]),
        "customers_near": int(t[f"s{i}_near"]),
        "reach": reach,
        "uptake": u,
        "incremental_revenue": round_money(inc_revenue),
        "incremental_gross_profit": None if inc_gp is None else round_money(inc_gp),
        "net_gross_profit_effect": round_money(net),
        "roi": net / cost if cost else None,
        "break_even_uptake": break_even,
        "_gain": gain_per_uptake,
        "_cost0": cost0,
    }


def _assumptions(
    response: Response, reach: float, cost_known: bool, bunching: Any, *, without_cost: int = 0
) -> list[str]:
    notes = ["Orders: paid orders in the period, value = sum of their paid lines; an order "
             "qualifies when its value is at least the threshold."]
    if response.model == "none":
        notes.append("Response none: history replayed as it was; nobody tops up a basket.")
    elif response.model == "fixed":
        within = (f"{reach:g} yuan" if response.reach is not None
                  else f"{DEFAULT_REACH_SHARE:.0%} of the threshold (default --reach)")
        notes.append(
            f"Response fixed: orders within {within} below the threshold top up to it "
            f"with probability {response.uptake:g}, at their own gross margin (an assumption; "
            "published studies find 12-28% of just-below-threshold orders padded)."
        )
    else:
        notes.append(promo_bunching.describe(bunching))
    if not cost_known:
        notes.append("No cost column: gross profit figures are not available; effects are "
                     "counted in revenue.")
    elif without_cost:
        notes.append(
            f"{without_cost} orders have a line without cost: their gross profit is unknown, "
            "left out of gross_profit_before and counted at a margin of 0 if they top up; "
            "a reward on them is still a cost in gross_profit_after."
        )
    return notes


def _histogram(bins: pl.DataFrame, x: float, width: float, orders: int) -> pl.DataFrame:
    counts = dict(zip(bins["bin"].to_list(), bins["orders"].to_list(), strict=True))
    lows = [x / 2 + b * width for b in range(HISTOGRAM_BINS)]
    n = [counts.get(b, 0) for b in range(HISTOGRAM_BINS)]
    return pl.DataFrame(
        {
            "lower": [round_money(v) for v in lows],
            "upper": [round_money(v + width) for v in lows],
            "orders": n,
            "order_share": [c / orders if orders else 0.0 for c in n],
            "qualifies": [lo >= x - 1e-9 for lo in lows],
        }
    )


def _bootstrap(
    per_customer: pl.DataFrame, scenarios: int, n: int, seed: int, uptake: float,
    draws: np.ndarray | None,
) -> list[dict[str, Any]]:
    """Percentile intervals (2.5 %, 97.5 %) of each scenario's net effect, resampling customers.

    Every scenario (each threshold of a ``--sweep``) is evaluated on the same resamples, so
    their intervals are comparable. With ``draws`` (bunching replicates), resample b uses
    uptake ``draws[b % len(draws)]``.
    """
    cost = per_customer.select(f"s{i}_cost" for i in range(scenarios)).to_numpy()
    gain = per_customer.select(f"s{i}_gain" for i in range(scenarios)).to_numpy()
    rng = np.random.default_rng(seed)
    k = len(cost)
    totals = []
    for b in range(n if k else 0):
        weights = rng.multinomial(k, np.full(k, 1.0 / k))
        u = draws[b % len(draws)] if draws is not None and len(draws) else uptake
        totals.append(u * (weights @ gain) - weights @ cost)
    table = np.array(totals) if totals else np.zeros((1, scenarios))
    lo, hi = np.percentile(table, [2.5, 97.5], axis=0)
    return [{"resamples": n, "lower": round_money(float(a)), "upper": round_money(float(b)),
             "seed": seed} for a, b in zip(lo, hi, strict=True)]
