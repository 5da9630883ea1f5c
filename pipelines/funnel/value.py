"""Value in funnels (``--value``): the revenue and gross profit at each step and drop-off.

Every event of a step gets a value in micro-units (:data:`..money.MICRO`, summed exactly as
integers and rounded to the cent once, as every money figure):

* ``--value COL``: the events column ``COL`` (the value of the event's items: price x
  quantity on a view or cart, the order's value on a purchase). No gross profit.
* ``--value orders``: from the orders export. An event carrying an ``order_id`` of a paid
  order takes that order's value and gross profit; any other event carrying a ``sku`` takes
  the SKU's paid price per unit (sum of ``amount`` / sum of ``quantity`` over its paid lines,
  the whole export) and its gross profit per unit (over its lines with a cost), times the
  event's ``quantity`` when the events have one (else one unit). Events with neither count 0.

A unit's value at step k is the sum over its ``s_k`` events at or after the time it reached
the step (for ``--unit user`` within ``--window`` of its step-1 time): every item it carted
from its first cart on, not only the first. With ``--order any`` (a step may come before the
steps numbered before it) every event of the step counts. An order counts once per unit and
step, however many of its events carry its id. The value lost into step k is the value at
the step it converts from (:meth:`.spec.FunnelSpec.reference`) of the units that did not
reach step k.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..errors import MissingColumnError
from ..io.loader import Source
from ..io.orders import orders_frame, paid_lines
from ..money import MICRO, round_money
from .spec import FunnelSpec

VALUE, PROFIT = "__value", "__profit"  # per event, in micro-units (Int64)
ORDERS = "orders"  # --value orders: priced from the orders export
ORDER_ID = "order_id"
ORDER = "__order"  # an event's order_id when the orders export has that paid order


def _micro(expr: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.Float64, strict=False) * MICRO).round(0).cast(pl.Int64, strict=False)


def value_columns(spec: FunnelSpec, events: Source) -> list[str]:
    """The events columns ``--value`` reads (refused when the events lack them)."""
    if spec.value is None:
        return []
    if spec.value != ORDERS:
        if not events.has(spec.value):
            found = ", ".join(events.columns)
            msg = f"--value {spec.value}: the events export has no {spec.value!r} column " \
                  f"(columns: {found})"
            raise MissingColumnError(msg, hint="give an events column holding money, or "
                                     "--value orders (priced from the orders export)")
        return [spec.value]
    cols = [c for c in (ORDER_ID, "sku", "quantity") if events.has(c)]
    if ORDER_ID not in cols and "sku" not in cols:
        msg = "--value orders: the events have neither order_id nor sku to price them by"
        raise MissingColumnError(msg, hint="use --value COL with an events column of money")
    return cols


def priced(events: pl.LazyFrame, spec: FunnelSpec, columns: list[str],
           orders: Source | None) -> tuple[pl.LazyFrame, bool]:
    """``events`` with :data:`VALUE` and :data:`PROFIT` (micro-units) and whether a profit is known.

    ``columns`` from :func:`value_columns` (dropped here, except ``order_id``).
    """
    if spec.value != ORDERS:
        return events.with_columns(_micro(pl.col(columns[0])).alias(VALUE),
                                   pl.lit(None, dtype=pl.Int64).alias(PROFIT)), False
    assert orders is not None
    profit = orders.has("cost")
    parts: list[pl.Expr] = []
    if "sku" in columns and orders.has("sku") and orders.has("quantity"):
        lines = paid_lines(orders).filter(pl.col("sku").is_not_null())
        margin = (pl.col("amount") - pl.col("cost")) if profit else pl.lit(None)
        prices = lines.group_by(pl.col("sku").cast(pl.String)).agg(
            (_micro(pl.col("amount")).sum() / pl.col("quantity").sum()).alias("__sku_value"),
            (_micro(margin).filter(margin.is_not_null()).sum()
             / pl.col("quantity").filter(margin.is_not_null()).sum()).alias("__sku_profit"),
        )
        events = events.with_columns(pl.col("sku").cast(pl.String)).join(
            prices, on="sku", how="left")
        qty = (pl.col("quantity").cast(pl.Float64, strict=False).fill_null(1.0)
               if "quantity" in columns else pl.lit(1.0))
        parts = [(pl.col("__sku_value") * qty).round(0).cast(pl.Int64),
                 (pl.col("__sku_profit") * qty).round(0).cast(pl.Int64)]
    elif "sku" in columns and ORDER_ID not in columns:
        msg = "--value orders: the orders export has no sku or quantity to price SKUs by"
        raise MissingColumnError(msg, hint="use --value COL with an events column of money")
    if ORDER_ID in columns:
        per_order = orders_frame(orders).select(
            pl.col("order_id").cast(pl.String).alias(ORDER_ID),
            _micro(pl.col("value")).alias("__order_value"),
            _micro(pl.col("gross_profit")).alias("__order_profit"),
        )
        events = events.with_columns(pl.col(ORDER_ID).cast(pl.String)).join(
            per_order, on=ORDER_ID, how="left")
        parts = [pl.coalesce("__order_value", *parts[:1]),
                 pl.coalesce("__order_profit", *parts[1:])]
        events = events.with_columns(
            pl.when(pl.col("__order_value").is_not_null()).then(pl.col(ORDER_ID)).alias(ORDER))
    return events.with_columns(parts[0].fill_null(0).alias(VALUE),
                               parts[1].fill_null(0).alias(PROFIT)), profit


def step_values(units: pl.LazyFrame, per_unit: pl.LazyFrame, spec: FunnelSpec,
                key: list[str]) -> pl.LazyFrame:
    """``per_unit`` with ``__v{k}`` and ``__g{k}``: the unit's value and profit at step k.

    ``units`` are the priced events with the unit key ``key``; an order (``__order``: an
    ``order_id`` found in the orders export) counts once per unit and step.
    """
    n = len(spec.steps)
    times = [f"t{k}" for k in range(1, n + 1)]
    ordered = ORDER in units.collect_schema()
    ev = units.filter(pl.col("event").is_in(list(spec.steps))).select(
        *key, "event", "event_time", VALUE, PROFIT, *([ORDER] if ordered else []))
    ev = ev.join(per_unit.select(*key, *times), on=key)
    counted = pl.lit(False)
    for k, step in enumerate(spec.steps, start=1):
        # --order any: t_k is when the last of steps 1..k was first done, so a step done
        # early counts from its first event, not from t_k.
        since = (pl.col(f"t{k}").is_not_null() if spec.order == "any"
                 else pl.col("event_time") >= pl.col(f"t{k}"))
        counted = counted | ((pl.col("event") == step) & since)
    if spec.unit == "user":
        counted = counted & (pl.col("event_time") <= pl.col("t1") + spec.window)
    ev = ev.filter(counted)
    if ordered:  # an order once per unit and step
        ev = pl.concat([ev.filter(pl.col(ORDER).is_null()),
                        ev.filter(pl.col(ORDER).is_not_null())
                        .unique(subset=[*key, "event", ORDER], keep="any")])
    aggs = []
    for k, step in enumerate(spec.steps, start=1):
        at = pl.col("event") == step
        aggs += [pl.col(VALUE).filter(at).sum().alias(f"__v{k}"),
                 pl.col(PROFIT).filter(at).sum().alias(f"__g{k}")]
    values = ev.group_by(*key).agg(aggs)
    return per_unit.join(values, on=key, how="left")


def value_counts(spec: FunnelSpec) -> list[pl.Expr]:
    """Sums for the counting group-by: value and profit at each step and lost into it."""
    out = []
    for k in range(1, len(spec.steps) + 1):
        here = pl.col(f"t{k}").is_not_null()
        out += [pl.col(f"__v{k}").filter(here).sum().alias(f"__value_{k}"),
                pl.col(f"__g{k}").filter(here).sum().alias(f"__profit_{k}")]
        if k > 1:
            r = spec.reference(k)
            lost = pl.col(f"t{r}").is_not_null() & ~here
            out += [pl.col(f"__v{r}").filter(lost).sum().alias(f"__value_lost_{k}"),
                    pl.col(f"__g{r}").filter(lost).sum().alias(f"__profit_lost_{k}")]
    return out


def value_names(spec: FunnelSpec) -> list[str]:
    """The output names of :func:`value_counts`."""
    return [e.meta.output_name() for e in value_counts(spec)]


def yuan(micro: Any) -> float | None:
    """Micro-units to yuan, rounded to the cent (None stays None)."""
    return None if micro is None else round_money(int(micro) / MICRO)


def step_columns(spec: FunnelSpec, tot: dict[str, Any], profit: bool) -> dict[str, list[Any]]:
    """Per step: ``value``, ``value_lost`` (and ``gross_profit``, ``gross_profit_lost``)."""
    n = len(spec.steps)
    cols: dict[str, list[Any]] = {
        "value": [yuan(tot[f"__value_{k}"]) for k in range(1, n + 1)],
        "value_lost": [0.0, *[yuan(tot[f"__value_lost_{k}"]) for k in range(2, n + 1)]],
    }
    if profit:
        cols["gross_profit"] = [yuan(tot[f"__profit_{k}"]) for k in range(1, n + 1)]
        cols["gross_profit_lost"] = [0.0, *[yuan(tot[f"__profit_lost_{k}"])
                                            for k in range(2, n + 1)]]
    return cols
