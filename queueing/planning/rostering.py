"""``ivr311 roster`` in Python: a day's roster (:mod:`.roster`) or, for a 7-day scenario, a week's
lines (:mod:`.week_roster`), on the executor the caller chooses."""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Unpack

from ..core.limits import named
from ..core.scenario import Scenario
from ..errors import ScenarioError
from .people import assign_people, read_people
from .roster import RosterResult, build_roster, roster_rules
from .roster_size import check_roster_size
from .running import RunOn, executor_of, overridden
from .staff import Progress
from .week_roster import build_week_roster, is_week


def roster(
    scenario: Scenario,
    *,
    confidence: float = 0.9,
    people: str | PathLike[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    **run: Unpack[RunOn],
) -> RosterResult:
    """``ivr311 roster``: the cheapest roster of the scenario's ``roster:`` rules meeting every
    target (:func:`build_roster`, or :func:`build_week_roster` for 7 days), run as ``run`` says
    (:class:`RunOn`: replications, seed, jobs, dask, executor, large). ``people``: a people.csv
    (:mod:`.people`) whose people are assigned to a week's lines (``RosterResult.assignments``),
    read before the search so that a bad file fails at once."""
    scenario = overridden(scenario, run)
    if people is not None and not is_week(scenario):
        raise ScenarioError("people are assigned to weekly lines: they need a 7-day scenario (horizon: 7d)")
    crew = read_people(Path(people)) if people is not None else None
    interval_s = roster_rules(scenario).interval
    check_roster_size(scenario, named(scenario), large=run.get("large", False))
    build = build_week_roster if is_week(scenario) else build_roster
    with executor_of([scenario], interval_s, **run) as ex:
        result = build(scenario, ex, confidence=confidence, on_progress=on_progress, progress=progress)
    if crew is not None:
        result.assignments = {line.number: person.name for line, person in assign_people(result.lines, crew)}
    return result
