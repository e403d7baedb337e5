"""Closed-form and numerically exact results for Markovian call centres.

Everything here is a pure function of numbers (numpy/scipy/math only, no SimPy), used to
cross-check the simulator and by ``ivr311 analytic``.

Units: rates are **per second**, times are **seconds**, offered load is in **erlangs**
(arrival rate x mean handle time). "Wait" always means time in queue before an agent answers
(it excludes the IVR and the handle time).

Models
------
* Erlang B / Erlang C: M/M/c loss and delay systems.
* Non-preemptive priority M/M/c with one exponential handle-time mean shared by all classes
  (Cobham's formula for the means; an exact per-class waiting-time distribution for service
  levels and quantiles).
* Erlang A: M/M/c+M, exponential patience, exact birth-death solution.

Stability convention: a quantity that has no stationary value because the queue grows without
bound is ``math.inf`` (mean waits, quantiles) or its limit (service level 0.0, probability of
waiting 1.0). Bad arguments raise :class:`ValueError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate, linalg, optimize, special

__all__ = [
    "ErlangAResult",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_mean_wait_s",
    "erlang_c_service_level",
    "erlang_c_wait_quantile_s",
    "offered_load_erlangs",
    "priority_mmc_mean_waits_s",
    "priority_mmc_service_levels",
    "priority_mmc_wait_quantiles_s",
]

# Tail mass below which birth-death states are dropped (relative to the largest state).
_TAIL_LOG = math.log(1e-18)
# Largest truncated chain used for the priority waiting-time distribution (dense eigenproblem).
_PRIORITY_MAX_LEVELS = 3000


# ----------------------------------------------------------------------------- validation


def _check_agents(agents: int, *, minimum: int = 1) -> int:
    if isinstance(agents, bool) or not isinstance(agents, int | np.integer):
        raise ValueError(f"agents must be an integer, got {agents!r}")
    if agents < minimum:
        raise ValueError(f"agents must be >= {minimum}, got {agents}")
    return int(agents)


def _check_nonneg(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _check_pos(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _check_quantile(q: float) -> float:
    q = float(q)
    if not 0.0 <= q < 1.0:
        raise ValueError(f"q must be in [0, 1), got {q!r}")
    return q


# ----------------------------------------------------------------------------- Erlang B / C


def offered_load_erlangs(rate_per_s: float, mean_handle_s: float) -> float:
    """Offered load in erlangs: arrival rate (calls/s) x mean handle time (s)."""
    return _check_nonneg("rate_per_s", rate_per_s) * _check_pos("mean_handle_s", mean_handle_s)


def erlang_b(agents: int, load_erlangs: float) -> float:
    """Blocking probability of the M/M/c/c loss system (Erlang B).

    Uses the recursion ``B(0) = 1``, ``B(n) = a B(n-1) / (n + a B(n-1))``, which is
    numerically stable for any number of agents (no factorials, no overflow).

    Args:
        agents: number of servers c (>= 0).
        load_erlangs: offered load a = lambda / mu in erlangs (>= 0).

    Returns:
        Probability that an arriving call finds all c servers busy in the loss system.
    """
    c = _check_agents(agents, minimum=0)
    a = _check_nonneg("load_erlangs", load_erlangs)
    b = 1.0
    for n in range(1, c + 1):
        ab = a * b
        b = ab / (n + ab)
    return b


def erlang_c(agents: int, load_erlangs: float) -> float:
    """Probability that an arriving call waits in the M/M/c delay system (Erlang C).

    ``C = c B / (c - a (1 - B))`` with B the Erlang B value, so it inherits the stability of
    the Erlang B recursion. Returns 1.0 when ``load_erlangs >= agents`` (every call
    eventually finds all agents busy).

    Args:
        agents: number of agents c (>= 1).
        load_erlangs: offered load a in erlangs (>= 0).
    """
    c = _check_agents(agents)
    a = _check_nonneg("load_erlangs", load_erlangs)
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def _mmc_parts(agents: int, arrival_rate_per_s: float, mean_handle_s: float) -> tuple[int, float, float, float]:
    c = _check_agents(agents)
    lam = _check_nonneg("arrival_rate_per_s", arrival_rate_per_s)
    h = _check_pos("mean_handle_s", mean_handle_s)
    return c, lam, h, c / h - lam  # last: c mu - lambda (1/s)


def erlang_c_mean_wait_s(agents: int, arrival_rate_per_s: float, mean_handle_s: float) -> float:
    """Mean wait in queue (s) of the M/M/c queue, all callers: ``C / (c mu - lambda)``.

    ``math.inf`` when ``lambda >= c mu`` (unstable).
    """
    c, lam, h, drift = _mmc_parts(agents, arrival_rate_per_s, mean_handle_s)
    if drift <= 0.0:
        return math.inf
    return erlang_c(c, lam * h) / drift


def erlang_c_service_level(agents: int, arrival_rate_per_s: float, mean_handle_s: float, within_s: float) -> float:
    """P(wait <= within_s) in the M/M/c queue: ``1 - C exp(-(c mu - lambda) t)``.

    0.0 when unstable (the long-run share answered within any finite time tends to 0).
    """
    c, lam, h, drift = _mmc_parts(agents, arrival_rate_per_s, mean_handle_s)
    t = _check_nonneg("within_s", within_s)
    if drift <= 0.0:
        return 0.0
    return 1.0 - erlang_c(c, lam * h) * math.exp(-drift * t)


def erlang_c_wait_quantile_s(agents: int, arrival_rate_per_s: float, mean_handle_s: float, q: float) -> float:
    """The q-quantile of the wait (s) in the M/M/c queue (0 <= q < 1).

    0.0 when ``q <= 1 - C`` (the quantile falls in the atom of callers who do not wait),
    otherwise ``ln(C / (1 - q)) / (c mu - lambda)``; ``math.inf`` when unstable.
    """
    c, lam, h, drift = _mmc_parts(agents, arrival_rate_per_s, mean_handle_s)
    q = _check_quantile(q)
    if drift <= 0.0:
        return math.inf
    p_wait = erlang_c(c, lam * h)
    if q <= 1.0 - p_wait:
        return 0.0
    return math.log(p_wait / (1.0 - q)) / drift


# ----------------------------------------------------------------------------- priority M/M/c


def _priority_parts(
    agents: int, arrival_rates_per_s: Sequence[float], mean_handle_s: float
) -> tuple[float, list[float], list[float], float]:
    """Return (nu = c mu, per-class rates, cumulative sigma_k, Erlang C of the total load)."""
    c = _check_agents(agents)
    h = _check_pos("mean_handle_s", mean_handle_s)
    rates = [_check_nonneg(f"arrival_rates_per_s[{i}]", r) for i, r in enumerate(arrival_rates_per_s)]
    if not rates:
        raise ValueError("arrival_rates_per_s must name at least one class")
    nu = c / h
    sigmas = [float(s) for s in np.cumsum(rates) / nu]
    # With total load >= c the agents are busy all the time in the long run: P(wait) -> 1.
    # Classes with sigma_k < 1 are still stable and their formulas hold with C = 1.
    p_wait = erlang_c(c, sum(rates) * h)
    return nu, rates, sigmas, p_wait


def priority_mmc_mean_waits_s(agents: int, arrival_rates_per_s: Sequence[float], mean_handle_s: float) -> list[float]:
    """Mean wait (s) per class in the non-preemptive priority M/M/c queue (Cobham's formula).

    Classes are listed highest priority first; all share one exponential handle time with
    mean ``mean_handle_s`` (service rate mu per agent). With ``sigma_k = sum_{i<=k} lambda_i /
    (c mu)`` and ``C = C(c, lambda / mu)`` the Erlang C probability of the *total* load::

        W_k = C / (c mu) / ((1 - sigma_{k-1}) (1 - sigma_k)),      sigma_0 = 0.

    Sources: A. Cobham, "Priority assignment in waiting line problems", J. Operations Research
    Society of America 2(1):70-76 (1954); R. C. Larson & A. R. Odoni, *Urban Operations
    Research* (1981), section 4.9.3 "Nonpreemptive priorities in a M/M/m system", eq. (4.111)
    (W_0 = P{all servers busy} x 1/(m mu)), http://web.mit.edu/urban_or_book/www/book/chapter4/4.9.3.html.
    The formula is exact only because every class has the same exponential handle time.

    Returns:
        One mean wait per class, ``math.inf`` for a class with ``sigma_k >= 1``. If the total
        load exceeds the agents but a higher class still has ``sigma_k < 1``, that class keeps
        a finite long-run mean (computed with C = 1).
    """
    nu, _rates, sigmas, p_wait = _priority_parts(agents, arrival_rates_per_s, mean_handle_s)
    waits: list[float] = []
    prev = 0.0
    for sig in sigmas:
        if sig >= 1.0:
            waits.append(math.inf)
        else:
            waits.append(float(p_wait / nu / ((1.0 - prev) * (1.0 - sig))))
        prev = float(sig)
    return waits


@dataclass(frozen=True)
class _ConditionalWaitTail:
    """Survival function of the wait of one priority class, given that it waits.

    P(W > t | W > 0) = sum_i coef_i exp(rate_i t), rate_i < 0 (a finite exponential mixture
    from the spectral decomposition of a truncated birth-death chain; see
    :func:`priority_mmc_service_levels`).
    """

    coef: np.ndarray
    rate: np.ndarray

    def survival(self, t: float) -> float:
        return float(np.clip(np.dot(self.coef, np.exp(self.rate * t)), 0.0, 1.0))

    def mean(self) -> float:
        return float(np.dot(self.coef, -1.0 / self.rate))


def _conditional_wait_tail(nu: float, higher_rate: float, sigma_k: float) -> _ConditionalWaitTail:
    """Conditional wait distribution of class k given that all agents are busy on arrival.

    nu = c mu; higher_rate = Lambda_{k-1} (arrival rate of classes strictly above k);
    sigma_k = Lambda_k / nu < 1.
    """
    if higher_rate == 0.0:
        return _ConditionalWaitTail(np.array([1.0]), np.array([-nu * (1.0 - sigma_k)]))
    sigma_prev = higher_rate / nu
    # P(the chain ever reaches level N) <= sigma_prev**(N-1) / (1 - sigma_k); keep it < 1e-15.
    needed = math.log(1e-15 * (1.0 - sigma_k)) / math.log(sigma_prev) + 2.0
    levels = int(min(max(needed, 16.0), _PRIORITY_MAX_LEVELS))
    diag = np.full(levels, -(higher_rate + nu))
    diag[0] = -(higher_rate + nu * (1.0 - sigma_k))
    diag[-1] = -nu  # reflecting top level: births blocked
    off = np.full(levels - 1, math.sqrt(higher_rate * nu))
    eigval, eigvec = linalg.eigh_tridiagonal(diag, off)
    # Q = D S D^{-1} with D = diag(r^(n-1)), r = sqrt(nu / Lambda); survival = e_1' exp(Qt) 1.
    weights = np.exp(0.5 * math.log(sigma_prev) * np.arange(levels))  # 1/d_n, underflows to 0
    coef = eigvec[0, :] * (eigvec.T @ weights)
    return _ConditionalWaitTail(coef, eigval)


def _priority_tails(
    agents: int, arrival_rates_per_s: Sequence[float], mean_handle_s: float
) -> tuple[float, list[_ConditionalWaitTail | None]]:
    nu, rates, sigmas, p_wait = _priority_parts(agents, arrival_rates_per_s, mean_handle_s)
    tails: list[_ConditionalWaitTail | None] = []
    higher = 0.0
    for rate, sig in zip(rates, sigmas, strict=True):
        tails.append(None if sig >= 1.0 else _conditional_wait_tail(nu, higher, sig))
        higher += rate
    return p_wait, tails


def priority_mmc_service_levels(
    agents: int, arrival_rates_per_s: Sequence[float], mean_handle_s: float, within_s: float
) -> list[float]:
    """P(wait <= within_s) per class in the non-preemptive priority M/M/c queue (exact).

    Same model as :func:`priority_mmc_mean_waits_s` (classes highest priority first, one
    exponential handle-time mean). Derivation (exact, stated here because the closed form of
    D. R. Davis, "Waiting-time distribution of a multi-server, priority queuing system",
    Operations Research 14(1):133-136, 1966, is not reproduced):

    1. While all c agents are busy, completions form a Poisson process of rate nu = c mu,
       whatever the classes in service; an all-busy period starts with an empty queue and
       ends at a completion with an empty queue. So, given all agents busy, the queue
       contents behave as in a non-preemptive priority M/M/1 queue with service rate nu
       (the reduction of O. Kella & U. Yechiali, "Waiting times in the non-preemptive
       priority M/M/c queue", Stochastic Models 1(2), 1985).
    2. In that M/M/1 queue the waiting time of the merged classes 1..k (top priority, FIFO
       among themselves) given a wait is exponential with rate nu (1 - sigma_k); by the
       distributional form of Little's law the number J of class 1..k calls waiting, seen
       by an arrival that waits, is geometric: P(J = j) = (1 - sigma_k) sigma_k**j.
    3. A class-k arrival waits until the J calls ahead of it and every class 1..k-1 call
       that arrives meanwhile are answered: the first-passage time from J + 1 to 0 of a
       birth-death chain with births Lambda_{k-1} and deaths nu. A geometric number of
       independent first passages from level 1 is one first passage of the same chain in
       which level 1 is left to absorption at rate nu (1 - sigma_k).

    Hence ``P(W_k > t) = C(c, a) * s_k(t)`` with s_k the survival function of that chain,
    computed from the spectral decomposition of its (symmetrisable) tridiagonal generator,
    truncated where the probability of reaching the top level is below 1e-15 (at most
    3000 levels; beyond that, i.e. sigma_{k-1} > ~0.99, the truncation error grows).
    For k = 1 this is ``1 - C exp(-(c mu - lambda_1) t)``; its mean is Cobham's formula
    (checked in the tests).

    Returns:
        One probability per class; 0.0 for a class with ``sigma_k >= 1``.
    """
    t = _check_nonneg("within_s", within_s)
    p_wait, tails = _priority_tails(agents, arrival_rates_per_s, mean_handle_s)
    return [0.0 if tail is None else 1.0 - p_wait * tail.survival(t) for tail in tails]


def priority_mmc_wait_quantiles_s(
    agents: int, arrival_rates_per_s: Sequence[float], mean_handle_s: float, q: float
) -> list[float]:
    """The q-quantile of the wait (s) per class in the non-preemptive priority M/M/c queue.

    Inverts the exact distribution of :func:`priority_mmc_service_levels` numerically
    (Brent's method, relative tolerance 1e-12). 0.0 when the quantile falls in the atom of
    callers who do not wait; ``math.inf`` for an unstable class.
    """
    q = _check_quantile(q)
    p_wait, tails = _priority_tails(agents, arrival_rates_per_s, mean_handle_s)
    out: list[float] = []
    for tail in tails:
        if tail is None:
            out.append(math.inf)
            continue
        if q <= 1.0 - p_wait:
            out.append(0.0)
            continue
        target = (1.0 - q) / p_wait  # solve survival(t) = target, survival decreasing
        slowest = float(np.max(tail.rate))
        hi = max(1e-9, math.log(float(np.sum(np.abs(tail.coef))) / target) / -slowest)
        while tail.survival(hi) > target:
            hi *= 2.0
        out.append(optimize.brentq(lambda x, tl=tail, y=target: tl.survival(x) - y, 0.0, hi, rtol=1e-12))
    return out


# ----------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class ErlangAResult:
    """Stationary performance of the Erlang A (M/M/c+M) queue. Times in seconds.

    Attributes:
        agents, arrival_rate_per_s, mean_handle_s, mean_patience_s: the inputs.
        p_wait: P(an arrival finds all agents busy), i.e. must queue (PASTA).
        p_abandon: share of offered calls that hang up before an agent answers.
        mean_wait_s: mean time in queue over *all* offered calls (abandoners count their time
            in queue until they hang up; calls answered at once count 0).
        mean_wait_answered_s: mean time in queue of the calls that are answered.
        utilization: mean share of agents busy = lambda (1 - p_abandon) / (c mu).
    """

    agents: int
    arrival_rate_per_s: float
    mean_handle_s: float
    mean_patience_s: float
    p_wait: float
    p_abandon: float
    mean_wait_s: float
    mean_wait_answered_s: float
    utilization: float
    _log_p_c: float = field(repr=False, compare=False, default=-math.inf)

    def service_level(self, within_s: float) -> float:
        """P(answered and waited <= within_s) among all offered calls.

        Abandoners count as not served within the target, whatever their wait. With the
        offered-wait density of the M/M/c+M queue (derived in :func:`erlang_a`)::

            SL(t) = (1 - p_wait) + int_0^t p_c c mu exp(-(c mu + theta) v
                                                  + (lambda/theta)(1 - exp(-theta v))) dv

        where the factor exp(-theta v) is the chance the caller is still patient at v. The
        integral is evaluated by adaptive quadrature (relative tolerance 1e-11). Tends to
        1 - p_abandon as within_s grows.
        """
        t = _check_nonneg("within_s", within_s)
        c, lam, h = self.agents, self.arrival_rate_per_s, self.mean_handle_s
        if math.isinf(self.mean_patience_s):
            return erlang_c_service_level(c, lam, h, t)
        if t == 0.0 or self.p_wait == 0.0:
            return 1.0 - self.p_wait
        cmu = c / h
        theta = 1.0 / self.mean_patience_s

        def g(v: float) -> float:
            return -(cmu + theta) * v - (lam / theta) * math.expm1(-theta * v)

        # g is concave with its maximum at v_peak: integrate each monotone side over the
        # window where exp(g - g_max) > e-60 (the rest is below 1e-26 of the peak).
        v_peak = math.log(lam / (cmu + theta)) / theta if lam > cmu + theta else 0.0
        g_max = g(v_peak)
        lo = _edge_of_peak(g, v_peak, g_max, direction=-1.0, scale=1.0 / (cmu + theta))
        hi = _edge_of_peak(g, v_peak, g_max, direction=1.0, scale=1.0 / (cmu + theta))
        value = 0.0
        for left, right in ((max(0.0, lo), min(v_peak, t)), (v_peak, min(hi, t))):
            if right > left:
                part, _err = integrate.quad(
                    lambda v: math.exp(g(v) - g_max),
                    left,
                    right,
                    epsabs=0.0,
                    epsrel=1e-11,
                    limit=500,
                )
                value += part
        waited_and_answered = math.exp(self._log_p_c + math.log(cmu) + g_max) * value
        return min(1.0, (1.0 - self.p_wait) + waited_and_answered)


def _edge_of_peak(g: Callable[[float], float], v_peak: float, g_max: float, *, direction: float, scale: float) -> float:
    """First point (by doubling steps from v_peak) where g has fallen 60 below its maximum."""
    step = scale
    while True:
        v = v_peak + direction * step
        if v <= 0.0 or g(v) - g_max < -60.0:
            return v
        step *= 2.0


def _erlang_a_queue_log_probs(lam: float, cmu: float, theta: float, log_p_c: float) -> np.ndarray:
    """log P(N = c + j), j = 0, 1, ... (unnormalised), truncated where negligible."""
    j_peak = max(0, math.ceil((lam - cmu) / theta))  # terms grow while lam > cmu + j theta
    length = j_peak + 256
    while True:
        j = np.arange(1, length)
        steps = np.log(lam) - np.log(cmu + j * theta)
        logs = np.concatenate(([log_p_c], log_p_c + np.cumsum(steps)))
        if logs[-1] - logs.max() < _TAIL_LOG and steps[-1] < 0.0:
            keep = logs - logs.max() >= _TAIL_LOG + math.log(1e-3)
            last = int(np.nonzero(keep)[0][-1]) + 1
            return logs[:last]
        length *= 2


def erlang_a(agents: int, arrival_rate_per_s: float, mean_handle_s: float, mean_patience_s: float) -> ErlangAResult:
    """Erlang A: M/M/c queue whose callers hang up after an exponential patience.

    Exact birth-death solution. The number in system N has birth rate lambda and death rate
    ``min(n, c) mu + max(n - c, 0) theta`` (theta = 1 / mean patience). Its stationary
    probabilities are computed in log space (``log p_n = n log a - log n!`` up to c, then
    ``log p_{c+j} = log p_c + sum_{i<=j} log(lambda / (c mu + i theta))``) and the queue part
    is truncated once the remaining terms are below 1e-18 of the largest; they fall off
    faster than geometrically, so every measure is exact to floating-point precision. The
    model is stable for any load (abandonment bounds the queue).

    With pi_j = P(an arrival finds j callers waiting and all agents busy) (PASTA):

    * a caller with j ahead is answered with probability c mu / (c mu + (j+1) theta) (the
      product of the chances of advancing one place, which telescopes);
    * given it is answered, its wait is a sum of exponentials with rates c mu + i theta,
      i = 1..j+1 (each place is left at the total event rate, whatever the outcome);
    * mean wait over all callers = E[queue length] / lambda (Little), and
      p_abandon = theta * mean_wait_s (checked independently in the tests);
    * summing pi_j times the hypoexponential density of the *offered* wait (rates c mu +
      i theta, i = 0..j) gives the closed form p_c c mu exp(-c mu v + (lambda/theta)(1 -
      exp(-theta v))) used by :meth:`ErlangAResult.service_level` (cf. A. Mandelbaum &
      S. Zeltyn, "The M/M/n+G queue: summary of performance measures", Technion, 2007;
      O. Garnett, A. Mandelbaum & M. Reiman, "Designing a call center with impatient
      customers", MSOM 4(3):208-227, 2002).

    ``mean_patience_s = math.inf`` gives the Erlang C values (``mean_wait_s`` is inf when
    that queue is unstable).

    Args:
        agents: number of agents c (>= 1).
        arrival_rate_per_s: lambda (calls/s, >= 0).
        mean_handle_s: mean handle time 1/mu (s, > 0).
        mean_patience_s: mean patience 1/theta (s, > 0, may be ``math.inf``).
    """
    c = _check_agents(agents)
    lam = _check_nonneg("arrival_rate_per_s", arrival_rate_per_s)
    h = _check_pos("mean_handle_s", mean_handle_s)
    patience = float(mean_patience_s)
    if math.isnan(patience) or patience <= 0.0:
        raise ValueError(f"mean_patience_s must be > 0 (or inf), got {mean_patience_s!r}")
    cmu = c / h
    if math.isinf(patience):
        p_wait = erlang_c(c, lam * h)
        wait = erlang_c_mean_wait_s(c, lam, h)
        return ErlangAResult(c, lam, h, patience, p_wait, 0.0, wait, wait, min(1.0, lam * h / c))
    if lam == 0.0:
        return ErlangAResult(c, lam, h, patience, 0.0, 0.0, 0.0, 0.0, 0.0)
    theta = 1.0 / patience
    a = lam * h
    n = np.arange(c + 1)
    log_low = n * math.log(a) - special.gammaln(n + 1)  # n = 0..c (unnormalised)
    log_queue = _erlang_a_queue_log_probs(lam, cmu, theta, float(log_low[-1]))
    log_all = np.concatenate((log_low[:-1], log_queue))
    log_norm = float(special.logsumexp(log_all))
    pi = np.exp(log_queue - log_norm)  # pi_j, j = 0..J
    j = np.arange(pi.size)
    p_wait = min(1.0, float(pi.sum()))
    stage_rates = cmu + (j + 1) * theta  # leaving place i ahead (i = j..0) incl. own abandon
    p_served_given_j = cmu / stage_rates
    p_abandon = float(np.dot(pi, 1.0 - p_served_given_j))
    mean_queue = float(np.dot(pi, j))  # E[number waiting] = sum_n (n - c) p_n
    mean_wait = mean_queue / lam
    wait_if_served = np.cumsum(1.0 / stage_rates)  # sum_{i=1}^{j+1} 1/(c mu + i theta)
    answered_wait_mass = float(np.dot(pi, p_served_given_j * wait_if_served))
    p_answered = 1.0 - p_abandon
    mean_wait_answered = answered_wait_mass / p_answered if p_answered > 0.0 else math.inf
    return ErlangAResult(
        agents=c,
        arrival_rate_per_s=lam,
        mean_handle_s=h,
        mean_patience_s=patience,
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_wait_s=mean_wait,
        mean_wait_answered_s=mean_wait_answered,
        utilization=lam * p_answered / cmu,
        _log_p_c=float(log_queue[0] - log_norm),
    )
