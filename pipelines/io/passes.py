"""Running plans: the one collect of a command, and lines to orders in one pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from ..errors import InputFileError
from .loader import FILE_INDEX, Source
from .orders import final_orders, order_pass, orders_frame, rows_apart, settle

# Polars' streaming engine: on 2 cores it ran every command 1.2-2x faster than the
# in-memory engine at 10M order lines and 50M events, with the same figures (the whole test
# suite passes on either), and it is what lets a plan work on files larger than memory.
ENGINE: Literal["streaming"] = "streaming"


def orders_and_tally(source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The per-order frame of ``source`` (orders) and its rows' tally, in one pass.

    The lines are grouped into orders once (:func:`.orders.order_pass`), the check across
    an order's lines made by the same group-by, and the rows counted from it and from
    the few rows apart (rejected, or of a suspicious time). Where that cannot be exact
    (:func:`.orders.settle`) the lines are checked across rows first, as a second pass.
    """
    if source.marked is not None:
        grouped, apart = run_plans([order_pass(source, source.marked), rows_apart(source)],
                                   [source])
        settled = settle(grouped, apart)
        if settled is not None:
            return settled
        if FILE_INDEX not in source.marked.collect_schema():  # the orders are right
            return final_orders(grouped), run_plans([source.tally()], [source])[0]
    per_order, tally = run_plans([orders_frame(source), source.tally()], [source])
    return per_order, tally


def run_plans(
    plans: Sequence[pl.LazyFrame], sources: Sequence[Source], *, share: bool = True
) -> list[pl.DataFrame]:
    """Collect ``plans`` together; a file that cannot be read is an error naming ``sources``.

    ``share=False`` keeps Polars from caching the parts the plans have in common: for
    plans that each read a different selection of one large file it caches the whole
    file's rows (50M events: 2.8 GB and 1.2x the time of running them apart).
    """
    flags = pl.QueryOptFlags() if share else pl.QueryOptFlags(comm_subplan_elim=False)
    try:
        return pl.collect_all(list(plans), engine=ENGINE, optimizations=flags)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        files = ", ".join(str(f.path) for s in sources for f in s.files)
        text = str(exc).strip().splitlines()
        detail = next((line for line in text if line.strip()), "unknown error")
        msg = f"could not read {files}: {detail}"
        hint = "check the rows near the problem (unbalanced quotes, more fields than headers)"
        raise InputFileError(msg, hint=hint) from None
