"""Run one side of one workload in this process and print time, peak memory and figures."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from .workloads import WORKLOADS


def main() -> None:
    """``python -m benchmarks.worker WORKLOAD SIDE FILE``."""
    workload, side, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    if side == "duckdb":
        import duckdb  # noqa: F401 - import outside the timing, like cust's imports

        fn = WORKLOADS[workload][1]
    else:
        import polars  # noqa: F401

        import cust.pipelines.io.inputs  # noqa: F401

        fn = WORKLOADS[workload][0]
    start = time.perf_counter()
    try:
        figures, rows = fn(path)
    except FileNotFoundError as exc:  # a workload whose input is not in this data set
        print(json.dumps({"skipped": str(exc)}))
        return
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "peak_mb": peak_mb, "rows": rows, "figures": figures}, default=str
        )
    )


if __name__ == "__main__":
    main()
