"""Where one replication of ``ivr311 simulate`` spends its time and memory, stage by stage.

Runs the stages of ``queueing.core.runner.run_task``, ``write_results`` and the printed table and
queue warning of ``ivr311 simulate`` one after the other in this process, on the sim_speed case
(``--calls`` calls, 1,000,000 by default; ``--routed``: with sim_speed's transfers, redials,
callbacks and languages) or on a scenario file, and prints for each: wall and
CPU time, the resident size after it and the process's peak so far; with ``--trace``,
tracemalloc's live memory after the stage and its peak during it (numpy reports its arrays to
tracemalloc; tracing slows every stage). CPU time suffers far less than wall time from a busy
machine. A scenario that uses transfers, redials, callbacks or languages runs the routed model,
as ``ivr311 simulate`` does.

Usage::

    python -m bench.sim_stages
    python -m bench.sim_stages --trace --calls 200000
    python -m bench.sim_stages --routed --calls 300000
    python -m bench.sim_stages scenarios/week.yaml --keep-calls
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.baselines import TOTAL_RATE_PER_S


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # not Linux
        return float("nan")


def _peak_mb() -> float:
    """The process's peak resident size so far (ru_maxrss: kilobytes on Linux, bytes on macOS)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (2**20 if sys.platform == "darwin" else 2**10)


class Stages:
    """Prints one line per stage: what it cost since the previous one."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __call__(self, name: str, note: str = "") -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        line = f"{name:<28} {wall - self.wall:7.2f} s wall {cpu - self.cpu:6.2f} s CPU"
        line += f"  RSS {_rss_mb():6.1f} MB, peak {_peak_mb():6.1f} MB"
        if self.trace:
            now, peak = tracemalloc.get_traced_memory()
            line += f"  traced {now / 2**20:6.1f} MB, peak in stage {peak / 2**20:6.1f} MB"
            tracemalloc.reset_peak()
        print(line + (f"  {note}" if note else ""), flush=True)
        self.wall, self.cpu = time.perf_counter(), time.process_time()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, help="a scenario file (default: the sim_speed case)")
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls of the sim_speed case (default 1,000,000)")
    parser.add_argument("--routed", action="store_true", help="the sim_speed case with its four behaviours on")
    parser.add_argument("--keep-calls", action="store_true", help="also write calls.csv, as --calls does")
    parser.add_argument("--trace", action="store_true", help="tracemalloc's live memory and peaks (slower)")
    args = parser.parse_args(argv)
    if args.routed and args.scenario is not None:
        parser.error("--routed changes the sim_speed case; a scenario file says for itself")
    stage = Stages(args.trace)
    from queueing.core import runner
    from queueing.core.draws import draw_callers
    from queueing.core.metrics import replication_intervals, replication_measures
    from queueing.core.scenario_file import load_scenario
    from queueing.core.schedule import build_schedule
    from queueing.core.settling import queue_course, unsettled
    from queueing.output.files import write_results
    from queueing.output.tables import format_summary

    stage("imports")
    if args.trace:
        tracemalloc.start()
    with tempfile.TemporaryDirectory(prefix="sim_stages-") as tmp:
        path = args.scenario
        if path is None:
            from bench.sim_speed import write_case

            path = Path(tmp) / "case.yaml"
            days = max(2, round(args.calls / TOTAL_RATE_PER_S / 86400.0))
            write_case(path, seed=311, days=days, routed=args.routed)
        scenario = load_scenario(path)
        schedule = build_schedule(scenario)
        stage("scenario + schedule")
        callers = draw_callers(scenario, 0)
        stage("draw callers", f"{len(callers):,} callers")
        records: Any = runner.simulate_callers(scenario, schedule, callers, 0)
        stage("routed model" if scenario.routed else "model")
        if len(callers) >= runner.LARGE_REPLICATION_CALLS:
            gc.collect()
            stage("collect the model's cycles")
        measures = replication_measures(scenario, schedule, records)
        records.forget_waits()
        stage("measures")
        intervals = replication_intervals(scenario, schedule, records, 0, runner.DEFAULT_INTERVAL_S)
        stage("interval rows", f"{len(intervals):,} rows")
        rep = runner.ReplicationResult(0, measures, intervals, records if args.keep_calls else None)
        del records, callers
        result = runner.SimulationResult(scenario, [rep], runner.DEFAULT_INTERVAL_S)
        _ = result.summary
        stage("summary")
        written = write_results(result, Path(tmp) / "out", calls=args.keep_calls)
        stage("write files", ", ".join(f"{p.name} {p.stat().st_size / 2**20:.1f} MB" for p in written))
        format_summary(scenario, result.summary)
        unsettled(scenario, result.summary, queue_course([r.intervals for r in result.replications]))
        stage("table + queue warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
