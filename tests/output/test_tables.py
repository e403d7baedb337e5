"""Console tables: columns shown only when they mean something, cost, shares in percent."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from queueing import simulate
from queueing.cli import main
from queueing.core.metric_names import format_money
from queueing.core.scenario_file import parse_scenario, with_overrides
from tests.support.scenarios import one_agent, scenario_text, shared

HOURS = shared("office-hours")


def test_console_table_has_a_closed_column_only_when_a_pool_has_hours() -> None:
    from queueing.output.tables import format_summary

    with_hours = with_overrides(parse_scenario(HOURS.replace("rate_per_hour: 1", "rate_per_hour: 30")), replications=2)
    without = with_overrides(parse_scenario(one_agent()), replications=2)
    for scenario, expected in ((with_hours, True), (without, False)):
        summary = simulate(scenario).summary
        header = next(line for line in format_summary(scenario, summary).splitlines() if line.startswith("class "))
        assert ("closed" in header.split()) is expected


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


def test_compare_table_shows_shares_in_percent() -> None:
    """comparison.csv keeps fractions and machine names; the console, like the report, shows
    display names, percent and points."""
    from queueing.output.tables import format_comparison

    row = {
        "metric": "abandoned.share",
        "class": "911",
        "pool": "",
        "scenario_a": "a",
        "scenario_b": "b",
        "a_value": 0.0564,
        "b_value": 0.0221,
        "diff": -0.0349,
        "diff_ci_low": -0.0612,
        "diff_ci_high": -0.0084,
        "significant": True,
    }
    line = format_comparison([row]).splitlines()[1]
    assert line.split() == [
        "911",
        "hung",
        "up",
        "waiting",
        "a",
        "5.6%",
        "b",
        "2.2%",
        "-3.5",
        "pp",
        "*",
        "[-6.1",
        "pp,",
        "-0.8",
        "pp]",
    ]


def test_simulate_prints_a_row_per_day_or_per_weekday_past_two_weeks() -> None:
    from queueing.output.tables import MAX_DAY_ROWS, format_summary

    def table(horizon: str) -> list[str]:
        text = scenario_text(rates=(3, 6), horizon=horizon, warmup="0s", replications=2)
        scenario = parse_scenario(text.replace("seed: 7", "seed: 7\nstart_date: 2026-12-09"))  # a Wednesday
        lines = format_summary(scenario, simulate(scenario).summary).splitlines()
        head = next((i for i, line in enumerate(lines) if line.startswith(("day ", "weekday "))), None)
        return [] if head is None else lines[head:]

    assert table("1d") == []
    week = table("3d")
    assert week[0].split()[:5] == ["day", "911", "offered", "911", "wait"]
    assert [line.split()[:2] for line in week[1:]] == [["2026-12-09", "(Wed)"], ["2026-12-10", "(Thu)"],
                                                       ["2026-12-11", "(Fri)"]]  # fmt: skip
    long = table(f"{MAX_DAY_ROWS + 1}d")
    assert [line.split()[:3] for line in long[1:3]] == [["Mon", "(2", "days)"], ["Tue", "(2", "days)"]]
    assert len(long) == 1 + 7


def test_the_pools_cost_and_hours_add_up_to_the_printed_totals() -> None:
    """The pools' cost a day and agent-hours, each rounded alone, printed $7,426 + $995 above a
    cost a day of $8,420; the column is the total shared out (Hamilton), each part within a unit."""
    from queueing.output.tables import format_summary

    scenario = parse_scenario(scenario_text(horizon="1d", replications=2))
    pools = {
        "a": {"utilization": {"value": 0.5, "ci95": [0.4, 0.6]}, "overtime_h": {"value": 0.0, "ci95": [0.0, 0.0]},
              "agent_hours": {"value": 100.5, "ci95": [100.5, 100.5]},
              "cost_per_day": {"value": 7425.683, "ci95": [7419.3, 7432.0]}},
        "b": {"utilization": {"value": 0.8, "ci95": [0.7, 0.9]}, "overtime_h": {"value": 0.0, "ci95": [0.0, 0.0]},
              "agent_hours": {"value": 30.5, "ci95": [30.5, 30.5]},
              "cost_per_day": {"value": 994.726, "ci95": [993.1, 996.3]}},
    }  # fmt: skip
    cost = {
        "currency": "$",
        "per_day": {"value": 7425.683 + 994.726, "ci95": [8413.7, 8427.1]},
        "paid_hours_per_day": 131.0,
        "overtime_hours_per_day": {"value": 0.0, "ci95": [0.0, 0.0]},
        "per_answered_call": {"value": 4.1, "ci95": [4.07, 4.13]},
    }
    summary = simulate(scenario).summary
    summary = {**summary, "pools": pools, "cost": cost}
    lines = format_summary(scenario, summary).splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in (["a"], ["b"])}
    money = [int(rows[p][-2].lstrip("$").replace(",", "")) for p in ("a", "b")]
    hours = [int(rows[p][4]) for p in ("a", "b")]
    total = next(line for line in lines if line.startswith("cost a day"))
    assert f"${sum(money):,}" in total and money == [7425, 995]
    assert f"({sum(hours)} paid agent-hours" in total and hours == [101, 30]


def test_compare_pools_cost_adds_up_to_the_centres() -> None:
    """compare printed call-takers $7,426 and 311-desk $995 beside all $8,420 (docs/planning.md)."""
    from queueing.output.tables import format_comparison

    def row(metric: str, pool: str, a: float, b: float) -> dict[str, object]:
        return {
            "metric": metric, "class": "", "pool": pool, "scenario_a": "baseline", "scenario_b": "staffing",
            "a_value": a, "b_value": b, "diff": b - a, "diff_ci_low": b - a - 8, "diff_ci_high": b - a + 8,
            "significant": True, "currency": "$",
        }  # fmt: skip

    pools = [("call-takers", 7425.683, 8283.4), ("311-desk", 994.726, 1413.6)]
    rows = [row("cost_per_day", p, a, b) for p, a, b in pools]
    rows.append(row("cost.per_day", "", sum(a for _, a, _ in pools), sum(b for _, _, b in pools)))
    printed = {line.split()[0]: line.split() for line in format_comparison(rows).splitlines()[1:-1]}

    def money(text: str) -> int:
        return int(text.lstrip("+$").replace(",", ""))

    for column in (5, 7, 8):  # A value, B value, B - A (after "cost a day" and the names)
        parts = [money(printed[p][column]) for p, _, _ in pools]
        assert sum(parts) == money(printed["all"][column]), (column, parts, printed["all"])
    assert [money(printed[p][5]) for p, _, _ in pools] == [7425, 995]
