"""The output layer: any result as a Rich table, JSON, CSV, Parquet or HTML.

stdout carries only data; warnings and progress go to stderr. Files are written
atomically (a temporary file in the target directory, then a rename), so a cron job
never leaves half a report behind. CSV cells that a spreadsheet would run as a formula
are neutralised with a leading apostrophe.
"""

import errno
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from .options import Format, GlobalOptions

PIPE_WIDTH = 160  # columns of a table printed into a pipe or file


class StdoutConsole(Console):
    """The console of the tables on stdout: a closed pipe ends the run with exit 0.

    ``cust check | head -1`` is a normal use: Rich's default ends it with exit 1.
    """

    def on_broken_pipe(self) -> None:
        """Send the rest to /dev/null (nothing fails at exit) and end with exit 0."""
        self.quiet = True
        _drop_stdout()
        raise SystemExit(0)


def stderr() -> Console:
    """A console on stderr for warnings and progress; what it prints is never markup."""
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, markup=False)


def say(
    *parts: str | tuple[str, str], lines: bool = False, console: Console | None = None
) -> None:
    """Print one message on stderr: ``parts`` are text or ``(text, style)``.

    Paths and data in a message are shown as they are: never read as Rich markup (a file
    named ``[red]x.csv`` or ``weekly[/].html``), and with control characters written as
    escapes (:func:`cust.pipelines.text.printable`), line breaks too unless ``lines``
    (for a message whose line breaks the program wrote, its data escaped already).
    """
    from rich.text import Text

    from cust.pipelines.text import printable

    text = Text.assemble(*(
        (printable(p[0], newlines=lines), p[1]) if isinstance(p, tuple)
        else printable(p, newlines=lines)
        for p in parts
    ))
    (console or stderr()).print(text)


def write_atomic(path: Path, write: Callable[[Any], None], *, binary: bool = False) -> None:
    """Write through ``write(fh)`` into a temp file beside ``path``, then rename.

    A target that exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a
    fifo) is written to directly: renaming over it would replace the device node. A
    symlink to a file keeps its link; the file it points to is replaced. A write that
    fails (disk full, read-only folder, a file where a folder should be) raises
    :class:`OutputFileError` naming the path, and leaves no partial file.
    """
    target = path.expanduser()
    mode = "wb" if binary else "w"
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    tmp: str | None = None
    try:
        if special_target(target):
            with open(target, mode, **text) as fh:
                write(fh)
            return
        if target.is_symlink():
            target = Path(os.path.realpath(target))
        directory = target.parent if str(target.parent) else Path()
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, mode, **text) as fh:
            write(fh)
        # mkstemp creates the file private (0600); give it the usual permissions instead.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def special_target(path: Path) -> bool:
    """True when ``path`` exists and is neither a regular file nor a directory."""
    try:
        mode = path.expanduser().stat().st_mode  # follows symlinks: /dev/stdout -> /proc/self/fd/1
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_error(where: object, exc: OSError) -> Exception:
    """The :class:`OutputFileError` for a failed write to ``where`` (a path or "stdout")."""
    from cust.pipelines.errors import OutputFileError

    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space on that disk, or write to another one"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "the folder is not writable by you: choose another path or fix its permissions"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):  # mkdir of a folder that is a file
        reason = "a part of its path is a file, not a folder"
        hint = "choose another path, or move that file"
    elif exc.errno == errno.EISDIR:
        hint = "give a file name, not a folder"
    else:
        hint = "check the path, the disk and the folder's permissions"
    return OutputFileError(f"could not write {where}: {reason}", hint=hint)


@contextmanager
def stdout_errors() -> Iterator[None]:
    """Turn a failed write to stdout (a full disk under ``> file``) into exit 2.

    Flushes at the end, so that nothing is left for the exit to fail on. A closed pipe
    (``| head``) stays what it was: a quiet end.
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _drop_stdout()
        where = "stdout"
        raise write_error(where, exc) from None


def _drop_stdout() -> None:
    """Point stdout at /dev/null so that the exit's flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):  # no real descriptor (tests)
        pass


SUFFIX_FORMATS = {
    ".json": Format.json, ".csv": Format.csv, ".html": Format.html, ".htm": Format.html
}


def render(result, g: GlobalOptions) -> None:
    """Render ``result`` in the chosen format to stdout or ``--out``.

    Without ``--format`` the suffix of ``--out`` chooses: .json, .csv, .html, .parquet;
    anything else gets the terminal table as plain text.
    """
    from cust.reports.export import csv_ready, export_frame

    out = g.out
    if out is not None and out.suffix.lower() == ".parquet":
        main = export_frame(result)
        write_atomic(out, lambda fh: main.write_parquet(fh), binary=True)
        return
    fmt = g.format or SUFFIX_FORMATS.get(out.suffix.lower() if out else "", Format.table)
    if fmt is Format.json:
        text = json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"
    elif fmt is Format.csv:
        text = csv_ready(export_frame(result)).write_csv()
    elif fmt is Format.html:
        from cust.reports.html import render_result

        text = render_result(result)
    else:
        text = None
    if text is not None:
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_atomic(out, lambda fh: fh.write(text))
        return
    from .tables import check_columns, print_result

    check_columns(result, g.columns)
    shown = {"wide": g.wide, "columns": g.columns}
    if out is None:
        console = StdoutConsole(highlight=False, emoji=False)
        if not console.is_terminal and "COLUMNS" not in os.environ:
            # Piped or redirected (cron mail, a file): as wide as the tables need, not 80.
            console = StdoutConsole(highlight=False, emoji=False, width=PIPE_WIDTH)
        print_result(result, console, **shown)
    else:
        buffer = io.StringIO()
        print_result(
            result,
            Console(file=buffer, width=120, highlight=False, color_system=None, emoji=False),
            **shown,
        )
        write_atomic(out, lambda fh: fh.write(buffer.getvalue()))


def warn_rejected(report, g: GlobalOptions) -> None:
    """One line on stderr per source with rejected rows; exit 2 under --strict."""
    from cust.pipelines.errors import RejectedRowsError

    bad = {n: s for n, s in report.sources.items() if s.rows_rejected}
    if not bad:
        return
    parts = []
    for name, s in bad.items():
        shown = list(s.reasons.items())
        reasons = ", ".join(f"{r} {n}" for r, n in shown[:4])
        if len(shown) > 4:
            reasons += f" and {len(shown) - 4} more reason{'s' if len(shown) > 5 else ''}"
        parts.append(f"{s.rows_rejected} of {s.rows_read} {name} rows rejected ({reasons})")
    line = "; ".join(parts)
    if g.strict:
        msg = f"--strict: {line}"
        raise RejectedRowsError(msg, hint="fix the rows (see --rejects PATH) or drop --strict")
    if not g.quiet:
        where = f"written to {g.rejects}" if g.rejects else "see them with --rejects PATH"
        say(("warning:", "yellow"), f" {line}; {where}")


def warn_inputs(report, g: GlobalOptions) -> None:
    """A line on stderr per doubt about rows that were read (``InputReport.warnings``)."""
    if g.quiet:
        return
    for line in report.warnings():
        say(("warning:", "yellow"), f" {line}")


def write_rejects(sources, path: Path) -> None:
    """Write every rejected row of every loaded source, with ``reason``, to ``path``."""
    from cust.pipelines.io import rejected_rows
    from cust.reports.export import neutralise

    table = rejected_rows(sources)
    if table is None:
        return
    if path.suffix.lower() == ".parquet":
        write_atomic(path, lambda fh: table.write_parquet(fh), binary=True)
    else:
        write_atomic(path, lambda fh: fh.write(neutralise(table).write_csv()))


def fail(message: str, hint: str | None = None) -> None:
    r"""Print an error (and its ``Hint:``) to stderr and exit 2.

    With a separate ``hint``, a line break in ``message`` (which names paths and values
    from the data) is shown as ``\n``, so that no data can forge a line of its own.
    """
    from cust.pipelines.text import printable

    text = printable(message, newlines=hint is None)
    say(("error:", "bold red"), " ", text, *([f"\nHint: {hint}"] if hint else []), lines=True)
    raise typer.Exit(2)
