"""Global options, accepted before the command (``cust --format json check``) or after it.

The contract puts global options before the command; people also type them after it
(``cust check --format json``). :func:`command` registers a function on a Typer app with
every global option appended to its parameters, and merges them with those given to the
``cust`` callback: a value given after the command wins.
"""

import inspect
import os
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .choices import DateFormat, Engine


def _no_flag_placeholder() -> None:
    """Show a flag in ``--help`` without a ``<bool>`` placeholder: it takes no value.

    Typer (0.29) writes its value's type beside every option, a flag's too; an option with
    a metavar shows that instead, and a flag has none to show.
    """
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_cust", False):
        return

    def display_type_rich(self, ctx):
        if self.is_flag and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich._cust = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_flag_placeholder()

INPUT = "Input"
OUTPUT = "Output"
PERIOD = "Period"


class Format(StrEnum):
    """Output formats."""

    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        msg = f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-31"
        raise typer.BadParameter(msg) from None


def path_value(value: str) -> Path | str:
    """A path option's value; an empty one stays ``""`` for :func:`refuse_blank`.

    Typer would make ``--out-dir ""`` ``Path("")``, which is ``.``: the current directory.
    """
    return value if not value.strip() else Path(value)


def file_value(value: str) -> Path | str:
    """A file option's value; ``""`` and a name ending in ``/`` stay text (refused later).

    ``Path("newdir/")`` drops the slash that says the user meant a folder.
    """
    return value if not value.strip() or value.endswith(("/", os.sep)) else Path(value)


FILE_OPTIONS = {"out": "--out", "rejects": "--rejects"}


def _file(key: str, value: Path | str | None) -> Path | None:
    """``--out``/``--rejects`` as a Path; a name ending in ``/`` (a folder) is refused."""
    if value is None or isinstance(value, Path):
        return value
    from cust.pipelines.errors import InvalidOptionError

    flag = FILE_OPTIONS[key]
    msg = f"{flag} {value} ends with '/', so it names a folder, and {flag} takes a file"
    hint = f"name the file, e.g. {flag} {value}result.csv"
    if key == "out":
        hint += " (report weekly: --out-dir DIR names it by its week)"
    raise InvalidOptionError(msg, hint=hint)


@dataclass(frozen=True)
class GlobalOptions:
    """The options every command takes (see CONTRACT.md section 2)."""

    orders: str | None = None
    customers: str | None = None
    events: str | None = None
    prices: str | None = None
    config: Path | None = None
    map: tuple[str, ...] = ()
    encoding: str | None = None
    rejects: Path | None = None
    strict: bool = False
    format: Format | None = None
    out: Path | None = None
    since: date | None = None
    until: date | None = None
    as_of: date | None = None
    quiet: bool = False
    mask_ids: bool = False
    mask_salt: str | None = None
    no_cache: bool = False
    dedupe: bool = False
    date_format: str | None = None  # --date-format: auto, ymd, dmy, mdy (None: cust.toml's)
    engine: Engine | None = None
    wide: bool = False
    columns: tuple[str, ...] = ()

    def merged(self, later: dict[str, Any]) -> "GlobalOptions":
        """These options overridden by the ones given after the command."""
        changes: dict[str, Any] = {}
        for key, value in later.items():
            if key == "map":
                if value:
                    changes["map"] = (*self.map, *value)
            elif key == "columns":
                if value:
                    changes["columns"] = value
            elif key in FLAGS:
                if value:
                    changes[key] = True
            elif value is not None:
                changes[key] = value
        return replace(self, **changes)

    def period(self) -> Any:
        """The analysed period from ``--since``, ``--until`` and ``--as-of``."""
        from cust.pipelines.io import Period

        return Period(since=self.since, until=self.until, as_of=self.as_of)

    @property
    def fmt(self) -> Format:
        """The output format (``table`` unless given)."""
        return self.format or Format.table


Orders = Annotated[
    str | None,
    typer.Option(
        "--orders",
        help="Orders export: file, directory or glob (.csv .tsv .txt .parquet, .gz).",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Customers = Annotated[
    str | None,
    typer.Option(
        "--customers",
        help="Customers export (type, role, industry, points).",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Events = Annotated[
    str | None,
    typer.Option(
        "--events",
        help="Click-stream export (user_id, event, event_time).",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Prices = Annotated[
    str | None,
    typer.Option(
        "--prices",
        help="Price-change export (sku, changed_at, old_price, new_price).",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file \\[default: ./cust.toml when present].",
        rich_help_panel=INPUT,
        show_default=False,
        parser=path_value,
        metavar="PATH",
    ),
]
Map = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Header of a column, e.g. --map amount=实付金额 (repeatable).",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of the exports \\[default: detected: UTF-8 or GBK].",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Rejects = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Write rejected rows, with a reason column, to this file.",
        rich_help_panel=INPUT,
        show_default=False,
        parser=file_value,
        metavar="PATH",
    ),
]
Strict = Annotated[
    bool,
    typer.Option("--strict", help="Fail (exit 2) when any row is rejected.", rich_help_panel=INPUT),
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="table (terminal), json, csv or html \\[default: table].",
        rich_help_panel=OUTPUT,
        show_default=False,
        case_sensitive=False,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Write here instead of stdout (atomically); .parquet writes Parquet.",
        rich_help_panel=OUTPUT,
        show_default=False,
        parser=file_value,
        metavar="PATH",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="No warnings or progress on stderr.", rich_help_panel=OUTPUT
    ),
]
Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="First day analysed (inclusive), YYYY-MM-DD.",
        rich_help_panel=PERIOD,
        show_default=False,
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Last day analysed (inclusive), YYYY-MM-DD.",
        rich_help_panel=PERIOD,
        show_default=False,
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Analysis date \\[default: the latest date in the data].",
        rich_help_panel=PERIOD,
        show_default=False,
    ),
]

MaskIds = Annotated[
    bool,
    typer.Option(
        "--mask-ids",
        help="Replace customer and user ids by salted hashes in every output.",
        rich_help_panel=OUTPUT,
    ),
]
MaskSalt = Annotated[
    str | None,
    typer.Option(
        "--mask-salt",
        help="Salt for --mask-ids \\[default: \\[privacy] salt in cust.toml].",
        rich_help_panel=OUTPUT,
        show_default=False,
    ),
]
NoCache = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Read the orders and events exports again instead of the validated copies kept "
        "from the last run on the same file \\[cache: $CUST_CACHE_DIR or ~/.cache/cust].",
        rich_help_panel=INPUT,
    ),
]
Dedupe = Annotated[
    bool,
    typer.Option(
        "--dedupe",
        help="Orders of several files that overlap: count an order found in more than one "
        "file from the last file holding it (the others' lines rejected) \\[default: the files "
        "add up, with a warning].",
        rich_help_panel=INPUT,
    ),
]

DateFormatOpt = Annotated[
    DateFormat | None,
    typer.Option(
        "--date-format",
        help="Order of day, month and year in the exports' dates: dmy (31/10/2026), mdy "
        "(10/31/2026), ymd (2026-10-31); / . and - all read \\[default: auto: detected, or "
        "\\[columns] date_format in cust.toml].",
        rich_help_panel=INPUT,
        show_default=False,
        case_sensitive=False,
    ),
]

EngineOpt = Annotated[
    Engine | None,
    typer.Option(
        "--engine",
        help="What reads the orders export, validates it and groups lines into orders: "
        "polars (this machine) or spark (PySpark: pip install \"cust\\[spark]\"; its master "
        "is spark_master of \\[engine] in cust.toml) \\[default: name of \\[engine], "
        "else polars].",
        rich_help_panel=INPUT,
        show_default=False,
    ),
]
Wide = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Terminal tables with every column, even when wider than the terminal "
        "\\[default: the main columns, as many as fit].",
        rich_help_panel=OUTPUT,
    ),
]
Columns = Annotated[
    str | None,
    typer.Option(
        "--columns",
        help="Terminal tables with these columns (JSON keys, comma-separated) after each "
        "row's name, e.g. --columns revenue,gross_margin.",
        rich_help_panel=OUTPUT,
        show_default=False,
        metavar="A,B,C",
    ),
]

PARAMS: dict[str, Any] = {
    "orders": Orders,
    "customers": Customers,
    "events": Events,
    "prices": Prices,
    "config": Config,
    "map": Map,
    "encoding": Encoding,
    "rejects": Rejects,
    "strict": Strict,
    "format": FormatOpt,
    "out": Out,
    "quiet": Quiet,
    "since": Since,
    "until": Until,
    "as_of": AsOf,
    "mask_ids": MaskIds,
    "mask_salt": MaskSalt,
    "no_cache": NoCache,
    "dedupe": Dedupe,
    "date_format": DateFormatOpt,
    "engine": EngineOpt,
    "wide": Wide,
    "columns": Columns,
}
FLAGS = ("strict", "quiet", "mask_ids", "no_cache", "dedupe", "wide")
DATES = ("since", "until", "as_of")


def _names(value: str | None) -> tuple[str, ...]:
    """``--columns a, b,c`` as ``("a", "b", "c")``."""
    return tuple(n.strip() for n in (value or "").split(",") if n.strip())


def from_values(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise raw option values (dates parsed, lists to tuples)."""
    out = dict(values)
    for key in DATES:
        out[key] = _date(out.get(key))
    out["map"] = tuple(out.get("map") or ())
    if "columns" in out:
        out["columns"] = _names(out["columns"])
    for key in FILE_OPTIONS:
        out[key] = _file(key, out.get(key))
    if out.get("date_format") is not None:
        out["date_format"] = str(out["date_format"])
    return out


def command(app: typer.Typer, name: str, **kwargs: Any):
    """Register ``fn(g: GlobalOptions, ...)`` as command ``name`` with the global options."""

    def decorate(fn):
        return app.command(name, **kwargs)(_with_globals(fn, default=False))

    return decorate


def default_command(group: typer.Typer):
    """Register ``fn(g: GlobalOptions, ...)`` as what ``cust <group>`` runs by itself.

    ``cust funnel`` counts the funnel and ``cust funnel paths`` runs the subcommand; the
    global options given before the subcommand's name are handed on to it.
    """

    def decorate(fn):
        return group.callback(invoke_without_command=True)(_with_globals(fn, default=True))

    return decorate


def _with_globals(fn, *, default: bool):
    """``fn`` with the global options added to its signature and merged into ``g``."""
    sig = inspect.signature(fn, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name != "g"]
    extra = [
        inspect.Parameter(
            key,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=ann,
            default=False if key in FLAGS else None,
        )
        for key, ann in PARAMS.items()
    ]
    ctx_param = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )

    def wrapper(ctx: typer.Context, **values: Any) -> Any:
        refuse_blank(ctx, values)
        later = from_values({k: values.pop(k) for k in PARAMS})
        base = ctx.find_object(GlobalOptions) or GlobalOptions()
        if default and ctx.invoked_subcommand is not None:
            ctx.obj = base.merged(later)  # for the subcommand
            return None
        return fn(base.merged(later), **values)

    params = [ctx_param, *own, *extra]
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__module__ = fn.__module__
    return wrapper


def refuse_blank(ctx: typer.Context, values: dict[str, Any]) -> None:
    """Refuse an option given with an empty value (``--segment ""``).

    Most options would read it as not given: a cron line ``--segment "$SEG"`` with ``SEG``
    unset would quietly run on every customer.
    """
    from cust.pipelines.errors import InvalidOptionError

    flags = {p.name: (p.opts[0] if p.opts else p.name) for p in ctx.command.params}
    for name, value in values.items():
        items = value if isinstance(value, (tuple, list)) else (value,)
        if any(isinstance(v, str | Path) and not str(v).strip() for v in items):
            flag = flags.get(name, name)
            msg = f"{flag} is given an empty value"
            raise InvalidOptionError(msg, hint=f"give {flag} a value, or leave it out")


