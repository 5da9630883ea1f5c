"""Where units go next from one page or event, or came from before one (``cust paths``).

The units are the funnel's (:mod:`.count`): a unit's events in time order (then in the
export's row order). :func:`next_steps` counts the event after each ``--from`` event, or
``(exit)`` after the unit's last. :func:`multi_step_paths` follows each anchor event (every
``--from`` event, or every ``--to`` event looking back) ``depth`` steps: the top paths,
and the step matrix (the share of anchors at each event at each step number, the ended
ones under ``(exit)`` or ``(start)``). With ``collapse`` consecutive repeats of one event
in a unit (a page reloaded) are one event before anything is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import polars as pl

from ..errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.loader import Source
from ..io.orders import Period
from ..result import Result, Table
from .count import EXIT, UNIT, unit_frame
from .spec import FunnelSpec

START = "(start)"  # the step before a unit's first event (paths --to)
OTHER = "(other)"  # the step matrix's events beyond its --top rows
ARROW = " → "
MAX_DEPTH = 20
STEP, ROW = "__step", "__row"


@dataclass(frozen=True, kw_only=True)
class PathsResult(Result):
    """Where units go next from one page or event."""

    command: ClassVar[str] = "paths"
    origin: str
    field: str
    occurrences: int
    next_steps: pl.DataFrame

    def payload(self) -> dict[str, Any]:
        """``from``, ``field``, ``occurrences`` and ``next``: list of {step, count, share}."""
        return {"from": self.origin, "field": self.field, "occurrences": self.occurrences,
                "next": self.next_steps}

    def tables(self) -> list[Table]:
        """The next steps, with shares as bars."""
        return [Table("next", f"Next {self.field} after {self.origin!r}", self.next_steps,
                      shares=("share",), bar="share")]

    def notes(self) -> list[str]:
        """What "(exit)" means."""
        return ["(exit): the unit had no later event."]

    def relabelled(self, label: Callable[[str], str]) -> PathsResult:
        """The same counts with ``from`` and every step but ``(exit)`` renamed by ``label``.

        For ``--mask-ids`` with ``--field user_id``: the values shown are then ids, under
        keys (``from``, ``step``) that the id mask does not know.
        """
        steps = self.next_steps["step"].unique().to_list()
        names = {v: v if v == EXIT else label(v) for v in steps}
        frame = self.next_steps.with_columns(pl.col("step").replace_strict(names))
        return replace(self, origin=label(self.origin), next_steps=frame)


@dataclass(frozen=True, kw_only=True)
class MultiPathsResult(Result):
    """The top paths of ``depth`` steps from (or to) one event, and the step matrix.

    ``paths``: ``path`` (the steps after the anchor, or before it, in time order, ending
    at ``(exit)`` or starting at ``(start)`` when the unit ended first), ``count``
    (anchors), ``units`` (distinct units) and ``share`` (of the anchors). ``matrix``:
    ``event`` and ``step_1..step_D`` (step k: k events after the anchor, or before it
    with ``--to``), each column summing to 1.
    """

    command: ClassVar[str] = "paths"
    anchor: str
    direction: str  # "from" or "to"
    field: str
    depth: int
    collapse: bool
    occurrences: int
    units: int
    paths: pl.DataFrame  # path (list), count, units, share
    matrix: pl.DataFrame | None = None  # event, step_1..step_D

    @property
    def end(self) -> str:
        """The label of a path that ran out: ``(exit)`` forward, ``(start)`` backward."""
        return EXIT if self.direction == "from" else START

    def payload(self) -> dict[str, Any]:
        """The anchor under ``from`` or ``to``, the counts, ``paths`` and ``matrix``.

        Also ``field``, ``depth``, ``collapse_repeats``, ``occurrences`` and ``units``;
        ``paths``: list of {path, count, units, share}.
        """
        doc: dict[str, Any] = {
            self.direction: self.anchor, "field": self.field, "depth": self.depth,
            "collapse_repeats": self.collapse, "occurrences": self.occurrences,
            "units": self.units, "paths": self.paths,
        }
        if self.matrix is not None:
            doc["matrix"] = self.matrix
        return doc

    def tables(self) -> list[Table]:
        """The paths (as text, with share bars), then the step matrix."""
        text = self.paths.with_columns(pl.col("path").list.join(ARROW))
        where = "from" if self.direction == "from" else "to"
        tables = [Table("paths", f"Top paths of {self.depth} {self.field} steps {where} "
                        f"{self.anchor!r}", text, shares=("share",), bar="share")]
        if self.matrix is not None:
            steps = tuple(c for c in self.matrix.columns if c.startswith("step_"))
            tables.append(Table("matrix", "Share of anchors at each event, per step "
                                f"{'after' if where == 'from' else 'before'} {self.anchor!r}",
                                self.matrix, shares=steps))
        return tables

    def relabelled(self, label: Callable[[str], str]) -> MultiPathsResult:
        """The same counts with the anchor and every event renamed by ``label``.

        For ``--mask-ids`` with ``--field user_id`` (as :meth:`PathsResult.relabelled`);
        ``(exit)``, ``(start)`` and ``(other)`` stay.
        """
        fixed = {EXIT, START, OTHER}
        events = set(self.paths["path"].explode().drop_nulls().to_list())
        if self.matrix is not None:
            events |= set(self.matrix["event"].to_list())
        names = {v: v if v in fixed else label(v) for v in events}
        paths = self.paths.with_columns(
            pl.col("path").list.eval(pl.element().replace_strict(names)))
        matrix = (None if self.matrix is None else
                  self.matrix.with_columns(pl.col("event").replace_strict(names)))
        return replace(self, anchor=label(self.anchor), paths=paths, matrix=matrix)

    def notes(self) -> list[str]:
        """What the anchors are, and what ``(exit)``/``(start)`` and ``(other)`` mean."""
        notes = [f"Each {self.anchor!r} is traced {self.depth} step(s) "
                 f"{'on' if self.direction == 'from' else 'back'}: a unit counts once per "
                 "occurrence (units: distinct units)."]
        if self.direction == "from":
            notes.append("(exit): the unit had no later event.")
        else:
            notes.append("(start): the unit had no earlier event.")
        if self.collapse:
            notes.append("Consecutive repeats of one event in a unit counted as one.")
        if self.matrix is not None and OTHER in self.matrix["event"].to_list():
            notes.append("(other): the events beyond the --top rows of the matrix.")
        return notes


def _ordered_events(
    inputs: Inputs, field: str, unit: str, period: Period | None, top: int,
) -> tuple[Source, pl.LazyFrame, pl.LazyFrame]:
    """The events source, the period's events and their steps in unit and time order.

    The step is copied under a name of its own: ``--field`` may name a column the unit
    needs (user_id, session_id, event_time), which selected twice was a DuplicateError, or
    one named like a temporary column of this plan. A stable order inside a unit: time,
    then the row's position in the export.
    """
    period = (period or Period()).ended_by_as_of()
    if top < 1:
        msg = f"--top {top} is below 1"
        raise InvalidOptionError(msg, hint="e.g. --top 10")
    if inputs.engine.name == "spark":  # the next event of every event: not on Spark yet
        msg = "funnel paths reads the events on this machine only (--engine polars)"
        raise InvalidOptionError(msg, hint="run it with --engine polars")
    source = inputs.get("events")
    if not source.has(field):
        msg = f"--field {field}: the events export has no {field!r} column"
        raise MissingColumnError(msg, hint="use --field event, or a column such as page")
    spec = FunnelSpec(unit=unit)
    has_session = source.has("session_id") and unit == "session"
    keep = [pl.col("user_id"), pl.col("event_time"), pl.col(field).cast(pl.String).alias(STEP)]
    if has_session:
        keep.append(pl.col("session_id"))
    in_period = source.valid.filter(period.filter("event_time")).select(keep)
    events = unit_frame(in_period, spec, has_session)
    return source, in_period, events.with_row_index(ROW).sort(*UNIT, "event_time", ROW)


def _check_found(any_event: pl.DataFrame, total: int, field: str, anchor: str) -> None:
    """Refuse an empty period, or an anchor that never occurs in it."""
    if not any_event.item():
        msg = "no valid event in the selected period"
        hint = "check --since/--until/--as-of against the dates in the events (cust check)"
        raise EmptySelectionError(msg, hint=hint)
    if total == 0:
        msg = f"no {field} {anchor!r} in the events of the selected period"
        raise EmptySelectionError(msg, hint=f"check the values of {field} (cust check --events)")


def next_steps(
    inputs: Inputs,
    origin: str,
    *,
    field: str = "event",
    unit: str = "session",
    top: int = 10,
    period: Period | None = None,
) -> PathsResult:
    """Count what follows each ``origin`` event (or page) within its unit, with shares.

    Events after ``--as-of`` are not yet known on the analysis date (as in :func:`funnel`).
    """
    source, in_period, ordered = _ordered_events(inputs, field, unit, period, top)
    nxt_col = "__next"
    nxt = ordered.with_columns(
        pl.col(STEP).shift(-1).over(UNIT).fill_null(EXIT).alias(nxt_col)
    ).filter(pl.col(STEP) == origin)
    counts = nxt.group_by(nxt_col).agg(pl.len().alias("count")).rename({nxt_col: "next"})
    frames, report = collect([counts, in_period.select(pl.len())], [source])
    total = int(frames[0]["count"].sum()) if frames[0].height else 0
    _check_found(frames[1], total, field, origin)
    table = (
        frames[0].sort(["count", "next"], descending=[True, False]).head(top)
        .with_columns((pl.col("count") / total).alias("share"))
        .rename({"next": "step"})
    )
    return PathsResult(input=report, origin=origin, field=field, occurrences=total,
                       next_steps=table)


def multi_step_paths(
    inputs: Inputs,
    anchor: str,
    *,
    direction: str = "from",
    depth: int = 3,
    field: str = "event",
    unit: str = "session",
    top: int = 10,
    matrix: bool = False,
    collapse: bool = False,
    period: Period | None = None,
) -> MultiPathsResult:
    """The ``top`` paths of ``depth`` steps from (``direction="from"``) or to an event.

    Each occurrence of ``anchor`` in a unit is an anchor; its step k is the event k places
    after it (before it, for ``"to"``) in the unit, or ``(exit)`` (``(start)``) once the
    unit has run out. ``collapse`` first drops an event equal to the one before it in its
    unit. ``matrix`` adds the share of anchors at each event per step (the ``top`` events
    over all steps, then ``(other)`` and the ended ones), every column summing to 1.
    One pass: the shifts are window expressions over the units' ordered events.
    """
    if direction not in ("from", "to"):
        msg = f"direction {direction!r} is neither 'from' nor 'to'"
        raise InvalidOptionError(msg, hint="use --from EVENT or --to EVENT")
    if not 1 <= depth <= MAX_DEPTH:
        msg = f"--depth {depth} is outside 1..{MAX_DEPTH}"
        raise InvalidOptionError(msg, hint="e.g. --depth 3")
    source, in_period, ordered = _ordered_events(inputs, field, unit, period, top)
    # The shifted steps are Categorical (4 bytes a row on 50M events, not a string each),
    # back to text once counted.
    coded = pl.col(STEP).cast(pl.Categorical)
    if collapse:
        ordered = ordered.filter(coded.ne_missing(coded.shift(1).over(UNIT)))
    end = EXIT if direction == "from" else START
    sign = -1 if direction == "from" else 1
    cols = [f"step_{k}" for k in range(1, depth + 1)]
    anchored = ordered.with_columns(
        coded.shift(sign * k).over(UNIT).fill_null(pl.lit(end, dtype=pl.Categorical)).alias(c)
        for k, c in enumerate(cols, start=1)
    ).filter(pl.col(STEP) == anchor).select(*UNIT, *cols)
    text = [pl.col(c).cast(pl.String) for c in cols]
    counts = anchored.group_by(cols).agg(pl.len().alias("count"),
                                         pl.col(UNIT[0]).n_unique().alias("units")
                                         ).with_columns(text)
    plans = [counts, in_period.select(pl.len()),
             anchored.select(pl.col(UNIT[0]).n_unique().alias("units"))]
    if matrix:
        plans.append(anchored.select(text).unpivot(on=cols, variable_name="step",
                                                   value_name="event")
                     .group_by("step", "event").agg(pl.len().alias("count")))
    frames, report = collect(plans, [source])
    total = int(frames[0]["count"].sum()) if frames[0].height else 0
    _check_found(frames[1], total, field, anchor)
    table = (
        frames[0].sort(["count", *cols], descending=[True, *[False] * depth]).head(top)
        .select(_path(cols, end, direction).alias("path"), "count", "units",
                (pl.col("count") / total).alias("share"))
    )
    grid = _matrix(frames[3], cols, end, total, top) if matrix else None
    return MultiPathsResult(input=report, anchor=anchor, direction=direction, field=field,
                            depth=depth, collapse=collapse, occurrences=total,
                            units=int(frames[2].item()), paths=table, matrix=grid)


def _path(cols: list[str], end: str, direction: str) -> pl.Expr:
    """The steps in time order as a list, the end label once (the steps after it repeat it).

    Forward the steps are as counted; backward (``--to``) the farthest comes first.
    """
    kept = [pl.col(cols[0])] + [
        pl.when(pl.col(before) == end).then(None).otherwise(pl.col(c))
        for before, c in zip(cols, cols[1:], strict=False)
    ]
    return pl.concat_list(kept if direction == "from" else kept[::-1]).list.drop_nulls()


def _matrix(counts: pl.DataFrame, cols: list[str], end: str, total: int,
            top: int) -> pl.DataFrame:
    """Rows: the ``top`` events by anchors over all steps, ``(other)``, then ``end``.

    ``counts``: ``step`` (a column name), ``event``, ``count``; the shares are of
    ``total`` anchors, so each step's column sums to 1.
    """
    ranked = (counts.filter(pl.col("event") != end).group_by("event")
              .agg(pl.col("count").sum()).sort(["count", "event"], descending=[True, False]))
    named = ranked["event"].head(top)
    order = [*named.to_list(), *([OTHER] if ranked.height > top else []), end]
    grouped = (
        counts.with_columns(
            pl.when(pl.col("event").is_in(named.implode()) | (pl.col("event") == end))
            .then(pl.col("event")).otherwise(pl.lit(OTHER)).alias("event"))
        .group_by("step", "event").agg((pl.col("count").sum() / total).alias("share"))
    )
    rows = pl.DataFrame({"event": order, "__order": range(len(order))})
    wide = grouped.pivot(on="step", index="event", values="share")
    for c in cols:
        if c not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(c))
    return (rows.join(wide, on="event", how="left").sort("__order")
            .select("event", *[pl.col(c).cast(pl.Float64).fill_null(0.0) for c in cols]))
