"""The callers of one replication: who calls when, about what, how long they talk and wait.

Everything random about callers is drawn here, before the simulation, in numpy batches from
separate streams, so that two scenarios differing only in staffing see the very same callers
(common random numbers) and comparisons between them are paired. Streams are keyed by
replication, purpose and class name (not position), so adding a class or a pool does not
change the draws of the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrivals import arrival_times
from .scenario import CallClass, Scenario

# Append only: a purpose's position is part of its streams' keys.
PURPOSES = (
    "arrivals", "categories", "handle", "patience", "ivr",
    # the routed model's (transfers, redials, callbacks, languages): drawn only when a class uses them
    "transfer", "triage", "transfer_categories", "transfer_handle", "transfer_patience", "transfer_ivr",
    "language", "callback", "redial", "redial_delay", "redial_patience", "redial_ivr", "callback_later",
    # a start from a live state (core/state.py): who waits and who is busy at the start
    "state_handle", "state_patience", "state_service",
)  # fmt: skip


def stream(seed: int, replication: int, purpose: str, class_name: str) -> np.random.Generator:
    """The Generator for one (replication, purpose, class): ``SeedSequence(seed).spawn`` keys, named."""
    key = (replication, PURPOSES.index(purpose), zlib.crc32(class_name.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclass(frozen=True)
class Callers:
    """All callers of one replication, ordered by the time they join a queue.

    ``cls`` indexes ``Scenario.class_names()`` (0 = highest priority); ``category`` indexes that
    class's categories, -1 for none. Times in seconds since the start; ``patience_s`` is
    ``inf`` for callers who never abandon.
    """

    cls: np.ndarray
    category: np.ndarray
    arrival_s: np.ndarray
    queued_s: np.ndarray
    handle_s: np.ndarray
    patience_s: np.ndarray

    def __len__(self) -> int:
        return len(self.cls)


def draw_callers(scenario: Scenario, replication: int) -> Callers:
    """Draw every caller of replication ``replication`` (0-based) of ``scenario``."""
    seed = scenario.seed
    parts = []
    for k, name in enumerate(scenario.class_names()):
        cc = scenario.classes[name]
        arrival = arrival_times(scenario, name, stream(seed, replication, "arrivals", name))
        n = len(arrival)
        purposes = ("categories", "handle", "patience", "ivr")
        category, handle, patience, ivr = _class_draws(cc, n, *(stream(seed, replication, p, name) for p in purposes))
        parts.append((np.full(n, k, dtype=np.int16), category, arrival, arrival + ivr, handle, patience))
    # Column by column, each class's pieces freed as soon as they are joined and sorted: the
    # whole replication's columns at once were twice the callers' size in temporaries.
    pieces = [list(c) for c in zip(*parts, strict=True)]
    del parts
    order = _queue_order(pieces[3])
    columns = []
    for j in range(len(pieces)):
        whole = np.concatenate(pieces[j])
        pieces[j] = []
        columns.append(whole[order])
        del whole
    return Callers(*columns)


def _queue_order(queued: list[np.ndarray]) -> np.ndarray:
    """The stable argsort of the classes' queue times joined, each class's sorted first: sorted
    runs merge in one pass (a class without an IVR time queues in arrival order, sorted already)."""
    runs: list[np.ndarray] = []
    orders: list[np.ndarray | None] = []  # each class's sorting, None when sorted already
    for q in queued:
        order, run = None, q
        if np.any(q[1:] < q[:-1]):
            order = np.argsort(q)  # not stable: the stable one when no two times tie (nor NaN), else redone
            run = q[order]
            if np.any(run[1:] == run[:-1]) or np.isnan(run[-1]):
                order = np.argsort(q, kind="stable")
                run = q[order]
        runs.append(run)
        orders.append(order)
    joined = np.concatenate(runs)
    del runs
    merged = np.argsort(joined, kind="stable")
    if all(order is None for order in orders):
        return merged
    del joined
    starts = np.cumsum([0, *map(len, queued)])[:-1].tolist()
    at = [np.arange(start, start + len(q)) if order is None else order + start
          for q, order, start in zip(queued, orders, starts, strict=True)]  # fmt: skip
    return np.concatenate(at)[merged]


BUCKETS = 1 << 12
"""Equal parts of [0, 1) in :func:`_pick`'s table (a power of two: a uniform's part is exact)."""


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cum, u, side="right")`` (``cum`` ascending, fewer than 2**15 values) for
    uniforms ``u`` on [0, 1): the same indexes, read in a table of the BUCKETS parts of [0, 1) and
    searched only for a ``u`` in a part some value of ``cum`` cuts (a search per value took ten
    times as long)."""
    edges = np.arange(BUCKETS + 1) / BUCKETS
    at_edges = np.searchsorted(cum, edges, side="right")
    table = at_edges[:-1].astype(np.int16)
    table[at_edges[:-1] != at_edges[1:]] = -1  # the index changes within the part
    out = table[(u * BUCKETS).astype(np.int32)]
    cut = np.flatnonzero(out < 0)
    out[cut] = np.searchsorted(cum, u[cut], side="right")
    return out


def _class_draws(
    cc: CallClass, n: int, *rngs: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Category (-1 for none), handle, patience (inf: never abandons) and IVR time of ``n``
    callers of class ``cc``, from the streams of those four purposes in that order."""
    rng_categories, rng_handle, rng_patience, rng_ivr = rngs
    category = np.full(n, -1, dtype=np.int16)
    handle = np.empty(n)
    if cc.categories:
        names = list(cc.categories)
        shares = np.array([cc.categories[c].share for c in names])
        u = rng_categories.random(n)
        category = np.minimum(_pick(np.cumsum(shares), u), len(names) - 1).astype(np.int16)
        # Each category's handle times drawn in turn and placed at its callers, in arrival order:
        # one stable sort by category rather than a mask per category (15 passes over the callers).
        counts = np.bincount(category, minlength=len(names))
        by_category = [cc.category_handle(c).sample(rng_handle, int(k)) for c, k in zip(names, counts, strict=True)]
        handle[np.argsort(category, kind="stable")] = np.concatenate(by_category)
    else:
        assert cc.handle_time is not None
        handle = cc.handle_time.sample(rng_handle, n)
    patience = cc.patience.sample(rng_patience, n) if cc.patience is not None else np.full(n, np.inf)
    ivr = cc.ivr_time.sample(rng_ivr, n) if cc.ivr_time is not None else np.zeros(n)
    return category, handle, patience, ivr


@dataclass(frozen=True)
class CallerExtras:
    """What the routed model needs of each caller of :class:`Callers` beyond it (same order),
    drawn only for the classes that use each behaviour (NaN or -1 elsewhere).

    ``transfer_u``: a uniform deciding the caller's transfer (below the class's share times
    ``diverted``: diverted; below the share: triaged and transferred); ``triage_s`` the triage's
    handle time; ``to_*``: the caller's category, handle, patience and IVR time as a call of
    the class transferred to. ``language`` indexes ``Scenario.languages()``; ``accept_u`` and
    ``answer_u``: uniforms deciding a callback offer's acceptance and the callback's answer.
    """

    transfer_u: np.ndarray
    triage_s: np.ndarray
    to_category: np.ndarray
    to_handle_s: np.ndarray
    to_patience_s: np.ndarray
    to_ivr_s: np.ndarray
    language: np.ndarray
    accept_u: np.ndarray
    answer_u: np.ndarray


def draw_extras(scenario: Scenario, replication: int, callers: Callers) -> CallerExtras:
    """The routed model's draws for the callers of replication ``replication`` (0-based), from
    streams of their own, so the callers themselves are those of :func:`draw_callers`. Each
    class's draws are made in the order its callers arrived, as that class's callers are drawn."""
    n = len(callers)
    out = CallerExtras(
        transfer_u=np.full(n, np.nan),
        triage_s=np.full(n, np.nan),
        to_category=np.full(n, -1, dtype=np.int16),
        to_handle_s=np.full(n, np.nan),
        to_patience_s=np.full(n, np.nan),
        to_ivr_s=np.full(n, np.nan),
        language=np.full(n, -1, dtype=np.int16),
        accept_u=np.full(n, np.nan),
        answer_u=np.full(n, np.nan),
    )
    languages = scenario.languages()
    seed = scenario.seed
    for k, name in enumerate(scenario.class_names()):
        cc = scenario.classes[name]
        mine = np.flatnonzero(callers.cls == k)
        mine = mine[np.argsort(callers.arrival_s[mine], kind="stable")]
        m = len(mine)
        if cc.transfer is not None:
            out.transfer_u[mine] = stream(seed, replication, "transfer", name).random(m)
            out.triage_s[mine] = cc.transfer.triage_time.sample(stream(seed, replication, "triage", name), m)
            purposes = ("transfer_categories", "transfer_handle", "transfer_patience", "transfer_ivr")
            drawn = _class_draws(
                scenario.classes[cc.transfer.to], m, *(stream(seed, replication, p, name) for p in purposes)
            )
            targets = (out.to_category, out.to_handle_s, out.to_patience_s, out.to_ivr_s)
            for column, values in zip(targets, drawn, strict=True):
                column[mine] = values
        if cc.languages is not None:
            codes = [languages.index(code) for code in cc.languages]
            cum = np.cumsum(list(cc.languages.values()))
            u = stream(seed, replication, "language", name).random(m)
            out.language[mine] = np.asarray(codes)[np.minimum(_pick(cum, u), len(codes) - 1)]
        if cc.callback is not None:
            u = stream(seed, replication, "callback", name).random((m, 2))
            out.accept_u[mine], out.answer_u[mine] = u[:, 0], u[:, 1]
    return out


class LaterDraws:
    """Draws for the calls the routed model makes during a run (redials, and the callback
    decisions of calls it makes), per class from streams of their own, taken in numpy batches
    in the order the run asks for them (which is the same on every machine: the run is)."""

    BATCH = 1024

    def __init__(self, scenario: Scenario, replication: int) -> None:
        self.scenario = scenario
        self.replication = replication
        self._buffers: dict[tuple[str, str], tuple[np.ndarray, int]] = {}
        self._rngs: dict[tuple[str, str], np.random.Generator] = {}

    def _next(self, purpose: str, name: str, sample: Any) -> float:
        key = (purpose, name)
        values, used = self._buffers.get(key, (np.empty(0), 0))
        if used == len(values):
            if key not in self._rngs:
                self._rngs[key] = stream(self.scenario.seed, self.replication, purpose, name)
            values, used = sample(self._rngs[key], self.BATCH), 0
        self._buffers[key] = (values, used + 1)
        return float(values[used])

    def uniform(self, purpose: str, name: str) -> float:
        """The next uniform on [0, 1) of ``purpose`` for class ``name``."""
        return self._next(purpose, name, lambda rng, n: rng.random(n))

    def duration(self, purpose: str, name: str, dist: Any) -> float:
        """The next draw of ``dist`` (a distribution) of ``purpose`` for class ``name``."""
        return self._next(purpose, name, dist.sample)
