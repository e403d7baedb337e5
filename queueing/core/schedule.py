"""The schedule of a run: every agent, numbered, with its duty windows and spans of work.

Built from the scenario alone (:func:`build_schedule`): shifts, breaks and the horizon, no random
draw (shrinkage and absences are the roster's business, settled before a scenario is simulated),
so every replication of a scenario has the same schedule. The runner builds it once per
replication and hands it to the model (when each agent works), the metrics (time on duty, the end
of the window or span of work a call was answered in) and the cost (paid time); each shift is
expanded over the horizon once, here (:mod:`queueing.core.duty` says how).

Agent numbering, the contract between the model and everything that reads its records: agents are
numbered from 0 pool by pool (file order), within a pool shift by shift (``Pool.shift_list``), so
agent 0 is the first agent of the first shift of the first pool. The model starts its agent
processes in this order, and ``CallRecords.agent`` (calls.csv's ``agent``) holds these numbers.
The agents of one shift share its windows: they are one :class:`Crew`.

Times are seconds since the start of the simulation (00:00 on day 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .duty import Segment, Window, clipped_cumulative, duty_windows, work_segments, work_spans
from .scenario import Scenario


@dataclass(frozen=True)
class Crew:
    """The agents of one shift of one pool: agent numbers ``first_agent`` up to, not including,
    ``first_agent + agents``."""

    pool: int  # index in the scenario's staffing.pools
    first_agent: int
    agents: int  # on duty
    duty_windows_s: tuple[Window, ...]  # [on, off) on duty, breaks included (paid time)
    work_segments_s: tuple[Segment, ...]  # (on, off, rest_s): spans of work, each with the break after it
    absent: int = 0  # more agents of the shift paid over the same windows but away (no agent number)

    @property
    def agent_numbers(self) -> range:
        """The numbers of this crew's agents."""
        return range(self.first_agent, self.first_agent + self.agents)


@dataclass(frozen=True, eq=False)  # arrays inside: compared field by field, == would be ambiguous
class Schedule:
    """Every agent of a scenario over [0, horizon_s): its crews in agent-number order, each
    agent's pool, and each pool's spans of work (for the time on duty per interval)."""

    horizon_s: float
    warmup_s: float
    crews: tuple[Crew, ...]
    agent_pool: np.ndarray  # int32: the pool index of each agent number
    pool_work_s: tuple[tuple[np.ndarray, np.ndarray], ...]  # per pool: (on, off) of every agent's spans of work

    def shift_ends_s(self) -> list[float]:
        """Every end of a span of work before the horizon, ascending: when idle agents go home or
        on a break."""
        return sorted({off for crew in self.crews for _, off, _ in crew.work_segments_s if off < self.horizon_s})

    def on_duty_s(self, pool: int, edges_s: np.ndarray) -> np.ndarray:
        """Agent-seconds on duty (spans of work: shift time less scheduled breaks) of pool ``pool``
        in each interval between consecutive ``edges_s``."""
        on, off = self.pool_work_s[pool]
        return np.diff(clipped_cumulative(on, off, edges_s))

    def paid_s(self, pool: int, *, absent_only: bool = False) -> float:
        """Paid agent-seconds of pool ``pool`` within the statistics window [warm-up, horizon):
        every agent over its duty windows, breaks included, the absent ones too (they are paid);
        with ``absent_only``, those of the absent agents alone."""
        t0, t1 = self.warmup_s, self.horizon_s
        total = 0.0
        for crew in self.crews:
            if crew.pool == pool:
                spans = sum(max(0.0, min(off, t1) - max(on, t0)) for on, off in crew.duty_windows_s)
                total += (crew.absent if absent_only else crew.agents + crew.absent) * spans
        return total

    def duty_ends_s(self, agent: np.ndarray, at_s: np.ndarray) -> np.ndarray:
        """For each (agent number, time) pair: the end of that agent's duty window holding the time
        (an agent answers a call only on duty)."""
        return self._ends(agent, at_s, lambda crew: [off for _, off in crew.duty_windows_s])

    def work_ends_s(self, agent: np.ndarray, at_s: np.ndarray) -> np.ndarray:
        """Like :meth:`duty_ends_s`, the end of the span of work holding each time: the start of the
        next break by the schedule, or the end of the shift. A call running past it runs into the
        break (which then starts late) or past the shift (overtime)."""
        return self._ends(agent, at_s, lambda crew: [off for _, off, _ in crew.work_segments_s])

    def _ends(self, agent: np.ndarray, at_s: np.ndarray, ends_of: Callable[[Crew], list[float]]) -> np.ndarray:
        out = np.full(len(agent), np.nan)
        for crew in self.crews:
            mine = (agent >= crew.first_agent) & (agent < crew.first_agent + crew.agents)
            if not mine.any():
                continue
            offs = np.array(ends_of(crew))
            k = np.minimum(np.searchsorted(offs, at_s[mine], side="right"), len(offs) - 1)
            out[mine] = offs[k]
        return out


def build_schedule(scenario: Scenario) -> Schedule:
    """The schedule of ``scenario`` over its horizon, agents numbered as the module says."""
    horizon = scenario.horizon
    crews: list[Crew] = []
    agent_pool: list[int] = []
    pool_work: list[tuple[np.ndarray, np.ndarray]] = []
    for p, pool in enumerate(scenario.staffing.pools):
        mine: list[Crew] = []
        for shift in pool.shift_list():
            mine.append(
                Crew(
                    pool=p,
                    first_agent=len(agent_pool),
                    agents=shift.agents,
                    duty_windows_s=tuple(duty_windows(shift, horizon, scenario.first_weekday)),
                    work_segments_s=tuple(work_segments(shift, horizon, scenario.first_weekday)),
                    absent=shift.absent or 0,
                )
            )
            agent_pool.extend([p] * shift.agents)
        pool_work.append(work_spans([(c.agents, c.work_segments_s) for c in mine], horizon))
        crews.extend(mine)
    return Schedule(
        horizon_s=horizon,
        warmup_s=scenario.warmup,
        crews=tuple(crews),
        agent_pool=np.asarray(agent_pool, dtype=np.int32),
        pool_work_s=tuple(pool_work),
    )
