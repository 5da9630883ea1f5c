"""``python -m benchmarks spark``: the Polars engine against ``--engine spark`` (issue 25).

Generates orders exports of a few sizes with ``cust sample --parquet`` (in
``benchmarks/out/spark``), runs ``cust segment buckets --format json --no-cache`` on each
with either engine, each run in a fresh process, and writes ``benchmarks/SPARK.md``: wall
time, the peak memory of the whole process tree (cust, and for Spark the driver JVM and
its Python workers, sampled every 0.1 s from /proc), and whether the JSON documents are
equal. Spark runs on ``local[2]`` (``--master`` to change), so this measures one machine:
start-up and the Arrow round trips included.

``--memory`` measures instead how memory grows with the data on a cluster of executor
processes (``local-cluster[2,1,1024]`` by default: two executor JVMs of 1 GB): the peak
RSS of the driver (cust's process and the driver JVM) and of each executor (its JVM and
the Python workers it starts), with ``spark.sql.shuffle.partitions`` set so that every
partition holds about ``--lines-per-partition`` lines; the section "Memory as data grows"
of ``benchmarks/SPARK.md`` is written anew.
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


def _processes() -> tuple[dict[int, list[int]], dict[int, str]]:
    """Every process's children, and its name, from /proc."""
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
    return children, names


def _rss(pid: int) -> int:
    """The resident memory of ``pid`` in bytes (0 once it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines()
                 if line.startswith("VmRSS:")), 0)


def _tree_rss(root: int) -> tuple[int, int]:
    """RSS in bytes of ``root`` and its descendants: (all, the JVMs among them)."""
    children, names = _processes()
    total = jvm = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        rss = _rss(pid)
        total += rss
        if names.get(pid) == "java":
            jvm += rss
    return total, jvm


EXECUTOR = "CoarseGrainedExecutorBackend"  # in an executor JVM's command line


def _split_rss(root: int) -> tuple[int, dict[int, int], dict[int, int]]:
    """RSS in bytes of ``root``'s tree: the driver's part, and by executor JVM pid its part
    and the part of the Python workers under it.

    An executor's part is its JVM and every process under it (the Python workers); the
    driver's is the rest (cust's process, the driver JVM).
    """
    children, _ = _processes()

    def executor(pid: int) -> bool:
        try:
            return EXECUTOR in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False

    driver, executors, workers = 0, {}, {}
    todo: list[tuple[int, int | None]] = [(root, None)]
    while todo:
        pid, owner = todo.pop()
        if owner is None and executor(pid):
            owner = pid
        size = _rss(pid)
        if owner is None:
            driver += size
        else:
            executors[owner] = executors.get(owner, 0) + size
            if owner != pid:
                workers[owner] = workers.get(owner, 0) + size
        todo.extend((child, owner) for child in children.get(pid, []))
    return driver, executors, workers


def _run(engine: str, orders: Path, workdir: Path, env: dict[str, str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "cust", "--engine", engine, "--no-cache", "--orders",
           str(orders), "segment", "buckets", "--format", "json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})
    peak = peak_jvm = peak_driver = 0
    peak_executors: dict[int, int] = {}
    peak_workers: dict[int, int] = {}
    while proc.poll() is None:
        total, jvm = _tree_rss(proc.pid)
        peak, peak_jvm = max(peak, total), max(peak_jvm, jvm)
        driver, executors, workers = _split_rss(proc.pid)
        peak_driver = max(peak_driver, driver)
        for pid, size in executors.items():
            peak_executors[pid] = max(peak_executors.get(pid, 0), size)
            peak_workers[pid] = max(peak_workers.get(pid, 0), workers.get(pid, 0))
        time.sleep(0.1)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        msg = f"{engine} on {orders} failed:\n{err[-2000:]}"
        raise RuntimeError(msg)
    return {"seconds": seconds, "peak": peak, "jvm": peak_jvm, "doc": json.loads(out),
            "driver": peak_driver,
            "executors": [(peak_executors[p], peak_workers[p]) for p in sorted(peak_executors)]}


def _generated(workdir: Path, customers: int) -> Path:
    """``cust sample --parquet`` orders of ``customers`` customers (made once)."""
    data = workdir / f"c{customers}"
    if not (data / "orders.parquet").exists():
        subprocess.run([sys.executable, "-m", "cust", "sample", "--out", str(data),
                        "--customers", str(customers), "--parquet", "--quiet", "--force"],
                       check=True, cwd=workdir)
    return data / "orders.parquet"


MEMORY = "## Memory as data grows"


def _memory(sizes: list[int], master: str, per_partition: int, results: Path) -> int:
    """Peak RSS of the driver and of each executor as the export grows (module doc)."""
    import polars as pl

    (OUT / "cust.toml").write_text(f'[engine]\nspark_master = "{master}"\n', encoding="utf-8")
    rows = []
    for n in sizes:
        orders = _generated(OUT, n)
        lines = pl.scan_parquet(orders).select(pl.len()).collect().item()
        parts = max(1, round(lines / per_partition))
        env = {"PYSPARK_SUBMIT_ARGS":
               f"--conf spark.sql.shuffle.partitions={parts} pyspark-shell"}
        spark = _run("spark", orders, OUT, env)
        polars = _run("polars", orders, OUT)
        equal = polars["doc"] == spark["doc"]
        rows.append((lines, parts, spark, equal))
        print(f"{lines:,} lines, {parts} partitions: {spark['seconds']:.1f} s, driver "
              f"{spark['driver'] / 2**20:.0f} MB, executors "
              f"{[(round(e / 2**20), round(w / 2**20)) for e, w in spark['executors']]} MB "
              f"(of which Python workers), equal {equal}",
              file=sys.stderr)
        _write_memory(rows, master, per_partition, results)  # a stopped run keeps these
    return 0 if all(r[3] for r in rows) else 1


def _write_memory(rows: list, master: str, per_partition: int, results: Path) -> None:
    """The memory section of ``results``, written anew (the timings above it kept)."""
    mb = 2**20
    text = [
        MEMORY,
        "",
        f"`python -m benchmarks spark --memory`. Machine: {os.cpu_count()} cores (shared with "
        f"other jobs), {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}; master `{master}` (executor processes of their own). "
        f"`spark.sql.shuffle.partitions` grows with the data, about {per_partition:,} lines "
        "a partition. Peak RSS sampled every 0.1 s from /proc: the driver is cust's process "
        "and the driver JVM (which in local-cluster mode also hosts the master and workers); "
        "an executor is its JVM and the Python workers under it (their own peak apart).",
        "",
        "| order lines | partitions | spark s | driver MB | executor MB (each) "
        "| of which Python workers MB | figures equal to polars |",
        "|---|---|---|---|---|---|---|",
    ]
    for lines, parts, s, equal in rows:
        each = ", ".join(f"{e / mb:,.0f}" for e, _ in s["executors"]) or "-"
        python = ", ".join(f"{w / mb:,.0f}" for _, w in s["executors"]) or "-"
        text.append(f"| {lines:,} | {parts} | {s['seconds']:.1f} | {s['driver'] / mb:,.0f} | "
                    f"{each} | {python} | {'yes' if equal else 'NO'} |")
    before = results.read_text(encoding="utf-8") if results.exists() else ""
    kept = before.split(MEMORY)[0].rstrip("\n")
    results.write_text((kept + "\n\n" if kept else "") + "\n".join(text) + "\n",
                       encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Time both engines on generated exports; write benchmarks/SPARK.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks spark")
    parser.add_argument("--customers", default="10000,50000",
                        help="sizes of the generated exports, in customers (comma-separated)")
    parser.add_argument("--master", default=None,
                        help="Spark master [default: local[2]; with --memory "
                        "local-cluster[2,1,1024]]")
    parser.add_argument("--results", type=Path, default=HERE / "SPARK.md")
    parser.add_argument("--memory", action="store_true",
                        help="peak memory of the driver and of each executor as data grows")
    parser.add_argument("--lines-per-partition", type=int, default=250_000)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.memory:
        return _memory([int(x) for x in args.customers.split(",")],
                       args.master or "local-cluster[2,1,1024]", args.lines_per_partition,
                       args.results)
    args.master = args.master or "local[2]"
    (OUT / "cust.toml").write_text(f'[engine]\nspark_master = "{args.master}"\n',
                                   encoding="utf-8")
    rows = []
    for n in [int(x) for x in args.customers.split(",")]:
        orders = _generated(OUT, n)
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
    before = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
    memory = MEMORY + before.split(MEMORY)[1] if MEMORY in before else ""
    args.results.write_text("\n".join(text) + "\n" + ("\n" + memory if memory else ""),
                            encoding="utf-8")
    print("\n".join(text))
    return 0 if all(r[3] for r in rows) else 1
