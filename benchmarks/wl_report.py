"""Workload ``report weekly``: the whole weekly report (every section and chart).

Its figures are the edition's headline: week start, orders, customers, new customers,
revenue and gross profit, which DuckDB computes for the same ISO week on its own (the
default edition: the last complete week of the orders; the week of the last order when
no complete week holds an order).
"""

from __future__ import annotations

from pathlib import Path

from .workloads import _duck_source, cache


def cust_report(path: Path) -> tuple[list[tuple], int]:
    """Build and render the weekly report on the orders and the exports beside them."""
    from cust.pipelines.io import Inputs, LoadOptions
    from cust.pipelines.settings import Config
    from cust.reports.html import render_weekly
    from cust.reports.weekly import build

    paths = {"orders": str(path)}
    for name in ("events", "prices", "customers"):
        if (path.parent / f"{name}.parquet").exists():
            paths[name] = str(path.parent / f"{name}.parquet")
    report = build(Inputs(paths, LoadOptions(), cache()), Config())
    render_weekly(report)
    rows = {r["metric"]: r["current"] for r in report.headline}
    gross_profit = rows["gross_profit"]
    figures = [(str(report.edition.start), int(rows["orders"]), int(rows["customers"]),
                int(rows["new_customers"]), round(rows["revenue"], 2),
                None if gross_profit is None else round(gross_profit, 2))]
    return figures, report.input.sources["orders"].rows_read


def duck_report(path: Path) -> tuple[list[tuple], int]:
    """The headline of the report's ISO week in DuckDB SQL."""
    import duckdb

    src = _duck_source(path)
    row = duckdb.sql(f"""
        with o as (
            select order_id, any_value(customer_id) as c,
                   min(cast(order_time as timestamp)) as t, round(sum(amount), 2) as v,
                   round(sum(amount - cost), 2) as gp
            from {src} where coalesce(status, 'paid') = 'paid' group by order_id
        ), firsts as (select c, min(t) as first_t from o group by c),
        last as (select cast(max(t) as date) as d, cast(min(t) as date) as f from o),
        complete as (
            select case when isodow(d) = 7 then date_trunc('week', d)
                        else date_trunc('week', d) - interval 7 day end as start, d, f
            from last
        ),
        week as (  -- no complete week with orders: the week of the last order
            select case when start + interval 6 day < f then date_trunc('week', d)
                        else start end as start from complete
        )
        select strftime(week.start, '%Y-%m-%d'), count(*), count(distinct o.c),
               count(distinct o.c) filter (where firsts.first_t >= week.start
                                           and firsts.first_t < week.start + interval 7 day),
               round(sum(v), 2), round(sum(gp), 2)
        from o join firsts using (c), week
        where o.t >= week.start and o.t < week.start + interval 7 day
        group by week.start
    """).fetchall()
    return [tuple(r) for r in row], 0


WORKLOADS = {"report weekly": (cust_report, duck_report)}
CHECKED = {"report weekly"}
