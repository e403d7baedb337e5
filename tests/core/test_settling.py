"""Saying when the queue does not settle: overload warned, unserved calls shown."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import REPO
from tests.support.cli import invoke


def test_overload_is_warned_and_unserved_shown(tmp_path: Path, write_scenario) -> None:
    """5x capacity: before, 0% abandoned and short waits were all one saw."""
    path = write_scenario(agents=2, rates=(36, 96), horizon="2d", warmup="0s", replications=2)
    result = invoke("simulate", str(path), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "unserved" in result.stdout.splitlines()[2]
    assert "warning: arrivals bring about 422 agent-hours of calls, the shifts give 96 (4.4 times)" in result.stderr
    # nobody hangs up: both queues are longest at the end
    assert re.search(r"times\): the 911 queue grows until the horizon \([\d,]+ waiting at the end, peak", result.stderr)
    assert re.search(r"; the 311 queue grows until the horizon \([\d,]+ waiting at the end, peak", result.stderr)
    assert re.search(
        r"warning: class 311: [\d,]+ of [\d,]+ calls per replication \(\d+%\) still unanswered", result.stderr
    )


def test_settled_runs_say_nothing(tmp_path: Path) -> None:
    result = invoke("simulate", str(REPO / "scenarios" / "baseline.yaml"), "-r", "2", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0 and result.stderr == ""


def test_a_queue_that_drains_before_the_horizon_is_said_so(tmp_path: Path) -> None:
    """The surge day: twice the work the shifts give, but 311 callers hang up and the evening is
    quiet, so the 311 queue peaks mid-morning and is gone by midnight: not "grows until the horizon"."""
    path = REPO / "scenarios" / "surge-day.yaml"
    result = invoke("simulate", str(path), "-r", "3", "--out", str(tmp_path / "o"), "--report")
    assert result.exit_code == 0, result.output
    (warning,) = result.stderr.splitlines()
    assert "grows until the horizon" not in warning
    found = re.search(r"the 311 queue peaks at (\d+) \((\d\d:\d\d)\) and is down to ([\d.]+) by the horizon", warning)
    assert found and int(found.group(1)) > 20 and float(found.group(3)) < 1
    # the report says the same, from the same function
    assert found.group(0) in (tmp_path / "o" / "report.html").read_text()
