"""``cust sample``: write a fresh, realistic sample data set of any size."""

from pathlib import Path
from typing import Annotated

import typer

from .main import app
from .options import path_value

SCALE_CUSTOMERS = 1_000_000


@app.command("sample")
def sample(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Directory to write into.", parser=path_value, metavar="DIR")] = Path(
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
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the sample files already in --out.")] = False,
) -> None:
    """Write a realistic sample data set (orders, customers, events, prices).

    Order values are heavy-tailed (most orders under 50 yuan, rare ones above 5000),
    first-order offers bring many one-order customers, and the click-stream hides a
    conversion drop in one category after a price rise.

    Example: cust sample --out /tmp/shop --customers 20000 --days 730 --seed 1
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cust.pipelines.text import printable
    from cust.sample_data.generator import generate

    from .options import refuse_blank
    from .output import say, stderr, stdout_errors

    refuse_blank(ctx, {"out": out})

    n = customers or (SCALE_CUSTOMERS if scale else 3000)
    fmt = "parquet" if (scale or parquet) else "csv"
    check_sample_dir(out, fmt, force=force)
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

        summary, files = generate_into(
            out, lambda where: generate(
                where, customers=n, days=days, seed=seed, fmt=fmt, progress=report))
    if not quiet:
        say(
            f"wrote {summary.order_lines:,} order lines ({summary.orders:,} orders), "
            f"{summary.customers:,} customers, {summary.events:,} events and "
            f"{summary.price_changes:,} price changes, {summary.start} to {summary.end}, "
            f"into {printable(str(out))}"
        )
    with stdout_errors():
        for name, path in files.items():
            typer.echo(f"{name}\t{path}")


def sample_files(fmt: str) -> list[str]:
    """The names ``cust sample`` writes in the format ``fmt`` ("csv" or "parquet")."""
    return [f"orders.{fmt}", f"customers.{fmt}", "events.parquet", f"prices.{fmt}"]


def check_sample_dir(out: Path, fmt: str, *, force: bool) -> None:
    """Refuse an --out that is a file, or that holds sample files, unless ``force``."""
    from cust.pipelines.errors import InvalidOptionError

    out = out.expanduser()
    if out.exists() and not out.is_dir():
        msg = f"--out {out} exists and is not a directory"
        raise InvalidOptionError(msg, hint="name a new or existing directory")
    present = [name for name in sample_files(fmt) if (out / name).exists()]
    if present and not force:
        msg = f"--out {out} already holds {', '.join(present)}"
        raise InvalidOptionError(msg, hint="add --force to replace them, or choose another --out")


def generate_into(out: Path, generate):
    """Run ``generate(folder)`` in a scratch folder inside ``out``, then move its files in.

    A failed run (disk full, read-only folder) leaves no partial file: exit 2 naming the
    folder. Returns ``(summary, {name: final path})``.
    """
    import shutil
    import tempfile

    from .output import write_error

    out = out.expanduser()
    scratch = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".cust-sample-", dir=out))
        summary = generate(scratch)
        files = {}
        for name, path in summary.files.items():
            final = out / Path(path).name
            Path(path).replace(final)
            files[name] = final
    except OSError as exc:
        raise write_error(out, exc) from None
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return summary, files
