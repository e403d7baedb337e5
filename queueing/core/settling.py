"""Does the queue settle? Warnings for runs whose arrivals exceed what the agents can answer.

More work arriving than the shifts give does not always mean a queue growing until the horizon:
callers hang up, and a queue built in the busy hours drains in the quiet ones. So the warning
says what the queue did in the run, per class (:func:`queue_course`, from intervals.csv's mean
queue length): still long at the horizon ("grows until the horizon"), or its peak and what is
left at the end. Warnings are given when

- the arrivals bring more agent-hours of calls than the shifts give (whatever the staffing
  search would say: a plain capacity check), or
- a class has at least ``UNSERVED_SHARE`` of its calls still unanswered at the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .durations import DAY_S, HOUR_S, format_clock
from .duty import agent_seconds
from .limits import expected_calls
from .metrics import IntervalRows
from .scenario import Scenario

UNSERVED_SHARE = 0.05


# A queue still holding at least this share of its peak at the horizon (and a caller or more) grows until it.
STILL_GROWING = 0.5


def queue_course(intervals: Sequence[IntervalRows]) -> dict[str, list[tuple[float, float]]]:
    """Per class, (interval start s, mean queue length over replications) for every interval of a
    run, in time order, from each replication's intervals.csv rows."""
    out: dict[str, list[tuple[float, float]]] = {}
    if not intervals:
        return out
    first = intervals[0]
    total = np.zeros(len(first))
    for rows in intervals:  # the replications' grids are the same: one scenario
        total += rows.column("queue_len_mean")
    mean = (total / len(intervals)).tolist()
    starts = first.column("interval_start_s").tolist()
    for k in sorted(range(len(first.class_names)), key=lambda k: first.class_names[k]):
        out[first.class_names[k]] = [(starts[i], mean[i]) for i in np.flatnonzero(first.class_of == k).tolist()]
    return out


def _what_the_queue_did(name: str, course: list[tuple[float, float]], days: bool) -> str | None:
    """``the 311 queue peaks at 41 (10:30) and is down to 0.1 by the horizon``, or that it grows
    until the horizon; None for a queue that never reaches one caller. ``days``: say the day."""
    start, peak = max(course, key=lambda sq: sq[1])
    last = course[-1][1]
    if peak < 1:
        return None
    when = f" on day {int(start // DAY_S)}" if days else ""
    if last >= max(1.0, STILL_GROWING * peak):
        return f"the {name} queue grows until the horizon ({last:,.0f} waiting at the end, peak {peak:,.0f})"
    return (
        f"the {name} queue peaks at {peak:,.0f} ({format_clock(start % DAY_S)}{when}) and is down "
        f"to {last:,.1f} by the horizon, as callers hang up or are answered in quieter hours"
    )


def unsettled(
    scenario: Scenario, summary: dict[str, Any], queues: dict[str, list[tuple[float, float]]] | None = None
) -> list[str]:
    """One sentence per sign that the queue did not settle (empty: nothing to warn about);
    ``queues`` (:func:`queue_course`) say what each class's queue did, without them the warning
    says only that more work arrives than the shifts give."""
    notes = []
    calls = expected_calls(scenario)
    work_s = math.fsum(calls[c] * scenario.classes[c].mean_handle_s() for c in scenario.classes)
    edges = np.array([0.0, scenario.horizon])
    day0 = scenario.first_weekday
    duty_s = math.fsum(float(agent_seconds(p, scenario.horizon, edges, day0)[0]) for p in scenario.staffing.pools)
    if work_s > duty_s:
        ratio = f"{work_s / duty_s:.1f} times" if duty_s > 0 else "and there are no agents on duty"
        days = scenario.horizon > DAY_S
        courses = {name: (queues or {}).get(name, [(0.0, 0.0)]) for name in scenario.class_names()}
        did = [d for name, course in courses.items() if (d := _what_the_queue_did(name, course, days))]
        what = "; ".join(did) if did else "more calls arrive than the agents can answer"
        notes.append(
            f"arrivals bring about {work_s / HOUR_S:,.0f} agent-hours of calls, the shifts give "
            f"{duty_s / HOUR_S:,.0f} ({ratio}): {what}"
        )
    for name in scenario.class_names():
        node = summary["classes"][name]
        offered, left = node["offered"]["value"], node["unserved"]["value"]
        if offered and left is not None and left / offered >= UNSERVED_SHARE:
            notes.append(
                f"class {name}: {left:,.0f} of {offered:,.0f} calls per replication ({left / offered:.0%}) "
                "still unanswered at the horizon; the waits shown are those of the calls that got through"
            )
    return notes
