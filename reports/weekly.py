"""``cust report weekly``: every section from the commands' own pipelines, one HTML file.

The orders (and customers) export is validated once and kept in memory
(:meth:`Inputs.materialize`); the events are read once, by the funnel. Each section of
:data:`SECTIONS` calls the same pipeline function as its command, with the options that
command would be given (listed in the section), so the report and the commands' JSON
agree. An optional section (funnel, profile) whose input is absent is left out; one whose
input has nothing to analyse is left out with its reason, shown in the page and under
``left_out`` in the JSON, rather than failing the whole report. The promotions are always
there: cust.toml's ``[promo.scenarios]``, else the built-in set of ``cust promo compare``
(the page says which). :func:`figures` draws the charts, each with a one-line reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, ClassVar

import polars as pl

from cust.pipelines.clv import ClvResult, FitError, clv
from cust.pipelines.cohort import CohortResult, cohort_retention
from cust.pipelines.errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from cust.pipelines.funnel import (
    DriftSpec,
    FunnelResult,
    FunnelSpec,
    MultiPathsResult,
    funnel,
    multi_step_paths,
    runs,
    segment_text,
    steps_from,
)
from cust.pipelines.funnel.count import TIME_BINS
from cust.pipelines.io import InputReport, Inputs, Period, collect
from cust.pipelines.promo import (
    DEFAULT_COMPARISON,
    PromoResult,
    scenarios_from_mapping,
    simulate,
)
from cust.pipelines.result import Result, Table
from cust.pipelines.segment import (
    AbcResult,
    BucketsResult,
    ProfileResult,
    RfmResult,
    bucket_orders,
    classify_customers,
    parse_ladder,
    profile_customers,
    rfm_segments,
    rules_from_config,
)
from cust.pipelines.settings import Config
from cust.pipelines.weekly import Edition, default_edition, headline_and_trend, order_days, row

from . import charts
from .format import format_cell
from .labels import LABELS, segment_label


@dataclass(frozen=True, kw_only=True)
class WeeklyReport(Result):
    """All sections of one edition."""

    command: ClassVar[str] = "report weekly"
    edition: Edition
    lang: str
    headline: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    bands: BucketsResult
    bands_before: BucketsResult
    funnel: FunnelResult | None
    alerts: list[dict[str, Any]]
    cohorts: CohortResult
    abc: AbcResult
    rfm: RfmResult
    profile: ProfileResult | None
    promo: PromoResult | None
    clv: ClvResult | None = None
    paths: MultiPathsResult | None = None
    left_out: dict[str, str] = field(default_factory=dict)
    builtin_promo: bool = False

    def payload(self) -> dict[str, Any]:
        """Every section's figures, with the commands' own keys."""
        doc: dict[str, Any] = {
            "edition": {"kind": self.edition.kind, "label": self.edition.label,
                        "start": self.edition.start, "end": self.edition.end},
            "headline": self.headline,
            "trend": self.trend,
            "buckets": self.bands.buckets,
            "buckets_previous": self.bands_before.buckets,
            "cohorts": self.cohorts.cohorts,
            "payback": self.cohorts.payback,
            "abc": {"classes": self.abc.classes, "loss_making": self.abc.loss_making},
            "rfm": {"segments": self.rfm.segments},
            "alerts": self.alerts,
        }
        if self.profile is not None:
            doc["profile"] = {"dimensions": list(self.profile.dimensions),
                              "groups": self.profile.groups}
        if self.funnel is not None:
            doc["funnel"] = {"steps": self.funnel.steps}
            times = self.funnel.payload().get("times_to_convert")
            if times is not None:
                doc["funnel"]["times_to_convert"] = times
        if self.paths is not None:
            doc["paths"] = self.paths.payload()
        if self.promo is not None:
            doc["promo"] = {"scenarios": self.promo.scenarios}
        if self.clv is not None:
            doc["clv"] = {"by_class": self.clv.by_class,
                          "b_to_a_candidates": self.clv.b_to_a.head(CLV_HEAD),
                          "at_risk": self.clv.at_risk.head(CLV_HEAD),
                          "settings": self.clv.settings}
        if self.left_out:
            doc["left_out"] = self.left_out
        return doc

    def tables(self) -> list[Table]:
        """The terminal summary: headline figures, then alerts (headers in ``lang``)."""
        t = LABELS[self.lang]
        cur, prev, chg, avg, vs = (t[k] for k in (
            "current", "previous", "change", "average_4", "change_vs_average"))
        frame = pl.DataFrame(
            [{t["metric"]: t.get(r["metric"], r["metric"]), cur: _fmt(r["current"], r),
              prev: _fmt(r["previous"], r), chg: r["change"],
              avg: _fmt(r["average_4"], r), vs: r["change_vs_average"],
              t["alert"]: {"down": "↓", "up": "↑"}.get(r.get("alert") or "", "")}
             for r in self.headline]
        )
        title = t["title_month"] if self.edition.kind == "month" else t["title"]
        tables = [Table("headline", f"{title} {self.edition.label}", frame, shares=(chg, vs))]
        if self.alerts:
            tables.append(Table("alerts", t["alerts"], pl.DataFrame([
                {t["since"]: a["since"], t["step"]: f"{a['from_step']} → {a['step']}",
                 t["segment"]: segment_text(a["segment"]), t["rate"]: a["window_rate"],
                 t["expected"]: a["expected"]} for a in latest_alerts(self.alerts)
            ]), shares=(t["rate"], t["expected"])))
        return tables

    def clv_tables(self) -> list[Table]:
        """CLV by ABC class, and the heads of the B-to-A and at-risk lists."""
        if self.clv is None:
            return []
        by_class, _, b_to_a, at_risk = self.clv.tables()[:4]
        return [by_class, replace(b_to_a, frame=b_to_a.frame.head(CLV_HEAD)),
                replace(at_risk, frame=at_risk.frame.head(CLV_HEAD))]

    @property
    def headline_alerts(self) -> list[dict[str, Any]]:
        """Headline figures out of their band this edition (:func:`.drift.level_alerts`)."""
        return [r for r in self.headline if r.get("alert")]

    def notes(self) -> list[str]:
        """How many alerts, and where the HTML went is said by the command."""
        n = len(latest_alerts(self.alerts))
        notes = [f"{n} drift alert(s)." if n else "No drift alerts."]
        notes += [
            f"{r['metric']} went {r['alert']}: {_fmt(r['current'], r)} against an expected "
            f"{_fmt(r['expected'], r)} (band {_fmt(r['lower'], r)} to {_fmt(r['upper'], r)})."
            for r in self.headline_alerts
        ]
        return notes + [f"{key} left out: {why}" for key, why in self.left_out.items()]


def _fmt(value: Any, r: dict[str, Any]) -> str | None:
    """One headline figure as text, so that counts, money and rates share a column."""
    if value is None:
        return None
    kind = ("share" if r["metric"] in ("gross_margin", "conversion")
            else "money" if r["metric"] in ("revenue", "gross_profit", "aov") else "")
    return format_cell(value, kind)


def latest_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest alert of each run, by the run's start, step and segment."""
    return sorted((run.latest for run in runs(alerts)),
                  key=lambda a: (a["since"], a["step"], segment_text(a["segment"])))


@dataclass(frozen=True)
class Context:
    """What every section is computed from: the inputs, cust.toml and the edition."""

    inputs: Inputs
    config: Config
    edition: Edition

    @property
    def history(self) -> Period:
        """The 52 weeks (364 days) ending with the edition: ABC, profile and promotions."""
        return Period(since=self.edition.end - timedelta(days=364), until=self.edition.end)


@dataclass(frozen=True)
class Section:
    """One part of the report and the pipeline call that computes it.

    ``compute`` returns the section's results (the same pipeline functions and options as
    the commands named in ``commands``), or None when its input is absent (no events, no
    customers export). An optional section whose input has nothing
    to analyse (no event of the first step, a missing column) is left out with its
    message instead of failing the whole report.
    """

    key: str
    commands: str
    compute: Callable[[Context], Any]
    optional: bool = False


def _bands(ctx: Context) -> tuple[BucketsResult, BucketsResult]:
    before = ctx.edition.shift(-1)
    return (bucket_orders(ctx.inputs, period=Period(since=ctx.edition.start,
                                                    until=ctx.edition.end)),
            bucket_orders(ctx.inputs, period=Period(since=before.start, until=before.end)))


def _promo(ctx: Context) -> PromoResult | None:
    """The scenarios of cust.toml, else the built-in set of ``cust promo compare``."""
    scenarios = ctx.config.section("promo").get("scenarios")
    if not scenarios:
        return simulate(ctx.inputs, list(DEFAULT_COMPARISON), period=ctx.history)
    where = f"{ctx.config.name} [promo.scenarios]"
    return simulate(ctx.inputs, scenarios_from_mapping(scenarios, where), period=ctx.history)


PATHS_FROM, PATHS_DEPTH, PATHS_TOP = "home", 3, 8  # the Sankey: the edition's paths
SECTIONS: tuple[Section, ...] = (
    Section("headline", "(orders_frame)", lambda c: headline_and_trend(c.inputs, c.edition)[:2]),
    Section("bands", "segment buckets --since START --until END (and the week before)", _bands),
    Section("funnel", "funnel --period week --by category --drift --times --until END",
            lambda c: _funnel(c.inputs, c.config, c.edition), optional=True),
    Section("paths", f"paths --from {PATHS_FROM} --depth {PATHS_DEPTH} --top {PATHS_TOP} "
            "--matrix --since START --until END (else --from the funnel's first step)",
            lambda c: _paths(c.inputs, c.config, c.edition), optional=True),
    Section("cohorts", "cohort --as-of END --max-periods 12",
            lambda c: cohort_retention(c.inputs, period=Period(as_of=c.edition.end),
                                       max_periods=12)),
    Section("abc", "segment abc --since END-364d --until END",
            lambda c: classify_customers(c.inputs, period=c.history)),
    Section("rfm", "segment rfm --until END --as-of END",
            lambda c: rfm_segments(c.inputs, period=Period(until=c.edition.end,
                                                           as_of=c.edition.end),
                                   rules=rules_from_config(c.config))),
    Section("profile", "segment profile --by customer_type,role,tier --since END-364d",
            lambda c: _profile(c.inputs, c.config, c.history), optional=True),
    Section("promo", "promo compare (cust.toml's [promo.scenarios], else the built-in set) "
            "--since END-364d",
            _promo, optional=True),
    Section("clv", "clv --as-of END (the heads of its lists)",
            lambda c: clv(c.inputs, period=Period(until=c.edition.end, as_of=c.edition.end)),
            optional=True),
)
CLV_HEAD = 10  # rows of the B-to-A and at-risk lists in the report


def build(
    inputs: Inputs,
    config: Config,
    *,
    kind: str = "week",
    as_of: date | None = None,
    lang: str = "en",
) -> WeeklyReport:
    """Compute every section of the edition containing ``as_of`` (default: last complete).

    The orders and customers exports are validated once and kept in memory; each section
    of :data:`SECTIONS` then runs its command's pipeline on them.
    """
    inputs.materialize("orders")
    inputs.materialize("customers")
    first, last = order_days(inputs)
    edition = Edition.containing(as_of, kind) if as_of else default_edition(first, last, kind)
    if edition.end < first:
        # Before the export's first order there is nothing to report, not even history. A
        # week after its last order may be a quiet one (a holiday): it gets its zeros.
        msg = (f"--as-of {as_of} gives the edition {edition.label}, which ends before the "
               f"export's first paid order ({first})")
        raise InvalidOptionError(msg, hint=f"give an --as-of from {first} on")
    ctx = Context(inputs, config, edition)
    parts: dict[str, Any] = {}
    left_out: dict[str, str] = {}
    for section in SECTIONS:
        try:
            parts[section.key] = section.compute(ctx)
        except (EmptySelectionError, MissingColumnError, FitError) as exc:
            if not section.optional:
                raise
            parts[section.key] = None
            left_out[section.key] = exc.message
    rows, trend = parts["headline"]
    bands, bands_before = parts["bands"]
    flow, alerts = parts["funnel"] or (None, [])
    if flow is not None:
        rows.append(_conversion(flow, edition))
    results = [bands, flow, *(parts[k] for k in ("cohorts", "abc", "rfm", "profile", "promo",
                                                 "clv", "paths"))]
    result = WeeklyReport(
        input=_merge([r.input for r in results if r is not None], inputs), edition=edition,
        lang=lang, headline=rows, trend=trend, bands=bands, bands_before=bands_before, funnel=flow,
        alerts=alerts, cohorts=parts["cohorts"], abc=parts["abc"], rfm=parts["rfm"],
        profile=parts["profile"], promo=parts["promo"], clv=parts["clv"], paths=parts["paths"],
        left_out=left_out,
        builtin_promo=not config.section("promo").get("scenarios"),
    )
    return result


def _funnel(
    inputs: Inputs, config: Config, edition: Edition
) -> tuple[FunnelResult, list[dict[str, Any]]] | None:
    """Weekly funnel up to the edition's end, by category when the events have one."""
    events = inputs.optional("events")
    if events is None:
        return None
    by = ("category",) if events.has("category") else ()
    spec = FunnelSpec(steps=steps_from(None, config), period="week", by=by)
    drift = DriftSpec()
    flow = funnel(inputs, spec, period=Period(until=edition.end), drift=drift, explain=True,
                  banners=False, timing=True)
    # A sustained shift is only confirmed once the periods after it are in, so the report
    # shows every alert of the last two baselines (16 weeks), not only this week's.
    horizon = edition.start - timedelta(weeks=2 * drift.periods(spec))
    current = [a for a in flow.alerts or [] if a["period"] >= horizon]
    return flow, current


def _paths(inputs: Inputs, config: Config, edition: Edition) -> MultiPathsResult | None:
    """The edition's top paths of 3 steps from ``home``, else from the funnel's first step.

    One more pass over the edition's events (the funnel's counts do not keep the order of
    every event). Left out when neither event occurs in the edition.
    """
    if inputs.optional("events") is None:
        return None
    if inputs.engine.name != "polars":  # paths read every event in order: one machine
        msg = f"paths read the events on this machine only, not with --engine {inputs.engine.name}"
        raise EmptySelectionError(msg)
    period = Period(since=edition.start, until=edition.end)
    first = steps_from(None, config)[0]
    for anchor in dict.fromkeys((PATHS_FROM, first)):
        try:
            return multi_step_paths(inputs, anchor, depth=PATHS_DEPTH, top=PATHS_TOP,
                                    matrix=True, period=period)
        except EmptySelectionError:
            if anchor == first:
                raise
    return None


def _conversion(flow: FunnelResult, edition: Edition) -> dict[str, Any]:
    n = len(flow.spec.steps)
    weekly = flow.periods.group_by("period").agg(
        pl.col("entered_1").sum(), pl.col(f"entered_{n}").sum().alias("done")
    )
    weeks = weekly["period"].to_list()

    def rate(e: Edition) -> float | None:
        inside = [p for p in weeks if e.start <= p <= e.end]
        if not inside:
            return None
        sub = weekly.filter(pl.col("period").is_in(inside))
        first = sub["entered_1"].sum()
        return sub["done"].sum() / first if first else None

    history = [rate(edition.shift(-i)) for i in range(1, 5)]
    known = [h for h in history if h is not None]
    return row("conversion", rate(edition), rate(edition.shift(-1)),
               sum(known) / len(known) if known else None)


PROFILE_BY = {"customer_type": "customer_type", "role": "role", "tier": "points"}


def _profile(inputs: Inputs, config: Config, period: Period) -> ProfileResult | None:
    """Customer type, role and tier (levels by points), as ``cust segment profile --by``.

    Left out when there is no customers export or it has none of those columns.
    """
    customers = inputs.optional("customers")
    if customers is None:
        return None
    by = tuple(d for d, column in PROFILE_BY.items() if customers.has(column))
    if not by:
        return None
    ladder = parse_ladder(config.section("tiers"), where=config.name)
    return profile_customers(inputs, by=by, period=period, ladder=ladder)


def _merge(reports: list[InputReport], inputs: Inputs) -> InputReport:
    """Rows read and rejected per source; sources only read on the side are counted too."""
    sources = {}
    for r in reports:
        sources.update(r.sources)
    others = [s for s in inputs.loaded if s.name not in sources]
    if others:
        sources.update(collect([], others)[1].sources)
    return InputReport(dict(sorted(sources.items())))


def figures(r: WeeklyReport, *, interactive: bool = True) -> dict[str, dict[str, str]]:
    """Every chart of the report with its one-line reading, for :func:`.html.render_weekly`.

    ``{"trend": {"chart": <svg or Vega-Lite JSON>, "reading": "..."}, ...}``: the chart as
    inline SVG (static edition) or as a specification the page draws (interactive). The
    reading says in one sentence what the chart shows, from the same figures.
    """
    t = LABELS[r.lang]
    out: dict[str, dict[str, str]] = {}

    def pct(x: Any, sign: bool = False) -> str:
        return "—" if x is None else (f"{x:+.1%}" if sign else f"{x:.1%}")

    def add(key: str, chart: str, reading: str) -> None:
        out[key] = {"chart": chart, "reading": reading}

    frames = []
    for label, result in ((r.edition.label, r.bands), (r.edition.shift(-1).label, r.bands_before)):
        frames.append(result.buckets.select("label", "order_share").with_row_index("order")
                      .with_columns(pl.lit(label).alias("edition")))
    figures_by = {h["metric"]: h for h in r.headline}
    revenue = figures_by["revenue"]
    add("trend", charts.trend(pl.DataFrame(
        [{"label": p["label"], "revenue": p["revenue"], "orders": p["orders"],
          "current": p["label"] == r.edition.label} for p in r.trend]), t,
        interactive=interactive),
        t["reading_trend"].format(current=format_cell(revenue["current"], "money"),
                                  change=pct(revenue["change"], True),
                                  vs_avg=pct(revenue["change_vs_average"], True),
                                  orders=f"{figures_by['orders']['current']:,}"))
    now, before = r.bands.buckets, r.bands_before.buckets
    top = max(range(now.height), key=lambda i: now["order_share"][i] or 0) if now.height else None
    add("bands", charts.bands(pl.concat(frames), t, interactive=interactive),
        t["reading_bands"].format(
            band=now["label"][top] if top is not None else "—",
            share=pct(now["order_share"][top] if top is not None else None),
            before=pct(before["order_share"][top]
                       if top is not None and before.height > top else None)))
    if r.funnel is not None:
        steps = r.funnel.steps
        names, entered = steps["step"].to_list(), steps["entered"].to_list()
        losses = [(1 - b / a if a else 0.0, i) for i, (a, b) in
                  enumerate(zip(entered, entered[1:], strict=False), start=1)]
        worst = max(losses) if losses else (0.0, 0)
        add("funnel", charts.funnel(steps, t, interactive=interactive),
            t["reading_funnel"].format(
                conversion=pct(entered[-1] / entered[0] if entered and entered[0] else None),
                first=names[0], last=names[-1], step=names[worst[1]], lost=pct(worst[0])))
        # An alert found on an explain column's value (``breakdown``: platform, channel) has
        # no series in the report's per-period counts: the chart shows the first run that has.
        first = [a for a in latest_alerts(r.alerts)
                 if set(a["segment"]) <= set(r.funnel.periods.columns)][:1]
        if first:
            a = first[0]
            add("drift", charts.drift(_drift_series(r.funnel, a),
                                      f"{a['from_step']} → {a['step']} "
                                      f"({segment_label(a['segment'], r.lang)})", t,
                                      interactive=interactive),
                t["reading_drift"].format(since=a["since"], rate=pct(a["window_rate"]),
                                          expected=pct(a["expected"])))
        times = r.funnel.times_to_convert
        if times is not None and times["units"].sum():
            add("times", charts.times_to_convert(_time_bands(times), t, interactive=interactive),
                _times_reading(times, t, pct))
    if r.paths is not None:
        add("paths", charts.sankey(
            [(p["path"], p["count"]) for p in r.paths.paths.iter_rows(named=True)],
            r.paths.anchor, t["paths"].format(depth=r.paths.depth, top=PATHS_TOP), t,
            interactive=interactive),
            _paths_reading(r.paths, t, pct))
    shown = r.cohorts.cohorts[-12:]
    cells = [
        {"cohort": c["cohort"], "k": k, "retention": v, "text": f"{v:.0%}"}
        for c in shown for k, v in enumerate(c["retention"])
    ]
    if cells:
        month1 = [(c["cohort"], c["retention"][1]) for c in shown
                  if len(c["retention"]) > 1 and c["retention"][1] is not None]
        latest = month1[-1] if month1 else ("—", None)
        add("cohorts", charts.cohort_heatmap(pl.DataFrame(cells), t, interactive=interactive),
            t["reading_cohorts"].format(
                cohort=latest[0], share=pct(latest[1]),
                avg=pct(sum(v for _, v in month1) / len(month1) if month1 else None)))
    if r.promo is not None and r.promo.scenarios:
        rows = [{"name": s["scenario"]["name"], "net": s["net_gross_profit_effect"],
                 "rank": s["rank"]} for s in r.promo.scenarios]
        best = min(rows, key=lambda x: x["rank"])
        add("promo", charts.promo(pl.DataFrame(rows), t, interactive=interactive),
            t["reading_promo"].format(best=best["name"], net=format_cell(best["net"], "money"),
                                      losing=sum(1 for x in rows if x["net"] < 0),
                                      n=len(rows)))
    return out


def duration(seconds: float | None) -> str:
    """Seconds as text in the largest unit that keeps it above 1: 45 s, 3.5 min, 2.0 h, 1.5 d."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _time_bands(times: pl.DataFrame) -> pl.DataFrame:
    """Per step and time band of ``cust funnel --times``: units and share of the converted."""
    return pl.DataFrame([
        {"transition": f"{row['from_step']} → {row['step']}", "band": label, "order": i,
         "units": row[f"hist_{i}"],
         "share": row[f"hist_{i}"] / row["units"] if row["units"] else 0.0,
         "median": duration(row["median_seconds"]), "p90": duration(row["p90_seconds"]),
         "about": f"{row['from_step']} → {row['step']}, {label}: {row[f'hist_{i}']:,}"}
        for row in times.iter_rows(named=True) for i, (label, _, _) in enumerate(TIME_BINS)
    ])


def _times_reading(times: pl.DataFrame, t: dict[str, str], pct: Callable[..., str]) -> str:
    """The step with the longest median time to convert, its p90 and 1 h / 1 d shares."""
    slow = times.filter(pl.col("median_seconds").is_not_null()).sort(
        "median_seconds", descending=True).row(0, named=True)
    return t["reading_times"].format(
        from_step=slow["from_step"], step=slow["step"],
        median=duration(slow["median_seconds"]), p90=duration(slow["p90_seconds"]),
        within_1h=pct(slow["within_1h"]), within_1d=pct(slow["within_1d"]))


def _paths_reading(paths: MultiPathsResult, t: dict[str, str],
                   pct: Callable[..., str]) -> str:
    """The most common path and the share of the visits that ended within the depth."""
    first = paths.paths.row(0, named=True)
    ended = (paths.matrix.filter(pl.col("event") == paths.end)[f"step_{paths.depth}"]
             if paths.matrix is not None else None)
    return t["reading_paths"].format(
        occurrences=f"{paths.occurrences:,}", anchor=paths.anchor, depth=paths.depth,
        path=" → ".join(first["path"]), share=pct(first["share"]),
        ended=pct(ended.item() if ended is not None and ended.len() else None))


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
