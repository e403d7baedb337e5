"""`ivr311 calibrate` on hostile call logs: every row checked (dates in range, times in order per
call, JSON's depth and size), what is dropped or doubted counted on stderr, and an --out that is
an input or cannot be written refused before any work.

The logs are synthetic (numpy, no simulation): calls spread over two days, each with a menu,
a wait and a handle time, so a test costs the calibration alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from queueing import load_scenario, parse_scenario
from queueing.errors import ScenarioError
from queueing.planning import calllog
from queueing.planning.calibrate import calibrate
from queueing.planning.calllog import LOG_COLUMNS, read_call_log
from tests.planning.test_calibrate import known_scenario
from tests.support.cli import invoke

T0 = pd.Timestamp("2024-05-01", tz="UTC")


def _iso(seconds: np.ndarray) -> list[str]:
    stamps = T0 + pd.to_timedelta(seconds, unit="s")
    return [s.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for s in stamps]


def synthetic_log(n: int = 1200, days: int = 2, seed: int = 7) -> pd.DataFrame:
    """``n`` calls over ``days`` days as ``calls export`` writes them (text cells): 911 and 311,
    one in ten hung up in the queue, the others answered."""
    rng = np.random.default_rng(seed)
    started = np.sort(rng.uniform(0, days * 86400, n))
    queue = np.where(rng.random(n) < 0.3, "911", "311")
    enqueued = started + np.where(queue == "911", 0.0, rng.uniform(20, 60, n))
    wait = rng.exponential(40, n)
    hung_up = rng.random(n) < 0.1
    answered = enqueued + wait
    ended = np.where(hung_up, enqueued + wait, answered + rng.exponential(240, n))
    frame = pd.DataFrame({c: [""] * n for c in LOG_COLUMNS})
    frame["call_sid"] = [f"CA{i:032x}" for i in range(n)]
    frame["started_at"] = _iso(started)
    frame["queue"] = queue
    frame["category"] = np.where(queue == "311", rng.choice(["pothole", "noise", "graffiti"], n), "")
    frame["enqueued_at"] = _iso(enqueued)
    frame["queue_result"] = np.where(hung_up, "hangup", "bridged")
    frame["queue_time_s"] = [f"{w:.0f}" for w in wait]
    frame["answered_at"] = np.where(hung_up, "", _iso(answered))
    frame["ended_at"] = _iso(ended)
    return frame


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "base.yaml"
    path.write_text(known_scenario(1))
    return path


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "calls.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def run(log: Path, base: Path, out: Path, *extra: str):
    result = invoke("calibrate", str(log), "--base", str(base), "--out", str(out), *extra)
    assert "Traceback" not in result.output
    return result


def shift(frame: pd.DataFrame, row: int, column: str, seconds: float, of: str) -> None:
    """Set ``column`` of ``row`` to ``of``'s time plus ``seconds``."""
    frame.loc[row, column] = _iso(np.array([(pd.Timestamp(frame.loc[row, of]) - T0).total_seconds() + seconds]))[0]


def test_dates_outside_1970_2199_are_dropped_and_counted(tmp_path, base) -> None:
    """A row dated 9999 was an OutOfBoundsDatetime traceback; 99999 and 1969 are no call either."""
    frame = synthetic_log()
    frame.loc[5, "started_at"] = "9999-05-01T00:00:09.955Z"
    frame.loc[9, "ended_at"] = "99999-05-01T00:00:09Z"
    frame.loc[11, "enqueued_at"] = "1969-12-31T23:59:59.000Z"
    out = tmp_path / "cal.yaml"
    result = run(write(tmp_path, frame), base, out)
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'calls.csv'}: dropped 3 rows: a time outside the years 1970-2199 (lines 7, 11, 13)" in (
        result.stderr
    )
    assert result.stdout.startswith(f"{len(frame) - 3:,} calls from")
    assert invoke("validate", str(out)).exit_code == 0


def test_times_out_of_order_are_dropped_by_kind_with_their_lines(tmp_path, base) -> None:
    frame = synthetic_log()
    for row in (2, 7, 10):  # lines 4, 9, 12: answered a minute before the call was enqueued
        shift(frame, row, "answered_at", -60, of="enqueued_at")
        frame.loc[row, "queue_result"] = "bridged"
    frame.loc[20, ["enqueued_at", "queue", "answered_at"]] = ["", "", frame.loc[20, "ended_at"]]  # never enqueued
    shift(frame, 30, "ended_at", -3600, of="started_at")  # ended an hour before it started
    shift(frame, 31, "enqueued_at", -120, of="started_at")
    frame.loc[40] = frame.loc[39]  # the same call exported twice
    frame = frame.sort_index()
    result = run(write(tmp_path, frame), base, tmp_path / "cal.yaml")
    assert result.exit_code == 0, result.output
    lines = [line.split(": ", 2)[-1] for line in result.stderr.splitlines() if "dropped" in line]
    assert lines == [
        "dropped 1 row: enqueued before it started (line 33)",
        "dropped 1 row: answered but never enqueued (line 22)",
        "dropped 3 rows: answered before it was enqueued (lines 4, 9, 12)",
        "dropped 1 row: ended before it started (line 32)",
        "dropped 1 row: the same call_sid as an earlier row (line 42)",
    ], result.stderr
    assert result.stdout.startswith(f"{len(frame) - 7:,} calls from")


def test_calls_that_end_before_their_answer_have_no_handle_time(tmp_path, base) -> None:
    """Ended 2 s before the answer (within the clock skew allowed) gave a handle time of 0.001 s
    and exit 0 without a word; now the calls are counted and the handle time is the base's."""
    frame = synthetic_log()
    answered = frame["answered_at"] != ""
    for row in np.flatnonzero(answered):
        shift(frame, row, "ended_at", -2, of="answered_at")
    out = tmp_path / "cal.yaml"
    result = run(write(tmp_path, frame), base, out)
    assert result.exit_code == 0, result.output
    n = int(answered.sum())
    assert f"{n:,} calls ended within 5 s before or at their answer: left out of the handle time (lines 2, " in (
        result.stderr
    )
    assert "911 handle time: too few answered calls (0, need 50)" in result.stderr
    scenario, known = load_scenario(out), parse_scenario(known_scenario(1))
    assert scenario.classes["911"].handle_time == known.classes["911"].handle_time
    assert min(scenario.classes[c].mean_handle_s() for c in scenario.classes) > 60


def test_every_call_at_one_instant_is_refused(tmp_path, base) -> None:
    """Arrival rates of 0 in 23 hours and one hour of 600 calls, exit 0, no warning: now refused."""
    frame = synthetic_log(600)
    for column in ("started_at", "enqueued_at", "answered_at", "ended_at"):
        frame[column] = frame[column].where(frame[column] == "", "2024-05-01T08:00:00.000Z")
    out = tmp_path / "cal.yaml"
    result = run(write(tmp_path, frame), base, out)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"{tmp_path / 'calls.csv'}: all 600 calls started at the same instant (2024-05-01T08:00Z): arrivals are "
        "measured from calls spread over hours or days\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("since", ["2024-05-01T00:00:05Z", "2024-05-01T17:30:00Z", "2024-05-02T20:00:00Z"])
def test_since_after_the_start_measures_only_the_hours_it_covers(tmp_path, base, since) -> None:
    """A window that leaves hours of the day out gives them no rate of 0: arrivals from --base."""
    out = tmp_path / "cal.yaml"
    result = run(write(tmp_path, synthetic_log()), base, out, "--since", since)
    assert result.exit_code == 0, result.output
    rates = load_scenario(out).classes["311"].arrivals.hourly_rates()
    if since.endswith("20:00:00Z"):
        assert "311 arrivals: too few hours of the day in the window (2024-05-02T20:00Z .. 2024-05-03T00:00Z " in (
            result.stderr
        )
        assert "covers 4 of 24, pooled by 1h); taken from" in result.stderr
        pooled = run(tmp_path / "calls.csv", base, out, "--since", since, "--interval", "24h")
        assert pooled.exit_code == 0 and "arrivals" not in pooled.stderr
        assert "calls/day over 4.0 hours" in pooled.stdout  # was "over 0.2 days"
        assert rates == parse_scenario(known_scenario(1)).classes["311"].arrivals.hourly_rates()
    else:
        assert "arrivals" not in result.stderr and min(rates) > 0


def test_json_too_deep_too_big_or_nested_is_refused_in_one_line(tmp_path, base, monkeypatch) -> None:
    out = tmp_path / "cal.yaml"
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)  # was a RecursionError traceback
    result = run(deep, base, out)
    assert result.exit_code == 2
    assert result.stderr == f"{deep}:1: json: nested too deep: a call log is a list of flat objects\n"
    records = synthetic_log(60).to_dict("records")
    records[3]["category"] = {"pothole": {"deeper": [1, 2]}}
    nested = tmp_path / "nested.json"
    nested.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
    result = run(nested, base, out)
    assert result.exit_code == 2
    assert result.stderr == f"{nested}:5: category: must be text, a number or null, not a list or an object\n"
    monkeypatch.setattr(calllog, "MAX_JSON_BYTES", 1000)
    result = run(nested, base, out)
    assert result.exit_code == 2 and "MB: a JSON log is read whole, up to 0.0 MB; export CSV" in result.stderr
    assert not out.exists()


def test_out_that_cannot_be_written_is_refused_before_the_log_is_read(tmp_path, base, monkeypatch) -> None:
    """`--out /proc/x.yaml` failed after the whole calibration (28 s on a big log)."""

    def never(*_args, **_kwargs):
        raise AssertionError("the log was read before --out was checked")

    log = write(tmp_path, synthetic_log(60))
    monkeypatch.setattr(calllog, "read_call_log", never)
    bad = [tmp_path / "base.yaml" / "x.yaml"]  # (a folder is click's usage error, before any work too)
    if Path("/proc/self").is_dir():
        bad.append(Path("/proc/x.yaml"))
    for out in bad:
        result = run(log, base, out)
        assert result.exit_code == 2, (out, result.output)
        assert len(result.stderr.splitlines()) == 1 and str(out) in result.stderr, result.stderr


def test_out_equal_to_the_log_or_the_base_is_refused(tmp_path, base) -> None:
    log = write(tmp_path, synthetic_log(60))
    before = {p: p.read_bytes() for p in (log, base)}
    link = tmp_path / "same.csv"
    os.link(log, link)
    for out, name in ((log, "LOG"), (base, "--base"), (tmp_path / "x" / ".." / "base.yaml", "--base"), (link, "LOG")):
        result = run(log, base, out)
        assert result.exit_code == 2, result.output
        assert result.stderr == f"--out {out}: is the {name} file itself; write the result to another file\n"
    assert {p: p.read_bytes() for p in before} == before


def test_a_log_of_rows_that_are_all_dropped_is_refused_with_the_counts(tmp_path) -> None:
    frame = synthetic_log(30)
    frame["started_at"] = "2999-01-01T00:00:00.000Z"
    path = write(tmp_path, frame)
    with pytest.raises(ScenarioError, match=r"no call left to calibrate: dropped 30 rows: a time outside the years"):
        calibrate(read_call_log(path), parse_scenario(known_scenario(1)))


def test_a_class_with_too_few_calls_says_so_in_its_summary_line(tmp_path, base) -> None:
    """A class with nothing measured printed an empty `911: ` line."""
    result = run(write(tmp_path, synthetic_log(1)), base, tmp_path / "cal.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"1 call from {tmp_path / 'calls.csv'}",
        "  911: nothing measured (too few calls)",
        "  311: nothing measured (too few calls)",
    ]


def test_calls_lasting_or_waiting_a_day_or_more_are_dropped(tmp_path, base) -> None:
    """An end dated 2199 made a handle time of 175 years that the written scenario's own validation
    refused (or, for one call, a fit dragged by it), an enqueue dated 2152 a menu time of 128 years;
    a queue time of 1e300 s an OverflowError."""
    frame = synthetic_log()
    frame.loc[3, "ended_at"] = "2199-12-31T00:00:00.000Z"
    frame.loc[6, ["enqueued_at", "answered_at", "ended_at"]] = ["2152-08-01T00:00:00.000Z", "", ""]  # menu: 128 y
    frame.loc[8, "queue_time_s"] = "1e300"
    out = tmp_path / "cal.yaml"
    result = run(write(tmp_path, frame), base, out)
    assert result.exit_code == 0, result.output
    assert "dropped 2 rows: lasted a day or more (started_at to its last time) (lines 5, 8)" in result.stderr
    assert "dropped 1 row: waited a day or more (queue_time_s) (line 10)" in result.stderr
    assert load_scenario(out).classes["911"].mean_handle_s() < 600


def test_a_week_without_calls_is_refused_with_both_sides_counted(tmp_path, base) -> None:
    """One call dated 1970 in a 2024 log spread the arrivals over 54 years (rates near 0)."""
    frame = synthetic_log()
    frame.loc[0, ["started_at", "enqueued_at", "answered_at", "ended_at"]] = [
        "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:10.000Z", "1970-01-01T00:05:00.000Z",
    ]  # fmt: skip
    frame.loc[0, "queue_result"] = "bridged"
    log = write(tmp_path, frame)
    result = run(log, base, tmp_path / "cal.yaml")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"{log}: no call from 1970-01-01T00:00Z to 2024-05-01T00:10Z (19,844 days; 1 call before, 1,199 calls after): "
        "choose the span to calibrate with --since and --until\n"
    )
    assert run(log, base, tmp_path / "cal.yaml", "--since", "2024-05-01").exit_code == 0
