"""Transfers, redials, callbacks and languages measured from hand-built call records: exact counts
and waits of a few calls whose fate is written out below, and the files' columns for them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from queueing.core.call_flows import _distinct, flows_of, interval_flow_columns, previous_leg, replication_flows
from queueing.core.metrics import interval_columns, replication_intervals, replication_measures, summarize
from queueing.core.records import call_rows, calls_columns
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from tests.support.flows import ROWS, SCENARIO, records


@pytest.fixture
def scenario():  # type: ignore[no-untyped-def]
    return parse_scenario(SCENARIO)


def test_the_flows_a_scenario_uses(scenario) -> None:  # type: ignore[no-untyped-def]
    flows = flows_of(scenario)
    assert (flows.transfers, flows.redials, flows.callbacks, flows.languages) == (True, True, True, ("en", "es"))
    plain = parse_scenario(SCENARIO.replace('    transfer: {to: "311", share: 0.25, triage_time: 30s}\n', ""))
    assert not flows_of(plain).transfers
    assert interval_flow_columns(plain) == ["redials", "callbacks_accepted", "callbacks_unanswered"]


def test_a_transferred_legs_first_leg_is_the_callers_row_before_it() -> None:
    assert previous_leg(records()).tolist() == [-1, -1, 0, -1, -1, -1, -1, 1]


def test_transfers_counted_per_class_and_route_with_the_waits_before_and_after(scenario) -> None:  # type: ignore[no-untyped-def]
    rec = records()
    m = replication_flows(scenario, rec, np.ones(len(ROWS), dtype=bool))
    assert m[("classes", "911", "transfers", "out")] == 1
    assert m[("classes", "311", "transfers", "in")] == 1
    assert m[("classes", "911", "transfers", "in")] == m[("classes", "311", "transfers", "out")] == 0
    assert m[("classes", "311", "diverted")] == 1
    route = {k[3:]: v for k, v in m.items() if k[:3] == ("transfers", "911", "311")}
    assert route[("count",)] == 1 and route[("answered",)] == 1
    assert route[("abandoned", "share")] == 0.0
    assert route[("wait_before_s", "mean")] == 10.0
    assert route[("wait_after_s", "mean")] == 50.0
    assert route[("wait_total_s", "mean")] == route[("wait_total_s", "p90")] == 60.0
    # agents busy on 911's calls: the triage (30 s) and caller 5's 120 s over 2 hours
    assert m[("classes", "911", "load_erlangs")] == pytest.approx(150.0 / 7200.0)


def test_redials_offered_calls_are_first_attempts_plus_redials(scenario) -> None:  # type: ignore[no-untyped-def]
    m = replication_flows(scenario, records(), np.ones(len(ROWS), dtype=bool))
    # 311: six calls offered (the transferred leg among them) from five callers, one a redial
    assert m[("classes", "311", "callers")] == 5
    assert m[("classes", "311", "redials", "count")] == 1
    assert m[("classes", "311", "redials", "share")] == pytest.approx(1 / 6)
    assert ("classes", "911", "redials", "count") in m  # every class is measured, redials or not
    assert m[("classes", "911", "redials", "count")] == 0


def test_callbacks_offered_accepted_unanswered_and_the_wait_to_the_ring(scenario) -> None:  # type: ignore[no-untyped-def]
    m = replication_flows(scenario, records(), np.ones(len(ROWS), dtype=bool))
    cb = {k[3:]: v for k, v in m.items() if k[:3] == ("classes", "311", "callbacks")}
    assert cb == {
        ("offered",): 2,
        ("accepted", "count"): 1,
        ("accepted", "share"): 0.5,
        ("unanswered", "count"): 1,
        ("unanswered", "share"): 1.0,
        ("wait_s", "mean"): 400.0,
        ("wait_s", "p90"): 400.0,
    }
    assert not any(k[:3] == ("classes", "911", "callbacks") for k in m)  # 911 offers none


def test_the_window_leaves_out_calls_that_arrived_outside_it(scenario) -> None:  # type: ignore[no-untyped-def]
    window = np.array([row[3] >= 200.0 for row in ROWS])
    m = replication_flows(scenario, records(), window)
    assert m[("transfers", "911", "311", "count")] == 0
    assert math.isnan(m[("transfers", "911", "311", "wait_total_s", "mean")])
    assert m[("classes", "311", "callers")] == 4  # callers 3, 4, 6 and 2's redial


def test_languages_measured_as_groups_of_their_class(scenario) -> None:  # type: ignore[no-untyped-def]
    measures = replication_measures(scenario, build_schedule(scenario), records())
    es = {k[4:]: v for k, v in measures.items() if k[:4] == ("classes", "911", "languages", "es")}
    assert es[("offered",)] == 1 and es[("interpreter",)] == 1
    assert es[("wait_s", "mean")] == 10.0
    assert es[("service_level", "15")] == 1.0
    en = {k[4:]: v for k, v in measures.items() if k[:4] == ("classes", "911", "languages", "en")}
    assert en[("interpreter",)] == 0 and en[("wait_s", "mean")] == 5.0
    summary = summarize(scenario, [measures, measures], "test", [_Met()] * 2)
    node = summary["classes"]["911"]["languages"]["es"]
    assert node["service_level"] == [{"within_s": 15.0, "share": {"value": 1.0, "ci95": [1.0, 1.0]}, "target": 0.9}]
    assert summary["classes"]["311"]["redials"]["share"]["value"] == pytest.approx(1 / 6)
    assert summary["transfers"]["911"]["311"]["wait_total_s"]["mean"]["value"] == 60.0


class _Met:
    n_judged = 1
    n_met = 1
    all_met = True


def test_intervals_count_transfers_redials_and_callbacks_where_the_caller_arrived(scenario) -> None:  # type: ignore[no-untyped-def]
    rows = replication_intervals(scenario, build_schedule(scenario), records(), 0, 300.0)
    columns = interval_columns(scenario)
    flows = ["transferred_out", "transferred_in", "redials", "callbacks_accepted", "callbacks_unanswered"]
    assert columns[-5:] == flows
    by = {(r[columns.index("interval_start_s")], r[columns.index("class")]): r for r in rows}

    def cell(start: float, cls: str, name: str) -> int:
        return by[(start, cls)][columns.index(name)]

    assert cell(0.0, "911", "transferred_out") == 1
    assert cell(0.0, "311", "transferred_in") == 1
    assert cell(300.0, "311", "redials") == 1  # caller 2's redial at 520 s
    assert cell(0.0, "311", "callbacks_accepted") == cell(0.0, "311", "callbacks_unanswered") == 1
    assert sum(cell(s, c, "transferred_out") for s, c in by) == 1


def test_calls_csv_names_the_caller_attempt_transfer_language_and_callback(scenario) -> None:  # type: ignore[no-untyped-def]
    columns = calls_columns(scenario)
    extra = ["caller", "attempt", "transferred_from", "transferred", "diverted", "language", "interpreter", "callback"]
    assert columns[-8:] == extra
    rows = [dict(zip(columns, r, strict=True)) for r in call_rows(scenario, [(0, records())])]
    assert [r["caller"] for r in rows] == [1, 2, 1, 3, 4, 5, 6, 2]
    assert rows[2]["transferred_from"] == "911" and rows[0]["transferred_from"] is None
    assert rows[0]["language"] == "es" and rows[0]["interpreter"] is True
    assert rows[1]["language"] is None
    assert [r["callback"] for r in rows[3:5]] == ["accepted", "declined"]
    assert rows[3]["outcome"] == "callback_unanswered"
    assert rows[7]["attempt"] == 2


def test_an_agent_ringing_a_callback_nobody_answers_is_busy(scenario) -> None:  # type: ignore[no-untyped-def]
    """Utilization counts the ring of caller 3's unanswered callback (240 s here) with the six
    calls answered (30 + 120 + 4 x 240 s); calls answered do not count it."""
    measures = replication_measures(scenario, build_schedule(scenario), records())
    assert measures[("pools", "call-takers", "answered")] == 6
    assert measures[("pools", "call-takers", "utilization")] == pytest.approx((1110.0 + 240.0) / (2 * 7200.0))
    assert measures[("classes", "311", "load_erlangs")] == pytest.approx((4 * 240.0 + 240.0) / 7200.0)


@pytest.mark.parametrize("size", [0, 1, 2, 17, 5000])
def test_distinct_counts_what_unique_counts(size: int) -> None:
    rng = np.random.default_rng(size)
    for high in (1, 3, size + 1, 10 * size + 1):
        values = rng.integers(-high, high, size)  # repeats, negatives, unsorted
        assert _distinct(values) == len(np.unique(values))
