"""The routing policy (queueing/core/routing.py) and the scenario keys it reads: each bad key one
line naming file, line and field; interpreters and diverted callers call by call."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import yaml

from queueing.core.draws import LaterDraws, draw_callers, draw_extras
from queueing.core.records import ANSWERED, OUTCOMES
from queueing.core.routed_model import RoutedReplication, simulate_routed
from queueing.core.routing import (
    DIVERTED,
    NOT_TRANSFERRED,
    TRANSFERRED,
    Lane,
    Router,
    calls_waiting,
    expected_wait_s,
    redials,
    transfer_kind,
    transfer_kinds,
)
from queueing.core.scenario import Redial, Transfer
from queueing.core.scenario_file import parse_scenario, validate_data
from queueing.core.schedule import build_schedule
from queueing.errors import ScenarioError
from tests.support.callers import callers_at
from tests.support.scenarios import before_roster, shared

BASE = before_roster(shared("two-pools"))
CLASS_911 = "    patience: {dist: exponential, mean: 3m}\n"  # the last line of class 911 (line 14)
POOL = "agents: 3}"  # the call-takers (line 22)
M = 60.0


TRANSFER = "  transfer: {triage_time: 20s, to: "
SHARE = "transfer.share: "


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (TRANSFER + '"411", share: 0.2}', "transfer.to: unknown class '411' (classes: '911', '311')"),
        (TRANSFER + '"911", share: 0.2}', "transfer.to: a class cannot transfer to itself"),
        (TRANSFER + '"311", share: 1.2}', SHARE + "must be a share from 0 to 1 (or 24 of them, one per hour), got 1.2"),
        (TRANSFER + '"311", share: [0.1, 0.2]}', SHARE + "needs one share or 24 hourly shares (00:00 to 23:00), got 2"),
        (TRANSFER + '"311", share: 0.1, diverted: 2}', "transfer.diverted: must be <= 1"),
        ("  languages: {en: 0.7, es: 0.2}", "languages: shares must add up to 1, they add up to 0.9"),
        ("  redial: {probability: -0.1, delay: 5m}", "redial.probability: must be >= 0"),
        ("  callback: {offer_after: 5m, accept: 2}", "callback.accept: must be <= 1"),
        ("  interpreter: 2m", "interpreter: applies to callers' languages: give languages too"),
    ],
)  # fmt: skip
def test_bad_routing_keys_are_one_line_each(new: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE.replace(CLASS_911, CLASS_911 + "  " + new + "\n", 1), "<s>")
    assert str(info.value) == f"<s>:15: classes.911.{expected}"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("[fr]", "languages.0: no class has languages (give the classes' callers languages first)"),
        ("[en, en]", "languages: lists a language twice"),
    ],
)
def test_bad_pool_languages_are_one_line_each(new: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE.replace(POOL, f"agents: 3, languages: {new}}}"), "<s>")
    assert str(info.value) == f"<s>:22: staffing.pools.0.{expected}"


def test_a_pool_language_no_caller_speaks_is_named_with_those_they_do() -> None:
    text = BASE.replace(CLASS_911, CLASS_911 + "    languages: {en: 0.9, es: 0.1}\n").replace(
        POOL, "agents: 3, languages: [en, fr]}"
    )
    with pytest.raises(
        ScenarioError, match=r"languages.1: no class has callers speaking 'fr' \(callers' languages: en, es\)"
    ):
        parse_scenario(text, "<s>")


def test_defaults_and_hourly_shares() -> None:
    scenario = parse_scenario(BASE)
    assert not scenario.routed and scenario.languages() == []
    hourly = [0.0] * 12 + [0.5] * 12
    text = BASE.replace(CLASS_911, CLASS_911 + f'    transfer: {{to: "311", share: {hourly}, triage_time: 20s}}\n')
    transfer = parse_scenario(text).classes["911"].transfer
    assert transfer is not None and transfer.triage_time.mean_s == 20.0 and transfer.diverted == 0.0
    assert (transfer.share_at(11.9 * 3600), transfer.share_at(12 * 3600), transfer.share_at(36.5 * 3600)) == (
        0,
        0.5,
        0.5,
    )


def test_the_policy_functions() -> None:
    transfer = Transfer(to="311", share=0.4, triage_time={"dist": "deterministic", "value": 20}, diverted=0.25)
    # diverted: below 0.4 x 0.25 = 0.1; transferred: below 0.4
    kinds = [transfer_kind(transfer, u, 0.0) for u in (0.05, 0.1, 0.39, 0.4, 0.9)]
    assert kinds == [DIVERTED, TRANSFERRED, TRANSFERRED, NOT_TRANSFERRED, NOT_TRANSFERRED]
    assert transfer_kind(None, 0.0, 0.0) == NOT_TRANSFERRED
    hourly = Transfer(to="311", share=[0.1] * 12 + [0.6] * 12, triage_time=20, diverted=0.5)
    u, at = np.linspace(0, 0.99, 100), np.linspace(0, 2 * 86400, 100)
    for one in (transfer, hourly):  # the model's vectorised rule is this one
        assert transfer_kinds(one, u, at).tolist() == [transfer_kind(one, a, b) for a, b in zip(u, at, strict=True)]
    assert expected_wait_s(ahead=2, free=3, on_duty=5, mean_handle_s=240) == 0.0
    assert expected_wait_s(ahead=4, free=1, on_duty=4, mean_handle_s=240) == 4 * 240 / 4
    assert expected_wait_s(ahead=0, free=0, on_duty=0, mean_handle_s=240) == math.inf
    assert redials(Redial(probability=0.3, delay=60), 0.29) and not redials(Redial(probability=0.3, delay=60), 0.3)
    assert not redials(None, 0.0)


ONE_DESK = """\
name: one desk
horizon: 4h
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 10m}}
staffing:
  pools:
    - {name: desk, serves: [a], agents: 1}
"""


def test_a_lane_merges_the_drawn_calls_with_those_made_during_the_run() -> None:
    scenario = validate_data(yaml.safe_load(ONE_DESK), "<test>")
    router = Router(scenario, build_schedule(scenario))
    lane = Lane([0, 1, 2], [10.0, 20.0, 30.0])
    lane.push(7, 15.0)
    lane.push(8, 40.0)
    lane.push(9, 20.0)  # ties the drawn call 1: behind it
    plan = router.plan(0, [[lane]], {0})
    deadline = [math.inf] * 10
    deadline[2] = 29.0  # gone before an agent reaches it
    gone: list[int] = []
    assert router.next_call(plan, 5.0, deadline, gone.append) == -1
    taken = [router.next_call(plan, now, deadline, gone.append) for now in (12.0, 25.0, 25.0, 25.0, 35.0, 50.0, 50.0)]
    assert taken == [0, 7, 1, 9, -1, 8, -1]
    assert gone == [2]
    assert calls_waiting([lane], 100.0, deadline, 5) == 0


def test_one_lane_for_every_language_takes_the_calls_in_the_order_of_a_lane_each() -> None:
    data = yaml.safe_load(ONE_DESK)
    data["classes"]["a"]["languages"] = {"en": 0.5, "es": 0.5}  # the desk speaks both
    scenario = validate_data(data, "<test>")
    router = Router(scenario, build_schedule(scenario))
    assert router.one_lane(0, {1, 2})
    queued, rank = [10.0, 10.0, 20.0, 20.0, 30.0, 40.0], [2, 1, 1, 2, 1, 2]
    made = [(6, 20.0, 1), (7, 10.0, 2), (8, 30.0, 2), (9, 20.0, 1)]  # (leg, queued, rank)
    by_language = [Lane([], [], 0)] + [
        Lane([i for i in range(6) if rank[i] == r], [queued[i] for i in range(6) if rank[i] == r], r) for r in (1, 2)
    ]
    order = sorted(range(6), key=lambda i: (queued[i], rank[i]))
    one = Lane(order, [queued[i] for i in order], 0, [rank[i] for i in order])
    for leg, q, r in made:
        by_language[r].push(leg, q, r)
        one.push(leg, q, r)
    deadline = [math.inf] * 10
    deadline[0] = 5.0  # gone when the agent comes
    taken: dict[str, list[int]] = {}
    for name, lanes in (("by language", by_language), ("one", [one] * 3)):
        plan, gone = router.plan(0, [lanes], {1, 2}), []
        taken[name] = [router.next_call(plan, 25.0, deadline, gone.append) for _ in range(7)] + gone
        taken[name] += [leg for r in (1, 2) for leg in lanes[r].take_rest(r)]
    # 10 s: 1 (en), then 0 (es, gone) and the made 7 (es); 20 s: 2 and the made 6 and 9 (en) before 3
    # (es); left: 4 (en), 5 and the made 8 (es)
    assert taken["by language"] == taken["one"] == [1, 7, 2, 6, 9, 3, -1, 0, 4, 5, 8]


def test_calls_waiting_count_up_to_a_limit() -> None:
    deadline = [math.inf, 5.0, math.inf, math.inf, math.inf, math.inf, 60.0, math.inf]
    drawn = Lane([0, 1, 2, 3], [1.0, 2.0, 3.0, 40.0])  # 1 gave up at 5 s, 3 queues at 40 s
    made = Lane([], [])
    made.push(6, 4.0)
    made.push(7, 50.0)
    lanes = [drawn, made]
    assert calls_waiting(lanes, 10.0, deadline, 100) == 3  # 0, 2 and 6
    assert calls_waiting(lanes, 45.0, deadline, 100) == 4  # and 3
    assert calls_waiting(lanes, 70.0, deadline, 100) == 4  # 6 gave up at 60 s, 7 came at 50 s
    assert calls_waiting(lanes, 70.0, deadline, 2) == 2
    drawn.pop(False)
    assert calls_waiting(lanes, 10.0, deadline, 100) == 2


LANGUAGE_DESK = """\
name: interpreters
horizon: 4h
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 10m},
      languages: {en: 0.5, es: 0.5}, interpreter: 5m}
staffing:
  pools:
    - {name: english, serves: [a], agents: 1, languages: [en]}
    - {name: spanish, serves: [a], shifts: [{start: 0h, end: 1h, agents: 1}], languages: [es]}
"""


def test_an_interpreter_line_when_no_speaker_is_on_duty() -> None:
    """The Spanish agent (on duty 0h-1h) takes the Spanish callers of 25m, 30m (who waits for it,
    though the English agent is free) and 52m; the one of 55m waits until the Spanish shift ends
    at 1h, when the idle English agent takes it with an interpreter (15 minutes), as the one of
    70m; the English caller of 80m then waits for the English agent."""
    scenario = validate_data(yaml.safe_load(LANGUAGE_DESK), "<test>")
    callers = callers_at([25 * M, 30 * M, 52 * M, 55 * M, 70 * M, 80 * M], 10 * M)
    extras = dataclasses.replace(draw_extras(scenario, 0, callers), language=np.array([1, 1, 1, 1, 1, 0]))
    schedule = build_schedule(scenario)
    records = RoutedReplication(scenario, schedule, callers, extras, LaterDraws(scenario, 0)).run()
    assert records.answered_s.tolist() == [25 * M, 35 * M, 52 * M, 60 * M, 75 * M, 90 * M]
    assert records.agent.tolist() == [1, 1, 1, 0, 0, 0]  # English agent 0, Spanish agent 1
    assert records.interpreter is not None
    assert records.interpreter.tolist() == [False, False, False, True, True, False]
    assert records.callers.handle_s.tolist() == [10 * M, 10 * M, 10 * M, 15 * M, 15 * M, 10 * M]
    # without an interpreter the Spanish callers after 1h wait for a speaker who never comes
    plain = validate_data(yaml.safe_load(LANGUAGE_DESK.replace(", interpreter: 5m", "")), "<test>")
    records = RoutedReplication(plain, schedule, callers, extras, LaterDraws(plain, 0)).run()
    assert [OUTCOMES[o] for o in records.outcome] == ["answered"] * 3 + ["unserved"] * 2 + ["answered"]
    assert records.answered_s[-1] == 80 * M


def test_diverted_callers_are_the_transferred_ones_dialling_the_other_class() -> None:
    """The same callers are non-emergencies whatever the campaign: with everyone diverted, each
    arrives as a 311 call (with its 311 handle time, after the 311 IVR), and no 911 call transfers."""
    keys = '    transfer: {to: "311", share: 0.3, triage_time: 20s, diverted: DIVERTED}\n'
    runs = {}
    for diverted in (0.0, 1.0):
        text = BASE.replace(CLASS_911, CLASS_911 + keys.replace("DIVERTED", str(diverted)))
        scenario = parse_scenario(text)
        callers = draw_callers(scenario, 0)
        runs[diverted] = (callers, simulate_routed(scenario, build_schedule(scenario), callers, 0))
    _, transferred = runs[0.0]
    callers, diverted = runs[1.0]
    assert transferred.transferred is not None and diverted.diverted is not None and diverted.transferred is not None
    assert diverted.caller_id is not None and transferred.caller_id is not None
    assert not diverted.transferred.any() and not (diverted.transferred_from >= 0).any()  # type: ignore[operator]
    moved = set(diverted.caller_id[diverted.diverted].tolist())
    scenario = parse_scenario(BASE.replace(CLASS_911, CLASS_911 + keys.replace("DIVERTED", "0")))
    extras = draw_extras(scenario, 0, callers)
    assert moved == set(np.flatnonzero((extras.transfer_u < 0.3) & (callers.cls == 0)).tolist()) and len(moved) > 20
    assert set(transferred.caller_id[transferred.transferred].tolist()) <= moved
    mine = np.flatnonzero(diverted.diverted)
    caller = diverted.caller_id[mine]
    assert (diverted.callers.cls[mine] == 1).all()
    assert np.array_equal(diverted.callers.arrival_s[mine], callers.arrival_s[caller])
    assert np.array_equal(diverted.callers.queued_s[mine], callers.arrival_s[caller] + extras.to_ivr_s[caller])
    assert np.array_equal(diverted.callers.patience_s[mine], extras.to_patience_s[caller])
    answered = diverted.outcome[mine] == ANSWERED
    assert np.array_equal(diverted.callers.handle_s[mine][answered], extras.to_handle_s[caller][answered])
    # the transferred legs of the first run had those handle times too
    legs = np.flatnonzero(transferred.transferred_from == 0)  # type: ignore[operator]
    talked = legs[transferred.outcome[legs] == ANSWERED]
    assert np.array_equal(transferred.callers.handle_s[talked], extras.to_handle_s[transferred.caller_id[talked]])
