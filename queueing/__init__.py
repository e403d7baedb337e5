"""ivr311's model of a shared 911/311 call centre (SimPy): scenarios in, waits with CIs out.

Every planner's command has its function here, with the command's options as keywords and the
same defaults, returning the results the command writes (docs/python-api.md)::

    >>> from queueing import load_scenario, simulate, staff
    >>> scenario = load_scenario("scenarios/baseline.yaml")
    >>> simulate(scenario, jobs=2).summary["classes"]["911"]["wait_s"]["mean"]
    >>> staff(scenario, replications=4).to_pandas()          # staffing.csv

The names below are imported on first use (PEP 562), not when the package is: ``ivr/`` reads
its menu with :mod:`queueing.yamlsafe` (PyYAML and the standard library only), and importing
that module must not import SimPy, numpy or pydantic (a test checks ``sys.modules``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.runner import SimulationResult, simulate
    from .core.scenario import Scenario
    from .core.scenario_file import load_scenario, parse_scenario, with_overrides
    from .errors import ScenarioError
    from .output.calibration import calibration_yaml
    from .planning.calibrate import Calibration, calibrate
    from .planning.compare import Comparison, compare
    from .planning.frontier import FrontierResult, frontier
    from .planning.nowcast import Nowcast, nowcast
    from .planning.roster import RosterResult
    from .planning.rostering import roster
    from .planning.staff import StaffingResult, staff
    from .planning.sweep import SweepResult, sweep
    from .theory.steady_state import Analysis, analyze

_HOME = {
    "ScenarioError": "errors",
    "SimulationResult": "core.runner",
    "simulate": "core.runner",
    "Scenario": "core.scenario",
    "load_scenario": "core.scenario_file",
    "parse_scenario": "core.scenario_file",
    "with_overrides": "core.scenario_file",
    "Analysis": "theory.steady_state",
    "analyze": "theory.steady_state",
    "Comparison": "planning.compare",
    "compare": "planning.compare",
    "SweepResult": "planning.sweep",
    "sweep": "planning.sweep",
    "StaffingResult": "planning.staff",
    "staff": "planning.staff",
    "FrontierResult": "planning.frontier",
    "frontier": "planning.frontier",
    "RosterResult": "planning.roster",
    "roster": "planning.rostering",
    "Calibration": "planning.calibrate",
    "calibrate": "planning.calibrate",
    "calibration_yaml": "output.calibration",
    "Nowcast": "planning.nowcast",
    "nowcast": "planning.nowcast",
}

__all__ = [
    "Analysis", "Calibration", "Comparison", "FrontierResult", "Nowcast", "RosterResult", "Scenario", "ScenarioError",
    "SimulationResult", "StaffingResult", "SweepResult", "analyze", "calibrate", "calibration_yaml", "compare",
    "frontier", "load_scenario", "nowcast", "parse_scenario", "roster", "simulate", "staff", "sweep", "with_overrides",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
