"""Statistics across replications, in one place: Student-t intervals and shares.

Every interval of the project is a Student-t interval over independent replications:

- :func:`estimate`: the mean of per-replication values with its two-sided 95% interval (each
  ``{"value", "ci95"}`` of summary.json, the bands of the plots);
- :func:`paired_difference`: B − A for two runs with common random numbers, the interval of
  the per-replication differences (``ivr311 compare``; what ``scipy.stats.ttest_rel`` gives);
- :func:`lower_bounds`: one-sided lower bounds, column by column (``ivr311 staff``).

The t quantile is scipy's (``scipy.special.stdtrit``, the function ``scipy.stats.t.ppf``
evaluates), imported on first use: ``scipy.stats`` itself takes half a second to import, paid by
every command, and ``t.interval`` rounds differently from the half-width used here, which would
change the last digits of every file. The tests check these against ``scipy.stats``.

:func:`share` is the one division behind every share (service level, abandonment): NaN where
nothing was offered. The interval of a share across replications is :func:`share_estimate`'s
(Wilson's score interval at the replications' effective sample size), which stays within 0-1
where a t interval would pass them (a share near 0 or 1 with a few replications off it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np

CONFIDENCE = 0.95  # of every two-sided interval (summary.json's "ci95")


def t_quantile(df: Any, q: float) -> Any:
    """Student t quantile ``q`` with ``df`` degrees of freedom (scalars or numpy arrays)."""
    from scipy.special import stdtrit  # imported here: scipy costs a quarter second at start-up

    return stdtrit(df, q)


def load_t_quantile() -> None:
    """Import what :func:`t_quantile` needs now (a fifth of a second), not at its first call:
    a process waiting on its workers calls this meanwhile, so the summary after the last
    replication does not wait for the import."""
    import scipy.special  # noqa: F401


def estimate(values: Sequence[float]) -> dict[str, Any]:
    """Mean of per-replication values with a 95% Student-t confidence interval.

    NaN values (a replication with no such calls) are left out; with fewer than two values the
    interval is unknown (``[null, null]``), with none the value too.
    """
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return {"value": None, "ci95": [None, None]}
    mean = float(np.mean(x))
    if len(x) < 2:
        return {"value": mean, "ci95": [None, None]}
    half = float(t_quantile(len(x) - 1, (1 + CONFIDENCE) / 2) * np.std(x, ddof=1) / math.sqrt(len(x)))
    return {"value": mean, "ci95": [mean - half, mean + half]}


def paired_difference(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Mean of b − a over replications with its 95% interval (NaN where unknown); pairs with a NaN
    are dropped. Replication r of both runs saw the same callers, so the difference is paired."""
    est = estimate((np.asarray(b, dtype=float) - np.asarray(a, dtype=float)).tolist())
    lo, hi = est["ci95"]
    return tuple(math.nan if v is None else float(v) for v in (est["value"], lo, hi))  # type: ignore[return-value]


def column_estimates(
    values: np.ndarray, of: Callable[[Sequence[float]], dict[str, Any]] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`estimate` (or ``of``: :func:`share_estimate` for shares) of each column of
    (replications, columns): mean and 95% bounds, NaN where unknown."""
    mean, lo, hi = (np.full(values.shape[1], np.nan) for _ in range(3))
    for h in range(values.shape[1]):
        est = (of or estimate)(values[:, h].tolist())
        if est["value"] is not None:
            mean[h] = est["value"]
        if est["ci95"][0] is not None:
            lo[h], hi[h] = est["ci95"]
    return mean, lo, hi


def lower_bounds(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Student-t lower bounds at ``confidence`` over axis 0 (replications) of ``values``,
    NaN meaning "no value in that replication". Returns (how many values, lower bound) per cell;
    with one value the bound is that value, at ``confidence`` 0.5 the mean."""
    reps = values.shape[0]
    count = np.sum(~np.isnan(values), axis=0)
    mean = np.nanmean(np.where(count[None] > 0, values, 0.0), axis=0)
    sd = np.nanstd(np.where(count[None] > 0, values, 0.0), axis=0, ddof=1) if reps > 1 else np.zeros_like(mean)
    t = t_quantile(np.maximum(count - 1, 1), confidence) if confidence > 0.5 else 0.0
    return count, mean - t * np.nan_to_num(sd) / np.sqrt(np.maximum(count, 1))


@overload
def share(part: float | np.number[Any], whole: float | np.number[Any]) -> float: ...
@overload
def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray: ...
def share(part: Any, whole: Any) -> Any:
    """``part / whole`` (answered within T of offered, abandoned of offered...), NaN where ``whole``
    is 0: no calls, no share. Scalars give a float, arrays an array."""
    if np.ndim(whole) == 0:
        return float(part) / whole if whole else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, np.nan)


def share_estimate(values: Sequence[float]) -> dict[str, Any]:
    """:func:`estimate` of a share (per-replication values in 0-1): the same mean, and an interval
    that stays within 0-1. It is Wilson's score interval for the mean share ``p`` at the effective
    sample size the replications show, ``n = p (1 - p) / (s² / R)`` (``s²`` their variance over
    ``R`` replications: Korn and Graubard's effective-size Wilson interval), with the t quantile
    of the t interval: where ``p`` is far from 0 and 1 it is the t interval, near them it bends
    inwards instead of passing them, and it always holds ``p``. Replications that all agree give
    ``[p, p]``, as the t interval does."""
    est = estimate(values)
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if est["ci95"][0] is None:
        return est
    mean, reps = est["value"], len(x)
    variance = float(np.var(x, ddof=1)) / reps  # of the mean
    if variance <= 0 or not 0 < mean < 1:
        est["ci95"] = [mean, mean]
        return est
    z = float(t_quantile(reps - 1, (1 + CONFIDENCE) / 2))
    n = mean * (1 - mean) / variance
    centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(variance + z * z / (4 * n * n))
    est["ci95"] = [max(0.0, centre - half), min(1.0, centre + half)]  # the max/min only clip float noise
    return est
