"""Benchmark (not a timed test): a week's roster of lines of the baseline with weekday factors.

Runs ``ivr311 roster scenarios/week.yaml --jobs 2`` (the baseline's demand with its weekday
factors over 7 days; lines of 5 x 8h30m or 4 x 10h30m, two days off in a row, at most 6 start
times a pool) as a whole process, then the same file with every target measured ``over: day``.
Prints the wall time of each, the paid agent-hours a week against the weekly lower bound (the
need of every interval, on duty), each integer program's gap when a node limit stopped it, and
the cost a week of the two: what measuring over the day instead of every interval saves.
Targets: under 5 minutes with 2 jobs; paid hours within 12% of the lower bound.

    python -m bench.roster_week [--scenario scenarios/week.yaml] [--jobs 2] [--replications N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def with_window(scenario: Path, folder: Path, over: str) -> Path:
    """A copy of ``scenario`` whose targets are all measured over ``over``."""
    data = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    for targets in data["targets"].values():
        for t in targets:
            t["over"] = over
    copy = folder / f"{scenario.stem}-{over}.yaml"
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def run(scenario: Path, out: Path, jobs: int, replications: int | None) -> tuple[float, dict[str, object], str]:
    exe = Path(sys.executable).with_name("ivr311")
    args = [str(exe), "roster", str(scenario), "--jobs", str(jobs), "--out", str(out)]
    if replications is not None:
        args += ["--replications", str(replications)]
    start = time.perf_counter()
    done = subprocess.run(args, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    took = time.perf_counter() - start
    return took, json.loads((out / "roster.json").read_text(encoding="utf-8")), done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "week.yaml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replications", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures = {}
        for over in ("interval", "day"):
            scenario = args.scenario if over == "interval" else with_window(args.scenario, folder, over)
            took, doc, said = run(scenario, folder / over, args.jobs, args.replications)
            paid, bound = float(doc["paid_hours"]) * 7, float(doc["lower_bound_hours"]) * 7  # type: ignore[arg-type]
            cost = doc["cost_per_day"]
            figures[over] = (took, paid, bound, cost)
            gaps = [line for line in said.splitlines() if "node limit" in line]
            print(
                f"over {over}: {took:.1f} s with {args.jobs} jobs; {paid:,.1f} paid agent-hours a week against a "
                f"lower bound of {bound:,.1f} (+{paid / bound - 1:.1%}); cost a week "
                f"{float(cost) * 7:,.0f}; targets met: {doc['targets_met']}"  # type: ignore[arg-type]
            )
            for line in gaps:
                print(f"  {line}")
        week_i, week_d = float(figures["interval"][3]) * 7, float(figures["day"][3]) * 7  # type: ignore[arg-type]
        print(f"over: day against over: interval: {week_d - week_i:+,.0f} a week ({week_d / week_i - 1:+.1%})")


if __name__ == "__main__":
    main()
