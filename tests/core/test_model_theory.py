"""The simulator against queueing theory: stationary cases with exact answers.

Each case simulates independent replications; the 95% Student-t interval of the simulated
mean wait (and service level, abandonment) must contain the analytic value, widened by a
small relative slack for the warm-up's bias and the horizon's edge.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from queueing.core.runner import simulate
from queueing.core.scenario_file import parse_scenario
from queueing.theory import analytic

SLACK = 0.03  # relative widening of the interval
H = 3600.0


def _scenario(
    classes: dict[str, Any],
    pools: list[dict[str, Any]],
    *,
    days: int,
    reps: int,
    seed: int,
    targets: dict[str, Any] | None = None,
) -> Any:
    doc = {
        "name": "analytic check", "seed": seed, "horizon": f"{days}d", "warmup": "3h",
        "replications": reps, "classes": classes, "staffing": {"pools": pools}, "targets": targets or {},
    }  # fmt: skip
    return parse_scenario(yaml.safe_dump(doc), "analytic.yaml")


def _cls(priority: int, rate_per_hour: float, handle: str = "4m", patience: str | None = None) -> dict[str, Any]:
    cc: dict[str, Any] = {
        "priority": priority,
        "arrivals": {"rate_per_hour": rate_per_hour},
        "handle_time": {"dist": "exponential", "mean": handle},
    }
    if patience:
        cc["patience"] = {"dist": "exponential", "mean": patience}
    return cc


def assert_covers(estimate: dict[str, Any], exact: float, what: str) -> None:
    lo, hi = estimate["ci95"]
    assert lo * (1 - SLACK) <= exact <= hi * (1 + SLACK), (
        f"{what}: analytic {exact:.4g} outside simulated {estimate['value']:.4g} [{lo:.4g}, {hi:.4g}]"
    )


def test_one_class_mmc_matches_erlang_c() -> None:
    scenario = _scenario(
        {"311": _cls(1, 60)},
        [{"name": "p", "serves": ["311"], "agents": 5}],
        days=10,
        reps=12,
        seed=11,
        targets={"311": [{"within": "20s", "share": 0.8}]},
    )
    s = simulate(scenario, jobs=2).summary["classes"]["311"]
    assert_covers(s["wait_s"]["mean"], analytic.erlang_c_mean_wait_s(5, 60 / H, 240), "M/M/5 mean wait")
    assert_covers(s["service_level"][0]["share"], analytic.erlang_c_service_level(5, 60 / H, 240, 20), "M/M/5 SL")
    assert_covers(s["wait_s"]["p90"], analytic.erlang_c_wait_quantile_s(5, 60 / H, 240, 0.9), "M/M/5 p90")


def test_two_classes_in_a_shared_pool_match_cobham() -> None:
    """The reference case: 10 agents, 4-min handle, 36 + 96 calls/hour; 911 ≈ 19.3 s, 311 ≈ 160.8 s."""
    scenario = _scenario(
        {"911": _cls(1, 36), "311": _cls(2, 96)},
        [{"name": "call-takers", "serves": ["911", "311"], "agents": 10}],
        days=20,
        reps=12,
        seed=5,
        targets={"911": [{"within": "15s", "share": 0.9}]},
    )
    summary = simulate(scenario, jobs=2).summary["classes"]
    w911, w311 = analytic.priority_mmc_mean_waits_s(10, [36 / H, 96 / H], 240)
    assert w911 == pytest.approx(19.3, abs=0.05) and w311 == pytest.approx(160.8, abs=0.05)
    assert_covers(summary["911"]["wait_s"]["mean"], w911, "911 mean wait")
    assert_covers(summary["311"]["wait_s"]["mean"], w311, "311 mean wait")
    sl911 = analytic.priority_mmc_service_levels(10, [36 / H, 96 / H], 240, 15)[0]
    assert_covers(summary["911"]["service_level"][0]["share"], sl911, "911 SL within 15 s")


def test_dedicated_pools_are_two_erlang_c_queues() -> None:
    scenario = _scenario(
        {"911": _cls(1, 36), "311": _cls(2, 96, handle="3m")},
        [{"name": "911-floor", "serves": ["911"], "agents": 4}, {"name": "311-floor", "serves": ["311"], "agents": 6}],
        days=10,
        reps=12,
        seed=9,
        targets={"911": [{"within": "15s", "share": 0.9}], "311": [{"within": "30s", "share": 0.8}]},
    )
    result = simulate(scenario, jobs=2).summary
    for name, agents, rate, handle, within in (("911", 4, 36, 240, 15), ("311", 6, 96, 180, 30)):
        s = result["classes"][name]
        assert_covers(s["wait_s"]["mean"], analytic.erlang_c_mean_wait_s(agents, rate / H, handle), f"{name} wait")
        assert_covers(
            s["service_level"][0]["share"],
            analytic.erlang_c_service_level(agents, rate / H, handle, within),
            f"{name} SL",
        )
    # Utilization is of time on duty; with constant staffing no shift ends, so there is no overtime.
    util = result["pools"]["911-floor"]["utilization"]
    assert_covers(util, 36 / H * 240 / 4, "911 pool utilization")
    for pool in result["pools"].values():
        assert pool["overtime_h"]["value"] == 0 and pool["utilization"]["ci95"][1] <= 1


def test_abandonment_matches_erlang_a() -> None:
    scenario = _scenario(
        {"311": _cls(1, 100, patience="3m")},
        [{"name": "p", "serves": ["311"], "agents": 7}],
        days=10,
        reps=12,
        seed=13,
        targets={"311": [{"within": "30s", "share": 0.8}]},
    )
    s = simulate(scenario, jobs=2).summary["classes"]["311"]
    exact = analytic.erlang_a(7, 100 / H, 240, 180)
    assert exact.p_abandon > 0.03  # the case really exercises abandonment
    assert_covers(s["abandoned"]["share"], exact.p_abandon, "abandoned share")
    assert_covers(s["wait_s"]["mean"], exact.mean_wait_answered_s, "mean wait of answered calls")
    assert_covers(s["service_level"][0]["share"], exact.service_level(30), "SL within 30 s")
