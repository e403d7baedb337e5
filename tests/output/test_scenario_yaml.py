"""Every scenario a command writes (staffing.yaml, roster.yaml, calibrate's
file) comes from the one scenario writer (``queueing.output.scenario_yaml``): it loads back as the
scenario meant, ``ivr311 validate`` takes it, and its durations read as planners write them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from queueing import Scenario, load_scenario, parse_scenario, simulate
from queueing.cli import main
from queueing.core.calendar import WEEKDAYS
from queueing.core.distributions import Distribution
from queueing.core.durations import DAY_S, HOUR_S, parse_duration_s
from queueing.core.runner import LocalExecutor
from queueing.core.scenario_file import with_overrides
from queueing.output.calibration import calibration_yaml
from queueing.output.roster import write_roster
from queueing.output.scenario_yaml import planner_duration, scenario_yaml
from queueing.output.staffing import write_staffing
from queueing.planning.calibrate import calibrate
from queueing.planning.calllog import read_call_log
from queueing.planning.roster import build_roster
from tests.support import REPO
from tests.support.call_log import simulated_call_log
from tests.support.scenarios import shared


def centre() -> str:
    """The shared two-pool centre (tests/scenarios/two-pools.yaml) as a planner might have edited
    it: a warm-up, 3 replications, the call-takers on three shifts with a break each, one shift
    length for the roster (a quicker cover)."""
    data = yaml.safe_load(shared("two-pools"))
    data |= {"warmup": "30m", "replications": 3}
    data["staffing"]["pools"][0] = {
        "name": "call-takers", "serves": ["911", "311"],
        "shifts": [
            {"start": "0h", "end": "8h30m", "agents": 2, "breaks": [{"start": "4h", "length": "30m"}]},
            {"start": "8h", "end": "16h30m", "agents": 3, "breaks": [{"start": "3h", "length": "30m"}]},
            {"start": "16h", "end": "24h30m", "agents": 2, "breaks": [{"start": "4h", "length": "30m"}]},
        ],
    }  # fmt: skip
    data["roster"]["shift_lengths"] = ["8h30m"]
    return yaml.safe_dump(data, sort_keys=False)


CENTRE = centre()
H = HOUR_S


def _validates(path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_staffing_and_roster_files_load_back_as_found(tmp_path: Path) -> None:
    base = parse_scenario(CENTRE)
    roster = build_roster(base, LocalExecutor(1))
    write_staffing(tmp_path, roster.staffing, base, command="ivr311 staff tiny.yaml", confidence=0.9)
    write_roster(roster, tmp_path, command="ivr311 roster tiny.yaml")
    staffed = roster.staffing.scenario.model_copy(update={"name": f"{base.name} (staffed by ivr311 staff)"})
    # roster.yaml is the roster as checked: its agents away as each shift's absent
    assert any(sh.absent for pool in roster.scenario.staffing.pools for sh in pool.shift_list())
    assert ", absent: " in (tmp_path / "roster.yaml").read_text()
    for name, meant in (
        ("staffing.yaml", staffed),
        ("roster.yaml", roster.scenario),
    ):
        assert load_scenario(tmp_path / name) == meant, name
        _validates(tmp_path / name)
    lines = (tmp_path / "staffing.yaml").read_text().splitlines()
    for line in (
        "horizon: 1d",
        "warmup: 30m",
        "    handle_time: {dist: exponential, mean: 4m}",
        "    hours: {open: 7h, close: 19h}",
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


# --- durations as planners write them ---------------------------------------------------------


@given(
    st.one_of(
        st.integers(min_value=0, max_value=400 * 24 * 3600).map(float),
        st.floats(min_value=0, max_value=1e7, allow_nan=False),
    ),
    st.booleans(),
)
def test_planner_durations_parse_back_to_the_same_seconds(seconds: float, hours: bool) -> None:
    assert parse_duration_s(planner_duration(seconds, hours)) == seconds


def test_planner_durations_examples() -> None:
    assert [planner_duration(s) for s in (15.0, 240.0, 5400.0, 27000.0, 2 * DAY_S, 0.0)] == [
        "15s", "4m", "1h30m", "7h30m", "2d", "0s",
    ]  # fmt: skip
    assert [planner_duration(s, hours=True) for s in (0.0, 27000.0, 27 * H, 40 * H)] == ["0h", "7h30m", "27h", "40h"]
    assert planner_duration(90.25) == 90.25 and planner_duration(123456.5, hours=True) == 123456.5


# --- the week's fields -------------------------------------------------------------------------

WEEK = """\
name: a week
start_day: mon
start_date: 2026-12-07
horizon: 7d
classes:
  "911":
    priority: 1
    arrivals:
      rate_per_hour: 36
      weekdays: {fri: 1.1, sat: 1.15}
      special_days: {2026-12-24: 0.7, 2026-12-31: [30, 28, 26, 24, 22, 20, 20, 22, 26, 30, 34, 38, 40, 42, 44, 46, 48,
                                                   50, 52, 56, 60, 70, 90, 120]}
    handle_time: {dist: lognormal, mean: 4m, sd: 2m}
  "311":
    priority: 2
    arrivals:
      profile_per_hour: [8, 5, 4, 3, 3, 5, 12, 40, 95, 120, 125, 120, 110, 112, 115, 105, 90, 65, 45, 35, 28, 22,
                         16, 11]
      weekdays: {mon: 1.08, sat: 0.6}
      profile_per_weekday: {sun: [4, 3, 2, 2, 2, 2, 4, 10, 30, 40, 45, 45, 40, 40, 40, 35, 30, 20, 15, 10, 8, 6, 5, 4]}
    handle_time: {dist: exponential, mean: 4m}
staffing:
  pools:
    - name: call-takers
      serves: ["911", "311"]
      shifts:
        - {start: 23h, end: 31h, agents: 5}
        - {start: 7h, end: 15h30m, agents: 6, days: [mon, tue, wed, thu, fri], breaks: [{start: 4h, length: 30m}]}
        - {start: 9h, end: 17h30m, agents: 3, days: [sat, sun]}
"""


def test_the_week_fields_load_back_as_planners_write_them() -> None:
    scenario = parse_scenario(WEEK)
    text = scenario_yaml(scenario)
    assert parse_scenario(text) == scenario
    lines = text.splitlines()
    for line in (
        "start_day: mon",
        "start_date: 2026-12-07",
        "      weekdays: {fri: 1.1, sat: 1.15}",
        "      special_days:",
        "        2026-12-24: 0.7",
        "      profile_per_weekday:",
        "    - {start: 7h, end: 15h30m, agents: 6, days: [mon, tue, wed, thu, fri], breaks: [{start: 4h, length: "
        "30m}]}",
        "    - {start: 9h, end: 17h30m, agents: 3, days: [sat, sun]}",
    ):
        assert line in lines, line
    # a day's 24 rates: a key of their own, not one line of a mapping wrapped at the width
    assert [line.split(":")[0] for line in lines if line.endswith(("special_days:", "arrivals:"))] == [
        "    arrivals", "      special_days", "    arrivals",
    ]  # fmt: skip
    assert any(line.startswith("        2026-12-31: [30.0, 28.0") for line in lines)
    assert any(line.startswith("      profile_per_hour: [8.0, 5.0") for line in lines)
    assert any(line.startswith("        sun: [4.0, 3.0") for line in lines)


WEEKDAY = st.sampled_from(list(WEEKDAYS))
RATES = st.lists(st.floats(min_value=0, max_value=500, allow_nan=False), min_size=24, max_size=24)


@st.composite
def week_scenarios(draw: st.DrawFn) -> Scenario:
    """A one-class scenario with random weekday factors and profiles, special days and shift days."""
    start = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)))
    factors = draw(st.dictionaries(WEEKDAY, st.floats(min_value=0, max_value=5, allow_nan=False), max_size=7))
    own = draw(st.dictionaries(WEEKDAY.filter(lambda d: d not in factors), RATES, max_size=3))
    special = draw(st.dictionaries(st.dates(start, start + dt.timedelta(days=30)),
                                   st.one_of(st.floats(min_value=0, max_value=5, allow_nan=False), RATES),
                                   max_size=4))  # fmt: skip
    shifts = [
        {"start": 3600.0 * h, "end": 3600.0 * h + length, "agents": 2, "days": days}
        for h, length, days in draw(st.lists(st.tuples(
            st.integers(0, 23), st.sampled_from([8 * H, 8.5 * H, 10.5 * H]),
            st.one_of(st.none(), st.lists(WEEKDAY, min_size=1, max_size=7, unique=True)),
        ), min_size=1, max_size=4))
    ]  # fmt: skip
    arrivals: dict = {"rate_per_hour": draw(st.floats(min_value=0, max_value=500, allow_nan=False))}
    arrivals |= {k: v for k, v in (("weekdays", factors), ("profile_per_weekday", own), ("special_days", special)) if v}
    data = {
        "name": "drawn week", "start_date": start, "horizon": 7 * DAY_S,
        "start_day": draw(st.sampled_from([None, WEEKDAYS[start.weekday()]])),
        "classes": {"a": {"priority": 1, "arrivals": arrivals, "handle_time": {"dist": "exponential", "mean": 240}}},
        "staffing": {"pools": [{"name": "p", "serves": ["a"], "shifts": [{k: v for k, v in s.items() if v is not None}
                                                                         for s in shifts]}]},
    }  # fmt: skip
    return Scenario.model_validate({k: v for k, v in data.items() if v is not None})


@given(week_scenarios())
def test_any_week_scenario_written_reads_back_the_same(scenario: Scenario) -> None:
    assert parse_scenario(scenario_yaml(scenario)) == scenario


def test_every_shipped_scenario_written_reads_back_the_same() -> None:
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        assert parse_scenario(scenario_yaml(scenario)) == scenario, path.name
