"""Benchmark of the week's integer programs alone (no simulation): the lines of each pool for the
need of ``scenarios/week.yaml``, their paid hours a week against the weekly lower bound, and the
time of the start-time and week programs.

The need (each day's head-count search, a few minutes of simulation) is computed once and kept in
``--need`` (JSON); later runs read it, so a change to the programs is measured in seconds.

    python -m bench.week_program [--scenario scenarios/week.yaml] [--need /tmp/week-need.json] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from queueing.core.durations import HOUR_S
from queueing.core.runner import make_executor
from queueing.core.scenario_file import load_scenario
from queueing.planning.lines import DAYS
from queueing.planning.roster import roster_rules, rostered_need
from queueing.planning.staff import find_staffing, open_intervals
from queueing.planning.week_roster import _paid, _solve, day_scenario

ROOT = Path(__file__).resolve().parent.parent


def week_need(scenario_path: Path, cache: Path, jobs: int) -> list[list[int]]:
    """The rostered need [interval of the week][pool], from ``cache`` when it is there."""
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    scenario = load_scenario(scenario_path)
    rules = roster_rules(scenario)
    executor = make_executor(jobs)
    required: list[list[int]] = []
    for d in range(DAYS):
        staffing = find_staffing(day_scenario(scenario, d), executor, interval_s=rules.interval)
        required.extend(row[:] for row in staffing.agents)
    need = rostered_need(required, rules, scenario, open_intervals(scenario, rules.interval) * DAYS)
    cache.write_text(json.dumps(need), encoding="utf-8")
    return need


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "week.yaml")
    parser.add_argument("--need", type=Path, default=Path("/tmp/week-need.json"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    rules = roster_rules(scenario)
    need = week_need(args.scenario, args.need, args.jobs)
    total = bound = 0.0
    for p, pool in enumerate(scenario.staffing.pools):
        col = [row[p] for row in need]
        t0 = time.perf_counter()
        cover = _solve(rules, pool, col, rules.interval, scenario.first_weekday)
        took = time.perf_counter() - t0
        paid, low = _paid(cover), sum(col) * rules.interval / HOUR_S
        total, bound = total + paid, bound + low
        print(
            f"{pool.name}: {paid:,.1f} paid h a week, bound {low:,.1f} (+{paid / low - 1:.1%}), "
            f"gap {cover.gap:.1%}, {took:.1f} s"
        )
    print(f"week: {total:,.1f} paid h against {bound:,.1f} (+{total / bound - 1:.1%})")


if __name__ == "__main__":
    main()
