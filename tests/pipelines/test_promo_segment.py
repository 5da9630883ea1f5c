"""``--segment`` on a categorical customers column reads its value through the cells' aliases.

The loader maps a customers cell ``企业`` to ``enterprise`` (``schema.CUSTOMER_TYPE_VALUES``);
``--segment customer_type=企业`` compared that raw text with the mapped cells and matched no
one.
"""

import json

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.promo import Scenario, simulate

# Paid orders: C1 600, C2 800, C3 700, C4 300. C1 and C2 are enterprises (one written 企业),
# purchasers (one written 采购); C3 an individual engineer; C4 a student in automotive.
ORDERS = """\
order_id,customer_id,order_time,amount,cost
o1,C1,2024-03-01,600,400
o2,C2,2024-03-02,800,500
o3,C3,2024-03-03,700,600
o4,C4,2024-03-04,300,100
"""
CUSTOMERS = """\
customer_id,customer_type,role,industry
C1,企业,采购,Electronics
C2,enterprise,purchaser,electronics
C3,个人,工程师,Energy
C4,学生,other,Automotive
"""


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    return tmp_path / "o.csv", tmp_path / "c.csv"


@pytest.mark.parametrize(
    ("segment", "revenue", "qualifying", "label"),
    [
        # C1 and C2: 1400 of revenue, both orders at or above 500 (50 off each).
        ({"customer_type": "企业"}, 1400.0, 2, "customer_type = enterprise"),
        ({"customer_type": "enterprise"}, 1400.0, 2, "customer_type = enterprise"),
        ({"customer_type": "ENTERPRISE"}, 1400.0, 2, "customer_type = enterprise"),
        ({"customer_type": "企业客户"}, 1400.0, 2, "customer_type = enterprise"),
        ({"customer_type": "个人"}, 700.0, 1, "customer_type = individual"),
        ({"role": "采购"}, 1400.0, 2, "role = purchaser"),
        ({"role": "Engineer", "customer_type": "个人客户"}, 700.0, 1, "role = engineer"),
        ({"customer_type": "学生"}, 300.0, 0, "customer_type = student"),
        # A column without aliases compares as before: case-insensitively, as written.
        ({"industry": "ELECTRONICS"}, 1400.0, 2, "industry = ELECTRONICS"),
    ],
)
def test_segment_values_go_through_the_aliases(paths, segment, revenue, qualifying, label):
    orders, customers = paths
    inputs = Inputs({"orders": orders, "customers": customers}, LoadOptions())
    result = simulate(inputs, [Scenario(threshold=500, reward_amount=50)], segment=segment)
    doc = result.to_json()
    assert (doc["revenue_before"], doc["qualifying_orders"]) == (revenue, qualifying)
    assert doc["subsidy_cost"] == 50.0 * qualifying
    assert any(label in t for t in doc["targeting"])


def test_segment_alias_from_the_command_line(paths):
    orders, customers = paths
    result = CliRunner().invoke(app, [
        "--orders", str(orders), "--customers", str(customers), "promo", "simulate",
        "--threshold", "500", "--reward-amount", "50", "--segment", "customer_type=企业",
        "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["history_orders"], doc["revenue_before"], doc["subsidy_cost"]) == (
        2, 1400.0, 100.0)
