"""What calibrate writes of numbers at their edge."""

from __future__ import annotations

import dataclasses

from queueing import parse_scenario
from queueing.output.calibration import calibration_yaml
from queueing.planning.calibrate import calibrate
from tests.planning.test_calibrate import known_scenario
from tests.planning.test_calibrate_log_checks import synthetic_log


def test_a_surge_in_hours_the_profile_expects_no_call_is_written_without_dividing_by_zero() -> None:
    """A candidate surge whose hours hold no call in the profile: its ratio was n / 0."""
    base = parse_scenario(known_scenario(1))
    cal = calibrate(synthetic_log(400), base)
    est = cal.classes["311"]
    assert est.profile is not None
    est.profile = dataclasses.replace(est.profile, surges=[("2024-05-01", 12, 0.0)])
    text = calibration_yaml(cal, base)
    assert "candidate surge (left out of the profile): 2024-05-01, 12 calls, profile expects 0 (none expected in " in (
        text
    )
    parse_scenario(text)
