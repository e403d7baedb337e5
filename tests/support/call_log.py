"""The model's calls as a call log in the export schema (README, "The call log"), for the tests
of calibrate and its benchmark (``bench.calibrate_speed``): a log whose truth is known."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from queueing.core.durations import DAY_S
from queueing.planning.calllog import LOG_COLUMNS


def simulated_call_log(result: Any, start: str = "2024-05-01") -> Any:
    """The calls of a simulation (``simulate(..., keep_calls=True)``) as a pandas DataFrame in the
    export schema: replication r starts r whole days (of the horizon, rounded up) after ``start``.
    Abandoned callers hung up in the queue; callers still waiting at the horizon have no result.
    A caller's hashed number is her own (``caller_id``: every redial of hers has it) when the model
    kept callers, else one per call; her language the model's, else ``en``."""
    import pandas as pd

    scenario = result.scenario
    names = scenario.class_names()
    cats = [list(scenario.classes[c].categories or {}) for c in names]
    days = math.ceil(scenario.horizon / DAY_S)
    t0 = pd.Timestamp(start, tz="UTC").value / 1e9
    frames = []
    for r, rec in zip((x.replication for x in result.replications), result.records(), strict=True):
        c = rec.callers
        off = t0 + r * days * DAY_S
        queued = c.queued_s < scenario.horizon
        answered = rec.outcome == 0
        abandoned = rec.outcome == 1
        cls = np.asarray(names, dtype=object)[c.cls]
        category = np.full(len(c.cls), "", dtype=object)
        for i, cat_names in enumerate(cats):
            mine = (c.cls == i) & (c.category >= 0)
            category[mine] = np.asarray(cat_names, dtype=object)[c.category[mine]]
        ended = np.where(answered | abandoned, rec.ended_s, np.nan)
        who = rec.caller_id + r * 10**9 if rec.caller_id is not None else np.full(len(c.cls), -1)
        languages = np.asarray([*scenario.languages(), "en"], dtype=object)  # -1: en
        spoken = languages[rec.language] if rec.language is not None else np.full(len(c.cls), "en", dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    "started": off + c.arrival_s,
                    "enqueued": np.where(queued, off + c.queued_s, np.nan),
                    "answered": np.where(answered, off + rec.answered_s, np.nan),
                    "ended": off + ended,
                    "queue": np.where(queued, cls, ""),
                    "category": category,
                    "queue_result": np.where(answered, "bridged", np.where(abandoned & queued, "hangup", "")),
                    "queue_time_s": np.where(answered | abandoned, rec.wait_s, np.nan),
                    "caller": who,
                    "language": spoken,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True).sort_values("started", kind="stable", ignore_index=True)
    n = len(df)

    def stamp(seconds: Any) -> Any:
        ts = pd.to_datetime(np.round(seconds.to_numpy() * 1000), unit="ms", utc=True)
        return pd.Series(ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str[:-4] + "Z", index=seconds.index).where(
            seconds.notna(), ""
        )

    out = pd.DataFrame(
        {
            "call_sid": [f"CA{i:032x}" for i in range(n)],
            "caller_hash": [
                f"{(k if k >= 0 else i) * 2654435761 % 2**128:032x}" for i, k in enumerate(df["caller"].tolist())
            ],
            "started_at": stamp(df["started"]),
            "language": df["language"],
            "category": df["category"],
            "queue": df["queue"],
            "menu_attempts": 1,
            "enqueued_at": stamp(df["enqueued"]),
            "queue_result": df["queue_result"],
            "queue_time_s": df["queue_time_s"].round(3),
            "answered_at": stamp(df["answered"]),
            "ended_at": stamp(df["ended"]),
            "status": np.where(df["ended"].notna(), "completed", "in-progress"),
            "duration_s": np.round(df["ended"] - df["started"]),
        }
    )
    return out[list(LOG_COLUMNS)]
