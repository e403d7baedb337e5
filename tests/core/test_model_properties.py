"""Properties of the model that must hold for any scenario (hypothesis): priorities, idle agents,
outcomes, specialists first; breaks and opening hours."""

from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from queueing.core.draws import draw_callers
from queueing.core.duty import work_segments
from queueing.core.metrics import replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ABANDONED, ANSWERED, CLOSED, UNSERVED
from queueing.core.scenario import Scenario
from queueing.core.schedule import build_schedule

HANDLES = st.sampled_from(
    [
        {"dist": "exponential", "mean": "4m"},
        {"dist": "lognormal", "mean": "3m", "sd": "2m"},
        {"dist": "deterministic", "value": "150s"},
        {"dist": "uniform", "low": "30s", "high": "6m"},
        {"dist": "gamma", "mean": "5m", "sd": "1m"},
        {"dist": "triangular", "low": "1m", "mode": "2m", "high": "9m"},
        {"dist": "empirical", "values": ["40s", "2m", "7m"]},
    ]
)


@st.composite
def scenarios(draw: st.DrawFn, max_agents: int = 12) -> Scenario:
    n_classes = draw(st.integers(1, 3))
    names = ["911", "311", "admin"][:n_classes]
    classes = {}
    for prio, name in enumerate(names, start=1):
        cc = {
            "priority": prio,
            "arrivals": {"rate_per_hour": draw(st.floats(5, 120))},
            "handle_time": draw(HANDLES),
        }
        if draw(st.booleans()):
            cc["patience"] = {"dist": "exponential", "mean": draw(st.sampled_from(["30s", "2m", "10m"]))}
        if draw(st.booleans()):
            cc["ivr_time"] = {"dist": "uniform", "low": "10s", "high": "50s"}
        classes[name] = cc
    pools = [{"name": "shared", "serves": names, "agents": draw(st.integers(1, max_agents))}]
    if n_classes > 1 and draw(st.booleans()):
        pools.append({"name": "desk", "serves": [names[-1]], "agents": draw(st.integers(1, 4))})
    return Scenario.model_validate(
        {
            "name": "property",
            "seed": draw(st.integers(0, 2**32)),
            "horizon": draw(st.sampled_from(["2h", "5h"])),
            "classes": classes,
            "staffing": {"pools": pools},
        }
    )


def _run(scenario: Scenario):
    records = simulate_replication(scenario, build_schedule(scenario), draw_callers(scenario, 0))
    return records


# IVR311_PROPERTY_EXAMPLES=400 for a deeper search than CI's default.
SETTINGS = settings(
    max_examples=int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(scenarios())
def test_as_many_agents_as_callers_nobody_waits(scenario: Scenario) -> None:
    n = len(draw_callers(scenario, 0))
    pools = [p.model_copy(update={"agents": max(n, 1)}) for p in scenario.staffing.pools]
    roomy = scenario.model_copy(update={"staffing": scenario.staffing.model_copy(update={"pools": pools})})
    rec = _run(roomy)
    reached = rec.callers.queued_s < roomy.horizon
    assert np.all(rec.outcome[reached] == ANSWERED)
    assert np.all(rec.wait_s[reached] == 0)
    assert np.all(rec.outcome[~reached] == UNSERVED)


@SETTINGS
@given(scenarios(max_agents=6))
def test_no_lower_priority_call_answered_while_a_higher_one_waits(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    left = rec.left_queue_s
    for p, pool in enumerate(scenario.staffing.pools):
        served = sorted(scenario.class_names().index(n) for n in pool.serves)
        for k in served[1:]:
            answered_at = rec.answered_s[(rec.pool == p) & (c.cls == k)]
            for higher in (h for h in served if h < k):
                m = c.cls == higher
                q, lq = c.queued_s[m], left[m]
                # A higher-priority caller waiting strictly around the moment of that answer?
                waiting = (q[None, :] < answered_at[:, None] - 1e-9) & (lq[None, :] > answered_at[:, None] + 1e-9)
                assert not waiting.any()


@SETTINGS
@given(scenarios(max_agents=6))
def test_no_agent_idles_while_a_call_it_serves_waits(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    answered = rec.outcome == ANSWERED
    busy_from = rec.answered_s[answered]
    busy_to = busy_from + c.handle_s[answered]
    busy_pool = rec.pool[answered]
    waited = (rec.wait_s > 1e-9) & (rec.outcome != UNSERVED)
    for i in np.flatnonzero(waited):
        t = c.queued_s[i] + rec.wait_s[i] / 2  # a moment in the middle of this caller's wait
        name = scenario.class_names()[c.cls[i]]
        for p, pool in enumerate(scenario.staffing.pools):
            if name in pool.serves:
                busy = np.count_nonzero((busy_pool == p) & (busy_from <= t) & (busy_to > t))
                assert busy == pool.agents, (i, t, pool.name)


@SETTINGS
@given(scenarios())
def test_outcomes_are_consistent(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    ans = rec.outcome == ANSWERED
    assert np.all(rec.wait_s >= 0)
    assert np.all(rec.wait_s[ans] <= c.patience_s[ans])
    gone = rec.outcome == ABANDONED
    np.testing.assert_allclose(rec.wait_s[gone], c.patience_s[gone])
    assert np.all((rec.agent >= 0) == ans)
    # FIFO within a class and pool set: callers of one class are answered in the order they queued.
    for k in range(len(scenario.classes)):
        m = ans & (c.cls == k)
        assert np.all(np.diff(rec.answered_s[m]) >= -1e-9)


@SETTINGS
@given(scenarios(max_agents=8))
def test_an_idle_specialist_answers_before_a_generalist(scenario: Scenario) -> None:
    """When a pool serving only the caller's class has an idle agent, that pool answers the call."""
    pools = scenario.staffing.pools
    assume(len(pools) >= 2)
    rec = _run(scenario)
    c = rec.callers
    desk = 1
    k = scenario.class_names().index(pools[desk].serves[0])
    answered = rec.outcome == ANSWERED
    desk_from = rec.answered_s[answered & (rec.pool == desk)]
    desk_to = desk_from + c.handle_s[answered & (rec.pool == desk)]
    for i in np.flatnonzero(answered & (c.cls == k) & (rec.pool == 0)):
        t = rec.answered_s[i]
        busy = np.count_nonzero((desk_from < t) & (desk_to > t))  # desk agents on a call at that moment
        assert busy == pools[desk].agents, (i, t, busy)


# --- breaks and opening hours ---------------------------------------------------------------

H = 3600.0
M = 60.0
HALF_HOURS = st.integers(0, 47).map(lambda k: k * 30 * M)


@st.composite
def shifts_in(draw: st.DrawFn, open_s: float, close_s: float) -> dict:
    """A shift within [open_s, close_s), with up to three breaks inside it."""
    span = close_s - open_s
    start = open_s + draw(st.integers(0, int(span // (30 * M)) - 1)) * 30 * M
    end = start + draw(st.integers(1, int((close_s - start) // (30 * M)))) * 30 * M
    breaks = []
    at = 0.0
    for _ in range(draw(st.integers(0, 3))):
        gap = draw(st.sampled_from([0.0, 10 * M, 45 * M, 2 * H]))
        length = draw(st.sampled_from([5 * M, 15 * M, 30 * M, 1 * H]))
        if at + gap + length > end - start:
            break
        breaks.append({"start": at + gap, "length": length})
        at += gap + length
    shift = {"start": start % 86400 if start >= 86400 else start, "end": end, "agents": draw(st.integers(1, 3))}
    if start >= 86400:
        shift["end"] = end - 86400
    if breaks:
        shift["breaks"] = breaks
    return shift


@st.composite
def scenarios_with_hours(draw: st.DrawFn) -> Scenario:
    names = ["911", "311"][: draw(st.integers(1, 2))]
    classes = {}
    for prio, name in enumerate(names, start=1):
        cc: dict = {
            "priority": prio,
            "arrivals": {"rate_per_hour": draw(st.floats(5, 60))},
            "handle_time": {"dist": draw(st.sampled_from(["exponential", "deterministic"])), "mean": "6m"},
        }
        if cc["handle_time"]["dist"] == "deterministic":
            cc["handle_time"] = {"dist": "deterministic", "value": "6m"}
        if draw(st.booleans()):
            cc["patience"] = {"dist": "exponential", "mean": "5m"}
        if draw(st.booleans()):
            cc["ivr_time"] = {"dist": "uniform", "low": "10s", "high": "50s"}
        classes[name] = cc
    pools = []
    for p in range(draw(st.integers(1, 2))):
        serves = names if p == 0 else [names[-1]]
        pool: dict = {"name": f"pool{p}", "serves": serves}
        if draw(st.booleans()):
            open_s = draw(HALF_HOURS)
            close_s = open_s + draw(st.integers(4, 48)) * 30 * M
            pool["hours"] = {"open": open_s, "close": close_s}
        else:
            open_s, close_s = 0.0, 86400.0
        if draw(st.booleans()) and "hours" in pool:
            pool["agents"] = draw(st.integers(1, 3))
        else:
            pool["shifts"] = draw(st.lists(shifts_in(open_s, close_s), min_size=1, max_size=3))
        pools.append(pool)
    return Scenario.model_validate(
        {
            "name": "property",
            "seed": draw(st.integers(0, 2**32)),
            "horizon": draw(st.sampled_from(["1d", "2d"])),
            "classes": classes,
            "staffing": {"pools": pools},
        }
    )


def _agents(scenario: Scenario) -> list[tuple[int, list[tuple[float, float, float]]]]:
    """(pool, work segments) of every agent, numbered as the model numbers them."""
    out = []
    for p, pool in enumerate(scenario.staffing.pools):
        for shift in pool.shift_list():
            out.extend([(p, work_segments(shift, scenario.horizon))] * shift.agents)
    return out


@SETTINGS
@given(scenarios_with_hours())
def test_no_agent_answers_a_call_during_its_break_or_off_duty(scenario: Scenario) -> None:
    rec = _run(scenario)
    answered = rec.outcome == ANSWERED
    eps = 1e-6
    agents = _agents(scenario)
    # The schedule the model ran (and metrics read) numbers agents as this test does on its own.
    schedule = build_schedule(scenario)
    assert [(c.pool, list(c.work_segments_s)) for c in schedule.crews for _ in c.agent_numbers] == agents
    for aid, (p, segments) in enumerate(agents):
        mine = np.flatnonzero(answered & (rec.agent == aid))
        assert np.all(rec.pool[mine] == p)
        starts = rec.answered_s[mine]
        ends = starts + rec.callers.handle_s[mine]
        ok = np.zeros(len(starts), dtype=bool)
        free_from = 0.0  # when the agent's last break ended
        for on, off, rest in segments:
            ok |= (starts >= max(on, free_from) - eps) & (starts < off)
            if rest:
                # The break starts when the call in progress at `off` (or the break before) ends.
                running = ends[(starts < off) & (ends > off)]
                begin = max(off, free_from, *running.tolist())
                free_from = begin + rest
                during = (starts > begin + eps) & (starts < free_from - eps)
                assert not during.any(), (aid, begin, free_from, starts[during])
        # Every answer falls in a span of work, after the break before it.
        assert ok.all(), (aid, starts[~ok])
    measures = replication_measures(scenario, schedule, rec)
    for pool in scenario.staffing.pools:
        utilization = measures[("pools", pool.name, "utilization")]
        assert math.isnan(utilization) or 0 <= utilization <= 1 + 1e-12, (pool.name, utilization)


@SETTINGS
@given(scenarios_with_hours())
def test_pools_answer_only_in_their_hours_and_closed_means_no_pool_open(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    pools = scenario.staffing.pools
    for i in np.flatnonzero(rec.outcome == ANSWERED):
        assert pools[rec.pool[i]].is_open(rec.answered_s[i] - 1e-6) or pools[rec.pool[i]].is_open(rec.answered_s[i])
    names = scenario.class_names()
    for i in range(len(c)):
        serving_open = any(p.is_open(c.arrival_s[i]) for p in pools if names[c.cls[i]] in p.serves)
        assert (rec.outcome[i] == CLOSED) == (not serving_open), i
    closed = rec.outcome == CLOSED
    assert np.all(rec.agent[closed] == -1) and np.all(rec.wait_s[closed] == 0)
