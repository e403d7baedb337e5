"""validate and simulate as a user drives them: help, every shipped scenario and every test scenario,
the console script, mutated files."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queueing import load_scenario
from queueing.cli import main
from tests.support import REPO
from tests.support.mutants import mutate


def test_help_teaches(tmp_path) -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("simulate", "validate"):
        assert command in result.output
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert "Example" in result.output and "--replications" in result.output


def test_every_shipped_scenario_validates() -> None:
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    assert len(files) >= 4
    result = CliRunner().invoke(main, ["validate", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == len(files)


def test_every_shared_test_scenario_loads_and_validates() -> None:
    """tests/scenarios/ holds the scenarios several tests share: each loads, and validate takes it."""
    files = sorted((REPO / "tests" / "scenarios").glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        assert load_scenario(path).name
    result = CliRunner().invoke(main, ["validate", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == len(files)


def test_console_script_runs_and_reports_errors_without_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon: -1h\n")
    exe = [sys.executable, "-c", "from queueing.cli import main; main()"]
    proc = subprocess.run([*exe, "simulate", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0] == f"{bad}:2: horizon: must be a duration > 0"


EXAMPLES = int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rng=st.randoms(use_true_random=False))
def test_mutated_scenarios_validate_or_fail_cleanly_and_valid_ones_simulate(rng: random.Random, tmp_path: Path) -> None:
    path = tmp_path / "mutant.yaml"
    path.write_bytes(mutate(rng))
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.perf_counter() - start < 5.0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith(f"{path}:") for line in lines), lines
        return
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["simulate", str(path), "-r", "2", "-j", "1", "-q", "--out", str(out)])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.exit_code == 0, run.output
    assert (out / "summary.json").exists()


def test_the_shipped_week_simulates_day_by_day(tmp_path: Path) -> None:
    path = REPO / "scenarios" / "week.yaml"
    scenario = load_scenario(path)
    assert (scenario.horizon, scenario.first_weekday) == (7 * 86400, "mon")
    for name in scenario.class_names():
        factors = scenario.classes[name].arrivals.weekdays
        assert factors is not None and len(factors) == 7 and abs(sum(factors.values()) / 7 - 1) < 1e-9
    out = tmp_path / "week"
    result = CliRunner().invoke(main, ["simulate", str(path), "-r", "2", "-j", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("day "))
    assert [line.split()[:3] for line in lines[head + 1 : head + 8]] == [
        ["day", str(k), f"({day})"] for k, day in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    ]
    assert len((out / "daily.csv").read_text().splitlines()) == 1 + 2 * 7 * 2
    days = json.loads((out / "summary.json").read_text())["days"]
    offered = [d["classes"]["311"]["offered"]["value"] for d in days]
    assert offered[0] > 1.3 * offered[6]  # Monday's 311 line against Sunday's
