"""``cust segment rfm``: recency / frequency / monetary scores and named segments."""

from typing import Annotated

import typer

from .choices import Monetary
from .common import run
from .options import GlobalOptions, command
from .segment import segment_app


@command(segment_app, "rfm")
def rfm(
    g: GlobalOptions,
    monetary: Annotated[
        Monetary,
        typer.Option(
            "--monetary",
            help="M measure: total order value, or total gross profit (needs cost).",
            case_sensitive=False,
        ),
    ] = Monetary.value,
) -> None:
    r"""Score customers 1-5 on recency, frequency and monetary value, and name their segments.

    Scores are quantiles of rank; tied customers share the lower score.

    Segments follow (R, F) rules, first match wins; override them in cust.toml \[rfm.segments].

    --format csv and --out members.csv (or .parquet) write the member list, one row per customer.

    Example: cust segment rfm --as-of 2026-03-31 --monetary gross_profit --out members.csv
    """
    from cust.pipelines.segment import rfm_segments, rules_from_config

    period = g.period()
    run(
        g,
        lambda inputs, config: rfm_segments(
            inputs,
            period=period,
            monetary=monetary.value,
            rules=rules_from_config(config),
        ),
    )
