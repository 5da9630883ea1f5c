"""What every analysis command does around its pipeline: inputs in, result out."""

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .options import GlobalOptions
from .output import (
    render,
    special_target,
    stderr,
    stdout_errors,
    warn_inputs,
    warn_rejected,
    write_rejects,
)


def open_inputs(g: GlobalOptions):
    """Build the lazily opened inputs from the global options and ``cust.toml``."""
    from cust.pipelines.io import Inputs, LoadOptions
    from cust.pipelines.settings import engine_settings, load_config, parse_column_map

    config = load_config(g.config)
    columns: dict[str, dict[str, str]] = {k: dict(v) for k, v in config.columns.items()}
    for source, mapping in parse_column_map(list(g.map)).items():
        columns.setdefault(source, {}).update(mapping)
    options = LoadOptions(encoding=g.encoding, columns=columns, timezone=config.timezone,
                          dedupe=g.dedupe,
                          date_format=g.date_format or config.date_format or "auto")
    paths = {"orders": g.orders, "customers": g.customers, "events": g.events, "prices": g.prices}
    engine = engine_settings(config, str(g.engine) if g.engine else None)
    return Inputs(paths, options, cache_of(g, config), engine), config


def cache_of(g: GlobalOptions, config: Any):
    """The validated orders and events cache: off with --no-cache or ``[cache] enabled = false``."""
    from cust.pipelines.errors import ConfigError
    from cust.pipelines.io import Cache, default_dir

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


def check_out_path(
    g: GlobalOptions, inputs, config=None, reads=(), *, rendered: bool = True
) -> list[tuple[str, Path]]:
    """Refuse an ``--out`` or ``--rejects`` that cannot take the output or would destroy a file.

    Refused: a directory, a spreadsheet name, a ``--format`` that its suffix contradicts
    (when ``rendered``, i.e. ``--out`` gets the rendered result), and any file the run
    reads (the config in use, ``reads`` such as a scenarios file, every input file) or
    writes under another option. Returns the files read, for :func:`refuse_overwrite`.
    """
    from cust.pipelines.errors import InvalidOptionError

    targets = {opt: p for opt, p in (("--out", g.out), ("--rejects", g.rejects)) if p}
    for flag, path in targets.items():
        if special_target(path):  # /dev/null, /dev/stdout, a fifo: written to as they are
            continue
        if path.expanduser().is_dir():
            msg = f"{flag} {path} is a directory"
            raise InvalidOptionError(msg, hint=f"give {flag} a file name, e.g. {flag} result.csv")
        if path.suffix.lower() in SPREADSHEETS:  # it would get the table as plain text
            msg = f"{flag} {path}: cust does not write {path.suffix} workbooks"
            raise InvalidOptionError(msg, hint="write .csv (spreadsheets open it) or .parquet")
    if rendered and g.out is not None and g.format is not None:
        check_format_suffix(g.format, g.out)
    read = files_read(inputs, config, reads)
    refuse_overwrite(targets, read)
    return read


def check_format_suffix(fmt, out: Path) -> None:
    """Refuse ``--format`` with an ``--out`` whose suffix says another format."""
    from cust.pipelines.errors import InvalidOptionError

    from .output import SUFFIX_FORMATS

    suffix = out.suffix.lower()
    implied = "parquet" if suffix == ".parquet" else SUFFIX_FORMATS.get(suffix)
    if implied is None or implied == fmt.value or special_target(out):
        return
    msg = f"--format {fmt.value} and --out {out} disagree: a {suffix} file holds {implied}"
    hint = f"drop --format (the suffix chooses), or name the file .{fmt.value}"
    if fmt.value == "table":
        hint = "drop --format, or name the file .txt for the table as text"
    raise InvalidOptionError(msg, hint=hint)


def files_read(inputs, config=None, reads=()) -> list[tuple[str, Path]]:
    """Every file the run reads, as ``(what, path)``: config, ``reads``, each input file."""
    from cust.pipelines.io import resolve_paths

    read: list[tuple[str, Path]] = []
    if config is not None and getattr(config, "path", None) is not None:
        read.append(("config file", config.path))
    read.extend((what, path) for what, path in reads if path is not None)
    for name, spec in inputs.paths.items():
        if spec is None:
            continue
        try:
            files = resolve_paths(spec, name)
        except Exception:
            continue
        read.extend((f"{name} input", f) for f in files)
    return read


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file: resolved (symlinks, ``..``) or the same inode."""
    a, b = a.expanduser(), b.expanduser()
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def refuse_overwrite(targets: dict[str, Path], read: list[tuple[str, Path]]) -> None:
    """Refuse a target that is a file the run reads, or that another target also names."""
    from cust.pipelines.errors import InvalidOptionError

    hint = "write the output to another file"
    named = [(flag, path) for flag, path in targets.items() if not special_target(path)]
    for i, (flag, path) in enumerate(named):
        for what, source in read:
            if _same(path, source):
                msg = f"{flag} {path} would overwrite the {what}"
                if Path(source) != path:
                    msg += f" ({source})"
                raise InvalidOptionError(msg, hint=hint)
        for other, path2 in named[i + 1:]:
            if _same(path, path2):
                msg = f"{flag} {path} and {other} {path2} name the same file"
                raise InvalidOptionError(msg, hint=f"give {other} another file name")


def run(
    g: GlobalOptions, compute: Callable[[Any, Any], Any], reads: Sequence[tuple[str, Any]] = ()
) -> Any:
    """Open the inputs, run ``compute(inputs, config)``, report rejects, render the result.

    ``reads`` names further files the command reads (a scenarios file): never a target.
    """
    inputs, result, salt = computed(g, compute, reads=reads)
    deliver(g, inputs, result, salt)
    return result


def computed(
    g: GlobalOptions,
    compute: Callable[[Any, Any], Any],
    status: str = "reading exports and computing…",
    *,
    reads: Sequence[tuple[str, Any]] = (),
    target: Callable[[Any], tuple[str, Path]] | None = None,
) -> tuple[Any, Any, str | None]:
    """Open the inputs, check ``--out`` and the mask salt, then compute (with a spinner).

    ``target(result)``, when given, is ``(flag, path)`` of a file named from the result
    (``--out-dir``): refused, like ``--out``, over a file read or ``--rejects``. It also
    means that ``--out`` does not get the rendered result (``--format`` goes to stdout).
    Returns ``(inputs, result, salt)``; ``salt`` is None unless ids are masked.
    """
    inputs, config = open_inputs(g)
    read = check_out_path(g, inputs, config, reads, rendered=target is None)
    salt = mask_salt(g, config)
    console = stderr()
    from cust.pipelines.errors import CustError

    try:
        if console.is_terminal and not g.quiet:
            with console.status(status):
                result = compute(inputs, config)
        else:
            result = compute(inputs, config)
    except CustError:
        refuse_rejected(g, inputs, None)  # an export mostly rejected says why it failed
        raise
    refuse_rejected(g, inputs, result.input)
    if target is not None:
        flag, path = target(result)
        targets = {flag: path, "--rejects": g.rejects} if g.rejects else {flag: path}
        refuse_overwrite(targets, read)
    return inputs, result, salt


def refuse_rejected(g: GlobalOptions, inputs: Any, report: Any) -> None:
    """Exit 2 when an export's rows are all, or mostly for one reason, rejected.

    Every command, ``cust check`` too (its message names the reason, cells and the fix),
    before anything is written but ``--rejects``, so the rows can be looked at.
    ``report`` None (the command failed): the sources loaded are counted now, and nothing
    is raised when that fails too (the command's own error stands).
    """
    from cust.pipelines.io import refusal, tally_loaded

    if report is None:
        try:
            report = tally_loaded(inputs.loaded)
        except Exception:  # the command's own error is the one to show
            return
    error = refusal(inputs.loaded, report)
    if error is None:
        return
    if g.rejects is not None:
        write_rejects(inputs.loaded, g.rejects)
    raise error


def deliver(
    g: GlobalOptions, inputs: Any, result: Any, salt: str | None, *, show: bool = True
) -> None:
    """Write ``--rejects``, warn about rejected rows, and render the result (masked)."""
    if g.rejects is not None:
        write_rejects(inputs.loaded, g.rejects)
    warn_rejected(result.input, g)
    warn_inputs(result.input, g)
    if not show:
        return
    if salt is not None:
        from cust.reports.masking import masked

        result = masked(result, salt)
    if g.out is None:
        with stdout_errors():
            render(result, g)
    else:
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
