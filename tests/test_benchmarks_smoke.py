"""The benchmark runner works end to end on tiny data (no timings asserted)."""

import subprocess
import sys

import numpy as np
import polars as pl

from benchmarks.__main__ import main


def test_runner_on_tiny_data(tmp_path):
    rng = np.random.default_rng(5)
    n = 600
    pl.DataFrame({
        "order_id": [f"O{i // 2}" for i in range(n)],
        "customer_id": [f"C{(i // 2) % 50}" for i in range(n)],
        "order_time": "2024-01-02 03:04:05",
        "amount": np.round(rng.lognormal(3.5, 1.2, n), 2),
        "cost": np.round(rng.lognormal(3.2, 1.2, n), 2),
        "status": "paid",
    }).write_parquet(tmp_path / "orders.parquet")
    results = tmp_path / "RESULTS.md"
    assert main(["--data", str(tmp_path), "--runs", "1", "--results", str(results)]) == 0
    text = results.read_text(encoding="utf-8")
    for workload in ("load", "segment buckets", "segment abc", "segment rfm", "cohort",
                     "promo one", "promo sweep"):
        assert f"| {workload} | 600 |" in text
    assert "| NO |" not in text
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in text.splitlines()}
    # Workloads reading orders through the cache have first and warm runs; load has none.
    assert float(rows["segment buckets"][4]) > 0  # warm seconds
    assert rows["load"][3] == rows["load"][4] == "-"


def test_beyond_memory_runner_on_tiny_data(tmp_path):
    import benchmarks.big as big

    base = tmp_path / "base"
    made = subprocess.run(
        [sys.executable, "-m", "cust", "sample", "--out", str(base), "--parquet",
         "--customers", "200", "--seed", "3", "--quiet"],
        check=False,
    )
    assert made.returncode == 0
    results = tmp_path / "BIG.md"
    code = big.main(["--base", str(base), "--out", str(tmp_path / "big"), "--copies", "3",
                     "--results", str(results)])
    assert code == 0
    text = results.read_text(encoding="utf-8")
    for workload in ("funnel", "bands", "cohorts"):
        assert f"| {workload} |" in text
    assert "| NO |" not in text
    # The copies are what the note says: 3 parts per export, ids prefixed per copy.
    assert len(list((tmp_path / "big" / "events").glob("*.parquet"))) == 3
    ids = pl.scan_parquet(tmp_path / "big" / "orders" / "part-002.parquet").select(
        pl.col("customer_id").str.starts_with("r02-").all()).collect().item()
    assert ids
