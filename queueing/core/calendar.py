"""Days of the week on the simulation clock.

The simulation starts at 00:00 on day 0; day ``k`` covers ``[k * 24h, (k + 1) * 24h)``. Which
weekday day 0 is comes from the scenario (``start_day``, default Monday, or the weekday of
``start_date``); day ``k`` is then ``(start + k) mod 7`` days later. Weekdays are written as
planners abbreviate them: ``mon tue wed thu fri sat sun``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from .durations import DAY_S

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
WEEK_S = 7 * DAY_S


def weekday_index(day: Weekday) -> int:
    """Monday 0 to Sunday 6 (as ``datetime.date.weekday``)."""
    return WEEKDAYS.index(day)


def weekday_of(date: dt.date) -> Weekday:
    """The weekday of a calendar date."""
    return WEEKDAYS[date.weekday()]


def weekday_of_day(start_day: Weekday, day: int) -> Weekday:
    """The weekday of simulation day ``day`` (0 is ``start_day``; negative days are before it)."""
    return WEEKDAYS[(weekday_index(start_day) + day) % 7]


def day_of(t_s: float) -> int:
    """The simulation day holding time ``t_s`` (seconds since 00:00 on day 0)."""
    return int(t_s // DAY_S)


def describe_days(days: list[Weekday] | tuple[Weekday, ...]) -> str:
    """Weekdays as a planner reads them, runs of three or more joined: ``Mon-Fri``, ``Mon, Wed``,
    ``Sat-Mon`` (a run may wrap past Sunday); all seven is ``every day``."""
    chosen = sorted({weekday_index(d) for d in days})
    if len(chosen) == 7:
        return "every day"
    if not chosen:
        return "no day"
    # Start the walk just after a day off, so that a run wrapping past Sunday stays whole.
    first = next(i for i in range(7) if (i - 1) % 7 not in chosen and i in chosen)
    runs: list[list[int]] = []
    for k in range(7):
        i = (first + k) % 7
        if i not in chosen:
            continue
        if runs and (runs[-1][-1] + 1) % 7 == i:
            runs[-1].append(i)
        else:
            runs.append([i])
    names = [WEEKDAYS[i].capitalize() for i in range(7)]
    parts = [f"{names[r[0]]}-{names[r[-1]]}" if len(r) >= 3 else ", ".join(names[i] for i in r) for r in runs]
    return ", ".join(parts)
