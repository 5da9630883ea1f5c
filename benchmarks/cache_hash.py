"""What hashing the whole export costs the cache: ``python -m benchmarks.cache_hash``.

The orders cache keys an entry by a hash (XXH3-128) of every export file whole, so an edit
that keeps a file's size and modification time is never served stale (issue 20, item 1).
This measures that hash against what a warm cache saves: for each CSV given (default: one
of about 4 million lines written by ``cust sample --customers 400000``), the hash with the
file in the page cache (best of 5), and ``cust segment buckets`` cold (``--no-cache``: every
line parsed and validated), first (filling the cache) and warm (median of 3, each in a fresh
process). Results go to the ``## Cache key`` section of ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cust.pipelines.io.cache import _file_hash

from .sections import write_section

HERE = Path(__file__).resolve().parent
SECTION = "## Cache key: hashing the whole export"


def _hash_seconds(path: Path, runs: int = 5) -> float:
    _file_hash(path)  # into the page cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _file_hash(path)
        times.append(time.perf_counter() - start)
    return min(times)


def _command_seconds(path: Path, cache: Path, *flags: str) -> float:
    env = {**os.environ, "CUST_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cust", *flags, "-f", "json", "segment", "buckets",
                    "--orders", str(path)], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(path: Path, runs: int) -> str:
    """One table row for the export at ``path``."""
    size = path.stat().st_size
    hashed = _hash_seconds(path)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        cold = statistics.median(_command_seconds(path, cache, "--no-cache") for _ in range(runs))
        first = _command_seconds(path, cache)
        warm = statistics.median(_command_seconds(path, cache) for _ in range(runs))
    lines = sum(1 for _ in path.open("rb")) - 1
    return (f"| {path.name} | {size / 1e6:,.0f} | {lines:,} | {hashed:.2f} | "
            f"{size / hashed / 1e9:.1f} | {cold:.1f} | {first:.1f} | {warm:.2f} | "
            f"{hashed / warm:.0%} | {hashed / cold:.1%} |")


def main(argv: list[str] | None = None) -> int:
    """Measure and write the section."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cache_hash", description=__doc__)
    parser.add_argument("orders", type=Path, nargs="*", help="CSV orders exports to measure")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--note", default="", help="a sentence on the conditions of the run")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    exports = list(args.orders)
    if not exports:
        out = Path(tempfile.mkdtemp(prefix="cust-hash-bench-"))
        subprocess.run([sys.executable, "-m", "cust", "sample", "--out", str(out), "-q",
                        "--customers", "400000", "--seed", "3"], check=True)
        exports = [out / "orders.csv"]
    rows = [measure(path, args.runs) for path in exports]
    lines = [
        SECTION,
        "",
        "The cache key hashes every export file whole (XXH3-128 from `xxhash`), so an edit "
        "that keeps size and mtime is read again. Hash: the file in the page cache, best of 5. "
        "`segment buckets` cold (`--no-cache`), first (fills the cache) and warm: median of "
        f"{args.runs}, each a fresh process. {args.note}".rstrip(),
        "",
        "| export | MB | lines | hash s | hash GB/s | cold s | first s | warm s "
        "| hash / warm | hash / cold |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    write_section(args.results, SECTION, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
