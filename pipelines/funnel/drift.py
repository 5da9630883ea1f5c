"""Drift alerts on funnel conversion: robust baselines, exact small counts, change points.

For every step k >= 2, breakdown value and period p, the rate is
``entered_k / entered_{k-1}`` among the units of period p (CONTRACT section 3). Each
series (step x breakdown value) is read in time order, as a control chart is kept:

**Baseline.** The ``--baseline`` (b; default 28 days or 8 weeks) most recent *in-control*
periods before p, looked for within the 2b periods before p. A period is out of control when
its own test (the p-chart) has an unadjusted p-value below :data:`EXCLUDE` (1 %, about 2.6
sigma), or a sustained-shift window holding it one below :data:`WILD` (0.1 %: excluding
windows at 1 %, a slow drift would keep the periods on one side of it only and bias the
baseline further with every period); it is left out of every later baseline, so an
earlier incident, or the onset of the same one, cannot pull the expected rate towards it
(control-chart practice: remove out-of-control points and recompute the limits). When fewer
than half a baseline of in-control periods is left in the 2b periods (the rate has settled
at a new level), the b periods before p are the baseline again. A baseline of fewer than
:data:`BASE_UNITS` units (a step a few dozen units reach each week) takes in more in-control
periods, up to 3b back, until it holds that many: its own scatter otherwise hides a collapse
(four weeks at 16 of 60 against 26 of 47 give p = 0.003, too little once the windows and
series are paid for; against the 16 weeks' 52 of 94, p = 0.0005). The
expected rate ``e`` is the baseline's pooled rate; a baseline with fewer than
:data:`MIN_BASE_UNITS` units is none.

**Weekday pattern** (daily periods). Over the in-control periods of the 3b before p (at
least three weeks), the seven weekdays' rates are tested for homogeneity (the 7 x 2 table's
chi-square, scaled by the days' own scatter about their weekday rates, so over-dispersion
alone is no pattern; level :data:`PATTERN_LEVEL`). Where it rejects, weekday factors
``f_w = rate_w / rate`` are used: ``e = p0 * f_w`` with ``p0 = sum(x) / sum(n * f)`` over
the baseline, so a normal Monday dip is expected and a real Monday drop is not.

**Over-dispersion.** Over the periods of the 3b before p (at least :data:`MIN_HISTORY`;
all of them: trimmed by tests that assumed binomial scatter, the history would hide a real
over-dispersion), the Pearson chi-square of the counts about their expected rates tests
binomial variation (level :data:`DISPERSION_LEVEL`, 25 %: lenient, since a missed
over-dispersion raises false alarms and a factor near 1 costs little). Each period's term
is capped at the chi-square(1) 99.9 % point times a robust scale (the median term over 0.455, the
chi-square(1) median), so one incident in the history cannot set the factor. Only where the
test rejects is the quasi-binomial factor ``phi = sqrt(chi-square / df)`` used (McCullagh
and Nelder, *Generalized Linear Models*, 4.5), and the tests' z then referred to Student's
t with those df, which pays for estimating phi from few periods; a handful of baseline
points never sets it.

**Two tests per period**, each of a window's ``X`` conversions of ``N`` units against the
baseline's ``n0`` units at rate ``e``:

- **p-chart** (a sudden change): the period alone;
- **shift** (a sustained change): the windows of 2, 4, 8, ... periods (and b) ending at p,
  each against the in-control baseline before its own start: a likelihood-ratio scan for a
  change point at those distances, read sequentially as the periods come in. The window
  with the smallest p-value is the test; its p-value is multiplied by the number of window
  lengths (Bonferroni over the candidate change points), and its band is drawn at that level.

A test is the two-proportion z-test ``z = (X/N - e) / (phi sqrt(e (1 - e) (1/N + 1/n0)))``
where the normal approximation holds (at least :data:`MIN_EXPECTED` expected conversions and
non-conversions), and otherwise Fisher's exact test (``scipy.stats.fisher_exact``, two-sided)
of the window against the baseline, so a step that a few dozen units reach each week is
still watched (Agresti, *Categorical Data Analysis*, 3.5).

**Multiple testing.** A test that could not reach significance even alone (its smallest
attainable p-value, at X = 0 or X = N, is above ``alpha``) is left out and counted as too
small to test (Tarone 1990). Default ``correction="fdr"``: the series (step x breakdown value)
are the families; each series' p-value is Simes' over its tests, Benjamini-Hochberg over the
series selects ``R`` of ``M`` at ``alpha``, and within a selected series Benjamini-Hochberg
at ``alpha * R / M`` picks the alerting periods (Benjamini and Bogomolov 2014, selective
inference on families; :func:`decide`). On a stable funnel every hypothesis is null and the
chance of *any* alert is at most ``alpha``; a long incident in one series does not lower the
bar for noise in another. ``correction="fwer"``: Holm over every test of the run. The
``--explain`` breakdown values are a family of their own. The benchmark (``python -m
benchmarks drift``, ``benchmarks/RESULTS.md``) measures the method against the one before.

Practical significance: a move smaller than ``min_effect`` (default 10 % of the expected
rate, relative) is no alert. A period is judged only when every unit of it has had time to
finish (``--window`` for users, a day for sessions) by the end of the data.

An alert's ``rate`` is its period's own rate; ``lower``/``upper`` bound the rate its test
compared (``window_rate`` over ``window_periods`` periods) at the run's per-test level, so
for a shift the period's own rate may lie inside the band. ``since`` is the first period of
the change: for a run of consecutive alerts, the split of the series (from a baseline before
the run to its end) that maximises the binomial likelihood with the rate moving the run's way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from ..errors import InvalidOptionError
from .spec import FunnelSpec, judged_until

BASE_UNITS = 200  # a baseline of fewer units reaches further back (up to 3b periods)
MIN_BASE_UNITS = 30  # a baseline with fewer units entering the step is not a baseline
MIN_EXPECTED = 5.0  # expected conversions and non-conversions for the normal approximation
EXCLUDE = 0.01  # unadjusted p-value below which a period leaves later baselines
WILD = 0.001  # p-value below which a shifted window leaves later baselines
PATTERN_LEVEL = 0.05  # level of the weekday test
# Level of the dispersion test: lenient, as missing a real over-dispersion raises false
# alarms (stable over-dispersed weekly runs with any alert, seeded: 18 % at 5 %, 13 % at
# 10 %, under 12 % at 25 %) while a factor applied to binomial data is close to 1 and costs
# little power.
DISPERSION_LEVEL = 0.25
MIN_HISTORY = 8  # periods of history before a dispersion or weekday pattern is estimated
CHI2_1_MEDIAN = 0.454936  # median of chi-square with 1 degree of freedom
CHI2_1_TAIL = 10.828  # its 99.9 % point
CORRECTIONS = ("fdr", "fwer")


@dataclass(frozen=True)
class DriftSpec:
    """Baseline length in periods (None: 28 days or 8 weeks), error rate and correction."""

    baseline: int | None = None
    alpha: float = 0.05
    min_effect: float = 0.1  # relative change below which a significant move is not an alert
    correction: str = "fdr"  # "fdr": Benjamini-Hochberg; "fwer": Holm

    def __post_init__(self) -> None:
        if self.correction not in CORRECTIONS:
            msg = f"unknown drift correction {self.correction!r}"
            raise InvalidOptionError(msg, hint="use fdr (Benjamini-Hochberg) or fwer (Holm)")

    def periods(self, spec: FunnelSpec) -> int:
        """Baseline length for the funnel's period unit."""
        b = self.baseline if self.baseline is not None else (28 if spec.period == "day" else 8)
        if b < 2:
            msg = f"--baseline {b} is too short"
            raise InvalidOptionError(msg, hint="use at least 2 periods, e.g. --baseline 28")
        return b


@dataclass
class Series:
    """One rate series: units reaching step k-1 (``n``) and step k (``x``) per period."""

    segment: dict[str, Any]
    k: int
    starts: list[date]
    n: np.ndarray
    x: np.ndarray
    source: str | None = None  # the explain column whose value the segment adds, if any


@dataclass
class Tested:
    """One test of a window ``[start, i]`` of a series against its baseline."""

    series: int
    i: int
    start: int
    kind: str  # "p-chart" or "shift"
    p: float
    p_min: float
    z: float
    rate: float  # the window's rate
    expected: float
    n_window: int
    n_base: int
    phi: float
    df: int
    exact: bool
    seasonal: bool
    se: float = 0.0
    scan: int = 1  # the Bonferroni factor over the shift test's window lengths


def series_of(periods: pl.DataFrame, spec: FunnelSpec, by: tuple[str, ...] | None = None,
              source: str | None = None) -> list[Series]:
    """Every (breakdown value, step) series of a per-period count frame, on a full grid.

    ``periods`` has ``period``, the ``by`` columns and ``entered_1..n``; periods without
    units are zeros.
    """
    by = spec.by if by is None else by
    if periods.height == 0:
        return []
    first: Any = periods["period"].min()
    last: Any = periods["period"].max()
    step = timedelta(days=1 if spec.period == "day" else 7)
    grid = pl.DataFrame({"period": pl.date_range(first, last, step, eager=True)})
    groups = (
        [((), periods)] if not by
        else periods.partition_by(list(by), as_dict=True, maintain_order=True).items()
    )
    out = []
    for key, frame in groups:
        full = grid.join(frame, on="period", how="left").fill_null(0)
        segment = dict(zip(by, key, strict=True)) if by else {}
        for k in range(2, len(spec.steps) + 1):
            out.append(Series(
                segment, k, full["period"].to_list(),
                full[f"entered_{k - 1}"].to_numpy().astype(float),
                full[f"entered_{k}"].to_numpy().astype(float), source,
            ))
    return out


def detect(
    periods: pl.DataFrame,
    spec: FunnelSpec,
    drift: DriftSpec,
    data_end: datetime,
    breakdowns: dict[str, pl.DataFrame] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Alerts (contract keys plus ``z``, ``p_value``, ``test``, ``since``...) and the method.

    ``breakdowns`` (explain column -> per-period counts by ``--by`` and that column) adds
    each column value's series, so a drop confined to one platform or category is flagged
    on that value even when the whole funnel hides it. They are a family of their own with
    its own error control: ``--explain`` never changes the funnel's own alerts.
    """
    b = drift.periods(spec)
    last_judged = judged_until(data_end, spec)
    all_series = series_of(periods, spec)
    for column, frame in (breakdowns or {}).items():
        all_series += series_of(frame, spec, (*spec.by, column), column)
    tests: list[Tested] = []
    untestable = 0
    series_untested: list[dict[str, Any]] = []
    for si, s in enumerate(all_series):
        finished = np.array([d <= last_judged for d in s.starts], dtype=bool)
        found, small = scan(s.n, s.x, b, finished, daily=spec.period == "day",
                            starts=s.starts, alpha=drift.alpha)
        for t in found:
            t.series = si
        tests += found
        untestable += small
        if not found and s.source is None and finished.any():
            series_untested.append({"step": spec.steps[s.k - 1], "segment": s.segment})
    levels = [0.0] * len(tests)
    families = selected = 0
    for extra in (False, True):
        part = [j for j, t in enumerate(tests) if (all_series[t.series].source is not None)
                == extra]
        got, m, r = decide([tests[j] for j in part], drift.alpha, drift.correction)
        for j, level in zip(part, got, strict=True):
            levels[j] = level
        if not extra:
            families, selected = m, r
    alerts = _alerts(tests, levels, all_series, spec, drift)
    _set_since(alerts, all_series, b)
    zc = _z_of(drift.alpha / max(len(tests), 1))
    method = {
        "test": (
            "each period (p-chart) and the windows of "
            f"{', '.join(map(str, windows(b)))} periods ending at it (shift) against the "
            f"pooled in-control {b} periods before them: two-proportion z-test with a "
            "quasi-binomial factor where a dispersion test shows one, Fisher's exact test "
            "where counts are small"
            + (", weekday factors where the weekdays differ" if spec.period == "day" else "")
        ),
        "correction": "benjamini-hochberg" if drift.correction == "fdr" else "holm",
        "alpha": drift.alpha,
        "tests": len(tests),
        "untestable_tests": untestable,
        "series_untested": series_untested,
        "series_tested": families,
        "series_selected": selected,
        "z_critical": zc,
        "baseline_periods": b,
        "min_effect": drift.min_effect,
        "last_judged": last_judged,
    }
    return alerts, method


def decide(tests: list[Tested], alpha: float, correction: str) -> tuple[list[float], int, int]:
    """Each test's level (a test is rejected when its p-value is at most it), and counts.

    ``fdr``: the series are the families. Each series' p-value is Simes' over its tests;
    Benjamini-Hochberg over those selects ``R`` of the ``M`` series at ``alpha``; within a
    selected series, Benjamini-Hochberg at ``alpha * R / M`` says which periods are alerts
    (Benjamini and Bogomolov 2014, selective inference on families; Simes and BH are valid
    for the positively dependent tests of one series). BH within agrees with the Simes test
    that selected the series: a selected series always has at least one alert (Hochberg
    within, a stricter step-up, left series that Simes had selected without any alert, as
    the sample's planted mcu drop). A long incident in one series does not lower the bar
    for noise in another, and on a stable funnel the chance of any alert is at most
    ``alpha``. ``fwer``: Holm over every test of the run.
    Returns the levels, ``M`` and ``R``.
    """
    if correction == "fwer":
        level, _ = adjust([t.p for t in tests], alpha, "fwer")
        families = len({t.series for t in tests})
        return [level] * len(tests), families, families
    by: dict[int, list[int]] = {}
    for j, t in enumerate(tests):
        by.setdefault(t.series, []).append(j)
    keys = list(by)
    family_p = [_simes([tests[j].p for j in by[k]]) for k in keys]
    _, chosen = adjust(family_p, alpha, "fdr")
    r = int(chosen.sum())
    levels = [0.0] * len(tests)
    for k, pick in zip(keys, chosen, strict=True):
        if pick:
            level, _ = adjust([tests[j].p for j in by[k]], alpha * r / len(keys), "fdr")
            for j in by[k]:
                levels[j] = level
    return levels, len(keys), r


def _simes(p: list[float]) -> float:
    """Simes' combined p-value: the smallest ``m p_(k) / k``."""
    order = np.sort(np.asarray(p, dtype=float))
    return float(min(1.0, (order * len(order) / np.arange(1, len(order) + 1)).min()))


def adjust(p: list[float], alpha: float, correction: str) -> tuple[float, np.ndarray]:
    """The per-test level and which tests are rejected: BH (fdr) or Holm (fwer).

    The level separates the rejected tests from the others: BH rejects every p-value at
    most ``alpha k / m`` (k rejections of m), Holm every one below ``alpha / (m - k)``.
    With no rejection it is the first step of either, ``alpha / m``.
    """
    m = len(p)
    if m == 0:
        return alpha, np.zeros(0, dtype=bool)
    arr = np.asarray(p, dtype=float)
    order = np.sort(arr)
    ranks = np.arange(1, m + 1)
    if correction == "fdr":
        ok = np.nonzero(order <= alpha * ranks / m)[0]
        k = int(ok.max()) + 1 if ok.size else 0
        level = alpha * k / m if k else alpha / m
    else:
        bad = np.nonzero(order > alpha / (m - ranks + 1))[0]
        k = int(bad.min()) if bad.size else m
        level = alpha / (m - k) if k < m else alpha
    rejected = arr <= level if k else np.zeros(m, dtype=bool)
    return float(level), rejected


def scan(
    n: np.ndarray,
    x: np.ndarray,
    b: int,
    finished: np.ndarray,
    *,
    daily: bool = False,
    starts: list[date] | None = None,
    alpha: float = 0.05,
) -> tuple[list[Tested], int]:
    """The tests of one series, in time order (module doc), and how many were too small.

    Returns the tests that could reach significance, and the count of those that could not
    (their smallest attainable p-value is above ``alpha``).
    """
    size = len(n)
    clean = np.ones(size, dtype=bool)
    weekday = (np.array([d.weekday() for d in starts]) if daily and starts is not None
               else None)
    lengths = windows(b)
    out: list[Tested] = []
    small = 0
    # The baseline of a period reads only the periods before it (their counts and whether
    # they are in control), so each is computed once and kept until a period before it
    # leaves control: the windows' change points ask for the same baselines again and
    # again (4 computations per period with an 8-period baseline; now about 1).
    known: dict[int, _Baseline | None] = {}
    seen = clean.copy()

    def baseline(j: int) -> _Baseline | None:
        if j not in known:
            known[j] = _state(j, n, x, clean, b, weekday)
        return known[j]

    for i in range(size):
        if not finished[i]:
            break
        state = baseline(i)
        if state is None or n[i] <= 0:
            continue
        shock = _test(x[i], n[i], state.expected(i), state.n0, state.phi, state.df)
        shock.update(i=i, start=i, kind="p-chart")
        shifts = []
        for length in lengths:
            s = i - length + 1
            # The window's own baseline: the in-control periods before its change point.
            base = baseline(s) if s >= 0 else None
            if base is None:
                continue
            idx = np.arange(s, i + 1)
            idx = idx[n[idx] > 0]
            big_n, big_x = float(n[idx].sum()), float(x[idx].sum())
            e_w = float((n[idx] * base.factors(idx)).sum() * base.p0 / big_n)
            t = _test(big_x, big_n, min(max(e_w, 0.0), 1.0), base.n0, base.phi, base.df)
            t.update(i=i, start=s, kind="shift", scan=len(lengths))
            shifts.append(t)
        if shifts:
            # The best of the window lengths, its p-value multiplied by their number
            # (Bonferroni over the candidate change points).
            best = min(shifts, key=lambda t: t["p"])
            best.update(p=min(1.0, best["p"] * len(lengths)),
                        p_min=min(1.0, min(t["p_min"] for t in shifts) * len(lengths)))
            shifts = [best]
        # A period out of control on its own leaves later baselines at 1 %; a shifted
        # window only at 0.1 %: excluded at 1 %, a slow drift would keep the periods on one
        # side of it only and bias the baseline further with every period.
        clean[i] = shock["p"] >= EXCLUDE
        for t in shifts:
            if t["p"] < WILD:
                clean[t["start"]:i + 1] = False
        moved = np.flatnonzero(clean != seen)
        if moved.size:  # the baselines after the first period that changed are stale
            known = {j: v for j, v in known.items() if j <= moved[0]}
            seen = clean.copy()
        for t in [shock, *shifts]:
            if t["p_min"] > alpha:
                small += 1
                continue
            out.append(Tested(series=-1, seasonal=state.seasonal, **t))
    return out, small


def windows(b: int) -> list[int]:
    """The shift test's window lengths: 2, 4, 8, ... periods up to the baseline's, and it."""
    out, length = [], 2
    while length < b:
        out.append(length)
        length *= 2
    return [*out, b]


@dataclass
class _Baseline:
    p0: float
    n0: float
    phi: float
    df: int  # degrees of freedom of phi's estimate (0: binomial, phi = 1)
    f: np.ndarray  # weekday factor per period of the series (ones without a pattern)
    seasonal: bool

    def factors(self, idx: np.ndarray | int) -> np.ndarray:
        return self.f[idx]

    def expected(self, i: int) -> float:
        return min(max(self.p0 * float(self.f[i]), 0.0), 1.0)


def _state(i: int, n: np.ndarray, x: np.ndarray, clean: np.ndarray, b: int,
           weekday: np.ndarray | None) -> _Baseline | None:
    """The baseline of period ``i`` (module doc), or None when it has too few units.

    A period is judged only once ``b`` periods precede it.
    """
    if i < b:
        return None
    lo = max(0, i - 2 * b)
    pool = [j for j in range(i - 1, lo - 1, -1) if clean[j] and n[j] > 0][:b]
    if pool and n[pool].sum() < BASE_UNITS:  # few units: more in-control periods, up to 3b back
        more = [j for j in range(pool[-1] - 1, max(0, i - 3 * b) - 1, -1) if clean[j] and n[j] > 0]
        for j in more:
            if n[pool].sum() >= BASE_UNITS:
                break
            pool.append(j)
    if len(pool) < max(1, b // 2):
        pool = [j for j in range(i - 1, max(0, i - b) - 1, -1) if n[j] > 0]
    base = np.array(sorted(pool), dtype=int)
    if base.size == 0 or n[base].sum() < MIN_BASE_UNITS:
        return None
    # The history for the patterns keeps every period: trimmed by tests that assumed no
    # over-dispersion, it would look less scattered than it is and hide a real one. The
    # estimate is robust instead (one wild period cannot inflate it).
    hist = np.array([j for j in range(max(0, i - 3 * b), i) if n[j] > 0], dtype=int)
    f, seasonal = np.ones(len(n)), False
    phi, df = 1.0, 0
    if hist.size >= MIN_HISTORY:
        if weekday is not None and hist.size >= 3 * 7:
            f, seasonal = _weekday_factors(n, x, hist, weekday)
        _, free, r2 = _pearson(n[hist], x[hist], f[hist], 6 if seasonal else 0)
        # Each period's term is capped at the chi-square(1) 0.1 % point times a robust
        # scale (the median term over the chi-square(1) median): one incident in the
        # history cannot set the factor, while a scatter in all periods does.
        scale = max(1.0, float(np.median(r2)) / CHI2_1_MEDIAN) if r2.size else 1.0
        chi = float(np.minimum(r2, CHI2_1_TAIL * scale).sum())
        if free > 0 and _chi2_sf(free, chi) < DISPERSION_LEVEL:
            phi = max(1.0, math.sqrt(chi / free))
            df = free if phi > 1 else 0
    n0 = float(n[base].sum())
    p0 = float(x[base].sum() / (n[base] * f[base]).sum())
    return _Baseline(p0, n0, phi, df, f, seasonal)


def _chi2_sf(df: int, value: float) -> float:
    from scipy.special import chdtrc  # the chi-square survival function, as a fast ufunc

    return float(chdtrc(df, value))


def _pearson(n: np.ndarray, x: np.ndarray, f: np.ndarray,
             fitted: int) -> tuple[float, int, np.ndarray]:
    """Pearson chi-square of counts about their pooled rate times ``f``, its df, and terms."""
    p = x.sum() / (n * f).sum()
    e = p * f
    ok = (e > 0) & (e < 1) & (n > 0)
    r2 = (x[ok] - n[ok] * e[ok]) ** 2 / (n[ok] * e[ok] * (1 - e[ok]))
    return float(r2.sum()), int(ok.sum()) - 1 - fitted, r2


def _weekday_factors(n: np.ndarray, x: np.ndarray, hist: np.ndarray,
                     weekday: np.ndarray) -> tuple[np.ndarray, bool]:
    """Weekday factors per period, where the weekdays' rates differ (module doc)."""
    days = weekday[hist]
    nw = np.array([n[hist][days == w].sum() for w in range(7)])
    xw = np.array([x[hist][days == w].sum() for w in range(7)])
    ones = np.ones(len(n))
    if (nw == 0).any() or xw.sum() in (0, nw.sum()):
        return ones, False
    total = xw.sum() / nw.sum()
    factor = (xw / nw) / total
    # Homogeneity of the seven weekdays' rates (the 7x2 table's chi-square), judged against
    # the periods' own scatter about their weekday rates: over-dispersion alone must not
    # look like a weekday pattern.
    between = float(((xw - nw * total) ** 2 / (nw * total * (1 - total))).sum())
    within, free, _ = _pearson(n[hist], x[hist], factor[days], 6)
    scale = max(1.0, within / free) if free > 0 else 1.0
    if _chi2_sf(6, between / scale) >= PATTERN_LEVEL:
        return ones, False
    return factor[weekday], True


def _two_sided(z: float, df: int = 0) -> float:
    """Two-sided p-value of ``z``: normal, or Student's t with ``df`` degrees of freedom."""
    if df > 0:
        from scipy.special import stdtr

        return float(2 * stdtr(df, -abs(z)))
    return math.erfc(abs(z) / math.sqrt(2))


def _test(x: float, n: float, e: float, n0: float, phi: float, df: int) -> dict[str, Any]:
    """A window's ``x`` of ``n`` against a baseline of ``n0`` units at rate ``e``.

    With an estimated ``phi`` (``df`` > 0) the z-statistic is referred to Student's t with
    the estimate's degrees of freedom, as quasi-likelihood inference does.
    """
    rate = x / n
    normal = df > 0 or min(n * e, n * (1 - e)) >= MIN_EXPECTED
    if normal and 0 < e < 1:
        se = phi * math.sqrt(e * (1 - e) * (1 / n + 1 / n0))
        z = (rate - e) / se
        p = _two_sided(z, df)
        p_min = _two_sided(max(e, 1 - e) / se, df)
        exact = False
    else:
        x0 = round(e * n0)
        p = _fisher(int(round(x)), int(round(n)), x0, int(round(n0)))
        p_min = min(_fisher(0, int(round(n)), x0, int(round(n0))),
                    _fisher(int(round(n)), int(round(n)), x0, int(round(n0))))
        z = math.copysign(_z_of(p), rate - e) if p < 1 else 0.0
        se = abs(rate - e) / abs(z) if z else 0.0
        exact = True
    return {"p": p, "p_min": p_min, "z": float(z), "rate": rate, "expected": e,
            "n_window": int(n), "n_base": int(n0), "phi": phi, "df": df, "exact": exact,
            "se": se}


_FISHER: dict[tuple[int, int, int, int], float] = {}


def _fisher(x: int, n: int, x0: int, n0: int) -> float:
    """Two-sided Fisher exact p-value of ``x/n`` against ``x0/n0`` (memoised)."""
    key = (x, n, x0, n0)
    if key not in _FISHER:
        from scipy.stats import fisher_exact

        _FISHER[key] = float(fisher_exact([[x, n - x], [x0, n0 - x0]]).pvalue)
    return _FISHER[key]


def _z_of(level: float, df: int = 0) -> float:
    """The |z| whose two-sided p-value is ``level`` (normal, or t with ``df``)."""
    if df > 0:
        from scipy.special import stdtrit

        return float(stdtrit(df, 1 - level / 2))
    return NormalDist().inv_cdf(1 - level / 2) if level > 1e-300 else 37.5


def _band(t: Tested, level: float) -> tuple[float, float]:
    """The rates a test at ``level`` would not flag: normal, or the exact binomial's."""
    level = level / t.scan
    if t.exact:
        from scipy.stats import binom

        lo = float(binom.ppf(level / 2, t.n_window, t.expected)) / t.n_window
        hi = float(binom.isf(level / 2, t.n_window, t.expected)) / t.n_window
        return max(0.0, lo), min(1.0, hi)
    zc = _z_of(level, t.df)
    return max(0.0, t.expected - zc * t.se), min(1.0, t.expected + zc * t.se)


def _alerts(tests: list[Tested], levels: list[float], series: list[Series],
            spec: FunnelSpec, drift: DriftSpec) -> list[dict[str, Any]]:
    """The strongest rejected test per (series, period), as alerts in period order."""
    best: dict[tuple[int, int], tuple[Tested, float]] = {}
    for t, level in zip(tests, levels, strict=True):
        if t.p > level or abs(t.rate - t.expected) < drift.min_effect * t.expected:
            continue
        key = (t.series, t.i)
        if key not in best or t.p < best[key][0].p:
            best[key] = (t, level)
    alerts = []
    for (si, i), (t, level) in sorted(best.items(),
                                      key=lambda kv: (series[kv[0][0]].starts[kv[0][1]],
                                                      kv[0][0])):
        s = series[si]
        lower, upper = _band(t, level)
        alert = {
            "period": s.starts[i],
            "step": spec.steps[s.k - 1],
            "from_step": spec.steps[s.k - 2],
            "segment": s.segment,
            "rate": float(s.x[i] / s.n[i]),
            "expected": float(t.expected),
            "lower": lower,
            "upper": upper,
            "direction": "down" if t.rate < t.expected else "up",
            "z": t.z,
            "p_value": t.p,
            "p_threshold": level,
            "test": t.kind,
            "exact": t.exact,
            "phi": t.phi,
            "weekday_adjusted": t.seasonal,
            "units": int(s.n[i]),
            "baseline_units": t.n_base,
            "window_rate": float(t.rate),
            "window_periods": i - t.start + 1,
            "window_units": t.n_window,
            "window_start": s.starts[t.start],
            "since": s.starts[t.start],
            "_series": si,
        }
        if s.source is not None:
            alert["breakdown"] = s.source
        alerts.append(alert)
    return alerts


def _set_since(alerts: list[dict[str, Any]], series: list[Series], b: int) -> None:
    """Each run's ``since``: its maximum-likelihood change point (module doc), in place.

    A run is a series' consecutive alerted periods moving one way. The candidates lie
    from a baseline before the run's earliest window start to the run's last period.
    """
    runs: list[list[dict[str, Any]]] = []
    for a in sorted(alerts, key=lambda a: (a["_series"], a["period"])):
        last = runs[-1][-1] if runs else None
        s = series[a["_series"]]
        if (last is not None and last["_series"] == a["_series"]
                and last["direction"] == a["direction"]
                and s.starts.index(a["period"]) - s.starts.index(last["period"]) == 1):
            runs[-1].append(a)
        else:
            runs.append([a])
    for run in runs:
        s = series[run[0]["_series"]]
        first = min(s.starts.index(a["window_start"]) for a in run)
        end = s.starts.index(run[-1]["period"])
        alerted = s.starts.index(run[0]["period"])
        since = change_point(s.n, s.x, max(0, first - b), end, alerted, run[0]["direction"])
        for a in run:
            a["since"] = s.starts[since if since is not None else first]
    for a in alerts:
        del a["_series"]


def change_point(n: np.ndarray, x: np.ndarray, lo: int, hi: int, last: int,
                 direction: str) -> int | None:
    """The split of the periods ``[lo, hi]`` maximising the two-rate binomial likelihood.

    Candidates ``t`` are ``lo < t <= last`` (a change after the first alerted period would
    not explain it), the rate from ``t`` moving in ``direction``; the likelihood is that of
    all of ``[lo, hi]``. None when no split moves that way.
    """
    nn, xx = n[lo:hi + 1], x[lo:hi + 1]
    cn, cx = np.cumsum(nn), np.cumsum(xx)
    best, best_ll = None, -np.inf
    for t in range(1, len(nn)):
        n0, x0 = cn[t - 1], cx[t - 1]
        n1, x1 = cn[-1] - n0, cx[-1] - x0
        if lo + t > last or n0 <= 0 or n1 <= 0 or nn[t] <= 0:
            continue
        moved = x1 / n1 - x0 / n0
        if (moved >= 0) if direction == "down" else (moved <= 0):
            continue
        ll = _loglik(x0, n0) + _loglik(x1, n1)
        if ll > best_ll:
            best, best_ll = lo + t, ll
    return best


def _loglik(x: float, n: float) -> float:
    p = x / n
    a = x * math.log(p) if x > 0 else 0.0
    c = (n - x) * math.log(1 - p) if n - x > 0 else 0.0
    return a + c


def level_alerts(rows: list[dict[str, Any]], alpha: float = 0.05,
                 min_effect: float = 0.1) -> None:
    """The weekly headline's figures judged against their own history (in place).

    Each row has ``metric``, ``current``, ``history`` (the figures of the periods before,
    newest first; None where a period has none) and ``count`` (orders, customers: Poisson
    scatter at least). The baseline is the median of the history's figures, robust to an
    earlier incident among them; the scale 1.4826 times their median absolute deviation
    (the normal's sigma from a robust estimate), for counts at least the Poisson
    ``sqrt(median)``. ``z = (current - median) / scale`` is referred to Student's t with
    the history's degrees of freedom; Holm's procedure over the figures tested keeps the
    chance of any alert on a quiet week at ``alpha``, and a move smaller than
    ``min_effect`` of the median is none. A row gains ``expected``, ``lower``, ``upper``
    (the band at its Holm level), ``z``, ``p_value`` and ``alert`` (``down``, ``up`` or None).
    A figure with fewer than 4 periods of history, or a history without scatter, is not
    tested (``alert`` None, ``p_value`` None).
    """
    from scipy.special import stdtr, stdtrit

    tested = []
    for r in rows:
        r.update(expected=None, lower=None, upper=None, z=None, p_value=None, alert=None)
        base = np.array([v for v in r["history"] if v is not None], dtype=float)
        if r["current"] is None or base.size < 4:
            continue
        center = float(np.median(base))
        scale = 1.4826 * float(np.median(np.abs(base - center)))
        if r["count"]:
            scale = max(scale, math.sqrt(max(center, 1.0)))
        if scale <= 0:
            continue
        z = (float(r["current"]) - center) / scale
        r.update(expected=center, z=z, p_value=float(2 * stdtr(base.size - 1, -abs(z))),
                 _scale=scale, _df=base.size - 1)
        tested.append(r)
    if not tested:
        return
    level, rejected = adjust([r["p_value"] for r in tested], alpha, "fwer")
    for r, hit in zip(tested, rejected, strict=True):
        half = float(stdtrit(r["_df"], 1 - level / 2)) * r.pop("_scale")
        r.pop("_df")
        low = r["expected"] - half
        # Counts and money that never went below 0 have no band below 0.
        never_negative = all(v is None or v >= 0 for v in r["history"])
        r["lower"] = max(0.0, low) if never_negative else low
        r["upper"] = r["expected"] + half
        moved = abs(r["current"] - r["expected"]) >= min_effect * abs(r["expected"])
        if hit and moved:
            r["alert"] = "down" if r["z"] < 0 else "up"
