"""How many calls a class gets and of which kinds, from the call log.

- Arrivals per hour of day with exact Poisson 95% intervals; days far outside the profile (for
  their weekday, with enough whole weeks) are listed as candidate surges and left out of it; with
  enough whole weeks, a chi-square test of a weekday effect.
- The category mix with Wilson 95% intervals; categories with too few calls merged into ``other``;
  the language mix the same way, no language merged.
- Redials: a caller (the log's hashed number) who hung up in the queue and called the same class
  again within an hour; the share of hang-ups that did (of those early enough in the log for a
  redial to be seen), the delays, and which calls were redials (the arrivals of a scenario with
  redials are the first calls: the model makes the redials).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.durations import DAY_S, HOUR_S
from .calllog import format_date
from .fits import Z95

SURGE_P = 1e-3  # a day is a candidate surge when its Poisson p-value is below SURGE_P / days ...
SURGE_RATIO = 0.2  # ... and its volume is at least 20% above (or below) the profile's
MIN_CATEGORY = 30  # calls of one category; fewer: merged into `other`


# --- arrivals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Arrival rates per hour of day with exact Poisson 95% intervals."""

    rate: np.ndarray  # 24 rates per hour
    low: np.ndarray
    high: np.ndarray
    calls: int
    days: float  # exposure, in days, after leaving out surge days
    surges: list[tuple[str, int, float]]  # (date, calls, expected)
    weekday: WeekdayEffect | None = None  # None: fewer than MIN_WEEKS whole weeks to test it


MIN_WEEKS = 3  # whole weeks of days in the log before a weekday effect is tested
WEEKDAY_P = 0.01  # below this, the weekday effect is called significant


@dataclass
class WeekdayEffect:
    """Each weekday's daily volume relative to the mean day, with exact Poisson 95% intervals,
    and the chi-square test (6 degrees of freedom) of "every weekday the same"."""

    factor: np.ndarray  # (7,) Monday first
    low: np.ndarray
    high: np.ndarray
    days: np.ndarray  # (7,) whole days seen of each weekday
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < WEEKDAY_P

    @property
    def mean_factor(self) -> float:
        """The mean of the seven factors: 1 when the log holds as many days of every weekday;
        otherwise the mean day of a week against the mean day of the log."""
        return float(self.factor.mean())

    def of_a_week(self) -> WeekdayEffect:
        """The factors against the mean day of a week (so they average 1), intervals with them.
        A profile of the log's mean day times :attr:`mean_factor` is the mean day of a week, and
        that times these factors gives each weekday the rates the log measured."""
        m = self.mean_factor
        return WeekdayEffect(self.factor / m, self.low / m, self.high / m, self.days, self.p_value)


def _exposure_hours(start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Hours of the window as a (day, hour of day) grid: the first day (seconds since 1970) and,
    per day and hour, the fraction of that hour inside [start, end)."""
    day0 = math.floor(start_s / DAY_S) * DAY_S
    n_days = max(1, math.ceil((end_s - day0) / DAY_S))
    hour_start = day0 + np.arange(n_days * 24) * HOUR_S
    covered = np.clip(np.minimum(hour_start + HOUR_S, end_s) - np.maximum(hour_start, start_s), 0, HOUR_S) / HOUR_S
    return np.asarray(day0), covered.reshape(n_days, 24)


def hours_covered(start_s: float, end_s: float, interval_s: float = HOUR_S) -> int:
    """Hours of the day (of 24) whose ``interval_s`` block the window [start, end) has time in:
    24 when every block's rate rests on calls the log could hold."""
    _, cover = _exposure_hours(start_s, end_s)
    per = int(round(interval_s / HOUR_S))
    return int((cover.sum(axis=0).reshape(-1, per).sum(axis=1) > 0).sum()) * per


def poisson_interval(count: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95% interval of a Poisson rate: ``count`` events over ``exposure``.

    The chi-square quantiles chi2(q, 2k) / 2 are the inverse regularized gamma function's,
    gammaincinv(k, q): the same numbers without importing scipy.stats (a second of a now-cast)."""
    from scipy.special import gammaincinv

    count = np.asarray(count, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(count > 0, gammaincinv(np.maximum(count, 1.0), 0.025), 0.0) / exposure
        high = gammaincinv(count + 1, 0.975) / exposure
    return low, high


def arrival_profile(started_s: np.ndarray, start_s: float, end_s: float, interval_s: float = HOUR_S) -> Profile:
    """Calls per hour of day over the window, pooled over ``interval_s`` blocks (1h, 2h, ... dividing
    a day); days whose volume is far from the profile's (Poisson test) are left out and listed."""
    from scipy.stats import poisson

    day0, cover = _exposure_hours(start_s, end_s)
    n_days = cover.shape[0]
    idx = ((started_s - day0) // HOUR_S).astype(np.int64)
    counts = np.bincount(idx, minlength=n_days * 24)[: n_days * 24].reshape(n_days, 24).astype(float)
    per = int(round(interval_s / HOUR_S))
    whole = cover.sum(axis=1) >= 24 - 1e-9
    weekday = _weekdays_of(n_days, float(day0))
    # A quiet Sunday is no surge: a day is judged against its weekday's usual volume (medians,
    # which one surge among three or more days of a weekday does not move).
    usual = _usual_weekday_factors(counts.sum(axis=1), whole, weekday)[weekday]
    keep = np.ones(n_days, dtype=bool)
    surges: list[tuple[str, int, float]] = []
    for _ in range(2):  # estimate, leave out the days far from it, estimate again
        block_counts = counts[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
        block_hours = cover[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.repeat(np.where(block_hours > 0, block_counts / block_hours, 0.0), per)
        level = usual / np.average(usual[keep], weights=cover[keep].sum(axis=1))  # the kept days' mean is 1
        expected = (cover @ rate) * level
        observed = counts.sum(axis=1)
        testable = cover.sum(axis=1) >= 12  # at least half a day in the window
        p = np.minimum(poisson.sf(observed - 1, expected), poisson.cdf(observed, expected))
        far = testable & (p < SURGE_P / n_days) & (np.abs(observed / np.maximum(expected, 1e-9) - 1) >= SURGE_RATIO)
        if not far.any() or far.all() or not counts[~far].any():
            break  # nothing far, or nothing left beside it: a profile of no calls is no profile
        keep = ~far
        surges = [
            (format_date(float(day0) + d * DAY_S), int(observed[d]), float(expected[d])) for d in np.flatnonzero(far)
        ]
    block_counts = counts[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
    block_hours = cover[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
    low, high = poisson_interval(block_counts, block_hours)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(block_hours > 0, block_counts / block_hours, 0.0)
    whole &= keep  # whole days, surges left out
    return Profile(
        rate=np.repeat(rate, per),
        low=np.repeat(low, per),
        high=np.repeat(high, per),
        calls=int(counts[keep].sum()),
        days=float(cover[keep].sum() / 24),
        surges=surges,
        weekday=_weekday_of_whole_days(counts, whole, float(day0)),
    )


def _weekdays_of(n_days: int, day0: float) -> np.ndarray:
    """The weekday (0 = Monday) of each of ``n_days`` days from ``day0`` (seconds since 1970)."""
    return (np.arange(n_days) + int(day0 // DAY_S) + 3) % 7  # 1970-01-01 was a Thursday


def _usual_weekday_factors(day_counts: np.ndarray, whole: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Each weekday's median volume of whole days against their mean (7 factors, Monday first):
    all 1 with fewer than MIN_WEEKS whole days of some weekday, or no calls."""
    medians = np.array([np.median(day_counts[whole & (weekday == w)]) if (whole & (weekday == w)).sum() >= MIN_WEEKS
                        else np.nan for w in range(7)])  # fmt: skip
    if np.isnan(medians).any() or medians.mean() <= 0:
        return np.ones(7)
    return medians / medians.mean()


def _weekday_of_whole_days(counts: np.ndarray, whole: np.ndarray, day0: float) -> WeekdayEffect | None:
    """The weekday effect over the whole days kept (other days count as missing)."""
    if not whole.any():
        return None
    weekday = _weekdays_of(len(whole), day0)
    return weekday_effect(counts.sum(axis=1)[whole], weekday[whole])


def weekday_effect(day_counts: np.ndarray, weekdays: np.ndarray) -> WeekdayEffect | None:
    """The weekday effect of whole days' call counts (`weekdays[d]`: 0 = Monday); None with
    fewer than MIN_WEEKS days of some weekday, or no calls."""
    from scipy.stats import chi2

    days = np.bincount(weekdays, minlength=7).astype(float)
    if days.min() < MIN_WEEKS or day_counts.sum() <= 0:  # no calls on whole days: nothing to compare
        return None
    totals = np.bincount(weekdays, weights=day_counts, minlength=7)
    mean_day = day_counts.sum() / len(day_counts)
    expected = days * mean_day
    stat = float(((totals - expected) ** 2 / expected).sum())
    low, high = poisson_interval(totals, days)
    return WeekdayEffect(totals / days / mean_day, low / mean_day, high / mean_day, days, float(chi2.sf(stat, 6)))


# --- category mix ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mix:
    """Category shares (Wilson 95% intervals); ``merged`` names the rare categories put into other."""

    shares: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    counts: dict[str, int]
    merged: dict[str, int]
    calls: int


def wilson_interval(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score 95% interval of a binomial share ``k / n``."""
    p = np.asarray(k, dtype=float) / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def category_mix(categories: np.ndarray, min_calls: int = MIN_CATEGORY) -> Mix:
    """Shares of the categories; those with fewer than ``min_calls`` calls go into ``other``."""
    names, counts = np.unique(np.where(categories == "", "other", categories).astype(str), return_counts=True)
    rare = (counts < min_calls) & (names != "other")
    merged = {str(n): int(c) for n, c in zip(names[rare], counts[rare], strict=True)}
    kept = {str(n): int(c) for n, c in zip(names[~rare], counts[~rare], strict=True)}
    if merged:
        kept["other"] = kept.get("other", 0) + sum(merged.values())
    n = int(counts.sum())
    order = sorted(kept, key=lambda c: (-kept[c], c))
    k = np.array([kept[c] for c in order])
    low, high = wilson_interval(k, n)
    shares = {c: round(kept[c] / n, 6) for c in order}
    if len(order) > 1:  # the largest share takes the rounding, so that they add up to 1
        shares[order[0]] = round(1.0 - sum(shares[c] for c in order[1:]), 6)
    else:
        shares[order[0]] = 1.0
    return Mix(
        shares=shares,
        low=dict(zip(order, low.tolist(), strict=True)),
        high=dict(zip(order, high.tolist(), strict=True)),
        counts={c: kept[c] for c in order},
        merged=merged,
        calls=n,
    )


def language_mix(languages: np.ndarray) -> Mix:
    """Shares of the callers' languages (calls with one), every language kept on its own."""
    return category_mix(languages, min_calls=1)


# --- redials -----------------------------------------------------------------------------------

REDIAL_WINDOW_S = HOUR_S  # a call of the same caller within this of hanging up is a redial


@dataclass(frozen=True)
class Redials:
    """Hang-ups in the queue followed by a call of the same caller within ``window_s``.

    ``hangups``: hang-ups of known callers at least ``window_s`` before the log's last call (a
    later one's redial could fall past the log), ``redialled`` of them followed by a redial, with
    its Wilson 95% interval; ``delays_s``: hang-up to the redial's start, every redial;
    ``is_redial``: per call of the log, whether it was one."""

    hangups: int
    redialled: int
    low: float
    high: float
    delays_s: np.ndarray
    is_redial: np.ndarray
    window_s: float

    @property
    def share(self) -> float:
        return self.redialled / self.hangups if self.hangups else math.nan


def find_redials(
    caller: np.ndarray,
    started_s: np.ndarray,
    hung_up: np.ndarray,
    hung_up_s: np.ndarray,
    end_s: float,
    window_s: float = REDIAL_WINDOW_S,
) -> Redials:
    """The redials among calls (``caller``: hashed numbers, "" unknown; ``hung_up``: hung up in
    the queue, at ``hung_up_s``); ``end_s``: the log's last call."""
    callers = caller.astype(str)
    order = np.lexsort((started_s, callers))  # by caller, then by start
    same = (callers[order][1:] == callers[order][:-1]) & (callers[order][1:] != "")
    before, after = order[:-1][same], order[1:][same]
    with np.errstate(invalid="ignore"):
        delay = started_s[after] - hung_up_s[before]
        redial = hung_up[before] & (delay >= 0) & (delay <= window_s)
        seen = hung_up & (callers != "") & (hung_up_s + window_s <= end_s)
    is_redial = np.zeros(len(caller), dtype=bool)
    is_redial[after[redial]] = True
    hangups = int(seen.sum())
    redialled = int(np.count_nonzero(seen[before[redial]]))
    low, high = wilson_interval(np.array([redialled]), hangups) if hangups else (np.array([math.nan]),) * 2
    return Redials(hangups, redialled, float(low[0]), float(high[0]), delay[redial], is_redial, window_s)
