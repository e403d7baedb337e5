"""bench/record_day.py's scenario is the baseline scaled, and a valid run within the size limits."""

from __future__ import annotations

import json
from pathlib import Path

from bench.record_day import AGENT_SCALE, ARRIVAL_SCALE, REPLICATIONS, busy_agents, write_record_day
from queueing import load_scenario
from queueing.core.limits import check_run, cost, named
from tests.support import REPO


def test_the_record_day_is_the_baseline_scaled(tmp_path: Path) -> None:
    path = tmp_path / "record_day.yaml"
    write_record_day(path)
    day, baseline = load_scenario(path), load_scenario(REPO / "scenarios" / "baseline.yaml")
    assert day.replications == REPLICATIONS and day.seed == baseline.seed and day.horizon == baseline.horizon
    for name, scale in ARRIVAL_SCALE.items():
        ours, theirs = day.classes[name].arrivals.hourly_rates(), baseline.classes[name].arrivals.hourly_rates()
        assert list(ours) == [scale * x for x in theirs]
    for ours, theirs in zip(day.staffing.pools, baseline.staffing.pools, strict=True):
        assert [s.agents for s in ours.shift_list()] == [AGENT_SCALE * s.agents for s in theirs.shift_list()]
    assert day.roster is not None and baseline.roster is not None
    assert day.roster.min_agents("call-takers") == AGENT_SCALE * baseline.roster.min_agents("call-takers")
    # what the benchmark's first line says: about 269,000 calls a replication, no --large needed
    assert 260_000 < cost(day, 900.0).calls < 280_000
    check_run([(day, named(day))], interval_s=900.0)


def test_busy_agents_are_the_pools_busy_hours_over_the_window(tmp_path: Path) -> None:
    # two pools over a 24-hour window after a 1-hour warm-up: 48 agent-hours half busy and 24 all
    # busy are 48 busy hours, 2 agents busy on average
    summary = {
        "pools": {
            "a": {"utilization": {"value": 0.5}, "agent_hours": {"value": 48.0}},
            "b": {"utilization": {"value": 1.0}, "agent_hours": {"value": 24.0}},
        },
        "meta": {"horizon_s": 25 * 3600.0, "warmup_s": 3600.0},
    }
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary), encoding="utf-8")
    assert busy_agents(path) == 2
