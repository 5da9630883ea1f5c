"""Rich rendering of any result: its tables, money with thousands separators, share bars.

Text from the data (cells, titles, headers, notes) is shown as it is, never read as Rich
markup (it goes in as ``Text``), and with its control characters written as escapes
(:func:`cust.pipelines.text.printable`): an ``ESC[2J`` in a cell cannot clear the screen.
"""

from datetime import date, datetime

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

from cust.pipelines.text import printable

BAR_WIDTH = 8
TEXT_MIN_WIDTH = 16  # a text cell longer than this may wrap in its column
# Short display headers for common columns; JSON and CSV keep the full snake_case names.
LABELS = {
    "order_share": "orders %",
    "revenue_share": "revenue %",
    "value_share": "value %",
    "customer_share": "cust. %",
    "gross_profit": "gross profit",
    "gross_margin": "margin",
    "avg_lines": "lines/ord",
    "avg_units": "units/ord",
    "rows_read": "rows",
    "rows_rejected": "rejected",
    "rejected_share": "rejected %",
    "cumulative_share": "cum. %",
    "order_share_change": "Δ orders %",
    "qualifying_orders": "qualifying",
    "qualifying_share": "qual. %",
    "subsidy_cost": "cost",
    "incremental_revenue": "+revenue",
    "net_gross_profit_effect": "net GP",
    "break_even_uptake": "break-even",
    "one_order_share": "1 order %",
    "payback_period": "payback",
    "repeat_gross_profit": "repeat GP",
}


def _bar(share: float) -> Text:
    filled = max(0, min(BAR_WIDTH, round(share * BAR_WIDTH)))
    return Text("█" * filled + "·" * (BAR_WIDTH - filled), style="cyan")


def _cell(value: object, *, money: bool, share: bool) -> str:
    if value is None:
        return "—"
    if share and isinstance(value, int | float):
        return f"{value:.1%}"
    if money and isinstance(value, int | float):
        from cust.pipelines.money import round_money  # one rule: half up, exact decimal

        return f"{round_money(value):,.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
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
    return printable(str(value))


def print_result(result, console: Console) -> None:
    """Print every table of ``result``, then its notes and the input summary."""
    for table in result.tables():
        frame = table.frame
        rich = RichTable(
            title=Text(printable(table.title)), title_justify="left", header_style="bold",
            box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
        )
        rows = [
            [(row[name], _cell(row[name], money=name in table.money,
                               share=name in table.shares)) for name in frame.columns]
            for row in frame.iter_rows(named=True)
        ]
        for i, (name, dtype) in enumerate(frame.schema.items()):
            numeric = dtype.is_numeric()
            justify = "left" if table.bar == name or not numeric else "right"
            bar = table.bar == name
            # Nothing is cut to "4,8…" on a narrow terminal: a column is as wide as its
            # longest cell (text cells wrap past TEXT_MIN_WIDTH) and its header's longest
            # word; headers wrap between words.
            label = printable(LABELS.get(name, name))
            cells = max((cell_len(r[i][1]) for r in rows), default=0)
            if not (numeric or bar):
                cells = min(cells, TEXT_MIN_WIDTH)
            word = max(cell_len(w) for w in label.split() or [""])
            rich.add_column(
                Text(label), justify=justify, no_wrap=bar,
                overflow="fold",  # a word longer than its column goes on, never cut to "…"
                min_width=max(cells, word, BAR_WIDTH + 7 if bar else 0),
            )
        for row in rows:
            cells: list = []
            for name, (value, text) in zip(frame.columns, row, strict=True):
                if table.bar == name:
                    cells.append(Text(f"{text:>6} ").append_text(_bar(value or 0.0)))
                else:
                    cells.append(Text(text))
            rich.add_row(*cells)
        if frame.height == 0:
            console.print(Text.assemble((printable(table.title), "bold"), ": no rows"))
        else:
            # Wider than the terminal: printed whole, its lines wrapped by the terminal,
            # rather than columns cropped.
            needed = Measurement.get(console, console.options.update(max_width=10**5), rich).minimum
            console.print(rich, width=max(needed, console.width), crop=False)
    for note in result.notes():
        console.print(Text(f"• {printable(note)}", style="dim"))
    parts = [
        f"{printable(name)}: {s.rows_read:,} rows read, {s.rows_rejected:,} rejected"
        for name, s in result.input.sources.items()
    ]
    if parts:
        console.print(Text("Input — " + "; ".join(parts), style="dim"))
