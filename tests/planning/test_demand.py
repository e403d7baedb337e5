"""Demand of a call log: the weekday effect, tested and said only when significant."""

from __future__ import annotations

import numpy as np

from queueing.output.calibration import weekday_lines
from queueing.planning.demand import weekday_effect


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
    assert "significant" in weekday_lines(busy)[0] and "Mon 1.2" in " ".join(weekday_lines(busy))
    flat = weekday_effect(rng.poisson(800.0, 28).astype(float), weekdays)
    assert flat is not None and not flat.significant and "none significant" in weekday_lines(flat)[0]
    assert weekday_effect(np.full(14, 800.0), np.arange(14) % 7) is None
    assert "not tested" in weekday_lines(None)[0]
