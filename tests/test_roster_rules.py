"""The scenario's roster rules: defaults, and each bad rule as one line naming file, line and field."""

from __future__ import annotations

import pytest

from queueing.core.scenario_file import parse_scenario
from queueing.errors import ScenarioError

BASE = """\
name: rules
horizon: 24h
classes:
  "911": {priority: 1, arrivals: {rate_per_hour: 10}, handle_time: {dist: exponential, mean: 4m}}
  "311": {priority: 2, arrivals: {rate_per_hour: 10}, handle_time: {dist: exponential, mean: 4m}}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 3}
    - {name: 311-desk, serves: ["311"], agents: 2, hours: {open: 7h, close: 19h}}
"""

GOOD = """\
roster:
  interval: 30m
  start_every: 30m
  shift_lengths: [8h30m, 10h30m]
  breaks: [{length: 30m, earliest: 3h, latest: 5h}]
  shrinkage: 0.12
  overtime_multiplier: 1.5
  pools:
    call-takers: {cost_per_hour: 42.0, min_agents: 4}
    311-desk: {cost_per_hour: 33.0}
"""


def test_the_issue_example_is_read_in_seconds() -> None:
    rules = parse_scenario(BASE + GOOD).roster
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
        ("roster: {interval: 7m}", "<s>:10: roster.interval: must divide a day evenly (15m, 30m, 1h, 2h...)"),
        (
            "roster: {interval: 30m, start_every: 45m}",
            "<s>:10: roster.start_every: must be a multiple of interval (30m) that divides a day",
        ),
        (
            "roster: {shift_lengths: [8h15m]}",
            "<s>:10: roster.shift_lengths.0: must be a multiple of interval (30m)",
        ),
        ("roster: {shift_lengths: [8h, 8h]}", "<s>:10: roster.shift_lengths: lists a length twice"),
        ("roster: {shift_lengths: [25h], interval: 1h, start_every: 1h}", "roster.shift_lengths.0: a shift lasts"),
        (
            "roster: {shift_lengths: [8h], breaks: [{length: 30m, earliest: 3h, latest: 8h}]}",
            "<s>:10: roster.breaks.0.latest: a break starting at 8h ends after the shortest shift (8h)",
        ),
        (
            "roster: {breaks: [{length: 30m, earliest: 4h, latest: 3h}]}",
            "<s>:10: roster.breaks.0.latest: must not be before earliest",
        ),
        ("roster: {shrinkage: 1}", "<s>:10: roster.shrinkage: must be < 1"),
        ("roster: {overtime_multiplier: 0.5}", "<s>:10: roster.overtime_multiplier: must be >= 1"),
        ("roster: {pools: {desk: {cost_per_hour: 3}}}", "<s>:10: roster.pools.desk: unknown pool 'desk'"),
        (
            "roster: {pools: {call-takers: {cost_per_hour: 42}}}",
            "<s>:10: roster.pools: no cost_per_hour for pool '311-desk' (give every pool a rate, or none)",
        ),
        (
            "roster: {shift_lengths: [13h]}",
            "<s>:10: roster.shift_lengths: no shift fits in the hours of pool '311-desk' (7h to 19h): "
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
    assert "\n" not in message and expected in message


def test_no_start_on_the_grid_is_its_own_reason() -> None:
    text = BASE.replace("open: 7h, close: 19h", "open: 7h30m, close: 15h30m") + (
        "roster: {interval: 30m, start_every: 2h, shift_lengths: [8h]}\n"
    )
    with pytest.raises(ScenarioError, match="no shift can start on the 2h grid and end by closing"):
        parse_scenario(text, "<s>")
