"""``cust promo`` from the command line: contract keys, defaults, clear refusals."""

import json

from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
KEYS = {"scenario", "qualifying_orders", "subsidy_cost", "revenue_before", "revenue_after",
        "gross_profit_before", "gross_profit_after"}


def test_simulate_default_on_the_sample():
    result = runner.invoke(app, ["promo", "simulate", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert KEYS <= set(doc)
    assert doc["scenario"]["threshold"] == 5000
    assert doc["subsidy_cost"] == 500 * doc["qualifying_orders"]
    assert doc["revenue_after"] == round(doc["revenue_before"] - doc["subsidy_cost"], 2)


def test_sweep_and_compare():
    result = runner.invoke(app, ["promo", "simulate", "--sweep", "500:2000:500",
                                 "--response", "fixed", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["rank"] for s in doc["scenarios"]] == [1, 2, 3, 4]
    result = runner.invoke(app, ["promo", "compare", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["scenarios"]) == 6


def test_refusals_exit_2(tmp_path):
    result = runner.invoke(app, ["promo", "simulate", "--reward-amount", "5", "--gift-cost", "1"])
    assert result.exit_code == 2
    assert "Hint:" in result.output
    result = runner.invoke(app, ["promo", "compare", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
