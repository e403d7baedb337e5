"""How a planning function runs its simulations: the keywords ``staff``, ``roster``,
``frontier`` and ``sweep`` share (replications and seed overriding the scenario's, local
processes or a Dask cluster or an executor of the caller's, the soft size limits), and the one
place that turns them into an executor."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypedDict, Unpack

from ..core.limits import Where
from ..core.runner import DEFAULT_INTERVAL_S, Executor, executor_for
from ..core.scenario import Scenario
from ..core.scenario_file import with_overrides


class RunOn(TypedDict, total=False):
    """Keywords of every planning function (each optional):

    - ``replications``, ``seed``: override the scenario's (None keeps them);
    - ``jobs``: local processes (None: all cores, never more than the replications to run);
    - ``dask``: a Dask scheduler address to run on instead;
    - ``executor``: an executor the caller owns (left open), instead of either;
    - ``large``: lift the soft size limits (:mod:`queueing.core.limits`)."""

    replications: int | None
    seed: int | None
    jobs: int | None
    dask: str | None
    large: bool
    executor: Executor | None


# What a keyword left out means.
RUN_DEFAULTS: RunOn = {"replications": None, "seed": None, "jobs": None, "dask": None, "large": False, "executor": None}


def overridden(scenario: Scenario, run: RunOn) -> Scenario:
    """``scenario`` with ``run``'s replications and seed in place of its own."""
    return with_overrides(scenario, replications=run.get("replications"), seed=run.get("seed"))


@contextmanager
def executor_of(
    scenarios: Sequence[Scenario],
    interval_s: float = DEFAULT_INTERVAL_S,
    where: Sequence[Where] | None = None,
    **run: Unpack[RunOn],
) -> Iterator[Executor]:
    """The executor ``run`` asks for, once ``scenarios`` (already overridden) pass the size
    limits at ``interval_s`` seconds; closed on exit unless it is the caller's."""
    given: RunOn = {**RUN_DEFAULTS, **run}
    with executor_for(
        scenarios, interval_s, jobs=given["jobs"], dask=given["dask"], executor=given["executor"],
        large=given["large"], where=where,
    ) as ex:  # fmt: skip
        yield ex
