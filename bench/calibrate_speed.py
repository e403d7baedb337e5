"""Benchmark (not a timed test): `ivr311 calibrate` on a 30-day call log of about 1,000,000 calls.

The log is the model's own calls: the baseline scenario with its arrivals and agents scaled up
(~33,000 calls a day), 30 replications of a day, written in the export schema (CSV). Then,
each as a whole process, measured for wall time and peak RSS:

- baseline: reading the CSV with pandas (``pd.read_csv(path)``), nothing else;
- ``ivr311 calibrate LOG --base BASE --out FILE -q``.

Targets: under 30 s and 500 MB on the 2-core machine.

    python -m bench.calibrate_speed [--calls 1000000] [--days 30] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measured(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``cmd`` run as its own process."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return wall, int(out.stdout.strip().splitlines()[-1]) / 1024


def write_log(folder: Path, calls: int, days: int) -> tuple[Path, Path, int]:
    import yaml

    from queueing import load_scenario, simulate
    from queueing.core.scenario_file import validate_data
    from tests.support.call_log import simulated_call_log  # the model's calls as a call log

    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    per_day = sum(sum(c.arrivals.hourly_rates()) for c in base.classes.values())
    factor = calls / days / per_day
    data = base.to_data()
    for cc in data["classes"].values():
        cc["arrivals"]["profile_per_hour"] = [r * factor for r in cc["arrivals"]["profile_per_hour"]]
    for pool in data["staffing"]["pools"]:
        for shift in pool["shifts"]:
            shift["agents"] = round(shift["agents"] * factor)
    data["replications"] = days
    scenario = validate_data(data, "bench")
    frame = simulated_call_log(simulate(scenario, keep_calls=True, jobs=2))
    log = folder / "calls.csv"
    frame.to_csv(log, index=False)
    base_file = folder / "base.yaml"
    base_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return log, base_file, len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is reported")
    parser.add_argument("--keep", type=Path, help="write the log and the calibrated scenario here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        log, base, n = write_log(folder, args.calls, args.days)
        size_mb = log.stat().st_size / 1e6
        took = time.perf_counter() - start
        print(f"log: {n:,} calls over {args.days} days, {size_mb:,.0f} MB CSV (written in {took:.1f} s)")
        exe = str(Path(sys.executable).with_name("ivr311"))
        read = [sys.executable, "-c", f"import pandas as pd; pd.read_csv({str(log)!r})"]
        cal = [exe, "calibrate", str(log), "--base", str(base), "--out", str(folder / "calibrated.yaml"), "-q"]
        runs: dict[str, list[tuple[float, float]]] = {"read_csv": [], "calibrate": []}
        for _ in range(args.repeat):
            runs["read_csv"].append(measured(read))
            runs["calibrate"].append(measured(cal))
        med = {k: (statistics.median(w for w, _ in v), max(m for _, m in v)) for k, v in runs.items()}
        for k, (wall, rss) in med.items():
            all_ = ", ".join(f"{w:.2f}" for w, _ in runs[k])
            print(f"{k:>10}: {wall:6.2f} s median of {args.repeat} (all: {all_}), peak RSS {rss:,.0f} MB")
        (cw, cm), (rw, rm) = med["calibrate"], med["read_csv"]
        print(f"calibrate / read_csv: {cw / rw:.2f}x time, {cm / rm:.2f}x memory; {n / cw:,.0f} calls/s")
        print(f"targets: < 30 s {'met' if cw < 30 else 'MISSED'}, < 500 MB {'met' if cm < 500 else 'MISSED'}")


if __name__ == "__main__":
    main()
