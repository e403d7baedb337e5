"""A run from a state (queueing/core/state.py): the empty state is today's run bit for bit, the
residual handle time is the conditional distribution, a stationary start stays stationary, a long
queue drains as the fluid model says."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from queueing.core.distributions import Exponential, Gamma, Lognormal, Triangular, Uniform
from queueing.core.records import ANSWERED
from queueing.core.runner import Task, run_task
from queueing.core.scenario_file import load_scenario, parse_scenario
from queueing.core.state import InService, State, Waiting, residual_s, run_from, schedule_from, state_callers
from queueing.theory.analytic import erlang_c
from tests.support import REPO


def _same_records(a, b) -> None:
    for field in ("answered_s", "agent", "pool", "outcome"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes(), field
    assert a.callers.queued_s.tobytes() == b.callers.queued_s.tobytes()


@pytest.mark.parametrize("name", ["baseline", "dedicated-pools", "shared-pool", "surge-day", "textbook", "week"])
def test_empty_state_is_todays_run_bit_for_bit(name: str) -> None:
    scenario = load_scenario(REPO / "scenarios" / f"{name}.yaml")
    if scenario.horizon > 2 * 86_400:  # the long ones: their first two days are the same code
        scenario = scenario.model_copy(update={"horizon": 2 * 86_400.0})
    _same_records(run_task(Task(scenario, 1, keep_calls=True)).records, run_from(scenario, State(), 1))


def _ci_covers(sample: np.ndarray, value: float) -> None:
    mean, half = sample.mean(), 3.3 * sample.std(ddof=1) / math.sqrt(len(sample))  # ~99.9%
    assert abs(mean - value) < half, (mean, half, value)


def test_exponential_residual_is_memoryless() -> None:
    u = np.random.default_rng(1).random(20_000)
    dist = Exponential(dist="exponential", mean=240.0)
    left = residual_s(dist, 600.0, u)
    assert stats.kstest(left, stats.expon(scale=240.0).cdf).pvalue > 0.001
    _ci_covers(left, 240.0)


@pytest.mark.parametrize(
    ("dist", "reference"),
    [
        (Lognormal(dist="lognormal", mean=240.0, sd=120.0), None),
        (Gamma(dist="gamma", mean=240.0, sd=180.0), stats.gamma((240 / 180) ** 2, scale=180**2 / 240)),
        (Uniform(dist="uniform", low=60.0, high=600.0), stats.uniform(60.0, 540.0)),
        (Triangular(dist="triangular", low=0.0, mode=120.0, high=600.0), stats.triang(0.2, loc=0.0, scale=600.0)),
    ],
)
@pytest.mark.parametrize("elapsed", [0.0, 150.0, 400.0])
def test_residual_mean_is_the_numeric_conditional_mean(dist, reference, elapsed: float) -> None:
    if reference is None:  # lognormal by its own mean and sd
        sigma = math.sqrt(math.log1p(0.25))
        reference = stats.lognorm(s=sigma, scale=240.0 * math.exp(-(sigma**2) / 2))
    # E[X - e | X > e] = ∫_e^∞ S(x) dx / S(e)
    expected = integrate.quad(reference.sf, elapsed, np.inf)[0] / reference.sf(elapsed)
    left = residual_s(dist, elapsed, np.random.default_rng(2).random(20_000))
    assert (left >= 0).all()
    _ci_covers(left, expected)
    # and the whole law: X given X > e, against scipy's conditional cdf
    tail = reference.sf(elapsed)
    assert stats.kstest(left + elapsed, lambda x: 1 - reference.sf(x) / tail).pvalue > 0.001


MMC = """\
name: M/M/c from a state
seed: 7
horizon: 3h
classes:
  calls:
    priority: 1
    arrivals: {{rate_per_hour: {rate}}}
    handle_time: {{dist: exponential, mean: 5m}}
staffing:
  pools:
    - {{name: agents, serves: [calls], agents: {agents}}}
"""


def _queue_at(records, t: np.ndarray) -> np.ndarray:
    """Callers waiting at each time of ``t``."""
    q, left = records.callers.queued_s, records.left_queue_s
    return np.array([np.sum((q <= x) & (left > x)) for x in t])


def _stationary_state(at_s: float, agents: int, load: float, rng: np.random.Generator) -> State:
    """A state drawn from M/M/c's stationary law: n in system with P(n) ∝ a^n/n! up to c, then
    geometric with ratio a/c; elapsed times are any (exponential: memoryless)."""
    top = 400
    logp = np.array([n * math.log(load) - math.lgamma(n + 1) for n in range(agents + 1)])
    tail = logp[-1] + np.arange(1, top) * math.log(load / agents)
    p = np.exp(np.concatenate([logp, tail]) - logp.max())
    n = int(rng.choice(len(p), p=p / p.sum()))
    busy = min(n, agents)
    return State(
        at_s=at_s,
        waiting=tuple(Waiting("calls", 1.0) for _ in range(n - busy)),
        in_service=tuple(InService("calls", 60.0) for _ in range(busy)),
    )


def test_from_a_stationary_state_the_wait_chance_is_erlang_c() -> None:
    agents, rate = 8, 84.0  # a = 7 erlangs, P(wait) = 0.635
    scenario = parse_scenario(MMC.format(rate=rate, agents=agents))
    at = 3600.0
    rng = np.random.default_rng(11)
    counts: dict[str, list[tuple[int, int]]] = {"stationary": [], "empty": []}
    for r in range(1000):
        state = _stationary_state(at, agents, rate / 12, rng)
        for kind, start in (("stationary", state), ("empty", State(at_s=at))):
            rec = run_from(scenario, start, r)
            new = (rec.callers.queued_s >= at) & (rec.callers.queued_s < at + 900)
            waited = (rec.answered_s[new] - rec.callers.queued_s[new] > 1e-9) | (rec.outcome[new] != ANSWERED)
            counts[kind].append((int(waited.sum()), int(new.sum())))
    expected = erlang_c(agents, rate / 12)
    # Every arrival sees the stationary law (PASTA): the pooled share, a ratio estimator with
    # its delta-method standard error.
    waited, offered = np.array(counts["stationary"], dtype=float).T
    ratio = waited.sum() / offered.sum()
    se = (waited - ratio * offered).std(ddof=1) / (offered.mean() * math.sqrt(len(offered)))
    assert abs(ratio - expected) < 3.3 * se, (ratio, se, expected)
    waited, offered = np.array(counts["empty"], dtype=float).T
    assert waited.sum() / offered.sum() < expected - 0.3  # from an empty centre the first quarter waits far less


def test_a_long_queue_drains_as_the_fluid_model_says() -> None:
    agents, rate, q0 = 10, 60.0, 60  # c mu = 2/min, lambda = 1/min: the queue falls by 1 a minute
    scenario = parse_scenario(MMC.format(rate=rate, agents=agents))
    at = 3600.0
    state = State(
        at_s=at,
        waiting=tuple(Waiting("calls", 10.0 * k) for k in range(q0)),
        in_service=tuple(InService("calls", 30.0) for _ in range(agents)),
    )
    minutes = np.array([10.0, 20.0, 30.0, 45.0, 70.0])
    queues = np.array([_queue_at(run_from(scenario, state, r), at + 60 * minutes) for r in range(40)])
    fluid = np.maximum(0.0, q0 - (agents / 5 - rate / 60) * minutes)
    mean = queues.mean(axis=0)
    assert np.all(np.abs(mean - fluid) < 4 + 0.08 * fluid), (mean, fluid)
    assert mean[0] > 45  # the waiting callers were there: a run from empty has no queue at all


def test_waiting_callers_go_first_and_keep_their_elapsed_wait() -> None:
    scenario = parse_scenario(MMC.format(rate=60.0, agents=2))
    state = State(at_s=1800.0, waiting=(Waiting("calls", 300.0), Waiting("calls", 20.0)))
    rec = run_from(scenario, state, 0)
    first = np.argsort(rec.answered_s)[:2]
    np.testing.assert_allclose(np.sort(rec.callers.queued_s[first]), [1500.0, 1780.0])
    np.testing.assert_allclose(rec.answered_s[first], 1800.0)  # two agents free: answered at once


def test_a_busy_agent_finishes_its_call_first_and_extra_agents_count() -> None:
    scenario = parse_scenario(MMC.format(rate=600.0, agents=1))  # a call every 6 s: always a queue
    idle = State(at_s=600.0, waiting=(Waiting("calls", 5.0),))
    busy = State(at_s=600.0, waiting=idle.waiting, in_service=(InService("calls", 30.0),))
    assert np.nanmin(run_from(scenario, idle, 0).answered_s) == 600.0  # the waiting caller, at once
    assert np.nanmin(run_from(scenario, busy, 0).answered_s) > 600.0  # after the call in progress
    assert len(schedule_from(scenario, busy.with_extra("agents", 1)).agent_pool) == 2
    assert len(schedule_from(scenario, busy.with_extra("agents", -1)).agent_pool) == 0


def test_a_waiting_callers_patience_is_drawn_given_the_wait_it_has_had() -> None:
    text = MMC.format(rate=6.0, agents=1).replace(
        "handle_time: {dist: exponential, mean: 5m}",
        "handle_time: {dist: exponential, mean: 5m}\n    patience: {dist: lognormal, mean: 1m, sd: 30s}",
    )
    scenario = parse_scenario(text)
    state = State(at_s=3600.0, waiting=tuple(Waiting("calls", 180.0) for _ in range(200)))
    callers = state_callers(scenario, state, 0)
    mine = callers.queued_s < 3600.0
    left = callers.queued_s[mine] + callers.patience_s[mine] - 3600.0
    assert (left > 0).all()  # none hung up before now: they are still waiting
    sigma = math.sqrt(math.log1p(0.25))
    reference = stats.lognorm(s=sigma, scale=60.0 * math.exp(-(sigma**2) / 2))
    _ci_covers(left, integrate.quad(reference.sf, 180.0, np.inf)[0] / reference.sf(180.0))
