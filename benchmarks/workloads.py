"""Workloads: each has a cust side and a DuckDB side that compute the same figures.

Every function takes the data directory and returns ``(figures, rows)``: ``figures`` is a
list of plain tuples compared between the two sides (money rounded to the cent), ``rows``
the number of input rows processed (0 on the DuckDB side, which does not count them, so
that no extra scan is timed; the runner reports the cust side's count).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

EDGES = (0, 50, 100, 500, 1000, 5000)


def orders_file(data: Path) -> Path:
    """The orders export in ``data`` (Parquet preferred)."""
    for name in ("orders.parquet", "orders.csv", "orders.csv.gz"):
        if (data / name).exists():
            return data / name
    msg = f"no orders file in {data}"
    raise FileNotFoundError(msg)


def cache():
    """The orders cache of this run: ``$CUST_BENCH_CACHE`` (set by the runner), else none."""
    import os

    from cust.pipelines.io import Cache

    where = os.environ.get(CACHE_ENV)
    return Cache(Path(where)) if where else None


CACHE_ENV = "CUST_BENCH_CACHE"


def _inputs(path: Path):
    from cust.pipelines.io import Inputs, LoadOptions

    return Inputs({"orders": str(path)}, LoadOptions(), cache())


# -- load ------------------------------------------------------------------------------------


def cust_load(path: Path) -> tuple[list[tuple], int]:
    """Scan, parse and validate every line; count read and rejected rows."""
    from cust.pipelines.io import collect

    source = _inputs(path).get("orders")
    _, report = collect([], [source])
    rep = report.sources["orders"]
    return [(rep.rows_read, rep.rows_rejected)], rep.rows_read


def duck_load(path: Path) -> tuple[list[tuple], int]:
    """DuckDB reads the file and counts rows failing the same basic checks."""
    import duckdb

    src = _duck_source(path)
    row = duckdb.sql(f"""
        select count(*),
               count(*) filter (where order_id is null or customer_id is null
                                or try_cast(order_time as timestamp) is null
                                or try_cast(amount as double) is null)
        from {src}
    """).fetchall()[0]
    return [(int(row[0]), int(row[1]))], int(row[0])


# -- segment buckets ---------------------------------------------------------------------------


def cust_buckets(path: Path) -> tuple[list[tuple], int]:
    """cust segment buckets with the default edges."""
    from cust.pipelines.segment import bucket_orders

    result = bucket_orders(_inputs(path), edges=tuple(float(e) for e in EDGES))
    figures = [
        (i, r["orders"], r["customers"], round(r["revenue"], 2), round(r["gross_profit"], 2))
        for i, r in enumerate(result.buckets.to_dicts())
    ]
    return figures, result.input.sources["orders"].rows_read


def duck_buckets(path: Path) -> tuple[list[tuple], int]:
    """The same bands in DuckDB SQL."""
    import duckdb

    src = _duck_source(path)
    case = " ".join(f"when value >= {e} then {i}" for i, e in reversed(list(enumerate(EDGES))))
    rows = duckdb.sql(f"""
        with o as (
            select order_id, any_value(customer_id) as customer_id, round(sum(amount), 2) as value,
                   round(sum(amount - cost), 2) as gp
            from {src} where status = 'paid' group by order_id
        ), b as (select *, case {case} end as band from o)
        select band, count(*), count(distinct customer_id), round(sum(value), 2), round(sum(gp), 2)
        from b where band is not null group by band order by band
    """).fetchall()
    return _fill_bands(rows), 0


def _fill_bands(rows: list[tuple]) -> list[tuple]:
    got = {r[0]: r for r in rows}
    return [tuple(got.get(i, (i, 0, 0, 0.0, 0.0))) for i in range(len(EDGES))]


# -- segment abc -------------------------------------------------------------------------------


def cust_abc(path: Path) -> tuple[list[tuple], int]:
    """cust segment abc (share method, 0.8/0.95): customers and value per class."""
    from cust.pipelines.segment import classify_customers

    result = classify_customers(_inputs(path))
    figures = [
        (r["class"], r["customers"], round(r["value"], 2)) for r in result.classes.to_dicts()
    ]
    figures.append(("loss", result.loss_making["customers"], result.loss_making["value"]))
    return figures, result.input.sources["orders"].rows_read


def duck_abc(path: Path) -> tuple[list[tuple], int]:
    """The same classes in DuckDB SQL (window cumulative share)."""
    import duckdb

    src = _duck_source(path)
    rows = duckdb.sql(f"""
        with c as (
            select customer_id, round(sum(amount - cost), 2) as v from {src}
            where status = 'paid' group by customer_id
        ), r as (
            select v, coalesce(sum(v) over (order by v desc, customer_id rows between
                   unbounded preceding and 1 preceding), 0) / sum(v) over () as before
            from c where v >= 0
        ), k as (
            select case when before < 0.8 then 'A' when before < 0.95 then 'B' else 'C' end
                   as cls, v from r
            union all select 'loss', v from c where v < 0
        )
        select cls, count(*), round(sum(v), 2) from k group by cls order by cls
    """).fetchall()
    return [tuple(r) for r in rows], 0


def _duck_source(path: Path) -> str:
    if path.is_dir():  # a folder of Parquet exports (the incremental benchmark)
        return f"read_parquet('{path}/*.parquet')"
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header=true, all_varchar=false)"


WORKLOADS: dict[str, tuple[Callable, Callable]] = {
    "load": (cust_load, duck_load),
    "segment buckets": (cust_buckets, duck_buckets),
    "segment abc": (cust_abc, duck_abc),
}
# Workloads whose figures must match exactly between the two sides.
CHECKED = {"segment buckets", "segment abc"}
# Workloads that read the orders through the cache (:func:`cache`), so that their first and
# warm runs differ from the cold one. ``load`` measures parsing and validating every line,
# which a filled cache skips, so it has no cached sides.
CACHED = {
    "segment buckets", "segment abc", "segment rfm", "cohort", "cohort payback", "promo one",
    "promo sweep", "report weekly",
}


def _register_modules() -> None:
    """Add the workloads of every ``benchmarks/wl_*.py`` module (one per command)."""
    import importlib
    import pkgutil

    package = Path(__file__).resolve().parent
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: m.name):
        if info.name.startswith("wl_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            WORKLOADS.update(module.WORKLOADS)
            CHECKED.update(module.CHECKED)


_register_modules()
