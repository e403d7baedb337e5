"""A week's roster of lines: day patterns, the week program against brute force, every line
obeying the rules, the files (roster.yaml simulating the same plan, lines.csv, assignments), the
week re-simulated on callers the search never saw, and the same bytes from the same file."""

from __future__ import annotations

import numpy as np
import pytest

from queueing.core.scenario_file import parse_scenario
from queueing.planning.lines import day_coverage, day_patterns, line_costs, line_types, week_cover

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
  "911": [{within: 30s, share: 0.8}]
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
    from queueing.planning.lines import choose_starts

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
