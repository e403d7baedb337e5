"""Calls as a shared centre gets them, measured: transfers between classes, redials, callbacks
(virtual hold) and the callers' languages, from the optional columns of
:class:`~queueing.core.records.CallRecords`. Nothing here for a scenario that uses none of them,
so its files stay as they were.

Definitions (callers who *arrive* in the statistics window, as every measure of
:mod:`queueing.core.metrics`; a row is one attempt at one class's queue):

- transfers, per class: ``out`` the legs of the class that ended in a transfer (their handle time
  was the triage), ``in`` the legs that came to it by one (offered to it, so counted in its
  offered calls too); ``diverted`` the calls that dialled it instead of the class they used to.
  Per transfer route (``transfers.<from>.<to>``), over the second legs: ``count``, ``answered``,
  ``abandoned.share``, ``wait_before_s`` (the first leg's wait, every transferred caller),
  ``wait_after_s`` and ``wait_total_s`` (the second leg's wait and both legs' together, callers
  answered on the second leg), each ``mean`` and ``p90``.
- redials, per class: ``callers`` (distinct callers among the calls offered), ``redials.count``
  (offered calls that were a caller's second attempt or later) and ``redials.share`` (of the calls
  offered): offered = first attempts + redials.
- callbacks, per class offering them: ``offered``, ``accepted.count`` and ``.share`` (of those
  offered), ``unanswered.count`` and ``.share`` (of those accepted: the agent rang, nobody
  answered), ``wait_s`` (``mean``, ``p90``): from joining the queue to the agent's ring, every
  accepted call an agent reached.
- languages, per class with a language mix: the class's measures over its callers of each
  language (:mod:`queueing.core.metrics`, as for categories) plus ``interpreter``, the calls
  answered with an interpreter line.
- ``load_erlangs`` (scenarios with transfers), per class: agents busy on its calls, a time
  average over the window: what moving calls from one class to another moves in call-takers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .records import ABANDONED, ACCEPTED, ANSWERED, CALLBACK_UNANSWERED, CLOSED, CallRecords
from .scenario import Scenario
from .statistics import share

Key = tuple[str, ...]


@dataclass(frozen=True)
class Flows:
    """Which of the optional behaviours a scenario uses (its files show only those)."""

    transfers: bool
    redials: bool
    callbacks: bool
    languages: tuple[str, ...]  # Scenario.languages(): empty without

    @property
    def any(self) -> bool:
        return self.transfers or self.redials or self.callbacks or bool(self.languages)


def flows_of(scenario: Scenario) -> Flows:
    """The behaviours ``scenario`` uses."""
    classes = scenario.classes.values()
    return Flows(
        transfers=any(c.transfer is not None for c in classes),
        redials=any(c.redial is not None for c in classes),
        callbacks=any(c.callback is not None for c in classes),
        languages=tuple(scenario.languages()),
    )


def transfer_routes(scenario: Scenario) -> list[tuple[str, str]]:
    """Every (from, to) class pair a transfer goes along, in class order."""
    out = []
    for name in scenario.class_names():
        transfer = scenario.classes[name].transfer
        if transfer is not None:
            out.append((name, transfer.to))
    return out


def _column(records: CallRecords, name: str) -> np.ndarray:
    values = getattr(records, name)
    if values is None:
        raise ValueError(f"the scenario uses {name!r} but the call records have no such column")
    return np.asarray(values)


def _stats(values: np.ndarray) -> Iterator[tuple[str, float]]:
    """``mean`` and ``p90`` of ``values``, NaN for none."""
    if len(values):
        yield "mean", float(values.mean())
        yield "p90", float(np.percentile(values, 90))
    else:
        yield "mean", float("nan")
        yield "p90", float("nan")


def previous_leg(records: CallRecords) -> np.ndarray:
    """For each row, the row of the same caller just before it in queue order (-1 for a caller's
    first row): a transferred leg's first leg."""
    caller = _column(records, "caller_id")
    order = np.argsort(caller, kind="stable")  # rows are in queue order: kept within a caller
    before = np.full(len(caller), -1, dtype=np.int64)
    same = caller[order][1:] == caller[order][:-1]
    before[order[1:][same]] = order[:-1][same]
    return before


def _distinct(values: np.ndarray) -> int:
    """How many distinct values ``values`` holds, ``len(np.unique(values))``: numpy 2.4's ``unique``
    puts integers in a hash table, 27 ms for 200,000 caller ids where a sort takes under 1 ms."""
    if len(values) == 0:
        return 0
    ordered = np.sort(values)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1


def replication_flows(scenario: Scenario, records: CallRecords, window: np.ndarray) -> dict[Key, float]:
    """One replication's measures of the optional behaviours the scenario uses (see the module
    docstring), keyed by their path in summary.json; ``window``: the rows arrived in the
    statistics window. Languages are measured with the classes' other groups
    (:func:`queueing.core.metrics.replication_measures`)."""
    flows = flows_of(scenario)
    out: dict[Key, float] = {}
    c = records.callers
    offered = window & (records.outcome != CLOSED)
    if flows.transfers:
        out.update(_transfers(scenario, records, window))
    for k, name in enumerate(scenario.class_names()):
        cc = scenario.classes[name]
        mine = offered & (c.cls == k)
        n_offered = int(mine.sum())
        if flows.redials:
            callers = _distinct(_column(records, "caller_id")[mine])
            redials = int(np.count_nonzero(mine & (_column(records, "attempt") > 1)))
            out[("classes", name, "callers")] = callers
            out[("classes", name, "redials", "count")] = redials
            out[("classes", name, "redials", "share")] = share(redials, n_offered)
        if cc.callback is not None:
            out.update(_callbacks(name, records, mine))
    return out


def _transfers(scenario: Scenario, records: CallRecords, window: np.ndarray) -> dict[Key, float]:
    c = records.callers
    out: dict[Key, float] = {}
    names = scenario.class_names()
    came_from = _column(records, "transferred_from")
    transferred = _column(records, "transferred").astype(bool)
    diverted = _column(records, "diverted").astype(bool)
    t0, t1 = scenario.warmup, scenario.horizon
    answered = records.outcome == ANSWERED
    served = answered | (records.outcome == CALLBACK_UNANSWERED)  # the agent rang: busy too
    busy_from = np.where(served, records.answered_s, 0.0)
    busy_s = np.where(served, np.clip(busy_from + c.handle_s, t0, t1) - np.clip(busy_from, t0, t1), 0.0)
    for k, name in enumerate(names):
        mine = window & (c.cls == k)
        out[("classes", name, "transfers", "out")] = int(np.count_nonzero(mine & transferred))
        out[("classes", name, "transfers", "in")] = int(np.count_nonzero(mine & (came_from >= 0)))
        out[("classes", name, "diverted")] = int(np.count_nonzero(mine & diverted))
        out[("classes", name, "load_erlangs")] = float(busy_s[c.cls == k].sum()) / (t1 - t0)
    first = previous_leg(records)
    wait = records.wait_s
    for source, target in transfer_routes(scenario):
        legs = np.flatnonzero(window & (came_from == names.index(source)) & (c.cls == names.index(target)))
        legs = legs[first[legs] >= 0]
        done = legs[answered[legs]]
        before, after = wait[first[legs]], wait[done]
        abandoned = int(np.count_nonzero(records.outcome[legs] == ABANDONED))
        head = ("transfers", source, target)
        out[(*head, "count")] = len(legs)
        out[(*head, "answered")] = len(done)
        out[(*head, "abandoned", "share")] = share(abandoned, len(legs))
        for what, values in (
            ("wait_before_s", before),
            ("wait_after_s", after),
            ("wait_total_s", wait[first[done]] + after),
        ):
            for stat, value in _stats(values):
                out[(*head, what, stat)] = value
    return out


def _callbacks(name: str, records: CallRecords, mine: np.ndarray) -> dict[Key, float]:
    callback = _column(records, "callback")
    offered = mine & (callback > 0)
    accepted = mine & (callback == ACCEPTED)
    unanswered = accepted & (records.outcome == CALLBACK_UNANSWERED)
    reached = accepted & ~np.isnan(records.answered_s)
    n_offered, n_accepted, n_unanswered = (int(np.count_nonzero(m)) for m in (offered, accepted, unanswered))
    head = ("classes", name, "callbacks")
    out: dict[Key, float] = {
        (*head, "offered"): n_offered,
        (*head, "accepted", "count"): n_accepted,
        (*head, "accepted", "share"): share(n_accepted, n_offered),
        (*head, "unanswered", "count"): n_unanswered,
        (*head, "unanswered", "share"): share(n_unanswered, n_accepted),
    }
    to_callback = records.answered_s[reached] - records.callers.queued_s[reached]
    for stat, value in _stats(to_callback):
        out[(*head, "wait_s", stat)] = value
    return out


def interval_flow_columns(scenario: Scenario) -> list[str]:
    """The columns intervals.csv adds for the behaviours the scenario uses (counts per interval
    and class, callers counted in the interval they arrived in): ``transferred_out``,
    ``transferred_in``, ``redials``, ``callbacks_accepted``, ``callbacks_unanswered``."""
    flows = flows_of(scenario)
    out = ["transferred_out", "transferred_in"] if flows.transfers else []
    out += ["redials"] if flows.redials else []
    out += ["callbacks_accepted", "callbacks_unanswered"] if flows.callbacks else []
    return out


def interval_flow_counts(
    scenario: Scenario, records: CallRecords, in_class: np.ndarray, bin_of: np.ndarray, nbins: int
) -> list[np.ndarray]:
    """The counts of :func:`interval_flow_columns` per interval for the rows ``in_class``
    (``bin_of``: each row's interval)."""
    columns = interval_flow_columns(scenario)
    if not columns:
        return []

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(bin_of[in_class & mask], minlength=nbins)

    masks = {}
    if "transferred_out" in columns:
        masks["transferred_out"] = _column(records, "transferred").astype(bool)
        masks["transferred_in"] = _column(records, "transferred_from") >= 0
    if "redials" in columns:
        masks["redials"] = (_column(records, "attempt") > 1) & (records.outcome != CLOSED)
    if "callbacks_accepted" in columns:
        masks["callbacks_accepted"] = _column(records, "callback") == ACCEPTED
        masks["callbacks_unanswered"] = records.outcome == CALLBACK_UNANSWERED
    return [count(masks[name]) for name in columns]
