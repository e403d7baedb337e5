"""The analyst's contract on disk: summary.json, intervals.csv and (optionally) calls.csv.

Files are byte-identical for the same scenario and seed, whatever the number of processes:
rows come in replication order and floats are written with ``repr`` (shortest round-trip).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .runner import SimulationResult


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header; None becomes an empty cell (rows must not hold NaN)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(rows)


def write_results(result: SimulationResult, out_dir: Path, calls: bool = False) -> list[Path]:
    """Write the results contract into ``out_dir`` (created if needed); return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "summary.json", out_dir / "intervals.csv"]
    written[0].write_text(
        json.dumps(result.summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    write_csv(written[1], result.intervals.columns, result.intervals.rows())
    if calls:
        path = out_dir / "calls.csv"
        write_csv(path, result.calls.columns, result.calls.rows())
        written.append(path)
    return written
