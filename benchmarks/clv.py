"""Speed and recovery of ``cust clv``: ``python -m benchmarks clv [--customers 1000000]``.

Simulates a shop whose customers follow the BG/NBD and Gamma-Gamma models with known
parameters (numpy, seeded): a year and a half of purchase days, one order line per purchase.
Then, each in a fresh process so peak memory (max RSS) is its own:

- ``cust``: the ``cust clv`` pipeline on the orders file (summary in Polars, both fits,
  every customer's figures);
- ``lifetimes``: ``summary_data_from_transaction_data`` + ``BetaGeoFitter`` +
  ``GammaGammaFitter`` on the same file, with the Python given by ``--lifetimes-python``
  (lifetimes needs pandas and does not install beside cust's pins; a separate venv), on
  ``--lifetimes-customers`` of them when the full set would take too long.

Writes the section "CLV" of ``benchmarks/RESULTS.md``: time, peak memory, and the fitted
parameters against the true ones.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from .sections import write_section

HERE = Path(__file__).resolve().parent
SECTION = "## CLV (BG/NBD + Gamma-Gamma)"
TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 3.8, "v": 15.0}
START = np.datetime64("2025-01-01")
DAYS = 540
AS_OF = "2026-06-24"  # START + DAYS - 1


def simulate(customers: int, seed: int = 7) -> pl.DataFrame:
    """Order lines of ``customers`` customers drawn from the models (weeks as the unit)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], customers)  # purchases per week
    p = rng.beta(TRUE["a"], TRUE["b"], customers)
    zeta = rng.gamma(TRUE["q"], 1 / TRUE["v"], customers)  # rate of the spend per purchase
    first = rng.integers(0, DAYS // 3, customers)  # first purchase in the first third
    ids, days = [np.arange(customers)], [first.astype(float)]
    t = first.astype(float)
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        t = t + rng.exponential(7 / np.maximum(lam, 1e-12))
        alive &= t < DAYS
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        ids.append(idx)
        days.append(t[idx])
        alive[idx] &= rng.random(idx.size) >= p[idx]  # drop out after a purchase
    cid = np.concatenate(ids)
    day = np.floor(np.concatenate(days)).astype(int)
    amount = np.round(rng.gamma(TRUE["p"], 1 / zeta[cid]), 2) + 0.01
    return pl.DataFrame({
        "customer_id": pl.Series(cid).cast(pl.String),
        "order_time": pl.Series(START + day.astype("timedelta64[D]")).cast(pl.Datetime),
        "amount": amount,
    }).with_row_index("order_id").with_columns(pl.col("order_id").cast(pl.String))


CUST = """
import json, resource, sys, time
from datetime import date
from cust.pipelines.clv import ClvSpec, clv
from cust.pipelines.io import Inputs, LoadOptions, Period
t = time.perf_counter()
r = clv(Inputs({"orders": sys.argv[1]}, LoadOptions()), ClvSpec(),
        period=Period(as_of=date.fromisoformat(sys.argv[2])))
out = {k: r.model["bgnbd"][k] for k in ("r", "alpha", "a", "b")}
out |= {k: r.model["gamma_gamma"][k] for k in ("p", "q", "v")}
out |= {"seconds": time.perf_counter() - t, "customers": r.members.height,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(out))
"""

LIFETIMES = """
import json, resource, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
t = time.perf_counter()
lines = pd.read_parquet(sys.argv[1])
keep = lines["customer_id"].drop_duplicates().head(int(sys.argv[3]))
lines = lines[lines["customer_id"].isin(keep)]
s = summary_data_from_transaction_data(lines, "customer_id", "order_time", "amount",
                                       observation_period_end=sys.argv[2], freq="W")
bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
out = {k: float(bg.params_[k]) for k in ("r", "alpha", "a", "b")}
out |= {k: float(gg.params_[k]) for k in ("p", "q", "v")}
out |= {"seconds": time.perf_counter() - t, "customers": len(s),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(out))
"""


def _run(python: str, script: str, *args: str) -> dict | str:
    proc = subprocess.run([python, "-c", script, *args], capture_output=True, text=True,
                          cwd=HERE.parent, check=False)
    if proc.returncode != 0:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Simulate, time both sides, write the section."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks clv", description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-customers", type=int, default=100_000)
    parser.add_argument("--lifetimes-python", default=None)
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"clv_{args.customers}.parquet"
    started = time.perf_counter()
    lines = simulate(args.customers)
    lines.write_parquet(path)
    print(f"simulated {lines.height:,} lines in {time.perf_counter() - started:.1f} s")
    rows = []
    for label, n in (("cust", args.customers), ("cust", args.lifetimes_customers)):
        sub = path if n == args.customers else out / f"clv_{n}.parquet"
        if sub != path:
            keep = [str(i) for i in range(n)]
            lines.filter(pl.col("customer_id").is_in(keep)).write_parquet(sub)
        rows.append((label, n, _run(sys.executable, CUST, str(sub), AS_OF)))
        print(rows[-1])
    if args.lifetimes_python:
        sub = out / f"clv_{args.lifetimes_customers}.parquet"
        rows.append(("lifetimes", args.lifetimes_customers,
                     _run(args.lifetimes_python, LIFETIMES, str(sub), AS_OF,
                          str(args.lifetimes_customers))))
        print(rows[-1])
    table = [SECTION, "",
             f"`python -m benchmarks clv --customers {args.customers}`: customers simulated "
             f"from the models with r = {TRUE['r']}, alpha = {TRUE['alpha']}, a = {TRUE['a']}, "
             f"b = {TRUE['b']} (weeks) and p = {TRUE['p']}, q = {TRUE['q']}, v = {TRUE['v']}, "
             f"{DAYS} days, {lines.height:,} order lines for the full set; fresh process per "
             "run; lifetimes 0.11.3 in its own venv where given (`--lifetimes-python`).", "",
             "| side | customers | seconds | peak MB | r | alpha | a | b | p | q | v |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, n, got in rows:
        if isinstance(got, str):
            table.append(f"| {label} | {n:,} | failed: {got} |")
            continue
        params = " | ".join(f"{got[k]:.3f}" for k in ("r", "alpha", "a", "b", "p", "q", "v"))
        table.append(f"| {label} | {n:,} | {got['seconds']:.1f} | {got['rss_mb']:,.0f} | "
                     f"{params} |")
    write_section(args.results, SECTION, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
