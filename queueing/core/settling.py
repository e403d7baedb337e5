"""Does the queue settle? Warnings for runs whose arrivals exceed what the agents can answer.

An overloaded centre's queue grows until the horizon: most callers are still waiting (or give
up), and the few answered had short waits, so the means look fine. Two signs, either enough:

- the work arriving (expected calls x mean handle time, over the horizon) exceeds the agent
  time on duty: the queue cannot keep up on average;
- a class has at least ``UNSERVED_SHARE`` of its calls still unanswered at the horizon.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .durations import HOUR_S
from .duty import agent_seconds
from .limits import expected_calls
from .scenario import Scenario

UNSERVED_SHARE = 0.05


def unsettled(scenario: Scenario, summary: dict[str, Any]) -> list[str]:
    """One sentence per sign that the queue did not settle (empty: nothing to warn about)."""
    notes = []
    calls = expected_calls(scenario)
    work_s = math.fsum(calls[c] * scenario.classes[c].mean_handle_s() for c in scenario.classes)
    edges = np.array([0.0, scenario.horizon])
    day0 = scenario.first_weekday
    duty_s = math.fsum(float(agent_seconds(p, scenario.horizon, edges, day0)[0]) for p in scenario.staffing.pools)
    if work_s > duty_s:
        ratio = f"{work_s / duty_s:.1f} times" if duty_s > 0 else "and there are no agents on duty"
        notes.append(
            f"arrivals bring about {work_s / HOUR_S:,.0f} agent-hours of calls, the shifts give "
            f"{duty_s / HOUR_S:,.0f} ({ratio}): the queue grows until the horizon"
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
