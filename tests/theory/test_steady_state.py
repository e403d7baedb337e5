"""The analytic command: which formula answers, which assumptions fail, the simulation beside."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from queueing.cli import main
from queueing.core.scenario_file import load_scenario, parse_scenario
from tests.support import REPO
from tests.support.cli import invoke, write_file
from tests.support.scenarios import one_agent


def test_analytic_command_matches_design_reference() -> None:
    """The reference case's stationary waits (Cobham's priority M/M/c): 19.3 s and 160.8 s."""
    from queueing.theory.steady_state import analyze

    textbook = REPO / "scenarios" / "textbook.yaml"
    analysis = analyze(load_scenario(textbook))
    assert analysis.fits
    waits = {a.name: (a.model, a.mean_wait_s) for a in analysis.answers}
    assert "Cobham" in waits["911"][0]
    assert waits["911"][1] == pytest.approx(19.3, abs=0.05) and waits["311"][1] == pytest.approx(160.8, abs=0.05)
    result = CliRunner().invoke(main, ["analytic", str(textbook)])  # and the command prints them
    assert result.exit_code == 0 and "19.3" in result.output and "160.8" in result.output


def test_analytic_command_names_the_failed_assumptions() -> None:
    result = CliRunner().invoke(main, ["analytic", str(REPO / "scenarios" / "baseline.yaml")])
    assert result.exit_code == 0
    assert "the formulas do not apply" in result.output
    assert "class 911: arrivals vary by hour" in result.output
    assert "class 311: served by 2 pools (call-takers, 311-desk)" in result.output


def test_analytic_command_simulates_beside(write_scenario) -> None:
    one_class = """
name: erlang a
seed: 3
horizon: 3d
warmup: 2h
replications: 4
classes:
  "311":
    priority: 1
    arrivals: {rate_per_hour: 100}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 3m}
staffing: {pools: [{name: desk, serves: ["311"], agents: 7}]}
targets: {"311": [{within: 30s, share: 0.8}]}
"""
    from queueing import simulate
    from queueing.theory.steady_state import analyze

    path = write_scenario(one_class)
    result = CliRunner().invoke(main, ["analytic", str(path), "--simulate", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "Erlang A" in result.output and "simulated" in result.output
    # the data beside each other: Erlang A's abandonment against the simulated share's interval
    scenario = load_scenario(path)
    (answer,) = analyze(scenario).answers
    simulated = simulate(scenario, jobs=1).summary["classes"]["311"]["abandoned"]["share"]
    half = (simulated["ci95"][1] - simulated["ci95"][0]) / 2
    assert answer.p_abandon is not None
    assert abs(answer.p_abandon - simulated["value"]) < max(3 * half, 0.01)


def test_analytic_formulas_do_not_apply_with_breaks() -> None:
    from queueing.theory.steady_state import analyze

    scenario = parse_scenario(one_agent("{start: 4h30m, length: 15m}").replace("end: 8h", "end: 24h"))
    assert "pool desk: agents take breaks (staffing changes during the day)" in analyze(scenario).problems


def test_analytic_with_no_agents_says_the_formulas_do_not_apply(tmp_path: Path) -> None:
    textbook = (REPO / "scenarios" / "textbook.yaml").read_text(encoding="utf-8")
    path = write_file(tmp_path, textbook.replace("agents: 10", "agents: 0", 1))
    result = invoke("analytic", str(path))
    assert result.exit_code == 0, result.output
    assert "pool call-takers: no agents" in result.stdout
