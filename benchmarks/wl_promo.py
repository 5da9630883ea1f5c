"""Workloads ``promo one`` and ``promo sweep``: static 满减 figures, cust against DuckDB.

One scenario (满5000减500) and a sweep of 20 thresholds (500 to 10000) with the same reward.
Figures per threshold: qualifying orders and subsidy cost (cents), plus revenue.
"""

from __future__ import annotations

from pathlib import Path

from .workloads import _duck_source, _inputs

SWEEP = [500.0 * i for i in range(1, 21)]


def _cust(path: Path, thresholds: list[float]) -> tuple[list[tuple], int]:
    from cust.pipelines.promo import Scenario, simulate

    result = simulate(
        _inputs(path), [Scenario(threshold=x, reward_amount=500) for x in thresholds]
    )
    figures = sorted(
        (s["scenario"]["threshold"], s["qualifying_orders"], s["subsidy_cost"],
         s["revenue_before"])
        for s in result.scenarios
    )
    return figures, result.input.sources["orders"].rows_read


def _duck(path: Path, thresholds: list[float]) -> tuple[list[tuple], int]:
    import duckdb

    src = _duck_source(path)
    values = ", ".join(f"({x})" for x in thresholds)
    rows = duckdb.sql(f"""
        with o as (
            select order_id, sum(amount) as v from {src} where status = 'paid' group by order_id
        ), t(x) as (values {values}),
        tot as (select round(sum(v), 2) as revenue from o)
        select cast(t.x as double), count(*) filter (where o.v >= t.x),
               round(sum(case when o.v >= t.x then least(500, o.v) else 0 end), 2),
               any_value(tot.revenue)
        from t cross join o cross join tot group by t.x
    """).fetchall()
    return sorted(tuple(r) for r in rows), 0


def cust_one(path: Path) -> tuple[list[tuple], int]:
    """cust promo simulate --threshold 5000 --reward-amount 500."""
    return _cust(path, [5000.0])


def duck_one(path: Path) -> tuple[list[tuple], int]:
    """The same static figures in DuckDB SQL."""
    return _duck(path, [5000.0])


def cust_sweep(path: Path) -> tuple[list[tuple], int]:
    """cust promo simulate --sweep 500:10000:500 --reward-amount 500."""
    return _cust(path, SWEEP)


def duck_sweep(path: Path) -> tuple[list[tuple], int]:
    """The same sweep in DuckDB SQL (a cross join with the thresholds)."""
    return _duck(path, SWEEP)


WORKLOADS = {"promo one": (cust_one, duck_one), "promo sweep": (cust_sweep, duck_sweep)}
CHECKED = {"promo one", "promo sweep"}
