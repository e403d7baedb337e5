"""queueing.core.statistics against scipy.stats: the same intervals, computed one way everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from queueing.core.statistics import column_estimates, estimate, lower_bounds, paired_difference, share

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=2, max_size=40))
def test_estimate_is_scipys_t_interval(values: list[float]) -> None:
    est = estimate(values)
    x = np.asarray(values)
    assert est["value"] == pytest.approx(x.mean(), rel=1e-12, abs=1e-9)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x)) if x.std() > 0 else (x[0], x[0])
    assert est["ci95"][0] == pytest.approx(lo, rel=1e-9, abs=1e-6)
    assert est["ci95"][1] == pytest.approx(hi, rel=1e-9, abs=1e-6)


def test_estimate_leaves_out_nan_and_says_unknown() -> None:
    assert estimate([]) == {"value": None, "ci95": [None, None]}
    assert estimate([math.nan, 3.0]) == {"value": 3.0, "ci95": [None, None]}
    assert estimate([1.0, math.nan, 3.0])["ci95"] == estimate([1.0, 3.0])["ci95"]


# scipy warns when the differences are nearly equal (its moments lose precision); both sides are
# still compared, within the tolerance below.
@pytest.mark.filterwarnings("ignore:Precision loss occurred in moment calculation:RuntimeWarning")
@given(st.lists(st.tuples(finite, finite), min_size=3, max_size=30))
def test_paired_difference_is_scipys_paired_t(pairs: list[tuple[float, float]]) -> None:
    a, b = (np.array(x) for x in zip(*pairs, strict=True))
    assume(np.std(b - a) > 0)  # scipy's interval is NaN there; ours is the point itself
    diff, lo, hi = paired_difference(a, b)
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert (diff, lo, hi) == pytest.approx((np.mean(b - a), ci.low, ci.high), rel=1e-9, abs=1e-6)


def test_lower_bounds_are_one_sided_t_bounds() -> None:
    rng = np.random.default_rng(9)
    values = rng.random((7, 3))
    values[2, 1] = np.nan  # no callers in that replication: one value fewer
    count, lower = lower_bounds(values, 0.9)
    assert count.tolist() == [7, 6, 7]
    for j in range(3):
        x = values[:, j][~np.isnan(values[:, j])]
        expected = x.mean() - stats.t.ppf(0.9, len(x) - 1) * stats.sem(x)
        assert lower[j] == pytest.approx(expected, rel=1e-12)
    assert np.allclose(lower_bounds(values, 0.5)[1], np.nanmean(values, axis=0))


def test_column_estimates_are_estimates_per_column() -> None:
    values = np.array([[1.0, np.nan], [2.0, 5.0], [4.0, np.nan]])
    mean, lo, hi = column_estimates(values)
    est = estimate([1.0, 2.0, 4.0])
    assert (mean[0], lo[0], hi[0]) == (est["value"], *est["ci95"])
    assert mean[1] == 5.0 and np.isnan(lo[1]) and np.isnan(hi[1])


def test_share_is_nan_without_calls() -> None:
    assert share(3, 4) == 0.75 and isinstance(share(3, 4), float)
    assert math.isnan(share(0, 0))
    out = share(np.array([1.0, 0.0, 2.0]), np.array([2.0, 0.0, 4.0]))
    assert out[0] == 0.5 and np.isnan(out[1]) and out[2] == 0.5
