"""``ivr311 nowcast`` against a real SQLite call log in the voice app's schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.support.cli import invoke, write_file
from tests.support.live_log import DAY, LoggedCall, poisson_day, write_calls_db

CENTRE = """\
name: small centre
seed: 9
horizon: 24h
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 40}
    handle_time: {dist: lognormal, mean: 3m, sd: 1m30s}
    patience: {dist: exponential, mean: 3m}
  "311":
    priority: 2
    arrivals: {rate_per_hour: 30}
    patience: {dist: exponential, mean: 5m}
    categories:
      noise: {share: 0.6, handle_time: {dist: lognormal, mean: 3m, sd: 1m}}
      pothole: {share: 0.4, handle_time: {dist: exponential, mean: 4m}}
staffing:
  pools:
    - name: call-takers
      serves: ["911", "311"]
      shifts:
        - {start: 7h, end: 15h, agents: 4}
        - {start: 15h, end: 23h, agents: 3}
        - {start: 23h, end: 31h, agents: 2}
targets:
  "911": [{within: 15s, share: 0.90}]
  "311": [{within: 30s, share: 0.80}]
"""

AT = "2026-03-02T14:05:00Z"
NOW_S = 14 * 3600 + 300


def _database(tmp_path: Path) -> str:
    rng = np.random.default_rng(4)
    calls = poisson_day(60, NOW_S - 600, rng) + poisson_day(30, NOW_S - 600, rng, queue="311")  # 911 1.5x
    calls += [LoggedCall("311", NOW_S - 200 - 20 * k, NOW_S - 180 - 20 * k, category="noise") for k in range(6)]
    calls += [LoggedCall("911", NOW_S - 40, NOW_S - 35)]
    calls += [LoggedCall("911", NOW_S - 400, NOW_S - 395, NOW_S - 390) for _ in range(4)]  # on a call
    return write_calls_db(tmp_path / "calls.db", DAY, calls)


def test_nowcast_reads_the_log_and_writes_nowcast_json(tmp_path: Path) -> None:
    url = _database(tmp_path)
    scenario = write_file(tmp_path, CENTRE, "centre.yaml")
    out = tmp_path / "now"
    result = invoke("nowcast", "--database-url", url, "--scenario", str(scenario), "--at", AT,
                    "--replications", "20", "--hours", "1", "--jobs", "1", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "nowcast.json").read_text())
    assert doc["at"] == "2026-03-02T14:05:00Z"
    assert doc["state"]["waiting"] == {"311": {"callers": 6, "longest_wait_s": 280.0},
                                       "911": {"callers": 1, "longest_wait_s": 35.0}}  # fmt: skip
    assert doc["state"]["in_service"] == {"911": 4} and doc["state"]["on_duty"] == {"call-takers": 4}
    refit = {r["class"]: r for r in doc["reforecast"]}
    assert refit["911"]["applied"] and refit["911"]["ratio_lo"] < 1.5 < refit["911"]["ratio_hi"]
    assert refit["911"]["forecast"] == pytest.approx(40 * 14 + 40 * 5 / 60, abs=0.05)  # midnight to 14:05
    starts = [b["start"] for b in doc["intervals"] if b["class"] == "911"]
    assert starts == ["2026-03-02T14:05:00Z", "2026-03-02T14:15:00Z", "2026-03-02T14:30:00Z", "2026-03-02T14:45:00Z",
                      "2026-03-02T15:00:00Z"]  # fmt: skip
    for band in doc["intervals"]:
        assert set(band) >= {"start", "class", "p_target_met", "wait_mean_s", "wait_lo_s", "wait_hi_s",
                             "queue_mean", "queue_lo", "queue_hi"}  # fmt: skip
    assert len(doc["plus_one"]["intervals"]) == len(doc["minus_one"]["intervals"]) == len(doc["intervals"])
    assert doc["plus_one"]["pool"] == "call-takers"
    # the console: the state, the re-forecast, a row per quarter hour and class
    state = "waiting: 311 6 (longest 280 s), 911 1 (longest 35 s); on a call: 911 4; on duty: call-takers 4"
    assert state in result.output
    assert "911: " in result.output and "applied" in result.output
    assert result.output.count("\n14:15  ") == 2


def test_an_empty_log_is_a_nowcast_from_an_empty_centre_and_a_second_replaces_the_first(tmp_path: Path) -> None:
    url = write_calls_db(tmp_path / "calls.db", DAY, [])
    scenario = write_file(tmp_path, CENTRE, "centre.yaml")
    for at in (AT, "2026-03-02T14:20:00Z"):  # every few minutes into the same folder
        result = invoke("nowcast", "--database-url", url, "--scenario", str(scenario), "--at", at, "--replications",
                        "4", "--hours", "0.5", "--jobs", "1", "--out", str(tmp_path / "now"), "--quiet")  # fmt: skip
        assert result.exit_code == 0, result.output
        doc = json.loads((tmp_path / "now" / "nowcast.json").read_text())
        assert doc["at"] == at and doc["state"]["waiting"] == {} and not any(r["applied"] for r in doc["reforecast"])
    refused = invoke("simulate", str(scenario), "--replications", "2", "--out", str(tmp_path / "now"))
    assert refused.exit_code == 2 and "holds the results of `ivr311 nowcast`" in refused.stderr


def test_the_python_function_is_what_the_command_writes_in_any_number_of_processes(tmp_path: Path) -> None:
    import queueing

    url = _database(tmp_path)
    scenario = write_file(tmp_path, CENTRE, "centre.yaml")
    result = invoke("nowcast", "--database-url", url, "--scenario", str(scenario), "--at", AT, "--replications",
                    "6", "--hours", "0.5", "--jobs", "2", "--out", str(tmp_path / "now"), "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "now" / "nowcast.json").read_text())
    mine = queueing.nowcast(queueing.load_scenario(scenario), database_url=url, at=AT, hours=0.5, replications=6,
                            jobs=1).to_json()  # fmt: skip
    for doc in (written, mine):
        del doc["generated_at"], doc["wall_s"]
    assert mine == written


def test_nowcast_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    scenario = write_file(tmp_path, CENTRE, "centre.yaml")
    url = write_calls_db(tmp_path / "calls.db", DAY, [LoggedCall("911", 0.0, 1.0)])
    cases = [
        (["--database-url", "nosuchdb://x"], "--database-url: "),
        (["--database-url", f"sqlite:///{tmp_path / 'empty.db'}"], "--database-url: no calls table"),
        (["--database-url", url, "--at", "yesterday"], "--at 'yesterday': expected an ISO 8601 time"),
        (["--database-url", url, "--pool", "nobody"], "--pool 'nobody': no such pool (pools: call-takers)"),
    ]
    for args, message in cases:
        result = invoke("nowcast", "--scenario", str(scenario), "--replications", "2", "--jobs", "1",
                        "--out", str(tmp_path / "now"), *args)  # fmt: skip
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message), result.stderr


def test_nowcast_refuses_a_routed_scenario_in_one_line(tmp_path: Path) -> None:
    """A now-cast starts the fast model from the log's state; a scenario whose calls transfer (or
    redial, call back, need a language) would be now-cast without them: refused, not misread."""
    routed = CENTRE.replace(
        '    patience: {dist: exponential, mean: 3m}\n  "311"',
        '    patience: {dist: exponential, mean: 3m}\n    transfer: {to: "311", share: 0.2, triage_time: 30s}\n  "311"',
    )
    scenario = write_file(tmp_path, routed, "routed.yaml")
    url = write_calls_db(tmp_path / "calls.db", DAY, [LoggedCall("911", 0.0, 1.0)])
    result = invoke("nowcast", "--scenario", str(scenario), "--database-url", url, "--replications", "2",
                    "--jobs", "1", "--out", str(tmp_path / "now"))  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("nowcast: the scenario transfers")
