"""A week's roster of lines: day patterns, the week program against brute force, every line
obeying the rules, the files (roster.yaml simulating the same plan, lines.csv, assignments), the
week re-simulated on callers the search never saw, and the same bytes from the same file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.optimize

from queueing import simulate
from queueing.core.calendar import WEEK_S, WEEKDAYS
from queueing.core.scenario_file import load_scenario, parse_scenario, with_overrides
from queueing.planning.cover import cheapest_cover, dive_program, present_agents, shift_types
from queueing.planning.lines import (
    choose_starts,
    day_coverage,
    day_patterns,
    line_costs,
    line_types,
    refine_starts,
    week_cover,
    week_program,
    week_relaxation,
)
from queueing.planning.staff import check_targets
from tests.support.cli import invoke, write_file

H = 3600.0

TINY = """
name: Tiny week
seed: 5
start_day: mon
horizon: 7d
replications: 2
classes:
  "911":
    priority: 1
    arrivals:
      profile_per_hour: [4, 4, 4, 4, 4, 4, 8, 8, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 8, 8, 8, 8, 4, 4]
      weekdays: {mon: 1.0, tue: 1.0, wed: 1.0, thu: 1.0, fri: 1.3, sat: 1.3, sun: 0.8}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 3m}
staffing:
  pools:
    - name: takers
      serves: ["911"]
      agents: 2
targets:
  "911": [{within: 30s, share: 0.8}, {within: 60s, share: 0.9, over: day}]
roster:
  interval: 2h
  start_every: 2h
  shift_lengths: [8h, 10h]
  breaks: [{length: 2h, earliest: 2h, latest: 4h}]
  shrinkage: 0.1
  pools:
    takers: {cost_per_hour: 40.0, min_agents: 1}
  shifts_per_week: [{shifts: 5, length: 8h}, {shifts: 4, length: 10h}]
  days_off: {count: 2, consecutive: true}
  max_start_times: 3
"""


def _runs_off(days: tuple[int, ...]) -> int:
    """The longest run of days off, the week wrapping."""
    off = [d not in days for d in range(7)] * 2
    best = run = 0
    for o in off:
        run = run + 1 if o else 0
        best = max(best, run)
    return min(best, 7)


# --- day patterns and the week program --------------------------------------------------------


def test_day_patterns_leave_the_days_off_asked_for() -> None:
    rules = parse_scenario(TINY).roster
    assert rules is not None
    five = day_patterns(5, rules.days_off)
    four = day_patterns(4, rules.days_off)
    assert len(five) == 7 and len(four) == 28  # 35 sets of 3 days off, 7 of them with no two in a row
    assert all(_runs_off(p) >= 2 for p in five + four)
    assert len(day_patterns(5, None)) == 21


def _toy(limit: int | None) -> str:
    return f"""
name: toy
horizon: 7d
classes: {{"911": {{priority: 1, arrivals: {{rate_per_hour: 1}}, handle_time: {{dist: exponential, mean: 1m}}}}}}
staffing: {{pools: [{{name: a, serves: ["911"], agents: 1}}]}}
roster:
  interval: 8h
  start_every: 8h
  shift_lengths: [8h, 16h]
  shifts_per_week: [{{shifts: 5, length: 8h}}, {{shifts: 3, length: 16h}}]
  days_off: {{count: 2, consecutive: true}}
  {"" if limit is None else f"max_start_times: {limit}"}
"""


def _brute_force(
    need: list[int], duty: np.ndarray, costs: list[float], starts: list[float], limit: int | None
) -> float:
    """The least cost of lines covering ``need``, by exhaustive search: the first interval still
    short must be covered by one of the lines on duty there, so branch on each of those, pruning
    by cost (a branch costing no less than the best found cannot lead lower)."""
    best = [np.inf]
    per_interval = min(c / col.sum() for c, col in zip(costs, duty.T, strict=True))  # the cheapest cover rate
    seen: dict[tuple[bytes, frozenset[float]], float] = {}

    def go(short: np.ndarray, cost: float, used: frozenset[float]) -> None:
        if cost + np.maximum(short, 0).sum() * per_interval >= best[0] - 1e-9:
            return
        key = (np.maximum(short, 0).tobytes(), used)
        if seen.get(key, np.inf) <= cost:
            return
        seen[key] = cost
        rows = np.flatnonzero(short > 0)
        if not len(rows):
            best[0] = cost
            return
        for j in np.flatnonzero(duty[rows[0]]):
            now = used | {starts[j]}
            if limit is not None and len(now) > limit:
                continue
            go(short - duty[:, j], cost + costs[j], now)

    go(np.asarray(need), 0.0, frozenset())
    return best[0]


@pytest.mark.parametrize("seed", range(6))
def test_the_week_program_finds_the_brute_force_optimum(seed: int) -> None:
    """Three 8-hour intervals a day, lines of 5 x 8h or 3 x 16h with two days off in a row, needs
    of 0 to 2: the program's cost is the exhaustive search's (with a start-time limit, the starts
    are chosen first, on every interval's largest need of the week, so never cheaper)."""
    rng = np.random.default_rng(seed)
    need = [int(v) for v in rng.choice([0, 1, 2], size=21, p=[0.5, 0.4, 0.1])]
    limit = 2 if seed % 2 else None
    scenario = parse_scenario(_toy(limit))
    rules, pool = scenario.roster, scenario.staffing.pools[0]
    assert rules is not None
    lines = line_types(rules, pool)
    costs = line_costs(rules, pool, lines)
    assert len(lines) == 3 * 7 + 3 * 35  # 3 starts x (7 sets of 5 days, 35 of 3: four days off hold two in a row)
    duty = np.zeros((21, len(lines)), dtype=int)
    for j, line in enumerate(lines):
        for d in line.days:
            for k in range(round(line.length_s / (8 * H))):
                duty[(3 * d + round(line.start_s / (8 * H)) + k) % 21, j] += 1
    best = _brute_force(need, duty, costs, [line.start_s for line in lines], limit)
    starts = choose_starts(rules, pool, need, 8 * H, limit)
    allowed = line_types(rules, pool, starts)
    got = week_cover(rules, need, allowed, line_costs(rules, pool, allowed))
    cost = sum(c * k for c, k in zip(line_costs(rules, pool, got.lines), got.x, strict=True))
    assert got.gap == 0
    if limit is None:
        assert cost == pytest.approx(best)
    else:
        assert (
            cost >= best - 1e-9 and len({line.start_s for line, k in zip(got.lines, got.x, strict=True) if k}) <= limit
        )
    assert all(c >= k for c, k in zip(day_coverage(got.shifts_by_day(), 8 * H), need, strict=True))


def test_start_times_move_to_where_the_week_needs_them() -> None:
    """The day program picks start times on the week's peak need; a start 2 hours early for a
    need of 12:00-20:00 every day covers it only with a second start's lines too, at twice the
    cost: the local search moves it onto the need, where one start's lines cover it alone."""
    text = _toy(2).replace("interval: 8h", "interval: 1h").replace("start_every: 8h", "start_every: 1h")
    text = text.replace("shift_lengths: [8h, 16h]", "shift_lengths: [8h]").replace(", {shifts: 3, length: 16h}", "")
    scenario = parse_scenario(text)
    rules, pool = scenario.roster, scenario.staffing.pools[0]
    assert rules is not None
    need = [1 if 12 <= h < 20 else 0 for _ in range(7) for h in range(24)]
    allowed = [h * H for h in range(24)]
    assert week_relaxation(rules, pool, need, [10 * H, 14 * H]) == pytest.approx(2 * 7 * 8)  # paid h: two lines a day
    moved = refine_starts(rules, pool, need, [10 * H, 14 * H], allowed)
    assert 12 * H in moved and len(moved) == 2
    assert week_relaxation(rules, pool, need, moved) == pytest.approx(7 * 8)  # the need's hours: 7/5 of a line


# --- the command, end to end on a tiny week --------------------------------------------------------


def _roster(tmp: Path, *extra: str) -> Path:
    scenario = write_file(tmp, TINY, "tiny.yaml")
    out = tmp / "out"
    result = invoke("roster", str(scenario), "--jobs", "1", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("week")
    people = ["name,pool,days,hours"] + [f"P{k},takers,," for k in range(40)]
    (folder / "people.csv").write_text("\n".join(people) + "\n", encoding="utf-8")
    return _roster(folder, "--people", str(folder / "people.csv"))


def _lines(out: Path) -> list[dict[str, str]]:
    with (out / "lines.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _days(text: str) -> list[int]:
    """Monday-first day indexes of ``Mon-Fri``, ``Tue, Thu, Sat`` (runs may wrap past Sunday)."""
    out: list[int] = []
    for part in text.split(", "):
        ends = [WEEKDAYS.index(e.lower()) for e in part.split("-")]  # type: ignore[arg-type]
        out += [(ends[0] + k) % 7 for k in range((ends[-1] - ends[0]) % 7 + 1)]
    return out


def test_every_line_obeys_shifts_per_week_days_off_and_start_times(week: Path) -> None:
    rows = _lines(week)
    assert rows and [int(r["line"]) for r in rows] == list(range(1, len(rows) + 1))
    kinds = {(5, 8.0), (4, 10.0)}
    for row in rows:
        days = _days(row["days"])
        h, m = (int(v) for v in row["start"].split(":"))
        eh, em = (int(v) for v in row["end"].split(":"))
        length = eh + em / 60 - h - m / 60
        assert (len(days), length) in kinds, row
        assert float(row["paid_hours"]) == len(days) * length
        assert _runs_off(tuple(days)) >= 2, row
        assert sorted(_days(row["off"])) == sorted(set(range(7)) - set(days))
    assert len({r["start"] for r in rows}) <= 3


def test_roster_yaml_validates_and_is_the_lines_on_duty(week: Path) -> None:
    from queueing.core.duty import agent_seconds

    assert invoke("validate", str(week / "roster.yaml")).exit_code == 0
    scenario = load_scenario(week / "roster.yaml")
    # the week as checked, day by day: each shift's agents who come and, as absent, those away
    checked = scenario.staffing.pools[0]
    shifts = [
        sh.model_copy(update={"agents": sh.agents + (sh.absent or 0), "absent": None}) for sh in checked.shift_list()
    ]
    pool = checked.model_copy(update={"shifts": shifts})
    step = 2 * H
    edges = np.arange(0, WEEK_S + step, step)
    on_duty = agent_seconds(pool, WEEK_S, edges, scenario.first_weekday) / step
    # the lines' own count: each line's agent on duty in each 2-hour interval of its days, but its breaks
    expected = np.zeros(84)
    for row in _lines(week):
        start = int(row["start"][:2]) // 2
        end = int(row["end"][:2]) // 2
        for d in _days(row["days"]):
            for k in range(start, end):
                expected[(12 * d + k) % 84] += 1
        for part in row["breaks"].split(";"):
            days, span = part.rsplit(" ", 1) if " " in part else (row["days"], part)
            b = int(span[:2]) // 2
            for d in _days(days):
                expected[(12 * d + b + (12 if b < start else 0)) % 84] -= 1
    assert np.allclose(on_duty, expected)


def test_assignments_give_every_line_one_person(week: Path) -> None:
    with (week / "assignments.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rows] == [int(r["line"]) for r in _lines(week)]
    assert len({r["name"] for r in rows}) == len(rows)


def test_too_few_people_is_one_clear_error(tmp_path: Path) -> None:
    people = write_file(tmp_path, "name,pool,days,hours\nAnn,takers,mon-fri,07:00-17:00\nBo,takers,,\n", "p.csv")
    scenario = write_file(tmp_path, TINY, "tiny.yaml")
    result = invoke("roster", str(scenario), "--jobs", "1", "--out", str(tmp_path / "o"), "--people", str(people), "-q")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and "lines have nobody left to work them" in result.stderr


def test_the_week_meets_its_targets_on_callers_the_search_never_saw(week: Path) -> None:
    checked = load_scenario(week / "roster.yaml")  # the week as checked, the agents away absent
    fresh = with_overrides(checked, seed=90_210, replications=6)
    check = check_targets(simulate(fresh, interval_s=2 * H), 2 * H, confidence=0.5, period_s=WEEK_S)
    assert [t.window for t in check.targets] == ["interval", "day"]  # each judged over its own window
    # the mean over fresh replications, in every interval of the week: a few points of noise allowed
    assert np.all(np.nan_to_num(check.margin, nan=1.0) >= -0.05), check.margin


@pytest.mark.slow
def test_the_same_file_gives_the_same_lines_byte_for_byte(week: Path, tmp_path: Path) -> None:
    again = _roster(tmp_path, "--people", str(week.parent / "people.csv"))
    for name in ("lines.csv", "roster.yaml", "roster.csv", "assignments.csv"):
        # the header of a scenario file names the file rostered, in its own folder
        ours, theirs = (f.read_bytes().replace(bytes(f.parent.parent), b"DIR") for f in (again / name, week / name))
        assert ours == theirs, name


def test_no_integer_program_has_a_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall-clock limits make the answer depend on the machine's load: only work limits."""
    seen: list[dict[str, Any]] = []
    real = scipy.optimize.milp

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(dict(kwargs.get("options") or {}))
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "milp", spy)
    toy = parse_scenario(_toy(None))
    rules, pool = toy.roster, toy.staffing.pools[0]
    assert rules is not None
    lines = line_types(rules, pool)
    need = [1, 2, 3] * 7
    costs = line_costs(rules, pool, lines)
    week_cover(rules, need, lines, costs, node_limit=1)
    a, equal, placed = week_program(rules, lines)
    dive_program(a, need, costs + [0.0] * len(placed), equal, dive=len(lines))  # what a stopped search adds
    rules, pool = parse_scenario(TINY).roster, parse_scenario(TINY).staffing.pools[0]
    assert rules is not None
    types = shift_types(rules, pool)
    x, _ = cheapest_cover([1, 2, 3, 2, 1, 1] * 2, types, [1.0] * len(types))
    present_agents(types, [k + 1 for k in x], 0.3, 2 * H)
    assert len(seen) >= 5
    assert all("time_limit" not in o for o in seen), seen
    assert all("node_limit" in o for o in seen if "mip_rel_gap" in o)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("length: 10h}]", "length: 9h}]", "roster.shifts_per_week.1.length: 9h is not one of shift_lengths"),
        ("count: 2, consecutive", "count: 4, consecutive", "roster.shifts_per_week.0.shifts: 5 shifts a week leave 2"),
        ("horizon: 7d", "horizon: 2d", "roster.shifts_per_week: weekly lines plan a week: the horizon must be 7d"),
        ("max_start_times: 3", "max_start_times: {desk: 2}", "roster.max_start_times.desk: unknown pool 'desk'"),
        ("max_start_times: 3", "line_hours: {min: 44h}", "roster.line_hours: no line of shifts_per_week has its"),
    ],
)
def test_weekly_rules_are_checked_with_one_clear_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = write_file(tmp_path, TINY.replace(old, new, 1))
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_a_week_without_weekly_rules_says_what_to_add(tmp_path: Path) -> None:
    text = TINY.split("  shifts_per_week:")[0]
    path = write_file(tmp_path, text, "week.yaml")
    result = invoke("roster", str(path), "--out", str(tmp_path / "o"), "-q")
    assert result.exit_code == 2 and "add shifts_per_week" in result.stderr


def test_a_people_file_needs_a_week(tmp_path: Path) -> None:
    day = TINY.replace("horizon: 7d", "horizon: 1d").split("  shifts_per_week:")[0]
    path = write_file(tmp_path, day, "day.yaml")
    people = write_file(tmp_path, "name,pool\nAnn,takers\n", "p.csv")
    result = invoke("roster", str(path), "--out", str(tmp_path / "o"), "--people", str(people), "-q")
    assert result.exit_code == 2 and "7-day scenario" in result.stderr


def test_weekly_rules_are_written_as_planners_write_them_and_read_back_the_same() -> None:
    from queueing.output.scenario_yaml import scenario_yaml

    week = load_scenario(Path(__file__).parents[2] / "scenarios" / "week.yaml")
    text = scenario_yaml(week, ["a week"])
    assert "line_hours: {min: 40h, max: 43h}" in text and "days_off: {count: 2, consecutive: true}" in text
    assert parse_scenario(text) == week


def test_absences_are_placed_where_highs_presolve_fails() -> None:
    """A day of a week's lines whose absence program HiGHS's presolve gives up on ("Solve error"):
    solved again without presolve, 3 of its 27 agents away."""
    from queueing.planning.cover import ShiftType

    shapes = [
        (5, 8.5, 4), (5, 8.5, 5), (5, 10.5, 4.5), (7, 10.5, 3.5), (7, 10.5, 4), (7, 10.5, 4.5), (8.5, 10.5, 3.5),
        (13.5, 8.5, 4.5), (13.5, 8.5, 5), (13.5, 10.5, 3.5), (13.5, 10.5, 4.5), (17.5, 8.5, 4.5), (18.5, 10.5, 4.5),
        (18.5, 10.5, 5),
    ]  # fmt: skip
    types = [ShiftType(a * H, n * H, ((b * H, 1800.0),)) for a, n, b in shapes]
    x = [3, 3, 1, 1, 2, 1, 2, 3, 1, 1, 1, 3, 2, 3]
    present = present_agents(types, x, 0.12, 1800.0)
    assert sum(present) == 27 - 3 and all(0 <= p <= k for p, k in zip(present, x, strict=True))


def test_uncoverable_opening_hours_are_one_clear_error_before_any_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week is refused as a day is, before a day's head-count is searched: lines start only
    every 4h within the pool's hours (from 2h), so nothing is on duty from 2h to 4h."""
    import queueing.planning.week_roster as week_roster

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rules should have been refused before the search")

    monkeypatch.setattr(week_roster, "find_staffing", no_search)
    text = TINY.replace("start_every: 2h", "start_every: 4h").replace(
        '      serves: ["911"]\n', '      serves: ["911"]\n      hours: {open: 2h, close: 22h}\n'
    )
    text = text.replace("      agents: 2\n", "      shifts: [{start: 4h, end: 12h, agents: 2}]\n")
    path = write_file(tmp_path, text, "week.yaml")
    result = invoke("roster", str(path), "--out", str(tmp_path / "o"), "-q")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert "roster: pool 'takers' needs agents at 2h" in result.stderr and "no allowed shift" in result.stderr
