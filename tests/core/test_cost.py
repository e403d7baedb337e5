"""Cost of a plan: paid agent-hours by the schedule (breaks included) and overtime at the multiplier,
per day and per answered call, in summary.json (the table, compare and the report show it: tests/output/)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from queueing import load_scenario
from queueing.cli import main
from queueing.core.cost import absent_per_day, agent_hours_per_day, paid_hours_per_day
from queueing.core.metrics import replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ANSWERED
from queueing.core.runner import LocalExecutor, run_scenarios
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from tests.support.callers import callers_at
from tests.support.scenarios import scenario_text

H = 3600.0
M = 60.0

EXACT = """
name: exact cost
horizon: 24h
warmup: 1h
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 10m}}
staffing:
  pools:
    - name: desk
      serves: [a]
      shifts:
        - {start: 23h, end: 31h, agents: 1}
        - {start: 7h, end: 15h, agents: 2, breaks: [{start: 4h, length: 30m}]}
        - {start: 15h, end: 23h, agents: 1}
    - {name: backup, serves: [a], agents: 1}
targets: {a: [{within: 20s, share: 0.8}]}
roster:
  overtime_multiplier: 1.5
  currency: "€"
  pools:
    desk: {cost_per_hour: 40}
    backup: {cost_per_hour: 20}
"""


def test_cost_of_one_replication_by_hand() -> None:
    scenario = parse_scenario(EXACT)
    # 0:30 before the warm-up (not counted); 12:00 an ordinary call; 14:55 and 22:58 answered by the
    # desk (first choice) minutes before their shift ends: 10-minute calls run 5 and 8 minutes over.
    schedule = build_schedule(scenario)
    arrivals = [30 * M, 12 * H, 14 * H + 55 * M, 22 * H + 58 * M]
    records = simulate_replication(scenario, schedule, callers_at(arrivals, 10 * M))
    assert records.outcome.tolist() == [ANSWERED] * 4 and records.pool.tolist() == [0, 0, 0, 0]
    m = replication_measures(scenario, schedule, records)
    assert m[("pools", "desk", "overtime_h")] == pytest.approx(13 / 60)
    assert m[("pools", "backup", "overtime_h")] == 0
    # Window [1h, 24h), 23 hours. Paid desk hours, breaks included: the night shift 1h-7h and
    # 23h-24h (7 h), two day agents 7h-15h with their paid half-hour break (16 h), evening 8 h.
    desk_paid, backup_paid = 7 + 16 + 8, 23
    desk = 40 * (desk_paid + 1.5 * 13 / 60)  # 1,253
    backup = 20 * backup_paid  # 460
    days = 23 / 24
    assert m[("pools", "desk", "cost_per_day")] == pytest.approx(desk / days)
    assert m[("pools", "backup", "cost_per_day")] == pytest.approx(backup / days)
    assert m[("cost", "per_day")] == pytest.approx((1253 + 460) / days)
    assert m[("cost", "per_answered_call")] == pytest.approx((1253 + 460) / 3)  # the 0:30 call is not counted
    assert m[("cost", "overtime_hours_per_day")] == pytest.approx(13 / 60 / days)
    assert paid_hours_per_day(scenario) == pytest.approx((desk_paid + backup_paid) / days)
    # On duty leaves the break out: half an hour for each of two agents.
    assert agent_hours_per_day(scenario) == pytest.approx((desk_paid - 1 + backup_paid) / days)


def test_absent_agents_are_paid_and_answer_no_call() -> None:
    # The day shift's third agent is rostered and away (shrinkage): paid as the others, never on duty.
    text = EXACT.replace(
        "{start: 7h, end: 15h, agents: 2, breaks:", "{start: 7h, end: 15h, agents: 2, absent: 1, breaks:"
    )
    scenario = parse_scenario(text)
    schedule = build_schedule(scenario)
    assert len(schedule.agent_pool) == 1 + 2 + 1 + 1  # the absent agent has no number: it answers nothing
    records = simulate_replication(scenario, schedule, callers_at([12 * H], 10 * M))
    m = replication_measures(scenario, schedule, records)
    desk_paid, backup_paid = 7 + 24 + 8, 23  # the day shift's 8 h paid three times
    days = 23 / 24
    assert m[("pools", "desk", "cost_per_day")] == pytest.approx(40 * desk_paid / days)
    assert m[("cost", "per_day")] == pytest.approx((40 * desk_paid + 20 * backup_paid) / days)
    assert paid_hours_per_day(scenario) == pytest.approx((desk_paid + backup_paid) / days)
    assert agent_hours_per_day(scenario) == pytest.approx((7 + 15 + 8 + 23) / days)  # on duty: 2 day agents
    assert absent_per_day(scenario) == pytest.approx((8 / days, 40 * 8 / days))


def test_summary_cost_keys_and_per_answered_call_consistent_with_per_day(tmp_path: Path) -> None:
    doc = yaml.safe_load(scenario_text(horizon="2d", warmup="2h", replications=3, patience="5m"))
    doc["staffing"]["pools"][0] = {"name": "call-takers", "serves": ["911", "311"],
                                   "shifts": [{"start": "0h", "end": "12h", "agents": 12,
                                               "breaks": [{"start": "5h", "length": "1h"}]},
                                              {"start": "12h", "end": "24h", "agents": 11}]}  # fmt: skip
    doc["roster"] = {"overtime_multiplier": 2, "pools": {"call-takers": {"cost_per_hour": 30}}}
    scenario = parse_scenario(yaml.safe_dump(doc))
    (result,) = run_scenarios([scenario], LocalExecutor(1))
    days = (scenario.horizon - scenario.warmup) / 86400
    for rep in result.replications:
        m = rep.measures
        answered = m[("classes", "911", "answered")] + m[("classes", "311", "answered")]
        assert m[("cost", "per_answered_call")] == pytest.approx(m[("cost", "per_day")] * days / answered)
        assert m[("cost", "per_day")] == pytest.approx(m[("pools", "call-takers", "cost_per_day")])
        # paid in [2h, 48h): 12 agents 2h-12h and 24h-36h (the break is paid), 11 agents 12h-24h and
        # 36h-48h; overtime at twice the rate
        paid = 12 * (10 + 12) + 11 * (12 + 12)
        overtime = m[("pools", "call-takers", "overtime_h")]
        assert overtime > 0  # calls run past the 12h and 24h shift ends
        assert m[("cost", "per_day")] == pytest.approx(30 * (paid + 2 * overtime) / days)
    cost = result.summary["cost"]
    assert list(cost) == [
        "currency", "per_day", "per_answered_call", "paid_hours_per_day", "overtime_hours_per_day",
        "absent_hours_per_day", "absent_per_day",
    ]  # fmt: skip
    assert cost["absent_hours_per_day"] == 0.0 and cost["absent_per_day"] == 0.0
    assert cost["currency"] == "$" and cost["paid_hours_per_day"] == pytest.approx(528 / days)
    per_day = [rep.measures[("cost", "per_day")] for rep in result.replications]
    assert cost["per_day"]["value"] == pytest.approx(np.mean(per_day))
    assert cost["per_day"]["ci95"][0] < cost["per_day"]["value"] < cost["per_day"]["ci95"][1]
    for key in ("per_answered_call", "overtime_hours_per_day"):
        assert set(cost[key]) == {"value", "ci95"}
    assert set(result.summary["pools"]["call-takers"]["cost_per_day"]) == {"value", "ci95"}


def _simulate(path: Path, out: Path, *extra: str) -> tuple[str, dict[str, bytes]]:
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "--calls", "-r", "2", *extra])
    assert result.exit_code == 0, result.output
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != ".ivr311.json"}  # results, not who
    return result.stdout.replace(str(out), "OUT"), files


def test_no_rates_no_cost_and_the_same_bytes(tmp_path: Path) -> None:
    """A scenario without pay rates (a roster section without cost_per_hour counts as none) writes
    exactly the files and table it wrote without any roster section: no cost keys anywhere."""
    plain = tmp_path / "plain.yaml"
    plain.write_text(scenario_text(horizon="1d", patience="5m"))
    unrated = tmp_path / "unrated.yaml"
    doc = yaml.safe_load(plain.read_text())
    doc["roster"] = {"shrinkage": 0.1, "pools": {"call-takers": {"min_agents": 2}}}
    unrated.write_text(yaml.safe_dump(doc))
    assert load_scenario(unrated).roster is not None
    out_a, files_a = _simulate(plain, tmp_path / "a")
    out_b, files_b = _simulate(unrated, tmp_path / "b")
    assert files_a == files_b and out_a == out_b
    summary = json.loads(files_a["summary.json"])
    assert "cost" not in summary and "cost_per_day" not in summary["pools"]["call-takers"]
    assert "cost" not in out_a
    # ...and the same plan with rates adds the cost, leaving every other number as it was.
    doc["roster"]["pools"]["call-takers"]["cost_per_hour"] = 25.0
    rated = tmp_path / "rated.yaml"
    rated.write_text(yaml.safe_dump(doc))
    out_c, files_c = _simulate(rated, tmp_path / "c")
    assert files_c["intervals.csv"] == files_a["intervals.csv"] and files_c["calls.csv"] == files_a["calls.csv"]
    with_cost = json.loads(files_c["summary.json"])
    with_cost.pop("cost")
    with_cost["pools"]["call-takers"].pop("cost_per_day")
    assert with_cost == summary
    assert "cost a day" in out_c and "cost per answered call" in out_c
