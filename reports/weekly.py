"""``cust report weekly``: every section from the commands' own pipelines, one HTML file.

The orders (and customers) export is validated once and kept in memory
(:meth:`Inputs.materialize`); the events are read once, by the funnel. Each section calls
the same pipeline function as its command, so the report and the commands' JSON agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

import polars as pl

from cust.pipelines.cohort import CohortResult, cohort_retention
from cust.pipelines.config import Config
from cust.pipelines.drift import DriftSpec
from cust.pipelines.funnel import FunnelResult, FunnelSpec, funnel, steps_from
from cust.pipelines.inputs import InputReport, Inputs
from cust.pipelines.orders import Period
from cust.pipelines.promo import PromoResult, scenarios_from_mapping, simulate
from cust.pipelines.result import Result, Table
from cust.pipelines.segment_abc import AbcResult, classify_customers
from cust.pipelines.segment_buckets import BucketsResult, bucket_orders
from cust.pipelines.segment_rfm import RfmResult, rfm_segments, rules_from_config
from cust.pipelines.weekly import Edition, default_edition, headline, order_days, row

from . import charts
from .labels import LABELS


@dataclass(frozen=True, kw_only=True)
class WeeklyReport(Result):
    """All sections of one edition."""

    command: ClassVar[str] = "report weekly"
    edition: Edition
    lang: str
    headline: list[dict[str, Any]]
    bands: BucketsResult
    bands_before: BucketsResult
    funnel: FunnelResult | None
    alerts: list[dict[str, Any]]
    cohorts: CohortResult
    abc: AbcResult
    rfm: RfmResult
    promo: PromoResult | None
    charts: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """Every section's figures, with the commands' own keys."""
        doc: dict[str, Any] = {
            "edition": {"kind": self.edition.kind, "label": self.edition.label,
                        "start": self.edition.start, "end": self.edition.end},
            "headline": self.headline,
            "buckets": self.bands.buckets,
            "buckets_previous": self.bands_before.buckets,
            "cohorts": self.cohorts.cohorts,
            "payback": self.cohorts.payback,
            "abc": {"classes": self.abc.classes, "loss_making": self.abc.loss_making},
            "rfm": {"segments": self.rfm.segments},
            "alerts": self.alerts,
        }
        if self.funnel is not None:
            doc["funnel"] = {"steps": self.funnel.steps}
        if self.promo is not None:
            doc["promo"] = {"scenarios": self.promo.scenarios}
        return doc

    def tables(self) -> list[Table]:
        """The terminal summary: headline figures, then alerts."""
        t = LABELS[self.lang]
        frame = pl.DataFrame(
            [{"metric": t.get(r["metric"], r["metric"]), "current": _fmt(r["current"], r),
              "previous": _fmt(r["previous"], r), "change": r["change"],
              "4-period avg": _fmt(r["average_4"], r), "vs avg": r["change_vs_average"]}
             for r in self.headline]
        )
        tables = [Table("headline", f"{t['title']} {self.edition.label}", frame,
                        shares=("change", "vs avg"))]
        if self.alerts:
            tables.append(Table("alerts", t["alerts"], pl.DataFrame([
                {"since": a["since"], "step": f"{a['from_step']} → {a['step']}",
                 "segment": _segment(a["segment"]), "rate": a["rate"],
                 "expected": a["expected"]} for a in _runs(self.alerts)
            ]), shares=("rate", "expected")))
        return tables

    def notes(self) -> list[str]:
        """How many alerts, and where the HTML went is said by the command."""
        n = len(_runs(self.alerts))
        return [f"{n} drift alert(s)." if n else "No drift alerts."]


def _fmt(value: Any, r: dict[str, Any]) -> Any:
    if value is None:
        return None
    if r["metric"] in ("gross_margin", "conversion"):
        return f"{value:.1%}"
    if isinstance(value, float):
        return round(value, 2)
    return value


def _segment(segment: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in segment.items()) or "all"


def _runs(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest alert of each run (step, segment, since)."""
    latest: dict[tuple, dict[str, Any]] = {}
    for a in alerts:
        key = (a["step"], _segment(a["segment"]), a["since"])
        if key not in latest or a["period"] > latest[key]["period"]:
            latest[key] = a
    return sorted(latest.values(), key=lambda a: (a["since"], a["step"], _segment(a["segment"])))


def build(
    inputs: Inputs,
    config: Config,
    *,
    kind: str = "week",
    as_of: date | None = None,
    lang: str = "en",
) -> WeeklyReport:
    """Compute every section of the edition containing ``as_of`` (default: last complete)."""
    inputs.materialize("orders")
    inputs.materialize("customers")
    first, last = order_days(inputs)
    edition = Edition.containing(as_of, kind) if as_of else default_edition(first, last, kind)
    this = Period(since=edition.start, until=edition.end)
    before = edition.shift(-1)
    rows, _ = headline(inputs, edition)
    bands = bucket_orders(inputs, period=this)
    bands_before = bucket_orders(inputs, period=Period(since=before.start, until=before.end))
    flow, alerts = _funnel(inputs, config, edition)
    if flow is not None:
        rows.append(_conversion(flow, edition))
    cohorts = cohort_retention(inputs, period=Period(as_of=edition.end), max_periods=12)
    history = Period(since=edition.end - timedelta(days=364), until=edition.end)
    abc = classify_customers(inputs, period=history)
    rfm = rfm_segments(inputs, period=Period(until=edition.end, as_of=edition.end),
                       rules=rules_from_config(config))
    scenarios = config.section("promo").get("scenarios")
    promo = (
        simulate(inputs, scenarios_from_mapping(scenarios, "cust.toml [promo.scenarios]"),
                 period=history)
        if scenarios else None
    )
    report = _merge([r.input for r in (bands, cohorts, abc, rfm, flow, promo) if r is not None])
    result = WeeklyReport(
        input=report, edition=edition, lang=lang, headline=rows, bands=bands,
        bands_before=bands_before, funnel=flow, alerts=alerts, cohorts=cohorts, abc=abc,
        rfm=rfm, promo=promo,
    )
    return _with_charts(result)


def _funnel(
    inputs: Inputs, config: Config, edition: Edition
) -> tuple[FunnelResult | None, list[dict[str, Any]]]:
    """Weekly funnel up to the edition's end, by category when the events have one."""
    events = inputs.optional("events")
    if events is None:
        return None, []
    by = ("category",) if events.has("category") else ()
    spec = FunnelSpec(steps=steps_from(None, config), period="week", by=by)
    drift = DriftSpec()
    flow = funnel(inputs, spec, period=Period(until=edition.end), drift=drift, explain=True)
    # A sustained shift is only confirmed once the periods after it are in, so the report
    # shows every alert of the last two baselines (16 weeks), not only this week's.
    horizon = edition.start - timedelta(weeks=2 * drift.periods(spec))
    current = [a for a in flow.alerts or [] if a["period"] >= horizon]
    return flow, current


def _conversion(flow: FunnelResult, edition: Edition) -> dict[str, Any]:
    n = len(flow.spec.steps)
    weekly = flow.periods.group_by("period").agg(
        pl.col("entered_1").sum(), pl.col(f"entered_{n}").sum().alias("done")
    )
    rates = {r["period"]: r["done"] / r["entered_1"] if r["entered_1"] else None
             for r in weekly.to_dicts()}

    def rate(e: Edition) -> float | None:
        inside = [p for p in rates if e.start <= p <= e.end]
        if not inside:
            return None
        sub = weekly.filter(pl.col("period").is_in(inside))
        first = sub["entered_1"].sum()
        return sub["done"].sum() / first if first else None

    history = [rate(edition.shift(-i)) for i in range(1, 5)]
    known = [h for h in history if h is not None]
    return row("conversion", rate(edition), rate(edition.shift(-1)),
               sum(known) / len(known) if known else None)


def _merge(reports: list[InputReport]) -> InputReport:
    sources = {}
    for r in reports:
        sources.update(r.sources)
    return InputReport(dict(sorted(sources.items())))


def _with_charts(r: WeeklyReport) -> WeeklyReport:
    t = LABELS[r.lang]
    out: dict[str, str] = {}
    frames = []
    for label, result in ((r.edition.label, r.bands), (r.edition.shift(-1).label, r.bands_before)):
        frames.append(result.buckets.select("label", "order_share").with_row_index("order")
                      .with_columns(pl.lit(label).alias("edition")))
    out["bands"] = charts.bands(pl.concat(frames), t)
    if r.funnel is not None:
        out["funnel"] = charts.funnel(r.funnel.steps, t)
        first = _runs(r.alerts)[:1]
        if first:
            out["drift"] = charts.drift(_drift_series(r.funnel, first[0]),
                                        f"{first[0]['from_step']} → {first[0]['step']} "
                                        f"({_segment(first[0]['segment'])})", t)
    cells = [
        {"cohort": c["cohort"], "k": k, "retention": v, "text": f"{v:.0%}"}
        for c in r.cohorts.cohorts[-12:] for k, v in enumerate(c["retention"])
    ]
    if cells:
        out["cohorts"] = charts.cohort_heatmap(pl.DataFrame(cells), t)
    if r.promo is not None:
        out["promo"] = charts.promo(pl.DataFrame([
            {"name": s["scenario"]["name"], "net": s["net_gross_profit_effect"],
             "rank": s["rank"]} for s in r.promo.scenarios]), t)
    return WeeklyReport(**{**r.__dict__, "charts": out})


def _drift_series(flow: FunnelResult, alert: dict[str, Any]) -> pl.DataFrame:
    """Rate per period of the alert's series, with the band of each alerted period."""
    k = flow.spec.steps.index(alert["step"]) + 1
    frame = flow.periods
    for key, value in alert["segment"].items():
        frame = frame.filter(pl.col(key) == value)
    marks = {a["period"]: a for a in flow.alerts or []
             if a["step"] == alert["step"] and a["segment"] == alert["segment"]}
    rows = []
    for r in frame.sort("period").iter_rows(named=True):
        n, x = r[f"entered_{k - 1}"], r[f"entered_{k}"]
        a = marks.get(r["period"])
        rows.append({"period": r["period"], "rate": x / n if n else None,
                     "expected": a["expected"] if a else None,
                     "lower": a["lower"] if a else None, "upper": a["upper"] if a else None,
                     "alert": a is not None})
    return pl.DataFrame(rows, schema_overrides={"expected": pl.Float64, "lower": pl.Float64,
                                                "upper": pl.Float64, "rate": pl.Float64})
