"""Drift explanations on hand-computed counts: contributors, change point, price rises."""

from datetime import date

import polars as pl
import pytest

from cust.pipelines.funnel_drift import _change_point, _span, contributors, runs_of, sentence

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
    # 100 units a week at 40 % for four weeks, then 20 %: the split is at week 5.
    weeks = [date(2024, 1, 1 + 7 * i) for i in range(4)] + [date(2024, 2, 5 + 7 * i)
                                                           for i in range(3)]
    series = pl.DataFrame({"period": weeks, "n": [100] * 7, "x": [40] * 4 + [20] * 3})
    assert _change_point(series, "down", weeks[0], weeks[-1]) == weeks[4]
    # Candidates are limited to [lo, hi], and the rate must move in the run's direction.
    assert _change_point(series, "down", weeks[0], weeks[2]) == weeks[2]
    assert _change_point(series, "up", weeks[0], weeks[-1]) is None


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
