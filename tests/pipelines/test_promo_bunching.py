"""The bunching response: recovers a planted uptake, finds none where none was planted."""

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from cust.pipelines.errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.promo import Response, Scenario, simulate

X = 500.0
START = datetime(2024, 3, 1, 9)


def _history(tmp_path, *, uptake: float, orders: int = 30_000, seed: int = 3, promo=True):
    """Orders over 60 days; days 20-29 run 满500减50 (code MJ500) on list value.

    Values are log-normal (median 400). During the campaign, each order in [400, 500) tops
    up to just above 500 with probability ``uptake``; qualifying orders carry the code and
    pay 50 less (``discount`` 50).
    """
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 60, orders)
    listv = np.round(rng.lognormal(np.log(400.0), 0.5, orders), 2)
    campaign = (day >= 20) & (day < 30)
    move = campaign & (listv >= 400) & (listv < X) & (rng.random(orders) < uptake)
    listv = np.where(move, np.round(X + rng.uniform(0.01, 12.0, orders), 2), listv)
    qualifies = campaign & (listv >= X)
    discount = np.where(qualifies, 50.0, 0.0)
    frame = pl.DataFrame({
        "order_id": [f"O{i}" for i in range(orders)],
        "customer_id": [f"C{i % 9000}" for i in range(orders)],
        "order_time": [START + timedelta(days=int(d), minutes=i % 600) for i, d in
                       enumerate(day)],
        "amount": np.round(listv - discount, 2),
        "cost": np.round(listv * 0.7, 2),
        "discount": discount,
        **({"promo": np.where(qualifies, "MJ500", None).tolist()} if promo else {}),
        "status": ["paid"] * orders,
    })
    path = tmp_path / f"orders-{uptake}-{promo}.parquet"
    frame.write_parquet(path)
    return Inputs({"orders": path}, LoadOptions())


def _bunching(inputs, **kw):
    response = Response("bunching", **kw)
    return simulate(inputs, [Scenario(threshold=X, reward_amount=50)], response=response)


def test_recovers_a_planted_uptake(tmp_path):
    doc = _bunching(_history(tmp_path, uptake=0.25)).to_json()
    b = doc["bunching"]
    assert (b["campaign"], b["campaign_threshold"], b["window_days"]) == ("MJ500", 500.0, 10)
    assert b["excluded_window"] == [400.0, 600.0]
    assert b["interval"]["lower"] <= 0.25 <= b["interval"]["upper"]
    assert b["uptake_estimate"] == pytest.approx(0.25, abs=0.08)
    assert b["interval"]["lower"] > 0.05  # clearly not zero
    # The integration constraint: what is missing below X is the excess above it.
    assert b["excess_mass"] == pytest.approx(b["missing_mass"], abs=0.02)
    # The estimate feeds the response: the same figures as --response fixed with it.
    fixed = simulate(
        _history(tmp_path, uptake=0.25), [Scenario(threshold=X, reward_amount=50)],
        response=Response("fixed", reach=100.0, uptake=b["uptake"]),
    ).to_json()
    for key in ("subsidy_cost", "incremental_revenue", "net_gross_profit_effect",
                "revenue_after", "gross_profit_after", "reachable_orders"):
        assert doc[key] == fixed[key], key
    assert doc["response"] == {"model": "bunching", "uptake": b["uptake"], "reach": 100.0}
    low, high = doc["net_gross_profit_effect_range"]["lower"], \
        doc["net_gross_profit_effect_range"]["upper"]
    assert low <= doc["net_gross_profit_effect"] <= high
    assert any("bunching" in n for n in doc["notes"])


def test_reports_none_where_none_was_planted(tmp_path):
    b = _bunching(_history(tmp_path, uptake=0.0)).to_json()["bunching"]
    assert b["interval"]["lower"] <= 0.0 <= b["interval"]["upper"]
    assert abs(b["uptake_estimate"]) < 0.08


def test_campaign_threshold_given_and_reach_rounded_to_bins(tmp_path):
    inputs = _history(tmp_path, uptake=0.25, orders=8000)
    doc = _bunching(inputs, campaign="MJ500:500", reach=60.0).to_json()
    assert doc["bunching"]["reach_share"] == 0.125  # 60 / 500 = 12 % -> 5 bins of 2.5 %
    assert doc["reach"] == 62.5


def test_refusals(tmp_path):
    with pytest.raises(MissingColumnError, match="promo"):
        _bunching(_history(tmp_path, uptake=0.2, orders=2000, promo=False))
    with pytest.raises(EmptySelectionError, match="MJ9"):
        _bunching(_history(tmp_path, uptake=0.2, orders=2000), campaign="MJ9")
    with pytest.raises(EmptySelectionError, match="only"):
        _bunching(_history(tmp_path, uptake=0.2, orders=300))
    with pytest.raises(InvalidOptionError):
        Response("bunching", campaign="MJ500:zero")
    (tmp_path / "first.csv").write_text(
        "order_id,customer_id,order_time,amount,promo\n"
        "a,C1,2024-01-01,600,first_order\nb,C2,2024-01-02,30,\n", encoding="utf-8")
    first_only = Inputs({"orders": tmp_path / "first.csv"}, LoadOptions())
    with pytest.raises(EmptySelectionError, match="no past order"):
        _bunching(first_only)


def test_bootstrap_draws_the_uptake_too(tmp_path):
    inputs = _history(tmp_path, uptake=0.25, orders=8000)
    scenario = Scenario(threshold=X, gift_cost=5)
    doc = simulate(inputs, [scenario], response=Response("bunching"), bootstrap=50,
                   seed=2).to_json()
    drawn = doc["net_gross_profit_effect_interval"]
    # The same resamples of customers (same seed) with the uptake fixed at the estimate: only
    # the customers vary. Drawing the uptake as well adds its own uncertainty (its 95 %
    # interval is about 0.06-0.22 around 0.14), so the interval is wider, here some 3 times.
    fixed = simulate(inputs, [scenario], bootstrap=50, seed=2, response=Response(
        "fixed", reach=doc["reach"], uptake=doc["bunching"]["uptake"])).to_json()
    assert fixed["net_gross_profit_effect"] == doc["net_gross_profit_effect"]
    held = fixed["net_gross_profit_effect_interval"]
    assert held["lower"] < held["upper"]
    assert drawn["upper"] - drawn["lower"] > 1.5 * (held["upper"] - held["lower"])
    assert drawn["lower"] < held["lower"]
    assert drawn["upper"] > held["upper"]
