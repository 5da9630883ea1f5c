"""Rich rendering of any result: its tables, money with thousands separators, share bars."""

from datetime import date, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

BAR_WIDTH = 20


def _bar(share: float) -> Text:
    filled = max(0, min(BAR_WIDTH, round(share * BAR_WIDTH)))
    return Text("█" * filled + "·" * (BAR_WIDTH - filled), style="cyan")


def _cell(value: object, *, money: bool, share: bool) -> str:
    if value is None:
        return "—"
    if share and isinstance(value, int | float):
        return f"{value:.1%}"
    if money and isinstance(value, int | float):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if (value.hour or value.minute)
            else f"{value:%Y-%m-%d}"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v, money=money, share=share) for v in value)
    return str(value)


def print_result(result, console: Console) -> None:  # noqa: ANN001
    """Print every table of ``result``, then its notes and the input summary."""
    for table in result.tables():
        frame = table.frame
        rich = RichTable(title=escape(table.title), title_justify="left", header_style="bold")
        for name, dtype in frame.schema.items():
            numeric = dtype.is_numeric()
            rich.add_column(escape(name), justify="right" if numeric else "left")
            if table.bar == name:
                rich.add_column("", justify="left")
        for row in frame.iter_rows(named=True):
            cells: list = []
            for name in frame.columns:
                value = row[name]
                text = _cell(value, money=name in table.money, share=name in table.shares)
                cells.append(Text(text))
                if table.bar == name:
                    cells.append(_bar(value or 0.0))
            rich.add_row(*cells)
        if frame.height == 0:
            console.print(f"[bold]{escape(table.title)}[/]: no rows")
        else:
            console.print(rich)
    for note in result.notes():
        console.print(Text(f"• {note}", style="dim"))
    parts = [
        f"{name}: {s.rows_read:,} rows read, {s.rows_rejected:,} rejected"
        for name, s in result.input.sources.items()
    ]
    if parts:
        console.print(Text("Input — " + "; ".join(parts), style="dim"))
