"""Benchmark (not a timed test): `ivr311 nowcast` of the baseline at 14:00 with 100 replications.

The log is one day of the baseline's own calls (the model's, replication 0) written into a SQLite
database with the voice app's schema; the now-cast looks at it as of 14:00, so the callers then
in a queue or on a call are the state. Measured, each as a whole process: the wall time of the
command, the CPU seconds of it and its workers, and the now-cast's own time (``wall_s`` in
nowcast.json: reading the log, 300 runs of two hours, the bands).

Target: under 5 s on the 2-core machine.

    python -m bench.nowcast_speed [--replications 100] [--jobs 2] [--repeat 3] [--keep DIR]
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

MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime)
"""


def write_day(folder: Path) -> str:
    """The baseline's day of calls in a SQLite call log; its URL."""
    import numpy as np

    from queueing import load_scenario, simulate
    from tests.support.live_log import DAY, LoggedCall, write_calls_db

    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    rec = simulate(scenario, replications=1, keep_calls=True).records()[0]
    names = scenario.class_names()
    c = rec.callers

    def at(x: float) -> float | None:
        return None if not np.isfinite(x) else float(x)

    calls = []
    for i in range(len(c)):
        answered = at(rec.answered_s[i])
        ended = at(rec.ended_s[i]) if rec.outcome[i] in (0, 1) else None
        cats = list(scenario.classes[names[c.cls[i]]].categories or {})
        category = cats[c.category[i]] if c.category[i] >= 0 else None
        started, queued = float(c.arrival_s[i]), float(c.queued_s[i])
        calls.append(LoggedCall(names[c.cls[i]], started, queued, answered, ended, category))
    return write_calls_db(folder / "calls.db", DAY, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--keep", type=Path, help="write the log and nowcast.json here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = write_day(folder)
        out = folder / "nowcast"
        cmd = [sys.executable, "-m", "queueing.cli", "nowcast", "--database-url", url,
               "--scenario", str(ROOT / "scenarios" / "baseline.yaml"), "--at", "2026-03-02T14:00:00Z",
               "--replications", str(args.replications), "--jobs", str(args.jobs), "--out", str(out)]  # fmt: skip
        walls, cpus, inner = [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", MEASURE, *cmd], check=True, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            cpus.append(float(done.stdout.strip().splitlines()[-1]))
            inner.append(json.loads((out / "nowcast.json").read_text())["wall_s"])
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(
        f"nowcast baseline at 14:00, {args.replications} replications (x3: as rostered, +1, -1), --jobs {args.jobs}: "
        f"command {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU; "
        f"the now-cast itself {statistics.median(inner):.2f} s (median of {args.repeat}; load average {load})"
    )


if __name__ == "__main__":
    main()
