"""Distributions fitted to durations of the call log, in a scenario's terms.

- Uncensored durations (menu time, handle time): maximum-likelihood exponential, lognormal and
  gamma fits; the one with the smallest AIC is kept when a Kolmogorov-Smirnov test does not
  reject it, empirical quantiles otherwise.
- Patience, right-censored: a caller who hung up in the queue shows her patience, a caller who
  was answered only that her patience exceeded her wait. Kaplan-Meier for the curve, censored
  maximum likelihood for the distribution (exponential: hang-ups / total time waited).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.distributions import MAX_SPREAD

KS_ALPHA = 0.01  # a fit whose KS p-value is below this does not fit: empirical instead
EMPIRICAL_POINTS = 200  # quantiles kept for an empirical distribution
Z95 = 1.959963984540054


# --- durations (uncensored): exponential, lognormal, gamma by AIC, KS check --------------------


@dataclass(frozen=True)
class DurationFit:
    """A duration distribution fitted to ``n`` observations, in the scenario's terms."""

    dist: dict[str, Any]  # as in a scenario file (seconds)
    family: str  # the family written: exponential, lognormal, gamma or empirical
    aic: dict[str, float]
    ks_d: float
    ks_p: float
    best: str  # the family with the smallest AIC (tested by KS)
    n: int
    mean: float
    mean_low: float
    mean_high: float


def _gamma_shape(log_mean_minus_mean_log: float) -> float:
    """MLE gamma shape: solves log k - digamma(k) = s (Minka's start, then Newton)."""
    from scipy.special import digamma, polygamma

    s = max(log_mean_minus_mean_log, 1e-12)
    k = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(20):
        f = math.log(k) - float(digamma(k)) - s
        step = f / (1 / k - float(polygamma(1, k)))
        k = max(k - step, k / 10)
        if abs(step) < 1e-10 * k:
            break
    return k


def _moments_dist(family: str, mean: float, sd: float) -> dict[str, Any]:
    sd = min(max(sd, mean / MAX_SPREAD * 1.01), mean * MAX_SPREAD / 1.01)
    return {"dist": family, "mean": rounded_s(mean), "sd": rounded_s(sd)}


def rounded_s(x: float) -> float:
    """Seconds as written to the file: 4 significant digits past the second, at least 0.001."""
    return max(float(f"{x:.6g}"), 0.001)


def empirical(x: np.ndarray, points: int = EMPIRICAL_POINTS) -> dict[str, Any]:
    """An empirical distribution of ``points`` quantiles (resampled uniformly: it reproduces x's)."""
    q = np.quantile(x, (np.arange(points) + 0.5) / points)
    values = sorted({round(float(v), 1) for v in q})
    if max(values) <= 0:
        values = [0.001]
    return {"dist": "empirical", "values": values}


def fit_durations(x: np.ndarray) -> DurationFit:
    """Maximum-likelihood exponential, lognormal and gamma fits; the smallest AIC is written unless
    its KS test rejects it (p < KS_ALPHA), then the empirical quantiles are."""
    from scipy import stats
    from scipy.special import gammaln

    x = np.asarray(x, dtype=float)
    n = len(x)
    pos = np.maximum(x, 1e-3)  # durations of 0 (the log's millisecond resolution) at 1 ms
    mean = float(pos.mean())
    logs = np.log(pos)
    sum_log = float(logs.sum())
    mu, sigma = float(logs.mean()), max(float(logs.std()), 1e-9)
    k = _gamma_shape(math.log(mean) - mu)
    theta = mean / k
    ll = {
        "exponential": -n * math.log(mean) - n,
        "lognormal": -sum_log - n * math.log(sigma) - n / 2 * math.log(2 * math.pi) - n / 2,
        "gamma": (k - 1) * sum_log - n * mean / theta - n * k * math.log(theta) - n * float(gammaln(k)),
    }
    aic = {f: 2 * (1 if f == "exponential" else 2) - 2 * v for f, v in ll.items()}
    cdfs: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "exponential": lambda t: stats.expon.cdf(t, scale=mean),
        "lognormal": lambda t: stats.norm.cdf((np.log(np.maximum(t, 1e-300)) - mu) / sigma),
        "gamma": lambda t: stats.gamma.cdf(t, k, scale=theta),
    }
    best = min(aic, key=lambda f: aic[f])
    ks = stats.kstest(pos, cdfs[best])
    ln_mean = math.exp(mu + sigma**2 / 2)
    dists = {
        "exponential": {"dist": "exponential", "mean": rounded_s(mean)},
        "lognormal": _moments_dist("lognormal", ln_mean, ln_mean * math.sqrt(math.expm1(sigma**2))),
        "gamma": _moments_dist("gamma", k * theta, math.sqrt(k) * theta),
    }
    fits = ks.pvalue >= KS_ALPHA
    half = Z95 * float(x.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return DurationFit(
        dist=dists[best] if fits else empirical(x),
        family=best if fits else "empirical",
        aic=aic,
        ks_d=float(ks.statistic),
        ks_p=float(ks.pvalue),
        best=best,
        n=n,
        mean=float(x.mean()),
        mean_low=float(x.mean()) - half,
        mean_high=float(x.mean()) + half,
    )


# --- patience (right-censored): Kaplan-Meier and censored MLE ----------------------------------


@dataclass(frozen=True)
class KaplanMeier:
    times: np.ndarray  # distinct times with at least one event
    survival: np.ndarray  # S(t) just after each
    se: np.ndarray  # Greenwood standard error
    at_risk: np.ndarray  # callers still waiting just before each

    def supported(self, min_at_risk: float = 20) -> np.ndarray:
        """Where the curve rests on at least ``min_at_risk`` callers (its tail is noise)."""
        return self.at_risk >= min_at_risk

    def at(self, t: float) -> tuple[float, float, float]:
        """S(t) with a 95% interval (Greenwood, clipped to [0, 1])."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        if i < 0:
            return 1.0, 1.0, 1.0
        if i + 1 < len(self.times) and not self.supported()[i + 1] or not self.supported()[i]:
            return math.nan, math.nan, math.nan
        s, se = float(self.survival[i]), float(self.se[i])
        return s, max(0.0, s - Z95 * se), min(1.0, s + Z95 * se)

    def median(self) -> float | None:
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.times[below[0]]) if len(below) else None


def kaplan_meier(t: np.ndarray, event: np.ndarray, weight: np.ndarray | None = None) -> KaplanMeier:
    """Kaplan-Meier survival of ``t`` (``event`` False: right-censored at t), optionally weighted
    (rows standing for ``weight`` identical calls)."""
    w = np.ones(len(t)) if weight is None else np.asarray(weight, dtype=float)
    u, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=w * event, minlength=len(u))
    c = np.bincount(inv, weights=w, minlength=len(u))
    at_risk = c[::-1].cumsum()[::-1]
    has = d > 0
    frac = 1 - d[has] / at_risk[has]
    surv = np.cumprod(frac)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(np.where(at_risk[has] > d[has], d[has] / (at_risk[has] * (at_risk[has] - d[has])), 0.0))
    return KaplanMeier(times=u[has], survival=surv, se=surv * np.sqrt(green), at_risk=at_risk[has])


@dataclass(frozen=True)
class PatienceFit:
    dist: dict[str, Any]
    family: str
    aic: dict[str, float]
    km_distance: float  # largest gap between the fitted survival and Kaplan-Meier's
    km: KaplanMeier
    hangups: int
    answered: int  # censored: patience longer than their wait
    naive_mean: float  # mean wait of those who hung up: what ignoring the censoring gives
    mean: float
    mean_low: float
    mean_high: float


def _censored_loglik(
    family: str, params: np.ndarray, te: np.ndarray, we: np.ndarray, tc: np.ndarray, wc: np.ndarray
) -> float:
    """Log-likelihood of (log-)parameters: densities at the events, survival at the censored times."""
    from scipy.special import gammaincc, gammaln, log_ndtr

    a, b = float(params[0]), float(params[1])
    if family == "lognormal":
        sigma = math.exp(b)
        ze, zc = (np.log(te) - a) / sigma, (np.log(tc) - a) / sigma
        return float(np.dot(we, -np.log(te) - b - 0.5 * math.log(2 * math.pi) - ze**2 / 2) + np.dot(wc, log_ndtr(-zc)))
    k, theta = math.exp(a), math.exp(b)
    events = np.dot(we, (k - 1) * np.log(te) - te / theta) - we.sum() * (k * b + float(gammaln(k)))
    return float(events + np.dot(wc, np.log(np.maximum(gammaincc(k, tc / theta), 1e-300))))


def _hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return out


AIC_MARGIN = 2.0  # a two-parameter patience family must improve on the exponential by this
MAX_LOG_MEAN_SE = 0.5  # standard error of log(mean) beyond which a fitted mean is not trusted


def _log_mean_se(family: str, p: np.ndarray, cov: np.ndarray) -> float:
    """Standard error of log(mean) of a fitted lognormal (log mu, log sigma) or gamma (log k,
    log theta), by the delta method; inf when the Hessian gave no covariance."""
    # lognormal: log mean = mu + sigma^2 / 2; gamma: log mean = log k + log theta
    grad = np.array([1.0, math.exp(2 * p[1])]) if family == "lognormal" else np.array([1.0, 1.0])
    var = float(grad @ cov @ grad)
    return math.sqrt(var) if math.isfinite(var) and var > 0 else math.inf


def fit_patience(wait_s: np.ndarray, hung_up: np.ndarray) -> PatienceFit:
    """Censored maximum likelihood: hang-ups are patience times, the others' waits lower bounds.

    Exponential in closed form (mean = total time waited / hang-ups, exact chi-square interval);
    lognormal and gamma by numerical optimisation of densities at hang-ups plus survival at the
    censored waits; the smallest AIC is written. Times are grouped to 0.1 s for the optimiser.
    """
    from scipy import stats
    from scipy.optimize import minimize

    t = np.maximum(np.asarray(wait_s, dtype=float), 0.0)
    ev = np.asarray(hung_up, dtype=bool)
    informative = ev | (t > 0)  # censored at 0 says nothing
    t, ev = t[informative], ev[informative]
    t = np.where(ev, np.maximum(t, 0.05), t)
    hangups, answered = int(ev.sum()), int((~ev).sum())
    if not hangups:
        raise ValueError("patience needs at least one hang-up in the queue")
    total_time = float(t.sum())
    groups = np.round(t, 1) + np.where(ev, 0.0, 1e6)  # group to 0.1 s, events and censored apart
    key, w = np.unique(groups, return_counts=True)
    is_c = key >= 1e6
    tg = np.where(is_c, key - 1e6, key)
    te, we = np.maximum(tg[~is_c], 0.05), w[~is_c].astype(float)
    tc, wc = np.maximum(tg[is_c], 0.05), w[is_c].astype(float)
    km = kaplan_meier(tg, ~is_c, w)

    exp_mean = total_time / hangups
    ll: dict[str, float] = {"exponential": -hangups * math.log(exp_mean) - total_time / exp_mean}
    params: dict[str, np.ndarray] = {}
    cov: dict[str, np.ndarray] = {}
    starts = {
        "lognormal": np.array([math.log(exp_mean) - 0.5, 0.0]),
        "gamma": np.array([0.0, math.log(exp_mean)]),
    }
    for fam, x0 in starts.items():

        def neg(p: np.ndarray, fam: str = fam) -> float:
            return -_censored_loglik(fam, p, te, we, tc, wc)

        res = minimize(neg, x0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 2000})
        params[fam] = res.x
        ll[fam] = -float(res.fun)
        try:
            cov[fam] = np.linalg.inv(_hessian(neg, res.x))
        except np.linalg.LinAlgError:
            cov[fam] = np.full((2, 2), np.nan)
    aic = {f: 2 * (1 if f == "exponential" else 2) - 2 * v for f, v in ll.items()}
    # A two-parameter family must beat the exponential clearly (AIC lower by more than 2) and
    # pin its mean down (95% interval within a factor of about 7): with few hang-ups and short
    # waits, a lognormal's mean extrapolates far past every observed wait (a 911 line answered
    # in seconds gave 100,000 s), which no planner should simulate.
    best = "exponential"
    for fam in sorted(starts, key=lambda f: aic[f]):
        if aic[fam] < aic["exponential"] - AIC_MARGIN and _log_mean_se(fam, params[fam], cov[fam]) <= MAX_LOG_MEAN_SE:
            best = fam
            break

    from scipy.stats import chi2

    if best == "exponential":
        mean = exp_mean
        low, high = 2 * total_time / chi2.ppf(0.975, 2 * hangups), 2 * total_time / chi2.ppf(0.025, 2 * hangups)
        dist: dict[str, Any] = {"dist": "exponential", "mean": rounded_s(mean)}
        surv = np.exp(-km.times / mean)
    else:
        a, b = params[best]
        if best == "lognormal":
            s2 = math.exp(2 * b)
            mean = math.exp(a + s2 / 2)
            sd = mean * math.sqrt(math.expm1(s2))
            surv = stats.norm.sf((np.log(km.times) - a) / math.exp(b))
        else:
            k, theta = math.exp(a), math.exp(b)
            mean = k * theta
            sd = math.sqrt(k) * theta
            surv = stats.gamma.sf(km.times, k, scale=theta)
        se_log = _log_mean_se(best, params[best], cov[best])
        low, high = mean * math.exp(-Z95 * se_log), mean * math.exp(Z95 * se_log)  # positive
        dist = _moments_dist(best, mean, sd)
    ok = km.supported()
    distance = float(np.max(np.abs(surv - km.survival)[ok])) if ok.any() else math.nan
    return PatienceFit(
        dist=dist,
        family=best,
        aic=aic,
        km_distance=distance,
        km=km,
        hangups=hangups,
        answered=answered,
        naive_mean=float(t[ev].mean()) if hangups else math.nan,
        mean=mean,
        mean_low=float(low),
        mean_high=float(high),
    )
