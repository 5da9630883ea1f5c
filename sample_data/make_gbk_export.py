"""Write ``订单导出.csv``: the first orders of the sample as a Chinese back office exports them.

GBK-encoded, with Chinese headers (订单号, 客户编号, 下单时间, ...), Chinese order states
(已支付, 已退款, 已取消), year-first times with slashes (``2025/11/01 07:59:38``) and amounts
with a full-width currency sign (``￥1,234.50``, as GBK has no ¥), so that
``cust check --orders sample_data/订单导出.csv`` shows the loader matching every header and
reading every row. Run from the repository root::

    python sample_data/make_gbk_export.py

The output is the same on every run (tests/test_readme_examples.py checks the shipped file).
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "订单导出.csv"
LINES = 300  # order lines taken from the top of sample_data/orders.csv
HEADERS = {
    "order_id": "订单号", "customer_id": "客户编号", "order_time": "下单时间", "sku": "型号",
    "quantity": "数量", "amount": "实付金额", "cost": "成本", "discount": "优惠金额",
    "promo": "活动", "status": "状态", "channel": "渠道",
}
STATES = {"paid": "已支付", "refunded": "已退款", "cancelled": "已取消", "": ""}


def _money(text: str) -> str:
    """``1234.5`` -> ``￥1,234.50`` (what the back office prints)."""
    return f"￥{float(text):,.2f}" if text else ""


def export_text(source: Path = HERE / "orders.csv", lines: int = LINES) -> str:
    """The export's text: the first ``lines`` rows of ``source`` in the back office's words."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    with source.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        writer.writerow([HEADERS[c] for c in HEADERS])
        for row in itertools.islice(reader, lines):
            cells = dict(row)
            cells["order_time"] = cells["order_time"].replace("-", "/")
            cells["amount"] = _money(cells["amount"])
            cells["status"] = STATES[cells["status"]]
            writer.writerow([cells[c] for c in HEADERS])
    return out.getvalue()


def main() -> None:
    """Write the export next to this script, GBK-encoded."""
    (HERE / NAME).write_bytes(export_text().encode("gbk"))


if __name__ == "__main__":
    main()
