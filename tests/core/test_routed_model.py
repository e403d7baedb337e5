"""The routed model (transfers, redials, callbacks, languages) against the fast model where they
must agree exactly, against hand-computed callbacks, and its own bookkeeping (redials)."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import yaml

from queueing.core.draws import Callers, LaterDraws, draw_callers, draw_extras
from queueing.core.metrics import replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import (
    ABANDONED,
    ACCEPTED,
    ANSWERED,
    CALLBACK_UNANSWERED,
    DECLINED,
    NOT_OFFERED,
    CallRecords,
    call_rows,
)
from queueing.core.routed_model import RoutedReplication, simulate_routed
from queueing.core.runner import Task, run_task, simulate
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import validate_data
from queueing.core.schedule import build_schedule
from tests.support import REPO
from tests.support.callers import callers_at
from tests.support.scenarios import before_roster, shared

M = 60.0
BASELINE = (REPO / "scenarios" / "baseline.yaml").read_text(encoding="utf-8")
TWO_POOLS = before_roster(shared("two-pools"))
OFFICE_HOURS = shared("office-hours")


def scenario_with(text: str, classes: dict[str, dict[str, Any]] | None = None, **pools: dict[str, Any]) -> Scenario:
    """The scenario of ``text`` with these keys added to its classes and pools (by name)."""
    data = yaml.safe_load(text)
    for name, keys in (classes or {}).items():
        data["classes"][name].update(keys)
    for pool in data["staffing"]["pools"]:
        pool.update(pools.get(pool["name"], {}))
    return validate_data(data, "<test>")


def assert_same_records(a: CallRecords, b: CallRecords) -> None:
    """The columns of the fast model's records, equal to the last bit."""
    for name in ("cls", "category", "arrival_s", "queued_s", "handle_s", "patience_s"):
        assert np.array_equal(getattr(a.callers, name), getattr(b.callers, name), equal_nan=True), name
    for name in ("answered_s", "agent", "pool", "outcome"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert a.horizon_s == b.horizon_s


def both(fast: Scenario, routed: Scenario, replication: int = 0) -> tuple[CallRecords, CallRecords]:
    """The fast model's records of ``fast`` and the routed model's of ``routed`` (same callers)."""
    schedule = build_schedule(fast)
    callers = draw_callers(fast, replication)
    assert np.array_equal(callers.arrival_s, draw_callers(routed, replication).arrival_s)
    return simulate_replication(fast, schedule, callers), simulate_routed(routed, schedule, callers, replication)


@pytest.mark.parametrize("text", [BASELINE, TWO_POOLS, OFFICE_HOURS], ids=["baseline", "two-pools", "office-hours"])
def test_without_the_four_behaviours_the_routed_model_is_the_fast_model(text: str) -> None:
    scenario = scenario_with(text)
    for replication in (0, 1):
        fast, routed = both(scenario, scenario, replication)
        assert_same_records(fast, routed)
        assert routed.caller_id is None and routed.language is None and routed.callback is None
        assert list(call_rows(scenario, [(0, fast)])) == list(call_rows(scenario, [(0, routed)]))


def test_agents_who_all_speak_every_language_are_the_fast_model() -> None:
    scenario = scenario_with(BASELINE)
    mixes = {"911": {"languages": {"en": 0.7, "es": 0.3}}, "311": {"languages": {"en": 0.6, "es": 0.3, "fr": 0.1}}}
    spoken = scenario_with(BASELINE, mixes, **{"call-takers": {"languages": ["es", "en", "fr"]}})
    assert spoken.routed and spoken.languages() == ["en", "es", "fr"]
    fast, routed = both(scenario, spoken)
    assert_same_records(fast, routed)
    assert routed.language is not None and routed.interpreter is not None
    assert set(routed.language.tolist()) == {0, 1, 2} and not routed.interpreter.any()


@pytest.mark.parametrize(
    "keys",
    [
        {"redial": {"probability": 0.0, "delay": "5m"}},
        {"callback": {"offer_after": "1000h", "accept": 1.0}},
        {"transfer": {"to": "911", "share": 0.0, "triage_time": "20s"}},
    ],
    ids=["redial-probability-0", "callback-never-offered", "transfer-share-0"],
)
def test_a_behaviour_that_never_happens_gives_the_fast_models_records(keys: dict[str, Any]) -> None:
    scenario = scenario_with(BASELINE)
    routed_scenario = scenario_with(BASELINE, {"311": keys})
    assert routed_scenario.routed
    fast, routed = both(scenario, routed_scenario)
    assert_same_records(fast, routed)
    assert (fast.outcome == ABANDONED).sum() > 10  # there were abandoners who could have redialled
    if routed.callback is not None:
        assert (routed.callback == NOT_OFFERED).all()
    if routed.attempt is not None:
        assert (routed.attempt == 1).all()
        assert np.array_equal(np.sort(routed.caller_id), np.arange(len(fast.outcome)))


def grid_case(seed: int, more: dict[str, dict[str, Any]] | None = None) -> tuple[Scenario, Callers]:
    """A small centre where every time falls on a grid, so arrivals, call ends and the starts and
    ends of shifts and breaks tie: one to three pools with one to three shifts each, some with a
    break; callers on a 1-minute, 30-second or 0.1-second grid (several at once), handle times
    and patience in whole steps (some 0), half of them never abandoning; ``more``: keys added to
    the classes "a" and "b"."""
    rng = np.random.default_rng(seed)
    pools = []
    for p in range(int(rng.integers(1, 4))):
        serves = ["a", "b"] if p == 0 or rng.random() < 0.3 else [str(rng.choice(["a", "b"]))]
        shifts = []
        for _ in range(int(rng.integers(1, 4))):
            start = int(rng.integers(0, 8))
            shift = {
                "start": f"{start}h",
                "end": f"{start + int(rng.integers(2, 6))}h",
                "agents": int(rng.integers(1, 4)),
            }
            if rng.random() < 0.6 and shift["end"] != f"{start + 2}h":
                shift["breaks"] = [{"start": "1h", "length": f"{int(rng.choice([15, 30, 60]))}m"}]
            shifts.append(shift)
        pools.append({"name": f"p{p}", "serves": serves, "shifts": shifts})
    call = {"arrivals": {"rate_per_hour": 10}, "handle_time": {"dist": "deterministic", "value": "5m"}}
    data = {
        "name": "ties", "horizon": "12h", "classes": {"a": {"priority": 1, **call}, "b": {"priority": 2, **call}},
        "staffing": {"pools": pools},
    }  # fmt: skip
    for name, keys in (more or {}).items():
        data["classes"][name].update(keys)
    n = int(rng.integers(50, 400))
    step = float(rng.choice([60.0, 30.0, 0.1]))
    at = np.sort(rng.integers(0, int(12 * 3600 / step), n) * step)
    callers = Callers(
        cls=rng.integers(0, 2, n).astype(np.int16),
        category=np.full(n, -1, dtype=np.int16),
        arrival_s=at,
        queued_s=at.copy(),
        handle_s=rng.integers(0, 12, n) * float(rng.choice([60.0, 30.0, 0.3])),
        patience_s=np.where(rng.random(n) < 0.5, np.inf, rng.integers(0, 6, n) * 60.0),
    )
    return validate_data(data, "<test>"), callers


def test_ties_of_arrivals_call_ends_and_shift_boundaries_resolve_as_in_the_routed_model() -> None:
    """The fast model takes a handed-over call for the agent ahead of SimPy's clock; the routed
    model wakes the agent with an event at the caller's time. With every time on a grid (ties
    everywhere) both give the same records: who is answered when, by whom, who abandons."""
    for seed in range(40):
        scenario, callers = grid_case(seed)
        schedule = build_schedule(scenario)
        fast = simulate_replication(scenario, schedule, callers)
        routed = RoutedReplication(
            scenario, schedule, callers, draw_extras(scenario, 0, callers), LaterDraws(scenario, 0)
        ).run()
        assert_same_records(fast, routed)


# Callbacks and redials on the grid: a redial joins its queue at the very time a drawn caller's
# callback decision is made (some of those decisions come first, some after: the older wait
# first). Each case's records (SHA-256 of their columns) as the model made them when every
# decision had an urgent event of its own (main at 9c83e28): the decisions now made without
# events keep that order.
CALLBACKS_AND_REDIALS = {
    "a": {"redial": {"probability": 0.9, "delay": "20m"}, "callback": {"offer_after": "1m", "accept": 0.5}},
    "b": {
        "redial": {"probability": 0.9, "delay": "30m"},
        "callback": {"offer_after": "2m", "accept": 0.5, "answer": 0.7, "ring_time": "1m"},
    },
}
TIED_DECISIONS = {
    9: "8e2eead79ab46a000974446248711ae26722059ff690a743140763aac90944d4",
    26: "f7b99a05d5fdfd506b802cbdfb62adf1eda9e0678786fa2513c2d51066cf6771",
    33: "55534b451b0bbe22c3758158afdc7d747b31aa0faf7486d63c17a65180f421b1",
    36: "820364e8fc390ead1f58ca7031ec3ce12f0a05ae3c53dc97f8552c1ebfb03d4e",
    41: "0beae3341b3e11ee6736e0c8ee7b1cb56fc6a173a20fc30d8b3575df7eb5f22c",
}


def records_digest(records: CallRecords) -> str:
    """SHA-256 of every column of ``records`` (the callers' first), in hex."""
    digest = hashlib.sha256()
    columns = [getattr(records.callers, f.name) for f in dataclasses.fields(records.callers)]
    columns += [getattr(records, f.name) for f in dataclasses.fields(records) if f.name != "callers"]
    for column in columns:
        if isinstance(column, np.ndarray):
            digest.update(np.ascontiguousarray(column).tobytes())
    return digest.hexdigest()


def test_callback_decisions_keep_their_order_with_calls_joining_at_the_same_time() -> None:
    for seed, recorded in TIED_DECISIONS.items():
        scenario, callers = grid_case(seed, CALLBACKS_AND_REDIALS)
        records = simulate_routed(scenario, build_schedule(scenario), callers, 0)
        assert records.callback is not None and (records.callback == ACCEPTED).any()
        assert records.attempt is not None and (records.attempt > 1).any()
        assert records_digest(records) == recorded, seed


def test_redials_conserve_calls() -> None:
    """Every row is a first attempt (exactly the callers drawn) or the redial of an abandoned
    attempt of the same caller, once, after it hung up: offered = first attempts + redials."""
    redial = {"redial": {"probability": 0.6, "delay": {"dist": "exponential", "mean": "5m"}}}
    scenario = scenario_with(BASELINE, {"911": redial, "311": redial})
    records = run_task(Task(scenario, 0, keep_calls=True)).records
    assert records is not None and records.attempt is not None and records.caller_id is not None
    c = records.callers
    drawn = draw_callers(scenario, 0)
    first = records.attempt == 1
    assert first.sum() == len(drawn)
    order = np.argsort(records.caller_id[first], kind="stable")
    assert np.array_equal(c.arrival_s[first][order], drawn.arrival_s)
    assert np.array_equal(c.cls[first][order], drawn.cls)
    redials = np.flatnonzero(~first)
    assert len(redials) > 50
    keys = zip(records.caller_id.tolist(), records.attempt.tolist(), strict=True)
    by_attempt = {key: i for i, key in enumerate(keys)}
    assert len(by_attempt) == len(records.outcome)  # one row per caller and attempt
    for i in redials.tolist():
        before = by_attempt[(int(records.caller_id[i]), int(records.attempt[i]) - 1)]
        assert records.outcome[before] == ABANDONED
        assert c.cls[before] == c.cls[i] and c.handle_s[before] == c.handle_s[i]
        assert c.arrival_s[i] > c.queued_s[before] + c.patience_s[before]
    # the model's own count of offered calls
    measures = replication_measures(scenario, build_schedule(scenario), records)
    offered = sum(measures[("classes", k, "offered")] for k in ("911", "311"))
    closed = sum(measures[("classes", k, "closed")] for k in ("911", "311"))
    assert offered + closed == len(drawn) + len(redials)
    assert np.all(np.diff(c.queued_s) >= 0)  # rows ordered by the time they queue


def one_agent(callback: str, patience: float = math.inf, more: str = "") -> tuple[Scenario, CallRecords]:
    """One agent (0h-8h, no break), calls of exactly 10 minutes at 30 s, 1 and 2 minutes."""
    text = (
        "name: callbacks\nhorizon: 8h\nclasses:\n"
        "  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 10m}, "
        f"callback: {callback}{more}}}\n"
        "staffing:\n  pools:\n    - {name: desk, serves: [a], agents: 1}\n"
    )
    scenario = validate_data(yaml.safe_load(text), "<test>")
    callers = callers_at([0.5 * M, 1 * M, 2 * M], 10 * M)
    callers.patience_s[:] = patience
    return scenario, simulate_routed(scenario, build_schedule(scenario), callers, 0)


# A redial that never happens: the model then wakes the idle agent at the caller's time rather
# than booking it ahead, and the offer is still decided before the agent takes the call.
NEVER_REDIALS = ", redial: {probability: 0, delay: 1m}"


@pytest.mark.parametrize("more", ["", NEVER_REDIALS], ids=["booked-ahead", "woken-at-the-time"])
def test_callbacks_by_hand(more: str) -> None:
    # At 30 s the agent is free: no offer. At 1m the agent is busy to 10m30s with nobody ahead:
    # expected wait 1 x 10m / 1 agent = 10m > 5m, offered and accepted; at 2m one call is ahead:
    # 20m, offered and accepted. The agent rings each back for 30 s, then talks 10 minutes:
    # 10m30s-21m, 21m-31m30s.
    _, records = one_agent("{offer_after: 5m, accept: 1, answer: 1, ring_time: 30s}", 3 * M, more)
    assert records.callback is not None
    assert records.callback.tolist() == [NOT_OFFERED, ACCEPTED, ACCEPTED]
    assert records.outcome.tolist() == [ANSWERED] * 3  # they kept their place past their patience
    assert records.answered_s.tolist() == [0.5 * M, 10.5 * M, 21 * M]
    assert records.ended_s.tolist() == [10.5 * M, 21 * M, 31.5 * M]
    assert records.wait_s.tolist() == [0.0, 9.5 * M, 19 * M]


def test_unanswered_callbacks_free_the_agent_after_the_ring() -> None:
    scenario, records = one_agent("{offer_after: 5m, accept: 1, answer: 0, ring_time: 30s}")
    assert records.outcome.tolist() == [ANSWERED, CALLBACK_UNANSWERED, CALLBACK_UNANSWERED]
    assert records.answered_s.tolist() == [0.5 * M, 10.5 * M, 11 * M]
    assert records.ended_s.tolist() == [10.5 * M, 11 * M, 11.5 * M]
    assert records.wait_s.tolist() == [0.0, 9.5 * M, 9 * M]
    rows = list(call_rows(scenario, [(0, records)]))  # calls.csv: rung at answered_s, ended after the ring
    assert [(r[6], r[7], r[11]) for r in rows] == [
        (0.5 * M, 10.5 * M, "answered"),
        (10.5 * M, 11 * M, "callback_unanswered"),
        (11 * M, 11.5 * M, "callback_unanswered"),
    ]


def test_declined_callbacks_wait_and_abandon_as_before() -> None:
    _, records = one_agent("{offer_after: 5m, accept: 0}", patience=3 * M)
    assert records.callback is not None and records.callback.tolist() == [NOT_OFFERED, DECLINED, DECLINED]
    assert records.outcome.tolist() == [ANSWERED, ABANDONED, ABANDONED]
    assert records.wait_s.tolist() == [0.0, 3 * M, 3 * M]
    # a threshold above the predicted waits (10m, 20m): offered to the third caller only
    _, records = one_agent("{offer_after: 15m, accept: 1}")
    assert records.callback is not None and records.callback.tolist() == [NOT_OFFERED, NOT_OFFERED, ACCEPTED]


def test_the_runner_runs_the_routed_model_only_for_scenarios_that_use_it() -> None:
    """A behaviour that never happens gives every measure of the fast model's run, through the
    runner; a scenario without the four never loads the routed model."""
    fast = simulate(scenario_with(BASELINE), replications=2)
    routed = simulate(scenario_with(BASELINE, {"311": {"redial": {"probability": 0, "delay": "5m"}}}), replications=2)
    for a, b in zip(fast.replications, routed.replications, strict=True):
        assert {key: b.measures[key] for key in a.measures} == a.measures
        # (the routed run's rows may carry more columns: those of the behaviours, after these)
        assert [row[: len(fast_row)] for row, fast_row in zip(b.intervals, a.intervals, strict=True)] == list(
            a.intervals
        )
    code = (
        "import sys; from queueing.core.runner import Task, run_task; "
        "from queueing.core.scenario_file import load_scenario; "
        "run_task(Task(load_scenario('scenarios/baseline.yaml'), 0)); "
        "print('queueing.core.routed_model' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
