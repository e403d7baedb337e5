"""Validation of queueing/analytic.py.

Three kinds of evidence, none of them the implementation checking itself:
* published table / textbook values (Erlang B tables, Erlang C worked examples, textbook
  priority-queue examples) and independent exact computations (rational arithmetic,
  Poisson-distribution identities, M/M/1 closed forms);
* limits and identities (one class -> Erlang C, patience -> inf -> Erlang C, patience -> 0 ->
  Erlang B, Little's law for abandonment, Kleinrock's conservation law, moments of the
  distributions equal to the separately computed means);
* Ciw simulations of Erlang A and of a two-class non-preemptive priority queue, compared
  within 95% confidence intervals over independent replications (never pinned decimals).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, stats

from queueing.core.statistics import estimate
from queueing.theory.analytic import (
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_mean_wait_s,
    erlang_c_service_level,
    erlang_c_wait_quantile_s,
    offered_load_erlangs,
    priority_mmc_mean_waits_s,
    priority_mmc_service_levels,
    priority_mmc_wait_quantiles_s,
)

# ----------------------------------------------------------------------------- helpers


def _erlang_b_exact(c: int, a: Fraction) -> Fraction:
    """Erlang B from its definition a^c/c! / sum_{k<=c} a^k/k!, in exact rationals."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def _erlang_c_exact(c: int, a: Fraction) -> Fraction:
    """Erlang C from its definition, in exact rationals (a < c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def _ci95(samples: list[float]) -> tuple[float, float]:
    lo, hi = estimate(samples)["ci95"]
    return lo, hi


def _assert_in_ci(name: str, samples: list[float], expected: float, slack: float = 0.01) -> None:
    """Expected value inside the 95% t-interval, widened by a small relative slack for the
    finite-horizon bias of each replication."""
    lo, hi = _ci95(samples)
    pad = slack * abs(expected)
    assert lo - pad <= expected <= hi + pad, (
        f"{name}: analytic {expected:.6g} outside 95% CI [{lo:.6g}, {hi:.6g}]"
        f" (mean {np.mean(samples):.6g}, n={len(samples)})"
    )


# ----------------------------------------------------------------------------- Erlang B


@pytest.mark.parametrize(
    ("agents", "load", "blocking"),
    [
        # Classic Erlang B traffic tables (load carried at 1% and 2% grade of service).
        (10, 4.46, 0.01),
        (10, 5.08, 0.02),
        (20, 12.03, 0.01),
        (20, 13.18, 0.02),
        (100, 84.06, 0.01),
        (100, 87.97, 0.02),
    ],
)
def test_erlang_b_matches_published_tables(agents: int, load: float, blocking: float) -> None:
    # Tables print the load to 2 decimals, so the blocking matches to about 0.5%.
    assert erlang_b(agents, load) == pytest.approx(blocking, rel=5e-3)


@pytest.mark.parametrize("agents", [0, 1, 2, 5, 17, 40])
@pytest.mark.parametrize("load", ["0", "1/3", "2.5", "9", "55"])
def test_erlang_b_equals_exact_rational(agents: int, load: str) -> None:
    exact = _erlang_b_exact(agents, Fraction(load))
    assert erlang_b(agents, float(Fraction(load))) == pytest.approx(float(exact), rel=1e-12, abs=0)


@pytest.mark.parametrize(("agents", "load"), [(500, 480.0), (2000, 1950.0), (2000, 2300.0)])
def test_erlang_b_large_pools_match_poisson_identity(agents: int, load: float) -> None:
    # B(c, a) = P(X = c) / P(X <= c) for X ~ Poisson(a): an independent route.
    expected = stats.poisson.pmf(agents, load) / stats.poisson.cdf(agents, load)
    assert erlang_b(agents, load) == pytest.approx(expected, rel=1e-9)


# ----------------------------------------------------------------------------- Erlang C


def test_erlang_c_published_example() -> None:
    # The standard call-centre worked example: 10 erlangs offered to 11 agents
    # (100 calls per 30 min, 3-min handle) waits with probability 68.21%.
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    # Wolfram's ErlangC application: 30 calls/h, 5-min handle; at least 90% not delayed
    # needs 6 agents (5 give 13.0% delayed, 6 give 4.7%).
    load = offered_load_erlangs(30 / 3600, 300)
    assert erlang_c(5, load) > 0.10 > erlang_c(6, load)


@pytest.mark.parametrize("agents", [1, 2, 3, 8, 25])
@pytest.mark.parametrize("utilisation", ["1/10", "1/2", "4/5", "99/100"])
def test_erlang_c_equals_exact_rational(agents: int, utilisation: str) -> None:
    a = Fraction(utilisation) * agents
    assert erlang_c(agents, float(a)) == pytest.approx(float(_erlang_c_exact(agents, a)), rel=1e-12)


def test_erlang_c_small_pools_closed_forms() -> None:
    for rho in (0.1, 0.5, 0.9):
        assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-14)  # M/M/1
        assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-13)  # M/M/2


def test_erlang_c_saturated_and_idle() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 12.5) == 1.0
    assert erlang_c(10, 0.0) == 0.0
    assert erlang_c_mean_wait_s(10, 10 / 240, 240) == math.inf
    assert erlang_c_service_level(10, 11 / 240, 240, 30) == 0.0
    assert erlang_c_wait_quantile_s(10, 11 / 240, 240, 0.5) == math.inf


def test_erlang_c_large_pool_is_finite_and_consistent() -> None:
    c, lam, h = 2000, 1950 / 240, 240.0
    p = erlang_c(c, lam * h)
    b = stats.poisson.pmf(c, lam * h) / stats.poisson.cdf(c, lam * h)
    assert p == pytest.approx(c * b / (c - lam * h * (1 - b)), rel=1e-9)
    assert 0.0 < p < 1.0
    assert erlang_c_mean_wait_s(c, lam, h) == pytest.approx(p / (c / h - lam), rel=1e-12)


def test_mm1_closed_forms() -> None:
    lam, h = 0.8, 1.0  # mu = 1
    assert erlang_c_mean_wait_s(1, lam, h) == pytest.approx(lam / (1 - lam), rel=1e-13)
    for t in (0.0, 0.5, 3.0):
        assert erlang_c_service_level(1, lam, h, t) == pytest.approx(1 - lam * math.exp(-(1 - lam) * t), rel=1e-13)


def test_erlang_c_quantile_inverts_service_level() -> None:
    c, lam, h = 11, 10 / 180, 180.0
    p_wait = erlang_c(c, lam * h)
    assert erlang_c_wait_quantile_s(c, lam, h, 0.9 * (1 - p_wait)) == 0.0
    for q in (0.5, 0.8, 0.95, 0.999):
        t = erlang_c_wait_quantile_s(c, lam, h, q)
        assert erlang_c_service_level(c, lam, h, t) == pytest.approx(q, rel=1e-12)


def test_erlang_c_mean_is_integral_of_tail() -> None:
    c, lam, h = 7, 1 / 40, 240.0
    tail, _ = integrate.quad(lambda t: 1 - erlang_c_service_level(c, lam, h, t), 0, np.inf)
    assert tail == pytest.approx(erlang_c_mean_wait_s(c, lam, h), rel=1e-8)


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1, 1.0),
        lambda: erlang_b(2.5, 1.0),  # type: ignore[arg-type]
        lambda: erlang_c(0, 1.0),
        lambda: erlang_c(True, 0.5),
        lambda: erlang_c(3, -1.0),
        lambda: erlang_c(3, math.nan),
        lambda: erlang_c_mean_wait_s(3, 0.1, 0.0),
        lambda: erlang_c_service_level(3, 0.1, 10.0, -1.0),
        lambda: erlang_c_wait_quantile_s(3, 0.1, 10.0, 1.0),
        lambda: offered_load_erlangs(-0.1, 10.0),
        lambda: priority_mmc_mean_waits_s(3, [], 10.0),
        lambda: priority_mmc_mean_waits_s(3, [0.1, -0.1], 10.0),
        lambda: erlang_a(3, 0.1, 10.0, 0.0),
        lambda: erlang_a(3, 0.1, 10.0, -5.0),
    ],
)
def test_bad_arguments_raise_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# ----------------------------------------------------------------------------- priority M/M/c


def test_cobham_textbook_multiserver_example() -> None:
    # Stevenson, Operations Management (waiting-line supplement): 2 servers, mu = 5/h,
    # three classes of 3 calls/h each. Lq = 7.674 from the table, so A = 11.728 and
    # W1 = 0.1218 h, W2 = 0.3045 h, W3 = 2.132 h.
    waits_h = priority_mmc_mean_waits_s(2, [3.0, 3.0, 3.0], 1 / 5)
    assert waits_h == pytest.approx([0.1218, 0.3045, 2.132], rel=1e-3)


def test_cobham_textbook_single_server_example() -> None:
    # Hopp & Spearman-style M/M/1 example (Prabhu 1981, Table 4.4): lambda_H = 1/h,
    # lambda_L = 9/h, mu = 12/h -> time in system 9.545 min (high) and 32.27 min (low).
    waits_min = [w * 60 for w in priority_mmc_mean_waits_s(1, [1.0, 9.0], 1 / 12)]
    assert [w + 5.0 for w in waits_min] == pytest.approx([9.545, 32.27], rel=2e-4)


def test_cobham_design_case() -> None:
    # The reference case: 10 agents, 4-min handle, 36 + 96 calls/h -> 19.3 s and 160.8 s.
    w911, w311 = priority_mmc_mean_waits_s(10, [36 / 3600, 96 / 3600], 240.0)
    assert round(w911, 1) == 19.3
    assert round(w311, 1) == 160.8


@pytest.mark.parametrize(("agents", "lam", "h"), [(1, 0.7, 1.0), (5, 0.02, 200.0), (200, 0.75, 240.0)])
def test_one_class_is_erlang_c(agents: int, lam: float, h: float) -> None:
    (w,) = priority_mmc_mean_waits_s(agents, [lam], h)
    assert w == pytest.approx(erlang_c_mean_wait_s(agents, lam, h), rel=1e-13)
    for t in (0.0, 5.0, 60.0):
        (sl,) = priority_mmc_service_levels(agents, [lam], h, t)
        assert sl == pytest.approx(erlang_c_service_level(agents, lam, h, t), rel=1e-12)


def test_priority_mm1_closed_form() -> None:
    # Non-preemptive priority M/M/1 (Kleinrock, Queueing Systems vol. 2, 3.6):
    # W_k = (rho / mu) / ((1 - sigma_{k-1})(1 - sigma_k)), residual work rho/mu.
    mu, rates = 2.0, [0.3, 0.5, 0.6]
    rho = sum(rates) / mu
    sig = np.cumsum([0.0, *rates]) / mu
    expected = [rho / mu / ((1 - sig[k]) * (1 - sig[k + 1])) for k in range(3)]
    assert priority_mmc_mean_waits_s(1, rates, 1 / mu) == pytest.approx(expected, rel=1e-13)
    # Top class given a wait is exponential(mu - lambda_1): P(W1 > t) = rho exp(-(mu - l1) t).
    for t in (0.1, 1.0, 4.0):
        sl1 = priority_mmc_service_levels(1, rates, 1 / mu, t)[0]
        assert sl1 == pytest.approx(1 - rho * math.exp(-(mu - rates[0]) * t), rel=1e-13)


@pytest.mark.parametrize(
    ("agents", "rates", "h"),
    [(10, [36 / 3600, 96 / 3600], 240.0), (3, [0.2, 0.1, 0.25, 0.15], 4.0), (50, [0.1, 0.08], 240.0)],
)
def test_priority_conservation_law(agents: int, rates: list[float], h: float) -> None:
    # Work-conserving, same handle-time law for all classes: the rate-weighted mean wait
    # equals the FIFO (Erlang C) mean wait (Kleinrock's conservation law).
    waits = priority_mmc_mean_waits_s(agents, rates, h)
    pooled = float(np.dot(rates, waits)) / sum(rates)
    assert pooled == pytest.approx(erlang_c_mean_wait_s(agents, sum(rates), h), rel=1e-12)


@pytest.mark.parametrize(
    ("agents", "rates", "h"),
    [(10, [36 / 3600, 96 / 3600], 240.0), (3, [0.2, 0.1, 0.25, 0.15], 4.0), (10, [0.02, 0.01, 0.0115], 240.0)],
)
def test_priority_distribution_mean_is_cobham(agents: int, rates: list[float], h: float) -> None:
    # The per-class distribution (spectral method) integrates to Cobham's mean.
    waits = priority_mmc_mean_waits_s(agents, rates, h)
    for k, w in enumerate(waits):

        def tail(t: float, k: int = k) -> float:
            return 1.0 - priority_mmc_service_levels(agents, rates, h, t)[k]

        # Integrate up to far beyond the tail (30 means), then the remainder is negligible.
        area, _ = integrate.quad(tail, 0, 30 * w / (1 - priority_mmc_service_levels(agents, rates, h, 0)[k]), limit=400)
        assert area == pytest.approx(w, rel=1e-6)


def test_priority_service_levels_and_quantiles_are_consistent() -> None:
    agents, rates, h = 10, [36 / 3600, 96 / 3600], 240.0
    sl0 = priority_mmc_service_levels(agents, rates, h, 0.0)
    p_wait = erlang_c(agents, sum(rates) * h)
    assert sl0 == pytest.approx([1 - p_wait, 1 - p_wait], rel=1e-12)
    previous = sl0
    for t in (5.0, 15.0, 60.0, 600.0):
        sl = priority_mmc_service_levels(agents, rates, h, t)
        assert all(b >= a for a, b in zip(previous, sl, strict=True))
        assert sl[0] > sl[1]  # 911 is answered sooner
        previous = sl
    for q in (0.5, 0.9, 0.95):
        quantiles = priority_mmc_wait_quantiles_s(agents, rates, h, q)
        for k, t in enumerate(quantiles):
            if t > 0:
                assert priority_mmc_service_levels(agents, rates, h, t)[k] == pytest.approx(q, rel=1e-9)
    # The top class has the Erlang C-type closed form with rate c mu - lambda_1.
    t = 15.0
    expected = 1 - p_wait * math.exp(-(agents / h - rates[0]) * t)
    assert priority_mmc_service_levels(agents, rates, h, t)[0] == pytest.approx(expected, rel=1e-13)


def test_priority_unstable_classes() -> None:
    # 2 agents, mu = 1: class 1 alone is stable (sigma_1 = 0.5), the rest are not.
    waits = priority_mmc_mean_waits_s(2, [1.0, 1.5, 0.2], 1.0)
    assert waits[0] == pytest.approx(1.0 / 2 / (1 - 0.5))  # C = 1 in the long run
    assert waits[1:] == [math.inf, math.inf]
    assert priority_mmc_service_levels(2, [1.0, 1.5, 0.2], 1.0, 1.0)[1:] == [0.0, 0.0]
    assert priority_mmc_wait_quantiles_s(2, [1.0, 1.5, 0.2], 1.0, 0.5)[1:] == [math.inf, math.inf]


# ----------------------------------------------------------------------------- Erlang A


ERLANG_A_CASES = [
    (10, 132 / 3600, 240.0, 120.0),  # the design case with 2-minute patience
    (3, 2.4, 1 / 0.75, 2.0),  # overloaded pool (a = 3.2 > 3), abandonment keeps it stable
    (50, 0.2, 240.0, 30.0),
    (1, 0.9, 1.0, 10.0),
    (2000, 8.5, 240.0, 300.0),  # large pool
]


@pytest.mark.parametrize(("agents", "lam", "h", "patience"), ERLANG_A_CASES)
def test_erlang_a_little_identity_and_bounds(agents: int, lam: float, h: float, patience: float) -> None:
    r = erlang_a(agents, lam, h, patience)
    # Exponential patience: abandonment rate theta * E[queue] equals lambda * P(abandon).
    assert r.p_abandon == pytest.approx(r.mean_wait_s / patience, rel=1e-10)
    assert 0.0 <= r.p_abandon <= r.p_wait <= 1.0
    assert r.utilization == pytest.approx(lam * (1 - r.p_abandon) * h / agents, rel=1e-12)
    assert r.utilization <= 1.0 + 1e-12
    assert math.isfinite(r.mean_wait_answered_s)


@pytest.mark.parametrize(("agents", "lam", "h", "patience"), ERLANG_A_CASES[:4])
def test_erlang_a_service_level_matches_state_sums(agents: int, lam: float, h: float, patience: float) -> None:
    # SL(t) comes from a closed-form offered-wait density, the means from sums over states:
    # they must agree. SL(0) = 1 - P(wait), SL(inf) = 1 - P(abandon), and
    # int_0^inf (P(answered) - SL(t)) dt = E[wait; answered].
    r = erlang_a(agents, lam, h, patience)
    assert r.service_level(0.0) == pytest.approx(1 - r.p_wait, rel=1e-12)
    far = 200 * (patience + h)
    assert r.service_level(far) == pytest.approx(1 - r.p_abandon, rel=1e-9)
    area, _ = integrate.quad(lambda t: (1 - r.p_abandon) - r.service_level(t), 0, far, limit=400)
    assert area == pytest.approx(r.mean_wait_answered_s * (1 - r.p_abandon), rel=1e-6)


@pytest.mark.parametrize(("agents", "lam", "h"), [(10, 132 / 3600, 240.0), (4, 0.5, 6.0), (1, 0.5, 1.0)])
def test_erlang_a_long_patience_is_erlang_c(agents: int, lam: float, h: float) -> None:
    r = erlang_a(agents, lam, h, 1e9)
    assert r.p_wait == pytest.approx(erlang_c(agents, lam * h), rel=1e-5)
    assert r.mean_wait_s == pytest.approx(erlang_c_mean_wait_s(agents, lam, h), rel=1e-5)
    assert r.p_abandon < 1e-5
    for t in (0.0, 10.0, 60.0):
        assert r.service_level(t) == pytest.approx(erlang_c_service_level(agents, lam, h, t), rel=1e-5)
    inf = erlang_a(agents, lam, h, math.inf)
    assert inf.mean_wait_s == erlang_c_mean_wait_s(agents, lam, h)
    assert inf.service_level(30.0) == erlang_c_service_level(agents, lam, h, 30.0)


def test_erlang_a_short_patience_is_erlang_b() -> None:
    # Callers who hang up at once: the queue vanishes and the loss is Erlang B.
    agents, lam, h = 10, 132 / 3600, 240.0
    r = erlang_a(agents, lam, h, 1e-7)
    assert r.p_abandon == pytest.approx(erlang_b(agents, lam * h), rel=1e-6)


def test_erlang_a_mm1_closed_form() -> None:
    # M/M/1+M: p_{1+j} = p_1 prod_{i<=j} lam/(mu + i theta); with mu = theta the chain is
    # M/M/inf with a single server's states, i.e. Poisson(lam/mu) numbers in system:
    # death rate n mu for every n. So P(wait) = P(N >= 1) = 1 - exp(-a).
    lam, mu = 1.7, 1.0
    r = erlang_a(1, lam, 1 / mu, 1 / mu)
    assert r.p_wait == pytest.approx(1 - math.exp(-lam / mu), rel=1e-12)
    # E[N] = a and E[N in service] = P(N >= 1): mean queue = a - (1 - e^-a).
    assert r.mean_wait_s * lam == pytest.approx(lam / mu - (1 - math.exp(-lam / mu)), rel=1e-12)


# ----------------------------------------------------------------------------- Ciw peers


def _run_ciw(
    rates: dict[str, float],
    mu: float,
    agents: int,
    seed: int,
    horizon: float,
    warmup: float,
    patience_rate: float | None = None,
) -> list:
    import ciw

    names = list(rates)  # highest priority first
    network = ciw.create_network(
        arrival_distributions={k: [ciw.dists.Exponential(rates[k])] for k in names},
        service_distributions={k: [ciw.dists.Exponential(mu)] for k in names},
        number_of_servers=[agents],
        priority_classes=({k: i for i, k in enumerate(names)}, [False]),  # non-preemptive
        **(
            {"reneging_time_distributions": {k: [ciw.dists.Exponential(patience_rate)] for k in names}}
            if patience_rate is not None
            else {}
        ),
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    drain = 50.0 / mu + (50.0 / patience_rate if patience_rate else 0.0)
    sim.simulate_until_max_time(horizon + drain)
    return [r for r in sim.get_all_records() if warmup <= r.arrival_date < horizon]


@pytest.mark.slow
def test_erlang_a_against_ciw() -> None:
    agents, lam, mu, theta, within = 3, 2.4, 0.75, 0.5, 0.5
    r = erlang_a(agents, lam, 1 / mu, 1 / theta)
    p_ab, w_ans, w_all, sl = [], [], [], []
    for seed in range(8):
        recs = _run_ciw({"A": lam}, mu, agents, seed, horizon=6000.0, warmup=200.0, patience_rate=theta)
        waits = np.array([x.waiting_time for x in recs])
        answered = np.array([x.record_type == "service" for x in recs])
        p_ab.append(1.0 - answered.mean())
        w_ans.append(float(waits[answered].mean()))
        w_all.append(float(waits.mean()))
        sl.append(float(np.mean(answered & (waits <= within))))
    _assert_in_ci("P(abandon)", p_ab, r.p_abandon)
    _assert_in_ci("mean wait answered", w_ans, r.mean_wait_answered_s)
    _assert_in_ci("mean wait all", w_all, r.mean_wait_s)
    _assert_in_ci(f"SL({within})", sl, r.service_level(within))


@pytest.mark.slow
def test_two_class_priority_against_ciw() -> None:
    agents, rates, mu, within = 2, {"high": 0.3, "low": 0.9}, 0.75, 1.0  # load 0.8
    expected_w = priority_mmc_mean_waits_s(agents, list(rates.values()), 1 / mu)
    expected_sl = priority_mmc_service_levels(agents, list(rates.values()), 1 / mu, within)
    waits: dict[str, list[float]] = {k: [] for k in rates}
    levels: dict[str, list[float]] = {k: [] for k in rates}
    for seed in range(10):
        recs = _run_ciw(rates, mu, agents, 100 + seed, horizon=24000.0, warmup=300.0)
        for name in rates:
            w = np.array([x.waiting_time for x in recs if x.customer_class == name])
            waits[name].append(float(w.mean()))
            levels[name].append(float(np.mean(w <= within)))
    for k, name in enumerate(rates):
        _assert_in_ci(f"mean wait {name}", waits[name], expected_w[k])
        _assert_in_ci(f"SL({within}) {name}", levels[name], expected_sl[k])
