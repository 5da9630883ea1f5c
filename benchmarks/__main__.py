"""Benchmark runner: ``python -m benchmarks [--data DIR] [--runs 3] [--only NAME]``.

Generates the data set with ``cust sample`` when ``DIR`` holds none (1M customers: about
10M order lines and 50M events by default). Each workload receives the orders file; other
sources (``events.parquet``, ``customers.parquet``) are read from the same directory, and
a workload whose input is missing is skipped. For every workload it alternates cust and
DuckDB runs, each in a fresh process so that peak memory (max RSS) is the workload's own,
and prints and writes ``benchmarks/RESULTS.md``: median wall time, peak memory, the ratio
cust/DuckDB, and whether the figures matched exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .workloads import CHECKED, WORKLOADS, orders_file

HERE = Path(__file__).resolve().parent


def _run(workload: str, side: str, path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", workload, side, str(path)],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
        check=False,
    )
    if proc.returncode != 0:
        msg = f"{side} {workload} failed:\n{proc.stderr[-2000:]}"
        raise RuntimeError(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_data(data: Path, customers: int, seed: int) -> None:
    """Generate the data set with ``cust sample`` unless it is there already."""
    if any(data.glob("orders.*")):
        return
    data.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "cust",
        "sample",
        "--out",
        str(data),
        "--parquet",
        "--customers",
        str(customers),
        "--seed",
        str(seed),
        "--quiet",
    ]
    print("generating:", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=HERE.parent)
    print(f"generated in {time.perf_counter() - start:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit 1 when figures differ between cust and DuckDB."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "scale")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", help="run only these workloads")
    parser.add_argument("--csv", action="store_true", help="benchmark the CSV copy of orders")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    unknown = [n for n in args.only or [] if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)} (one of: {', '.join(WORKLOADS)})")
    ensure_data(args.data, args.customers, args.seed)
    path = orders_file(args.data)
    if args.csv:
        csv = args.data / "orders.csv"
        if not csv.exists():
            import polars as pl

            pl.scan_parquet(path).sink_csv(csv)
        path = csv
    names = args.only or list(WORKLOADS)
    rows_out, mismatches = [], []
    for name in names:
        runs: dict[str, list[dict]] = {"cust": [], "duckdb": []}
        for _ in range(args.runs):
            for side in ("cust", "duckdb"):
                runs[side].append(_run(name, side, path))
        if "skipped" in runs["cust"][0]:
            print(f"| {name} | skipped: {runs['cust'][0]['skipped']} |", flush=True)
            continue
        c = {k: statistics.median(r[k] for r in runs["cust"]) for k in ("seconds", "peak_mb")}
        d = {k: statistics.median(r[k] for r in runs["duckdb"]) for k in ("seconds", "peak_mb")}
        same = runs["cust"][0]["figures"] == runs["duckdb"][0]["figures"]
        if name in CHECKED and not same:
            mismatches.append((name, runs["cust"][0]["figures"], runs["duckdb"][0]["figures"]))
        rows = runs["cust"][0]["rows"]
        row = (
            f"| {name} | {rows:,} | {c['seconds']:.2f} | {d['seconds']:.2f} | "
            f"{c['seconds'] / d['seconds']:.2f} | {c['peak_mb']:,.0f} | {d['peak_mb']:,.0f} | "
            f"{c['peak_mb'] / d['peak_mb']:.2f} | {rows / c['seconds'] / 1e6:.1f} | "
            f"{'yes' if same else ('NO' if name in CHECKED else 'n/a')} |"
        )
        print(row, flush=True)
        rows_out.append(row)
    header = [
        "# Benchmark results",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}. Input: `{path.name}` in `{args.data}`. "
        f"Median of {args.runs} alternating runs, each in a fresh process.",
        "",
        "| workload | rows | cust s | DuckDB s | time ratio | cust MB | DuckDB MB | "
        "memory ratio | cust M rows/s | figures equal |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    args.results.write_text("\n".join(header + rows_out) + "\n", encoding="utf-8")
    for name, mine, theirs in mismatches:
        print(f"FIGURES DIFFER for {name}:\n cust   {mine}\n duckdb {theirs}", file=sys.stderr)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
