"""The optional call flows in what simulate writes and prints: hourly.csv's counts per day and the
console's tables, from the hand-built records of tests/support/flows.py."""

from __future__ import annotations

from queueing.core.metrics import replication_intervals, replication_measures
from queueing.core.runner import ReplicationResult, SimulationResult
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from queueing.output.hourly import hourly_columns, hourly_rows
from queueing.output.tables import format_flows, format_summary
from tests.support.flows import SCENARIO, records
from tests.support.scenarios import shared


def result() -> SimulationResult:
    """Two replications of the same hand-built calls."""
    scenario = parse_scenario(SCENARIO)
    schedule, rec = build_schedule(scenario), records()
    reps = [
        ReplicationResult(r, replication_measures(scenario, schedule, rec),
                          replication_intervals(scenario, schedule, rec, r, 900.0), None)
        for r in range(2)
    ]  # fmt: skip
    return SimulationResult(scenario, reps, 900.0)


def test_hourly_csv_counts_the_flows_per_day_by_the_hour_the_callers_arrived() -> None:
    run = result()
    columns = hourly_columns(run)
    assert columns[-3:] == ["callbacks_unanswered", "callbacks_unanswered_ci_low", "callbacks_unanswered_ci_high"]
    rows = {(r[0], r[2]): dict(zip(columns, r, strict=True)) for r in hourly_rows(run)}
    assert rows[(0, "911")]["transferred_out"] == 1.0  # the same call in both replications: [1, 1]
    assert rows[(0, "311")]["redials"] == 1.0
    assert rows[(1, "311")]["redials"] == 0.0


def test_the_console_shows_each_flow_the_scenario_uses() -> None:
    run = result()
    text = format_summary(run.scenario, run.summary)
    flows = format_flows(run.scenario, run.summary)
    assert flows in text
    lines = [[cell for cell in line.split() if not cell.startswith("±")] for line in flows.splitlines()]
    assert ["911", "to", "311", "1", "1", "0.0", "10.0", "50.0", "60.0", "60.0"] in lines  # the one transfer
    assert ["311", "6", "5", "1", "16.7"] in lines  # redials
    assert ["311", "2", "50.0", "100.0", "400.0", "400.0"] in lines  # callbacks
    assert ["911", "es", "1", "1", "10.0", "15s:", "100.0", "%"] in lines


def test_no_flow_table_without_the_flows() -> None:
    assert format_flows(parse_scenario(shared("one-agent")), {}) == ""
