"""Benchmark (not a timed test): a roster of the baseline day with 8h30m and 10h30m shifts.

Runs ``ivr311 roster scenarios/baseline.yaml --jobs 2`` as a whole process and, as the
baseline measured in the same invocation, ``ivr311 staff`` on the same file at the roster's
planning interval (the head-count search the roster starts from): the roster's extra time is
the ratio of the two. Prints the median wall time of each, the ratio, the roster's paid
agent-hours against the head-count lower bound, the integer programs' lines from stderr, and
the roster's table.
Targets: under 2 minutes with 2 jobs; paid hours within 10% of the lower bound.

When the scenario has no ``roster:`` section, a copy with the rules of
tests/scenarios/two-pools.yaml (30-minute grid, 8h30m and 10h30m shifts, a 30-minute break 3h to
5h in, shrinkage 0.12, rates 42 and 33) is written to a temporary folder and used for both commands.

    python -m bench.roster_speed [--repeat 3] [--scenario scenarios/baseline.yaml] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tests.support.scenarios import roster_section, shared

ROOT = Path(__file__).resolve().parent.parent


def with_rules(scenario: Path, folder: Path) -> tuple[Path, str]:
    """The scenario to run: ``scenario`` itself when it has roster rules, else a copy with the
    rules of tests/scenarios/two-pools.yaml (the two pools the baseline has too)."""
    text = scenario.read_text(encoding="utf-8")
    if (yaml.safe_load(text) or {}).get("roster"):
        return scenario, "the file's roster rules"
    copy = folder / scenario.name
    rules = roster_section(shared("two-pools"))
    copy.write_text(f"{text.rstrip()}\n# added by bench.roster_speed\n{rules}", encoding="utf-8")
    return copy, "the roster rules of tests/scenarios/two-pools.yaml (the file has none)"


def interval_of(scenario: Path) -> str:
    rules = yaml.safe_load(scenario.read_text(encoding="utf-8"))["roster"]
    return str(rules.get("interval", "30m"))


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    exe = Path(sys.executable).with_name("ivr311")
    start = time.perf_counter()
    done = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the median wall time is reported")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {"staff": [], "roster": []}
    with tempfile.TemporaryDirectory() as tmp:
        scenario, source = with_rules(args.scenario, Path(tmp))
        interval = interval_of(scenario)
        jobs = ["--jobs", str(args.jobs)]
        for k in range(args.repeat):  # interleaved, so drifting machine load hits both alike
            out = Path(tmp) / f"staff-{k}"
            wall, _ = timed(["staff", str(scenario), "--interval", interval, *jobs, "--out", str(out), "--quiet"])
            walls["staff"].append(wall)
            staffing = json.loads((out / "staffing.json").read_text())
            print(f"  staff  run {k + 1}: {wall:6.1f} s", flush=True)
            out = Path(tmp) / f"roster-{k}"
            wall, done = timed(["roster", str(scenario), *jobs, "--out", str(out)])
            walls["roster"].append(wall)
            doc = json.loads((out / "roster.json").read_text())
            print(f"  roster run {k + 1}: {wall:6.1f} s", flush=True)
    med = {name: statistics.median(w) for name, w in walls.items()}
    above = doc["above_lower_bound"]
    print()
    print(f"scenario: {args.scenario.name} with {source}; interval {interval}, {doc['meta']['replications']} "
          f"replications, --jobs {args.jobs}, {args.repeat} run(s) each")  # fmt: skip
    print(f"staff (baseline): median {med['staff']:6.1f} s, {staffing['agent_hours']:.1f} agent-hours on duty a day")
    print(f"roster:           median {med['roster']:6.1f} s  ({med['roster'] / med['staff']:.2f}x staff)")
    for line in done.stderr.splitlines():
        if line.startswith(("cover ", "roster repair", "the roster still")):
            print(f"  {line}")
    cost = f", {doc['currency']}{doc['cost_per_day']:,.0f} a day" if doc["cost_per_day"] is not None else ""
    print(
        f"roster: {doc['agents']} agents, {doc['paid_hours']:.1f} paid agent-hours ({doc['agent_hours']:.1f} on "
        f"duty){cost}, {doc['fte']:.1f} FTE; {doc['paid_hours'] - doc['cover_hours']:+g} paid agent-hours "
        f"({doc['agents_added']:+d} agents) added after simulation; "
        f"targets met: {doc['targets_met']}"
    )
    print(f"lower bound: {doc['lower_bound_hours']:.1f} agent-hours; the roster is {above * 100:+.1f}% above it")
    fast = "met" if med["roster"] < 120 else "NOT MET"
    print(f"target: under 120 s with --jobs {args.jobs}: {med['roster']:.1f} s {fast}")
    print(f"target: within 10% of the lower bound: {above * 100:+.1f}% {'met' if above <= 0.10 else 'NOT MET'}")
    print()
    print("the roster (last run):")
    print(done.stdout.rstrip())


if __name__ == "__main__":
    main()
