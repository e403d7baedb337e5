"""What a plan costs: paid agent-hours by the schedule and overtime, at the roster's pay rates.

This is the one cost of a plan: ``roster`` prints it as its headline (the mean over its last
simulation), ``simulate`` of the roster.yaml it writes gives the same, and ``compare`` and the
report show it; what the agents present cost is a breakdown of it, never a second total.

A scenario has rates when its ``roster`` section gives every pool a ``cost_per_hour``
(:attr:`~queueing.core.scenario.RosterRules.costed`). Within the statistics window
[warm-up, horizon) of one replication, the cost of a pool is

    rate x (paid agent-hours + overtime hours x overtime_multiplier)

- **paid agent-hours**: the schedule's shifts, breaks included (breaks are paid), each agent of a
  shift counted over its duty windows that lie in the window, and so are the shift's ``absent``
  agents (rostered and paid, away: shrinkage)
  (:meth:`queueing.core.schedule.Schedule.paid_s`). The same in every replication.
- **overtime hours**: agent-hours on calls past the end of the shift they were answered in
  (``pools.<pool>.overtime_h`` of :mod:`queueing.core.metrics`); they differ by replication.

Expressed **per day** (x 86,400 / the window's seconds) and **per answered call** (the window's
cost over the calls answered among callers arriving in the window). Without rates nothing here
is measured, and summary.json has no cost keys. Amounts are written by
:func:`queueing.core.metric_names.format_money`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .durations import DAY_S, HOUR_S
from .scenario import Scenario
from .schedule import Schedule, build_schedule

Key = tuple[str, ...]


def is_costed(scenario: Scenario) -> bool:
    """Whether the scenario has pay rates (then every pool has one)."""
    return scenario.roster is not None and scenario.roster.costed


def days_measured(scenario: Scenario) -> float:
    """Length of the statistics window [warm-up, horizon) in days."""
    return (scenario.horizon - scenario.warmup) / DAY_S


def paid_hours_per_day(scenario: Scenario) -> float:
    """Paid agent-hours a day of the whole schedule (breaks included), over the statistics window."""
    schedule = build_schedule(scenario)
    seconds = sum(schedule.paid_s(p) for p in range(len(scenario.staffing.pools)))
    return seconds / HOUR_S / days_measured(scenario)


def absent_per_day(scenario: Scenario) -> tuple[float, float]:
    """(paid agent-hours, money) a day of the shifts' absent agents over the statistics window: the
    part of the cost a day that pays agents who are away (0 without ``absent`` on any shift)."""
    schedule = build_schedule(scenario)
    rules = scenario.roster
    hours = money = 0.0
    for p, pool in enumerate(scenario.staffing.pools):
        h = schedule.paid_s(p, absent_only=True) / HOUR_S / days_measured(scenario)
        hours += h
        money += h * (rules.rate_per_hour(pool.name) if rules is not None and rules.costed else 0.0)
    return hours, money


def agent_hours_per_day(scenario: Scenario, pool: int | None = None) -> float:
    """Agent-hours on duty a day of the whole schedule, or of pool index ``pool`` (scheduled breaks
    left out, as the pools' ``agent_hours``), over the statistics window: what the shifts give,
    a shift ending at 18:30 counted to 18:30."""
    schedule = build_schedule(scenario)
    edges = np.array([scenario.warmup, scenario.horizon])
    pools = range(len(scenario.staffing.pools)) if pool is None else [pool]
    seconds = sum(float(schedule.on_duty_s(p, edges)[0]) for p in pools)
    return seconds / HOUR_S / days_measured(scenario)


def replication_cost(scenario: Scenario, schedule: Schedule, measures: dict[Key, float]) -> dict[Key, float]:
    """The cost measures of one replication, from the scenario's schedule (paid time) and the
    replication's other measures (each pool's ``overtime_h`` and ``answered``); empty without rates.
    Keys: ``("cost", "per_day")``, ``("cost", "per_answered_call")``,
    ``("cost", "overtime_hours_per_day")`` and ``("pools", <pool>, "cost_per_day")``."""
    if not is_costed(scenario):
        return {}
    rules = scenario.roster
    assert rules is not None
    per_day = 1.0 / days_measured(scenario)
    out: dict[Key, float] = {}
    total = overtime_h = answered = 0.0
    for p, pool in enumerate(scenario.staffing.pools):
        overtime = measures[("pools", pool.name, "overtime_h")]
        paid_h = schedule.paid_s(p) / HOUR_S
        cost = rules.rate_per_hour(pool.name) * (paid_h + overtime * rules.overtime_multiplier)
        out[("pools", pool.name, "cost_per_day")] = cost * per_day
        total += cost
        overtime_h += overtime
        answered += measures[("pools", pool.name, "answered")]
    out[("cost", "per_day")] = total * per_day
    out[("cost", "per_answered_call")] = total / answered if answered else math.nan
    out[("cost", "overtime_hours_per_day")] = overtime_h * per_day
    return out


def cost_summary(scenario: Scenario, estimates: dict[str, Any]) -> dict[str, Any]:
    """summary.json's ``cost`` node: the currency, the estimates across replications (``estimates``:
    the ``cost`` node as summarized, ``{name: {value, ci95}}``), the schedule's paid hours a day
    (absent agents included) and, of the hours and of the cost a day, the absent agents' part."""
    assert scenario.roster is not None
    absent_h, absent_money = absent_per_day(scenario)
    return {
        "currency": scenario.roster.currency,
        "per_day": estimates["per_day"],
        "per_answered_call": estimates["per_answered_call"],
        "paid_hours_per_day": paid_hours_per_day(scenario),
        "overtime_hours_per_day": estimates["overtime_hours_per_day"],
        "absent_hours_per_day": absent_h,
        "absent_per_day": absent_money,
    }
