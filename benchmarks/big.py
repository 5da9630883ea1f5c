"""Beyond memory: funnel counts, bands and cohorts on a data set larger than RAM.

``python -m benchmarks.big [--base DIR] [--copies 20] [--out DIR]``

The data set is ``copies`` copies of the generated base set (``cust sample --scale``: 50M
events, 9.8M order lines) with every id prefixed per copy (``r00-``, ``r01-``, ...): the
same shop ``copies`` times over, with other customers. The copies are streamed file by file
with Polars (``sink_parquet``, never in memory) into a directory per export, which cust
reads like any directory of exports: 1 billion events and 197 million order lines by
default, several times this machine's memory once parsed.

Because each copy is the same shop with other people, every count on the big set is exactly
``copies`` times the count on the base set and every rate is the same; the runner checks
that, so the figures are verified without a second engine that would itself need the
memory. Each command runs in its own process; wall time and peak memory (max RSS) are
printed and written to ``benchmarks/BIG.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
IDS = {"events": ("user_id", "session_id"), "orders": ("order_id", "customer_id")}


def replicate(base: Path, out: Path, copies: int, names: list[str]) -> dict[str, int]:
    """Write the copies of exports ``names`` (skipping parts already written); rows per export."""
    import polars as pl

    rows = {}
    for name in names:
        ids = IDS[name]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(copies):
            part = folder / f"part-{i:03d}.parquet"
            if part.exists():
                continue
            tmp = part.with_suffix(".tmp")
            pl.scan_parquet(base / f"{name}.parquet").with_columns(
                (pl.lit(f"r{i:02d}-") + pl.col(c)).alias(c) for c in ids
            ).sink_parquet(tmp)
            tmp.rename(part)
            print(f"  wrote {part}", flush=True)
        rows[name] = sum(
            pl.scan_parquet(p).select(pl.len()).collect().item() for p in folder.glob("*.parquet")
        )
    return rows


def figures(workload: str, path: str) -> dict[str, Any]:
    """The workload's counts and rates, as plain numbers."""
    import polars as pl

    from cust.pipelines.io import Inputs, LoadOptions

    if workload == "funnel":
        from cust.pipelines.funnel import FunnelSpec, funnel

        r = funnel(Inputs({"events": path}, LoadOptions()),
                   FunnelSpec(period="week", by=("category",)), banners=False)
        weekly = r.periods.group_by("period").agg(pl.col("entered_1", "entered_3").sum())
        weekly = weekly.sort("period")
        return {"counts": r.steps["entered"].to_list() + weekly["entered_1"].to_list()
                + weekly["entered_3"].to_list(),
                "rates": [], "rows": r.input.sources["events"].rows_read}
    if workload == "bands":
        from cust.pipelines.segment import bucket_orders

        r = bucket_orders(Inputs({"orders": path}, LoadOptions()))
        b = r.buckets
        return {"counts": b["orders"].to_list() + b["customers"].to_list(),
                "money": [round(x, 2) for x in b["revenue"].to_list()],
                "rates": [], "rows": r.input.sources["orders"].rows_read}
    from cust.pipelines.cohort import cohort_retention

    r = cohort_retention(Inputs({"orders": path}, LoadOptions()), max_periods=12)
    return {"counts": [c["size"] for c in r.cohorts],
            "rates": [x for c in r.cohorts for x in c["retention"]],
            "rows": r.input.sources["orders"].rows_read}


def worker(workload: str, path: str) -> None:
    """Run one workload in this process; print seconds, peak MB and figures as JSON."""
    import polars  # noqa: F401 - imports outside the timing

    import cust.pipelines.io.inputs  # noqa: F401

    start = time.perf_counter()
    result = figures(workload, path)
    result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run(workload: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.big", "--worker", workload, str(path)],
        capture_output=True, text=True, cwd=HERE.parent, check=False,
    )
    if proc.returncode != 0:
        msg = f"{workload} on {path} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        raise RuntimeError(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check(base: dict[str, Any], big: dict[str, Any], copies: int) -> bool:
    """Counts ``copies`` times the base's, money too (to the cent per copy), rates equal."""
    counts = big["counts"] == [copies * c for c in base["counts"]]
    money = all(abs(b - copies * a) <= 0.01 * copies
                for a, b in zip(base.get("money", []), big.get("money", []), strict=True))
    return counts and money and big["rates"] == base["rates"]


def main(argv: list[str] | None = None) -> int:
    """Make the data set, run each workload on the base and the big set, compare."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.big", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, default=HERE / "data" / "scale")
    parser.add_argument("--out", type=Path, default=HERE / "data" / "big")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--only", action="append", choices=["funnel", "bands", "cohorts"])
    parser.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=HERE / "BIG.md")
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    if not (args.base / "events.parquet").exists():
        parser.error(f"{args.base} holds no events.parquet: run python -m benchmarks first "
                     f"(or cust sample --scale --out {args.base})")
    start = time.perf_counter()
    workloads = args.only or ["funnel", "bands", "cohorts"]
    needed = sorted({"events" if w == "funnel" else "orders" for w in workloads})
    rows = replicate(args.base, args.out, args.copies, needed)
    print(f"data set: {', '.join(f'{rows[n]:,} {n} rows' for n in needed)} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    lines = []
    ok = True
    for name in workloads:
        source = "events" if name == "funnel" else "orders"
        small = _run(name, args.base / f"{source}.parquet")
        try:
            big = _run(name, args.out / source)
        except RuntimeError as exc:  # killed (exit -9: out of memory) or failed: say so
            ok = False
            line = (f"| {name} | {rows[source]:,} | failed: {str(exc).splitlines()[0]} | | "
                    f"{small['seconds']:.1f} | {small['peak_mb']:,.0f} | no |")
            print(line, flush=True)
            lines.append(line)
            continue
        same = check(small, big, args.copies)
        ok = ok and same
        line = (f"| {name} | {big['rows']:,} | {big['seconds']:.0f} | {big['peak_mb']:,.0f} | "
                f"{small['seconds']:.1f} | {small['peak_mb']:,.0f} | {'yes' if same else 'NO'} |")
        print(line, flush=True)
        lines.append(line)
    header = [
        "# Beyond memory",
        "",
        f"Machine: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.machine()}. Data: {args.copies} id-prefixed copies of "
        f"`{args.base}` in `{args.out}` "
        f"({', '.join(f'{rows[n]:,} {n} rows' for n in needed)}). "
        "One run each, in its own process. Figures equal: every count is "
        f"{args.copies}x the base set's and every rate the same.",
        "",
        "| workload | rows | big s | big peak MB | base s | base peak MB | figures equal |",
        "|---|---|---|---|---|---|---|",
    ]
    args.results.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
