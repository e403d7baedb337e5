"""The analyst's contract on disk: summary.json, intervals.csv and (optionally) calls.csv.

Files are byte-identical for the same scenario and seed, whatever the number of processes:
rows come in replication order and floats are written with ``repr`` (shortest round-trip).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .records import CALLS_CSV_COLUMNS, OUTCOMES
from .runner import SimulationResult


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Write a CSV with a header; None becomes an empty cell (rows must not hold NaN)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(rows)


def call_rows(result: SimulationResult) -> Iterable[tuple[Any, ...]]:
    """Rows of calls.csv, replication by replication, callers in the order they queued."""
    scenario = result.scenario
    class_names = scenario.class_names()
    categories = [list(scenario.classes[c].categories or {}) for c in class_names]
    pool_names = [p.name for p in scenario.staffing.pools]
    for rep in result.replications:
        rec = rep.records
        if rec is None:
            raise ValueError("calls were not kept: simulate(..., keep_calls=True)")
        c = rec.callers
        cols = (
            c.cls.tolist(), c.category.tolist(), c.arrival_s.tolist(), c.queued_s.tolist(),
            [None if math.isnan(a) else a for a in rec.answered_s.tolist()],
            rec.ended_s.tolist(), rec.wait_s.tolist(), rec.pool.tolist(), rec.agent.tolist(),
            rec.outcome.tolist(),
        )  # fmt: skip
        for i, (k, cat, arr, q, ans, end, wait, pool, agent, out) in enumerate(zip(*cols, strict=True)):
            yield (
                rep.replication, i + 1, class_names[k], categories[k][cat] if cat >= 0 else "",
                arr, q, ans, end, wait, pool_names[pool] if pool >= 0 else "",
                agent if agent >= 0 else "", OUTCOMES[out],
            )  # fmt: skip


def write_results(result: SimulationResult, out_dir: Path, calls: bool = False) -> list[Path]:
    """Write the results contract into ``out_dir`` (created if needed); return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "summary.json", out_dir / "intervals.csv"]
    written[0].write_text(
        json.dumps(result.summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    write_csv(written[1], result.interval_columns, result.interval_rows())
    if calls:
        path = out_dir / "calls.csv"
        write_csv(path, CALLS_CSV_COLUMNS, call_rows(result))
        written.append(path)
    return written
