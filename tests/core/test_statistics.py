"""queueing.core.statistics against scipy.stats: the same intervals, computed one way everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from queueing.core.statistics import (
    column_estimates,
    estimate,
    lower_bounds,
    paired_difference,
    share,
    share_estimate,
)

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


# --- shares: an interval within 0-1 ------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 1.0, 1.0, 1.0, 0.8],  # a share near 1: the t interval passes 1
        [0.0, 0.0, 0.0, 0.05, 0.0, 0.0],  # near 0: the t interval passes 0
        [0.97, 1.0, 0.99, 1.0, 0.94, 1.0, 1.0, 0.98],
    ],
)
def test_a_shares_interval_stays_within_0_and_1_and_holds_the_mean(values: list[float]) -> None:
    t_lo, t_hi = estimate(values)["ci95"]
    assert t_lo < 0 or t_hi > 1 or values[2] == 0.99  # the t interval leaves 0-1 in the first two
    est = share_estimate(values)
    lo, hi = est["ci95"]
    assert est["value"] == pytest.approx(np.mean(values))
    assert 0.0 <= lo <= est["value"] <= hi <= 1.0


def test_a_shares_interval_is_the_t_interval_away_from_0_and_1() -> None:
    rng = np.random.default_rng(5)
    values = rng.uniform(0.4, 0.6, size=20).tolist()
    assert share_estimate(values)["ci95"] == pytest.approx(estimate(values)["ci95"], abs=2e-4)


def test_a_shares_interval_of_single_calls_is_wilsons_score_interval() -> None:
    # Each replication one call, answered in time or not: the effective size is the calls (less
    # one, the t interval's degrees of freedom), so the interval is Wilson's for k of n.
    n, k = 4000, 3990
    values = [1.0] * k + [0.0] * (n - k)
    wilson = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert share_estimate(values)["ci95"] == pytest.approx([wilson.low, wilson.high], rel=1e-3)


def test_a_shares_interval_of_agreeing_replications_is_the_mean() -> None:
    assert share_estimate([1.0, 1.0, 1.0])["ci95"] == [1.0, 1.0]
    assert share_estimate([0.5])["ci95"] == [None, None]
    assert share_estimate([])["value"] is None
    mean, lo, hi = column_estimates(np.array([[1.0, 0.5], [1.0, 0.5], [0.8, 0.7]]), share_estimate)
    assert hi[0] <= 1.0 and lo[0] >= 0.0 and mean[1] == pytest.approx(0.5667, abs=1e-4)
