"""Workloads ``cohort`` and ``cohort payback``: cust cohort against DuckDB SQL.

``cohort`` figures: (cohort, period index, active customers) for every non-empty cell of the
monthly retention matrix. ``cohort payback`` figures: per monthly cohort and offer group
(first paid order with the ``first_order`` promo or not): customers, one-order customers,
the offer's cost, the gross profit of the later orders to date, and the payback period
(-1 while the offer has not paid back; -1 for the non-offer group).
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


PAYBACK_COLUMNS = ("cost", "discount", "promo")


def _require_offer_columns(path: Path) -> None:
    """Skip (FileNotFoundError) a data set without cost, discount and promo columns."""
    import polars as pl

    if path.suffix == ".parquet":
        names = set(pl.read_parquet_schema(path))
    else:
        names = set(pl.read_csv(path, n_rows=0, infer_schema=False).columns)
    missing = [c for c in PAYBACK_COLUMNS if c not in names]
    if missing:
        msg = f"{path} has no {', '.join(missing)} column: no offer payback to compare"
        raise FileNotFoundError(msg)


def cust_payback(path: Path) -> tuple[list[tuple], int]:
    """cust cohort's payback rows (monthly cohorts, offer = first_order promo)."""
    from cust.pipelines.cohort import cohort_retention

    _require_offer_columns(path)
    result = cohort_retention(_inputs(path), offer="promo")
    figures = sorted(
        (
            p["cohort"], p["group"], p["customers"], p["one_order_customers"],
            round(p["offer_cost"], 2), round(p["repeat_gross_profit_to_date"], 2),
            -1 if p["payback_period"] is None else p["payback_period"],
        )
        for p in result.payback
    )
    return figures, result.input.sources["orders"].rows_read


def duck_payback(path: Path) -> tuple[list[tuple], int]:
    """Orders, numbered per customer; later orders' cumulative gross profit per month."""
    import duckdb

    _require_offer_columns(path)
    src = _duck_source(path)
    rows = duckdb.sql(f"""
        with o as (
            select order_id, any_value(customer_id) as customer_id,
                   min(cast(order_time as timestamp)) as t,
                   round(sum(amount - cost), 2) as gp, round(sum(discount), 2) as disc,
                   coalesce(bool_or(promo = 'first_order'), false) as p
            from {src} where status = 'paid' group by order_id
        ), r as (
            select *, row_number() over (partition by customer_id order by t, order_id) as n,
                   count(*) over (partition by customer_id) as orders
            from o
        ), f as (
            select customer_id, date_trunc('month', t) as c,
                   case when p then 'offer' else 'no_offer' end as g,
                   case when p then disc else 0 end as cost, orders
            from r where n = 1
        ), s as (
            select c, g, count(*) as customers, count(*) filter (where orders = 1) as one,
                   round(sum(cost), 2) as cost
            from f group by all
        ), k as (
            select f.c, f.g, datediff('month', f.c, date_trunc('month', r.t)) as k,
                   sum(r.gp) as gp
            from r join f using (customer_id) where r.n > 1 group by all
        ), cum as (
            select c, g, k, round(sum(gp) over (partition by c, g order by k), 2) as running
            from k
        ), pay as (
            select s.c, s.g, min(cum.k) as k from s join cum using (c, g)
            where cum.running >= s.cost group by all
        )
        select strftime(s.c, '%Y-%m'), s.g, s.customers, s.one, s.cost,
               round(coalesce((select sum(gp) from k where k.c = s.c and k.g = s.g), 0), 2),
               case when s.g <> 'offer' then -1 when s.cost <= 0 then 0
                    else coalesce(pay.k, -1) end
        from s left join pay using (c, g)
    """).fetchall()
    return sorted(
        (c, g, int(n), int(one), float(cost), float(gp), int(k))
        for c, g, n, one, cost, gp, k in rows
    ), 0


WORKLOADS = {"cohort": (cust_cohort, duck_cohort), "cohort payback": (cust_payback, duck_payback)}
CHECKED = {"cohort", "cohort payback"}
