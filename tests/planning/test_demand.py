"""Demand of a call log: the weekday effect, tested and said only when significant, and surges
told from quiet weekends."""

from __future__ import annotations

import numpy as np

from queueing.core.durations import DAY_S
from queueing.output.calibration import weekday_lines
from queueing.planning.demand import arrival_profile, weekday_effect

MONDAY = 1714953600.0  # 2024-05-06T00:00Z


def test_weekday_effect_is_tested_and_said_only_when_significant():
    """Four weeks of whole days: a Monday-heavy, weekend-light centre is called significant with
    factors whose intervals cover the truth; a flat one is not; under three weeks, not tested."""
    rng = np.random.default_rng(4)
    truth = np.array([1.25, 1.0, 1.0, 1.0, 1.0, 0.85, 0.9])
    truth = truth / truth.mean()
    weekdays = np.arange(28) % 7
    busy = weekday_effect(rng.poisson(800 * truth[weekdays]).astype(float), weekdays)
    assert busy is not None and busy.significant
    assert np.all((busy.low <= truth) & (truth <= busy.high))
    assert "significant" in weekday_lines(busy)[0]
    week = busy.of_a_week()
    assert abs(week.factor.mean() - 1) < 1e-12
    assert np.all((week.low <= truth) & (truth <= week.high))
    assert np.allclose(week.factor * busy.mean_factor, busy.factor)  # the same rates, scaled once
    flat = weekday_effect(rng.poisson(800.0, 28).astype(float), weekdays)
    assert flat is not None and not flat.significant and "none significant" in weekday_lines(flat)[0]
    assert weekday_effect(np.full(14, 800.0), np.arange(14) % 7) is None
    assert "not tested" in weekday_lines(None)[0]


def _calls(volumes: list[float], rng: np.random.Generator) -> np.ndarray:
    """Start times (seconds since 1970) of days from MONDAY with these expected volumes, flat over the day."""
    days = [MONDAY + d * DAY_S + rng.uniform(0, DAY_S, rng.poisson(v)) for d, v in enumerate(volumes)]
    return np.sort(np.concatenate(days))


def test_a_quiet_weekend_is_no_surge_and_a_surge_on_a_busy_weekday_is_one():
    """Four weeks of a 311 line that is half as busy at the weekend, and a storm doubling one
    Wednesday: the storm alone is a candidate surge, and the weekend shows as a weekday effect."""
    rng = np.random.default_rng(7)
    week = [800.0, 760, 760, 760, 780, 400, 380]
    volumes = week * 4
    volumes[9] *= 2  # Wednesday 2024-05-15
    profile = arrival_profile(_calls(volumes, rng), MONDAY, MONDAY + 28 * DAY_S)
    assert [date for date, _, _ in profile.surges] == ["2024-05-15"]
    assert profile.days == 27
    effect = profile.weekday
    assert effect is not None and effect.significant and effect.days.tolist() == [4, 4, 3, 4, 4, 4, 4]
    truth = np.array(week) / np.mean(week)
    assert np.all(np.abs(effect.of_a_week().factor / truth - 1) < 0.06)
    assert abs(profile.rate.sum() * effect.mean_factor / np.mean(week) - 1) < 0.03  # a week's mean day
    assert np.allclose(profile.rate, profile.rate.mean(), rtol=0.25)  # flat over the hours of the day


def test_whole_days_without_calls_have_no_weekday_effect() -> None:
    """Three weeks of whole days without a call (a class seen only on part days) divided 0 by 0:
    numpy's 'invalid value encountered in divide' on the user's screen."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert weekday_effect(np.zeros(21), np.arange(21) % 7) is None
