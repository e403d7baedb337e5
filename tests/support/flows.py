"""Hand-built call records of a scenario using every optional call flow (transfers, redials,
callbacks, languages): a few calls whose fate is written out, for exact counts."""

from __future__ import annotations

import math

import numpy as np

from queueing.core.draws import Callers
from queueing.core.records import (
    ABANDONED,
    ACCEPTED,
    ANSWERED,
    CALLBACK_UNANSWERED,
    DECLINED,
    CallRecords,
)

H = 3600.0
NAN = math.nan

SCENARIO = """\
name: flows
horizon: 2h
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 10}
    handle_time: {dist: deterministic, value: 2m}
    transfer: {to: "311", share: 0.25, triage_time: 30s}
    languages: {en: 0.5, es: 0.5}
    interpreter: 1m
  "311":
    priority: 2
    arrivals: {rate_per_hour: 10}
    handle_time: {dist: deterministic, value: 4m}
    patience: {dist: exponential, mean: 5m}
    redial: {probability: 0.5, delay: 5m}
    callback: {offer_after: 2m, accept: 0.5, answer: 0.8, ring_time: 30s}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 2}
targets:
  "911": [{within: 15s, share: 0.9}]
  "311": [{within: 60s, share: 0.8}]
"""

# Eight rows (attempts at a queue), in queue order. Caller 1 calls 911 (Spanish, interpreter),
# waits 10 s, is triaged and transferred to 311, where she waits 50 s more. Caller 2 abandons 311
# after 100 s and redials: answered after 20 s. Caller 3 (311) accepts a callback, rung 400 s
# after joining, no answer. Caller 4 (311) declines one and is answered after 130 s. Caller 5 (911,
# English) waits 5 s. Caller 6 dialled 311 instead of 911 (diverted), answered after 0 s.
ROWS = [
    # caller, attempt, class, queued, answered, outcome, from, transferred, diverted, lang, interp, callback
    (1, 1, 0, 100.0, 110.0, ANSWERED, -1, True, False, 1, True, 0),
    (2, 1, 1, 120.0, NAN, ABANDONED, -1, False, False, -1, False, 0),
    (1, 1, 1, 140.0, 190.0, ANSWERED, 0, False, False, -1, False, 0),
    (3, 1, 1, 200.0, 600.0, CALLBACK_UNANSWERED, -1, False, False, -1, False, ACCEPTED),
    (4, 1, 1, 210.0, 340.0, ANSWERED, -1, False, False, -1, False, DECLINED),
    (5, 1, 0, 300.0, 305.0, ANSWERED, -1, False, False, 0, False, 0),
    (6, 1, 1, 350.0, 350.0, ANSWERED, -1, False, True, -1, False, 0),
    (2, 2, 1, 520.0, 540.0, ANSWERED, -1, False, False, -1, False, 0),
]


def records() -> CallRecords:
    cols = list(zip(*ROWS, strict=True))
    n = len(ROWS)
    queued = np.array(cols[3])
    cls = np.array(cols[2], dtype=np.int16)
    callers = Callers(
        cls=cls,
        category=np.full(n, -1, dtype=np.int16),
        arrival_s=queued.copy(),
        queued_s=queued,
        handle_s=np.where(np.array(cols[7]), 30.0, np.where(cls == 0, 120.0, 240.0)),
        patience_s=np.where(cls == 1, 100.0, np.inf),
    )
    return CallRecords(
        callers=callers,
        answered_s=np.array(cols[4]),
        agent=np.where(np.isnan(cols[4]), -1, 0),
        pool=np.where(np.isnan(cols[4]), -1, 0),
        outcome=np.array(cols[5], dtype=np.int8),
        horizon_s=2 * H,
        caller_id=np.array(cols[0], dtype=np.int64),
        attempt=np.array(cols[1], dtype=np.int16),
        transferred_from=np.array(cols[6], dtype=np.int16),
        transferred=np.array(cols[7]),
        diverted=np.array(cols[8]),
        language=np.array(cols[9], dtype=np.int16),
        interpreter=np.array(cols[10]),
        callback=np.array(cols[11], dtype=np.int8),
    )
