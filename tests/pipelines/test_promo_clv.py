"""Promotions aimed by customer lifetime value (--clv-top, --p-alive-below, issue 22).

The chosen customers are picked again here in plain Python from ``cust clv``'s members, and
the simulation on their lines alone must give the same figures as the targeted one.
"""

import csv
import math

import pytest

from cust.pipelines.clv import clv
from cust.pipelines.errors import InvalidOptionError
from cust.pipelines.io import sample_path
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.promo import Scenario, parse_share, simulate

SCENARIO = Scenario(threshold=1000, reward_amount=100)
FIGURES = ("qualifying_orders", "qualifying_customers", "subsidy_cost", "revenue_before",
           "gross_profit_before", "history_orders")


def _sample() -> Inputs:
    return Inputs({"orders": sample_path("orders")}, LoadOptions())


def _only(ids: set[str], tmp_path) -> Inputs:
    """The sample's orders export, cut to the lines of ``ids`` (csv module, no Polars)."""
    with open(sample_path("orders"), encoding="utf-8", newline="") as src:
        rows = list(csv.reader(src))
    out = tmp_path / "chosen.csv"
    with open(out, "w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(rows[0])
        at = rows[0].index("customer_id")
        writer.writerows(r for r in rows[1:] if r[at] in ids)
    return Inputs({"orders": out}, LoadOptions())


@pytest.fixture(scope="module")
def members():
    rows = clv(_sample()).members.select("customer_id", "clv", "p_alive").rows()
    return sorted(rows, key=lambda r: (-r[1], r[0]))  # highest CLV first, ties by id


def _figures(inputs, **kw):
    doc = simulate(inputs, [SCENARIO], **kw).to_json()
    return {k: doc[k] for k in FIGURES}, doc


def test_clv_top_is_the_top_share_of_customers(members, tmp_path):
    chosen = {r[0] for r in members[: math.ceil(0.2 * len(members))]}
    targeted, doc = _figures(_sample(), clv_top=0.2)
    assert targeted == _figures(_only(chosen, tmp_path))[0]
    assert targeted["qualifying_orders"] > 0
    assert doc["targeting"] == [
        "Only customers among the 20% with the highest CLV (cust clv, fitted to the period's "
        "end)."]


def test_valuable_customers_slipping_away(members, tmp_path):
    top = members[: math.ceil(0.5 * len(members))]
    chosen = {r[0] for r in top if r[2] < 0.6}
    assert 0 < len(chosen) < len(top)  # the rule bites on the sample
    targeted, _ = _figures(_sample(), clv_top=0.5, p_alive_below=0.6)
    assert targeted == _figures(_only(chosen, tmp_path))[0]


@pytest.mark.parametrize(("text", "share"), [("20%", 0.2), ("0.2", 0.2), ("100%", 1.0),
                                              (None, None)])
def test_parse_share(text, share):
    assert parse_share(text) == share


@pytest.mark.parametrize("text", ["0", "0%", "120%", "1.5", "abc", "nan", "-5%"])
def test_a_share_outside_0_to_100_percent_is_refused(text):
    with pytest.raises(InvalidOptionError, match="--clv-top"):
        parse_share(text)


@pytest.mark.parametrize("below", [0.0, 1.5, math.nan])
def test_p_alive_below_must_be_a_probability(below):
    with pytest.raises(InvalidOptionError, match="--p-alive-below"):
        simulate(_sample(), [SCENARIO], p_alive_below=below)


def test_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from cust.cli.main import app

    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["promo", "simulate", "--threshold", "1000",
                                      "--reward-amount", "100", "--clv-top", "20%",
                                      "-f", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8").count("highest CLV") >= 1
    result = CliRunner().invoke(app, ["promo", "simulate", "--clv-top", "lots"])
    assert result.exit_code == 2
    assert "--clv-top 'lots' is not a share of customers" in result.output
