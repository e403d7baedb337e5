"""The routed model against independent answers: languages against Erlang C, transfers against
Ciw's queueing network with class change.

Each case simulates independent replications; the 95% Student-t interval of the simulated mean
wait must contain the other answer (widened by a small relative slack for the warm-up's bias
and the horizon's edge), or, against Ciw, the two intervals must overlap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from queueing.core.records import ANSWERED, CallRecords
from queueing.core.runner import simulate
from queueing.core.scenario_file import parse_scenario
from queueing.core.statistics import estimate
from queueing.theory.analytic import erlang_c_mean_wait_s
from tests.core.test_model_theory import assert_covers

H = 3600.0


def mean_waits(records: list[CallRecords], warmup_s: float, which: Any) -> list[float]:
    """Per replication: the mean wait of answered calls arriving after the warm-up and chosen by
    ``which(records)`` (a boolean mask)."""
    out = []
    for rec in records:
        keep = (rec.outcome == ANSWERED) & (rec.callers.arrival_s >= warmup_s) & which(rec)
        out.append(float(rec.wait_s[keep].mean()))
    return out


def test_two_languages_without_bilingual_agents_are_two_erlang_c_queues() -> None:
    """60 calls/h, 4-minute exponential calls, 60% English for 4 English speakers, 40% Spanish for
    3 Spanish speakers: each language is an M/M/c queue of its own."""
    doc = {
        "name": "two languages", "seed": 19, "horizon": "4d", "warmup": "3h", "replications": 8,
        "classes": {"a": {
            "priority": 1, "arrivals": {"rate_per_hour": 60}, "handle_time": {"dist": "exponential", "mean": "4m"},
            "languages": {"en": 0.6, "es": 0.4},
        }},
        "staffing": {"pools": [
            {"name": "english", "serves": ["a"], "agents": 4, "languages": ["en"]},
            {"name": "spanish", "serves": ["a"], "agents": 3, "languages": ["es"]},
        ]},
    }  # fmt: skip
    scenario = parse_scenario(yaml.safe_dump(doc), "languages.yaml")
    records = simulate(scenario, keep_calls=True).records()
    for code, agents, share in ((0, 4, 0.6), (1, 3, 0.4)):
        waits = mean_waits(records, 3 * H, lambda rec, code=code: rec.language == code)
        exact = erlang_c_mean_wait_s(agents, 60 * share / H, 240.0)
        assert_covers(estimate(waits), exact, f"language {code}")
    for rec in records:  # nobody answered a language their pool does not speak
        answered = rec.outcome == ANSWERED
        assert np.array_equal(rec.pool[answered], rec.language[answered])


# A shared pool of 3; 911: 20 calls/h, 40% of them not emergencies, triaged in an exponential
# minute and transferred to 311; 311: 10 calls/h. Every call but the triage is 4 minutes.
RATE_911, RATE_311, SHARE, TRIAGE_S, HANDLE_S, AGENTS = 20.0, 10.0, 0.4, 60.0, 240.0, 3
DAYS, WARMUP_S = 6, 3 * H


def ciw_mean_waits(seed: int) -> dict[str, float]:
    """The same centre in Ciw: emergencies (class e), non-emergencies on 911 (class t: triage at
    911's priority, then class 311t routed back to the node at 311's priority), 311 (class c)."""
    import ciw

    exp = ciw.dists.Exponential
    CLASSES, CHANGE = ("e", "t", "c", "ct", "done"), {"t": "ct", "ct": "done"}  # noqa: N806
    network = ciw.create_network(
        arrival_distributions={
            "e": [exp(RATE_911 * (1 - SHARE) / H)], "t": [exp(RATE_911 * SHARE / H)],
            "c": [exp(RATE_311 / H)], "ct": [None], "done": [None],
        },
        service_distributions={
            "e": [exp(1 / HANDLE_S)], "t": [exp(1 / TRIAGE_S)], "c": [exp(1 / HANDLE_S)],
            "ct": [exp(1 / HANDLE_S)], "done": [exp(1.0)],
        },
        # routing follows the class a customer has after service (its class change)
        routing={"e": [[0.0]], "t": [[0.0]], "c": [[0.0]], "ct": [[1.0]], "done": [[0.0]]},
        class_change_matrices=[{a: {b: float(CHANGE.get(a, a) == b) for b in CLASSES} for a in CLASSES}],
        number_of_servers=[AGENTS],
        priority_classes=({"e": 0, "t": 0, "c": 1, "ct": 1, "done": 1}, [False]),
    )  # fmt: skip
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(DAYS * 86400.0)
    waits: dict[str, list[float]] = {"911": [], "311": []}
    for record in sim.get_all_records():
        if record.arrival_date >= WARMUP_S:
            # the record's class is the one the customer had on that visit
            waits["911" if record.customer_class in ("e", "t") else "311"].append(record.waiting_time)
    return {k: float(np.mean(v)) for k, v in waits.items()}


@pytest.mark.slow
def test_transfers_match_a_queueing_network_with_class_change() -> None:
    doc = {
        "name": "transfers", "seed": 23, "horizon": f"{DAYS}d", "warmup": "3h", "replications": 6,
        "classes": {
            "911": {"priority": 1, "arrivals": {"rate_per_hour": RATE_911},
                    "handle_time": {"dist": "exponential", "mean": HANDLE_S},
                    "transfer": {"to": "311", "share": SHARE,
                                 "triage_time": {"dist": "exponential", "mean": TRIAGE_S}}},
            "311": {"priority": 2, "arrivals": {"rate_per_hour": RATE_311},
                    "handle_time": {"dist": "exponential", "mean": HANDLE_S}},
        },
        "staffing": {"pools": [{"name": "p", "serves": ["911", "311"], "agents": AGENTS}]},
    }  # fmt: skip
    scenario = parse_scenario(yaml.safe_dump(doc), "transfers.yaml")
    records = simulate(scenario, keep_calls=True).records()
    ciw_runs = [ciw_mean_waits(seed) for seed in range(6)]
    for k, name in enumerate(("911", "311")):
        ours = estimate(mean_waits(records, WARMUP_S, lambda rec, k=k: rec.callers.cls == k))
        theirs = estimate([run[name] for run in ciw_runs])
        (lo, hi), (clo, chi) = ours["ci95"], theirs["ci95"]
        assert lo <= chi and clo <= hi, f"{name}: ivr311 {ours} and Ciw {theirs} disagree"
    for rec in records:  # every triage that ended made a 311 leg, queued when it ended
        assert rec.transferred is not None and rec.transferred_from is not None and rec.caller_id is not None
        legs = rec.transferred_from == 0
        assert rec.transferred.sum() == legs.sum() > 0
        triaged = np.flatnonzero(rec.transferred)
        leg_of = dict(zip(rec.caller_id[legs].tolist(), np.flatnonzero(legs).tolist(), strict=True))
        for i in triaged.tolist():
            j = leg_of[int(rec.caller_id[i])]
            assert rec.callers.cls[j] == 1 and rec.callers.queued_s[j] == pytest.approx(rec.ended_s[i], abs=1e-6)
