"""Benchmark (not a timed test): how close the wait a 311 caller hears comes to the wait that follows.

On simulated days, every caller of the announced class is looked at the moment they join the
queue, with the state the voice app would read from its call log then (`HoldState`): callers of
the priority class waiting, callers of their own class ahead, agents in a conversation and idle
on duty, the mean handle time of the conversations answered in the last `RECENT_WINDOW_S` that
have ended (at most `HANDLE_SAMPLES`, none under `MIN_HANDLED`), the priority class's arrival
rate and the class's patience rate (hang-ups over the time its callers waited, 0 when nobody
waited) over the same window; the constants are the app's own (`ivr.calllog.holdlog`).
Beside ivr311's predictor (`ivr.callflow.waitestimate.expected_wait_s`), the predictors of
Ibrahim and Whitt, from the same state:

- QL, the queue-length predictor ``(k + 1) / (s mu)``: ``k`` callers of the class ahead, ``s``
  agents on duty, ``1 / mu`` the recent mean handle time; with a priority class, also QL-naive,
  which counts the priority callers waiting as ahead but not those still to arrive;
- QL-m, the M/M/s+M queue-length predictor ``sum_{i=0..k} 1 / (s mu + i theta)`` with the
  patience rate ``theta`` estimated from the window (abandonments over the time waited in it,
  the exponential's maximum-likelihood estimate), which the app could compute from its log too;
  with a priority class, the same sum on the drain rate ``s mu - lambda_priority`` after the
  priority callers waiting (ivr311's predictor is this sum on ``s mu``, the priority callers
  still to arrive left out; on one class the two are one);
- LES: the wait of the last caller of the class to be answered before this one joined;
- HOL: how long the caller at the head of the class's queue has waited so far (0 when the new
  caller is the head).

Scored on the callers who had to wait and joined after the first window (the state has a
history), twice: against the wait to an answer of those answered (an abandoner's is censored),
and against the potential wait of every caller (`_potential_wait`: when an agent would have
taken a caller who hung up, had they held on). Every predictor is scored on the same callers:
those where ivr311's estimate is infinite or missing are counted and left out of all. Root mean
squared error and mean error in seconds per replication, then the mean over replications with a
95% Student-t interval, and ivr311's RMSE over the best of QL, QL-naive, LES and HOL.

Traces: (a) M/M/s+M, one class, stationary (`--mm-load` the offered load over ``s mu``);
(b) the shared 911/311 centre, scenarios/baseline.yaml's day, its 311 callers; (c) the same day
where nobody hangs up (what abandonment does to each predictor). Results in docs/benchmarks.md.

    python -m bench.announce_accuracy [--replications 10] [--mm-load 1.0 1.2] [--jobs 2]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ivr.callflow.waitestimate import HoldState, expected_wait_s
from ivr.calllog.holdlog import HANDLE_SAMPLES, MIN_HANDLED, RECENT_WINDOW_S

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

MM_AGENTS = 10
MM_HANDLE_MIN = 4.0
MM_PATIENCE_MIN = 5.0
MM_HORIZON_H = 12


@dataclass(frozen=True)
class Trace:
    """One replication's calls, in the order they joined a queue, and who was on duty.

    Times in seconds. ``answered_s`` and ``ended_s`` are NaN for a call nobody answered;
    ``left_s`` is when the call left the queue (answered, abandoned, horizon); ``abandoned`` is
    True for a caller who hung up waiting; ``pool`` the answering agent's pool (-1 none);
    ``duty`` per pool, the (on, off) arrays of every agent's spans of work.
    """

    cls: np.ndarray
    queued_s: np.ndarray
    answered_s: np.ndarray
    ended_s: np.ndarray
    left_s: np.ndarray
    abandoned: np.ndarray
    pool: np.ndarray
    duty: Sequence[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Seen:
    """What one caller of the announced class finds as they join (the state just before their
    arrival: nothing happening at that very instant has happened yet) and what followed."""

    at_s: float
    state: HoldState
    abandon_rate_per_s: float | None  # the class's recent patience rate (None: nobody waited)
    les_s: float | None  # the last answered caller's wait (None: nobody answered yet)
    hol_s: float  # the head of the queue's wait so far (0: this caller is the head)
    wait_s: float | None  # the wait to an answer (None: not answered)
    potential_s: float | None  # the wait had they held on (None: beyond the trace's end)


def states(
    trace: Trace,
    cls: int,
    priority: int | None,
    window_s: float = RECENT_WINDOW_S,
    samples: int = HANDLE_SAMPLES,
    min_handled: int = MIN_HANDLED,
) -> list[Seen]:
    """What each caller of class ``cls`` finds on joining the queue, with the priority class
    ``priority`` (None: none) as ivr311's 911; the window and handle-time rules of the app."""
    q, ans, end, left = trace.queued_s, trace.answered_s, trace.ended_s, trace.left_s
    answered = ~np.isnan(ans)
    mine = trace.cls == cls
    # the answered calls in the order they were answered: the recent ones are a slice
    order = np.argsort(np.where(answered, ans, np.inf), kind="stable")[: int(answered.sum())]
    ans_sorted, handle_sorted = ans[order], (end - ans)[order]
    waits_sorted, mine_sorted = (ans - q)[order], mine[order]
    out: list[Seen] = []
    for i in np.flatnonzero(mine):
        t = float(q[i])
        waiting = (q < t) & (left >= t) | ((q == t) & (np.arange(len(q)) < i) & (left >= t))
        ahead = int((waiting & mine).sum())
        waiting_911 = int((waiting & (trace.cls == priority)).sum()) if priority is not None else 0
        talking = answered & (ans < t) & (end >= t)
        busy = idle = 0
        for p, (on, off) in enumerate(trace.duty):
            here = int(((on <= t) & (off > t)).sum())
            in_call = int((talking & (trace.pool == p)).sum())
            busy += in_call
            idle += max(here - in_call, 0)
        # conversations answered in the window that have ended, the latest first
        lo = int(np.searchsorted(ans_sorted, t - window_s, side="left"))
        hi = int(np.searchsorted(ans_sorted, t, side="left"))
        done = np.flatnonzero(ans_sorted[lo:hi] + handle_sorted[lo:hi] < t)[::-1][:samples] + lo
        handle = float(handle_sorted[done].mean()) if len(done) >= min_handled else None
        rate = 0.0
        if priority is not None:
            rate = int(((trace.cls == priority) & (q >= t - window_s) & (q < t)).sum()) / window_s
        mine_done = np.flatnonzero(mine_sorted[:hi])
        les = float(waits_sorted[mine_done[-1]]) if len(mine_done) else None
        hol = t - float(q[waiting & mine].min()) if ahead else 0.0
        patience = _abandon_rate(trace, mine, t, window_s)
        out.append(
            Seen(
                at_s=t,
                state=HoldState(
                    waiting_911=waiting_911,
                    ahead_311=ahead,
                    agents_busy=busy,
                    agents_idle=idle,
                    handle_s=handle,
                    arrivals_911_per_s=rate,
                    abandon_per_s=patience or 0.0,
                ),
                abandon_rate_per_s=patience,
                les_s=les,
                hol_s=hol,
                wait_s=float(ans[i] - q[i]) if answered[i] else None,
                potential_s=float(ans[i] - q[i]) if answered[i] else _potential_wait(trace, mine, i),
            )
        )
    return out


def _idle(trace: Trace, t: float) -> int:
    """Agents on duty and out of a conversation just after ``t`` (what happens at ``t`` has)."""
    talking = (trace.answered_s <= t) & (trace.ended_s > t)
    idle = 0
    for p, (on, off) in enumerate(trace.duty):
        idle += max(int(((on <= t) & (off > t)).sum()) - int((talking & (trace.pool == p)).sum()), 0)
    return idle


def _potential_wait(trace: Trace, mine: np.ndarray, i: int) -> float | None:
    """How long caller ``i``, who was not answered, would have waited had they held on (None:
    not answered before the trace ends). Callers of a class are answered in the order they joined and a
    later one never delays an earlier one, so the rest of the day is the same up to that moment:
    once everyone of the class who joined before them has left the queue, the first agent to
    take a caller of the class who joined after them, or to be idle, would have taken them."""
    q, ans, end = trace.queued_s, trace.answered_s, trace.ended_s
    before = mine & (np.arange(len(q)) < i)
    clear = max(float(q[i]), float(trace.left_s[before].max()) if before.any() else -math.inf)
    later = ans[mine & (np.arange(len(q)) > i) & (ans >= clear)]
    first_later = float(later.min()) if len(later) else math.inf
    shifts = np.concatenate([on for on, _ in trace.duty])
    moments = np.unique(np.concatenate([[clear], end[end > clear], shifts[shifts > clear]]))
    for t in moments[moments < first_later]:
        if _idle(trace, float(t)) > 0:
            return float(t - q[i])
    return first_later - float(q[i]) if math.isfinite(first_later) else None


def _abandon_rate(trace: Trace, mine: np.ndarray, t: float, window_s: float) -> float | None:
    """The class's patience rate over [t - window, t): abandonments in it over the time its
    callers spent waiting in it (the maximum-likelihood rate of an exponential patience)."""
    q, left = trace.queued_s, trace.left_s
    waited = np.clip(np.minimum(left, t) - np.maximum(q, t - window_s), 0.0, None)[mine & (q < t)].sum()
    gave_up = int((mine & trace.abandoned & (left >= t - window_s) & (left < t)).sum())
    return gave_up / waited if waited > 0 else None


def predictions(seen: Seen, priority: bool) -> dict[str, float | None]:
    """Every predictor's expected wait (seconds) for one caller; None where one has no value."""
    s = seen.state
    agents = s.agents_busy + s.agents_idle
    out: dict[str, float | None] = {"ivr311": expected_wait_s(s)}
    if agents <= 0 or s.handle_s is None:
        return {**out, "QL": None, "QL-naive": None, "QL-m": None, "LES": seen.les_s, "HOL": seen.hol_s}
    rate = agents / s.handle_s  # answers per second
    out["QL"] = (s.ahead_311 + 1) / rate
    if priority:
        out["QL-naive"] = (s.waiting_911 + s.ahead_311 + 1) / rate
    theta = seen.abandon_rate_per_s or 0.0
    drain = rate - s.arrivals_911_per_s if priority else rate
    if drain > 0:
        out["QL-m"] = s.waiting_911 / drain + sum(1.0 / (drain + i * theta) for i in range(s.ahead_311 + 1))
    else:
        out["QL-m"] = math.inf
    out["LES"] = seen.les_s
    out["HOL"] = seen.hol_s
    return out


def scored(
    seen: list[Seen], priority: bool, from_s: float, potential: bool = False
) -> tuple[dict[str, float], dict[str, int]]:
    """Each predictor's RMSE and mean error (``bias:`` names; seconds) over the scored callers
    (module docstring), against the wait to an answer or, ``potential``, the wait had every
    caller held on; and the counts: callers who waited (and were answered, unless
    ``potential``), of whom ivr311 had an infinite or no estimate."""
    rows = []
    counts = {"waited": 0, "ivr311_inf": 0, "ivr311_none": 0, "other_missing": 0}
    for x in seen:
        wait = x.potential_s if potential else x.wait_s
        if x.at_s < from_s or wait is None or wait <= 0:
            continue
        counts["waited"] += 1
        p = predictions(x, priority)
        if p["ivr311"] is None:
            counts["ivr311_none"] += 1
        elif not math.isfinite(p["ivr311"]):
            counts["ivr311_inf"] += 1
        elif any(v is None or not math.isfinite(v) for v in p.values()):
            counts["other_missing"] += 1
        else:
            rows.append((wait, p))
    counts["scored"] = len(rows)
    if not rows:
        return {}, counts
    actual = np.array([w for w, _ in rows])
    names = list(rows[0][1])
    errors = {n: np.array([p[n] for _, p in rows]) - actual for n in names}
    out = {n: float(np.sqrt(np.mean(e**2))) for n, e in errors.items()}
    out |= {f"bias:{n}": float(np.mean(e)) for n, e in errors.items()}
    out["mean_wait"] = float(actual.mean())
    return out, counts


def trace_of(records: object, schedule: object) -> Trace:
    """A replication's `CallRecords` and its `Schedule` as a :class:`Trace`."""
    from queueing.core.records import ABANDONED, CallRecords
    from queueing.core.schedule import Schedule

    assert isinstance(records, CallRecords) and isinstance(schedule, Schedule)
    c = records.callers
    answered = ~np.isnan(records.answered_s)
    return Trace(
        cls=c.cls.astype(int),
        queued_s=c.queued_s,
        answered_s=records.answered_s,
        ended_s=np.where(answered, records.answered_s + c.handle_s, np.nan),
        left_s=records.left_queue_s,
        abandoned=records.outcome == ABANDONED,
        pool=records.pool,
        duty=schedule.pool_work_s,
    )


def mm_scenario(load: float, replications: int, seed: int) -> object:
    """M/M/s+M: `MM_AGENTS` agents, exponential handle and patience, offered load ``load``."""
    from queueing import parse_scenario

    per_hour = load * MM_AGENTS * 60.0 / MM_HANDLE_MIN
    return parse_scenario(
        f"""
name: M/M/s+M
seed: {seed}
horizon: {MM_HORIZON_H}h
warmup: 0s
replications: {replications}
classes:
  calls:
    priority: 1
    arrivals: {{rate_per_hour: {per_hour}}}
    handle_time: {{dist: exponential, mean: {MM_HANDLE_MIN}m}}
    patience: {{dist: exponential, mean: {MM_PATIENCE_MIN}m}}
staffing:
  pools:
    - {{name: agents, serves: [calls], agents: {MM_AGENTS}}}
"""
    )


def run(scenario: object, cls_name: str, priority_name: str | None, jobs: int) -> list[list[Seen]]:
    """Every replication's callers of ``cls_name`` as they joined, with ``priority_name`` as 911."""
    from queueing import Scenario, simulate
    from queueing.core.schedule import build_schedule

    assert isinstance(scenario, Scenario)
    names = scenario.class_names()
    result = simulate(scenario, jobs=jobs, keep_calls=True)
    schedule = build_schedule(scenario)
    cls = names.index(cls_name)
    priority = names.index(priority_name) if priority_name is not None else None
    return [states(trace_of(rec, schedule), cls, priority) for rec in result.records()]


def summarize(reps: list[tuple[dict, dict]]) -> dict[str, Any]:
    """Per predictor the mean RMSE and bias with their 95% intervals; ivr311's RMSE over the best
    other's (QL, QL-naive, LES, HOL) and over QL-m's, per replication."""
    from queueing.core.statistics import estimate

    names = [n for n in reps[0][0] if n != "mean_wait"]
    table = {n: estimate([r[n] for r, _ in reps]) for n in names}
    others = [n for n in names if n in ("QL", "QL-naive", "LES", "HOL")]
    best = min(others, key=lambda n: table[n]["value"])
    return {
        "rmse": table,
        "best_other": best,
        "ratio": estimate([r["ivr311"] / r[best] for r, _ in reps]),
        "ratio_qlm": estimate([r["ivr311"] / r["QL-m"] for r, _ in reps]),
        "mean_wait": estimate([r["mean_wait"] for r, _ in reps]),
        "counts": {k: sum(c[k] for _, c in reps) for k in reps[0][1]},
    }


def _ci(e: dict[str, Any], digits: int = 1) -> str:
    lo, hi = e["ci95"]
    v = e["value"]
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" if lo is not None else f"{v:.{digits}f}"


PREDICTORS = ["ivr311", "QL", "QL-naive", "QL-m", "LES", "HOL"]


def table_text(results: dict[str, dict[str, Any]]) -> str:
    """The markdown table: RMSE (seconds, mean [95% CI] over replications) per trace and predictor."""
    lines = [
        "| trace, scored against | mean wait s | "
        + " | ".join(PREDICTORS)
        + " | ivr311 / best other | ivr311 / QL-m |",
        "|---" * (len(PREDICTORS) + 4) + "|",
    ]
    for trace, res in results.items():
        cells = [_ci(res["rmse"][n]) if n in res["rmse"] else "–" for n in PREDICTORS]
        ratio = f"{_ci(res['ratio'], 2)} ({res['best_other']})"
        head = f"| {trace} | {_ci(res['mean_wait'])} | "
        lines.append(head + " | ".join(cells) + f" | {ratio} | {_ci(res['ratio_qlm'], 2)} |")
    return "\n".join(lines)


def notes_text(results: dict[str, dict[str, Any]], replications: int) -> str:
    """Per trace: the callers scored and left out, and each predictor's mean error (bias)."""
    out = []
    for trace, res in results.items():
        c = res["counts"]
        bias = ", ".join(f"{n} {res['rmse']['bias:' + n]['value']:+.1f}" for n in PREDICTORS if n in res["rmse"])
        out.append(
            f"{trace}: {replications} replications, {c['waited']} callers waited, {c['scored']} scored"
            f" (ivr311 infinite {c['ivr311_inf']}, none {c['ivr311_none']}; another predictor without a value"
            f" {c['other_missing']}); mean error s: {bias}"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--replications", type=int, default=10, help="days (baseline) and M/M/s+M runs (default 10)")
    ap.add_argument(
        "--mm-load", type=float, nargs="+", default=[1.0, 1.2], help="M/M/s+M offered loads (default 1.0 1.2)"
    )
    ap.add_argument("--jobs", type=int, default=2, help="simulation processes (default 2)")
    ap.add_argument("--seed", type=int, default=20, help="M/M/s+M seed (default 20)")
    args = ap.parse_args(argv)
    from queueing import load_scenario, with_overrides
    from queueing.core.scenario_file import validate_data

    traces: dict[str, tuple[list[list[Seen]], bool]] = {}
    for load in args.mm_load:
        sc = mm_scenario(load, args.replications, args.seed)
        traces[f"M/M/{MM_AGENTS}+M, load {load:g}"] = (run(sc, "calls", None, args.jobs), False)
    baseline = with_overrides(load_scenario(BASELINE), replications=args.replications)
    traces["baseline day, 311"] = (run(baseline, "311", "911", args.jobs), True)
    # the same day where nobody hangs up: what abandonment does to each predictor
    patient = baseline.to_data()
    for c in patient["classes"].values():
        c.pop("patience", None)
    traces["baseline day, 311, nobody abandons"] = (
        run(validate_data(patient, "patient baseline"), "311", "911", args.jobs),
        True,
    )
    results: dict[str, dict[str, Any]] = {}
    for name, (reps, priority) in traces.items():
        for potential, against in ((False, "answered"), (True, "potential")):
            if potential and "nobody abandons" in name:
                continue  # every caller is answered: the two waits are one
            scores = [scored(seen, priority, RECENT_WINDOW_S, potential) for seen in reps]
            results[f"{name}; {against}"] = summarize(scores)
    print(table_text(results))
    print(notes_text(results, args.replications))
    return 0


if __name__ == "__main__":
    sys.exit(main())
