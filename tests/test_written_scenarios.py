"""Every scenario a command writes (staffing.yaml, roster.yaml, roster-present.yaml, calibrate's
file) comes from the one scenario writer (``queueing.output.scenario_yaml``): it loads back as the
scenario meant, ``ivr311 validate`` takes it, and its durations read as planners write them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from model_call_log import simulated_call_log
from pydantic import TypeAdapter

from queueing import load_scenario, parse_scenario, simulate
from queueing.cli import main
from queueing.core.distributions import Distribution
from queueing.core.runner import LocalExecutor
from queueing.core.scenario_file import with_overrides
from queueing.output.calibration import calibration_yaml
from queueing.output.roster import write_roster
from queueing.output.staffing import write_staffing
from queueing.planning.calibrate import calibrate
from queueing.planning.calllog import read_call_log
from queueing.planning.roster import build_roster

CENTRE = """
name: tiny centre
seed: 5
horizon: 1d
warmup: 30m
replications: 3
classes:
  "911":
    priority: 1
    arrivals: {profile_per_hour: [4, 4, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 12, 12, 12, 12, 12, 12, 8, 8, 8, 8, 8, 8]}
    handle_time: {dist: lognormal, mean: 4m, sd: 2m}
    patience: {dist: exponential, mean: 3m}
  "311":
    priority: 2
    arrivals: {profile_per_hour: [0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0]}
    ivr_time: {dist: uniform, low: 20s, high: 1m}
    handle_time: {dist: exponential, mean: 3m}
    patience: {dist: exponential, mean: 5m}
staffing:
  pools:
    - name: call-takers
      serves: ["911", "311"]
      shifts:
        - {start: 0h, end: 8h30m, agents: 2, breaks: [{start: 4h, length: 30m}]}
        - {start: 8h, end: 16h30m, agents: 3, breaks: [{start: 3h, length: 30m}]}
        - {start: 16h, end: 24h30m, agents: 2, breaks: [{start: 4h, length: 30m}]}
    - {name: 311-desk, serves: ["311"], agents: 2, hours: {open: 8h, close: 16h30m}}
targets:
  "911": [{within: 15s, share: 0.90}]
  "311": [{within: 1m, share: 0.80}]
roster:
  interval: 30m
  start_every: 30m
  shift_lengths: [8h30m]
  breaks: [{length: 30m, earliest: 3h, latest: 5h}]
  shrinkage: 0.1
  pools:
    call-takers: {cost_per_hour: 40.0, min_agents: 1}
    311-desk: {cost_per_hour: 30.0}
"""


def _validates(path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output


def test_staffing_and_roster_files_load_back_as_found(tmp_path: Path) -> None:
    base = parse_scenario(CENTRE)
    roster = build_roster(base, LocalExecutor(1))
    write_staffing(tmp_path, roster.staffing, base, command="ivr311 staff tiny.yaml", confidence=0.9)
    write_roster(roster, tmp_path, command="ivr311 roster tiny.yaml")
    staffed = roster.staffing.scenario.model_copy(update={"name": "tiny centre (staffed by ivr311 staff)"})
    assert roster.present_scenario is not None
    for name, meant in (
        ("staffing.yaml", staffed),
        ("roster.yaml", roster.scenario),
        ("roster-present.yaml", roster.present_scenario),
    ):
        assert load_scenario(tmp_path / name) == meant, name
        _validates(tmp_path / name)
    lines = (tmp_path / "staffing.yaml").read_text().splitlines()
    for line in (
        "horizon: 1d",
        "warmup: 30m",
        "    handle_time: {dist: lognormal, mean: 4m, sd: 2m}",
        "    hours: {open: 8h, close: 16h30m}",
        "  - {within: 1m, share: 0.8}",
        "  start_every: 30m",
        "  shift_lengths: [8h30m]",
        "  weekly_hours: 40h",
    ):
        assert line in lines, line
    assert not [line for line in lines if "1800.0" in line or "144000.0" in line]  # seconds, as before


def test_calibrated_file_loads_back_with_the_base_staffing_whole(tmp_path: Path) -> None:
    """The calibrated file holds the estimates and, from the base, its staffing as it is (shifts
    with their breaks, opening hours) and its targets."""
    base = parse_scenario(CENTRE)
    log = tmp_path / "calls.csv"
    simulated_call_log(simulate(with_overrides(base, replications=4), keep_calls=True)).to_csv(log, index=False)
    cal = calibrate(read_call_log(log), base)
    path = tmp_path / "calibrated.yaml"
    path.write_text(calibration_yaml(cal, base), encoding="utf-8")
    _validates(path)
    got = load_scenario(path)
    assert got.staffing == base.staffing and got.targets == base.targets
    assert (got.seed, got.horizon, got.warmup, got.replications) == (base.seed, base.horizon, base.warmup, 3)
    for name, est in cal.classes.items():
        assert est.profile is not None and est.handle is not None
        assert got.classes[name].arrivals.hourly_rates() == [round(float(r), 3) for r in est.profile.rate]
        assert got.classes[name].handle_time == TypeAdapter(Distribution).validate_python(est.handle.dist)
    text = path.read_text()
    assert (
        "horizon: 1d\n" in text
        and "    - {start: 0h, end: 8h30m, agents: 2, breaks: [{start: 4h, length: 30m}]}" in text
    )
