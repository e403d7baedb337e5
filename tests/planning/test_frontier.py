"""The cost-service frontier: the cheapest staffing for each target share, monotone (more service
never costs less), and what the range and the classes mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from queueing.core.runner import LocalExecutor
from queueing.core.scenario_file import parse_scenario
from queueing.errors import ScenarioError
from queueing.planning import frontier as frontier_module
from queueing.planning.frontier import frontier, share_range, with_share

H = 3600.0

# One class, one pool, a 6-hour grid, few replications: a staffing search in about a second.
SMALL = """
name: small desk
seed: 5
horizon: 1d
replications: 4
classes:
  "911":
    priority: 1
    arrivals: {profile_per_hour: [10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20,
                                  40, 40, 40, 40, 40, 40, 20, 20, 20, 20, 20, 20]}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 4m}
  "311":
    priority: 2
    arrivals: {rate_per_hour: 20}
    handle_time: {dist: exponential, mean: 3m}
staffing:
  pools: [{name: call-takers, serves: ["911", "311"], agents: 4}]
targets:
  "911": [{within: 15s, share: 0.90, over: day}]
  "311": [{within: 60s, share: 0.80}]
"""


def test_the_frontier_is_monotone_and_each_plan_meets_its_share() -> None:
    scenario = parse_scenario(SMALL)
    result = frontier(scenario, [0.95, 0.6, 0.75, 0.85], interval_s=6 * H, executor=LocalExecutor(2))
    assert [p.share for p in result.points] == [0.6, 0.75, 0.85, 0.95]  # sorted, each once
    hours = [p.agent_hours for p in result.points]
    assert hours == sorted(hours) and hours[0] < hours[-1]  # more service never costs less, and costs some
    for point, own in zip(result.points, result.searches, strict=True):
        assert point.plan.targets_met and point.found_at >= point.share
        assert point.agent_hours <= own.agent_hours()  # never dearer than its own search
        # the plan meets this share's targets over their windows (the higher share it may come from, too)
        assert [j.target.share for j in point.plan.check.judged] == [point.found_at] * 2  # type: ignore[union-attr]
        assert [j.target.window for j in point.plan.check.judged] == ["day", "interval"]  # type: ignore[union-attr]
    # the share the plans got grows with the share asked (the same callers)
    achieved_911 = [p.achieved()[0] for p in result.points]
    assert achieved_911 == sorted(achieved_911)


@dataclass
class _Plan:
    """What the frontier reads of a staffing search: its agent-hours and verdict."""

    hours: float
    targets_met: bool = True
    scenario: Any = parse_scenario(SMALL)
    agents: Any = None

    def agent_hours(self) -> float:
        return self.hours


def test_a_cheaper_plan_found_for_more_service_is_the_plan_for_less(monkeypatch: pytest.MonkeyPatch) -> None:
    # searches are heuristics: the 80% one may come out dearer than the 90% one, or miss
    found = {0.7: _Plan(100), 0.8: _Plan(130), 0.9: _Plan(120), 0.95: _Plan(90, targets_met=False)}
    for share, plan in found.items():
        plan.agents = f"the {share} staffing"
    seen = []

    def search(scenario: Any, executor: Any, **kw: Any) -> _Plan:
        share = scenario.targets["311"][0].share
        seen.append((share, scenario.targets["911"][0].share, kw["start"]))
        return found[share]

    monkeypatch.setattr(frontier_module, "find_staffing", search)
    result = frontier(parse_scenario(SMALL), [0.7, 0.8, 0.9, 0.95], classes=["311"], executor=LocalExecutor(1))
    # only the 311 target's share is set; each search starts where the one below ended
    starts = [None, "the 0.7 staffing", "the 0.8 staffing", "the 0.9 staffing"]
    assert seen == [(share, 0.9, start) for share, start in zip(found, starts, strict=True)]
    points = [(p.share, p.agent_hours, p.found_at, p.plan.targets_met) for p in result.points]
    # 95% missed: its own plan stays (NOT MET); 80% takes the 90% plan; 70% keeps its cheaper own
    assert points == [(0.7, 100, 0.7, True), (0.8, 120, 0.9, True), (0.9, 120, 0.9, True), (0.95, 90, 0.95, False)]


def test_the_range_and_the_classes() -> None:
    assert share_range("0.70:0.95:0.05") == [0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    assert share_range("0.9:0.9:0.1") == [0.9]
    for bad in ("0.7:0.95", "0:0.9:0.1", "0.9:0.8:0.05", "0.7:1.1:0.1", "a:b:c", "0.5:0.9:0"):
        with pytest.raises(ScenarioError, match=r"--frontier: give LOW:HIGH:STEP"):
            share_range(bad)
    scenario = parse_scenario(SMALL)
    every = with_share(scenario, 0.7)
    assert [t.share for ts in every.targets.values() for t in ts] == [0.7, 0.7]
    assert [t.window for ts in every.targets.values() for t in ts] == ["day", "interval"]  # windows kept
    only = with_share(scenario, 0.7, ["911"])
    assert (only.targets["911"][0].share, only.targets["311"][0].share) == (0.7, 0.8)
    with pytest.raises(ScenarioError, match="--frontier-class: 'ems' has no targets"):
        frontier(scenario, [0.8], classes=["ems"], executor=LocalExecutor(1))
