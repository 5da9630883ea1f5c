"""Why a drift alert happened: the breakdown values behind it and the price rises around it.

Alerts (from :func:`.drift.detect`) come in *runs*: consecutive alerted periods of one step
and segment, which share their ``since`` (the change point). For a run, the *window* is its
periods (``since`` to the last alert: a sustained-shift test measures the periods from its
change point to its alert) and the *baseline* the ``--baseline`` periods before ``since``.
An alert found on an explain column's value (``breakdown`` in the alert) has contributors
only from the columns whose counts hold that value.

**Contributors.** For every explain column ``c`` (``category``, ``platform`` and ``channel``
of the unit's step-1 event, when the events have the column and it is not a ``--by``
column) and each value ``v`` of it, among the units of the run's segment:

- ``units``: units of the window with ``c = v`` that reached step k-1 (``n1``), ``rate``:
  the share of them that reached step k (``x1 / n1``);
- ``expected``: the value's own baseline rate ``r0 = x0 / n0`` (the segment's when the value
  has no baseline units);
- ``change_in_units = x1 - n1 * r0``: conversions gained (+) or lost (-) against the value's
  own baseline;
- ``share``: the value's change over the sum of the column's changes in the alert's
  direction (so the shares of a column's losing values sum to 1 for a drop).

Values are ranked by their change in the alert's direction; a value whose rate moved the
other way has no share. A large share for one value (``category = mcu``) says where the drop
is; shares spread like the units say the drop is everywhere.

**Price rises.** With ``--prices``: rises (``new_price > old_price``) that took effect from
one baseline before ``since`` to the end of the run. When the events have ``sku``, only SKUs
viewed (events of step k-1) within the segment in that span are listed, most viewed first,
with their views; otherwise the rises in the segment's ``category`` (all rises without one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from ..io.inputs import Inputs, collect
from .alerts import runs

# A plan over the events (the view counts behind an alert), run by the funnel's engine.
Plan = Callable[[pl.LazyFrame], pl.LazyFrame]

EXPLAIN_COLUMNS = ("category", "platform", "channel")
TOP_RISES = 10


def explain_columns(has: Any, by: tuple[str, ...]) -> tuple[str, ...]:
    """The explain columns present in the events (``has(col)``) and not used by ``--by``."""
    return tuple(c for c in EXPLAIN_COLUMNS if has(c) and c not in by)


def runs_of(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each run (:func:`.alerts.runs`) as the row ``--explain`` fills in.

    Its rates are those of the run's strongest alert.
    """
    out = []
    for run in runs(alerts):
        first, top = run.first, run.strongest
        out.append({
            "step": first["step"], "from_step": first["from_step"], "segment": first["segment"],
            "since": run.since, "until": run.until, "direction": first["direction"],
            "alerts": len(run.alerts), "rate": top["window_rate"], "expected": top["expected"],
            "z": top["z"], "shift": run.shift,
        })
    return out


def _midnight(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time())


def _span(run: dict[str, Any], baseline: int, period: str) -> tuple[date, date, date]:
    """(baseline start, window start, window end exclusive) of a run."""
    unit = timedelta(days=1 if period == "day" else 7)
    end = run["until"] + unit
    return run["since"] - baseline * unit, run["since"], end


def _in_segment(segment: dict[str, Any]) -> pl.Expr:
    cond = pl.lit(True)
    for col, value in segment.items():
        cond = cond & (pl.col(col).cast(pl.String).fill_null("(none)") == value)
    return cond


def contributors(
    run: dict[str, Any],
    column: str,
    frame: pl.DataFrame,
    k: int,
    span: tuple[date, date, date],
) -> list[dict[str, Any]]:
    """Ranked values of ``column`` behind ``run`` (module doc); ``frame`` holds per-period counts.

    ``frame`` has ``period``, the ``--by`` columns, ``column`` and ``entered_1..n``; ``k`` is
    the alerted step's number (1-based).
    """
    start, since, end = span
    if column in run["segment"] or any(c not in frame.columns for c in run["segment"]):
        return []  # the alert's own breakdown column, or another explain column's value
    rows = frame.filter(_in_segment(run["segment"])).with_columns(
        pl.col("period").is_between(since, end, closed="left").alias("__win"),
        pl.col("period").is_between(start, since, closed="left").alias("__base"),
    )
    n, x = pl.col(f"entered_{k - 1}"), pl.col(f"entered_{k}")
    per = (
        rows.group_by(column)
        .agg(
            n.filter(pl.col("__win")).sum().alias("n1"),
            x.filter(pl.col("__win")).sum().alias("x1"),
            n.filter(pl.col("__base")).sum().alias("n0"),
            x.filter(pl.col("__base")).sum().alias("x0"),
        )
        .filter(pl.col("n1") > 0)
    )
    if per.height == 0:
        return []
    n0_all, x0_all = float(per["n0"].sum()), float(per["x0"].sum())
    overall = x0_all / n0_all if n0_all else None
    sign = -1.0 if run["direction"] == "down" else 1.0
    out = []
    for r in per.iter_rows(named=True):
        expected = r["x0"] / r["n0"] if r["n0"] else overall
        if expected is None:
            continue
        change = r["x1"] - r["n1"] * expected
        out.append({
            "column": column, "value": r[column], "units": int(r["n1"]),
            "rate": r["x1"] / r["n1"], "expected": expected, "change_in_units": change,
        })
    # fsum: exact, so the shares do not depend on the order the group-by returned the values
    total = math.fsum(sign * o["change_in_units"] for o in out if sign * o["change_in_units"] > 0)
    for o in out:
        moved = sign * o["change_in_units"]
        o["share"] = moved / total if total > 0 and moved > 0 else None
    out.sort(key=lambda o: (-sign * o["change_in_units"], str(o["value"])))
    return out


def explain(
    alerts: list[dict[str, Any]],
    breakdowns: dict[str, pl.DataFrame],
    steps: tuple[str, ...],
    period: str,
    baseline: int,
    inputs: Inputs,
    over_events: Callable[[Plan], pl.DataFrame],
    has_sku: bool,
) -> list[dict[str, Any]]:
    """One explanation per run of alerts: contributors and price rises (module doc).

    ``breakdowns`` maps each explain column to its per-period counts; ``over_events``
    runs a plan of view counts (a ``views`` column) over the (valid, period-filtered)
    events, read again only when there are alerts and prices: on one machine, or on each
    Spark partition with the counts added up.
    """
    out = runs_of(alerts)
    for run in out:
        k = steps.index(run["step"]) + 1
        span = _span(run, baseline, period)
        run["contributors"] = [
            c for column, frame in breakdowns.items()
            for c in contributors(run, column, frame, k, span)
        ]
        run["price_rises"], run["price_rises_total"] = [], 0
    prices = inputs.optional("prices")
    if prices is None or not out:
        return out
    spans = [_span(run, baseline, period) for run in out]
    cols = ["sku", "changed_at", "old_price", "new_price"]
    if prices.has("category"):
        cols.append("category")
    first, last = min(s[0] for s in spans), max(s[2] for s in spans)
    # Every rise and every view count of the runs' span in one pass each; the runs then
    # pick theirs from these small frames (a pass over the events per run cost seconds).
    rises_plan = prices.valid.filter(
        (pl.col("new_price") > pl.col("old_price"))
        & (pl.col("changed_at") >= _midnight(first))
        & (pl.col("changed_at") < _midnight(last))
    ).select(cols).with_columns(
        pl.col("sku").cast(pl.String),
        (pl.col("new_price") / pl.col("old_price") - 1).alias("change"),
    )
    plans = [rises_plan]
    keys = list(dict.fromkeys(
        c for run in out for c in run["segment"] if c not in ("event", "sku")
    ))
    froms = list({run["from_step"] for run in out})
    frames, _ = collect(plans, [])
    all_rises = frames[0]
    # Only the views of SKUs that rose count (a run's rises are joined to its views): the
    # rises first, then the views of those SKUs alone. Grouping the views of every SKU gave
    # millions of groups (10M events: 2.3M groups, 8.6 s; now a fraction).
    risen = all_rises["sku"].unique().to_list()

    def viewed(events: pl.LazyFrame) -> pl.LazyFrame:
        return (
            events.filter(
                pl.col("event").is_in(froms)
                & (pl.col("event_time") >= _midnight(first))
                & (pl.col("event_time") < _midnight(last))
                & pl.col("sku").cast(pl.String).is_in(risen)
            )
            .group_by(
                "event",
                pl.col("event_time").dt.date().alias("__day"),
                pl.col("sku").cast(pl.String),
                *[pl.col(c).cast(pl.String).fill_null("(none)") for c in keys],
            )
            .agg(pl.len().cast(pl.Int64).alias("views"))
        )

    if has_sku:
        frames.append(over_events(viewed))
    for run, (start, _since, end) in zip(out, spans, strict=True):
        rises = all_rises.filter(
            (pl.col("changed_at") >= _midnight(start)) & (pl.col("changed_at") < _midnight(end))
        )
        if has_sku:
            views = (
                frames[1].filter(
                    (pl.col("event") == run["from_step"])
                    & pl.col("__day").is_between(start, end, closed="left")
                    & _in_segment(run["segment"])
                )
                .group_by("sku")
                .agg(pl.col("views").sum())
            )
            rises = rises.join(views, on="sku", how="inner").sort(
                ["views", "change", "sku"], descending=[True, True, False]
            )
        else:
            category = run["segment"].get("category")
            if category is not None and prices.has("category"):
                rises = rises.filter(pl.col("category").cast(pl.String) == category)
            rises = rises.sort(["change", "sku"], descending=[True, False])
        run["price_rises_total"] = rises.height
        run["price_rises"] = rises.head(TOP_RISES).to_dicts()
        if rises.height:
            median: Any = rises["change"].median()
            run["median_price_rise"] = float(median)
            run["price_rise_summary"] = _summary(rises)
    return out


def _summary(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rises per category (or all together): SKUs, median change, dates, views."""
    keys = ["category"] if "category" in frame.columns else []
    aggs = [
        pl.len().alias("skus"),
        pl.col("change").median().alias("median_change"),
        pl.col("changed_at").min().alias("first_change"),
        pl.col("changed_at").max().alias("last_change"),
    ]
    if "views" in frame.columns:
        aggs.append(pl.col("views").sum())
    grouped = frame.group_by(keys).agg(aggs) if keys else frame.select(aggs)
    order = "views" if "views" in frame.columns else "skus"
    return grouped.sort([order, *keys], descending=[True] + [False] * len(keys)).to_dicts()


def sentence(run: dict[str, Any]) -> str:
    """One line a reader can act on: what moved, where, since when, and the likely cause."""
    seg = ", ".join(f"{k}={v}" for k, v in run["segment"].items()) or "all units"
    text = (
        f"{run['from_step']} -> {run['step']} ({seg}) went {run['direction']} to "
        f"{run['rate']:.1%} from {run['expected']:.1%} since {run['since']}"
    )
    tops = [c for c in run.get("contributors", []) if c["share"] is not None]
    best: dict[str, dict[str, Any]] = {}
    for c in tops:
        best.setdefault(c["column"], c)
    if best:
        lead = max(best.values(), key=lambda c: c["share"])
        text += f"; {lead['share']:.0%} of it in {lead['column']}={lead['value']}"
    for s in run.get("price_rise_summary", [])[:2]:
        where = f" {s['category']}" if s.get("category") is not None else ""
        first, last = str(s["first_change"])[:10], str(s["last_change"])[:10]
        when = first if first == last else f"{first}..{last}"
        text += (
            f"; prices rose on {s['skus']}{where} SKU(s) viewed, median "
            f"{s['median_change']:+.0%}, on {when}"
        )
    return text + "."
