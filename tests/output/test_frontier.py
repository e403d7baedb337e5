"""staff --frontier on disk and on the console: frontier.csv (the result's table), frontier.png,
each share's plan as a scenario that simulates, and the table printed."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from queueing.cli import main
from queueing.core.scenario_file import load_scenario
from tests.planning.test_frontier import SMALL

RATES = "roster:\n  pools: {call-takers: {cost_per_hour: 40.0}}\n"


def test_staff_frontier_writes_a_table_a_plot_and_each_plan(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(SMALL + RATES, encoding="utf-8")
    out = tmp_path / "frontier"
    args = ["staff", str(path), "--interval", "6h", "--frontier", "0.7:0.9:0.2", "--frontier-class", "911"]
    result = CliRunner().invoke(main, [*args, "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Cheapest staffing for each target share (the shares of the 911 targets set to it; 6h")
    assert lines[2].split() == ["target", "share", "agent-hours", "cost", "a", "day", "911", "15s", "311", "1m", "plan"]
    assert [line.split()[0] for line in lines[3:5]] == ["70%", "90%"]
    with (out / "frontier.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "share", "agent_hours", "cost_per_day", "targets_met", "found_at", "achieved_911_15s", "achieved_311_60s"
    ]  # fmt: skip
    assert [float(r["share"]) for r in rows] == [0.7, 0.9]
    costs = [float(r["cost_per_day"]) for r in rows]
    assert costs == sorted(costs) and all(r["targets_met"] == "True" for r in rows)
    for r in rows:
        assert f"{float(r['agent_hours']):g}" in result.stdout
    assert (out / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    plan = load_scenario(out / "frontier-70.yaml")  # a scenario: the 70% plan with the targets it was found for
    assert plan.targets["911"][0].share == 0.7 and plan.targets["911"][0].window == "day"
    assert plan.targets["311"][0].share == 0.8
    assert plan.staffing.pools[0].shift_list()


def test_frontier_class_needs_a_frontier(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(main, ["staff", str(path), "--frontier-class", "911", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--frontier-class needs --frontier LOW:HIGH:STEP" in result.output
    result = CliRunner().invoke(main, ["staff", str(path), "--frontier", "0.9:0.7:0.1", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and result.stderr.strip() == (
        "--frontier: give LOW:HIGH:STEP, shares in (0, 1], e.g. 0.70:0.95:0.05, got '0.9:0.7:0.1'"
    )
    assert not (tmp_path / "x").exists()  # refused before any work or folder
