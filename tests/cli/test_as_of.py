"""``--as-of`` ends the analysed orders on every orders command (CONTRACT section 2)."""

import json

from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
# One order on the analysis date and three after it (paid, one line each).
ORDERS = """\
order_id,customer_id,order_time,amount,cost
O1,C1,2025-01-01 10:00,30.00,20.00
O2,C1,2025-01-02 09:00,120.00,100.00
O3,C2,2025-01-05 12:00,600.00,500.00
O4,C3,2025-01-07 23:59,40.00,30.00
"""


def _json(args):
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bands_and_promo_leave_out_orders_after_the_analysis_date(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    doc = _json(["segment", "buckets", "--orders", str(path), "--as-of", "2025-01-01"])
    assert (doc["totals"]["orders"], doc["totals"]["revenue"]) == (1, 30.0)
    doc = _json(["segment", "buckets", "--orders", str(path), "--as-of", "2025-01-05"])
    assert (doc["totals"]["orders"], doc["totals"]["revenue"]) == (3, 750.0)
    # Threshold 100: O2 (120) and O3 (600) qualify by 2025-01-05, not O4 on 01-07.
    doc = _json(["promo", "simulate", "--orders", str(path), "--threshold", "100",
                 "--reward-amount", "10", "--as-of", "2025-01-05"])
    assert (doc["history_orders"], doc["qualifying_orders"], doc["subsidy_cost"]) == (3, 2, 20.0)
    # --until before --as-of keeps the earlier end.
    doc = _json(["segment", "buckets", "--orders", str(path), "--until", "2025-01-01",
                 "--as-of", "2025-01-05"])
    assert doc["totals"]["orders"] == 1


def test_as_of_before_since_is_refused(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    result = runner.invoke(app, ["segment", "buckets", "--orders", str(path), "--since",
                                 "2025-01-03", "--as-of", "2025-01-02"])
    assert result.exit_code == 2
    assert "--as-of 2025-01-02 is before --since 2025-01-03" in result.output


def test_abc_and_rfm_leave_out_orders_after_the_analysis_date(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    # By 2025-01-01 only O1 is known: C1 alone, contribution 30 - 20 = 10.
    doc = _json(["segment", "abc", "--orders", str(path), "--as-of", "2025-01-01"])
    classes = {c["class"]: (c["customers"], c["value"]) for c in doc["classes"]}
    assert classes == {"A": (1, 10.0), "B": (0, 0.0), "C": (0, 0.0)}
    doc = _json(["segment", "rfm", "--orders", str(path), "--as-of", "2025-01-01"])
    assert sum(s["customers"] for s in doc["segments"]) == 1
    for command in (["segment", "abc"], ["segment", "rfm"]):
        result = runner.invoke(app, [*command, "--orders", str(path), "--since", "2025-01-03",
                                     "--as-of", "2025-01-02"])
        assert result.exit_code == 2, result.output
        assert "--as-of 2025-01-02 is before --since 2025-01-03" in result.output
