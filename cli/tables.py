"""Rich rendering of any result: its tables, money with thousands separators, share bars.

Text from the data (cells, titles, headers, notes) is shown as it is, never read as Rich
markup (it goes in as ``Text``), and with its control characters written as escapes
(:func:`cust.pipelines.text.printable`): an ``ESC[2J`` in a cell cannot clear the screen.
"""

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

from cust.pipelines.text import printable
from cust.reports.format import format_cell, formatted_figures, header

BAR_WIDTH = 8
TEXT_MAX_WIDTH = 32  # a longer text cell may fold when the names alone are too wide


def _bar(share: float) -> Text:
    filled = max(0, min(BAR_WIDTH, round(share * BAR_WIDTH)))
    return Text("█" * filled + "·" * (BAR_WIDTH - filled), style="cyan")


def _cell(value: object, kind: str) -> str:
    """A cell as the terminal shows it: :func:`cust.reports.format.format_cell`, escaped."""
    return printable(format_cell(value, kind))


def table_columns(result) -> list[str]:
    """Every column name of ``result``'s tables, in order, each once."""
    seen: dict[str, None] = {}
    for table in result.tables():
        seen.update(dict.fromkeys(table.frame.columns))
    return list(seen)


def check_columns(result, columns: tuple[str, ...]) -> None:
    """Refuse a ``--columns`` name that no table of ``result`` has (exit 2, the valid ones)."""
    if not columns:
        return
    valid = table_columns(result)
    unknown = [c for c in columns if c not in valid]
    if unknown:
        from cust.pipelines.errors import InvalidOptionError

        msg = f"--columns: no column {', '.join(map(repr, unknown))} in this command's tables"
        raise InvalidOptionError(msg, hint=f"choose from: {','.join(valid)}")


def _keys(frame, names: list[str] | None = None) -> int:
    """How many leading columns identify a row (text before the first number)."""
    n = 0
    for name in frame.columns if names is None else names:
        if frame.schema[name].is_numeric():
            break
        n += 1
    return max(n, 1)


def _chosen(table, *, wide: bool, columns: tuple[str, ...]) -> list[str]:
    """The columns shown: all (``--wide``), the chosen ones, or the table's default ones."""
    names = table.frame.columns
    if wide:
        return list(names)
    if columns:
        picked = [c for c in columns if c in names]
        if picked:
            keys = [c for c in names[: _keys(table.frame)] if c not in picked]
            return [*keys, *picked]
    return [c for c in table.shown if c in names] if table.shown else list(names)


def _rich_table(
    table, names: list[str], rows: list[dict], formatted: list[list[str]], *,
    compact: bool, cap: int | None = None,
):
    frame = table.frame
    own = dict(table.headers)
    rich = RichTable(
        title=Text(printable(table.title)), title_justify="left", header_style="bold",
        box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
    )
    for i, name in enumerate(names):
        numeric = frame.schema[name].is_numeric() or formatted_figures(frame[name])
        bar = table.bar == name
        # Nothing is cut to "4,8…" on a narrow terminal: a column is as wide as its longest
        # cell (a text cell longer than ``cap`` folds) and its header
        # (with ``compact``, its longest word: headers wrap between words).
        label = printable(own.get(name) or header(name))
        cells = max((cell_len(r[i]) for r in formatted), default=0)
        if cap is not None and not (numeric or bar):
            cells = min(cells, cap)
        # Each column gets its width here, so that the width measured is the one printed:
        # the whole header on one line, or (compact) its longest word.
        head = max(cell_len(w) for w in label.split() or [""]) if compact else cell_len(label)
        width = max(cells, head, BAR_WIDTH + 7 if bar else 0)
        rich.add_column(
            Text(label), justify="right" if numeric and not bar else "left", no_wrap=bar,
            overflow="fold",  # a word longer than its column goes on, never cut to "…"
            width=width, min_width=width,  # the minimum keeps it when printed wider
        )
    top = max((r[table.bar] or 0.0 for r in rows), default=0.0) if table.bar else 0.0
    scale = 1 / top if table.bar_to_max and top > 0 else 1.0
    for row, texts in zip(rows, formatted, strict=True):
        cells: list = []
        for name, text in zip(names, texts, strict=True):
            if table.bar == name:
                bar = _bar((row[name] or 0.0) * scale)
                cells.append(Text(f"{text:>6} ").append_text(bar))
            else:
                cells.append(Text(text))
        rich.add_row(*cells)
    return rich


def _print_whole(console: Console, rich) -> None:
    """Print ``rich`` at its own width when wider than the console (lines wrap, none cut)."""
    needed = _width(console, rich)
    if needed <= console.width:
        console.print(rich, crop=False)
        return
    width = console.width
    console.width = needed
    try:
        console.print(rich, crop=False)
    finally:
        console.width = width


def _width(console: Console, rich) -> int:
    return Measurement.get(console, console.options.update(max_width=10**5), rich).minimum


def print_result(
    result, console: Console, *, wide: bool = False, columns: tuple[str, ...] = ()
) -> None:
    """Print every table of ``result``, then its notes and the input summary.

    A table shows its default columns (``Table.shown``), all of them with
    ``wide``, or the key columns and ``columns``. Without ``wide``, columns are left out
    from the right until the table fits the console, and a note names them.
    """
    check_columns(result, columns)
    left_out: dict[str, None] = {}
    for table in result.tables():
        frame = table.frame
        names = _chosen(table, wide=wide, columns=columns)
        rows = list(frame.iter_rows(named=True))
        formatted = [
            [_cell(row[n], table.kind(n)) for n in names]
            for row in rows
        ]
        keep = min(_keys(frame, names), len(names))
        rich = _rich_table(table, names, rows, formatted, compact=False)
        if _width(console, rich) > console.width:
            rich = _rich_table(table, names, rows, formatted, compact=True)
        while not wide and len(names) > keep and _width(console, rich) > console.width:
            left_out[names[-1]] = None
            names = names[:-1]
            formatted = [texts[:-1] for texts in formatted]
            rich = _rich_table(table, names, rows, formatted, compact=True)
        excess = _width(console, rich) - console.width
        if excess > 0:  # the names alone are too wide: the longest text folds, not cut
            longest = max(cell_len(t) for texts in formatted for t in texts)
            cap = max(TEXT_MAX_WIDTH, longest - excess)
            rich = _rich_table(table, names, rows, formatted, compact=True, cap=cap)
        if not wide:
            left_out.update(dict.fromkeys(c for c in frame.columns if c not in names))
        if frame.height == 0:
            console.print(Text.assemble((printable(table.title), "bold"), ": no rows"))
        else:
            # Still wider than the terminal (--wide, or keys that long): printed whole, its
            # lines wrapped by the terminal, rather than columns cropped.
            _print_whole(console, rich)
    for note in result.notes():
        console.print(Text(f"• {printable(note)}", style="dim"))
    parts = [
        f"{printable(name)}: {s.rows_read:,} rows read, {s.rows_rejected:,} rejected"
        for name, s in result.input.sources.items()
    ]
    if parts:
        console.print(Text("Input — " + "; ".join(parts), style="dim"))
    if left_out:
        more = ", ".join(printable(c) for c in left_out)
        console.print(Text(f"More columns: {more} (--wide shows them all; --columns "
                           "chooses)", style="dim"))
