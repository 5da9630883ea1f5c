"""Workload ``segment rfm``: scores and segments of every customer, cust against DuckDB.

Figures: customers and revenue per (R, F, M) score cell (125 cells at most), then customers
per named segment. DuckDB ranks with ``rank()`` (ties share the lowest rank, as the module
doc of ``cust.pipelines.segment.rfm`` defines) and maps scores to segments with a CASE built
from the default rules' ranges, so only the rule table is shared, not the computation.
"""

from __future__ import annotations

from pathlib import Path

from .workloads import _duck_source, _inputs


def cust_rfm(path: Path) -> tuple[list[tuple], int]:
    """cust segment rfm with default options (monetary = order value)."""
    import polars as pl

    from cust.pipelines.segment import rfm_segments

    result = rfm_segments(_inputs(path))
    cells = (
        result.members.group_by("r_score", "f_score", "m_score")
        .agg(pl.len(), pl.col("revenue").sum().round(2))
        .sort("r_score", "f_score", "m_score")
    )
    segments = result.members.group_by("segment").agg(pl.len()).sort("segment")
    figures = [tuple(r) for r in cells.iter_rows()] + [tuple(r) for r in segments.iter_rows()]
    return figures, result.input.sources["orders"].rows_read


def duck_rfm(path: Path) -> tuple[list[tuple], int]:
    """The same scores in DuckDB SQL."""
    import duckdb

    from cust.pipelines.segment import DEFAULT_RULES

    src = _duck_source(path)
    case = " ".join(
        f"when r_score between {r.r[0]} and {r.r[1]} and f_score between {r.f[0]} and {r.f[1]} "
        f"then '{r.segment}'"
        for r in DEFAULT_RULES
    )
    con = duckdb.connect()
    con.sql(f"""
        create temp table scored as
        with o as (
            select order_id, any_value(customer_id) as customer_id,
                   cast(min(cast(order_time as timestamp)) as date) as day,
                   round(sum(amount), 2) as value
            from {src} where status = 'paid' group by order_id
        ), c as (
            select customer_id, max(day) as last_day, count(*) as orders, sum(value) as revenue
            from o group by customer_id
        ), m as (
            select *, date_diff('day', last_day, max(last_day) over ()) as days,
                   count(*) over () as n from c
        )
        select *,
            (5 * rank() over (order by days desc) + n - 1) // n as r_score,
            (5 * rank() over (order by orders) + n - 1) // n as f_score,
            (5 * rank() over (order by round(revenue, 2)) + n - 1) // n as m_score
        from m
    """)
    cells = con.sql("""
        select r_score, f_score, m_score, count(*), round(sum(revenue), 2) from scored
        group by all order by all
    """).fetchall()
    segments = con.sql(f"""
        select case {case} else 'other' end as segment, count(*) from scored
        group by all order by all
    """).fetchall()
    return [tuple(r) for r in cells] + [tuple(r) for r in segments], 0


WORKLOADS = {"segment rfm": (cust_rfm, duck_rfm)}
CHECKED = {"segment rfm"}
