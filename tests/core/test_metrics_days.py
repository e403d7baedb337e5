"""Results per simulation day and per weekday: which days, which calls count in each, how weekdays
pool their days, and shares that stay shares."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from queueing import simulate
from queueing.core.durations import DAY_S
from queueing.core.metrics import answered_within, daily_columns, day_spans, replication_daily, replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ABANDONED, ANSWERED, CLOSED, OUTCOMES
from queueing.core.runner import SimulationResult
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import parse_scenario, with_overrides
from queueing.core.schedule import build_schedule
from queueing.core.statistics import estimate
from queueing.theory import analytic
from tests.support.callers import callers_at
from tests.support.scenarios import scenario_text

H = 3600.0
M = 60.0


def week_scenario(**fields: object) -> Scenario:
    """The benchmark-shaped centre (short-handed, so calls wait and hang up) with ``fields`` set."""
    doc = yaml.safe_load(scenario_text(agents=9, rates=(36, 80), patience="4m", horizon="3d", warmup="2h"))
    doc.update(fields)
    return parse_scenario(yaml.safe_dump(doc))


def test_the_days_of_the_statistics_window() -> None:
    def spans(horizon: str, warmup: str) -> list[tuple[int, float, float]]:
        return day_spans(week_scenario(horizon=horizon, warmup=warmup))

    assert spans("24h", "1h") == [] and spans("8h", "0s") == []  # one day: the whole run is that day
    assert spans("2d", "1h") == [(0, H, DAY_S), (1, DAY_S, 2 * DAY_S)]
    assert spans("36h", "0s") == [(0, 0.0, DAY_S), (1, DAY_S, 36 * H)]  # the last day cut by the horizon
    assert spans("3d", "1d") == [(1, DAY_S, 2 * DAY_S), (2, 2 * DAY_S, 3 * DAY_S)]  # day 0 is all warm-up
    assert spans("3d", "30h") == [(1, 30 * H, 2 * DAY_S), (2, 2 * DAY_S, 3 * DAY_S)]


def _by_hand(result: SimulationResult, r: int, k: int, days: list[int], t: float) -> dict[str, float]:
    """Replication r's callers of class k who arrived after the warm-up on ``days``, counted by hand."""
    rec = result.replications[r].records
    assert rec is not None
    c = rec.callers
    mine = (c.cls == k) & (c.arrival_s >= result.scenario.warmup) & np.isin(c.arrival_s // DAY_S, days)
    answered = mine & (rec.outcome == ANSWERED)
    offered = int(mine.sum() - (mine & (rec.outcome == CLOSED)).sum())
    within = int(answered_within(rec.wait_s, answered, t).sum())
    return {
        "arrivals": int(mine.sum()),
        "offered": offered,
        "answered": int(answered.sum()),
        "abandoned": int((mine & (rec.outcome == ABANDONED)).sum()),
        "wait_mean": float(rec.wait_s[answered].mean()),
        "wait_p90": float(np.percentile(rec.wait_s[answered], 90)),
        "within": within,
        "level": within / offered,
    }


def test_a_call_counts_in_the_day_it_arrived_on_and_the_days_add_up_to_the_run() -> None:
    scenario = week_scenario(start_day="fri")
    result = simulate(scenario, keep_calls=True)
    summary = result.summary
    assert [d["day"] for d in summary["days"]] == [0, 1, 2]
    assert [d["weekday"] for d in summary["days"]] == ["fri", "sat", "sun"]
    assert all("date" not in d for d in summary["days"])
    assert summary["days"][0]["start_s"] == 2 * H  # the warm-up left out
    rows = list(result.daily.rows())
    columns = daily_columns(scenario)
    assert columns[:4] == ["replication", "day", "weekday", "class"]
    assert len(rows) == scenario.replications * 3 * 2
    for k, name in enumerate(scenario.class_names()):
        t = scenario.targets[name][0].within
        for r, rep in enumerate(result.replications):
            whole = sum(rep.measures[("days", str(d), "classes", name, "offered")] for d in range(3))
            assert whole == rep.measures[("classes", name, "offered")]
            for day in range(3):
                hand = _by_hand(result, r, k, [day], t)
                row = dict(
                    zip(
                        columns,
                        next(x for x in rows if x[:4] == (r, day, summary["days"][day]["weekday"], name)),
                        strict=True,
                    )
                )
                assert row["arrivals"] == hand["arrivals"] and row["offered"] == hand["offered"]
                assert row["answered"] == hand["answered"] and row["abandoned"] == hand["abandoned"]
                assert row["wait_s_mean"] == pytest.approx(hand["wait_mean"])
                assert row[f"answered_within_{t:g}s"] == hand["within"]
                assert row[f"service_level_{t:g}s"] == pytest.approx(hand["level"])
        for day in range(3):
            node = summary["days"][day]["classes"][name]
            hands = [_by_hand(result, r, k, [day], t) for r in range(scenario.replications)]
            assert node["offered"] == estimate([h["offered"] for h in hands])
            assert node["wait_s"]["p90"]["value"] == pytest.approx(np.mean([h["wait_p90"] for h in hands]))
            (level,) = node["service_level"]
            assert level["share"]["value"] == pytest.approx(np.mean([h["level"] for h in hands]))
            assert level["met"] == (level["share"]["value"] >= level["target"])


def test_a_weekday_pools_its_days_and_counts_per_day() -> None:
    scenario = week_scenario(horizon="9d", warmup="0s", start_date="2026-12-07", replications=2)  # a Monday
    result = simulate(scenario, keep_calls=True)
    summary = result.summary
    assert [d["date"] for d in summary["days"]][:2] == ["2026-12-07", "2026-12-08"]
    assert [(w["weekday"], w["days"]) for w in summary["weekdays"]] == [
        ("mon", [0, 7]), ("tue", [1, 8]), ("wed", [2]), ("thu", [3]), ("fri", [4]), ("sat", [5]), ("sun", [6]),
    ]  # fmt: skip
    assert "date" in daily_columns(scenario)
    name, t = "311", scenario.targets["311"][0].within
    hands = [_by_hand(result, r, 1, [1, 8], t) for r in range(2)]
    tue = summary["weekdays"][1]["classes"][name]
    assert tue["offered"]["value"] == pytest.approx(np.mean([h["offered"] / 2 for h in hands]))
    assert tue["abandoned"]["count"]["value"] == pytest.approx(np.mean([h["abandoned"] / 2 for h in hands]))
    # Shares and waits of the calls pooled: not the mean of the two days' shares.
    assert tue["service_level"][0]["share"]["value"] == pytest.approx(np.mean([h["level"] for h in hands]))
    assert tue["wait_s"]["mean"]["value"] == pytest.approx(np.mean([h["wait_mean"] for h in hands]))


def test_shares_of_a_day_and_their_bounds_stay_within_0_and_1() -> None:
    # A few calls a day to one slow agent: a day's service level swings between replications, so
    # its t interval would pass 100% (or 0%) without the bounds kept to shares.
    doc = yaml.safe_load(scenario_text(agents=1, rates=(1, 2), handle="20m", patience="10m", horizon="4d"))
    doc["targets"] = {"911": [{"within": "0s", "share": 0.5}], "311": [{"within": "5m", "share": 0.5}]}
    scenario = with_overrides(parse_scenario(yaml.safe_dump(doc)), replications=3)
    result = simulate(scenario)
    columns = daily_columns(scenario)
    passed = False
    for section in ("days", "weekdays"):
        for entry in result.summary[section]:
            for name, node in entry["classes"].items():
                shares = [node["abandoned"]["share"], *(sl["share"] for sl in node["service_level"])]
                for est in shares:
                    lo, hi = est["ci95"]
                    assert 0.0 <= lo <= est["value"] <= hi <= 1.0
                if section == "days":
                    t = scenario.targets[name][0].within
                    raw = [
                        row[columns.index(f"service_level_{t:g}s")]
                        for row in result.daily.rows()
                        if row[1] == entry["day"] and row[columns.index("class")] == name
                    ]
                    lo, hi = estimate([math.nan if v is None else v for v in raw])["ci95"]
                    passed |= lo is not None and (lo < 0 or hi > 1)
    assert passed  # the case does reach past a bound, so the test holds the clipping


def test_a_run_of_one_day_has_no_days() -> None:
    scenario = week_scenario(horizon="24h", replications=2)
    result = simulate(scenario)
    assert not any(key[0] in ("days", "weekdays") for key in result.replications[0].measures)
    assert list(result.summary) == ["classes", "pools", "meta"]
    assert list(result.daily.rows()) == []


MIDNIGHT = """\
name: one agent around the clock
start_day: sat
horizon: 2d
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 10m}}
staffing:
  pools: [{name: desk, serves: [a], agents: 1}]
targets: {a: [{within: 5m, share: 0.5}]}
"""


def test_the_queue_carries_over_midnight_and_each_call_counts_in_the_day_it_arrived_on() -> None:
    scenario = parse_scenario(MIDNIGHT)
    schedule = build_schedule(scenario)
    # One agent, 10-minute calls: A 23:40, B 23:45, C 23:50, D 23:55 on Saturday (day 0); E 23:58
    # hangs up after 5 minutes; F 00:05 on Sunday.
    arrivals = [23 * H + 40 * M, 23 * H + 45 * M, 23 * H + 50 * M, 23 * H + 55 * M, 23 * H + 58 * M, 24 * H + 5 * M]
    callers = callers_at(arrivals, 10 * M)
    callers.patience_s[4] = 5 * M
    records = simulate_replication(scenario, schedule, callers)
    # By hand: A at once (to 23:50); B at 23:50 (to 00:00); C at 00:00 (to 00:10); D at 00:10
    # (to 00:20); E gave up at 00:03, found gone at 00:20; F at 00:20 (to 00:30). The agent works
    # on through midnight: the queue of Saturday night is served on Sunday, in the order it came.
    assert [OUTCOMES[o] for o in records.outcome] == ["answered"] * 4 + ["abandoned", "answered"]
    assert records.answered_s[[0, 1, 2, 3, 5]].tolist() == [
        23 * H + 40 * M, 23 * H + 50 * M, 24 * H, 24 * H + 10 * M, 24 * H + 20 * M,
    ]  # fmt: skip
    assert records.wait_s.tolist() == [0.0, 5 * M, 10 * M, 15 * M, 5 * M, 15 * M]
    m = replication_measures(scenario, schedule, records)
    sat, sun = ("days", "0", "classes", "a"), ("days", "1", "classes", "a")
    # Saturday's calls are A-E, whenever they were answered; Sunday's only F.
    assert (m[(*sat, "offered")], m[(*sat, "answered")], m[(*sat, "abandoned", "count")]) == (5, 4, 1)
    assert m[(*sat, "wait_s", "mean")] == 7.5 * M  # A-D: 0, 5, 10, 15 minutes
    assert m[(*sat, "service_level", "300")] == 2 / 5  # A and B within 5 minutes (B exactly), of 5 offered
    assert (m[(*sun, "offered")], m[(*sun, "wait_s", "mean")], m[(*sun, "service_level", "300")]) == (1, 15 * M, 0.0)
    assert (
        m[("weekdays", "sat", "classes", "a", "offered")] == 5
        and m[("weekdays", "sun", "classes", "a", "offered")] == 1
    )
    assert m[("pools", "desk", "overtime_h")] == 0.0  # no shift ended at midnight
    rows = replication_daily(scenario, 0, m)
    assert [row[:8] for row in rows] == [(0, 0, "sat", "a", 5, 5, 4, 1), (0, 1, "sun", "a", 1, 1, 1, 0)]


FACTORS = {"mon": 1.2, "fri": 1.1, "sat": 0.75, "sun": 0.5}  # the other days 1.0
SLACK = 0.03  # relative widening of an interval, as in test_model_theory: a day starts with the day before's queue


def test_each_weekday_waits_as_erlang_c_at_its_own_rate() -> None:
    """Stationary days (a constant rate, one pool, exponential handle times), busier on Mondays and
    Fridays, quieter at the weekend: each weekday's wait and service level are Erlang C's at that
    weekday's rate, within their intervals. Two weeks: a weekday pools two days of ~1,500 calls."""
    doc = {
        "name": "weekday factors", "seed": 1, "start_day": "mon", "horizon": "14d", "replications": 16,
        "classes": {"a": {"priority": 1, "arrivals": {"rate_per_hour": 60, "weekdays": FACTORS},
                          "handle_time": {"dist": "exponential", "mean": "4m"}}},
        "staffing": {"pools": [{"name": "p", "serves": ["a"], "agents": 6}]},
        "targets": {"a": [{"within": "20s", "share": 0.8}]},
    }  # fmt: skip
    summary = simulate(parse_scenario(yaml.safe_dump(doc)), jobs=2).summary
    assert [w["weekday"] for w in summary["weekdays"]] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for weekday in summary["weekdays"]:
        rate = 60 * FACTORS.get(weekday["weekday"], 1.0) / H
        node = weekday["classes"]["a"]
        exact = (
            (node["offered"], rate * DAY_S, "calls a day"),
            (node["wait_s"]["mean"], analytic.erlang_c_mean_wait_s(6, rate, 240), "mean wait"),
            (node["service_level"][0]["share"], analytic.erlang_c_service_level(6, rate, 240, 20), "within 20 s"),
        )
        for est, value, what in exact:
            lo, hi = est["ci95"]
            assert lo * (1 - SLACK) <= value <= hi * (1 + SLACK), (
                f"{weekday['weekday']} {what}: Erlang C {value:.4g} outside {est['value']:.4g} [{lo:.4g}, {hi:.4g}]"
            )
