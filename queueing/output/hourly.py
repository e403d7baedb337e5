"""Interval rows folded into hours of the day, across replications: the series behind the report's
hour-of-day plots and hourly.csv. No matplotlib here, so ``simulate`` writes hourly.csv without it.

Intervals are folded into the hour of day they start in (``interval_start_s % 86400 // 3600``), so
a 30-day horizon gives one typical day; intervals that start in the warm-up are left out. Per-hour
figures are the mean over replications of each replication's figure for that hour, with a 95%
Student-t interval. The interval must divide an hour (:func:`check_interval`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.call_flows import interval_flow_columns
from ..core.durations import DAY_S, HOUR_S, format_clock, intervals_in
from ..core.runner import SimulationResult
from ..core.statistics import column_estimates, share_estimate

HOURS = 24


@dataclass(frozen=True)
class HourlyClass:
    """One class's interval figures folded into hours of the day; arrays are (replications, 24).

    ``service_level[within_s]`` is the share of offered calls (arrived in that hour) answered
    within ``within_s`` seconds, NaN where no call arrived; ``abandon_share`` likewise.
    ``queue_len`` (callers waiting) and ``agents`` (agents on duty in the pools serving the
    class) are time averages over the hour, NaN for hours no statistics interval covers.
    ``flows``: the counts of transfers, redials and callbacks by the hour their callers arrived
    in (intervals.csv's columns of them), empty when the scenario uses none.
    """

    arrivals: np.ndarray
    abandoned: np.ndarray
    service_level: dict[float, np.ndarray]
    abandon_share: np.ndarray
    queue_len: np.ndarray
    agents: np.ndarray
    flows: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def observed(self) -> np.ndarray:
        """(24,) bool: hours of the day that at least one statistics interval covers."""
        return ~np.all(np.isnan(self.queue_len), axis=0)

    @property
    def with_arrivals(self) -> np.ndarray:
        """(24,) bool: hours of the day in which any caller arrived, in any replication."""
        return self.arrivals.sum(axis=0) > 0


def folds_into_hours(interval_s: float) -> bool:
    """Whether intervals of ``interval_s`` fold into hours of the day (see :func:`check_interval`)."""
    try:
        check_interval(interval_s)
    except ValueError:
        return False
    return True


def check_interval(interval_s: float) -> None:
    """Hour-of-day folding needs intervals that divide an hour (5m, 15m, 30m, 1h...)."""
    if intervals_in(HOUR_S, interval_s) is None:
        raise ValueError(
            f"the report folds intervals into hours of the day: the interval must divide 1 h "
            f"(5m, 10m, 15m, 20m, 30m, 1h), got {interval_s:g} s"
        )


def hourly(result: SimulationResult) -> dict[str, HourlyClass]:
    """Fold ``result``'s interval rows into hours of the day, per class (see :class:`HourlyClass`)."""
    check_interval(result.interval_s)
    scenario = result.scenario
    n_rep = len(result.replications)
    withins = sorted({t.within for ts in scenario.targets.values() for t in ts})
    flows = interval_flow_columns(scenario)
    reps = [rep.intervals for rep in result.replications]

    def column(name: str) -> np.ndarray:
        return np.concatenate([rows.column(name) for rows in reps]).astype(float, copy=False)

    # Each sum by np.bincount: it adds the values of a cell in row order, as a loop over the rows
    # would (the same floats, not a regrouped sum).
    start = column("interval_start_s")
    width = column("interval_end_s") - start
    keep = start >= scenario.warmup - 1e-9
    class_index = {name: k for k, name in enumerate(scenario.class_names())}
    cls = np.concatenate([rows.class_of for rows in reps]).astype(np.int64)
    cell = np.concatenate([np.full(len(rows), i, dtype=np.int64) for i, rows in enumerate(reps)]) * HOURS
    cell += ((start % DAY_S) // HOUR_S).astype(np.int64)
    queue, agents = column("queue_len_mean"), column("agents_on_duty")
    has_queue, has_agents = ~np.isnan(queue), ~np.isnan(agents)
    per_row = {
        "arrivals": (column("arrivals"), keep),
        "offered": (column("offered"), keep),  # service levels are shares of these
        "abandoned": (column("abandoned"), keep),
        # counts add up; shares are taken once, below
        **{f"sl_{t:g}": (column(f"answered_within_{t:g}s"), keep) for t in withins},
        "queue_sum": (np.maximum(queue, 0.0) * width, keep & has_queue),  # clip float noise below 0
        "duration": (width, keep & has_queue),
        "agents_sum": (agents * width, keep & has_agents),
        "agents_duration": (width, keep & has_agents),
        **{flow: (column(flow), keep) for flow in flows},  # none without transfers...
    }
    acc: dict[str, dict[str, np.ndarray]] = {}
    for name, k in class_index.items():
        mine = cls == k
        acc[name] = {
            key: np.bincount(cell[mine & use], weights=values[mine & use], minlength=n_rep * HOURS).reshape(
                n_rep, HOURS
            )
            for key, (values, use) in per_row.items()
        }
    out: dict[str, HourlyClass] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, a in acc.items():
            arrivals = a["arrivals"]
            per_call = np.where(a["offered"] > 0, a["offered"], np.nan)
            out[name] = HourlyClass(
                arrivals=arrivals,
                abandoned=a["abandoned"],
                service_level={t: a[f"sl_{t:g}"] / per_call for t in withins},
                abandon_share=a["abandoned"] / per_call,
                queue_len=np.where(a["duration"] > 0, a["queue_sum"] / a["duration"], np.nan),
                agents=np.where(a["agents_duration"] > 0, a["agents_sum"] / a["agents_duration"], np.nan),
                flows={f: a[f] for f in flows},
            )
    return out


def hourly_columns(result: SimulationResult) -> list[str]:
    """Columns of hourly.csv: ``hour, clock, class``, then each measure with ``_ci_low`` and ``_ci_high``."""
    return ["hour", "clock", "class"] + [
        f"{m}{suffix}" for m in _measure_names(result) for suffix in ("", "_ci_low", "_ci_high")
    ]


def _measure_names(result: SimulationResult) -> list[str]:
    withins = sorted({t.within for ts in result.scenario.targets.values() for t in ts})
    flows = interval_flow_columns(result.scenario)  # per day, as arrivals
    return ["arrivals", "abandoned_share", *(f"service_level_{t:g}s" for t in withins), "queue_len_mean", *flows]


def hourly_rows(result: SimulationResult) -> list[tuple[Any, ...]]:
    """Rows of hourly.csv: per hour of day (of the statistics window) and class, each measure's mean
    over replications and its 95% interval (empty where unknown). ``arrivals`` (and the counts of
    transfers, redials and callbacks of a scenario that uses them) are per day."""
    folded = hourly(result)
    scenario = result.scenario
    starts = np.arange(0.0, scenario.horizon, HOUR_S)
    widths = np.diff(np.append(starts, scenario.horizon))
    keep = starts >= scenario.warmup - 1e-9
    days = np.bincount(((starts % DAY_S) // HOUR_S).astype(int)[keep], weights=widths[keep], minlength=HOURS) / HOUR_S
    per_day = np.where(days > 0, days, np.nan)
    estimates = {
        name: [
            column_estimates(hc.arrivals / per_day),
            *(column_estimates(values, share_estimate) for values in (hc.abandon_share, *hc.service_level.values())),
            column_estimates(hc.queue_len),
            *(column_estimates(counts / per_day) for counts in hc.flows.values()),
        ]
        for name, hc in folded.items()
    }
    rows = []
    for h in range(HOURS):
        if days[h] <= 0:
            continue
        for name, measures in estimates.items():
            cells = [None if np.isnan(e[h]) else float(e[h]) for est in measures for e in est]
            rows.append((h, f"{format_clock(h * HOUR_S)}-{format_clock((h + 1) * HOUR_S)}", name, *cells))
    return rows
