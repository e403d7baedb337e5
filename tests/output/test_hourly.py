"""hourly.csv: intervals folded into hours of the day across replications."""

from __future__ import annotations

import csv
import json
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


def test_every_shares_bounds_stay_within_0_and_100_percent(write_scenario, tmp_path) -> None:
    # Plenty of agents: most hours answer nearly every call in time and abandon almost none, so a t
    # interval over a few replications would pass 100% (or 0%) in hourly.csv and the summary.
    out = tmp_path / "out"
    path = write_scenario(replications=4, agents=12, patience="5m", horizon="1d", warmup="0s")
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "-q", "--report"])
    assert result.exit_code == 0, result.output
    with (out / "hourly.csv").open() as fh:
        hourly = list(csv.DictReader(fh))
    bounds = [
        float(v)
        for r in hourly
        for k, v in r.items()
        if v and k.endswith(("_ci_low", "_ci_high")) and ("share" in k or "service_level" in k)
    ]
    assert len(bounds) > 100 and all(0.0 <= b <= 1.0 for b in bounds)
    assert any(b == 1.0 or b > 0.99 for b in bounds)  # near the edge, where a t interval leaves it
    summary = json.loads((out / "summary.json").read_text())

    def shares(node: object, shared: bool = False) -> list[float]:
        if isinstance(node, dict):
            found = [b for b in node.get("ci95", []) if shared and b is not None]
            return found + [b for k, v in node.items() for b in shares(v, shared or k in ("share", "service_level"))]
        if isinstance(node, list):
            return [b for v in node for b in shares(v, shared)]
        return []

    assert all(0.0 <= b <= 1.0 for b in shares(summary))
