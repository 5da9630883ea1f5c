"""``cust clv``: who will buy again, what each customer is worth, which B customers become A."""

from typing import Annotated

import typer

from .choices import TimeUnit
from .common import run
from .main import app
from .options import GlobalOptions, _date, command


@command(app, "clv")
def clv(
    g: GlobalOptions,
    time_unit: Annotated[TimeUnit, typer.Option(
        "--time-unit", help="Unit of frequency, recency and T.")] = TimeUnit.week,
    horizon: Annotated[str, typer.Option(
        "--horizon", help="How far ahead to value customers: 52w, 12m, 365d, 1y.")] = "52w",
    discount_rate: Annotated[float, typer.Option(
        "--discount-rate", help="Yearly discount rate of future gross profit.")] = 0.10,
    holdout_until: Annotated[str | None, typer.Option(
        "--holdout-until", help="Check the fit: predicted against actual repeat purchases "
        "from --as-of to this date (YYYY-MM-DD).", show_default=False)] = None,
    at_risk_below: Annotated[float, typer.Option(
        "--at-risk-below", help="p_alive under which an A customer is at risk.")] = 0.5,
    top: Annotated[int, typer.Option(
        "--top", help="Length of the B-to-A and at-risk lists.", min=1)] = 20,
) -> None:
    """Expected purchases, p_alive and lifetime value per customer (BG/NBD + Gamma-Gamma).

    Fits the models on paid orders up to --as-of (default: the last order's day); shows
    the value by ABC class and RFM segment, the B customers on their way to A, and the
    valuable customers slipping away. --out members.csv writes one row per customer.

    Example: cust clv --as-of 2026-06-30 --holdout-until 2026-10-31 --horizon 52w
    """
    from cust.pipelines.clv import ClvSpec, parse_horizon
    from cust.pipelines.clv import clv as value

    spec = ClvSpec(time_unit=str(time_unit), horizon_days=parse_horizon(horizon),
                   discount_rate=discount_rate, holdout_until=_date(holdout_until),
                   at_risk_below=at_risk_below, top=top)
    period = g.period()
    run(g, lambda inputs, _config: value(inputs, spec, period=period))
