"""Bad scenario files: every problem is one line naming file, line, field path and reason,
and the CLI exits 2 without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from queueing.cli import main
from queueing.core.scenario_file import parse_scenario, with_overrides
from queueing.errors import ScenarioError
from tests.support.cli import assert_one_line_error

GOOD = """\
name: test
horizon: 1d
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 36}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 2m}
  "311":
    priority: 2
    arrivals: {rate_per_hour: 96}
    categories:
      pothole: {share: 0.5, handle_time: {dist: lognormal, mean: 3m, sd: 1m}}
      noise: {share: 0.5, handle_time: {dist: exponential, mean: 4m}}
staffing:
  pools:
    - name: call-takers
      serves: ["911", "311"]
      shifts: [{start: 0h, end: 8h, agents: 6}, {start: 8h, end: 24h, agents: 10}]
targets:
  "911": [{within: 15s, share: 0.90}]
"""

# (text replaced in GOOD, replacement, expected message after "bad.yaml:")
CASES = [
    ("mean: 2m}", "mean: 0s}",
     "8: classes.911.patience.mean: must be a duration > 0"),
    ("mean: 2m}", "mean: soon}",
     "8: classes.911.patience.mean: must be a duration like 15s, 4m, 1h30m, 30d or a number of seconds, got 'soon'"),
    ("patience:", "paitence:",
     "8: classes.911.paitence: unknown key; did you mean 'patience'?"),
    ("{dist: exponential, mean: 2m}", "{dist: weibull, mean: 2m}",
     "8: classes.911.patience: dist must be one of: exponential, lognormal, gamma, uniform, triangular, "
     "deterministic, empirical (got 'weibull')"),
    ("{dist: exponential, mean: 2m}", "{mean: 2m}",
     "8: classes.911.patience: needs a 'dist' key, one of: exponential, lognormal, gamma, uniform, triangular, "
     "deterministic, empirical"),
    ("mean: 3m, sd: 1m", "mean: 3m, sd: 0",
     "13: classes.311.categories.pothole.handle_time.sd: must be a duration > 0"),
    ("{dist: lognormal, mean: 3m, sd: 1m}", "{dist: uniform, low: 3m, high: 1m}",
     "13: classes.311.categories.pothole.handle_time: high must be greater than low"),
    ("{dist: lognormal, mean: 3m, sd: 1m}", "{dist: triangular, low: 1m, mode: 5m, high: 3m}",
     "13: classes.311.categories.pothole.handle_time: needs low <= mode <= high and low < high"),
    ("pothole: {share: 0.5,", "pothole: {share: 0.4,",
     "12: classes.311.categories: shares must add up to 1, they add up to 0.9"),
    ("{rate_per_hour: 36}", "{rate_per_hour: -36}",
     "6: classes.911.arrivals.rate_per_hour: must be >= 0"),
    ("{rate_per_hour: 36}", "{profile_per_hour: [1, 2, 3]}",
     "6: classes.911.arrivals.profile_per_hour: needs 24 hourly rates (00:00 to 23:00), got 3"),
    ("{rate_per_hour: 36}", "{rate_per_hour: 36, profile_per_hour: [1]}",
     "6: classes.911.arrivals: give exactly one of rate_per_hour or profile_per_hour"),
    ('serves: ["911", "311"]', 'serves: ["911", "312"]',
     "18: staffing.pools.0.serves.1: unknown class '312' (classes: '911', '311')"),
    ('serves: ["911", "311"]', 'serves: ["911"]',
     "9: classes.311: no pool serves this class"),
    ("{start: 8h, end: 24h, agents: 10}", "{start: 8h, end: 6h, agents: 10}",
     "19: staffing.pools.0.shifts.1.end: must be after start"),
    ("{start: 8h, end: 24h, agents: 10}", "{start: 8h, end: 24h, agents: ten}",
     "19: staffing.pools.0.shifts.1.agents: must be a whole number"),
    ("{start: 8h, end: 24h, agents: 10}", "{start: 8h, end: 24h, agents: 2.5}",
     "19: staffing.pools.0.shifts.1.agents: must be a whole number"),
    ("{start: 0h, end: 8h, agents: 6}", "{start: 0h, end: 2d, agents: 6}",
     "19: staffing.pools.0.shifts.0.end: a shift lasts at most 24h"),
    ("horizon: 1d", "horizon: 1d\nwarmup: 2d",
     "3: warmup: must be shorter than horizon"),
    ("    priority: 2", "    priority: 1",
     "10: classes.311.priority: 1 is also the priority of class '911'; priorities must differ"),
    ("share: 0.90}", "share: 90}",
     "21: targets.911.0.share: must be <= 1"),
    ("horizon: 1d\n", "",
     "1: horizon: required"),
    ("name: test", "name: test\n  bad: [indent",
     "2: not valid YAML: mapping values are not allowed here"),
    ('targets:\n  "911"', 'targets:\n  "912"',
     "21: targets.912: unknown class '912' (classes: '911', '311')"),
    ('serves: ["911", "311"]', 'serves: ["911", 311]',
     '18: staffing.pools.0.serves.1: must be a non-empty text; quote it: "311"'),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), CASES, ids=[c[2].split(": ")[1] for c in CASES])
def test_bad_file_gives_one_clear_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    assert_one_line_error(tmp_path, GOOD.replace(old, new, 1), expected)


def test_good_file_validates(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: ok (test;")


def test_every_problem_of_a_file_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("mean: 2m}", "mean: -1m}").replace("agents: 6}", "agents: -6}"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:8: classes.911.patience.mean: must be a duration > 0",
        f"{path}:19: staffing.pools.0.shifts.0.agents: must be >= 0",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", ":1: a scenario must be a mapping of keys (name:, horizon:, classes: ...)"),
        ("- just\n- a list\n", ":1: a scenario must be a mapping of keys (name:, horizon:, classes: ...)"),
        ("\xff\xfe", None),
    ],
)
def test_not_a_scenario(tmp_path: Path, content: str, expected: str | None) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content.encode("latin-1"))
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    if expected:
        assert result.stderr == f"{path}{expected}\n"
    else:
        assert result.stderr.startswith(f"{path}:1: (top level): not UTF-8 text (byte 0xff at offset 0)")
    assert not (tmp_path / "out").exists()


def test_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'nope.yaml'}: no such file\n"


def test_an_override_that_breaks_the_scenario_is_one_line() -> None:
    from queueing.core.scenario_file import parse_scenario
    from queueing.errors import ScenarioError

    scenario = parse_scenario(GOOD)
    with pytest.raises(ScenarioError) as caught:
        with_overrides(scenario, warmup=2 * 86400.0)
    assert str(caught.value) == "override: warmup: must be shorter than horizon"


def test_keys_that_differ_by_spaces_are_refused_not_merged() -> None:
    """``"911 "`` beside ``"911"`` would be stripped into one key, the last one silently winning."""
    text = """\
name: x
horizon: 1d
classes:
  "911": {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: exponential, mean: 1m}}
staffing: {pools: [{name: p, serves: ["911"], agents: 1}]}
targets:
  "911": [{within: 15s, share: 0.9}]
  "911 ": [{within: 60s, share: 0.1}]
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "f.yaml")
    assert str(err.value) == "f.yaml:8: targets: the key '911 ' begins or ends with spaces (write '911')"


def test_keys_that_differ_by_case_are_refused_with_both_lines() -> None:
    text = """\
name: x
horizon: 1d
classes:
  "311":
    priority: 1
    arrivals: {rate_per_hour: 1}
    handle_time: {dist: exponential, mean: 1m}
    categories:
      pothole: {share: 0.5}
      Pothole: {share: 0.5}
staffing: {pools: [{name: p, serves: ["311"], agents: 1}]}
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "f.yaml")
    assert str(err.value) == (
        "f.yaml:10: classes.311.categories: the key 'Pothole' is 'pothole' (line 9) written another way; "
        "give each name once"
    )
