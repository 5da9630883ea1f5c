"""``cust cohort``: new-customer retention and whether the first-order offer pays back."""

from typing import Annotated

import typer

from .choices import CohortPeriod, Metric, Offer, Split
from .common import run
from .main import app
from .options import GlobalOptions, command


@command(app, "cohort")
def cohort(
    g: GlobalOptions,
    period: Annotated[CohortPeriod, typer.Option(
        "--period", help="Cohorts by calendar 'month' or ISO 'week'.")] = CohortPeriod.month,
    max_periods: Annotated[int | None, typer.Option(
        "--max-periods", help="Show at most this many periods per cohort.",
        show_default=False)] = None,
    metric: Annotated[Metric, typer.Option(
        "--metric", help="Also give 'revenue' or 'gross_profit' per period.",
        metavar="<metric>")] = (
        Metric.customers),
    cumulative: Annotated[bool, typer.Option(
        "--cumulative", help="Active = ordered in the period or later ('on or after').",
    )] = False,
    split: Annotated[Split | None, typer.Option(
        "--split", help="Retention per group: promo, channel, customer_type or industry.",
        metavar="<group>",
        show_default=False)] = None,
    offer: Annotated[Offer | None, typer.Option(
        "--offer", help="Who took the offer: first order with the first_order 'promo', "
        "with a 'discount', or 'either' \\[default: offer in the cohort table of cust.toml, "
        "else promo when the export has one].",
        show_default=False)] = None,
) -> None:
    """Retention of new customers by cohort (period of their first paid order).

    Shows active customers and retention per period index (* marks a period not complete
    by the analysis date), the share of one-order customers, days to the second order, and
    whether the first-order offer pays back: per cohort, offer customers split into one-order
    bargain hunters and repeat customers, the offer's cost (discounts on first orders), the
    gross profit of their later orders, the payback ratio and the payback period.

    Example: cust cohort --period month --max-periods 12 --split promo
    """
    from cust.pipelines.cohort import cohort_retention

    span = g.period()
    run(g, lambda inputs, config: cohort_retention(
        inputs, period=span, unit=str(period), max_periods=max_periods,
        metric=str(metric), cumulative=cumulative, split=split and str(split),
        offer=offer and str(offer), config=config))
