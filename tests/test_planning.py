"""Planner and analyst workflow: compare, sweep, staff, the Python API, Dask execution."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from helpers import REPO, scenario_text
from queueing import load_scenario, simulate
from queueing.cli import main
from queueing.core.runner import LocalExecutor, run_scenarios
from queueing.core.scenario_file import with_overrides
from queueing.core.statistics import paired_difference
from queueing.planning.compare import comparison_rows
from queueing.planning.staff import check_targets, find_staffing


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_common_random_numbers_make_paired_intervals_narrower(write_scenario) -> None:
    a = load_scenario(write_scenario(agents=11, horizon="1d", replications=12, patience="5m", name="a.yaml"))
    b = load_scenario(write_scenario(agents=12, horizon="1d", replications=12, patience="5m", name="b.yaml"))
    results = run_scenarios([a, b], LocalExecutor(1))
    for key in (("classes", "311", "wait_s", "mean"), ("classes", "911", "wait_s", "p90")):
        xa = [r.measures[key] for r in results[0].replications]
        xb = [r.measures[key] for r in results[1].replications]
        _, plo, phi = paired_difference(xa, xb)
        ulo, uhi = stats.ttest_ind(xb, xa, equal_var=False).confidence_interval(0.95)  # as if independent
        assert phi < 0  # one more agent: shorter waits, and the paired interval is sure of it
        assert (phi - plo) < 0.6 * (uhi - ulo), (key, phi - plo, uhi - ulo)
    rows = comparison_rows(results, ["a", "b"])
    offered = next(r for r in rows if r["metric"] == "offered" and r["class"] == "911")
    assert offered["diff"] == 0 and offered["diff_ci_low"] == 0  # the very same callers


def test_compare_writes_csv_report_and_each_scenario(tmp_path) -> None:
    out = tmp_path / "cmp"
    result = _invoke(
        "compare",
        str(REPO / "scenarios/dedicated-pools.yaml"),
        str(REPO / "scenarios/shared-pool.yaml"),
        "--replications",
        "3",
        "--out",
        str(out),
        "--jobs",
        "2",
    )
    assert result.exit_code == 0, result.output
    with (out / "comparison.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:10] == [
        "metric",
        "class",
        "pool",
        "scenario_a",
        "scenario_b",
        "a_value",
        "b_value",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
    ]
    wait = next(r for r in rows if r["metric"] == "wait_s.mean" and r["class"] == "311")
    assert (wait["scenario_a"], wait["scenario_b"]) == ("dedicated-pools", "shared-pool")
    assert float(wait["diff_ci_low"]) <= float(wait["diff"]) <= float(wait["diff_ci_high"])
    assert math.isclose(float(wait["b_value"]) - float(wait["a_value"]), float(wait["diff"]), rel_tol=1e-9)
    html = (out / "report.html").read_text()
    assert "meets 911 90% within 15 s in" in html
    for name in ("dedicated-pools", "shared-pool"):
        assert json.loads((out / name / "summary.json").read_text())["meta"]["replications"] == 3
    assert (out / "service_level_by_hour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "B - A" in result.stdout


def test_compare_refuses_what_cannot_be_paired(write_scenario) -> None:
    a = write_scenario(name="a.yaml")
    result = _invoke("compare", str(a))
    assert result.exit_code == 2 and "at least two scenario files" in result.output
    result = _invoke("compare", str(a), str(a), "--replications", "1")
    assert result.exit_code == 2
    other = write_scenario(text=scenario_text().replace("'311'", "'admin'"), name="other.yaml")
    result = _invoke("compare", str(a), str(other))
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("cannot compare") and "call classes differ" in result.stderr


def test_sweep_grid_csv_and_plot(write_scenario, tmp_path) -> None:
    path = write_scenario(horizon="1d", replications=3)
    out = tmp_path / "sweep"
    result = _invoke(
        "sweep",
        str(path),
        "--set",
        "staffing.pools.call-takers.agents=10..12",
        "--set",
        "classes.311.arrivals.rate_per_hour=80,96",
        "--out",
        str(out),
        "--jobs",
        "1",
    )
    assert result.exit_code == 0, result.output
    with (out / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    waits = {
        (r["staffing.pools.call-takers.agents"], r["classes.311.arrivals.rate_per_hour"]): float(r["value"])
        for r in rows
        if r["class"] == "311" and r["metric"] == "wait_s.mean"
    }
    assert len(waits) == 6
    # Same callers at every staffing level: more agents never make the mean wait longer.
    for rate in ("80", "96"):
        assert waits[("10", rate)] >= waits[("11", rate)] >= waits[("12", rate)]
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_sweep_lists_every_target_agent_hours_per_day_and_flags_unsettled_points(write_scenario, tmp_path) -> None:
    doc = yaml.safe_load(scenario_text(horizon="1d", warmup="2h", replications=2))
    doc["targets"]["911"].append({"within": "20s", "share": 0.95})
    path = write_scenario(text=yaml.safe_dump(doc))
    out = tmp_path / "sweep"
    result = _invoke(
        "sweep", str(path), "--set", "staffing.pools.call-takers.agents=4,10", "--out", str(out), "-j", "1"
    )
    assert result.exit_code == 0, result.output
    with (out / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[-2:] == ["target", "settled"]
    levels = {(r["class"], r["metric"]) for r in rows if r["metric"].startswith("service_level")}
    assert levels == {("911", "service_level.15s"), ("911", "service_level.20s"), ("311", "service_level.30s")}
    # 4 agents cannot take 132 four-minute calls an hour; 10 can.
    settled = {r["staffing.pools.call-takers.agents"]: r["settled"] for r in rows}
    assert settled == {"4": "False", "10": "True"}
    hours = {
        r["staffing.pools.call-takers.agents"]: float(r["value"]) for r in rows if r["metric"] == "agent_hours_per_day"
    }
    assert hours == {"4": pytest.approx(4 * 24), "10": pytest.approx(10 * 24)}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("staffing.pools.callers.agents=1..3", "no 'callers' in staffing.pools (names: call-takers)"),
        ("staffing.pools.call-takers.agents=x..3", "a range takes whole numbers"),
        ("staffing.pools.call-takers.agents=-1,2", "staffing.pools.0.agents: must be >= 0"),
        ("classes.911.handle_time.mean=soon", "classes.911.handle_time.mean: must be a duration like"),
        ("classes.311.patience.mean=2m", "no 'patience' under classes.311"),
        ("horizon", "expected PATH=VALUES"),
        ("staffing.pools.call-takers.agents=5..2", "LOW <= HIGH"),
    ],
)
def test_bad_set_is_one_line(write_scenario, setting, message) -> None:
    result = _invoke("sweep", str(write_scenario()), "--set", setting)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_unreachable_dask_is_one_line(write_scenario) -> None:
    result = _invoke("simulate", str(write_scenario()), "--dask", "tcp://127.0.0.1:9", "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_dask_cluster_gives_the_same_files(write_scenario, tmp_path) -> None:
    from distributed import LocalCluster

    path = write_scenario(horizon="1d", replications=4, patience="4m")
    local = _invoke("simulate", str(path), "--out", str(tmp_path / "local"), "--jobs", "1", "-q")
    assert local.exit_code == 0, local.output
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = _invoke(
            "simulate", str(path), "--out", str(tmp_path / "dask"), "--dask", cluster.scheduler_address, "-q"
        )
    assert remote.exit_code == 0, remote.output
    for name in ("summary.json", "intervals.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


def test_python_api_tables_to_pandas(write_scenario) -> None:
    scenario = load_scenario(write_scenario(horizon="6h", warmup="0s", replications=2, patience="3m"))
    result = simulate(scenario, keep_calls=True)
    calls = result.calls.to_pandas()
    intervals = result.intervals.to_pandas()
    assert len(calls) == sum(len(r.callers) for r in result.records())
    assert set(calls["outcome"]) <= {"answered", "abandoned", "unserved"}
    answered = calls[calls["outcome"] == "answered"]
    assert np.allclose(answered["wait_s"], answered["answered_s"] - answered["queued_s"])
    assert intervals.groupby("class")["arrivals"].sum().to_dict() == calls.groupby("class").size().to_dict()
    offered = result.summary["classes"]["911"]["offered"]["value"]
    assert offered == (calls["class"] == "911").sum() / 2
    with pytest.raises(ValueError, match="keep_calls"):
        simulate(scenario).calls  # noqa: B018


STAFF_SCENARIO = """
name: small centre to staff
seed: 17
horizon: 1d
replications: 8
classes:
  "911":
    priority: 1
    arrivals: {profile_per_hour: [10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20,
                                  40, 40, 40, 40, 40, 40, 20, 20, 20, 20, 20, 20]}
    handle_time: {dist: lognormal, mean: 4m, sd: 2m}
    patience: {dist: exponential, mean: 4m}
  "311":
    priority: 2
    arrivals: {profile_per_hour: [5, 5, 5, 5, 5, 5, 60, 60, 60, 60, 60, 60,
                                  60, 60, 60, 60, 60, 60, 20, 20, 20, 20, 20, 20]}
    handle_time: {dist: exponential, mean: 3m}
    patience: {dist: exponential, mean: 6m}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 4}
targets:
  "911": [{within: 15s, share: 0.90}]
  "311": [{within: 60s, share: 0.80}]
"""


@pytest.mark.slow
def test_staffing_found_meets_targets_on_callers_it_never_saw(write_scenario, tmp_path) -> None:
    path = write_scenario(STAFF_SCENARIO)
    out = tmp_path / "staff"
    result = _invoke("staff", str(path), "--interval", "6h", "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "staffing.json").read_text())
    assert doc["targets_met"] is True
    assert doc["agent_hours"] > 0 and doc["erlang_agent_hours"] > 0
    with (out / "staffing.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["interval"] for r in rows] == ["00:00-06:00", "06:00-12:00", "12:00-18:00", "18:00-24:00"]
    assert sum(int(r["agents"]) for r in rows) * 6 == doc["agent_hours"]
    # The staffing file is a scenario: simulate it with a seed the search never used.
    staffed = with_overrides(load_scenario(out / "staffing.yaml"), seed=99_999, replications=16)
    assert [staffed.staffing.pools[0].agents_at(h * 3600.0) for h in (0, 6, 12, 18)] == [int(r["agents"]) for r in rows]
    check = check_targets(simulate(staffed, jobs=2, interval_s=6 * 3600.0), 6 * 3600.0, confidence=0.5)
    assert np.all(np.nan_to_num(check.margin, nan=1.0) >= -0.03), check.margin
    # And one agent fewer anywhere would have missed a target at the search's confidence.
    base = load_scenario(path)
    again = find_staffing(base, LocalExecutor(2), interval_s=6 * 3600.0)
    assert again.agents == [[int(r["agents"])] for r in rows]
    assert yaml.safe_load((out / "staffing.yaml").read_text())["staffing"]["pools"][0]["shifts"]
    assert (out / "staffing.png").read_bytes()[:4] == b"\x89PNG"


def test_simulate_report_for_one_scenario(write_scenario, tmp_path) -> None:
    out = tmp_path / "out"
    result = _invoke(
        "simulate", str(write_scenario(horizon="1d", replications=2)), "--report", "--calls", "--out", str(out), "-q"
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "meets 911 90% within 15 s in" in html
    assert (out / "wait_cdf.png").exists() and (out / "service_level_by_hour.png").exists()


def test_compare_table_shows_shares_in_percent() -> None:
    """comparison.csv keeps fractions and machine names; the console, like the report, shows
    display names, percent and points."""
    from queueing.output.tables import format_comparison

    row = {
        "metric": "abandoned.share",
        "class": "911",
        "pool": "",
        "scenario_a": "a",
        "scenario_b": "b",
        "a_value": 0.0564,
        "b_value": 0.0221,
        "diff": -0.0349,
        "diff_ci_low": -0.0612,
        "diff_ci_high": -0.0084,
        "significant": True,
    }
    line = format_comparison([row]).splitlines()[1]
    assert line.split() == [
        "911",
        "hung",
        "up",
        "waiting",
        "a",
        "5.6%",
        "b",
        "2.2%",
        "-3.5",
        "pp",
        "*",
        "[-6.1",
        "pp,",
        "-0.8",
        "pp]",
    ]
