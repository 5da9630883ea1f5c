"""What every analysis command does around its pipeline: inputs in, result out."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .options import GlobalOptions
from .output import render, stderr, warn_rejected, write_rejects


def open_inputs(g: GlobalOptions):  # noqa: ANN201
    """Build the lazily opened inputs from the global options and ``cust.toml``."""
    from cust.pipelines.config import load_config, parse_column_map
    from cust.pipelines.inputs import Inputs
    from cust.pipelines.loader import LoadOptions

    config = load_config(g.config)
    columns: dict[str, dict[str, str]] = {k: dict(v) for k, v in config.columns.items()}
    for source, mapping in parse_column_map(list(g.map)).items():
        columns.setdefault(source, {}).update(mapping)
    options = LoadOptions(encoding=g.encoding, columns=columns, timezone=config.timezone)
    paths = {"orders": g.orders, "customers": g.customers, "events": g.events, "prices": g.prices}
    return Inputs(paths, options, cache_of(g, config)), config


def cache_of(g: GlobalOptions, config: Any):  # noqa: ANN201
    """The validated-orders cache: off with --no-cache or ``[cache] enabled = false``."""
    from cust.pipelines.cache import Cache, default_dir
    from cust.pipelines.errors import ConfigError

    section = config.section("cache")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        msg = f"{config.path}: [cache] enabled must be true or false, found {enabled!r}"
        raise ConfigError(msg, hint="write enabled = false to turn the cache off")
    if g.no_cache or not enabled:
        return None
    where = section.get("dir")
    if where is not None and not isinstance(where, str):
        msg = f"{config.path}: [cache] dir must be a path in quotes, found {where!r}"
        raise ConfigError(msg, hint='dir = "/var/cache/cust"')
    return Cache(Path(where).expanduser() if where else default_dir())


SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods")


def check_out_path(g: GlobalOptions, inputs) -> None:  # noqa: ANN001
    """Refuse an ``--out`` or ``--rejects`` that is a directory or would overwrite an input."""
    from cust.pipelines.errors import InvalidOptionError
    from cust.pipelines.sources import resolve_paths

    targets = {p.resolve(): opt for p, opt in ((g.out, "--out"), (g.rejects, "--rejects")) if p}
    if not targets:
        return
    for path, flag in targets.items():
        if path.is_dir():  # also what an empty --out "" becomes (the current directory)
            msg = f"{flag} {path} is a directory"
            raise InvalidOptionError(msg, hint=f"give {flag} a file name, e.g. {flag} result.csv")
        if path.suffix.lower() in SPREADSHEETS:  # it would get the table as plain text
            msg = f"{flag} {path}: cust does not write {path.suffix} workbooks"
            raise InvalidOptionError(msg, hint="write .csv (spreadsheets open it) or .parquet")
    for name, spec in inputs.paths.items():
        if spec is None:
            continue
        try:
            files = resolve_paths(spec, name)
        except Exception:  # noqa: BLE001 - the loader reports missing inputs itself
            continue
        for f in files:
            if f.resolve() in targets:
                msg = f"{targets[f.resolve()]} {f} would overwrite the {name} input"
                raise InvalidOptionError(msg, hint="write the output to another file")


def run(g: GlobalOptions, compute: Callable[[Any, Any], Any]) -> Any:
    """Open the inputs, run ``compute(inputs, config)``, report rejects, render the result."""
    inputs, result, salt = computed(g, compute)
    deliver(g, inputs, result, salt)
    return result


def computed(
    g: GlobalOptions,
    compute: Callable[[Any, Any], Any],
    status: str = "reading exports and computing…",
) -> tuple[Any, Any, str | None]:
    """Open the inputs, check ``--out`` and the mask salt, then compute (with a spinner).

    Returns ``(inputs, result, salt)``; ``salt`` is None unless ids are masked.
    """
    inputs, config = open_inputs(g)
    check_out_path(g, inputs)
    salt = mask_salt(g, config)
    console = stderr()
    if console.is_terminal and not g.quiet:
        with console.status(status):
            return inputs, compute(inputs, config), salt
    return inputs, compute(inputs, config), salt


def deliver(
    g: GlobalOptions, inputs: Any, result: Any, salt: str | None, *, show: bool = True
) -> None:
    """Write ``--rejects``, warn about rejected rows, and render the result (masked)."""
    if g.rejects is not None:
        write_rejects(inputs.loaded, g.rejects)
    warn_rejected(result.input, g)
    if not show:
        return
    if salt is not None:
        from .masking import masked

        result = masked(result, salt)
    render(result, g)


def mask_salt(g: GlobalOptions, config: Any) -> str | None:
    """The salt for ``--mask-ids`` (None when ids are not masked); refuses an empty one."""
    if not g.mask_ids:
        return None
    from cust.pipelines.errors import InvalidOptionError

    salt = g.mask_salt or config.section("privacy").get("salt")
    if salt is not None and not isinstance(salt, str):
        msg = f"[privacy] salt must be a string, not {type(salt).__name__} {salt!r}"
        raise InvalidOptionError(msg, hint='quote it: [privacy] salt = "SECRET"')
    if not salt:
        msg = "--mask-ids needs a salt, so that hashed ids cannot be recovered by guessing"
        hint = 'add --mask-salt SECRET, or [privacy] salt = "SECRET" in cust.toml'
        raise InvalidOptionError(msg, hint=hint)
    return salt
