"""Breaks and opening hours: exact small cases, properties (hypothesis), files and schema errors."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assert_one_line_error, callers_at
from queueing.cli import main
from queueing.core.draws import draw_callers
from queueing.core.duty import agent_seconds, work_segments
from queueing.core.metrics import interval_columns, replication_intervals, replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ANSWERED, CLOSED, OUTCOMES, CallRecords, call_rows
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import parse_scenario, with_overrides
from queueing.core.schedule import build_schedule

H = 3600.0
M = 60.0


ONE_AGENT = """
name: one agent with a break
horizon: 8h
classes:
  a: {{priority: 1, arrivals: {{rate_per_hour: 1}}, handle_time: {{dist: deterministic, value: 10m}}}}
staffing:
  pools:
    - name: desk
      serves: [a]
      shifts: [{{start: 0h, end: 8h, agents: 1, breaks: [{breaks}]}}]
targets: {{a: [{{within: 0s, share: 0.5}}]}}
"""


def test_a_call_in_progress_is_finished_then_the_whole_break_taken() -> None:
    scenario = parse_scenario(ONE_AGENT.format(breaks="{start: 1h, length: 30m}"))
    schedule = build_schedule(scenario)
    # 0:55 answered at once and runs to 1:05 past the break's start; the break then runs 1:05-1:35.
    arrivals = [55 * M, 60 * M, 80 * M, 120 * M]
    records = simulate_replication(scenario, schedule, callers_at(arrivals, 10 * M))
    assert records.outcome.tolist() == [ANSWERED] * 4
    assert records.answered_s.tolist() == [55 * M, 95 * M, 105 * M, 120 * M]
    assert records.wait_s.tolist() == [0.0, 35 * M, 25 * M, 0.0]
    # running into a break is not overtime
    assert replication_measures(scenario, schedule, records)[("pools", "desk", "overtime_h")] == 0.0


def test_a_call_running_into_a_break_is_not_time_on_duty() -> None:
    scenario = parse_scenario(ONE_AGENT.format(breaks="{start: 1h, length: 30m}"))
    schedule = build_schedule(scenario)
    # One call 0:55-1:05: 5 minutes on duty, 5 minutes into the break (which then runs 1:05-1:35).
    records = simulate_replication(scenario, schedule, callers_at([55 * M], 10 * M))
    measures = replication_measures(scenario, schedule, records)
    assert measures[("pools", "desk", "utilization")] == pytest.approx(5 * M / (7.5 * H))
    assert measures[("pools", "desk", "overtime_h")] == 0.0


def test_an_idle_agent_takes_its_break_on_time_and_breaks_chain() -> None:
    scenario = parse_scenario(ONE_AGENT.format(breaks="{start: 1h, length: 30m}, {start: 1h30m, length: 15m}"))
    schedule = build_schedule(scenario)
    # Idle at 1:00: breaks 1:00-1:30 and 1:30-1:45. A call at 1:10 waits for 1:45.
    records = simulate_replication(scenario, schedule, callers_at([70 * M, 200 * M], 10 * M))
    assert records.answered_s.tolist() == [105 * M, 200 * M]
    # A call running 0:55-1:05 pushes the first break to 1:05-1:35, the second to 1:35-1:50.
    records = simulate_replication(scenario, schedule, callers_at([55 * M, 62 * M], 10 * M))
    assert records.answered_s.tolist() == [55 * M, 110 * M]


def test_agents_on_duty_leave_out_breaks() -> None:
    scenario = parse_scenario(ONE_AGENT.format(breaks="{start: 1h, length: 30m}"))
    schedule = build_schedule(scenario)
    pool = scenario.staffing.pools[0]
    edges = np.arange(0, 8 * H + 1, 30 * M)
    assert (agent_seconds(pool, scenario.horizon, edges) / (30 * M)).tolist() == [1, 1, 0] + [1] * 13
    assert [pool.agents_at(t) for t in (59 * M, 60 * M, 89 * M, 90 * M)] == [1, 0, 0, 1]
    records = simulate_replication(scenario, schedule, callers_at([55 * M], 10 * M))
    rows = replication_intervals(scenario, schedule, records, 0, 30 * M)
    agents = [row[interval_columns(scenario).index("agents_on_duty")] for row in rows]
    assert agents == [1, 1, 0] + [1] * 13


def test_work_segments_of_a_night_shift_with_a_break() -> None:
    scenario = parse_scenario("""
name: night
horizon: 2d
classes: {a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: exponential, mean: 1m}}}
staffing:
  pools:
    - {name: p, serves: [a], hours: {open: 20h, close: 32h},
       shifts: [{start: 22h, end: 30h, agents: 1, breaks: [{start: 3h, length: 1h}]}]}
""")
    shift = scenario.staffing.pools[0].shifts[0]  # type: ignore[index]
    # The night before: on duty at 0:00 until 6:00, its break 1:00-2:00 already scheduled.
    assert work_segments(shift, scenario.horizon) == [
        (0.0, 1 * H, 1 * H),
        (2 * H, 6 * H, 0.0),
        (22 * H, 25 * H, 1 * H),
        (26 * H, 30 * H, 0.0),
        (46 * H, 49 * H, 1 * H),
    ]


HOURS = """
name: office hours
horizon: 1d
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 5m}}
staffing:
  pools:
    - {name: desk, serves: [a], hours: {open: 8h, close: 16h}, agents: 1}
targets: {a: [{within: 10s, share: 0.8}]}
"""


def test_calls_outside_opening_hours_are_closed() -> None:
    scenario = parse_scenario(HOURS)
    schedule = build_schedule(scenario)
    records = simulate_replication(scenario, schedule, callers_at([7 * H, 9 * H, 17 * H], 5 * M))
    assert [OUTCOMES[o] for o in records.outcome] == ["closed", "answered", "closed"]
    assert records.agent.tolist() == [-1, 0, -1] and records.pool.tolist() == [-1, 0, -1]
    assert records.wait_s.tolist() == [0.0, 0.0, 0.0]
    measures = replication_measures(scenario, schedule, records)
    assert measures[("classes", "a", "closed")] == 2
    assert measures[("classes", "a", "offered")] == 1
    assert measures[("classes", "a", "service_level", "10")] == 1.0  # closed calls are not offered
    assert measures[("pools", "desk", "agent_hours")] == 8.0
    rows = replication_intervals(scenario, schedule, records, 0, H)
    cols = interval_columns(scenario)
    closed = {int(r[cols.index("interval_start_s")] // H): r[cols.index("closed")] for r in rows}
    assert [h for h, n in closed.items() if n] == [7, 17]
    level = {int(r[cols.index("interval_start_s")] // H): r[cols.index("service_level_10s")] for r in rows}
    assert level[7] is None and level[9] == 1.0  # nothing offered at 7h
    calls = list(call_rows(scenario, [(0, records)]))
    assert [(r[5], r[7], r[8], r[11]) for r in calls] == [
        (None, 7 * H, None, "closed"),
        (9 * H, 9 * H + 5 * M, 0.0, "answered"),
        (None, 17 * H, None, "closed"),
    ]


def test_a_pool_without_hours_keeps_a_class_open() -> None:
    scenario = parse_scenario(
        HOURS.replace(
            "agents: 1}", "agents: 1}\n    - {name: night, serves: [a], shifts: [{start: 16h, end: 32h, agents: 1}]}"
        )
    )
    records = simulate_replication(scenario, build_schedule(scenario), callers_at([7 * H, 9 * H, 17 * H], 5 * M))
    assert [OUTCOMES[o] for o in records.outcome] == ["answered"] * 3
    assert records.pool.tolist() == [1, 0, 1]


def test_simulate_writes_closed_calls(tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(HOURS.replace("rate_per_hour: 1", "rate_per_hour: 30").replace("horizon: 1d", "horizon: 2d"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["simulate", str(path), "--out", str(out), "--calls", "-q", "--replications", "2"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    node = summary["classes"]["a"]
    assert node["closed"]["value"] > 0 and node["offered"]["value"] > 0
    with (out / "calls.csv").open() as f:
        calls = list(csv.DictReader(f))
    closed = [r for r in calls if r["outcome"] == "closed"]
    assert closed and all(r["queued_s"] == r["wait_s"] == r["agent"] == "" for r in closed)
    assert all(not 8 * H <= float(r["arrival_s"]) % 86400 < 16 * H for r in closed)
    assert sum(r["outcome"] != "closed" for r in calls) == pytest.approx(2 * node["offered"]["value"], abs=2 * 60)
    with (out / "intervals.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sum(int(r["closed"]) for r in rows) == len(closed)


# --- properties ----------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
HALF_HOURS = st.integers(0, 47).map(lambda k: k * 30 * M)


@st.composite
def shifts_in(draw: st.DrawFn, open_s: float, close_s: float) -> dict:
    """A shift within [open_s, close_s), with up to three breaks inside it."""
    span = close_s - open_s
    start = open_s + draw(st.integers(0, int(span // (30 * M)) - 1)) * 30 * M
    end = start + draw(st.integers(1, int((close_s - start) // (30 * M)))) * 30 * M
    breaks = []
    at = 0.0
    for _ in range(draw(st.integers(0, 3))):
        gap = draw(st.sampled_from([0.0, 10 * M, 45 * M, 2 * H]))
        length = draw(st.sampled_from([5 * M, 15 * M, 30 * M, 1 * H]))
        if at + gap + length > end - start:
            break
        breaks.append({"start": at + gap, "length": length})
        at += gap + length
    shift = {"start": start % 86400 if start >= 86400 else start, "end": end, "agents": draw(st.integers(1, 3))}
    if start >= 86400:
        shift["end"] = end - 86400
    if breaks:
        shift["breaks"] = breaks
    return shift


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    names = ["911", "311"][: draw(st.integers(1, 2))]
    classes = {}
    for prio, name in enumerate(names, start=1):
        cc: dict = {
            "priority": prio,
            "arrivals": {"rate_per_hour": draw(st.floats(5, 60))},
            "handle_time": {"dist": draw(st.sampled_from(["exponential", "deterministic"])), "mean": "6m"},
        }
        if cc["handle_time"]["dist"] == "deterministic":
            cc["handle_time"] = {"dist": "deterministic", "value": "6m"}
        if draw(st.booleans()):
            cc["patience"] = {"dist": "exponential", "mean": "5m"}
        if draw(st.booleans()):
            cc["ivr_time"] = {"dist": "uniform", "low": "10s", "high": "50s"}
        classes[name] = cc
    pools = []
    for p in range(draw(st.integers(1, 2))):
        serves = names if p == 0 else [names[-1]]
        pool: dict = {"name": f"pool{p}", "serves": serves}
        if draw(st.booleans()):
            open_s = draw(HALF_HOURS)
            close_s = open_s + draw(st.integers(4, 48)) * 30 * M
            pool["hours"] = {"open": open_s, "close": close_s}
        else:
            open_s, close_s = 0.0, 86400.0
        if draw(st.booleans()) and "hours" in pool:
            pool["agents"] = draw(st.integers(1, 3))
        else:
            pool["shifts"] = draw(st.lists(shifts_in(open_s, close_s), min_size=1, max_size=3))
        pools.append(pool)
    return Scenario.model_validate(
        {
            "name": "property",
            "seed": draw(st.integers(0, 2**32)),
            "horizon": draw(st.sampled_from(["1d", "2d"])),
            "classes": classes,
            "staffing": {"pools": pools},
        }
    )


def _agents(scenario: Scenario) -> list[tuple[int, list[tuple[float, float, float]]]]:
    """(pool, work segments) of every agent, numbered as the model numbers them."""
    out = []
    for p, pool in enumerate(scenario.staffing.pools):
        for shift in pool.shift_list():
            out.extend([(p, work_segments(shift, scenario.horizon))] * shift.agents)
    return out


def _run(scenario: Scenario) -> CallRecords:
    return simulate_replication(scenario, build_schedule(scenario), draw_callers(scenario, 0))


@SETTINGS
@given(scenarios())
def test_no_agent_answers_a_call_during_its_break_or_off_duty(scenario: Scenario) -> None:
    rec = _run(scenario)
    answered = rec.outcome == ANSWERED
    eps = 1e-6
    agents = _agents(scenario)
    # The schedule the model ran (and metrics read) numbers agents as this test does on its own.
    schedule = build_schedule(scenario)
    assert [(c.pool, list(c.work_segments_s)) for c in schedule.crews for _ in c.agent_numbers] == agents
    for aid, (p, segments) in enumerate(agents):
        mine = np.flatnonzero(answered & (rec.agent == aid))
        assert np.all(rec.pool[mine] == p)
        starts = rec.answered_s[mine]
        ends = starts + rec.callers.handle_s[mine]
        ok = np.zeros(len(starts), dtype=bool)
        free_from = 0.0  # when the agent's last break ended
        for on, off, rest in segments:
            ok |= (starts >= max(on, free_from) - eps) & (starts < off)
            if rest:
                # The break starts when the call in progress at `off` (or the break before) ends.
                running = ends[(starts < off) & (ends > off)]
                begin = max(off, free_from, *running.tolist())
                free_from = begin + rest
                during = (starts > begin + eps) & (starts < free_from - eps)
                assert not during.any(), (aid, begin, free_from, starts[during])
        # Every answer falls in a span of work, after the break before it.
        assert ok.all(), (aid, starts[~ok])
    measures = replication_measures(scenario, schedule, rec)
    for pool in scenario.staffing.pools:
        utilization = measures[("pools", pool.name, "utilization")]
        assert math.isnan(utilization) or 0 <= utilization <= 1 + 1e-12, (pool.name, utilization)


@SETTINGS
@given(scenarios())
def test_pools_answer_only_in_their_hours_and_closed_means_no_pool_open(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    pools = scenario.staffing.pools
    for i in np.flatnonzero(rec.outcome == ANSWERED):
        assert pools[rec.pool[i]].is_open(rec.answered_s[i] - 1e-6) or pools[rec.pool[i]].is_open(rec.answered_s[i])
    names = scenario.class_names()
    for i in range(len(c)):
        serving_open = any(p.is_open(c.arrival_s[i]) for p in pools if names[c.cls[i]] in p.serves)
        assert (rec.outcome[i] == CLOSED) == (not serving_open), i
    closed = rec.outcome == CLOSED
    assert np.all(rec.agent[closed] == -1) and np.all(rec.wait_s[closed] == 0)


# --- schema --------------------------------------------------------------------------------

GOOD = """\
name: test
horizon: 1d
classes:
  "311":
    priority: 1
    arrivals: {rate_per_hour: 10}
    handle_time: {dist: exponential, mean: 4m}
staffing:
  pools:
    - name: desk
      serves: ["311"]
      hours: {open: 7h, close: 19h}
      shifts:
        - {start: 7h, end: 15h, agents: 2, breaks: [{start: 4h, length: 30m}]}
        - {start: 11h, end: 19h, agents: 2}
"""

SCHEMA_CASES = [
    ("[{start: 4h, length: 30m}]", "[{start: 4h, length: 0}]",
     "14: staffing.pools.0.shifts.0.breaks.0.length: must be a duration > 0"),
    ("[{start: 4h, length: 30m}]", "[{start: 7h45m, length: 30m}]",
     "14: staffing.pools.0.shifts.0.breaks.0: must lie within the shift (it ends 8h15m after the shift's start, "
     "the shift lasts 8h)"),
    ("[{start: 4h, length: 30m}]", "[{start: 4h, length: 30m}, {start: 2h, length: 2h15m}]",
     "14: staffing.pools.0.shifts.0.breaks.0: overlaps break 1 (breaks must not overlap)"),
    ("[{start: 4h, length: 30m}]", "[{start: 4h, length: 30m, paid: yes}]",
     "14: staffing.pools.0.shifts.0.breaks.0.paid: unknown key"),
    ("{open: 7h, close: 19h}", "{open: 7h, close: 6h}",
     "12: staffing.pools.0.hours.close: must be after open (past 24h for the next morning)"),
    ("{open: 7h, close: 19h}", "{open: 7h, close: 32h}",
     "12: staffing.pools.0.hours.close: opening hours last at most 24h"),
    ("{open: 7h, close: 19h}", "{open: 25h, close: 32h}",
     "12: staffing.pools.0.hours.open: must be a time of day before 24h"),
    ("{open: 7h, close: 19h}", "{open: 7h}",
     "12: staffing.pools.0.hours.close: required"),
    ("{open: 7h, close: 19h}", "{open: 8h, close: 19h}",
     "14: staffing.pools.0.shifts.0: must lie within the pool's hours (8h to 19h)"),
    ("{start: 11h, end: 19h, agents: 2}", "{start: 11h, end: 20h, agents: 2}",
     "15: staffing.pools.0.shifts.1: must lie within the pool's hours (7h to 19h)"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), SCHEMA_CASES, ids=[c[2] for c in SCHEMA_CASES])
def test_bad_breaks_and_hours_give_one_clear_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    assert_one_line_error(tmp_path, GOOD.replace(old, new, 1), expected)


def test_good_breaks_and_hours_validate(tmp_path: Path) -> None:
    night = GOOD.replace("{open: 7h, close: 19h}", "{open: 20h, close: 32h}").replace(
        "shifts:\n        - {start: 7h, end: 15h, agents: 2, breaks: [{start: 4h, length: 30m}]}\n"
        "        - {start: 11h, end: 19h, agents: 2}",
        "shifts: [{start: 22h, end: 30h, agents: 2, breaks: [{start: 0h, length: 15m}, {start: 7h, length: 1h}]},"
        " {start: 0h, end: 8h, agents: 1}]",
    )
    for text in (GOOD, night):
        path = tmp_path / "good.yaml"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["validate", str(path)])
        assert result.exit_code == 0, result.output


def test_analytic_formulas_do_not_apply_with_breaks() -> None:
    from queueing.theory.steady_state import analyze

    scenario = parse_scenario(ONE_AGENT.format(breaks="{start: 4h30m, length: 15m}").replace("end: 8h", "end: 24h"))
    assert "pool desk: agents take breaks (staffing changes during the day)" in analyze(scenario).problems


def test_console_table_has_a_closed_column_only_when_a_pool_has_hours() -> None:
    from queueing import simulate
    from queueing.output.tables import format_summary

    with_hours = with_overrides(parse_scenario(HOURS.replace("rate_per_hour: 1", "rate_per_hour: 30")), replications=2)
    without = with_overrides(parse_scenario(ONE_AGENT.format(breaks="{start: 1h, length: 30m}")), replications=2)
    for scenario, expected in ((with_hours, True), (without, False)):
        summary = simulate(scenario).summary
        header = next(line for line in format_summary(scenario, summary).splitlines() if line.startswith("class "))
        assert ("closed" in header.split()) is expected
