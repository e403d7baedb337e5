"""The roster's work estimated before any search: the shift types counted without building them
bound the ones built (exact when break windows do not overlap)."""

from __future__ import annotations

import random

from queueing.core.durations import HOUR_S
from queueing.core.scenario import Hours, Pool, RosterRules
from queueing.errors import ScenarioError
from queueing.planning.cover import shift_types
from queueing.planning.roster_size import shift_type_count

H = HOUR_S


def _random_rules(rng: random.Random) -> RosterRules:
    step = rng.choice([900.0, 1800.0, 3600.0])
    lengths = sorted(rng.sample([4 * H, 6 * H, 8 * H, 10 * H], rng.randint(1, 3)))
    breaks = []
    for _ in range(rng.randint(0, 3)):
        length = step * rng.randint(1, 2)
        earliest = step * rng.randint(0, int(lengths[0] // step) - 4)
        latest = min(earliest + step * rng.randint(0, 8), lengths[0] - length)
        breaks.append({"length": length, "earliest": earliest, "latest": max(latest, earliest)})
    return RosterRules(interval=step, start_every=step * rng.choice([1, 2]), shift_lengths=lengths, breaks=breaks)


def test_counted_shift_types_bound_the_built_ones_and_match_them_without_overlaps() -> None:
    rng = random.Random(22)
    pools = [
        Pool(name="p", serves=["a"], agents=1),
        Pool(name="d", serves=["a"], agents=1, hours=Hours(open=7 * H, close=19 * H)),
    ]
    exact = 0
    for _ in range(60):
        rules = _random_rules(rng)
        for pool in pools:
            counted = shift_type_count(rules, pool)
            try:
                built = len(shift_types(rules, pool))
            except ScenarioError:  # breaks that cannot all be placed: refused, none built
                continue
            assert built <= counted
            if len(rules.breaks) <= 1:  # one window: every position is a placement
                assert built == counted
                exact += 1
    assert exact > 20
