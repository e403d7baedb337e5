"""``ivr311 calibrate``: a call log (as ``ivr311 calls export`` writes it) becomes a scenario.

Per class (the log's ``queue`` column) it estimates, with numpy and pandas over whole columns:

- arrivals per hour of day (exact Poisson 95% intervals; days far outside the profile are listed
  as candidate surges and left out of it);
- the category mix (Wilson 95% intervals; categories with too few calls merged into ``other``);
- menu time (started -> enqueued) and handle time (answered -> ended; per class and per category
  with enough calls): maximum-likelihood exponential, lognormal and gamma fits, the one with the
  smallest AIC kept when a Kolmogorov-Smirnov test does not reject it, empirical quantiles
  otherwise;
- patience, right-censored: a caller who hung up in the queue shows her patience, a caller who
  was answered only that her patience exceeded her wait. Kaplan-Meier for the curve, censored
  maximum likelihood for the distribution (exponential: hang-ups / total time waited).

The log is parsed here, not with ``ivr``'s code: the two packages share the file format only.
Demand comes from the log; staffing, targets, horizon, seed and replications from ``--base``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..core.distributions import MAX_SPREAD
from ..core.durations import DAY_S, HOUR_S, format_duration, format_shift_time
from ..core.scenario import Scenario, parse_scenario
from ..errors import ScenarioError

LOG_COLUMNS = (
    "call_sid", "caller_hash", "started_at", "language", "category", "queue", "menu_attempts",
    "enqueued_at", "queue_result", "queue_time_s", "answered_at", "ended_at", "status", "duration_s",
)  # fmt: skip
"""The export schema (README, "The call log"); calibrate reads the columns in NEEDED."""
TIME_COLUMNS = ("started_at", "enqueued_at", "answered_at", "ended_at")
NEEDED = ("started_at", "category", "queue", "enqueued_at", "queue_result", "queue_time_s", "answered_at", "ended_at")

MIN_ARRIVALS = 20  # calls of a class in the window, for its arrival profile
MIN_MIX = 50  # calls of a class with a category, for the category mix
MIN_CATEGORY = 30  # calls of one category; fewer: merged into `other`
MIN_FIT = 50  # durations, for a fitted menu or handle time (per class or per category)
MIN_HANGUPS = 20  # hang-ups in the queue, for a patience estimate
KS_ALPHA = 0.01  # a fit whose KS p-value is below this does not fit: empirical instead
EMPIRICAL_POINTS = 200  # quantiles kept for an empirical distribution
SURGE_P = 1e-3  # a day is a candidate surge when its Poisson p-value is below SURGE_P / days ...
SURGE_RATIO = 0.2  # ... and its volume is at least 20% above (or below) the profile's
CHUNK_ROWS = 200_000  # rows parsed at a time (bounds memory on big logs)
TOLERANCE_S = 5.0  # clock skew allowed between a call's timestamps (webhook vs Twilio's clocks)
NO_MENU_S = 0.5  # a mean menu time below this is no menu (911 calls go straight to the queue)
Z95 = 1.959963984540054


# --- reading the log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallLog:
    """The columns calibrate needs, one entry per call; times in seconds since 1970 (NaN: empty)."""

    source: str
    started: np.ndarray
    enqueued: np.ndarray
    answered: np.ndarray
    ended: np.ndarray
    queue_time_s: np.ndarray
    queue: np.ndarray  # object: class name, "" when the caller never queued
    category: np.ndarray  # object: category code, "" when none
    queue_result: np.ndarray  # object: Twilio's QueueResult, "" when none

    def __len__(self) -> int:
        return len(self.started)

    def select(self, mask: np.ndarray) -> CallLog:
        return CallLog(self.source, *(getattr(self, f)[mask] for f in _ARRAYS))


_ARRAYS = ("started", "enqueued", "answered", "ended", "queue_time_s", "queue", "category", "queue_result")


def _malformed(source: str, line: int, column: str, reason: str) -> ScenarioError:
    return ScenarioError(f"{source}:{line}: {column}: {reason}")


def parse_time_s(text: str, option: str) -> float:
    """``2024-05-01`` or ``2024-05-01T08:00:00Z`` (naive = UTC) as seconds since 1970."""
    import pandas as pd

    try:
        when = pd.Timestamp(text.strip())
    except ValueError:
        raise ScenarioError(f"{option} {text!r}: expected an ISO 8601 time like 2024-05-01T08:00:00Z") from None
    if pd.isna(when):
        raise ScenarioError(f"{option} {text!r}: expected an ISO 8601 time like 2024-05-01T08:00:00Z")
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    return float(when.value) / 1e9


def _chunk_arrays(frame: Any, source: str, first_line: int) -> dict[str, np.ndarray]:
    """Parse one chunk of text columns (empty = missing); raise on the first malformed cell."""
    import pandas as pd

    out: dict[str, np.ndarray] = {}
    bad_at: list[tuple[int, str, str]] = []  # (row in chunk, column, reason): the earliest wins

    def note(bad: np.ndarray, column: str, reason: str) -> None:
        if bad.any():
            bad_at.append((int(np.argmax(bad)), column, reason))

    for col in TIME_COLUMNS:
        raw = frame[col]
        empty = (raw == "").to_numpy()
        parsed = pd.to_datetime(raw.where(~empty), format="ISO8601", utc=True, errors="coerce")
        seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
        note(~empty & np.isnan(seconds), col, f"not an ISO 8601 time like 2024-05-14T10:01:15.000Z ({col})")
        out[col] = seconds
    note(np.isnan(out["started_at"]) & (frame["started_at"] == "").to_numpy(), "started_at", "required")
    raw = frame["queue_time_s"]
    empty = (raw == "").to_numpy()
    qt = pd.to_numeric(raw.where(~empty), errors="coerce").to_numpy(dtype=float)
    note(~empty & ~np.isfinite(qt), "queue_time_s", "not a number of seconds")
    note(np.isfinite(qt) & (qt < 0), "queue_time_s", "must be >= 0")
    out["queue_time_s"] = qt
    for later, earlier in (("enqueued_at", "started_at"), ("answered_at", "enqueued_at"), ("ended_at", "answered_at")):
        with np.errstate(invalid="ignore"):
            note(out[later] < out[earlier] - TOLERANCE_S, later, f"before {earlier}")
    with np.errstate(invalid="ignore"):
        note(~np.isnan(out["answered_at"]) & np.isnan(out["enqueued_at"]), "answered_at", "answered but never enqueued")
    if bad_at:
        row, column, reason = min(bad_at)
        raise _malformed(source, first_line + row, column, reason)
    for col in ("queue", "category", "queue_result"):
        out[col] = frame[col].str.strip().to_numpy(dtype=object)
    return out


def _check_header(columns: Sequence[str], source: str) -> None:
    missing = [c for c in NEEDED if c not in columns]
    if missing:
        raise _malformed(
            source, 1, missing[0], "missing column (a call log as `ivr311 calls export` writes it has: "
            + ", ".join(LOG_COLUMNS) + ")"
        )  # fmt: skip


def _frames(path: Path, source: str) -> Any:
    """Chunks of text columns with the line of their first row."""
    import pandas as pd

    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    if path.suffix.lower() == ".json" or head.startswith(b"["):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            raise _malformed(source, line, "json", str(getattr(exc, "msg", exc))) from None
        if not isinstance(data, list):
            raise _malformed(source, 1, "json", "must be a list of calls")
        for i, rec in enumerate(data):
            if not isinstance(rec, dict):
                raise _malformed(source, i + 2, "json", "each call must be an object")
        columns = set().union(*(r.keys() for r in data)) if data else set(LOG_COLUMNS)
        _check_header(sorted(columns), source)
        frame = pd.DataFrame.from_records(data, columns=list(NEEDED))
        for col in NEEDED:
            values = frame[col]
            frame[col] = values.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
        # calls export writes one call a line after the opening bracket: call i is on line i + 2
        for start in range(0, len(frame), CHUNK_ROWS):
            yield frame.iloc[start : start + CHUNK_ROWS], start + 2
        return
    try:
        header = pd.read_csv(path, nrows=0, dtype=str).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _malformed(source, 1, "header", f"not a CSV call log ({exc})") from None
    _check_header(list(header), source)
    try:
        reader = pd.read_csv(
            path, usecols=list(NEEDED), dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS, encoding="utf-8"
        )
        line = 2
        for chunk in reader:
            yield chunk, line
            line += len(chunk)
    except pd.errors.ParserError as exc:
        text = str(exc)
        where = text.rsplit("line ", 1)[-1].split(",")[0] if "line " in text else "?"
        raise _malformed(source, int(where) if where.isdigit() else 0, "row", text.split(". ")[-1]) from None
    except UnicodeDecodeError as exc:
        raise _malformed(source, 0, "row", f"not UTF-8 text ({exc.reason})") from None


def read_call_log(path: str | Path) -> CallLog:
    """Read a call-log export (CSV or JSON). A malformed cell raises ScenarioError
    ``file:line: column: reason`` (the first one found)."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ScenarioError(f"{source}: no such file")
    parts = [_chunk_arrays(frame, source, line) for frame, line in _frames(path, source)]
    if not parts:
        raise ScenarioError(f"{source}: the call log has no calls")
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return CallLog(
        source=source,
        started=cols["started_at"],
        enqueued=cols["enqueued_at"],
        answered=cols["answered_at"],
        ended=cols["ended_at"],
        queue_time_s=cols["queue_time_s"],
        queue=cols["queue"],
        category=cols["category"],
        queue_result=cols["queue_result"],
    )


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


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
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


def _exposure_hours(start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Hours of the window as a (day, hour of day) grid: the first day (seconds since 1970) and,
    per day and hour, the fraction of that hour inside [start, end)."""
    day0 = math.floor(start_s / DAY_S) * DAY_S
    n_days = max(1, math.ceil((end_s - day0) / DAY_S))
    hour_start = day0 + np.arange(n_days * 24) * HOUR_S
    covered = np.clip(np.minimum(hour_start + HOUR_S, end_s) - np.maximum(hour_start, start_s), 0, HOUR_S) / HOUR_S
    return np.asarray(day0), covered.reshape(n_days, 24)


def poisson_interval(count: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95% interval of a Poisson rate: ``count`` events over ``exposure``."""
    from scipy.stats import chi2

    count = np.asarray(count, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(count > 0, chi2.ppf(0.025, 2 * count) / 2, 0.0) / exposure
        high = chi2.ppf(0.975, 2 * count + 2) / 2 / exposure
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
    keep = np.ones(n_days, dtype=bool)
    surges: list[tuple[str, int, float]] = []
    for _ in range(2):  # estimate, leave out the days far from it, estimate again
        block_counts = counts[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
        block_hours = cover[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.repeat(np.where(block_hours > 0, block_counts / block_hours, 0.0), per)
        expected = cover @ rate
        observed = counts.sum(axis=1)
        testable = cover.sum(axis=1) >= 12  # at least half a day in the window
        p = np.minimum(poisson.sf(observed - 1, expected), poisson.cdf(observed, expected))
        far = testable & (p < SURGE_P / n_days) & (np.abs(observed / np.maximum(expected, 1e-9) - 1) >= SURGE_RATIO)
        if not far.any() or far.all():
            break
        keep = ~far
        surges = [(_date(float(day0) + d * DAY_S), int(observed[d]), float(expected[d])) for d in np.flatnonzero(far)]
    block_counts = counts[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
    block_hours = cover[keep].sum(axis=0).reshape(-1, per).sum(axis=1)
    low, high = poisson_interval(block_counts, block_hours)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(block_hours > 0, block_counts / block_hours, 0.0)
    whole = keep & (cover.sum(axis=1) >= 24 - 1e-9)  # whole days, surges left out
    return Profile(
        rate=np.repeat(rate, per),
        low=np.repeat(low, per),
        high=np.repeat(high, per),
        calls=int(counts[keep].sum()),
        days=float(cover[keep].sum() / 24),
        surges=surges,
        weekday=_weekday_of_whole_days(counts, whole, float(day0)),
    )


def _weekday_of_whole_days(counts: np.ndarray, whole: np.ndarray, day0: float) -> WeekdayEffect | None:
    """The weekday effect over the whole days kept (other days count as missing)."""
    if not whole.any():
        return None
    first = int(np.flatnonzero(whole)[0])
    per_day = counts.sum(axis=1)[first:]
    kept = whole[first:]
    weekday_of = (np.arange(len(per_day)) + first + int(day0 // DAY_S) + 3) % 7  # 1970-01-01: Thursday
    return weekday_effect(per_day[kept], weekday_of[kept])


def weekday_effect(day_counts: np.ndarray, weekdays: np.ndarray) -> WeekdayEffect | None:
    """The weekday effect of whole days' call counts (`weekdays[d]`: 0 = Monday); None with
    fewer than MIN_WEEKS days of some weekday."""
    from scipy.stats import chi2

    days = np.bincount(weekdays, minlength=7).astype(float)
    if days.min() < MIN_WEEKS:
        return None
    totals = np.bincount(weekdays, weights=day_counts, minlength=7)
    mean_day = day_counts.sum() / len(day_counts)
    expected = days * mean_day
    stat = float(((totals - expected) ** 2 / expected).sum())
    low, high = poisson_interval(totals, days)
    return WeekdayEffect(totals / days / mean_day, low / mean_day, high / mean_day, days, float(chi2.sf(stat, 6)))


def _date(seconds: float) -> str:
    import pandas as pd

    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%d")


def _time(seconds: float) -> str:
    import pandas as pd

    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%dT%H:%MZ")


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
    return {"dist": family, "mean": _num(mean), "sd": _num(sd)}


def _num(x: float) -> float:
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
        "exponential": {"dist": "exponential", "mean": _num(mean)},
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
        dist: dict[str, Any] = {"dist": "exponential", "mean": _num(mean)}
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


# --- the whole calibration ---------------------------------------------------------------------


@dataclass
class ClassEstimate:
    name: str
    calls: int
    profile: Profile | None = None
    mix: Mix | None = None
    menu: DurationFit | None = None
    handle: DurationFit | None = None
    handle_by_category: dict[str, DurationFit] = field(default_factory=dict)
    patience: PatienceFit | None = None
    menu_hangups: int = 0


@dataclass
class Calibration:
    """What calibrate found: per-class estimates, the scenario text (validated), and one line per
    number that had too few calls (taken from --base)."""

    source: str
    start_s: float
    end_s: float
    calls: int
    menu_only: int
    classes: dict[str, ClassEstimate]
    warnings: list[str]
    text: str = ""
    scenario: Scenario | None = None


def _window(log: CallLog, since_s: float | None, until_s: float | None) -> tuple[CallLog, float, float]:
    mask = np.ones(len(log), dtype=bool)
    if since_s is not None:
        mask &= log.started >= since_s
    if until_s is not None:
        mask &= log.started < until_s
    sub = log.select(mask)
    if not len(sub):
        span = " ".join(
            p for p in (f"since {_time(since_s)}" if since_s else "", f"until {_time(until_s)}" if until_s else "") if p
        )
        raise ScenarioError(f"{log.source}: no calls {span}".rstrip() + " (nothing to calibrate)")
    start = since_s if since_s is not None else math.floor(float(sub.started.min()) / DAY_S) * DAY_S
    end = until_s if until_s is not None else math.ceil(float(sub.started.max()) / DAY_S + 1e-12) * DAY_S
    return sub, start, end


def estimate_class(
    name: str, log: CallLog, start_s: float, end_s: float, interval_s: float, has_categories: bool, warn: Any
) -> ClassEstimate:
    """Every number of one class that the log has enough calls for; ``warn(line)`` for the others."""
    est = ClassEstimate(name=name, calls=len(log))
    if len(log) >= MIN_ARRIVALS:
        est.profile = arrival_profile(log.started, start_s, end_s, interval_s)
    else:
        warn(f"{name} arrivals: too few calls ({len(log)}, need {MIN_ARRIVALS})")
    categorized = log.category != ""
    category = np.where(categorized, log.category, "other")
    if has_categories:
        if int(categorized.sum()) >= MIN_MIX:
            est.mix = category_mix(log.category[categorized])
        else:
            warn(f"{name} category mix: too few calls with a category ({int(categorized.sum())}, need {MIN_MIX})")
    queued = ~np.isnan(log.enqueued)
    menu = (log.enqueued - log.started)[queued]
    if len(menu) >= MIN_FIT:
        est.menu = fit_durations(np.maximum(menu, 0.0))
    else:
        warn(f"{name} menu time: too few calls that reached the queue ({len(menu)}, need {MIN_FIT})")
    answered = ~np.isnan(log.answered) & ~np.isnan(log.ended)
    handle = np.maximum(log.ended - log.answered, 0.0)
    if int(answered.sum()) >= MIN_FIT:
        est.handle = fit_durations(handle[answered])
    else:
        warn(f"{name} handle time: too few answered calls ({int(answered.sum())}, need {MIN_FIT})")
    if est.mix is not None:
        merged = np.isin(category, list(est.mix.merged)) if est.mix.merged else np.zeros(len(log), dtype=bool)
        category = np.where(merged, "other", category)
        for cat in est.mix.shares:
            mask = answered & (category == cat)
            if int(mask.sum()) >= MIN_FIT:
                est.handle_by_category[cat] = fit_durations(handle[mask])
    # patience: hang-ups in the queue are events, answered callers censored at their wait
    # (other results, e.g. leave or queue-full, are censored at their wait; no result and no
    # answer: still waiting when the log was exported, left out)
    import pandas as pd

    result = pd.Series(log.queue_result, dtype=object).str.lower().to_numpy(dtype=object)
    was_answered = ~np.isnan(log.answered)
    hung_up = queued & (result == "hangup") & ~was_answered
    left = np.where(~np.isnan(log.ended), log.ended - log.enqueued, log.queue_time_s)
    wait = np.where(was_answered, log.answered - log.enqueued, left)
    known = queued & ~np.isnan(wait) & (was_answered | (result != ""))
    if int(hung_up.sum()) >= MIN_HANGUPS:
        est.patience = fit_patience(np.maximum(wait[known], 0.0), hung_up[known])
    else:
        warn(f"{name} patience: too few hang-ups in the queue ({int(hung_up.sum())}, need {MIN_HANGUPS})")
    return est


def calibrate(
    log: CallLog,
    base: Scenario,
    *,
    base_source: str = "--base",
    command: str = "ivr311 calibrate",
    interval_s: float = HOUR_S,
    since_s: float | None = None,
    until_s: float | None = None,
) -> Calibration:
    """Estimate every class of ``base`` from ``log`` and render the scenario (validated)."""
    if interval_s < HOUR_S or interval_s % HOUR_S or DAY_S % interval_s:
        raise ScenarioError("--interval: must be whole hours dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)")
    log, start, end = _window(log, since_s, until_s)
    warnings: list[str] = []
    in_queue = log.queue != ""
    names, counts = np.unique(log.queue[in_queue].astype(str), return_counts=True)
    for q, c in zip(names, counts, strict=True):
        if q not in base.classes:
            warnings.append(f"queue {q!r}: {c} calls, not a class of {base_source}; left out")
    classes: dict[str, ClassEstimate] = {}
    for name in base.class_names():
        mine = log.select(log.queue == name)
        categorized = bool(base.classes[name].categories) or bool((mine.category != "").any())
        classes[name] = estimate_class(name, mine, start, end, interval_s, categorized, warnings.append)
    cal = Calibration(
        source=log.source,
        start_s=start,
        end_s=end,
        calls=len(log),
        menu_only=int((~in_queue).sum()),
        classes=classes,
        warnings=warnings,
    )
    cal.text = render(cal, base, base_source, command, interval_s)
    cal.scenario = parse_scenario(cal.text, "calibrated scenario")
    return cal


# --- the scenario file -------------------------------------------------------------------------


def _flow(value: Any) -> str:
    if not isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)  # a scalar (strings double-quoted) YAML reads back
    return yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False).strip()


def _ci(low: float, high: float, fmt: str = "{:.1f}") -> str:
    return "[" + fmt.format(low) + ", " + fmt.format(high) + "]"


def _fit_note(fit: DurationFit) -> str:
    aic = ", ".join(f"{f} {v:,.0f}" for f, v in fit.aic.items())
    verdict = (
        f"{fit.family} (smallest AIC)"
        if fit.family != "empirical"
        else f"empirical: {EMPIRICAL_POINTS} quantiles ({fit.best} had the smallest AIC but KS rejects it)"
    )
    return (
        f"{fit.n:,} calls; {verdict}; AIC {aic}; KS D={fit.ks_d:.4f} p={fit.ks_p:.3g}; "
        f"mean {fit.mean:.1f} s {_ci(fit.mean_low, fit.mean_high)}"
    )


def _wrap(prefix: str, items: Sequence[str], per_line: int) -> list[str]:
    return [prefix + "   ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]


def render(cal: Calibration, base: Scenario, base_source: str, command: str, interval_s: float) -> str:
    """The calibrated scenario as YAML, every number with a comment saying where it comes from."""
    days = (cal.end_s - cal.start_s) / DAY_S
    base_data = base.to_data()
    lines = [
        f"# Calibrated by `{command}` from {cal.source}:",
        f"# {cal.calls:,} calls started {_time(cal.start_s)} .. {_time(cal.end_s)} ({days:.1f} days; hours of day",
        f"# in UTC, the log's clock); {cal.menu_only:,} of them hung up in the menu (in no queue; left out).",
        f"# Staffing, targets, priorities, horizon, seed and replications from {base_source}.",
        "# Durations in seconds. [a, b] is a 95% interval. Rates are calls per hour.",
        f"name: {_flow(base.name + ' (calibrated from ' + Path(cal.source).name + ')')}",
        f"seed: {base.seed}",
        f"horizon: {_flow(format_duration(base.horizon))}",
        f"warmup: {_flow(format_duration(base.warmup) if base.warmup else 0)}",
        f"replications: {base.replications}",
        "classes:",
    ]
    for name in base.class_names():
        lines += _class_lines(cal.classes[name], base, base_source, interval_s)
    lines.append(f"# from {base_source}")
    lines.append("staffing:")
    lines.append("  pools:")
    for pool in base_data["staffing"]["pools"]:
        if "shifts" in pool:
            pool["shifts"] = [
                {"start": format_shift_time(s["start"]), "end": format_shift_time(s["end"]), "agents": s["agents"]}
                for s in pool["shifts"]
            ]
        lines.append(f"    - {_flow(pool)}")
    if base_data.get("targets"):
        lines.append(f"# from {base_source}")
        lines.append("targets:")
        for cname, targets in base_data["targets"].items():
            rows = [{"within": format_duration(t["within"]), "share": t["share"]} for t in targets]
            lines.append(f"  {_flow(cname)}: {_flow(rows)}")
    return "\n".join(lines) + "\n"


def weekday_lines(effect: WeekdayEffect | None) -> list[str]:
    """What the file (and the console) say of the weekday effect."""
    if effect is None:
        return [f"weekday effect: not tested (fewer than {MIN_WEEKS} whole days of each weekday)"]
    if not effect.significant:
        return [f"weekday effect: none significant over {int(effect.days.sum())} whole days (p = {effect.p_value:.2g})"]
    cells = [
        f"{d} {f:.2f} {_ci(lo, hi, '{:.2f}')}"
        for d, f, lo, hi in zip(WEEKDAYS, effect.factor, effect.low, effect.high, strict=True)
    ]
    return [
        f"weekday effect: significant (p = {effect.p_value:.2g}; volume relative to the mean day [95% interval]):",
        *_wrap("  ", cells, 4),
        "  a scenario holds one daily profile, so this one is the average day: scale its rates by a",
        "  weekday's factor to simulate that weekday",
    ]


def _class_lines(est: ClassEstimate, base: Scenario, base_source: str, interval_s: float) -> list[str]:
    cc = base.classes[est.name]
    bd = cc.model_dump(by_alias=True, exclude_none=True)
    out = [f"  {_flow(est.name)}:", f"    priority: {cc.priority}"]
    p = est.profile
    if p is not None:
        out.append(
            f"    # arrivals: {p.calls:,} calls over {p.days:.1f} days, per hour of day pooled by "
            f"{format_duration(interval_s)}; rate [95% interval]:"
        )
        cells = [f"{h:02d}h {p.rate[h]:.2f} {_ci(p.low[h], p.high[h], '{:.2f}')}" for h in range(0, 24)]
        out += _wrap("    #   ", cells, 4)
        for date, n, expected in p.surges:
            out.append(
                f"    # candidate surge (left out of the profile): {date}, {n:,} calls, "
                f"profile expects {expected:,.0f} ({n / expected:.2f}x)"
            )
        out += [f"    # {line}" for line in weekday_lines(p.weekday)]
        out.append(f"    arrivals: {{profile_per_hour: {_flow([round(float(r), 3) for r in p.rate])}}}")
    else:
        out.append(f"    # arrivals from {base_source} (too few calls in the log: {est.calls})")
        out.append(f"    arrivals: {_flow(bd['arrivals'])}")
    handle = est.handle.dist if est.handle else bd.get("handle_time")
    if est.handle:
        out.append(f"    # handle time (answered -> ended): {_fit_note(est.handle)}")
    elif handle is not None:
        out.append(f"    # handle time from {base_source} (too few answered calls in the log)")
    if est.mix is not None and handle is None and len(est.handle_by_category) < len(est.mix.shares):
        handle = {"dist": "exponential", "mean": _num(cc.mean_handle_s())}
        out.append(f"    # handle time: the mean of {base_source}'s categories, exponential")
    if handle is not None:
        out.append(f"    handle_time: {_flow(handle)}")
    if est.menu and est.menu.mean < NO_MENU_S:
        out.append(
            f"    # no menu time: {est.menu.n:,} calls queued {est.menu.mean:.2f} s after they started on average"
        )
    elif est.menu:
        out.append(f"    # menu time (started -> enqueued): {_fit_note(est.menu)}")
        out.append(f"    ivr_time: {_flow(est.menu.dist)}")
    elif "ivr_time" in bd:
        out.append(f"    # menu time from {base_source} (too few calls in the log)")
        out.append(f"    ivr_time: {_flow(bd['ivr_time'])}")
    pf = est.patience
    if pf is not None:
        km = pf.km
        median = km.median()
        checkpoints = []
        for t in (30.0, 60.0, 120.0, 300.0, 600.0):
            s, lo, hi = km.at(t)
            if math.isnan(s):
                checkpoints.append(f"S({format_duration(t)}) n/a (fewer than 20 still waiting)")
            else:
                checkpoints.append(f"S({format_duration(t)}) {s:.3f} {_ci(lo, hi, '{:.3f}')}")
        aic = ", ".join(f"{f} {v:,.0f}" for f, v in pf.aic.items())
        out += [
            f"    # patience, right-censored: {pf.hangups:,} hung up in the queue (patience seen), {pf.answered:,}",
            "    # answered (patience longer than their wait). Kaplan-Meier: median "
            + (f"{median:.1f} s" if median is not None else "beyond the longest wait")
            + ";",
            *_wrap("    #   ", checkpoints, 3),
            f"    # censored MLE: {pf.family} (smallest AIC; {aic}); largest gap to Kaplan-Meier",
            f"    # {pf.km_distance:.3f} (where 20 or more still wait);",
            f"    # mean {pf.mean:.1f} s {_ci(pf.mean_low, pf.mean_high)}. Ignoring the censoring (mean wait of those",
            f"    # who hung up) would say {pf.naive_mean:.1f} s.",
            f"    patience: {_flow(pf.dist)}",
        ]
    elif "patience" in bd:
        out.append(f"    # patience from {base_source} (too few hang-ups in the log)")
        out.append(f"    patience: {_flow(bd['patience'])}")
    mix = est.mix
    if mix is not None:
        out.append(f"    # category shares of {mix.calls:,} calls with a category [95% interval]")
        if mix.merged:
            named = ", ".join(f"{c} ({n})" for c, n in sorted(mix.merged.items()))
            out.append(f"    # merged into other (fewer than {MIN_CATEGORY} calls each): {named}")
        out.append("    categories:")
        for cat, share in mix.shares.items():
            entry: dict[str, Any] = {"share": share}
            note = f"{mix.counts[cat]:,} calls {_ci(mix.low[cat], mix.high[cat], '{:.4f}')}"
            fit = est.handle_by_category.get(cat)
            if fit is not None:
                entry["handle_time"] = fit.dist
                out.append(f"      # {cat} handle time: {_fit_note(fit)}")
            else:
                note += f"; handle time: the class's (fewer than {MIN_FIT} answered)"
            out.append(f"      {_flow(cat)}: {_flow(entry)}   # {note}")
    elif "categories" in bd:
        out.append(f"    # categories from {base_source} (too few calls with a category in the log)")
        out.append("    categories:")
        for cat, entry in bd["categories"].items():
            out.append(f"      {_flow(cat)}: {_flow(entry)}")
    return out


# --- the model's calls as a call log (tests, benchmarks, the loop of issue 10) ------------------


def simulated_call_log(result: Any, start: str = "2024-05-01") -> Any:
    """The calls of a simulation (``simulate(..., keep_calls=True)``) as a pandas DataFrame in the
    export schema: replication r starts r whole days (of the horizon, rounded up) after ``start``.
    Abandoned callers hung up in the queue; callers still waiting at the horizon have no result."""
    import pandas as pd

    scenario = result.scenario
    names = scenario.class_names()
    cats = [list(scenario.classes[c].categories or {}) for c in names]
    days = math.ceil(scenario.horizon / DAY_S)
    t0 = pd.Timestamp(start, tz="UTC").value / 1e9
    frames = []
    for r, rec in zip((x.replication for x in result.replications), result.records(), strict=True):
        c = rec.callers
        off = t0 + r * days * DAY_S
        queued = c.queued_s < scenario.horizon
        answered = rec.outcome == 0
        abandoned = rec.outcome == 1
        cls = np.asarray(names, dtype=object)[c.cls]
        category = np.full(len(c.cls), "", dtype=object)
        for i, cat_names in enumerate(cats):
            mine = (c.cls == i) & (c.category >= 0)
            category[mine] = np.asarray(cat_names, dtype=object)[c.category[mine]]
        ended = np.where(answered | abandoned, rec.ended_s, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "started": off + c.arrival_s,
                    "enqueued": np.where(queued, off + c.queued_s, np.nan),
                    "answered": np.where(answered, off + rec.answered_s, np.nan),
                    "ended": off + ended,
                    "queue": np.where(queued, cls, ""),
                    "category": category,
                    "queue_result": np.where(answered, "bridged", np.where(abandoned & queued, "hangup", "")),
                    "queue_time_s": np.where(answered | abandoned, rec.wait_s, np.nan),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True).sort_values("started", kind="stable", ignore_index=True)
    n = len(df)

    def stamp(seconds: Any) -> Any:
        ts = pd.to_datetime(np.round(seconds.to_numpy() * 1000), unit="ms", utc=True)
        return pd.Series(ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str[:-4] + "Z", index=seconds.index).where(
            seconds.notna(), ""
        )

    out = pd.DataFrame(
        {
            "call_sid": [f"CA{i:032x}" for i in range(n)],
            "caller_hash": [f"{i * 2654435761 % 2**128:032x}" for i in range(n)],
            "started_at": stamp(df["started"]),
            "language": "en",
            "category": df["category"],
            "queue": df["queue"],
            "menu_attempts": 1,
            "enqueued_at": stamp(df["enqueued"]),
            "queue_result": df["queue_result"],
            "queue_time_s": df["queue_time_s"].round(3),
            "answered_at": stamp(df["answered"]),
            "ended_at": stamp(df["ended"]),
            "status": np.where(df["ended"].notna(), "completed", "in-progress"),
            "duration_s": np.round(df["ended"] - df["started"]),
        }
    )
    return out[list(LOG_COLUMNS)]
