"""No library warning reaches the user's screen: numpy, pandas and scipy warn (RuntimeWarning,
FutureWarning, UserWarning) on stderr where the tool should speak in its own words or stay
silent. Representative commands run here with every warning a user would see turned into an
error (DeprecationWarning and its kin are hidden from users by Python's defaults, so they are
left as they are); ``tests/test_docs.py`` runs the documented ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.planning.test_calibrate import known_scenario
from tests.planning.test_calibrate_log_checks import synthetic_log
from tests.support.cli import invoke

ROOT = Path(__file__).resolve().parent.parent
TINY = """
name: tiny
seed: 1
horizon: 1h
replications: 2
classes:
  "911": {priority: 1, arrivals: {rate_per_hour: 0.01}, handle_time: {dist: exponential, mean: 4m}}
  "311": {priority: 2, arrivals: {rate_per_hour: 0.01}, handle_time: {dist: exponential, mean: 4m}}
staffing:
  pools: [{name: p, serves: ["911", "311"], agents: 1}]
targets:
  "911": [{within: 15s, share: 0.9}]
"""


@pytest.fixture
def as_errors() -> Iterator[None]:
    """Every warning Python shows a user by default raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", hidden)
        yield


def test_a_class_seen_on_part_days_only_calibrates_without_numpy_warnings(tmp_path, as_errors) -> None:
    """Three weeks of 311 calls and 911 calls only on the first afternoon: 911's whole days hold
    no call, and the weekday test divided 0 by 0 ("invalid value encountered in divide")."""
    frame = synthetic_log(n=22 * 24 * 3, days=22)
    first_afternoon = frame["started_at"].str.startswith("2024-05-01T1")
    frame["queue"] = np.where(first_afternoon, "911", "311")
    frame["category"] = np.where(first_afternoon, "", "pothole")
    log, base, out = tmp_path / "calls.csv", tmp_path / "base.yaml", tmp_path / "cal.yaml"
    frame.to_csv(log, index=False)
    base.write_text(known_scenario(1))
    result = invoke("calibrate", str(log), "--base", str(base), "--out", str(out), "--since", "2024-05-01T10:00Z")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "911: " in result.stdout and "weekday" not in result.stdout.split("911: ")[1].splitlines()[0]


def test_representative_commands_print_no_library_warning(tmp_path, as_errors) -> None:
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(TINY)
    baseline = str(ROOT / "scenarios" / "baseline.yaml")
    for args in (
        ["validate", baseline],
        ["analytic", baseline],
        ["analytic", str(tiny)],
        ["simulate", str(tiny), "-q", "--calls", "--report", "--out", str(tmp_path / "res")],
    ):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    log, base = tmp_path / "calls.csv", tmp_path / "base.yaml"
    synthetic_log(300).to_csv(log, index=False)
    base.write_text(known_scenario(1))
    for extra in ([], ["--interval", "24h"], ["--since", "2024-05-02T18:00Z"]):
        result = invoke("calibrate", str(log), "--base", str(base), "--out", str(tmp_path / "cal.yaml"), *extra)
        assert result.exit_code == 0, (extra, result.output, result.exception)
