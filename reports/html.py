"""HTML rendering: one safe Jinja2 environment, templates fed plain dicts.

Autoescaping is on for every template and undefined variables are errors, so a value
from the data (a customer id like ``<script>``) can only ever appear as text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment of ``cust`` (autoescape on, strict undefined)."""
    env = Environment(
        loader=PackageLoader("cust.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = format_cell
    return env


def format_cell(value: Any, kind: str = "") -> str:
    """Format one table cell as text (money with two decimals, shares as percent)."""
    if value is None:
        return "—"
    if kind == "share" and isinstance(value, int | float):
        return f"{value:.1%}"
    if kind == "money" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render_result(result: Any) -> str:
    """Render any result's tables, notes and input summary as one HTML page."""
    tables = []
    for t in result.tables():
        kinds = {c: "money" for c in t.money} | {c: "share" for c in t.shares}
        tables.append(
            {
                "title": t.title,
                "columns": [{"name": c, "kind": kinds.get(c, "")} for c in t.frame.columns],
                "rows": t.frame.rows(),
                "numeric": [dtype.is_numeric() for dtype in t.frame.dtypes],
            }
        )
    inputs = [
        {"source": name, "rows_read": s.rows_read, "rows_rejected": s.rows_rejected}
        for name, s in result.input.sources.items()
    ]
    page = environment().get_template("result.html")
    return page.render(command=result.command, tables=tables, notes=result.notes(), inputs=inputs)
