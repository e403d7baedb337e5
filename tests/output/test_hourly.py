"""hourly.csv: intervals folded into hours of the day across replications."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from click.testing import CliRunner

from queueing.cli import main


def test_hourly_csv_summarizes_intervals_across_replications(write_scenario, tmp_path) -> None:
    out = tmp_path / "out"
    path = write_scenario(horizon="2d", warmup="2h", replications=3)
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    with (out / "hourly.csv").open() as fh:
        hourly = list(csv.DictReader(fh))
    assert list(hourly[0])[:6] == ["hour", "clock", "class", "arrivals", "arrivals_ci_low", "arrivals_ci_high"]
    assert {r["clock"] for r in hourly if r["hour"] == "7"} == {"07:00-08:00"}
    assert len(hourly) == 24 * 2
    # Arrivals per day in each hour, recounted from intervals.csv (hours 0-1 of day 0 are warm-up).
    per_rep: dict[tuple[str, int, str], float] = defaultdict(float)
    with (out / "intervals.csv").open() as fh:
        for r in csv.DictReader(fh):
            start = float(r["interval_start_s"])
            if start >= 2 * 3600:
                per_rep[(r["class"], int(start % 86400 // 3600), r["replication"])] += float(r["arrivals"])
    for r in hourly:
        h = int(r["hour"])
        days = 1 if h < 2 else 2
        counts = [v / days for (c, hh, _), v in per_rep.items() if c == r["class"] and hh == h]
        assert float(r["arrivals"]) == pytest.approx(sum(counts) / len(counts))
        assert float(r["arrivals_ci_low"]) <= float(r["arrivals"]) <= float(r["arrivals_ci_high"])
