"""RFM: recency, frequency and monetary scores of customers, and named segments.

Measures, per customer, over the paid orders inside ``--since``/``--until`` and not after
the analysis date (``--as-of``; default: the latest order date in the analysed period):

- ``days_since_last`` (recency): whole days from the date of the last order to the
  analysis date (0 when the customer bought that day);
- ``orders`` (frequency): number of paid orders;
- ``monetary``: total order value (``value``, default) or total gross profit
  (``gross_profit``; needs a cost column, and orders without cost add nothing).

Scores, 1 to 5 for each measure, by quantile of rank among the ``n`` scored customers::

    rank  = ascending rank of the measure, ties given the minimum rank (rank("min"))
    score = ceil(5 * rank / n), clipped to [1, 5]   (computed exactly: (5*rank + n - 1) // n)

Frequency and monetary are ranked ascending (more is better). Recency is ranked on
``-days_since_last`` — the customer who bought longest ago has rank 1 and the most recent
ones the highest rank — so the most recent customers get R = 5. Because tied customers all
get the minimum rank of their tie, ties share a score and never get a higher score than the
lowest of the positions they occupy: when 60 of 100 customers have exactly one order, all 60
have rank 1 and F = 1. With very many ties (for example every customer ordered on the same
day) a score can therefore stay low for everyone; that is the definition, not a bug.

Segments come from (R, F) rules, tried in order, first match wins (:data:`DEFAULT_RULES`
cover the whole 5 x 5 grid, so every customer is in exactly one segment). ``cust.toml`` may
replace them (the table replaces the default rules; it is not merged)::

    [rfm.segments]
    champions = { r = [5, 5], f = [4, 5] }
    big_spenders = { r = [1, 5], f = [1, 5], m = [5, 5] }

Each range is inclusive; a missing ``r`` or ``f`` means 1-5, ``m`` is optional. Customers
no rule matches are put into ``other``.

The member list also carries the columns CLV models (BG/NBD, Gamma-Gamma) expect, as
``lifetimes.utils.summary_data_from_transaction_data(freq="D")`` defines them: ``frequency``
= distinct order days - 1, ``recency`` = days from the first to the last order day, ``T`` =
days from the first order day to the analysis date, ``monetary_value`` = mean of the
per-day order value totals over the repeat days (the first order day left out; 0 without a
repeat day). ``monetary_value`` is always order value, whatever ``--monetary`` says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import product
from typing import Any, ClassVar

import polars as pl

from ..errors import ConfigError, EmptySelectionError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.orders import Period, customer_orders, has_cost
from ..money import MICRO, exact_sum, money
from ..result import Result, Table
from ..settings import Config

MONETARY = ("value", "gross_profit")
SCORES = (1, 2, 3, 4, 5)
OTHER = "other"
_RULE_EXAMPLE = "[rfm.segments]\nchampions = { r = [5, 5], f = [4, 5] }\nlost = { r = [1, 1] }"

Range = tuple[int, int]


@dataclass(frozen=True)
class Rule:
    """A named segment: inclusive ranges of R, F and (optionally) M scores."""

    segment: str
    r: Range = (1, 5)
    f: Range = (1, 5)
    m: Range | None = None

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether scores ``(r, f, m)`` fall into this rule."""
        ok = self.r[0] <= r <= self.r[1] and self.f[0] <= f <= self.f[1]
        return ok and (self.m is None or self.m[0] <= m <= self.m[1])

    def expr(self) -> pl.Expr:
        """True for the member rows whose scores fall into this rule."""
        cond = pl.col("r_score").is_between(*self.r) & pl.col("f_score").is_between(*self.f)
        if self.m is not None:
            cond = cond & pl.col("m_score").is_between(*self.m)
        return cond

    def to_json(self) -> dict[str, Any]:
        """``{"segment", "r": [lo, hi], "f": [lo, hi], "m": [lo, hi] | None}``."""
        return {
            "segment": self.segment,
            "r": list(self.r),
            "f": list(self.f),
            "m": list(self.m) if self.m else None,
        }


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("champions", r=(5, 5), f=(4, 5)),
    Rule("loyal", r=(3, 4), f=(4, 5)),
    Rule("cant_lose_them", r=(1, 2), f=(5, 5)),
    Rule("at_risk", r=(1, 2), f=(3, 4)),
    Rule("need_attention", r=(3, 3), f=(3, 3)),
    Rule("potential_loyalists", r=(4, 5), f=(2, 3)),
    Rule("promising", r=(4, 4), f=(1, 1)),
    Rule("new", r=(5, 5), f=(1, 1)),
    Rule("about_to_sleep", r=(3, 3), f=(1, 2)),
    Rule("hibernating", r=(2, 2), f=(1, 2)),
    Rule("lost", r=(1, 1), f=(1, 2)),
)


def _range(value: Any, key: str, name: str, where: str) -> Range:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        msg = f"{where}: [rfm.segments] {name}.{key} = {value!r} is not a score range"
        hint = f"write {key} = [lo, hi] with scores 1 to 5, e.g. {key} = [4, 5]"
        raise ConfigError(msg, hint=hint)
    lo, hi = value
    if not (1 <= lo <= hi <= 5):
        msg = f"{where}: [rfm.segments] {name}.{key} = {value!r}: scores run from 1 to 5, lo <= hi"
        raise ConfigError(msg, hint=f"e.g. {key} = [4, 5]")
    return (lo, hi)


def parse_rules(section: Mapping[str, Any], *, where: str = "cust.toml") -> tuple[Rule, ...]:
    """Validate the ``[rfm]`` table of ``cust.toml`` into segment rules.

    Without a ``segments`` table the :data:`DEFAULT_RULES` apply.

    Raises
    ------
    ConfigError
        An unknown key, a rule that is not a table, or a range that is not ``[lo, hi]``
        with ``1 <= lo <= hi <= 5``.

    Examples
    --------
    >>> rules = parse_rules({"segments": {"best": {"r": [5, 5], "f": 5}, "rest": {}}})
    >>> [(rule.segment, rule.r, rule.f) for rule in rules]
    [('best', (5, 5), (5, 5)), ('rest', (1, 5), (1, 5))]
    """
    unknown = sorted(set(section) - {"segments"})
    if unknown:
        msg = f"{where}: unknown key {unknown[0]!r} in [rfm]"
        raise ConfigError(msg, hint=_RULE_EXAMPLE)
    segments = section.get("segments")
    if segments is None:
        return DEFAULT_RULES
    if not isinstance(segments, Mapping) or not segments:
        msg = f"{where}: [rfm.segments] must be a table of named rules"
        raise ConfigError(msg, hint=_RULE_EXAMPLE)
    rules = []
    for name, spec in segments.items():
        if not isinstance(spec, Mapping):
            msg = f"{where}: [rfm.segments] {name} = {spec!r} is not a rule"
            raise ConfigError(msg, hint=_RULE_EXAMPLE)
        extra = sorted(set(spec) - {"r", "f", "m"})
        if extra:
            msg = f"{where}: [rfm.segments] {name} has unknown key {extra[0]!r}"
            raise ConfigError(msg, hint="a rule has score ranges r, f and optionally m")
        rules.append(
            Rule(
                str(name),
                r=_range(spec.get("r", [1, 5]), "r", name, where),
                f=_range(spec.get("f", [1, 5]), "f", name, where),
                m=_range(spec["m"], "m", name, where) if "m" in spec else None,
            )
        )
    return tuple(rules)


def rules_from_config(config: Config) -> tuple[Rule, ...]:
    """The segment rules of ``config`` (``[rfm.segments]``), or the default ones."""
    return parse_rules(config.section("rfm"), where=config.name)


def uncovered_cells(rules: Sequence[Rule]) -> int:
    """How many of the 125 (R, F, M) score cells no rule matches."""
    return sum(
        not any(rule.matches(r, f, m) for rule in rules) for r, f, m in product(SCORES, repeat=3)
    )


def score_expr(measure: pl.Expr, *, descending: bool = False) -> pl.Expr:
    """Score 1-5 of ``measure`` among all rows: ``ceil(5 * rank / n)``, ties at the minimum rank.

    ``descending=True`` ranks the largest value first (rank 1), as recency needs.
    """
    rank = measure.rank("min", descending=descending).cast(pl.Int64)
    n = pl.len().cast(pl.Int64)
    return ((5 * rank + n - 1) // n).clip(1, 5)


def segment_expr(rules: Sequence[Rule]) -> pl.Expr:
    """The first rule each row matches, or ``other``."""
    seg = pl.lit(OTHER, dtype=pl.String)
    for rule in reversed(rules):
        seg = pl.when(rule.expr()).then(pl.lit(rule.segment, dtype=pl.String)).otherwise(seg)
    return seg


def customer_measures(orders: pl.LazyFrame, period: Period) -> pl.LazyFrame:
    """One row per customer: dates, orders, revenue, gross profit and the lifetimes columns.

    ``orders`` is :func:`.orders.customer_orders` output (each customer's orders together,
    earliest first); orders after the analysis date are dropped.
    """
    dated = orders.with_columns(
        pl.col("order_time").dt.date().alias("order_date"),
        period.as_of_expr("order_time").alias("as_of"),
    ).filter(pl.col("order_date") <= pl.col("as_of"))
    # In customer order a customer's first row starts them and a change of date starts a
    # day, so their distinct days and first day's value come from flags on the rows and
    # one group-by (a group-by of the customers' days first took 0.9 s for 3M orders; this
    # 0.4 s). Only plain aggregations (sums, counts, min, max): they run on Polars' fast
    # group-by path, where a filter or a when/then inside the aggregation is evaluated
    # group by group.
    customer, day = pl.col("customer_id"), pl.col("order_date")
    starts = (customer != customer.shift(1)).fill_null(True)
    new_day = starts | (day != day.shift(1)).fill_null(True)
    first_day = day == pl.when(starts).then(day).forward_fill()
    flagged = dated.with_columns(
        new_day.alias("__new_day"),
        pl.when(first_day).then(pl.col("value")).alias("__first_day_value"),
    )
    # Money sums are exact (integer micro-units, money.py), so a mean that falls on half a
    # cent is exactly half a cent, and rounds up on every run (17.615 -> 17.62).
    per_customer = flagged.group_by("customer_id").agg(
        pl.col("as_of").first(),
        day.min().alias("first_order_date"),
        day.max().alias("last_order_date"),
        pl.len().alias("orders"),
        exact_sum(pl.col("value")).alias("revenue"),
        exact_sum(pl.col("__first_day_value")).alias("first_day_value"),
        exact_sum(pl.col("gross_profit")).alias("gross_profit"),
        pl.col("gross_profit").count().alias("known"),
        pl.col("gross_profit").null_count().alias("orders_without_cost"),
        (pl.col("__new_day").sum() - 1).cast(pl.Int64).alias("frequency"),
    )
    # Repeat value: the days after the first; its sum is revenue minus the first day (both
    # exact), read back to whole micro-units, so the mean is that of the exact repeats.
    repeat_sum = (pl.col("revenue") - pl.col("first_day_value")).mul(MICRO).round(0) / MICRO
    return per_customer.with_columns(
        pl.when(pl.col("known") > 0).then(pl.col("gross_profit")).alias("gross_profit"),
        pl.when(pl.col("frequency") > 0)
        .then(repeat_sum / pl.col("frequency"))
        .otherwise(0.0)
        .alias("monetary_value"),
        _days(pl.col("last_order_date"), pl.col("as_of")).alias("days_since_last"),
        _days(pl.col("first_order_date"), pl.col("last_order_date")).alias("recency"),
        _days(pl.col("first_order_date"), pl.col("as_of")).alias("T"),
        pl.col("orders").cast(pl.Int64),
    ).drop("first_day_value", "known")


def _days(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_days().cast(pl.Int64)


def score_members(measures: pl.LazyFrame, monetary: str, rules: Sequence[Rule]) -> pl.LazyFrame:
    """Add ``monetary``, the three scores and the segment to :func:`customer_measures`."""
    source = "revenue" if monetary == "value" else "gross_profit"
    # A customer none of whose orders has a cost adds 0 gross profit to the ranking. Money is
    # ranked to the cent: sums of the same amounts in another order may differ in the last
    # bits, and two customers who spent the same to the cent must tie.
    monetary_expr = money(pl.col(source).fill_null(0.0)).alias("monetary")
    scored = measures.with_columns(monetary_expr).with_columns(
        score_expr(pl.col("days_since_last"), descending=True).alias("r_score"),
        score_expr(pl.col("orders")).alias("f_score"),
        score_expr(pl.col("monetary")).alias("m_score"),
    )
    return scored.with_columns(segment_expr(rules).alias("segment"))


@dataclass(frozen=True, kw_only=True)
class RfmResult(Result):
    """RFM scores per customer and the customers, revenue and profit of each segment.

    Attributes
    ----------
    segments
        One row per segment in rule order (``other`` last when the rules leave gaps),
        empty segments included: ``segment``, ``customers``, ``share`` (of customers),
        ``revenue``, ``revenue_share``, ``gross_profit``, ``avg_days_since_last``,
        ``avg_orders``, ``avg_monetary``.
    members
        One row per customer; the export table.
    rules
        The rules used, in order.
    """

    command: ClassVar[str] = "segment rfm"
    segments: pl.DataFrame
    members: pl.DataFrame
    rules: tuple[Rule, ...]
    as_of: date
    monetary: str
    cost_known: bool
    orders_without_cost: int
    uncovered_cells: int

    @property
    def other_customers(self) -> int:
        """Customers that no rule matched."""
        return int(self.members.filter(pl.col("segment") == OTHER).height)

    def payload(self) -> dict[str, Any]:
        """``segments`` as in the contract, plus ``as_of``, ``monetary``, ``rules``, ``scoring``."""
        return {
            "as_of": self.as_of,
            "monetary": self.monetary,
            "customers": self.members.height,
            "segments": self.segments,
            "rules": [rule.to_json() for rule in self.rules],
            "scoring": (
                "score = ceil(5 * rank / n) in 1..5, rank ascending with ties at the minimum "
                "rank; recency ranked on -days_since_last (most recent = 5)"
            ),
        }

    def export_table(self) -> pl.DataFrame:
        """The member list, one row per customer: what CSV and Parquet output write."""
        return self.members

    def tables(self) -> list[Table]:
        """The segment summary, then the rules."""
        rules = pl.DataFrame(
            {
                "segment": [r.segment for r in self.rules],
                "r": [_span(r.r) for r in self.rules],
                "f": [_span(r.f) for r in self.rules],
                "m": [_span(r.m) if r.m else "any" for r in self.rules],
            }
        )
        return [
            Table(
                "segments",
                f"RFM segments as of {self.as_of} (monetary: {self.monetary})",
                self.segments,
                money=("revenue", "gross_profit", "avg_monetary"),
                shares=("share", "revenue_share"),
                bar="share",
            ),
            Table("rules", "Segment rules (first match wins)", rules),
        ]

    def notes(self) -> list[str]:
        """Caveats: gaps in the rules, missing cost."""
        notes = []
        if self.uncovered_cells:
            notes.append(
                f"The segment rules leave {self.uncovered_cells} of 125 (R, F, M) score cells "
                f"uncovered: {self.other_customers} customers are in '{OTHER}'."
            )
        if not self.cost_known:
            notes.append("The orders export has no cost column: gross profit is not available.")
        elif self.orders_without_cost:
            notes.append(
                f"{self.orders_without_cost} orders have a line without cost; their gross "
                "profit is left out of gross_profit"
                + (" and of monetary." if self.monetary == "gross_profit" else ".")
            )
        return notes


def _span(r: Range) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def rfm_segments(
    inputs: Inputs,
    *,
    period: Period | None = None,
    monetary: str = "value",
    rules: Sequence[Rule] = DEFAULT_RULES,
) -> RfmResult:
    """Score every customer with paid orders and put them into segments (see the module doc).

    Raises
    ------
    InvalidOptionError
        ``monetary`` is neither ``value`` nor ``gross_profit``, or there are no rules.
    MissingColumnError
        ``monetary="gross_profit"`` and the orders export has no cost column.
    EmptySelectionError
        No paid order in the period.
    """
    if monetary not in MONETARY:
        msg = f"--monetary {monetary!r} is not a measure"
        raise InvalidOptionError(msg, hint="use --monetary value or --monetary gross_profit")
    if not rules:
        msg = "no RFM segment rules"
        raise InvalidOptionError(msg, hint=_RULE_EXAMPLE)
    period = (period or Period()).ended_by_as_of()
    source = inputs.get("orders")
    cost_known = has_cost(source)
    if monetary == "gross_profit" and not cost_known:
        found = ", ".join(source.columns)
        msg = (
            f"--monetary gross_profit needs a cost column in the orders export "
            f"({', '.join(str(f.path) for f in source.files)}); columns found: {found}"
        )
        hint = "map the cost header with --map cost=<header> (成本), or use --monetary value"
        raise MissingColumnError(msg, hint=hint)
    measures = customer_measures(customer_orders(source, period), period)
    members_plan = score_members(measures, monetary, rules)
    frames, report = collect([members_plan], [source])
    raw = frames[0]
    if raw.height == 0:
        msg = "no paid orders in the analysed period"
        hint = "check --since/--until/--as-of against the dates in the orders export (cust check)"
        raise EmptySelectionError(msg, hint=hint)
    as_of = raw["as_of"][0]
    names = [rule.segment for rule in rules]
    gaps = uncovered_cells(rules)
    if gaps and OTHER not in names:
        names.append(OTHER)
    members = _members(raw, names, cost_known)
    return RfmResult(
        input=report,
        segments=_summary(raw, names, cost_known),
        members=members,
        rules=tuple(rules),
        as_of=as_of,
        monetary=monetary,
        cost_known=cost_known,
        orders_without_cost=int(raw["orders_without_cost"].sum()) if cost_known else 0,
        uncovered_cells=gaps,
    )


def _members(raw: pl.DataFrame, names: list[str], cost_known: bool) -> pl.DataFrame:
    order = pl.DataFrame({"segment": names, "_rule": list(range(len(names)))})
    out = raw.join(order, on="segment", how="left").sort(
        ["_rule", "monetary", "customer_id"], descending=[False, True, False]
    )
    gross = money(pl.col("gross_profit")) if cost_known else pl.lit(None, dtype=pl.Float64)
    return out.select(
        pl.col("customer_id"),
        pl.col("segment"),
        pl.col("r_score", "f_score", "m_score").cast(pl.Int64),
        pl.col("days_since_last"),
        pl.col("orders"),
        money(pl.col("monetary")),
        money(pl.col("revenue")),
        gross.alias("gross_profit"),
        pl.col("first_order_date"),
        pl.col("last_order_date"),
        pl.col("frequency"),
        pl.col("recency"),
        pl.col("T"),
        money(pl.col("monetary_value")),
    )


def _summary(raw: pl.DataFrame, names: list[str], cost_known: bool) -> pl.DataFrame:
    per = raw.group_by("segment").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        exact_sum(pl.col("revenue")).alias("revenue"),
        exact_sum(pl.col("gross_profit")).alias("gross_profit"),
        pl.col("days_since_last").mean().alias("avg_days_since_last"),
        pl.col("orders").mean().alias("avg_orders"),
        pl.col("monetary").mean().alias("avg_monetary"),
    )
    grid = pl.DataFrame({"segment": names, "_rule": list(range(len(names)))})
    out = grid.join(per, on="segment", how="left").sort("_rule")
    total_customers = raw.height
    total_revenue = float(raw["revenue"].sum())
    return out.select(
        pl.col("segment"),
        pl.col("customers").fill_null(0),
        (pl.col("customers").fill_null(0) / total_customers).alias("share"),
        money(pl.col("revenue").fill_null(0.0)),
        (
            pl.col("revenue").fill_null(0.0) / total_revenue if total_revenue else pl.lit(0.0)
        ).alias("revenue_share"),
        (
            money(pl.col("gross_profit").fill_null(0.0))
            if cost_known
            else pl.lit(None, dtype=pl.Float64)
        ).alias("gross_profit"),
        pl.col("avg_days_since_last").round(1),
        pl.col("avg_orders").round(2),
        money(pl.col("avg_monetary")),
    )
