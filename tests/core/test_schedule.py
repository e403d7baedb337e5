"""The schedule of a replication: agents numbered pool by pool, shift by shift."""

from __future__ import annotations

import numpy as np

from queueing.core.scenario import Shift
from queueing.core.scenario_file import load_scenario
from queueing.core.schedule import build_schedule
from tests.support import REPO


def test_the_schedule_numbers_agents_pool_by_pool_and_shift_by_shift() -> None:
    # Agent 0 works 00:00-01:00, agents 1 and 2 work 01:00-02:00, every day; agent 3 is the next pool's.
    scenario = load_scenario(REPO / "scenarios" / "baseline.yaml")
    first, second = scenario.staffing.pools
    early = first.model_copy(
        update={"agents": None, "shifts": [Shift(start=0, end=3600, agents=1), Shift(start=3600, end=7200, agents=2)]}
    )
    late = second.model_copy(update={"agents": 1, "shifts": None, "hours": None})  # round the clock
    staffing = scenario.staffing.model_copy(update={"pools": [early, late]})
    schedule = build_schedule(scenario.model_copy(update={"horizon": 2 * 86400.0, "staffing": staffing}))
    assert schedule.agent_pool.tolist() == [0, 0, 0, 1]
    assert [list(crew.agent_numbers) for crew in schedule.crews] == [[0], [1, 2], [3]]
    agent = np.array([0, 1, 2, 0, 3])
    at = np.array([3000.0, 4000.0, 7100.0, 86400.0 + 10, 5.0])
    ends = schedule.duty_ends_s(agent, at)
    assert ends.tolist() == [3600.0, 7200.0, 7200.0, 86400.0 + 3600, 2 * 86400.0]
