"""Threshold promotions (满减, 每满减, 满赠, lottery, points): what-if on the shop's own orders.

A scenario is a threshold ``X`` and one reward (CONTRACT.md section 3). An order (a paid
order inside ``--since/--until``, value = sum of its paid lines) qualifies when its value
``v >= X``. Reward per qualifying order:

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
points         ``--points-rate r``            ``v * r * point_value`` (points are a debt)
               ``--point-value p``
============== ============================== ==============================================

Money rewards (amount, per multiple, percent, tiers) lower revenue and gross profit; a gift,
lottery prizes and points cost gross profit only. ``subsidy_cost`` is the sum of the rewards.

Response models. ``none`` (default): the exact replay of history, nobody changes their
basket. ``fixed``: each order with ``X - reach <= v < X`` tops up to ``X`` with probability
``uptake`` (expected values, no randomness): incremental revenue ``uptake * (X - v)`` at
the order's own gross margin (the shop's margin for an order of value 0), and the reward on
the topped-up order. ``net_gross_profit_effect`` = incremental gross profit - subsidy cost
(rewards on orders that qualified anyway plus expected rewards on topped-up orders);
``roi`` = net effect / subsidy cost; ``break_even_uptake`` is the uptake at which the net
effect is 0 (null when no uptake in [0, 1] reaches it). Published field studies find 12-28 %
of just-below-threshold orders padded; the default ``uptake`` of 0.2 sits in that range and
the output always states reach and uptake.

Every scenario of a run (one, a ``--sweep`` of thresholds, or a TOML file of scenarios) is
evaluated in one pass: each scenario is a handful of aggregate expressions over the orders.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from .errors import ConfigError, InvalidOptionError, MissingColumnError
from .inputs import Inputs, collect
from .orders import Period, has_cost, orders_frame
from .result import Result, Table

RESPONSES = ("none", "fixed")
DEFAULT_UPTAKE = 0.2
DEFAULT_REACH_SHARE = 0.1  # reach defaults to 10 % of the threshold
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class Scenario:
    """One threshold promotion."""

    threshold: float
    reward_amount: float | None = None
    per_multiple: bool = False
    reward_percent: float | None = None
    gift_cost: float | None = None
    tiers: tuple[tuple[float, float], ...] = ()
    lottery_prize_cost: float | None = None
    points_rate: float | None = None
    point_value: float = 0.01
    name: str = ""

    def __post_init__(self) -> None:
        """Exactly one reward, all amounts non-negative, a positive threshold."""
        kinds = [
            self.reward_amount is not None,
            self.reward_percent is not None,
            self.gift_cost is not None,
            bool(self.tiers),
            self.lottery_prize_cost is not None,
            self.points_rate is not None,
        ]
        if sum(kinds) != 1:
            msg = "a scenario needs exactly one reward"
            raise InvalidOptionError(
                msg,
                hint="give one of --reward-amount, --reward-percent, --gift-cost, --tiers, "
                "--lottery-prize-cost, --points-rate (e.g. --threshold 5000 --reward-amount 500)",
            )
        if not self.tiers and not (self.threshold > 0 and math.isfinite(self.threshold)):
            msg = f"threshold {self.threshold} is not a positive amount"
            raise InvalidOptionError(msg, hint="e.g. --threshold 5000")
        numbers = [
            self.reward_amount, self.reward_percent, self.gift_cost, self.lottery_prize_cost,
            self.points_rate, self.point_value, *(v for t in self.tiers for v in t),
        ]
        if any(n is not None and (n < 0 or not math.isfinite(n)) for n in numbers):
            msg = "rewards, costs and rates must be non-negative numbers"
            raise InvalidOptionError(msg, hint="e.g. --reward-amount 500")
        if self.reward_percent is not None and self.reward_percent > 100:
            msg = f"--reward-percent {self.reward_percent} is above 100"
            raise InvalidOptionError(msg, hint="give a percentage, e.g. --reward-percent 5")

    @property
    def kind(self) -> str:
        """满减, 每满减, percent, 满赠, tiers, lottery or points."""
        if self.tiers:
            return "tiers"
        if self.reward_amount is not None:
            return "per_multiple" if self.per_multiple else "amount"
        if self.reward_percent is not None:
            return "percent"
        if self.gift_cost is not None:
            return "gift"
        if self.lottery_prize_cost is not None:
            return "lottery"
        return "points"

    @property
    def lowers_revenue(self) -> bool:
        """Whether the reward is money off the order (else it costs gross profit only)."""
        return self.kind in ("amount", "per_multiple", "percent", "tiers")

    @property
    def entry(self) -> float:
        """The order value from which the scenario pays anything."""
        return min(t for t, _ in self.tiers) if self.tiers else self.threshold

    def label(self) -> str:
        """A short description, e.g. ``满5000减500``."""
        if self.name:
            return self.name
        x = _num(self.threshold)
        return {
            "amount": lambda: f"满{x}减{_num(self.reward_amount)}",
            "per_multiple": lambda: f"每满{x}减{_num(self.reward_amount)}",
            "percent": lambda: f"满{x}打{_num(100 - (self.reward_percent or 0))}%",
            "gift": lambda: f"满{x}赠(成本{_num(self.gift_cost)})",
            "tiers": lambda: "阶梯" + ",".join(f"{_num(t)}减{_num(r)}" for t, r in self.tiers),
            "lottery": lambda: f"满{x}抽奖(每次{_num(self.lottery_prize_cost)})",
            "points": lambda: f"满{x}积分x{_num(self.points_rate)}",
        }[self.kind]()

    def reward(self, value: pl.Expr) -> pl.Expr:
        """The reward an order of ``value`` gets (0 when it does not qualify)."""
        x = self.threshold
        if self.kind == "tiers":
            out = pl.lit(0.0)
            for t, r in sorted(self.tiers):
                out = pl.when(value >= t).then(pl.lit(r)).otherwise(out)
            return pl.min_horizontal(out, value)
        multiples = (value / x).floor()
        reward = {
            "amount": pl.min_horizontal(pl.lit(self.reward_amount), value),
            "per_multiple": pl.min_horizontal(multiples * (self.reward_amount or 0.0), value),
            "percent": value * (self.reward_percent or 0.0) / 100,
            "gift": pl.lit(self.gift_cost),
            "lottery": multiples * (self.lottery_prize_cost or 0.0),
            "points": value * (self.points_rate or 0.0) * self.point_value,
        }[self.kind]
        return pl.when(value >= x).then(reward).otherwise(0.0).cast(pl.Float64)

    def describe(self) -> dict[str, Any]:
        """The scenario's parameters for the JSON document."""
        doc: dict[str, Any] = {"name": self.label(), "kind": self.kind}
        doc["threshold"] = self.entry
        for key in ("reward_amount", "reward_percent", "gift_cost", "lottery_prize_cost",
                    "points_rate"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        if self.kind == "points":
            doc["point_value"] = self.point_value
        if self.tiers:
            doc["tiers"] = [{"threshold": t, "reward": r} for t, r in self.tiers]
        return doc


def _num(x: float | None) -> str:
    return "" if x is None else (f"{x:g}")


def parse_tiers(text: str) -> tuple[tuple[float, float], ...]:
    """``100:10,500:60`` -> ((100, 10), (500, 60))."""
    try:
        tiers = tuple(
            (float(t), float(r))
            for t, r in (part.split(":") for part in text.split(",") if part.strip())
        )
    except ValueError:
        msg = f"--tiers {text!r} is not a list of threshold:reward"
        raise InvalidOptionError(msg, hint="e.g. --tiers 100:10,500:60,1000:150") from None
    if not tiers or any(t <= 0 for t, _ in tiers):
        msg = f"--tiers {text!r} needs positive thresholds"
        raise InvalidOptionError(msg, hint="e.g. --tiers 100:10,500:60,1000:150")
    return tiers


def parse_sweep(text: str) -> list[float]:
    """``500:10000:500`` -> [500, 1000, ..., 10000] (start:stop:step, stop included)."""
    try:
        start, stop, step = (float(p) for p in text.split(":"))
    except ValueError:
        msg = f"--sweep {text!r} is not start:stop:step"
        raise InvalidOptionError(msg, hint="e.g. --sweep 500:10000:500") from None
    if step <= 0 or start <= 0 or stop < start:
        msg = f"--sweep {text!r} needs 0 < start <= stop and a positive step"
        raise InvalidOptionError(msg, hint="e.g. --sweep 500:10000:500")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 1000:
        msg = f"--sweep {text!r} gives {count} thresholds"
        raise InvalidOptionError(msg, hint="use at most 1000 thresholds (a larger step)")
    return [round(start + i * step, 6) for i in range(count)]


def parse_segment(text: str | None) -> dict[str, str]:
    """``customer_type=enterprise,industry=automotive`` -> {column: value}."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            msg = f"--segment {text!r} is not column=value[,column=value]"
            raise InvalidOptionError(msg, hint="e.g. --segment customer_type=enterprise")
        out[key.strip()] = value.strip()
    return out


_TOML_KEYS = {
    "threshold", "reward_amount", "per_multiple", "reward_percent", "gift_cost", "tiers",
    "lottery_prize_cost", "points_rate", "point_value",
}


def scenarios_from_toml(path: Path) -> list[Scenario]:
    """Scenarios from ``[scenarios.<name>]`` tables (or ``[promo.scenarios.<name>]``)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"scenario file {path} does not exist"
        hint = "give the path of a TOML file with [scenarios.<name>] tables"
        raise ConfigError(msg, hint=hint) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid TOML: {exc}"
        raise ConfigError(msg, hint="see the README for an example scenarios file") from None
    return scenarios_from_mapping(data.get("promo", data).get("scenarios", {}), str(path))


def scenarios_from_mapping(tables: Any, where: str) -> list[Scenario]:
    """Scenarios from a mapping name -> options (``tiers`` as "100:10,500:60" or pairs)."""
    example = '[scenarios.spend_5000]\nthreshold = 5000\nreward_amount = 500'
    if not isinstance(tables, dict) or not tables:
        msg = f"{where} defines no scenarios"
        raise ConfigError(msg, hint=example)
    out = []
    for name, spec in tables.items():
        if not isinstance(spec, dict) or set(spec) - _TOML_KEYS:
            unknown = sorted(set(spec) - _TOML_KEYS) if isinstance(spec, dict) else spec
            msg = f"scenario {name!r} in {where}: unknown keys {unknown}"
            raise ConfigError(msg, hint=f"known keys: {', '.join(sorted(_TOML_KEYS))}")
        args = dict(spec)
        tiers = args.pop("tiers", ())
        if isinstance(tiers, str):
            tiers = parse_tiers(tiers)
        else:
            tiers = tuple((float(t), float(r)) for t, r in tiers)
        threshold = float(args.pop("threshold", min((t for t, _ in tiers), default=0.0)))
        try:
            out.append(Scenario(threshold=threshold, tiers=tiers, name=str(name), **args))
        except InvalidOptionError as exc:
            msg = f"scenario {name!r} in {where}: {exc}"
            raise ConfigError(msg, hint=example) from None
    return out


@dataclass(frozen=True)
class Response:
    """How customers react: ``none`` or ``fixed`` (reach in yuan below X, uptake 0-1)."""

    model: str = "none"
    reach: float | None = None
    uptake: float = DEFAULT_UPTAKE

    def __post_init__(self) -> None:
        """Validate the model and its parameters."""
        if self.model not in RESPONSES:
            msg = f"--response {self.model!r} is not a model"
            raise InvalidOptionError(msg, hint="use --response none or --response fixed")
        if not 0 <= self.uptake <= 1:
            msg = f"--uptake {self.uptake} is not a probability"
            raise InvalidOptionError(msg, hint="e.g. --uptake 0.2")
        if self.reach is not None and not self.reach >= 0:
            msg = f"--reach {self.reach} is negative"
            raise InvalidOptionError(msg, hint="give yuan below the threshold, e.g. --reach 500")

    def reach_for(self, scenario: Scenario) -> float:
        """Reach in yuan for ``scenario`` (default 10 % of its entry threshold)."""
        return self.reach if self.reach is not None else DEFAULT_REACH_SHARE * scenario.entry


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
            "uptake": self.response.uptake if self.response.model != "none" else 0.0,
            "reach": main.get("reach"),
        }
        doc["customers_near_threshold"] = self.customers_near
        doc["histogram"] = self.histogram
        doc["targeting"] = self.targeting
        if len(self.scenarios) > 1:
            doc["scenarios"] = self.scenarios
        return doc

    def tables(self) -> list[Table]:
        """Scenarios ranked, then the order-value histogram around the threshold."""
        cols = ["rank", "name", "qualifying_orders", "qualifying_share", "subsidy_cost",
                "incremental_revenue", "net_gross_profit_effect", "roi", "break_even_uptake"]
        frame = pl.DataFrame(
            [{c: s["scenario"]["name"] if c == "name" else s.get(c) for c in cols}
             for s in self.scenarios],
            schema_overrides={"roi": pl.Float64, "break_even_uptake": pl.Float64},
        )
        return [
            Table("scenarios", "Threshold promotion what-if", frame,
                  money=("subsidy_cost", "incremental_revenue", "net_gross_profit_effect"),
                  shares=("qualifying_share",)),
            Table("histogram", "Orders by value around the threshold", self.histogram,
                  shares=("order_share",), bar="order_share"),
        ]

    def notes(self) -> list[str]:
        """Assumptions of the response model, targeting, missing cost."""
        notes = []
        if self.response.model == "none":
            notes.append("Response none: history replayed as it was; nobody tops up a basket.")
        else:
            notes.append(
                f"Response fixed: orders within {self.scenarios[0].get('reach'):g} yuan below "
                f"the threshold top up to it with probability {self.response.uptake:g}, at "
                "their own gross margin."
            )
        if not self.cost_known:
            notes.append("No cost column: gross profit figures are not available.")
        notes.extend(self.targeting)
        if len(self.scenarios) > 1:
            notes.append("Scenarios ranked by net gross profit effect (revenue without cost).")
        return notes


def simulate(
    inputs: Inputs,
    scenarios: Sequence[Scenario],
    *,
    period: Period | None = None,
    response: Response | None = None,
    segment: dict[str, str] | None = None,
    new_customers: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
) -> PromoResult:
    """Evaluate ``scenarios`` on the paid orders in ``period`` in one pass (module doc)."""
    if not scenarios:
        msg = "no scenario to simulate"
        raise InvalidOptionError(msg, hint="e.g. --threshold 5000 --reward-amount 500")
    if bootstrap < 0 or bootstrap > 10_000:
        msg = f"--bootstrap {bootstrap} is out of range"
        raise InvalidOptionError(msg, hint="use 0 (off) to 10000 resamples, e.g. --bootstrap 200")
    response = response or Response()
    period = period or Period()
    source = inputs.get("orders")
    cost_known = has_cost(source)
    sources = [source]
    targeting: list[str] = []
    all_orders = orders_frame(source, None)
    orders = all_orders.filter(period.filter("order_time"))
    if new_customers:
        first = all_orders.group_by("customer_id").agg(
            pl.col("order_id").sort_by("order_time", "order_id").first().alias("first_id")
        )
        orders = orders.join(first, left_on="order_id", right_on="first_id", how="semi")
        targeting.append("Only new customers' first paid orders count.")
    if segment:
        customers = inputs.optional("customers")
        missing = [k for k in segment if customers is None or not customers.has(k)]
        if missing:
            msg = f"--segment {','.join(missing)} needs a customers export with that column"
            raise MissingColumnError(msg, hint="give it with --customers customers.csv")
        assert customers is not None  # for the type checker; checked just above
        sources.append(customers)
        cond = pl.lit(True)
        for key, value in segment.items():
            cond = cond & (pl.col(key).cast(pl.String).str.to_lowercase() == value.lower())
        chosen = customers.valid.filter(cond).select("customer_id").unique()
        orders = orders.join(chosen, on="customer_id", how="semi")
        targeting.append(
            "Only customers with " + ", ".join(f"{k} = {v}" for k, v in segment.items()) + "."
        )
    value, gp = pl.col("value"), pl.col("gross_profit")
    margin_all = (gp.sum() / value.sum()).fill_nan(0.0)
    margin = pl.when(value > 0).then(gp / value).otherwise(margin_all).fill_null(0.0)
    if not cost_known:  # without cost, effects are counted in revenue (said in the notes)
        margin = pl.lit(1.0)
    base = orders.with_columns(margin.alias("margin")).cache()
    aggs: list[pl.Expr] = [
        pl.len().alias("orders"),
        value.sum().alias("revenue"),
        gp.sum().alias("gross_profit"),
    ]
    for i, s in enumerate(scenarios):
        aggs.extend(_scenario_aggs(i, s, response))
    first = scenarios[0]
    x = first.entry
    width = x / HISTOGRAM_BINS
    near = response.reach_for(first) if response.model == "fixed" else DEFAULT_REACH_SHARE * x
    hist = (
        base.filter((value >= x - x / 2) & (value < x + x / 2))
        .with_columns(((value - (x - x / 2)) / width).floor().cast(pl.Int64).alias("bin"))
        .group_by("bin")
        .agg(pl.len().alias("orders"))
    )
    customers_near = base.filter((value >= x - near) & (value < x)).select(
        pl.col("customer_id").n_unique().alias("customers")
    )
    plans = [base.select(aggs), hist, customers_near]
    if bootstrap:
        plans.append(base.group_by("customer_id").agg(_net_expr(first, response).sum()))
    frames, report = collect(plans, sources)
    totals = frames[0].row(0, named=True)
    rows = [
        _figures(i, s, response, totals, cost_known) for i, s in enumerate(scenarios)
    ]
    if bootstrap:
        rows[0]["net_gross_profit_effect_interval"] = _bootstrap(frames[3], bootstrap, seed)
    order = sorted(range(len(rows)), key=lambda i: -(rows[i]["net_gross_profit_effect"] or 0.0))
    for rank, i in enumerate(order, start=1):
        rows[i]["input_index"] = i
        rows[i]["rank"] = rank
        rows[i]["best"] = rank == 1
    if len(rows) > 1:
        rows = [rows[i] for i in order]
    histogram = _histogram(frames[1], x, width, int(totals["orders"]))
    return PromoResult(
        input=report,
        scenarios=rows,
        response=response,
        histogram=histogram,
        customers_near=int(frames[2]["customers"][0]),
        cost_known=cost_known,
        targeting=targeting,
    )


def _scenario_aggs(i: int, s: Scenario, response: Response) -> list[pl.Expr]:
    value, gp, margin = pl.col("value"), pl.col("gross_profit"), pl.col("margin")
    reward = s.reward(value)
    x, reach = s.entry, response.reach_for(s)
    aggs = [
        (value >= x).sum().alias(f"s{i}_qualifying"),
        reward.sum().alias(f"s{i}_cost"),
        pl.when(value >= x).then(value).otherwise(0.0).sum().alias(f"s{i}_qualifying_revenue"),
        gp.filter(value >= x).sum().alias(f"s{i}_qualifying_gp"),
    ]
    # Orders that could top up: per unit of uptake, their extra revenue, extra gross profit
    # and the reward they would then get.
    below = (value >= x - reach) & (value < x)
    gap = pl.when(below).then(x - value).otherwise(0.0)
    aggs += [
        below.sum().alias(f"s{i}_reachable"),
        gap.sum().alias(f"s{i}_gap_revenue"),
        (gap * margin).sum().alias(f"s{i}_gap_gp"),
        pl.when(below).then(s.reward(pl.lit(x, dtype=pl.Float64))).otherwise(0.0).sum()
        .alias(f"s{i}_gap_reward"),
    ]
    return aggs


def _net_expr(s: Scenario, response: Response) -> pl.Expr:
    """Per order: the net gross profit effect (for the bootstrap over customers)."""
    value, margin = pl.col("value"), pl.col("margin")
    x, reach = s.entry, response.reach_for(s)
    u = response.uptake if response.model == "fixed" else 0.0
    below = (value >= x - reach) & (value < x)
    gain = pl.when(below).then(u * ((x - value) * margin - s.reward(pl.lit(x, pl.Float64))))
    return (gain.otherwise(0.0) - s.reward(value)).alias("net")


def _figures(
    i: int, s: Scenario, response: Response, t: dict[str, Any], cost_known: bool
) -> dict[str, Any]:
    cost0 = float(t[f"s{i}_cost"] or 0.0)
    u = response.uptake if response.model == "fixed" else 0.0
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
        "qualifying_orders": int(t[f"s{i}_qualifying"]),
        "qualifying_share": int(t[f"s{i}_qualifying"]) / orders if orders else 0.0,
        "subsidy_cost": round(cost, 2),
        "subsidy_share_of_revenue": cost / revenue_before if revenue_before else None,
        "revenue_before": round(revenue_before, 2),
        "revenue_after": round(revenue_before + inc_revenue - money_off, 2),
        "gross_profit_before": None if gp_before is None else round(gp_before, 2),
        "gross_profit_after": None
        if gp_before is None
        else round(gp_before + (inc_gp or 0.0) - cost, 2),
        "reachable_orders": int(t[f"s{i}_reachable"]),
        "reach": response.reach_for(s),
        "incremental_revenue": round(inc_revenue, 2),
        "incremental_gross_profit": None if inc_gp is None else round(inc_gp, 2),
        "net_gross_profit_effect": round(net, 2),
        "roi": net / cost if cost else None,
        "break_even_uptake": break_even,
    }


def _histogram(bins: pl.DataFrame, x: float, width: float, orders: int) -> pl.DataFrame:
    counts = dict(zip(bins["bin"].to_list(), bins["orders"].to_list(), strict=True))
    lows = [x / 2 + b * width for b in range(HISTOGRAM_BINS)]
    n = [counts.get(b, 0) for b in range(HISTOGRAM_BINS)]
    return pl.DataFrame(
        {
            "lower": [round(v, 2) for v in lows],
            "upper": [round(v + width, 2) for v in lows],
            "orders": n,
            "order_share": [c / orders if orders else 0.0 for c in n],
            "qualifies": [lo >= x - 1e-9 for lo in lows],
        }
    )


def _bootstrap(per_customer: pl.DataFrame, n: int, seed: int) -> dict[str, Any]:
    """Percentile interval (2.5 %, 97.5 %) of the net effect, resampling customers."""
    values = per_customer["net"].to_numpy()
    rng = np.random.default_rng(seed)
    k = len(values)
    totals = np.array(
        [values @ rng.multinomial(k, np.full(k, 1.0 / k)) for _ in range(n)] if k else [0.0]
    )
    lo, hi = np.percentile(totals, [2.5, 97.5])
    return {"resamples": n, "lower": round(float(lo), 2), "upper": round(float(hi), 2),
            "seed": seed}


# What ``cust promo compare`` ranks when neither a file nor cust.toml names scenarios.
DEFAULT_COMPARISON = (
    Scenario(threshold=500, reward_amount=50),
    Scenario(threshold=1000, reward_amount=100),
    Scenario(threshold=5000, reward_amount=500),
    Scenario(threshold=1000, reward_amount=80, per_multiple=True),
    Scenario(threshold=1000, gift_cost=60),
    Scenario(threshold=100, tiers=((100, 10), (500, 60), (1000, 150))),
)


def sweep_scenarios(template: Scenario, thresholds: Sequence[float]) -> list[Scenario]:
    """The same reward at every threshold of a sweep."""
    if template.tiers:
        msg = "--sweep does not apply to --tiers"
        raise InvalidOptionError(msg, hint="sweep a single threshold reward instead")
    return [replace(template, threshold=x) for x in thresholds]
