"""What `ivr311 roster` writes and prints: roster.yaml (a scenario that re-loads to the same one),
roster.csv, roster.json, roster.png and the wall table.

The outputs are checked on a roster made by hand (the shared two-pool centre, shifts chosen here,
its evaluation a real small simulation), so every expected figure is known. The command itself is
in tests/cli/test_staffing.py.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from queueing import simulate
from queueing.cli import main
from queueing.core.durations import HOUR_S
from queueing.core.metric_names import format_money
from queueing.core.rounding import apportion
from queueing.core.scenario_file import load_scenario, parse_scenario, validate_data
from queueing.errors import ScenarioError
from queueing.output.files import results_folder
from queueing.output.roster import format_roster, write_roster
from queueing.output.roster_plot import day_pieces, roster_chart
from queueing.planning.roster import RosterResult, RosterShift
from queueing.planning.staff import StaffingResult
from tests.support.scenarios import shared

H = HOUR_S


def tiny_centre(rated: bool = True) -> str:
    """The shared two-pool centre (tests/scenarios/two-pools.yaml) on 2 replications, with a 311
    handle time in seconds that a unit would round (210.5 s) and a menu time: roster.yaml must
    write them back as they were given. Without rates when not ``rated``."""
    data = yaml.safe_load(shared("two-pools"))
    data["replications"] = 2
    data["classes"]["311"]["handle_time"] = {"dist": "exponential", "mean": 210.5}
    data["classes"]["311"]["ivr_time"] = {"dist": "uniform", "low": "20s", "high": "1m"}
    if not rated:
        data["roster"]["pools"] = {"call-takers": {"min_agents": 4}, "311-desk": {"min_agents": 0}}
    return yaml.safe_dump(data, sort_keys=False)


# pool, start, length, breaks (offset, length), agents: a night shift past midnight, a line
# without breaks, pools given out of order (the outputs sort them)
SHIFTS = [
    RosterShift("311-desk", 8 * H, 8.5 * H, (), 2),
    RosterShift("call-takers", 23 * H, 8.5 * H, ((4 * H, 0.5 * H),), 2),
    RosterShift("call-takers", 7 * H, 8.5 * H, ((3 * H, 0.5 * H),), 3),
    RosterShift("call-takers", 13.5 * H, 10.5 * H, ((5 * H, 0.5 * H),), 2),
]


def hand_roster(text: str | None = None, targets_met: bool = True) -> RosterResult:
    """A RosterResult for SHIFTS on the scenario ``text``: the figures computed here, the
    evaluation a real simulation of the roster."""
    base = parse_scenario(text or tiny_centre())
    assert base.roster is not None
    data = base.to_data()
    for pool in data["staffing"]["pools"]:
        pool.pop("agents")
        pool["shifts"] = [
            {"start": s.start_s, "end": s.end_s, "agents": s.agents}
            | ({"breaks": [{"start": a, "length": n} for a, n in s.breaks]} if s.breaks else {})
            for s in SHIFTS
            if s.pool == pool["name"]
        ]
    scenario = validate_data(data, "hand roster")
    evaluation = simulate(scenario, interval_s=1800.0)
    n = 48
    coverage = [[p.agents_at(i * 1800.0) for p in scenario.staffing.pools] for i in range(n)]
    need = [[max(0, c - 1) for c in row] for row in coverage]
    paid = sum(s.agents * s.length_s for s in SHIFTS) / H
    breaks = sum(s.agents * length for s in SHIFTS for _, length in s.breaks) / H
    rates = {"call-takers": 42.0, "311-desk": 33.0} if base.roster.costed else {}
    return RosterResult(
        scenario=scenario,
        rules=base.roster,
        interval_s=1800.0,
        pool_names=["call-takers", "311-desk"],
        shifts=SHIFTS,
        required=need,
        need=need,
        coverage=coverage,
        lower_bound_hours=sum(map(sum, need)) * 0.5,
        paid_hours=paid,
        agent_hours=paid - breaks,
        fte=paid * 7 / 40,
        cost_per_day=evaluation.summary["cost"]["per_day"]["value"] if rates else None,
        targets_met=targets_met,
        evaluation=evaluation,
        staffing=StaffingResult(scenario, 1800.0, need, need, targets_met, 1, 0, evaluation),
        agents_added=1,
        log=[],
        cover_hours=paid - SHIFTS[0].length_s / H,  # the repair added one agent on the first line
    )


@pytest.fixture(scope="module")
def roster() -> RosterResult:
    return hand_roster()


@pytest.fixture(scope="module")
def written(roster: RosterResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("roster")
    paths = write_roster(roster, out, command="ivr311 roster tiny.yaml")
    assert [p.name for p in paths] == ["roster.yaml", "roster.csv", "roster.json", "roster.png"]
    return out


# --- roster.yaml -------------------------------------------------------------------------------


def test_roster_yaml_reloads_to_the_same_scenario(written: Path, roster: RosterResult) -> None:
    path = written / "roster.yaml"
    assert load_scenario(path) == roster.scenario
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output


def test_roster_yaml_reads_as_planners_write(written: Path, roster: RosterResult) -> None:
    text = (written / "roster.yaml").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header[0].startswith("# Roster built by `ivr311 roster tiny.yaml`")
    cost = format_money(roster.cost_per_day, "$")
    assert "80.5 paid agent-hours a day" in " ".join(header) and f"{cost} a day" in " ".join(header)
    for line in (
        "    - {start: 23h, end: 31h30m, agents: 2, breaks: [{start: 4h, length: 30m}]}",
        "    - {start: 8h, end: 16h30m, agents: 2}",
        "    hours: {open: 7h, close: 19h}",
        "    handle_time: {dist: exponential, mean: 210.5}",  # seconds that a unit would round stay seconds
        "    ivr_time: {dist: uniform, low: 20s, high: 1m}",
        "  shift_lengths: [8h30m, 10h30m]",
        "  - {length: 30m, earliest: 3h, latest: 5h}",
        "  weekly_hours: 40h",
        "    call-takers: {cost_per_hour: 42.0, min_agents: 4}",
        "horizon: 1d",
    ):
        assert line in text.splitlines(), line
    assert yaml.safe_load(text)["roster"]["shrinkage"] == 0.12


# --- roster.csv and roster.json ----------------------------------------------------------------


def test_roster_csv_rows(written: Path) -> None:
    with (written / "roster.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["pool", "start", "end", "breaks", "agents", "cost_per_day"],
        ["call-takers", "07:00", "15:30", "10:00-10:30", "3", "1071.0"],
        ["call-takers", "13:30", "24:00", "18:30-19:00", "2", "882.0"],
        ["call-takers", "23:00", "31:30", "27:00-27:30", "2", "714.0"],  # past midnight: hours keep counting
        ["311-desk", "08:00", "16:30", "", "2", "561.0"],
    ]


def test_roster_json_figures(written: Path, roster: RosterResult) -> None:
    doc = json.loads((written / "roster.json").read_text())
    # the plan's one cost: the shifts' pay and the overtime of its simulation
    assert doc["cost_per_day"] == roster.evaluation.summary["cost"]["per_day"]["value"] and doc["currency"] == "$"
    assert doc["shifts_cost_per_day"] == pytest.approx(3228.0) and doc["absent_cost_per_day"] == 0.0
    assert doc["paid_hours"] == 80.5 and doc["agent_hours"] == 80.5 - 3.5
    assert doc["fte"] == pytest.approx(80.5 * 7 / 40) and doc["weekly_hours"] == 40
    assert doc["lower_bound_hours"] == roster.lower_bound_hours
    assert doc["above_lower_bound"] == pytest.approx(80.5 / roster.lower_bound_hours - 1)
    assert doc["targets_met"] is True and doc["agents_added"] == 1 and doc["agents"] == 9
    pools = doc["pools"]
    assert list(pools) == ["call-takers", "311-desk"]
    assert sum(p["paid_hours"] for p in pools.values()) == doc["paid_hours"]
    assert sum(p["agent_hours"] for p in pools.values()) == doc["agent_hours"]
    assert sum(p["cost_per_day"] for p in pools.values()) == pytest.approx(doc["cost_per_day"])
    assert pools["311-desk"] | {"peak_required": 0, "peak_need": 0} == {
        "shifts": 1, "agents": 2, "paid_hours": 17.0, "agent_hours": 17.0,
        "cost_per_day": roster.evaluation.summary["pools"]["311-desk"]["cost_per_day"]["value"],
        "shifts_cost_per_day": 561.0,
        "cost_per_hour": 33.0, "min_agents": 0, "peak_required": 0, "peak_need": 0, "peak_coverage": 2,
        "intervals_short": 0,
    }  # fmt: skip
    assert doc["meta"] == roster.evaluation.summary["meta"]
    assert [(s["class"], s["within_s"], s["target"]) for s in doc["service_level"]] == [
        ("911", 15.0, 0.9),
        ("311", 60.0, 0.8),
    ]
    assert doc["rules"]["shift_lengths_s"] == [8.5 * H, 10.5 * H]


def test_without_rates_there_is_no_cost(tmp_path: Path) -> None:
    roster = hand_roster(tiny_centre(rated=False))
    write_roster(roster, tmp_path)
    with (tmp_path / "roster.csv").open(newline="") as fh:
        assert {row["cost_per_day"] for row in csv.DictReader(fh)} == {""}
    doc = json.loads((tmp_path / "roster.json").read_text())
    assert doc["cost_per_day"] is None and doc["pools"]["call-takers"]["cost_per_day"] is None
    table = format_roster(roster)
    assert "cost/day" not in table and "$" not in table and "an hour" not in table


def test_an_out_folder_of_roster_files_is_replaced(tmp_path: Path, roster: RosterResult) -> None:
    out = tmp_path / "out"
    for _ in range(2):  # the second time, out holds roster files: replaced
        with results_folder(out) as tmp:
            write_roster(roster, tmp)
    assert sorted(p.name for p in out.iterdir()) == ["roster.csv", "roster.json", "roster.png", "roster.yaml"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="holds files ivr311 did not write"), results_folder(out):
        pass


# --- roster.png --------------------------------------------------------------------------------


def test_roster_png(written: Path) -> None:
    png = (written / "roster.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_roster_png_of_a_pool_without_shifts() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = roster_chart(["desk"], H, {"desk": []}, [[0]] * 24, [[0]] * 24, [[0]] * 24)
    assert png[:4] == b"\x89PNG"


def test_bars_wrap_past_midnight() -> None:
    assert day_pieces(7 * H, 15.5 * H) == [(7.0, 8.5)]
    assert day_pieces(23 * H, 31.5 * H) == [(23.0, 1.0), (0.0, 7.5)]
    assert day_pieces(27 * H, 27.5 * H) == [(3.0, 0.5)]  # a night shift's break after midnight
    assert day_pieces(13.5 * H, 24 * H) == [(13.5, 10.5)]


# --- the wall table ----------------------------------------------------------------------------


def _rows(table: str, first: str) -> list[list[str]]:
    return [line.split() for line in table.splitlines() if line.startswith(first)]


def test_wall_table(roster: RosterResult) -> None:
    table = format_roster(roster)
    assert table.splitlines()[0] == (
        "Roster for small centre, two pools: shifts of 8h30m, 10h30m starting every 30m, shrinkage 12%"
    )
    assert "call-takers at $42.00 an hour: 3 shifts, 7 agents" in table
    assert _rows(table, "shift") == [["shift", "breaks", "agents", "paid", "h", "cost/day"]] * 2  # one per pool
    assert _rows(table, "07:00–15:30") == [["07:00–15:30", "10:00–10:30", "3", "25.5", "$1,071"]]
    assert _rows(table, "23:00–07:30+1") == [["23:00–07:30+1", "03:00–03:30", "2", "17.0", "$714"]]
    assert _rows(table, "08:00–16:30") == [["08:00–16:30", "-", "2", "17.0", "$561"]]
    assert _rows(table, "total") == [["total", "7", "63.5", "$2,667"], ["total", "2", "17.0", "$561"]]
    above = 80.5 / roster.lower_bound_hours - 1
    assert f"this roster is {above * 100:.1f}% above it" in table
    assert "Day: 9 agents, 80.5 paid agent-hours (77.0 on duty, breaks out); 14.1 FTE" in table
    # one cost, the plan's: the shifts' pay and the simulated overtime, each printed once rounded so they add up
    cost = roster.evaluation.summary["cost"]["per_day"]["value"]
    total, overtime = round(cost), round(cost) - 3228
    assert (
        f"Cost: ${total:,} a day: the shifts $3,228 (every rostered agent paid, those away too) + overtime "
        f"${overtime}; of it, the agents who come ${total:,}."
    ) in table
    assert (
        "The simulated roster missed a target: the repair changed the exact cover (72.0 h) by +8.5 paid "
        "agent-hours and +1 agent(s)."
    ) in table
    assert "repair changed" not in format_roster(dataclasses.replace(roster, agents_added=0, cover_hours=80.5))
    assert "Targets: met in every interval" in table
    assert "Targets: NOT MET" in format_roster(dataclasses.replace(roster, targets_met=False))


def _dollars(text: str) -> int:
    return int(text.lstrip("$").replace(",", ""))


def test_wall_table_money_adds_up_as_printed() -> None:
    # rates whose shift pay has cents (41.99 x 25.5 h = 1,070.745): each amount is rounded once, from
    # unrounded sums, and every printed column adds up to its printed total
    text = (
        tiny_centre()
        .replace("cost_per_hour: 42.0", "cost_per_hour: 41.99")
        .replace("cost_per_hour: 33.0", "cost_per_hour: 33.33")
    )
    table = format_roster(hand_roster(text))
    blocks = table.split("\n\n")[1:3]
    pool_totals = []
    for block in blocks:
        rows = [line.split() for line in block.splitlines()[2:]]
        *lines, total = rows
        assert sum(_dollars(r[-1]) for r in lines) == _dollars(total[-1])
        pool_totals.append(_dollars(total[-1]))
    cost = re.search(
        r"Cost: (\S+) a day: the shifts (\S+) .* \+ overtime (\S+); of it, the agents who come (\S+)\.", table
    )
    assert cost is not None
    assert sum(pool_totals) == _dollars(cost.group(2))
    assert _dollars(cost.group(2)) + _dollars(cost.group(3)) == _dollars(cost.group(1))


@pytest.mark.parametrize(
    ("values", "printed"),
    [
        ([280.5] * 5 + [693.0], [281, 281, 281, 280, 280, 693]),  # 2,095.5 is 2,096: so are the rows
        ([10521.0, 2095.5], [10521, 2096]),
        ([0.4, 0.4, 0.4], [1, 0, 0]),  # 1.2 is 1
        ([], []),
    ],
)
def test_apportion_rounds_once_and_adds_up(values: list[float], printed: list[int]) -> None:
    assert apportion(values) == printed
    assert sum(apportion(values)) == math.floor(sum(values) + 0.5)
    assert all(abs(p - v) < 1 for p, v in zip(apportion(values), values, strict=True))
