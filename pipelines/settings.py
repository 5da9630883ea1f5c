"""``cust.toml``: column mappings, the shop's time zone and per-command defaults.

Example::

    timezone = "Asia/Shanghai"

    [columns]
    date_format = "dmy"      # 31/10/2026; auto (default), ymd, dmy or mdy

    [columns.orders]
    amount = "实付金额"
    customer_id = "买家账号"

    [funnel]
    steps = ["product_view", "add_to_cart", "purchase"]
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DEFAULT_CONFIG_NAME = "cust.toml"
SOURCES = ("orders", "customers", "events", "prices")
# The order of day, month and year in the exports' dates ([columns] date_format and
# --date-format): auto detects it from the cells (see pipelines/io/loader.date_order).
DATE_FORMATS = ("auto", "ymd", "dmy", "mdy")
# The keys of [columns] that are settings, not a source's table of headers.
COLUMN_SETTINGS = ("date_format",)
# Every top-level key of cust.toml a command reads; any other is a typo, refused rather than
# silently ignored (``timzone = ...`` would otherwise leave times unconverted).
KNOWN_KEYS = (
    "timezone", "columns", "funnel", "cohort", "promo", "tiers", "rfm", "cache", "privacy",
    "engine",
)
# The keys of each table a command reads ([tiers] names its own levels, [columns] its
# sources: both are checked where they are read).
TABLE_KEYS = {
    "promo": ("scenarios",),
    "funnel": ("steps",),
    "cohort": ("offer",),
    "cache": ("enabled", "dir"),
    "privacy": ("salt",),
    "rfm": ("segments",),
    "engine": ("name", "spark_master"),
}
ENGINES = ("polars", "spark")
# Spark's own local mode on two cores: a run on one machine needs no cluster.
DEFAULT_SPARK_MASTER = "local[2]"


@dataclass(frozen=True)
class Config:
    """Settings read from ``cust.toml`` (all optional).

    Attributes
    ----------
    path
        The file the settings came from, or ``None`` when there was none.
    timezone
        The shop's IANA time zone; ``None`` takes times as they are written.
    columns
        Per source, canonical column name -> header in the export.
    sections
        Every other table of the file, for the commands that read their own defaults.
    date_format
        ``[columns] date_format``: ``auto``, ``ymd``, ``dmy`` or ``mdy`` (None: not set).
    """

    path: Path | None = None
    timezone: str | None = None
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sections: Mapping[str, Any] = field(default_factory=dict)
    date_format: str | None = None

    @property
    def name(self) -> str:
        """The file's path for messages (``cust.toml`` when no file was read)."""
        return str(self.path or DEFAULT_CONFIG_NAME)

    def section(self, name: str) -> Mapping[str, Any]:
        """Return the table ``[name]`` of the file, or an empty mapping."""
        value = self.sections.get(name, {})
        if not isinstance(value, Mapping):
            msg = f"{self.path}: [{name}] must be a table, found {type(value).__name__}"
            raise ConfigError(msg, hint=f"write it as `[{name}]` followed by `key = value` lines")
        return value


def load_config(path: Path | None) -> Config:
    """Read ``path`` (or ``./cust.toml`` when it exists and ``path`` is ``None``)."""
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return Config()
        path = default
    if not path.is_file():
        msg = f"config file not found: {path}"
        raise ConfigError(msg, hint="pass an existing file to --config, or leave it out")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid TOML: {exc}"
        raise ConfigError(msg, hint='values need quotes: amount = "实付金额"') from None
    check_keys(data, path)
    timezone = data.pop("timezone", None)
    if timezone is not None:
        timezone = validate_timezone(timezone, where=str(path))
    columns_raw = data.pop("columns", {})
    columns: dict[str, dict[str, str]] = {}
    if not isinstance(columns_raw, Mapping):
        msg = f"{path}: [columns] must be tables like [columns.orders]"
        raise ConfigError(msg, hint='[columns.orders]\namount = "实付金额"')
    date_format = None
    for source, mapping in columns_raw.items():
        if source == "date_format":
            date_format = validate_date_format(mapping, where=f"{path}: [columns] date_format")
            continue
        if source not in SOURCES or not isinstance(mapping, Mapping):
            known = (*SOURCES, *COLUMN_SETTINGS)
            close = difflib.get_close_matches(source, known, n=1)
            guess = f" (did you mean {close[0]}?)" if close and close[0] != source else ""
            if isinstance(mapping, Mapping) or source in SOURCES:
                msg = f"{path}: unknown table [columns.{source}]{guess}"
            else:
                msg = f"{path}: unknown key {source} in [columns]{guess}"
            hint = (
                f"[columns] holds date_format = \"dmy\" and the tables [columns.<source>], "
                f"source one of: {', '.join(SOURCES)}"
            )
            raise ConfigError(msg, hint=hint)
        columns[source] = {str(k): str(v) for k, v in mapping.items()}
    return Config(path=path, timezone=timezone, columns=columns, sections=data,
                  date_format=date_format)


def validate_date_format(value: object, *, where: str) -> str:
    """``value`` if it is a date order of :data:`DATE_FORMATS` (any case), else a ConfigError."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in DATE_FORMATS:
        close = difflib.get_close_matches(str(value).lower(), DATE_FORMATS, n=1)
        guess = f" (did you mean {close[0]}?)" if close else ""
        msg = f"{where} must be one of {', '.join(DATE_FORMATS)}, found {value!r}{guess}"
        hint = (
            'date_format = "dmy" for 31/10/2026, "mdy" for 10/31/2026, "ymd" for 2026-10-31 '
            '(/ . and - all read), "auto" to detect it'
        )
        raise ConfigError(msg, hint=hint)
    return text


def check_keys(data: dict[str, Any], path: Path) -> None:
    """Refuse unknown top-level keys and unknown keys of the tables; check ``[funnel] steps``.

    ``[funnel] steps`` is a list of event names, or one comma-separated string as given to
    ``--steps``; it is normalised to a list here, so the funnel never iterates a string.
    """
    unknown = [k for k in data if k not in KNOWN_KEYS]
    if unknown:
        close = [m for k in unknown for m in difflib.get_close_matches(k, KNOWN_KEYS, n=1)]
        guess = f" (did you mean {', '.join(close)}?)" if close else ""
        msg = f"{path}: unknown key {', '.join(unknown)}{guess}"
        raise ConfigError(msg, hint=f"known top-level keys and tables: {', '.join(KNOWN_KEYS)}")
    for table, keys in TABLE_KEYS.items():
        section = data.get(table)
        extra = [k for k in section if k not in keys] if isinstance(section, Mapping) else []
        if extra:
            close = [m for k in extra for m in difflib.get_close_matches(k, keys, n=1)]
            guess = f" (did you mean {', '.join(close)}?)" if close else ""
            msg = f"{path}: unknown key {', '.join(extra)} in [{table}]{guess}"
            raise ConfigError(msg, hint=f"known keys of [{table}]: {', '.join(keys)}")
    funnel = data.get("funnel")
    if isinstance(funnel, Mapping) and "steps" in funnel:
        data["funnel"] = {**funnel, "steps": _steps(funnel["steps"], path)}


def _steps(value: object, path: Path) -> list[str]:
    hint = 'steps = ["product_view", "add_to_cart", "purchase"]'
    if isinstance(value, str):
        names = [s.strip() for s in value.split(",") if s.strip()]
    elif isinstance(value, list) and all(isinstance(s, str) and s.strip() for s in value):
        names = [s.strip() for s in value]
    else:
        names = []
    if not names:
        msg = f"{path}: [funnel] steps must be a list of event names, found {value!r}"
        raise ConfigError(msg, hint=hint)
    return names


def validate_timezone(name: object, *, where: str) -> str:
    """Return ``name`` if it is a known IANA time zone, else raise :class:`ConfigError`."""
    if not isinstance(name, str):
        msg = f"{where}: timezone must be a string, found {name!r}"
        raise ConfigError(msg, hint='timezone = "Asia/Shanghai"')
    try:
        ZoneInfo(name)
        known = _polars_knows(name)
    except (ZoneInfoNotFoundError, ValueError):
        known = False
    if not known:
        msg = f"{where}: unknown time zone {name!r}"
        raise ConfigError(msg, hint='use an IANA name such as "Asia/Shanghai"')
    return name


def _polars_knows(name: str) -> bool:
    """Whether Polars converts times to ``name``.

    The system's zoneinfo also opens files that are not zones of the IANA database
    (``posixrules``, ``Factory``, ``localtime``, ``right/...``, ``posix/...``); Polars,
    which converts the times, refuses those, which stopped the run with a traceback.
    """
    import polars as pl

    try:
        pl.Series([0], dtype=pl.Datetime("us")).dt.replace_time_zone(name)
    except pl.exceptions.PolarsError:
        return False
    return True


@dataclass(frozen=True)
class EngineSettings:
    """What reads and validates the orders export (``--engine``, ``[engine]`` in cust.toml).

    ``spark_master`` is Spark's master URL (``local[2]``, ``spark://host:7077``,
    ``local-cluster[2,1,1024]``); ``None`` takes what ``spark-submit`` provides, else
    :data:`DEFAULT_SPARK_MASTER`.
    """

    name: str = "polars"
    spark_master: str | None = None


def engine_settings(config: Config, chosen: str | None = None) -> EngineSettings:
    """The ``[engine]`` table of ``config``, checked; ``chosen`` (``--engine``) wins."""
    section = config.section("engine")
    name = section.get("name", "polars") if chosen is None else chosen
    if name not in ENGINES:
        close = difflib.get_close_matches(str(name), ENGINES, n=1)
        guess = f" (did you mean {close[0]}?)" if close else ""
        msg = f"{config.name}: [engine] name must be polars or spark, found {name!r}{guess}"
        raise ConfigError(msg, hint='name = "spark"  (or leave it out for polars)')
    master = section.get("spark_master")
    if master is not None and (not isinstance(master, str) or not master.strip()):
        msg = f"{config.name}: [engine] spark_master must be a Spark master URL, found {master!r}"
        raise ConfigError(msg, hint='spark_master = "local[2]"  (or "spark://host:7077")')
    return EngineSettings(name=str(name), spark_master=master.strip() if master else None)


def parse_column_map(items: list[str]) -> dict[str, dict[str, str]]:
    """Parse repeated ``--map`` values into per-source mappings.

    ``amount=实付金额`` maps for every source that has an ``amount`` column;
    ``events.user_id=访客ID`` names the source explicitly.
    """
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, header = item.partition("=")
        key, header = key.strip(), header.strip()
        if not sep or not key or not header:
            msg = f"--map {item!r} is not of the form column=header"
            raise ConfigError(msg, hint="--map amount=实付金额  (or --map orders.amount=实付金额)")
        source, dot, column = key.rpartition(".")
        if dot and source not in SOURCES:
            msg = f"--map {item!r}: unknown source {source!r}"
            raise ConfigError(msg, hint=f"use one of: {', '.join(SOURCES)}")
        out.setdefault(source if dot else "*", {})[column] = header
    return out
