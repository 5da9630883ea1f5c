"""``python -m benchmarks incremental``: a folder of daily exports plus one new day (issue 23).

Splits the benchmark's ``orders.parquet`` by day into a folder of daily files (365 days),
makes a 366th day (the last day's lines a day later, under new order ids), and times, each
run in a fresh process (median of ``--runs`` alternating runs):

- ``cold``: the 366 files with no cache (every line read and validated);
- ``first``: the 366 files with an empty cache, which the run fills;
- ``incremental``: the cache filled by a run over the 365 files, then the new day added:
  the next command (the cache is copied before each run, outside the timing);
- ``warm``: the cache filled by a run over the 366 files;
- ``duckdb``: the same figures by DuckDB over the 366 files.

Figures of every side must be equal (exit 1 otherwise). Writes the section
"Incremental exports" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

from .__main__ import HERE, OUT, _run, ensure_data

SECTION = "## Incremental exports"
WORKLOADS = ("segment buckets", "segment rfm")


def split_by_day(orders: Path, folder: Path, new_day: Path) -> None:
    """The daily files and the new day's (kept in ``new_day``), unless they exist."""
    import polars as pl

    if folder.is_dir() and any(folder.glob("*.parquet")) and new_day.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    frame = pl.read_parquet(orders).with_columns(pl.col("order_time").dt.date().alias("__day"))
    for (day,), part in frame.partition_by("__day", as_dict=True).items():
        part.drop("__day").write_parquet(folder / f"orders-{day}.parquet")
    last = frame["__day"].max()
    extra = frame.filter(pl.col("__day") == last).drop("__day").with_columns(
        pl.col("order_time") + pl.duration(days=1), ("N" + pl.col("order_id")).alias("order_id")
    )
    new_day.parent.mkdir(parents=True, exist_ok=True)
    extra.write_parquet(new_day)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 when figures differ between sides."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks incremental", description=__doc__)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "scale")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    ensure_data(args.data, 1_000_000, 7)
    daily, held = args.data / "daily", args.data / "daily-new" / "orders-new-day.parquet"
    split_by_day(args.data / "orders.parquet", daily, held)
    added = daily / held.name
    added.unlink(missing_ok=True)
    files = len(list(daily.glob("*.parquet")))
    caches = OUT / "cache-incremental"
    rows, differ = [], []
    for name in WORKLOADS:
        shutil.rmtree(caches, ignore_errors=True)
        base = caches / "base"
        _run(name, "cust", daily, base)  # the 365 days, cached outside the timing
        shutil.copy(held, added)
        full = caches / "full"
        _run(name, "cust", daily, full)  # the 366 days, for the warm side
        got: dict[str, list[dict]] = {s: [] for s in
                                      ("cold", "first", "incremental", "warm", "duckdb")}
        for i in range(args.runs):
            got["cold"].append(_run(name, "cust", daily))
            got["first"].append(_run(name, "cust", daily, caches / f"first-{i}"))
            shutil.rmtree(caches / f"first-{i}", ignore_errors=True)
            run_cache = caches / f"incremental-{i}"
            shutil.copytree(base, run_cache, symlinks=True)
            got["incremental"].append(_run(name, "cust", daily, run_cache))
            shutil.rmtree(run_cache, ignore_errors=True)
            got["warm"].append(_run(name, "cust", daily, full))
            got["duckdb"].append(_run(name, "duckdb", daily))
        added.unlink()
        med = {s: (statistics.median(r["seconds"] for r in rs),
                   statistics.median(r["peak_mb"] for r in rs)) for s, rs in got.items()}
        same = all(rs[0]["figures"] == got["duckdb"][0]["figures"] for rs in got.values())
        if not same:
            differ.append(name)
        cold = med["cold"][0]
        rows.append(
            f"| {name} | {files + 1} | {med['cold'][0]:.2f} | {med['first'][0]:.2f} | "
            f"{med['incremental'][0]:.2f} | {med['warm'][0]:.2f} | {med['duckdb'][0]:.2f} | "
            f"{med['incremental'][0] / cold:.3f} | {med['first'][0] / cold:.2f} | "
            f"{med['cold'][0] / med['duckdb'][0]:.2f} | {med['cold'][1]:,.0f} | "
            f"{med['incremental'][1]:,.0f} | {med['duckdb'][1]:,.0f} | "
            f"{'yes' if same else 'NO'} |"
        )
        print(rows[-1], flush=True)
    shutil.rmtree(caches, ignore_errors=True)
    section = [
        SECTION,
        "",
        f"`python -m benchmarks incremental --runs {args.runs}`: the benchmark's orders split "
        f"into {files} daily Parquet files, plus a new day (the last day's lines a day later "
        "under new order ids). Sides: cold (the whole folder, no cache), first (empty cache, "
        "filled by the run), incremental (the cache of the folder without the new day, then "
        "the new day added: only that file is read), warm (the cache of the whole folder), "
        "DuckDB over the folder. Median of alternating runs, each a fresh process. Machine: "
        f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}.",
        "",
        "| workload | files | cold s | first s | incremental s | warm s | DuckDB s | "
        "incremental / cold | first / cold | cold / DuckDB | cold MB | incremental MB | "
        "DuckDB MB | figures equal |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    old = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
    if SECTION in old:  # replace the section, keep the others
        head, rest = old.split(SECTION, 1)
        tail = rest[rest.index("\n## "):] if "\n## " in rest else "\n"
        old = head.rstrip("\n") + "\n\n" + "\n".join(section) + "\n" + tail
    else:
        old = old.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    args.results.write_text(old, encoding="utf-8")
    for name in differ:
        print(f"FIGURES DIFFER for {name}", file=sys.stderr)
    return 1 if differ else 0
