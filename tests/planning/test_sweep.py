"""sweep: the grid of --set values, its csv and plot, and bad settings as one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from tests.support.cli import invoke
from tests.support.scenarios import scenario_text


def test_sweep_grid_csv_and_plot(write_scenario, tmp_path) -> None:
    path = write_scenario(horizon="1d", replications=3)
    out = tmp_path / "sweep"
    result = invoke(
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
    result = invoke("sweep", str(path), "--set", "staffing.pools.call-takers.agents=4,10", "--out", str(out), "-j", "1")
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
    result = invoke("sweep", str(write_scenario()), "--set", setting)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("seed=1,2", "seed=3,4"),
        ("staffing.pools.0.agents=2,3", "staffing.pools.call-takers.agents=4,5"),
    ],
)
def test_sweep_refuses_the_same_field_twice(write_scenario, first: str, second: str) -> None:
    result = invoke("sweep", str(write_scenario()), "--set", first, "--set", second)
    assert result.exit_code == 2 and f"{first!r} and {second!r} set the same field" in result.stderr


@pytest.mark.slow
def test_sweep_takes_two_fields_of_one_pool(write_scenario, tmp_path: Path) -> None:
    result = invoke(
        "sweep",
        str(write_scenario(horizon="2h", warmup="0s", replications=2)),
        "-q",
        "--out",
        str(tmp_path / "s"),
        "--set",
        "staffing.pools.0.agents=2,3",
        "--set",
        "staffing.pools.call-takers.name=a,b",
    )
    assert result.exit_code == 0, result.output


def test_the_diversion_sweep_moves_the_triage_off_911_and_shows_each_class_agents_busy(tmp_path: Path) -> None:
    """Diverting every non-emergency caller to 311 leaves 911 no transfer to triage: its agents
    busy drop by the triage's work; sweep.csv and its plot show each class's agents busy."""
    from tests.support.flows import SCENARIO

    path = tmp_path / "flows.yaml"
    path.write_text(SCENARIO.replace("horizon: 2h", "horizon: 8h"), encoding="utf-8")
    out = tmp_path / "sweep"
    setting = "classes.911.transfer.diverted=0,1"
    result = invoke("sweep", str(path), "--set", setting, "-r", "3", "--jobs", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    with (out / "sweep.csv").open() as fh:
        busy = {
            (r["classes.911.transfer.diverted"], r["class"]): float(r["value"])
            for r in csv.DictReader(fh)
            if r["metric"] == "load_erlangs"
        }
    assert set(busy) == {("0", "911"), ("0", "311"), ("1", "911"), ("1", "311")}
    assert busy[("1", "911")] < busy[("0", "911")]
    assert (out / "sweep.png").stat().st_size > 0
