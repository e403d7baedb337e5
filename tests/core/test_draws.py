"""The callers' draws: common random numbers across staffing and classes."""

from __future__ import annotations

import numpy as np

from queueing.core.draws import draw_callers
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
