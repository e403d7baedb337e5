"""The optional call flows in what simulate writes and prints: hourly.csv's counts per day and the
console's tables, from the hand-built records of tests/support/flows.py."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from queueing.core.metrics import replication_intervals, replication_measures
from queueing.core.runner import ReplicationResult, SimulationResult
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from queueing.output.hourly import hourly_columns, hourly_rows
from queueing.output.tables import format_flows, format_summary
from tests.support.cli import invoke
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


def test_summary_intervals_and_calls_agree_on_every_flow(tmp_path: Path) -> None:
    """A simulated run of a scenario using all four flows: summary.json's counts are the means of
    what intervals.csv and calls.csv count, replication by replication."""
    path = tmp_path / "flows.yaml"
    path.write_text(SCENARIO.replace("horizon: 2h", "horizon: 8h"), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("simulate", str(path), "-r", "3", "-j", "1", "--calls", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "911 to 311" in result.stdout and "wait to callback s" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    with (out / "calls.csv").open() as fh:
        calls = list(csv.DictReader(fh))
    with (out / "intervals.csv").open() as fh:
        intervals = list(csv.DictReader(fh))
    reps = sorted({int(c["replication"]) for c in calls})

    def mean_over_reps(rows: list[dict[str, str]], keep: Callable[[dict[str, str]], bool | int]) -> float:
        return sum(sum(int(keep(r)) for r in rows if int(r["replication"]) == rep) for rep in reps) / len(reps)

    route = summary["transfers"]["911"]["311"]["count"]["value"]
    assert route > 0
    assert route == mean_over_reps(calls, lambda c: c["class"] == "311" and c["transferred_from"] == "911")
    assert route == mean_over_reps(intervals, lambda r: r["class"] == "311" and int(r["transferred_in"]))
    out_911 = summary["classes"]["911"]["transfers"]["out"]["value"]
    assert out_911 == mean_over_reps(calls, lambda c: c["class"] == "911" and c["transferred"] == "True")
    assert out_911 == mean_over_reps(intervals, lambda r: int(r["transferred_out"]) if r["class"] == "911" else 0)
    node = summary["classes"]["311"]
    redials = mean_over_reps(calls, lambda c: c["class"] == "311" and int(c["attempt"]) > 1)
    assert node["redials"]["count"]["value"] == redials > 0
    first = mean_over_reps(calls, lambda c: c["class"] == "311" and c["attempt"] == "1")
    assert node["offered"]["value"] == pytest.approx(first + redials)  # no 311 call is closed: all offered
    assert node["callbacks"]["accepted"]["count"]["value"] == mean_over_reps(
        calls, lambda c: c["class"] == "311" and c["callback"] == "accepted"
    )
    assert node["callbacks"]["unanswered"]["count"]["value"] == mean_over_reps(
        calls, lambda c: c["outcome"] == "callback_unanswered"
    )
    spanish = summary["classes"]["911"]["languages"]["es"]
    assert spanish["offered"]["value"] == mean_over_reps(calls, lambda c: c["class"] == "911" and c["language"] == "es")


def test_the_report_has_the_flow_tables_only_for_a_scenario_using_them() -> None:
    from queueing.core.runner import simulate
    from queueing.output.report import render_report

    run = result()
    page = render_report([run], ["flows"])
    assert "<h2>Transfers, redials, callbacks and languages</h2>" in page
    assert "<td>911 to 311</td>" in page and "<h3>Callbacks</h3>" in page
    plain = simulate(parse_scenario(shared("one-agent")), replications=2)
    assert "Transfers, redials" not in render_report([plain], ["plain"])
