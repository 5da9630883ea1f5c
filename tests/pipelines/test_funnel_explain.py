"""Drift explanations on hand-computed counts: contributors, change point, price rises."""

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from cust.pipelines.funnel import FunnelSpec, funnel
from cust.pipelines.funnel.drift import DriftSpec, change_point
from cust.pipelines.funnel.explain import _span, contributors, runs_of, sentence
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions

D1, D2, D3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)


def test_contributors_rank_values_by_conversions_lost():
    frame = pl.DataFrame({
        "period": [D1, D1, D2, D2, D2, D2],
        "platform": ["x", "x", "x", "x", "x", "y"],  # a --by column: only x is the segment
        "category": ["a", "b", "a", "b", "c", "a"],
        "entered_1": [10, 10, 10, 20, 5, 99],
        "entered_2": [5, 4, 2, 7, 4, 0],
    })
    run = {"segment": {"platform": "x"}, "direction": "down", "since": D2, "until": D2}
    span = _span(run, 1, "day")
    assert span == (D1, D2, D3)
    got = contributors(run, "category", frame, 2, span)
    # a: 2 of 10 against its own 5/10 -> -3; b: 7 of 20 against 4/10 -> -1;
    # c: no baseline, so the segment's 9/20 -> 4 - 2.25 = +1.75 (moved up: no share).
    assert [(c["value"], c["units"]) for c in got] == [("a", 10), ("b", 20), ("c", 5)]
    assert [c["change_in_units"] for c in got] == pytest.approx([-3, -1, 1.75])
    assert [c["expected"] for c in got] == pytest.approx([0.5, 0.4, 0.45])
    assert [c["rate"] for c in got] == pytest.approx([0.2, 0.35, 0.8])
    assert [c["share"] for c in got[:2]] == pytest.approx([0.75, 0.25])
    assert got[2]["share"] is None


def test_change_point_is_the_likelihood_split():
    # 100 units a week at 40 % for four weeks, then 20 %: the split is at week 5 (index 4).
    n, x = np.array([100.0] * 7), np.array([40.0] * 4 + [20.0] * 3)
    assert change_point(n, x, 0, 6, 6, "down") == 4
    # Candidates end at the first alerted period, the likelihood still spans [lo, hi]:
    # with candidates up to index 2, the best split moving down is at 2.
    assert change_point(n, x, 0, 6, 2, "down") == 2
    # The rate must move in the run's direction.
    assert change_point(n, x, 0, 6, 6, "up") is None


def test_runs_and_sentence():
    base = {"step": "add_to_cart", "from_step": "product_view", "segment": {"category": "mcu"},
            "direction": "down", "since": D1}
    # A run reports the rate its strongest test compared (a shift's window), not the
    # period's own rate.
    alerts = [{**base, "period": D1, "rate": 0.27, "window_rate": 0.25, "expected": 0.33,
               "z": -3.0},
              {**base, "period": D2, "rate": 0.23, "window_rate": 0.2, "expected": 0.32,
               "z": -5.0, "test": "shift"}]
    [run] = runs_of(alerts)
    assert (run["alerts"], run["until"], run["rate"], run["z"]) == (2, D2, 0.2, -5.0)
    run["contributors"] = [{"column": "platform", "value": "web", "share": 0.7}]
    run["price_rise_summary"] = [{"category": "mcu", "skus": 12, "median_change": 0.25,
                                  "first_change": "2024-01-01 00:00:00",
                                  "last_change": "2024-01-01 00:00:00", "views": 40}]
    assert sentence(run) == (
        "product_view -> add_to_cart (category=mcu) went down to 20.0% from 32.0% since "
        "2024-01-01; 70% of it in platform=web; prices rose on 12 mcu SKU(s) viewed, "
        "median +25%, on 2024-01-01."
    )


def _one_platform_drop(days=35, drop_day=28):
    """Sessions of 2024-01-01 on: each day, per platform (app, web), 40 mcu and 40 ic
    sessions view a product and half of each add to cart; from ``drop_day`` on, app's mcu
    sessions never do."""
    rows = ["user_id,session_id,event,event_time,platform,category"]
    for d in range(days):
        day = datetime(2024, 1, 1) + timedelta(days=d)
        j = 0
        for platform in ("app", "web"):
            for category in ("mcu", "ic"):
                for i in range(40):
                    t = day + timedelta(hours=8, minutes=5 * j)
                    unit = f"u{j},{platform}-{d}-{j}"
                    rows.append(f"{unit},product_view,{t:%Y-%m-%d %H:%M},{platform},{category}")
                    lost = platform == "app" and category == "mcu" and d >= drop_day
                    if i % 2 == 0 and not lost:
                        cart = t + timedelta(minutes=1)
                        rows.append(f"{unit},add_to_cart,{cart:%Y-%m-%d %H:%M},{platform},"
                                    f"{category}")
                    j += 1
    return "\n".join(rows) + "\n"


def test_an_alert_of_one_breakdown_value_is_explained_by_the_other_columns(tmp_path):
    # By platform, only app drops (from 50 % to 25 % on 29 January, day 28). The last event
    # is on 4 February, so days 28..32 (29 January to 2 February) are judged: per series 5
    # p-charts and 4 shift tests (days 29..32; a window needs its own 28-day baseline, so
    # the first starts on day 28): 18 tests for app and web. With --explain the category
    # values within each platform are series too, a family of their own: 4 x 9 = 36 tests.
    # The p-chart of app's first day: z = -0.25 / sqrt(0.25 * (1/80 + 1/2240)) = -4.39;
    # the next days are found by the 2- and 4-day windows from 29 January. App's mcu
    # sessions (0 of 40 a day against 50 %) alert on their own value every day.
    path = tmp_path / "e.csv"
    path.write_text(_one_platform_drop(), encoding="utf-8")
    spec = FunnelSpec(steps=("product_view", "add_to_cart"), by=("platform",))
    result = funnel(Inputs({"events": path}, LoadOptions()), spec, drift=DriftSpec(),
                    explain=True)
    method = result.drift_method
    assert (method["tests"], method["series_tested"], method["series_selected"]) == (54, 2, 1)
    days = [date(2024, 1, 29) + timedelta(days=i) for i in range(5)]
    own = [a for a in result.alerts if "breakdown" not in a]
    assert [(a["period"], a["segment"], a["test"], a["window_periods"], a["direction"])
            for a in own] == [
        (d, {"platform": "app"}, test, w, "down")
        for d, test, w in zip(days, ["p-chart", "shift", "shift", "shift", "shift"],
                              [1, 2, 2, 4, 4], strict=True)]
    assert own[0]["z"] == pytest.approx(-0.25 / (0.5 * (1 / 80 + 1 / 2240) ** 0.5))
    value = [a for a in result.alerts if "breakdown" in a]
    assert [(a["period"], a["segment"], a["breakdown"]) for a in value] == [
        (d, {"platform": "app", "category": "mcu"}, "category") for d in days]
    assert {a["since"] for a in result.alerts} == {days[0]}
    [story, mcu] = result.explanations
    assert (story["segment"], story["step"], story["since"], story["until"]) == (
        {"platform": "app"}, "add_to_cart", days[0], days[-1])
    # The value's own alert has no column left to rank (category is its own breakdown).
    assert (mcu["segment"], mcu["contributors"]) == ({"platform": "app", "category": "mcu"}, [])
    got = [{k: c[k] for k in ("column", "value", "units", "rate", "expected", "change_in_units",
                              "share")} for c in story["contributors"]]
    assert got == [
        {"column": "category", "value": "mcu", "units": 200, "rate": 0.0, "expected": 0.5,
         "change_in_units": -100.0, "share": 1.0},
        {"column": "category", "value": "ic", "units": 200, "rate": 0.5, "expected": 0.5,
         "change_in_units": 0.0, "share": None},
    ]
    assert "100% of it in category=mcu" in sentence(story)
