"""ivr311's model of a shared 911/311 call centre (SimPy): scenarios in, waits with CIs out.

>>> from queueing import load_scenario, simulate
>>> result = simulate(load_scenario("scenarios/baseline.yaml"), jobs=2)
>>> result.summary["classes"]["911"]["wait_s"]["mean"]

The names below are imported on first use (PEP 562), not when the package is: ``ivr/`` reads
its menu with :mod:`queueing.yamlsafe` (PyYAML and the standard library only), and importing
that module must not import SimPy, numpy or pydantic (DESIGN.md; a test checks ``sys.modules``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.runner import SimulationResult, simulate
    from .core.scenario import Scenario
    from .core.scenario_file import load_scenario, parse_scenario
    from .errors import ScenarioError

_HOME = {
    "ScenarioError": "errors",
    "SimulationResult": "core.runner",
    "simulate": "core.runner",
    "Scenario": "core.scenario",
    "load_scenario": "core.scenario_file",
    "parse_scenario": "core.scenario_file",
}

__all__ = ["Scenario", "ScenarioError", "SimulationResult", "load_scenario", "parse_scenario", "simulate"]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
