"""The now-cast (queueing/planning/nowcast.py): the state read from a call log, the re-forecast
ratio on days with a known surge, the clock, and the runs with one agent more and fewer."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from queueing.core.scenario_file import load_scenario, parse_scenario
from queueing.planning.calllog import CallLog, frame_call_log
from queueing.planning.nowcast import MAX_OPEN_S, MIN_CALLS, nowcast, reforecast, scenario_day, state_of_log
from tests.support import REPO
from tests.support.live_log import DAY, LoggedCall, poisson_day

FLAT = """\
name: flat 911 day
seed: 5
horizon: 24h
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 60}
    handle_time: {dist: exponential, mean: 2m}
    patience: {dist: exponential, mean: 3m}
staffing:
  pools: [{name: call-takers, serves: ["911"], agents: 3}]
targets:
  "911": [{within: 15s, share: 0.90}]
"""


def _log(calls: list[LoggedCall]):
    """The calls as calibrate reads a log (a DataFrame in the export's columns)."""

    def iso(s: float | None) -> str:
        return "" if s is None else (DAY + timedelta(seconds=s)).isoformat()

    frame = pd.DataFrame(
        [{"call_sid": f"CA{n}", "caller_hash": "", "started_at": iso(c.started), "language": "en",
          "category": c.category or "", "queue": c.queue, "menu_attempts": "0", "enqueued_at": iso(c.enqueued),
          "queue_result": "", "queue_time_s": "", "answered_at": iso(c.answered), "ended_at": iso(c.ended),
          "status": "", "duration_s": ""} for n, c in enumerate(calls)]
    )  # fmt: skip
    return frame_call_log(frame)


AT = DAY.timestamp() + 10 * 3600  # 10:00 UTC


def test_reforecast_ratio_covers_a_known_surge() -> None:
    scenario = parse_scenario(FLAT)
    rng = np.random.default_rng(3)
    ratios, covered = [], []
    for _ in range(200):
        started = DAY.timestamp() + np.sort(rng.uniform(0, 10 * 3600, rng.poisson(1.5 * 600)))
        nothing = np.full(len(started), np.nan)
        text = np.full(len(started), "", dtype=object)
        queue = np.full(len(started), "911", dtype=object)
        log = CallLog("synthetic", started, started, nothing, nothing, nothing, queue, text, text, text, text)
        (r,) = reforecast(log, scenario, AT, 10 * 3600.0)
        assert r.forecast == pytest.approx(600.0)
        assert r.applied  # hundreds of calls
        ratios.append(r.ratio)
        covered.append(r.low <= 1.5 <= r.high)
    assert np.mean(ratios) == pytest.approx(1.5, abs=0.01)
    assert 0.92 <= np.mean(covered) <= 0.98  # an exact 95% interval


def test_reforecast_waits_for_enough_calls() -> None:
    scenario = parse_scenario(FLAT)
    log = _log(poisson_day(60, 0.5 * 3600, np.random.default_rng(1)))  # half an hour: ~30 calls
    (r,) = reforecast(log, scenario, DAY.timestamp() + 1800, 1800.0)
    assert r.actual < MIN_CALLS and not r.applied


def test_state_of_log_reads_who_waits_and_who_is_on_a_call() -> None:
    scenario = parse_scenario(FLAT)
    at = 10 * 3600.0
    calls = [
        LoggedCall("911", at - 100, at - 90),  # waiting 90 s
        LoggedCall("911", at - 40, at - 30, category="fire"),  # waiting 30 s
        LoggedCall("911", at - 300, at - 295, at - 200),  # on a call for 200 s
        LoggedCall("911", at - 300, at - 295, at - 290, at - 10),  # done
        LoggedCall("911", at - 300, at - 295, None, at - 100),  # hung up in the queue
        LoggedCall("911", at - MAX_OPEN_S - 60, at - MAX_OPEN_S - 50),  # a lost status callback
        LoggedCall("311", at - 50, at - 40),  # a class the scenario does not have
        LoggedCall("311", at - MAX_OPEN_S - 60, at - MAX_OPEN_S - 50),  # neither counted nor left out
        LoggedCall("911", at + 5, at + 6),  # after the time asked for
    ]
    state, ignored = state_of_log(_log(calls), scenario, DAY.timestamp() + at, at)
    assert [(w.elapsed_s, w.category) for w in state.waiting] == [(90.0, None), (30.0, "fire")]
    assert [c.elapsed_s for c in state.in_service] == [200.0]
    assert ignored == 1 and state.at_s == at


def test_a_week_scenario_runs_on_the_day_of_the_weekday() -> None:
    week = load_scenario(REPO / "scenarios" / "week.yaml")
    wednesday = (DAY + timedelta(days=2, hours=14)).timestamp()
    expected = (2 - ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(week.first_weekday)) % 7
    assert scenario_day(week, wednesday) == expected
    assert scenario_day(parse_scenario(FLAT), wednesday) == 0


def test_nowcast_from_a_long_queue_and_what_an_agent_changes() -> None:
    scenario = parse_scenario(FLAT)
    at = 10 * 3600.0
    calls = poisson_day(60, at, np.random.default_rng(2))
    calls += [LoggedCall("911", at - 120 - k, at - 100 - k) for k in range(30)]  # 30 waiting
    result = nowcast(scenario, _log(calls), at=pd.Timestamp(DAY.timestamp() + at, unit="s", tz="UTC").isoformat(),
                     hours=1, replications=20, jobs=1)  # fmt: skip
    doc = result.to_json()
    assert doc["state"]["waiting"]["911"]["callers"] >= 30  # and any of the day's last seconds
    assert [b["start"][11:16] for b in doc["intervals"]] == ["10:00", "10:15", "10:30", "10:45"]
    first = doc["intervals"][0]
    assert first["queue_mean"] > 5 and first["p_target_met"] < 0.5
    assert first["queue_lo"] <= first["queue_mean"] <= first["queue_hi"]
    plus, minus = doc["plus_one"]["intervals"][0], doc["minus_one"]["intervals"][0]
    assert plus["queue_mean"] < first["queue_mean"] < minus["queue_mean"]
    assert (plus["agents"], first["agents"], minus["agents"]) == (4, 3, 2)
