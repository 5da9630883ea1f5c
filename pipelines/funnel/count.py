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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import polars as pl

from ..errors import EmptySelectionError, MissingColumnError
from ..io.inputs import Inputs, collect, report_of, run_plans
from ..io.loader import REASON, Source, parquet_passes
from ..io.orders import Period
from ..io.parse import lookup
from ..result import Result, Table
from .drift import detect
from .explain import explain as explain_runs
from .explain import explain_columns, sentence
from .spec import (
    SESSION_GAP,
    FunnelSpec,
    segment_text,
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
SECONDS = "__seconds_"  # per step k >= 2, the units' seconds from step k-1 (lists)


def _unit_key(user: pl.Expr, session: pl.Expr | None = None) -> pl.Expr:
    """The :data:`UNIT` key of a user, or of one session of a user."""
    high = user.hash(seed=11).reinterpret(signed=True).cast(pl.Int128)
    low = user.hash(seed=12) if session is None else user.hash(seed=12) ^ session.hash(seed=13)
    return (high * pl.lit(2**64, dtype=pl.Int128) + low.cast(pl.Int128)).alias(UNIT[0])










def _truncate(period: str, expr: pl.Expr) -> pl.Expr:
    return expr.dt.truncate("1d" if period == "day" else "1w").dt.date()


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
    """
    # The steps' events, reduced to the unit key, step number and time, are computed once
    # and reused by every step (each step would otherwise re-read and re-check the export).
    index = [(k, [step]) for k, step in enumerate(spec.steps, start=1)]
    events = (
        events.filter(pl.col("event").is_in(list(spec.steps)))
        .select(
            *UNIT,
            lookup(pl.col("event"), index, pl.Int8).alias("__step"),
            "event_time",
            # Categorical: the breakdowns travel with the units and are grouped as integers.
            *[pl.col(b).cast(pl.String).cast(pl.Categorical) for b in spec.by],
        )
        .cache()
    )
    s1 = events.filter(pl.col("__step") == 1)
    units = s1.group_by(*UNIT).agg(
        pl.col("event_time").min().alias("t1"),
        *[
            pl.col(b).sort_by("event_time").first().alias(b)
            for b in spec.by
        ],
    )
    limit = pl.col("t1") + spec.window if spec.unit == "user" else None
    for k in range(2, len(spec.steps) + 1):
        prev = f"t{k - 1}"
        cand = events.filter(pl.col("__step") == k).select(*UNIT, "event_time").join(
            units.filter(pl.col(prev).is_not_null()).select(*dict.fromkeys([*UNIT, prev, "t1"])),
            on=UNIT,
        )
        cond = pl.col("event_time") >= pl.col(prev)
        if limit is not None:
            cond = cond & (pl.col("event_time") <= limit)
        hit = cand.filter(cond).group_by(*UNIT).agg(pl.col("event_time").min().alias(f"t{k}"))
        units = units.join(hit, on=UNIT, how="left")
    return units.with_columns(_truncate(spec.period, pl.col("t1")).alias("period"))


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
                  bar="conversion_from_first"),
        ]
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
                    "that added to cart did not purchase."
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
) -> FunnelResult:
    """Count the funnel (module doc); ``drift`` is a :class:`.drift.DriftSpec` or None.

    With ``drift``, the alerts of :func:`.drift.detect`; with ``explain`` too, the explain
    columns' values are tested as series of their own and each run of alerts gets the
    breakdown values and price rises behind it (:mod:`.funnel_drift`).

    ``banners=False`` leaves banner click-through out (the report does not show it).
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
    # Events after --as-of are not yet known on the analysis date (refused before --since).
    window = period.ended_by_as_of().filter("event_time")
    banners = banners and source.has("banner_id")
    wanted = set(spec.steps)
    has_session = source.has("session_id") and spec.unit == "session"
    # Only the steps' events are validated for the units (derived sessions need every event
    # of a user); the rows read and rejected are counted over the whole export (_tally).
    derived = spec.unit == "session" and not has_session
    events = (source if derived else source.where("event", sorted(wanted))).valid.filter(window)
    # With --explain the units also carry the explain columns' step-1 values, so the
    # breakdowns behind an alert come out of the same pass.
    extra = explain_columns(source.has, spec.by) if explain and drift is not None else ()
    wide = replace(spec, by=(*spec.by, *extra))
    keep = ["user_id", "event", "event_time", *wide.by]
    if has_session:
        keep.append("session_id")
    keep = list(dict.fromkeys(keep))
    n = len(spec.steps)
    entered = [f"entered_{k}" for k in range(1, n + 1)]
    counts = [pl.col(f"t{k}").is_not_null().sum().alias(entered[k - 1]) for k in range(1, n + 1)]
    cart = "add_to_cart" in spec.steps and "purchase" in spec.steps
    ci = spec.steps.index("add_to_cart") + 1 if cart else 0
    pi = spec.steps.index("purchase") + 1 if cart else 0
    cart = cart and pi > ci
    if cart:
        counts.append((pl.col(f"t{ci}").is_not_null() & pl.col(f"t{pi}").is_null()).sum()
                      .alias("__abandoned"))

    def unit_plans(part: pl.Expr | None) -> list[pl.LazyFrame]:
        """The units' counts and their seconds to convert.

        One group-by by period, breakdowns and explain columns; the totals, per-period and
        explain counts are sums over it.
        """
        ev = events if part is None else events.filter(part)
        if spec.unit == "session" and not has_session:
            units = unit_frame(ev.select(keep), spec, False).filter(
                pl.col("event").is_in(list(wanted))
            )
        else:
            units = unit_frame(ev.filter(pl.col("event").is_in(list(wanted))).select(keep),
                               spec, has_session)
        per_unit = reached(units, wide)
        seconds = [
            (pl.col(f"t{k}") - pl.col(f"t{k - 1}")).dt.total_seconds() for k in range(2, n + 1)
        ]
        if part is None:
            # The seconds travel as lists in the counting group-by: a second plan over the
            # units (for the medians) ran the joins of reached() again (14.0 -> 10.4 s).
            lists = [s.alias(f"{SECONDS}{k}") for k, s in enumerate(seconds, start=2)]
            return [per_unit.group_by("period", *wide.by).agg(*counts, *lists)]
        # Beyond memory: exact medians later, from the value counts of every pass.
        times = pl.concat([
            per_unit.select(pl.lit(k, dtype=pl.Int8).alias("k"), s.alias("s"))
            .drop_nulls("s").group_by("k", "s").agg(pl.len().alias("units"))
            for k, s in enumerate(seconds, start=2)
        ])
        return [per_unit.group_by("period", *wide.by).agg(counts), times]

    # Whole-file figures: the rows read and rejected with the data's end, and the banners.
    # With --explain the prices are an input too, counted whether or not an alert reads
    # them: their bad rows are reported and fail --strict like the events' (CONTRACT 1).
    prices = inputs.optional("prices") if explain and drift is not None else None
    side = [prices] if prices is not None else []
    whole = [_tally(source, window), *([_banner_counts(source, window)] if banners else []),
             *(s.tally() for s in side)]
    passes = passes or _passes(source)
    if passes == 1:
        # Apart: together, Polars caches the rows the plans share (the whole export's
        # when the banners read it too: 3.6 GB), and the units' plan gains nothing.
        (fine,) = run_plans(unit_plans(None), [source])
        counted = run_plans(whole, [source, *side], share=False)
        lists = [f"{SECONDS}{k}" for k in range(2, n + 1)]
        times = fine.select(
            pl.col(c).explode().median().alias(f"median_{k}")
            for k, c in enumerate(lists, start=2)
        )
        fine = fine.drop(lists)
    else:
        # Beyond memory: users split by hash into passes that each fit; counts add up and
        # the medians come from the merged value counts, so the figures are the same.
        user = pl.col("user_id").hash(seed=13) % passes
        counted = run_plans(whole, [source, *side], share=False)  # apart from the passes
        parts = [collect(unit_plans(user == i), [])[0] for i in range(passes)]
        names = [c.meta.output_name() for c in counts]
        fines = pl.concat(p[0] for p in parts)
        fine = fines.group_by("period", *wide.by).agg(
            pl.col(c).sum().cast(fines.schema[c]) for c in names
        )
        times = _medians(pl.concat(p[1] for p in parts), n)
    fine = fine.with_columns(pl.col(b).cast(pl.String).fill_null("(none)") for b in wide.by)
    sums = [pl.col(c).sum().cast(fine.schema[c]) for c in entered]
    tot = {**fine.select(sums).row(0, named=True), **times.row(0, named=True)}
    if not tot["entered_1"]:
        msg = f"no unit entered the first step ({spec.steps[0]!r}) in the selected period"
        raise EmptySelectionError(
            msg, hint="check --steps against the event names (cust check --events ...)"
        )
    steps = _steps_frame(spec.steps, tot)
    by_period = fine.group_by("period", *spec.by).agg(sums).sort("period", *spec.by)
    behaviour: dict[str, Any] = {}
    if cart:
        with_cart, abandoned = tot[f"entered_{ci}"], int(fine["__abandoned"].sum())
        behaviour["cart_abandonment"] = {
            "units_with_cart": with_cart,
            "abandoned": abandoned,
            "rate": abandoned / with_cart if with_cart else None,
        }
    breakdowns = {
        c: fine.group_by("period", *spec.by, c).agg(sums).sort("period", *spec.by, c)
        for c in extra
    }
    tallied = counted[0]
    if banners:
        behaviour["banners"] = _banners(counted[1])
    data_end = tallied["end"].max()
    report = report_of([source, *side], [tallied, *counted[len(counted) - len(side):]])
    unseen = _unseen(source, window, [s for k, s in enumerate(spec.steps, start=1)
                                      if not tot[f"entered_{k}"]])
    result = FunnelResult(
        input=report, spec=spec, steps=steps, periods=by_period, behaviour=behaviour,
        data_end=data_end, unseen_steps=unseen,
    )
    if drift is None:
        return result
    # With --explain, each explain column's values are series of their own, so a drop
    # confined to one platform or category is flagged even where the whole funnel hides it.
    alerts, method = detect(by_period, spec, drift, data_end,
                            breakdowns if explain else None)
    explanations = (
        explain_runs(alerts, breakdowns, spec.steps, spec.period, drift.periods(spec), inputs,
                     events, source.has("sku"))
        if explain and alerts else []
    )
    return replace(result, alerts=alerts, drift_method=method, explanations=explanations)


def _unseen(source: Source, window: pl.Expr, empty: list[str]) -> tuple[str, ...]:
    """The steps of ``empty`` (steps no unit reached) with no valid event in the period.

    Run only when a step counts 0, which real funnels rarely do, so the common case
    costs no pass: the zeros of a step never seen (a typo in --steps) are not the zeros
    of a step seen but never reached in order.
    """
    if not empty:
        return ()
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


def _steps_frame(steps: Sequence[str], tot: dict[str, Any]) -> pl.DataFrame:
    entered = [int(tot[f"entered_{k}"]) for k in range(1, len(steps) + 1)]
    rows = []
    for k, step in enumerate(steps, start=1):
        e, prev, first = entered[k - 1], entered[k - 2] if k > 1 else None, entered[0]
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

