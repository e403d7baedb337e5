"""Benchmark (not a timed test): staffing the baseline day in 1-hour intervals.

Runs ``ivr311 staff scenarios/baseline.yaml --interval 1h`` as a whole process with ``--jobs 1``
and ``--jobs 2`` (same seed, so the same search and the same answer), and prints the wall
time of each, the calls simulated, the speed-up of two processes over one, and the answer.
Targets: under 60 s with 2 jobs on 2 cores; a speed-up of at least 1.7x.

    python -m bench.staff_speed [--repeat 3] [--scenario scenarios/baseline.yaml]
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

ROOT = Path(__file__).resolve().parent.parent


def run(scenario: Path, jobs: int, out: Path) -> tuple[float, dict]:
    exe = Path(sys.executable).with_name("ivr311")
    start = time.perf_counter()
    subprocess.run(
        [str(exe), "staff", str(scenario), "--interval", "1h", "--jobs", str(jobs), "--out", str(out), "--quiet"],
        check=True,
    )
    wall = time.perf_counter() - start
    return wall, json.loads((out / "staffing.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting; the median wall time is reported")
    args = parser.parse_args()
    walls: dict[int, list[float]] = {1: [], 2: []}
    docs: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            for jobs in (1, 2):  # interleaved, so drifting machine load hits both alike
                wall, doc = run(args.scenario, jobs, Path(tmp) / f"j{jobs}-{k}")
                walls[jobs].append(wall)
                docs[jobs] = doc
                print(f"  --jobs {jobs} run {k + 1}: {wall:6.2f} s", flush=True)
    same = docs[1]["agent_hours"] == docs[2]["agent_hours"] and docs[1]["simulations"] == docs[2]["simulations"]
    med = {j: statistics.median(w) for j, w in walls.items()}
    calls = docs[2]["calls_simulated"]
    print()
    print(
        f"scenario: {args.scenario.name}, 1-hour intervals, {docs[2]['replications']} replications, "
        f"confidence {docs[2]['confidence']}"
    )
    print(
        f"answer: {docs[2]['agent_hours']:.0f} agent-hours a day (per-interval Erlang: "
        f"{docs[2]['erlang_agent_hours']:.0f}); targets met: {docs[2]['targets_met']}"
    )
    print(f"search: {docs[2]['simulations']} simulations, {calls:,} calls")
    for jobs in (1, 2):
        print(f"--jobs {jobs}: median {med[jobs]:6.2f} s  ({calls / med[jobs]:,.0f} calls/s)")
    speedup = med[1] / med[2]
    print(f"speed-up of --jobs 2 over --jobs 1: {speedup:.2f}x")
    print(f"same answer with 1 and 2 jobs: {same}")
    print(f"target: --jobs 2 under 60 s: {med[2]:.1f} s {'met' if med[2] < 60 else 'NOT MET'}")
    print(f"target: speed-up >= 1.7x: {speedup:.2f}x {'met' if speedup >= 1.7 else 'NOT MET'}")


if __name__ == "__main__":
    main()
