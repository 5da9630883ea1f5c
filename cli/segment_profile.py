"""``cust segment profile``: figures by customer type, role, industry, tier and channel."""

from typing import Annotated

import typer

from .common import run
from .options import GlobalOptions, command
from .segment import segment_app


@command(segment_app, "profile")
def profile(
    g: GlobalOptions,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Dimensions, comma-separated, each shown on its own: customer_type, role, "
            "industry, tier, channel \\[default: all but channel].",
            show_default=False,
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Key accounts: the top N customers by gross profit.")
    ] = 20,
    sample_min_orders: Annotated[
        int,
        typer.Option(
            "--sample-min-orders", min=1, help="Sample buyers: at least this many orders."
        ),
    ] = 3,
    sample_max_median: Annotated[
        float,
        typer.Option(
            "--sample-max-median", help="Sample buyers: median order value below this (yuan)."
        ),
    ] = 100.0,
) -> None:
    r"""Compare customers by type, role, industry, tier (levels by points) and channel.

    Per group: customers, orders, revenue, gross margin, AOV, orders per customer-month.

    Then key accounts (top N by gross profit) vs sample buyers (many small orders).

    Tier levels: cust.toml \[tiers], default regular 0, silver 1000, gold 5000, and up.

    Example: cust segment profile --orders o.csv --customers c.csv --by tier,role
    """
    from cust.pipelines.segment import parse_by, parse_ladder, profile_customers

    dims = parse_by(by) if by is not None else None
    period = g.period()

    def compute(inputs, config):
        ladder = parse_ladder(config.section("tiers"), where=config.name)
        return profile_customers(
            inputs,
            by=dims,
            period=period,
            ladder=ladder,
            top=top,
            sample_min_orders=sample_min_orders,
            sample_max_median=sample_max_median,
        )

    run(g, compute)
