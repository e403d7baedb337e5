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
    assert re.search(
        r"warning: class 311: [\d,]+ of [\d,]+ calls per replication \(\d+%\) still unanswered", result.stderr
    )


def test_settled_runs_say_nothing(tmp_path: Path) -> None:
    result = invoke("simulate", str(REPO / "scenarios" / "baseline.yaml"), "-r", "2", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0 and result.stderr == ""
