"""How `validate` and `simulate` fare on mutated scenario files (a measurement, not a test).

    .venv/bin/python -m bench.hostile_input --n 500

Generates N mutants of the shipped scenarios (tests/support/mutants.py, seeds 0..N-1), and for each runs
`ivr311 validate` in this process (time limit and memory cap per file), then, when it says ok,
`ivr311 simulate --replications 2 --jobs 1`. Counts outcomes: ok, refused (exit 2 with one
`file:line...` line per problem), traceback, over the time limit. To measure another checkout
with the same mutants, run this from that checkout's root with PYTHONPATH pointing here (its
queueing is found first; bench and tests.support come from here when it has no such packages).
"""

from __future__ import annotations

import argparse
import collections
import random
import resource
import signal
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from tests.support.mutants import mutate


class TimeLimit(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise TimeLimit


def run(args: list[str], limit_s: int) -> tuple[str, float, str]:
    from queueing.cli import main

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit_s)
    t0 = time.perf_counter()
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=True)
    except TimeLimit:
        return "over time limit", time.perf_counter() - t0, ""
    finally:
        signal.alarm(0)
    took = time.perf_counter() - t0
    if isinstance(result.exception, TimeLimit):
        return "over time limit", took, ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "traceback", took, f"{type(result.exception).__name__}: {str(result.exception)[:120]}"
    if result.exit_code == 0:
        return "ok", took, ""
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        one_line_each = all(
            line.startswith(args[1]) or line.startswith("Usage") or line.startswith("Try") or line.startswith("Error")
            for line in lines
        )
        return ("refused" if one_line_each else "refused, badly formatted"), took, lines[0][:160] if lines else ""
    return f"exit {result.exit_code}", took, result.output[-200:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--limit", type=int, default=20, help="seconds per command")
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--show", type=int, default=5, help="examples shown per bad outcome")
    opts = parser.parse_args()
    cap = int(opts.memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import queueing

    print(f"queueing from {Path(queueing.__file__).parent}")
    counts: dict[str, collections.Counter[str]] = {"validate": collections.Counter(), "simulate": collections.Counter()}
    examples: dict[str, list[str]] = collections.defaultdict(list)
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(opts.n):
            path = Path(tmp) / f"m{seed}.yaml"
            path.write_bytes(mutate(random.Random(seed)))
            outcome, took, detail = run(["validate", str(path)], opts.limit)
            times.append(took)
            counts["validate"][outcome] += 1
            if outcome not in ("ok", "refused") and len(examples["validate " + outcome]) < opts.show:
                examples["validate " + outcome].append(f"seed {seed}: {detail}")
            if outcome == "ok":
                out = Path(tmp) / f"out{seed}"
                outcome, took, detail = run(
                    ["simulate", str(path), "-r", "2", "-j", "1", "-q", "--out", str(out)], opts.limit
                )
                counts["simulate"][outcome] += 1
                if outcome != "ok" and len(examples["simulate " + outcome]) < opts.show:
                    examples["simulate " + outcome].append(f"seed {seed}: {detail}")
    times.sort()
    for command, counter in counts.items():
        print(f"{command}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))
    print(f"validate time: median {times[len(times) // 2] * 1000:.1f} ms, max {times[-1]:.2f} s")
    for key, lines in examples.items():
        print(f"-- {key}:")
        for line in lines:
            print("   " + line)


if __name__ == "__main__":
    main()
