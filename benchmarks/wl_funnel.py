"""Workloads ``funnel`` and ``funnel drift``: session funnel counts, cust against DuckDB.

Figures: units entering each of product_view -> add_to_cart -> purchase (sessions from
``session_id``), per day for the drift workload. Reads ``events.parquet`` next to the orders.
"""

from __future__ import annotations

from pathlib import Path

STEPS = ("product_view", "add_to_cart", "purchase")


def _events(path: Path) -> Path:
    events = path.parent / "events.parquet"
    if not events.exists():
        msg = f"no events.parquet next to {path}"
        raise FileNotFoundError(msg)
    return events


def _cust(path: Path, drift: bool) -> tuple[list[tuple], int]:
    from cust.pipelines.funnel import DriftSpec, FunnelSpec, funnel
    from cust.pipelines.io import Inputs, LoadOptions

    inputs = Inputs({"events": str(_events(path))}, LoadOptions())
    result = funnel(inputs, FunnelSpec(steps=STEPS), drift=DriftSpec() if drift else None)
    if drift:
        figures = [tuple([str(r["period"]), *(r[f"entered_{k}"] for k in (1, 2, 3))])
                   for r in result.periods.iter_rows(named=True)]
    else:
        figures = [tuple(result.steps["entered"].to_list())]
    return figures, result.input.sources["events"].rows_read


def _duck(path: Path, drift: bool) -> tuple[list[tuple], int]:
    import duckdb

    src = f"read_parquet('{_events(path)}')"
    con = duckdb.connect()
    con.sql(f"""
        create temp table f as
        with e as (
            select user_id || chr(31) || session_id as u, event, event_time from {src}
            where event in ('product_view', 'add_to_cart', 'purchase')
        ),
        s1 as (select u, min(event_time) t1 from e where event = 'product_view' group by u),
        s2 as (select s1.u, min(e.event_time) t2 from s1 join e on e.u = s1.u
               and e.event = 'add_to_cart' and e.event_time >= s1.t1 group by s1.u),
        s3 as (select s2.u, min(e.event_time) t3 from s2 join e on e.u = s2.u
               and e.event = 'purchase' and e.event_time >= s2.t2 group by s2.u)
        select s1.u, cast(s1.t1 as date) as d, s2.t2, s3.t3
        from s1 left join s2 using (u) left join s3 using (u)
    """)
    if drift:
        rows = con.sql("""
            select strftime(d, '%Y-%m-%d'), count(*), count(t2), count(t3) from f
            group by d order by d
        """).fetchall()
    else:
        rows = con.sql("select count(*), count(t2), count(t3) from f").fetchall()
    return [tuple(r) for r in rows], 0


def cust_funnel(path: Path) -> tuple[list[tuple], int]:
    """cust funnel (sessions, default steps)."""
    return _cust(path, drift=False)


def duck_funnel(path: Path) -> tuple[list[tuple], int]:
    """The same ordered funnel in DuckDB SQL."""
    return _duck(path, drift=False)


def cust_drift(path: Path) -> tuple[list[tuple], int]:
    """cust funnel --drift (daily counts and the drift tests)."""
    return _cust(path, drift=True)


def duck_drift(path: Path) -> tuple[list[tuple], int]:
    """The daily counts in DuckDB SQL (the tests themselves are not in SQL)."""
    return _duck(path, drift=True)


WORKLOADS = {"funnel": (cust_funnel, duck_funnel), "funnel drift": (cust_drift, duck_drift)}
CHECKED = {"funnel", "funnel drift"}
