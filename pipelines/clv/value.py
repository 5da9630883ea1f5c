"""``cust clv``: who will buy again, what each customer is worth, which B customers become A.

The summary per customer is lifetimes' (``summary_data_from_transaction_data``): purchases
are counted one per day (several paid orders on one day are one purchase, their values
summed); ``frequency`` = repeat purchase days, ``recency`` = first to last purchase day,
``T`` = first purchase day to the analysis date (``--as-of``, default the last order's day),
in ``--time-unit`` (a week is 7 days, a month 365.25/12 days); ``monetary_value`` = mean
value of the repeat purchase days. Only paid lines count (refunded and cancelled never).
It is computed by :func:`cust.pipelines.segment.rfm.customer_measures`, the same pass that
scores RFM.

BG/NBD and Gamma-Gamma are fitted by maximum likelihood (:mod:`.models`); a repeat
customer whose repeat purchases total 0 is left out of the Gamma-Gamma fit and counted.
Per customer: ``p_alive``, ``expected_purchases`` in ``--horizon``, ``expected_value``
(the Gamma-Gamma expected spend per purchase), and ``clv``: the expected gross profit over
the horizon, summed month by month and discounted at
``--discount-rate`` per year, with the customer's own gross margin where their orders have
a cost (else the shop's margin; without a cost column ``clv`` is expected revenue and
``clv_basis`` says so).

**B customers on their way to A**: B customers whose expected contribution over the horizon
(expected purchases x expected spend x margin, undiscounted, as ABC's past contribution is)
reaches the smallest contribution of an A customer.
**At-risk valuable customers**: A customers with ``p_alive`` below ``--at-risk-below``,
ranked by past revenue times the chance they have left.

**Holdout check** (``--holdout-until``): the repeat purchase days of each calibration
customer in (as-of, holdout] against the model's expected purchases for that span, in total
and by calibration frequency 0, 1, ..., 7+ (Fader, Hardie and Lee 2005, figure 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import numpy as np
import polars as pl

from ..errors import EmptySelectionError, InvalidOptionError
from ..io.inputs import Inputs, collect
from ..io.orders import Period, customer_orders, has_cost
from ..result import Result, Table
from ..segment.abc import abc_plan
from ..segment.rfm import DEFAULT_RULES, customer_measures, score_members
from .models import (
    FitError,
    distinct,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
)
from .models import p_alive as p_alive_of

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
MIN_CUSTOMERS = 20  # fewer customers cannot fit four parameters
MIN_REPEAT = 5  # nor fewer repeat customers the drop-out and spend models
HOLDOUT_WARN = 0.2  # relative error of the holdout total above which the fit is doubted
FREQ_CAP = 7  # calibration frequencies 7 and more are one row of the holdout table


@dataclass(frozen=True)
class ClvSpec:
    """The model's time unit, horizon (in days), discounting and the lists' settings."""

    time_unit: str = "week"
    horizon_days: int = 364
    discount_rate: float = 0.10
    holdout_until: date | None = None
    at_risk_below: float = 0.5
    top: int = 20

    def __post_init__(self) -> None:
        """Refuse choices that have no meaning."""
        if self.time_unit not in UNIT_DAYS:
            msg = f"--time-unit {self.time_unit!r} is not day, week or month"
            raise InvalidOptionError(msg, hint="use --time-unit week")
        if not 0 <= self.discount_rate < 10 or not math.isfinite(self.discount_rate):
            msg = f"--discount-rate {self.discount_rate} is not a yearly rate"
            raise InvalidOptionError(msg, hint="e.g. --discount-rate 0.1 for 10 % a year")
        if not 0 < self.at_risk_below <= 1:
            msg = f"--at-risk-below {self.at_risk_below} is not a probability"
            raise InvalidOptionError(msg, hint="e.g. --at-risk-below 0.5")
        if self.horizon_days < 1:
            msg = "--horizon must be at least a day"
            raise InvalidOptionError(msg, hint="e.g. --horizon 52w")


def parse_horizon(text: str) -> int:
    """``52w``, ``12m``, ``365d`` or ``1y`` to days (a month 30.4375 days, rounded)."""
    units = {"d": 1.0, "w": 7.0, "m": 365.25 / 12, "y": 365.25}
    number, unit = text[:-1].strip(), text[-1:].lower()
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if unit not in units or not math.isfinite(value) or value <= 0 or value > 100:
        msg = f"--horizon {text!r} is not a duration"
        raise InvalidOptionError(msg, hint="e.g. --horizon 52w, 12m, 365d or 1y")
    return max(1, round(value * units[unit]))


@dataclass(frozen=True, kw_only=True)
class ClvResult(Result):
    """The fitted models, per-customer values and the lists the playbook acts on."""

    command: ClassVar[str] = "clv"
    model: dict[str, Any]
    members: pl.DataFrame
    by_class: pl.DataFrame
    by_segment: pl.DataFrame
    b_to_a: pl.DataFrame
    at_risk: pl.DataFrame
    holdout: dict[str, Any] | None
    settings: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """``model``, the summaries, the two lists, the holdout check and the settings."""
        doc: dict[str, Any] = {
            "model": self.model,
            "customers": self.members.height,
            "repeat_customers": int((self.members["frequency"] > 0).sum()),
            "by_class": self.by_class,
            "by_segment": self.by_segment,
            "b_to_a_candidates": self.b_to_a,
            "at_risk": self.at_risk,
            "settings": self.settings,
        }
        if self.holdout is not None:
            doc["holdout"] = self.holdout
        return doc

    def tables(self) -> list[Table]:
        """Value by ABC class, by RFM segment, the two lists, and the holdout check."""
        basis = "gross profit" if self.settings["clv_basis"] == "gross_profit" else "revenue"
        tables = [
            Table("by_class", f"Expected value by ABC class (CLV: {basis}, "
                  f"{self.settings['horizon_days']} days)", self.by_class,
                  money=("clv", "mean_clv"), shares=("mean_p_alive",)),
            Table("by_segment", "Expected value by RFM segment", self.by_segment,
                  money=("clv", "mean_clv"), shares=("mean_p_alive",)),
            Table("b_to_a", "B customers on their way to A", self.b_to_a,
                  money=("expected_contribution", "clv", "a_threshold"), shares=("p_alive",)),
            Table("at_risk", "Valuable customers slipping away", self.at_risk,
                  money=("revenue", "clv"), shares=("p_alive",)),
        ]
        if self.holdout is not None:
            tables.append(Table("holdout", "Holdout check: repeat purchases, actual and "
                                "predicted", pl.DataFrame(self.holdout["by_frequency"])))
        return tables

    def export_table(self) -> pl.DataFrame:
        """One row per customer (``--out members.csv``)."""
        return self.members

    def notes(self) -> list[str]:
        """The model's fit in words, and what the figures assume."""
        b = self.model["bgnbd"]
        g = self.model["gamma_gamma"]
        notes = [
            f"BG/NBD on {b['customers']:,} customers: r = {b['r']:.4g}, alpha = "
            f"{b['alpha']:.4g}, a = {b['a']:.4g}, b = {b['b']:.4g} (log-likelihood "
            f"{b['log_likelihood']:,.1f}); Gamma-Gamma on {g['customers']:,} repeat customers: "
            f"p = {g['p']:.4g}, q = {g['q']:.4g}, v = {g['v']:.4g}.",
            "p_alive: the chance the customer has not left for good; expected_purchases: "
            "purchase days expected in the horizon; clv: their expected "
            + ("gross profit" if self.settings["clv_basis"] == "gross_profit" else "revenue")
            + f", discounted at {self.settings['discount_rate']:.0%} a year.",
        ]
        if g["excluded_zero_value"]:
            notes.append(f"{g['excluded_zero_value']} repeat customers whose repeat purchases "
                         "total 0 are left out of the Gamma-Gamma fit.")
        if self.settings["clv_basis"] == "revenue":
            notes.append("The orders export has no cost column: clv is expected revenue.")
        if self.holdout is not None:
            h = self.holdout
            notes.append(h["warning"] or (
                f"Holdout check: {h['predicted']:,.0f} repeat purchases predicted to "
                f"{h['until']}, {h['actual']:,} made ({h['relative_error']:+.0%})."))
        return notes


def clv(inputs: Inputs, spec: ClvSpec | None = None, *, period: Period | None = None) -> ClvResult:
    """Fit the models on paid orders up to the analysis date and value every customer."""
    spec = spec or ClvSpec()
    period = (period or Period()).ended_by_as_of()
    source = inputs.get("orders")
    cost_known = has_cost(source)
    measures = customer_measures(customer_orders(source, period), period)
    members_plan = score_members(measures, "value", DEFAULT_RULES)
    classes = abc_plan(inputs, period=period)  # the ABC classes from the same pass
    (raw, abc_frame), report = collect([members_plan, classes.per_customer],
                                       [source, *classes.sources[1:]])
    # In customer order: the likelihood's sums then add in the same order on every run, so
    # the fit (and every figure after it) is the same to the last digit.
    raw = raw.sort("customer_id")
    if raw.height == 0:
        msg = "no paid orders in the analysed period"
        hint = "check --since/--until/--as-of against the dates in the orders export (cust check)"
        raise EmptySelectionError(msg, hint=hint)
    as_of: date = raw["as_of"][0]
    unit = UNIT_DAYS[spec.time_unit]
    x = raw["frequency"].to_numpy().astype(float)
    tx = raw["recency"].to_numpy().astype(float) / unit
    T = raw["T"].to_numpy().astype(float) / unit
    m = raw["monetary_value"].to_numpy().astype(float)
    repeat = x > 0
    if raw.height < MIN_CUSTOMERS or repeat.sum() < MIN_REPEAT:
        msg = (f"{raw.height:,} customers, {int(repeat.sum()):,} of them with a repeat purchase "
               f"day up to {as_of}: too few to fit BG/NBD (at least {MIN_CUSTOMERS} customers "
               f"and {MIN_REPEAT} repeat customers)")
        raise FitError(msg, hint="give a longer history (--since earlier or --as-of later)")
    bg = fit_bgnbd(x, tx, T)
    positive = repeat & (m > 0)
    if positive.sum() < MIN_REPEAT:
        msg = (f"{int(positive.sum())} repeat customers spent more than 0: too few to fit the "
               "Gamma-Gamma spend model")
        raise FitError(msg, hint="give a longer history (--since earlier or --as-of later)")
    gg = fit_gamma_gamma(x[positive], m[positive])
    # Per customer figures of BG/NBD depend on (x, t_x, T) alone: computed once for each
    # distinct triple (a third of the customers; 13 hypergeometric passes) and handed out.
    triple, _, back = distinct(x, tx, T)
    alive = p_alive_of(bg, *triple)[back]
    horizon = spec.horizon_days / unit
    purchases = expected_purchases(bg, horizon, *triple)[back]
    spend = expected_spend(gg, x, m)
    margin, basis = _margins(raw, cost_known)
    value = margin * spend * _discounted_purchases(bg, spec, *triple)[back]
    bad = ~np.isfinite(purchases) | ~np.isfinite(value) | ~np.isfinite(alive)
    if bad.any():
        msg = f"the fitted model gives no finite value for {int(bad.sum())} customers"
        raise FitError(msg, hint="the history may be too short for the horizon; try "
                       "--horizon 26w or a longer history")
    abc = classes.finish(abc_frame, report).members.select(
        "customer_id", pl.col("class").alias("abc_class"), pl.col("contribution"))
    members = raw.select(
        "customer_id", pl.col("frequency").cast(pl.Int64),
        (pl.col("recency") / unit).alias("recency"), (pl.col("T") / unit).alias("T"),
        pl.col("monetary_value"),
    ).with_columns(
        pl.Series("p_alive", alive), pl.Series("expected_purchases", purchases),
        pl.Series("expected_value", spend), pl.Series("clv", value),
        pl.Series("expected_contribution", purchases * spend * margin),
        raw["revenue"].alias("revenue"), raw["segment"].alias("rfm_segment"),
    ).join(abc, on="customer_id", how="left").sort("clv", "customer_id",
                                                    descending=[True, False])
    holdout = (_holdout(inputs, bg, spec, raw, as_of, x, tx, T)
               if spec.holdout_until is not None else None)
    return ClvResult(
        input=report,
        model={
            "time_unit": spec.time_unit,
            "bgnbd": {**bg.params, "log_likelihood": bg.log_likelihood, "se": bg.se,
                      "customers": bg.customers},
            "gamma_gamma": {**gg.params, "log_likelihood": gg.log_likelihood, "se": gg.se,
                            "customers": gg.customers,
                            "excluded_zero_value": int((repeat & ~positive).sum())},
        },
        members=members.select(
            "customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
            "expected_purchases", "expected_value", "clv", "abc_class", "rfm_segment"),
        by_class=_summary(members, "abc_class"),
        by_segment=_summary(members, "rfm_segment"),
        b_to_a=_b_to_a(members, spec.top),
        at_risk=_at_risk(members, spec),
        holdout=holdout,
        settings={"as_of": as_of, "horizon_days": spec.horizon_days,
                  "discount_rate": spec.discount_rate, "clv_basis": basis,
                  "at_risk_below": spec.at_risk_below},
    )


def _margins(raw: pl.DataFrame, cost_known: bool) -> tuple[np.ndarray, str]:
    """Each customer's gross margin (their own where known, else the shop's), and the basis."""
    if not cost_known:
        return np.ones(raw.height), "revenue"
    gp, revenue = raw["gross_profit"], raw["revenue"]
    known = gp.is_not_null() & (revenue > 0)
    shop = (float(gp.filter(known).sum()) / float(revenue.filter(known).sum())
            if known.any() else 1.0)
    own = (gp / revenue).to_numpy()
    return np.where(known.to_numpy(), own, shop), "gross_profit"


def _discounted_purchases(bg: Any, spec: ClvSpec, x: np.ndarray, tx: np.ndarray,
                          T: np.ndarray) -> np.ndarray:
    """Expected purchases over the horizon, each month's discounted to today."""
    unit = UNIT_DAYS[spec.time_unit]
    month = 365.25 / 12
    steps = max(1, math.ceil(spec.horizon_days / month - 1e-9))
    ends_days = np.minimum(np.arange(1, steps + 1) * month, spec.horizon_days)
    total = np.zeros(len(x))
    before = np.zeros(len(x))
    for days in ends_days:
        upto = expected_purchases(bg, days / unit, x, tx, T)
        total += (upto - before) / (1 + spec.discount_rate) ** (days / 365.25)
        before = upto
    return total


def _summary(members: pl.DataFrame, by: str) -> pl.DataFrame:
    return (
        members.filter(pl.col(by).is_not_null())
        .group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("p_alive").mean().alias("mean_p_alive"),
            pl.col("expected_purchases").mean().alias("mean_expected_purchases"),
            pl.col("clv").sum().alias("clv"),
            pl.col("clv").mean().alias("mean_clv"),
        )
        .sort(by)
    )


def _b_to_a(members: pl.DataFrame, top: int) -> pl.DataFrame:
    """B customers whose expected contribution reaches A's smallest contribution."""
    a_floor = members.filter(pl.col("abc_class") == "A")["contribution"].min()
    columns = ["customer_id", "expected_contribution", "p_alive", "expected_purchases", "clv"]
    if a_floor is None:
        return members.head(0).select(columns).with_columns(a_threshold=pl.lit(None))
    return (
        members.filter((pl.col("abc_class") == "B")
                       & (pl.col("expected_contribution") >= a_floor))
        .sort("expected_contribution", "customer_id", descending=[True, False])
        .head(top)
        .select(*columns, pl.lit(a_floor).alias("a_threshold"))
    )


def _at_risk(members: pl.DataFrame, spec: ClvSpec) -> pl.DataFrame:
    """A customers unlikely to be alive, by past revenue times the chance they have left."""
    return (
        members.filter((pl.col("abc_class") == "A") & (pl.col("p_alive") < spec.at_risk_below))
        .with_columns(
            (pl.col("revenue") * (1 - pl.col("p_alive"))).alias("revenue_at_risk"),
            ((pl.col("T") - pl.col("recency")) * UNIT_DAYS[spec.time_unit]).round(0)
            .cast(pl.Int64).alias("days_since_last"),
        )
        .sort("revenue_at_risk", "customer_id", descending=[True, False])
        .head(spec.top)
        .select("customer_id", "revenue", "p_alive", "frequency", "days_since_last", "clv",
                "revenue_at_risk")
    )


def _holdout(inputs: Inputs, bg: Any, spec: ClvSpec, raw: pl.DataFrame, as_of: date,
             x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> dict[str, Any]:
    """Actual repeat purchase days in (as_of, holdout] against the model's expectation."""
    until = spec.holdout_until
    assert until is not None
    if until <= as_of:
        msg = f"--holdout-until {until} is not after the analysis date {as_of}"
        raise InvalidOptionError(msg, hint="give --as-of the end of the calibration period "
                                 "and --holdout-until a later date")
    later = Period(since=as_of + timedelta(days=1), until=until)
    source = inputs.get("orders")
    days = (
        customer_orders(source, later)
        .select("customer_id", pl.col("order_time").dt.date().alias("day"))
        .unique()
        .group_by("customer_id")
        .agg(pl.len().cast(pl.Int64).alias("actual"))
    )
    (actual,), _ = collect([days], [])
    span = (until - as_of).days / UNIT_DAYS[spec.time_unit]
    table = pl.DataFrame({
        "customer_id": raw["customer_id"],
        "frequency": np.minimum(x, FREQ_CAP).astype(np.int64),
        "predicted": expected_purchases(bg, span, x, tx, T),
    }).join(actual, on="customer_id", how="left").with_columns(pl.col("actual").fill_null(0))
    rows = (
        table.group_by("frequency")
        .agg(pl.len().cast(pl.Int64).alias("customers"),
             pl.col("actual").mean().alias("actual_mean"),
             pl.col("predicted").mean().alias("predicted_mean"))
        .sort("frequency")
        .with_columns(pl.col("frequency").cast(pl.String).replace({str(FREQ_CAP): f"{FREQ_CAP}+"}))
    )
    total_actual = int(table["actual"].sum())
    total_predicted = float(table["predicted"].sum())
    error = (total_predicted - total_actual) / total_actual if total_actual else None
    warning = None
    if error is None or abs(error) > HOLDOUT_WARN:
        shown = "no purchase at all" if error is None else f"an error of {error:+.0%}"
        warning = (f"Holdout check: the model predicts {total_predicted:,.0f} repeat purchases "
                   f"in ({as_of}, {until}] against {total_actual:,} actual, {shown}: do not "
                   "trust its figures for this shop without a look at why.")
    return {"until": until, "actual": total_actual, "predicted": total_predicted,
            "relative_error": error, "by_frequency": rows.to_dicts(), "warning": warning}
