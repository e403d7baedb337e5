"""Options the commands share, checked before any work."""

from __future__ import annotations

from click.testing import CliRunner

from queueing.cli import main
from tests.support.cli import invoke


def test_interval_of_a_nanosecond_is_refused(write_scenario) -> None:
    result = invoke("simulate", str(write_scenario()), "--interval", "0.000000001s")
    assert result.exit_code == 2 and "must be at least 1s" in result.stderr


def test_bad_overrides_are_one_line(write_scenario) -> None:
    path = write_scenario()
    result = CliRunner().invoke(main, ["simulate", str(path), "--interval", "soon"])
    assert result.exit_code == 2
    assert "--interval" in result.stderr and "must be a duration like" in result.stderr
    result = CliRunner().invoke(main, ["simulate", str(path), "--replications", "0"])
    assert result.exit_code == 2
