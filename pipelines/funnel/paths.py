"""Where units go next from one page or event (``cust funnel --paths``).

The units are the funnel's (:mod:`.count`): a unit's events in time order, and the event
after each one, or ``(exit)`` after its last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import polars as pl

from ..errors import EmptySelectionError, InvalidOptionError, MissingColumnError
from ..io.inputs import Inputs, collect
from ..io.orders import Period
from ..result import Result, Table
from .count import EXIT, UNIT, unit_frame
from .spec import FunnelSpec


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
    # The step is copied under a name of its own: --field may name a column the unit needs
    # (user_id, session_id, event_time), which selected twice was a DuplicateError, or one
    # named like a temporary column of this plan.
    step, row, nxt_col = "__step", "__row", "__next"
    keep = [pl.col("user_id"), pl.col("event_time"), pl.col(field).cast(pl.String).alias(step)]
    if has_session:
        keep.append(pl.col("session_id"))
    in_period = source.valid.filter(period.filter("event_time")).select(keep)
    events = unit_frame(in_period, spec, has_session)
    # A stable order inside a unit: time, then the row's position in the export.
    ordered = events.with_row_index(row).sort(*UNIT, "event_time", row)
    nxt = ordered.with_columns(
        pl.col(step).shift(-1).over(UNIT).fill_null(EXIT).alias(nxt_col)
    ).filter(pl.col(step) == origin)
    counts = nxt.group_by(nxt_col).agg(pl.len().alias("count")).rename({nxt_col: "next"})
    frames, report = collect([counts, in_period.select(pl.len())], [source])
    total = int(frames[0]["count"].sum()) if frames[0].height else 0
    if not frames[1].item():
        msg = "no valid event in the selected period"
        hint = "check --since/--until/--as-of against the dates in the events (cust check)"
        raise EmptySelectionError(msg, hint=hint)
    if total == 0:
        msg = f"no {field} {origin!r} in the events of the selected period"
        raise EmptySelectionError(msg, hint=f"check the values of {field} (cust check --events)")
    table = (
        frames[0].sort(["count", "next"], descending=[True, False]).head(top)
        .with_columns((pl.col("count") / total).alias("share"))
        .rename({"next": "step"})
    )
    return PathsResult(input=report, origin=origin, field=field, occurrences=total,
                       next_steps=table)
