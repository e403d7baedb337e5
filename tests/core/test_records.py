"""calls.csv's rows: the same whatever number of callers is turned into Python objects at a time."""

from __future__ import annotations

from queueing import load_scenario, simulate
from queueing.core import records
from tests.support import REPO


def test_call_rows_do_not_depend_on_how_many_are_made_at_a_time(monkeypatch) -> None:
    """Office hours: closed calls (no queue time, no wait) and unanswered ones (no answer, pool or
    agent) fall on both sides of the cuts; call ids run on across them."""
    scenario = load_scenario(REPO / "tests" / "scenarios" / "office-hours.yaml")
    result = simulate(scenario, replications=2, jobs=1, keep_calls=True)
    whole = list(result.calls.rows())
    assert {row[-1] for row in whole} >= {"closed", "answered"}
    assert any(row[5] is None for row in whole) and any(row[6] is None for row in whole)
    monkeypatch.setattr(records, "ROWS_AT_A_TIME", 7)
    assert len(whole) > 7 * 3
    assert list(result.calls.rows()) == whole
    assert [row[1] for row in whole if row[0] == 0] == list(range(1, 1 + sum(row[0] == 0 for row in whole)))
