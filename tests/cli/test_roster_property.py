"""The property behind `validate`: whatever roster rules it accepts, `roster` (2 replications)
answers or refuses in one line, within a bounded time and memory, and what it writes validates.

The rules of a tiny two-pool centre are mutated as a careless or hostile user would (grids of a
second or 1e-300 s, huge or tiny rates, shrinkage near 1, floors of a million, break windows over
the whole day, several edits at once). Each roster runs in its own process under a memory limit
and a time limit; rules that fail validate cost nothing more, so most examples are quick and at
most a few rosters run per test (the suite stays under half a minute).
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.cli import invoke

BASE = """\
name: tiny roster centre
seed: 3
horizon: 1d
replications: 2
classes:
  "911": {priority: 1, arrivals: {rate_per_hour: 4}, handle_time: {dist: exponential, mean: 3m}}
  "311":
    priority: 2
    arrivals: {profile_per_hour: [0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0]}
    handle_time: {dist: exponential, mean: 3m}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 1}
    - {name: desk, serves: ["311"], agents: 1, hours: {open: 8h, close: 16h}}
targets:
  "911": [{within: 30s, share: 0.8}]
  "311": [{within: 2m, share: 0.7}]
"""
RULES: dict[str, Any] = {
    "interval": "1h",
    "start_every": "1h",
    "shift_lengths": ["8h"],
    "breaks": [{"length": "1h", "earliest": "3h", "latest": "5h"}],
    "shrinkage": 0.1,
    "pools": {"call-takers": {"cost_per_hour": 40.0, "min_agents": 1}, "desk": {"cost_per_hour": 30.0}},
}
WHOLE_DAY = {"length": "15m", "earliest": "0s", "latest": "23h45m"}
EDITS: dict[str, list[Any]] = {
    "interval": ["1s", "1m", "5m", "15m", "30m", "2h", "7m", 0.000001, 1e-300, 1e308, 0, -1, "soon"],
    "start_every": ["1s", "15m", "30m", "2h", "4h", 0.000001, 1e-300, 1e308],
    "shift_lengths": [["4h"], ["24h"], ["1h"], ["4h", "6h", "8h", "10h", "12h"], ["0.0000001"], [], ["8h", "8h"]],
    "breaks": [[], [WHOLE_DAY], [WHOLE_DAY] * 4, [{"length": "15m", "earliest": "1h", "latest": "3h"}] * 3, None],
    "shrinkage": [0, 0.5, 0.9, 0.91, 0.999999, 1e-300, 1],
    "overtime_multiplier": [1, 10, 11, 1e308],
    "weekly_hours": ["1h", "168h", 1e-300, 1e308],
    "cost_per_hour": [0, 1e-300, 1e6, 1e308, -1],
    "min_agents": [0, 3, 50, 9999, 100_000, 10**6],
}
RUN_TIMEOUT_S = 60  # the bound: a roster these rules allow answers well within it on a 2-core machine
VALIDATE_TIMEOUT_S = 20  # validate estimates, it never searches: a second or two
RUN_MEMORY_BYTES = 4 * 2**30  # address space of the roster process (python, numpy, scipy, HiGHS)
MAX_ROSTERS = 2  # per test run: each is a search and a simulation, seconds each
EXAMPLES = int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "12"))


def mutate_rules(rng: random.Random) -> dict[str, Any]:
    """The base rules with one to three fields set to a careless or hostile value."""
    rules = yaml.safe_load(yaml.safe_dump(RULES))
    for key in rng.sample(sorted(EDITS), rng.randint(1, 3)):
        value = rng.choice(EDITS[key])
        if key in ("cost_per_hour", "min_agents"):
            rules["pools"][rng.choice(["call-takers", "desk"])][key] = value
        else:
            rules[key] = value
    return rules


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (RUN_MEMORY_BYTES, RUN_MEMORY_BYTES))


def _ivr311(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """``ivr311 ARGS`` in its own process, under the memory limit; a run past ``timeout_s`` fails the test."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "queueing.cli", *args],
            capture_output=True, text=True, timeout=timeout_s, preexec_fn=_limit_memory, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"ivr311 {' '.join(args)} ran past {timeout_s} s")


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rng=st.randoms(use_true_random=False))
def test_roster_runs_whatever_rules_validate_accepts(
    rng: random.Random, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("rules")
    path = tmp / "rules.yaml"
    path.write_text(BASE + yaml.safe_dump({"roster": mutate_rules(rng)}), encoding="utf-8")
    # in its own process too: validate itself once took 3.7 GB and 30 s on such rules
    checked = _ivr311("validate", str(path), timeout_s=VALIDATE_TIMEOUT_S)
    assert checked.returncode in (0, 2) and "Traceback" not in checked.stderr, checked.stderr
    if checked.returncode == 2 or _rosters_run[0] >= MAX_ROSTERS:
        return
    _rosters_run[0] += 1
    out = tmp / "out"
    run = _ivr311("roster", str(path), "-r", "2", "-j", "1", "-q", "--out", str(out), timeout_s=RUN_TIMEOUT_S)
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr, run.stderr
    assert run.returncode in (0, 2), run.stderr
    if run.returncode == 2:
        assert len(run.stderr.splitlines()) == 1 and not out.exists(), run.stderr
        return
    again = invoke("validate", str(out / "roster.yaml"))
    assert again.exit_code == 0, again.output


_rosters_run = [0]  # rosters run in this test session (hypothesis calls the test once per example)


def test_the_mutations_reach_every_rule_and_some_pass_validate(tmp_path: Path) -> None:
    rng = random.Random(5)
    accepted = 0
    for _ in range(60):
        path = tmp_path / "rules.yaml"
        path.write_text(BASE + yaml.safe_dump({"roster": mutate_rules(rng)}), encoding="utf-8")
        result = invoke("validate", str(path))
        assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
        accepted += result.exit_code == 0
    assert 5 <= accepted <= 55  # both sides of the property are exercised
