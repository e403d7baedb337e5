"""Start-up: ``ivr311 --help`` and ``ivr311 validate scenarios/baseline.yaml``, whole process.

Each command is run ``--runs`` times after a warm-up run, alternating between the commands so that
a change in the machine's load is shared; prints the median wall and CPU time (user + system, from
``wait4``) of each, against the targets (0.3 s and 0.5 s), and the load average. With ``--base
DIR`` (another checkout's source tree, e.g. main's from ``git archive``), the same commands from
that tree are run in the same rounds and the ratios printed: each side runs as ``python -P -m
queueing.cli`` with its tree on ``PYTHONPATH``, so the installed package does not decide.

Usage::

    python -m bench.startup
    python -m bench.startup --runs 30 --base /tmp/main-tree
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"--help": (["--help"], 0.3), "validate": (["validate", str(ROOT / "scenarios" / "baseline.yaml")], 0.5)}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one run of ``cmd``, which must exit 0."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each command (default 20)")
    parser.add_argument("--base", type=Path, help="another source tree to measure in the same rounds")
    args = parser.parse_args(argv)
    trees = {"this": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    times: dict[tuple[str, str], list[tuple[float, float]]] = {(t, c): [] for t in trees for c in COMMANDS}
    for round_ in range(args.runs + 1):  # round 0 warms the file cache and is not counted
        for tree, path in trees.items():
            env = {**os.environ, "PYTHONPATH": str(path)}
            for name, (words, _) in COMMANDS.items():
                result = timed([sys.executable, "-P", "-m", "queueing.cli", *words], env)
                if round_:
                    times[tree, name].append(result)
    for name, (_, target_s) in COMMANDS.items():
        for tree in trees:
            wall = statistics.median(w for w, _ in times[tree, name])
            cpu = statistics.median(c for _, c in times[tree, name])
            verdict = ("met" if wall < target_s else "NOT MET") if tree == "this" else ""
            print(f"ivr311 {name:<9} {tree:<5} median {wall * 1e3:7.1f} ms wall, {cpu * 1e3:6.1f} ms CPU "
                  f"(target < {target_s:g} s) {verdict}")  # fmt: skip
        if args.base:
            ratio = statistics.median(w for w, _ in times["base", name]) / statistics.median(
                w for w, _ in times["this", name]
            )
            print(f"ivr311 {name:<9} this is {ratio:.2f}x faster than base (wall medians)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
