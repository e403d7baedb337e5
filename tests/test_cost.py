"""Cost of a plan: paid agent-hours by the schedule (breaks included) and overtime at the multiplier,
per day and per answered call; in summary.json, simulate's table, compare and the report."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from helpers import callers_at, scenario_text
from queueing import load_scenario
from queueing.cli import main
from queueing.core.cost import agent_hours_per_day, paid_hours_per_day
from queueing.core.metric_names import format_money, format_value
from queueing.core.metrics import replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ANSWERED
from queueing.core.runner import LocalExecutor, run_scenarios
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule

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
    assert list(cost) == ["currency", "per_day", "per_answered_call", "paid_hours_per_day", "overtime_hours_per_day"]
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
    return result.stdout.replace(str(out), "OUT"), {p.name: p.read_bytes() for p in sorted(out.iterdir())}


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


def test_simulate_prints_the_summary_cost(tmp_path: Path) -> None:
    doc = yaml.safe_load(scenario_text(horizon="1d", replications=2))
    doc["roster"] = {"currency": "CHF", "pools": {"call-takers": {"cost_per_hour": 1234.5}}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cost = json.loads((out / "summary.json").read_text())["cost"]
    day = format_money(cost["per_day"]["value"], "CHF")
    assert day.startswith("CHF ") and "," in day  # 10 agents x 22 h x 1,234.5 a day: thousands separated
    lines = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    assert day in lines["cost a day"]
    assert format_money(cost["per_answered_call"]["value"], "CHF") in lines["cost per answered call"]
    assert f"{cost['paid_hours_per_day']:,.0f} paid agent-hours a day" in lines["cost a day"]


def test_format_money() -> None:
    assert format_money(1554.2, "$", diff=True) == "+$1,554"
    assert format_money(-40320.4, "$") == "-$40,320"
    assert format_money(18.953, "€") == "€18.95"
    assert format_money(-0.001, "$", diff=True) == "$0.00"
    assert format_money(None, "$") == format_money(math.nan, "$") == "–"
    assert format_money(12, "CHF") == "CHF 12.00"
    assert format_value("cost.per_answered_call", 4.5, currency="£") == "£4.50"


# --- compare ---------------------------------------------------------------------------------


def _plan(agents_day: int, rate: float, break_: bool) -> str:
    doc = yaml.safe_load(scenario_text(horizon="2d", warmup="1h", replications=4, rates=(36, 80), patience="4m"))
    day: dict = {"start": "7h", "end": "19h", "agents": agents_day}
    if break_:
        day["breaks"] = [{"start": "5h", "length": "1h"}]
    doc["staffing"]["pools"][0] = {
        "name": "call-takers", "serves": ["911", "311"],
        "shifts": [day, {"start": "19h", "end": "31h", "agents": 9}],
    }  # fmt: skip
    doc["roster"] = {"overtime_multiplier": 1.5, "pools": {"call-takers": {"cost_per_hour": rate}}}
    return yaml.safe_dump(doc)


def _hours_met(intervals_csv: Path, cname: str, within_s: float, share: float, warmup_s: float) -> tuple[int, int]:
    """Hours of the day meeting a target, computed here from intervals.csv: per replication and hour
    the share answered within the threshold of the offered calls, then the one-sided 90% Student-t
    lower bound over replications against the share (staff's rule)."""
    within: dict[tuple[int, int], float] = {}
    offered: dict[tuple[int, int], float] = {}
    with intervals_csv.open() as fh:
        for row in csv.DictReader(fh):
            start = float(row["interval_start_s"])
            if row["class"] != cname or start < warmup_s:
                continue
            key = (int(row["replication"]), int(start % 86400 // 3600))
            within[key] = within.get(key, 0) + int(row[f"answered_within_{within_s:g}s"])
            offered[key] = offered.get(key, 0) + int(row["offered"])
    met = hours = 0
    for hour in range(24):
        levels = [within[k] / offered[k] for k in offered if k[1] == hour and offered[k] > 0]
        if not levels:
            continue
        hours += 1
        n = len(levels)
        sd = float(np.std(levels, ddof=1)) if n > 1 else 0.0
        lower = float(np.mean(levels)) - (stats.t.ppf(0.9, n - 1) * sd / math.sqrt(n) if n > 1 else 0.0)
        met += lower >= share
    return met, hours


def test_compare_says_what_the_second_plan_buys_and_costs(tmp_path: Path) -> None:
    a, b = tmp_path / "lean.yaml", tmp_path / "more.yaml"
    a.write_text(_plan(8, 40.0, break_=False))
    b.write_text(_plan(11, 40.0, break_=True))
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    (sentence,) = [line for line in result.stdout.splitlines() if line.startswith("more vs lean: ")]
    sa, sb = (json.loads((out / n / "summary.json").read_text()) for n in ("lean", "more"))
    days = (2 * 86400 - 3600) / 86400

    def number(text: str) -> float:
        return float(text.replace(",", "").replace("$", ""))

    hours = re.search(r"^more vs lean: ([+-][\d.,]+) agent-hours a day, ", sentence)
    assert hours, sentence
    on_duty = [sum(p["agent_hours"]["value"] for p in s["pools"].values()) / days for s in (sa, sb)]
    assert number(hours.group(1)) == pytest.approx(on_duty[1] - on_duty[0], abs=0.05)
    # two day shifts in the window: 11 agents on duty 11 h (an hour's break) instead of 8 agents 12 h
    assert on_duty[1] - on_duty[0] == pytest.approx(2 * (11 * 11 - 8 * 12) / days)
    money = re.search(r", ([+-]\$[\d,.]+) a day \(([+-]\$[\d,.]+) per answered call\), ", sentence)
    assert money, sentence
    day_diff = sb["cost"]["per_day"]["value"] - sa["cost"]["per_day"]["value"]
    call_diff = sb["cost"]["per_answered_call"]["value"] - sa["cost"]["per_answered_call"]["value"]
    assert number(money.group(1)) == pytest.approx(day_diff, abs=0.5)
    assert number(money.group(2)) == pytest.approx(call_diff, abs=0.005)
    # three more day agents for 12 paid hours (their break is paid) at 40 an hour, plus a change in overtime
    assert day_diff == pytest.approx(2 * 3 * 12 * 40 / days, abs=30)
    targets = re.findall(
        r"(911|311) (\d+)%/(\d+) s met in (\d+) of (\d+) hours instead of (\d+)(?: of (\d+))?", sentence
    )
    assert [(t[0], t[1], t[2]) for t in targets] == [("911", "90", "15"), ("311", "80", "30")]
    for cname, pct, within, met_b, hours_b, met_a, hours_a in targets:
        expected_b = _hours_met(out / "more" / "intervals.csv", cname, float(within), int(pct) / 100, 3600)
        expected_a = _hours_met(out / "lean" / "intervals.csv", cname, float(within), int(pct) / 100, 3600)
        assert (int(met_b), int(hours_b)) == expected_b
        assert int(met_a) == expected_a[0] and int(hours_a or hours_b) == expected_a[1]
    assert int(targets[0][3]) > int(targets[0][5])  # the extra agents buy 911 hours
    with (out / "comparison.csv").open() as fh:
        rows = {(r["metric"], r["pool"]): r for r in csv.DictReader(fh)}
    assert float(rows[("cost.per_day", "")]["diff"]) == pytest.approx(day_diff)
    assert float(rows[("cost_per_day", "call-takers")]["b_value"]) == pytest.approx(sb["cost"]["per_day"]["value"])
    assert ("cost.per_answered_call", "") in rows
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("all ") and "cost a day" in line]
    assert format_money(sa["cost"]["per_day"]["value"], "$") in line
    assert format_money(sb["cost"]["per_day"]["value"], "$") in line
    html = (out / "report.html").read_text()
    assert "<h3>Cost</h3>" in html and sentence in html
    assert format_money(sb["cost"]["per_answered_call"]["value"], "$") in html


def test_compare_without_rates_has_no_money(write_scenario, tmp_path: Path) -> None:
    a = write_scenario(agents=10, horizon="1d", replications=2, name="ten.yaml")
    b = write_scenario(agents=12, horizon="1d", replications=2, name="twelve.yaml")
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    (sentence,) = [line for line in result.stdout.splitlines() if line.startswith("twelve vs ten: ")]
    # 2 more agents all day, over the 22 hours after the warm-up: 48 agent-hours a day
    assert sentence.startswith("twelve vs ten: +48 agent-hours a day, 911 90%/15 s met in ")
    assert "$" not in sentence
    with (out / "comparison.csv").open() as fh:
        assert not [r for r in csv.DictReader(fh) if r["metric"].startswith("cost")]
    assert "<h3>Cost</h3>" not in (out / "report.html").read_text()


def test_report_shows_the_cost(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(_plan(12, 38.5, break_=True))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "--report", "-q", "-r", "2"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    cost = summary["cost"]
    section = html[html.index("<h3>Cost</h3>") :]
    for text in (
        format_money(cost["per_day"]["value"], "$"),
        format_money(cost["per_answered_call"]["value"], "$"),
        format_value("cost.paid_hours_per_day", cost["paid_hours_per_day"]),
    ):
        assert text in section
    pool = summary["pools"]["call-takers"]["cost_per_day"]
    assert format_money(pool["value"], "$") in html[html.index("<h3>Pools</h3>") :]


def test_compare_of_a_rated_and_an_unrated_plan_says_so(write_scenario, tmp_path: Path) -> None:
    a = write_scenario(agents=10, horizon="1d", replications=2, name="plain.yaml")
    doc = yaml.safe_load(scenario_text(agents=11, horizon="1d", replications=2))
    doc["roster"] = {"pools": {"call-takers": {"cost_per_hour": 30}}}
    b = write_scenario(text=yaml.safe_dump(doc), name="rated.yaml")
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "rated vs plain: +24 agent-hours a day, cost not compared (only rated has pay rates), 911 " in result.stdout
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("all ") and "cost a day" in line]
    assert line.split()[4:8] == ["plain", "–", "rated", "$7,920"]  # 11 agents x 24 h x 30
    assert "no pay rates in this scenario" in (out / "report.html").read_text()
