"""The cost-service frontier: the cheapest staffing ``staff`` finds for each of a range of target
shares, so a planner sees what each point of service costs (``ivr311 staff FILE --frontier
0.70:0.95:0.05``).

For each share of the range, lowest first, every target's ``share`` (or only the targets of
``classes``) is set to it, their ``within`` and ``over`` kept, and
:func:`~queueing.planning.staff.find_staffing` searches, starting from the staffing found for the
share below (a higher share rarely needs fewer agents anywhere; the trim removes those it does not
need). A plan that meets a share meets every lower one (the same windows and lower bounds, a lower
target), so each share's point is the cheapest plan found at that share or above: more service
never costs less. Cheapest means the lowest cost a day (summary.json's, with pay rates), else the
fewest agent-hours a day. Results only: :mod:`queueing.output.frontier` writes and draws them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from ..core.cost import is_costed
from ..core.durations import HOUR_S
from ..core.runner import Table
from ..core.scenario import Scenario
from ..errors import ScenarioError
from .running import RunOn, executor_of, overridden
from .staff import Progress, StaffingResult, find_staffing, intervals_per_day

MAX_POINTS = 50  # a frontier is a few searches, each tens of simulations


def share_range(text: str) -> list[float]:
    """``LOW:HIGH:STEP`` as the shares it spans, both ends included: ``0.70:0.95:0.05`` ->
    0.70, 0.75, ..., 0.95 (rounded to 6 decimals so the steps read as written)."""
    hint = "give LOW:HIGH:STEP, shares in (0, 1], e.g. 0.70:0.95:0.05"
    try:
        low, high, step = (float(part) for part in text.split(":"))
    except ValueError:
        raise ScenarioError(f"--frontier: {hint}, got {text!r}") from None
    if not (0 < low <= high <= 1 and step > 0) or any(map(math.isinf, (low, high, step))):
        raise ScenarioError(f"--frontier: {hint}, got {text!r}")
    count = math.floor((high - low) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise ScenarioError(f"--frontier: {count} shares; at most {MAX_POINTS} (a larger STEP)")
    return [round(low + k * step, 6) for k in range(count)]


def with_share(scenario: Scenario, share: float, classes: Sequence[str] = ()) -> Scenario:
    """The scenario with the share of every target (of ``classes`` only, when given) set to ``share``."""
    targets = {
        name: [t.model_copy(update={"share": share}) if not classes or name in classes else t for t in ts]
        for name, ts in scenario.targets.items()
    }
    return scenario.model_copy(update={"targets": targets})


def _price(plan: StaffingResult) -> float:
    """What makes one plan cheaper than another: its cost a day with pay rates, else its agent-hours."""
    if is_costed(plan.scenario):
        return float(plan.evaluation.summary["cost"]["per_day"]["value"])
    return plan.agent_hours()


@dataclass(frozen=True)
class FrontierPoint:
    """One share of the frontier and the cheapest plan found meeting it."""

    share: float  # the target share asked
    plan: StaffingResult  # found by the search at ``found_at``
    found_at: float  # this share, or a higher one whose plan cost less

    @property
    def agent_hours(self) -> float:
        return self.plan.agent_hours()

    @property
    def cost_per_day(self) -> float | None:
        """The plan's cost a day (mean over replications) with pay rates, else None."""
        return _price(self.plan) if is_costed(self.plan.scenario) else None

    def achieved(self) -> list[float | None]:
        """The share each target of the scenario got in the plan's simulation, over the whole
        run (summary.json's ``share``), classes by priority, targets in file order."""
        summary = self.plan.evaluation.summary
        return [
            level["share"]["value"]
            for name in self.plan.scenario.class_names()
            for level in summary["classes"][name]["service_level"]
        ]


@dataclass
class FrontierResult:
    """The frontier over ``shares``: each share's point (``points``), and each share's own
    search (``searches``, in the same order)."""

    scenario: Scenario  # the input scenario
    classes: list[str]  # the classes whose targets the shares were set for; empty: every target
    points: list[FrontierPoint]
    searches: list[StaffingResult]
    interval_s: float
    confidence: float

    @property
    def costed(self) -> bool:
        return is_costed(self.scenario)

    def target_names(self) -> list[tuple[str, float]]:
        """(class, within) of each target, in :meth:`FrontierPoint.achieved` order."""
        return [(c, t.within) for c in self.scenario.class_names() for t in self.scenario.targets.get(c, [])]

    @property
    def table(self) -> Table:
        """frontier.csv: per share, the plan's agent-hours and cost a day, whether it met the
        targets, the share whose search found it, and the share each target got."""
        achieved = [f"achieved_{c}_{w:g}s" for c, w in self.target_names()]
        columns = ["share", "agent_hours", "cost_per_day", "targets_met", "found_at", *achieved]

        def rows() -> Iterator[tuple[Any, ...]]:
            for p in self.points:
                yield (p.share, p.agent_hours, p.cost_per_day, p.plan.targets_met, p.found_at, *p.achieved())

        return Table(columns, rows)

    def to_pandas(self) -> Any:
        """frontier.csv as a pandas DataFrame (needs the ``analysis`` extra)."""
        return self.table.to_pandas()


def frontier(
    scenario: Scenario,
    shares: Sequence[float],
    *,
    classes: Sequence[str] = (),
    interval_s: float = HOUR_S,
    confidence: float = 0.9,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    **run: Unpack[RunOn],
) -> FrontierResult:
    """``ivr311 staff FILE --frontier LOW:HIGH:STEP``: the cheapest staffing for each target share
    of ``shares`` (every target's, or those of ``classes``): one staffing search per share, lowest
    first (see the module docstring), run as ``run`` says (:class:`RunOn`: replications, seed,
    jobs, dask, executor, large)."""
    scenario = overridden(scenario, run)
    intervals_per_day(interval_s)
    if not shares:
        raise ScenarioError("--frontier: no share to staff for")
    if not all(0 < s <= 1 for s in shares):
        raise ScenarioError(f"--frontier: shares must be in (0, 1], got {list(shares)}")
    unknown = [c for c in classes if c not in scenario.targets]
    if unknown:
        named = ", ".join(repr(c) for c in scenario.targets) or "none"
        raise ScenarioError(f"--frontier-class: {unknown[0]!r} has no targets (classes with targets: {named})")
    with executor_of([scenario], interval_s, **run) as ex:
        levels = sorted(set(shares))
        searches: list[StaffingResult] = []
        start = None
        for share in levels:

            def tell(message: str, share: float = share) -> None:
                if on_progress:
                    on_progress(f"{share:.4g}: {message}")

            found = find_staffing(
                with_share(scenario, share, classes), ex, interval_s=interval_s, confidence=confidence,
                on_progress=tell, progress=progress, start=start,
            )  # fmt: skip
            searches.append(found)
            start = found.agents
        points: list[FrontierPoint] = []
        best: tuple[float, StaffingResult] | None = None
        for share, found in reversed(list(zip(levels, searches, strict=True))):
            if best is None or not best[1].targets_met or (found.targets_met and _price(found) <= _price(best[1])):
                best = (share, found)
            points.append(FrontierPoint(share, best[1], best[0]))
        return FrontierResult(scenario, list(classes), points[::-1], searches, interval_s, confidence)
