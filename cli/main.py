"""The ``cust`` application: one Typer app, global options, one error handler.

Every command module registers itself on :data:`app` (or a sub-app) when imported at the
bottom of this file. Errors a user can fix (:class:`cust.pipelines.errors.CustError`)
become a message on stderr and exit code 2; anything else is a bug (exit 1).
"""

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import options as opt

HELP = (
    "Customer analytics for an electronic-components shop.\n\n"
    "Order-value bands, customer segments, funnels, cohorts and promotion what-ifs from your "
    "back-office exports (CSV, GBK CSV with Chinese headers, Parquet). With no input options "
    "every command runs on the bundled sample data.\n\n"
    "Example: cust check --orders orders.csv"
)


def _escaped(exc: Exception) -> Exception:
    """A usage error with the control characters of its message escaped.

    Click escapes C0 and C1 in the values it quotes, not a bidi override (U+202E) in an
    unknown option or argument; :func:`cust.pipelines.text.printable` does both.
    """
    if isinstance(getattr(exc, "message", None), str):
        from cust.pipelines.text import printable

        exc.message = printable(exc.message)  # type: ignore[attr-defined]
    return exc


class CustGroup(TyperGroup):
    """A command group that turns user-fixable errors into exit code 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        """Parse the global options; a usage error's message is shown escaped."""
        try:
            return super().make_context(*args, **kwargs)
        except typer.TyperException as exc:
            raise _escaped(exc) from None

    def invoke(self, ctx: Any) -> Any:
        """Run the command; report :class:`CustError` on stderr and exit 2."""
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            raise _escaped(exc) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            from cust.pipelines.errors import CustError

            if isinstance(exc, CustError):
                from .output import fail

                fail(exc.message, exc.hint)
            if isinstance(exc, BrokenPipeError):
                raise typer.Exit(0) from None
            raise


app = typer.Typer(
    name="cust",
    help=HELP,
    cls=CustGroup,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        import cust

        typer.echo(f"cust {cust.__version__}")
        raise typer.Exit


@app.callback()
def main_callback(
    ctx: typer.Context,
    orders: opt.Orders = None,
    customers: opt.Customers = None,
    events: opt.Events = None,
    prices: opt.Prices = None,
    config: opt.Config = None,
    map: opt.Map = None,
    encoding: opt.Encoding = None,
    rejects: opt.Rejects = None,
    strict: opt.Strict = False,
    format: opt.FormatOpt = None,
    out: opt.Out = None,
    quiet: opt.Quiet = False,
    since: opt.Since = None,
    until: opt.Until = None,
    as_of: opt.AsOf = None,
    mask_ids: opt.MaskIds = False,
    mask_salt: opt.MaskSalt = None,
    no_cache: opt.NoCache = False,
    date_format: opt.DateFormatOpt = None,
    engine: opt.EngineOpt = None,
    wide: opt.Wide = False,
    columns: opt.Columns = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Global options; they may also be given after the command."""
    values = dict(locals())
    values.pop("ctx")
    values.pop("version")
    opt.refuse_blank(ctx, values)
    ctx.obj = opt.GlobalOptions(**opt.from_values(values))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # `cust ... | head`
        sys.stderr.close()
        sys.exit(0)


# Command modules register themselves on import.
from . import (  # noqa: E402, F401
    check,
    clv,
    cohort,
    funnel,
    promo,
    report,
    sample,
    segment,
    segment_profile,
    segment_rfm,
)
