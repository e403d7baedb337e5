"""bench/webhook_latency.py still runs end to end (gunicorn, signed callers, the log checked),
with and without a database outage, on SQLite and on PostgreSQL. Not timed: only what must hold whatever the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO


def run_bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.webhook_latency", "--callers", "5", "--json", str(out), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def run_outage(tmp_path: Path, *args: str) -> dict[str, Any]:
    """The benchmark with a database outage, run again with a longer one (up to 6 s) when no
    emergency webhook was in flight during it: on a machine loaded enough, five callers can spend
    a 1.5 s outage on other steps, and a run that never exercised the emergency path proves
    nothing about it (not a failure of that path)."""
    for seconds in ("1.5", "3", "6"):
        report = run_bench(tmp_path, "--duration", "4", "--outage", seconds, "--drain-timeout", "15", *args)
        if report["outage"]["emergency"]["phases"]["during"]["requests"] > 0:
            break
    return report


@pytest.mark.slow
def test_webhook_benchmark_runs_and_loses_no_call(tmp_path):
    report = run_bench(tmp_path, "--duration", "1.5")
    app, fixed = report["results"]
    assert app["calls"] > 0 and app["calls_lost"] == 0 and app["errors"] == 0
    assert fixed["requests"] > 0 and fixed["errors"] == 0
    assert report["outage"] is None


@pytest.mark.slow
def test_outage_run_keeps_every_emergency_answer_and_every_call(tmp_path):
    """The call log locked for 1.5 s mid-load: every emergency answer is still an
    <Enqueue>911</Enqueue>, the journal drains, and no finished call is missing afterwards."""
    report = run_outage(tmp_path)
    outage = report["outage"]
    during = outage["emergency"]["phases"]["during"]
    assert during["requests"] > 0  # the emergency path was exercised while the log was locked
    assert outage["emergency"]["not_911"] == 0
    assert outage["replay_s"] is not None, "the journal was not drained"
    assert outage["events_replayed"] > 0
    assert outage["calls"] > 0 and outage["calls_lost"] == 0 and outage["errors"] == 0


@pytest.mark.slow
def test_postgres_outage_run_keeps_every_emergency_answer_and_every_call(tmp_path):
    """The PostgreSQL server stopped (pg_ctl stop -m fast) for 1.5 s mid-load and started again:
    every emergency answer while it was down is still an <Enqueue>911</Enqueue>, the journal is
    replayed into it, and no finished call is missing afterwards."""
    report = run_outage(tmp_path, "--database", "postgres")
    app, fixed = report["results"]
    assert app["calls"] > 0 and app["calls_lost"] == 0 and app["errors"] == 0
    outage = report["outage"]
    assert outage["outage_what"].startswith("PostgreSQL server stopped")
    during = outage["emergency"]["phases"]["during"]
    assert during["requests"] > 0  # the emergency path was exercised while the server was down
    assert during["not_911"] == 0 and outage["emergency"]["not_911"] == 0
    assert outage["replay_s"] is not None, "the journal was not drained"
    assert outage["events_replayed"] > 0
    assert outage["calls"] > 0 and outage["calls_lost"] == 0
