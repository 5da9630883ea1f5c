"""``python -m benchmarks spark``: the Polars engine against ``--engine spark`` (issue 25).

Generates orders exports of a few sizes with ``cust sample --parquet`` (in
``benchmarks/out/spark``), runs ``cust segment buckets --format json --no-cache`` on each
with either engine, each run in a fresh process, and writes ``benchmarks/SPARK.md``: wall
time, the peak memory of the whole process tree (cust, and for Spark the driver JVM and
its Python workers, sampled every 0.1 s from /proc), and whether the JSON documents are
equal. Spark runs on ``local[2]`` (``--master`` to change), so this measures one machine:
start-up and the Arrow round trips included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "spark"


def _tree_rss(root: int) -> tuple[int, int]:
    """RSS in bytes of ``root`` and its descendants: (all, the JVMs among them)."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        pid, rest = int(entry.name), stat.rsplit(")", 1)
        names[pid] = stat[stat.find("(") + 1: stat.rfind(")")]
        children.setdefault(int(rest[1].split()[1]), []).append(pid)
    total = jvm = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss = next((int(line.split()[1]) * 1024 for line in status.splitlines()
                    if line.startswith("VmRSS:")), 0)
        total += rss
        if names.get(pid) == "java":
            jvm += rss
    return total, jvm


def _run(engine: str, orders: Path, workdir: Path) -> dict:
    cmd = [sys.executable, "-m", "cust", "--engine", engine, "--no-cache", "--orders",
           str(orders), "segment", "buckets", "--format", "json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = peak_jvm = 0
    while proc.poll() is None:
        total, jvm = _tree_rss(proc.pid)
        peak, peak_jvm = max(peak, total), max(peak_jvm, jvm)
        time.sleep(0.1)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        msg = f"{engine} on {orders} failed:\n{err[-2000:]}"
        raise RuntimeError(msg)
    return {"seconds": seconds, "peak": peak, "jvm": peak_jvm, "doc": json.loads(out)}


def main(argv: list[str] | None = None) -> int:
    """Time both engines on generated exports; write benchmarks/SPARK.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks spark")
    parser.add_argument("--customers", default="10000,50000",
                        help="sizes of the generated exports, in customers (comma-separated)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--results", type=Path, default=HERE / "SPARK.md")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cust.toml").write_text(f'[engine]\nspark_master = "{args.master}"\n',
                                   encoding="utf-8")
    rows = []
    for n in [int(x) for x in args.customers.split(",")]:
        data = OUT / f"c{n}"
        if not (data / "orders.parquet").exists():
            subprocess.run([sys.executable, "-m", "cust", "sample", "--out", str(data),
                            "--customers", str(n), "--parquet", "--quiet", "--force"],
                           check=True, cwd=OUT)
        orders = data / "orders.parquet"
        polars = _run("polars", orders, OUT)
        spark = _run("spark", orders, OUT)
        lines = polars["doc"]["input"]["orders"]["rows_read"]
        equal = polars["doc"] == spark["doc"]
        rows.append((lines, polars, spark, equal))
        print(f"{lines:,} lines: polars {polars['seconds']:.1f} s, spark "
              f"{spark['seconds']:.1f} s, equal {equal}", file=sys.stderr)
    mb = 1024 * 1024
    text = [
        "# Polars engine against --engine spark",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}. Command: `cust segment buckets --format json --no-cache` "
        f"on `cust sample --parquet` orders; Spark master `{args.master}`. One run each, in "
        "a fresh process; peak memory is the whole process tree's (Spark: driver JVM and "
        "Python workers included), sampled every 0.1 s.",
        "",
        "| order lines | polars s | spark s | spark / polars | polars MB | spark MB "
        "| of which JVM MB | figures equal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lines, p, s, equal in rows:
        text.append(
            f"| {lines:,} | {p['seconds']:.1f} | {s['seconds']:.1f} | "
            f"{s['seconds'] / p['seconds']:.1f} | {p['peak'] / mb:,.0f} | "
            f"{s['peak'] / mb:,.0f} | {s['jvm'] / mb:,.0f} | {'yes' if equal else 'NO'} |"
        )
    args.results.write_text("\n".join(text) + "\n", encoding="utf-8")
    print("\n".join(text))
    return 0 if all(r[3] for r in rows) else 1
