"""``cust report weekly``: the self-contained HTML report for cron."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from .main import app
from .options import GlobalOptions, command

report_app = typer.Typer(help="Reports for cron: one HTML file with charts.",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")


@command(report_app, "weekly")
def weekly(
    g: GlobalOptions,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="Write weekly-<2026-W26>.html (or monthly-<2026-06>.html) here.",
        show_default=False)] = None,
    period: Annotated[str, typer.Option(
        "--period", help="'week' (ISO, Monday-Sunday) or 'month' for a monthly edition.")] = (
        "week"),
    lang: Annotated[str, typer.Option("--lang", help="Labels in 'en' or 'zh'.")] = "en",
    fail_on_alert: Annotated[bool, typer.Option(
        "--fail-on-alert", help="Exit 3 when there are drift alerts.")] = False,
) -> None:
    """Write the weekly HTML report: headline, bands, funnel and drift, cohorts, segments.

    The edition is the ISO week containing --as-of, by default the last complete week in
    the orders. The HTML file (one file, inline SVG charts, no scripts, opens offline) goes
    to --out FILE, or into --out-dir (default: the current directory) named by its week. The
    terminal gets a short summary (none with --quiet); --format json prints every figure.
    Promotion what-ifs appear when cust.toml has [promo.scenarios].

    Example: cust report weekly --out-dir /srv/reports --lang zh --fail-on-alert
    """
    from cust.pipelines.errors import InvalidOptionError
    from cust.reports.html import render_weekly
    from cust.reports.weekly import build

    from .common import check_out_path, mask_salt, open_inputs, stderr
    from .options import Format
    from .output import render, warn_rejected, write_atomic, write_rejects

    if lang not in ("en", "zh"):
        msg = f"--lang {lang!r} is not en or zh"
        raise InvalidOptionError(msg, hint="use --lang en or --lang zh")
    inputs, config = open_inputs(g)
    check_out_path(g, inputs)
    console = stderr()
    if console.is_terminal and not g.quiet:
        with console.status("computing the report…"):
            report = build(inputs, config, kind=period, as_of=g.as_of, lang=lang)
    else:
        report = build(inputs, config, kind=period, as_of=g.as_of, lang=lang)
    html = render_weekly(report)
    prefix = "weekly" if period == "week" else "monthly"
    target = g.out if g.out is not None else (out_dir or Path()) / (
        f"{prefix}-{report.edition.label}.html")
    write_atomic(target, lambda fh: fh.write(html))
    if g.rejects is not None:
        write_rejects(inputs.loaded, g.rejects)
    warn_rejected(report.input, g)
    to_stdout = replace(g, out=None)
    salt = mask_salt(g, config)
    if g.format is Format.json or not g.quiet:
        from .masking import Masked

        render(Masked(report, salt) if salt is not None else report, to_stdout)
    if not g.quiet:
        console.print(f"report written to {target}")
    if fail_on_alert and report.alerts:
        raise typer.Exit(3)
