"""Power and false alarms of the drift alerts: ``python -m benchmarks drift [--runs 200]``.

Simulates funnel steps with planted changes and reports, per scenario, the detection rate,
the periods to detection and the false-alarm rate of ``cust``'s drift test
(:mod:`cust.pipelines.funnel.drift`) and of the test it replaced (:mod:`.drift_before`), on the
same seeded series. Results go to the ``## Drift alerts`` section of ``RESULTS.md``.

Series are weekly (26 weeks; a change starts at week 20) unless said: per period the units
reaching the earlier step are Poisson around the traffic, and each converts with the rate of
that period. A one-period drop lasts one week; a sustained drop four. Detected: at least one
alert of the changed series moving down, in the change or the period after it. Periods to
detection: from the first changed period (1 = the change's own period). A false alarm: any
alert on a stable series (26 weeks or 180 days).

Contaminations of the baseline: an earlier one-week 75 % drop five weeks before the change
(``earlier anomaly``); the week before the change already half as low (``onset``);
beta-binomial rates (``over-dispersed``: each period's rate drawn from a Beta with mean p
and concentration 400); daily series with a weekday pattern (Monday 20 % lower, weekend
15 % higher; ``weekday``). A breakdown scenario splits the traffic over four values, one
carrying a quarter, and drops only that one (tested with ``--by``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cust.pipelines.funnel import FunnelSpec
from cust.pipelines.funnel import drift as new

from . import drift_before as old
from .sections import write_section

HERE = Path(__file__).resolve().parent
START = date(2024, 1, 1)  # a Monday
WEEKS, ONSET = 26, 20
DAYS = 180
WEEKDAY = np.array([0.8, 1.0, 1.0, 1.0, 1.0, 1.15, 1.15])
TRAFFIC = (20, 50, 200, 1_000, 10_000)
RATES = (0.05, 0.30, 0.50)
SECTION = "## Drift alerts"


@dataclass(frozen=True)
class Scenario:
    """One simulated shape: a drop (relative) over ``length`` periods from ``ONSET``."""

    kind: str
    drop: float = 0.0
    length: int = 1
    contamination: str = ""
    daily: bool = False
    breakdown: bool = False


def simulate(sc: Scenario, units: int, p: float, rng: np.random.Generator) -> pl.DataFrame:
    """Per-period counts (``period``, maybe ``value``, ``entered_1``, ``entered_2``)."""
    size = DAYS if sc.daily else WEEKS
    step = timedelta(days=1 if sc.daily else 7)
    periods = [START + i * step for i in range(size)]
    values = ["a", "b", "c", "d"] if sc.breakdown else [None]
    share = {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25, None: 1.0}
    frames = []
    for v in values:
        rate = np.full(size, p)
        if sc.daily and sc.contamination == "weekday":
            rate = rate * WEEKDAY[np.array([d.weekday() for d in periods])]
        if v in (None, "a"):
            onset = ONSET if not sc.daily else DAYS - 20
            rate[onset:onset + sc.length] *= 1 - sc.drop
            if sc.contamination == "earlier anomaly":
                rate[onset - 5] *= 0.25
            if sc.contamination == "onset":
                rate[onset - 1] *= 1 - sc.drop / 2
        if sc.contamination == "over-dispersed":
            kappa = 400.0
            rate = rng.beta(rate * kappa, (1 - rate) * kappa)
        n = rng.poisson(units * share[v], size)
        x = rng.binomial(n, np.clip(rate, 0, 1))
        frame = pl.DataFrame({"period": periods, "entered_1": n, "entered_2": x})
        if sc.breakdown:
            frame = frame.with_columns(pl.lit(v).alias("value"))
        frames.append(frame)
    return pl.concat(frames)


def _detect(method: str, frame: pl.DataFrame, sc: Scenario) -> list[dict]:
    spec = FunnelSpec(steps=("a", "b"), period="day" if sc.daily else "week",
                      by=("value",) if sc.breakdown else ())
    last = frame["period"].max()
    end = datetime.combine(last, datetime.min.time()) + timedelta(days=1 if sc.daily else 7,
                                                                  hours=1)
    if method == "new":
        return new.detect(frame, spec, new.DriftSpec(), end)[0]
    return old.detect(frame, spec, old.DriftSpec(), end)[0]


def measure(sc: Scenario, units: int, p: float, runs: int, seed: int,
            methods: tuple[str, ...] = ("new", "old")) -> dict[str, dict]:
    """Detection (or false-alarm) rate and median periods to detection, per method."""
    out: dict[str, dict] = {}
    step = timedelta(days=1 if sc.daily else 7)
    onset = START + (DAYS - 20 if sc.daily else ONSET) * step
    until = onset + sc.length * step
    for method in methods:
        rng = np.random.default_rng(seed)
        hits, delays = 0, []
        for _ in range(runs):
            alerts = _detect(method, simulate(sc, units, p, rng), sc)
            if sc.kind == "stable":
                hits += bool(alerts)
                continue
            found = sorted(a["period"] for a in alerts
                           if a["direction"] == "down" and onset <= a["period"] <= until
                           and a["segment"].get("value", "a") == "a")
            if found:
                hits += 1
                delays.append((found[0] - onset) // step + 1)
        out[method] = {"rate": hits / runs,
                       "delay": statistics.median(delays) if delays else None}
    return out


def scenarios() -> list[tuple[Scenario, int, float]]:
    """The grid of the issue: traffic x base rate x shape, then the contaminated ones."""
    grid: list[tuple[Scenario, int, float]] = []
    shapes = [Scenario("one-period", d) for d in (0.25, 0.5, 0.75)]
    shapes += [Scenario("sustained", d, 4) for d in (0.15, 0.25, 0.5)]
    for sc in shapes:
        grid += [(sc, u, p) for u in TRAFFIC for p in RATES]
    for c in ("earlier anomaly", "onset", "over-dispersed"):
        grid += [(Scenario("one-period", 0.5, 1, c), u, 0.3) for u in (40, 200, 1_000)]
        grid += [(Scenario("sustained", 0.25, 4, c), u, 0.3) for u in (200, 1_000)]
    grid += [(Scenario("breakdown", 0.75, 4, breakdown=True), u, 0.3) for u in (60, 200, 1_000)]
    grid += [(Scenario("one-period", 0.5, 1, "weekday", daily=True), u, 0.3)
             for u in (200, 1_000)]
    for c in ("", "over-dispersed"):
        grid += [(Scenario("stable", contamination=c), u, p) for u in (50, 1_000, 10_000)
                 for p in (0.05, 0.3)]
        grid += [(Scenario("stable", contamination=c, daily=True), u, 0.3)
                 for u in (200, 10_000)]
    grid += [(Scenario("stable", contamination="weekday", daily=True), u, 0.3)
             for u in (200, 10_000)]
    return grid


def _label(sc: Scenario, units: int, p: float) -> str:
    what = sc.kind if sc.kind == "stable" else f"{sc.kind} -{sc.drop:.0%}"
    if sc.kind == "sustained" or sc.breakdown:
        what += f" x{sc.length}"
    extra = ", ".join(x for x in (sc.contamination, "daily" if sc.daily else "") if x)
    per = "day" if sc.daily else "week"
    where = f" ({extra})" if extra else ""
    return f"| {what}{where} | {units:,}/{per} | {p:.0%} |"


def run(runs: int, seed: int, progress: Callable[[str], None] = print) -> list[str]:
    """The section's lines: a table row per scenario."""
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks drift --runs {runs}` (seed {seed}): {runs} seeded series per "
        "row, the same series for both methods. `new`: the drift test of `cust` now "
        "(in-control baselines, a dispersion test, exact tests for small counts, a "
        "change-point scan over windows of 2, 4, 8 periods, Benjamini-Hochberg over the "
        "series and within a selected one); `old`: the test before issue 19 (Laney p-chart "
        "and forward 8-period window, Bonferroni). Rate: share of runs detecting the planted drop "
        "(stable rows: share of runs with any alert, the false-alarm rate). Delay: median "
        "periods from the change's start to its first alert (1 = the change's own period). "
        "Scenarios and their simulation: `benchmarks/drift.py`.",
        "",
        "| scenario | traffic | base rate | new rate | new delay | old rate | old delay |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (sc, units, p) in enumerate(scenarios()):
        got = measure(sc, units, p, runs, seed + i)

        def fmt(m: str, got: dict = got) -> str:
            d = got[m]["delay"]
            return f"{got[m]['rate']:.1%} | {'-' if d is None else f'{d:g}'}"

        row = f"{_label(sc, units, p)} {fmt('new')} | {fmt('old')} |"
        progress(row)
        lines.append(row)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the drift benchmark and write its section of RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks drift", description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    write_section(args.results, SECTION, run(args.runs, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
