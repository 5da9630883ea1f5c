"""``cust funnel`` (and ``cust funnel paths``, also ``cust paths``): funnels, drift, next steps."""

from typing import Annotated

import typer

from .choices import Correction, FunnelCount, FunnelOrder, FunnelPeriod, Unit
from .common import run
from .main import app
from .options import GlobalOptions, command, default_command

funnel_app = typer.Typer(no_args_is_help=False)
# The unit and window of `cust funnel` and `cust funnel drivers`.
UnitOption = Annotated[Unit, typer.Option("--unit", help="Count 'session's or 'user's.")]
WindowOption = Annotated[str | None, typer.Option(
    "--window", help="With --unit user: time allowed from the first step (24h, 7d) "
    "\\[default: 24h].", show_default=False)]
app.add_typer(funnel_app, name="funnel")


@default_command(funnel_app)
def funnel(
    g: GlobalOptions,
    steps: Annotated[str | None, typer.Option(
        "--steps", help="Event names in order; name? marks an optional step (view,cart?,pay) "
        "\\[default: \\[funnel] steps in cust.toml, else "
        "product_view, add_to_cart, purchase].", show_default=False)] = None,
    order: Annotated[FunnelOrder, typer.Option(
        "--order", help="'ordered': other events may come between steps; 'strict': none may; "
        "'any': the steps in any order within the window.")] = FunnelOrder.ordered,
    exclude: Annotated[str | None, typer.Option(
        "--exclude", help="Events (comma-separated) that take a unit out of the funnel when "
        "done between two steps, e.g. remove_from_cart.", show_default=False)] = None,
    same: Annotated[str | None, typer.Option(
        "--same", help="Hold an events column constant through the steps, e.g. sku: view, "
        "cart and purchase of the same item.", show_default=False)] = None,
    count: Annotated[FunnelCount, typer.Option(
        "--count", help="With --same: 'units' (each once) or 'conversions' (every unit and "
        "item).")] = FunnelCount.units,
    attribution: Annotated[str, typer.Option(
        "--attribution", help="Whose --by values a unit carries: its 'first' step's, the "
        "'last' step it reached, or step:N's.")] = "first",
    value: Annotated[str | None, typer.Option(
        "--value", help="Revenue at each step and lost at each drop-off: an events column of "
        "money, or 'orders' (order_id to its paid order, sku to its paid price per unit).",
        show_default=False)] = None,
    times: Annotated[bool, typer.Option(
        "--times", help="Time to convert per step: median, p90, a histogram and the share "
        "converting within 1h, 1d and 7d.")] = False,
    unit: UnitOption = Unit.session,
    window: WindowOption = None,
    period: Annotated[FunnelPeriod, typer.Option(
        "--period", help="Periods by 'day' or ISO 'week' of the step-1 time.")] = (
        FunnelPeriod.day),
    by: Annotated[str | None, typer.Option(
        "--by", help="Break down by event columns, e.g. category or platform,channel.",
        show_default=False)] = None,
    drift: Annotated[bool, typer.Option(
        "--drift", help="Alert where a step's conversion left its normal band.")] = False,
    baseline: Annotated[int | None, typer.Option(
        "--baseline", help="Baseline periods for --drift \\[default: 28 days or 8 weeks].",
        show_default=False)] = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Drift alerts (implies --drift), each with the "
        "category/platform/channel values behind it and the price rises on the SKUs viewed "
        "(--prices).",
    )] = False,
    fail_on_drift: Annotated[bool, typer.Option(
        "--fail-on-drift", help="Exit 3 when there are drift alerts (for cron).")] = False,
    correction: Annotated[Correction, typer.Option(
        "--correction", help="False alarms of --drift: 'fdr' (Benjamini-Hochberg over the "
        "series, and again within one) or 'fwer' (Holm over every test).")] = Correction.fdr,
) -> None:
    """Step-by-step conversion (浏览→加购→支付), breakdowns and drift alerts.

    Per step: units entered, conversion from the previous and the first step, drop-off,
    and cart abandonment and banner click-through when the events have them. --drift
    tests every step, period and breakdown value against its in-control baseline (each
    period, and a change-point scan of the windows ending at it; exact tests for small
    counts; false alarms controlled over the series); --explain ranks the values behind
    each alert, flags drops confined to one platform or channel, and names the price rises
    on the SKUs viewed.

    Example: cust funnel --period week --by category --drift --explain

    Orders and exclusions: cust funnel --order strict --exclude remove_from_cart

    Same item: cust funnel --same sku --count conversions

    Time to convert: cust funnel --times

    Value (revenue reached and lost per step, abandoned carts in yuan): cust funnel --value orders

    Behaviour paths: cust funnel paths --from home --top 10
    """
    from cust.pipelines import funnel as fn
    from cust.pipelines.funnel import DriftSpec

    span = g.period()
    groups = tuple(b.strip() for b in by.split(",") if b.strip()) if by else ()
    excluded = tuple(e.strip() for e in exclude.split(",") if e.strip()) if exclude else ()

    def job(inputs, config):
        spec = fn.FunnelSpec(steps=fn.steps_from(steps, config), unit=str(unit),
                             window=fn.window_for(window, str(unit)), period=str(period),
                             by=groups, order=str(order), exclude=excluded, same=same,
                             count=str(count), attribution=attribution.strip(),
                             value=value.strip() if value else None)
        check = (DriftSpec(baseline=baseline, correction=correction.value)
                 if (drift or explain or fail_on_drift) else None)
        return fn.funnel(inputs, spec, period=span, drift=check, explain=explain,
                         timing=times)

    result = run(g, job)
    if fail_on_drift and result.alerts:
        raise typer.Exit(3)


def paths(
    g: GlobalOptions,
    origin: Annotated[str | None, typer.Option(
        "--from", help="The event (or --field value) to look from \\[default: home].",
        show_default=False)] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="Look back instead: the --depth steps that led to this event.",
        show_default=False)] = None,
    field: Annotated[str, typer.Option(
        "--field", help="Events column that names the step: event, page, ...")] = "event",
    unit: Annotated[Unit, typer.Option("--unit", help="Within a 'session' or a 'user'.")] = (
        Unit.session),
    top: Annotated[int, typer.Option(
        "--top", help="Show the N most common next steps (paths; matrix rows).")] = 10,
    depth: Annotated[int, typer.Option(
        "--depth", help="Steps to follow: 1 is the next step alone; 2 or more gives the top "
        "paths of that many steps.")] = 1,
    matrix: Annotated[bool, typer.Option(
        "--matrix", help="Also the step matrix: the share at each event at each step number "
        "(with (exit)/(start) for units that ran out).")] = False,
    collapse: Annotated[bool, typer.Option(
        "--collapse-repeats", help="Count consecutive repeats of one event in a unit (a "
        "reloaded page) as one.")] = False,
) -> None:
    """Where users go next from a page or event, or came from before one (behaviour paths).

    --depth 3 gives the top paths of 3 steps with counts, units and shares; --to EVENT
    looks back from an event; --matrix adds the share at each event per step number.

    Example: cust funnel paths --from home --top 10 (or cust paths ...)

    Paths of 3 steps and the step matrix: cust paths --from home --depth 3 --matrix

    What led to a purchase: cust paths --to purchase --depth 3
    """
    from cust.pipelines.errors import InvalidOptionError
    from cust.pipelines.funnel import multi_step_paths, next_steps

    span = g.period()

    def job(inputs, _cfg):
        if origin is not None and to is not None:
            msg = "--from and --to together"
            raise InvalidOptionError(msg, hint="give one: --from home, or --to purchase")
        if depth < 1:
            msg = f"--depth {depth} is below 1"
            raise InvalidOptionError(msg, hint="e.g. --depth 3")
        if depth == 1 and to is None and not matrix and not collapse:
            return next_steps(inputs, origin or "home", field=field, unit=str(unit),
                              top=top, period=span)
        return multi_step_paths(
            inputs, to if to is not None else origin or "home",
            direction="to" if to is not None else "from", depth=depth, field=field,
            unit=str(unit), top=top, matrix=matrix, collapse=collapse, period=span)

    run(g, job)


command(funnel_app, "paths")(paths)
command(app, "paths")(paths)


@command(funnel_app, "drivers")
def drivers(
    g: GlobalOptions,
    steps: Annotated[str | None, typer.Option(
        "--steps", help="Event names in order \\[default: \\[funnel] steps in cust.toml, else "
        "product_view, add_to_cart, purchase].", show_default=False)] = None,
    step: Annotated[str | None, typer.Option(
        "--step", help="The units at this step (number or name, or 'all') and whether they "
        "reached the next \\[default: the step before the last].", show_default=False)] = None,
    properties: Annotated[str | None, typer.Option(
        "--properties", help="Event columns whose values are tested (on the event that "
        "reached the step) \\[default: platform, channel, category].",
        show_default=False)] = None,
    prior: Annotated[bool, typer.Option(
        "--prior/--no-prior", help="Also test each event done before reaching the step.")] = True,
    min_units: Annotated[int, typer.Option(
        "--min-units", help="Test a driver only with this many units with and without it.")] = 30,
    top: Annotated[int, typer.Option("--top", help="Show the N strongest drivers.")] = 20,
    unit: UnitOption = Unit.session,
    window: WindowOption = None,
) -> None:
    """Which properties and earlier events go with converting (PostHog-style correlation).

    For the units at a step: each value of the properties and each event done before, as
    units with and without it that converted to the next step; odds ratio with a 95%
    interval, Fisher's exact p-value and Benjamini-Hochberg q-value, strongest first.

    Example: cust funnel drivers --step add_to_cart --top 10
    """
    from cust.pipelines import funnel as fn

    span = g.period()
    chosen = (tuple(p.strip() for p in properties.split(",") if p.strip())
              if properties is not None else None)

    def job(inputs, config):
        spec = fn.FunnelSpec(steps=fn.steps_from(steps, config), unit=str(unit),
                             window=fn.window_for(window, str(unit)))
        return fn.drivers(inputs, spec, step=step.strip() if step else None,
                          properties=chosen, prior=prior, min_units=min_units, top=top,
                          period=span)

    run(g, job)
