"""Arrivals, shifts and the analytic command, piece by piece."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from helpers import REPO
from queueing.cli import main
from queueing.core.arrivals import arrival_times
from queueing.core.draws import draw_callers
from queueing.core.durations import format_duration, parse_duration_s
from queueing.core.duty import agent_seconds, duty_windows
from queueing.core.limits import expected_calls
from queueing.core.metrics import replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ANSWERED
from queueing.core.scenario import Shift
from queueing.core.scenario_file import load_scenario, parse_scenario
from queueing.core.schedule import build_schedule


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15s", 15),
        ("4m", 240),
        ("1h30m", 5400),
        ("30d", 2592000),
        ("90", 90),
        (12.5, 12.5),
        ("1.5h", 5400),
        ("2m 30s", 150),
    ],
)
def test_durations(text, seconds) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "1x", "", "h", True, None, [1]])
def test_bad_durations(bad) -> None:
    with pytest.raises(ValueError, match="must be a"):
        parse_duration_s(bad)


def test_format_duration_round_trips() -> None:
    for s in (15, 240, 5400, 86400 + 60, 12.5):
        assert parse_duration_s(format_duration(s)) == s


def test_hourly_profile_and_surge_give_the_expected_counts() -> None:
    """Counts per hour of a non-homogeneous Poisson process: mean and variance equal the rate."""
    profile = [0] * 6 + [50] * 6 + [200] * 6 + [10] * 6
    scenario = parse_scenario(f"""
name: nhpp
horizon: 1d
classes:
  a: {{priority: 1, arrivals: {{profile_per_hour: {profile}}}, handle_time: {{dist: exponential, mean: 1m}}}}
surges: [{{name: storm, class: a, start: 20h, end: 22h, multiplier: 5}}]
staffing: {{pools: [{{name: p, serves: [a], agents: 1}}]}}
""")
    expected = np.array(profile, dtype=float)
    expected[20:22] *= 5
    assert expected_calls(scenario)["a"] == pytest.approx(expected.sum())
    reps = 400
    counts = np.array(
        [
            np.histogram(arrival_times(scenario, "a", np.random.default_rng(r)), bins=np.arange(25) * 3600.0)[0]
            for r in range(reps)
        ]
    )
    assert counts[:, :6].sum() == 0  # no calls at zero rate
    busy = expected > 0
    z = (counts.mean(axis=0)[busy] - expected[busy]) / np.sqrt(expected[busy] / reps)
    assert np.all(np.abs(z) < 4.5), z
    ratio = counts.var(axis=0, ddof=1)[busy] / expected[busy]  # Poisson: variance = mean
    assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio
    # Within an hour, arrival times are uniform (constant rate): the mean offset is half an hour.
    t = np.concatenate([arrival_times(scenario, "a", np.random.default_rng(r)) for r in range(50)])
    offsets = t[(t >= 12 * 3600) & (t < 18 * 3600)] % 3600
    assert abs(offsets.mean() - 1800) < 4 * 3600 / math.sqrt(12 * len(offsets))


def test_night_shift_runs_past_midnight() -> None:
    from queueing.core.scenario import Shift

    night = Shift(start=22 * 3600, end=30 * 3600, agents=2)
    assert duty_windows(night, 2 * 86400) == [(0.0, 6 * 3600.0), (22 * 3600.0, 30 * 3600.0), (46 * 3600.0, 54 * 3600.0)]
    day = Shift(start=0, end=86400, agents=1)
    assert duty_windows(day, 3 * 86400) == [(0.0, 3 * 86400.0)]  # one unbroken window


def test_shifts_are_respected_and_calls_in_progress_are_finished() -> None:
    scenario = load_scenario(REPO / "scenarios" / "baseline.yaml")
    pools = scenario.staffing.pools
    edges = np.arange(25) * 3600.0
    # agent-hours per hour from the duty windows (the run's schedule, and one pool's alone) agree
    # with the schedule read another way (Pool.agents_at, mid-hour), whatever the file's shifts are
    schedule = build_schedule(scenario)
    for p, pool in enumerate(pools):
        by_hand = [pool.agents_at(h * 3600 + 1800) for h in range(24)]
        assert (schedule.on_duty_s(p, edges) / 3600).tolist() == by_hand
        assert (agent_seconds(pool, scenario.horizon, edges) / 3600).tolist() == by_hand
    records = simulate_replication(scenario, schedule, draw_callers(scenario, 0))
    answered = records.outcome == ANSWERED
    # Every call a pool answered, it answered while someone of that pool was on duty.
    for p, pool in enumerate(pools):
        times = records.answered_s[answered & (records.pool == p)]
        assert all(pool.agents_at(t) > 0 or t % 86400 == 0 for t in times)
    # The desk closes at 18:00 with calls in progress: those are finished, as overtime.
    desk_calls = answered & (records.pool == 1)
    ends = records.answered_s[desk_calls] + records.callers.handle_s[desk_calls]
    assert ends.max() > 18 * 3600
    assert records.answered_s[desk_calls].max() < 18 * 3600
    # Time on duty and overtime are measured apart: busy on duty never exceeds the schedule.
    measures = replication_measures(scenario, schedule, records)
    assert measures[("pools", "311-desk", "overtime_h")] > 0
    for pool in pools:
        assert 0 < measures[("pools", pool.name, "utilization")] <= 1


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


def test_analytic_command_matches_design_reference() -> None:
    """The reference case's stationary waits (Cobham's priority M/M/c): 19.3 s and 160.8 s."""
    from queueing.theory.steady_state import analyze

    textbook = REPO / "scenarios" / "textbook.yaml"
    analysis = analyze(load_scenario(textbook))
    assert analysis.fits
    waits = {a.name: (a.model, a.mean_wait_s) for a in analysis.answers}
    assert "Cobham" in waits["911"][0]
    assert waits["911"][1] == pytest.approx(19.3, abs=0.05) and waits["311"][1] == pytest.approx(160.8, abs=0.05)
    result = CliRunner().invoke(main, ["analytic", str(textbook)])  # and the command prints them
    assert result.exit_code == 0 and "19.3" in result.output and "160.8" in result.output


def test_analytic_command_names_the_failed_assumptions() -> None:
    result = CliRunner().invoke(main, ["analytic", str(REPO / "scenarios" / "baseline.yaml")])
    assert result.exit_code == 0
    assert "the formulas do not apply" in result.output
    assert "class 911: arrivals vary by hour" in result.output
    assert "class 311: served by 2 pools (call-takers, 311-desk)" in result.output


def test_analytic_command_simulates_beside(write_scenario) -> None:
    one_class = """
name: erlang a
seed: 3
horizon: 3d
warmup: 2h
replications: 4
classes:
  "311":
    priority: 1
    arrivals: {rate_per_hour: 100}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 3m}
staffing: {pools: [{name: desk, serves: ["311"], agents: 7}]}
targets: {"311": [{within: 30s, share: 0.8}]}
"""
    from queueing import simulate
    from queueing.theory.steady_state import analyze

    path = write_scenario(one_class)
    result = CliRunner().invoke(main, ["analytic", str(path), "--simulate", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "Erlang A" in result.output and "simulated" in result.output
    # the data beside each other: Erlang A's abandonment against the simulated share's interval
    scenario = load_scenario(path)
    (answer,) = analyze(scenario).answers
    simulated = simulate(scenario, jobs=1).summary["classes"]["311"]["abandoned"]["share"]
    half = (simulated["ci95"][1] - simulated["ci95"][0]) / 2
    assert answer.p_abandon is not None
    assert abs(answer.p_abandon - simulated["value"]) < max(3 * half, 0.01)


def test_routing_puts_specialists_first() -> None:
    """One rule for the model and the staffing search: pools serving fewer classes first, then file order."""
    scenario = parse_scenario("""
name: routing
horizon: 1d
classes:
  "911": {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: exponential, mean: 1m}}
  "311": {priority: 2, arrivals: {rate_per_hour: 1}, handle_time: {dist: exponential, mean: 1m}}
staffing:
  pools:
    - {name: shared, serves: ["911", "311"], agents: 1}
    - {name: 311-desk, serves: ["311"], agents: 1}
    - {name: 911-floor, serves: ["911"], agents: 1}
    - {name: 311-overflow, serves: ["311"], agents: 1}
""")
    assert scenario.staffing.pools_for("911") == [2, 0]
    assert scenario.staffing.pools_for("311") == [1, 3, 0]


def test_one_rule_for_intervals_that_fold_into_hours_and_days():
    from queueing.core.durations import DAY_S, HOUR_S, intervals_in

    assert intervals_in(HOUR_S, 900) == 4 and intervals_in(HOUR_S, HOUR_S) == 1
    assert intervals_in(DAY_S, 2 * HOUR_S) == 12 and intervals_in(DAY_S, 45 * 60) == 32
    for bad in (0, -60, 7 * 60, 2 * HOUR_S):  # not dividing an hour, or longer than it
        assert intervals_in(HOUR_S, bad) is None
    assert intervals_in(DAY_S, 7 * HOUR_S) is None
