"""What a funnel counts: steps, unit, window, period, breakdowns; when a period is judged.

The shared vocabulary of the funnel package: the counting (:mod:`.count`), the drift alerts
(:mod:`.drift`) and their explanations (:mod:`.explain`) all read a :class:`FunnelSpec`, so
none of them imports another to learn what a funnel is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..errors import InvalidOptionError
from ..settings import Config

DEFAULT_STEPS = ("product_view", "add_to_cart", "purchase")
SESSION_GAP = timedelta(minutes=30)
DEFAULT_WINDOW = timedelta(hours=24)
# A longer --window is a typo (1e9d overflowed timedelta): a funnel over a year is a cohort.
MAX_WINDOW = timedelta(days=365)
UNITS = ("session", "user")
ORDERS = ("ordered", "strict", "any")
COUNTS = ("units", "conversions")
OPTIONAL = "?"  # a step written cart? is optional (--steps view,cart?,pay)
PERIODS = ("day", "week")
# Columns that define the funnel itself: as a unit's step-1 value they are the same for
# every unit (event), unique to it (event_time), or split the units one by one (the ids).
NOT_BREAKDOWNS = {
    "event": "it names the steps: every unit's step-1 event is the first step",
    "event_time": "each unit has its own step-1 time; periods are --period",
    "user_id": "one value per user: use --unit user for users, not a breakdown by them",
    "session_id": "one value per session: it is the unit itself",
}
# The funnel's own column names (the periods, step times and counts, internal keys).
RESERVED = re.compile(r"period|t[0-9]+|entered_[0-9]+|__.*")


def steps_from(text: str | None, config: Config) -> tuple[str, ...]:
    """``--steps`` as given, else ``[funnel] steps`` in cust.toml, else the default."""
    if text is not None:  # given, even empty: an empty --steps is refused below
        steps = tuple(s.strip() for s in text.split(",") if s.strip())
    else:
        configured = config.section("funnel").get("steps")
        steps = tuple(configured) if configured else DEFAULT_STEPS
    names = [s.removesuffix(OPTIONAL).strip() for s in steps]
    if len(steps) < 2 or len(set(names)) != len(names) or not all(names):
        msg = f"--steps {','.join(steps)!r} needs at least two different event names"
        raise InvalidOptionError(msg, hint="e.g. --steps product_view,add_to_cart,purchase")
    return steps


def parse_window(text: str) -> timedelta:
    """``24h``, ``30m``, ``2d`` or ``1w`` to a duration, from a second to :data:`MAX_WINDOW`."""
    seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = text[:-1].strip(), text[-1:].lower()
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    # float() also reads "nan", "inf" and "1e9": refused here, not by timedelta's traceback.
    if unit not in seconds or not math.isfinite(value) or value <= 0:
        msg = f"--window {text!r} is not a duration"
        raise InvalidOptionError(msg, hint="e.g. --window 24h, 30m, 7d or 1w")
    total = value * seconds[unit]
    if not 1 <= total <= MAX_WINDOW.total_seconds():
        msg = f"--window {text!r} is outside 1 second to {MAX_WINDOW.days} days"
        raise InvalidOptionError(msg, hint="e.g. --window 24h, 30m, 7d or 1w")
    return timedelta(seconds=total)


def window_for(text: str | None, unit: str) -> timedelta:
    """``--window`` for ``--unit``: a session has no window, so one given with it is refused."""
    if text is None:
        return DEFAULT_WINDOW
    if unit == "session":  # another --unit is refused by FunnelSpec
        msg = (f"--window {text} applies to --unit user only (a session ends at its "
               f"session_id or after a {SESSION_GAP.seconds // 60}-minute gap)")
        raise InvalidOptionError(msg, hint=f"add --unit user, or drop --window {text}")
    return parse_window(text)


@dataclass(frozen=True)


class FunnelSpec:
    """What to count: steps, unit, window, period and breakdowns.

    ``order``: ``ordered`` (the contract's: other events between steps are allowed),
    ``strict`` (the steps are consecutive events of the unit, nothing between them) or
    ``any`` (the steps in any order within the unit's window). ``exclude``: events that
    take a unit out of the funnel when they come between two of its steps. A step given
    as ``name?`` is optional (``optional`` holds one flag per step; ``steps`` the names).
    ``same``: an events column held constant through the steps (``sku``: view, cart and
    purchase of the same item); ``count``: ``units`` (a unit counts once, by its item that
    went deepest) or ``conversions`` (every unit-and-item pair counts).
    ``attribution``: whose ``--by`` values a unit carries: its step-1 event's (``first``),
    those of the event of the last step it reached (``last``), or of step N's (``step:N``;
    ``(none)`` for units that did not reach step N).
    ``value``: an events column of money, or ``orders`` (see :mod:`.value`).
    """

    steps: tuple[str, ...] = DEFAULT_STEPS
    unit: str = "session"
    window: timedelta = DEFAULT_WINDOW
    period: str = "day"
    by: tuple[str, ...] = ()
    order: str = "ordered"
    exclude: tuple[str, ...] = ()
    optional: tuple[bool, ...] = ()
    same: str | None = None
    count: str = "units"
    attribution: str = "first"
    value: str | None = None

    def __post_init__(self) -> None:
        """Validate the choices; ``name?`` steps become optional flags."""
        marked = tuple(s.endswith(OPTIONAL) for s in self.steps)
        if any(marked):
            object.__setattr__(self, "steps",
                               tuple(s.removesuffix(OPTIONAL).strip() for s in self.steps))
            object.__setattr__(self, "optional", marked)
        elif len(self.optional) != len(self.steps):
            object.__setattr__(self, "optional", (False,) * len(self.steps))
        if self.order not in ORDERS:
            msg = f"--order {self.order!r} is not ordered, strict or any"
            raise InvalidOptionError(msg, hint="use --order ordered, strict or any")
        if self.optional and self.optional[0]:
            msg = f"--steps: the first step {self.steps[0]!r} cannot be optional"
            raise InvalidOptionError(msg, hint="every unit enters the funnel at its first step: "
                                     f"drop the '?' after {self.steps[0]}")
        if any(self.optional) and self.order != "ordered":
            msg = f"optional steps need --order ordered (not {self.order})"
            hint = "drop the '?' from --steps, or use --order ordered"
            raise InvalidOptionError(msg, hint=hint)
        if self.count not in COUNTS:
            msg = f"--count {self.count!r} is not units or conversions"
            raise InvalidOptionError(msg, hint="use --count units or --count conversions")
        if self.count == "conversions" and self.same is None:
            msg = "--count conversions needs --same (without it a unit converts once)"
            raise InvalidOptionError(msg, hint="e.g. --same sku --count conversions")
        if self.same is not None and (self.same in NOT_BREAKDOWNS
                                      or RESERVED.fullmatch(self.same)):
            msg = f"--same {self.same}: {self.same} cannot be held constant"
            raise InvalidOptionError(msg, hint="hold an item column constant, e.g. --same sku")
        if self.same is not None and (self.order != "ordered" or any(self.optional)):
            msg = "--same works with --order ordered and required steps only"
            raise InvalidOptionError(msg, hint="drop --order and the '?' from --steps")
        self.attributed_step()  # validates --attribution
        if self.value is not None and (self.value in NOT_BREAKDOWNS
                                       or RESERVED.fullmatch(self.value)):
            msg = f"--value {self.value}: {self.value} is not a column of money"
            raise InvalidOptionError(msg, hint="--value COL (an events column holding the "
                                     "value of each event) or --value orders")
        both = sorted(set(self.exclude) & set(self.steps))
        if both:
            msg = f"--exclude {','.join(both)} is also a step of the funnel"
            raise InvalidOptionError(msg, hint="exclude events that are not steps, "
                                     "e.g. --exclude remove_from_cart")
        if self.unit not in UNITS:
            msg = f"--unit {self.unit!r} is not session or user"
            raise InvalidOptionError(msg, hint="use --unit session or --unit user")
        if self.period not in PERIODS:
            msg = f"--period {self.period!r} is not day or week"
            raise InvalidOptionError(msg, hint="use --period day or --period week")
        twice = sorted({b for b in self.by if self.by.count(b) > 1})
        if twice:
            msg = f"--by {','.join(self.by)} names {', '.join(twice)} more than once"
            raise InvalidOptionError(msg, hint=f"--by {','.join(dict.fromkeys(self.by))}")
        for b in self.by:
            if b in NOT_BREAKDOWNS or RESERVED.fullmatch(b):
                what = NOT_BREAKDOWNS.get(b, "a name the funnel uses for its own columns")
                msg = f"--by {b}: {b} cannot be a breakdown ({what})"
                raise InvalidOptionError(
                    msg, hint="break down by another events column, e.g. --by category"
                )

    def attributed_step(self) -> int | None:
        """``step:N`` as N; 1 for ``first``; None for ``last`` (refused when malformed)."""
        a = self.attribution
        hint = "use --attribution first, last or step:N (N a step number, e.g. step:2)"
        if a == "first":
            return 1
        number = a.removeprefix("step:")
        if a != "last" and not (a.startswith("step:") and number.isdigit()
                                and 1 <= int(number) <= len(self.steps)):
            msg = f"--attribution {a!r} is not first, last or step:1..{len(self.steps)}"
            raise InvalidOptionError(msg, hint=hint)
        if not self.by:
            msg = f"--attribution {a} needs --by (it chooses the breakdown values)"
            raise InvalidOptionError(msg, hint="e.g. --by category --attribution last")
        if self.order != "ordered" or self.same is not None:
            msg = f"--attribution {a} works with --order ordered and without --same"
            raise InvalidOptionError(msg, hint="drop --order/--same, or --attribution")
        return None if a == "last" else int(number)

    def reference(self, k: int) -> int:
        """The step (1-based) whose time step ``k`` is measured from and converts from.

        The previous step, or with optional steps the last required step before ``k``.
        """
        ref = k - 1
        while ref > 1 and self.optional[ref - 1]:
            ref -= 1
        return ref

    @property
    def lag(self) -> timedelta:
        """How long after its start a unit may still convert (for 'not finished')."""
        return self.window if self.unit == "user" else timedelta(days=1)


def segment_text(segment: dict[str, Any]) -> str:
    """A breakdown value as text: ``category=mcu, platform=app``, or ``all``."""
    return ", ".join(f"{k}={v}" for k, v in segment.items()) or "all"


def judged_until(data_end: Any, spec: FunnelSpec) -> date:
    """The last period start whose units have all had time to finish by ``data_end``."""
    last = (data_end - spec.lag).date()
    if spec.period == "day":
        return last - timedelta(days=1)
    monday = last - timedelta(days=last.weekday())
    return monday - timedelta(weeks=1)
