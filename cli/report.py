"""``cust report weekly``: the self-contained HTML report for cron."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from .choices import Edition, Lang
from .main import app
from .options import GlobalOptions, command, path_value

report_app = typer.Typer(help="Reports for cron: one HTML file with charts.\n\n"
                         "Example: cust report weekly --out-dir /srv/reports --lang zh",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")


@command(report_app, "weekly")
def weekly(
    g: GlobalOptions,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="Write weekly-<2026-W26>.html (or monthly-<2026-06>.html) here.",
        show_default=False, parser=path_value, metavar="DIR")] = None,
    period: Annotated[Edition, typer.Option(
        "--period", help="'week' (ISO, Monday-Sunday) or 'month' for a monthly edition.")] = (
        Edition.week),
    lang: Annotated[Lang, typer.Option("--lang", help="Labels in 'en' or 'zh' (中文).")] = (
        Lang.en),
    static: Annotated[bool, typer.Option(
        "--static", help="The edition for mail: charts as inline SVG, no script "
        "(default: interactive, with tooltips and sortable tables).")] = False,
    fail_on_alert: Annotated[bool, typer.Option(
        "--fail-on-alert",
        help="Exit 3 when there are drift alerts or a headline figure left its band.")] = False,
) -> None:
    r"""Write the weekly HTML report: headline, bands, funnel and drift, cohorts, segments.

    The edition is the ISO week (or month) containing --as-of, by default the last complete one in the orders. One HTML file that opens offline goes to --out FILE or into --out-dir named by its week: interactive by default (tooltips, sortable tables, the chart scripts inlined, no request leaves the page), or with --static charts as inline SVG and no script, for mail. The terminal gets a short summary (none with --quiet); --format json prints every figure. Promotion what-ifs use cust.toml's \[promo.scenarios], else the built-in set of promo compare.

    Example: cust report weekly --out-dir /srv/reports --lang zh --fail-on-alert
    """  # noqa: E501 - one line per paragraph, so that the help wraps to the terminal
    from cust.pipelines.errors import InvalidOptionError
    from cust.pipelines.text import printable
    from cust.reports.html import render_weekly
    from cust.reports.weekly import build

    from .common import computed, deliver
    from .output import say, special_target, write_atomic

    if g.since is not None or g.until is not None:
        msg = "report weekly covers one edition and its history: --since/--until do not apply"
        raise InvalidOptionError(msg, hint="choose the edition with --as-of DATE (a day in it)")
    if g.out is not None and out_dir is not None:
        msg = "give either --out FILE or --out-dir DIR, not both"
        raise InvalidOptionError(msg, hint="--out-dir names the file by its edition")
    if g.out is not None and g.out.expanduser().is_dir():
        msg = f"--out {g.out} is a directory"
        raise InvalidOptionError(msg, hint=f"use --out-dir {g.out} to name the file by its week")
    if g.out is not None and g.out.suffix.lower() not in (".html", ".htm") and not (
            special_target(g.out)):
        msg = f"--out {g.out}: the report is an HTML page"
        hint = "name it .html; --format json prints its figures on stdout"
        raise InvalidOptionError(msg, hint=hint)
    if out_dir is not None and out_dir.expanduser().exists() and not out_dir.expanduser().is_dir():
        msg = f"--out-dir {out_dir} exists and is not a directory"
        raise InvalidOptionError(msg, hint="give a directory (it is created when missing)")
    prefix = "weekly" if period is Edition.week else "monthly"

    def target_of(report) -> tuple[str, Path]:
        if g.out is not None:
            return "--out", g.out
        flag = "--out-dir" if out_dir is not None else "the report"
        return flag, (out_dir or Path()) / f"{prefix}-{report.edition.label}.html"

    inputs, report, salt = computed(
        g,
        lambda inputs, config: build(
            inputs, config, kind=period.value, as_of=g.as_of, lang=lang.value
        ),
        status="computing the report…",
        target=target_of,
    )
    html = render_weekly(report, static=static)
    target = target_of(report)[1]
    write_atomic(target, lambda fh: fh.write(html))
    # An explicit --format prints even with -q; the page itself went to the file.
    deliver(replace(g, out=None), inputs, report, salt, show=g.format is not None or not g.quiet)
    if not g.quiet:
        say(f"report written to {printable(str(target))}")
    if fail_on_alert and (report.alerts or report.headline_alerts):
        raise typer.Exit(3)
