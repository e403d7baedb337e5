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

import numpy as np

from .arrivals import arrival_times
from .scenario import Scenario

PURPOSES = ("arrivals", "categories", "handle", "patience", "ivr", "state_handle", "state_patience", "state_service")


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
        category = np.full(n, -1, dtype=np.int16)
        handle = np.empty(n)
        if cc.categories:
            names = list(cc.categories)
            shares = np.array([cc.categories[c].share for c in names])
            u = stream(seed, replication, "categories", name).random(n)
            category = np.minimum(np.searchsorted(np.cumsum(shares), u, side="right"), len(names) - 1)
            category = category.astype(np.int16)
            rng = stream(seed, replication, "handle", name)
            for j, cname in enumerate(names):
                mask = category == j
                handle[mask] = cc.category_handle(cname).sample(rng, int(mask.sum()))
        else:
            assert cc.handle_time is not None
            handle = cc.handle_time.sample(stream(seed, replication, "handle", name), n)
        patience = (
            cc.patience.sample(stream(seed, replication, "patience", name), n)
            if cc.patience is not None
            else np.full(n, np.inf)
        )
        ivr = cc.ivr_time.sample(stream(seed, replication, "ivr", name), n) if cc.ivr_time is not None else np.zeros(n)
        parts.append((np.full(n, k, dtype=np.int16), category, arrival, arrival + ivr, handle, patience))
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    order = np.argsort(cols[3], kind="stable")
    return Callers(*(c[order] for c in cols))
