"""The callers' draws: common random numbers across staffing and classes."""

from __future__ import annotations

import numpy as np

from queueing.core.draws import BUCKETS, _pick, _queue_order, draw_callers
from queueing.core.scenario_file import load_scenario


def test_more_agents_same_callers(write_scenario) -> None:
    """Common random numbers: arrivals, categories, handle times and patience do not depend on staffing."""
    few = load_scenario(write_scenario(agents=9, patience="3m", name="few.yaml"))
    many = load_scenario(write_scenario(agents=14, patience="3m", name="many.yaml"))
    for r in range(2):
        a, b = draw_callers(few, r), draw_callers(many, r)
        for column in ("cls", "category", "arrival_s", "queued_s", "handle_s", "patience_s"):
            np.testing.assert_array_equal(getattr(a, column), getattr(b, column))
    # ...and replications differ from each other.
    assert not np.array_equal(draw_callers(few, 0).arrival_s[:50], draw_callers(few, 1).arrival_s[:50])


def test_adding_a_class_leaves_other_classes_draws_alone(write_scenario) -> None:
    two = load_scenario(write_scenario(rates=(36, 96)))
    one_less = load_scenario(write_scenario(rates=(36, 0), name="b.yaml"))
    a, b = draw_callers(two, 0), draw_callers(one_less, 0)
    np.testing.assert_array_equal(a.arrival_s[a.cls == 0], b.arrival_s[b.cls == 0])
    np.testing.assert_array_equal(a.handle_s[a.cls == 0], b.handle_s[b.cls == 0])


def test_the_queue_order_is_the_stable_argsort_of_every_classs_queue_times() -> None:
    """Classes sorted each on its own and then merged give the order of one stable sort of all of
    them: ties between classes to the earlier class, within a class to the earlier caller."""
    rng = np.random.default_rng(3)
    sorted_class = np.sort(rng.integers(0, 50, 300)).astype(float)  # no IVR: in arrival order
    with_ivr = rng.integers(0, 50, 400) + rng.integers(0, 3, 400) * 0.5  # ties within and across
    no_ties = rng.random(500) * 50
    nan = rng.random(20) * 50
    nan[[3, 7, 11]] = np.nan
    for classes in ([sorted_class, with_ivr], [no_ties, sorted_class, with_ivr, nan], [no_ties], [sorted_class]):
        expected = np.argsort(np.concatenate(classes), kind="stable")
        assert np.array_equal(_queue_order([c.copy() for c in classes]), expected)


def test_picking_by_cumulative_shares_is_searchsorted() -> None:
    """Categories and languages picked from a table of parts of [0, 1) are those a search of the
    cumulative shares gives, at the parts' edges and at the shares themselves too."""
    rng = np.random.default_rng(8)
    for shares in ([1.0], [0.5, 0.5], [0.17, 0.12, 0.09, 0.09, 0.08, 0.06, 0.05, 0.04] + [0.3 / 7] * 7, [1e-6] * 3):
        cum = np.cumsum(shares)
        u = np.concatenate([rng.random(5000), cum[cum < 1], np.arange(BUCKETS) / BUCKETS, [np.nextafter(1.0, 0.0)]])
        assert np.array_equal(_pick(cum, u), np.searchsorted(cum, u, side="right"))
