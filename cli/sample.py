"""``cust sample``: write a fresh, realistic sample data set of any size."""

from pathlib import Path
from typing import Annotated

import typer

from .main import app

SCALE_CUSTOMERS = 1_000_000


@app.command("sample")
def sample(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")] = Path(
        "cust-sample"
    ),
    customers: Annotated[
        int | None,
        typer.Option(
            "--customers",
            min=1,
            help="Number of customers \\[default: 3000, or 1,000,000 with --scale].",
            show_default=False,
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=7, help="Days of history.")] = 365,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, help="Random seed, 0 or more (same seed, same files).")] = 7,
    scale: Annotated[
        bool,
        typer.Option(
            "--scale",
            help="Benchmark size: 1M customers, ~10M order lines, ~50M events, Parquet.",
        ),
    ] = False,
    parquet: Annotated[
        bool,
        typer.Option(
            "--parquet",
            help="Write orders, customers and prices as Parquet (always with --scale).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write a realistic sample data set (orders, customers, events, prices).

    Order values are heavy-tailed (most orders under 50 yuan, rare ones above 5000),
    first-order offers bring many one-order customers, and the click-stream hides a
    conversion drop in one category after a price rise.

    Example: cust sample --out /tmp/shop --customers 20000 --days 730 --seed 1
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cust.sample_data.generator import generate

    from .options import refuse_blank
    from .output import stderr

    refuse_blank(ctx, {"out": out})

    n = customers or (SCALE_CUSTOMERS if scale else 3000)
    fmt = "parquet" if (scale or parquet) else "csv"
    if out.exists() and not out.is_dir():
        from .output import fail

        fail(f"--out {out} exists and is not a directory\nHint: name a new or existing directory")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=stderr(),
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("generating", total=1.0)

        def report(stage: str, fraction: float) -> None:
            progress.update(task, description=stage, completed=fraction)

        summary = generate(out, customers=n, days=days, seed=seed, fmt=fmt, progress=report)
    if not quiet:
        stderr().print(
            f"wrote {summary.order_lines:,} order lines ({summary.orders:,} orders), "
            f"{summary.customers:,} customers, {summary.events:,} events and "
            f"{summary.price_changes:,} price changes, {summary.start} to {summary.end}, "
            f"into {summary.out_dir}"
        )
    for name, path in summary.files.items():
        typer.echo(f"{name}\t{path}")
