"""What a run would cost, checked before any work: finite numbers, hard and soft limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import REPO
from tests.support.cli import assert_refused, invoke, write_file

TEXTBOOK = (REPO / "scenarios" / "textbook.yaml").read_text(encoding="utf-8")


def _edit(old: str, new: str) -> str:
    assert old in TEXTBOOK
    return TEXTBOOK.replace(old, new, 1)


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("infinite_rate", "{rate_per_hour: 36}", "{rate_per_hour: .inf}",
         r":13: classes\.911\.arrivals\.rate_per_hour: must be a finite number"),
        ("nan_rate", "{rate_per_hour: 36}", "{rate_per_hour: .nan}", r"rate_per_hour: must be a finite number"),
        ("infinite_profile_entry", "{rate_per_hour: 36}", "{profile_per_hour: [" + "1, " * 23 + ".inf]}",
         r"profile_per_hour\.23: must be a finite number"),
        ("huge_seed", "seed: 2005", "seed: 1.0e+308", r":6: seed: must be a whole number$"),
        ("rate_1e9", "{rate_per_hour: 36}", "{rate_per_hour: 1.0e+9}",
         r":13: classes\.911\.arrivals: about 720 billion calls per replication .*; at most 2\.1 billion"),
        ("horizon_100000d", "horizon: 30d", "horizon: 100000d", r":7: horizon: must be at most 100 years"),
        ("a_billion_agents", "agents: 10", "agents: 1000000000",
         r":19: staffing: 1 billion agents in all shifts; at most 10,000 without --large"),
        ("a_billion_replications", "replications: 10", "replications: 1000000000",
         r":9: replications: 1 billion replications; at most 1 million"),
        ("lognormal_sd_overflow", "{dist: exponential, mean: 4m}\n  \"311\"",
         "{dist: lognormal, mean: 0.001, sd: 1e9}\n  \"311\"", r"handle_time: sd must be between a millionth"),
    ],
)  # fmt: skip
def test_validate_refuses_what_simulate_cannot_run(
    name: str, old: str, new: str, expected: str, tmp_path: Path
) -> None:
    path = write_file(tmp_path, _edit(old, new))
    assert_refused(invoke("validate", str(path)), path, expected)
    assert_refused(invoke("simulate", str(path), "--out", str(tmp_path / "out")), path, expected)
    assert not (tmp_path / "out").exists()


def test_surge_multiplier_inf_and_staff_with_nan(tmp_path: Path) -> None:
    text = _edit("staffing:", 'surges: [{name: s, class: "311", start: 1h, end: 2h, multiplier: .inf}]\nstaffing:')
    path = write_file(tmp_path, text)
    for command in ("validate", "simulate", "staff", "analytic"):
        assert_refused(invoke(command, str(path)), path, r"surges\.0\.multiplier: must be a finite number")


def test_large_lifts_soft_limits_only(tmp_path: Path) -> None:
    path = write_file(tmp_path, _edit("agents: 10", "agents: 20000"))
    assert_refused(invoke("validate", str(path)), path, r"20,000 agents in all shifts; at most 10,000 without --large")
    assert invoke("validate", str(path), "--large").exit_code == 0
    big = write_file(tmp_path, _edit("{rate_per_hour: 36}", "{rate_per_hour: 1.0e+9}"), "big.yaml")
    assert_refused(invoke("validate", str(big), "--large"), big, r"at most 2\.1 billion \(a limit of the model\)")


def test_replications_override_is_named(tmp_path: Path, write_scenario) -> None:
    result = invoke("simulate", str(write_scenario()), "--replications", "1000000000", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert result.stderr == "--replications: 1 billion replications; at most 1 million (a limit of the model)\n"


def test_many_intervals_are_a_soft_limit(tmp_path: Path, write_scenario) -> None:
    result = invoke("simulate", str(write_scenario(horizon="30d")), "--interval", "1s", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "2.6 million intervals of --interval per replication; at most 100,000 without --large" in result.stderr
