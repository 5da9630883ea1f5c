"""Drivers of conversion (``cust funnel drivers``): what sets converting units apart.

For the units that reached step k (the funnel's, :mod:`.count`), *converted* means they went
on to reach step k+1. Each candidate driver splits them in two:

* a property value (``--properties``, default platform, channel and category where the
  events have them): the value on the unit's step-k event (the event by which it reached
  the step), against every other value;
* a prior event (``did_before``): the unit did that event (not one of steps 1..k) before it
  reached step k: in its session up to that time, or for ``--unit user`` from its step-1
  time on.

Per driver, the 2x2 table of units with / without it that converted / did not gives the
sample odds ratio with a 95 % Woolf (log-normal) interval, with 0.5 added to every cell of
a table that has an empty cell (Haldane-Anscombe); the two-sided p-value of Fisher's exact
test (:func:`scipy.stats.fisher_exact`); and the Benjamini-Hochberg q-value over every driver
tested (:func:`scipy.stats.false_discovery_control`). Drivers with fewer than ``min_units``
units on either side are not tested. The counts come from one collect over the events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import polars as pl
from scipy import stats

from ..errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.orders import Period
from ..result import Result, Table
from .count import UNIT, reached, unit_frame
from .spec import NOT_BREAKDOWNS, RESERVED, FunnelSpec

PRIOR = "did_before"  # the property of the prior-event drivers
DEFAULT_PROPERTIES = ("platform", "channel", "category")
Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile
ALPHA = 0.05


def chosen_steps(text: str | None, steps: tuple[str, ...]) -> tuple[int, ...]:
    """``--step``: a step's number or name, or ``all``; default the step before the last."""
    n = len(steps)
    if text is None:
        return (n - 1,)
    if text == "all":
        return tuple(range(1, n))
    k = int(text) if text.isdigit() else (steps.index(text) + 1 if text in steps else 0)
    if not 1 <= k < n:
        msg = f"--step {text!r} is not one of the steps 1..{n - 1} ({', '.join(steps[:-1])})"
        raise InvalidOptionError(msg, hint="the units at a step convert to the next one, so "
                                 "the last step has no drivers; or --step all")
    return (k,)


def odds_ratios(a: np.ndarray, b: np.ndarray, c: np.ndarray,
                d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Odds ratio (a d) / (b c) and its 95 % Woolf interval, Haldane-corrected on zeros."""
    cells = np.stack([a, b, c, d]).astype(float)
    cells = cells + 0.5 * (cells == 0).any(axis=0)
    log_or = np.log(cells[0]) + np.log(cells[3]) - np.log(cells[1]) - np.log(cells[2])
    se = np.sqrt((1.0 / cells).sum(axis=0))
    return np.exp(log_or), np.exp(log_or - Z95 * se), np.exp(log_or + Z95 * se)


def _table(counts: pl.DataFrame, total: int, converted: int, min_units: int) -> pl.DataFrame:
    """Odds ratios, intervals and p-values (module doc) for the drivers' counts.

    ``counts``: ``step``, ``property``, ``value``, ``units_with``, ``converted_with``; the
    drivers with fewer than ``min_units`` units on either side are dropped.
    """
    frame = counts.with_columns(
        (pl.lit(total) - pl.col("units_with")).alias("units_without"),
        (pl.lit(converted) - pl.col("converted_with")).alias("converted_without"),
    ).filter((pl.col("units_with") >= min_units) & (pl.col("units_without") >= min_units))
    a = frame["converted_with"].to_numpy()
    b = frame["units_with"].to_numpy() - a
    c = frame["converted_without"].to_numpy()
    d = frame["units_without"].to_numpy() - c
    ratio, low, high = odds_ratios(a, b, c, d)
    p = np.array([stats.fisher_exact([[int(w), int(x)], [int(y), int(z)]]).pvalue
                  for w, x, y, z in zip(a, b, c, d, strict=True)], dtype=float)
    return frame.with_columns(
        (pl.col("converted_with") / pl.col("units_with")).alias("rate_with"),
        (pl.col("converted_without") / pl.col("units_without")).alias("rate_without"),
        pl.Series("odds_ratio", ratio, dtype=pl.Float64),
        pl.Series("ci_low", low, dtype=pl.Float64),
        pl.Series("ci_high", high, dtype=pl.Float64),
        pl.Series("p_value", p, dtype=pl.Float64),
    ).with_columns(
        pl.when(pl.col("odds_ratio") >= 1).then(pl.lit("over")).otherwise(pl.lit("under"))
        .alias("direction"),
    )


@dataclass(frozen=True, kw_only=True)
class DriversResult(Result):
    """Drivers of conversion at one or more steps, strongest first."""

    command: ClassVar[str] = "funnel drivers"
    spec: FunnelSpec
    at_steps: tuple[int, ...]
    properties: tuple[str, ...]
    prior: bool
    min_units: int
    units: list[dict[str, Any]]  # per step analysed: step, next_step, units, converted
    drivers: pl.DataFrame
    tested: int

    def payload(self) -> dict[str, Any]:
        """``steps_analysed``, ``drivers`` and how they were tested."""
        return {
            "unit": self.spec.unit,
            "steps": list(self.spec.steps),
            "steps_analysed": self.units,
            "properties": list(self.properties),
            "prior_events": self.prior,
            "min_units": self.min_units,
            "tested": self.tested,
            "correction": "benjamini_hochberg",
            "drivers": self.drivers,
        }

    def tables(self) -> list[Table]:
        """The drivers, strongest first (the step column only when there are several)."""
        one = len(self.at_steps) == 1
        at = f" at {self.spec.steps[self.at_steps[0] - 1]}" if one else ""
        return [Table("drivers", f"Drivers of conversion{at} (odds ratio of converting with "
                      "the value vs without)", self.drivers,
                      shares=("rate_with", "rate_without"),
                      shown=(*(() if one else ("step",)), "property", "value", "units_with",
                             "rate_with", "rate_without", "odds_ratio", "ci_low", "ci_high",
                             "q_value", "direction"),
                      headers=(("ci_low", "95% CI low"), ("ci_high", "95% CI high"),
                               ("q_value", "q (BH)")))]

    def notes(self) -> list[str]:
        """What converted means, and how the drivers were tested."""
        notes = [f"Unit: {self.spec.unit}. Converted: a unit at the step reached the next one."]
        notes.extend(
            f"{u['step']} -> {u['next_step']}: {u['converted']:,} of {u['units']:,} units "
            "converted." for u in self.units)
        notes.append(
            f"{self.tested} drivers tested (at least {self.min_units} units with and without "
            "each): odds ratios with 95% Woolf intervals (0.5 added to every cell of a table "
            "with an empty cell), Fisher's exact p-values, Benjamini-Hochberg q-values; "
            "significant: q < 0.05. Properties are those of the event by which the unit "
            f"reached the step; {PRIOR}: an event the unit did before it."
        )
        return notes


def drivers(
    inputs: Inputs,
    spec: FunnelSpec,
    *,
    step: str | None = None,
    properties: tuple[str, ...] | None = None,
    prior: bool = True,
    min_units: int = 30,
    top: int = 20,
    period: Period | None = None,
) -> DriversResult:
    """Count and test the drivers of conversion at ``step`` (module doc)."""
    if top < 1:
        msg = f"--top {top} is below 1"
        raise InvalidOptionError(msg, hint="e.g. --top 20")
    if min_units < 1:
        msg = f"--min-units {min_units} is below 1"
        raise InvalidOptionError(msg, hint="e.g. --min-units 30")
    at = chosen_steps(step, spec.steps)
    source = inputs.get("events")
    if properties is None:
        properties = tuple(p for p in DEFAULT_PROPERTIES if source.has(p))
    for p in properties:
        if not source.has(p):
            found = ", ".join(source.columns)
            msg = f"--properties {p}: the events export has no {p!r} column (columns: {found})"
            raise MissingColumnError(msg, hint="properties can be any column of the events")
    properties = tuple(dict.fromkeys(properties))
    for p in properties:
        if p in NOT_BREAKDOWNS or RESERVED.fullmatch(p):
            what = NOT_BREAKDOWNS.get(p, "a name the funnel uses for its own columns")
            msg = f"--properties {p}: {p} cannot be a property ({what})"
            raise InvalidOptionError(msg, hint="e.g. --properties platform,channel,category")
    if not properties and not prior:
        msg = "no drivers to test: no --properties and --no-prior"
        raise InvalidOptionError(msg, hint="give --properties platform,channel or drop "
                                 "--no-prior")
    window = (period or Period()).ended_by_as_of().filter("event_time")
    has_session = source.has("session_id") and spec.unit == "session"
    keep = ["user_id", "event", "event_time", *properties,
            *(["session_id"] if has_session else [])]
    events = unit_frame(source.valid.filter(window).select(list(dict.fromkeys(keep))), spec,
                        has_session)
    if not prior:
        events = events.filter(pl.col("event").is_in(list(spec.steps)))
    events = events.cache()
    conv = pl.col("__converted")
    plans: list[pl.LazyFrame] = []
    for k in at:
        attribution = "first" if k == 1 or not properties else f"step:{k}"
        per_unit = (reached(events, replace(spec, by=properties, attribution=attribution))
                    .filter(pl.col(f"t{k}").is_not_null())
                    .with_columns(pl.col(f"t{k + 1}").is_not_null().alias("__converted")))
        header = [pl.lit(k, dtype=pl.Int64).alias("step")]
        plans.append(per_unit.select(*header, pl.len().cast(pl.Int64).alias("units"),
                                     conv.sum().cast(pl.Int64).alias("converted")))
        for p in properties:
            plans.append(per_unit.group_by(
                pl.col(p).cast(pl.String).fill_null("(none)").alias("value")).agg(
                pl.len().cast(pl.Int64).alias("units_with"),
                conv.sum().cast(pl.Int64).alias("converted_with"),
            ).select(*header, pl.lit(p).alias("property"), "value", "units_with",
                     "converted_with"))
        if prior:
            before = pl.col("event_time") <= pl.col(f"t{k}")
            if spec.unit == "user":
                before = before & (pl.col("event_time") >= pl.col("t1"))
            did = (events.filter(~pl.col("event").is_in(list(spec.steps[:k])))
                   .select(*UNIT, "event", "event_time")
                   .join(per_unit.select(*UNIT, *dict.fromkeys(["t1", f"t{k}"]), "__converted"),
                         on=UNIT)
                   .filter(before).group_by(*UNIT, "event")
                   .agg(conv.first()))
            plans.append(did.group_by(pl.col("event").cast(pl.String).alias("value")).agg(
                pl.len().cast(pl.Int64).alias("units_with"),
                conv.sum().cast(pl.Int64).alias("converted_with"),
            ).select(*header, pl.lit(PRIOR).alias("property"), "value", "units_with",
                     "converted_with"))
    frames, report = collect(plans, [source])
    per_step = 1 + len(properties) + (1 if prior else 0)
    units: list[dict[str, Any]] = []
    tables: list[pl.DataFrame] = []
    for i, k in enumerate(at):
        head = frames[i * per_step]
        total, converted = int(head["units"][0]), int(head["converted"][0])
        units.append({"step": spec.steps[k - 1], "next_step": spec.steps[k],
                      "units": total, "converted": converted})
        if total:
            counts = pl.concat(frames[i * per_step + 1:(i + 1) * per_step])
            tables.append(_table(counts, total, converted, min_units))
    if not any(u["units"] for u in units):
        names = ", ".join(u["step"] for u in units)
        msg = f"no unit reached {names} in the selected period"
        raise EmptySelectionError(msg, hint="check --steps against the event names "
                                  "(cust check --events ...)")
    tested = pl.concat(tables)
    # The correction over every driver tested, whichever step it belongs to.
    pvals = tested["p_value"].to_numpy()
    q = stats.false_discovery_control(pvals, method="bh") if len(pvals) else pvals
    strength = pl.col("odds_ratio").log().abs()
    shown = (
        tested.with_columns(pl.Series("q_value", q, dtype=pl.Float64)).with_columns(
            (pl.col("q_value") < ALPHA).alias("significant"),
            pl.col("step").replace_strict({k: spec.steps[k - 1] for k in at},
                                          return_dtype=pl.String),
            strength.alias("__strength"),
        )
        .sort(["__strength", "q_value", "step", "property", "value"],
              descending=[True, False, False, False, False])
        .drop("__strength").head(top)
        .select("step", "property", "value", "units_with", "converted_with", "rate_with",
                "units_without", "converted_without", "rate_without", "odds_ratio",
                "ci_low", "ci_high", "p_value", "q_value", "direction", "significant")
    )
    return DriversResult(input=report, spec=spec, at_steps=at, properties=properties,
                         prior=prior, min_units=min_units, units=units,
                         drivers=shown, tested=tested.height)
