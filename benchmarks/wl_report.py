"""Workload ``report weekly``: the whole weekly report (every section and chart).

Its figures are the headline order counts and revenue of the edition, which DuckDB
computes for the same ISO week.
"""

from __future__ import annotations

from pathlib import Path

from .workloads import _duck_source


def cust_report(path: Path) -> tuple[list[tuple], int]:
    """Build and render the weekly report on the orders and the events beside them."""
    from cust.pipelines.config import Config
    from cust.pipelines.inputs import Inputs
    from cust.pipelines.loader import LoadOptions
    from cust.reports.html import render_weekly
    from cust.reports.weekly import build

    paths = {"orders": str(path)}
    for name in ("events", "prices", "customers"):
        if (path.parent / f"{name}.parquet").exists():
            paths[name] = str(path.parent / f"{name}.parquet")
    report = build(Inputs(paths, LoadOptions()), Config())
    render_weekly(report)
    rows = {r["metric"]: r["current"] for r in report.headline}
    figures = [(str(report.edition.start), int(rows["orders"]), round(rows["revenue"], 2))]
    return figures, report.input.sources["orders"].rows_read


def duck_report(path: Path) -> tuple[list[tuple], int]:
    """Orders and revenue of the report's ISO week in DuckDB SQL."""
    import duckdb

    src = _duck_source(path)
    row = duckdb.sql(f"""
        with o as (
            select order_id, min(cast(order_time as timestamp)) as t, sum(amount) as v
            from {src} where status = 'paid' group by order_id
        ), last as (select cast(max(t) as date) as d, cast(min(t) as date) as f from o),
        complete as (
            select case when isodow(d) = 7 then date_trunc('week', d)
                        else date_trunc('week', d) - interval 7 day end as start, d, f
            from last
        ),
        week as (  -- no complete week with orders: the week of the last order
            select case when start + interval 6 day < f then date_trunc('week', d)
                        else start end as start from complete
        )
        select strftime(week.start, '%Y-%m-%d'), count(*), round(sum(v), 2)
        from o, week where o.t >= week.start and o.t < week.start + interval 7 day
        group by week.start
    """).fetchall()
    return [tuple(r) for r in row], 0


WORKLOADS = {"report weekly": (cust_report, duck_report)}
CHECKED = {"report weekly"}
