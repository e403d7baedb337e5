"""The scenario schema: roster rules (defaults, each bad rule as one line naming file, line and
field), breaks and opening hours, and which pools a class goes to first."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from queueing.cli import main
from queueing.core.scenario_file import parse_scenario
from queueing.errors import ScenarioError
from tests.support.cli import assert_one_line_error
from tests.support.scenarios import before_roster, shared

TWO_POOLS = shared("two-pools")
BASE = before_roster(TWO_POOLS)  # the centre without roster rules
RULES_LINE = BASE.count("\n") + 1  # a roster: line appended to BASE


def test_the_rules_of_the_shared_centre_are_read_in_seconds() -> None:
    rules = parse_scenario(TWO_POOLS).roster
    assert rules is not None
    assert (rules.interval, rules.start_every, rules.shift_lengths) == (1800, 1800, [30600, 37800])
    assert (rules.breaks[0].length, rules.breaks[0].earliest, rules.breaks[0].latest) == (1800, 10800, 18000)
    assert rules.costed and rules.rate_per_hour("311-desk") == 33.0 and rules.min_agents("call-takers") == 4
    assert rules.weekly_hours == 40 * 3600 and rules.overtime_multiplier == 1.5


def test_rules_are_optional_and_rates_too() -> None:
    assert parse_scenario(BASE).roster is None
    rules = parse_scenario(BASE + "roster: {shift_lengths: [8h]}\n").roster
    assert rules is not None and not rules.costed and rules.rate_per_hour("call-takers") == 0.0


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ("roster: {interval: 7m}", "roster.interval: must divide a day evenly (15m, 30m, 1h, 2h...)"),
        (
            "roster: {interval: 30m, start_every: 45m}",
            "roster.start_every: must be a multiple of interval (30m) that divides a day",
        ),
        (
            "roster: {shift_lengths: [8h15m]}",
            "roster.shift_lengths.0: must be a multiple of interval (30m)",
        ),
        ("roster: {shift_lengths: [8h, 8h]}", "roster.shift_lengths: lists a length twice"),
        ("roster: {shift_lengths: [25h], interval: 1h, start_every: 1h}", "roster.shift_lengths.0: a shift lasts"),
        (
            "roster: {shift_lengths: [8h], breaks: [{length: 30m, earliest: 3h, latest: 8h}]}",
            "roster.breaks.0.latest: a break starting at 8h ends after the shortest shift (8h)",
        ),
        (
            "roster: {breaks: [{length: 30m, earliest: 4h, latest: 3h}]}",
            "roster.breaks.0.latest: must not be before earliest",
        ),
        ("roster: {shrinkage: 1}", "roster.shrinkage: must be <= 0.9"),
        # 53 million agents for the baseline's calls, and a roster.yaml its own validate refuses
        ("roster: {shrinkage: 0.999999}", "roster.shrinkage: must be <= 0.9"),
        # a positive duration below one step is not a multiple of it (it rounds to 0 steps):
        # 8.6e10 shift starts, or 8.6e303 with pool hours (validate itself ran out of memory)
        ("roster: {start_every: 0.000001}", "roster.start_every: must be a multiple of interval (30m)"),
        ("roster: {start_every: 1e-300}", "roster.start_every: must be a multiple of interval (30m)"),
        ("roster: {shift_lengths: [0.0000001]}", "roster.shift_lengths.0: must be a multiple of interval (30m)"),
        (
            "roster: {breaks: [{length: 0.0000001, earliest: 1h, latest: 2h}]}",
            "roster.breaks.0.length: must be a multiple of interval (30m)",
        ),
        ("roster: {interval: 1s, start_every: 1s}", "roster.interval: must be at least 1m"),
        # start_every is not in the file: the message names the key that is
        (
            "roster: {interval: 1h}",
            "roster.interval: must divide start_every (30m when not given): give start_every, a multiple of 1h",
        ),
        # every product of pay, hours and overtime stays finite (1e308 wrote inf into summary.json)
        ("roster: {overtime_multiplier: 1e308}", "roster.overtime_multiplier: must be <= 10"),
        ("roster: {pools: {call-takers: {cost_per_hour: 1e308}}}", "cost_per_hour: must be <= 1e+06"),
        ("roster: {pools: {call-takers: {min_agents: 1000000}}}", "min_agents: must be <= 100000"),
        ("roster: {weekly_hours: 1e-300}", "roster.weekly_hours: must be between 1h and 7d"),
        ("roster: {overtime_multiplier: 0.5}", "roster.overtime_multiplier: must be >= 1"),
        ("roster: {pools: {desk: {cost_per_hour: 3}}}", "roster.pools.desk: unknown pool 'desk'"),
        (
            "roster: {pools: {call-takers: {cost_per_hour: 42}}}",
            "roster.pools: no cost_per_hour for pool '311-desk' (give every pool a rate, or none)",
        ),
        (
            "roster: {shift_lengths: [13h]}",
            "roster.shift_lengths: no shift fits in the hours of pool '311-desk' (7h to 19h): "
            "the shortest shift (13h) is longer than the opening hours",
        ),
        ("roster: {pools: {call-takers: {cost_per_hour: -1}}}", "roster.pools.call-takers.cost_per_hour: must be >= 0"),
        ("roster: {shift_length: [8h]}", "roster.shift_length: unknown key; did you mean 'shift_lengths'?"),
    ],
)
def test_bad_rules_are_one_line_each(rules: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE + rules + "\n", "<s>")
    message = str(info.value)
    assert "\n" not in message and expected in message and message.startswith(f"<s>:{RULES_LINE}: ")


def test_no_start_on_the_grid_is_its_own_reason() -> None:
    text = BASE.replace("open: 7h, close: 19h", "open: 7h30m, close: 15h30m") + (
        "roster: {interval: 30m, start_every: 2h, shift_lengths: [8h]}\n"
    )
    with pytest.raises(ScenarioError, match="no shift can start on the 2h grid and end by closing"):
        parse_scenario(text, "<s>")


# --- breaks and opening hours --------------------------------------------------------------

HOURS_AND_BREAKS = """\
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
    assert old in HOURS_AND_BREAKS
    assert_one_line_error(tmp_path, HOURS_AND_BREAKS.replace(old, new, 1), expected)


def test_good_breaks_and_hours_validate(tmp_path: Path) -> None:
    night = HOURS_AND_BREAKS.replace("{open: 7h, close: 19h}", "{open: 20h, close: 32h}").replace(
        "shifts:\n        - {start: 7h, end: 15h, agents: 2, breaks: [{start: 4h, length: 30m}]}\n"
        "        - {start: 11h, end: 19h, agents: 2}",
        "shifts: [{start: 22h, end: 30h, agents: 2, breaks: [{start: 0h, length: 15m}, {start: 7h, length: 1h}]},"
        " {start: 0h, end: 8h, agents: 1}]",
    )
    for text in (HOURS_AND_BREAKS, night):
        path = tmp_path / "good.yaml"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["validate", str(path)])
        assert result.exit_code == 0, result.output


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
