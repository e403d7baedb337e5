"""ivr311's model of a shared 911/311 call centre (SimPy): scenarios in, waits with CIs out.

>>> from queueing import load_scenario, simulate
>>> result = simulate(load_scenario("scenarios/baseline.yaml"), jobs=2)
>>> result.summary["classes"]["911"]["wait_s"]["mean"]
"""

from __future__ import annotations

from .errors import ScenarioError
from .runner import SimulationResult, simulate
from .scenario import Scenario, load_scenario, parse_scenario

__all__ = ["Scenario", "ScenarioError", "SimulationResult", "load_scenario", "parse_scenario", "simulate"]
