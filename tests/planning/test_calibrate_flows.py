"""calibrate of what the log shows of callers: the language mix and the redials (the same hashed
number calling again within an hour of hanging up), against a model run whose truth is known;
and a log without them writes neither, and says transfers are not in the log."""

from __future__ import annotations

import pytest

from queueing import parse_scenario, simulate
from queueing.output.calibration import calibration_yaml, summary_lines
from queueing.planning.calibrate import calibrate
from tests.support.call_log import simulated_call_log

# 311 short of agents: many hang-ups, half of whom call again 5 minutes later on average.
KNOWN = """
name: redials and languages
seed: 7
horizon: 24h
replications: 3
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 12}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 2m}
    languages: {en: 0.7, es: 0.3}
  "311":
    priority: 2
    arrivals: {rate_per_hour: 60}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 2m}
    redial: {probability: 0.5, delay: {dist: exponential, mean: 5m}}
    languages: {en: 0.8, es: 0.2}
staffing:
  pools: [{name: call-takers, serves: ["911", "311"], agents: 4}]
targets:
  "911": [{within: 15s, share: 0.9}]
"""


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):  # type: ignore[no-untyped-def]
    scenario = parse_scenario(KNOWN)
    path = tmp_path_factory.mktemp("log") / "calls.csv"
    simulated_call_log(simulate(scenario, keep_calls=True)).to_csv(path, index=False)
    return scenario, calibrate(path, scenario)


@pytest.mark.slow
def test_redial_share_delay_and_first_calls_recovered(calibrated) -> None:  # type: ignore[no-untyped-def]
    scenario, cal = calibrated
    est = cal.classes["311"]
    found = est.redials
    assert found is not None and found.redialled >= 100
    assert found.low <= 0.5 <= found.high
    assert est.redial_delay is not None
    assert est.redial_delay.mean_low <= 300.0 <= est.redial_delay.mean_high
    # the arrivals written are the first calls: 60 an hour, redials left to the model
    p = est.profile
    assert p is not None
    assert p.low.mean() <= 60.0 <= p.high.mean()
    assert cal.classes["911"].redials is not None and cal.classes["911"].redial_delay is None  # 911 never redials
    written = parse_scenario(calibration_yaml(cal, scenario))
    redial = written.classes["311"].redial
    assert redial is not None and redial.probability == pytest.approx(found.share, abs=1e-4)
    assert written.classes["911"].redial is None


@pytest.mark.slow
def test_language_mix_recovered_and_written(calibrated) -> None:  # type: ignore[no-untyped-def]
    scenario, cal = calibrated
    for name, truth in (("911", 0.3), ("311", 0.2)):
        mix = cal.classes[name].languages
        assert mix is not None and set(mix.shares) == {"en", "es"}
        assert mix.low["es"] <= truth <= mix.high["es"]
    text = calibration_yaml(cal, scenario)
    written = parse_scenario(text)
    assert written.classes["311"].languages == cal.classes["311"].languages.shares  # type: ignore[union-attr]
    assert "no column saying a call was transferred" in text
    assert "languages en" in summary_lines(cal) and "redials" in summary_lines(cal)


def test_a_log_of_one_language_and_no_redials_writes_neither(tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = parse_scenario(
        KNOWN.replace("    languages: {en: 0.7, es: 0.3}\n", "")
        .replace("    languages: {en: 0.8, es: 0.2}\n", "")
        .replace("    redial: {probability: 0.5, delay: {dist: exponential, mean: 5m}}\n", "")
        .replace("replications: 3", "replications: 1")
    )
    path = tmp_path / "calls.csv"
    simulated_call_log(simulate(plain, keep_calls=True)).to_csv(path, index=False)
    cal = calibrate(path, plain)
    est = cal.classes["311"]
    assert est.languages is None and est.redial_delay is None
    assert est.redials is not None and est.redials.redialled == 0  # every call its own number
    text = calibration_yaml(cal, plain)
    assert "# redials: 0 of" in text
    written = parse_scenario(text)
    assert not written.routed


def test_a_log_without_language_or_caller_columns_is_calibrated_without_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An export from before those columns: neither estimate, no error; JSON reads them as CSV does."""
    scenario = parse_scenario(KNOWN.replace("replications: 3", "replications: 1"))
    frame = simulated_call_log(simulate(scenario, keep_calls=True))
    cal = calibrate(frame.drop(columns=["language", "caller_hash"]), scenario)
    assert all(est.languages is None and est.redials is None for est in cal.classes.values())
    path = tmp_path / "calls.json"
    frame.to_json(path, orient="records")
    from_json = calibrate(path, scenario).classes["311"]
    from_frame = calibrate(frame, scenario).classes["311"]
    assert from_json.languages == from_frame.languages
    assert from_json.redials is not None and from_frame.redials is not None
    assert from_json.redials.redialled == from_frame.redials.redialled > 0
