"""``ivr311 roster`` in Python: a day's roster (:mod:`.roster`) or, for a 7-day scenario, a week's
lines (:mod:`.week_roster`), on the executor the caller chooses."""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from pathlib import Path

from ..core.runner import Executor, executor_for
from ..core.scenario import Scenario
from ..core.scenario_file import with_overrides
from ..errors import ScenarioError
from .people import assign_people, read_people
from .roster import RosterResult, build_roster, roster_rules
from .staff import Progress
from .week_roster import build_week_roster, is_week


def roster(
    scenario: Scenario,
    *,
    confidence: float = 0.9,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    large: bool = False,
    executor: Executor | None = None,
    people: str | PathLike[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> RosterResult:
    """``ivr311 roster``: the cheapest roster of the scenario's ``roster:`` rules meeting every
    target (:func:`build_roster`), run on ``executor``, else Dask at ``dask``, else ``jobs`` local
    processes (None: all cores). ``replications`` and ``seed`` override the scenario's; ``large``
    lifts the soft size limits (:mod:`queueing.core.limits`). ``people``: a people.csv
    (:mod:`.people`) whose people are assigned to a week's lines (``RosterResult.assignments``),
    read before the search so that a bad file fails at once."""
    scenario = with_overrides(scenario, replications=replications, seed=seed)
    if people is not None and not is_week(scenario):
        raise ScenarioError("people are assigned to weekly lines: they need a 7-day scenario (horizon: 7d)")
    crew = read_people(Path(people)) if people is not None else None
    interval_s = roster_rules(scenario).interval
    build = build_week_roster if is_week(scenario) else build_roster
    with executor_for([scenario], interval_s, jobs=jobs, dask=dask, executor=executor, large=large) as ex:
        result = build(scenario, ex, confidence=confidence, on_progress=on_progress, progress=progress)
    if crew is not None:
        result.assignments = {line.number: person.name for line, person in assign_people(result.lines, crew)}
    return result
