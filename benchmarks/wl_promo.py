"""Workloads ``promo one`` and ``promo sweep``: static 满减 figures, cust against DuckDB.

One scenario (满5000减500) and a sweep of 20 thresholds (500 to 10000) with the same reward,
``--response none`` (the exact figures of CONTRACT.md section 3). Figures per threshold:
qualifying orders, qualifying customers, subsidy cost, revenue before and gross profit
after (money to the cent). cust evaluates the whole sweep in one plan and one collect; the
DuckDB side cross-joins the orders with the thresholds.
"""

from __future__ import annotations

from pathlib import Path

from .workloads import _duck_source, _inputs

SWEEP = [500.0 * i for i in range(1, 21)]
REWARD = 500.0


def _cust(path: Path, thresholds: list[float]) -> tuple[list[tuple], int]:
    from cust.pipelines.promo import Scenario, simulate

    result = simulate(
        _inputs(path), [Scenario(threshold=x, reward_amount=REWARD) for x in thresholds]
    )
    figures = sorted(
        (s["scenario"]["threshold"], s["qualifying_orders"], s["qualifying_customers"],
         s["subsidy_cost"], s["revenue_before"], s["gross_profit_after"])
        for s in result.scenarios
    )
    return figures, result.input.sources["orders"].rows_read


def _duck(path: Path, thresholds: list[float]) -> tuple[list[tuple], int]:
    import duckdb

    src = _duck_source(path)
    values = ", ".join(f"({x})" for x in thresholds)
    rows = duckdb.sql(f"""
        with o as (
            select order_id, any_value(customer_id) as c, round(sum(amount), 2) as v,
                   round(sum(amount - cost), 2) as gp
            from {src} where status = 'paid' group by order_id
        ), t(x) as (values {values}),
        tot as (select sum(v) as revenue, sum(gp) as gp from o),
        s as (
            select t.x, count(*) filter (where o.v >= t.x) as q,
                   count(distinct o.c) filter (where o.v >= t.x) as qc,
                   sum(case when o.v >= t.x then least({REWARD}, o.v) else 0 end) as cost
            from t cross join o group by t.x
        )
        select cast(s.x as double), s.q, s.qc, round(s.cost, 2), round(tot.revenue, 2),
               round(tot.gp - s.cost, 2)
        from s cross join tot
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
