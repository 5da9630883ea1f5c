"""Workload ``cohort``: the monthly retention matrix, cust against DuckDB SQL.

Figures: (cohort, period index, active customers) for every non-empty cell.
"""

from __future__ import annotations

from pathlib import Path

from .workloads import _duck_source, _inputs


def cust_cohort(path: Path) -> tuple[list[tuple], int]:
    """cust cohort with default options (monthly cohorts)."""
    from cust.pipelines.cohort import cohort_retention

    result = cohort_retention(_inputs(path))
    figures = sorted(
        (c["cohort"], k, a)
        for c in result.to_json()["cohorts"]
        for k, a in enumerate(c["active"])
        if a
    )
    return figures, result.input.sources["orders"].rows_read


def duck_cohort(path: Path) -> tuple[list[tuple], int]:
    """First paid order per customer, month difference, distinct customers per cell."""
    import duckdb

    src = _duck_source(path)
    rows = duckdb.sql(f"""
        with o as (
            select customer_id, min(cast(order_time as timestamp)) as t from {src}
            where status = 'paid' group by order_id, customer_id
        ), f as (select customer_id, date_trunc('month', min(t)) as c from o group by 1)
        select strftime(f.c, '%Y-%m'), datediff('month', f.c, date_trunc('month', o.t)),
               count(distinct o.customer_id)
        from o join f using (customer_id) group by all
    """).fetchall()
    return sorted((c, int(k), int(n)) for c, k, n in rows), 0


WORKLOADS = {"cohort": (cust_cohort, duck_cohort)}
CHECKED = {"cohort"}
