"""JSON numbers: exact to the cent at any size, float noise cut."""

import pytest

from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.result import jsonable
from cust.pipelines.segment.buckets import bucket_orders


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (12345678901.23, 12345678901.23),  # 13 digits: cut to 12 it was 12345678901.2
        (999999999999.99, 999999999999.99),  # the largest amount the loader accepts
        (0.1 + 0.2, 0.3),  # 0.30000000000000004: noise cut at 12 digits
        (1 / 3, 0.333333333333),
        (-2500000000.05, -2500000000.05),
        (0.0, 0.0),
        (float("nan"), None),
    ],
)
def test_floats_keep_the_cents(value, shown):
    assert jsonable(value) == shown


def test_a_ten_billion_order_keeps_its_cents_in_the_json(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_time,amount\n"
                    "O1,C1,2024-01-01,12345678901.23\nO2,C2,2024-01-02,0.01\n", encoding="utf-8")
    doc = bucket_orders(Inputs({"orders": str(path)}, LoadOptions())).to_json()
    assert doc["totals"]["revenue"] == 12345678901.24
    assert [b["revenue"] for b in doc["buckets"]] == [0.01, 0, 0, 0, 0, 12345678901.23]
