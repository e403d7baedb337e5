"""compare's sentence: what a second plan buys (the windows each target is met in) and costs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from queueing.cli import main
from queueing.core.metric_names import format_money
from tests.support.scenarios import rated_plan, scenario_text


def _windows_met(
    intervals_csv: Path, cname: str, within_s: float, share: float, warmup_s: float, window_s: float
) -> tuple[int, int]:
    """Windows of the day (of ``window_s``) meeting a target, computed here from intervals.csv: per
    replication and window the share answered within the threshold of the offered calls, then its
    mean over replications against the share (summary.json's and the report's rule)."""
    within: dict[tuple[int, int], float] = {}
    offered: dict[tuple[int, int], float] = {}
    with intervals_csv.open() as fh:
        for row in csv.DictReader(fh):
            start = float(row["interval_start_s"])
            if row["class"] != cname or start < warmup_s:
                continue
            key = (int(row["replication"]), int(start % 86400 // window_s))
            within[key] = within.get(key, 0) + int(row[f"answered_within_{within_s:g}s"])
            offered[key] = offered.get(key, 0) + int(row["offered"])
    met = judged = 0
    for window in range(int(86400 // window_s)):
        levels = [within[k] / offered[k] for k in offered if k[1] == window and offered[k] > 0]
        if levels:
            judged += 1
            met += float(np.mean(levels)) >= share - 1e-12
    return met, judged


def test_compare_says_what_the_second_plan_buys_and_costs(tmp_path: Path) -> None:
    a, b = tmp_path / "lean.yaml", tmp_path / "more.yaml"
    a.write_text(rated_plan(8, 40.0, break_=False))
    b.write_text(rated_plan(11, 40.0, break_=True))
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
    # the targets are over every interval (the default): the run's 15-minute intervals of the day
    targets = re.findall(
        r"(911|311) (\d+)%/(\d+) s met in (\d+) of (\d+) intervals instead of (\d+)(?: of (\d+))?", sentence
    )
    assert [(t[0], t[1], t[2]) for t in targets] == [("911", "90", "15"), ("311", "80", "30")]
    for cname, pct, within, met_b, judged_b, met_a, judged_a in targets:
        count = (cname, float(within), int(pct) / 100, 3600, 900)
        expected_b = _windows_met(out / "more" / "intervals.csv", *count)
        expected_a = _windows_met(out / "lean" / "intervals.csv", *count)
        assert (int(met_b), int(judged_b)) == expected_b
        assert int(met_a) == expected_a[0] and int(judged_a or judged_b) == expected_a[1]
        # the summary's verdict counts the same windows
        level = next(sl for sl in sb["classes"][cname]["service_level"] if sl["within_s"] == float(within))
        assert level["windows"] == {"judged": expected_b[1], "met": expected_b[0]}
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
    # one count of windows met per target on the page: the verdicts say what the sentence says
    for cname, pct, within, met_b, judged_b, met_a, judged_a in targets:
        assert not judged_a  # the same callers: the same windows with calls
        verdict = f"lean meets {cname} {pct}% within {within} s in {met_a} of {judged_b} intervals; more in {met_b}."
        assert verdict in html
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
