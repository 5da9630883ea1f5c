"""The drift test before issue 19 (stop 15), kept only for ``python -m benchmarks drift``.

It is not used by cust: the benchmark runs it on the same seeded series as
:mod:`cust.pipelines.funnel.drift` to show what the new method changed. Its own doc follows.

Drift alerts on funnel conversion, and what explains them.

For every step k >= 2, breakdown value and period p, the rate is
``entered_k / entered_{k-1}`` among the units of period p. Its baseline is the pooled rate
``p0`` of the ``--baseline`` periods just before p (default 28 days or 8 weeks). Two tests:

- **p-chart**: the rate of period p alone against the baseline (a sudden change);
- **sustained shift**: the pooled rate of the ``--baseline`` periods *from* p (fewer at the
  end of the data, but at least half as many) against the baseline before p (a change point
  at p): a drop too small to see in one period but lasting for weeks. This answers "since
  when": within a run of consecutive alerts, ``since`` is the period with the largest
  ``|z|``, the most likely change point.

Both are two-proportion z-tests, ``z = (r - p0) / (phi * sqrt(p0 (1 - p0) (1/n + 1/n0)))``
with ``n`` and ``n0`` the units entering step k-1 in the tested periods and in the baseline.
``phi`` is Laney's over-dispersion factor (mean moving range of the baseline periods'
z-scores / 1.128, at least 1), so day-to-day swings wider than binomial noise widen the band
instead of raising alerts.

An alert's ``rate`` is its period's own rate (CONTRACT section 3), and ``lower``/``upper``
bound the rate its test compared, ``window_rate`` over ``window_periods`` periods: the
period's own for a p-chart; for a sustained shift the pooled rate from the period, so the
period's own rate may lie inside the band (a small lasting drop is what that test finds).
A window is tested only when it expects at least 5 conversions and 5 non-conversions at the
baseline rate, where the z-test's normal approximation holds.

Practical significance: with hundreds of thousands of units even a 2 % move is
statistically certain, so a move smaller than ``min_effect`` (default 10 % of the expected
rate, relative) is not an alert.

False alarms: the critical value is Bonferroni-corrected over every test of the run
(series x judged periods x 2 tests) at ``alpha`` = 0.05: on a stable funnel the probability
that a run raises *any* alert is at most 5 % (the tests overlap, so the bound is
conservative; a test measures the rate on simulated stable series). A period is judged only
when every unit of the tested periods has had time to finish (``--window`` for users, a day
for sessions) by the end of the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from cust.pipelines.errors import InvalidOptionError
from cust.pipelines.funnel import FunnelSpec, judged_until

MIN_BASE_UNITS = 30  # a baseline with fewer units entering the step is not a baseline
# The z-test's normal approximation needs this many expected conversions and expected
# non-conversions in the tested window (the usual rule for a binomial's normal
# approximation): 1 purchase in 10 sessions against a baseline rate of 1/280 gave z = 5,
# while the exact chance of it is 3.5 %.
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class DriftSpec:
    """Baseline length in periods (None: 28 days or 8 weeks) and family-wise alpha."""

    baseline: int | None = None
    alpha: float = 0.05
    min_effect: float = 0.1  # relative change below which a significant move is not an alert

    def periods(self, spec: FunnelSpec) -> int:
        """Baseline length for the funnel's period unit."""
        b = self.baseline if self.baseline is not None else (28 if spec.period == "day" else 8)
        if b < 2:
            msg = f"--baseline {b} is too short"
            raise InvalidOptionError(msg, hint="use at least 2 periods, e.g. --baseline 28")
        return b


def _series(periods: pl.DataFrame, spec: FunnelSpec) -> list[tuple[dict, int, list, np.ndarray,
                                                                     np.ndarray]]:
    """(segment, step index k, period starts, n (entered k-1), x (entered k)) per series."""
    if periods.height == 0:
        return []
    first, last = periods["period"].min(), periods["period"].max()
    step = timedelta(days=1 if spec.period == "day" else 7)
    grid = pl.DataFrame({"period": pl.date_range(first, last, step, eager=True)})
    out = []
    groups = (
        [((), periods)] if not spec.by
        else periods.partition_by(list(spec.by), as_dict=True, maintain_order=True).items()
    )
    for key, frame in groups:
        full = grid.join(frame, on="period", how="left").fill_null(0)
        segment = dict(zip(spec.by, key, strict=True)) if spec.by else {}
        for k in range(2, len(spec.steps) + 1):
            n = full[f"entered_{k - 1}"].to_numpy().astype(float)
            x = full[f"entered_{k}"].to_numpy().astype(float)
            out.append((segment, k, full["period"].to_list(), n, x))
    return out


def detect(
    periods: pl.DataFrame, spec: FunnelSpec, drift: DriftSpec, data_end: datetime
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Alerts (contract keys plus ``z``, ``p_value``, ``test`` and ``since``) and the method."""
    b = drift.periods(spec)
    last_judged = judged_until(data_end, spec)
    prepared = []
    tests = 0
    for segment, k, starts, n, x in _series(periods, spec):
        finished = np.array([s <= last_judged for s in starts], dtype=bool)
        shock = _compare(n, x, b, 1, finished)
        shift = _compare(n, x, b, b, finished)
        tests += int(shock[3].sum()) + int(shift[3].sum())
        prepared.append((segment, k, starts, n, x, shock, shift))
    zc = NormalDist().inv_cdf(1 - drift.alpha / (2 * max(tests, 1)))
    alerts: list[dict[str, Any]] = []
    for segment, k, starts, n, x, shock, shift in prepared:
        run_start: date | None = None
        for i, s in enumerate(starts):
            # A period with no unit has no rate of its own: it is no alert, even inside a
            # shifted window.
            hits = [(name, t) for name, t in (("p-chart", shock), ("shift", shift))
                    if n[i] and t[3][i] and abs(t[0][i]) > zc
                    and abs(t[1][i] - t[2][i]) >= drift.min_effect * t[2][i]]
            if not hits:
                run_start = None
                continue
            run_start = run_start or s
            name, (z, rate, expected, _judged, se, units, periods) = max(
                hits, key=lambda h: abs(h[1][0][i]))
            alerts.append({
                "period": s,
                "step": spec.steps[k - 1],
                "from_step": spec.steps[k - 2],
                "segment": segment,
                # The period's own rate (CONTRACT section 3); the band bounds the rate the
                # test compared: the same for a p-chart, the window's for a sustained shift.
                "rate": float(x[i] / n[i]),
                "expected": float(expected[i]),
                "lower": max(0.0, float(expected[i] - zc * se[i])),
                "upper": min(1.0, float(expected[i] + zc * se[i])),
                "direction": "down" if z[i] < 0 else "up",
                "z": float(z[i]),
                "p_value": 2 * (1 - NormalDist().cdf(abs(float(z[i])))),
                "test": name,
                "units": int(n[i]),
                "window_rate": float(rate[i]),
                "window_periods": int(periods[i]),
                "window_units": int(units[i]),
                "since": run_start,
            })
    # A run's change point is its period with the largest |z|: a sustained-shift window
    # starting a few periods before the change already differs from its baseline.
    runs: dict[tuple, dict[str, Any]] = {}
    for a in alerts:
        key = (a["step"], tuple(sorted(a["segment"].items())), a["since"])
        if key not in runs or abs(a["z"]) > abs(runs[key]["z"]):
            runs[key] = a
    for a in alerts:
        a["since"] = runs[(a["step"], tuple(sorted(a["segment"].items())), a["since"])]["period"]
    method = {
        "test": f"two-proportion z-tests with Laney's over-dispersion factor: each period "
        f"(p-chart) and the {b} periods from it (sustained shift) against the pooled "
        f"{b} periods before it",
        "alpha": drift.alpha,
        "tests": tests,
        "z_critical": zc,
        "baseline_periods": b,
        "min_effect": drift.min_effect,
        "last_judged": last_judged,
    }
    return alerts, method


def _compare(
    n: np.ndarray, x: np.ndarray, b: int, w: int, finished: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Per period i: the window [i, i+w) against the baseline [i-b, i).

    Returns ``(z, window rate, baseline rate, judged, standard error, window units,
    window periods)``.
    The window holds only finished periods; at the end of the data it shrinks, down to
    half its length. A period is judged when its window is long enough, the baseline has at least
    :data:`MIN_BASE_UNITS` units, its rate is strictly between 0 and 1, and the window expects
    at least :data:`MIN_EXPECTED` conversions and as many non-conversions at that rate.
    """
    size = len(n)
    z, rate, expected, se = (np.zeros(size) for _ in range(4))
    units, periods = np.zeros(size), np.zeros(size)
    judged = np.zeros(size, dtype=bool)
    cn, cx = np.concatenate([[0], np.cumsum(n)]), np.concatenate([[0], np.cumsum(x)])
    done = int(finished.sum()) and int(np.nonzero(finished)[0].max()) + 1
    for i in range(b, size):
        # Near the end of the data the window shrinks to the finished periods, but keeps
        # at least half its length (or the single period of the p-chart).
        end = min(i + w, done)
        if end - i < max(1, w // 2):
            continue
        n0, x0 = cn[i] - cn[i - b], cx[i] - cx[i - b]
        n1, x1 = cn[end] - cn[i], cx[end] - cx[i]
        if n1 <= 0 or n0 < MIN_BASE_UNITS:
            continue
        p0 = x0 / n0
        if p0 <= 0 or p0 >= 1 or min(n1 * p0, n1 * (1 - p0)) < MIN_EXPECTED:
            continue
        window_n, window_x = n[i - b:i], x[i - b:i]
        ok = window_n > 0
        zb = (window_x[ok] / window_n[ok] - p0) / np.sqrt(p0 * (1 - p0) / window_n[ok])
        phi = max(1.0, float(np.mean(np.abs(np.diff(zb)))) / 1.128) if len(zb) > 2 else 1.0
        se[i] = phi * math.sqrt(p0 * (1 - p0) * (1 / n1 + 1 / n0))
        rate[i], expected[i], units[i], periods[i] = x1 / n1, p0, n1, end - i
        z[i] = (rate[i] - p0) / se[i]
        judged[i] = True
    return z, rate, expected, judged, se, units, periods
