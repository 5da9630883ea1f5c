"""Conversion funnels over the click-stream (CONTRACT.md section 3, "Funnel").

A *unit* is a session (default) or a user. Sessions come from ``session_id``; without it a
session is a run of one user's events with no gap longer than 30 minutes. A unit enters
step 1 at its earliest ``s1`` event; it reaches step k at its earliest ``s_k`` event at or
after the time it reached step k-1 (other events in between are fine, equal timestamps count
as in order). With ``--unit user`` only events within ``--window`` (default 24 h) of the
unit's first ``s1`` count. The unit's period (day, or ISO week from Monday) is that of its
step-1 time, and its breakdown values (``--by``) are those of its step-1 event.

Each step is one join of the step's events to the units that reached the previous step and
a group-by minimum; only the events named in the steps are read, so a 50M-event file is
scanned once and the work is proportional to the events that matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import polars as pl

from .. import calendar
from ..errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect, report_of
from ..io.loader import REASON, Source, merge_tallies, parquet_passes
from ..io.orders import Period
from ..io.parse import lookup
from ..io.passes import ENGINE, run_plans
from ..result import Result, Table
from .drift import detect
from .explain import Plan, explain_columns, sentence
from .explain import explain as explain_runs
from .spec import (
    SESSION_GAP,
    FunnelSpec,
    segment_text,
)
from .value import (
    VALUE,
    priced,
    step_columns,
    step_values,
    value_columns,
    value_counts,
    value_names,
    yuan,
)

# A unit is keyed by one 128-bit integer made of 64-bit hashes: h1(user) in the high half,
# h2(user) xor h3(session) in the low half (for a user unit, h2(user) alone). Joins and
# group-bys on one integer are several times faster than on strings, and 1.4x faster than
# on two 64-bit columns; hashing the columns apart is 2 s faster on 50M events than
# hashing a struct of them. Two units share a key only if the high halves collide (odds
# 2^-64 per pair of users) and the low halves too, or, within one user, two of its
# sessions' h3 collide: about 1e-12 for a million users with a few dozen sessions each.
UNIT = ["__unit"]
# Above this many events (of a Parquet export) the funnel splits the users into passes, each
# about this size: 50M events peak at 2.7 GB in one pass on the generated click-stream.
PASS_ROWS = 150_000_000
EXIT = "(exit)"  # the next step of a unit's last event (paths)
OWNER = "__owner"  # with --same: the unit a unit-and-item key belongs to
CART, PURCHASE = "add_to_cart", "purchase"  # cart abandonment's two events
SECONDS = "__seconds_"  # per step k >= 2, the units' seconds from step k-1 (lists)


def _unit_key(user: pl.Expr, session: pl.Expr | None = None) -> pl.Expr:
    """The :data:`UNIT` key of a user, or of one session of a user."""
    high = user.hash(seed=11).reinterpret(signed=True).cast(pl.Int128)
    low = user.hash(seed=12) if session is None else user.hash(seed=12) ^ session.hash(seed=13)
    return (high * pl.lit(2**64, dtype=pl.Int128) + low.cast(pl.Int128)).alias(UNIT[0])


def unit_frame(source_events: pl.LazyFrame, spec: FunnelSpec, has_session: bool) -> pl.LazyFrame:
    """Events of the steps with a ``__unit`` key (session, derived session or user)."""
    ev = source_events
    if spec.unit == "user":
        return ev.with_columns(_unit_key(pl.col("user_id")))
    if has_session:
        return ev.with_columns(_unit_key(pl.col("user_id"), pl.col("session_id")))
    # Derived sessions need every event of a user, not only the steps' events.
    ordered = ev.sort("user_id", "event_time")
    gap = pl.col("event_time").diff().over("user_id")
    new = (gap > SESSION_GAP).fill_null(True) | gap.is_null()
    seq = new.cast(pl.Int64).cum_sum().over("user_id")
    return ordered.with_columns(_unit_key(pl.col("user_id"), seq))


def reached(events: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """One row per unit that entered step 1: its step times ``t1..tn`` (null if not reached).

    Also ``period`` and the ``--by`` values of its step-1 event (Categorical; null if none).
    ``events`` are the steps' events and the ``--exclude`` events (with ``--order strict``
    every event of the units); ``spec.order`` chooses :func:`_ordered`, :func:`_strict` or
    :func:`_any`.
    """
    # The steps' events, reduced to the unit key, step number and time, are computed once
    # and reused by every step (each step would otherwise re-read and re-check the export).
    index = [(k, [step]) for k, step in enumerate(spec.steps, start=1)]
    if spec.exclude:
        index.append((0, list(spec.exclude)))  # step 0: an exclusion
    if spec.order != "strict":
        events = events.filter(pl.col("event").is_in([*spec.steps, *spec.exclude]))
    events = (
        events.select(
            *UNIT,
            lookup(pl.col("event"), index, pl.Int8).alias("__step"),
            "event_time",
            *(["__row"] if spec.order == "strict" else []),
            *([OWNER] if spec.same else []),
            # Categorical: the breakdowns travel with the units and are grouped as integers.
            *[pl.col(b).cast(pl.String).cast(pl.Categorical) for b in spec.by],
        )
        .cache()
    )
    count = {"ordered": _ordered, "strict": _strict, "any": _any}[spec.order]
    units = count(events, spec)
    return units.with_columns(calendar.start_expr(spec.period, pl.col("t1")).alias("period"))


def _first_steps(events: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Each unit's earliest step-1 time ``t1`` and the ``--by`` values of that event."""
    return events.filter(pl.col("__step") == 1).group_by(*UNIT).agg(
        pl.col("event_time").min().alias("t1"),
        *[pl.col(b).sort_by("event_time").first().alias(b) for b in spec.by],
        *([pl.col(OWNER).first()] if spec.same else []),
    )


def _ordered(events: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """The contract's funnel, with ``--exclude`` and optional steps.

    A required step k is reached at the earliest ``s_k`` at or after the time the unit
    reached the last required step before it (its :meth:`FunnelSpec.reference`), and not
    after the first exclusion event strictly after that time (the unit has left). An
    optional step is reached at its earliest event between the step before it and the next
    required step's time (or, the unit not reaching that, the first exclusion).
    """
    units = _first_steps(events, spec)
    limit = pl.col("t1") + spec.window if spec.unit == "user" else None
    excl = events.filter(pl.col("__step") == 0).select(*UNIT, "event_time")
    n = len(spec.steps)

    def capped(units: pl.LazyFrame, t: str) -> pl.LazyFrame:
        """``__cap_t``: the unit's first exclusion event strictly after its time ``t``."""
        if not spec.exclude:
            return units
        first = (excl.join(units.filter(pl.col(t).is_not_null()).select(*UNIT, t), on=UNIT)
                 .filter(pl.col("event_time") > pl.col(t)).group_by(*UNIT)
                 .agg(pl.col("event_time").min().alias(f"__cap_{t}")))
        return units.join(first, on=UNIT, how="left")

    attributed = spec.attribution != "first"

    def earliest(units: pl.LazyFrame, k: int, prev: str, cap: pl.Expr | None) -> pl.LazyFrame:
        """``t{k}``: the earliest ``s_k`` at or after ``prev``, not after ``cap``.

        With ``--attribution`` other than first, also that event's ``--by`` values.
        """
        cols = [*UNIT, prev, "t1", *([] if cap is None else cap.meta.root_names())]
        values = list(spec.by) if attributed else []
        cand = events.filter(pl.col("__step") == k).select(*UNIT, "event_time", *values).join(
            units.filter(pl.col(prev).is_not_null()).select(*dict.fromkeys(cols)), on=UNIT,
        )
        cond = pl.col("event_time") >= pl.col(prev)
        if limit is not None:
            cond = cond & (pl.col("event_time") <= limit)
        if cap is not None:
            cond = cond & (cap.is_null() | (pl.col("event_time") <= cap))
        hit = cand.filter(cond).group_by(*UNIT).agg(
            pl.col("event_time").min().alias(f"t{k}"),
            *[pl.col(b).sort_by("event_time").first().alias(f"__b{k}_{b}") for b in values],
        )
        return units.join(hit, on=UNIT, how="left")

    units = capped(units, "t1")
    for k in range(2, n + 1):
        if spec.optional[k - 1]:
            continue
        prev = f"t{spec.reference(k)}"
        cap = pl.col(f"__cap_{prev}") if spec.exclude else None
        units = earliest(units, k, prev, cap)
        if k < n:
            units = capped(units, f"t{k}")
    for k in range(2, n + 1):
        if not spec.optional[k - 1]:
            continue
        prev = f"t{spec.reference(k)}"
        nxt = next((j for j in range(k + 1, n + 1) if not spec.optional[j - 1]), None)
        ends = [pl.col(f"t{nxt}")] if nxt else []
        if spec.exclude:
            ends.append(pl.col(f"__cap_{prev}"))
        cap = pl.coalesce(ends) if ends else None
        units = earliest(units, k, prev, cap)
    if attributed:
        units = units.with_columns(_attributed(spec, b).alias(b) for b in spec.by)
    return units.select(*UNIT, *spec.by, *([OWNER] if spec.same else []),
                        *[f"t{k}" for k in range(1, n + 1)])


def _attributed(spec: FunnelSpec, b: str) -> pl.Expr:
    """The ``--by`` value ``b`` a unit carries under ``--attribution`` (not ``first``)."""
    def at(k: int) -> pl.Expr:
        return pl.col(b) if k == 1 else pl.col(f"__b{k}_{b}")

    step = spec.attributed_step()
    if step is not None:
        return at(step)
    chain: Any = pl
    for k in range(len(spec.steps), 1, -1):  # the last step reached, deepest first
        chain = chain.when(pl.col(f"t{k}").is_not_null()).then(at(k))
    return chain.otherwise(at(1))


def _strict(events: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Steps as consecutive events of the unit: nothing else between them.

    ``events`` are all of the units' events (``__step`` null for the others), ordered by
    time and then by their place in the export (``__row``). An event of step k ends a run
    when the k-1 events before it in its unit are steps 1..k-1; the unit reaches step k at
    the earliest end of such a run (for ``--unit user`` within ``--window`` of its first
    step-1 time).
    """
    n = len(spec.steps)
    step = pl.col("__step")
    ordered = events.sort(*UNIT, "event_time", "__row")
    run = step.is_not_null()
    for j in range(1, n):
        same = pl.col(UNIT[0]).shift(j) == pl.col(UNIT[0])
        run = run & ((step <= j) | (same & (step.shift(j) == step - j)).fill_null(False))
    ends = ordered.filter(run & (step >= 2)).select(*UNIT, "__step", "event_time")
    units = _first_steps(events, spec)
    ends = ends.join(units.select(*UNIT, "t1"), on=UNIT)
    if spec.unit == "user":
        ends = ends.filter(pl.col("event_time") <= pl.col("t1") + spec.window)
    times = ends.group_by(*UNIT).agg(
        pl.col("event_time").filter(step == k).min().alias(f"t{k}") for k in range(2, n + 1)
    )
    return units.join(times, on=UNIT, how="left")


def _any(events: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Steps in any order: step k is reached when steps 1..k were all done.

    A session is its own window; a user's window (``--window``) starts at its earliest
    event of any step. With ``--exclude`` the window ends at the first exclusion event
    strictly after that start. ``t_k`` is the time the last of steps 1..k was first done
    (so times to convert are never negative); ``t1``, the period and the breakdowns are
    those of the unit's earliest step-1 event in its window.
    """
    n = len(spec.steps)
    step = pl.col("__step")
    if spec.unit == "user" or spec.exclude:
        start = (events.filter(step >= 1).group_by(*UNIT)
                 .agg(pl.col("event_time").min().alias("__start")))
        events = events.join(start, on=UNIT)
        if spec.unit == "user":
            events = events.filter(pl.col("event_time") <= pl.col("__start") + spec.window)
        if spec.exclude:
            cap = (events.filter((step == 0) & (pl.col("event_time") > pl.col("__start")))
                   .group_by(*UNIT).agg(pl.col("event_time").min().alias("__cap")))
            events = events.join(cap, on=UNIT, how="left").filter(
                pl.col("__cap").is_null() | (pl.col("event_time") <= pl.col("__cap")))
    firsts = events.filter(step >= 1).group_by(*UNIT).agg(
        *[pl.col("event_time").filter(step == k).min().alias(f"__f{k}")
          for k in range(1, n + 1)],
        *[pl.col(b).filter(step == 1).sort_by(pl.col("event_time").filter(step == 1))
          .first().alias(b) for b in spec.by],
    ).filter(pl.col("__f1").is_not_null())
    return firsts.select(
        *UNIT, *spec.by,
        *[pl.when(pl.all_horizontal(pl.col(f"__f{j}").is_not_null() for j in range(1, k + 1)))
          .then(pl.max_horizontal(pl.col(f"__f{j}") for j in range(1, k + 1))).alias(f"t{k}")
          for k in range(1, n + 1)],
    )


def same_item(units: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """``--same``: the unit key becomes the unit and its item (``column``); ``__owner`` the unit.

    Events without the item (null) cannot be the same item and are dropped. The key
    combines 64-bit hashes as :func:`_unit_key` does (collisions: odds 2^-64 per pair).
    """
    high = pl.col(UNIT[0]).hash(seed=21).reinterpret(signed=True).cast(pl.Int128)
    low = pl.col(column).cast(pl.String).hash(seed=22).cast(pl.Int128)
    return (units.filter(pl.col(column).is_not_null())
            .with_columns(pl.col(UNIT[0]).alias(OWNER))
            .with_columns((high * pl.lit(2**64, dtype=pl.Int128) + low).alias(UNIT[0])))


def deepest(per_item: pl.LazyFrame, n: int) -> pl.LazyFrame:
    """``--count units`` with ``--same``: each unit once, as its item that went deepest.

    Ties go to the earlier step-1 time; the unit's step times, period and breakdowns are
    that item's.
    """
    depth = pl.sum_horizontal(pl.col(f"t{k}").is_not_null() for k in range(1, n + 1))
    return (per_item.with_columns(depth.alias("__depth"))
            .group_by(OWNER).agg(pl.all().sort_by(["__depth", "t1"],
                                                  descending=[True, False]).first())
            .drop("__depth"))


def abandonment(units: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Cart abandonment over ``units`` (the steps' events with their ``__unit`` key).

    A unit that added to cart is every unit with an ``add_to_cart`` event, whether or not
    it entered the funnel's first step; it abandoned when it has no ``purchase`` at or
    after its first ``add_to_cart`` (for ``--unit user``: within ``--window`` of it), in
    whatever order the funnel's other steps came. One row: ``units_with_cart``,
    ``abandoned`` (with ``--value``, also ``abandoned_value``: the micro-units of the
    abandoned units' ``add_to_cart`` events).
    """
    valued = spec.value is not None
    carts = (units.filter(pl.col("event") == CART).group_by(*UNIT)
             .agg(pl.col("event_time").min().alias("__cart"),
                  *([pl.col(VALUE).sum().alias("__cart_value")] if valued else [])))
    after = pl.col("event_time") >= pl.col("__cart")
    if spec.unit == "user":
        after = after & (pl.col("event_time") <= pl.col("__cart") + spec.window)
    bought = (units.filter(pl.col("event") == PURCHASE).select(*UNIT, "event_time")
              .join(carts, on=UNIT).filter(after).select(*UNIT).unique())
    return carts.join(bought.with_columns(pl.lit(True).alias("__bought")), on=UNIT,
                      how="left").select(
        pl.len().cast(pl.Int64).alias("units_with_cart"),
        pl.col("__bought").is_null().sum().cast(pl.Int64).alias("abandoned"),
        *([pl.col("__cart_value").filter(pl.col("__bought").is_null()).sum()
           .cast(pl.Int64).alias("abandoned_value")] if valued else []),
    )


VALUE_COLUMNS = ("value", "value_lost", "gross_profit", "gross_profit_lost")
VALUE_NOTES = {
    "column": "Value: the sum of {column} over each unit's events of a step from the time it "
              "reached the step; value_lost: the value at the step before of the units that "
              "did not reach this one.",
    "orders": "Value from the orders export: an event's order_id takes its paid order's value "
              "and gross profit (once per unit and step), else its sku the SKU's paid price "
              "per unit; summed over each unit's events of a step from the time it reached "
              "it; value_lost: the value at the step before of the units that did not "
              "reach this one.",
}
ORDER_NOTES = {
    "strict": "Order strict: the steps are consecutive events of the unit, nothing between.",
    "any": "Order any: a unit reaches step k when it did steps 1..k in any order within its "
           "window (a session; for a user, --window from its first event of any step).",
}


@dataclass(frozen=True, kw_only=True)
class FunnelResult(Result):
    """Funnel counts per step and per period (and breakdown), with drift alerts if asked."""

    command: ClassVar[str] = "funnel"
    spec: FunnelSpec
    steps: pl.DataFrame
    periods: pl.DataFrame  # period, by..., entered_1..entered_n
    behaviour: dict[str, Any]
    data_end: Any
    alerts: list[dict[str, Any]] | None = None
    drift_method: dict[str, Any] | None = None
    explanations: list[dict[str, Any]] = field(default_factory=list)
    unseen_steps: tuple[str, ...] = ()  # steps with no event of their name in the period
    times_to_convert: pl.DataFrame | None = None  # with --times: per step k >= 2

    def payload(self) -> dict[str, Any]:
        """``steps``, ``periods`` and (with ``--drift``) ``alerts`` as in the contract."""
        n = len(self.spec.steps)
        periods = [
            {
                "period": r["period"],
                "segment": {b: r[b] for b in self.spec.by},
                "entered": [r[f"entered_{k}"] for k in range(1, n + 1)],
            }
            for r in self.periods.iter_rows(named=True)
        ]
        doc: dict[str, Any] = {
            "unit": self.spec.unit,
            "period_unit": self.spec.period,
            "by": list(self.spec.by),
            "steps": self.steps,
            "periods": periods,
            **self.behaviour,
        }
        if self.unseen_steps:
            doc["unseen_steps"] = list(self.unseen_steps)
        # Issue 24's options, only when given: a plain funnel's keys are unchanged.
        if self.spec.order != "ordered":
            doc["order"] = self.spec.order
        if self.spec.exclude:
            doc["exclude"] = list(self.spec.exclude)
        if self.spec.same:
            doc["same"], doc["count"] = self.spec.same, self.spec.count
        if self.spec.attribution != "first":
            doc["attribution"] = self.spec.attribution
        if self.spec.value is not None:
            doc["value"] = self.spec.value
        if any(self.spec.optional):
            doc["optional_steps"] = [s for s, o in zip(self.spec.steps, self.spec.optional,
                                                       strict=True) if o]
        if self.times_to_convert is not None:
            doc["times_to_convert"] = [
                {**{c: r[c] for c in r if not c.startswith("hist_")},
                 "histogram": [{"bin": label, "lower_seconds": lo, "upper_seconds": hi,
                                "units": r[f"hist_{i}"]}
                               for i, (label, lo, hi) in enumerate(TIME_BINS)]}
                for r in self.times_to_convert.iter_rows(named=True)
            ]
        if self.alerts is not None:
            doc["alerts"] = self.alerts
            doc["drift_method"] = self.drift_method
            if self.explanations:
                doc["explanations"] = self.explanations
        return doc

    def tables(self) -> list[Table]:
        """Steps with a funnel bar, then alerts, then explanations."""
        tables = [
            Table("steps", "Funnel", self.steps.drop("median_seconds_to_convert"),
                  shares=("conversion_from_previous", "conversion_from_first"),
                  money=VALUE_COLUMNS,
                  bar="conversion_from_first"),
        ]
        if self.times_to_convert is not None:
            frame = self.times_to_convert.rename(
                {f"hist_{i}": label for i, (label, _, _) in enumerate(TIME_BINS)})
            tables.append(Table("times_to_convert", "Time to convert (seconds; units per "
                                "time band)", frame,
                                shares=("within_1h", "within_1d", "within_7d")))
        if self.alerts:
            # The tested rate is the window's (since the change began): it is the one
            # outside the band; the period's own rate is shown only on request.
            cols = ["period", "step", "segment", "window_rate", "lower", "upper", "expected",
                    "direction", "since", "z", "test", "rate"]
            frame = pl.DataFrame(
                [{c: (segment_text(a[c]) if c == "segment" else a.get(c)) for c in cols}
                 for a in self.alerts]
            )
            tables.append(Table("alerts", "Drift alerts", frame,
                                shares=("rate", "window_rate", "expected", "lower", "upper"),
                                shown=tuple(cols[:-1]),
                                headers=(("window_rate", "Tested rate (window)"),
                                         ("lower", "Band low"), ("upper", "Band high"),
                                         ("rate", "Period's own rate"))))
        behind = [
            {"alert": f"{e['step']} {segment_text(e['segment'])} since {e['since']}",
             **{k: c[k] for k in ("column", "value", "units", "rate", "expected",
                                  "change_in_units", "share")}}
            for e in self.explanations
            for c in _top_per_column(e.get("contributors", []), 3)
        ]
        if behind:
            tables.append(Table("contributors", "Behind the alerts (values ranked by the "
                                "conversions they lost or gained)", pl.DataFrame(behind),
                                shares=("rate", "expected", "share")))
        for e in self.explanations:
            if e.get("price_rises"):
                tables.append(Table(
                    f"prices_{len(tables)}",
                    f"Price rises behind {e['step']} {segment_text(e['segment'])} "
                    f"since {e['since']}",
                    pl.DataFrame(e["price_rises"]), money=("old_price", "new_price"),
                    shares=("change",),
                ))
        banners = self.behaviour.get("banners")
        if banners is not None and banners.height:
            tables.append(Table("banners", "Banner click-through", banners,
                                shares=("click_through",), bar="click_through"))
        return tables

    def notes(self) -> list[str]:
        """Unit, drift method and what was not judged."""
        notes = [f"Unit: {self.spec.unit}; periods by {self.spec.period} of the step-1 time."]
        if self.spec.order != "ordered":
            notes.append(ORDER_NOTES[self.spec.order])
        if self.spec.exclude:
            notes.append(f"A unit that did {' or '.join(self.spec.exclude)} between two steps "
                         "left the funnel there.")
        if self.spec.same:
            what = ("every unit-and-item pair counts" if self.spec.count == "conversions"
                    else "a unit counts once, as its item that went deepest")
            notes.append(f"Same {self.spec.same} through the steps: {what}.")
        if any(self.spec.optional):
            notes.append("Optional steps count the units that did them; the step after one "
                         "converts from the last required step before it.")
        if self.unseen_steps:
            names = ", ".join(repr(s) for s in self.unseen_steps)
            those = "that step counts" if len(self.unseen_steps) == 1 else "those steps count"
            notes.append(
                f"No event named {names} in the selected period: {those} 0 because no such "
                "event occurs (check --steps against the event names: cust check --events)."
            )
        if "cart_abandonment" in self.behaviour and self.behaviour["cart_abandonment"]:
            ab = self.behaviour["cart_abandonment"]
            if ab.get("rate") is not None:
                notes.append(
                    f"Cart abandonment: {ab['rate']:.1%} of {ab['units_with_cart']:,} units "
                    "that added to cart did not purchase after it (in whatever order "
                    "the other steps came)."
                )
        if self.spec.value is not None:
            notes.append(VALUE_NOTES["orders" if self.spec.value == "orders" else "column"]
                         .format(column=self.spec.value))
            lost = (self.behaviour.get("cart_abandonment") or {}).get("abandoned_value")
            if lost is not None:
                notes.append(f"Abandoned carts held {lost:,.2f} (the value of every item the "
                             "abandoning units added to cart).")
        drop = self.behaviour.get("cart_step_drop_off")
        if drop and drop.get("rate") is not None:
            notes.append(
                f"Drop-off after the cart step: {drop['rate']:.1%} of "
                f"{drop['reached_cart_step']:,} units that reached it in the funnel's order "
                "did not reach its purchase step in that order."
            )
        if self.drift_method:
            m = self.drift_method
            notes.append(
                f"Drift: {m['test']}; family-wise false-alarm rate {m['alpha']:.0%} over "
                f"{m['tests']} tests (|z| > {m['z_critical']:.2f}). Periods after "
                f"{m['last_judged']} are not judged (units may not have finished)."
            )
            if self.alerts == []:
                notes.append("No drift alerts.")
        notes.extend(sentence(e) for e in self.explanations)
        return notes


def _top_per_column(items: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    out = []
    for c in items:
        seen[c["column"]] = seen.get(c["column"], 0) + 1
        if seen[c["column"]] <= top:
            out.append(c)
    return out




def funnel(
    inputs: Inputs,
    spec: FunnelSpec,
    *,
    period: Period | None = None,
    drift: Any = None,
    explain: bool = False,
    banners: bool = True,
    passes: int | None = None,
    timing: bool = False,
) -> FunnelResult:
    """Count the funnel (module doc); ``drift`` is a :class:`.drift.DriftSpec` or None.

    With ``drift``, the alerts of :func:`.drift.detect`; with ``explain`` too, the explain
    columns' values are tested as series of their own and each run of alerts gets the
    breakdown values and price rises behind it (:mod:`.funnel_drift`).

    ``banners=False`` leaves banner click-through out (the report does not show it).
    ``timing=True`` adds the distribution of the times to convert per step
    (:func:`_times_to_convert`).
    ``passes`` splits the users into that many passes over the events (default: one per
    :data:`PASS_ROWS` events of a Parquet export), so a click-stream larger than memory is
    counted in parts of bounded size with the same figures.
    """
    period = period or Period()
    source = inputs.get("events")
    for b in spec.by:
        if not source.has(b):
            found = ", ".join(source.columns)
            msg = f"--by {b}: the events export has no {b!r} column (columns: {found})"
            raise MissingColumnError(msg, hint="breakdowns can be any column of the events export")
    if spec.same and not source.has(spec.same):
        msg = f"--same {spec.same}: the events export has no {spec.same!r} column"
        raise MissingColumnError(msg, hint="hold an events column constant, e.g. --same sku")
    # Events after --as-of are not yet known on the analysis date (refused before --since).
    window = period.ended_by_as_of().filter("event_time")
    banners = banners and source.has("banner_id")
    if drift is not None and any(spec.optional):
        msg = "--drift needs every step required (an optional step's conversion is not a rate"
        msg += " of the step before it)"
        raise InvalidOptionError(msg, hint="drop the '?' from --steps, or drop --drift")
    # The steps' events and the exclusions; --order strict reads every event (any other
    # event between two steps breaks the run).
    wanted = set(spec.steps) | set(spec.exclude)
    every = spec.order == "strict"
    has_session = source.has("session_id") and spec.unit == "session"
    # Only the steps' events are validated for the units (derived sessions need every event
    # of a user); the rows read and rejected are counted over the whole export (_tally).
    derived = (spec.unit == "session" and not has_session) or every
    events = (source if derived else source.where("event", sorted(wanted))).valid.filter(window)
    # With --explain the units also carry the explain columns' step-1 values, so the
    # breakdowns behind an alert come out of the same pass.
    extra = explain_columns(source.has, spec.by) if explain and drift is not None else ()
    wide = replace(spec, by=(*spec.by, *extra))
    priced_by = value_columns(spec, source)
    orders = inputs.get("orders") if spec.value == "orders" else None
    keep = ["user_id", "event", "event_time", *wide.by, *([spec.same] if spec.same else []),
            *priced_by]
    if has_session:
        keep.append("session_id")
    keep = list(dict.fromkeys(keep))
    n = len(spec.steps)
    entered = [f"entered_{k}" for k in range(1, n + 1)]
    counts = [pl.col(f"t{k}").is_not_null().sum().alias(entered[k - 1]) for k in range(1, n + 1)]
    if spec.value is not None:
        counts += value_counts(spec)
    profit = False

    def kept(ev: pl.LazyFrame) -> pl.LazyFrame:
        """The columns read, with each event's value when ``--value`` is given."""
        nonlocal profit
        ev = ev.select(keep)
        if spec.value is None:
            return ev
        ev, profit = priced(ev, spec, priced_by, orders)
        return ev
    cart = CART in spec.steps and PURCHASE in spec.steps
    ci = spec.steps.index(CART) + 1 if cart else 0
    pi = spec.steps.index(PURCHASE) + 1 if cart else 0
    # The funnel's own drop-off after its cart step (in the steps' order): a figure of its
    # own, not cart abandonment (which is any purchase after the cart, in whatever order).
    step_drop = cart and pi > ci
    if step_drop:
        counts.append((pl.col(f"t{ci}").is_not_null() & pl.col(f"t{pi}").is_null()).sum()
                      .alias("__dropped_after_cart"))

    def unit_plans(ev: pl.LazyFrame, split: bool) -> list[pl.LazyFrame]:
        """The units' counts and their seconds to convert, over the events ``ev``.

        One group-by by period, breakdowns and explain columns; the totals, per-period and
        explain counts are sums over it. ``split``: ``ev`` are the events of some of the
        users (a pass, a Spark partition), whose frames add up with the others'.
        """
        if every:
            # The export's order breaks ties of time in a strict run (numbered before a
            # derived session's sort).
            units = unit_frame(kept(ev).with_row_index("__row"), spec, has_session)
        elif spec.unit == "session" and not has_session:
            units = unit_frame(kept(ev), spec, False).filter(
                pl.col("event").is_in(list(wanted))
            )
        else:
            units = unit_frame(kept(ev.filter(pl.col("event").is_in(list(wanted)))),
                               spec, has_session)
        if spec.same:
            units = same_item(units, spec.same)
        per_unit = reached(units, wide)
        if spec.value is not None:
            per_unit = step_values(units, per_unit, spec, UNIT)
        if spec.same and spec.count == "units":
            per_unit = deepest(per_unit, n)
        carts = [abandonment(units, spec)] if cart else []
        seconds = [
            (pl.col(f"t{k}") - pl.col(f"t{spec.reference(k)}")).dt.total_seconds(fractional=True)
            for k in range(2, n + 1)
        ]
        if not split:
            # The seconds travel as lists in the counting group-by: a second plan over the
            # units (for the medians) ran the joins of reached() again (14.0 -> 10.4 s).
            lists = [s.alias(f"{SECONDS}{k}") for k, s in enumerate(seconds, start=2)]
            return [per_unit.group_by("period", *wide.by).agg(*counts, *lists), *carts]
        # Beyond memory: exact medians later, from the value counts of every pass.
        times = pl.concat([
            per_unit.select(pl.lit(k, dtype=pl.Int8).alias("k"), s.alias("s"))
            .drop_nulls("s").group_by("k", "s").agg(pl.len().alias("units"))
            for k, s in enumerate(seconds, start=2)
        ])
        # The breakdowns as text: the parts' frames are concatenated.
        fine = per_unit.group_by("period", *wide.by).agg(counts)
        return [fine.with_columns(pl.col(b).cast(pl.String) for b in wide.by), times, *carts]

    # Whole-file figures: the rows read and rejected with the data's end, and the banners.
    # With --explain the prices are an input too, counted whether or not an alert reads
    # them: their bad rows are reported and fail --strict like the events' (CONTRACT 1).
    prices = inputs.optional("prices") if explain and drift is not None else None
    side = [s for s in (prices, orders) if s is not None]
    whole = [_tally(source, window), *([_banner_counts(source, window)] if banners else []),
             *(s.tally() for s in side)]
    spark = inputs.engine.name == "spark"
    seen: set[str] | None = None
    time_counts: pl.DataFrame | None = None
    passes = 0 if spark else passes or _passes(source)
    if spark:
        from ..io.spark import spark_parts

        steps_only = list(spec.steps)

        def work(part: Source) -> list[pl.DataFrame]:
            """One Spark partition (some users, all their events): its parts of the figures."""
            ev = (part if derived else part.where("event", sorted(wanted))).valid.filter(window)
            named = (part.where("event", steps_only).valid
                     .filter(window & pl.col("event").is_in(steps_only))
                     .select(pl.col("event").unique()))
            return pl.collect_all(
                [*unit_plans(ev, True), _tally(part, window), named,
                 *([_banner_counts(part, window)] if banners else [])],
                engine=ENGINE,
            )

        got = spark_parts(source, "user_id", work, inputs.engine)
        fines, time_counts = got[0], got[1]
        cart_parts = [got[2]] if cart else []
        tallies, named, *shown = got[3 if cart else 2:]
        seen = set(named["event"].to_list())
        end = tallies["end"].max()
        # The prices (--explain) are small: read here.
        counted = [merge_tallies([tallies.drop("end")]).with_columns(pl.lit(end).alias("end")),
                   *shown, *(run_plans([s.tally() for s in side], side) if side else [])]
    elif passes == 1:
        # Apart: together, Polars caches the rows the plans share (the whole export's
        # when the banners read it too: 3.6 GB), and the units' plan gains nothing.
        fine, *cart_parts = run_plans(unit_plans(events, False), [source])
        counted = run_plans(whole, [source, *side], share=False)
        lists = [f"{SECONDS}{k}" for k in range(2, n + 1)]
        times = fine.select(
            pl.col(c).explode().median().alias(f"median_{k}")
            for k, c in enumerate(lists, start=2)
        )
        time_counts = pl.concat([
            fine.select(pl.lit(k, dtype=pl.Int8).alias("k"), pl.col(c).explode().alias("s"))
            .drop_nulls("s").group_by("k", "s").agg(pl.len().alias("units"))
            for k, c in enumerate(lists, start=2)
        ]) if timing else None
        fine = fine.drop(lists)
    else:
        # Beyond memory: users split by hash into passes that each fit; counts add up and
        # the medians come from the merged value counts, so the figures are the same.
        user = pl.col("user_id").hash(seed=13) % passes
        counted = run_plans(whole, [source, *side], share=False)  # apart from the passes
        parts = [collect(unit_plans(events.filter(user == i), True), [])[0]
                 for i in range(passes)]
        fines = pl.concat(p[0] for p in parts)
        time_counts = pl.concat(p[1] for p in parts)
        cart_parts = [pl.concat(p[2] for p in parts)] if cart else []
    if spark or passes > 1:  # the parts' frames (Spark's partitions, or the passes) merged
        assert time_counts is not None
        names = [c.meta.output_name() for c in counts]
        fine = fines.group_by("period", *wide.by).agg(
            pl.col(c).sum().cast(fines.schema[c]) for c in names
        )
        times = _medians(time_counts, n)
    fine = fine.with_columns(pl.col(b).cast(pl.String).fill_null("(none)") for b in wide.by)
    sums = [pl.col(c).sum().cast(fine.schema[c]) for c in entered]
    tot = {**fine.select(sums).row(0, named=True), **times.row(0, named=True)}
    if not tot["entered_1"]:
        msg = f"no unit entered the first step ({spec.steps[0]!r}) in the selected period"
        raise EmptySelectionError(
            msg, hint="check --steps against the event names (cust check --events ...)"
        )
    steps = _steps_frame(spec, tot)
    if spec.value is not None:
        worth = fine.select(pl.col(c).sum() for c in value_names(spec)).row(0, named=True)
        steps = steps.with_columns(pl.Series(c, v, dtype=pl.Float64)
                                   for c, v in step_columns(spec, worth, profit).items())
    distribution = (_times_to_convert(time_counts, spec, tot)
                    if timing and time_counts is not None else None)
    by_period = fine.group_by("period", *spec.by).agg(sums).sort("period", *spec.by)
    behaviour: dict[str, Any] = {}
    if cart:
        with_cart = int(cart_parts[0]["units_with_cart"].sum())
        abandoned = int(cart_parts[0]["abandoned"].sum())
        behaviour["cart_abandonment"] = {
            "units_with_cart": with_cart,
            "abandoned": abandoned,
            "rate": abandoned / with_cart if with_cart else None,
        }
        if spec.value is not None:
            behaviour["cart_abandonment"]["abandoned_value"] = yuan(
                cart_parts[0]["abandoned_value"].sum())
        if spec.same:  # a purchase of the same item: per unit and item
            behaviour["cart_abandonment"]["per"] = f"unit and {spec.same}"
    if step_drop:
        at_cart, dropped = tot[f"entered_{ci}"], int(fine["__dropped_after_cart"].sum())
        behaviour["cart_step_drop_off"] = {
            "step": CART,
            "reached_cart_step": at_cart,
            "did_not_reach_purchase_step": dropped,
            "rate": dropped / at_cart if at_cart else None,
        }
    breakdowns = {
        c: fine.group_by("period", *spec.by, c).agg(sums).sort("period", *spec.by, c)
        for c in extra
    }
    tallied = counted[0]
    if banners:
        behaviour["banners"] = _banners(counted[1])
    data_end: Any = tallied["end"].max()
    report = report_of([source, *side], [tallied, *counted[len(counted) - len(side):]])
    unseen = _unseen(source, window, [s for k, s in enumerate(spec.steps, start=1)
                                      if not tot[f"entered_{k}"]], seen)
    result = FunnelResult(
        input=report, spec=spec, steps=steps, periods=by_period, behaviour=behaviour,
        data_end=data_end, unseen_steps=unseen, times_to_convert=distribution,
    )
    if drift is None:
        return result
    # With --explain, each explain column's values are series of their own, so a drop
    # confined to one platform or category is flagged even where the whole funnel hides it.
    alerts, method = detect(by_period, spec, drift, data_end,
                            breakdowns if explain else None)
    if spark:
        from ..io.spark import spark_parts

        def over_events(plan: Plan) -> pl.DataFrame:
            """``plan`` over each Spark partition's events, the counts added up."""
            (views,) = spark_parts(
                source, "user_id",
                lambda part: [plan(part.valid.filter(window)).collect(engine=ENGINE)],
                inputs.engine)
            return views.group_by(pl.exclude("views")).agg(pl.col("views").sum())
    else:
        def over_events(plan: Plan) -> pl.DataFrame:
            return collect([plan(events)], [])[0][0]

    explanations = (
        explain_runs(alerts, breakdowns, spec.steps, spec.period, drift.periods(spec), inputs,
                     over_events, source.has("sku"))
        if explain and alerts else []
    )
    return replace(result, alerts=alerts, drift_method=method, explanations=explanations)


def _unseen(source: Source, window: pl.Expr, empty: list[str],
            found: set[str] | None = None) -> tuple[str, ...]:
    """The steps of ``empty`` (steps no unit reached) with no valid event in the period.

    Run only when a step counts 0, which real funnels rarely do, so the common case
    costs no pass: the zeros of a step never seen (a typo in --steps) are not the zeros
    of a step seen but never reached in order. ``found``: the steps' event names seen in
    the period, when known already (Spark's partitions).
    """
    if not empty:
        return ()
    if found is None:
        (seen,) = run_plans([
            source.where("event", empty).valid
            .filter(window & pl.col("event").is_in(empty)).select(pl.col("event").unique())
        ], [source])
        found = set(seen["event"].to_list())
    return tuple(s for s in empty if s not in found)


BANNER_EVENTS = ("banner_view", "banner_click")


def _tally(source: Source, window: pl.Expr) -> pl.LazyFrame:
    """The events' rows by rejection reason, with the last event time of the period.

    Validating 50M events is most of a pass over them, so the data's end is folded into
    the group-by that counts the rows (:meth:`Source.tally`) instead of validating the
    events once more for it. The per-row column is made before the group-by: a
    ``filter`` inside an aggregation is evaluated group by group.
    """
    if source.prevalidated:  # the rows' tally known (the events cache): the end alone
        end = source.valid.filter(window).select(pl.col("event_time").max().alias("end"))
        return source.tally().join(end, how="cross")
    kept = pl.col(REASON).is_null() & window.fill_null(False)
    ends = source.checked.with_columns(__end=pl.when(kept).then(pl.col("event_time")))
    return source.tally(ends, pl.col("__end").max().alias("end"))


def _banner_counts(source: Source, window: pl.Expr) -> pl.LazyFrame:
    """Valid banner views and clicks in the period, per banner and kind (``__click``).

    Their own plan over the banner events only (:meth:`Source.where`): folded into the
    counting group-by as two more keys they cost 1.7 s on 50M events, because every row
    then grouped by a banner cell; the banner rows are 15% of them (0.5 s).
    """
    return (
        source.where("event", BANNER_EVENTS).valid.filter(window)
        .group_by("banner_id", (pl.col("event") == "banner_click").alias("__click"))
        .agg(pl.len().alias("rows"))
    )


def _banners(shown: pl.DataFrame) -> pl.DataFrame:
    """Views, clicks and click-through per banner, from :func:`_banner_counts`."""
    return (
        shown.group_by("banner_id")
        .agg(
            pl.col("rows").filter(~pl.col("__click")).sum().alias("views"),
            pl.col("rows").filter(pl.col("__click")).sum().alias("clicks"),
        )
        .sort("banner_id")
        .with_columns(
            pl.when(pl.col("views") > 0).then(pl.col("clicks") / pl.col("views"))
            .alias("click_through")
        )
    )


def _passes(source: Source) -> int:
    """One pass per :data:`PASS_ROWS` events of a Parquet export (row counts from the footers)."""
    return parquet_passes(source, PASS_ROWS)


def _medians(counts: pl.DataFrame, n: int) -> pl.DataFrame:
    """``median_k`` for each step from the value counts (``k``, ``s``, ``units``) of all passes."""
    row: dict[str, float | None] = {}
    for k in range(2, n + 1):
        h = counts.filter(pl.col("k") == k).group_by("s").agg(pl.col("units").sum()).sort("s")
        total = int(h["units"].sum()) if h.height else 0
        if total == 0:
            row[f"median_{k}"] = None
            continue
        cum = h["units"].cum_sum()

        def at(rank: int, h: pl.DataFrame = h, cum: pl.Series = cum) -> float:
            return float(h["s"][int(cum.search_sorted(rank, side="right"))])

        row[f"median_{k}"] = (at((total - 1) // 2) + at(total // 2)) / 2
    return pl.DataFrame([row], schema={f"median_{k}": pl.Float64 for k in range(2, n + 1)})


# Histogram bands of the times to convert: label, lower (inclusive), upper (exclusive).
TIME_BINS = (("<10s", 0, 10), ("10s-1m", 10, 60), ("1m-10m", 60, 600),
             ("10m-1h", 600, 3600), ("1h-1d", 3600, 86400), ("1d-7d", 86400, 604800),
             (">=7d", 604800, None))
WITHIN = (("within_1h", 3600), ("within_1d", 86400), ("within_7d", 604800))


def _times_to_convert(counts: pl.DataFrame, spec: FunnelSpec,
                      tot: dict[str, Any]) -> pl.DataFrame:
    """Per step k >= 2, from the value counts (``k``, ``s``, ``units``) of its seconds.

    ``units`` that converted; ``median_seconds`` and ``p90_seconds`` (linear interpolation
    between the order statistics, as numpy's default); ``within_1h/1d/7d``: the share of
    the units at the step it converts from (:meth:`FunnelSpec.reference`) that reached it
    within that time; ``hist_i``: the units per :data:`TIME_BINS` band.
    """
    rows = []
    for k in range(2, len(spec.steps) + 1):
        h = counts.filter(pl.col("k") == k).group_by("s").agg(pl.col("units").sum()).sort("s")
        total = int(h["units"].sum()) if h.height else 0
        cum = h["units"].cum_sum()
        base = int(tot[f"entered_{spec.reference(k)}"])

        def at(rank: int, h: pl.DataFrame = h, cum: pl.Series = cum) -> float:
            return float(h["s"][int(cum.search_sorted(rank, side="right"))])

        def quantile(q: float, total: int = total, at: Any = at) -> float | None:
            if not total:
                return None
            pos = (total - 1) * q
            low = int(pos)
            return at(low) + (pos - low) * (at(min(low + 1, total - 1)) - at(low))

        row: dict[str, Any] = {
            "step": spec.steps[k - 1], "from_step": spec.steps[spec.reference(k) - 1],
            "units": total, "median_seconds": quantile(0.5), "p90_seconds": quantile(0.9),
        }
        for name, limit in WITHIN:
            inside = int(h.filter(pl.col("s") <= limit)["units"].sum()) if total else 0
            row[name] = inside / base if base else None
        for i, (_, lo, hi) in enumerate(TIME_BINS):
            band = pl.col("s") >= lo if hi is None else pl.col("s").is_between(lo, hi, "left")
            row[f"hist_{i}"] = int(h.filter(band)["units"].sum()) if total else 0
        rows.append(row)
    return pl.DataFrame(rows, schema_overrides={
        "median_seconds": pl.Float64, "p90_seconds": pl.Float64,
        **{name: pl.Float64 for name, _ in WITHIN},
    })


def _steps_frame(spec: FunnelSpec, tot: dict[str, Any]) -> pl.DataFrame:
    """Per step: entered, conversions and drop-off (from :meth:`FunnelSpec.reference`)."""
    steps = spec.steps
    entered = [int(tot[f"entered_{k}"]) for k in range(1, len(steps) + 1)]
    rows = []
    for k, step in enumerate(steps, start=1):
        e, first = entered[k - 1], entered[0]
        prev = entered[spec.reference(k) - 1] if k > 1 else None
        rows.append({
            "step": step,
            "entered": e,
            "conversion_from_previous": (e / prev if prev else None) if k > 1 else 1.0,
            "conversion_from_first": e / first if first else None,
            "drop_off": (prev - e) if prev is not None else 0,
            "median_seconds_to_convert": tot.get(f"median_{k}"),
        })
    return pl.DataFrame(rows, schema_overrides={
        "conversion_from_previous": pl.Float64, "conversion_from_first": pl.Float64,
        "median_seconds_to_convert": pl.Float64,
    })

