"""``cust funnel --value`` and ``cust funnel drivers`` from the command line (issue 24)."""

import json

from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()


def _doc(*args):
    result = runner.invoke(app, ["funnel", *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_value_orders_on_the_sample_adds_money_to_the_steps():
    plain, valued = _doc(), _doc("--value", "orders")
    assert "value" not in plain
    assert "value" not in plain["steps"][0]
    assert [s["entered"] for s in valued["steps"]] == [s["entered"] for s in plain["steps"]]
    steps = valued["steps"]
    assert valued["value"] == "orders"
    assert all(s["value"] > 0 and s["gross_profit"] > 0 for s in steps)
    # What is lost into a step is part of the value at the step before it.
    assert all(0 < steps[k]["value_lost"] <= steps[k - 1]["value"] for k in (1, 2))
    # Here the cart step is followed by the purchase step only: the drop-off after the cart
    # and cart abandonment are the same units, and so the same money.
    ab = valued["cart_abandonment"]
    assert ab["abandoned"] == valued["cart_step_drop_off"]["did_not_reach_purchase_step"]
    assert ab["abandoned_value"] == steps[2]["value_lost"]


def test_value_unknown_column_exits_2():
    result = runner.invoke(app, ["funnel", "--value", "price"])
    assert result.exit_code == 2
    assert "no 'price' column" in result.output


def test_drivers_on_the_sample_in_json_and_csv():
    result = runner.invoke(app, ["funnel", "drivers", "-f", "json", "--top", "5"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "funnel drivers"
    assert doc["steps_analysed"][0]["step"] == "add_to_cart"  # the step before the last
    assert len(doc["drivers"]) == 5
    assert doc["tested"] >= 5
    first = doc["drivers"][0]
    assert first["ci_low"] <= first["odds_ratio"] <= first["ci_high"]
    assert first["p_value"] <= first["q_value"] <= 1
    csv = runner.invoke(app, ["funnel", "drivers", "-f", "csv", "--top", "5"])
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.splitlines()[0].startswith("step,property,value,units_with")
    assert len(csv.stdout.splitlines()) == 6


def test_drivers_bad_options_exit_2():
    for args, words in ((["--step", "purchase"], "--step 'purchase'"),
                        (["--properties", "colour"], "no 'colour' column"),
                        (["--properties", "user_id"], "--properties user_id")):
        result = runner.invoke(app, ["funnel", "drivers", *args])
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output
