"""cust clv: the summary per customer, the fits against the literature, the figures by hand."""

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.clv import ClvSpec, FitError, clv, fit_bgnbd, fit_gamma_gamma
from cust.pipelines.clv.models import Fit, expected_purchases, expected_spend, p_alive
from cust.pipelines.io import Inputs, LoadOptions, Period

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow"
runner = CliRunner()


def _summary() -> pl.DataFrame:
    return pl.read_csv(CDNOW / "cdnow_customers_summary.csv")


def test_bgnbd_reproduces_fader_hardie_lee_2005_on_cdnow():
    # Fader, Hardie and Lee (2005), table 1: r = 0.243, alpha = 4.414, a = 0.793,
    # b = 2.426, log-likelihood -9582.4 (39 weeks of the 1/10 sample, in weeks).
    d = _summary()
    fit = fit_bgnbd(d["frequency"].to_numpy().astype(float), d["recency"].to_numpy(),
                    d["T"].to_numpy())
    got = fit.params
    assert (round(got["r"], 3), round(got["alpha"], 3), round(got["a"], 3),
            round(got["b"], 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 1) == -9582.4
    assert fit.customers == 2357
    assert all(0 < fit.se[k] < got[k] for k in got)  # finite, and the estimates significant


def test_gamma_gamma_reproduces_the_published_fit_on_cdnow():
    # Fader and Hardie, "The Gamma-Gamma model of monetary value" (2013): p = 6.25,
    # q = 3.74, gamma = 15.44 on the 946 repeat customers' mean repeat spend.
    d = pl.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").filter(
        pl.col("x") > 0)
    fit = fit_gamma_gamma(d["x"].to_numpy().astype(float), d["zbar"].to_numpy())
    assert fit.customers == 946
    assert abs(fit.params["p"] - 6.25) < 0.005
    assert abs(fit.params["q"] - 3.74) < 0.005
    assert abs(fit.params["v"] - 15.44) < 0.01


def _hyp2f1(a, b, c, z, terms=2000):
    """The Gauss hypergeometric series, summed in plain Python (|z| < 1)."""
    total, term = 1.0, 1.0
    for k in range(terms):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        if abs(term) < 1e-15 * abs(total):
            break
    return total


def _by_hand(r, alpha, a, b, x, tx, T, t):
    """FHL 2005 equations (10) and (13), term by term."""
    ratio = (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0.0
    alive = 1 / (1 + ratio)
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * _hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    return alive, head * tail / (1 + ratio)


@pytest.mark.parametrize(("x", "tx", "T"), [(2, 30.43, 38.86), (0, 0.0, 38.86),
                                            (1, 1.71, 38.86), (14, 37.0, 38.0), (6, 10.0, 38.0)])
def test_p_alive_and_expected_purchases_by_hand(x, tx, T):
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    fit = Fit(params, {}, 0.0, 0)
    alive, expected = _by_hand(*params.values(), x, tx, T, 39.0)
    arr = [np.array([float(v)]) for v in (x, tx, T)]
    assert p_alive(fit, *arr)[0] == pytest.approx(alive, rel=1e-9)
    assert expected_purchases(fit, 39.0, *arr)[0] == pytest.approx(expected, rel=1e-9)
    if (x, tx, T) == (2, 30.43, 38.86):
        # The paper's worked example (section 5): 1.226 purchases in the next 39 weeks.
        assert round(expected, 3) == 1.226


def test_expected_spend_by_hand():
    fit = Fit({"p": 6.25, "q": 3.74, "v": 15.44}, {}, 0.0, 0)
    # p (v + x m) / (p x + q - 1) for x = 2, m = 22.35: 6.25 * 60.14 / 15.24.
    assert expected_spend(fit, np.array([2.0]), np.array([22.35]))[0] == pytest.approx(
        6.25 * (15.44 + 2 * 22.35) / (6.25 * 2 + 3.74 - 1))
    # Without a repeat purchase: the population mean p v / (q - 1).
    assert expected_spend(fit, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        6.25 * 15.44 / 2.74)


def _cdnow_orders(tmp_path: Path) -> Path:
    """CDNOW_sample.txt as a contract orders export: one line per purchase."""
    raw = pl.read_csv(CDNOW / "CDNOW_sample.txt", separator=" ", has_header=False,
                      truncate_ragged_lines=True)
    values = [[v for v in row if v is not None] for row in raw.rows()]
    frame = pl.DataFrame(
        {"customer_id": [str(int(r[1])) for r in values],
         "order_time": [f"{r[2]}"[:4] + "-" + f"{r[2]}"[4:6] + "-" + f"{r[2]}"[6:] for r in values],
         "amount": [float(r[4]) for r in values]},
    ).with_row_index("order_id")
    path = tmp_path / "cdnow.csv"
    frame.write_csv(path)
    return path


def test_the_summary_from_cdnow_transactions_is_the_published_one(tmp_path):
    # The orders pipeline's summary (one purchase per day, in weeks, to 1997-09-30) equals
    # the published calibration summary for every one of the 2,357 customers, and the
    # fit on it the published parameters.
    inputs = Inputs({"orders": str(_cdnow_orders(tmp_path))}, LoadOptions())
    result = clv(inputs, ClvSpec(), period=Period(as_of=date(1997, 9, 30)))
    mine = result.members.select(pl.col("customer_id").cast(pl.Int64).alias("ID"),
                                 "frequency", "recency", "T", "monetary_value")
    published = pl.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    both = published.join(mine, on="ID", how="full", coalesce=True)
    assert both.height == 2357
    assert (both["x"] == both["frequency"]).all()
    assert ((both["t_x"] - both["recency"]).abs() <= 0.005 + 1e-9).all()
    assert ((both["T"] - both["T_right"]).abs() <= 0.005 + 1e-9).all()
    assert ((both["zbar"] - both["monetary_value"]).abs() <= 0.005 + 1e-9).all()
    bg = result.model["bgnbd"]
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3),
            round(bg["b"], 3)) == (0.243, 4.414, 0.793, 2.426)
    assert result.settings["clv_basis"] == "revenue"  # CDNOW has no cost


ORDERS = """order_id,customer_id,order_time,amount,cost,status
o1,A,2024-01-01 09:00,100.00,60.00,paid
o2,A,2024-01-01 15:00,50.00,30.00,paid
o3,A,2024-01-15 10:00,80.00,40.00,paid
o4,A,2024-02-12 10:00,40.00,20.00,paid
o5,A,2024-03-01 10:00,999.00,1.00,refunded
o6,B,2024-01-08 10:00,30.00,20.00,paid
o7,B,2024-01-22 10:00,0.00,0.00,paid
"""


def test_the_summary_by_hand(tmp_path, monkeypatch):
    # A: purchase days 1 Jan (150: two orders, one purchase), 15 Jan (80), 12 Feb (40);
    # the refund of 1 Mar never counts. As of 4 Mar (day 63 after 1 Jan): frequency 2,
    # recency 42 days = 6 weeks, T 63 days = 9 weeks, monetary value (80 + 40) / 2 = 60.
    # B: 8 Jan and 22 Jan (0.00): frequency 1, recency 2 weeks, T 8 weeks, monetary 0, so
    # B is left out of the Gamma-Gamma fit (counted). The fit itself needs more customers:
    # the summary is read before it.
    path = tmp_path / "o.csv"
    path.write_text(ORDERS, encoding="utf-8")
    from cust.pipelines.clv import value

    seen = {}

    def spy(x, tx, T):
        seen.update(x=list(x), tx=list(tx), T=list(T))
        raise FitError("stop", hint="test")

    monkeypatch.setattr(value, "MIN_CUSTOMERS", 1)
    monkeypatch.setattr(value, "MIN_REPEAT", 1)
    monkeypatch.setattr(value, "fit_bgnbd", spy)
    inputs = Inputs({"orders": str(path)}, LoadOptions())
    with pytest.raises(FitError):
        clv(inputs, ClvSpec(), period=Period(as_of=date(2024, 3, 4)))
    order = sorted(range(2), key=lambda i: seen["T"][i], reverse=True)  # A is older
    assert [seen["x"][i] for i in order] == [2, 1]
    assert [seen["tx"][i] for i in order] == [6, 2]
    assert [seen["T"][i] for i in order] == [9, 8]


def test_too_few_customers_is_exit_2_with_a_hint(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(ORDERS, encoding="utf-8")
    result = runner.invoke(app, ["--orders", str(path), "clv"])
    assert result.exit_code == 2, result.output
    assert "too few to fit" in result.output
    assert "Hint:" in result.output


def test_clv_on_the_sample_with_no_options():
    result = runner.invoke(app, ["clv", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "clv"
    assert set(doc["model"]["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(doc["model"]["gamma_gamma"]) >= {"p", "q", "v", "excluded_zero_value"}
    assert doc["model"]["time_unit"] == "week"
    assert doc["customers"] == sum(c["customers"] for c in doc["by_class"])
    for row in doc["b_to_a_candidates"]:
        assert row["expected_contribution"] >= row["a_threshold"]
    for row in doc["at_risk"]:
        assert row["p_alive"] < 0.5
    values = [v for row in doc["by_class"] for v in row.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in values)


def test_members_file_has_one_row_per_customer(tmp_path):
    out = tmp_path / "members.csv"
    result = runner.invoke(app, ["clv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    members = pl.read_csv(out)
    assert members.columns[:9] == ["customer_id", "frequency", "recency", "T", "monetary_value",
                                   "p_alive", "expected_purchases", "expected_value", "clv"]
    assert members["customer_id"].n_unique() == members.height
    assert members["p_alive"].is_between(0, 1).all()


def test_the_holdout_check_counts_actual_repeat_days(tmp_path):
    # Calibration to 30 June, holdout to 25 October: the actual figure is the distinct
    # order days of the calibration customers in between, counted here in plain Polars.
    result = runner.invoke(app, ["clv", "--as-of", "2026-06-30", "--holdout-until",
                                 "2026-10-25", "-f", "json"])
    assert result.exit_code == 0, result.output
    holdout = json.loads(result.stdout)["holdout"]
    from cust.pipelines.io import sample_path

    orders = pl.read_csv(sample_path("orders"), try_parse_dates=True)
    paid = orders.filter(pl.col("status") == "paid") if "status" in orders.columns else orders
    day = pl.col("order_time").cast(pl.Datetime).dt.date()
    known = paid.filter(day <= date(2026, 6, 30))["customer_id"].unique()
    later = paid.filter((day > date(2026, 6, 30)) & (day <= date(2026, 10, 25))
                        & pl.col("customer_id").is_in(known.implode()))
    actual = later.select("customer_id", day.alias("d")).unique().height
    assert holdout["actual"] == actual
    assert sum(r["customers"] for r in holdout["by_frequency"]) == known.len()


def test_bad_options_exit_2():
    for args in (["clv", "--horizon", "soon"], ["clv", "--discount-rate", "-1"],
                 ["clv", "--as-of", "2026-06-30", "--holdout-until", "2026-01-01"],
                 ["clv", "--time-unit", "year"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)


def test_the_bgnbd_gradient_is_the_likelihoods_slope(monkeypatch):
    # The fit's analytic gradient (per log parameter) against central differences of the
    # log-likelihood, at a point away from the optimum, on the CDNOW summary.
    from cust.pipelines.clv import models

    seen = {}

    def capture(names, loglik, start, customers, what, *, gradient=False):
        seen["loglik"] = loglik
        return Fit(dict(zip(names, [1.0] * 4, strict=True)), dict.fromkeys(names, 0.0), 0.0, 0)

    monkeypatch.setattr(models, "_fit", capture)
    d = _summary()
    models.fit_bgnbd(d["frequency"].to_numpy().astype(float), d["recency"].to_numpy(),
                     d["T"].to_numpy())
    loglik = seen["loglik"]
    at = np.log(np.array([0.5, 1.3, 0.6, 3.0]))
    _, grad = loglik(np.exp(at), grad=True)
    h = 1e-6
    for i in range(4):
        step = np.eye(4)[i] * h
        slope = (loglik(np.exp(at + step)) - loglik(np.exp(at - step))) / (2 * h)
        assert grad[i] == pytest.approx(slope, rel=1e-5, abs=1e-4)
