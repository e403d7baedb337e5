"""Simulator throughput and memory: ``ivr311 simulate`` against two baselines, whole-process.

The case: one shared pool "call-takers" of 10 agents serving 911 and 311,
exponential 4-minute handle time for both, Poisson arrivals of 36 + 96 calls/h, nobody
abandons, about 1,000,000 calls (316 simulated days), 1-day warm-up, fixed seed.

Five systems, each run as a separate process and measured the same way (wall time from
spawn to exit, peak RSS of that child from ``os.wait4``):

1. ``ivr311 simulate SCENARIO --out DIR --replications 1`` (writes summary and intervals);
2. ``python -m bench.baselines simpy``: the textbook SimPy model (one process per call,
   ``PriorityResource``);
3. ``python -m bench.baselines floor``: SimPy's floor, one bare ``Timeout`` per call in 10
   processes and nothing else, as many calls: what any SimPy model of the case must spend;
4. ``python -m bench.baselines ciw``: Ciw 3 with priority classes, on fewer calls because it
   is slow (compare calls/s, not wall time);
5. ``python -m bench.baselines heapq``: the case without SimPy, a plain loop over a heap of call
   ends: what an event loop of one's own would spend on the calls (no target; for the reader of
   the floor's).

Prints the load average before and after, calls, wall s, calls/s, peak RSS MB, the ratio of
ivr311's calls/s to each system's (by wall time, and by CPU time: user + system, which a busy
machine inflates far less), and each model's mean waits against Cobham's analytic values
(911 ~ 19.3 s, 311 ~ 160.8 s) as a sanity check (one long run, no confidence interval). Targets:
ivr311 at least 4x the textbook SimPy model, 0.5x SimPy's floor and 4x Ciw in calls/s, peak RSS
at most 150 MB.

``--routed`` runs ivr311 on the case with transfers, redials, callbacks and languages on
(:data:`ROUTED`; the routed model, ``queueing/core/routed_model.py``) while the baselines stay
the textbook case: the ratio to them is what the four behaviours cost. Its waits are not the
textbook's (Cobham's values do not apply), and its "calls" are every leg the model queued
(first attempts, redials, transferred legs).

Usage::

    python -m bench.sim_speed                      # 1M calls (Ciw 200k), 1 repeat
    python -m bench.sim_speed --routed --only ivr311 simpy   # the four behaviours on
    python -m bench.sim_speed --repeat 3           # median wall time of 3 runs each
    python -m bench.sim_speed --calls 200000 --only simpy floor ciw
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.baselines import (
    AGENTS,
    MEAN_HANDLE_S,
    RATES_PER_HOUR,
    TOTAL_RATE_PER_S,
)

ROOT = Path(__file__).resolve().parents[1]

SYSTEMS = ("ivr311", "simpy", "floor", "ciw", "heapq")
TARGET_RATIO = {"simpy": 4.0, "floor": 0.5, "ciw": 4.0}
TARGET_RSS_MB = 150.0

CASE = ROOT / "scenarios" / "textbook.yaml"  # the benchmark case, stationary

# The keys --routed adds to the case: 10% of 911 calls are not emergencies (half of them
# diverted to 311), 311 callers abandon (mean patience 15 minutes), 30% of them redial, and are
# offered a callback past a predicted 3 minutes; a tenth of the callers speak Spanish, with an
# interpreter for 911 (every agent speaks both: the lanes run, nobody needs the line).
ROUTED = {
    "911": {
        "transfer": {"to": "311", "share": 0.1, "triage_time": "30s", "diverted": 0.5},
        "languages": {"en": 0.9, "es": 0.1},
        "interpreter": "2m",
    },
    "311": {
        "patience": {"dist": "exponential", "mean": "15m"},
        "redial": {"probability": 0.3, "delay": {"dist": "exponential", "mean": "10m"}},
        "callback": {"offer_after": "3m", "accept": 0.5, "answer": 0.9, "ring_time": "20s"},
        "languages": {"en": 0.9, "es": 0.1},
    },
}


def write_case(path: Path, seed: int, days: int, routed: bool = False) -> None:
    """The benchmark case (scenarios/textbook.yaml) over ``days`` days, 1-day warm-up, one
    replication, as ``path`` (``routed``: with :data:`ROUTED`'s keys). The baselines simulate the
    same case from bench.baselines' numbers: a file that no longer matches them is refused rather
    than compared."""
    import yaml  # PyYAML only: numpy must not be loaded in this process (see measure())

    data = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    case = (
        [pool["agents"] for pool in data["staffing"]["pools"]],
        {name: cc["arrivals"]["rate_per_hour"] for name, cc in data["classes"].items()},
        {cc["handle_time"]["dist"] + " " + cc["handle_time"]["mean"] for cc in data["classes"].values()},
    )
    expected = ([AGENTS], RATES_PER_HOUR, {f"exponential {MEAN_HANDLE_S / 60:g}m"})
    if case != expected:
        raise SystemExit(f"{CASE} is no longer the case bench.baselines simulates: {case} != {expected}")
    data.update(name="sim_speed benchmark", seed=seed, horizon=f"{days}d", warmup="1d", replications=1)
    if routed:
        for name, keys in ROUTED.items():
            data["classes"][name].update(keys)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@dataclass
class Run:
    """One whole-process measurement."""

    wall_s: float
    peak_rss_mb: float
    calls: float
    mean_wait_s: dict[str, float | None]
    cpu_s: float  # user + system time of the process: what a busy machine inflates least


@dataclass
class Outcome:
    """All repeats of one system, or why it could not run."""

    system: str
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def calls(self) -> float:
        return statistics.median(r.calls for r in self.runs)

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.wall_s

    @property
    def calls_per_cpu_s(self) -> float:
        return self.calls / statistics.median(r.cpu_s for r in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)


def _rss_mb(maxrss: int) -> float:
    """ru_maxrss in MB: kilobytes on Linux, bytes on macOS."""
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, float, float, float, str, str]:
    """Run cmd to completion (in ``env``, default this process's environment); return (exit code,
    wall s, CPU s, peak RSS MB, stdout, stderr).

    The peak RSS is the child's own high-water mark from ``os.wait4``. On Linux a child's
    mark starts at the parent's resident size when it is forked (it survives ``exec``), so
    this script keeps itself small: it imports nothing heavy (numpy, scipy, queueing)
    until every measurement is done. Its own peak is printed as the measurement floor.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall_s = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        rss_mb = _rss_mb(usage.ru_maxrss)
        out.seek(0)
        err.seek(0)
        return code, wall_s, usage.ru_utime + usage.ru_stime, rss_mb, out.read(), err.read()


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: a busy machine slows every system, not their ratios."""
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def find_ivr311(explicit: str | None) -> str | None:
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).exists() else None)
    return shutil.which("ivr311", path=str(Path(sys.executable).parent)) or shutil.which("ivr311")


def run_ivr311(exe: str | None, scenario: Path, workdir: Path, index: int) -> Run | str:
    if exe is None:
        return "not available (no ivr311 executable found)"
    out_dir = workdir / f"ivr311-out-{index}"
    cmd = [exe, "simulate", str(scenario), "--out", str(out_dir), "--replications", "1"]
    code, wall_s, cpu_s, rss_mb, _stdout, stderr = measure(cmd, ROOT)
    summary_path = out_dir / "summary.json"
    if code != 0 or not summary_path.exists():
        last = stderr.strip().splitlines()[-1:] or ["no summary.json written"]
        return f"not available (exit {code}: {last[0][:120]})"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    classes = summary["classes"]
    meta = summary["meta"]
    offered = sum(float(classes[k]["offered"]["value"]) for k in RATES_PER_HOUR)
    # "offered" counts arrivals after the warm-up; scale to every call simulated, as the
    # baselines count them.
    horizon_s, warmup_s = float(meta["horizon_s"]), float(meta["warmup_s"])
    calls = offered * horizon_s / (horizon_s - warmup_s)
    waits = {k: float(classes[k]["wait_s"]["mean"]["value"]) for k in RATES_PER_HOUR}
    return Run(wall_s, rss_mb, calls, dict(waits), cpu_s)


def run_baseline(model: str, calls: int, seed: int) -> Run | str:
    cmd = [sys.executable, "-m", "bench.baselines", model, "--calls", str(calls), "--seed", str(seed)]
    code, wall_s, cpu_s, rss_mb, stdout, stderr = measure(cmd, ROOT)
    if code != 0:
        last = stderr.strip().splitlines()[-1:] or ["?"]
        return f"failed (exit {code}: {last[0][:120]})"
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return Run(wall_s, rss_mb, float(result["calls_arrived"]), result["mean_wait_s"], cpu_s)


def format_table(outcomes: list[Outcome], analytic: dict[str, float]) -> str:
    ivr = next((o for o in outcomes if o.system == "ivr311" and o.runs), None)
    header = (
        f"{'system':<8} {'calls':>10} {'wall s':>8} {'calls/s':>10} {'peak RSS MB':>12} "
        f"{'ivr311 x':>9} {'x by CPU':>9}  "
        + "  ".join(f"{'wait ' + k + ' s (vs Cobham)':>24}" for k in RATES_PER_HOUR)
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        if not o.runs:
            lines.append(f"{o.system:<8} {o.error}")
            continue
        ratio = f"{ivr.calls_per_s / o.calls_per_s:9.2f}" if ivr else f"{'n/a':>9}"
        ratio += f" {ivr.calls_per_cpu_s / o.calls_per_cpu_s:9.2f}" if ivr else f" {'n/a':>9}"
        waits = []
        for k in RATES_PER_HOUR:
            w = statistics.median(r.mean_wait_s[k] or math.nan for r in o.runs)
            waits.append("none (no queue)" if math.isnan(w) else f"{w:.1f} ({100 * (w / analytic[k] - 1):+.1f}%)")
        lines.append(
            f"{o.system:<8} {o.calls:>10,.0f} {o.wall_s:>8.2f} {o.calls_per_s:>10,.0f} "
            f"{o.peak_rss_mb:>12.1f} {ratio}  " + "  ".join(f"{w:>24}" for w in waits)
        )
    lines.append("analytic (Cobham): " + ", ".join(f"{k} {v:.1f} s" for k, v in analytic.items()))
    if ivr:
        for o in outcomes:
            if o.system in TARGET_RATIO and o.runs:
                speedup = ivr.calls_per_s / o.calls_per_s
                verdict = "met" if speedup >= TARGET_RATIO[o.system] else "NOT MET"
                by_cpu = ivr.calls_per_cpu_s / o.calls_per_cpu_s
                lines.append(
                    f"target: ivr311 >= {TARGET_RATIO[o.system]:g}x {o.system} calls/s: {speedup:.2f}x {verdict} "
                    f"({by_cpu:.2f}x by CPU time)"
                )
        verdict = "met" if ivr.peak_rss_mb <= TARGET_RSS_MB else "NOT MET"
        lines.append(f"target: ivr311 peak RSS <= {TARGET_RSS_MB:g} MB: {ivr.peak_rss_mb:.1f} MB {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=1_000_000, help="calls for ivr311 and the SimPy baselines (default 1,000,000)"
    )
    parser.add_argument("--ciw-calls", type=int, default=200_000, help="calls for Ciw, which is slow (default 200,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per system; the table shows the median wall time")
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--only", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--ivr311", help="path of the ivr311 executable (default: next to python)")
    parser.add_argument("--json", type=Path, help="also write the measurements to this file")
    parser.add_argument(
        "--routed", action="store_true", help="ivr311 with transfers, redials, callbacks and languages on (see ROUTED)"
    )
    args = parser.parse_args(argv)
    if args.calls < 1000 or args.ciw_calls < 1000 or args.repeat < 1:
        parser.error("--calls and --ciw-calls must be >= 1000 and --repeat >= 1")

    if "numpy" in sys.modules:  # see measure(): a large parent inflates every child's RSS
        raise RuntimeError("sim_speed must not import numpy before measuring")
    days = max(2, round(args.calls / TOTAL_RATE_PER_S / 86400.0))
    exe = find_ivr311(args.ivr311)
    outcomes = {name: Outcome(name) for name in SYSTEMS if name in args.only}
    with tempfile.TemporaryDirectory(prefix="sim_speed-") as tmp:
        workdir = Path(tmp)
        scenario = workdir / "sim_speed.yaml"
        write_case(scenario, args.seed, days, args.routed)
        print(
            f"case: {AGENTS} agents, {MEAN_HANDLE_S / 60:g}-min exponential handle, "
            f"{RATES_PER_HOUR['911']:g} + {RATES_PER_HOUR['311']:g} calls/h; ivr311 and SimPy "
            f"{args.calls:,} calls ({days} d), Ciw {args.ciw_calls:,} calls; "
            f"{args.repeat} repeat(s); load average {load_average()}"
            + ("; ivr311 with the four routed behaviours on" if args.routed else ""),
            flush=True,
        )
        for i in range(args.repeat):  # interleave systems so drift in machine load is shared
            for name, outcome in outcomes.items():
                if outcome.error:
                    continue
                if name == "ivr311":
                    run = run_ivr311(exe, scenario, workdir, i)
                else:
                    calls = args.ciw_calls if name == "ciw" else args.calls
                    run = run_baseline(name, calls, args.seed + i)
                if isinstance(run, str):
                    outcome.error = run
                    outcome.runs.clear()
                else:
                    outcome.runs.append(run)
                    print(
                        f"  {name:<7} run {i + 1}: {run.wall_s:7.2f} s ({run.cpu_s:.2f} s CPU), "
                        f"{run.calls / run.wall_s:>9,.0f} calls/s, {run.peak_rss_mb:6.1f} MB",
                        flush=True,
                    )
    load_after = load_average()
    floor_mb = _rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    from queueing.theory.analytic import priority_mmc_mean_waits_s  # heavy imports only now

    rates_per_s = [r / 3600.0 for r in RATES_PER_HOUR.values()]
    waits = priority_mmc_mean_waits_s(AGENTS, rates_per_s, MEAN_HANDLE_S)
    analytic = dict(zip(RATES_PER_HOUR, waits, strict=True))
    print()
    print(format_table(list(outcomes.values()), analytic))
    print(f"(peak RSS of each child from os.wait4; measurement floor {floor_mb:.1f} MB, this script's own peak)")
    print(f"load average after: {load_after} (1, 5, 15 min; {os.cpu_count()} cores)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "analytic_mean_wait_s": analytic,
                    "rss_floor_mb": floor_mb,
                    "load_average_after": os.getloadavg(),
                    "systems": {
                        o.system: {"error": o.error, "runs": [asdict(r) for r in o.runs]} for o in outcomes.values()
                    },
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
