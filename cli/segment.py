"""``cust segment``: order-value bands, ABC classes, RFM segments, customer profiles."""

from typing import Annotated

import typer

from .choices import Method, Trend
from .common import run
from .main import app
from .options import GlobalOptions, command

segment_app = typer.Typer(
    help="Who buys what: order-value bands, ABC classes, RFM segments, profiles.\n\n"
    "Example: cust segment rfm --as-of 2026-10-31",
    no_args_is_help=True,
)
app.add_typer(segment_app, name="segment")


@command(segment_app, "buckets")
def buckets(
    g: GlobalOptions,
    edges: Annotated[str, typer.Option(
        "--edges", help="Band edges in yuan; the last band is open.")] = "0,50,100,500,1000,5000",
    trend: Annotated[Trend | None, typer.Option(
        "--trend", help="Also show the band mix per 'month' or 'week', with its change.",
        show_default=False)] = None,
) -> None:
    """Spread orders, customers, revenue and gross profit over order-value bands.

    A band holds the orders with lower <= value < upper; shares are of all banded orders.

    Example: cust segment buckets --edges 0,50,100,500,1000,5000 --trend month
    """
    from cust.pipelines.segment import bucket_orders, parse_edges

    parsed = parse_edges(edges)
    run(g, lambda inputs, _cfg: bucket_orders(
        inputs, edges=parsed, period=g.period(), trend=trend and str(trend)))


@command(segment_app, "abc")
def abc(
    g: GlobalOptions,
    method: Annotated[Method, typer.Option(
        "--method", help="'share': by cumulative share of contribution; 'rank': by rank.",
    )] = Method.share,
    cutoffs: Annotated[str, typer.Option(
        "--cutoffs", help="Cumulative shares closing A and B (method share).")] = "0.8,0.95",
    ranks: Annotated[str, typer.Option(
        "--ranks", help="Shares of customers closing A and B (method rank).")] = "0.2,0.5",
    weight: Annotated[str | None, typer.Option(
        "--weight", help="Rank by a weighted score of factors, e.g. gross_profit=0.6,orders=0.4 "
        "(factors: gross_profit, revenue, orders, recency, margin).",
        show_default=False)] = None,
    subtract_discounts: Annotated[bool, typer.Option(
        "--subtract-discounts",
        help="Also subtract the discount column (when amount is before the shop's subsidy).",
    )] = False,
    growth_days: Annotated[int, typer.Option(
        "--growth-days", help="Window for B-to-A growth: last N days vs the N before.")] = 90,
    min_orders: Annotated[int, typer.Option(
        "--min-orders", help="B-to-A candidates need at least this many orders, the "
        "first at least --growth-days before the analysis date (no brand-new customers).",
    )] = 2,
) -> None:
    """Class customers A/B/C by profit contribution (Pareto); list loss-making customers.

    --out members.csv (or .parquet) writes one row per customer for the sales team. "B to
    A candidates" are the fastest-growing B customers with a history: at least --min-orders
    orders, the first at least --growth-days before the analysis date.

    Example: cust segment abc --cutoffs 0.8,0.95 --out members.csv
    """
    from cust.pipelines.segment import classify_customers, parse_pair, parse_weights

    cut, rk = parse_pair(cutoffs, "--cutoffs"), parse_pair(ranks, "--ranks")
    weights = parse_weights(weight) if weight else None
    run(g, lambda inputs, _cfg: classify_customers(
        inputs, period=g.period(), method=str(method), cutoffs=cut, ranks=rk, weights=weights,
        subtract_discounts=subtract_discounts, growth_days=growth_days, min_orders=min_orders))
