"""Shared fixtures: a hand-built orders table and a helper that writes it in any export shape.

The table is small enough to check every figure by hand:

====  ========  ===================  =======  ====  ===  =========  ==================
id    customer  time                 amount   cost  qty  status     loader verdict
====  ========  ===================  =======  ====  ===  =========  ==================
A1    C1        2024-02-01 09:00:00  1200.00  800   2    paid       valid
A2    C2        2024-02-03 14:30:00  300      100   1    refunded   valid
A3    C1        2024-02-05 10:00:00  50       20    1    paid       valid
A3    C1        2024-02-05 10:00:00  25.5     10    3    paid       valid (2nd line)
A4    C3        2024-02-10 18:45:00  99.9     60    1    cancelled  valid
A5    (blank)   2024-02-11 08:00:00  10       5     1    paid       missing_customer_id
A6    C4        2024-02-12 08:00:00  (bad)    5     1    paid       bad_amount
====  ========  ===================  =======  ====  ===  =========  ==================

So: 7 rows read, 2 rejected (one per reason), valid rows span 2024-02-01 09:00 to
2024-02-10 18:45.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app

COLUMNS = ("order_id", "customer_id", "order_time", "amount", "cost", "quantity", "status")
ZH_HEADERS = ("订单号", "客户编号", "下单时间", "实付金额", "成本", "数量", "状态")
ZH_STATUS = {"paid": "已支付", "refunded": "已退款", "cancelled": "已取消"}

ORDER_ROWS: tuple[tuple[str, ...], ...] = (
    ("A1", "C1", "2024-02-01 09:00:00", "1200.00", "800", "2", "paid"),
    ("A2", "C2", "2024-02-03 14:30:00", "300", "100", "1", "refunded"),
    ("A3", "C1", "2024-02-05 10:00:00", "50", "20", "1", "paid"),
    ("A3", "C1", "2024-02-05 10:00:00", "25.5", "10", "3", "paid"),
    ("A4", "C3", "2024-02-10 18:45:00", "99.9", "60", "1", "cancelled"),
    ("A5", "", "2024-02-11 08:00:00", "10", "5", "1", "paid"),
    ("A6", "C4", "2024-02-12 08:00:00", "n/a", "5", "1", "paid"),
)


def csv_text(
    rows: Sequence[Sequence[str]], headers: Sequence[str] = COLUMNS, delimiter: str = ","
) -> str:
    """Rows and headers as delimited text (quoted where needed, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class OrdersTable:
    """The hand-built table of the module docstring and what the loader must make of it."""

    columns: tuple[str, ...] = COLUMNS
    zh_headers: tuple[str, ...] = ZH_HEADERS
    rows: tuple[tuple[str, ...], ...] = ORDER_ROWS
    rows_read: int = 7
    rows_rejected: int = 2
    rejected_by_reason: dict[str, int] = field(
        default_factory=lambda: {"bad_amount": 1, "missing_customer_id": 1}
    )
    first: str = "2024-02-01T09:00:00"
    last: str = "2024-02-10T18:45:00"

    def chinese_rows(self) -> list[tuple[str, ...]]:
        """The rows as a Chinese back-office writes them: 2024/02/01 times, 已支付 statuses."""
        return [
            (oid, cust, time.replace("-", "/"), amount, cost, qty, ZH_STATUS[status])
            for oid, cust, time, amount, cost, qty, status in self.rows
        ]

    def frame(self) -> pl.DataFrame:
        """The rows as a typed frame, as a Parquet export holds them (bad amount -> null)."""

        def number(text: str) -> float | None:
            try:
                return float(text)
            except ValueError:
                return None

        rows = self.rows
        return pl.DataFrame(
            {
                "order_id": [r[0] for r in rows],
                "customer_id": [r[1] for r in rows],
                "order_time": [datetime.fromisoformat(r[2]) for r in rows],
                "amount": [number(r[3]) for r in rows],
                "cost": [number(r[4]) for r in rows],
                "quantity": [int(r[5]) for r in rows],
                "status": [r[6] for r in rows],
            },
            schema={
                "order_id": pl.String,
                "customer_id": pl.String,
                "order_time": pl.Datetime("us"),
                "amount": pl.Float64,
                "cost": pl.Float64,
                "quantity": pl.Int64,
                "status": pl.String,
            },
        )

    @staticmethod
    def text(
        rows: Sequence[Sequence[str]], headers: Sequence[str] = COLUMNS, delimiter: str = ","
    ) -> str:
        """Rows and headers as delimited text."""
        return csv_text(rows, headers, delimiter)


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """CLI runs (in process and in subprocesses) keep their orders cache in a temp dir."""
    os.environ["CUST_CACHE_DIR"] = str(tmp_path_factory.mktemp("cust-cache"))


@pytest.fixture
def orders_table() -> OrdersTable:
    """The hand-built orders table (see the module docstring)."""
    return OrdersTable()


def write_text_file(
    path: Path,
    rows: Sequence[Sequence[str]] = ORDER_ROWS,
    *,
    encoding: str = "utf-8",
    headers: Sequence[str] = COLUMNS,
    delimiter: str = ",",
    gz: bool = False,
) -> Path:
    """Write ``rows`` to ``path`` in ``encoding`` (``utf-8-sig`` adds a BOM), maybe gzipped."""
    data = csv_text(rows, headers, delimiter).encode(encoding)
    if gz:
        data = gzip.compress(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


WriteOrders = Callable[..., Path]


@pytest.fixture
def write_orders(tmp_path: Path) -> WriteOrders:
    """``write_orders(rows, *, name, encoding, headers, delimiter, gz)`` -> path in tmp_path.

    ``name`` may contain a sub-directory (``"exports/a.csv"``); ``.gz`` is appended when
    ``gz`` is true and the name does not end with it.
    """

    def write(
        rows: Sequence[Sequence[str]] = ORDER_ROWS,
        *,
        name: str = "orders.csv",
        encoding: str = "utf-8",
        headers: Sequence[str] = COLUMNS,
        delimiter: str = ",",
        gz: bool = False,
    ) -> Path:
        if gz and not name.endswith(".gz"):
            name += ".gz"
        return write_text_file(
            tmp_path / name,
            rows,
            encoding=encoding,
            headers=headers,
            delimiter=delimiter,
            gz=gz,
        )

    return write


@pytest.fixture
def orders_csv(write_orders: WriteOrders) -> Path:
    """The hand-built table as a UTF-8 CSV with English headers."""
    return write_orders()


@pytest.fixture
def orders_parquet(tmp_path: Path, orders_table: OrdersTable) -> Path:
    """The hand-built table as a typed Parquet file."""
    path = tmp_path / "orders.parquet"
    orders_table.frame().write_parquet(path)
    return path


@pytest.fixture
def runner() -> CliRunner:
    """A Typer CliRunner (Typer 0.29 keeps ``result.stdout`` and ``result.stderr`` apart)."""
    return CliRunner()


@pytest.fixture
def check_json(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., dict]:
    """Run ``cust check --format json ARGS`` in-process; assert exit 0; return the document.

    It runs in ``tmp_path``, so no ``./cust.toml`` of the developer's directory is read.
    """
    monkeypatch.chdir(tmp_path)

    def run(*args: str | Path) -> dict:
        result = runner.invoke(app, ["check", "--format", "json", *map(str, args)])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run
